/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - the ptftpd command line: parse the options, load and check the
 * config, then hand over to the supervisor. `-t` stops after the check,
 * like `nginx -t`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "sup.h"
#include "version.h"

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: ptftpd [-ftvV] [-c file] [-p port] [-r dir] [-w workers]\n"
	    "  -c file     configuration file (default %s)\n"
	    "  -f          stay in the foreground (for systemd)\n"
	    "  -t          check the configuration and exit 0 (ok) or 1\n"
	    "  -p port     serve on this port on every listen address\n"
	    "  -r dir      serve this directory\n"
	    "  -w workers  number of worker processes (0: one per CPU)\n"
	    "  -v          verbose: debug logging (to stderr with -f)\n"
	    "  -V          print the version and exit\n", CONF_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
	struct sup_opts	 o;
	struct conf	*c;
	struct modset	*ms = NULL;
	char		 err[1024];
	int		 ch, test = 0;

	memset(&o, 0, sizeof(o));
	o.conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "c:fhp:r:tvVw:")) != -1) {
		switch (ch) {
		case 'c':
			o.conf_path = optarg;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'r':
			o.root = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'V':
			printf("ptftpd %s\n", PTFTPD_VERSION);
			return 0;
		case 'w':
			o.workers = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		perror("ptftpd");
		return 1;
	}
	/* The modules load with the config, so a bad one fails -t too. */
	if (conf_load(c, o.conf_path, err, sizeof(err)) == -1 ||
	    (ms = sup_modules_load(c, err, sizeof(err))) == NULL ||
	    sup_apply_opts(c, &o, err, sizeof(err)) == -1) {
		fprintf(stderr, "ptftpd: %s\n", err);
		if (test)
			fprintf(stderr, "ptftpd: configuration file %s test "
			    "failed\n", o.conf_path);
		sup_modules_free(ms);
		conf_free(c);
		free(c);
		return 1;
	}
	if (test) {
		printf("ptftpd: configuration file %s test is successful\n",
		    o.conf_path);
		sup_modules_free(ms);
		conf_free(c);
		free(c);
		return 0;
	}
	log_init(c->log.target, c->log.level, c->log.facility);
	return sup_run(c, ms, &o);
}
