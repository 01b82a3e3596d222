/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tmpl.h - the "template" handler: a file beneath a route's root rendered
 * per request with ${variables} of the client, the name and a hosts table,
 * into a complete buffer (so tsize is exact). Per worker, the parsed
 * template and hosts table are cached and re-read when the file changes.
 * No logging: return codes and short static messages.
 */
#ifndef PTFTPD_TMPL_H
#define PTFTPD_TMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "route.h"

#define TMPL_TEMPLATE_MAX	(1u << 20)	/* template file bytes */
#define TMPL_HOSTS_MAX		(16u << 20)	/* hosts file bytes */
#define TMPL_OUTPUT_MAX		(4u << 20)	/* rendered bytes */

/* Per worker: root directory fds and the parsed-file cache. Opaque. */
struct tmpl_ctx;

/* One request for tmpl_render; nothing is kept after the call. */
struct tmpl_req {
	const char			*root;	/* route's root, else the top-level one */
	const struct conf_template	*t;	/* template and hosts paths */
	const char			*file;	/* name after rewriting (m->name) */
	const struct sockaddr_storage	*client;
	const struct sockaddr_storage	*server;	/* local address; NULL: "" */
	const struct route_match	*m;	/* captures; NULL: none */
};

/* An empty context; NULL with errno ENOMEM. Free with tmpl_free. */
struct tmpl_ctx *tmpl_new(void);

/* Close the root fds and drop the cache. NULL is fine. */
void	tmpl_free(struct tmpl_ctx *x);

/*
 * Optional: open root now (O_PATH | O_DIRECTORY) rather than on its first
 * request, e.g. before a chroot or the seccomp filter. Returns 0, or -1
 * with errno set. Calling it again for the same root costs a strcmp.
 */
int	tmpl_open_root(struct tmpl_ctx *x, const char *root);

/*
 * Render q->t->path for request q. Returns 0 with *data, a malloc'd buffer
 * of *size bytes the caller frees (NULL when *size is 0), or a TFTP error
 * code with a static *errmsg and *data NULL: TFTP_ENOTFOUND when the
 * template or the hosts file is missing, TFTP_EACCESS for a path escaping
 * the root (or not a regular file, or unreadable), TFTP_ENOSPACE for a
 * template over TMPL_TEMPLATE_MAX, a hosts file over TMPL_HOSTS_MAX or
 * output over TMPL_OUTPUT_MAX, FS_ESERVER (fs.h) for failures on our side.
 *
 * Variables: ${client_ip} ${client_port} ${server_ip} ${file} ${mac}
 * ${match1}..${match9} ${host.KEY}; anything else renders as "", as does
 * a key the client's host entry lacks, or every host.KEY when the client
 * has no entry (looked up by client address, then by the MAC in the
 * name). "$${" is a literal "${". "${" without a closing "}" on the same
 * line is literal text.
 *
 * Cost: per file (template, hosts) one openat2 + fstat + close; a file
 * whose (dev, ino, mtime, size) changed is read and parsed again. Then a
 * binary search in the hosts table and one pass over the template parts
 * to size the output, one malloc, one pass to fill it.
 */
int	tmpl_render(struct tmpl_ctx *x, const struct tmpl_req *q,
	    uint8_t **data, uint64_t *size, const char **errmsg);

#endif
