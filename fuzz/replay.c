/*
 * replay.c - a main() for the fuzz targets without libFuzzer: feeds each
 * file named on the command line (every file of a directory, in name
 * order) to LLVMFuzzerTestOneInput once.  make check-fuzz-replay runs the
 * tree's corpora this way, so every input that ever crashed a target stays
 * a regression test, built with the ordinary compiler.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static size_t	 fed;

static void
feed(const char *path)
{
	FILE	*fp;
	uint8_t	*buf = NULL;
	size_t	 len = 0, size = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (;;) {
		if (len == size) {
			size = size == 0 ? 4096 : size * 2;
			if ((buf = realloc(buf, size)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(2);
			}
		}
		if ((n = fread(buf + len, 1, size - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		exit(2);
	}
	fclose(fp);
	/* An exact-size copy, so that a read past the input is caught. */
	{
		uint8_t	*in = malloc(len == 0 ? 1 : len);

		if (in == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(2);
		}
		memcpy(in, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	fed++;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
feed_path(const char *path)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*dp;
	char		**names = NULL, *p;
	size_t		 n = 0, i;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		feed(path);
		return;
	}
	if ((dp = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) == -1 ||
		    (names = realloc(names, (n + 1) * sizeof(*names))) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(2);
		}
		names[n++] = p;
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			feed(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	int	 i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|directory ...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		feed_path(argv[i]);
	if (fed == 0) {
		fprintf(stderr, "replay: %s: no input to feed\n", argv[0]);
		return 1;
	}
	printf("%s: %zu inputs, no failure\n", argv[0], fed);
	return 0;
}
