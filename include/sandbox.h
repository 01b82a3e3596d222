/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.h - the seccomp filter of a worker: after its start-up a worker
 * may make only the system calls its loop needs; any other one kills it
 * with SIGSYS, and the supervisor logs and respawns it.
 */
#ifndef PTFTPD_SANDBOX_H
#define PTFTPD_SANDBOX_H

/* Flags of sandbox_apply: what else this worker's configuration needs. */
#define SANDBOX_UPLOADS	0x1u	/* a route has a write group: WRQs */
#define SANDBOX_URING	0x2u	/* transfers on a (restricted) io_uring */

/*
 * Install the worker filter on the calling process (irreversible; one
 * thread only). Call it once, as the last step of a worker's start-up:
 * after the roots are open, privileges are dropped (no_new_privs set),
 * the exec spawner is forked, modules are initialised and the sockets,
 * epoll set and slots exist, right before the event loop. flags: 0 for a
 * read-only server, SANDBOX_UPLOADS when some route accepts uploads,
 * SANDBOX_URING when the worker's ring is set up (ring.h).
 * Returns 0, or -1 with errno set and a short reason in *what for the
 * caller's log line. Costs one filter build (a few KiB, freed again) and
 * one seccomp(2) call; afterwards a few dozen BPF instructions per
 * system call.
 */
int	sandbox_apply(unsigned flags, const char **what);

#endif
