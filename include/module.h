/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * module.h - loading dynamic content modules (the public API they compile
 * against is include/ptftpd/module.h) and calling them for the worker.
 * The loaded modules of a config generation are a struct modset, owned by
 * the supervisor next to (not inside) its struct conf. No logging: errors
 * come back in the caller's buffer or as TFTP codes with a message.
 */
#ifndef PTFTPD_MODULE_H
#define PTFTPD_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "ptftpd/module.h"
#include "route.h"
#include "tftp.h"

#define MODULE_BODY_MAX		(64ull << 20)	/* response bytes buffered */
#define MODULE_ERRMSG_MAX	128		/* module's ERROR message */

/* One request, as the worker knows it; module.c builds the public one. */
struct module_req {
	const char			*file;	/* name after rewriting (m->name) */
	enum tftp_mode			 mode;
	const struct sockaddr_storage	*client;
	const struct sockaddr_storage	*server;	/* local; NULL: unknown */
	const struct route_match	*m;	/* captures; NULL: none */
};

/* One loaded module (a .so and, in a worker that ran init, its state). */
struct module;

/*
 * The modules of one config generation: one loaded module per route
 * whose handler is "module", in route order, indexed by route number
 * (NULL for the other routes). The supervisor loads it right after a
 * config loads (module_set_load), so a bad module fails ptftpd -t, a
 * start and a reload like a config error; workers inherit it through
 * fork and call module_set_init; the supervisor frees it with the
 * generation's config. The config itself holds only path and args.
 */
struct modset {
	struct module	**by_route;	/* n entries; NULL: none loaded */
	unsigned	  n;		/* the config's n_routes */
};

/*
 * dlopen path (RTLD_NOW | RTLD_LOCAL), look up ptftpd_module_v1, check
 * its api_version and required members, and set *out to a new module
 * that keeps a copy of args (NULL: none) for init and every request.
 * Returns 0, or -1 with *out NULL and a message in err: "cannot load
 * /x.so: <dlerror>", "/x.so: no symbol ptftpd_module_v1", "/x.so: API
 * version 2, ptftpd supports 1", ... Runs no module code but
 * ptftpd_module_v1() and the .so's constructors.
 */
int	module_load(const char *path, const char *args, struct module **out,
	    char *err, size_t errlen);

/*
 * Call fini if this process initialised m, dlclose and free m. Safe on
 * NULL.
 */
void	module_unload(struct module *m);

/*
 * In a worker after fork, before the seccomp filter: call m's init(args)
 * once (a second call does nothing). Returns 0, or -1 with "/x.so
 * (name): init failed" in err.
 */
int	module_init(struct module *m, char *err, size_t errlen);

/* At a clean worker exit: m's fini, if init ran. Safe on NULL. */
void	module_fini(struct module *m);

/*
 * Load the module of every route of c whose handler is "module", in
 * route order, into *ms (initialised here). Returns 0, or -1 with *ms
 * holding nothing to free and "file:line: routes[N].module: <module_load's
 * message>" in err, the place of the route's module setting (the same
 * shape as a conf_load error).
 */
int	module_set_load(const struct conf *c, struct modset *ms, char *err,
	    size_t errlen);

/* Unload every module of ms (fini first where this process ran init). */
void	module_set_free(struct modset *ms);

/*
 * module_init of every module of ms, in route order. Returns 0, or -1
 * with module_init's message in err; the worker should then exit (code
 * 2: do not respawn, the config is wrong).
 */
int	module_set_init(struct modset *ms, char *err, size_t errlen);

/* module_fini of every module of ms. */
void	module_set_fini(struct modset *ms);

/* The module of route number route, or NULL (not a module route). */
struct module	*module_set_get(const struct modset *ms, unsigned route);

/*
 * The whole response of module m to request q: open, read from
 * offset 0 until the announced size (or, for PTFTPD_SIZE_UNKNOWN, until
 * read gives 0), close. Returns 0 with *data, a malloc'd buffer of *size
 * bytes the caller frees (NULL when *size is 0), or a TFTP error code with
 * *errmsg (the module's message or a static one; valid until the next
 * call for this module) and *data NULL: the module's own code 1..8,
 * TFTP_ENOSPACE over MODULE_BODY_MAX, FS_ESERVER (fs.h) for any other
 * failure (a module error, a short read, no memory, m not initialised).
 * Synchronous: the cost is the module's, plus one malloc (realloc
 * doubling for an unknown size) and a copy.
 */
int	module_open_body(struct module *m, const struct module_req *q,
	    uint8_t **data, uint64_t *size, const char **errmsg);

/*
 * The transfer of a request whose module_open_body returned 0 has ended:
 * pass st to the module's done (struct_size is set here; the rest is the
 * caller's). q as for module_open_body (m may be NULL now). No-op when the
 * module has no done.
 */
void	module_done(struct module *m, const struct module_req *q,
	    const struct ptftpd_xfer_stats *st);

#endif
