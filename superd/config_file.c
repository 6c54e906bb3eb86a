/*
 * config_file.c - configuration files read into memory, checked first.
 *
 * Files are read here, not by libconfig: that lets us refuse oversized
 * files, NUL bytes and an @include of a directory (libconfig 1.5 exits on
 * that) before libconfig parses anything.  The pre-scan follows every
 * @include as libconfig will, so each file it would read is held to the
 * same rules.  As root, every file read, the include directory and every
 * directory on the way to them must be root's alone, and a symbolic link
 * on the way root's (path_unsafe()); an entry of the include directory
 * is never read through a symbolic link.  No libconfig here: config.c
 * parses the text read.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"

#define CONFIG_FILE_MAX		(4 * 1024 * 1024)
#define CONFIG_INCLUDE_DEPTH	10	/* as deep as libconfig 1.5 goes */
#define CONFIG_INCLUDE_FILES	100	/* @include reads per file loaded */
#define WALK_LINKS		40	/* links in a path, as the kernel allows */

/* ---------------------------------------------------------------------
 * Paths.
 */

char *
dir_of(const char *path)
{
	const char	*slash;

	if ((slash = strrchr(path, '/')) == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, slash - path);
}

/* A path as libconfig resolves an @include: relative to its include dir. */
char *
join(const char *dir, const char *name)
{
	if (name[0] == '/' || dir == NULL)
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

/* ---------------------------------------------------------------------
 * Reading files.
 */

/*
 * As root, why a file or directory superd reads configuration from is
 * not root's alone, or NULL: whoever else can write a file can change the
 * services, and whoever can write a directory can add, replace or remove
 * the files in it whatever their own modes.
 */
static const char *
root_unsafe(const struct loader *ld, const struct stat *st, char *buf,
    size_t size)
{
	if (!ld->ld_root)
		return NULL;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(buf, size, "mode %04o is writable by group or others",
		    (unsigned)(st->st_mode & 07777));
	else if (st->st_uid != 0)
		snprintf(buf, size, "owned by uid %u, not by root",
		    (unsigned)st->st_uid);
	else
		return NULL;
	return buf;
}

/*
 * As root, why the directory dst that a name is taken from is unsafe, or
 * NULL.  A sticky directory of root's, like /tmp, may be writable by
 * others on the way to a file, though not as the directory holding it:
 * only a name's owner may rename or remove it there, and path_unsafe()
 * takes only root's names from it.
 */
static const char *
walk_dir_unsafe(const struct loader *ld, const struct stat *dst, int last,
    char *buf, size_t size)
{
	if (!last && (dst->st_mode & S_ISVTX) && dst->st_uid == 0)
		return NULL;
	return root_unsafe(ld, dst, buf, size);
}

/* A walk down a path, from /: what is behind, what is ahead. */
struct walk {
	char		 wk_done[PATH_MAX];	/* walked, without links */
	char		 wk_todo[PATH_MAX];
	char		*wk_rest;		/* ahead, in wk_todo */
	struct stat	 wk_dst;		/* wk_done's directory */
	int		 wk_links;		/* links followed */
};

/*
 * The walk's next name: the first component ahead, cut out of it; NULL
 * at the end.  *lastp says whether no component follows it.
 */
static char *
walk_next(struct walk *wk, int *lastp)
{
	char	*name = wk->wk_rest, *end;

	while (*name == '/')
		name++;
	if (*name == '\0')
		return NULL;
	if ((end = strchr(name, '/')) != NULL)
		*end++ = '\0';
	else
		end = name + strlen(name);
	while (*end == '/')
		end++;
	wk->wk_rest = end;
	*lastp = *end == '\0';
	return name;
}

/* wk_done goes up to its parent (it holds no link). */
static void
walk_up(struct walk *wk)
{
	char	*slash = strrchr(wk->wk_done, '/');

	slash[slash == wk->wk_done] = '\0';
}

/*
 * At the link wk_done: what is ahead becomes its target, then the rest,
 * and wk_done goes back to the link's directory (to / for an absolute
 * target).  -1 with errno set when it does not fit.
 */
static int
walk_link(struct walk *wk)
{
	char	 target[PATH_MAX], ahead[PATH_MAX];
	ssize_t	 n;

	if (++wk->wk_links > WALK_LINKS) {
		errno = ELOOP;
		return -1;
	}
	if ((n = readlink(wk->wk_done, target, sizeof(target))) == -1)
		return -1;
	if ((size_t)n == sizeof(target) || snprintf(ahead, sizeof(ahead),
	    "%.*s/%s", (int)n, target, wk->wk_rest) >= (int)sizeof(ahead)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(wk->wk_todo, ahead, sizeof(ahead));
	wk->wk_rest = wk->wk_todo;
	if (target[0] == '/')
		strcpy(wk->wk_done, "/");
	else
		walk_up(wk);
	return 0;
}

/*
 * One name taken from wk_done's directory: 0 to walk on, 1 when the rest
 * is the caller's, -1 on a system error (errno), -2 with the reason the
 * path is unsafe in buf.
 */
static int
walk_step(const struct loader *ld, struct walk *wk, const char *name,
    int last, char *buf, size_t size)
{
	struct stat	 st;
	char		 why[64];
	const char	*unsafe;
	size_t		 len = strlen(wk->wk_done);
	int		 missing;

	if (snprintf(wk->wk_done + len, sizeof(wk->wk_done) - len, "%s%s",
	    len > 1 ? "/" : "", name) >= (int)(sizeof(wk->wk_done) - len)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	missing = lstat(wk->wk_done, &st) == -1;
	if ((unsafe = walk_dir_unsafe(ld, &wk->wk_dst, last || missing, why,
	    sizeof(why))) != NULL) {
		wk->wk_done[len] = '\0';
		snprintf(buf, size, "directory %s: %s", wk->wk_done, unsafe);
		return -2;
	}
	if (missing || (last && !S_ISLNK(st.st_mode)))
		return 1;	/* the caller opens it and tells */
	if (!S_ISDIR(st.st_mode) && st.st_uid != 0) {
		snprintf(buf, size, "%s: %s owned by uid %u, not by root",
		    wk->wk_done, S_ISLNK(st.st_mode) ? "a symbolic link" :
		    "a file", (unsigned)st.st_uid);
		return -2;
	}
	if (S_ISLNK(st.st_mode))
		return walk_link(wk);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * As root, why path could name another file by the time it is opened
 * again, or NULL.  libconfig opens an @included file itself, by path,
 * after prescan() read and checked it: this check is what makes that
 * second read safe.  Walking from / (through the working directory for
 * a relative path), every directory a name is taken from must be root's
 * alone (walk_dir_unsafe) and every symbolic link root's, then followed
 * and its target walked the same way: no one but root can then change
 * what path names.  The last component, when not a link, is left to the
 * caller, as is a name that does not exist in a directory root's alone.
 */
const char *
path_unsafe(const struct loader *ld, const char *path, char *buf,
    size_t size)
{
	static struct walk	 wk;	/* 8 KiB: off the stack */
	char			*name;
	int			 last, rc = 0;

	if (!ld->ld_root)
		return NULL;
	memset(&wk, 0, sizeof(wk));
	if (path[0] != '/' && getcwd(wk.wk_done, sizeof(wk.wk_done)) == NULL) {
		snprintf(buf, size, "the working directory: %s",
		    strerror(errno));
		return buf;
	}
	if (snprintf(wk.wk_todo, sizeof(wk.wk_todo), "%s/%s", wk.wk_done,
	    path) >= (int)sizeof(wk.wk_todo)) {
		snprintf(buf, size, "%s", strerror(ENAMETOOLONG));
		return buf;
	}
	strcpy(wk.wk_done, "/");
	wk.wk_rest = wk.wk_todo;
	while (rc == 0) {
		if (lstat(wk.wk_done, &wk.wk_dst) == -1)
			rc = -1;
		else if ((name = walk_next(&wk, &last)) == NULL)
			rc = 1;
		else if (strcmp(name, "..") == 0)
			walk_up(&wk);
		else if (strcmp(name, ".") != 0)
			rc = walk_step(ld, &wk, name, last, buf, size);
	}
	if (rc == 1)
		return NULL;
	if (rc == -1)
		snprintf(buf, size, "%s: %s", wk.wk_done, strerror(errno));
	return buf;
}

char *
read_text(struct loader *ld, const char *path, int seq)
{
	return read_text_flags(ld, path, seq, 0);
}

/*
 * The whole of a file as a NUL-terminated string, after the checks that
 * protect libconfig and, as root, the ownership rules.  oflags adds to
 * open(2)'s flags (O_NOFOLLOW).  Reports and returns NULL on any problem.
 */
char *
read_text_flags(struct loader *ld, const char *path, int seq, int oflags)
{
	struct stat	 st;
	struct where	 w;
	char		*buf = NULL, why[UNSAFE_MAX];
	const char	*unsafe;
	size_t		 len = 0, size;
	ssize_t		 n;
	int		 fd;

	w.w_file = intern(ld, path);
	w.w_seq = seq;
	w.w_line = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | oflags);
	if (fd == -1) {
		problem(ld, &w, "%s", errno == ELOOP && (oflags & O_NOFOLLOW) ?
		    "a symbolic link, not followed" : strerror(errno));
		return NULL;
	}
	ld->ld_fd = fd;		/* closed by load_abandon() on no memory */
	if (fstat(fd, &st) == -1) {
		problem(ld, &w, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		problem(ld, &w, "%s", strerror(EISDIR));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(ld, &w, "not a regular file");
		goto fail;
	}
	if ((unsafe = root_unsafe(ld, &st, why, sizeof(why))) != NULL ||
	    (unsafe = path_unsafe(ld, path, why, sizeof(why))) != NULL) {
		problem(ld, &w, "%s", unsafe);
		goto fail;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		problem(ld, &w, "larger than %d MiB", CONFIG_FILE_MAX >> 20);
		goto fail;
	}
	size = st.st_size + 1 < 4096 ? 4096 : (size_t)st.st_size + 1;
	buf = xcalloc(1, size + 1);
	while (len <= CONFIG_FILE_MAX) {
		if (len == size) {
			size *= 2;
			buf = xreallocarray(buf, size + 1, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			problem(ld, &w, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > CONFIG_FILE_MAX) {
		problem(ld, &w, "larger than %d MiB", CONFIG_FILE_MAX >> 20);
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		problem(ld, &w, "contains a NUL byte");
		goto fail;
	}
	ld->ld_fd = -1;
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	ld->ld_fd = -1;
	close(fd);
	return NULL;
}

/*
 * A light scan of libconfig's syntax before libconfig sees the text:
 * every @include must name a regular file, not too deep; and an integer
 * written without the L suffix must fit in 32 bits, since libconfig 1.5
 * truncates it silently (memory = 5000000000 would become 705032704).
 */
struct scan {
	struct loader	*sn_ld;
	const char	*sn_path;	/* the file scanned */
	const char	*sn_dir;	/* libconfig's include dir */
	int		 sn_seq;
	int		 sn_depth;
	int		 sn_line;
	int		 sn_bad;
	int		*sn_reads;	/* files @included so far, all depths */
};

static int	scan_text(struct scan *, const char *);

static const char *
scan_include(struct scan *sn, const char *p)
{
	struct where	 w;
	struct scan	 sub;
	struct stat	 st;
	char		*name, *full, *text, why[UNSAFE_MAX];
	const char	*q, *unsafe;
	size_t		 n;

	w.w_file = intern(sn->sn_ld, sn->sn_path);
	w.w_seq = sn->sn_seq;
	w.w_line = sn->sn_line;
	p += strlen("@include");
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"')
		return p;	/* libconfig reports the syntax */
	for (q = ++p; *q != '"' && *q != '\n' && *q != '\0'; q++)
		if (*q == '\\' && q[1] != '\0' && q[1] != '\n')
			q++;
	if (*q != '"')
		return q;
	n = q - p;
	name = xstrndup(p, n);
	full = join(sn->sn_dir, name);
	if (name[0] == '/') {
		/* libconfig 1.5 would read sn_dir//name, not the file named */
		problem(sn->sn_ld, &w, "@include \"%s\": must be a path "
		    "relative to %s", name, sn->sn_dir);
		sn->sn_bad = 1;
	} else if (stat(full, &st) == -1) {
		problem(sn->sn_ld, &w, "@include \"%s\": %s", name,
		    strerror(errno));
		sn->sn_bad = 1;
	} else if (!S_ISREG(st.st_mode)) {
		problem(sn->sn_ld, &w, "@include \"%s\": not a regular file",
		    name);
		sn->sn_bad = 1;
	} else if ((unsafe = path_unsafe(sn->sn_ld, full, why,
	    sizeof(why))) != NULL) {
		/* libconfig opens it again by path: see path_unsafe() */
		problem(sn->sn_ld, &w, "@include \"%s\": %s", name, unsafe);
		sn->sn_bad = 1;
	} else if (sn->sn_depth >= CONFIG_INCLUDE_DEPTH) {
		problem(sn->sn_ld, &w, "@include \"%s\": nested more than %d "
		    "deep", name, CONFIG_INCLUDE_DEPTH);
		sn->sn_bad = 1;
	} else if (*sn->sn_reads >= CONFIG_INCLUDE_FILES) {
		/* a file that includes itself twice would take 2^10 reads */
		problem(sn->sn_ld, &w, "@include \"%s\": more than %d "
		    "@include files", name, CONFIG_INCLUDE_FILES);
		sn->sn_bad = 1;
	} else if ((text = read_text(sn->sn_ld, full, sn->sn_seq)) == NULL)
		sn->sn_bad = 1;
	else {
		(*sn->sn_reads)++;
		sub = *sn;
		sub.sn_path = full;
		sub.sn_depth = sn->sn_depth + 1;
		sub.sn_line = 1;
		sub.sn_bad = 0;
		if (scan_text(&sub, text) == -1)
			sn->sn_bad = 1;
		free(text);
	}
	free(full);
	free(name);
	return q + 1;
}

static const char *
scan_number(struct scan *sn, const char *p, int negative)
{
	struct where		 w;
	unsigned long long	 v = 0, max;
	const char		*start = p;
	int			 hex = 0, big = 0, d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = 1;
		for (p += 2; isxdigit((unsigned char)*p); p++) {
			d = isdigit((unsigned char)*p) ? *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10;
			big |= v > (ULLONG_MAX >> 4);
			v = v * 16 + d;
		}
	} else {
		for (; isdigit((unsigned char)*p); p++) {
			big |= v > ULLONG_MAX / 10 - 1;
			v = v * 10 + (*p - '0');
		}
		if (*p == '.' || *p == 'e' || *p == 'E') {
			/* a float: libconfig's business */
			while (isalnum((unsigned char)*p) || *p == '.' ||
			    ((*p == '-' || *p == '+') &&
			    (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			return p;
		}
	}
	if (*p == 'L')
		return p + 1;	/* a 64-bit integer */
	max = hex ? 0xffffffffULL : (unsigned long long)INT_MAX + negative;
	if (big || v > max) {
		w.w_file = intern(sn->sn_ld, sn->sn_path);
		w.w_seq = sn->sn_seq;
		w.w_line = sn->sn_line;
		problem(sn->sn_ld, &w, "integer %s%.*s does not fit in 32 bits "
		    "(write a size such as \"4G\", or add L)",
		    negative ? "-" : "", (int)(p - start), start);
	}
	return p;
}

static int
scan_text(struct scan *sn, const char *p)
{
	int	 bol = 1;	/* only blanks so far on this line */

	while (*p != '\0') {
		if (*p == '\n') {
			sn->sn_line++;
			bol = 1;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (bol && strncmp(p, "@include", 8) == 0) {
			p = scan_include(sn, p);
			bol = 0;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' &&
			    p[1] == '/'); p++)
				if (*p == '\n')
					sn->sn_line++;
			p += *p != '\0' ? 2 : 0;
			bol = 0;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\n')
					sn->sn_line++;
			}
			p += *p != '\0';
			bol = 0;
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			while (isalnum((unsigned char)*p) || *p == '_' ||
			    *p == '-' || *p == '*')
				p++;
			bol = 0;
		} else if (isdigit((unsigned char)*p)) {
			p = scan_number(sn, p, 0);
			bol = 0;
		} else if (*p == '-' && isdigit((unsigned char)p[1])) {
			p = scan_number(sn, p + 1, 1);
			bol = 0;
		} else {
			p++;
			bol = 0;
		}
	}
	return sn->sn_bad ? -1 : 0;
}

/*
 * Pre-scan the text of the file at path, read for libconfig, whose
 * @include files are relative to dir.  Returns -1 when libconfig must not
 * see it; the problems are reported.
 */
int
prescan(struct loader *ld, const char *path, const char *dir, int seq,
    const char *text)
{
	struct scan	 sn;
	int		 reads = 0;

	memset(&sn, 0, sizeof(sn));
	sn.sn_ld = ld;
	sn.sn_path = path;
	sn.sn_dir = dir;
	sn.sn_seq = seq;
	sn.sn_line = 1;
	sn.sn_reads = &reads;
	return scan_text(&sn, text);
}

/* ---------------------------------------------------------------------
 * The include directory.
 */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The paths of every regular *.conf of dir, in strcmp order; the caller
 * frees them.  As root the directory must be root's alone.  An entry that
 * is a symbolic link or not a regular file is skipped with a warning: a
 * link is never followed, and a stray entry must not stop superd from
 * starting or reloading.  Returns -1 with the reason in why when the
 * directory cannot be used.  The loader holds the open directory while
 * the warnings are allocated, so that running out of memory cannot leave
 * it open (config.c).
 */
int
include_list(struct loader *ld, const char *dir, char ***namesp, size_t *np,
    char *why, size_t whysize)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dp;
	char		**names = NULL, *path, buf[64];
	const char	*unsafe;
	size_t		 n = 0;
	int		 dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1 || (dp = fdopendir(dfd)) == NULL) {
		snprintf(why, whysize, "%s", strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	if ((unsafe = root_unsafe(ld, &st, buf, sizeof(buf))) != NULL)
		snprintf(why, whysize, "directory %s", unsafe);
	else
		unsafe = path_unsafe(ld, dir, why, whysize);
	if (unsafe != NULL) {
		closedir(dp);
		return -1;
	}
	ld->ld_dir = dp;
	while ((de = readdir(dp)) != NULL) {
		if (!has_suffix(de->d_name, ".conf"))
			continue;
		path = join(dir, de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			warn_add(ld->ld_conf, "%s: %s (skipped)", path,
			    strerror(errno));
		else if (!S_ISREG(st.st_mode))
			warn_add(ld->ld_conf, "%s: %s (skipped)", path,
			    S_ISLNK(st.st_mode) ? "a symbolic link, not "
			    "followed" : "not a regular file");
		else {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = path;
			continue;
		}
		free(path);
	}
	ld->ld_dir = NULL;
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	*namesp = names;
	*np = n;
	return 0;
}
