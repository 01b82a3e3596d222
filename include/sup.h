/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sup.h - the supervisor: binds, forks and watches the workers, handles
 * the operator's signals. It never parses a packet.
 */
#ifndef PTFTPD_SUP_H
#define PTFTPD_SUP_H

#include <stdbool.h>

#include "conf.h"

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
 * Run the daemon with config c (heap-allocated; the supervisor owns and
 * frees it from now on):
 * daemonize unless foreground, bind, fork, supervise. Returns the exit
 * code for main().
 */
int	sup_run(struct conf *c, const struct sup_opts *o);

#endif
