/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fs.c - the served root and the bodies sent from it. It owns the root
 * directory fd, the resolution of a client's file name beneath it, and a
 * per-worker cache of file bodies, and upload files from creation to
 * publication. It does not own policy (rewrite rules, ACLs, whether and
 * where uploads are allowed: route.c hands it a struct fs_wpolicy), the
 * upload protocol (sess.c), or logging: every failure comes back as a TFTP
 * error code and a short static message for the caller to send and log.
 * One struct fs per worker process; nothing here is shared between
 * processes, and there are no threads. Its size (about 1,300 lines) is
 * the publishing rule below, which the body cache (readers) and the
 * upload files (writers) both depend on: they stay in one file so that
 * neither side can change it alone.
 *
 * Publishing rule: files under the root must be published by rename(2)
 * (write a temporary name, then rename over the final one), never
 * truncated or rewritten in place. An octet body is a MAP_SHARED mapping of
 * the file, so a file truncated under a live mapping leaves pages past the
 * new end of file that fault when touched: sendmsg then fails with EFAULT,
 * which the worker turns into a session error. A rename leaves the old
 * inode, and its mapping, intact until the last session sending it ends.
 *
 * The cache: a body is keyed by (st_dev, st_ino, st_mtim in ns, st_size,
 * mode), so a file replaced by rename (new inode) or modified (new mtime or
 * size) is a new key, and a stale body is never served to a new session.
 * Bodies live in a fixed-size hash table chained on (dev, ino), so every
 * version of one file shares a chain. A referenced body is in use by
 * sessions; when its last reference goes it joins the tail of an idle LRU
 * list, and the oldest idle bodies are unmapped (or freed) while more than
 * max_idle are idle, or once they have been idle for the caller's age
 * limit (fs_expire_idle), so that a large file fetched once does not stay
 * mapped, and counted in the worker's RSS, for the rest of its life.
 * Inserting a new version of a (dev, ino) drops the idle older versions
 * at once, and an older version still in use is dropped when
 * its last session ends. A cache hit costs openat2 + fstat + close and no
 * allocation; a miss adds one malloc and an mmap (or, for netascii, a
 * conversion into a heap buffer).
 *
 * Uploads follow the same publishing rule, for the same readers and for
 * the clients (CLIENTS.md: BMCs and switches upload config backups and
 * crash dumps, and a half-written file must never appear under the final
 * name). The bytes go to a file with no name at all, O_TMPFILE in the
 * target's directory, or where the filesystem cannot do that (NFS, some
 * FUSE; EOPNOTSUPP) or /proc is not mounted (the link below needs it), to
 * a hidden ".<name>.ptftpd-XXXXXX" created with O_EXCL. Commit fsyncs the
 * data, then gives the complete file its name in one step: link(2) for a
 * new file (it never replaces anything), rename(2) over an existing one
 * (atomic: a reader opens the old inode or the new one, and a session
 * still sending the old one keeps its mapping), then fsyncs the directory.
 * Being in the same directory keeps both on one filesystem, so the rename
 * never degrades to a copy.
 *
 * Crashes: a worker killed mid-upload (kill -9, OOM) leaves nothing with
 * O_TMPFILE, the kernel frees the unnamed inode with its last fd. With the
 * named fallback the hidden ".<name>.ptftpd-XXXXXX" stays behind, partial,
 * until someone removes it; so can a complete one when O_TMPFILE replaces
 * an existing file and the worker dies between its link to that hidden
 * name and the rename. Nothing partial is ever under the final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "fs.h"

#define FS_BUCKET_BITS		10
#define FS_BUCKETS		(1u << FS_BUCKET_BITS)
#define FS_NETASCII_MAX		(8ull << 20)	/* source bytes */
#define FS_CHUNK		(64u << 10)	/* netascii read buffer */
#define FS_TMP_TAG		".ptftpd-"	/* hidden temp: .<name>.ptftpd-XXXXXX */
#define FS_TMP_RAND		6		/* random characters */
#define FS_TMP_KEEP		200		/* bytes of <name> kept: under NAME_MAX */
#define FS_TMP_TRIES		16		/* O_EXCL collisions before giving up */
#define FS_NA_OUT		4096u		/* netascii decode buffer */

/*
 * The name cache: request name -> body, trusted for valid_ms after the
 * last check, so a hot file (pxelinux.0, an iPXE script fetched by a
 * whole rack) costs no openat2/fstat/close per request. Direct-mapped,
 * names up to FS_NAME_INLINE - 1 bytes stored inline (longer names are
 * simply not cached). An entry points at a body of the cache; evicting
 * that body clears the entry.
 */
#define FS_NAMES		1024
#define FS_NAME_INLINE		120

struct fs_name {
	uint64_t	 hash;
	uint64_t	 checked_ms;
	struct body	*body;		/* NULL: empty */
	enum tftp_mode	 mode;
	uint16_t	 len;
	char		 name[FS_NAME_INLINE];
};

struct fs {
	int		 root_fd;
	uint32_t	 valid_ms;		/* name cache; 0: off */
	const uint64_t	*now_ms;		/* the caller's clock */
	struct fs_name	*names;			/* FS_NAMES, or NULL */
	unsigned	 max_idle;
	int		 tmpfile_ok;		/* /proc/self/fd usable: 0 unknown,
						 * 1 yes, -1 no (see fs_open_write) */
	unsigned	 n_idle;
	struct body	*idle_head;		/* least recently released */
	struct body	*idle_tail;
	struct body	*bucket[FS_BUCKETS];	/* chains on (dev, ino) */
	uint8_t		 chunk[FS_CHUNK];
};

/*
 * Open the root and allocate an empty cache (one calloc of about 72 KiB).
 * Fails with ENOSYS on a kernel without openat2 (before 5.6, or a seccomp
 * filter that hides it): better at start-up than on every request. The
 * caller owns the result and frees it with fs_free.
 */
struct fs *
fs_new(const char *root, unsigned max_idle)
{
	struct open_how how;
	struct fs *fs;
	long probe;
	int fd, saved;

	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH;
	probe = syscall(SYS_openat2, fd, ".", &how, sizeof how);
	if (probe == -1)
		goto fail;
	close((int)probe);
	fs = calloc(1, sizeof *fs);
	if (fs == NULL)
		goto fail;
	fs->root_fd = fd;
	fs->max_idle = max_idle;
	return fs;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

static size_t
fs_hash(dev_t dev, ino_t ino)
{
	uint64_t h;

	h = (uint64_t)ino * 0x9e3779b97f4a7c15ull;
	h ^= (uint64_t)dev * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h >> (64 - FS_BUCKET_BITS));
}

static void
body_destroy(struct body *b)
{
	if (b->data != NULL) {
		if (b->mapped)
			munmap((void *)(uintptr_t)b->data, b->size);
		else
			free((void *)(uintptr_t)b->data);
	}
	free(b);
}

static void
lru_unlink(struct fs *fs, struct body *b)
{
	if (b->lru_prev != NULL)
		b->lru_prev->lru_next = b->lru_next;
	else
		fs->idle_head = b->lru_next;
	if (b->lru_next != NULL)
		b->lru_next->lru_prev = b->lru_prev;
	else
		fs->idle_tail = b->lru_prev;
	b->lru_prev = b->lru_next = NULL;
	fs->n_idle--;
}

static void
lru_append(struct fs *fs, struct body *b)
{
	b->lru_next = NULL;
	b->lru_prev = fs->idle_tail;
	if (fs->idle_tail != NULL)
		fs->idle_tail->lru_next = b;
	else
		fs->idle_head = b;
	fs->idle_tail = b;
	fs->n_idle++;
}

/* Take an idle body out of the LRU and its chain, and destroy it. */
static void
cache_evict(struct fs *fs, struct body *b)
{
	struct body **pp;
	size_t i;

	lru_unlink(fs, b);
	/* Rare (an idle body over max_idle, or a stale version): a scan. */
	for (i = 0; fs->names != NULL && i < FS_NAMES; i++)
		if (fs->names[i].body == b)
			fs->names[i].body = NULL;
	for (pp = &fs->bucket[fs_hash(b->dev, b->ino)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	body_destroy(b);
}

static int
body_same_version(const struct body *a, const struct body *b)
{
	return a->mtime_ns == b->mtime_ns && a->file_size == b->file_size;
}

static struct body *
cache_find(struct fs *fs, const struct body *key)
{
	struct body *b;

	for (b = fs->bucket[fs_hash(key->dev, key->ino)]; b != NULL;
	    b = b->next) {
		if (b->dev == key->dev && b->ino == key->ino &&
		    body_same_version(b, key) && b->mode == key->mode)
			return b;
	}
	return NULL;
}

/*
 * Insert a new body at the head of its chain, so the first body of a
 * (dev, ino) in a chain is always its newest version. Idle bodies of other
 * versions of the same file are never asked for again: drop them now.
 */
static void
cache_insert(struct fs *fs, struct body *b)
{
	struct body **pp, *o;
	size_t h;

	h = fs_hash(b->dev, b->ino);
	pp = &fs->bucket[h];
	while ((o = *pp) != NULL) {
		if (o->refs == 0 && o->dev == b->dev && o->ino == b->ino &&
		    !body_same_version(o, b)) {
			*pp = o->next;
			lru_unlink(fs, o);
			body_destroy(o);
		} else {
			pp = &o->next;
		}
	}
	b->next = fs->bucket[h];
	fs->bucket[h] = b;
}

/* 1 if a newer version of b's file is in the cache (see cache_insert). */
static int
cache_is_stale(struct fs *fs, const struct body *b)
{
	const struct body *o;

	for (o = fs->bucket[fs_hash(b->dev, b->ino)]; o != NULL; o = o->next) {
		if (o->dev == b->dev && o->ino == b->ino)
			return !body_same_version(o, b);
	}
	return 0;
}

/*
 * Drop every body, referenced or not (the worker is exiting: no session
 * may touch a body afterwards), close the root and free fs. NULL is a
 * no-op.
 */
void
fs_free(struct fs *fs)
{
	struct body *b, *next;
	size_t i;

	if (fs == NULL)
		return;
	for (i = 0; i < FS_BUCKETS; i++) {
		for (b = fs->bucket[i]; b != NULL; b = next) {
			next = b->next;
			body_destroy(b);
		}
	}
	close(fs->root_fd);
	free(fs->names);
	free(fs);
}

/*
 * Trust a name's lookup for valid_ms (0: never) as measured by *now_ms,
 * which the caller keeps current (the worker's loop time). A file
 * replaced on disk may then be served in its old version for up to
 * valid_ms. Returns 0, or -1 (ENOMEM). One allocation of ~150 KiB.
 */
int
fs_set_name_cache(struct fs *fs, uint32_t valid_ms, const uint64_t *now_ms)
{
	if (valid_ms > 0 && fs->names == NULL &&
	    (fs->names = calloc(FS_NAMES, sizeof(*fs->names))) == NULL)
		return -1;
	fs->valid_ms = valid_ms;
	fs->now_ms = now_ms;
	return 0;
}

static uint64_t
fs_name_hash(const char *name, size_t len, enum tftp_mode mode)
{
	uint64_t	 h = 0xcbf29ce484222325ull ^ (uint64_t)mode;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The cached entry for name if it is still trusted, else NULL. */
static struct fs_name *
fs_name_find(struct fs *fs, const char *name, size_t len, enum tftp_mode mode,
    uint64_t h)
{
	struct fs_name	*e;

	if (fs->valid_ms == 0 || len >= FS_NAME_INLINE)
		return NULL;
	e = &fs->names[h & (FS_NAMES - 1)];
	if (e->body == NULL || e->hash != h || e->mode != mode ||
	    e->len != len || memcmp(e->name, name, len) != 0 ||
	    *fs->now_ms - e->checked_ms >= fs->valid_ms)
		return NULL;
	return e;
}

static void
fs_name_store(struct fs *fs, const char *name, size_t len, enum tftp_mode mode,
    uint64_t h, struct body *b)
{
	struct fs_name	*e;

	if (fs->valid_ms == 0 || len >= FS_NAME_INLINE)
		return;
	e = &fs->names[h & (FS_NAMES - 1)];
	e->hash = h;
	e->mode = mode;
	e->len = (uint16_t)len;
	memcpy(e->name, name, len);
	e->body = b;
	e->checked_ms = *fs->now_ms;
}

static int
fs_errno_code(int err, const char **errmsg)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		*errmsg = "File not found";
		return TFTP_ENOTFOUND;
	case EXDEV:	/* ".." or a symlink leading out of the root */
	case ELOOP:	/* a magic link, or a symlink loop */
		*errmsg = "Path escapes root";
		return TFTP_EACCESS;
	case EACCES:
	case EPERM:
		*errmsg = "Permission denied";
		return TFTP_EACCESS;
	case ENAMETOOLONG:
		*errmsg = "Name too long";
		return TFTP_EACCESS;
	case ENXIO:	/* a UNIX socket */
	case ENODEV:	/* a device node with no driver */
		*errmsg = "Not a regular file";
		return TFTP_EACCESS;
	default:	/* EMFILE, ENOMEM, ENOSYS...: ours, not the client's */
		*errmsg = "Server error";
		return FS_ESERVER;
	}
}

/* Open name beneath the root into *fdp. Returns 0 or a TFTP error code. */
static int
fs_resolve(struct fs *fs, const char *name, int *fdp, const char **errmsg)
{
	struct open_how how;
	long fd;

	/*
	 * GRUB sends every name with a leading slash ("/grub/grub.cfg") and
	 * iPXE strips it itself: both mean a path from the served root. Strip
	 * them all; RESOLVE_BENEATH would refuse an absolute path, so
	 * "/etc/passwd" is looked up as root/etc/passwd.
	 */
	while (*name == '/')
		name++;
	if (*name == '\0') {
		*errmsg = "File not found";
		return TFTP_ENOTFOUND;
	}
	memset(&how, 0, sizeof how);
	/* O_NONBLOCK: opening a FIFO must never block the worker. */
	how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	/* No ".." or symlink out of the root; symlinks inside it are fine. */
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, fs->root_fd, name, &how, sizeof how);
	if (fd == -1)
		return fs_errno_code(errno, errmsg);
	*fdp = (int)fd;
	return 0;
}

/* Map the whole file read-only; an empty file has no mapping. */
static int
body_map(struct body *b, int fd, const char **errmsg)
{
	void *p;

	b->mapped = 1;
	b->size = b->file_size;
	if (b->size == 0)
		return 0;
	p = mmap(NULL, b->size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	(void)madvise(p, b->size, MADV_SEQUENTIAL);
	b->data = p;
	return 0;
}

/*
 * One pass over the first n bytes of fd, FS_CHUNK at a time. With dst NULL,
 * store the netascii size in *len. Otherwise convert into dst, which holds
 * *len bytes, and fail if the bytes no longer fit exactly (the file was
 * changed in place between the passes). Returns 0, or -1 on a read error
 * or a file shorter than n.
 */
static int
netascii_pass(struct fs *fs, int fd, uint64_t n, uint8_t *dst, uint64_t *len)
{
	uint64_t off, out, want, grow;
	ssize_t got;

	off = out = 0;
	while (off < n) {
		want = n - off < FS_CHUNK ? n - off : FS_CHUNK;
		got = pread(fd, fs->chunk, want, (off_t)off);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		grow = fs_netascii_size(fs->chunk, (uint64_t)got);
		if (dst != NULL) {
			if (grow > *len - out)
				return -1;
			fs_netascii_convert(dst + out, fs->chunk, (uint64_t)got);
		}
		off += (uint64_t)got;
		out += grow;
	}
	if (dst != NULL && out != *len)
		return -1;
	*len = out;
	return 0;
}

/*
 * Convert the file into a heap buffer of exactly fs_netascii_size bytes.
 * Read with pread rather than through a mapping: a file truncated under a
 * mapping would raise SIGBUS here, in user space, and kill the worker with
 * every session it carries, where pread just returns short.
 */
static int
body_netascii(struct fs *fs, struct body *b, int fd, const char **errmsg)
{
	uint64_t total;
	uint8_t *dst;

	b->mapped = 0;
	if (b->file_size > FS_NETASCII_MAX) {
		*errmsg = "File too large for netascii";
		return TFTP_ENOSPACE;
	}
	if (netascii_pass(fs, fd, b->file_size, NULL, &total) == -1)
		goto fail;
	if (total == 0)
		return 0;
	dst = malloc(total);
	if (dst == NULL)
		goto fail;
	if (netascii_pass(fs, fd, b->file_size, dst, &total) == -1) {
		free(dst);
		goto fail;
	}
	b->data = dst;
	b->size = total;
	return 0;
fail:
	*errmsg = "Server error";
	return FS_ESERVER;
}

/* A new body for the open regular file fd, with one reference. */
static int
body_load(struct fs *fs, const struct body *key, int fd, struct body **out,
    const char **errmsg)
{
	struct body *b;
	int rc;

	b = malloc(sizeof *b);
	if (b == NULL) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	*b = *key;
	if (b->mode == TFTP_MODE_OCTET)
		rc = body_map(b, fd, errmsg);
	else
		rc = body_netascii(fs, b, fd, errmsg);
	if (rc != 0) {
		free(b);
		return rc;
	}
	b->refs = 1;
	b->cached = 1;
	*out = b;
	return 0;
}

static void
body_key(struct body *key, const struct stat *st, enum tftp_mode mode)
{
	memset(key, 0, sizeof *key);
	key->dev = st->st_dev;
	key->ino = st->st_ino;
	key->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	key->file_size = (uint64_t)st->st_size;
	key->mode = mode;
}

/*
 * See fs.h. Only octet and netascii are served (mail mode is for writing
 * to a user, and obsolete): anything else is TFTP_EBADOP. Failures on our
 * side are FS_ESERVER (see fs.h). On success *out holds a reference the
 * caller gives back with fs_release; on error *out is NULL. The file
 * descriptor is always closed before returning.
 */
int
fs_open_read(struct fs *fs, const char *name, enum tftp_mode mode,
    struct body **out, const char **errmsg)
{
	struct body key, *b;
	struct fs_name *e;
	struct stat st;
	size_t nlen;
	uint64_t h;
	int fd = -1, rc;

	*out = NULL;
	if (mode != TFTP_MODE_OCTET && mode != TFTP_MODE_NETASCII) {
		*errmsg = "Unsupported mode";
		return TFTP_EBADOP;
	}
	while (*name == '/')
		name++;
	nlen = strlen(name);
	h = fs_name_hash(name, nlen, mode);
	if ((e = fs_name_find(fs, name, nlen, mode, h)) != NULL) {
		b = e->body;
		if (b->refs++ == 0)
			lru_unlink(fs, b);
		*out = b;
		return 0;
	}
	rc = fs_resolve(fs, name, &fd, errmsg);
	if (rc != 0)
		return rc;
	if (fstat(fd, &st) == -1) {
		rc = fs_errno_code(errno, errmsg);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errmsg = "Not a regular file";
		rc = TFTP_EACCESS;
		goto out;
	}
	body_key(&key, &st, mode);
	b = cache_find(fs, &key);
	if (b == NULL) {
		rc = body_load(fs, &key, fd, &b, errmsg);
		if (rc != 0)
			goto out;
		cache_insert(fs, b);
	} else if (b->refs++ == 0) {
		lru_unlink(fs, b);
	}
	fs_name_store(fs, name, nlen, mode, h, b);
	*out = b;
out:
	close(fd);
	return rc;
}

/*
 * Give back a reference from fs_open_read; NULL is a no-op. The last
 * reference makes the body idle: it is destroyed at once if a newer
 * version of its file is cached, otherwise it joins the idle LRU, which is
 * then trimmed to max_idle bodies. No allocation; munmap or free when a
 * body goes.
 */
void
fs_release(struct fs *fs, struct body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	if (!b->cached) {
		/* Generated content: one request's, never shared. */
		body_destroy(b);
		return;
	}
	b->idle_ms = fs->now_ms != NULL ? *fs->now_ms : 0;
	lru_append(fs, b);
	/* A netascii body is a heap copy converted for one kind of client
	 * (operators' tools): not worth its memory once idle, and a flood
	 * of netascii requests must not pin converted copies. */
	if (cache_is_stale(fs, b) || b->mode == TFTP_MODE_NETASCII)
		cache_evict(fs, b);
	while (fs->n_idle > fs->max_idle)
		cache_evict(fs, fs->idle_head);
}

/*
 * Destroy the bodies that have been idle for idle_ms or longer by now_ms,
 * the clock given to fs_set_name_cache (without one, a body's idle time is
 * 0 and only max_idle limits the cache). The LRU is in release order, so
 * this stops at the first body still young: O(bodies destroyed). Returns
 * how many went. idle_ms 0: nothing expires by age.
 */
unsigned
fs_expire_idle(struct fs *fs, uint64_t now_ms, uint32_t idle_ms)
{
	unsigned n = 0;

	if (idle_ms == 0)
		return 0;
	while (fs->idle_head != NULL && now_ms >= fs->idle_head->idle_ms &&
	    now_ms - fs->idle_head->idle_ms >= idle_ms) {
		cache_evict(fs, fs->idle_head);
		n++;
	}
	return n;
}

/*
 * A body over generated bytes (a rendered template, a module's answer,
 * a program's output): data is malloc'd (mapped 0) or an mmap (mapped 1)
 * and is owned by the body from now on, also when this fails. Netascii
 * converts into a new buffer. Not cached: released with its only
 * reference. Returns the body with refs 1, or NULL (ENOMEM, or EFBIG for
 * netascii over FS_NETASCII_MAX). Costs one allocation, plus a pass for netascii.
 */
struct body *
fs_body_new(uint8_t *data, uint64_t size, int mapped, enum tftp_mode mode)
{
	struct body	*b = calloc(1, sizeof(*b));
	uint64_t	 nsize;
	uint8_t		*conv;

	if (b == NULL)
		goto fail;
	b->data = data;
	b->size = size;
	b->mapped = mapped;
	b->mode = mode;
	b->refs = 1;
	if (mode != TFTP_MODE_NETASCII || size == 0)
		return b;
	nsize = fs_netascii_size(data, size);
	if (nsize > FS_NETASCII_MAX) {
		errno = EFBIG;
		body_destroy(b);
		return NULL;
	}
	if ((conv = malloc(nsize)) == NULL) {
		body_destroy(b);
		return NULL;
	}
	fs_netascii_convert(conv, data, size);
	if (mapped)
		munmap(data, size);
	else
		free(data);
	b->data = conv;
	b->size = nsize;
	b->mapped = 0;
	return b;
fail:
	if (data != NULL && mapped)
		munmap(data, size);
	else if (!mapped)
		free(data);
	return NULL;
}

/*
 * Netascii as tftp-hpa sends it: every LF becomes CR LF and every CR
 * becomes CR NUL, each byte on its own, so a CR LF already in the file
 * goes out as CR NUL CR LF. No state crosses bytes, so a file can be
 * converted in pieces. One pass, no allocation.
 */
uint64_t
fs_netascii_size(const uint8_t *src, uint64_t n)
{
	uint64_t i, size;

	size = n;
	for (i = 0; i < n; i++) {
		if (src[i] == '\n' || src[i] == '\r')
			size++;
	}
	return size;
}

/* See fs_netascii_size. dst and src must not overlap. */
uint64_t
fs_netascii_convert(uint8_t *dst, const uint8_t *src, uint64_t n)
{
	uint64_t i, o;

	for (i = o = 0; i < n; i++) {
		if (src[i] == '\n') {
			dst[o++] = '\r';
			dst[o++] = '\n';
		} else if (src[i] == '\r') {
			dst[o++] = '\r';
			dst[o++] = '\0';
		} else {
			dst[o++] = src[i];
		}
	}
	return o;
}

/* ---- uploads ---- */

struct fs_upload {
	int		 dir_fd;	/* parent directory, O_PATH */
	int		 fd;		/* the data, O_WRONLY */
	bool		 named;		/* tmp names a link to fd's inode */
	bool		 overwrite;
	bool		 pending_cr;	/* netascii: a CR ended the last packet */
	enum tftp_mode	 mode;
	uint64_t	 max_bytes;	/* cap on out_off */
	uint64_t	 wire_next;	/* wire offset of the next write */
	uint64_t	 out_off;	/* file bytes written */
	char		 name[NAME_MAX + 1];	/* final name in dir_fd */
	char		 tmp[NAME_MAX + 1];	/* hidden temp name in dir_fd */
};

/* fs_errno_code for errors that writing adds. */
static int
fs_werrno_code(int err, const char **errmsg)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:	/* the filesystem's largest file */
		*errmsg = "Disk full or allocation exceeded";
		return TFTP_ENOSPACE;
	case EROFS:
		*errmsg = "Read-only file system";
		return TFTP_EACCESS;
	case EISDIR:	/* the name became a directory before commit */
		*errmsg = "Not a regular file";
		return TFTP_EACCESS;
	case EEXIST:
		*errmsg = "File already exists";
		return TFTP_EEXISTS;
	default:
		return fs_errno_code(err, errmsg);
	}
}

/* Close and free u; remove its hidden temp name if it still has one. */
static void
upload_free(struct fs_upload *u)
{
	if (u->fd != -1)
		close(u->fd);
	if (u->named)
		(void)unlinkat(u->dir_fd, u->tmp, 0);
	if (u->dir_fd != -1)
		close(u->dir_fd);
	free(u);
}

/*
 * Split name into parent and last component, open the parent beneath the
 * root into u->dir_fd and copy the component to u->name. Returns 0 or a
 * TFTP code.
 */
static int
upload_parent(struct fs *fs, const char *name, struct fs_upload *u,
    const char **errmsg)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(name, '/');
	const char *base = slash != NULL ? slash + 1 : name;
	size_t dlen = slash != NULL ? (size_t)(slash - name) : 0;
	struct open_how how;
	long fd;

	/* "", "dir/", "." and "..": a directory, never a file to write. */
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		*errmsg = "Not a regular file";
		return TFTP_EACCESS;
	}
	if (strlen(base) > NAME_MAX || dlen >= sizeof dir) {
		*errmsg = "Name too long";
		return TFTP_EACCESS;
	}
	strcpy(u->name, base);
	if (dlen == 0) {
		strcpy(dir, ".");
	} else {
		memcpy(dir, name, dlen);
		dir[dlen] = '\0';
	}
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	/* As for reading: no ".." or symlink out of the root, no magic. */
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, fs->root_fd, dir, &how, sizeof how);
	if (fd == -1) {
		/* Uploads never create directories: the operator does. */
		if (errno == ENOENT || errno == ENOTDIR) {
			*errmsg = "Directory not found";
			return TFTP_ENOTFOUND;
		}
		return fs_errno_code(errno, errmsg);
	}
	u->dir_fd = (int)fd;
	return 0;
}

/* Apply the policy to what is under the final name now. */
static int
upload_check_target(const struct fs_upload *u, const struct fs_wpolicy *p,
    const char **errmsg)
{
	struct stat st;

	/*
	 * NOFOLLOW: a symlink is not a regular file here. Renaming over it
	 * would replace the link, not write where it points, which is never
	 * what its owner meant; refuse it like a directory or a FIFO.
	 */
	if (fstatat(u->dir_fd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			*errmsg = "Not a regular file";
			return TFTP_EACCESS;
		}
		if (!p->overwrite) {
			*errmsg = "File already exists";
			return TFTP_EEXISTS;
		}
		return 0;
	}
	if (errno != ENOENT)
		return fs_errno_code(errno, errmsg);
	if (!p->create) {
		*errmsg = "Creating files is not allowed";
		return TFTP_EACCESS;
	}
	return 0;
}

/*
 * openat2 for a single component in dirfd, never through a symlink (a
 * temp name squatted by a symlink is refused, not followed). openat2
 * rather than openat: the worker's seccomp filter allows openat for
 * reading only, and openat2's flags live in a struct it cannot inspect.
 * mode counts only with O_CREAT or O_TMPFILE. Returns the fd or -1.
 */
static int
upload_openat(int dirfd, const char *path, uint64_t flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = flags | O_CLOEXEC;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/*
 * u->tmp = ".<name>.ptftpd-XXXXXX": hidden from ls and from globs like
 * "*.cfg", tagged so an operator knows what left it, and unpredictable
 * (getrandom) so another local user cannot squat it; O_EXCL and linkat
 * refuse a name that exists anyway, and the caller tries another one.
 */
static void
upload_tmp_name(struct fs_upload *u)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[FS_TMP_RAND];
	uint64_t mix;
	size_t i;
	int len;

	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		/* Entropy not ready at early boot: unique is enough. */
		mix = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)(uintptr_t)u ^ (uint64_t)u->out_off;
		for (i = 0; i < sizeof rnd; i++, mix >>= 8)
			rnd[i] = (uint8_t)mix;
	}
	len = snprintf(u->tmp, sizeof u->tmp, ".%.*s" FS_TMP_TAG,
	    FS_TMP_KEEP, u->name);
	for (i = 0; i < sizeof rnd; i++)
		u->tmp[len + (int)i] = set[rnd[i] % (sizeof set - 1)];
	u->tmp[len + FS_TMP_RAND] = '\0';
}

/*
 * O_TMPFILE is only worth it if commit can give the file a name, which
 * takes /proc/self/fd (linkat AT_EMPTY_PATH would need
 * CAP_DAC_READ_SEARCH, which workers drop). A chroot without /proc falls
 * back to named temps. Checked once per struct fs, by opening it (an
 * O_PATH open: no access(2) for the seccomp filter to allow).
 */
static bool
upload_tmpfile_usable(struct fs *fs)
{
	struct open_how how;
	long fd;

	if (fs->tmpfile_ok == 0) {
		memset(&how, 0, sizeof how);
		how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
		fd = syscall(SYS_openat2, AT_FDCWD, "/proc/self/fd", &how,
		    sizeof how);
		fs->tmpfile_ok = fd == -1 ? -1 : 1;
		if (fd != -1)
			close((int)fd);
	}
	return fs->tmpfile_ok == 1;
}

/* Create the data file: unnamed if possible, else a hidden temp. */
static int
upload_create(struct fs *fs, struct fs_upload *u, mode_t mode,
    const char **errmsg)
{
	int fd = -1, i;

	/* Permission bits only: a file from the network is never set-id. */
	mode &= 0777;
	if (upload_tmpfile_usable(fs)) {
		fd = upload_openat(u->dir_fd, ".", O_TMPFILE | O_WRONLY,
		    mode);
		/*
		 * EOPNOTSUPP: this filesystem has no O_TMPFILE (NFS, some
		 * FUSE). EISDIR is what a kernel without O_TMPFILE says (it
		 * sees only the O_DIRECTORY in it); none with openat2 is
		 * that old, but the answer would be the same.
		 */
		if (fd == -1 && errno != EOPNOTSUPP && errno != EISDIR)
			return fs_werrno_code(errno, errmsg);
	}
	for (i = 0; fd == -1 && i < FS_TMP_TRIES; i++) {
		upload_tmp_name(u);
		fd = upload_openat(u->dir_fd, u->tmp, O_WRONLY | O_CREAT |
		    O_EXCL, mode);
		if (fd != -1)
			u->named = true;
		else if (errno != EEXIST)
			return fs_werrno_code(errno, errmsg);
	}
	if (fd == -1) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	u->fd = fd;
	/* The configured mode exactly: the daemon's umask is not policy. */
	if (fchmod(fd, mode) == -1)
		return fs_werrno_code(errno, errmsg);
	return 0;
}

/*
 * See fs.h. On success the caller owns *out until fs_upload_commit or
 * fs_upload_abort; on error nothing was created and *out is NULL.
 */
int
fs_open_write(struct fs *fs, const char *name, const struct fs_wpolicy *p,
    enum tftp_mode mode, struct fs_upload **out, const char **errmsg)
{
	struct fs_upload *u;
	int rc;

	*out = NULL;
	if (mode != TFTP_MODE_OCTET && mode != TFTP_MODE_NETASCII) {
		*errmsg = "Unsupported mode";
		return TFTP_EBADOP;
	}
	/* As for reading: GRUB-style "/dir/file" is from the root. */
	while (*name == '/')
		name++;
	u = calloc(1, sizeof *u);
	if (u == NULL) {
		*errmsg = "Server error";
		return FS_ESERVER;
	}
	u->dir_fd = u->fd = -1;
	u->mode = mode;
	u->overwrite = p->overwrite;
	u->max_bytes = p->max_bytes;
	rc = upload_parent(fs, name, u, errmsg);
	if (rc == 0)
		rc = upload_check_target(u, p, errmsg);
	if (rc == 0)
		rc = upload_create(fs, u, p->mode, errmsg);
	if (rc != 0) {
		upload_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

/* Append n file bytes at out_off, all of them (short writes loop). */
static int
upload_put(struct fs_upload *u, const uint8_t *buf, size_t n)
{
	const char *msg;
	ssize_t w;

	/* out_off <= max_bytes always holds, so no wrap. */
	if (n > u->max_bytes - u->out_off)
		return TFTP_ENOSPACE;
	while (n > 0) {
		w = pwrite(u->fd, buf, n, (off_t)u->out_off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return fs_werrno_code(errno, &msg);
		if (w == 0)
			return FS_ESERVER;	/* no progress: never loop */
		buf += w;
		n -= (size_t)w;
		u->out_off += (uint64_t)w;
	}
	return 0;
}

/*
 * Netascii to local text: CR LF -> LF, CR NUL -> CR. A CR that ends a
 * packet waits in pending_cr for the next byte, which may be in the next
 * packet. A CR followed by anything else breaks RFC 764, but some tools
 * send bare CRs: keep it, and the byte after it.
 */
static int
upload_put_netascii(struct fs_upload *u, const uint8_t *data, size_t len)
{
	uint8_t out[FS_NA_OUT];
	size_t i, n = 0;
	int rc;

	for (i = 0; i < len; i++) {
		/* Room for a held CR and the byte after it. */
		if (n + 2 > sizeof out) {
			if ((rc = upload_put(u, out, n)) != 0)
				return rc;
			n = 0;
		}
		if (u->pending_cr) {
			u->pending_cr = false;
			if (data[i] == '\n') {
				out[n++] = '\n';
				continue;
			}
			out[n++] = '\r';
			if (data[i] == '\0')
				continue;
		}
		if (data[i] == '\r')
			u->pending_cr = true;
		else
			out[n++] = data[i];
	}
	return n > 0 ? upload_put(u, out, n) : 0;
}

/*
 * See fs.h. Writes must come in wire order, each exactly once, as sess.c
 * hands them out: netascii decoding cannot be undone or redone, so
 * anything else is refused as a server error rather than corrupting the
 * file.
 */
int
fs_upload_write(struct fs_upload *u, uint64_t off, const uint8_t *data,
    size_t len)
{
	if (off != u->wire_next)
		return FS_ESERVER;
	u->wire_next += len;
	if (u->mode == TFTP_MODE_NETASCII)
		return upload_put_netascii(u, data, len);
	return upload_put(u, data, len);
}

/*
 * Give the hidden temp its final name. Returns 0 with u->named cleared,
 * or a code with u->named still set, so upload_free removes the temp.
 */
static int
upload_rename(struct fs_upload *u)
{
	const char *msg;
	int r;

	if (u->overwrite) {
		/* Atomic replace: readers see the old inode or the new. */
		r = renameat(u->dir_fd, u->tmp, u->dir_fd, u->name);
	} else {
		/* A file created since fs_open_write is not clobbered. */
		r = renameat2(u->dir_fd, u->tmp, u->dir_fd, u->name,
		    RENAME_NOREPLACE);
		if (r == -1 && (errno == EINVAL || errno == ENOSYS)) {
			/*
			 * No RENAME_NOREPLACE on this filesystem (or kernel):
			 * link(2) refuses to replace too; then drop the temp.
			 */
			r = linkat(u->dir_fd, u->tmp, u->dir_fd, u->name, 0);
			if (r == 0)
				(void)unlinkat(u->dir_fd, u->tmp, 0);
		}
	}
	if (r == -1)
		return fs_werrno_code(errno, &msg);
	u->named = false;
	return 0;
}

/* Give the unnamed O_TMPFILE inode its final name. */
static int
upload_link_tmpfile(struct fs_upload *u)
{
	char proc[32];
	const char *msg;
	int i;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", u->fd);
	if (!u->overwrite) {
		/*
		 * A new file: link(2) straight to the final name. It never
		 * replaces (EEXIST if the name appeared meanwhile) and the
		 * name comes with the whole, synced file: no temp name
		 * ever exists, so there is nothing to clean up on a crash.
		 */
		if (linkat(AT_FDCWD, proc, u->dir_fd, u->name,
		    AT_SYMLINK_FOLLOW) == -1)
			return fs_werrno_code(errno, &msg);
		return 0;
	}
	/* Replacing takes rename(2), which needs a name to move. */
	for (i = 0; i < FS_TMP_TRIES; i++) {
		upload_tmp_name(u);
		if (linkat(AT_FDCWD, proc, u->dir_fd, u->tmp,
		    AT_SYMLINK_FOLLOW) == 0) {
			u->named = true;
			return upload_rename(u);
		}
		if (errno != EEXIST)
			return fs_werrno_code(errno, &msg);
	}
	return FS_ESERVER;
}

/*
 * fsync the directory so the new name survives a power cut. Without read
 * permission on it (a drop-box directory, mode 0733) it cannot be opened
 * for fsync: the name then reaches the disk with the filesystem's next
 * journal commit, as for any program that does not fsync.
 */
static int
upload_sync_dir(struct fs_upload *u)
{
	int dfd, r;

	dfd = upload_openat(u->dir_fd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -1)
		return errno == EACCES ? 0 : FS_ESERVER;
	r = fsync(dfd);
	close(dfd);
	return r == -1 ? FS_ESERVER : 0;
}

/*
 * See fs.h. Order matters: the data is on disk before it has a name, and
 * the name is on disk before the caller sends the final ACK. If only the
 * directory fsync fails the file is already published (a rename cannot be
 * taken back atomically): FS_ESERVER tells the client its copy may not
 * survive a crash. fs is unused today; it keeps the API symmetric.
 */
int
fs_upload_commit(struct fs *fs, struct fs_upload *u)
{
	const char *msg;
	int rc = 0;

	(void)fs;
	/* A lone CR at the very end of a netascii stream is a CR. */
	if (u->pending_cr) {
		u->pending_cr = false;
		rc = upload_put(u, (const uint8_t *)"\r", 1);
	}
	/* ENOSPC and EDQUOT may only show up here (delayed allocation). */
	if (rc == 0 && fsync(u->fd) == -1)
		rc = fs_werrno_code(errno, &msg);
	if (rc == 0)
		rc = u->named ? upload_rename(u) : upload_link_tmpfile(u);
	if (rc == 0)
		rc = upload_sync_dir(u);
	upload_free(u);
	return rc;
}

/*
 * See fs.h. Closing the fd frees an O_TMPFILE inode; a named temp is
 * unlinked. Nothing was ever under the final name. NULL is a no-op.
 */
void
fs_upload_abort(struct fs *fs, struct fs_upload *u)
{
	(void)fs;
	if (u != NULL)
		upload_free(u);
}
