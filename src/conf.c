/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - the configuration file (libconfig syntax) into a validated
 * struct conf. It owns the table of plain settings (conf_settings: name,
 * type, range, default and field of each, in one row), the typed getters
 * and the message shape every setting goes through (shared with
 * conf_policy.c by conf_int.h), listen, root, user and group, and the
 * rule that relative paths are relative to the directory of the file
 * that names them. Each problem is reported once,
 * as "file:line: setting: problem" in the caller's buffer; nothing here
 * logs, because the caller decides whether a bad file is fatal (start-up)
 * or only a failed reload. It does not open sockets, switch users or
 * create the stats segment: it only checks that what they will need exists
 * and is well formed. Its size (about 1,500 lines) is the machinery every
 * setting goes through: the settings table and its walk, the typed getters
 * and their messages, the scan for wrapped integer literals, and the
 * checks of listen, root and the users; the policy settings, which need
 * code of their own, are conf_policy.c's.
 *
 * libconfig 1.5 silently wraps integer literals that do not fit in 32 bits
 * (4294967297 reads as 1), so the text is scanned for such literals before
 * libconfig sees it. It also reads 0640 as decimal 640, so file modes are
 * taken as octal digits whatever their leading zeros (write.mode,
 * conf_policy.c).
 *
 * Request policy (access lists, rewrite rules, routes, limits.per_client)
 * is conf_policy.c's; address blocks are addr.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"
#include "num.h"

#define CONF_MAX_WORKERS	256
#define CONF_MAX_FILE_SIZE	(1024 * 1024)
#define CONF_DEFAULT_PORT	69
#define CONF_STATS_FILE_INTERVAL_S 15	/* stats.interval when stats.file */

static const char *const conf_keys_listen[] = { "address", "port", NULL };

static const struct conf_name conf_log_targets[] = {
	{ "stderr", LOG_TARGET_STDERR }, { "syslog", LOG_TARGET_SYSLOG },
	{ NULL, 0 }
};
static const struct conf_name conf_log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 }
};
static const struct conf_name conf_log_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { NULL, 0 }
};
static const struct conf_name conf_log_formats[] = {
	{ "kv", 0 }, { NULL, 0 }
};

enum conf_type {
	CONF_T_INT,		/* unsigned field of 2, 4 or 8 bytes */
	CONF_T_BOOL,		/* bool field */
	CONF_T_ENUM,		/* int field, one of names */
	CONF_T_PATH,		/* char * field, relative to the file's dir */
	CONF_T_RATE,		/* uint32_t field, transfers/s x 1000 */
	CONF_T_CHECK,		/* no setting: check runs here, in order */
	CONF_T_OTHER,		/* a known key loaded by its own code */
};

#define CONF_F_CPUS	0x1	/* 0 (and the default 0) means online CPUs */
#define CONF_NOFIELD	SIZE_MAX	/* checked, kept nowhere */

/* A check between settings of one section, run once they are loaded. */
typedef int conf_check_fn(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g);

/*
 * One plain setting: where it is, what it may be, its default and its
 * field. The value of an integer is stored multiplied by scale (0 is 1),
 * so shutdown_timeout = 30 becomes shutdown_timeout_ms 30000.
 */
struct conf_setting {
	const char	*section;	/* NULL: the top level */
	const char	*key;		/* NULL for a check */
	enum conf_type	 type;
	uint64_t	 min, max;	/* CONF_T_INT */
	uint64_t	 def;		/* numbers, before scale */
	const char	*def_str;	/* CONF_T_PATH; NULL: none */
	size_t		 off, size;	/* the field in struct conf */
	uint32_t	 scale;
	unsigned	 flags;		/* CONF_F_* */
	const struct conf_name *names;	/* CONF_T_ENUM */
	conf_check_fn	*check;		/* CONF_T_CHECK */
};

#define CONF_FIELD(f)	.off = offsetof(struct conf, f),		\
			.size = sizeof(((struct conf *)0)->f)
#define CONF_INT(sec, k, f, lo, hi, d)					\
	{ .section = sec, .key = k, .type = CONF_T_INT, .min = lo,	\
	  .max = hi, .def = d, CONF_FIELD(f) }
#define CONF_INT_X(sec, k, f, lo, hi, d, sc, fl)			\
	{ .section = sec, .key = k, .type = CONF_T_INT, .min = lo,	\
	  .max = hi, .def = d, CONF_FIELD(f), .scale = sc, .flags = fl }
#define CONF_BOOL(sec, k, f, d)						\
	{ .section = sec, .key = k, .type = CONF_T_BOOL, .def = d,	\
	  CONF_FIELD(f) }
#define CONF_ENUM(sec, k, f, t, d)					\
	{ .section = sec, .key = k, .type = CONF_T_ENUM, .def = d,	\
	  .names = t, CONF_FIELD(f) }
#define CONF_ENUM_CHECK(sec, k, t)					\
	{ .section = sec, .key = k, .type = CONF_T_ENUM, .names = t,	\
	  .off = CONF_NOFIELD }
#define CONF_PATH(sec, k, f, d)						\
	{ .section = sec, .key = k, .type = CONF_T_PATH, .def_str = d,	\
	  CONF_FIELD(f) }
#define CONF_RATE(sec, k, f, d)						\
	{ .section = sec, .key = k, .type = CONF_T_RATE, .def = d,	\
	  CONF_FIELD(f) }
#define CONF_CHECK(sec, fn)						\
	{ .section = sec, .type = CONF_T_CHECK, .check = fn }
#define CONF_OTHER(sec, k)						\
	{ .section = sec, .key = k, .type = CONF_T_OTHER }

static conf_check_fn	conf_check_chroot, conf_check_timeouts,
			conf_check_port_range, conf_check_stats_interval;

/*
 * Every plain setting, written once: its name is the unknown-key check,
 * its default is conf_defaults(), its type and range are the check at
 * load, and its field is where it goes. Rows load in this order, and a
 * section's first problem is the one reported, so a CONF_CHECK row sees
 * the rows above it. Sections: NULL (the top level), then "session",
 * "log", "stats", "limits", in conf_load_tree()'s order.
 *
 * To add a setting: one row here, in its section, with the field in
 * struct conf (conf.h); then document it in man/ptftpd.conf.5 and
 * etc/ptftpd.conf. For example
 *	CONF_INT("session", "rto_min_ms", session.rto_min_ms, 1, 60000, 50),
 * A check between settings is a CONF_CHECK row after them. A key with
 * its own loader (a list, a name looked up, a directory resolved) is a
 * CONF_OTHER row, so the unknown-key check knows it.
 */
static const struct conf_setting conf_settings[] = {
	CONF_INT_X(NULL, "workers", workers, 0, CONF_MAX_WORKERS, 0, 1,
	    CONF_F_CPUS),
	CONF_INT_X(NULL, "shutdown_timeout", shutdown_timeout_ms, 0, 3600, 30,
	    1000, 0),
	CONF_INT(NULL, "rcvbuf", rcvbuf, 0, 268435456, 4194304),
	CONF_INT(NULL, "cache_max_idle", cache_max_idle, 0, 100000, 64),
	CONF_INT(NULL, "cache_idle_ms", cache_idle_ms, 0, 86400000, 10000),
	CONF_BOOL(NULL, "single_port", single_port, false),
	CONF_BOOL(NULL, "io_uring", io_uring, true),
	CONF_INT(NULL, "cache_valid_ms", cache_valid_ms, 0, 3600000, 1000),
	CONF_BOOL(NULL, "seccomp", seccomp, true),
	CONF_PATH(NULL, "pid_file", pid_file, "/run/ptftpd/ptftpd.pid"),
	CONF_PATH(NULL, "chroot", chroot, NULL),
	CONF_CHECK(NULL, conf_check_chroot),
	/* conf_load_listen, conf_load_root, conf_load_ids, conf_policy.c */
	CONF_OTHER(NULL, "listen"),
	CONF_OTHER(NULL, "root"),
	CONF_OTHER(NULL, "user"),
	CONF_OTHER(NULL, "group"),
	CONF_OTHER(NULL, "session"),
	CONF_OTHER(NULL, "log"),
	CONF_OTHER(NULL, "stats"),
	CONF_OTHER(NULL, "limits"),
	CONF_OTHER(NULL, "acl"),
	CONF_OTHER(NULL, "acl_action"),
	CONF_OTHER(NULL, "rewrite"),
	CONF_OTHER(NULL, "routes"),

	CONF_INT("session", "timeout_ms", session.timeout_ms, 100, 60000,
	    1000),
	CONF_INT("session", "timeout_max_ms", session.timeout_max_ms, 100,
	    300000, 5000),
	CONF_INT("session", "retries", session.retries, 0, 100, 5),
	CONF_INT("session", "first_retries", session.first_retries, 0, 10, 3),
	CONF_INT("session", "rto_min_ms", session.rto_min_ms, 0, 60000, 100),
	CONF_INT("session", "blksize_max", session.blksize_max, 8, 65464,
	    1468),
	CONF_INT("session", "windowsize_max", session.windowsize_max, 1,
	    65535, 64),
	CONF_INT("session", "max_per_worker", session.max_per_worker, 1,
	    1000000, 10000),
	CONF_INT("session", "max_per_client", session.max_per_client, 1,
	    1000000, 256),
	CONF_INT("session", "socket_pool", session.socket_pool, 0, 4096, 1024),
	CONF_BOOL("session", "gso", session.gso, true),
	CONF_CHECK("session", conf_check_timeouts),
	CONF_INT("session", "port_min", session.port_min, 0, 65535, 0),
	CONF_INT("session", "port_max", session.port_max, 0, 65535, 0),
	CONF_CHECK("session", conf_check_port_range),

	CONF_ENUM("log", "target", log.target, conf_log_targets,
	    LOG_TARGET_SYSLOG),
	CONF_ENUM("log", "level", log.level, conf_log_levels, LOG_INFO),
	CONF_ENUM("log", "facility", log.facility, conf_log_facilities,
	    LOG_DAEMON),
	CONF_ENUM_CHECK("log", "format", conf_log_formats),
	CONF_INT("log", "refusals_per_second", log.refusals_per_second, 0,
	    100000, 20),

	CONF_PATH("stats", "path", stats.path, CONF_STATS_PATH_DEFAULT),
	CONF_PATH("stats", "file", stats.file, NULL),
	CONF_INT("stats", "interval", stats.interval_s, 0, 86400, 0),
	CONF_BOOL("stats", "enabled", stats.enabled, true),
	CONF_CHECK("stats", conf_check_stats_interval),

	/*
	 * On by default, and never in the way of a booting rack: PXELINUX
	 * probes about 10 names per boot and a rack behind one NAT address
	 * may boot 40 machines at once (400 requests), which a burst of 200
	 * and 50/s absorb within seconds. A flood from one address is cut to
	 * 50 transfers/s per worker. No global bucket: it would let one
	 * client starve the others.
	 */
	CONF_RATE("limits", "rate_per_client", limits.rate_per_client_milli,
	    50 * 1000),
	CONF_RATE("limits", "rate_global", limits.rate_global_milli, 0),
	CONF_INT("limits", "burst_per_client", limits.burst_per_client, 0,
	    1000000, 200),
	CONF_INT("limits", "burst_global", limits.burst_global, 0, 1000000,
	    0),
	CONF_OTHER("limits", "per_client"),
	CONF_CHECK("limits", conf_check_limits),
};

#define CONF_NSETTINGS	(sizeof(conf_settings) / sizeof(conf_settings[0]))

static void	conf_store(struct conf *, const struct conf_setting *, uint64_t);
static void	conf_store_path(struct conf *, const struct conf_setting *,
		    char *);
static char	*conf_path_field(const struct conf *,
		    const struct conf_setting *);

/*
 * The message is "file:line: " when the line is known, "file: " for a
 * default, then the text.
 */
static void __attribute__((format(printf, 4, 0)))
conf_verror(struct conf_ctx *x, const char *file, unsigned line,
    const char *fmt, va_list ap)
{
	size_t	n = 0;
	int	r;

	if (x->err == NULL || x->errlen == 0)
		return;
	if (line > 0)
		r = snprintf(x->err, x->errlen, "%s:%u: ", file, line);
	else
		r = snprintf(x->err, x->errlen, "%s: ", file);
	if (r > 0)
		n = (size_t)r < x->errlen ? (size_t)r : x->errlen - 1;
	vsnprintf(x->err + n, x->errlen - n, fmt, ap);
}

/* A problem with setting s (NULL: a default, no line to show). */
void
conf_error(struct conf_ctx *x, const config_setting_t *s, const char *fmt,
    ...)
{
	va_list		 ap;
	const char	*file = NULL;
	unsigned	 line = 0;

	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	conf_verror(x, file != NULL ? file : x->path, line, fmt, ap);
	va_end(ap);
}

/* A problem found at a line of the main file, before libconfig. */
static void __attribute__((format(printf, 3, 4)))
conf_error_line(struct conf_ctx *x, unsigned line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_verror(x, x->path, line, fmt, ap);
	va_end(ap);
}

/* "session" + "retries" -> "session.retries" in buf. */
const char *
conf_fullname(char *buf, size_t len, const char *prefix, const char *key)
{
	if (prefix == NULL || *prefix == '\0')
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", prefix, key);
	return buf;
}

static int
conf_lookup_name(const struct conf_name *t, const char *name, int *out)
{
	for (; t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0) {
			*out = t->value;
			return 0;
		}
	}
	return -1;
}

/* The name of value v in t ("?" if none). */
const char *
conf_name_of(const struct conf_name *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return t->name;
	return "?";
}

/* "a", "b" or "c" for a message listing the accepted names. */
static void
conf_list_names(const struct conf_name *t, char *buf, size_t len)
{
	size_t	n = 0;

	buf[0] = '\0';
	for (; t->name != NULL && n < len; t++) {
		int r = snprintf(buf + n, len - n, "%s\"%s\"",
		    n == 0 ? "" : t[1].name == NULL ? " or " : ", ", t->name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

/* Replace *dst with a copy of src (NULL stays NULL); -1 on ENOMEM. */
static int
conf_replace(char **dst, const char *src)
{
	char	*p = NULL;

	if (src != NULL && (p = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

/* base + "/" + p unless p is absolute or base is NULL. Caller frees. */
char *
conf_join(const char *base, const char *p)
{
	char	*out;

	if (p[0] == '/' || base == NULL)
		return strdup(p);
	if (asprintf(&out, "%s/%s", base, p) < 0)
		return NULL;
	return out;
}

/*
 * Resolve a directory that must exist. Returns the canonical absolute
 * path (caller frees), or NULL with errno set (ENOTDIR if it is not one).
 */
char *
conf_resolve_dir(const char *path)
{
	struct stat	 st;
	char		*real;

	if ((real = realpath(path, NULL)) == NULL)
		return NULL;
	if (stat(real, &st) == -1) {
		free(real);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		free(real);
		errno = ENOTDIR;
		return NULL;
	}
	return real;
}

static unsigned
conf_online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if (n > CONF_MAX_WORKERS)
		return CONF_MAX_WORKERS;
	return (unsigned)n;
}

/*
 * Numeric address and port into l. Returns 0, or -1 when address is not a
 * numeric IPv4 or IPv6 address.
 */
static int
conf_listen_fill(struct conf_listen *l, const char *address, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l->ss;

	if (strlen(address) >= sizeof(l->address))
		return -1;
	memset(l, 0, sizeof(*l));
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		l->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		l->sslen = sizeof(*sin6);
	} else {
		memset(l, 0, sizeof(*l));
		return -1;
	}
	snprintf(l->address, sizeof(l->address), "%s", address);
	l->port = port;
	return 0;
}

static void
conf_listen_set_port(struct conf_listen *l, uint16_t port)
{
	l->port = port;
	if (l->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&l->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&l->ss)->sin6_port = htons(port);
}

/*
 * Every default, in one place: the table's, then the settings with their
 * own loaders (listen, root, user, group). Allocates the default strings
 * (root, user, pid_file, stats.path): release them with conf_free(). If
 * an allocation fails the string is left NULL and conf_load() reports it.
 */
void
conf_defaults(struct conf *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONF_NSETTINGS; i++) {
		const struct conf_setting *t = &conf_settings[i];

		if (t->type == CONF_T_PATH)
			conf_store_path(c, t, t->def_str != NULL ?
			    strdup(t->def_str) : NULL);
		else if (t->type != CONF_T_CHECK && t->type != CONF_T_OTHER)
			conf_store(c, t, t->def);
	}
	conf_listen_fill(&c->listen[0], "0.0.0.0", CONF_DEFAULT_PORT);
	conf_listen_fill(&c->listen[1], "::", CONF_DEFAULT_PORT);
	c->n_listen = 2;
	c->root = strdup("/srv/tftp");
	c->user = strdup("nobody");
	c->group = NULL;
}

/*
 * Release every string, compiled expression and list of c and leave them
 * NULL. Safe on a zeroed struct and when called twice.
 */
void
conf_free(struct conf *c)
{
	size_t	i;

	free(c->path);
	free(c->root);
	free(c->user);
	free(c->group);
	c->path = c->root = c->user = c->group = NULL;
	for (i = 0; i < CONF_NSETTINGS; i++)
		if (conf_settings[i].type == CONF_T_PATH)
			conf_store_path(c, &conf_settings[i], NULL);
	conf_policy_free(c);
}

/*
 * Skip a comment or string starting at p (libconfig's lexical rules);
 * returns the first character after it, or p if there is none here.
 */
static const char *
conf_scan_skip(const char *p, const char *end, unsigned *line)
{
	if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
		while (p < end && *p != '\n')
			p++;
		return p;
	}
	if (*p == '/' && p + 1 < end && p[1] == '*') {
		for (p += 2; p < end; p++) {
			if (*p == '\n')
				(*line)++;
			if (*p == '*' && p + 1 < end && p[1] == '/')
				return p + 2;
		}
		return p;
	}
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (*p == '\n')
				(*line)++;
		}
		return p < end ? p + 1 : p;
	}
	return p;
}

/*
 * Is the number token [p, q) an integer libconfig would wrap? Floats and
 * 64-bit literals (L suffix) are fine; so is anything not a number.
 */
static int
conf_scan_wraps(const char *p, const char *q)
{
	const char	*d;
	uint64_t	 v = 0;
	int		 base = 10;

	if (*p == '-' || *p == '+')
		p++;
	if (q - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* 64-bit (L suffix), float (".", "e") or not a number: not ours */
	for (d = p; d < q; d++)
		if (base == 10 ? !isdigit((unsigned char)*d) :
		    !isxdigit((unsigned char)*d))
			return 0;
	for (; p < q; p++) {
		v = v * (uint64_t)base + (uint64_t)(isdigit((unsigned char)*p) ?
		    *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
		if (v > INT_MAX)
			return 1;
	}
	return 0;
}

/*
 * Find an integer literal that does not fit in 32 bits. Returns 0, or -1
 * with "file:line: syntax error: ..." in the context's buffer.
 */
static int
conf_scan_ints(struct conf_ctx *x, const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *q;
	unsigned	 line = 1;

	while (p < end) {
		if ((q = conf_scan_skip(p, end, &line)) != p) {
			p = q;
			continue;
		}
		if (*p == '\n')
			line++;
		if (isalpha((unsigned char)*p) || *p == '*' || *p == '_') {
			/* a name: digits in it are not numbers */
			while (p < end && (isalnum((unsigned char)*p) ||
			    *p == '_' || *p == '-' || *p == '*'))
				p++;
			continue;
		}
		if (!isdigit((unsigned char)*p) && *p != '-' && *p != '+' &&
		    *p != '.') {
			p++;
			continue;
		}
		for (q = p + 1; q < end && (isalnum((unsigned char)*q) ||
		    *q == '.' || ((*q == '-' || *q == '+') &&
		    (q[-1] == 'e' || q[-1] == 'E'))); q++)
			;
		if (conf_scan_wraps(p, q)) {
			conf_error_line(x, line, "syntax error: integer %.*s "
			    "does not fit in 32 bits", (int)(q - p), p);
			return -1;
		}
		p = q;
	}
	return 0;
}

/*
 * Member key of grp, if its type is one of types (a bit per
 * CONFIG_TYPE_*): 1 with *out and prefix.key in buf (128 bytes), 0 if
 * absent, -1 with "prefix.key: must be what".
 */
int
conf_member(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, unsigned types, const char *what,
    char *buf, const config_setting_t **out)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	conf_fullname(buf, 128, prefix, key);
	if ((types & 1u << config_setting_type(s)) == 0) {
		conf_error(x, s, "%s: must be %s", buf, what);
		return -1;
	}
	*out = s;
	return 1;
}

/*
 * Integer member key of grp in [min, max]. Returns 1 with *out set, 0 if
 * absent (*out untouched), -1 on error. *where gets the setting if given.
 */
int
conf_get_int(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, const config_setting_t **where)
{
	const config_setting_t	*s;
	long long		 v;
	char			 buf[128];
	int			 r;

	if ((r = conf_member(x, grp, prefix, key, CONF_TYPES_INT,
	    "an integer", buf, &s)) <= 0)
		return r;
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
		conf_error(x, s, "%s: must be between %" PRIu64 " and %"
		    PRIu64, buf, min, max);
		return -1;
	}
	*out = (uint64_t)v;
	if (where != NULL)
		*where = s;
	return 1;
}

/*
 * String member key of grp, possibly empty. Returns 1 with *out pointing
 * into libconfig's tree (valid until config_destroy), 0 if absent, -1 on
 * error.
 */
int
conf_get_text(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, const char **out,
    const config_setting_t **where)
{
	const config_setting_t	*s;
	char			 buf[128];
	int			 r;

	if ((r = conf_member(x, grp, prefix, key, 1u << CONFIG_TYPE_STRING,
	    "a string", buf, &s)) <= 0)
		return r;
	*out = config_setting_get_string(s);
	if (where != NULL)
		*where = s;
	return 1;
}

/* The same, not empty. */
int
conf_get_str(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, const char **out,
    const config_setting_t **where)
{
	const config_setting_t	*s;
	char			 buf[128];
	int			 r;

	if ((r = conf_get_text(x, grp, prefix, key, out, &s)) <= 0)
		return r;
	conf_fullname(buf, sizeof(buf), prefix, key);
	if (**out == '\0') {
		conf_error(x, s, "%s: must not be empty", buf);
		return -1;
	}
	if (where != NULL)
		*where = s;
	return 1;
}

/* A string member that must be one of the names in t. Same returns. */
int
conf_get_enum(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, const struct conf_name *t, int *out)
{
	const config_setting_t	*s;
	const char		*v;
	char			 buf[128], names[160];
	int			 r;

	if ((r = conf_get_str(x, grp, prefix, key, &v, &s)) <= 0)
		return r;
	if (conf_lookup_name(t, v, out) == -1) {
		conf_list_names(t, names, sizeof(names));
		conf_error(x, s, "%s: must be %s, not \"%s\"",
		    conf_fullname(buf, sizeof(buf), prefix, key), names, v);
		return -1;
	}
	return 1;
}

/* A path member, relative to the file's directory; stored in *dst. */
static int
conf_get_path(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, char **dst)
{
	const config_setting_t	*s;
	const char		*v;
	char			*p, buf[128];
	int			 r;

	if ((r = conf_get_str(x, grp, prefix, key, &v, &s)) <= 0)
		return r;
	if ((p = conf_join(x->dir, v)) == NULL) {
		conf_error(x, s, "%s: out of memory",
		    conf_fullname(buf, sizeof(buf), prefix, key));
		return -1;
	}
	free(*dst);
	*dst = p;
	return 1;
}

/* A named group at the top level: 1 and *out, 0 absent, -1 wrong type. */
static int
conf_get_group(struct conf_ctx *x, const config_setting_t *root,
    const char *key, const config_setting_t **out)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(root, key)) == NULL)
		return 0;
	if (!config_setting_is_group(s)) {
		conf_error(x, s, "%s: must be a group { ... }", key);
		return -1;
	}
	*out = s;
	return 1;
}

static int
conf_load_listen_entry(struct conf_ctx *x, struct conf *c,
    const config_setting_t *e, unsigned i)
{
	const config_setting_t	*s = NULL;
	const char		*addr;
	char			 prefix[32];
	uint64_t		 port = CONF_DEFAULT_PORT;
	unsigned		 j;
	int			 r;

	snprintf(prefix, sizeof(prefix), "listen[%u]", i);
	if (!config_setting_is_group(e)) {
		conf_error(x, e, "%s: must be a group { address = ...; }",
		    prefix);
		return -1;
	}
	if (conf_check_keys(x, e, prefix, conf_keys_listen) == -1)
		return -1;
	if ((r = conf_get_str(x, e, prefix, "address", &addr, &s)) <= 0) {
		if (r == 0)
			conf_error(x, e, "%s.address: missing", prefix);
		return -1;
	}
	if (conf_get_int(x, e, prefix, "port", 1, 65535, &port, NULL) == -1)
		return -1;
	if (conf_listen_fill(&c->listen[i], addr, (uint16_t)port) == -1) {
		conf_error(x, s, "%s.address: \"%s\" is not a numeric IPv4 or "
		    "IPv6 address", prefix, addr);
		return -1;
	}
	for (j = 0; j < i; j++) {
		if (c->listen[j].sslen == c->listen[i].sslen &&
		    memcmp(&c->listen[j].ss, &c->listen[i].ss,
		    c->listen[i].sslen) == 0) {
			conf_error(x, e, "%s: same address and port as "
			    "listen[%u]", prefix, j);
			return -1;
		}
	}
	return 0;
}

/* listen = ( { address = "..."; port = N; }, ... ); replaces the default. */
static int
conf_load_listen(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*s;
	unsigned		 i, n;
	int			 r;

	if ((r = conf_get_list(x, root, "listen", "listen", 1, CONF_MAX_LISTEN,
	    "( { address = ...; }, ... )", &s, &n)) <= 0)
		return r;
	memset(c->listen, 0, sizeof(c->listen));
	c->n_listen = 0;
	for (i = 0; i < n; i++) {
		if (conf_load_listen_entry(x, c,
		    config_setting_get_elem(s, i), i) == -1)
			return -1;
		c->n_listen++;
	}
	return 0;
}

/*
 * A list of groups: 1 with *out and its length in *n, 0 if absent, -1 if
 * not a list or its length is outside [min, max].
 */
int
conf_get_list(struct conf_ctx *x, const config_setting_t *grp,
    const char *key, const char *name, unsigned min, unsigned max,
    const char *shape, const config_setting_t **out, unsigned *n)
{
	const config_setting_t	*s;
	int			 len;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		conf_error(x, s, "%s: must be a list %s", name, shape);
		return -1;
	}
	len = config_setting_length(s);
	if (len < 0 || (unsigned)len < min || (unsigned)len > max) {
		if (min > 0)
			conf_error(x, s, "%s: must have between %u and %u "
			    "entries", name, min, max);
		else
			conf_error(x, s, "%s: must have at most %u entries",
			    name, max);
		return -1;
	}
	*out = s;
	*n = (unsigned)len;
	return 1;
}

/*
 * The list key of grp (conf_get_list) into a new array of n elements of
 * size bytes, each through fn (conf_load_entries). *arr and *n are set
 * even on error, so that what was loaded can be freed; an absent or
 * empty list leaves them NULL and 0. 0 or -1.
 */
int
conf_load_array(struct conf_ctx *x, const config_setting_t *grp,
    const char *key, const char *name, unsigned min, unsigned max,
    const char *shape, size_t size, conf_entry_fn *fn, void **arr,
    unsigned *n)
{
	const config_setting_t	*s;
	unsigned		 len;
	int			 r;

	*arr = NULL;
	*n = 0;
	if ((r = conf_get_list(x, grp, key, name, min, max, shape, &s,
	    &len)) <= 0 || len == 0)
		return r == -1 ? -1 : 0;
	if ((*arr = calloc(len, size)) == NULL) {
		conf_error(x, s, "%s: out of memory", name);
		return -1;
	}
	*n = len;
	return conf_load_entries(x, s, name, *arr, size, fn);
}

/* Each element of list s, named "name[i]", through fn into its slot. */
int
conf_load_entries(struct conf_ctx *x, const config_setting_t *s,
    const char *name, void *base, size_t size, conf_entry_fn *fn)
{
	char		p[160];
	unsigned	i, n = (unsigned)config_setting_length(s);

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s[%u]", name, i);
		if (fn(x, config_setting_get_elem(s, i), p,
		    (unsigned char *)base + i * size) == -1)
			return -1;
	}
	return 0;
}

/*
 * A textfile nobody refreshes goes stale: with stats.file and no
 * stats.interval of its own, the file is rewritten every 15 s.
 */
static int
conf_check_stats_interval(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g)
{
	(void)x;
	if (c->stats.file != NULL &&
	    config_setting_get_member(g, "interval") == NULL)
		c->stats.interval_s = CONF_STATS_FILE_INTERVAL_S;
	return 0;
}

/* The transfer port range is all or nothing, and ordered. */
static int
conf_check_port_range(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g)
{
	const config_setting_t	*smin, *smax;

	smin = config_setting_get_member(g, "port_min");
	smax = config_setting_get_member(g, "port_max");
	if ((smin != NULL) != (smax != NULL)) {
		conf_error(x, smin != NULL ? smin : smax, "session.%s: must be "
		    "set together with session.%s", smin != NULL ? "port_min" :
		    "port_max", smin != NULL ? "port_max" : "port_min");
		return -1;
	}
	if (c->session.port_min == 0 && c->session.port_max == 0)
		return 0;
	if (c->session.port_min == 0) {
		conf_error(x, smin, "session.port_min: must be at least 1 "
		    "(or both 0 to let the kernel choose)");
		return -1;
	}
	if (c->session.port_min > c->session.port_max) {
		conf_error(x, smax, "session.port_max: must not be below "
		    "session.port_min (%u)", c->session.port_min);
		return -1;
	}
	return 0;
}

/* root: must exist and be a directory; stored canonical and absolute. */
static int
conf_load_root(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*s = NULL;
	const char		*v;
	char			*joined, *real;
	int			 r;

	if ((r = conf_get_str(x, root, NULL, "root", &v, &s)) == -1)
		return -1;
	joined = r == 1 ? conf_join(x->dir, v) : strdup(c->root);
	if (joined == NULL) {
		conf_error(x, s, "root: out of memory");
		return -1;
	}
	if ((real = conf_resolve_dir(joined)) == NULL) {
		conf_error(x, s, "root: %s: %s", joined, strerror(errno));
		free(joined);
		return -1;
	}
	free(joined);
	free(c->root);
	c->root = real;
	return 0;
}

/* user and group: names that must exist here (switching is the caller's). */
static int
conf_load_ids(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*su = NULL, *sg = NULL;
	const char		*user = NULL, *group = NULL;

	if (conf_get_str(x, root, NULL, "user", &user, &su) == -1 ||
	    conf_get_str(x, root, NULL, "group", &group, &sg) == -1)
		return -1;
	if ((user != NULL && conf_replace(&c->user, user) == -1) ||
	    (group != NULL && conf_replace(&c->group, group) == -1)) {
		conf_error(x, NULL, "out of memory");
		return -1;
	}
	if (getpwnam(c->user) == NULL) {
		conf_error(x, su, "user: unknown user \"%s\"", c->user);
		return -1;
	}
	if (c->group != NULL && getgrnam(c->group) == NULL) {
		conf_error(x, sg, "group: unknown group \"%s\"", c->group);
		return -1;
	}
	return 0;
}

/* A boolean member: 1 with *out set, 0 if absent, -1 on error. */
int
conf_get_bool(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, bool *out)
{
	const config_setting_t	*s;
	char			 buf[128];
	int			 r;

	if ((r = conf_member(x, grp, prefix, key, 1u << CONFIG_TYPE_BOOL,
	    "true or false", buf, &s)) <= 0)
		return r;
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/*
 * A rate in transfers per second, integer or float, 0 (off) or
 * 0.001..CONF_MAX_RATE: 1 with milli-transfers in *out, 0 if absent, -1
 * on error.
 */
static int
conf_get_rate(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, uint32_t *out)
{
	const config_setting_t	*s;
	double			 v;
	char			 buf[128];
	int			 r;

	if ((r = conf_member(x, grp, prefix, key,
	    CONF_TYPES_INT | 1u << CONFIG_TYPE_FLOAT,
	    "a number (transfers per second)", buf, &s)) <= 0)
		return r;
	v = config_setting_type(s) == CONFIG_TYPE_FLOAT ?
	    config_setting_get_float(s) :
	    (double)config_setting_get_int64(s);
	/* written so that NaN fails too */
	if (!(v >= 0 && v <= CONF_MAX_RATE)) {
		conf_error(x, s, "%s: must be between 0 and %d", buf,
		    CONF_MAX_RATE);
		return -1;
	}
	if (v > 0 && v < 0.001) {
		conf_error(x, s, "%s: must be 0 (off) or at least 0.001", buf);
		return -1;
	}
	*out = (uint32_t)(v * 1000.0 + 0.5);
	return 1;
}

/* Did every default string conf_defaults() wanted get allocated? */
static bool
conf_defaults_allocated(const struct conf *c)
{
	size_t	i;

	if (c->root == NULL || c->user == NULL)
		return false;
	for (i = 0; i < CONF_NSETTINGS; i++)
		if (conf_settings[i].type == CONF_T_PATH &&
		    conf_settings[i].def_str != NULL &&
		    conf_path_field(c, &conf_settings[i]) == NULL)
			return false;
	return true;
}

/* The char * field of a CONF_T_PATH row. */
static char *
conf_path_field(const struct conf *c, const struct conf_setting *t)
{
	char	*p;

	memcpy(&p, (const unsigned char *)c + t->off, sizeof(p));
	return p;
}

/* Free a CONF_T_PATH row's string and put p (owned) in its place. */
static void
conf_store_path(struct conf *c, const struct conf_setting *t, char *p)
{
	free(conf_path_field(c, t));
	memcpy((unsigned char *)c + t->off, &p, sizeof(p));
}

/* v, a number as written in the file, into row t's field. */
static void
conf_store(struct conf *c, const struct conf_setting *t, uint64_t v)
{
	unsigned char	*p;
	uint32_t	 u32;
	uint16_t	 u16;
	bool		 b;
	int		 e;

	if (t->off == CONF_NOFIELD)
		return;
	p = (unsigned char *)c + t->off;
	if ((t->flags & CONF_F_CPUS) && v == 0)
		v = conf_online_cpus();
	v *= t->scale != 0 ? t->scale : 1;
	switch (t->type) {
	case CONF_T_BOOL:
		b = v != 0;
		memcpy(p, &b, sizeof(b));
		break;
	case CONF_T_ENUM:
		e = (int)v;
		memcpy(p, &e, sizeof(e));
		break;
	default:
		if (t->size == sizeof(u16)) {
			u16 = (uint16_t)v;
			memcpy(p, &u16, sizeof(u16));
		} else if (t->size == sizeof(u32)) {
			u32 = (uint32_t)v;
			memcpy(p, &u32, sizeof(u32));
		} else {
			memcpy(p, &v, sizeof(v));
		}
		break;
	}
}

/* Every member of group s must be one known() accepts. */
static int
conf_check_members(struct conf_ctx *x, const config_setting_t *s,
    const char *prefix, bool (*known)(const void *, const char *),
    const void *arg)
{
	char	 buf[128];
	int	 i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		const config_setting_t	*e = config_setting_get_elem(s, i);
		const char		*name = config_setting_name(e);

		if (name == NULL || known(arg, name))
			continue;
		conf_error(x, e, "%s: unknown setting",
		    conf_fullname(buf, sizeof(buf), prefix, name));
		return -1;
	}
	return 0;
}

static bool
conf_in_list(const void *arg, const char *name)
{
	const char *const	*k;

	for (k = arg; *k != NULL; k++)
		if (strcmp(*k, name) == 0)
			return true;
	return false;
}

/* Every member of group s must be named in known. */
int
conf_check_keys(struct conf_ctx *x, const config_setting_t *s,
    const char *prefix, const char *const *known)
{
	return conf_check_members(x, s, prefix, conf_in_list, known);
}

/* Are a and b the same section (both NULL for the top level)? */
static bool
conf_same_section(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Is name a row of section arg (NULL: the top level) in the table? */
static bool
conf_in_table(const void *arg, const char *name)
{
	size_t	i;

	for (i = 0; i < CONF_NSETTINGS; i++)
		if (conf_settings[i].key != NULL &&
		    conf_same_section(conf_settings[i].section, arg) &&
		    strcmp(conf_settings[i].key, name) == 0)
			return true;
	return false;
}

/* Row t from group g (named prefix): 0, or -1 after a message. */
static int
conf_load_setting(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g, const char *prefix,
    const struct conf_setting *t)
{
	uint64_t	v = 0;
	uint32_t	milli;
	bool		b;
	char		*path;
	int		r = 0, e;

	switch (t->type) {
	case CONF_T_INT:
		if ((r = conf_get_int(x, g, prefix, t->key, t->min, t->max,
		    &v, NULL)) == 1)
			conf_store(c, t, v);
		break;
	case CONF_T_BOOL:
		if ((r = conf_get_bool(x, g, prefix, t->key, &b)) == 1)
			conf_store(c, t, b);
		break;
	case CONF_T_ENUM:
		if ((r = conf_get_enum(x, g, prefix, t->key, t->names,
		    &e)) == 1)
			conf_store(c, t, (uint64_t)e);
		break;
	case CONF_T_PATH:
		path = conf_path_field(c, t);
		r = conf_get_path(x, g, prefix, t->key, &path);
		memcpy((unsigned char *)c + t->off, &path, sizeof(path));
		break;
	case CONF_T_RATE:
		if ((r = conf_get_rate(x, g, prefix, t->key, &milli)) == 1)
			conf_store(c, t, milli);
		break;
	case CONF_T_CHECK:
		r = t->check(x, c, g);
		break;
	case CONF_T_OTHER:
		break;
	}
	return r == -1 ? -1 : 0;
}

/*
 * The rows of section (NULL: the top level, root itself) in table order,
 * after its unknown-key check. An absent section keeps its defaults and
 * runs no checks. 0 or -1.
 */
static int
conf_load_section(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root, const char *section)
{
	const config_setting_t	*g = root;
	size_t			 i;
	int			 r;

	if (section != NULL && (r = conf_get_group(x, root, section, &g)) <= 0)
		return r;
	if (conf_check_members(x, g, section, conf_in_table, section) == -1)
		return -1;
	for (i = 0; i < CONF_NSETTINGS; i++)
		if (conf_same_section(conf_settings[i].section, section) &&
		    conf_load_setting(x, c, g, section, &conf_settings[i]) == -1)
			return -1;
	return 0;
}

/* chroot, when set: an existing directory (entered by the workers). */
static int
conf_check_chroot(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*cs;
	struct stat		 st;

	if ((cs = config_setting_get_member(root, "chroot")) == NULL)
		return 0;
	if (stat(c->chroot, &st) == -1) {
		conf_error(x, cs, "chroot: %s: %s", c->chroot, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		conf_error(x, cs, "chroot: %s: Not a directory", c->chroot);
		return -1;
	}
	return 0;
}

/* The back-off cap is not below the first interval. */
static int
conf_check_timeouts(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g)
{
	const config_setting_t	*stmo;

	if (c->session.timeout_max_ms >= c->session.timeout_ms)
		return 0;
	if ((stmo = config_setting_get_member(g, "timeout_max_ms")) == NULL)
		stmo = config_setting_get_member(g, "timeout_ms");
	conf_error(x, stmo, "session.timeout_max_ms: must not be below "
	    "session.timeout_ms (%u)", c->session.timeout_ms);
	return -1;
}

/*
 * Read the whole file (small by nature, at most CONF_MAX_FILE_SIZE) into a
 * NUL-terminated buffer the caller frees. Returns NULL with the message in
 * the context's buffer.
 */
static char *
conf_read_text(struct conf_ctx *x, size_t *lenp)
{
	struct stat	 st;
	FILE		*f;
	char		*text = NULL, *p;
	size_t		 len = 0, cap;

	if ((f = fopen(x->path, "r")) == NULL) {
		conf_error(x, NULL, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == -1) {
		conf_error(x, NULL, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		conf_error(x, NULL, "%s", strerror(EISDIR));
		goto fail;
	}
	/* st_size is a hint only: a pipe says 0, a file may grow */
	cap = st.st_size > 0 && st.st_size < CONF_MAX_FILE_SIZE ?
	    (size_t)st.st_size + 1 : 4096;
	for (;;) {
		if ((p = realloc(text, cap + 1)) == NULL) {
			conf_error(x, NULL, "out of memory");
			goto fail;
		}
		text = p;
		len += fread(text + len, 1, cap - len, f);
		if (ferror(f)) {
			conf_error(x, NULL, "%s", strerror(errno));
			goto fail;
		}
		if (len < cap || cap > CONF_MAX_FILE_SIZE)
			break;
		cap *= 2;
	}
	if (len > CONF_MAX_FILE_SIZE) {
		conf_error(x, NULL, "larger than %d bytes", CONF_MAX_FILE_SIZE);
		goto fail;
	}
	fclose(f);
	text[len] = '\0';
	*lenp = len;
	return text;
fail:
	fclose(f);
	free(text);
	return NULL;
}

/* The absolute directory of the file: what relative paths start from. */
static int
conf_find_dir(struct conf_ctx *x)
{
	char	*real, *slash;

	if ((real = realpath(x->path, NULL)) == NULL) {
		conf_error(x, NULL, "%s", strerror(errno));
		return -1;
	}
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';	/* a file in "/" */
	else
		*slash = '\0';
	x->dir = real;
	return 0;
}

static void
conf_syntax_error(struct conf_ctx *x, const config_t *cfg)
{
	const char	*file = config_error_file(cfg);

	if (file == NULL)
		file = x->path;
	if (x->err == NULL || x->errlen == 0)
		return;
	if (config_error_line(cfg) > 0)
		snprintf(x->err, x->errlen, "%s:%d: syntax error: %s", file,
		    config_error_line(cfg), config_error_text(cfg));
	else
		snprintf(x->err, x->errlen, "%s: syntax error: %s", file,
		    config_error_text(cfg));
}

/* Every group in turn, once the text has parsed. */
static int
conf_load_tree(struct conf_ctx *x, struct conf *c, const config_t *cfg)
{
	const config_setting_t	*root = config_root_setting(cfg);

	if (conf_load_section(x, c, root, NULL) == -1 ||
	    conf_load_listen(x, c, root) == -1 ||
	    conf_load_section(x, c, root, "session") == -1 ||
	    conf_load_section(x, c, root, "log") == -1 ||
	    conf_load_section(x, c, root, "stats") == -1 ||
	    conf_load_section(x, c, root, "limits") == -1 ||
	    conf_load_root(x, c, root) == -1 ||
	    conf_load_ids(x, c, root) == -1 ||
	    conf_load_policy(x, c, root) == -1)
		return -1;
	return 0;
}

/*
 * Load path into *c: defaults first, then every setting of the file,
 * checked. Returns 0 with *c owning its strings (conf_free), or -1 with
 * "file:line: setting: problem" in err and *c zeroed. Costs one read of
 * the file, a realpath per path and a passwd/group lookup.
 */
int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf_ctx	 x = { .path = path, .err = err, .errlen = errlen };
	config_t	 cfg;
	char		*text = NULL;
	size_t		 len = 0;
	int		 ret = -1;

	config_init(&cfg);
	conf_defaults(c);
	if (!conf_defaults_allocated(c) ||
	    (c->path = strdup(path)) == NULL) {
		conf_error(&x, NULL, "out of memory");
		goto out;
	}
	if (conf_find_dir(&x) == -1 ||
	    (text = conf_read_text(&x, &len)) == NULL)
		goto out;
	if (conf_scan_ints(&x, text, len) == -1)
		goto out;
	config_set_include_dir(&cfg, x.dir);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		conf_syntax_error(&x, &cfg);
		goto out;
	}
	if (conf_load_tree(&x, c, &cfg) == -1)
		goto out;
	ret = 0;
out:
	config_destroy(&cfg);
	free(text);
	free(x.dir);
	if (ret == -1) {
		conf_free(c);
		memset(c, 0, sizeof(*c));
	}
	return ret;
}

/*
 * -p: one port for every listen address. Returns 0, or -1 with a message
 * in err and c unchanged.
 */
int
conf_set_port(struct conf *c, const char *port, char *err, size_t errlen)
{
	uint64_t	v;
	unsigned	i;

	if (num_parse_u64(port, 1, 65535, &v) == -1) {
		snprintf(err, errlen, "port: \"%s\": must be a number between "
		    "1 and 65535", port);
		return -1;
	}
	for (i = 0; i < c->n_listen; i++)
		conf_listen_set_port(&c->listen[i], (uint16_t)v);
	return 0;
}

/*
 * -r: the served root, relative to the current directory. Same checks as
 * the root setting. Returns 0, or -1 with a message and c unchanged.
 */
int
conf_set_root(struct conf *c, const char *root, char *err, size_t errlen)
{
	char	*real;

	if (root == NULL || *root == '\0') {
		snprintf(err, errlen, "root: must not be empty");
		return -1;
	}
	if ((real = conf_resolve_dir(root)) == NULL) {
		snprintf(err, errlen, "root: %s: %s", root, strerror(errno));
		return -1;
	}
	free(c->root);
	c->root = real;
	return 0;
}

/*
 * -w: number of workers, 0 meaning one per online CPU. Returns 0, or -1
 * with a message and c unchanged.
 */
int
conf_set_workers(struct conf *c, const char *n, char *err, size_t errlen)
{
	uint64_t	v;

	if (num_parse_u64(n, 0, CONF_MAX_WORKERS, &v) == -1) {
		snprintf(err, errlen, "workers: \"%s\": must be a number "
		    "between 0 and %d", n, CONF_MAX_WORKERS);
		return -1;
	}
	c->workers = v == 0 ? conf_online_cpus() : (unsigned)v;
	return 0;
}
