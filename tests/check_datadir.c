/*
 * check_datadir.c - a private copy of data/ for the suites that load
 * configuration files.
 *
 * superd, as root, reads a configuration file only when the file and every
 * directory on the way to it are root's alone.  The checkout's own
 * directories may not be (a umask of 002, a parent directory of another
 * user's), so these suites copy data/ into a fresh directory under
 * $TMPDIR or /tmp (files 0644, directories 0755, owned by whoever runs the
 * tests) and work there; tests may then write or chmod files freely.
 * Paths stay "data/FILE", as superd -t prints them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_superd.h"

char		datadir[PATH_MAX];
static int	oldcwd = -1;


static void
copy_file(const char *from, const char *to)
{
	char	 buf[8192];
	ssize_t	 n;
	int	 in, out;

	in = open(from, O_RDONLY);
	ck_assert_int_ne(in, -1);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(out, -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, n), n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fchmod(out, 0644), 0);
	close(in);
	close(out);
}

static void
copy_tree(const char *from, const char *to)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dp;
	char		 f[PATH_MAX], t[PATH_MAX];

	ck_assert_int_eq(mkdir(to, 0755), 0);
	ck_assert_int_eq(chmod(to, 0755), 0);
	dp = opendir(from);
	ck_assert_ptr_nonnull(dp);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", from, de->d_name);
		snprintf(t, sizeof(t), "%s/%s", to, de->d_name);
		ck_assert_int_eq(lstat(f, &st), 0);
		if (S_ISDIR(st.st_mode))
			copy_tree(f, t);
		else if (S_ISREG(st.st_mode))
			copy_file(f, t);
	}
	closedir(dp);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/*
 * A checked fixture: copies data/ into a new directory, its path in
 * datadir, and moves there.
 */
void
datadir_enter(void)
{
	char	*dir = datadir;
	size_t	 size = sizeof(datadir);
	char	 to[PATH_MAX + 16];

	ck_assert_int_ge(snprintf(dir, size, "%s/superd-check-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* no symbolic link on the way: the chroot and writable checks
	 * would name it */
	ck_assert_ptr_nonnull(realpath(dir, to));
	ck_assert_uint_lt(strlen(to), size);
	strcpy(dir, to);
	snprintf(to, sizeof(to), "%s/data", dir);
	copy_tree("data", to);
	oldcwd = open(".", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ne(oldcwd, -1);
	ck_assert_int_eq(chdir(dir), 0);
}

/* Back to where the test ran from; the copy removed. */
void
datadir_leave(void)
{
	if (oldcwd != -1) {
		if (fchdir(oldcwd) == -1)
			perror("fchdir");
		close(oldcwd);
		oldcwd = -1;
	}
	nftw(datadir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
