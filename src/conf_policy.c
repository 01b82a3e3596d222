/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_policy.c - the request policy settings of the configuration: the
 * access lists (top-level and per route), acl_action, rewrite rules,
 * routes with their handlers' settings (template, exec, module, write),
 * and limits.per_client with the token bucket checks. It parses, checks
 * and compiles them into struct conf, and frees them; the regular
 * expression limits (conf_regex_compile: a pattern is weighed before
 * regcomp so that matching a 512-byte name stays cheap) live here too.
 *
 * It does not read the file, own the message shape or the plain settings
 * (conf.c, through conf_int.h), parse address blocks (addr.c), or decide
 * which rule applies to a request (route.c, limit.c). A module route is
 * data here (path, args, and where they were set): the supervisor loads
 * the .so after the config (module_set_load, module.c), so that a bad
 * module still fails -t, a start or a reload, not a request. Its size
 * (about 1,100 lines) is the policy settings' parse, check, compile and
 * free side by side: one setting is read, and its mistakes worded, in
 * one place.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "conf_int.h"

#define CONF_REGEX_DEPTH	32		/* nested groups */
#define CONF_MAX_ARGV		256		/* exec command elements */
#define CONF_WRITE_MAX_BYTES	68719476736ULL	/* 64 GiB upload cap */

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
	free(r->module.file);
	free(r->write.owner);
	free(r->write.group);
	memset(r, 0, sizeof(*r));
}

/* The request policy: rewrite rules, routes and the top-level acl. */
void
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
 * The weight of a pattern as conf_regex_weigh reads it: each nesting level
 * keeps the weight of what it has finished (sum) and of its last atom
 * (last), which an interval multiplies.
 */
struct conf_regex_nest {
	struct {
		uint64_t	sum, last;
	}		lv[CONF_REGEX_DEPTH + 1];
	unsigned	d;
};

/* A new last atom of weight w at the current level (0: none, after '|'). */
static void
conf_regex_atom(struct conf_regex_nest *n, uint64_t w)
{
	n->lv[n->d].sum += n->lv[n->d].last;
	n->lv[n->d].last = w;
}

/* '(' : one level deeper, or -1 past CONF_REGEX_DEPTH. */
static int
conf_regex_open(struct conf_regex_nest *n, char *msg, size_t msglen)
{
	if (n->d == CONF_REGEX_DEPTH) {
		snprintf(msg, msglen, "groups nested deeper than %d",
		    CONF_REGEX_DEPTH);
		return -1;
	}
	n->d++;
	n->lv[n->d].sum = n->lv[n->d].last = 0;
	return 0;
}

/* ')' : the closed group becomes its parent's last atom. */
static void
conf_regex_close(struct conf_regex_nest *n)
{
	uint64_t	w;

	if (n->d == 0) {	/* a literal, as glibc takes it */
		conf_regex_atom(n, 1);
		return;
	}
	w = n->lv[n->d].sum + n->lv[n->d].last;
	n->d--;
	conf_regex_atom(n, w > 0 ? w : 1);
}

/* The running total over the open levels. */
static uint64_t
conf_regex_total(const struct conf_regex_nest *n)
{
	uint64_t	total = 0;
	unsigned	k;

	for (k = 0; k <= n->d; k++)
		total += n->lv[k].sum + n->lv[k].last;
	return total;
}

/*
 * The limits of conf_regex_compile, before regcomp sees the pattern, one
 * character at a time over a struct conf_regex_nest: a closed group
 * becomes its parent's last atom; an interval multiplies the last atom;
 * "+" doubles it (glibc copies the atom). The running total only grows,
 * so it is checked at every step and cannot overflow. Stacked repetition
 * operators are refused: they add nothing to what one matches, and cost
 * regcomp quadratic time.
 */
static int
conf_regex_weigh(const char *p, char *msg, size_t msglen)
{
	struct conf_regex_nest	n;
	uint64_t		count;
	size_t			i, j;
	int			quant = 0, was_quant;

	memset(&n, 0, sizeof(n));
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
			conf_regex_atom(&n, 1);
			break;
		case '[':
			i = conf_regex_bracket_end(p, i);
			conf_regex_atom(&n, 1);
			if (p[i] == '\0')
				i--;
			break;
		case '(':
			if (conf_regex_open(&n, msg, msglen) == -1)
				return -1;
			break;
		case ')':
			conf_regex_close(&n);
			break;
		case '|':
			conf_regex_atom(&n, 0);
			break;
		case '{':
			if (!conf_regex_interval(p, &i, &count)) {
				conf_regex_atom(&n, 1);	/* a literal */
				break;
			}
			if (count > 255) {
				snprintf(msg, msglen, "repetition count above "
				    "255");
				return -1;
			}
			n.lv[n.d].last *= count > 0 ? count : 1;
			break;
		case '+':
			/* glibc compiles x+ as xx*: a copy of the atom */
			n.lv[n.d].last *= 2;
			break;
		case '*': case '?': case '^': case '$':
			break;
		default:
			conf_regex_atom(&n, 1);
			break;
		}
		if (conf_regex_total(&n) > CONF_REGEX_WEIGHT) {
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

/* An address block member (addr_cidr_parse). Same returns. */
static int
conf_get_cidr(struct conf_ctx *x, const config_setting_t *grp,
    const char *prefix, const char *key, struct addr_cidr *out)
{
	const config_setting_t	*s;
	const char		*v;
	char			 buf[128], net[ADDR_CIDR_LEN];
	int			 r;

	if ((r = conf_get_str(x, grp, prefix, key, &v, &s)) <= 0)
		return r;
	conf_fullname(buf, sizeof(buf), prefix, key);
	switch (addr_cidr_parse(v, out)) {
	case 0:
		return 1;
	case 1:
		/* a typo more often than intent: say what it would mean */
		addr_format_cidr(out, net);
		conf_error(x, s, "%s: \"%s\" has host bits set (the block is "
		    "%s)", buf, v, net);
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
	int			 r;

	if ((r = conf_member(x, grp, prefix, key, CONF_TYPES_INT,
	    "an integer such as 0644", buf, &s)) <= 0)
		return r;
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


/* One acl entry: exactly one of allow and deny. */
static int
conf_load_acl_entry(struct conf_ctx *x, const config_setting_t *e,
    const char *prefix, void *out)
{
	struct conf_acl_rule	*rule = out;
	struct addr_cidr	deny;
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
	char	 name[128];
	void	*rules = NULL;
	int	 r;

	conf_fullname(name, sizeof(name), prefix, "acl");
	r = conf_load_array(x, grp, "acl", name, 1, CONF_MAX_ACL,
	    "( { allow = ...; }, ... )", sizeof(*acl->rules),
	    conf_load_acl_entry, &rules, &acl->n_rules);
	acl->rules = rules;
	return r;
}

/* One rewrite rule: match and replace required, the rest optional. */
static int
conf_load_rewrite_entry(struct conf_ctx *x, const config_setting_t *e,
    const char *p, void *out)
{
	struct conf_rewrite	*rw = out;
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
	void	*rules = NULL;
	int	 r;

	r = conf_load_array(x, root, "rewrite", "rewrite", 0, CONF_MAX_REWRITE,
	    "( { match = ...; replace = ...; }, ... )", sizeof(*c->rewrite),
	    conf_load_rewrite_entry, &rules, &c->n_rewrite);
	c->rewrite = rules;
	return r;
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
	const char		*path, *args = NULL, *file;
	int			 rc;

	if ((rc = conf_get_str(x, e, p, "module", &path, &s)) <= 0) {
		if (rc == 0)
			conf_error(x, e, "%s.module: missing (handler "
			    "\"module\" needs it)", p);
		return -1;
	}
	if ((rc = conf_get_str(x, e, p, "args", &args, NULL)) == -1)
		return -1;
	file = config_setting_source_file(s);
	if ((r->module.path = strdup(path)) == NULL ||
	    (args != NULL && (r->module.args = strdup(args)) == NULL) ||
	    (r->module.file = strdup(file != NULL ? file : x->path)) == NULL) {
		conf_error(x, s, "%s.module: out of memory", p);
		return -1;
	}
	/* Where module_set_load's message points if the .so is refused. */
	r->module.line = (unsigned)config_setting_source_line(s);
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
    const char *p, void *out)
{
	struct conf_route	*r = out;
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
	void	*routes = NULL;
	int	 r;

	r = conf_load_array(x, root, "routes", "routes", 0, CONF_MAX_ROUTES,
	    "( { prefix = ...; handler = ...; }, ... )", sizeof(*c->routes),
	    conf_load_route, &routes, &c->n_routes);
	c->routes = routes;
	return r;
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
    const char *p, void *out)
{
	struct conf_limit_rule	*rule = out;
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
	unsigned		 n;
	int			 r;

	if ((r = conf_get_list(x, g, "per_client", "limits.per_client", 0,
	    CONF_MAX_LIMIT_RULES, "( { client = ...; max = ...; }, ... )", &s,
	    &n)) <= 0)
		return r;
	c->limits.n_rules = n;
	return conf_load_entries(x, s, "limits.per_client", c->limits.rules,
	    sizeof(c->limits.rules[0]), conf_load_limit_rule);
}

/* limits = { ... } after its plain settings: buckets, then per_client. */
int
conf_check_limits(struct conf_ctx *x, struct conf *c,
    const config_setting_t *g)
{
	struct conf_limits	*l = &c->limits;

	if (conf_check_bucket(x, l->rate_per_client_milli, l->burst_per_client,
	    config_setting_get_member(g, "rate_per_client"),
	    config_setting_get_member(g, "burst_per_client"),
	    "rate_per_client", "burst_per_client") == -1 ||
	    conf_check_bucket(x, l->rate_global_milli, l->burst_global,
	    config_setting_get_member(g, "rate_global"),
	    config_setting_get_member(g, "burst_global"), "rate_global",
	    "burst_global") == -1)
		return -1;
	return conf_load_limit_rules(x, c, g);
}

/* Request policy: the top-level acl, acl_action, rewrite, routes. */
int
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
