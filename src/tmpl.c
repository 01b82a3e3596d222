/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tmpl.c - the "template" handler: per-client responses rendered from a
 * template file and a hosts table, both beneath a route's root. It owns
 * its own root directory fds (opened O_PATH, files resolved beneath them
 * with openat2 RESOLVE_BENEATH, as fs.c does for the file tree), a
 * per-worker cache of parsed templates and hosts tables, the ${variable}
 * syntax and the hosts table syntax. It does not own addresses and MACs
 * as text (addr.c), routing (route.c chose the route and its captures),
 * the transfer (sess.c) or logging: failures are TFTP error codes with a
 * static message.
 *
 * Cache: one entry per (root, path, kind) named by the config, so the
 * entries are bounded by the routes. Every request stats the file through
 * a fresh openat2 and re-reads it when (dev, ino, mtime, size) changed: a
 * file published by rename (a new inode) or edited in place is seen by the
 * next request. The parsed form points into the file's bytes, kept in one
 * buffer per entry and cut in place with NULs.
 *
 * Template: literal text and ${name} parts; "$${" is a literal "${".
 * Hosts table, one host per line:
 *	# comment
 *	10.1.2.3		hostname=node3 role=compute
 *	aa:bb:cc:dd:ee:ff	hostname=node4 console="ttyS0,115200 quiet"
 * First field an IPv4 or IPv6 address or a MAC (colons or hyphens, any
 * case), then key=value pairs (a value in double quotes may hold spaces,
 * with \" and \\ inside). A line whose first field is none of these, and
 * a field without "=", are skipped; for an address listed twice the first
 * line wins. Lookup: the client's address, then the MAC in the name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "fs.h"
#include "addr.h"
#include "tmpl.h"

#define TMPL_NAME_MAX	128	/* bytes between "${" and "}" */

enum tmpl_kind {
	TMPL_KIND_TEMPLATE,
	TMPL_KIND_HOSTS,
};

enum tmpl_var {
	TMPL_LIT,		/* literal bytes */
	TMPL_CLIENT_IP,
	TMPL_CLIENT_PORT,
	TMPL_SERVER_IP,
	TMPL_FILE,
	TMPL_MAC,
	TMPL_MATCH,		/* idx 1..9 */
	TMPL_HOST,		/* key */
};

struct tmpl_part {
	enum tmpl_var	 var;
	unsigned	 idx;		/* TMPL_MATCH: 1..9 */
	const char	*p;		/* TMPL_LIT: bytes; TMPL_HOST: key */
	size_t		 len;		/* TMPL_LIT only */
};

enum tmpl_addr_kind {
	TMPL_ADDR_V4 = 4,
	TMPL_ADDR_V6 = 6,
	TMPL_ADDR_MAC = 48,
};

struct tmpl_host {
	uint8_t		 kind;		/* enum tmpl_addr_kind */
	uint8_t		 addr[16];	/* v4: 4 bytes, MAC: 6, rest zero */
	uint32_t	 line;		/* first line wins */
	uint32_t	 kv_first;
	uint32_t	 kv_n;
};

struct tmpl_kv {
	const char	*key;
	const char	*val;
};

struct tmpl_file {
	struct tmpl_file	*next;
	unsigned		 root_idx;
	enum tmpl_kind		 kind;
	char			*path;
	dev_t			 dev;
	ino_t			 ino;
	int64_t			 mtime_ns;
	uint64_t		 size;
	char			*buf;		/* the bytes + NUL, cut in place */
	struct tmpl_part	*parts;		/* TEMPLATE */
	size_t			 n_parts;
	struct tmpl_host	*hosts;		/* HOSTS, sorted */
	size_t			 n_hosts;
	struct tmpl_kv		*kv;
	size_t			 n_kv;
};

struct tmpl_root {
	char		*path;
	int		 fd;
};

struct tmpl_ctx {
	struct tmpl_root	*roots;
	unsigned		 n_roots;
	struct tmpl_file	*files;
};

/* Growable array of n elements of size sz in *arr with capacity *cap. */
static int
tmpl_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	void	**pp = arr;
	void	 *np;
	size_t	  nc;

	if (n < *cap)
		return 0;
	nc = *cap == 0 ? 16 : *cap * 2;
	if ((np = reallocarray(*pp, nc, sz)) == NULL)
		return -1;
	*pp = np;
	*cap = nc;
	return 0;
}

/* ---- template parsing ---- */

static int
tmpl_add_part(struct tmpl_file *f, size_t *cap, enum tmpl_var var,
    unsigned idx, const char *p, size_t len)
{
	if (var == TMPL_LIT && len == 0)
		return 0;
	if (tmpl_grow(&f->parts, cap, f->n_parts, sizeof *f->parts) == -1)
		return -1;
	f->parts[f->n_parts++] = (struct tmpl_part){ var, idx, p, len };
	return 0;
}

/*
 * A variable name, NUL-terminated in place. Returns 0 with the part, or 1
 * for an unknown name (it renders as nothing, so no part).
 */
static int
tmpl_classify(char *name, struct tmpl_part *pt)
{
	static const struct {
		const char	*name;
		enum tmpl_var	 var;
	} fixed[] = {
		{ "client_ip", TMPL_CLIENT_IP }, { "client_port", TMPL_CLIENT_PORT },
		{ "server_ip", TMPL_SERVER_IP }, { "file", TMPL_FILE },
		{ "mac", TMPL_MAC },
	};
	size_t	i;

	memset(pt, 0, sizeof *pt);
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strcmp(name, fixed[i].name) == 0) {
			pt->var = fixed[i].var;
			return 0;
		}
	if (strncmp(name, "match", 5) == 0 && name[5] >= '1' &&
	    name[5] <= '9' && name[6] == '\0') {
		pt->var = TMPL_MATCH;
		pt->idx = (unsigned)(name[5] - '0');
		return 0;
	}
	if (strncmp(name, "host.", 5) == 0 && name[5] != '\0') {
		pt->var = TMPL_HOST;
		pt->p = name + 5;
		return 0;
	}
	return 1;
}

/* The "}" closing a "${" at s, on the same line and near; NULL if none. */
static char *
tmpl_close_brace(char *s, const char *end)
{
	size_t	i;

	for (i = 2; s + i < end && i < TMPL_NAME_MAX + 2; i++) {
		if (s[i] == '}')
			return s + i;
		if (s[i] == '\n' || s[i] == '$' || s[i] == '{')
			return NULL;
	}
	return NULL;
}

static int
tmpl_parse_template(struct tmpl_file *f)
{
	char			*p = f->buf, *end = f->buf + f->size, *lit = p;
	char			*q;
	struct tmpl_part	 pt;
	size_t			 cap = 0;

	while (p < end) {
		if (p[0] != '$') {
			p++;
			continue;
		}
		if (end - p >= 3 && p[1] == '$' && p[2] == '{') {
			/* "$${": the text up to the first '$', then "${" */
			if (tmpl_add_part(f, &cap, TMPL_LIT, 0, lit,
			    (size_t)(p - lit)) == -1)
				return -1;
			lit = p + 1;
			p += 3;
			continue;
		}
		if (end - p < 2 || p[1] != '{' ||
		    (q = tmpl_close_brace(p, end)) == NULL) {
			p++;
			continue;
		}
		if (tmpl_add_part(f, &cap, TMPL_LIT, 0, lit,
		    (size_t)(p - lit)) == -1)
			return -1;
		*q = '\0';	/* the name, and a host key, become C strings */
		if (tmpl_classify(p + 2, &pt) == 0 &&
		    tmpl_add_part(f, &cap, pt.var, pt.idx, pt.p, 0) == -1)
			return -1;
		p = lit = q + 1;
	}
	return tmpl_add_part(f, &cap, TMPL_LIT, 0, lit, (size_t)(end - lit));
}

/* ---- hosts table parsing ---- */

static int
tmpl_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The first field: an address or a MAC, into h; -1 if neither. */
static int
tmpl_host_addr(const char *s, struct tmpl_host *h)
{
	const char	*e;
	int		 family;

	if (addr_parse(s, true, &family, h->addr) == 0) {
		h->kind = family == AF_INET ? TMPL_ADDR_V4 : TMPL_ADDR_V6;
		return 0;
	}
	if ((e = addr_mac_parse(s, h->addr)) != NULL && *e == '\0') {
		h->kind = TMPL_ADDR_MAC;
		return 0;
	}
	return -1;
}

/*
 * One value at *pp (line ends at NUL): quoted or up to white space,
 * NUL-terminated in place. Returns the value and moves *pp past it, or
 * NULL for an unterminated quote (the rest of the line is dropped).
 */
static char *
tmpl_host_value(char **pp)
{
	char	*p = *pp, *v, *w;

	if (*p != '"') {
		v = p;
		while (*p != '\0' && !tmpl_is_space(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
		*pp = p;
		return v;
	}
	v = w = ++p;
	for (; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*w++ = *p;
	}
	if (*p != '"')
		return NULL;
	*w = '\0';
	*pp = p + 1;
	return v;
}

/* The key=value pairs of one host line after its first field. */
static int
tmpl_host_pairs(struct tmpl_file *f, size_t *kvcap, char *p,
    struct tmpl_host *h)
{
	char	*key, *val;

	h->kv_first = (uint32_t)f->n_kv;
	h->kv_n = 0;
	for (;;) {
		while (tmpl_is_space(*p))
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		key = p;
		while (*p != '\0' && *p != '=' && !tmpl_is_space(*p))
			p++;
		if (*p != '=' || p == key) {	/* not a pair: skip it */
			while (*p != '\0' && !tmpl_is_space(*p))
				p++;
			continue;
		}
		*p++ = '\0';
		if ((val = tmpl_host_value(&p)) == NULL)
			return 0;
		if (f->n_kv >= UINT32_MAX ||
		    tmpl_grow(&f->kv, kvcap, f->n_kv, sizeof *f->kv) == -1)
			return -1;
		f->kv[f->n_kv++] = (struct tmpl_kv){ key, val };
		h->kv_n++;
	}
}

/* One line, NUL-terminated in place; a host appended unless skipped. */
static int
tmpl_host_line(struct tmpl_file *f, size_t *hcap, size_t *kvcap, char *p,
    uint32_t line)
{
	struct tmpl_host	 h;
	char			*first;

	while (tmpl_is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	first = p;
	while (*p != '\0' && !tmpl_is_space(*p) && *p != '#')
		p++;
	if (*p == '#')
		*p = '\0';	/* "10.0.0.1#x": the rest is a comment */
	else if (*p != '\0')
		*p++ = '\0';
	if (tmpl_host_addr(first, &h) == -1)
		return 0;
	h.line = line;
	if (tmpl_host_pairs(f, kvcap, p, &h) == -1 ||
	    tmpl_grow(&f->hosts, hcap, f->n_hosts, sizeof *f->hosts) == -1)
		return -1;
	f->hosts[f->n_hosts++] = h;
	return 0;
}

static int
tmpl_host_cmp_key(const struct tmpl_host *a, uint8_t kind,
    const uint8_t addr[16])
{
	if (a->kind != kind)
		return a->kind < kind ? -1 : 1;
	return memcmp(a->addr, addr, 16);
}

static int
tmpl_host_cmp(const void *va, const void *vb)
{
	const struct tmpl_host	*a = va, *b = vb;
	int			 c;

	if ((c = tmpl_host_cmp_key(a, b->kind, b->addr)) != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
tmpl_parse_hosts(struct tmpl_file *f)
{
	char		*p = f->buf, *end = f->buf + f->size, *nl;
	size_t		 hcap = 0, kvcap = 0;
	uint32_t	 line = 0;

	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*nl = '\0';	/* buf has one byte past the end for this */
		if (tmpl_host_line(f, &hcap, &kvcap, p, line) == -1)
			return -1;
		p = nl + 1;
	}
	if (f->n_hosts > 1)
		qsort(f->hosts, f->n_hosts, sizeof *f->hosts, tmpl_host_cmp);
	return 0;
}

/* The first (lowest line) host with this key, or NULL. O(log n). */
static const struct tmpl_host *
tmpl_host_find(const struct tmpl_file *f, uint8_t kind,
    const uint8_t addr[16])
{
	size_t	lo = 0, hi = f->n_hosts, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tmpl_host_cmp_key(&f->hosts[mid], kind, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->n_hosts &&
	    tmpl_host_cmp_key(&f->hosts[lo], kind, addr) == 0)
		return &f->hosts[lo];
	return NULL;
}

/* ---- files beneath a root, cached ---- */

static void
tmpl_file_clear(struct tmpl_file *f)
{
	free(f->buf);
	free(f->parts);
	free(f->hosts);
	free(f->kv);
	f->buf = NULL;
	f->parts = NULL;
	f->hosts = NULL;
	f->kv = NULL;
	f->n_parts = f->n_hosts = f->n_kv = 0;
}

struct tmpl_ctx *
tmpl_new(void)
{
	return calloc(1, sizeof(struct tmpl_ctx));
}

void
tmpl_free(struct tmpl_ctx *x)
{
	struct tmpl_file	*f, *next;
	unsigned		 i;

	if (x == NULL)
		return;
	for (f = x->files; f != NULL; f = next) {
		next = f->next;
		tmpl_file_clear(f);
		free(f->path);
		free(f);
	}
	for (i = 0; i < x->n_roots; i++) {
		close(x->roots[i].fd);
		free(x->roots[i].path);
	}
	free(x->roots);
	free(x);
}

/* The index of root in x->roots, opening it on first use; -1 and errno. */
static int
tmpl_root_idx(struct tmpl_ctx *x, const char *root)
{
	struct tmpl_root	*nr;
	unsigned		 i;
	int			 fd;

	for (i = 0; i < x->n_roots; i++)
		if (strcmp(x->roots[i].path, root) == 0)
			return (int)i;
	if ((nr = reallocarray(x->roots, x->n_roots + 1, sizeof *nr)) == NULL)
		return -1;
	x->roots = nr;
	if ((fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((nr[x->n_roots].path = strdup(root)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	nr[x->n_roots].fd = fd;
	return (int)x->n_roots++;
}

int
tmpl_open_root(struct tmpl_ctx *x, const char *root)
{
	return tmpl_root_idx(x, root) == -1 ? -1 : 0;
}

/* openat2 errno to a TFTP code, as fs.c maps it for the file tree. */
static int
tmpl_errno_code(int e, enum tmpl_kind kind, const char **errmsg)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		*errmsg = kind == TMPL_KIND_TEMPLATE ? "Template not found" :
		    "Hosts file not found";
		return TFTP_ENOTFOUND;
	case EXDEV:	/* RESOLVE_BENEATH: ".." or an absolute path */
	case ELOOP:	/* a symlink out of the root, a magic link */
	case EACCES:
	case EPERM:
	case ENXIO:
	case EISDIR:
		*errmsg = "Access violation";
		return TFTP_EACCESS;
	default:
		*errmsg = "Server error";
		return FS_ESERVER;
	}
}

/* Read size bytes of fd into a new buffer with a NUL after them. */
static int
tmpl_read_all(int fd, uint64_t size, char **out, uint64_t *got)
{
	char	*buf;
	uint64_t off = 0;
	ssize_t	 n;

	if ((buf = malloc(size + 1)) == NULL)
		return -1;
	while (off < size) {
		n = pread(fd, buf + off, size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;	/* shrank meanwhile: the next stat sees it */
		off += (uint64_t)n;
	}
	buf[off] = '\0';
	*out = buf;
	*got = off;
	return 0;
}

/* (Re)fill f from the open fd and parse it. Returns 0 or a TFTP code. */
static int
tmpl_file_load(struct tmpl_file *f, int fd, const struct stat *st,
    const char **errmsg)
{
	uint64_t	got;
	int		rc;

	tmpl_file_clear(f);
	f->dev = 0;
	f->ino = 0;	/* invalid until loaded */
	if (tmpl_read_all(fd, (uint64_t)st->st_size, &f->buf, &got) == -1) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	f->size = got;
	rc = f->kind == TMPL_KIND_TEMPLATE ? tmpl_parse_template(f) :
	    tmpl_parse_hosts(f);
	if (rc == -1) {
		tmpl_file_clear(f);
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	f->size = (uint64_t)st->st_size;
	return 0;
}

static struct tmpl_file *
tmpl_file_slot(struct tmpl_ctx *x, unsigned root_idx, const char *path,
    enum tmpl_kind kind)
{
	struct tmpl_file	*f;

	for (f = x->files; f != NULL; f = f->next)
		if (f->root_idx == root_idx && f->kind == kind &&
		    strcmp(f->path, path) == 0)
			return f;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	if ((f->path = strdup(path)) == NULL) {
		free(f);
		return NULL;
	}
	f->root_idx = root_idx;
	f->kind = kind;
	f->next = x->files;
	x->files = f;
	return f;
}

/*
 * The parsed file path beneath root x->roots[root_idx], from the cache
 * when its identity is unchanged. Returns 0 and *out, or a TFTP code.
 */
static int
tmpl_file_get(struct tmpl_ctx *x, unsigned root_idx, const char *path,
    enum tmpl_kind kind, struct tmpl_file **out, const char **errmsg)
{
	struct open_how		 how;
	struct stat		 st;
	struct tmpl_file	*f;
	uint64_t		 max;
	int64_t			 mtime_ns;
	long			 fd;
	int			 rc = 0;

	memset(&how, 0, sizeof how);
	/* O_NONBLOCK: opening a FIFO must never block the worker. */
	how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, x->roots[root_idx].fd, path, &how,
	    sizeof how);
	if (fd == -1)
		return tmpl_errno_code(errno, kind, errmsg);
	if (fstat((int)fd, &st) == -1) {
		*errmsg = "Server error";
		rc = FS_ESERVER;
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		*errmsg = "Not a regular file";
		rc = TFTP_EACCESS;
		goto done;
	}
	max = kind == TMPL_KIND_TEMPLATE ? TMPL_TEMPLATE_MAX : TMPL_HOSTS_MAX;
	if ((uint64_t)st.st_size > max) {
		*errmsg = kind == TMPL_KIND_TEMPLATE ? "Template too large" :
		    "Hosts file too large";
		rc = TFTP_ENOSPACE;
		goto done;
	}
	if ((f = tmpl_file_slot(x, root_idx, path, kind)) == NULL) {
		*errmsg = "Server error";
		rc = FS_ESERVER;
		goto done;
	}
	mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	if (f->buf == NULL || f->dev != st.st_dev || f->ino != st.st_ino ||
	    f->mtime_ns != mtime_ns || f->size != (uint64_t)st.st_size)
		rc = tmpl_file_load(f, (int)fd, &st, errmsg);
	if (rc == 0)
		*out = f;
done:
	close((int)fd);
	return rc;
}

/* ---- rendering ---- */

/* What one request fills the variables with. */
struct tmpl_vals {
	char			 client_ip[ADDR_IP_LEN];
	char			 client_port[8];
	char			 server_ip[ADDR_IP_LEN];
	char			 mac[ADDR_MAC_LEN];
	const char		*file;
	const struct route_match *m;
	const struct tmpl_file	*hosts;
	const struct tmpl_host	*host;	/* NULL: no entry */
};

static const char *
tmpl_host_get(const struct tmpl_vals *v, const char *key)
{
	const struct tmpl_kv	*kv;
	uint32_t		 i;

	if (v->host == NULL)
		return "";
	kv = v->hosts->kv + v->host->kv_first;
	for (i = 0; i < v->host->kv_n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return "";
}

/* The bytes of one part: a pointer and a length. */
static const char *
tmpl_part_value(const struct tmpl_part *pt, const struct tmpl_vals *v,
    size_t *len)
{
	const char	*s = "";

	switch (pt->var) {
	case TMPL_LIT:
		*len = pt->len;
		return pt->p;
	case TMPL_CLIENT_IP:	s = v->client_ip;	break;
	case TMPL_CLIENT_PORT:	s = v->client_port;	break;
	case TMPL_SERVER_IP:	s = v->server_ip;	break;
	case TMPL_FILE:		s = v->file;		break;
	case TMPL_MAC:		s = v->mac;		break;
	case TMPL_MATCH:
		if (v->m != NULL && pt->idx <= ROUTE_NCAPTURE)
			s = v->m->capture[pt->idx];
		break;
	case TMPL_HOST:
		s = tmpl_host_get(v, pt->p);
		break;
	}
	*len = strlen(s);
	return s;
}

static void
tmpl_vals_fill(struct tmpl_vals *v, const struct tmpl_req *q,
    const struct tmpl_file *hosts)
{
	uint8_t		addr[16], mac[6];
	uint16_t	port;
	int		family;

	memset(v, 0, sizeof *v);
	addr_format_ip(q->client, v->client_ip, &port);
	snprintf(v->client_port, sizeof v->client_port, "%u", port);
	addr_format_ip(q->server, v->server_ip, NULL);
	v->file = q->file != NULL ? q->file : "";
	addr_mac_in_name(v->file, v->mac);
	v->m = q->m;
	v->hosts = hosts;
	if (hosts == NULL)
		return;
	if (addr_of(q->client, &family, addr) == 0)
		v->host = tmpl_host_find(hosts, family == AF_INET ?
		    TMPL_ADDR_V4 : TMPL_ADDR_V6, addr);
	if (v->host == NULL && v->mac[0] != '\0' &&
	    addr_mac_parse(v->mac, mac) != NULL) {
		memset(addr, 0, sizeof addr);
		memcpy(addr, mac, sizeof mac);
		v->host = tmpl_host_find(hosts, TMPL_ADDR_MAC, addr);
	}
}

static int
tmpl_output(const struct tmpl_file *t, const struct tmpl_vals *v,
    uint8_t **data, uint64_t *size, const char **errmsg)
{
	const char	*s;
	uint64_t	 total = 0;
	uint8_t		*buf, *w;
	size_t		 i, len;

	for (i = 0; i < t->n_parts; i++) {
		(void)tmpl_part_value(&t->parts[i], v, &len);
		total += len;
		if (total > TMPL_OUTPUT_MAX) {
			*errmsg = "Output too large";
			return TFTP_ENOSPACE;
		}
	}
	*size = total;
	if (total == 0)
		return 0;
	if ((buf = malloc(total)) == NULL) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	for (w = buf, i = 0; i < t->n_parts; i++) {
		s = tmpl_part_value(&t->parts[i], v, &len);
		memcpy(w, s, len);
		w += len;
	}
	*data = buf;
	return 0;
}

int
tmpl_render(struct tmpl_ctx *x, const struct tmpl_req *q, uint8_t **data,
    uint64_t *size, const char **errmsg)
{
	struct tmpl_file	*t = NULL, *hosts = NULL;
	struct tmpl_vals	 v;
	int			 ri, rc;

	*data = NULL;
	*size = 0;
	if (q->root == NULL || q->t == NULL || q->t->path == NULL) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	if ((ri = tmpl_root_idx(x, q->root)) == -1) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	if ((rc = tmpl_file_get(x, (unsigned)ri, q->t->path,
	    TMPL_KIND_TEMPLATE, &t, errmsg)) != 0)
		return rc;
	if (q->t->hosts != NULL && (rc = tmpl_file_get(x, (unsigned)ri,
	    q->t->hosts, TMPL_KIND_HOSTS, &hosts, errmsg)) != 0)
		return rc;
	tmpl_vals_fill(&v, q, hosts);
	return tmpl_output(t, &v, data, size, errmsg);
}
