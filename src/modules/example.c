/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * example.c - an example ptftpd module (see include/ptftpd/module.h), built
 * to build/modules/example.so and used by the tests. It serves:
 *
 *	mod/hello/<anything>	a few lines of text describing the request
 *	mod/size/<N>		N bytes (N <= 4294967295) of a pattern:
 *				byte i is i % 251 (a prime, so a block sent
 *				at the wrong offset shows)
 *
 * and "File not found" for anything else. With args "log=/path" it opens
 * /path for appending in init (in each worker, before the system call
 * filter, which forbids opening files for writing later) and done appends
 * one line per finished transfer with a single write(2), so lines of
 * several workers never mix:
 *
 *	file=mod/size/10 client=127.0.0.1:40000 mac= result=ok bytes=10
 *	    ms=1 error=0 rexmit=0 blksize=512 windowsize=1 tsize=10
 *
 * (one line). It owns nothing else; it is an example, kept short.
 *
 * Route:
 *	{ prefix = "mod/"; handler = "module";
 *	  module = "/usr/local/lib/ptftpd/modules/example.so";
 *	  args = "log=/var/log/ptftpd-example.log"; }
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptftpd/module.h"

#define EXAMPLE_HELLO	"mod/hello/"
#define EXAMPLE_SIZE	"mod/size/"
#define EXAMPLE_LINE	1024

struct example_state {
	int	log_fd;		/* -1: no log */
};

struct example_resp {
	uint64_t	 size;
	char		*text;		/* NULL: the size pattern */
};

/* "log=/path" among space-separated words of args. */
static int
example_init(const char *args, void **state)
{
	struct example_state	*st;
	const char		*p, *e;
	char			 path[4096];
	size_t			 len;

	if ((st = calloc(1, sizeof *st)) == NULL)
		return -1;
	st->log_fd = -1;
	for (p = args; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, " ");
		len = (size_t)(e - p);
		if (len <= 4 || strncmp(p, "log=", 4) != 0)
			continue;
		if (len - 4 >= sizeof path)
			goto fail;
		memcpy(path, p + 4, len - 4);
		path[len - 4] = '\0';
		st->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
		if (st->log_fd == -1)
			goto fail;
	}
	*state = st;
	return 0;
fail:
	free(st);
	return -1;
}

static void
example_fini(void *state)
{
	struct example_state	*st = state;

	if (st == NULL)
		return;
	if (st->log_fd != -1)
		close(st->log_fd);
	free(st);
}

/* N of mod/size/N: digits only, at most 2^32 - 1; -1 otherwise. */
static int
example_parse_size(const char *s, uint64_t *n)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*n = v;
	return 0;
}

static char *
example_hello(const struct ptftpd_request *req)
{
	char	*text;

	if (asprintf(&text,
	    "hello from the ptftpd example module\n"
	    "client_ip=%s\nclient_port=%u\nserver_ip=%s\nfile=%s\n"
	    "mac=%s\nmode=%s\nmatch1=%s\n",
	    req->client_ip, (unsigned)req->client_port, req->server_ip,
	    req->file, req->mac, req->mode, req->capture[1]) == -1)
		return NULL;
	return text;
}

static int
example_open(void *state, const struct ptftpd_request *req, void **resp,
    uint64_t *size)
{
	struct example_resp	*r;
	uint64_t		 n = 0;
	char			*text = NULL;

	(void)state;
	if (strncmp(req->file, EXAMPLE_HELLO, strlen(EXAMPLE_HELLO)) == 0) {
		if ((text = example_hello(req)) == NULL)
			return PTFTPD_ESERVER;
		n = strlen(text);
	} else if (strncmp(req->file, EXAMPLE_SIZE,
	    strlen(EXAMPLE_SIZE)) != 0 ||
	    example_parse_size(req->file + strlen(EXAMPLE_SIZE), &n) == -1) {
		snprintf(req->errmsg, req->errmsg_size, "No such example");
		return PTFTPD_ENOTFOUND;
	}
	if ((r = malloc(sizeof *r)) == NULL) {
		free(text);
		return PTFTPD_ESERVER;
	}
	r->size = n;
	r->text = text;
	*resp = r;
	*size = n;
	return 0;
}

static long
example_read(void *resp, uint64_t off, void *buf, size_t len)
{
	struct example_resp	*r = resp;
	uint8_t			*b = buf;
	size_t			 i;

	if (off >= r->size)
		return 0;
	if (len > r->size - off)
		len = (size_t)(r->size - off);
	if (len > LONG_MAX)
		len = LONG_MAX;
	if (r->text != NULL) {
		memcpy(b, r->text + off, len);
		return (long)len;
	}
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)((off + i) % 251);
	return (long)len;
}

static void
example_close(void *resp)
{
	struct example_resp	*r = resp;

	free(r->text);
	free(r);
}

static void
example_done(void *state, const struct ptftpd_request *req,
    const struct ptftpd_xfer_stats *st)
{
	struct example_state	*s = state;
	char			 line[EXAMPLE_LINE], file[EXAMPLE_LINE / 2];
	size_t			 i;
	int			 n;

	if (s == NULL || s->log_fd == -1)
		return;
	/* The name comes from the network: no control bytes in the log. */
	for (i = 0; i < sizeof file - 1 && req->file[i] != '\0'; i++)
		file[i] = req->file[i] < 0x20 || req->file[i] == 0x7f ?
		    '?' : req->file[i];
	file[i] = '\0';
	n = snprintf(line, sizeof line, "file=%s client=%s:%u mac=%s "
	    "result=%s bytes=%" PRIu64 " ms=%" PRIu64 " error=%" PRIu32
	    " rexmit=%" PRIu32 " blksize=%" PRIu32 " windowsize=%" PRIu32
	    " tsize=%" PRIu64 "\n", file, req->client_ip,
	    (unsigned)req->client_port, req->mac, st->result, st->bytes,
	    st->duration_ms, st->error_code, st->retransmits, st->blksize,
	    st->windowsize, st->tsize);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {	/* a long name: cut, keep the newline */
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* One write: O_APPEND lines of several workers do not interleave. */
	if (write(s->log_fd, line, (size_t)n) == -1)
		return;	/* nowhere to report it */
}

static const struct ptftpd_module example_module = {
	.api_version = PTFTPD_MODULE_API_VERSION,
	.name = "example",
	.init = example_init,
	.fini = example_fini,
	.open = example_open,
	.read = example_read,
	.close = example_close,
	.done = example_done,
};

const struct ptftpd_module *
ptftpd_module_v1(void)
{
	return &example_module;
}
