/*
 * conf.c - the configuration file (libconfig syntax) into a validated
 * struct conf. It owns every default, the names of the settings, their
 * types and ranges, and the rule that relative paths are relative to the
 * directory of the file that names them. Each problem is reported once,
 * as "file:line: setting: problem" in the caller's buffer; nothing here
 * logs, because the caller decides whether a bad file is fatal (start-up)
 * or only a failed reload. It does not open sockets, switch users or
 * create the stats segment: it only checks that what they will need exists
 * and is well formed.
 *
 * libconfig 1.5 silently wraps integer literals that do not fit in 32 bits
 * (4294967297 reads as 1), so the text is scanned for such literals before
 * libconfig sees it.
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

#include "conf.h"
#include "log.h"

#define CONF_MAX_WORKERS	256
#define CONF_MAX_FILE_SIZE	(1024 * 1024)
#define CONF_DEFAULT_PORT	69

/* One load in progress: where messages go and what paths are relative to. */
struct conf_ctx {
	const char	*path;		/* as given, for messages */
	char		*dir;		/* absolute directory of the file */
	char		*err;
	size_t		 errlen;
};

struct conf_name {
	const char	*name;
	int		 value;
};

static const char *const conf_keys_top[] = {
	"workers", "listen", "root", "user", "group", "pid_file",
	"shutdown_timeout", "rcvbuf", "cache_max_idle", "session", "log",
	"stats", NULL
};
static const char *const conf_keys_listen[] = { "address", "port", NULL };
static const char *const conf_keys_session[] = {
	"timeout_ms", "timeout_max_ms", "retries", "first_retries",
	"blksize_max", "windowsize_max", "max_per_worker", "max_per_client",
	"port_min", "port_max", NULL
};
static const char *const conf_keys_log[] = {
	"target", "level", "facility", "format", NULL
};
static const char *const conf_keys_stats[] = {
	"path", "file", "interval", NULL
};

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
static void __attribute__((format(printf, 3, 4)))
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
static const char *
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
static char *
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
static char *
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
 * Every default, in one place. Allocates the default strings (root, user,
 * pid_file, stats.path): release them with conf_free(). If an allocation
 * fails the string is left NULL and conf_load() reports it.
 */
void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = conf_online_cpus();
	conf_listen_fill(&c->listen[0], "0.0.0.0", CONF_DEFAULT_PORT);
	conf_listen_fill(&c->listen[1], "::", CONF_DEFAULT_PORT);
	c->n_listen = 2;
	c->root = strdup("/srv/tftp");
	c->user = strdup("nobody");
	c->group = NULL;
	c->pid_file = strdup("/run/ptftpd.pid");
	c->shutdown_timeout_ms = 30 * 1000;
	c->rcvbuf = 4194304;
	c->cache_max_idle = 64;

	c->session.timeout_ms = 1000;
	c->session.timeout_max_ms = 5000;
	c->session.retries = 5;
	c->session.first_retries = 3;
	c->session.blksize_max = 1468;
	c->session.windowsize_max = 64;
	c->session.max_per_worker = 10000;
	c->session.max_per_client = 256;
	c->session.port_min = 0;
	c->session.port_max = 0;

	c->log.target = LOG_TARGET_SYSLOG;
	c->log.level = LOG_INFO;
	c->log.facility = LOG_DAEMON;

	c->stats.path = strdup("/run/ptftpd.stats");
	c->stats.file = NULL;
	c->stats.interval_s = 0;
}

/*
 * Release every string of c and leave them NULL. Safe on a zeroed struct
 * and when called twice.
 */
void
conf_free(struct conf *c)
{
	free(c->path);
	free(c->root);
	free(c->user);
	free(c->group);
	free(c->pid_file);
	free(c->stats.path);
	free(c->stats.file);
	c->path = c->root = c->user = c->group = c->pid_file = NULL;
	c->stats.path = c->stats.file = NULL;
}

/*
 * Digits only (no sign, no spaces, not empty), no overflow, in [min, max].
 * Returns 0 with *out set, or -1 with errno EINVAL (not a number) or
 * ERANGE (too large or out of bounds); *out is untouched then.
 */
int
conf_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p;

	if (s == NULL || *s == '\0') {
		errno = EINVAL;
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9') {
			errno = EINVAL;
			return -1;
		}
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
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

/* Every member of group s must be named in known. */
static int
conf_check_keys(struct conf_ctx *x, const config_setting_t *s,
    const char *prefix, const char *const *known)
{
	char	 buf[128];
	int	 i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		const config_setting_t	*e = config_setting_get_elem(s, i);
		const char		*name = config_setting_name(e);
		const char *const	*k;

		if (name == NULL)
			continue;
		for (k = known; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL) {
			conf_error(x, e, "%s: unknown setting",
			    conf_fullname(buf, sizeof(buf), prefix, name));
			return -1;
		}
	}
	return 0;
}

/*
 * Integer member key of grp in [min, max]. Returns 1 with *out set, 0 if
 * absent (*out untouched), -1 on error. *where gets the setting if given.
 */
static int
conf_get_int(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, const config_setting_t **where)
{
	const config_setting_t	*s;
	long long		 v;
	char			 buf[128];

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	conf_fullname(buf, sizeof(buf), prefix, key);
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_error(x, s, "%s: must be an integer", buf);
		return -1;
	}
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
 * Non-empty string member key of grp. Returns 1 with *out pointing into
 * libconfig's tree (valid until config_destroy), 0 if absent, -1 on error.
 */
static int
conf_get_str(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, const char **out,
    const config_setting_t **where)
{
	const config_setting_t	*s;
	char			 buf[128];

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	conf_fullname(buf, sizeof(buf), prefix, key);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_error(x, s, "%s: must be a string", buf);
		return -1;
	}
	*out = config_setting_get_string(s);
	if (**out == '\0') {
		conf_error(x, s, "%s: must not be empty", buf);
		return -1;
	}
	if (where != NULL)
		*where = s;
	return 1;
}

/* A string member that must be one of the names in t. Same returns. */
static int
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
	int			 i, n;

	if ((s = config_setting_get_member(root, "listen")) == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		conf_error(x, s, "listen: must be a list ( { address = ...; }, "
		    "... )");
		return -1;
	}
	n = config_setting_length(s);
	if (n < 1 || n > CONF_MAX_LISTEN) {
		conf_error(x, s, "listen: must have between 1 and %d entries",
		    CONF_MAX_LISTEN);
		return -1;
	}
	memset(c->listen, 0, sizeof(c->listen));
	c->n_listen = 0;
	for (i = 0; i < n; i++) {
		if (conf_load_listen_entry(x, c,
		    config_setting_get_elem(s, i), (unsigned)i) == -1)
			return -1;
		c->n_listen++;
	}
	return 0;
}

/* The transfer port range is all or nothing, and ordered. */
static int
conf_check_port_range(struct conf_ctx *x, struct conf *c, int set_min,
    const config_setting_t *smin, int set_max, const config_setting_t *smax)
{
	if (set_min != set_max) {
		conf_error(x, set_min ? smin : smax, "session.%s: must be set "
		    "together with session.%s", set_min ? "port_min" :
		    "port_max", set_min ? "port_max" : "port_min");
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

static int
conf_load_session(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*g, *smin = NULL, *smax = NULL, *stmo = NULL;
	const char		*p = "session";
	struct conf_session	*se = &c->session;
	uint64_t		 v;
	int			 r, set_min, set_max;

	if ((r = conf_get_group(x, root, p, &g)) <= 0)
		return r;
	if (conf_check_keys(x, g, p, conf_keys_session) == -1)
		return -1;

#define CONF_SESSION_INT(key, lo, hi, where) do {			\
	if ((r = conf_get_int(x, g, p, #key, lo, hi, &v, where)) == -1)	\
		return -1;						\
	if (r == 1)							\
		se->key = (uint32_t)v;					\
} while (0)
	CONF_SESSION_INT(timeout_ms, 100, 60000, NULL);
	CONF_SESSION_INT(timeout_max_ms, 100, 300000, &stmo);
	CONF_SESSION_INT(retries, 0, 100, NULL);
	CONF_SESSION_INT(first_retries, 0, 10, NULL);
	CONF_SESSION_INT(blksize_max, 8, 65464, NULL);
	CONF_SESSION_INT(windowsize_max, 1, 65535, NULL);
	CONF_SESSION_INT(max_per_worker, 1, 1000000, NULL);
	CONF_SESSION_INT(max_per_client, 1, 1000000, NULL);
#undef CONF_SESSION_INT

	if (se->timeout_max_ms < se->timeout_ms) {
		conf_error(x, stmo != NULL ? stmo :
		    config_setting_get_member(g, "timeout_ms"),
		    "session.timeout_max_ms: must not be below "
		    "session.timeout_ms (%u)", se->timeout_ms);
		return -1;
	}

	if ((set_min = conf_get_int(x, g, p, "port_min", 0, 65535, &v,
	    &smin)) == -1)
		return -1;
	if (set_min)
		se->port_min = (uint16_t)v;
	if ((set_max = conf_get_int(x, g, p, "port_max", 0, 65535, &v,
	    &smax)) == -1)
		return -1;
	if (set_max)
		se->port_max = (uint16_t)v;
	return conf_check_port_range(x, c, set_min, smin, set_max, smax);
}

static int
conf_load_log(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*g;
	int			 r, format;

	if ((r = conf_get_group(x, root, "log", &g)) <= 0)
		return r;
	if (conf_check_keys(x, g, "log", conf_keys_log) == -1 ||
	    conf_get_enum(x, g, "log", "target", conf_log_targets,
	    &c->log.target) == -1 ||
	    conf_get_enum(x, g, "log", "level", conf_log_levels,
	    &c->log.level) == -1 ||
	    conf_get_enum(x, g, "log", "facility", conf_log_facilities,
	    &c->log.facility) == -1 ||
	    conf_get_enum(x, g, "log", "format", conf_log_formats,
	    &format) == -1)
		return -1;
	return 0;
}

static int
conf_load_stats(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*g;
	uint64_t		 v;
	int			 r;

	if ((r = conf_get_group(x, root, "stats", &g)) <= 0)
		return r;
	if (conf_check_keys(x, g, "stats", conf_keys_stats) == -1 ||
	    conf_get_path(x, g, "stats", "path", &c->stats.path) == -1 ||
	    conf_get_path(x, g, "stats", "file", &c->stats.file) == -1)
		return -1;
	if ((r = conf_get_int(x, g, "stats", "interval", 0, 86400, &v,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->stats.interval_s = (uint32_t)v;
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

/* Scalars and plain strings at the top level. */
static int
conf_load_top(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	uint64_t	n;
	int		r;

	if ((r = conf_get_int(x, root, NULL, "workers", 0, CONF_MAX_WORKERS,
	    &n, NULL)) == -1)
		return -1;
	if (r == 1)
		c->workers = n == 0 ? conf_online_cpus() : (unsigned)n;
	if ((r = conf_get_int(x, root, NULL, "shutdown_timeout", 0, 3600, &n,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->shutdown_timeout_ms = (uint32_t)n * 1000;
	if ((r = conf_get_int(x, root, NULL, "rcvbuf", 0, 268435456, &n,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->rcvbuf = (uint32_t)n;
	if ((r = conf_get_int(x, root, NULL, "cache_max_idle", 0, 100000, &n,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->cache_max_idle = (unsigned)n;
	if (conf_get_path(x, root, NULL, "pid_file", &c->pid_file) == -1)
		return -1;
	return 0;
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

	if (conf_check_keys(x, root, NULL, conf_keys_top) == -1 ||
	    conf_load_top(x, c, root) == -1 ||
	    conf_load_listen(x, c, root) == -1 ||
	    conf_load_session(x, c, root) == -1 ||
	    conf_load_log(x, c, root) == -1 ||
	    conf_load_stats(x, c, root) == -1 ||
	    conf_load_root(x, c, root) == -1 ||
	    conf_load_ids(x, c, root) == -1)
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
	if (c->root == NULL || c->user == NULL || c->pid_file == NULL ||
	    c->stats.path == NULL || (c->path = strdup(path)) == NULL) {
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

	if (conf_parse_u64(port, 1, 65535, &v) == -1) {
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

	if (conf_parse_u64(n, 0, CONF_MAX_WORKERS, &v) == -1) {
		snprintf(err, errlen, "workers: \"%s\": must be a number "
		    "between 0 and %d", n, CONF_MAX_WORKERS);
		return -1;
	}
	c->workers = v == 0 ? conf_online_cpus() : (unsigned)v;
	return 0;
}
