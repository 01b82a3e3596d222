/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.c - the seccomp filter of a worker (libseccomp). It owns the
 * list of system calls a worker may make once its start-up is over, and
 * why each is there. It does not decide when the filter goes on (worker.c,
 * as the last step before the loop), whether it does (the `seccomp`
 * setting) or whether uploads are allowed (SANDBOX_UPLOADS, from the
 * routes), or what happens to a killed worker (the supervisor logs
 * "killed by signal 31 (Bad system call)" and respawns it).
 *
 * Start-up makes the calls that are not listed here: open the root and
 * probe openat2 (fs_new), switch users (priv_drop), epoll_create1,
 * io_uring_setup and io_uring_register (ring.c), the slot
 * allocations, getrandom for the hash seed, prctl(PR_SET_PDEATHSIG), fork
 * the exec handler's spawner (execd.c: it runs unfiltered, and its
 * programs with it), initialise modules (module.c). The
 * loop then needs (measured with strace -f on workers serving octet,
 * netascii, missing, escaping and aborted transfers over IPv4 and IPv6,
 * with jemalloc and with the ASan build, logging to stderr and to syslog,
 * through a reload and a drain):
 *
 *   epoll_pwait recvmmsg recvfrom sendmmsg sendto sendmsg socket bind
 *   setsockopt epoll_ctl openat2 newfstatat pread64 mmap munmap madvise
 *   close write getpid rt_sigreturn exit_group
 *   + io_uring_enter and epoll_wait with a ring (SANDBOX_URING; the
 *     ring, set up before, is restricted to what these calls do)
 *   + socket(AF_UNIX) and connect when glibc's syslog(3) reconnects
 *   + sigaltstack at exit under ASan; ioctl(TCGETS) and open(O_RDONLY)
 *     for an ASan report (tried by making a worker report under gdb)
 *
 * The rest of the list is what the same code may need on another path
 * (malloc growing, a log line on a fresh libc, abort()) and is harmless.
 * Uploads add their own calls (sandbox_upload_allow). Dynamic content
 * modules run inside the filter too: a module's request callbacks may use
 * only these calls (or the operator sets `seccomp = false`).
 * The default action kills the whole process (SCMP_ACT_KILL_PROCESS), so
 * a worker never goes on half-sandboxed. Only the native architecture is
 * accepted: libseccomp's default context holds just that one, calls
 * through another ABI (int 0x80 on x86_64) and, on x86_64, x32 calls kill
 * the process too (SCMP_FLTATR_ACT_BADARCH).
 *
 * Arguments are filtered where the value is in a register: socket()
 * domain and type, openat() flags, mmap()/mprotect() without PROT_EXEC,
 * prctl() and fcntl() commands, tgkill() to ourselves. openat2's flags sit
 * in a struct that seccomp cannot read: what keeps a worker from writing
 * under the root is the unprivileged user, not this filter.
 *
 * Sanitizer builds (make SANITIZE=1) keep the filter, with two changes:
 * the calls ASan's error report needs are allowed, and fork, clone and
 * execve fail with EPERM instead of killing, so a report still comes out
 * whole (gcc's libasan symbolizes in process; a runtime that starts an
 * external symbolizer prints module+offset instead). Any other forbidden
 * call still kills, so the filter is tested under the sanitizers too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif
#ifndef SANDBOX_ASAN
#define SANDBOX_ASAN	0
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Allowed with any arguments. SCMP_SYS() of a call this architecture does
 * not have (epoll_wait on arm64) is negative and skipped.
 */
static const int sandbox_allow[] = {
	/* The event loop: wait (with the run signal mask), add transfer
	 * sockets; epoll_wait for a libc without epoll_pwait. */
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_ctl),
	/* Requests in (recvmmsg with pktinfo), ACKs in (recvfrom), DATA
	 * windows out (sendmmsg), OACK/ERROR out (sendto, and sendmsg with
	 * the pktinfo source address); sendto is also syslog(3)'s send. */
	SCMP_SYS(recvmmsg), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	/* Transfer sockets (socket() itself is filtered below): bind to
	 * the request's local address and port range, IPV6_V6ONLY;
	 * connect is syslog(3) reconnecting to /dev/log. */
	SCMP_SYS(bind), SCMP_SYS(connect), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	/* Files: open beneath the root (fs_resolve), fstat the result,
	 * pread for netascii, close every fd (session sockets, files, our
	 * listen sockets when draining). read: the supervisor's control
	 * pipe. write/writev: log lines on stderr. */
	SCMP_SYS(openat2), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(pread64), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev),
	/* Memory: bodies are unmapped when the cache drops them; malloc
	 * (jemalloc, glibc, ASan's allocator) grows, trims and purges.
	 * mmap and mprotect are filtered below (no PROT_EXEC). futex:
	 * jemalloc's and libc's locks. */
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(brk),
	SCMP_SYS(futex),
	/* Time and identity: the loop's clock (a vDSO call unless the vDSO
	 * is off), log lines' pid, libc's own getters. */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getrandom), SCMP_SYS(sched_yield),
	/* Signals: TERM/INT/QUIT handlers run inside epoll_pwait and
	 * return; a stopped call restarts; libc's syslog may set SIGPIPE's
	 * action; sanitizer runtimes drop their signal stack at exit. */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall),
	SCMP_SYS(sigaltstack),
	/* Leaving: _exit(worker_main()) after a drain or a stop; wait4 is
	 * execd_stop reaping the exec spawner (our only child: a filtered
	 * worker cannot fork another). The spawner's socket is plain
	 * sendmsg/recvmsg (SCM_RIGHTS memfds), its output an mmap. */
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(wait4),
};

/*
 * The hot path, tested first in the filter: one of these per packet or
 * per loop turn.
 */
static const int sandbox_hot[] = {
	SCMP_SYS(recvfrom), SCMP_SYS(sendmmsg), SCMP_SYS(epoll_pwait),
	SCMP_SYS(recvmmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
};

/*
 * ===== UPLOADS (WRQ): only with SANDBOX_UPLOADS. =====
 * fs.c writes an upload beneath the root: openat2 with O_TMPFILE or
 * O_CREAT|O_EXCL (in the base list: its flags cannot be filtered) and
 * getrandom for the temporary name, then pwrite64 of each block, fchmod
 * to the route's mode, fsync of the file and of its directory, and the
 * commit: renameat (overwrite), renameat2 RENAME_NOREPLACE (create only),
 * linkat (naming an O_TMPFILE inode through /proc/self/fd, or the
 * no-replace fallback), unlinkat (dropping a temporary name). A read-only
 * server keeps none of these.
 */
static const int sandbox_upload_allow[] = {
	SCMP_SYS(pwrite64), SCMP_SYS(fchmod), SCMP_SYS(fsync),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(linkat),
	SCMP_SYS(unlinkat),
};

/*
 * Sanitizer builds only: what ASan's error report needs (/proc/self/maps
 * through openat, limits, the executable's name; isatty(stderr), an
 * ioctl(TCGETS), is added with the argument rules).
 */
static const int sandbox_asan_allow[] = {
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit), SCMP_SYS(sched_getaffinity), SCMP_SYS(mincore),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
};

/* Sanitizer builds only: refused with EPERM rather than killing, so that
 * ASan's failed symbolizer start does not cut its report short. */
static const int sandbox_asan_eperm[] = {
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(clone), SCMP_SYS(clone3),
	SCMP_SYS(execve), SCMP_SYS(execveat),
};

static int
sandbox_add_list(scmp_filter_ctx ctx, uint32_t action, const int *nrs,
    size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		if (nrs[i] < 0)
			continue;	/* not a call of this architecture */
		if ((rc = seccomp_rule_add(ctx, action, nrs[i], 0)) < 0)
			return rc;
	}
	return 0;
}

/*
 * socket(): datagram sockets only, protocol 0. AF_INET and AF_INET6 for
 * transfer sockets (net_session_socket), AF_UNIX for syslog(3) when it
 * reconnects to /dev/log. SOCK_NONBLOCK and SOCK_CLOEXEC may be set.
 */
static int
sandbox_add_socket(scmp_filter_ctx ctx)
{
	static const int	 domains[] = { AF_INET, AF_INET6, AF_UNIX };
	size_t			 i;
	int			 rc;

	for (i = 0; i < NELEM(domains); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
		    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)domains[i]),
		    SCMP_A1_32(SCMP_CMP_MASKED_EQ,
		    ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC), SOCK_DGRAM),
		    SCMP_A2_32(SCMP_CMP_EQ, 0));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Rules that look at an argument:
 * - openat: read-only opens (no O_CREAT, O_TRUNC, O_APPEND, no write
 *   access; O_TMPFILE needs write access). libc opens with it, not us:
 *   the time zone file on a first localtime(), a sanitizer's
 *   /proc/self/maps. open (x86_64): the same, for sanitizer runtimes
 *   that still use that call.
 * - mmap, mprotect: never executable. mmap maps octet bodies (fs.c)
 *   and serves malloc; mprotect is glibc malloc growing a heap.
 * - prctl: PR_SET_NAME only (a thread or process name).
 * - fcntl: fd flags only (F_GETFD/F_SETFD/F_GETFL/F_SETFL).
 * - tgkill: to our own process only, so abort() ends a worker with
 *   SIGABRT (a readable death) rather than SIGSYS.
 */
static int
sandbox_add_args(scmp_filter_ctx ctx)
{
	static const int	 fcntl_cmds[] = {
		F_GETFD, F_SETFD, F_GETFL, F_SETFL
	};
	uint32_t		 wr = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	size_t			 i;
	int			 rc;

	if ((rc = sandbox_add_socket(ctx)) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2_32(SCMP_CMP_MASKED_EQ, wr, 0))) < 0)
		return rc;
	if (SCMP_SYS(open) >= 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(open), 1, SCMP_A1_32(SCMP_CMP_MASKED_EQ, wr, 0))) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0_32(SCMP_CMP_EQ, PR_SET_NAME))) < 0)
		return rc;
	for (i = 0; i < NELEM(fcntl_cmds); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(fcntl), 1,
		    SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)fcntl_cmds[i]))) < 0)
			return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()));
}

static int
sandbox_build(scmp_filter_ctx ctx, unsigned flags, const char **what)
{
	size_t	 i;
	int	 rc;

	*what = "seccomp_attr_set";
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0)
		return rc;
	/* A binary tree of syscall numbers rather than a linear scan. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	*what = "seccomp_rule_add";
	if ((rc = sandbox_add_list(ctx, SCMP_ACT_ALLOW, sandbox_allow,
	    NELEM(sandbox_allow))) < 0 ||
	    (rc = sandbox_add_args(ctx)) < 0)
		return rc;
	if ((flags & SANDBOX_UPLOADS) && (rc = sandbox_add_list(ctx,
	    SCMP_ACT_ALLOW, sandbox_upload_allow,
	    NELEM(sandbox_upload_allow))) < 0)
		return rc;
	/* The ring (ring.c) was set up, restricted to recvmsg, sendmsg,
	 * poll and cancel, and enabled before the filter: the loop only
	 * enters it. io_uring_setup and io_uring_register stay forbidden. */
	if ((flags & SANDBOX_URING) && ((rc = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(io_uring_enter), 0)) < 0 ||
	    (rc = seccomp_syscall_priority(ctx, SCMP_SYS(io_uring_enter),
	    255)) < 0))
		return rc;
	if (SANDBOX_ASAN && ((rc = sandbox_add_list(ctx, SCMP_ACT_ALLOW,
	    sandbox_asan_allow, NELEM(sandbox_asan_allow))) < 0 ||
	    (rc = sandbox_add_list(ctx, SCMP_ACT_ERRNO(EPERM),
	    sandbox_asan_eperm, NELEM(sandbox_asan_eperm))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1_32(SCMP_CMP_EQ, TCGETS))) < 0))
		return rc;
	for (i = 0; i < NELEM(sandbox_hot); i++)
		if (sandbox_hot[i] >= 0)
			(void)seccomp_syscall_priority(ctx, sandbox_hot[i], 255);
	return 0;
}

/* See sandbox.h. libseccomp reports -errno; we return -1 with errno. */
int
sandbox_apply(unsigned flags, const char **what)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	/* API level 3: the kernel and library know KILL_PROCESS (4.14). */
	*what = "seccomp: kernel or libseccomp lacks SECCOMP_RET_KILL_PROCESS";
	if (seccomp_api_get() < 3) {
		errno = ENOSYS;
		return -1;
	}
	*what = "seccomp_init";
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = sandbox_build(ctx, flags, what);
	if (rc == 0) {
		*what = "seccomp_load";
		rc = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}
