/* SPDX-License-Identifier: BSD-2-Clause */
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
 * libconfig sees it. It also reads 0640 as decimal 640, so file modes are
 * taken as octal digits whatever their leading zeros.
 *
 * Request policy (rewrite rules, routes, access lists) is only parsed and
 * compiled here: which rule applies to a request is route.c's business.
 * Regular expressions are compiled once, at load, within limits that keep
 * matching a 512-byte name cheap (conf_regex_compile).
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
#include "module.h"

#define CONF_MAX_WORKERS	256
#define CONF_MAX_FILE_SIZE	(1024 * 1024)
#define CONF_DEFAULT_PORT	69
#define CONF_REGEX_DEPTH	32		/* nested groups */
#define CONF_MAX_ARGV		256		/* exec command elements */
#define CONF_WRITE_MAX_BYTES	68719476736ULL	/* 64 GiB upload cap */

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

static int	conf_get_bool(struct conf_ctx *, const config_setting_t *,
	    const char *, const char *, bool *);

static const char *const conf_keys_top[] = {
	"workers", "listen", "root", "user", "group", "pid_file",
	"shutdown_timeout", "rcvbuf", "cache_max_idle", "session", "log",
	"stats", "rewrite", "routes", "acl", "acl_action", "seccomp",
	"single_port", "cache_valid_ms", "cache_idle_ms", "chroot",
	"limits", "io_uring", NULL
};
static const char *const conf_keys_listen[] = { "address", "port", NULL };
static const char *const conf_keys_session[] = {
	"timeout_ms", "timeout_max_ms", "retries", "first_retries",
	"blksize_max", "windowsize_max", "max_per_worker", "max_per_client",
	"port_min", "port_max", "socket_pool", "gso", NULL
};
static const char *const conf_keys_log[] = {
	"target", "level", "facility", "format", NULL
};
static const char *const conf_keys_stats[] = {
	"path", "file", "interval", "enabled", NULL
};
static const char *const conf_keys_limits[] = {
	"rate_per_client", "burst_per_client", "rate_global", "burst_global",
	"per_client", NULL
};
static const char *const conf_keys_limit_rule[] = { "client", "max", NULL };
static const char *const conf_keys_rewrite[] = {
	"match", "replace", "global", "icase", "client", "last", NULL
};
static const char *const conf_keys_acl[] = { "allow", "deny", NULL };
/* Every setting a route may have; which handler owns which is below. */
static const char *const conf_keys_route[] = {
	"prefix", "regex", "handler", "acl", "root",
	"template", "hosts",
	"command", "timeout_ms", "max_bytes", "max_concurrent",
	"module", "args",
	"write", NULL
};
static const char *const conf_keys_write[] = {
	"create", "overwrite", "max_bytes", "mode", "owner", "group", NULL
};

static const struct conf_name conf_handlers[] = {
	{ "file", CONF_HANDLER_FILE }, { "template", CONF_HANDLER_TEMPLATE },
	{ "exec", CONF_HANDLER_EXEC }, { "module", CONF_HANDLER_MODULE },
	{ NULL, 0 }
};
/* Route settings that belong to one handler only. */
static const struct conf_name conf_route_handler_keys[] = {
	{ "template", CONF_HANDLER_TEMPLATE },
	{ "hosts", CONF_HANDLER_TEMPLATE },
	{ "command", CONF_HANDLER_EXEC }, { "timeout_ms", CONF_HANDLER_EXEC },
	{ "max_bytes", CONF_HANDLER_EXEC },
	{ "max_concurrent", CONF_HANDLER_EXEC },
	{ "module", CONF_HANDLER_MODULE }, { "args", CONF_HANDLER_MODULE },
	{ "write", CONF_HANDLER_FILE }, { NULL, 0 }
};
static const struct conf_name conf_acl_actions[] = {
	{ "error", 0 }, { "silent", 1 }, { NULL, 0 }
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

/* The name of value v in t ("?" if none). */
static const char *
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
	c->cache_idle_ms = 10000;
	c->seccomp = true;
	c->single_port = false;
	c->io_uring = true;
	c->cache_valid_ms = 1000;

	c->session.timeout_ms = 1000;
	c->session.timeout_max_ms = 5000;
	c->session.retries = 5;
	c->session.first_retries = 3;
	c->session.blksize_max = 1468;
	c->session.windowsize_max = 64;
	c->session.max_per_worker = 10000;
	c->session.max_per_client = 256;
	c->session.socket_pool = 1024;
	c->session.gso = true;
	c->session.port_min = 0;
	c->session.port_max = 0;

	c->log.target = LOG_TARGET_SYSLOG;
	c->log.level = LOG_INFO;
	c->log.facility = LOG_DAEMON;

	c->stats.path = strdup("/run/ptftpd.stats");
	c->stats.file = NULL;
	c->stats.interval_s = 0;
	c->stats.enabled = true;

	/*
	 * On by default, and never in the way of a booting rack: PXELINUX
	 * probes about 10 names per boot and a rack behind one NAT address
	 * may boot 40 machines at once (400 requests), which a burst of 200
	 * and 50/s absorb within seconds. A flood from one address is cut to
	 * 50 transfers/s per worker. No global bucket: it would let one
	 * client starve the others.
	 */
	c->limits.rate_per_client_milli = 50 * 1000;
	c->limits.burst_per_client = 200;
	c->limits.rate_global_milli = 0;
	c->limits.burst_global = 0;
	c->limits.n_rules = 0;
}

static void
conf_acl_free(struct conf_acl *acl)
{
	free(acl->rules);
	acl->rules = NULL;
	acl->n_rules = 0;
}

static void
conf_route_free(struct conf_route *r)
{
	unsigned	i;

	module_unload(&r->module);
	free(r->prefix);
	free(r->regex);
	if (r->compiled)
		regfree(&r->re);
	free(r->root);
	conf_acl_free(&r->acl);
	free(r->template.path);
	free(r->template.hosts);
	if (r->exec.argv != NULL)
		for (i = 0; i < r->exec.argc; i++)
			free(r->exec.argv[i]);
	free(r->exec.argv);
	free(r->module.path);
	free(r->module.args);
	free(r->write.owner);
	free(r->write.group);
	memset(r, 0, sizeof(*r));
}

/* The request policy: rewrite rules, routes and the top-level acl. */
static void
conf_policy_free(struct conf *c)
{
	unsigned	i;

	for (i = 0; c->rewrite != NULL && i < c->n_rewrite; i++) {
		free(c->rewrite[i].match);
		free(c->rewrite[i].replace);
		if (c->rewrite[i].compiled)
			regfree(&c->rewrite[i].re);
	}
	free(c->rewrite);
	c->rewrite = NULL;
	c->n_rewrite = 0;
	for (i = 0; c->routes != NULL && i < c->n_routes; i++)
		conf_route_free(&c->routes[i]);
	free(c->routes);
	c->routes = NULL;
	c->n_routes = 0;
	conf_acl_free(&c->acl);
}

/*
 * Release every string, compiled expression and list of c and leave them
 * NULL. Safe on a zeroed struct and when called twice.
 */
void
conf_free(struct conf *c)
{
	free(c->path);
	free(c->root);
	free(c->user);
	free(c->group);
	free(c->pid_file);
	free(c->chroot);
	c->chroot = NULL;
	free(c->stats.path);
	free(c->stats.file);
	c->path = c->root = c->user = c->group = c->pid_file = NULL;
	c->stats.path = c->stats.file = NULL;
	conf_policy_free(c);
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
 * "a.b.c.d[/len]" or an IPv6 address with an optional "/len" into *out.
 * Returns 0, 1 when bits beyond len were set (cleared in *out), or -1
 * when s is not a numeric address or len is not 0..32 (0..128 for IPv6).
 * A block inside ::ffff:0:0/96 becomes the IPv4 block it maps.
 */
int
conf_cidr_parse(const char *s, struct conf_cidr *out)
{
	struct conf_cidr	 n;
	char			 buf[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t		 len;
	unsigned		 i, max;
	int			 host = 0;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	memset(&n, 0, sizeof(n));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n.addr) == 1) {
		n.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		n.family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	len = max;
	if (slash != NULL && conf_parse_u64(slash, 0, max, &len) == -1)
		return -1;
	n.prefix_len = (unsigned)len;
	if (n.family == AF_INET6 && n.prefix_len >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)n.addr)) {
		memmove(n.addr, n.addr + 12, 4);
		memset(n.addr + 4, 0, 12);
		n.family = AF_INET;
		n.prefix_len -= 96;
		max = 32;
	}
	for (i = n.prefix_len; i < max; i++) {
		uint8_t bit = (uint8_t)(0x80u >> (i % 8));

		if (n.addr[i / 8] & bit) {
			host = 1;
			n.addr[i / 8] &= (uint8_t)~bit;
		}
	}
	*out = n;
	return host;
}

/*
 * net as the IPv6 block struct limit_cidr keeps: IPv4 as ::ffff:a.b.c.d
 * with 96 added to the length. Returns the length, addr filled.
 */
unsigned
conf_cidr_mapped(const struct conf_cidr *net, uint8_t addr[16])
{
	if (net->family != AF_INET) {
		memcpy(addr, net->addr, 16);
		return net->prefix_len;
	}
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, net->addr, 4);
	return 96 + net->prefix_len;
}

/*
 * Index of the ']' closing the bracket expression opened at p[i], or of
 * the terminating NUL if there is none (regcomp reports that).
 */
static size_t
conf_regex_bracket_end(const char *p, size_t i)
{
	size_t	j = i + 1;

	if (p[j] == '^')
		j++;
	if (p[j] == ']')
		j++;			/* a leading ']' is a member */
	while (p[j] != '\0' && p[j] != ']') {
		if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' ||
		    p[j + 1] == '=')) {
			const char	*q, close[3] = { p[j + 1], ']', '\0' };

			if ((q = strstr(p + j + 2, close)) != NULL) {
				j = (size_t)(q - p) + 2;
				continue;
			}
		}
		j++;
	}
	return j;
}

/*
 * "{m}", "{m,}", "{,n}" or "{m,n}" at p[*i]: 1 with the largest count in
 * *count (the lower bound when there is no upper one) and *i on the '}',
 * 0 if this '{' is not an interval.
 */
static int
conf_regex_interval(const char *p, size_t *i, uint64_t *count)
{
	uint64_t	lo = 0, hi = 0;
	size_t		j = *i + 1;
	int		digits = 0, comma = 0, hi_digits = 0;

	for (; p[j] >= '0' && p[j] <= '9'; j++, digits++)
		if (lo < 100000)
			lo = lo * 10 + (uint64_t)(p[j] - '0');
	if (p[j] == ',') {
		comma = 1;
		for (j++; p[j] >= '0' && p[j] <= '9'; j++, hi_digits++)
			if (hi < 100000)
				hi = hi * 10 + (uint64_t)(p[j] - '0');
	}
	if (p[j] != '}' || (digits == 0 && hi_digits == 0))
		return 0;
	*count = comma && hi_digits > 0 ? (hi > lo ? hi : lo) : lo;
	*i = j;
	return 1;
}

/*
 * The limits of conf_regex_compile, before regcomp sees the pattern. Each
 * nesting level keeps the weight of what it has finished (sum) and of its
 * last atom (last), which an interval multiplies; a closed group becomes
 * its parent's last atom; "+" doubles it (glibc copies the atom). The
 * running total only grows, so it is checked at every step and cannot
 * overflow. Stacked repetition operators are refused: they add nothing
 * to what one matches, and cost regcomp quadratic time.
 */
static int
conf_regex_weigh(const char *p, char *msg, size_t msglen)
{
	struct {
		uint64_t	sum, last;
	}		lv[CONF_REGEX_DEPTH + 1];
	uint64_t	total, count, w;
	size_t		i, j;
	unsigned	d = 0, k;
	int		quant = 0, was_quant;

	memset(lv, 0, sizeof(lv));
	for (i = 0; p[i] != '\0'; i++, quant = was_quant) {
		j = i;
		was_quant = p[i] == '*' || p[i] == '+' || p[i] == '?' ||
		    (p[i] == '{' && conf_regex_interval(p, &j, &count));
		if (quant && was_quant) {
			/* each one nests the last in another loop: regcomp
			 * time grows with the square of their number */
			snprintf(msg, msglen, "repetition operator right after "
			    "another one (as in a** or .*?)");
			return -1;
		}
		switch (p[i]) {
		case '\\':
			if (p[i + 1] >= '1' && p[i + 1] <= '9') {
				snprintf(msg, msglen, "back-references "
				    "(\\%c) are not supported", p[i + 1]);
				return -1;
			}
			if (p[i + 1] != '\0')
				i++;
			lv[d].sum += lv[d].last;
			lv[d].last = 1;
			break;
		case '[':
			i = conf_regex_bracket_end(p, i);
			lv[d].sum += lv[d].last;
			lv[d].last = 1;
			if (p[i] == '\0')
				i--;
			break;
		case '(':
			if (d == CONF_REGEX_DEPTH) {
				snprintf(msg, msglen, "groups nested deeper "
				    "than %d", CONF_REGEX_DEPTH);
				return -1;
			}
			d++;
			lv[d].sum = lv[d].last = 0;
			break;
		case ')':
			if (d == 0) {	/* a literal, as glibc takes it */
				lv[d].sum += lv[d].last;
				lv[d].last = 1;
				break;
			}
			w = lv[d].sum + lv[d].last;
			d--;
			lv[d].sum += lv[d].last;
			lv[d].last = w > 0 ? w : 1;
			break;
		case '|':
			lv[d].sum += lv[d].last;
			lv[d].last = 0;
			break;
		case '{':
			if (!conf_regex_interval(p, &i, &count)) {
				lv[d].sum += lv[d].last;	/* a literal */
				lv[d].last = 1;
				break;
			}
			if (count > 255) {
				snprintf(msg, msglen, "repetition count above "
				    "255");
				return -1;
			}
			lv[d].last *= count > 0 ? count : 1;
			break;
		case '+':
			/* glibc compiles x+ as xx*: a copy of the atom */
			lv[d].last *= 2;
			break;
		case '*': case '?': case '^': case '$':
			break;
		default:
			lv[d].sum += lv[d].last;
			lv[d].last = 1;
			break;
		}
		for (total = 0, k = 0; k <= d; k++)
			total += lv[k].sum + lv[k].last;
		if (total > CONF_REGEX_WEIGHT) {
			snprintf(msg, msglen, "too complex: more than %d atoms "
			    "once repetition counts are multiplied out",
			    CONF_REGEX_WEIGHT);
			return -1;
		}
	}
	return 0;
}

/*
 * Compile pattern as an ERE within the limits that keep matching cheap
 * (see conf.h). Returns 0 with *re to regfree, or -1 with the reason in
 * msg and nothing to free. Cost: one pass over the pattern and regcomp.
 */
int
conf_regex_compile(regex_t *re, const char *pattern, bool icase, char *msg,
    size_t msglen)
{
	char	why[128];
	int	r;

	if (strlen(pattern) > CONF_REGEX_MAX) {
		snprintf(msg, msglen, "longer than %d characters",
		    CONF_REGEX_MAX);
		return -1;
	}
	if (conf_regex_weigh(pattern, msg, msglen) == -1)
		return -1;
	r = regcomp(re, pattern, REG_EXTENDED | (icase ? REG_ICASE : 0));
	if (r != 0) {
		regerror(r, re, why, sizeof(why));
		snprintf(msg, msglen, "invalid regular expression: %s", why);
		return -1;
	}
	return 0;
}

/*
 * Escapes of a replacement: \0..\9 (groups up to nsub) and \\. Returns 0,
 * or -1 with the reason in msg.
 */
int
conf_replace_check(const char *replace, size_t nsub, char *msg,
    size_t msglen)
{
	const char	*p;

	for (p = replace; *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p == '\\')
			continue;
		if (*p >= '0' && *p <= '9') {
			if ((size_t)(*p - '0') > nsub) {
				if (nsub == 0)
					snprintf(msg, msglen, "\\%c: the match "
					    "has no groups", *p);
				else
					snprintf(msg, msglen, "\\%c: the match "
					    "has only %zu group%s", *p, nsub,
					    nsub == 1 ? "" : "s");
				return -1;
			}
			continue;
		}
		if (*p == '\0') {
			snprintf(msg, msglen, "ends with a lone backslash");
			return -1;
		}
		snprintf(msg, msglen, "unknown escape \\%c (only \\0..\\9 and "
		    "\\\\)", *p);
		return -1;
	}
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
 * String member key of grp, possibly empty. Returns 1 with *out pointing
 * into libconfig's tree (valid until config_destroy), 0 if absent, -1 on
 * error.
 */
static int
conf_get_text(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, const char **out,
    const config_setting_t **where)
{
	const config_setting_t	*s;
	char			 buf[128];

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_error(x, s, "%s: must be a string",
		    conf_fullname(buf, sizeof(buf), prefix, key));
		return -1;
	}
	*out = config_setting_get_string(s);
	if (where != NULL)
		*where = s;
	return 1;
}

/* The same, not empty. */
static int
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
	CONF_SESSION_INT(socket_pool, 0, 4096, NULL);
#undef CONF_SESSION_INT
	if (conf_get_bool(x, g, p, "gso", &se->gso) == -1)
		return -1;

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
	if (conf_get_bool(x, g, "stats", "enabled", &c->stats.enabled) == -1)
		return -1;
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
static int
conf_get_bool(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, bool *out)
{
	const config_setting_t	*s;
	char			 buf[128];

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_error(x, s, "%s: must be true or false",
		    conf_fullname(buf, sizeof(buf), prefix, key));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/* An address block member (conf_cidr_parse). Same returns. */
static int
conf_get_cidr(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, struct conf_cidr *out)
{
	const config_setting_t	*s;
	const char		*v;
	char			 buf[128], net[INET6_ADDRSTRLEN];
	int			 r;

	if ((r = conf_get_str(x, grp, prefix, key, &v, &s)) <= 0)
		return r;
	conf_fullname(buf, sizeof(buf), prefix, key);
	switch (conf_cidr_parse(v, out)) {
	case 0:
		return 1;
	case 1:
		/* a typo more often than intent: say what it would mean */
		inet_ntop(out->family, out->addr, net, sizeof(net));
		conf_error(x, s, "%s: \"%s\" has host bits set (the block is "
		    "%s/%u)", buf, v, net, out->prefix_len);
		return -1;
	default:
		conf_error(x, s, "%s: \"%s\" is not an address or "
		    "address/length", buf, v);
		return -1;
	}
}

/*
 * A file mode member. libconfig reads 0640 as decimal 640, so decimal
 * digits are taken as octal ones (mode = 640 is the same as 0640, as for
 * chmod); a hexadecimal literal is taken as it is. Same returns.
 */
static int
conf_get_mode(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, uint32_t *out)
{
	const config_setting_t	*s;
	char			 buf[128];
	long long		 v;
	uint64_t		 mode = 0;
	unsigned		 shift = 0;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	conf_fullname(buf, sizeof(buf), prefix, key);
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_error(x, s, "%s: must be an integer such as 0644", buf);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < 0) {
		conf_error(x, s, "%s: must be at most 0777", buf);
		return -1;
	}
	if (config_setting_get_format(s) == CONFIG_FORMAT_HEX) {
		mode = (uint64_t)v;
	} else {
		for (; v > 0 && shift < 60; v /= 10, shift += 3) {
			if (v % 10 > 7) {
				conf_error(x, s, "%s: must be octal digits "
				    "such as 0644", buf);
				return -1;
			}
			mode |= (uint64_t)(v % 10) << shift;
		}
		if (v > 0)
			mode = UINT64_MAX;
	}
	if (mode > 0777) {
		conf_error(x, s, "%s: must be at most 0777", buf);
		return -1;
	}
	*out = (uint32_t)mode;
	return 1;
}

/*
 * A top-level list of groups: 1 with *out and its length in *n, 0 if
 * absent, -1 if not a list or longer than max.
 */
static int
conf_get_list(struct conf_ctx *x, const config_setting_t *root,
    const char *key, unsigned max, const char *shape,
    const config_setting_t **out, unsigned *n)
{
	const config_setting_t	*s;
	int			 len;

	if ((s = config_setting_get_member(root, key)) == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		conf_error(x, s, "%s: must be a list %s", key, shape);
		return -1;
	}
	len = config_setting_length(s);
	if (len < 0 || (unsigned)len > max) {
		conf_error(x, s, "%s: must have at most %u entries", key, max);
		return -1;
	}
	*out = s;
	*n = (unsigned)len;
	return 1;
}

/* One acl entry: exactly one of allow and deny. */
static int
conf_load_acl_entry(struct conf_ctx *x, const config_setting_t *e,
    const char *prefix, struct conf_acl_rule *rule)
{
	struct conf_cidr	deny;
	int			ra, rd;

	if (!config_setting_is_group(e)) {
		conf_error(x, e, "%s: must be a group { allow = ...; } or "
		    "{ deny = ...; }", prefix);
		return -1;
	}
	if (conf_check_keys(x, e, prefix, conf_keys_acl) == -1 ||
	    (ra = conf_get_cidr(x, e, prefix, "allow", &rule->net)) == -1 ||
	    (rd = conf_get_cidr(x, e, prefix, "deny", &deny)) == -1)
		return -1;
	if (ra == 1 && rd == 1) {
		conf_error(x, config_setting_get_member(e, "deny"),
		    "%s.deny: allow and deny are exclusive", prefix);
		return -1;
	}
	if (ra == 0 && rd == 0) {
		conf_error(x, e, "%s: must set allow or deny", prefix);
		return -1;
	}
	rule->allow = ra == 1;
	if (rd == 1)
		rule->net = deny;
	return 0;
}

/*
 * acl = ( { allow = "net"; }, { deny = "net"; }, ... ) in grp (the top
 * level or a route, named by prefix) into *acl. Absent is fine; an empty
 * list is an error, since it would deny everyone. Returns 0 or -1.
 */
static int
conf_load_acl(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, struct conf_acl *acl)
{
	const config_setting_t	*s;
	char			 name[128], ep[160];
	int			 i, n;

	if ((s = config_setting_get_member(grp, "acl")) == NULL)
		return 0;
	conf_fullname(name, sizeof(name), prefix, "acl");
	if (!config_setting_is_list(s)) {
		conf_error(x, s, "%s: must be a list ( { allow = ...; }, ... )",
		    name);
		return -1;
	}
	n = config_setting_length(s);
	if (n < 1 || n > CONF_MAX_ACL) {
		conf_error(x, s, "%s: must have between 1 and %d entries", name,
		    CONF_MAX_ACL);
		return -1;
	}
	if ((acl->rules = calloc((size_t)n, sizeof(*acl->rules))) == NULL) {
		conf_error(x, s, "%s: out of memory", name);
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(ep, sizeof(ep), "%s[%d]", name, i);
		if (conf_load_acl_entry(x, config_setting_get_elem(s,
		    (unsigned)i), ep, &acl->rules[i]) == -1)
			return -1;
		acl->n_rules++;
	}
	return 0;
}

/* One rewrite rule: match and replace required, the rest optional. */
static int
conf_load_rewrite_entry(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_rewrite *rw)
{
	const config_setting_t	*sm = NULL, *sr = NULL;
	const char		*match, *replace;
	char			 msg[192];
	int			 r;

	if (!config_setting_is_group(e)) {
		conf_error(x, e, "%s: must be a group { match = ...; "
		    "replace = ...; }", p);
		return -1;
	}
	if (conf_check_keys(x, e, p, conf_keys_rewrite) == -1)
		return -1;
	if ((r = conf_get_str(x, e, p, "match", &match, &sm)) <= 0 ||
	    (r = conf_get_text(x, e, p, "replace", &replace, &sr)) <= 0) {
		if (r == 0)
			conf_error(x, e, "%s.%s: missing", p,
			    sm == NULL ? "match" : "replace");
		return -1;
	}
	if (conf_get_bool(x, e, p, "global", &rw->global) == -1 ||
	    conf_get_bool(x, e, p, "icase", &rw->icase) == -1 ||
	    conf_get_bool(x, e, p, "last", &rw->last) == -1 ||
	    (r = conf_get_cidr(x, e, p, "client", &rw->client)) == -1)
		return -1;
	rw->has_client = r == 1;
	if ((rw->match = strdup(match)) == NULL ||
	    (rw->replace = strdup(replace)) == NULL) {
		conf_error(x, e, "%s: out of memory", p);
		return -1;
	}
	if (conf_regex_compile(&rw->re, match, rw->icase, msg,
	    sizeof(msg)) == -1) {
		conf_error(x, sm, "%s.match: %s", p, msg);
		return -1;
	}
	rw->compiled = true;
	if (conf_replace_check(replace, rw->re.re_nsub, msg,
	    sizeof(msg)) == -1) {
		conf_error(x, sr, "%s.replace: %s", p, msg);
		return -1;
	}
	return 0;
}

/* rewrite = ( { ... }, ... ); at most CONF_MAX_REWRITE rules. */
static int
conf_load_rewrite(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*s;
	char			 p[32];
	unsigned		 i, n;
	int			 r;

	if ((r = conf_get_list(x, root, "rewrite", CONF_MAX_REWRITE,
	    "( { match = ...; replace = ...; }, ... )", &s, &n)) <= 0 ||
	    n == 0)
		return r == -1 ? -1 : 0;
	if ((c->rewrite = calloc(n, sizeof(*c->rewrite))) == NULL) {
		conf_error(x, s, "rewrite: out of memory");
		return -1;
	}
	c->n_rewrite = n;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "rewrite[%u]", i);
		if (conf_load_rewrite_entry(x, config_setting_get_elem(s, i), p,
		    &c->rewrite[i]) == -1)
			return -1;
	}
	return 0;
}

/* A setting of another handler than the route's is an error. */
static int
conf_route_check_handler_keys(struct conf_ctx *x, const config_setting_t *e,
    const char *p, enum conf_handler h)
{
	const struct conf_name	*k;
	const config_setting_t	*s;

	for (k = conf_route_handler_keys; k->name != NULL; k++) {
		if (k->value == (int)h ||
		    (s = config_setting_get_member(e, k->name)) == NULL)
			continue;
		conf_error(x, s, "%s.%s: only for handler \"%s\", not \"%s\"",
		    p, k->name, conf_name_of(conf_handlers, k->value),
		    conf_name_of(conf_handlers, (int)h));
		return -1;
	}
	return 0;
}

/* prefix or regex, exactly one. */
static int
conf_load_route_match(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	const config_setting_t	*sp = NULL, *sr = NULL;
	const char		*prefix = NULL, *regex = NULL;
	char			 msg[192];
	int			 rp, rr;

	if ((rp = conf_get_str(x, e, p, "prefix", &prefix, &sp)) == -1 ||
	    (rr = conf_get_str(x, e, p, "regex", &regex, &sr)) == -1)
		return -1;
	if (rp == 1 && rr == 1) {
		conf_error(x, sr, "%s.regex: prefix and regex are exclusive",
		    p);
		return -1;
	}
	if (rp == 0 && rr == 0) {
		conf_error(x, e, "%s: must set prefix or regex", p);
		return -1;
	}
	if (rp == 1) {
		/* route_match strips leading slashes (GRUB sends them) */
		if (prefix[0] == '/') {
			conf_error(x, sp, "%s.prefix: must not start with "
			    "\"/\" (names are matched without their "
			    "leading slashes)", p);
			return -1;
		}
		if ((r->prefix = strdup(prefix)) == NULL) {
			conf_error(x, sp, "%s.prefix: out of memory", p);
			return -1;
		}
		return 0;
	}
	if ((r->regex = strdup(regex)) == NULL) {
		conf_error(x, sr, "%s.regex: out of memory", p);
		return -1;
	}
	if (conf_regex_compile(&r->re, regex, false, msg, sizeof(msg)) == -1) {
		conf_error(x, sr, "%s.regex: %s", p, msg);
		return -1;
	}
	r->compiled = true;
	return 0;
}

/* root: like the top-level one, optional. */
static int
conf_load_route_root(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	const config_setting_t	*s = NULL;
	const char		*v;
	char			*joined;
	int			 rc;

	if ((rc = conf_get_str(x, e, p, "root", &v, &s)) <= 0)
		return rc;
	if ((joined = conf_join(x->dir, v)) == NULL) {
		conf_error(x, s, "%s.root: out of memory", p);
		return -1;
	}
	if ((r->root = conf_resolve_dir(joined)) == NULL) {
		conf_error(x, s, "%s.root: %s: %s", p, joined, strerror(errno));
		free(joined);
		return -1;
	}
	free(joined);
	return 0;
}

/* Is v a relative path with no ".." component? */
static int
conf_path_beneath(const char *v)
{
	const char	*q;

	if (v[0] == '/')
		return 0;
	for (q = v; q != NULL; q = strchr(q, '/')) {
		if (*q == '/')
			q++;
		if (q[0] == '.' && q[1] == '.' && (q[2] == '/' || q[2] == '\0'))
			return 0;
	}
	return 1;
}

/* A path member beneath the route's root, copied to *dst. */
static int
conf_get_subpath(struct conf_ctx *x, const config_setting_t *e,
    const char *p, const char *key, char **dst)
{
	const config_setting_t	*s;
	const char		*v;
	int			 r;

	if ((r = conf_get_str(x, e, p, key, &v, &s)) <= 0)
		return r;
	if (!conf_path_beneath(v)) {
		conf_error(x, s, "%s.%s: must be relative to the root, without "
		    "\"..\"", p, key);
		return -1;
	}
	if ((*dst = strdup(v)) == NULL) {
		conf_error(x, s, "%s.%s: out of memory", p, key);
		return -1;
	}
	return 1;
}

static int
conf_load_route_template(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	int	rc;

	if ((rc = conf_get_subpath(x, e, p, "template",
	    &r->template.path)) <= 0) {
		if (rc == 0)
			conf_error(x, e, "%s.template: missing (handler "
			    "\"template\" needs it)", p);
		return -1;
	}
	return conf_get_subpath(x, e, p, "hosts", &r->template.hosts) == -1 ?
	    -1 : 0;
}

/* command[0]: an absolute path to an executable regular file. */
static int
conf_check_program(struct conf_ctx *x, const config_setting_t *s,
    const char *p, const char *path)
{
	struct stat	st;

	if (path[0] != '/') {
		conf_error(x, s, "%s.command[0]: must be an absolute path", p);
		return -1;
	}
	if (stat(path, &st) == -1) {
		conf_error(x, s, "%s.command[0]: %s: %s", p, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
		conf_error(x, s, "%s.command[0]: %s: not an executable file", p,
		    path);
		return -1;
	}
	return 0;
}

/* command = [ "/abs/program", "arg", ... ]: into a NULL-terminated argv. */
static int
conf_load_command(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_exec *ex)
{
	const config_setting_t	*s, *a;
	int			 i, n;

	if ((s = config_setting_get_member(e, "command")) == NULL) {
		conf_error(x, e, "%s.command: missing (handler \"exec\" needs "
		    "it)", p);
		return -1;
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		conf_error(x, s, "%s.command: must be an array [ \"/program\", "
		    "\"argument\", ... ]", p);
		return -1;
	}
	n = config_setting_length(s);
	if (n < 1 || n > CONF_MAX_ARGV) {
		conf_error(x, s, "%s.command: must have between 1 and %d "
		    "elements", p, CONF_MAX_ARGV);
		return -1;
	}
	if ((ex->argv = calloc((size_t)n + 1, sizeof(*ex->argv))) == NULL) {
		conf_error(x, s, "%s.command: out of memory", p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		a = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(a) != CONFIG_TYPE_STRING) {
			conf_error(x, a, "%s.command[%d]: must be a string", p,
			    i);
			return -1;
		}
		if ((ex->argv[i] = strdup(config_setting_get_string(a))) ==
		    NULL) {
			conf_error(x, a, "%s.command: out of memory", p);
			return -1;
		}
		ex->argc++;
	}
	return conf_check_program(x, config_setting_get_elem(s, 0), p,
	    ex->argv[0]);
}

static int
conf_load_route_exec(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	struct conf_exec	*ex = &r->exec;
	uint64_t		 v;
	int			 rc;

	ex->timeout_ms = 5000;
	ex->max_bytes = 16777216;
	ex->max_concurrent = 16;
	if (conf_load_command(x, e, p, ex) == -1)
		return -1;
#define CONF_EXEC_INT(key, lo, hi) do {					\
	if ((rc = conf_get_int(x, e, p, #key, lo, hi, &v, NULL)) == -1)	\
		return -1;						\
	if (rc == 1)							\
		ex->key = (uint32_t)v;					\
} while (0)
	CONF_EXEC_INT(timeout_ms, 100, 600000);
	CONF_EXEC_INT(max_bytes, 1, 1073741824);
	CONF_EXEC_INT(max_concurrent, 1, 1024);
#undef CONF_EXEC_INT
	return 0;
}

static int
conf_load_route_module(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	const config_setting_t	*s = NULL;
	const char		*path, *args = NULL;
	int			 rc;

	if ((rc = conf_get_str(x, e, p, "module", &path, &s)) <= 0) {
		if (rc == 0)
			conf_error(x, e, "%s.module: missing (handler "
			    "\"module\" needs it)", p);
		return -1;
	}
	if ((rc = conf_get_str(x, e, p, "args", &args, NULL)) == -1)
		return -1;
	if ((r->module.path = strdup(path)) == NULL ||
	    (args != NULL && (r->module.args = strdup(args)) == NULL)) {
		conf_error(x, s, "%s.module: out of memory", p);
		return -1;
	}
	/* Load it now, so a missing or incompatible module is a config
	 * error at start and at reload, not a failure per request. */
	{
		char	 msg[512];

		if (module_load(&r->module, msg, sizeof(msg)) == -1) {
			conf_error(x, s, "%s.module: %s", p, msg);
			return -1;
		}
	}
	return 0;
}

/*
 * write.owner and write.group: refused. Workers hold no privilege to give
 * a file away (no CAP_CHOWN, no supplementary groups), so an uploaded
 * file always belongs to the workers' user and group; a setting that
 * could not be honoured is an error, not silently ignored.
 */
static int
conf_load_write_ids(struct conf_ctx *x, const config_setting_t *g,
    const char *wp, struct conf_write *w)
{
	const config_setting_t	*s;

	(void)w;
	if ((s = config_setting_get_member(g, "owner")) != NULL ||
	    (s = config_setting_get_member(g, "group")) != NULL) {
		conf_error(x, s, "%s.%s: not supported: uploaded files belong "
		    "to the workers' user and group (set \"user\" and "
		    "\"group\")", wp, config_setting_name(s));
		return -1;
	}
	return 0;
}

/* write = { ... }: present means the route accepts uploads (WRQ). */
static int
conf_load_route_write(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	const config_setting_t	*g;
	struct conf_write	*w = &r->write;
	char			 wp[64];
	uint64_t		 v;
	int			 rc;

	if ((g = config_setting_get_member(e, "write")) == NULL)
		return 0;
	snprintf(wp, sizeof(wp), "%s.write", p);
	if (!config_setting_is_group(g)) {
		conf_error(x, g, "%s: must be a group { ... }", wp);
		return -1;
	}
	w->enabled = true;
	w->max_bytes = 16777216;
	w->mode = 0644;
	if (conf_check_keys(x, g, wp, conf_keys_write) == -1 ||
	    conf_get_bool(x, g, wp, "create", &w->create) == -1 ||
	    conf_get_bool(x, g, wp, "overwrite", &w->overwrite) == -1 ||
	    (rc = conf_get_int(x, g, wp, "max_bytes", 1, CONF_WRITE_MAX_BYTES,
	    &v, NULL)) == -1 ||
	    conf_get_mode(x, g, wp, "mode", &w->mode) == -1)
		return -1;
	if (rc == 1)
		w->max_bytes = v;
	return conf_load_write_ids(x, g, wp, w);
}

/* One route: the shared settings, then its handler's. */
static int
conf_load_route(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_route *r)
{
	int	h = CONF_HANDLER_FILE;

	if (!config_setting_is_group(e)) {
		conf_error(x, e, "%s: must be a group { prefix = ...; }", p);
		return -1;
	}
	r->line = (unsigned)config_setting_source_line(e);
	if (conf_check_keys(x, e, p, conf_keys_route) == -1 ||
	    conf_get_enum(x, e, p, "handler", conf_handlers, &h) == -1)
		return -1;
	r->handler = (enum conf_handler)h;
	if (conf_route_check_handler_keys(x, e, p, r->handler) == -1 ||
	    conf_load_route_match(x, e, p, r) == -1 ||
	    conf_load_route_root(x, e, p, r) == -1 ||
	    conf_load_acl(x, e, p, &r->acl) == -1)
		return -1;
	switch (r->handler) {
	case CONF_HANDLER_TEMPLATE:
		return conf_load_route_template(x, e, p, r);
	case CONF_HANDLER_EXEC:
		return conf_load_route_exec(x, e, p, r);
	case CONF_HANDLER_MODULE:
		return conf_load_route_module(x, e, p, r);
	case CONF_HANDLER_FILE:
	default:
		return conf_load_route_write(x, e, p, r);
	}
}

/* routes = ( { ... }, ... ); at most CONF_MAX_ROUTES. */
static int
conf_load_routes(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*s;
	char			 p[32];
	unsigned		 i, n;
	int			 r;

	if ((r = conf_get_list(x, root, "routes", CONF_MAX_ROUTES,
	    "( { prefix = ...; handler = ...; }, ... )", &s, &n)) <= 0 ||
	    n == 0)
		return r == -1 ? -1 : 0;
	if ((c->routes = calloc(n, sizeof(*c->routes))) == NULL) {
		conf_error(x, s, "routes: out of memory");
		return -1;
	}
	c->n_routes = n;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "routes[%u]", i);
		if (conf_load_route(x, config_setting_get_elem(s, i), p,
		    &c->routes[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * A rate member of limits, in transfers per second, integer or float, 0
 * (off) or 0.001..CONF_MAX_RATE: 1 with milli-transfers in *out, 0 if
 * absent, -1 on error; *where gets the setting if given.
 */
static int
conf_get_rate(struct conf_ctx *x, const config_setting_t *grp,
    const char *key, uint32_t *out, const config_setting_t **where)
{
	const config_setting_t	*s;
	double			 v;
	char			 buf[128];

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return 0;
	conf_fullname(buf, sizeof(buf), "limits", key);
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		conf_error(x, s, "%s: must be a number (transfers per second)",
		    buf);
		return -1;
	}
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
	*where = s;
	return 1;
}

/*
 * A bucket that is on needs a burst of at least 1: point at the burst if
 * it was written as 0, else at the rate that lacks one.
 */
static int
conf_check_bucket(struct conf_ctx *x, uint32_t rate, uint32_t burst,
    const config_setting_t *srate, const config_setting_t *sburst,
    const char *rname, const char *bname)
{
	if (rate == 0 || burst >= 1)
		return 0;
	if (sburst != NULL)
		conf_error(x, sburst, "limits.%s: must be at least 1 when "
		    "limits.%s is not 0", bname, rname);
	else
		conf_error(x, srate, "limits.%s: needs limits.%s (at least 1)",
		    rname, bname);
	return -1;
}

/* One limits.per_client entry: client and max, both required. */
static int
conf_load_limit_rule(struct conf_ctx *x, const config_setting_t *e,
    const char *p, struct conf_limit_rule *rule)
{
	uint64_t	v;
	int		r;

	if (!config_setting_is_group(e)) {
		conf_error(x, e, "%s: must be a group { client = ...; max = "
		    "...; }", p);
		return -1;
	}
	if (conf_check_keys(x, e, p, conf_keys_limit_rule) == -1 ||
	    (r = conf_get_cidr(x, e, p, "client", &rule->client)) == -1)
		return -1;
	if (r == 0) {
		conf_error(x, e, "%s.client: missing", p);
		return -1;
	}
	if ((r = conf_get_int(x, e, p, "max", 1, 1000000, &v, NULL)) == -1)
		return -1;
	if (r == 0) {
		conf_error(x, e, "%s.max: missing", p);
		return -1;
	}
	rule->max = (uint32_t)v;
	return 0;
}

/* limits.per_client = ( ... ); at most CONF_MAX_LIMIT_RULES, in order. */
static int
conf_load_limit_rules(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g)
{
	const config_setting_t	*s;
	char			 p[48];
	int			 i, n;

	if ((s = config_setting_get_member(g, "per_client")) == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		conf_error(x, s, "limits.per_client: must be a list ( { client "
		    "= ...; max = ...; }, ... )");
		return -1;
	}
	n = config_setting_length(s);
	if (n < 0 || n > CONF_MAX_LIMIT_RULES) {
		conf_error(x, s, "limits.per_client: must have at most %d "
		    "entries", CONF_MAX_LIMIT_RULES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "limits.per_client[%d]", i);
		if (conf_load_limit_rule(x, config_setting_get_elem(s,
		    (unsigned)i), p, &c->limits.rules[i]) == -1)
			return -1;
		c->limits.n_rules++;
	}
	return 0;
}

/* limits = { ... }: token buckets and per-CIDR concurrency caps. */
static int
conf_load_limits(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*g, *srp = NULL, *srg = NULL, *sbp = NULL,
				*sbg = NULL;
	struct conf_limits	*l = &c->limits;
	uint64_t		 v;
	int			 r;

	if ((r = conf_get_group(x, root, "limits", &g)) <= 0)
		return r;
	if (conf_check_keys(x, g, "limits", conf_keys_limits) == -1 ||
	    conf_get_rate(x, g, "rate_per_client", &l->rate_per_client_milli,
	    &srp) == -1 ||
	    conf_get_rate(x, g, "rate_global", &l->rate_global_milli,
	    &srg) == -1)
		return -1;
	if ((r = conf_get_int(x, g, "limits", "burst_per_client", 0, 1000000,
	    &v, &sbp)) == -1)
		return -1;
	if (r == 1)
		l->burst_per_client = (uint32_t)v;
	if ((r = conf_get_int(x, g, "limits", "burst_global", 0, 1000000,
	    &v, &sbg)) == -1)
		return -1;
	if (r == 1)
		l->burst_global = (uint32_t)v;
	if (conf_check_bucket(x, l->rate_per_client_milli, l->burst_per_client,
	    srp, sbp, "rate_per_client", "burst_per_client") == -1 ||
	    conf_check_bucket(x, l->rate_global_milli, l->burst_global, srg,
	    sbg, "rate_global", "burst_global") == -1)
		return -1;
	return conf_load_limit_rules(x, c, g);
}

/* Request policy: the top-level acl, acl_action, rewrite, routes. */
static int
conf_load_policy(struct conf_ctx *x, struct conf *c,
    const config_setting_t *root)
{
	if (conf_load_acl(x, root, NULL, &c->acl) == -1 ||
	    conf_get_enum(x, root, NULL, "acl_action", conf_acl_actions,
	    &c->acl_silent) == -1 ||
	    conf_load_rewrite(x, c, root) == -1 ||
	    conf_load_routes(x, c, root) == -1)
		return -1;
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
	if ((r = conf_get_int(x, root, NULL, "cache_idle_ms", 0, 86400000, &n,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->cache_idle_ms = (uint32_t)n;
	if (conf_get_bool(x, root, NULL, "single_port", &c->single_port) == -1)
		return -1;
	if (conf_get_bool(x, root, NULL, "io_uring", &c->io_uring) == -1)
		return -1;
	if ((r = conf_get_int(x, root, NULL, "cache_valid_ms", 0, 3600000, &n,
	    NULL)) == -1)
		return -1;
	if (r == 1)
		c->cache_valid_ms = (uint32_t)n;
	if (conf_get_bool(x, root, NULL, "seccomp", &c->seccomp) == -1)
		return -1;
	if (conf_get_path(x, root, NULL, "pid_file", &c->pid_file) == -1)
		return -1;
	if ((r = conf_get_path(x, root, NULL, "chroot", &c->chroot)) == -1)
		return -1;
	if (r == 1) {
		const config_setting_t	*cs;
		struct stat		 st;

		cs = config_setting_get_member(root, "chroot");
		if (stat(c->chroot, &st) == -1) {
			conf_error(x, cs, "chroot: %s: %s", c->chroot,
			    strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			conf_error(x, cs, "chroot: %s: Not a directory",
			    c->chroot);
			return -1;
		}
	}
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
	    conf_load_limits(x, c, root) == -1 ||
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
