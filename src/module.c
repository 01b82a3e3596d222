/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * module.c - dynamic content modules: loading a .so that implements the
 * public API of include/ptftpd/module.h, checking its version, calling its
 * init and fini in each worker, and turning one request into a complete
 * response buffer (open, read at increasing offsets, close) so that the
 * worker serves it as any other body, with an exact tsize. It also hands
 * the module each finished transfer's stats (done). It does not own the
 * config (conf.c parses the route and calls module_load so that a bad
 * module fails the config, at start and at reload), the choice of route
 * (route.c), the transfer (sess.c) or logging: errors go back to the
 * caller as text or as TFTP codes.
 *
 * Processes: the supervisor loads (dlopen) with the config, workers
 * inherit the mapping through fork and each calls init once, so a
 * module's state is per worker, never shared. The old config's modules
 * are dlclosed in the supervisor when a reload replaces it; glibc hands
 * back the already loaded object for a path still open, so a rebuilt .so
 * is picked up at a reload only under a new path (or at a restart).
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
module_load(struct conf_module *m, char *err, size_t errlen)
{
	const struct ptftpd_module	*(*entry)(void);
	const struct ptftpd_module	*api;
	struct module			*mod;
	const char			*e;
	void				*h;

	if (m->impl != NULL)
		return 0;
	if (m->path == NULL) {
		snprintf(err, errlen, "no module path");
		return -1;
	}
	if ((h = dlopen(m->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "cannot load %s: %s", m->path,
		    e != NULL ? e : "unknown error");
		return -1;
	}
	(void)dlerror();
	entry = (const struct ptftpd_module *(*)(void))dlsym(h,
	    PTFTPD_MODULE_SYMBOL);
	if (entry == NULL) {
		snprintf(err, errlen, "%s: no symbol %s (not a ptftpd module?)",
		    m->path, PTFTPD_MODULE_SYMBOL);
		goto fail;
	}
	if ((api = entry()) == NULL) {
		snprintf(err, errlen, "%s: %s() returned NULL", m->path,
		    PTFTPD_MODULE_SYMBOL);
		goto fail;
	}
	if (api->api_version != PTFTPD_MODULE_API_VERSION) {
		snprintf(err, errlen, "%s: API version %u, ptftpd supports %d",
		    m->path, (unsigned)api->api_version,
		    PTFTPD_MODULE_API_VERSION);
		goto fail;
	}
	if (api->name == NULL || api->open == NULL || api->read == NULL) {
		snprintf(err, errlen, "%s: module without name, open or read",
		    m->path);
		goto fail;
	}
	if ((mod = calloc(1, sizeof *mod)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", m->path);
		goto fail;
	}
	mod->handle = h;
	mod->api = api;
	m->impl = mod;
	return 0;
fail:
	dlclose(h);
	return -1;
}

void
module_unload(struct conf_module *m)
{
	struct module	*mod = m->impl;

	if (mod == NULL)
		return;
	if (mod->inited && mod->api->fini != NULL)
		mod->api->fini(mod->state);
	dlclose(mod->handle);
	free(mod);
	m->impl = NULL;
}

int
module_worker_init(struct conf *c, char *err, size_t errlen)
{
	struct conf_module	*cm;
	struct module		*mod;
	unsigned		 i;

	for (i = 0; i < c->n_routes; i++) {
		if (c->routes[i].handler != CONF_HANDLER_MODULE)
			continue;
		cm = &c->routes[i].module;
		if ((mod = cm->impl) == NULL) {
			snprintf(err, errlen, "%s: not loaded",
			    cm->path != NULL ? cm->path : "module");
			return -1;
		}
		if (mod->inited)
			continue;
		mod->state = NULL;
		if (mod->api->init != NULL &&
		    mod->api->init(cm->args, &mod->state) != 0) {
			snprintf(err, errlen, "%s (%s): init failed", cm->path,
			    mod->api->name);
			return -1;
		}
		mod->inited = true;
	}
	return 0;
}

void
module_worker_fini(struct conf *c)
{
	struct module	*mod;
	unsigned	 i;

	for (i = 0; i < c->n_routes; i++) {
		if (c->routes[i].handler != CONF_HANDLER_MODULE ||
		    (mod = c->routes[i].module.impl) == NULL || !mod->inited)
			continue;
		if (mod->api->fini != NULL)
			mod->api->fini(mod->state);
		mod->inited = false;
		mod->state = NULL;
	}
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
module_req_build(struct module_reqbuf *b, const struct conf_module *cm,
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
	r->args = cm->args;
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
module_open_body(struct conf_module *m, const struct module_req *q,
    uint8_t **data, uint64_t *size, const char **errmsg)
{
	struct module		*mod = m->impl;
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
	module_req_build(&b, m, q, mod->errbuf, sizeof mod->errbuf);
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
module_done(struct conf_module *m, const struct module_req *q,
    const struct ptftpd_xfer_stats *st)
{
	struct module			*mod = m->impl;
	struct module_reqbuf		 b;
	struct ptftpd_xfer_stats	 s;

	if (mod == NULL || !mod->inited || mod->api->done == NULL)
		return;
	module_req_build(&b, m, q, NULL, 0);
	s = *st;
	s.struct_size = (uint32_t)sizeof s;
	if (s.result == NULL)
		s.result = "error";
	mod->api->done(mod->state, &b.r, &s);
}
