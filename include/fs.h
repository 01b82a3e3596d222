/*
 * fs.h - the served root and the bodies sent from it. A request name is
 * resolved beneath the root directory fd by the kernel (openat2 with
 * RESOLVE_BENEATH), only regular files are served, and a file's bytes are
 * an mmap shared by every session of the worker that serves the same
 * (dev, ino, mtime, size, mode). Netascii is a converted buffer.
 */
#ifndef PTFTPD_FS_H
#define PTFTPD_FS_H

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

/* Netascii (RFC 764 as RFC 1350 uses it): LF -> CR LF, CR -> CR NUL. */
uint64_t fs_netascii_size(const uint8_t *src, uint64_t n);
/* dst must hold fs_netascii_size(src, n) bytes; returns bytes written. */
uint64_t fs_netascii_convert(uint8_t *dst, const uint8_t *src, uint64_t n);

#endif
