/*
 * fuzz_common.c - the helpers of fuzz.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define PIPE_FILL_MAX	65536	/* a pipe's default capacity on Linux */

static char	 dir[4096];

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	abort();
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		fprintf(stderr, "fuzz: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
dir_remove(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_dir(void)
{
	const char	*tmp;

	if (dir[0] != '\0')
		return dir;
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/superd-fuzz.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	atexit(dir_remove);
	return dir;
}

void
fuzz_write(const char *name, const void *buf, size_t len)
{
	const char	*p = buf;
	char		 path[8192];
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	/* Replaced, not rewritten: the loader must never see a torn file. */
	(void)unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fuzz: %s: %s\n", path,
			    strerror(errno));
			exit(2);
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/*
 * config_load() resolves host, user and group names.  A name the input
 * makes up must not wait on a name server (a run would crawl, or hang
 * without a network) nor depend on what the network answers.
 */
void
fuzz_local_names(void)
{
	static const char *const dbs[] = { "hosts", "passwd", "group" };
	size_t	 i;

	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if (__nss_configure_lookup(dbs[i], "files") != 0) {
			fprintf(stderr, "fuzz: cannot limit %s lookups to "
			    "files\n", dbs[i]);
			exit(2);
		}
}

int
fuzz_pipe(const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 fds[2];

	if (len > PIPE_FILL_MAX)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "fuzz: pipe: %s\n", strerror(errno));
		exit(2);
	}
	while (len > 0) {
		if ((n = write(fds[1], p, len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fuzz: pipe write: %s\n",
			    strerror(errno));
			exit(2);
		}
		p += n;
		len -= (size_t)n;
	}
	close(fds[1]);
	return fds[0];
}

/*
 * Targets with nothing to prepare need no LLVMFuzzerInitialize of their
 * own: this one stands in (the replay driver calls it for every target).
 */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
