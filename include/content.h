/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * content.h - what an admitted request reads or writes, for one worker:
 * the file trees (top-level root, per-route roots), a rendered template,
 * a module's answer, a program's output through the spawner (exec), or
 * an upload. The worker calls it in terms of the request, its route and
 * route match, the peer's and the local address and the slot the
 * transfer takes; content.c knows nothing of the worker's structures.
 */
#ifndef PTFTPD_CONTENT_H
#define PTFTPD_CONTENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "execd.h"
#include "route.h"
#include "tftp.h"

#define CONTENT_ENV_MAX		16	/* PTFTPD_* strings of an exec run */
#define CONTENT_ENV_LEN		(TFTP_NAME_MAX + 32)
#define CONTENT_SLOT_BITS	20	/* a job id's slot part */

struct body;
struct fs;
struct fs_upload;
struct modset;
struct sess;
struct tmpl_ctx;

/* The environment of one exec run: "PTFTPD_NAME=value" strings. */
struct content_env {
	char		 vars[CONTENT_ENV_MAX][CONTENT_ENV_LEN];
	const char	*env[CONTENT_ENV_MAX + 1];	/* NULL-terminated */
	unsigned	 n;
};

/* One worker's content: made by content_init, freed by content_free. */
struct content {
	const struct conf	*conf;
	struct modset		*mods;		/* the supervisor's (module.c) */
	bool			 mods_up;	/* module_set_init done */
	struct fs		*fs;		/* the top-level root */
	struct fs		**route_fs;	/* per route with its own root */
	struct tmpl_ctx		*tmpl;		/* template and hosts caches */
	struct execd		 execd;		/* exec handler's spawner */
	uint32_t		 job_seq;
	struct content_env	 env;		/* scratch for content_open */
};

/* One request (or, for content_done, one finished transfer). */
struct content_req {
	enum tftp_op			 op;
	enum tftp_mode			 mode;
	const char			*name;	/* rewritten (m->name), or for
						 * done and exec logs the name
						 * as requested */
	const struct conf_route		*route;	/* NULL: the file tree */
	const struct route_match	*m;	/* captures; NULL: none */
	struct fs			*fs;	/* content_fs(route) */
	const struct sockaddr_storage	*peer;
	const struct sockaddr_storage	*local;
	uint32_t			 slot;	/* the transfer's slot, below
						 * 2^CONTENT_SLOT_BITS */
};

/* What content_open opened: a body (RRQ), an upload (WRQ) or a job. */
struct content_out {
	struct body		*body;
	struct fs_upload	*up;
	uint32_t		 job;		/* exec: the spawner's job id */
	bool			 pending;	/* exec: output not there yet */
};

/*
 * Set ct up empty for config c and the supervisor's modules mods (NULL:
 * none), so that content_free is safe whatever follows. No syscall.
 */
void	content_init(struct content *ct, const struct conf *c,
	    struct modset *mods);

/*
 * Before the privilege drop, while every path is reachable: open the
 * top-level root and every route's own root (their name caches trust a
 * lookup for cache_valid_ms by *now_ms), the template roots, and fork
 * the exec spawner if a route runs programs. Returns 0, or -1 after
 * logging why.
 */
int	content_open_roots(struct content *ct, const uint64_t *now_ms);

/*
 * After the privilege drop (and chroot), before the syscall filter:
 * every module's init(args), once per worker, so a module opens its
 * files as the workers' user. Returns 0, or -1 after logging why.
 */
int	content_init_modules(struct content *ct);

/* Modules' fini, spawner stopped, file trees and caches freed. */
void	content_free(struct content *ct);

/* The file tree route r serves from (NULL: the top-level one). */
struct fs	*content_fs(const struct content *ct,
		    const struct conf_route *r);

/* Once a second: unmap bodies idle for cache_idle_ms, in every tree. */
void	content_trim(struct content *ct, uint64_t now);

/* The spawner's fd for the worker's event set; -1: none. */
int	content_exec_fd(const struct content *ct);

/*
 * Open what request q reads or writes: for an RRQ, a body from q->fs, a
 * rendered template or a module's answer, complete before the first
 * packet so tsize is exact; or, for an exec route, a job submitted to
 * the spawner (out->pending, out->job: the transfer waits for
 * content_exec_body); for a WRQ, an upload (a temporary file, published
 * only when complete). Returns 0 with *out filled, or a TFTP error code
 * (FS_ESERVER for our side's failures) with *msg.
 */
int	content_open(struct content *ct, const struct content_req *q,
	    struct content_out *out, const char **msg);

/* Undo content_open: release the body, discard an unfinished upload. */
void	content_close(struct fs *fs, struct body **body,
	    struct fs_upload **up);

/*
 * The environment for an exec run of q: PTFTPD_FILE, PTFTPD_CLIENT_IP,
 * PTFTPD_CLIENT_PORT, PTFTPD_SERVER_IP, PTFTPD_MAC (empty without a MAC
 * in the name), PTFTPD_MODE and PTFTPD_MATCH1.. for each capture.
 */
void	content_exec_env(const struct content_req *q, struct content_env *e);

/* The slot a job id names. */
uint32_t	content_job_slot(uint32_t job);

/*
 * One completion from the spawner: 1 with *d filled, 0 if none waits, -1
 * when the spawner is gone (nothing can run programs any more).
 */
int	content_exec_read(struct content *ct, struct execd_done *d);

/*
 * The output of a finished job for q (its route and name as requested,
 * mode): 0 with *body, or, after logging why the program failed, a TFTP
 * code with *msg (exit status 1: File not found, so boot clients try
 * their next name; FS_ESERVER for error 0: send the low 16 bits). Takes
 * d->memfd either way.
 */
int	content_exec_body(const struct content_req *q, struct execd_done *d,
	    struct body **body, const char **msg);

/* A completion nobody waits for any more: close its output. */
void	content_exec_discard(struct execd_done *d);

/* The spawner is gone: stop it (content_exec_fd is -1 from now on). */
void	content_exec_stop(struct content *ct);

/*
 * A transfer of q has ended with session s at now: a module route's
 * module gets its stats (done). No-op for other routes.
 */
void	content_done(struct content *ct, const struct content_req *q,
	    const struct sess *s, uint64_t now);

#endif
