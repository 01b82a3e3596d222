/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * module.c - dynamic content modules: loading a .so that implements the
 * public API of include/ptftpd/module.h, checking its version, calling its
 * init and fini in each worker, and turning one request into a complete
 * response buffer (open, read at increasing offsets, close) so that the
 * worker serves it as any other body, with an exact tsize. It also hands
 * the module each finished transfer's stats (done), and keeps a config
 * generation's loaded modules together (struct modset, one per module
 * route). It does not own the config (conf_policy.c parses a route's
 * module path and args as plain data), the generation (the supervisor,
 * sup.c, loads the set after each config load, so a bad module fails -t,
 * a start and a reload, and frees it with its config), the choice of
 * route (route.c), the transfer (sess.c) or logging: errors go back to
 * the caller as text or as TFTP codes.
 *
 * Processes: the supervisor loads (dlopen), workers inherit the mapping
 * through fork and each calls init once, so a module's state is per
 * worker, never shared. An old generation's modules are dlclosed in the
 * supervisor once no worker of it is left; glibc hands back the already
 * loaded object for a path still open, so a rebuilt .so is picked up at
 * a reload only under a new path (or at a restart).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fs.h"
#include "module.h"

#define MODULE_CHUNK	(64u << 10)	/* first buffer for an unknown size */

struct module {
	void				*handle;	/* dlopen's */
	char				*path;		/* for messages */
	char				*args;		/* init's and requests'; NULL */
	const struct ptftpd_module	*api;
	void				*state;		/* init's */
	bool				 inited;	/* in this process */
	char				 errbuf[MODULE_ERRMSG_MAX];
};

/* A public request and the text it points to. */
struct module_reqbuf {
	struct ptftpd_request	r;
	char			client_ip[ADDR_IP_LEN];
	char			server_ip[ADDR_IP_LEN];
	char			mac[ADDR_MAC_LEN];
};

int
module_load(const char *path, const char *args, struct module **out,
    char *err, size_t errlen)
{
	const struct ptftpd_module	*(*entry)(void);
	const struct ptftpd_module	*api;
	struct module			*mod;
	const char			*e;
	void				*h;

	*out = NULL;
	if (path == NULL) {
		snprintf(err, errlen, "no module path");
		return -1;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "cannot load %s: %s", path,
		    e != NULL ? e : "unknown error");
		return -1;
	}
	(void)dlerror();
	entry = (const struct ptftpd_module *(*)(void))dlsym(h,
	    PTFTPD_MODULE_SYMBOL);
	if (entry == NULL) {
		snprintf(err, errlen, "%s: no symbol %s (not a ptftpd module?)",
		    path, PTFTPD_MODULE_SYMBOL);
		goto fail;
	}
	if ((api = entry()) == NULL) {
		snprintf(err, errlen, "%s: %s() returned NULL", path,
		    PTFTPD_MODULE_SYMBOL);
		goto fail;
	}
	if (api->api_version != PTFTPD_MODULE_API_VERSION) {
		snprintf(err, errlen, "%s: API version %u, ptftpd supports %d",
		    path, (unsigned)api->api_version,
		    PTFTPD_MODULE_API_VERSION);
		goto fail;
	}
	if (api->name == NULL || api->open == NULL || api->read == NULL) {
		snprintf(err, errlen, "%s: module without name, open or read",
		    path);
		goto fail;
	}
	if ((mod = calloc(1, sizeof *mod)) == NULL ||
	    (mod->path = strdup(path)) == NULL ||
	    (args != NULL && (mod->args = strdup(args)) == NULL)) {
		if (mod != NULL)
			free(mod->path);
		free(mod);
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	mod->handle = h;
	mod->api = api;
	*out = mod;
	return 0;
fail:
	dlclose(h);
	return -1;
}

void
module_unload(struct module *mod)
{
	if (mod == NULL)
		return;
	module_fini(mod);
	dlclose(mod->handle);
	free(mod->path);
	free(mod->args);
	free(mod);
}

int
module_init(struct module *mod, char *err, size_t errlen)
{
	if (mod->inited)
		return 0;
	mod->state = NULL;
	if (mod->api->init != NULL &&
	    mod->api->init(mod->args, &mod->state) != 0) {
		snprintf(err, errlen, "%s (%s): init failed", mod->path,
		    mod->api->name);
		return -1;
	}
	mod->inited = true;
	return 0;
}

void
module_fini(struct module *mod)
{
	if (mod == NULL || !mod->inited)
		return;
	if (mod->api->fini != NULL)
		mod->api->fini(mod->state);
	mod->inited = false;
	mod->state = NULL;
}

int
module_set_load(const struct conf *c, struct modset *ms, char *err,
    size_t errlen)
{
	const struct conf_module	*cm;
	char				 msg[512];
	unsigned			 i;

	ms->by_route = NULL;
	ms->n = 0;
	if (c->n_routes == 0)
		return 0;
	if ((ms->by_route = calloc(c->n_routes, sizeof(*ms->by_route))) ==
	    NULL) {
		snprintf(err, errlen, "%s: modules: out of memory", c->path);
		return -1;
	}
	ms->n = c->n_routes;
	for (i = 0; i < c->n_routes; i++) {
		if (c->routes[i].handler != CONF_HANDLER_MODULE)
			continue;
		cm = &c->routes[i].module;
		if (module_load(cm->path, cm->args, &ms->by_route[i], msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%u: routes[%u].module: %s",
			    cm->file != NULL ? cm->file : c->path, cm->line, i,
			    msg);
			module_set_free(ms);
			return -1;
		}
	}
	return 0;
}

void
module_set_free(struct modset *ms)
{
	unsigned	 i;

	for (i = 0; i < ms->n; i++)
		module_unload(ms->by_route[i]);
	free(ms->by_route);
	ms->by_route = NULL;
	ms->n = 0;
}

int
module_set_init(struct modset *ms, char *err, size_t errlen)
{
	unsigned	 i;

	for (i = 0; i < ms->n; i++)
		if (ms->by_route[i] != NULL &&
		    module_init(ms->by_route[i], err, errlen) == -1)
			return -1;
	return 0;
}

void
module_set_fini(struct modset *ms)
{
	unsigned	 i;

	for (i = 0; i < ms->n; i++)
		module_fini(ms->by_route[i]);
}

struct module *
module_set_get(const struct modset *ms, unsigned route)
{
	return ms != NULL && route < ms->n ? ms->by_route[route] : NULL;
}

static const char *
module_mode_name(enum tftp_mode mode)
{
	switch (mode) {
	case TFTP_MODE_OCTET:
		return "octet";
	case TFTP_MODE_NETASCII:
		return "netascii";
	case TFTP_MODE_MAIL:
		return "mail";
	}
	return "octet";
}

/* Fill b from the worker's request; errmsg may be NULL (done). */
static void
module_req_build(struct module_reqbuf *b, const struct module *mod,
    const struct module_req *q, char *errmsg, size_t errmsg_size)
{
	struct ptftpd_request	*r = &b->r;
	unsigned		 i;

	memset(r, 0, sizeof *r);
	r->struct_size = (uint32_t)sizeof *r;
	r->file = q->file != NULL ? q->file : "";
	r->mode = module_mode_name(q->mode);
	r->client = q->client;
	addr_format_ip(q->client, b->client_ip, &r->client_port);
	r->client_ip = b->client_ip;
	r->server = q->server;
	addr_format_ip(q->server, b->server_ip, &r->server_port);
	r->server_ip = b->server_ip;
	addr_mac_in_name(r->file, b->mac);
	r->mac = b->mac;
	r->n_capture = q->m != NULL ? q->m->n_capture : 0;
	for (i = 0; i <= PTFTPD_NCAPTURE; i++)
		r->capture[i] = q->m != NULL ? q->m->capture[i] : "";
	r->args = mod->args;
	r->errmsg = errmsg;
	r->errmsg_size = errmsg != NULL ? errmsg_size : 0;
}

/* The module's message, made printable, or the standard one for code. */
static const char *
module_errmsg(struct module *mod, int code)
{
	static const char *const std[] = {
		"Module error", "File not found", "Access violation",
		"Disk full or allocation exceeded", "Illegal TFTP operation",
		"Unknown transfer ID", "File already exists", "No such user",
		"Option negotiation refused",
	};
	char	*p;

	mod->errbuf[sizeof mod->errbuf - 1] = '\0';
	if (mod->errbuf[0] == '\0')
		return std[code >= 1 && code <= 8 ? code : 0];
	for (p = mod->errbuf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return mod->errbuf;
}

/* The next buffer size for an unknown-size response; 0: at the cap. */
static size_t
module_grow_cap(size_t cap)
{
	if (cap >= MODULE_BODY_MAX)
		return 0;
	return cap * 2 > MODULE_BODY_MAX ? (size_t)MODULE_BODY_MAX : cap * 2;
}

/*
 * Read the response into a new buffer: exactly size bytes, or until read
 * gives 0 for PTFTPD_SIZE_UNKNOWN. Returns 0, or a TFTP code.
 */
static int
module_read_all(struct module *mod, void *resp, uint64_t size,
    uint8_t **data, uint64_t *got, const char **errmsg)
{
	bool	 known = size != PTFTPD_SIZE_UNKNOWN;
	uint8_t	*buf = NULL, *nb, probe;
	size_t	 cap, off = 0, ncap;
	long	 n;
	int	 rc;

	if (known && size > MODULE_BODY_MAX) {
		*errmsg = "Response too large";
		return TFTP_ENOSPACE;
	}
	cap = known ? (size_t)size : MODULE_CHUNK;
	if (cap > 0 && (buf = malloc(cap)) == NULL)
		goto oom;
	for (;;) {
		if (known && off == cap)
			break;
		if (!known && off == cap) {
			if ((ncap = module_grow_cap(cap)) == 0) {
				/* At the cap: over it only if more follows. */
				n = mod->api->read(resp, off, &probe, 1);
				if (n == 0)
					break;
				rc = n > 0 ? TFTP_ENOSPACE : FS_ESERVER;
				*errmsg = n > 0 ? "Response too large" :
				    "Module read error";
				goto fail;
			}
			if ((nb = realloc(buf, ncap)) == NULL)
				goto oom;
			buf = nb;
			cap = ncap;
		}
		n = mod->api->read(resp, off, buf + off, cap - off);
		if (n < 0 || (size_t)n > cap - off) {
			*errmsg = "Module read error";
			rc = FS_ESERVER;
			goto fail;
		}
		if (n == 0) {
			if (!known)
				break;
			*errmsg = "Module response too short";
			rc = FS_ESERVER;
			goto fail;
		}
		off += (size_t)n;
	}
	if (off == 0) {
		free(buf);
		buf = NULL;
	} else if (!known && off < cap && (nb = realloc(buf, off)) != NULL) {
		buf = nb;
	}
	*data = buf;
	*got = off;
	return 0;
oom:
	*errmsg = "Server error";
	rc = FS_ESERVER;
fail:
	free(buf);
	return rc;
}

int
module_open_body(struct module *mod, const struct module_req *q,
    uint8_t **data, uint64_t *size, const char **errmsg)
{
	struct module_reqbuf	 b;
	uint64_t		 n = 0;
	void			*resp = NULL;
	int			 rc;

	*data = NULL;
	*size = 0;
	if (mod == NULL || !mod->inited) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	mod->errbuf[0] = '\0';
	module_req_build(&b, mod, q, mod->errbuf, sizeof mod->errbuf);
	rc = mod->api->open(mod->state, &b.r, &resp, &n);
	if (rc != 0) {
		*errmsg = module_errmsg(mod, rc);
		return rc >= 1 && rc <= 8 ? rc : FS_ESERVER;
	}
	rc = module_read_all(mod, resp, n, data, size, errmsg);
	if (mod->api->close != NULL)
		mod->api->close(resp);
	return rc;
}

void
module_done(struct module *mod, const struct module_req *q,
    const struct ptftpd_xfer_stats *st)
{
	struct module_reqbuf		 b;
	struct ptftpd_xfer_stats	 s;

	if (mod == NULL || !mod->inited || mod->api->done == NULL)
		return;
	module_req_build(&b, mod, q, NULL, 0);
	s = *st;
	s.struct_size = (uint32_t)sizeof s;
	if (s.result == NULL)
		s.result = "error";
	mod->api->done(mod->state, &b.r, &s);
}
