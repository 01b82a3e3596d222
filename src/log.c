/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the one logger of every impure module: stderr (with a timestamp)
 * or syslog, each line tagged with the process role ("sup", "w3").
 * It owns the output target, the level filter and log_safe(), which makes
 * strings from the network harmless in a log line, and struct log_rate,
 * the one rate limit of lines an outsider can cause (refused requests,
 * descriptor or port exhaustion): at most N lines a second, the rest
 * counted and reported as one "suppressed" number. It reads no clock
 * for that: the caller passes its loop time. Callers still never log per
 * packet (DESIGN.md section 6).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_target	log_target = LOG_TARGET_STDERR;
static int		log_level = LOG_INFO;
static char		log_tag[16] = "ptftpd";

/*
 * Select where lines go. Syslog is opened with the "ptftpd" ident and the
 * pid; the role tag still prefixes each line. Cheap; call again after fork.
 */
void
log_init(enum log_target target, int level, int facility)
{
	log_target = target;
	log_level = level;
	if (target == LOG_TARGET_SYSLOG)
		openlog("ptftpd", LOG_PID | LOG_NDELAY, facility);
}

void
log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_enabled(int level)
{
	return level <= log_level;
}

static void
log_vemit(int level, const char *fmt, va_list ap, const char *errstr)
{
	char	 msg[1024];
	int	 n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errstr != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", errstr);
	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(level, "%s %s", log_tag, msg);
	} else {
		struct timespec	 ts;
		struct tm	 tm;
		char		 when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld ptftpd[%ld] %s %s\n", when,
		    ts.tv_nsec / 1000000, (long)getpid(), log_tag, msg);
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/*
 * Escape untrusted bytes for a log line: printable ASCII passes except '"'
 * and '\\'; everything else becomes \xNN. Stops early rather than cutting
 * an escape in half. O(len). Returns dst.
 */
char *
log_safe(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0, i;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
}

/*
 * See log.h. A window is one second from the first line let through in
 * it; a line outside the window opens a new one and hands back what the
 * old ones held back. O(1), no syscall.
 */
bool
log_rate_allow(struct log_rate *r, uint32_t per_second, uint64_t now_ms,
    uint64_t *suppressed)
{
	*suppressed = 0;
	if ((r->count == 0 && r->suppressed == 0) ||
	    now_ms - r->window_ms >= 1000) {
		*suppressed = r->suppressed;
		r->suppressed = 0;
		r->window_ms = now_ms;
		r->count = 0;
	}
	if (r->count >= per_second) {
		r->suppressed++;
		return false;
	}
	r->count++;
	return true;
}

/* See log.h. */
uint64_t
log_rate_flush(struct log_rate *r, uint64_t now_ms)
{
	uint64_t	 n;

	if (r->suppressed == 0 || now_ms - r->window_ms < 1000)
		return 0;
	n = r->suppressed;
	r->suppressed = 0;
	r->count = 0;
	return n;
}
