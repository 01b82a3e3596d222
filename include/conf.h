/*
 * conf.h - /etc/ptftpd.conf (libconfig syntax) into a validated struct
 * conf. Every default lives in conf.c. Errors come back as
 * "file:line: setting: problem" in the caller's buffer.
 */
#ifndef PTFTPD_CONF_H
#define PTFTPD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONF_DEFAULT_PATH	"/etc/ptftpd.conf"
#define CONF_MAX_LISTEN		16

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
	uint32_t	blksize_max;	/* 8..65464 */
	uint32_t	windowsize_max;	/* 1..65535 */
	uint32_t	max_per_worker;	/* concurrent transfers per worker */
	uint32_t	max_per_client;	/* per client address, per worker */
	uint16_t	port_min;	/* transfer port range; 0,0: kernel */
	uint16_t	port_max;
};

struct conf_log {
	int		target;		/* enum log_target */
	int		level;		/* LOG_ERR .. LOG_DEBUG */
	int		facility;	/* LOG_DAEMON, LOG_LOCAL0.. */
};

struct conf_stats {
	char		*path;		/* shm segment file */
	char		*file;		/* Prometheus textfile; NULL: none */
	uint32_t	interval_s;	/* rewrite file every N s; 0: only on USR1 */
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
	uint32_t		 shutdown_timeout_ms;
	uint32_t		 rcvbuf;	/* listen SO_RCVBUF bytes; 0: kernel */
	unsigned		 cache_max_idle;	/* idle bodies kept */
	struct conf_session	 session;
	struct conf_log		 log;
	struct conf_stats	 stats;
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

/* Bounded number parser: 0 and *out, or -1 if not all digits or out of
 * [min, max]. Used everywhere instead of atoi. */
int	conf_parse_u64(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);

#endif
