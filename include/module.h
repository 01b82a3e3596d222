/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * module.h - loading dynamic content modules (the public API they compile
 * against is include/ptftpd/module.h) and calling them for the worker.
 * A loaded module hangs off its route's struct conf_module (impl), so it
 * lives and dies with the config that named it. No logging: errors come
 * back in the caller's buffer or as TFTP codes with a message.
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

/*
 * dlopen m->path (RTLD_NOW | RTLD_LOCAL), look up ptftpd_module_v1, check
 * its api_version and required members, and keep the result in m->impl.
 * Returns 0 (also when m is already loaded), or -1 with a message in err:
 * "cannot load /x.so: <dlerror>", "/x.so: no symbol ptftpd_module_v1",
 * "/x.so: API version 2, ptftpd supports 1", ... (the caller adds
 * "file:line: routes[N].module: "). Runs no module code but
 * ptftpd_module_v1() and the .so's constructors. For conf_load, at start
 * and at reload, so a bad module is a config error.
 */
int	module_load(struct conf_module *m, char *err, size_t errlen);

/*
 * Call fini if a worker initialised m, dlclose, free m->impl and set it to
 * NULL. Safe on a module never loaded. For conf_free (every route with
 * handler module), and so for the old config after a reload.
 */
void	module_unload(struct conf_module *m);

/*
 * In a worker after fork, before the seccomp filter: call init(args) of
 * every loaded module route of c, once each. Returns 0, or -1 with
 * "/x.so (name): init failed" (or "... not loaded") in err; the worker
 * should then exit (code 2: do not respawn, the config is wrong).
 */
int	module_worker_init(struct conf *c, char *err, size_t errlen);

/* At a clean worker exit: fini of every initialised module of c. */
void	module_worker_fini(struct conf *c);

/*
 * The whole response of route module m to request q: open, read from
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
int	module_open_body(struct conf_module *m, const struct module_req *q,
	    uint8_t **data, uint64_t *size, const char **errmsg);

/*
 * The transfer of a request whose module_open_body returned 0 has ended:
 * pass st to the module's done (struct_size is set here; the rest is the
 * caller's). q as for module_open_body (m may be NULL now). No-op when the
 * module has no done.
 */
void	module_done(struct conf_module *m, const struct module_req *q,
	    const struct ptftpd_xfer_stats *st);

#endif
