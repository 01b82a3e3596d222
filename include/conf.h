/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - /etc/ptftpd.conf (libconfig syntax) into a validated struct
 * conf. Every default lives in conf.c's table of settings, except those
 * of a route's handler (conf_policy.c). Errors come back as
 * "file:line: setting: problem" in the caller's buffer.
 */
#ifndef PTFTPD_CONF_H
#define PTFTPD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <sys/socket.h>

#include "addr.h"

#define CONF_DEFAULT_PATH	"/etc/ptftpd.conf"
/* stats.path's default; here because ptftpd-stat (which does not link
 * conf.c) must find the segment of a config that does not set it. */
#define CONF_STATS_PATH_DEFAULT	"/run/ptftpd/ptftpd.stats"
#define CONF_MAX_LISTEN		16
#define CONF_MAX_REWRITE	64	/* rewrite rules */
#define CONF_MAX_ROUTES		256	/* routes */
#define CONF_MAX_ACL		1024	/* entries of one acl list */
#define CONF_REGEX_MAX		512	/* characters of one pattern */
#define CONF_REGEX_WEIGHT	1024	/* atoms, {m,n} multiplied out */
#define CONF_MAX_LIMIT_RULES	16	/* limits.per_client; LIMIT_RULES_MAX */
#define CONF_MAX_RATE		100000	/* limits.rate_*: transfers/s */

struct conf_listen {
	char			address[64];	/* numeric IPv4 or IPv6 */
	uint16_t		port;
	struct sockaddr_storage	ss;		/* address + port */
	socklen_t		sslen;
};

struct conf_session {
	uint32_t	timeout_ms;	/* retransmit interval (no option) */
	uint32_t	timeout_max_ms;	/* cap after back-off */
	uint32_t	retries;	/* retransmissions without progress */
	uint32_t	first_retries;	/* before the client ACKed anything */
	uint32_t	rto_min_ms;	/* adaptive RTO floor, 0: fixed */
	uint32_t	blksize_max;	/* 8..65464 */
	uint32_t	windowsize_max;	/* 1..65535 */
	uint32_t	max_per_worker;	/* concurrent transfers per worker */
	uint32_t	max_per_client;	/* per client address, per worker */
	uint32_t	socket_pool;	/* idle transfer sockets kept */
	bool		gso;		/* windows as UDP GSO sends */
	uint16_t	port_min;	/* transfer port range; 0,0: kernel */
	uint16_t	port_max;
};

struct conf_log {
	int		target;		/* enum log_target */
	int		level;		/* LOG_ERR .. LOG_DEBUG */
	int		facility;	/* LOG_DAEMON, LOG_LOCAL0.. */
	uint32_t	refusals_per_second;	/* per worker; 0: none */
};

struct conf_stats {
	char		*path;		/* shm segment file */
	char		*file;		/* Prometheus textfile; NULL: none */
	uint32_t	interval_s;	/* rewrite file every N s (15 with a file);
					 * 0: only on USR1 */
	bool		enabled;	/* false: no segment, nothing counted */
};

struct conf_acl_rule {
	struct addr_cidr	net;
	bool			allow;	/* false: deny */
};

/*
 * An ordered access list, first match wins. n_rules == 0 means no list
 * (everyone allowed); with a list, an address no entry matches is denied.
 */
struct conf_acl {
	struct conf_acl_rule	*rules;
	unsigned		 n_rules;
};

/* limits.per_client = ( { client = "net"; max = N; }, ... ); */
struct conf_limit_rule {
	struct addr_cidr	client;
	uint32_t		max;		/* 1..1000000 */
};

/*
 * limits = { ... }: admission of new transfers, per worker. Each field is
 * the struct limit_conf field of the same name (limit.h); max_per_client
 * itself is session.max_per_client. A rate of 0 turns its bucket off; a
 * bucket that is on has a burst of at least 1.
 */
struct conf_limits {
	uint32_t		rate_per_client_milli;	/* transfers/s x 1000 */
	uint32_t		burst_per_client;
	uint32_t		rate_global_milli;	/* 0: off */
	uint32_t		burst_global;
	unsigned		n_rules;	/* first match wins */
	struct conf_limit_rule	rules[CONF_MAX_LIMIT_RULES];
};

/* rewrite = ( { match = "..."; replace = "..."; ... }, ... ); */
struct conf_rewrite {
	char		*match;		/* the ERE as written */
	char		*replace;	/* \0..\9 and \\ escapes, checked */
	regex_t		 re;		/* REG_EXTENDED [| REG_ICASE] */
	bool		 compiled;	/* re needs regfree */
	bool		 global;	/* every match, not only the first */
	bool		 icase;
	bool		 last;		/* stop after this rule if it matched */
	bool		 has_client;	/* only for clients inside client */
	struct addr_cidr client;
};

enum conf_handler {
	CONF_HANDLER_FILE = 0,		/* the file tree (default) */
	CONF_HANDLER_TEMPLATE,		/* rendered from a template */
	CONF_HANDLER_EXEC,		/* a program's standard output */
	CONF_HANDLER_MODULE,		/* a loaded module's answer */
};

struct conf_template {
	char		*path;		/* relative to the route's root */
	char		*hosts;		/* the same; NULL: none */
};

struct conf_exec {
	char		**argv;		/* argc strings + NULL; [0] absolute */
	unsigned	 argc;		/* >= 1 */
	uint32_t	 timeout_ms;
	uint32_t	 max_bytes;	/* output cap */
	uint32_t	 max_concurrent;	/* per worker */
};

/* Data only: the supervisor loads the .so (module_set_load, module.h). */
struct conf_module {
	char		*path;		/* the .so */
	char		*args;		/* NULL: none */
	char		*file;		/* where module = is set, and */
	unsigned	 line;		/* ... its line, for load errors */
};

/* The write group of a file route: present means WRQ is accepted there. */
struct conf_write {
	bool		 enabled;	/* the group was given */
	bool		 create;	/* a new name may be created */
	bool		 overwrite;	/* an existing file may be replaced */
	uint64_t	 max_bytes;
	uint32_t	 mode;		/* <= 0777 */
	char		*owner;		/* NULL: the worker's user */
	char		*group;		/* NULL: the worker's group */
};

/*
 * routes = ( { prefix = "..."; handler = "..."; ... }, ... ); the first
 * route whose prefix or regex matches the rewritten name serves it. Only
 * the struct of the route's own handler is filled in; the others stay
 * zero.
 */
struct conf_route {
	char		*prefix;	/* exactly one of prefix and regex */
	char		*regex;
	regex_t		 re;		/* compiled regex */
	bool		 compiled;
	enum conf_handler handler;
	unsigned	 line;		/* where it is defined, for messages */
	char		*root;		/* canonical; NULL: top-level root */
	struct conf_acl	 acl;		/* checked after the top-level acl */
	struct conf_template template;
	struct conf_exec exec;
	struct conf_module module;
	struct conf_write write;
};

struct conf {
	char			*path;		/* file loaded, for messages */
	unsigned		 workers;	/* resolved: >= 1 */
	struct conf_listen	 listen[CONF_MAX_LISTEN];
	unsigned		 n_listen;
	char			*root;
	char			*user;		/* NULL: keep */
	char			*group;		/* NULL: user's group */
	char			*pid_file;	/* NULL: none */
	char			*chroot;	/* workers chroot here; NULL: no */
	uint32_t		 shutdown_timeout_ms;
	uint32_t		 rcvbuf;	/* listen SO_RCVBUF bytes; 0: kernel */
	unsigned		 cache_max_idle;	/* idle bodies kept */
	uint32_t		 cache_idle_ms;		/* ... for at most */
	bool			 seccomp;	/* worker syscall filter (sandbox.c) */
	bool			 single_port;	/* answer from the listen socket */
	bool			 io_uring;	/* transfer sockets on a ring */
	uint32_t		 cache_valid_ms;	/* name lookups trusted */
	struct conf_session	 session;
	struct conf_log		 log;
	struct conf_stats	 stats;
	struct conf_limits	 limits;
	struct conf_rewrite	*rewrite;	/* applied in order */
	unsigned		 n_rewrite;
	struct conf_route	*routes;	/* first match wins */
	unsigned		 n_routes;
	struct conf_acl		 acl;		/* every request */
	int			 acl_silent;	/* 1: no answer; 0: ERROR 2 */
};

/*
 * Fill c with every default (workers resolved to the CPU count). Allocates
 * the default strings: release them with conf_free().
 */
void	conf_defaults(struct conf *c);

/*
 * Load and validate path into *c (which is initialised here). Returns 0,
 * or -1 with "file:line: setting: problem" in err. On error *c holds
 * nothing that needs freeing.
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* Command-line overrides; return -1 with a message in err if invalid. */
int	conf_set_port(struct conf *c, const char *port, char *err,
	    size_t errlen);
int	conf_set_root(struct conf *c, const char *root, char *err,
	    size_t errlen);
int	conf_set_workers(struct conf *c, const char *n, char *err,
	    size_t errlen);

void	conf_free(struct conf *c);

/*
 * Compile pattern as a POSIX ERE (REG_EXTENDED, plus REG_ICASE if icase)
 * after checking the limits that keep matching cheap: at most
 * CONF_REGEX_MAX characters, no back-references (\1..\9, which make
 * glibc's matcher exponential), and at most CONF_REGEX_WEIGHT atoms once
 * the {m,n} counts are multiplied through nesting. Returns 0 with *re to
 * regfree, or -1 with a short reason in msg (and nothing to free). Cost:
 * one pass over the pattern plus regcomp.
 */
int	conf_regex_compile(regex_t *re, const char *pattern, bool icase,
	    char *msg, size_t msglen);

/*
 * Check a rewrite replacement: only \0..\9 (at most nsub) and \\ are
 * escapes. Returns 0, or -1 with a reason in msg.
 */
int	conf_replace_check(const char *replace, size_t nsub, char *msg,
	    size_t msglen);

#endif
