/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_int.h - what conf.c and conf_policy.c share, and nothing else
 * includes: the load in progress (struct conf_ctx), the message shape
 * "file:line: setting: problem", and the typed getters every setting goes
 * through, so that a policy setting reads and fails like a plain one.
 * conf.c owns the file, the plain settings (its table) and these
 * helpers; conf_policy.c owns acl, rewrite, routes and limits.
 */
#ifndef PTFTPD_CONF_INT_H
#define PTFTPD_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "conf.h"

/* One load in progress: where messages go and what paths are relative to. */
struct conf_ctx {
	const char	*path;		/* as given, for messages */
	char		*dir;		/* absolute directory of the file */
	char		*err;
	size_t		 errlen;
};

/* A word a string setting may be, and what it means. */
struct conf_name {
	const char	*name;
	int		 value;
};

/* A problem with setting s (NULL: a default, no line to show). */
void	conf_error(struct conf_ctx *x, const config_setting_t *s,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "session" + "retries" -> "session.retries" in buf (prefix may be NULL). */
const char *conf_fullname(char *buf, size_t len, const char *prefix,
	    const char *key);

/* The name of value v in t ("?" if none). */
const char *conf_name_of(const struct conf_name *t, int v);

/* base + "/" + p unless p is absolute or base is NULL. Caller frees. */
char	*conf_join(const char *base, const char *p);

/*
 * A directory that must exist, canonical and absolute (caller frees), or
 * NULL with errno set (ENOTDIR if it is not one).
 */
char	*conf_resolve_dir(const char *path);

/* Every member of group s must be named in known (NULL-terminated). */
int	conf_check_keys(struct conf_ctx *x, const config_setting_t *s,
	    const char *prefix, const char *const *known);

/* conf_member's types for an integer of either width. */
#define CONF_TYPES_INT	(1u << CONFIG_TYPE_INT | 1u << CONFIG_TYPE_INT64)

/*
 * Member key of grp, if its type is one of types (a bit per
 * CONFIG_TYPE_*): 1 with *out and "prefix.key" in buf (128 bytes), 0 if
 * absent, -1 after "prefix.key: must be what".
 */
int	conf_member(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, unsigned types,
	    const char *what, char *buf, const config_setting_t **out);

/*
 * Typed members of grp, named prefix.key in messages. Each returns 1 with
 * *out set, 0 if absent (*out untouched), -1 after a message. *where, if
 * given, gets the setting.
 */
int	conf_get_int(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, uint64_t min, uint64_t max,
	    uint64_t *out, const config_setting_t **where);
int	conf_get_text(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, const char **out,
	    const config_setting_t **where);	/* may be empty */
int	conf_get_str(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, const char **out,
	    const config_setting_t **where);	/* not empty */
int	conf_get_enum(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, const struct conf_name *t,
	    int *out);
int	conf_get_bool(struct conf_ctx *x, const config_setting_t *grp,
	    const char *prefix, const char *key, bool *out);

/*
 * A list of groups key in grp, named name in messages: 1 with *out and
 * its length in *n, 0 if absent, -1 if not a list or its length is
 * outside [min, max] ("between" when min > 0, else "at most").
 */
int	conf_get_list(struct conf_ctx *x, const config_setting_t *grp,
	    const char *key, const char *name, unsigned min, unsigned max,
	    const char *shape, const config_setting_t **out, unsigned *n);

/* Loads one list element e, named p in messages, into out. 0 or -1. */
typedef int conf_entry_fn(struct conf_ctx *x, const config_setting_t *e,
    const char *p, void *out);

/*
 * Each element i of list s through fn into base + i * size, named
 * "name[i]"; stops at the first error. 0 or -1.
 */
int	conf_load_entries(struct conf_ctx *x, const config_setting_t *s,
	    const char *name, void *base, size_t size, conf_entry_fn *fn);

/*
 * The list key of grp into a new array (calloc) of *n elements of size
 * bytes, each through fn. *arr and *n are set even on error, so that
 * what was loaded can be freed; absent or empty: NULL and 0. 0 or -1.
 */
int	conf_load_array(struct conf_ctx *x, const config_setting_t *grp,
	    const char *key, const char *name, unsigned min, unsigned max,
	    const char *shape, size_t size, conf_entry_fn *fn, void **arr,
	    unsigned *n);

/* conf_policy.c: the request policy and the limits section's rules. */

/* The top-level acl, acl_action, rewrite rules and routes. 0 or -1. */
int	conf_load_policy(struct conf_ctx *x, struct conf *c,
	    const config_setting_t *root);

/*
 * limits = { ... } once its plain settings are in: each bucket that is on
 * has a burst, then limits.per_client. 0 or -1.
 */
int	conf_check_limits(struct conf_ctx *x, struct conf *c,
	    const config_setting_t *g);

/* Release rewrite rules, routes and the top-level acl; leave them empty. */
void	conf_policy_free(struct conf *c);

#endif
