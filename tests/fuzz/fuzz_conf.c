/* SPDX-License-Identifier: BSD-2-Clause */
// LINK: conf conf_policy addr num
// PKG: libconfig
/*
 * fuzz_conf.c - libFuzzer entry point for the configuration loader. Each
 * input is written as ptftpd.conf into a private temporary directory
 * (which also holds an empty "root" directory, so relative paths have
 * something to resolve to) and loaded with conf_load. A failed load must
 * leave a "file:line: ..." or "file: ..." message naming that file and
 * nothing to free; a successful one must hold values inside the ranges
 * conf.h promises. Inputs with "@" are skipped: @include reads other
 * files, and what they hold is not the parser's problem. Owns nothing
 * else; the sanitizers (leaks included) find the bugs.
 *
 *   scripts/fuzz-smoke.sh builds it from the LINK and PKG lines above.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	fuzz_dir[64];
static char	fuzz_root[96];
static char	fuzz_path[96];

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_root);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*real;

	(void)argc;
	(void)argv;
	/* tmpfs if there is one: a rewrite per input costs less there. */
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/fuzz_conf.XXXXXX");
	if (mkdtemp(fuzz_dir) == NULL) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz_conf.XXXXXX");
		if (mkdtemp(fuzz_dir) == NULL)
			abort();
	}
	/* conf_load reports the canonical directory's paths. */
	if ((real = realpath(fuzz_dir, NULL)) == NULL)
		abort();
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s", real);
	free(real);
	snprintf(fuzz_root, sizeof(fuzz_root), "%s/root", fuzz_dir);
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/ptftpd.conf", fuzz_dir);
	if (mkdir(fuzz_root, 0755) == -1)
		abort();
	atexit(fuzz_cleanup);
	return 0;
}

/* The promises of conf.h about a loaded configuration. */
static void
fuzz_check_conf(const struct conf *c)
{
	const struct conf_session	*s = &c->session;

	if (c->workers < 1 || c->workers > 256)
		abort();
	if (c->n_listen < 1 || c->n_listen > CONF_MAX_LISTEN)
		abort();
	if (c->root == NULL || c->root[0] != '/')
		abort();
	if (s->timeout_ms > s->timeout_max_ms)
		abort();
	if (s->blksize_max < 8 || s->blksize_max > 65464)
		abort();
	if (s->windowsize_max < 1 || s->windowsize_max > 65535)
		abort();
	if (s->port_min > s->port_max)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	char		 err[1024];
	size_t		 plen = strlen(fuzz_path);
	FILE		*f;

	if (memchr(data, '@', size) != NULL)
		return 0;
	if ((f = fopen(fuzz_path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	err[0] = '\0';
	if (conf_load(&c, fuzz_path, err, sizeof(err)) == 0) {
		fuzz_check_conf(&c);
		conf_free(&c);
		return 0;
	}
	/* Every message names the file first. */
	if (strncmp(err, fuzz_path, plen) != 0 || err[plen] != ':')
		abort();
	return 0;
}
