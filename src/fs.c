/*
 * fs.c - the served root and the bodies sent from it. It owns the root
 * directory fd, the resolution of a client's file name beneath it, and a
 * per-worker cache of file bodies. It does not own policy (rewrite rules,
 * ACLs: route.c), uploads' naming, or logging: every failure comes back as
 * a TFTP error code and a short static message for the caller to send and
 * log. One struct fs per worker process; nothing here is shared between
 * processes, and there are no threads.
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
 * max_idle are idle. Inserting a new version of a (dev, ino) drops the idle
 * older versions at once, and an older version still in use is dropped when
 * its last session ends. A cache hit costs openat2 + fstat + close and no
 * allocation; a miss adds one malloc and an mmap (or, for netascii, a
 * conversion into a heap buffer).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "fs.h"

#define FS_BUCKET_BITS		10
#define FS_BUCKETS		(1u << FS_BUCKET_BITS)
#define FS_NETASCII_MAX		(64ull << 20)	/* source bytes */
#define FS_CHUNK		(64u << 10)	/* netascii read buffer */

struct fs {
	int		 root_fd;
	unsigned	 max_idle;
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

	lru_unlink(fs, b);
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
	free(fs);
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
	struct stat st;
	int fd = -1, rc;

	*out = NULL;
	if (mode != TFTP_MODE_OCTET && mode != TFTP_MODE_NETASCII) {
		*errmsg = "Unsupported mode";
		return TFTP_EBADOP;
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
	lru_append(fs, b);
	if (cache_is_stale(fs, b))
		cache_evict(fs, b);
	while (fs->n_idle > fs->max_idle)
		cache_evict(fs, fs->idle_head);
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
