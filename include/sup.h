/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sup.h - the supervisor: binds, forks and watches the workers, handles
 * the operator's signals. It never parses a packet.
 */
#ifndef PTFTPD_SUP_H
#define PTFTPD_SUP_H

#include <stdbool.h>

#include "conf.h"

struct modset;

/* What the command line said, re-applied to every reloaded config. */
struct sup_opts {
	const char	*conf_path;
	const char	*port;		/* -p, or NULL */
	const char	*root;		/* -r, or NULL */
	const char	*workers;	/* -w, or NULL */
	bool		 foreground;	/* -f */
	int		 verbose;	/* -v count */
};

/*
 * Apply the command-line overrides in o to c. Returns 0, or -1 with a
 * message in err.
 */
int	sup_apply_opts(struct conf *c, const struct sup_opts *o, char *err,
	    size_t errlen);

/*
 * The modules of config c (module_set_load) in a new heap-allocated set,
 * for sup_run and the reloads; ptftpd -t loads them too, so a missing or
 * incompatible module fails the test. Returns the set, or NULL with
 * "file:line: routes[N].module: problem" in err.
 */
struct modset	*sup_modules_load(const struct conf *c, char *err,
		    size_t errlen);

/* Unload and free a set of sup_modules_load; NULL is fine. */
void	sup_modules_free(struct modset *ms);

/*
 * Run the daemon with config c and its modules ms (both heap-allocated;
 * the supervisor owns and frees them from now on):
 * daemonize unless foreground, bind, fork, supervise. Returns the exit
 * code for main().
 */
int	sup_run(struct conf *c, struct modset *ms, const struct sup_opts *o);

#endif
