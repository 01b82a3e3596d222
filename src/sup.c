/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sup.c - the supervisor process. It owns the worker slot table, the
 * listen sockets (bound once, kept for the supervisor's life, inherited
 * by each worker of the slot, so the kernel's reuseport group does not
 * change when a worker is replaced), the operator's signals, respawn with
 * back-off, reload by generations (each with its config and its loaded
 * modules, struct modset, freed together when its last worker is gone),
 * drain, the pid file. It never parses a packet and never serves a file.
 * Its size (about 1,300 lines) is one state machine over struct sup:
 * binding, forking, reaping, reloading and the signal loop all read and
 * change the same slot table, which no other file sees.
 *
 * Slot life:  FREE --fork--> RUN --exit--> (respawn wait) --fork--> RUN
 *                             |                        \--exit 2--> FREE
 *                             +--reload/TERM--> RETIRING --exit--> FREE
 *
 * Signals are all blocked and taken with sigtimedwait() in the main loop:
 * no work happens in a handler. TERM drains, a second TERM stops at once,
 * INT and QUIT stop at once, HUP reloads, CHLD reaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "clock.h"
#include "conf.h"
#include "excl.h"
#include "log.h"
#include "module.h"
#include "net.h"
#include "stats.h"
#include "sup.h"
#include "worker.h"

#define SUP_MAX_SLOTS		512	/* two generations of 256 workers */
#define SUP_BACKOFF_MIN_MS	100
#define SUP_BACKOFF_MAX_MS	5000
#define SUP_STABLE_MS		10000	/* a worker alive this long was fine */
#define SUP_KILL_GRACE_MS	2000

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RUN,		/* worker running or waiting to be respawned */
	SLOT_RETIRING,		/* old generation, draining */
};

struct slot {
	enum slot_state	 state;
	pid_t		 pid;		/* 0: not running */
	unsigned	 index;		/* worker number within its generation */
	unsigned	 gen;
	const struct conf *conf;	/* the generation's config */
	struct modset	*mods;		/* ... and its modules */
	int		 lfds[CONF_MAX_LISTEN];
	unsigned	 nlfds;
	uint64_t	 started_ms;
	uint64_t	 respawn_at_ms;	/* 0: none pending */
	pid_t		 wait_pid;	/* single port: start after this
					 * (the slot's old worker) exits */
	bool		 ready;		/* its worker said it is serving */
	uint32_t	 backoff_ms;
};

struct sup {
	struct conf		*conf;		/* current generation */
	struct conf		*old_confs[8];	/* retiring generations */
	struct modset		*mods;		/* conf's modules (module.c) */
	struct modset		*old_mods[8];	/* old_confs[i]'s */
	const struct sup_opts	*opts;
	struct slot		 slots[SUP_MAX_SLOTS];
	unsigned		 gen;
	bool			 draining;
	uint64_t		 stop_deadline_ms;
	int			 pid_fd;
	char			 pid_path[4096];
	struct stats_seg	 stats;
	char			*stats_path;	/* segment file we created */
	int			 ctl[2];	/* pipe: workers read, we hold the
						 * write end; EOF = we died */
	int			 rdy[2];	/* pipe: a worker writes its pid
						 * when serving; SIGIO wakes us */
	unsigned		 ready_gen;	/* generation READY=1 was sent for */
	struct sup_opts		 aopts;		/* opts with absolute paths */
	char			*aconf, *aroot;	/* ... owned here */
	uint64_t		 next_stats_ms;	/* stats.interval; 0: off */
	char			 why[512];	/* why the last bind failed, for
						 * a reload's STATUS= */
};

/*
 * systemd readiness protocol (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET ("@" means the abstract namespace). Does
 * nothing when not started by systemd.
 */
static void
sup_notify(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	plen = strlen(path);
	if (plen >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify");
	close(fd);
}

int
sup_apply_opts(struct conf *c, const struct sup_opts *o, char *err,
    size_t errlen)
{
	if (o->port != NULL && conf_set_port(c, o->port, err, errlen) == -1)
		return -1;
	if (o->root != NULL && conf_set_root(c, o->root, err, errlen) == -1)
		return -1;
	if (o->workers != NULL &&
	    conf_set_workers(c, o->workers, err, errlen) == -1)
		return -1;
	if (o->verbose > 0)
		c->log.level = LOG_DEBUG;
	if (o->foreground && o->verbose > 0)
		c->log.target = LOG_TARGET_STDERR;
	return 0;
}

static void
sup_close_fds(struct slot *sl)
{
	unsigned	 i;

	for (i = 0; i < sl->nlfds; i++)
		if (sl->lfds[i] != -1)
			close(sl->lfds[i]);
	sl->nlfds = 0;
}

/*
 * Give slot sl one listen socket per listen address of its config. Where
 * `donor` (the running slot of the same index in the previous generation)
 * has a socket for the same address, the new slot shares it (dup), so a
 * reload that keeps the addresses does not change the reuseport group.
 * Returns 0, or -1 (logged) with the slot's sockets closed.
 */
static int
sup_bind_slot(struct slot *sl, const struct slot *donor)
{
	const struct conf	*c = sl->conf;
	unsigned		 i, j;

	sl->nlfds = c->n_listen;
	for (i = 0; i < c->n_listen; i++)
		sl->lfds[i] = -1;
	for (i = 0; i < c->n_listen; i++) {
		const struct conf_listen	*l = &c->listen[i];

		for (j = 0; donor != NULL && j < donor->nlfds; j++) {
			const struct conf_listen *x = &donor->conf->listen[j];

			if (donor->lfds[j] != -1 && x->port == l->port &&
			    strcmp(x->address, l->address) == 0) {
				sl->lfds[i] = fcntl(donor->lfds[j],
				    F_DUPFD_CLOEXEC, 0);
				break;
			}
		}
		if (sl->lfds[i] == -1)
			sl->lfds[i] = net_listen(&l->ss, l->sslen, c->rcvbuf);
		if (sl->lfds[i] == -1) {
			struct excl_holder	 h;
			int			 saved = errno;

			if (saved == EADDRINUSE &&
			    excl_find(&l->ss, NULL, 0, &h) == 1 && h.pid > 0)
				log_warnx("bind %s%s%s port %u: address in use "
				    "by pid %ld (%s)",
				    l->ss.ss_family == AF_INET6 ? "[" : "",
				    l->address,
				    l->ss.ss_family == AF_INET6 ? "]" : "",
				    l->port, (long)h.pid, h.comm);
			else {
				errno = saved;
				log_warn("bind %s%s%s port %u",
				    l->ss.ss_family == AF_INET6 ? "[" : "",
				    l->address,
				    l->ss.ss_family == AF_INET6 ? "]" : "",
				    l->port);
			}
			sup_close_fds(sl);
			return -1;
		}
	}
	return 0;
}

/*
 * Every transfer holds a socket, and so does every pooled one: raise
 * RLIMIT_NOFILE to what session.max_per_worker and session.socket_pool
 * need (the usual soft limit is 1024), going past the hard limit only
 * when we are root. Workers inherit it.
 */
static void
sup_raise_nofile(const struct conf *c)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)c->session.max_per_worker +
	    c->session.socket_pool + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit	 up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want)
		log_warnx("open file limit %llu is below session.max_per_worker"
		    " + session.socket_pool + 256 = %llu: transfers will be "
		    "refused early",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

/* Fork the worker of slot sl. In the child: close everything that is not
 * this slot's, run the worker, exit with its code. */
static int
sup_fork(struct sup *s, struct slot *sl)
{
	pid_t		 pid;
	unsigned	 i;
	int		 rc;

	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		struct worker_args	 a;

		for (i = 0; i < SUP_MAX_SLOTS; i++)
			if (&s->slots[i] != sl)
				sup_close_fds(&s->slots[i]);
		if (s->pid_fd != -1)
			close(s->pid_fd);
		/* Only the supervisor may hold the write end, or the
		 * worker would never see EOF when the supervisor dies. */
		if (s->ctl[1] != -1)
			close(s->ctl[1]);
		if (s->rdy[0] != -1)
			close(s->rdy[0]);
		memset(&a, 0, sizeof(a));
		a.stats = s->stats.slots == NULL ? NULL :
		    &s->stats.slots[sl - s->slots];
		a.gen = sl->gen;
		a.conf = sl->conf;
		a.mods = sl->mods;
		a.id = sl->index;
		a.lfds = sl->lfds;
		a.nlfds = sl->nlfds;
		a.ctl_fd = s->ctl[0];
		a.ready_fd = s->rdy[1];
		rc = worker_main(&a);
#ifdef __SANITIZE_ADDRESS__
		/* _exit skips LeakSanitizer's atexit check: run it here, so
		 * make check SANITIZE=1 sees a worker's leaks too. Only
		 * without the syscall filter: the check clones and ptraces. */
		if (!sl->conf->seccomp)
			__lsan_do_leak_check();
#endif
		_exit(rc);
	}
	sl->pid = pid;
	sl->ready = false;
	sl->started_ms = clock_now_ms();
	sl->respawn_at_ms = 0;
	log_debug("worker %u (generation %u) started, pid %ld", sl->index,
	    sl->gen, (long)pid);
	return 0;
}

static struct slot *
sup_free_slot(struct sup *s)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state == SLOT_FREE)
			return &s->slots[i];
	return NULL;
}

/* The running slot of worker number `index` of an older generation. */
static struct slot *
sup_find_older(struct sup *s, unsigned index, unsigned gen)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state == SLOT_RUN &&
		    s->slots[i].index == index && s->slots[i].gen != gen)
			return &s->slots[i];
	return NULL;
}

/* "[::1]" or "127.0.0.1" for a log line. */
static const char *
sup_addr_text(const struct conf_listen *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", l->ss.ss_family == AF_INET6 ? "[" : "",
	    l->address, l->ss.ss_family == AF_INET6 ? "]" : "");
	return buf;
}

/*
 * One server per listen address: with every socket of c bound (ours, with
 * SO_REUSEPORT), is another process's socket on the same port and an
 * overlapping address? Then the kernel would share the requests with it:
 * log who holds it and return -1. Sockets of our own slots and of our
 * draining workers are ours, so a reload and a respawn pass.
 */
static int
sup_check_excl(struct sup *s, const struct conf *c)
{
	ino_t		 ours[SUP_MAX_SLOTS * CONF_MAX_LISTEN];
	size_t		 n = 0;
	unsigned	 i, j;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		for (j = 0; j < s->slots[i].nlfds; j++) {
			struct stat	 st;

			if (s->slots[i].lfds[j] != -1 &&
			    fstat(s->slots[i].lfds[j], &st) == 0)
				ours[n++] = st.st_ino;
		}
	for (i = 0; i < c->n_listen; i++) {
		struct excl_holder	 h;
		char			 a[80], *why = s->why;
		size_t			 wl = sizeof(s->why);
		int			 r;

		r = excl_find(&c->listen[i].ss, ours, n, &h);
		if (r == -1) {
			log_warn("listen %s port %u: cannot check for another "
			    "server (/proc/net)", sup_addr_text(&c->listen[i],
			    a, sizeof(a)), c->listen[i].port);
			continue;
		}
		if (r == 0)
			continue;
		if (h.pid > 0)
			snprintf(why, wl, "listen %s port %u: already served "
			    "by pid %ld (%s); one ptftpd per listen address, "
			    "refusing to share it", sup_addr_text(&c->listen[i],
			    a, sizeof(a)), c->listen[i].port, (long)h.pid,
			    h.comm[0] != '\0' ? h.comm : "?");
		else
			snprintf(why, wl, "listen %s port %u: already bound "
			    "by a process of uid %lu that we cannot see (socket "
			    "inode %lu); one ptftpd per listen address, "
			    "refusing to share it", sup_addr_text(&c->listen[i],
			    a, sizeof(a)), c->listen[i].port,
			    (unsigned long)h.uid, (unsigned long)h.ino);
		log_warnx("%s", why);
		/* Typed by hand with syslog as the log target: say it where
		 * the operator looks too. */
		if (c->log.target != LOG_TARGET_STDERR && isatty(STDERR_FILENO))
			fprintf(stderr, "ptftpd: %s\n", why);
		return -1;
	}
	return 0;
}

/*
 * Bind generation s->gen with config c: one slot per worker, sockets
 * taken over from the running generation where the address is the same,
 * then the one-server-per-address check. Nothing is forked. Fills
 * fresh[] (room for c->workers) and *np. Returns 0, or -1 with every
 * fresh slot freed.
 */
static int
sup_bind_generation(struct sup *s, const struct conf *c, struct modset *ms,
    struct slot **fresh, unsigned *np)
{
	struct slot	*donor;
	unsigned	 i, n = 0;

	for (i = 0; i < c->workers; i++) {
		struct slot	*sl = sup_free_slot(s);

		if (sl == NULL) {
			log_warnx("no free worker slot");
			goto fail;
		}
		memset(sl, 0, sizeof(*sl));
		sl->state = SLOT_RUN;
		sl->index = i;
		sl->gen = s->gen;
		sl->conf = c;
		sl->mods = ms;
		sl->backoff_ms = SUP_BACKOFF_MIN_MS;
		donor = sup_find_older(s, i, s->gen);
		if (sup_bind_slot(sl, donor) == -1) {
			sl->state = SLOT_FREE;
			goto fail;
		}
		/* Single port mode: a transfer's ACKs come in on the listen
		 * socket it shares with its successor; two workers reading
		 * one socket would take each other's ACKs. The successor
		 * starts when the draining worker has finished. */
		if (donor != NULL && donor->pid > 0 &&
		    (c->single_port || donor->conf->single_port))
			sl->wait_pid = donor->pid;
		fresh[n++] = sl;
	}
	if (sup_check_excl(s, c) == -1)
		goto fail;
	*np = n;
	return 0;
fail:
	for (i = 0; i < n; i++) {
		sup_close_fds(fresh[i]);
		fresh[i]->state = SLOT_FREE;
	}
	return -1;
}

/* Fork the workers of bound slots (not those waiting for a predecessor). */
static void
sup_fork_generation(struct sup *s, struct slot **fresh, unsigned n)
{
	unsigned	 i;

	for (i = 0; i < n; i++)
		if (fresh[i]->wait_pid == 0 && sup_fork(s, fresh[i]) == -1)
			fresh[i]->respawn_at_ms = clock_now_ms() +
			    fresh[i]->backoff_ms;
}

/*
 * Start generation s->gen with config c and its modules ms (reload):
 * bind, then fork. The
 * old generation's slots are returned RETIRING in their own state.
 * Returns 0, or -1 if a socket could not be bound (nothing was started).
 */
static int
sup_start_generation(struct sup *s, const struct conf *c, struct modset *ms)
{
	struct slot	*fresh[256];
	unsigned	 n;

	s->why[0] = '\0';
	if (sup_bind_generation(s, c, ms, fresh, &n) == -1)
		return -1;
	sup_fork_generation(s, fresh, n);
	return 0;
}

/* Ask every slot of generations other than `keep` to drain (TERM) and
 * close the supervisor's copies of their sockets: sockets still used by
 * the new generation live on in its duplicates, the others leave the
 * reuseport group as soon as the draining worker closes its own copy. */
static void
sup_retire(struct sup *s, unsigned keep)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++) {
		struct slot	*sl = &s->slots[i];

		if (sl->state != SLOT_RUN || sl->gen == keep)
			continue;
		sup_close_fds(sl);
		if (sl->pid > 0) {
			sl->state = SLOT_RETIRING;
			kill(sl->pid, SIGTERM);
		} else {
			sl->state = SLOT_FREE;
		}
	}
}

struct modset *
sup_modules_load(const struct conf *c, char *err, size_t errlen)
{
	struct modset	*ms;

	if ((ms = calloc(1, sizeof(*ms))) == NULL) {
		snprintf(err, errlen, "%s: modules: out of memory", c->path);
		return NULL;
	}
	if (module_set_load(c, ms, err, errlen) == -1) {
		free(ms);
		return NULL;
	}
	return ms;
}

void
sup_modules_free(struct modset *ms)
{
	if (ms == NULL)
		return;
	module_set_free(ms);
	free(ms);
}

/* Free a generation: its config and the modules loaded for it. */
static void
sup_gen_free(struct conf *c, struct modset *ms)
{
	sup_modules_free(ms);
	if (c != NULL) {
		conf_free(c);
		free(c);
	}
}

/* Free configs (and their modules) no slot uses any more. */
static void
sup_gc_confs(struct sup *s)
{
	unsigned	 i, j;

	for (i = 0; i < sizeof(s->old_confs) / sizeof(s->old_confs[0]); i++) {
		struct conf	*c = s->old_confs[i];
		bool		 used = false;

		if (c == NULL)
			continue;
		for (j = 0; j < SUP_MAX_SLOTS && !used; j++)
			used = s->slots[j].state != SLOT_FREE &&
			    s->slots[j].conf == c;
		if (!used) {
			sup_gen_free(c, s->old_mods[i]);
			s->old_confs[i] = NULL;
			s->old_mods[i] = NULL;
		}
	}
}

static void
sup_log_exit(const struct slot *sl, int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("worker %u (pid %ld) exited", sl->index,
		    (long)sl->pid);
	else if (WIFEXITED(st))
		log_warnx("worker %u (pid %ld) exited with status %d",
		    sl->index, (long)sl->pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		log_warnx("worker %u (pid %ld) killed by signal %d (%s)%s",
		    sl->index, (long)sl->pid, WTERMSIG(st),
		    strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" :
		    "");
}

/* Slots waiting for pid to exit (single port reload) start now. */
static void
sup_release_waiters(struct sup *s, pid_t pid, uint64_t now)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state == SLOT_RUN &&
		    s->slots[i].wait_pid == pid) {
			s->slots[i].wait_pid = 0;
			s->slots[i].respawn_at_ms = now;
		}
}

/* Reap every exited child; schedule respawns with back-off. */
static void
sup_reap(struct sup *s, uint64_t now)
{
	pid_t		 pid;
	int		 st;
	unsigned	 i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct slot	*sl = NULL;

		for (i = 0; i < SUP_MAX_SLOTS && sl == NULL; i++)
			if (s->slots[i].state != SLOT_FREE &&
			    s->slots[i].pid == pid)
				sl = &s->slots[i];
		if (sl == NULL)
			continue;
		sup_log_exit(sl, st);
		sup_release_waiters(s, pid, now);
		sl->pid = 0;
		if (s->stats.slots != NULL)
			STATS_SET(&s->stats.slots[sl - s->slots], state,
			    STATS_W_EXITED);
		if (sl->state == SLOT_RETIRING || s->draining) {
			sup_close_fds(sl);
			sl->state = SLOT_FREE;
			continue;
		}
		/* Not asked to stop: a crash, apart from reloads. */
		stats_note_crash(&s->stats);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
			/* The worker could not start (root, user, memory):
			 * the same config fails again; do not loop. */
			log_warnx("worker %u failed at start-up, not "
			    "respawning it", sl->index);
			sup_close_fds(sl);
			sl->state = SLOT_FREE;
			continue;
		}
		if (now - sl->started_ms >= SUP_STABLE_MS)
			sl->backoff_ms = SUP_BACKOFF_MIN_MS;
		sl->respawn_at_ms = now + sl->backoff_ms;
		if (sl->backoff_ms > SUP_BACKOFF_MIN_MS)
			log_warnx("worker %u crashing repeatedly, respawn in "
			    "%u ms", sl->index, sl->backoff_ms);
		sl->backoff_ms = sl->backoff_ms * 2 > SUP_BACKOFF_MAX_MS ?
		    SUP_BACKOFF_MAX_MS : sl->backoff_ms * 2;
	}
	sup_gc_confs(s);
}

static void
sup_respawn_due(struct sup *s, uint64_t now)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++) {
		struct slot	*sl = &s->slots[i];

		if (sl->state == SLOT_RUN && sl->pid == 0 &&
		    sl->respawn_at_ms != 0 && now >= sl->respawn_at_ms &&
		    sup_fork(s, sl) == -1)
			sl->respawn_at_ms = now + SUP_BACKOFF_MAX_MS;
	}
}

/* ms until the next respawn or stop deadline; -1 for none. */
static int64_t
sup_next_wait(const struct sup *s, uint64_t now)
{
	uint64_t	 next = UINT64_MAX;
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state == SLOT_RUN && s->slots[i].pid == 0 &&
		    s->slots[i].respawn_at_ms != 0 &&
		    s->slots[i].respawn_at_ms < next)
			next = s->slots[i].respawn_at_ms;
	if (s->stop_deadline_ms != 0 && s->stop_deadline_ms < next)
		next = s->stop_deadline_ms;
	if (s->next_stats_ms != 0 && s->next_stats_ms < next)
		next = s->next_stats_ms;
	if (next == UINT64_MAX)
		return -1;
	return next > now ? (int64_t)(next - now) : 0;
}

static unsigned
sup_count(const struct sup *s, bool pending_too)
{
	unsigned	 i, n = 0;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state != SLOT_FREE &&
		    (s->slots[i].pid > 0 || (pending_too &&
		    (s->slots[i].respawn_at_ms != 0 ||
		    s->slots[i].wait_pid != 0))))
			n++;
	return n;
}

static void
sup_signal_all(struct sup *s, int sig)
{
	unsigned	 i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		if (s->slots[i].state != SLOT_FREE && s->slots[i].pid > 0)
			kill(s->slots[i].pid, sig);
}

/*
 * SIGUSR1 and stats.interval: log one summary line of the totals and
 * rewrite stats.file (Prometheus text) atomically.
 */
static void
sup_stats_dump(struct sup *s, bool log_it)
{
	struct stats_totals	 t;
	char			 line[1024];
	const char		*file = s->conf->stats.file;

	if (s->stats.slots == NULL)
		return;
	if (log_it) {
		stats_sum(&s->stats, &t);
		log_info("stats: %s", stats_summary(&t, line, sizeof(line)));
	}
	if (file != NULL &&
	    stats_write_prom_file(file, &s->stats, clock_now_ms()) == -1)
		log_warn("stats file %s", file);
}

/*
 * In single port mode a transfer's packets reach its worker only because
 * the kernel's reuseport hash over the group's sockets stays the same: a
 * reload that adds or removes listen sockets (another worker count,
 * other addresses) would send the ACKs of transfers in flight to other
 * workers. Refused; such a change needs a restart. Returns 0 or -1 with
 * the reason in err.
 */
static int
sup_check_single_port(const struct conf *old, const struct conf *nc,
    char *err, size_t errlen)
{
	unsigned	 i;
	bool		 same = old->workers == nc->workers &&
	    old->n_listen == nc->n_listen;

	for (i = 0; same && i < nc->n_listen; i++)
		same = old->listen[i].port == nc->listen[i].port &&
		    strcmp(old->listen[i].address, nc->listen[i].address) == 0;
	if (same || (!old->single_port && !nc->single_port))
		return 0;
	snprintf(err, errlen, "%s: single_port: workers and listen cannot "
	    "change by reload (transfers in flight would land on other "
	    "workers); restart to apply", nc->path);
	return -1;
}

/*
 * Readiness: each worker writes its pid on the ready pipe once its loop is
 * set up. When every slot of the current generation has a serving worker,
 * tell systemd READY=1 (at start with MAINPID; after a reload it ends
 * RELOADING=1), once per generation. A worker that failed for good (exit
 * 2, slot freed) is not waited for; one that is respawned is. Without a
 * pipe (pipe2 failed) READY goes out when the workers are forked.
 */
static void
sup_check_ready(struct sup *s)
{
	unsigned	 i, want = 0, ready = 0;
	char		 msg[160];

	if (s->ready_gen == s->gen || s->draining)
		return;
	for (i = 0; i < SUP_MAX_SLOTS; i++) {
		const struct slot	*sl = &s->slots[i];

		if (sl->state != SLOT_RUN || sl->gen != s->gen)
			continue;
		want++;
		if (sl->pid > 0 && (sl->ready || s->rdy[0] == -1))
			ready++;
	}
	if (want == 0 || ready < want)
		return;
	s->ready_gen = s->gen;
	log_info("ready: %u workers serving (generation %u)", ready, s->gen);
	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=serving: %u "
	    "workers, generation %u", (long)getpid(), ready, s->gen);
	sup_notify(msg);
}

/* Read the pids workers wrote on the ready pipe (non-blocking). */
static void
sup_read_ready(struct sup *s)
{
	pid_t		 pids[64];
	ssize_t		 n;
	size_t		 k;
	unsigned	 i;

	if (s->rdy[0] == -1)
		return;
	while ((n = read(s->rdy[0], pids, sizeof(pids))) > 0)
		for (k = 0; k < (size_t)n / sizeof(pid_t); k++)
			for (i = 0; i < SUP_MAX_SLOTS; i++)
				if (s->slots[i].state != SLOT_FREE &&
				    s->slots[i].pid == pids[k])
					s->slots[i].ready = true;
	sup_check_ready(s);
}

/* The ready pipe: read end non-blocking with O_ASYNC, so a write raises
 * SIGIO, which sigtimedwait takes like the other signals. */
static void
sup_open_ready(struct sup *s)
{
	int	 fl;

	if (pipe2(s->rdy, O_CLOEXEC) == -1 ||
	    fcntl(s->rdy[0], F_SETOWN, getpid()) == -1 ||
	    (fl = fcntl(s->rdy[0], F_GETFL)) == -1 ||
	    fcntl(s->rdy[0], F_SETFL, fl | O_NONBLOCK | O_ASYNC) == -1) {
		log_warn("ready pipe: READY=1 goes out when workers start");
		if (s->rdy[0] != -1) {
			close(s->rdy[0]);
			close(s->rdy[1]);
		}
		s->rdy[0] = s->rdy[1] = -1;
	}
}

/* A reload that did not happen: say why in systemctl status. */
static void
sup_notify_reload_failed(const char *why)
{
	char	 msg[600];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=reload failed: %s; "
	    "running configuration kept", why);
	sup_notify(msg);
}

/*
 * SIGHUP: parse the config again. On error keep everything as it is and
 * log the reason; otherwise start a new generation, then retire the old.
 */
static void
sup_reload(struct sup *s)
{
	struct conf	*nc;
	struct modset	*nms = NULL;
	char		 err[512];
	unsigned	 i, prev = s->gen;

	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		log_warn("reload failed");
		return;
	}
	sup_notify("RELOADING=1");
	if (conf_load(nc, s->opts->conf_path, err, sizeof(err)) == -1 ||
	    (nms = sup_modules_load(nc, err, sizeof(err))) == NULL ||
	    sup_apply_opts(nc, s->opts, err, sizeof(err)) == -1 ||
	    sup_check_single_port(s->conf, nc, err, sizeof(err)) == -1) {
		log_warnx("reload failed: %s; keeping the running "
		    "configuration", err);
		sup_gen_free(nc, nms);
		sup_notify_reload_failed(err);
		return;
	}
	for (i = 0; i < sizeof(s->old_confs) / sizeof(s->old_confs[0]); i++)
		if (s->old_confs[i] == NULL)
			break;
	if (i == sizeof(s->old_confs) / sizeof(s->old_confs[0])) {
		log_warnx("reload failed: too many generations still "
		    "draining; try again later");
		sup_gen_free(nc, nms);
		sup_notify_reload_failed("too many generations still draining");
		return;
	}
	s->gen++;
	sup_raise_nofile(nc);
	if (sup_start_generation(s, nc, nms) == -1) {
		log_warnx("reload failed: could not start the new workers; "
		    "keeping the running configuration");
		s->gen = prev;
		sup_gen_free(nc, nms);
		sup_notify_reload_failed(s->why[0] != '\0' ? s->why :
		    "could not bind the new workers' sockets (see the log)");
		return;
	}
	s->old_confs[i] = s->conf;
	s->old_mods[i] = s->mods;
	s->conf = nc;
	s->mods = nms;
	sup_retire(s, s->gen);
	if (s->stats.hdr != NULL) {
		atomic_store(&s->stats.hdr->generation, s->gen);
		atomic_store(&s->stats.hdr->workers, nc->workers);
	}
	s->next_stats_ms = nc->stats.interval_s ? clock_now_ms() +
	    nc->stats.interval_s * 1000ull : 0;
	log_set_level(nc->log.level);
	log_info("reloaded %s: generation %u, %u workers", nc->path, s->gen,
	    nc->workers);
	sup_check_ready(s);
	sup_gc_confs(s);
}

static void
sup_begin_stop(struct sup *s, bool drain, uint64_t now)
{
	sup_notify("STOPPING=1");
	if (drain && !s->draining) {
		s->draining = true;
		s->stop_deadline_ms = now + s->conf->shutdown_timeout_ms +
		    SUP_KILL_GRACE_MS;
		log_info("draining: waiting up to %u s for transfers",
		    s->conf->shutdown_timeout_ms / 1000);
		sup_signal_all(s, SIGTERM);
		return;
	}
	/* Stop at once: INT, QUIT, or a second TERM. */
	s->draining = true;
	s->stop_deadline_ms = now + SUP_KILL_GRACE_MS;
	log_info("stopping now");
	sup_signal_all(s, SIGQUIT);
}

static void
sup_block_signals(sigset_t *set)
{
	struct sigaction	 sa;

	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGIO);
	sigprocmask(SIG_BLOCK, set, NULL);
	/* A real (empty) disposition, so blocked CHLD is never discarded. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The supervisor's loop: signals in, slots managed. Returns exit code. */
static int
sup_loop(struct sup *s)
{
	sigset_t	 set;
	siginfo_t	 si;

	sup_block_signals(&set);
	for (;;) {
		uint64_t	 now = clock_now_ms();
		int64_t		 wait = sup_next_wait(s, now);
		struct timespec	 ts;
		int		 sig;

		if (s->draining && sup_count(s, false) == 0)
			return 0;
		if (!s->draining && sup_count(s, true) == 0) {
			log_warnx("no worker left running; exiting");
			return 1;
		}
		if (wait < 0)
			wait = 60000;
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (wait % 1000) * 1000000;
		sig = sigtimedwait(&set, &si, &ts);
		now = clock_now_ms();
		switch (sig) {
		case SIGCHLD:
			break;
		case SIGTERM:
			sup_begin_stop(s, !s->draining, now);
			break;
		case SIGINT:
		case SIGQUIT:
			sup_begin_stop(s, false, now);
			break;
		case SIGHUP:
			if (!s->draining) {
				unsigned gen = s->gen;

				/* the generation moves iff it was applied */
				sup_reload(s);
				stats_note_reload(&s->stats, s->gen != gen);
			}
			break;
		case SIGUSR1:
			sup_stats_dump(s, true);
			break;
		default:
			break;
		}
		sup_reap(s, now);
		sup_read_ready(s);
		if (!s->draining)
			sup_respawn_due(s, now);
		if (s->next_stats_ms != 0 && now >= s->next_stats_ms) {
			sup_stats_dump(s, false);
			s->next_stats_ms = now + s->conf->stats.interval_s *
			    1000ull;
		}
		if (s->draining && s->stop_deadline_ms != 0 &&
		    now >= s->stop_deadline_ms) {
			log_warnx("workers did not stop in time; killing them");
			sup_signal_all(s, SIGKILL);
			s->stop_deadline_ms = now + SUP_KILL_GRACE_MS;
		}
	}
}

/*
 * `path` made absolute against the current directory (no symlink is
 * resolved: a reload must read what the name points to then). Returns a
 * malloc'd string, or NULL on error.
 */
static char *
sup_abs_path(const char *path)
{
	char	 cwd[4096], *out;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) == -1)
		return NULL;
	return out;
}

/*
 * The directory of a run-time file (pid_file, stats.path; by default
 * /run/ptftpd): made (one level, 0755) when missing, as systemd's
 * RuntimeDirectory= and the package's tmpfiles.d do, so a hand start
 * works too. A failure is left to the open that follows to report.
 */
static void
sup_mkdir_parent(const char *path)
{
	char	 dir[4096];
	char	*slash;

	if (path == NULL || snprintf(dir, sizeof(dir), "%s", path) >=
	    (int)sizeof(dir) || (slash = strrchr(dir, '/')) == NULL ||
	    slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		log_info("created %s", dir);
}

/*
 * Take the pid file, locked so a second daemon on the same pid file refuses
 * to start (SO_REUSEPORT would let it bind the same port and silently take
 * half of the requests). In the foreground too: `make run` and systemd
 * (-f) get a pid file to signal. A pid file that cannot be opened is an
 * error for a daemon, a warning in the foreground (a user running -f by
 * hand with the default /run path); one that is locked is an error in both.
 * The pid is written by sup_pidfile_write, after daemonizing.
 */
static int
sup_pidfile_take(struct sup *s, bool foreground)
{
	const char	*pf = s->conf->pid_file;
	char		 buf[32];
	int		 fd;

	if (pf == NULL)
		return 0;
	fd = open(pf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("pid file %s", pf);
		if (foreground) {
			log_warnx("running without a pid file");
			return 0;
		}
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_warnx("pid file %s is locked: ptftpd already "
		    "running (pid %s)", pf, buf);
		close(fd);
		return -1;
	}
	s->pid_fd = fd;
	snprintf(s->pid_path, sizeof(s->pid_path), "%s", pf);
	return 0;
}

/* Write our pid into the pid file taken by sup_pidfile_take, if any. */
static void
sup_pidfile_write(struct sup *s)
{
	char	 buf[32];
	int	 n;

	if (s->pid_fd == -1)
		return;
	/* flock survives fork: the lock is on the open file. */
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(s->pid_fd, 0) == -1 ||
	    pwrite(s->pid_fd, buf, (size_t)n, 0) != n)
		log_warn("pid file %s", s->pid_path);
}

/* Detach from the terminal (the pid file is already taken). */
static int
sup_daemonize(struct sup *s)
{
	pid_t		 pid;
	int		 nul;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") == -1)
		log_warn("chdir /");
	if ((nul = open("/dev/null", O_RDWR)) != -1) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		if (s->conf->log.target != LOG_TARGET_STDERR)
			dup2(nul, STDERR_FILENO);
		if (nul > STDERR_FILENO)
			close(nul);
	}
	return 0;
}

/*
 * The supervisor's state before anything is bound: the configuration, no
 * fds yet, and absolute copies of -c and -r for the reloads.
 */
static void
sup_setup(struct sup *s, struct conf *c, struct modset *ms,
    const struct sup_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->conf = c;
	s->mods = ms;
	s->pid_fd = -1;
	s->ctl[0] = s->ctl[1] = -1;
	s->rdy[0] = s->rdy[1] = -1;
	/*
	 * Fix: a reload re-reads -c and re-applies -r, but sup_daemonize()
	 * does chdir("/"), so a relative "-c ptftpd.conf" or "-r dir" made
	 * every reload of a daemon fail ("reload failed: ptftpd.conf: No
	 * such file or directory"). Keep absolute copies for the reloads.
	 */
	s->aopts = *o;
	if ((s->aconf = sup_abs_path(o->conf_path)) != NULL)
		s->aopts.conf_path = s->aconf;
	if (o->root != NULL && (s->aroot = sup_abs_path(o->root)) != NULL)
		s->aopts.root = s->aroot;
	s->opts = &s->aopts;
	s->gen = 1;
}

/*
 * The stats segment, if stats.enabled. It outlives reloads: its path (and
 * whether there is one) is fixed at start. stats.enabled = false exists
 * to measure what counting costs; workers then count nothing.
 */
static int
sup_stats_open(struct sup *s, const struct conf *c)
{
	if (c->stats.enabled) {
		if (stats_create(&s->stats, c->stats.path, SUP_MAX_SLOTS) == -1) {
			log_warn("stats segment %s", c->stats.path);
			return -1;
		}
		s->stats_path = strdup(c->stats.path);
		atomic_store(&s->stats.hdr->workers, c->workers);
	}
	if (c->stats.interval_s > 0)
		s->next_stats_ms = clock_now_ms() + c->stats.interval_s * 1000ull;
	return 0;
}

/* The start-up lines: every listen address, then the summary. */
static void
sup_log_started(const struct conf *c)
{
	unsigned	i;

	for (i = 0; i < c->n_listen; i++)
		log_info("listening on %s%s%s port %u",
		    c->listen[i].ss.ss_family == AF_INET6 ? "[" : "",
		    c->listen[i].address,
		    c->listen[i].ss.ss_family == AF_INET6 ? "]" : "",
		    c->listen[i].port);
	log_info("ptftpd started: %u workers, root %s", c->workers, c->root);
}

/*
 * Release what sup_run took, on every way out: slot fds, the pid file,
 * the stats segment (its last stats.file first), every generation's
 * configuration and the pipes.
 */
static void
sup_teardown(struct sup *s)
{
	unsigned	i;

	for (i = 0; i < SUP_MAX_SLOTS; i++)
		sup_close_fds(&s->slots[i]);
	if (s->pid_fd != -1) {
		unlink(s->pid_path);
		close(s->pid_fd);
	}
	if (s->stats_path != NULL) {
		if (s->conf->stats.file != NULL)
			sup_stats_dump(s, false);
		stats_close(&s->stats);
		unlink(s->stats_path);
		free(s->stats_path);
	}
	for (i = 0; i < sizeof(s->old_confs) / sizeof(s->old_confs[0]); i++)
		sup_gen_free(s->old_confs[i], s->old_mods[i]);
	sup_gen_free(s->conf, s->mods);
	if (s->ctl[0] != -1) {
		close(s->ctl[0]);
		close(s->ctl[1]);
	}
	if (s->rdy[0] != -1) {
		close(s->rdy[0]);
		close(s->rdy[1]);
	}
	free(s->aconf);
	free(s->aroot);
}

int
sup_run(struct conf *c, struct modset *ms, const struct sup_opts *o)
{
	static struct sup	 s;	/* large; lives for the process */
	struct slot		*fresh[256];
	sigset_t		 set;
	unsigned		 nfresh = 0;
	int			 rc = 1;

	sup_setup(&s, c, ms, o);
	log_set_tag("sup");
	/*
	 * Bind first, and check that no other process serves our addresses,
	 * before anything else exists: a second daemon started by mistake
	 * refuses here, and touches neither the first one's pid file nor
	 * its stats segment (stats_create replaces the file).
	 */
	sup_raise_nofile(c);
	if (sup_bind_generation(&s, c, ms, fresh, &nfresh) == -1) {
		log_warnx("could not start; exiting");
		goto out;
	}
	sup_mkdir_parent(c->pid_file);
	if (c->stats.enabled)
		sup_mkdir_parent(c->stats.path);
	if (sup_pidfile_take(&s, o->foreground) == -1 ||
	    (!o->foreground && sup_daemonize(&s) == -1))
		goto out;
	sup_pidfile_write(&s);
	/* Signals wait in the mask from now on (sup_loop takes them); a
	 * worker's first SIGIO must not find the default action. */
	sup_block_signals(&set);
	sup_open_ready(&s);
	/*
	 * Fix: worker.c stops on EOF of its control pipe, but no pipe was
	 * ever made (ctl_fd = -1), so a killed supervisor was noticed only
	 * by PR_SET_PDEATHSIG, which the worker sets after fs_new() and the
	 * user lookup: a supervisor dying before that left a worker serving
	 * the port forever. An EOF is seen whenever the worker looks.
	 * Created after daemonizing, so only this process holds the write
	 * end; never written to.
	 */
	if (pipe2(s.ctl, O_CLOEXEC) == -1) {
		log_warn("control pipe");
		s.ctl[0] = s.ctl[1] = -1;
	}
	if (sup_stats_open(&s, c) == -1)
		goto out;
	sup_fork_generation(&s, fresh, nfresh);
	sup_log_started(c);
	/* READY=1 when every worker has reported (sup_read_ready). */
	sup_read_ready(&s);
	rc = sup_loop(&s);
	log_info("ptftpd stopped");
out:
	sup_teardown(&s);
	return rc;
}
