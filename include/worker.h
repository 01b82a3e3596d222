/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h - one worker process: an epoll loop over its slot's listen
 * sockets, all its transfer sockets, its timers and its control pipe.
 */
#ifndef PTFTPD_WORKER_H
#define PTFTPD_WORKER_H

#include <stdint.h>

#include "conf.h"

struct modset;
struct stats_slot;

struct worker_args {
	const struct conf	*conf;
	struct modset		*mods;		/* conf's modules, loaded by the
						 * supervisor; init here */
	unsigned		 id;		/* slot number, log tag "w<id>" */
	const int		*lfds;		/* this slot's listen sockets */
	unsigned		 nlfds;
	int			 ctl_fd;	/* read end of the supervisor pipe */
	int			 ready_fd;	/* write end of the ready pipe: our
						 * pid goes there once the loop is
						 * set up; -1: none */
	struct stats_slot	*stats;		/* this slot's counters, or NULL */
	uint64_t		 gen;		/* config generation */
};

/*
 * Run the worker until told to stop. Never returns to the caller's loop:
 * the return value is the process exit code (0 after a drain or a stop,
 * 2 for a start-up failure the supervisor must not retry in a loop).
 * Signals TERM (drain), INT and QUIT (stop) are handled; EOF on ctl_fd
 * means the supervisor is gone: stop at once.
 */
int	worker_main(const struct worker_args *a);

#endif
