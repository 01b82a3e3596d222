/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * execd.h - the exec handler's spawner: a helper process per worker that
 * runs the configured programs (no shell) on the worker's behalf, since a
 * sandboxed worker may not fork or execve. The worker talks to it over one
 * non-blocking SOCK_SEQPACKET socket: a request per job out, one
 * completion per job back, the output in a sealed memfd.
 *
 * For the worker owner (the whole contract; details in execd.c):
 *  - Start: execd_start() BEFORE priv_drop() and sandbox_apply(), outside
 *    the chroot: the spawner drops to the unprivileged user itself
 *    (programs run as that user, under no_new_privs, unchrooted). Best
 *    before the slots and the epoll set exist, so the spawner carries
 *    little memory and no extra fds.
 *  - Loop: add execd_fd() to epoll (EPOLLIN). On readiness call
 *    execd_read() until it returns 0. Each completion answers one
 *    execd_submit(): if execd_done_ok(), mmap(NULL, size, PROT_READ,
 *    MAP_PRIVATE, memfd, 0) (MAP_PRIVATE: kernels before 6.7 refuse shared
 *    mappings of a write-sealed memfd), close memfd, serve the mapping with
 *    tsize = size (size 0: an empty body, memfd is -1); otherwise send
 *    ERROR 0 and log exit status or signal, timed_out, too_big, err and
 *    err_head through log_safe().
 *  - Spawner death (execd_read or execd_submit fails with EPIPE, or
 *    EPOLLHUP/EPOLLERR on the fd): every job without a completion has
 *    failed. It cannot be restarted (seccomp forbids fork): answer those
 *    and every later exec request with ERROR 0 "exec handler unavailable",
 *    stop taking requests and exit with status 1 so the supervisor
 *    respawns the worker.
 *  - Seccomp, worker side: sendmsg, recvmsg, mmap (PROT_READ), munmap,
 *    close; execd_stop() also needs wait4. A worker that just exits need
 *    not call execd_stop(): the spawner sees EOF (or its parent-death
 *    signal), kills its programs and exits by itself.
 */
#ifndef PTFTPD_EXECD_H
#define PTFTPD_EXECD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

#define EXECD_ERR_HEAD		512	/* bytes of stderr kept */
#define EXECD_ENV_MAX		32	/* strings per request (PATH is added) */
#define EXECD_MSG_MAX		16384	/* bytes of one request */
#define EXECD_JOBS_MAX		64	/* running or unsent, per spawner */
#define EXECD_QUEUE_MAX		256	/* waiting for a slot, per spawner */
#define EXECD_KILL_GRACE_MS	1000	/* after SIGKILL, before giving up */

struct execd {
	int	fd;		/* worker end of the socketpair; -1: none */
	pid_t	pid;		/* the spawner; -1: none */
};

/*
 * One finished job. status is the wait status (WIFEXITED, WTERMSIG...) of
 * the program, or -1 if it never ran (exec_failed) or could not be reaped
 * within EXECD_KILL_GRACE_MS of being killed. err is an errno: why the
 * program never ran when exec_failed (ENOENT, EACCES, EMFILE; EBUSY: no
 * slot freed up within the route's timeout_ms; EINVAL: bad request), else
 * nonzero only if its output could not be stored (it was then killed).
 * err_head holds the first err_len bytes of its stderr, not terminated:
 * pass it through log_safe(). memfd is the output, sealed, size bytes, only
 * when execd_done_ok() and size > 0, else -1; the caller owns and closes
 * it.
 */
struct execd_done {
	uint32_t	job;
	int		status;
	bool		timed_out;	/* killed at the route's timeout_ms */
	bool		too_big;	/* killed past the route's max_bytes */
	bool		exec_failed;	/* never ran: see err */
	int		err;
	char		err_head[EXECD_ERR_HEAD];
	size_t		err_len;
	int		memfd;
	uint64_t	size;
};

/*
 * Fork the spawner of this worker, which inherits c (it reads the exec
 * routes' argv, timeout_ms, max_bytes and max_concurrent from it and must
 * stay valid for the spawner's life: the worker's copy is never changed).
 * Call once, in the worker, before its privilege drop and its seccomp
 * filter (the spawner drops privileges itself).
 * Returns 0 with e filled, or -1 with errno (socketpair, fork); e->fd is
 * then -1. Costs one fork of the calling process.
 */
int	execd_start(struct execd *e, const struct conf *c);

/*
 * Ask for a run of route route_index's program with env, a NULL-terminated
 * list of "PTFTPD_NAME=value" strings (names of A-Z, 0-9 and _; at most
 * EXECD_ENV_MAX; PATH=/usr/sbin:/usr/bin:/sbin:/bin is added, nothing else
 * of the daemon's environment is passed). The worker picks job, echoed in
 * the completion. Never blocks. Returns 0, or -1 with errno: EAGAIN (the
 * socket is full: the spawner has EXECD_QUEUE_MAX jobs waiting; try again
 * later or refuse), EINVAL (bad name, too many strings, more than
 * EXECD_MSG_MAX bytes), EPIPE (the spawner is gone). Copies nothing: one
 * sendmsg over the strings.
 */
int	execd_submit(struct execd *e, uint32_t job, unsigned route_index,
	    const char *const env[]);

/* The fd to watch for EPOLLIN; -1 if not started. */
int	execd_fd(const struct execd *e);

/*
 * Read one completion into *done, never blocking. Returns 1 with *done
 * filled (the caller owns done->memfd), 0 if none is pending, or -1 with
 * errno: EPIPE (the spawner is gone: see the top of this file), EPROTO (a
 * malformed message, treat as EPIPE), or recvmsg's. One recvmsg.
 */
int	execd_read(struct execd *e, struct execd_done *done);

/* True if the program ran, exited 0 and its whole output is in memfd. */
bool	execd_done_ok(const struct execd_done *done);

/*
 * Close the socket; the spawner then kills every running program (whole
 * process groups), reaps them (at most EXECD_KILL_GRACE_MS) and exits;
 * reap it (blocks that long at worst). Safe on a stopped or never started
 * e. Needs close and wait4.
 */
void	execd_stop(struct execd *e);

#endif
