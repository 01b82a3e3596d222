/*
 * sandbox.h - the seccomp filter of a worker: after its start-up a worker
 * may make only the system calls its loop needs; any other one kills it
 * with SIGSYS, and the supervisor logs and respawns it.
 */
#ifndef PTFTPD_SANDBOX_H
#define PTFTPD_SANDBOX_H

/*
 * Install the worker filter on the calling process (irreversible; one
 * thread only). Call it once, as the last step of a worker's start-up:
 * after the root is open, privileges are dropped (no_new_privs set) and
 * the sockets, epoll set and slots exist, right before the event loop.
 * Returns 0, or -1 with errno set and a short reason in *what for the
 * caller's log line. Costs one filter build (a few KiB, freed again) and
 * one seccomp(2) call; afterwards a few dozen BPF instructions per
 * system call.
 */
int	sandbox_apply(const char **what);

#endif
