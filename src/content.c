/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * content.c - where an admitted request's bytes come from, for one
 * worker: the file trees (the top-level root and each route's own root,
 * with their name caches and idle-body expiry), templates rendered
 * through tmpl.c, a module's answer through module.c (init and fini of
 * the supervisor's module set in this worker, and each finished
 * transfer's stats), a program's output through the exec spawner
 * (execd.c: the request's environment, the job ids, a completion turned
 * into a body), and uploads opened through fs.c. It logs why a root, a
 * module's init or a program failed.
 *
 * It does not own the loop, the slots or the session (worker.c asks it
 * for content in terms of a request, its route and route match, the
 * addresses and the slot, and answers the client itself), resolve paths
 * or map files (fs.c), render (tmpl.c), load modules (the supervisor,
 * module_set_load) or run programs (execd.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "content.h"
#include "fs.h"
#include "log.h"
#include "module.h"
#include "sess.h"
#include "tmpl.h"

void
content_init(struct content *ct, const struct conf *c, struct modset *mods)
{
	memset(ct, 0, sizeof(*ct));
	ct->conf = c;
	ct->mods = mods;
	ct->execd.fd = -1;
	ct->execd.pid = -1;
}

/* One file tree per route that names its own root (per-subnet roots). */
static int
content_open_route_roots(struct content *ct)
{
	const struct conf	*c = ct->conf;
	unsigned		 i;

	ct->route_fs = calloc(c->n_routes + 1, sizeof(*ct->route_fs));
	if (ct->route_fs == NULL) {
		log_warn("route roots");
		return -1;
	}
	for (i = 0; i < c->n_routes; i++) {
		if (c->routes[i].root == NULL)
			continue;
		ct->route_fs[i] = fs_new(c->routes[i].root, c->cache_max_idle);
		if (ct->route_fs[i] == NULL) {
			log_warn("route %u root %s", i, c->routes[i].root);
			return -1;
		}
	}
	return 0;
}

/* Every file tree trusts a name's lookup for cache_valid_ms. */
static int
content_name_caches(struct content *ct, const uint64_t *now_ms)
{
	const struct conf	*c = ct->conf;
	unsigned		 i;
	int			 rc;

	rc = fs_set_name_cache(ct->fs, c->cache_valid_ms, now_ms);
	for (i = 0; rc == 0 && i < c->n_routes; i++)
		if (ct->route_fs[i] != NULL)
			rc = fs_set_name_cache(ct->route_fs[i],
			    c->cache_valid_ms, now_ms);
	if (rc == -1)
		log_warn("name cache");
	return rc;
}

/* Template roots are opened now, while every path is still reachable. */
static int
content_open_template_roots(struct content *ct)
{
	const struct conf	*c = ct->conf;
	unsigned		 i;

	if ((ct->tmpl = tmpl_new()) == NULL) {
		log_warn("template cache");
		return -1;
	}
	for (i = 0; i < c->n_routes; i++) {
		const struct conf_route	*r = &c->routes[i];
		const char		*root = r->root ? r->root : c->root;

		if (r->handler == CONF_HANDLER_TEMPLATE &&
		    tmpl_open_root(ct->tmpl, root) == -1) {
			log_warn("template root %s", root);
			return -1;
		}
	}
	return 0;
}

static bool
content_has_exec(const struct conf *c)
{
	unsigned	 i;

	for (i = 0; i < c->n_routes; i++)
		if (c->routes[i].handler == CONF_HANDLER_EXEC)
			return true;
	return false;
}

int
content_open_roots(struct content *ct, const uint64_t *now_ms)
{
	const struct conf	*c = ct->conf;

	/* The root is opened before the privilege drop; every lookup is
	 * still checked against the unprivileged user. */
	if ((ct->fs = fs_new(c->root, c->cache_max_idle)) == NULL) {
		if (errno == ENOSYS)
			log_warnx("root %s: openat2 unavailable (kernel before "
			    "5.6, or a seccomp filter such as systemd's "
			    "RestrictSUIDSGID=)", c->root);
		else
			log_warn("root %s", c->root);
		return -1;
	}
	if (content_open_route_roots(ct) == -1 ||
	    content_name_caches(ct, now_ms) == -1 ||
	    content_open_template_roots(ct) == -1)
		return -1;
	/* Programs of exec routes run from a spawner forked now (the
	 * syscall filter forbids fork later), outside the chroot; it drops
	 * to the unprivileged user itself. */
	if (content_has_exec(c) && execd_start(&ct->execd, c) == -1) {
		log_warn("exec spawner");
		return -1;
	}
	return 0;
}

int
content_init_modules(struct content *ct)
{
	char	 err[512];

	if (ct->mods == NULL)
		return 0;
	if (module_set_init(ct->mods, err, sizeof(err)) == -1) {
		log_warnx("module: %s", err);
		return -1;
	}
	ct->mods_up = true;
	return 0;
}

void
content_free(struct content *ct)
{
	unsigned	 i;

	if (ct->fs != NULL)
		fs_free(ct->fs);
	ct->fs = NULL;
	for (i = 0; ct->route_fs != NULL && i < ct->conf->n_routes; i++)
		if (ct->route_fs[i] != NULL)
			fs_free(ct->route_fs[i]);
	free(ct->route_fs);
	ct->route_fs = NULL;
	if (ct->tmpl != NULL)
		tmpl_free(ct->tmpl);
	ct->tmpl = NULL;
	if (ct->mods_up)
		module_set_fini(ct->mods);
	ct->mods_up = false;
	execd_stop(&ct->execd);
}

struct fs *
content_fs(const struct content *ct, const struct conf_route *r)
{
	if (r != NULL && ct->route_fs[r - ct->conf->routes] != NULL)
		return ct->route_fs[r - ct->conf->routes];
	return ct->fs;
}

void
content_trim(struct content *ct, uint64_t now)
{
	const struct conf	*c = ct->conf;
	unsigned		 i;

	fs_expire_idle(ct->fs, now, c->cache_idle_ms);
	for (i = 0; ct->route_fs != NULL && i < c->n_routes; i++)
		if (ct->route_fs[i] != NULL)
			fs_expire_idle(ct->route_fs[i], now, c->cache_idle_ms);
}

int
content_exec_fd(const struct content *ct)
{
	return ct->execd.fd;
}

void
content_exec_env(const struct content_req *q, struct content_env *e)
{
	char		 ip[ADDR_IP_LEN], mac[ADDR_MAC_LEN];
	uint16_t	 port;
	unsigned	 n = 0, i;

	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_FILE=%s", q->name);
	addr_format_ip(q->peer, ip, &port);
	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_CLIENT_IP=%s", ip);
	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_CLIENT_PORT=%u",
	    port);
	addr_format_ip(q->local, ip, &port);
	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_SERVER_IP=%s", ip);
	if (addr_mac_in_name(q->name, mac) != 1)
		mac[0] = '\0';
	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_MAC=%s", mac);
	snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_MODE=%s",
	    tftp_modename(q->mode));
	for (i = 1; q->m != NULL && i <= ROUTE_NCAPTURE &&
	    i <= q->m->n_capture; i++)
		snprintf(e->vars[n++], CONTENT_ENV_LEN, "PTFTPD_MATCH%u=%s", i,
		    q->m->capture[i]);
	for (i = 0; i < n; i++)
		e->env[i] = e->vars[i];
	e->env[n] = NULL;
	e->n = n;
}

_Static_assert(6 + ROUTE_NCAPTURE <= CONTENT_ENV_MAX,
    "an exec run's environment must fit struct content_env");

uint32_t
content_job_slot(uint32_t job)
{
	return job & ((1u << CONTENT_SLOT_BITS) - 1);
}

/*
 * The exec handler: ask the spawner to run the route's program with the
 * request in its environment. The transfer waits (pending, no packet
 * sent) until the whole output is there, so tsize is exact; the client's
 * retransmitted RRQs meanwhile are recognised as such (worker.c).
 */
static int
content_exec_submit(struct content *ct, const struct content_req *q,
    struct content_out *out, const char **msg)
{
	if (ct->execd.fd == -1) {
		*msg = "Exec handler unavailable";
		return FS_ESERVER;
	}
	content_exec_env(q, &ct->env);
	/* The job names the slot the request is about to take, so a
	 * completion finds its transfer in O(1); the high bits tell a stale
	 * one apart. */
	out->job = (++ct->job_seq << CONTENT_SLOT_BITS) | q->slot;
	if (execd_submit(&ct->execd, out->job,
	    (unsigned)(q->route - ct->conf->routes), ct->env.env) == -1) {
		*msg = "Server busy, try again";
		return FS_ESERVER;
	}
	out->pending = true;
	return 0;
}

static struct module *
content_module(const struct content *ct, const struct conf_route *r)
{
	return module_set_get(ct->mods, (unsigned)(r - ct->conf->routes));
}

/*
 * Content made for this request: a rendered template or a module's
 * answer, complete before the first packet so tsize is exact, or an exec
 * job.
 */
static int
content_generate(struct content *ct, const struct content_req *q,
    struct content_out *out, const char **msg)
{
	const struct conf_route	*r = q->route;
	uint8_t			*data = NULL;
	uint64_t		 size = 0;
	int			 code;

	switch (r->handler) {
	case CONF_HANDLER_EXEC:
		return content_exec_submit(ct, q, out, msg);
	case CONF_HANDLER_TEMPLATE: {
		struct tmpl_req	 tq = { .root = r->root ? r->root :
		    ct->conf->root, .t = &r->template, .file = q->name,
		    .client = q->peer, .server = q->local, .m = q->m };

		code = tmpl_render(ct->tmpl, &tq, &data, &size, msg);
		break;
	}
	case CONF_HANDLER_MODULE: {
		struct module_req mq = { .file = q->name, .mode = q->mode,
		    .client = q->peer, .server = q->local, .m = q->m };
		struct module	*mod = content_module(ct, r);

		if (mod == NULL) {
			*msg = "Server error";
			return FS_ESERVER;
		}
		code = module_open_body(mod, &mq, &data, &size, msg);
		break;
	}
	default:
		*msg = "Handler not available";
		return FS_ESERVER;
	}
	if (code != 0)
		return code;
	out->body = fs_body_new(data, size, 0, q->mode);
	if (out->body == NULL) {
		*msg = errno == EFBIG ? "File too large for netascii" :
		    "Server error";
		return errno == EFBIG ? TFTP_ENOSPACE : FS_ESERVER;
	}
	return 0;
}

int
content_open(struct content *ct, const struct content_req *q,
    struct content_out *out, const char **msg)
{
	const struct conf_route	*r = q->route;
	struct fs_wpolicy	 p;

	memset(out, 0, sizeof(*out));
	if (q->op == TFTP_RRQ && r != NULL && r->handler != CONF_HANDLER_FILE)
		return content_generate(ct, q, out, msg);
	if (q->op == TFTP_RRQ)
		return fs_open_read(q->fs, q->name, q->mode, &out->body, msg);
	p.create = r->write.create;
	p.overwrite = r->write.overwrite;
	p.max_bytes = r->write.max_bytes;
	p.mode = (mode_t)r->write.mode;
	return fs_open_write(q->fs, q->name, &p, q->mode, &out->up, msg);
}

void
content_close(struct fs *fs, struct body **body, struct fs_upload **up)
{
	if (*body != NULL)
		fs_release(fs, *body);
	*body = NULL;
	if (*up != NULL)
		fs_upload_abort(fs, *up);
	*up = NULL;
}

int
content_exec_read(struct content *ct, struct execd_done *d)
{
	return execd_read(&ct->execd, d);
}

void
content_exec_discard(struct execd_done *d)
{
	if (d->memfd != -1)
		close(d->memfd);
	d->memfd = -1;
}

void
content_exec_stop(struct content *ct)
{
	execd_stop(&ct->execd);
}

/* Why a program's run failed, for the log line. */
static void
content_exec_log(const struct content_req *q, const struct execd_done *d)
{
	char	 head[EXECD_ERR_HEAD * 4 + 1], name[TFTP_NAME_MAX * 4 + 1];
	char	 why[64];

	if (d->exec_failed)
		snprintf(why, sizeof(why), "not run: %s", strerror(d->err));
	else if (d->timed_out)
		snprintf(why, sizeof(why), "timed out");
	else if (d->too_big)
		snprintf(why, sizeof(why), "output over max_bytes");
	else if (WIFSIGNALED(d->status))
		snprintf(why, sizeof(why), "killed by signal %d",
		    WTERMSIG(d->status));
	else
		snprintf(why, sizeof(why), "exit status %d",
		    WEXITSTATUS(d->status));
	log_warnx("exec %s for file=\"%s\": %s; stderr: \"%s\"",
	    q->route->exec.argv[0],
	    log_safe(name, sizeof(name), q->name, strlen(q->name)), why,
	    log_safe(head, sizeof(head), d->err_head, d->err_len));
}

int
content_exec_body(const struct content_req *q, struct execd_done *d,
    struct body **body, const char **msg)
{
	uint8_t	*data = NULL;

	*body = NULL;
	if (!execd_done_ok(d)) {
		content_exec_log(q, d);
		content_exec_discard(d);
		/* Exit status 1 means "nothing for this name": boot
		 * clients then try their next name (pxelinux, U-Boot). */
		if (!d->exec_failed && !d->timed_out && !d->too_big &&
		    WIFEXITED(d->status) && WEXITSTATUS(d->status) == 1) {
			*msg = "File not found";
			return TFTP_ENOTFOUND;
		}
		*msg = d->too_big ? "Output too large" : "Generator failed";
		return d->too_big ? TFTP_ENOSPACE : FS_ESERVER;
	}
	if (d->size > 0) {
		/* MAP_PRIVATE: older kernels refuse a shared mapping of a
		 * write-sealed memfd. */
		data = mmap(NULL, d->size, PROT_READ, MAP_PRIVATE, d->memfd, 0);
		if (data == MAP_FAILED)
			data = NULL;
	}
	content_exec_discard(d);
	if (d->size > 0 && data == NULL) {
		log_warn("exec output mmap");
		*msg = "Server error";
		return FS_ESERVER;
	}
	if ((*body = fs_body_new(data, d->size, 1, q->mode)) == NULL) {
		*msg = "Output too large";
		return TFTP_ENOSPACE;
	}
	return 0;
}

void
content_done(struct content *ct, const struct content_req *q,
    const struct sess *s, uint64_t now)
{
	struct module_req		 mq = { .file = q->name, .mode = q->mode,
	    .client = q->peer, .server = q->local, .m = NULL };
	struct ptftpd_xfer_stats	 st;
	struct module			*mod;

	if (q->route == NULL || q->route->handler != CONF_HANDLER_MODULE ||
	    (mod = content_module(ct, q->route)) == NULL)
		return;
	/* The captures of the route match are not kept per transfer. */
	memset(&st, 0, sizeof(st));
	st.struct_size = sizeof(st);
	st.result = sess_result_name(s->result);
	st.bytes = sess_acked_bytes(s);
	st.duration_ms = now - s->start_ms;
	st.error_code = s->err_code;
	st.retransmits = s->n_rexmit;
	st.blksize = s->blksize;
	st.windowsize = s->windowsize;
	st.tsize = s->size;
	module_done(mod, &mq, &st);
}
