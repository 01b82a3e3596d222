/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptftpd/module.h - the public API of ptftpd dynamic content modules,
 * version 1. This commented header is the API's documentation.
 *
 * A module is a shared object (cc -shared -fPIC -o m.so m.c) that exports
 *
 *	const struct ptftpd_module *ptftpd_module_v1(void);
 *
 * and a route of handler "module" names it:
 *
 *	routes = ( { prefix = "mod/"; handler = "module";
 *	             module = "/usr/lib/ptftpd/modules/m.so";
 *	             args = "log=/var/log/m.log"; } );
 *
 * Life of a module:
 *   1. ptftpd (the supervisor, when it loads its config, at start and at
 *      every reload) dlopens the .so with RTLD_NOW | RTLD_LOCAL, calls
 *      ptftpd_module_v1() and checks api_version. A failure is a config
 *      error: ptftpd does not start, or a reload is refused. Do no work
 *      in constructors: they run in the supervisor, as root.
 *   2. Every worker process calls init(args) once after fork, with the
 *      worker's (dropped) privileges, before the worker's system call
 *      filter is installed: open log files, sockets, databases here. Each
 *      route has its own state, even when two routes name one .so.
 *   3. Per request: open, then read at increasing offsets until the whole
 *      response is read, then close; all before ptftpd answers, so tsize
 *      is exact. ptftpd buffers the response (at most 64 MiB, more is
 *      ERROR 3 "Disk full or allocation exceeded" to the client).
 *   4. When the transfer ends (whatever its result), done with its stats;
 *      only for requests whose open returned 0.
 *   5. fini(state) when the worker exits cleanly.
 *
 * Rules: a worker is one thread with thousands of transfers in one event
 * loop, so every callback is synchronous and must return quickly (no
 * network round trips in open; precompute, or keep a cache in state).
 * After init, workers run under a seccomp filter: files may be opened
 * read-only, no process may be started, no new executable mapping made. A
 * forbidden system call kills the worker (it is respawned). Strings given
 * to a callback are valid only during that call. Callbacks must not call
 * exit, fork or change signal handling.
 *
 * Versions: the symbol carries the major version (ptftpd_module_v1) and
 * api_version must equal PTFTPD_MODULE_API_VERSION of a version ptftpd
 * supports, else loading fails with "<path>: API version N, ptftpd
 * supports 1". Within version 1: the members of struct ptftpd_module
 * stay as they are (a new member means a new api_version); struct
 * ptftpd_request and struct ptftpd_xfer_stats only grow at their end, and
 * their struct_size member says how large the struct ptftpd filled is, so
 * a module built against a later header checks struct_size before it
 * reads a member added later
 * (PTFTPD_HAS(req, struct ptftpd_request, member)). Every member shown
 * here is stable for version 1. Only standard headers are included.
 */
#ifndef PTFTPD_MODULE_PUBLIC_H
#define PTFTPD_MODULE_PUBLIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTFTPD_MODULE_API_VERSION	1
#define PTFTPD_MODULE_SYMBOL		"ptftpd_module_v1"

/* open's *size when the module does not know it: read until read gives 0. */
#define PTFTPD_SIZE_UNKNOWN		UINT64_MAX

/* Does *p, a struct type (request or stats) from ptftpd, have member m? */
#define PTFTPD_HAS(p, type, m) \
	((p)->struct_size >= offsetof(type, m) + sizeof(((type *)0)->m))

/*
 * TFTP error codes open may return (RFC 1350, 2347). Code 0 cannot be
 * returned (0 is success): return PTFTPD_ESERVER (or any value outside
 * 1..8) for a failure on the module's side; the client then gets ERROR 0
 * with the message, which PXE ROMs and U-Boot retry.
 */
#define PTFTPD_ENOTFOUND	1	/* file not found */
#define PTFTPD_EACCESS		2	/* access violation */
#define PTFTPD_ENOSPACE		3	/* disk full or allocation exceeded */
#define PTFTPD_EBADOP		4	/* illegal TFTP operation */
#define PTFTPD_EEXISTS		6	/* file already exists */
#define PTFTPD_ENOUSER		7	/* no such user */
#define PTFTPD_EOPTNEG		8	/* option negotiation refused */
#define PTFTPD_ESERVER		(-1)	/* sent as ERROR 0 */

#define PTFTPD_NCAPTURE		9	/* match1..match9 */

/* One read request (RRQ) for a name the module's route matched. */
struct ptftpd_request {
	/* sizeof(struct ptftpd_request) as ptftpd built it (see PTFTPD_HAS). */
	uint32_t			 struct_size;
	/*
	 * The requested name after ptftpd's rewrite rules, without leading
	 * slashes; for a prefix route the prefix is included. Never NULL.
	 * It comes from the network: treat it as hostile (any byte but NUL,
	 * at most 512 bytes).
	 */
	const char			*file;
	/* "octet" or "netascii" (ptftpd converts netascii itself: serve the
	 * plain bytes). */
	const char			*mode;
	/* The client's address and port (AF_INET or AF_INET6). Never NULL. */
	const struct sockaddr_storage	*client;
	/* The client's address as text, "10.1.2.3" or "fd00::1"; an IPv4
	 * client on a dual-stack socket (::ffff:a.b.c.d) is shown as IPv4. */
	const char			*client_ip;
	uint16_t			 client_port;	/* host order */
	/* The local address the request was sent to; NULL when unknown. */
	const struct sockaddr_storage	*server;
	const char			*server_ip;	/* as client_ip; "" unknown */
	uint16_t			 server_port;	/* host order; 0 unknown */
	/*
	 * The MAC address in a pxelinux-style name ("01-aa-bb-cc-dd-ee-ff",
	 * ARP type 1, hyphens or colons, anywhere in the name), written
	 * "aa:bb:cc:dd:ee:ff" in lower case; "" when the name has none.
	 */
	const char			*mac;
	/*
	 * Groups of the route's regex: capture[0] is the whole match,
	 * capture[1..9] are match1..match9; "" for a group that did not
	 * take part, and all "" for a prefix route. n_capture is the number
	 * of groups of the regex (0 for a prefix route). In done, the
	 * captures may all be "" (n_capture 0): ptftpd need not keep them
	 * for the whole transfer.
	 */
	unsigned			 n_capture;
	const char			*capture[PTFTPD_NCAPTURE + 1];
	/* The route's args string, NULL when the route has none. */
	const char			*args;
	/*
	 * open only: a buffer of errmsg_size bytes (>= 64) where open may
	 * write a NUL-terminated message for the ERROR packet when it
	 * returns an error ("" for ptftpd's standard message). Use plain
	 * ASCII. NULL (size 0) in done.
	 */
	char				*errmsg;
	size_t				 errmsg_size;
};

/* How a transfer ended, for done (the data of ptftpd's transfer log line). */
struct ptftpd_xfer_stats {
	/* sizeof(struct ptftpd_xfer_stats) as ptftpd built it. */
	uint32_t	 struct_size;
	/*
	 * "ok": every byte acknowledged. "probe": the client read the OACK
	 * (to learn tsize) and closed it with ERROR 8 or 0 before data, as
	 * UEFI PXE and PXE ROMs do before the real request: not a failure.
	 * "aborted": the client sent an ERROR during the transfer.
	 * "timeout": the client stopped answering. "error": ptftpd ended it
	 * (a send failure, shutdown).
	 */
	const char	*result;
	uint64_t	 bytes;		/* payload bytes acknowledged */
	uint64_t	 duration_ms;	/* from the request to the end */
	/* TFTP error code sent or received, 0 when none (see result). */
	uint32_t	 error_code;
	uint32_t	 retransmits;	/* DATA packets sent again */
	uint32_t	 blksize;	/* negotiated (512 without the option) */
	uint32_t	 windowsize;	/* negotiated (1 without the option) */
	/* The response size, also what tsize announced if asked. */
	uint64_t	 tsize;
};

/*
 * What ptftpd_module_v1() returns: a pointer to a static, constant
 * struct. All function members but open and read may be NULL.
 */
struct ptftpd_module {
	/* PTFTPD_MODULE_API_VERSION the module was built with. */
	uint32_t	 api_version;
	/* A short name for messages ("example"). Required. */
	const char	*name;
	/*
	 * Once per worker, after fork. args is the route's args (NULL for
	 * none). Store the module's per-worker state in *state (it starts
	 * NULL). Return 0, or nonzero to fail: the worker then exits and
	 * the error is logged.
	 */
	int		(*init)(const char *args, void **state);
	/* Release state; at a clean worker exit. */
	void		(*fini)(void *state);
	/*
	 * Answer req: return 0 with *resp (the module's own handle for this
	 * response, may be NULL) and *size (its exact length in bytes, or
	 * PTFTPD_SIZE_UNKNOWN), or a TFTP error code (PTFTPD_ENOTFOUND...)
	 * with an optional message written to req->errmsg; close is not
	 * called after an error.
	 */
	int		(*open)(void *state, const struct ptftpd_request *req,
			    void **resp, uint64_t *size);
	/*
	 * Copy up to len bytes of the response at offset off into buf.
	 * Returns the number of bytes copied (0 only at the end), or -1 on
	 * failure (the client gets ERROR 0). ptftpd reads from offset 0 up
	 * in order, each call starting where the previous one ended.
	 */
	long		(*read)(void *resp, uint64_t off, void *buf, size_t len);
	/* Release resp; called once after every successful open. */
	void		(*close)(void *resp);
	/*
	 * The transfer of a request whose open returned 0 has ended: st
	 * holds its result and counters (as fbtftp's session stats
	 * callback). For accounting and logging; the result cannot change.
	 */
	void		(*done)(void *state, const struct ptftpd_request *req,
			    const struct ptftpd_xfer_stats *st);
};

/* The one symbol a module exports. */
const struct ptftpd_module *ptftpd_module_v1(void);

#ifdef __cplusplus
}
#endif

#endif
