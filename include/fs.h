/*
 * fs.h - the served root, the bodies sent from it and the files uploaded
 * into it. A request name is resolved beneath the root directory fd by the
 * kernel (openat2 with RESOLVE_BENEATH), only regular files are served,
 * and a file's bytes are an mmap shared by every session of the worker
 * that serves the same (dev, ino, mtime, size, mode). Netascii is a
 * converted buffer. An upload is written to an unnamed (O_TMPFILE) or
 * hidden temporary file and published under its name by link/rename only
 * once complete and on disk.
 */
#ifndef PTFTPD_FS_H
#define PTFTPD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tftp.h"

struct body {
	const uint8_t	*data;		/* NULL when size == 0 */
	uint64_t	 size;
	/* private to fs.c below this line */
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 mtime_ns;
	uint64_t	 file_size;	/* st_size of the source file */
	enum tftp_mode	 mode;
	uint32_t	 refs;
	int		 mapped;	/* 1: mmap, 0: heap buffer */
	struct body	*next;		/* cache chain */
	struct body	*lru_prev, *lru_next;
};

struct fs;

/*
 * Open the root directory (O_PATH|O_DIRECTORY) and set up an empty body
 * cache holding up to max_idle unreferenced bodies. Returns NULL with
 * errno set on failure.
 */
struct fs *fs_new(const char *root, unsigned max_idle);
void	fs_free(struct fs *fs);

/*
 * Resolve `name` (as sent by the client; leading '/' are stripped, see
 * CLIENTS.md: GRUB and iPXE) beneath the root, open it, and return a
 * referenced body in *out. Returns 0, or a TFTP error code: TFTP_ENOTFOUND
 * for a missing file, TFTP_EACCESS for anything forbidden (escape, not a
 * regular file, permission). *errmsg gets a short static message. Costs
 * openat2 + fstat + close on a cache hit, plus mmap on a miss.
 */
int	fs_open_read(struct fs *fs, const char *name, enum tftp_mode mode,
	    struct body **out, const char **errmsg);

/*
 * fs_open_read's code for a failure on our side (EMFILE, ENOMEM, an I/O
 * error...). TFTP_EUNDEF is 0 and cannot be told from success, so this is
 * nonzero and (uint16_t)FS_ESERVER == TFTP_EUNDEF: send the low 16 bits.
 * Code 0, not 3, because PXE ROMs and U-Boot retry on it. *out is NULL
 * whenever the return is not 0.
 */
#define FS_ESERVER	(0x10000 | TFTP_EUNDEF)
/* Drop a reference taken by fs_open_read. */
void	fs_release(struct fs *fs, struct body *b);

/*
 * What an upload may do, decided by the caller (route, config). max_bytes
 * caps the bytes written to the file (UINT64_MAX: no cap); mode is given
 * to the new file exactly, whatever the umask, less any set-id and sticky
 * bits (0777 at most).
 */
struct fs_wpolicy {
	bool		 create;	/* a missing file may be created */
	bool		 overwrite;	/* an existing file may be replaced */
	uint64_t	 max_bytes;
	mode_t		 mode;		/* permission bits of the new file */
};

/* One upload in progress: opaque, owned by the caller until commit/abort. */
struct fs_upload;

/*
 * Prepare an upload of `name` (leading '/' stripped, as for reading) into
 * its parent directory beneath the root. The parent must exist (it is
 * never created): else TFTP_ENOTFOUND "Directory not found". An existing
 * target refuses with TFTP_EEXISTS unless p->overwrite, and must be a
 * regular file (a directory, symlink, FIFO... is TFTP_EACCESS); a missing
 * one needs p->create (else TFTP_EACCESS). Escapes are TFTP_EACCESS as for
 * reading; failures on our side FS_ESERVER; a mode other than octet or
 * netascii TFTP_EBADOP. Nothing appears under the final name until
 * fs_upload_commit. Returns 0 and *out, or a code, a static *errmsg and
 * *out NULL. Costs two openat2, an fstatat and a fchmod.
 */
int	fs_open_write(struct fs *fs, const char *name,
	    const struct fs_wpolicy *p, enum tftp_mode mode,
	    struct fs_upload **out, const char **errmsg);

/*
 * Append len bytes of the wire stream at wire offset off (in order: off is
 * the sum of the lengths written before, as sess.c hands them out).
 * Netascii is decoded on the way (CR LF -> LF, CR NUL -> CR, a CR split
 * across two packets handled), so the file may be shorter than the wire
 * stream. Returns 0, TFTP_ENOSPACE (disk full, quota, max_bytes) or
 * FS_ESERVER. Costs one pwrite per call (netascii: per 4 KiB decoded).
 */
int	fs_upload_write(struct fs_upload *u, uint64_t off, const uint8_t *data,
	    size_t len);

/*
 * Make the upload final: fsync the file, publish it under its name in one
 * atomic step, fsync the directory. A reader sees the old file or the new
 * one, never a part. Returns 0; TFTP_EEXISTS if !overwrite and the name
 * appeared meanwhile (that file is left alone); TFTP_EACCESS if it became
 * a directory; TFTP_ENOSPACE; or FS_ESERVER. Always frees u. On failure
 * nothing is left, except when only the final directory fsync fails: the
 * file is then already published, and FS_ESERVER says it may not survive
 * a crash. Costs two fsyncs, a link and, when replacing, a rename.
 */
int	fs_upload_commit(struct fs *fs, struct fs_upload *u);

/* Discard an upload: nothing appears, the temporary goes; frees u. */
void	fs_upload_abort(struct fs *fs, struct fs_upload *u);

/* Netascii (RFC 764 as RFC 1350 uses it): LF -> CR LF, CR -> CR NUL. */
uint64_t fs_netascii_size(const uint8_t *src, uint64_t n);
/* dst must hold fs_netascii_size(src, n) bytes; returns bytes written. */
uint64_t fs_netascii_convert(uint8_t *dst, const uint8_t *src, uint64_t n);

#endif
