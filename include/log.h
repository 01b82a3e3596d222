/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging to stderr or syslog with a process tag ("sup", "w3").
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG).
 */
#ifndef PTFTPD_LOG_H
#define PTFTPD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG = 1,
};

void	log_init(enum log_target target, int level, int facility);
void	log_set_tag(const char *tag);
void	log_set_level(int level);
int	log_get_level(void);
int	log_enabled(int level);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy untrusted bytes into dst (size dstsz, always NUL-terminated) with
 * anything outside printable ASCII, '"' and '\\' escaped as \xNN, cut at
 * dstsz. Returns dst.
 */
char	*log_safe(char *dst, size_t dstsz, const char *src, size_t len);

/*
 * At most N lines a second of one kind (a flood must not fill the disk).
 * Zero it to start. The caller owns it and passes its clock: no global,
 * no syscall here.
 */
struct log_rate {
	uint64_t	window_ms;	/* start of the current second */
	uint32_t	count;		/* lines let through in it */
	uint64_t	suppressed;	/* held back, not yet reported */
};

/*
 * May a line be logged at now_ms, with at most per_second a second?
 * Returns true (counted as let through) or false (counted as held back).
 * *suppressed is set to the lines held back in the windows before this
 * one, not yet reported: nonzero at most once per window, for the
 * caller to say alongside its line. per_second 0 holds back every line.
 */
bool	log_rate_allow(struct log_rate *r, uint32_t per_second,
	    uint64_t now_ms, uint64_t *suppressed);
/*
 * Once the window of held-back lines is over: their count (then reset),
 * for a "suppressed K" line when no new line came to carry it; 0 while
 * the window lasts or when nothing was held back. Call it from a
 * periodic tick.
 */
uint64_t log_rate_flush(struct log_rate *r, uint64_t now_ms);

#endif
