/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging to stderr or syslog with a process tag ("sup", "w3").
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG).
 */
#ifndef PTFTPD_LOG_H
#define PTFTPD_LOG_H

#include <stddef.h>
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

#endif
