/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * execd.c - the exec handler's spawner. It owns one helper process per
 * worker, forked before the worker's seccomp filter goes on, that runs
 * the configured programs (argv from the route, never a shell) with a
 * request's environment, collects their output under the route's limits
 * and hands back one completion per job. It also owns the worker's side of
 * the socket: execd_submit and execd_read are plain I/O wrappers. It does
 * not choose routes, build the environment's values, log, or turn a
 * completion into a TFTP answer (worker.c does all of that); nothing here
 * logs, in either process. Its size (about 1,250 lines) is both ends of
 * one private protocol and the spawner's job table: the wire structs, the
 * limits the spawner enforces and the worker's wrappers change together.
 *
 * Protocol, one SOCK_SEQPACKET socketpair, both ends non-blocking; both
 * processes run the same binary, so messages are native structs:
 *   worker -> spawner  struct execd_wire_req (job, route index, n_env)
 *                      then n_env "PTFTPD_NAME=value" strings, each with
 *                      its NUL; at most EXECD_MSG_MAX bytes in all.
 *   spawner -> worker  struct execd_wire_done (job, wait status, errno,
 *                      flags, output size, err_len) then err_len bytes of
 *                      stderr; with EXECD_F_FD, the output memfd rides
 *                      along as SCM_RIGHTS (sealed: no write, grow,
 *                      shrink, so a mapping of it can never fault).
 * Every accepted request gets exactly one completion, whatever happens to
 * its program, as long as both processes live. The spawner takes the
 * argv, timeout_ms, max_bytes and max_concurrent from its inherited
 * struct conf, never from the request, and accepts only PTFTPD_ names in
 * the environment (no LD_PRELOAD from a compromised worker); PATH is
 * fixed; nothing of the daemon's own environment passes.
 *
 * A job's program runs in a process group of its own, in "/" (umask and
 * rlimits are the worker's), stdin /dev/null,
 * stdout and stderr on pipes, a third CLOEXEC pipe reporting an execve
 * failure. The spawner polls every pipe, copies stdout into the job's
 * memfd up to max_bytes (one byte more kills it: too_big), keeps the first
 * EXECD_ERR_HEAD bytes of stderr and drains the rest, and kills the group
 * with SIGKILL at timeout_ms. When the program exits, the rest of its
 * group is killed at once (the zombie leader still holds the group id, so
 * the kill cannot reach a stranger): a program may not leave anything
 * running, and a background child cannot hold a job open through its
 * stdout. A descendant that escaped the group (setsid) and keeps a pipe
 * open only delays the job to its timeout.
 *
 * Job states, one slot each (EXECD_JOBS_MAX), execd_job_step() the only
 * switch:
 *
 *   queued --spawn--> RUN --program reaped--> DRAIN --pipes closed--> SEND
 *     |                |  \--timeout/too_big: kill group, close pipes    |
 *     |                \--not reaped EXECD_KILL_GRACE_MS after the kill   |
 *     |                   (stuck in D state): SEND, unreaped      sent --+
 *     +--bad request, or no slot within timeout_ms: sent from the queue  |
 *   FREE <--reaped-- ORPHAN <--sent, unreaped--+--sent, reaped--> FREE <-+
 *
 * A spawn failure (fork, pipe, memfd) goes straight to SEND. Requests
 * wait in a FIFO (EXECD_QUEUE_MAX) until their route has fewer than
 * max_concurrent programs and a slot is free; a full queue stops the
 * spawner reading the socket, so execd_submit() then fails with EAGAIN.
 * A finished job keeps its slot (and its memfd) until its completion is
 * sent, so a worker that stops reading stops the spawner too.
 *
 * Failure semantics, for the worker owner. The spawner exits when the
 * socket reaches EOF (the worker closed it, or died: the kernel closes
 * it), on SIGQUIT, and on its parent's death (PR_SET_PDEATHSIG SIGQUIT,
 * not SIGKILL: it first kills and reaps every program group, for at most
 * EXECD_KILL_GRACE_MS; a SIGKILLed spawner would leave running programs
 * behind). Its programs get PR_SET_PDEATHSIG SIGKILL as a backstop. It
 * ignores TERM, INT, HUP, USR1, USR2 (a group-wide TERM must not break a
 * worker's drain). If it dies anyway, execd_read() returns -1 EPIPE once
 * the completions already queued are read: every job still pending has
 * failed, and there is no restart (seccomp forbids fork after start-up):
 * the worker answers them and later exec requests with ERROR 0 "exec
 * handler unavailable" and exits with status 1 so the supervisor respawns
 * it with a fresh spawner.
 *
 * Costs: a job is a fork of the spawner (which holds the worker's memory
 * of its start-up time, copy-on-write), one memfd and three pipes; output
 * is copied once, pipe to memfd, 64 KiB at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "execd.h"
#include "priv.h"

#define EXECD_ENV_PREFIX	"PTFTPD_"
#define EXECD_CHUNK		65536	/* one read of a pipe */
#define EXECD_READS_PER_TURN	16	/* per pipe per poll, for fairness */
#define EXECD_NFDS		(2 + 3 * EXECD_JOBS_MAX)

/* Completion flags on the wire. */
#define EXECD_F_TIMED_OUT	0x1u
#define EXECD_F_TOO_BIG		0x2u
#define EXECD_F_EXEC_FAILED	0x4u
#define EXECD_F_FD		0x8u	/* an SCM_RIGHTS memfd comes along */

struct execd_wire_req {
	uint32_t	job;
	uint32_t	route;
	uint32_t	n_env;
};

struct execd_wire_done {
	uint32_t	job;
	int32_t		status;		/* wait status; -1: none */
	int32_t		err;		/* errno; 0: none */
	uint32_t	flags;		/* EXECD_F_* */
	uint64_t	size;		/* output bytes */
	uint32_t	err_len;	/* stderr bytes that follow */
	uint32_t	pad;
};

#define EXECD_ENV_BYTES	(EXECD_MSG_MAX - sizeof(struct execd_wire_req))

/* A "PTFTPD_NAME=value" string of len bytes: name of A-Z, 0-9, _. */
static bool
execd_env_ok(const char *s, size_t len)
{
	size_t	pre = sizeof(EXECD_ENV_PREFIX) - 1, i;

	if (len <= pre || memcmp(s, EXECD_ENV_PREFIX, pre) != 0)
		return false;
	for (i = pre; i < len && s[i] != '='; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return i > pre && i < len;
}

/* ===== The spawner ===== */

enum execd_state {
	EXECD_FREE = 0,
	EXECD_RUN,		/* program alive (or unreaped) */
	EXECD_DRAIN,		/* program reaped, pipes still open */
	EXECD_SEND,		/* finished, completion not sent yet */
	EXECD_ORPHAN,		/* completion sent, killed program unreaped */
};

struct execd_job {
	enum execd_state state;
	uint32_t	 job;
	uint32_t	 route;
	bool		 counted;	/* holds one of its route's places */
	bool		 reaped;	/* no program, or it was waited for */
	bool		 killed;
	pid_t		 pid;		/* leader and process group id */
	int		 status;	/* wait status once reaped */
	uint32_t	 flags;		/* EXECD_F_* */
	int		 err;
	int		 out, errp, xfd;	/* pipe read ends; -1: closed */
	int		 memfd;
	uint64_t	 size;
	uint64_t	 deadline_ms;	/* timeout, then the kill grace */
	size_t		 err_len;
	char		 err_head[EXECD_ERR_HEAD];
};

struct execd_req {
	uint32_t	 job;
	uint32_t	 route;
	uint32_t	 n_env;
	int		 err;		/* nonzero: answer it, never run it */
	uint64_t	 deadline_ms;	/* not started by then: EBUSY */
	char		 env[EXECD_ENV_BYTES];
};

struct execd_sp {
	const struct conf *c;
	pid_t		 self;
	int		 sock, sigfd, nullfd;
	bool		 eof;		/* the worker is gone: stop */
	bool		 blocked;	/* socket full: wait for POLLOUT */
	unsigned	*running;	/* programs per route */
	unsigned	 nq, nspare;
	struct execd_req *queue[EXECD_QUEUE_MAX];	/* FIFO */
	struct execd_req *spare[EXECD_QUEUE_MAX];
	struct execd_job jobs[EXECD_JOBS_MAX];
	struct execd_req reqs[EXECD_QUEUE_MAX];
	char		 buf[EXECD_CHUNK];
};

/* What a poll slot watches. */
enum execd_pwhat {
	EXECD_P_SOCK, EXECD_P_SIG, EXECD_P_OUT, EXECD_P_ERR, EXECD_P_X,
};

struct execd_pref {
	enum execd_pwhat	 what;
	struct execd_job	*j;
};

static void
execd_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * mh over one message of the protocol: a fixed header, then body (left
 * out when blen is 0). The same shape for a request and a completion, to
 * send or to receive into.
 */
static void
execd_msg_init(struct msghdr *mh, struct iovec iov[2], const void *head,
    size_t hlen, const void *body, size_t blen)
{
	memset(mh, 0, sizeof(*mh));
	iov[0].iov_base = (void *)(uintptr_t)head;
	iov[0].iov_len = hlen;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = blen;
	mh->msg_iov = iov;
	mh->msg_iovlen = blen > 0 ? 2 : 1;
}

static int
execd_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The program's side of a fork: own group, parent-death kill, cwd "/",
 * fds 0-2, default signals, execve. On failure, the errno goes up the CLOEXEC
 * pipe (a successful execve closes it: EOF).
 */
struct execd_child {
	pid_t		 parent;
	int		 in, out, err, xfd;
	char *const	*argv;
	char *const	*envp;
};

static void __attribute__((noreturn))
execd_child_run(const struct execd_child *a)
{
	struct sigaction	 sa;
	sigset_t		 none;
	int			 sig, e;

	/* The parent makes the same call: whichever runs first wins. */
	if (setpgid(0, 0) == -1)
		goto fail;
	/* If the spawner dies abruptly, so does the program. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		goto fail;
	if (getppid() != a->parent) {
		errno = ESRCH;
		goto fail;
	}
	/* A known working directory, whatever the daemon's was. */
	if (chdir("/") == -1)
		goto fail;
	/* 0-2 are always taken in the spawner, so no source is a target. */
	if (dup2(a->in, 0) == -1 || dup2(a->out, 1) == -1 ||
	    dup2(a->err, 2) == -1)
		goto fail;
	/* Ignored signals stay ignored across execve: reset them all. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(a->argv[0], a->argv, a->envp);
fail:
	e = errno;
	if (write(a->xfd, &e, sizeof(e)) == -1) {
		/* nothing more to do: the exit status says 127 */
	}
	_exit(127);
}

static void
execd_job_reset(struct execd_job *j)
{
	memset(j, 0, sizeof(*j));
	j->out = j->errp = j->xfd = j->memfd = -1;
	j->status = -1;
}

static void
execd_job_close_pipes(struct execd_job *j)
{
	execd_close(&j->out);
	execd_close(&j->errp);
	execd_close(&j->xfd);
}

static void
execd_job_release(struct execd_sp *sp, struct execd_job *j)
{
	if (j->counted) {
		sp->running[j->route]--;
		j->counted = false;
	}
}

static bool
execd_job_ok(const struct execd_job *j)
{
	return j->flags == 0 && j->err == 0 && j->reaped &&
	    j->status != -1 && WIFEXITED(j->status) &&
	    WEXITSTATUS(j->status) == 0;
}

/* Done with the program: keep the output only if it is the answer. */
static void
execd_job_finish(struct execd_sp *sp, struct execd_job *j)
{
	const int	seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	    F_SEAL_SEAL;

	execd_job_close_pipes(j);
	if (execd_job_ok(j) && j->size > 0 &&
	    fcntl(j->memfd, F_ADD_SEALS, seals) == -1)
		j->err = errno;
	if (!execd_job_ok(j) || j->size == 0)
		execd_close(&j->memfd);
	j->state = EXECD_SEND;
	if (j->reaped)
		execd_job_release(sp, j);
}

/* Move j on as far as its program and pipes allow (see the sketch). */
static void
execd_job_step(struct execd_sp *sp, struct execd_job *j)
{
	switch (j->state) {
	case EXECD_RUN:
		if (!j->reaped)
			break;
		j->state = EXECD_DRAIN;
		/* FALLTHROUGH */
	case EXECD_DRAIN:
		if (j->out == -1 && j->errp == -1 && j->xfd == -1)
			execd_job_finish(sp, j);
		break;
	case EXECD_ORPHAN:
		if (j->reaped) {
			execd_job_release(sp, j);
			execd_job_reset(j);
		}
		break;
	case EXECD_FREE:
	case EXECD_SEND:
		break;
	}
}

/* Stop j (timeout, too big, output not storable): kill, stop reading. */
static void
execd_job_kill(struct execd_sp *sp, struct execd_job *j, uint32_t why,
    uint64_t now)
{
	j->flags |= why;
	j->killed = true;
	if (!j->reaped)
		(void)kill(-j->pid, SIGKILL);
	execd_job_close_pipes(j);
	j->deadline_ms = now + EXECD_KILL_GRACE_MS;
	execd_job_step(sp, j);
}

/* Spawn failed before the program existed: answer with err. */
static void
execd_job_fail(struct execd_sp *sp, struct execd_job *j, int err)
{
	j->err = err;
	j->flags |= EXECD_F_EXEC_FAILED;
	j->reaped = true;
	execd_job_finish(sp, j);
}

static int
execd_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	return fcntl(p[0], F_SETFL, O_NONBLOCK);
}

/* Start r's program in the free slot j. */
static void
execd_job_spawn(struct execd_sp *sp, struct execd_job *j,
    struct execd_req *r, uint64_t now)
{
	static char		 path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	const struct conf_exec	*ex = &sp->c->routes[r->route].exec;
	char			*envp[EXECD_ENV_MAX + 2], *s = r->env;
	int			 po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int			 px[2] = { -1, -1 }, e;
	struct execd_child	 a;
	uint32_t		 i;
	pid_t			 pid;

	execd_job_reset(j);
	j->job = r->job;
	j->route = r->route;
	j->state = EXECD_RUN;
	envp[0] = path;
	for (i = 0; i < r->n_env; i++, s += strlen(s) + 1)
		envp[i + 1] = s;
	envp[i + 1] = NULL;
	if ((j->memfd = memfd_create("ptftpd-exec", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 || execd_pipe(po) == -1 ||
	    execd_pipe(pe) == -1 || execd_pipe(px) == -1)
		goto fail;
	a = (struct execd_child){ .parent = sp->self, .in = sp->nullfd,
	    .out = po[1], .err = pe[1], .xfd = px[1], .argv = ex->argv,
	    .envp = envp };
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0)
		execd_child_run(&a);
	(void)setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	j->pid = pid;
	j->out = po[0];
	j->errp = pe[0];
	j->xfd = px[0];
	j->deadline_ms = now + ex->timeout_ms;
	j->counted = true;
	sp->running[j->route]++;
	return;
fail:
	e = errno;
	for (i = 0; i < 2; i++) {
		execd_close(&po[i]);
		execd_close(&pe[i]);
		execd_close(&px[i]);
	}
	execd_job_fail(sp, j, e);
}

/* Stdout into the memfd, at most max_bytes + 1 of it. */
static void
execd_job_read_out(struct execd_sp *sp, struct execd_job *j, uint64_t now)
{
	uint64_t	 max = sp->c->routes[j->route].exec.max_bytes;
	size_t		 want;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < EXECD_READS_PER_TURN && j->out != -1; i++) {
		want = sizeof(sp->buf);
		if (want > max + 1 - j->size)
			want = (size_t)(max + 1 - j->size);
		n = read(j->out, sp->buf, want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			execd_close(&j->out);
			break;
		}
		if (execd_write_all(j->memfd, sp->buf, (size_t)n) == -1) {
			j->err = errno;
			execd_job_kill(sp, j, 0, now);
			return;
		}
		j->size += (uint64_t)n;
		if (j->size > max) {
			execd_job_kill(sp, j, EXECD_F_TOO_BIG, now);
			return;
		}
	}
	execd_job_step(sp, j);
}

/* Stderr: keep the head, drain the rest so the program never blocks. */
static void
execd_job_read_err(struct execd_sp *sp, struct execd_job *j)
{
	size_t	 room;
	ssize_t	 n;
	int	 i;

	for (i = 0; i < EXECD_READS_PER_TURN && j->errp != -1; i++) {
		room = sizeof(j->err_head) - j->err_len;
		if (room > 0)
			n = read(j->errp, j->err_head + j->err_len, room);
		else
			n = read(j->errp, sp->buf, sizeof(sp->buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			execd_close(&j->errp);
			break;
		}
		if (room > 0)
			j->err_len += (size_t)n;
	}
	execd_job_step(sp, j);
}

/* The execve report: EOF means it ran, an int is the errno. */
static void
execd_job_read_x(struct execd_sp *sp, struct execd_job *j)
{
	ssize_t	n;
	int	e;

	n = read(j->xfd, &e, sizeof(e));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(e)) {
		j->err = e;
		j->flags |= EXECD_F_EXEC_FAILED;
	}
	execd_close(&j->xfd);
	execd_job_step(sp, j);
}

/*
 * Drain the signalfd, then reap every exited leader: seen with WNOWAIT
 * first, so that its group is killed while the zombie still owns the id.
 */
static void
execd_sp_reap(struct execd_sp *sp)
{
	struct signalfd_siginfo	 si[8];
	struct execd_job	*j;
	siginfo_t		 info;
	ssize_t			 n;
	size_t			 k;
	unsigned		 i;
	int			 rc;

	while ((n = read(sp->sigfd, si, sizeof(si))) > 0)
		for (k = 0; k < (size_t)n / sizeof(si[0]); k++)
			if (si[k].ssi_signo == SIGQUIT)
				sp->eof = true;
	for (i = 0; i < EXECD_JOBS_MAX; i++) {
		j = &sp->jobs[i];
		if (j->state == EXECD_FREE || j->reaped || j->pid <= 0)
			continue;
		memset(&info, 0, sizeof(info));
		rc = waitid(P_PID, (id_t)j->pid, &info, WEXITED | WNOHANG |
		    WNOWAIT);
		if ((rc == 0 && info.si_pid == 0) ||
		    (rc == -1 && errno == EINTR))
			continue;	/* still running */
		if (rc == 0)
			(void)kill(-j->pid, SIGKILL);
		while (waitpid(j->pid, &j->status, 0) == -1 && errno == EINTR)
			;
		j->reaped = true;
		execd_job_step(sp, j);
	}
}

/* Deadlines: the timeout kills; a kill without a reap, or pipes held
 * open after the program ended, give up at the next deadline. */
static void
execd_sp_expire(struct execd_sp *sp, uint64_t now)
{
	struct execd_job	*j;
	unsigned		 i;

	for (i = 0; i < EXECD_JOBS_MAX; i++) {
		j = &sp->jobs[i];
		if ((j->state != EXECD_RUN && j->state != EXECD_DRAIN) ||
		    now < j->deadline_ms)
			continue;
		if (j->state == EXECD_RUN && !j->killed) {
			execd_job_kill(sp, j, EXECD_F_TIMED_OUT, now);
			continue;
		}
		if ((j->flags & (EXECD_F_TIMED_OUT | EXECD_F_TOO_BIG)) == 0 &&
		    j->err == 0)
			j->flags |= EXECD_F_TIMED_OUT;
		execd_job_finish(sp, j);
	}
}

/*
 * Send one completion. Returns 0 when sent, 1 when the socket is full
 * (sp->blocked: wait for POLLOUT), -1 when the worker is gone (sp->eof).
 */
static int
execd_sp_send(struct execd_sp *sp, const struct execd_wire_done *w,
    const char *head, int fd)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int))];
	}			 cm;
	struct iovec		 iov[2];
	struct msghdr		 mh;
	ssize_t			 n;

	execd_msg_init(&mh, iov, w, sizeof(*w), head, w->err_len);
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	do
		n = sendmsg(sp->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		sp->blocked = true;
		return 1;
	}
	sp->eof = true;
	return -1;
}

/* Send every finished job's completion the socket takes. */
static void
execd_sp_flush(struct execd_sp *sp)
{
	struct execd_wire_done	 w;
	struct execd_job	*j;
	unsigned		 i;

	for (i = 0; i < EXECD_JOBS_MAX && !sp->blocked && !sp->eof; i++) {
		j = &sp->jobs[i];
		if (j->state != EXECD_SEND)
			continue;
		memset(&w, 0, sizeof(w));
		w.job = j->job;
		w.status = (j->reaped && !(j->flags & EXECD_F_EXEC_FAILED)) ?
		    j->status : -1;
		w.err = j->err;
		w.flags = j->flags | (j->memfd != -1 ? EXECD_F_FD : 0);
		w.size = j->memfd != -1 ? j->size : 0;
		w.err_len = (uint32_t)j->err_len;
		if (execd_sp_send(sp, &w, j->err_head, j->memfd) != 0)
			break;
		execd_close(&j->memfd);
		if (j->reaped)
			execd_job_reset(j);
		else
			j->state = EXECD_ORPHAN;
	}
}

static void
execd_sp_dequeue(struct execd_sp *sp, unsigned i)
{
	sp->spare[sp->nspare++] = sp->queue[i];
	memmove(&sp->queue[i], &sp->queue[i + 1],
	    (sp->nq - i - 1) * sizeof(sp->queue[0]));
	sp->nq--;
}

static struct execd_job *
execd_sp_free_job(struct execd_sp *sp)
{
	unsigned	i;

	for (i = 0; i < EXECD_JOBS_MAX; i++)
		if (sp->jobs[i].state == EXECD_FREE)
			return &sp->jobs[i];
	return NULL;
}

/* Start what the limits allow, oldest first; answer the refused. */
static void
execd_sp_schedule(struct execd_sp *sp, uint64_t now)
{
	struct execd_wire_done	 w;
	struct execd_req	*r;
	struct execd_job	*j;
	unsigned		 i = 0;

	while (i < sp->nq && !sp->eof) {
		r = sp->queue[i];
		if (r->err == 0 && now >= r->deadline_ms)
			r->err = EBUSY;
		if (r->err != 0) {
			memset(&w, 0, sizeof(w));
			w.job = r->job;
			w.status = -1;
			w.err = r->err;
			w.flags = EXECD_F_EXEC_FAILED;
			if (sp->blocked || execd_sp_send(sp, &w, NULL, -1) != 0)
				i++;
			else
				execd_sp_dequeue(sp, i);
			continue;
		}
		if (sp->running[r->route] <
		    sp->c->routes[r->route].exec.max_concurrent &&
		    (j = execd_sp_free_job(sp)) != NULL) {
			execd_job_spawn(sp, j, r, now);
			execd_sp_dequeue(sp, i);
			continue;
		}
		i++;
	}
}

/* Check a received request; a bad one is kept to be answered EINVAL. */
static void
execd_req_check(const struct execd_sp *sp, struct execd_req *r,
    size_t len, bool trunc, uint64_t now)
{
	const struct conf_route	*rt;
	size_t			 off = 0, l;
	uint32_t		 i;

	r->err = EINVAL;
	r->deadline_ms = now;
	if (trunc || r->route >= sp->c->n_routes || r->n_env > EXECD_ENV_MAX)
		return;
	rt = &sp->c->routes[r->route];
	if (rt->handler != CONF_HANDLER_EXEC || rt->exec.argv == NULL)
		return;
	for (i = 0; i < r->n_env; i++) {
		l = strnlen(r->env + off, len - off);
		if (l == len - off || !execd_env_ok(r->env + off, l))
			return;
		off += l + 1;
	}
	if (off != len)
		return;
	r->err = 0;
	r->deadline_ms = now + rt->exec.timeout_ms;
}

/* Take requests while the queue has room. */
static void
execd_sp_recv(struct execd_sp *sp, uint64_t now)
{
	struct execd_wire_req	 h;
	struct execd_req	*r;
	struct iovec		 iov[2];
	struct msghdr		 mh;
	ssize_t			 n;

	while (sp->nspare > 0 && !sp->eof) {
		r = sp->spare[sp->nspare - 1];
		execd_msg_init(&mh, iov, &h, sizeof(h), r->env,
		    sizeof(r->env));
		n = recvmsg(sp->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0) {
			sp->eof = true;
			return;
		}
		if ((size_t)n < sizeof(h))
			continue;	/* not even a job id to answer */
		r->job = h.job;
		r->route = h.route;
		r->n_env = h.n_env;
		execd_req_check(sp, r, (size_t)n - sizeof(h),
		    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0, now);
		sp->nspare--;
		sp->queue[sp->nq++] = r;
	}
}

static void
execd_sp_job_fd(struct execd_sp *sp, const struct pollfd *p,
    const struct execd_pref *ref, uint64_t now)
{
	struct execd_job	*j = ref->j;

	/* An earlier event of this turn may have closed it. */
	switch (ref->what) {
	case EXECD_P_OUT:
		if (j->out == p->fd)
			execd_job_read_out(sp, j, now);
		break;
	case EXECD_P_ERR:
		if (j->errp == p->fd)
			execd_job_read_err(sp, j);
		break;
	case EXECD_P_X:
		if (j->xfd == p->fd)
			execd_job_read_x(sp, j);
		break;
	case EXECD_P_SOCK:
	case EXECD_P_SIG:
		break;
	}
}

static nfds_t
execd_sp_pollset(struct execd_sp *sp, struct pollfd *pfd,
    struct execd_pref *ref)
{
	static const enum execd_pwhat	 what[3] = {
		EXECD_P_OUT, EXECD_P_ERR, EXECD_P_X
	};
	struct execd_job		*j;
	nfds_t				 n = 0;
	unsigned			 i, k;
	int				 fds[3];

	pfd[n] = (struct pollfd){ .fd = sp->sock, .events =
	    (sp->nspare > 0 ? POLLIN : 0) | (sp->blocked ? POLLOUT : 0) };
	ref[n++] = (struct execd_pref){ EXECD_P_SOCK, NULL };
	pfd[n] = (struct pollfd){ .fd = sp->sigfd, .events = POLLIN };
	ref[n++] = (struct execd_pref){ EXECD_P_SIG, NULL };
	for (i = 0; i < EXECD_JOBS_MAX; i++) {
		j = &sp->jobs[i];
		fds[0] = j->out;
		fds[1] = j->errp;
		fds[2] = j->xfd;
		for (k = 0; k < 3; k++) {
			if (fds[k] == -1)
				continue;
			pfd[n] = (struct pollfd){ .fd = fds[k],
			    .events = POLLIN };
			ref[n++] = (struct execd_pref){ what[k], j };
		}
	}
	return n;
}

/* Milliseconds to the next deadline; -1: none. */
static int
execd_sp_wait_ms(const struct execd_sp *sp, uint64_t now)
{
	const struct execd_job	*j;
	uint64_t		 min = UINT64_MAX;
	unsigned		 i;

	for (i = 0; i < EXECD_JOBS_MAX; i++) {
		j = &sp->jobs[i];
		if ((j->state == EXECD_RUN || j->state == EXECD_DRAIN) &&
		    j->deadline_ms < min)
			min = j->deadline_ms;
	}
	for (i = 0; i < sp->nq; i++) {
		if (sp->queue[i]->err != 0 && !sp->blocked)
			return 0;
		if (sp->queue[i]->deadline_ms < min)
			min = sp->queue[i]->deadline_ms;
	}
	if (min == UINT64_MAX)
		return -1;
	if (min <= now)
		return 0;
	return min - now > INT_MAX ? INT_MAX : (int)(min - now);
}

/* One turn of the loop: deadlines, starts, sends, then wait. */
static void
execd_sp_turn(struct execd_sp *sp)
{
	struct pollfd		 pfd[EXECD_NFDS];
	struct execd_pref	 ref[EXECD_NFDS];
	uint64_t		 now = clock_now_ms();
	nfds_t			 n, k;

	execd_sp_expire(sp, now);
	execd_sp_schedule(sp, now);
	execd_sp_flush(sp);
	if (sp->eof)
		return;
	n = execd_sp_pollset(sp, pfd, ref);
	if (poll(pfd, n, execd_sp_wait_ms(sp, now)) == -1) {
		if (errno != EINTR)
			sp->eof = true;
		return;
	}
	now = clock_now_ms();
	for (k = 0; k < n && !sp->eof; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (ref[k].what == EXECD_P_SIG) {
			execd_sp_reap(sp);
		} else if (ref[k].what == EXECD_P_SOCK) {
			if (pfd[k].revents & POLLOUT)
				sp->blocked = false;
			if (pfd[k].revents & (POLLHUP | POLLERR | POLLNVAL))
				sp->eof = true;
			else if (pfd[k].revents & POLLIN)
				execd_sp_recv(sp, now);
		} else {
			execd_sp_job_fd(sp, &pfd[k], &ref[k], now);
		}
	}
}

/* The worker is gone: kill every group, reap for a bounded time, free. */
static void
execd_sp_shutdown(struct execd_sp *sp)
{
	struct pollfd	 p = { .fd = sp->sigfd, .events = POLLIN };
	uint64_t	 now = clock_now_ms(), end = now + EXECD_KILL_GRACE_MS;
	unsigned	 i, left;

	for (i = 0; i < EXECD_JOBS_MAX; i++) {
		if (sp->jobs[i].pid > 0 && !sp->jobs[i].reaped)
			(void)kill(-sp->jobs[i].pid, SIGKILL);
		execd_job_close_pipes(&sp->jobs[i]);
	}
	for (;;) {
		for (i = 0, left = 0; i < EXECD_JOBS_MAX; i++)
			if (sp->jobs[i].pid > 0 && !sp->jobs[i].reaped)
				left++;
		if (left == 0 || (now = clock_now_ms()) >= end)
			break;
		(void)poll(&p, 1, (int)(end - now));
		execd_sp_reap(sp);
	}
	for (i = 0; i < EXECD_JOBS_MAX; i++)
		execd_close(&sp->jobs[i].memfd);
}

/*
 * The spawner's process set-up: signals (see the top), parent-death
 * signal, and fds: the socket moves to 3, 0-2 stay taken (a placeholder
 * where the worker had none, so a pipe never lands there) and every other
 * inherited fd (listen sockets, the control pipe) is closed.
 */
static int
execd_sp_process(int *sock, pid_t parent, sigset_t *set)
{
	static const int	 ign[] = {
		SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE
	};
	struct sigaction	 sa;
	size_t			 i;
	int			 fd, s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		(void)sigaction(ign[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGQUIT);
	if (sigprocmask(SIG_SETMASK, set, NULL) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1 || getppid() != parent)
		return -1;
	if ((fd = fcntl(*sock, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	close(*sock);
	for (s = 0; s < 3; s++)
		if (fcntl(s, F_GETFD) == -1 &&
		    fcntl(fd, F_DUPFD_CLOEXEC, s) == -1)
			return -1;
	if (fd != 3 && dup3(fd, 3, O_CLOEXEC) == -1)
		return -1;
	closefrom(4);
	*sock = 3;
	return 0;
}

static int
execd_sp_init(struct execd_sp *sp, const struct conf *c, int sock,
    const sigset_t *set)
{
	int	p[2];
	unsigned i;

	sp->c = c;
	sp->self = getpid();
	sp->sock = sock;
	for (i = 0; i < EXECD_JOBS_MAX; i++)
		execd_job_reset(&sp->jobs[i]);
	for (i = 0; i < EXECD_QUEUE_MAX; i++)
		sp->spare[sp->nspare++] = &sp->reqs[EXECD_QUEUE_MAX - 1 - i];
	if ((sp->running = calloc(c->n_routes + 1, sizeof(unsigned))) ==
	    NULL)
		return -1;
	if ((sp->sigfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)) ==
	    -1)
		return -1;
	/* No /dev/null (a chroot): a pipe with no writer reads EOF too. */
	if ((sp->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		if (pipe2(p, O_CLOEXEC) == -1)
			return -1;
		close(p[1]);
		sp->nullfd = p[0];
	}
	return 0;
}

/* The spawner process; returns its exit status. */
static int
execd_spawner_main(int sock, const struct conf *c, pid_t parent)
{
	struct execd_sp	*sp;
	sigset_t	 set;
	int		 rc = 1;

	if (execd_sp_process(&sock, parent, &set) == -1)
		return 1;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return 1;
	sp->sigfd = sp->nullfd = -1;
	if (execd_sp_init(sp, c, sock, &set) == 0) {
		while (!sp->eof)
			execd_sp_turn(sp);
		execd_sp_shutdown(sp);
		rc = 0;
	}
	execd_close(&sp->sigfd);
	execd_close(&sp->nullfd);
	free(sp->running);
	free(sp);
	close(sock);
	return rc;
}

/* ===== The worker's side ===== */

/* See execd.h. */
int
execd_start(struct execd *e, const struct conf *c)
{
	pid_t	parent = getpid(), pid;
	int	sv[2], saved;

	e->fd = -1;
	e->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		const char	*what;

		close(sv[0]);
		/* The worker forks us before its chroot and its privilege
		 * drop; programs run unchrooted, as the unprivileged user. */
		if (priv_drop(c->user, c->group, NULL, &what) == -1)
			_exit(2);
		_exit(execd_spawner_main(sv[1], c, parent));
	}
	close(sv[1]);
	e->fd = sv[0];
	e->pid = pid;
	return 0;
}

/* See execd.h. */
int
execd_submit(struct execd *e, uint32_t job, unsigned route_index,
    const char *const env[])
{
	struct execd_wire_req	 h;
	struct iovec		 iov[1 + EXECD_ENV_MAX];
	struct msghdr		 mh;
	size_t			 n, len, total = sizeof(h);
	ssize_t			 rc;

	for (n = 0; env != NULL && env[n] != NULL; n++) {
		len = strlen(env[n]);
		total += len + 1;
		if (n == EXECD_ENV_MAX || total > EXECD_MSG_MAX ||
		    !execd_env_ok(env[n], len)) {
			errno = EINVAL;
			return -1;
		}
		iov[1 + n].iov_base = (void *)(uintptr_t)env[n];
		iov[1 + n].iov_len = len + 1;
	}
	if (e->fd == -1) {
		errno = EPIPE;
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.job = job;
	h.route = route_index;
	h.n_env = (uint32_t)n;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 1 + n;
	do
		rc = sendmsg(e->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (rc == -1 && errno == EINTR);
	if (rc == -1) {
		if (errno == ECONNRESET || errno == ENOTCONN)
			errno = EPIPE;
		return -1;
	}
	return 0;
}

/* See execd.h. */
int
execd_fd(const struct execd *e)
{
	return e->fd;
}

/* The fds of an SCM_RIGHTS message: the first into *fd, others closed. */
static void
execd_take_fds(struct msghdr *mh, int *fd)
{
	struct cmsghdr	*ch;
	size_t		 i, nfd;
	int		 f;

	for (ch = CMSG_FIRSTHDR(mh); ch != NULL; ch = CMSG_NXTHDR(mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET ||
		    ch->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&f, CMSG_DATA(ch) + i * sizeof(int), sizeof(f));
			if (*fd == -1)
				*fd = f;
			else
				close(f);
		}
	}
}

/* See execd.h. */
int
execd_read(struct execd *e, struct execd_done *done)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int))];
	}			 cm;
	struct execd_wire_done	 w;
	struct iovec		 iov[2];
	struct msghdr		 mh;
	ssize_t			 n;
	int			 fd = -1;

	memset(done, 0, sizeof(*done));
	done->memfd = -1;
	done->status = -1;
	if (e->fd == -1) {
		errno = EPIPE;
		return -1;
	}
	execd_msg_init(&mh, iov, &w, sizeof(w), done->err_head,
	    sizeof(done->err_head));
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(e->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ECONNRESET)
			errno = EPIPE;
		return -1;
	}
	if (n == 0) {
		errno = EPIPE;
		return -1;
	}
	execd_take_fds(&mh, &fd);
	if ((size_t)n < sizeof(w) ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    w.err_len != (size_t)n - sizeof(w) ||
	    ((w.flags & EXECD_F_FD) != 0) != (fd != -1)) {
		if (fd != -1)
			close(fd);
		memset(done, 0, sizeof(*done));
		done->memfd = -1;
		errno = EPROTO;
		return -1;
	}
	done->job = w.job;
	done->status = w.status;
	done->err = w.err;
	done->timed_out = (w.flags & EXECD_F_TIMED_OUT) != 0;
	done->too_big = (w.flags & EXECD_F_TOO_BIG) != 0;
	done->exec_failed = (w.flags & EXECD_F_EXEC_FAILED) != 0;
	done->err_len = w.err_len;
	done->memfd = fd;
	done->size = w.size;
	return 1;
}

/* See execd.h. */
bool
execd_done_ok(const struct execd_done *done)
{
	return !done->exec_failed && !done->timed_out && !done->too_big &&
	    done->err == 0 && done->status != -1 &&
	    WIFEXITED(done->status) && WEXITSTATUS(done->status) == 0;
}

/* See execd.h. */
void
execd_stop(struct execd *e)
{
	if (e->fd != -1) {
		close(e->fd);
		e->fd = -1;
	}
	if (e->pid > 0) {
		while (waitpid(e->pid, NULL, 0) == -1 && errno == EINTR)
			;
		e->pid = -1;
	}
}
