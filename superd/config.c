/*
 * config.c - the configuration file: libconfig text in, struct conf out.
 *
 * The only file that sees libconfig.  config_load() reads the main file,
 * the files of the include directory and a classic inetd.conf, checks
 * every setting, resolves names (ports, addresses, users, groups) and
 * returns a plain-C struct conf, or NULL with every problem found as
 * "FILE:LINE: message".  It binds nothing and writes nothing, so superd -t
 * and a reload can call it freely.
 *
 * Files are read into memory here, not by libconfig: that lets us refuse
 * oversized files, NUL bytes and an @include of a directory (libconfig 1.5
 * exits on that) before libconfig parses anything.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"

#define CONFIG_FILE_MAX		(4 * 1024 * 1024)
#define CONFIG_INCLUDE_DEPTH	10	/* as deep as libconfig 1.5 goes */
#define CONFIG_INCLUDE_FILES	100	/* @include reads per file loaded */
#define CONFIG_KEYS_MAX		48	/* room for the per-service keys */

/* Where a problem is: a file (owned by the loader), its order, a line. */
struct where {
	const char	*w_file;
	int		 w_seq;		/* main 0, include files 1.., inetd last */
	int		 w_line;	/* 0: the file as a whole */
};

struct problem {
	int		 pr_seq;
	int		 pr_line;
	size_t		 pr_order;
	char		*pr_msg;
};

/* One parsed libconfig file; kept until the end (defaults point into it). */
struct cfile {
	config_t	 cf_cfg;
	char		*cf_path;
	char		*cf_dir;	/* libconfig's include dir */
	int		 cf_seq;
};

struct loader {
	struct conf		*ld_conf;
	struct problem		*ld_probs;
	size_t			 ld_nprobs;
	struct cfile		**ld_files;
	size_t			 ld_nfiles;
	char			**ld_strs;	/* interned file names */
	size_t			 ld_nstrs;
	struct where		*ld_named;	/* per cf_svcs: its `name` */
	size_t			 ld_nmain;	/* services not from inetd.conf */
	const config_setting_t	*ld_dflt[CONFIG_KEYS_MAX]; /* superd block */
	const config_setting_t	*ld_include_at;
	const config_setting_t	*ld_inetd_at;
	int			 ld_root;
	int			 ld_inet6;
	int			 ld_inetd_seq;
};

/* One service being built: the svc_conf and what needs all of it. */
struct build {
	struct loader	*b_ld;
	struct svc_conf	*b_sc;
	struct where	 b_at;		/* its `{`, or its inetd.conf line */
	int		 b_own;		/* current setting is the service's own */
	int		 b_wait_set;
	int		 b_stderr_set;
	int		 b_port_set;	/* given, even if wrong */
	int		 b_prog_set;	/* server or builtin given */
	int		 b_path_set;
	struct where	 b_name_at;
	const char     **b_addrs;	/* NULL: "*" */
	size_t		 b_naddrs;
	struct where	 b_addr_at;
	int		 b_family;	/* inetd tcp4/tcp6: only this family */
	const char	*b_user;
	struct where	 b_user_at;
	const char	*b_group;
	struct where	 b_group_at;
	const char	*b_owner;
	struct where	 b_owner_at;
	const char	*b_sgroup;
	struct where	 b_sgroup_at;
	const char     **b_args;
	size_t		 b_nargs;
	int		 b_args_own;
	struct where	 b_args_at;
	const char	*b_argv0;
	int		 b_argv0_own;
	struct where	 b_argv0_at;
};

typedef int	(*key_fn)(struct build *, const config_setting_t *);

struct key {
	const char	*k_name;
	key_fn		 k_fn;
};

static void	*xcalloc(size_t, size_t);
static char	*xstrdup(const char *);
static void	 problem(struct loader *, const struct where *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	 serr(struct loader *, const config_setting_t *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static struct where where_of(struct loader *, const config_setting_t *);

/* ---------------------------------------------------------------------
 * Small helpers.
 */

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("config: calloc");
	return p;
}

static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("config: array too large");
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("config: realloc");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("config: strdup");
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("config: strndup");
	return p;
}

static char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatal("config: vasprintf");
	return s;
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static void
strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A file name that lives as long as the loader. */
static const char *
intern(struct loader *ld, const char *s)
{
	size_t	 i;

	for (i = 0; i < ld->ld_nstrs; i++)
		if (strcmp(ld->ld_strs[i], s) == 0)
			return ld->ld_strs[i];
	ld->ld_strs = xreallocarray(ld->ld_strs, ld->ld_nstrs + 1,
	    sizeof(*ld->ld_strs));
	ld->ld_strs[ld->ld_nstrs] = xstrdup(s);
	return ld->ld_strs[ld->ld_nstrs++];
}

static char *
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
static char *
join(const char *dir, const char *name)
{
	if (name[0] == '/' || dir == NULL)
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

/* ---------------------------------------------------------------------
 * Problems: collected with their file order and line, sorted at the end.
 */

static void
problem(struct loader *ld, const struct where *w, const char *fmt, ...)
{
	struct problem	*pr;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ld->ld_probs = xreallocarray(ld->ld_probs, ld->ld_nprobs + 1,
	    sizeof(*ld->ld_probs));
	pr = &ld->ld_probs[ld->ld_nprobs];
	pr->pr_seq = w->w_seq;
	pr->pr_line = w->w_line;
	pr->pr_order = ld->ld_nprobs++;
	if (w->w_line > 0)
		pr->pr_msg = xasprintf("%s:%d: %s", w->w_file, w->w_line, msg);
	else
		pr->pr_msg = xasprintf("%s: %s", w->w_file, msg);
	free(msg);
}

static void
serr(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	struct where	 w;
	va_list		 ap;
	char		*msg;

	w = where_of(ld, s);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	problem(ld, &w, "%s", msg);
	free(msg);
}

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem	*pa = a, *pb = b;

	if (pa->pr_seq != pb->pr_seq)
		return pa->pr_seq < pb->pr_seq ? -1 : 1;
	if (pa->pr_line != pb->pr_line)
		return pa->pr_line < pb->pr_line ? -1 : 1;
	return pa->pr_order < pb->pr_order ? -1 : pa->pr_order > pb->pr_order;
}

/*
 * Hand the problems over in file order.  A default from the superd block
 * is checked once for every service that uses it: the same message at the
 * same place is reported once.
 */
static void
problems_flush(struct loader *ld, struct conf_errors *errs)
{
	size_t	 i, j;
	int	 dup;

	if (ld->ld_nprobs > 1)
		qsort(ld->ld_probs, ld->ld_nprobs, sizeof(*ld->ld_probs),
		    problem_cmp);
	for (i = 0; i < ld->ld_nprobs; i++) {
		dup = 0;
		for (j = 0; j < i && !dup; j++)
			dup = ld->ld_probs[j].pr_msg != NULL &&
			    strcmp(ld->ld_probs[j].pr_msg,
			    ld->ld_probs[i].pr_msg) == 0;
		if (dup || errs == NULL) {
			free(ld->ld_probs[i].pr_msg);
			ld->ld_probs[i].pr_msg = NULL;
			continue;
		}
		errs->ce_msg = xreallocarray(errs->ce_msg, errs->ce_count + 1,
		    sizeof(*errs->ce_msg));
		errs->ce_msg[errs->ce_count++] = ld->ld_probs[i].pr_msg;
	}
	free(ld->ld_probs);
	ld->ld_probs = NULL;
	ld->ld_nprobs = 0;
}

static struct cfile *
cfile_of(struct loader *ld, const config_setting_t *s)
{
	size_t	 i;

	for (i = 0; i < ld->ld_nfiles; i++)
		if (&ld->ld_files[i]->cf_cfg == s->config)
			return ld->ld_files[i];
	return NULL;
}

/*
 * The file and line of a setting.  libconfig names no file for settings
 * of a text read with config_read_string(), and names @included files
 * as written, relative to its include dir.
 */
static struct where
where_of(struct loader *ld, const config_setting_t *s)
{
	struct where	 w;
	struct cfile	*cf;
	const char	*f;
	char		*p;

	cf = cfile_of(ld, s);
	w.w_seq = cf != NULL ? cf->cf_seq : 0;
	w.w_line = config_setting_source_line(s);
	f = config_setting_source_file(s);
	if (f == NULL)
		w.w_file = cf != NULL ? cf->cf_path : "?";
	else {
		p = join(cf != NULL ? cf->cf_dir : NULL, f);
		w.w_file = intern(ld, p);
		free(p);
	}
	return w;
}

/* ---------------------------------------------------------------------
 * Reading files.
 */

/*
 * The whole of a file as a NUL-terminated string, after the checks that
 * protect libconfig and, as root, the ownership rules.  Reports and
 * returns NULL on any problem.
 */
static char *
read_text(struct loader *ld, const char *path, int seq)
{
	struct stat	 st;
	struct where	 w;
	char		*buf = NULL;
	size_t		 len = 0, size;
	ssize_t		 n;
	int		 fd;

	w.w_file = intern(ld, path);
	w.w_seq = seq;
	w.w_line = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		problem(ld, &w, "%s", strerror(errno));
		return NULL;
	}
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
	if (ld->ld_root && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		problem(ld, &w, "mode %04o is writable by group or others",
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (ld->ld_root && st.st_uid != 0) {
		problem(ld, &w, "owned by uid %u, not by root",
		    (unsigned)st.st_uid);
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
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
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
	char		*name, *full, *text;
	const char	*q;
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
	if (stat(full, &st) == -1) {
		problem(sn->sn_ld, &w, "@include \"%s\": %s", name,
		    strerror(errno));
		sn->sn_bad = 1;
	} else if (!S_ISREG(st.st_mode)) {
		problem(sn->sn_ld, &w, "@include \"%s\": not a regular file",
		    name);
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
 * Read, check and parse one file.  Returns NULL when it cannot be used;
 * the problems are reported.
 */
static struct cfile *
cfile_load(struct loader *ld, const char *path, int seq)
{
	struct cfile	*cf;
	struct scan	 sn;
	struct where	 w;
	char		*text, *ef;
	int		 reads = 0;

	if ((text = read_text(ld, path, seq)) == NULL)
		return NULL;
	cf = xcalloc(1, sizeof(*cf));
	cf->cf_path = xstrdup(path);
	cf->cf_dir = dir_of(path);
	cf->cf_seq = seq;
	config_init(&cf->cf_cfg);
	ld->ld_files = xreallocarray(ld->ld_files, ld->ld_nfiles + 1,
	    sizeof(*ld->ld_files));
	ld->ld_files[ld->ld_nfiles++] = cf;

	memset(&sn, 0, sizeof(sn));
	sn.sn_ld = ld;
	sn.sn_path = path;
	sn.sn_dir = cf->cf_dir;
	sn.sn_seq = seq;
	sn.sn_line = 1;
	sn.sn_reads = &reads;
	if (scan_text(&sn, text) == -1) {
		free(text);
		return NULL;
	}
	config_set_include_dir(&cf->cf_cfg, cf->cf_dir);
	if (config_read_string(&cf->cf_cfg, text) != CONFIG_TRUE) {
		ef = config_error_file(&cf->cf_cfg) == NULL ? xstrdup(path) :
		    join(cf->cf_dir, config_error_file(&cf->cf_cfg));
		w.w_file = intern(ld, ef);
		w.w_seq = seq;
		w.w_line = config_error_line(&cf->cf_cfg);
		problem(ld, &w, "%s", config_error_text(&cf->cf_cfg));
		free(ef);
		free(text);
		return NULL;
	}
	free(text);
	return cf;
}

static void
cfile_free(struct cfile *cf)
{
	config_destroy(&cf->cf_cfg);
	free(cf->cf_path);
	free(cf->cf_dir);
	free(cf);
}

/* ---------------------------------------------------------------------
 * Typed access to settings: each reports a wrong type at its line.
 */

static const char *
get_string(struct build *b, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		serr(b->b_ld, s, "\"%s\" must be a string",
		    config_setting_name(s));
		return NULL;
	}
	return config_setting_get_string(s);
}

static int
get_bool(struct build *b, const config_setting_t *s, int *v)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		serr(b->b_ld, s, "\"%s\" must be true or false",
		    config_setting_name(s));
		return -1;
	}
	*v = config_setting_get_bool(s);
	return 0;
}

static int
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* An integer in [min, max]. */
static int
get_int(struct build *b, const config_setting_t *s, long long min,
    long long max, int *v)
{
	long long	 n;

	if (!is_int(s)) {
		serr(b->b_ld, s, "\"%s\" must be an integer",
		    config_setting_name(s));
		return -1;
	}
	n = config_setting_get_int64(s);
	if (n < min || n > max) {
		if (max == INT_MAX)
			serr(b->b_ld, s, "\"%s\" = %lld: must be at least %lld",
			    config_setting_name(s), n, min);
		else
			serr(b->b_ld, s, "\"%s\" = %lld: must be %lld to %lld",
			    config_setting_name(s), n, min, max);
		return -1;
	}
	*v = (int)n;
	return 0;
}

/*
 * An array (or list) of strings.  The strings stay libconfig's; the
 * vector is the caller's.
 */
static const char **
get_strings(struct build *b, const config_setting_t *s, size_t *np)
{
	const config_setting_t	 *e;
	const char		**v;
	int			  i, n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		serr(b->b_ld, s, "\"%s\" must be an array of strings",
		    config_setting_name(s));
		return NULL;
	}
	n = config_setting_length(s);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			serr(b->b_ld, e, "\"%s\" must be an array of strings",
			    config_setting_name(s));
			bad = 1;
			continue;
		}
		v[i] = config_setting_get_string(e);
	}
	if (bad) {
		free(v);
		return NULL;
	}
	*np = n;
	return v;
}

static char **
strv_dup(const char **v, size_t n)
{
	char	**d;
	size_t	  i;

	d = xcalloc(n + 1, sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

static int
absolute(struct build *b, const config_setting_t *s, const char *path)
{
	if (path[0] != '/') {
		serr(b->b_ld, s, "%s \"%s\" is not an absolute path",
		    config_setting_name(s), path);
		return -1;
	}
	return 0;
}

static const char *
proto_name(enum proto p)
{
	return p == PROTO_UDP ? "udp" : p == PROTO_UNIX ? "unix" : "tcp";
}

/*
 * A setting that means nothing for this kind of service: an error when
 * the service wrote it, ignored when it came from the superd block.
 */
static int
not_for(struct build *b, const config_setting_t *s, const char *what)
{
	if (b->b_own)
		serr(b->b_ld, s, "\"%s\" does not apply to %s",
		    config_setting_name(s), what);
	return b->b_own ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * One function per service setting, in the order they are applied.
 */

static int
valid_name(const char *s)
{
	size_t	 n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");
	return n > 0 && s[n] == '\0' && n <= SUPERD_NAME_MAX;
}

static int
key_name(struct build *b, const config_setting_t *s)
{
	const char	*v;

	b->b_name_at = where_of(b->b_ld, s);
	if ((v = get_string(b, s)) == NULL)
		return -1;
	if (!valid_name(v)) {
		serr(b->b_ld, s, "name \"%s\": want 1 to %d of "
		    "A-Z a-z 0-9 . _ -", v, SUPERD_NAME_MAX);
		return -1;
	}
	b->b_sc->sc_name = xstrdup(v);
	return 0;
}

static int
key_protocol(struct build *b, const config_setting_t *s)
{
	const char	*v;

	if ((v = get_string(b, s)) == NULL)
		return -1;
	if (strcmp(v, "tcp") == 0)
		b->b_sc->sc_proto = PROTO_TCP;
	else if (strcmp(v, "udp") == 0)
		b->b_sc->sc_proto = PROTO_UDP;
	else if (strcmp(v, "unix") == 0)
		b->b_sc->sc_proto = PROTO_UNIX;
	else {
		serr(b->b_ld, s, "protocol \"%s\": want tcp, udp or unix", v);
		return -1;
	}
	return 0;
}

static int
key_tcpmux(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_tcpmux);
}

static int
key_disabled(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_disabled);
}

/* The program: an absolute path of an executable regular file. */
static int
check_server(struct build *b, const struct where *w, const char *v)
{
	struct stat	 st;

	b->b_prog_set = 1;
	if (v[0] != '/') {
		problem(b->b_ld, w, "server \"%s\" is not an absolute path", v);
		return -1;
	}
	if (stat(v, &st) == -1) {
		problem(b->b_ld, w, "server \"%s\": %s", v, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(b->b_ld, w, "server \"%s\" is not a regular file", v);
		return -1;
	}
	if ((st.st_mode & 0111) == 0 || access(v, X_OK) == -1) {
		problem(b->b_ld, w, "server \"%s\" is not executable", v);
		return -1;
	}
	b->b_sc->sc_server = xstrdup(v);
	return 0;
}

static int
key_server(struct build *b, const config_setting_t *s)
{
	struct where	 w;
	const char	*v;

	b->b_prog_set = 1;
	if ((v = get_string(b, s)) == NULL)
		return -1;
	w = where_of(b->b_ld, s);
	return check_server(b, &w, v);
}

static const struct {
	const char	*bi_name;
	enum builtin	 bi_builtin;
} builtins[] = {
	{ "echo",	BUILTIN_ECHO },
	{ "discard",	BUILTIN_DISCARD },
	{ "chargen",	BUILTIN_CHARGEN },
	{ "daytime",	BUILTIN_DAYTIME },
	{ "time",	BUILTIN_TIME },
	{ "tcpmux",	BUILTIN_TCPMUX },
};

static enum builtin
builtin_named(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].bi_name, name) == 0)
			return builtins[i].bi_builtin;
	return BUILTIN_NONE;
}

static int
key_builtin(struct build *b, const config_setting_t *s)
{
	const char	*v;

	b->b_prog_set = 1;
	if ((v = get_string(b, s)) == NULL)
		return -1;
	if ((b->b_sc->sc_builtin = builtin_named(v)) == BUILTIN_NONE) {
		serr(b->b_ld, s, "builtin \"%s\": want echo, discard, chargen, "
		    "daytime, time or tcpmux", v);
		return -1;
	}
	return 0;
}

static int
key_args(struct build *b, const config_setting_t *s)
{
	if ((b->b_args = get_strings(b, s, &b->b_nargs)) == NULL)
		return -1;
	b->b_args_own = b->b_own;
	b->b_args_at = where_of(b->b_ld, s);
	return 0;
}

static int
key_argv0(struct build *b, const config_setting_t *s)
{
	if ((b->b_argv0 = get_string(b, s)) == NULL)
		return -1;
	b->b_argv0_own = b->b_own;
	b->b_argv0_at = where_of(b->b_ld, s);
	return 0;
}

static int
key_wait(struct build *b, const config_setting_t *s)
{
	if (get_bool(b, s, &b->b_sc->sc_wait) == -1)
		return -1;
	b->b_wait_set = 1;
	return 0;
}

/* A port number, or an /etc/services name for the service's protocol. */
static int
key_port(struct build *b, const config_setting_t *s)
{
	struct servent	*se;
	const char	*v, *proto;
	char		*end;
	long		 n;

	if (b->b_sc->sc_proto == PROTO_UNIX)
		return not_for(b, s, "unix services");
	b->b_port_set = 1;
	proto = proto_name(b->b_sc->sc_proto);
	if (is_int(s)) {
		if (get_int(b, s, 0, 65535, &b->b_sc->sc_port) == -1)
			return -1;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		if (v[0] != '\0' && strspn(v, "0123456789") == strlen(v)) {
			errno = 0;
			n = strtol(v, &end, 10);
			if (errno != 0 || n > 65535) {
				serr(b->b_ld, s, "port \"%s\": must be 0 to "
				    "65535", v);
				return -1;
			}
			b->b_sc->sc_port = (int)n;
		} else if ((se = getservbyname(v, proto)) == NULL) {
			serr(b->b_ld, s, "port \"%s\": no such %s service in "
			    "/etc/services", v, proto);
			return -1;
		} else
			b->b_sc->sc_port = ntohs(se->s_port);
	} else {
		serr(b->b_ld, s, "\"port\" must be an integer or a string");
		return -1;
	}
	return 0;
}

static int
key_address(struct build *b, const config_setting_t *s)
{
	if (b->b_sc->sc_proto == PROTO_UNIX)
		return not_for(b, s, "unix services");
	b->b_addr_at = where_of(b->b_ld, s);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		b->b_addrs = xcalloc(2, sizeof(*b->b_addrs));
		b->b_addrs[0] = config_setting_get_string(s);
		b->b_naddrs = 1;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		serr(b->b_ld, s, "\"address\" must be a string or an array "
		    "of strings");
		return -1;
	}
	if ((b->b_addrs = get_strings(b, s, &b->b_naddrs)) == NULL)
		return -1;
	if (b->b_naddrs == 0) {
		serr(b->b_ld, s, "\"address\" is empty");
		free(b->b_addrs);
		b->b_addrs = NULL;
		return -1;
	}
	return 0;
}

static int
key_path(struct build *b, const config_setting_t *s)
{
	struct sockaddr_un	 sun;
	const char		*v;

	b->b_path_set = 1;
	if ((v = get_string(b, s)) == NULL || absolute(b, s, v) == -1)
		return -1;
	if (strlen(v) >= sizeof(sun.sun_path)) {
		serr(b->b_ld, s, "path \"%s\" is longer than %zu bytes", v,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (b->b_sc->sc_proto != PROTO_UNIX)
		return not_for(b, s, "tcp and udp services");
	b->b_sc->sc_path = xstrdup(v);
	return 0;
}

static int
key_socket_mode(struct build *b, const config_setting_t *s)
{
	const char	*v;
	char		*end;
	unsigned long	 m;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		/* libconfig reads 0600 as decimal 600: insist on a string */
		serr(b->b_ld, s, "\"socket_mode\" must be a string of octal "
		    "digits such as \"0600\"");
		return -1;
	}
	v = config_setting_get_string(s);
	m = strtoul(v, &end, 8);
	if (v[0] == '\0' || strspn(v, "01234567") != strlen(v) ||
	    *end != '\0' || m > 07777) {
		serr(b->b_ld, s, "socket_mode \"%s\": want octal digits such "
		    "as \"0600\"", v);
		return -1;
	}
	if (b->b_sc->sc_proto != PROTO_UNIX)
		return not_for(b, s, "tcp and udp services");
	b->b_sc->sc_socket_mode = (mode_t)m;
	return 0;
}

static int
key_socket_owner(struct build *b, const config_setting_t *s)
{
	if ((b->b_owner = get_string(b, s)) == NULL)
		return -1;
	b->b_owner_at = where_of(b->b_ld, s);
	if (b->b_sc->sc_proto != PROTO_UNIX) {
		b->b_owner = NULL;
		return not_for(b, s, "tcp and udp services");
	}
	return 0;
}

static int
key_socket_group(struct build *b, const config_setting_t *s)
{
	if ((b->b_sgroup = get_string(b, s)) == NULL)
		return -1;
	b->b_sgroup_at = where_of(b->b_ld, s);
	if (b->b_sc->sc_proto != PROTO_UNIX) {
		b->b_sgroup = NULL;
		return not_for(b, s, "tcp and udp services");
	}
	return 0;
}

static int
key_user(struct build *b, const config_setting_t *s)
{
	if ((b->b_user = get_string(b, s)) == NULL)
		return -1;
	b->b_user_at = where_of(b->b_ld, s);
	return 0;
}

static int
key_group(struct build *b, const config_setting_t *s)
{
	if ((b->b_group = get_string(b, s)) == NULL)
		return -1;
	b->b_group_at = where_of(b->b_ld, s);
	return 0;
}

static int
key_instances(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_instances);
}

static int
key_per_source(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_per_source);
}

static int
key_rate(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_rate);
}

static int
key_per_source_rate(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_per_source_rate);
}

static int
key_refuse_message(struct build *b, const config_setting_t *s)
{
	const char	*v;

	if ((v = get_string(b, s)) == NULL)
		return -1;
	b->b_sc->sc_refuse_message = xstrdup(v);
	return 0;
}

static int
get_cidrs(struct build *b, const config_setting_t *s, struct cidr **cp,
    size_t *np)
{
	const char	**v;
	size_t		  i, n;
	int		  bad = 0;

	if ((v = get_strings(b, s, &n)) == NULL)
		return -1;
	*cp = xcalloc(n, sizeof(**cp));
	for (i = 0; i < n; i++) {
		if (config_parse_cidr(v[i], &(*cp)[i]) == -1) {
			serr(b->b_ld, config_setting_get_elem(s, i),
			    "%s \"%s\": not an address or address/prefix",
			    config_setting_name(s), v[i]);
			bad = 1;
		}
	}
	free(v);
	if (bad) {
		free(*cp);
		*cp = NULL;
		return -1;
	}
	*np = n;
	return 0;
}

static int
key_allow(struct build *b, const config_setting_t *s)
{
	return get_cidrs(b, s, &b->b_sc->sc_allow, &b->b_sc->sc_nallow);
}

static int
key_deny(struct build *b, const config_setting_t *s)
{
	return get_cidrs(b, s, &b->b_sc->sc_deny, &b->b_sc->sc_ndeny);
}

static int
key_timeout(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_timeout);
}

static const char *limit_names[LIMIT_COUNT] = {
	[LIMIT_CPU] = "cpu",
	[LIMIT_MEMORY] = "memory",
	[LIMIT_FILES] = "files",
	[LIMIT_PROCESSES] = "processes",
	[LIMIT_FSIZE] = "fsize",
};

static int
limit_one(struct build *b, const config_setting_t *s)
{
	struct svc_conf	*sc = b->b_sc;
	const char	*name = config_setting_name(s);
	int		 k;

	for (k = 0; k < LIMIT_COUNT; k++)
		if (strcmp(limit_names[k], name) == 0)
			break;
	if (k == LIMIT_COUNT) {
		serr(b->b_ld, s, "unknown limit \"%s\" (want cpu, memory, "
		    "files, processes or fsize)", name);
		return -1;
	}
	if (is_int(s) && config_setting_get_int64(s) >= 0)
		sc->sc_limit[k] = (rlim_t)config_setting_get_int64(s);
	else if ((k == LIMIT_MEMORY || k == LIMIT_FSIZE) &&
	    config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (config_parse_size(config_setting_get_string(s),
		    &sc->sc_limit[k]) == -1) {
			serr(b->b_ld, s, "limit %s \"%s\": want bytes, or a "
			    "size such as \"64K\", \"64M\" or \"1G\"", name,
			    config_setting_get_string(s));
			return -1;
		}
	} else {
		serr(b->b_ld, s, "limit %s: want an integer of at least 0%s",
		    name, k == LIMIT_MEMORY || k == LIMIT_FSIZE ?
		    " or a size such as \"64M\"" : "");
		return -1;
	}
	sc->sc_limit_set[k] = 1;
	return 0;
}

static int
key_limits(struct build *b, const config_setting_t *s)
{
	int	 i, rc = 0;

	if (!config_setting_is_group(s)) {
		serr(b->b_ld, s, "\"limits\" must be a group { ... }");
		return -1;
	}
	for (i = 0; i < config_setting_length(s); i++)
		if (limit_one(b, config_setting_get_elem(s, i)) == -1)
			rc = -1;
	return rc;
}

static int
key_nice(struct build *b, const config_setting_t *s)
{
	if (get_int(b, s, -20, 19, &b->b_sc->sc_nice) == -1)
		return -1;
	b->b_sc->sc_nice_set = 1;
	return 0;
}

static int
key_env(struct build *b, const config_setting_t *s)
{
	const char	**v;
	size_t		  i, n;
	int		  bad = 0;

	if ((v = get_strings(b, s, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i][0] == '=' || strchr(v[i], '=') == NULL) {
			serr(b->b_ld, config_setting_get_elem(s, i),
			    "env \"%s\": want NAME=VALUE", v[i]);
			bad = 1;
		}
	}
	if (!bad)
		b->b_sc->sc_env = strv_dup(v, n);
	free(v);
	return bad ? -1 : 0;
}

static int
key_chdir(struct build *b, const config_setting_t *s)
{
	const char	*v;

	if ((v = get_string(b, s)) == NULL || absolute(b, s, v) == -1)
		return -1;
	free(b->b_sc->sc_chdir);
	b->b_sc->sc_chdir = xstrdup(v);
	return 0;
}

static int
key_stderr(struct build *b, const config_setting_t *s)
{
	const char	*v;

	if ((v = get_string(b, s)) == NULL)
		return -1;
	if (strcmp(v, "log") == 0)
		b->b_sc->sc_stderr = STDERR_LOG;
	else if (strcmp(v, "socket") == 0)
		b->b_sc->sc_stderr = STDERR_SOCKET;
	else if (strcmp(v, "null") == 0)
		b->b_sc->sc_stderr = STDERR_NULL;
	else {
		serr(b->b_ld, s, "stderr \"%s\": want log, socket or null", v);
		return -1;
	}
	b->b_stderr_set = 1;
	return 0;
}

static int
key_proxy_protocol(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_proxy);
}

static int
key_keepalive(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_keepalive);
}

static int
key_nodelay(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_nodelay);
}

static int
key_log_connections(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_log_connections);
}

static int
key_backlog(struct build *b, const config_setting_t *s)
{
	return get_int(b, s, 1, INT_MAX, &b->b_sc->sc_backlog);
}

/*
 * Every per-service setting.  The order matters: protocol before what
 * depends on it (port, path), server and builtin before args.
 */
static const struct key keys[] = {
	{ "name",		key_name },
	{ "protocol",		key_protocol },
	{ "tcpmux",		key_tcpmux },
	{ "disabled",		key_disabled },
	{ "server",		key_server },
	{ "builtin",		key_builtin },
	{ "args",		key_args },
	{ "argv0",		key_argv0 },
	{ "wait",		key_wait },
	{ "port",		key_port },
	{ "address",		key_address },
	{ "path",		key_path },
	{ "socket_mode",	key_socket_mode },
	{ "socket_owner",	key_socket_owner },
	{ "socket_group",	key_socket_group },
	{ "user",		key_user },
	{ "group",		key_group },
	{ "instances",		key_instances },
	{ "per_source",		key_per_source },
	{ "rate",		key_rate },
	{ "per_source_rate",	key_per_source_rate },
	{ "refuse_message",	key_refuse_message },
	{ "allow",		key_allow },
	{ "deny",		key_deny },
	{ "timeout",		key_timeout },
	{ "limits",		key_limits },
	{ "nice",		key_nice },
	{ "env",		key_env },
	{ "chdir",		key_chdir },
	{ "stderr",		key_stderr },
	{ "proxy_protocol",	key_proxy_protocol },
	{ "keepalive",		key_keepalive },
	{ "nodelay",		key_nodelay },
	{ "log_connections",	key_log_connections },
	{ "backlog",		key_backlog },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))
#define KEY_NAME 0
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");

static int
key_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].k_name, name) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------------
 * Finishing a service: what needs several settings at once.
 */

/* A user or group given by name or number; -1 when unknown. */
static int
lookup_user(const char *name, uid_t *uid, gid_t *gid, const char **canon)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 n;

	if ((pw = getpwnam(name)) == NULL && name[0] != '\0' &&
	    strspn(name, "0123456789") == strlen(name)) {
		n = strtoul(name, &end, 10);
		if (n < UINT_MAX)
			pw = getpwuid((uid_t)n);
	}
	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	if (gid != NULL)
		*gid = pw->pw_gid;
	if (canon != NULL)
		*canon = pw->pw_name;
	return 0;
}

static int
lookup_group(const char *name, gid_t *gid)
{
	struct group	*gr;
	char		*end;
	unsigned long	 n;

	if ((gr = getgrnam(name)) == NULL && name[0] != '\0' &&
	    strspn(name, "0123456789") == strlen(name)) {
		n = strtoul(name, &end, 10);
		if (n < UINT_MAX)
			gr = getgrgid((gid_t)n);
	}
	if (gr == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

/* Whether this process may use gid (when it cannot change identity). */
static int
in_my_groups(gid_t gid)
{
	gid_t	*groups;
	int	 i, n, found = 0;

	if (gid == getegid() || gid == getgid())
		return 1;
	if ((n = getgroups(0, NULL)) <= 0)
		return 0;
	groups = xcalloc(n, sizeof(*groups));
	if ((n = getgroups(n, groups)) > 0)
		for (i = 0; i < n && !found; i++)
			found = groups[i] == gid;
	free(groups);
	return found;
}

static char *
my_user_name(void)
{
	struct passwd	*pw;

	if ((pw = getpwuid(geteuid())) != NULL)
		return xstrdup(pw->pw_name);
	return xasprintf("%u", (unsigned)geteuid());
}

/*
 * The identity of the program.  As root: user (default nobody) and group
 * (default its primary group).  Otherwise superd cannot switch, so the
 * service runs as the invoking user and may only name that user and the
 * groups this process has.
 */
static void
finish_identity(struct build *b)
{
	struct loader	*ld = b->b_ld;
	struct svc_conf	*sc = b->b_sc;
	const char	*canon = NULL, *user;
	struct where	*uat = b->b_user != NULL ? &b->b_user_at : &b->b_at;
	uid_t		 uid;
	gid_t		 gid;

	if (!ld->ld_root) {
		sc->sc_uid = geteuid();
		sc->sc_gid = getegid();
		sc->sc_setid = 0;
		sc->sc_user = my_user_name();
		if (b->b_user != NULL) {
			if (lookup_user(b->b_user, &uid, NULL, NULL) == -1)
				problem(ld, uat, "unknown user \"%s\"",
				    b->b_user);
			else if (uid != geteuid())
				problem(ld, uat, "user \"%s\": superd is not "
				    "root and runs services only as \"%s\"",
				    b->b_user, sc->sc_user);
		}
		if (b->b_group != NULL) {
			if (lookup_group(b->b_group, &gid) == -1)
				problem(ld, &b->b_group_at,
				    "unknown group \"%s\"", b->b_group);
			else if (!in_my_groups(gid))
				problem(ld, &b->b_group_at, "group \"%s\": "
				    "superd is not root and \"%s\" is not in "
				    "it", b->b_group, sc->sc_user);
		}
		return;
	}
	sc->sc_setid = 1;
	user = b->b_user != NULL ? b->b_user : "nobody";
	if (lookup_user(user, &uid, &gid, &canon) == -1)
		problem(ld, uat, "unknown user \"%s\"", user);
	else {
		sc->sc_user = xstrdup(canon);
		sc->sc_uid = uid;
		sc->sc_gid = gid;
	}
	if (b->b_group != NULL && lookup_group(b->b_group, &sc->sc_gid) == -1)
		problem(ld, &b->b_group_at, "unknown group \"%s\"",
		    b->b_group);
}

static void
finish_socket_owner(struct build *b)
{
	struct loader	*ld = b->b_ld;
	struct svc_conf	*sc = b->b_sc;

	if (b->b_owner != NULL) {
		if (lookup_user(b->b_owner, &sc->sc_socket_uid, NULL,
		    NULL) == -1)
			problem(ld, &b->b_owner_at, "unknown user \"%s\"",
			    b->b_owner);
		else if (!ld->ld_root && sc->sc_socket_uid != geteuid())
			problem(ld, &b->b_owner_at, "socket_owner \"%s\": "
			    "only root can give a socket away", b->b_owner);
	}
	if (b->b_sgroup != NULL) {
		if (lookup_group(b->b_sgroup, &sc->sc_socket_gid) == -1)
			problem(ld, &b->b_sgroup_at, "unknown group \"%s\"",
			    b->b_sgroup);
		else if (!ld->ld_root && !in_my_groups(sc->sc_socket_gid))
			problem(ld, &b->b_sgroup_at, "socket_group \"%s\": "
			    "superd is not root and not in it", b->b_sgroup);
	}
}

static void
finish_program(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;
	const char	*base;
	size_t		 i;

	if (sc->sc_server != NULL && sc->sc_builtin != BUILTIN_NONE) {
		problem(b->b_ld, &b->b_at, "service \"%s\" has both server and "
		    "builtin", sc->sc_name ? sc->sc_name : "?");
		return;
	}
	if (sc->sc_server == NULL && sc->sc_builtin == BUILTIN_NONE) {
		if (b->b_prog_set)
			return;		/* reported where it was given */
		problem(b->b_ld, &b->b_at, "service \"%s\" has neither server "
		    "nor builtin", sc->sc_name ? sc->sc_name : "?");
		return;
	}
	if (sc->sc_builtin != BUILTIN_NONE) {
		if (b->b_args_own)
			problem(b->b_ld, &b->b_args_at, "\"args\" does not "
			    "apply to a builtin");
		if (b->b_argv0_own)
			problem(b->b_ld, &b->b_argv0_at, "\"argv0\" does not "
			    "apply to a builtin");
		if (sc->sc_builtin == BUILTIN_TCPMUX &&
		    sc->sc_proto == PROTO_UDP)
			problem(b->b_ld, &b->b_at, "builtin tcpmux is a "
			    "stream service, not udp");
		return;
	}
	if ((base = strrchr(sc->sc_server, '/')) != NULL)
		base++;
	sc->sc_argv = xcalloc(b->b_nargs + 2, sizeof(*sc->sc_argv));
	sc->sc_argv[0] = xstrdup(b->b_argv0 != NULL ? b->b_argv0 : base);
	for (i = 0; i < b->b_nargs; i++)
		sc->sc_argv[i + 1] = xstrdup(b->b_args[i]);
}

static int
have_inet6(void)
{
	int	 fd;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	close(fd);
	return 1;
}

static void
add_bind(struct svc_conf *sc, const struct sockaddr *sa, socklen_t len,
    int wildcard)
{
	struct bindaddr	*ba;
	size_t		 i;

	for (i = 0; i < sc->sc_nbinds; i++)
		if (sc->sc_binds[i].ba_len == len &&
		    memcmp(&sc->sc_binds[i].ba_addr, sa, len) == 0)
			return;
	sc->sc_binds = xreallocarray(sc->sc_binds, sc->sc_nbinds + 1,
	    sizeof(*sc->sc_binds));
	ba = &sc->sc_binds[sc->sc_nbinds++];
	memset(ba, 0, sizeof(*ba));
	memcpy(&ba->ba_addr, sa, len);
	ba->ba_len = len;
	ba->ba_wildcard = wildcard;
}

/* "*": one dual-stack listener where IPv6 exists, else IPv4 only. */
static void
bind_wildcard(struct build *b, int port)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	int			 fam = b->b_family;

	if (fam != AF_INET && b->b_ld->ld_inet6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_any;
		sin6.sin6_port = htons(port);
		add_bind(b->b_sc, (struct sockaddr *)&sin6, sizeof(sin6),
		    fam == AF_UNSPEC);
	} else if (fam != AF_INET6 || !b->b_ld->ld_inet6) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		sin.sin_port = htons(port);
		add_bind(b->b_sc, (struct sockaddr *)&sin, sizeof(sin),
		    fam == AF_UNSPEC);
	}
}

static void
bind_host(struct build *b, const char *host, int port)
{
	struct addrinfo	 hints, *res, *ai;
	struct sockaddr_storage ss;
	int		 rc, found = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = b->b_family;
	hints.ai_socktype = b->b_sc->sc_proto == PROTO_UDP ? SOCK_DGRAM :
	    SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) == EAI_NONAME) {
		hints.ai_flags = 0;
		rc = getaddrinfo(host, NULL, &hints, &res);
	}
	if (rc != 0) {
		problem(b->b_ld, &b->b_addr_at, "address \"%s\": %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    (ai->ai_family == AF_INET6 && !b->b_ld->ld_inet6) ||
		    ai->ai_addrlen > sizeof(ss))
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		add_bind(b->b_sc, (struct sockaddr *)&ss, ai->ai_addrlen, 0);
		found = 1;
	}
	freeaddrinfo(res);
	if (!found)
		problem(b->b_ld, &b->b_addr_at, "address \"%s\": no IPv4 or "
		    "usable IPv6 address", host);
}

static void
finish_addresses(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;
	int		 port = sc->sc_port > 0 ? sc->sc_port : 0;
	size_t		 i;

	if (b->b_addrs == NULL) {
		bind_wildcard(b, port);
		return;
	}
	for (i = 0; i < b->b_naddrs; i++) {
		if (strcmp(b->b_addrs[i], "*") == 0)
			bind_wildcard(b, port);
		else
			bind_host(b, b->b_addrs[i], port);
	}
}

/* The port: set, or reached through tcpmux only, or the service's name. */
static void
finish_port(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;
	struct servent	*se;

	if (b->b_port_set)
		return;
	if (sc->sc_tcpmux && sc->sc_proto == PROTO_TCP) {
		sc->sc_port = -1;
		return;
	}
	if (sc->sc_name == NULL)
		return;
	if ((se = getservbyname(sc->sc_name, proto_name(sc->sc_proto))) ==
	    NULL) {
		problem(b->b_ld, &b->b_at, "service \"%s\" has no port and "
		    "\"%s\" is not a %s service in /etc/services", sc->sc_name,
		    sc->sc_name, proto_name(sc->sc_proto));
		return;
	}
	sc->sc_port = ntohs(se->s_port);
}

static void
finish(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;

	if (sc->sc_name == NULL && b->b_name_at.w_line == 0)
		problem(b->b_ld, &b->b_at, "service has no name");
	finish_program(b);
	if (!b->b_wait_set)
		sc->sc_wait = sc->sc_proto == PROTO_UDP;
	if (sc->sc_proto == PROTO_UNIX) {
		sc->sc_port = -1;
		if (sc->sc_path == NULL && !b->b_path_set)
			problem(b->b_ld, &b->b_at, "unix service \"%s\" has "
			    "no path", sc->sc_name ? sc->sc_name : "?");
		finish_socket_owner(b);
	} else {
		finish_port(b);
		if (sc->sc_port >= 0)
			finish_addresses(b);
	}
	finish_identity(b);
}

/* ---------------------------------------------------------------------
 * Services.
 */

static struct svc_conf *
svc_new(void)
{
	struct svc_conf	*sc;

	sc = xcalloc(1, sizeof(*sc));
	sc->sc_proto = PROTO_TCP;
	sc->sc_socket_mode = 0666;
	sc->sc_socket_uid = (uid_t)-1;
	sc->sc_socket_gid = (gid_t)-1;
	sc->sc_instances = 128;
	sc->sc_chdir = xstrdup("/");
	sc->sc_stderr = STDERR_LOG;
	sc->sc_backlog = 128;
	sc->sc_log_connections = 1;
	return sc;
}

static void
build_init(struct build *b, struct loader *ld, const struct where *at)
{
	memset(b, 0, sizeof(*b));
	b->b_ld = ld;
	b->b_sc = svc_new();
	b->b_at = *at;
	b->b_family = AF_UNSPEC;
}

static void
build_clear(struct build *b)
{
	free(b->b_addrs);
	free(b->b_args);
}

/*
 * Apply each key, in table order, from the service's own settings or else
 * from the superd block's defaults.  own[k] == NULL and skip[k] set: the
 * key is neither (an inetd.conf line carries it).
 */
static void
build_apply(struct build *b, const config_setting_t **own, const int *skip)
{
	const config_setting_t	*s;
	size_t			 k;

	for (k = 0; k < NKEYS; k++) {
		if (own != NULL && own[k] != NULL) {
			s = own[k];
			b->b_own = 1;
		} else if (skip == NULL || !skip[k]) {
			s = b->b_ld->ld_dflt[k];
			b->b_own = 0;
		} else
			s = NULL;
		if (s != NULL)
			keys[k].k_fn(b, s);
	}
}

static void
conf_add(struct loader *ld, struct build *b)
{
	struct conf	*cf = ld->ld_conf;
	struct svc_conf	*sc = b->b_sc;

	sc->sc_file = xstrdup(b->b_at.w_file);
	sc->sc_line = b->b_at.w_line;
	cf->cf_svcs = xreallocarray(cf->cf_svcs, cf->cf_nsvcs + 1,
	    sizeof(*cf->cf_svcs));
	ld->ld_named = xreallocarray(ld->ld_named, cf->cf_nsvcs + 1,
	    sizeof(*ld->ld_named));
	ld->ld_named[cf->cf_nsvcs] = b->b_name_at.w_line > 0 ? b->b_name_at :
	    b->b_at;
	cf->cf_svcs[cf->cf_nsvcs++] = sc;
}

/*
 * One `{ ... }` of a services list.  A service that names its own program
 * (server or builtin) takes none of the program settings of the superd
 * block: a default args list belongs to the default server.
 */
static void
service_load(struct loader *ld, const config_setting_t *g)
{
	const config_setting_t	*own[NKEYS], *s;
	struct build		 b;
	struct where		 at;
	int			 i, k, skip[NKEYS];

	at = where_of(ld, g);
	if (!config_setting_is_group(g)) {
		problem(ld, &at, "an element of \"services\" must be a group "
		    "{ ... }");
		return;
	}
	memset(own, 0, sizeof(own));
	memset(skip, 0, sizeof(skip));
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		if ((k = key_index(config_setting_name(s))) == -1)
			serr(ld, s, "unknown setting \"%s\"",
			    config_setting_name(s));
		else
			own[k] = s;
	}
	if (own[key_index("server")] != NULL ||
	    own[key_index("builtin")] != NULL) {
		skip[key_index("server")] = skip[key_index("builtin")] = 1;
		skip[key_index("args")] = skip[key_index("argv0")] = 1;
	}
	build_init(&b, ld, &at);
	build_apply(&b, own, skip);
	finish(&b);
	conf_add(ld, &b);
	build_clear(&b);
}

static void
services_load(struct loader *ld, const config_setting_t *list)
{
	int	 i;

	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY &&
	    config_setting_length(list) == 0)) {
		serr(ld, list, "\"services\" must be a list ( { ... }, ... )");
		return;
	}
	for (i = 0; i < config_setting_length(list); i++)
		service_load(ld, config_setting_get_elem(list, i));
}

/*
 * The superd block's per-service defaults, checked once on their own
 * (even with no service to use them).  A service using one checks it
 * again; the same message at the same line is reported once.
 */
static void
defaults_check(struct loader *ld, const config_setting_t *g)
{
	struct build	 b;
	struct where	 at;

	at = where_of(ld, g);
	build_init(&b, ld, &at);
	build_apply(&b, NULL, NULL);
	if (b.b_user != NULL || b.b_group != NULL)
		finish_identity(&b);
	if (b.b_sc->sc_proto != PROTO_UNIX && b.b_addrs != NULL)
		finish_addresses(&b);
	build_clear(&b);
	svc_conf_free(b.b_sc);
}

/* ---------------------------------------------------------------------
 * The superd block and the top level.
 */

static const struct {
	const char	*fa_name;
	int		 fa_value;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP },
	{ "kern", LOG_KERN }, { "lpr", LOG_LPR }, { "mail", LOG_MAIL },
	{ "news", LOG_NEWS }, { "syslog", LOG_SYSLOG }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

static int
global_string(struct loader *ld, const config_setting_t *s, char **dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		serr(ld, s, "\"%s\" must be a string", config_setting_name(s));
		return -1;
	}
	free(*dst);
	*dst = xstrdup(config_setting_get_string(s));
	return 0;
}

static void
global_facility(struct loader *ld, const config_setting_t *s)
{
	const char	*v;
	size_t		 i;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		serr(ld, s, "\"facility\" must be a string");
		return;
	}
	v = config_setting_get_string(s);
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcmp(facilities[i].fa_name, v) == 0) {
			ld->ld_conf->cf_facility = facilities[i].fa_value;
			return;
		}
	}
	serr(ld, s, "facility \"%s\": not a syslog facility (daemon, auth, "
	    "local0 ... local7, ...)", v);
}

/* A path relative to the main file's directory. */
static void
global_relative(struct loader *ld, char **path)
{
	char	*dir, *full;

	if ((*path)[0] == '\0' || (*path)[0] == '/')
		return;
	dir = dir_of(ld->ld_conf->cf_file);
	full = join(dir, *path);
	free(dir);
	free(*path);
	*path = full;
}

static void
superd_load(struct loader *ld, const config_setting_t *g)
{
	struct conf		*cf = ld->ld_conf;
	const config_setting_t	*s;
	const char		*name;
	int			 i, k;

	if (!config_setting_is_group(g)) {
		serr(ld, g, "\"superd\" must be a group { ... }");
		return;
	}
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		name = config_setting_name(s);
		if (strcmp(name, "pidfile") == 0)
			global_string(ld, s, &cf->cf_pidfile);
		else if (strcmp(name, "ports") == 0)
			global_string(ld, s, &cf->cf_ports);
		else if (strcmp(name, "facility") == 0)
			global_facility(ld, s);
		else if (strcmp(name, "include") == 0) {
			if (global_string(ld, s, &cf->cf_include) == 0)
				ld->ld_include_at = s;
			global_relative(ld, &cf->cf_include);
		} else if (strcmp(name, "inetd_conf") == 0) {
			if (global_string(ld, s, &cf->cf_inetd_conf) == 0)
				ld->ld_inetd_at = s;
			global_relative(ld, &cf->cf_inetd_conf);
		} else if ((k = key_index(name)) > KEY_NAME)
			ld->ld_dflt[k] = s;
		else
			serr(ld, s, "unknown setting \"%s\"%s", name,
			    k == KEY_NAME ? " (a name is per service)" : "");
	}
	defaults_check(ld, g);
}

/*
 * The top level of a file.  The main file may hold a superd block; an
 * included file only a services list.
 */
static void
top_load(struct loader *ld, struct cfile *cf, int main_file)
{
	const config_setting_t	*root, *s, *superd = NULL, *svcs = NULL;
	const char		*name;
	int			 i;

	root = config_root_setting(&cf->cf_cfg);
	for (i = 0; i < config_setting_length(root); i++) {
		s = config_setting_get_elem(root, i);
		name = config_setting_name(s);
		if (strcmp(name, "services") == 0)
			svcs = s;
		else if (main_file && strcmp(name, "superd") == 0)
			superd = s;
		else
			serr(ld, s, "unknown setting \"%s\"%s", name,
			    main_file ? "" :
			    " (an included file holds only a services list)");
	}
	if (superd != NULL)
		superd_load(ld, superd);
	if (svcs != NULL)
		services_load(ld, svcs);
}

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

/* Every regular *.conf of the include directory, in strcmp order. */
static void
include_load(struct loader *ld)
{
	const char	*dir = ld->ld_conf->cf_include;
	struct dirent	*de;
	struct stat	 st;
	struct cfile	*cf;
	DIR		*dp;
	char		**names = NULL, *path;
	size_t		 n = 0, i;

	if ((dp = opendir(dir)) == NULL) {
		serr(ld, ld->ld_include_at, "include \"%s\": %s", dir,
		    strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (!has_suffix(de->d_name, ".conf"))
			continue;
		path = join(dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = path;
		} else
			free(path);
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if ((cf = cfile_load(ld, names[i], (int)i + 1)) != NULL)
			top_load(ld, cf, 0);
		free(names[i]);
	}
	free(names);
	ld->ld_inetd_seq = (int)n + 1;
}

/* ---------------------------------------------------------------------
 * A classic inetd.conf: each active line becomes a service.
 */

struct inetd_file {
	struct loader	*if_ld;
	struct where	 if_at;		/* file, seq, current line */
	const char	*if_addr;	/* from a "host:" line; NULL: default */
	char		 if_hostbuf[256];
};

/* Whether superd.conf (or an include file) has this name and protocol. */
static int
main_has(struct loader *ld, const char *name, enum proto proto)
{
	struct svc_conf	*sc;
	size_t		 i;

	for (i = 0; i < ld->ld_nmain; i++) {
		sc = ld->ld_conf->cf_svcs[i];
		if (sc->sc_name != NULL && !sc->sc_disabled &&
		    sc->sc_proto == proto && strcmp(sc->sc_name, name) == 0)
			return 1;
	}
	return 0;
}

/* The port of a line: a number, or the service's name in /etc/services. */
static void
inetd_port(struct build *b, const struct inetd_ent *ie)
{
	struct servent	*se;
	const char	*proto = proto_name(ie->ie_proto);
	long		 n;

	if (ie->ie_tcpmux)
		return;		/* finish_port: reached through tcpmux only */
	b->b_port_set = 1;
	if (strspn(ie->ie_name, "0123456789") == strlen(ie->ie_name)) {
		n = strtol(ie->ie_name, NULL, 10);
		if (n < 1 || n > 65535)
			problem(b->b_ld, &b->b_at, "port %s: must be 1 to "
			    "65535", ie->ie_name);
		else
			b->b_sc->sc_port = (int)n;
	} else if ((se = getservbyname(ie->ie_name, proto)) == NULL)
		problem(b->b_ld, &b->b_at, "service \"%s\" is not a %s service "
		    "in /etc/services", ie->ie_name, proto);
	else
		b->b_sc->sc_port = ntohs(se->s_port);
}

/* The keys a line carries: the superd block's defaults do not apply. */
static void
inetd_skip(const struct inetd_ent *ie, const char *addr, int *skip)
{
	static const char *const carried[] = {
		"name", "protocol", "wait", "user", "group", "server",
		"builtin", "args", "argv0", "port",
	};
	size_t	 i;

	memset(skip, 0, NKEYS * sizeof(*skip));
	for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		skip[key_index(carried[i])] = 1;
	if (addr != NULL || ie->ie_family != AF_UNSPEC)
		skip[key_index("address")] = 1;
	if (ie->ie_max > 0)
		skip[key_index("instances")] = 1;
	if (ie->ie_tcpmux)
		skip[key_index("tcpmux")] = 1;
}

static void
warn_add(struct conf *cf, const char *fmt, ...)
{
	struct conf_errors	*w = &cf->cf_warnings;
	va_list			 ap;

	w->ce_msg = xreallocarray(w->ce_msg, w->ce_count + 1,
	    sizeof(*w->ce_msg));
	va_start(ap, fmt);
	w->ce_msg[w->ce_count++] = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Whether an absolute program is missing (errno says how). */
static int
program_gone(const char *path)
{
	struct stat	 st;

	if (path[0] != '/')
		return 0;	/* reported as an error by check_server() */
	if (stat(path, &st) == -1)
		return 1;
	return 0;
}

static void
inetd_entry(struct inetd_file *ifl, struct inetd_ent *ie)
{
	struct loader	*ld = ifl->if_ld;
	struct build	 b;
	struct svc_conf	*sc;
	const char	*addr = ie->ie_addr != NULL ? ie->ie_addr : ifl->if_addr;
	int		 skip[NKEYS];

	if (!valid_name(ie->ie_name)) {
		problem(ld, &ifl->if_at, "name \"%s\": want 1 to %d of "
		    "A-Z a-z 0-9 . _ -", ie->ie_name, SUPERD_NAME_MAX);
		return;
	}
	if (main_has(ld, ie->ie_name, ie->ie_proto))
		return;		/* superd.conf wins */
	if (ie->ie_program != NULL && program_gone(ie->ie_program)) {
		/*
		 * A package removed without update-inetd leaves its line
		 * behind: inetd skips such a line, and so does superd.
		 */
		warn_add(ld->ld_conf, "%s:%d: %s: %s, entry \"%s\" skipped",
		    ifl->if_at.w_file, ifl->if_at.w_line, ie->ie_program,
		    strerror(errno), ie->ie_name);
		return;
	}
	build_init(&b, ld, &ifl->if_at);
	sc = b.b_sc;
	inetd_skip(ie, addr, skip);
	build_apply(&b, NULL, skip);
	b.b_name_at = ifl->if_at;
	sc->sc_name = xstrdup(ie->ie_name);
	sc->sc_proto = ie->ie_proto;
	sc->sc_wait = ie->ie_wait;
	b.b_wait_set = 1;
	if (ie->ie_max > 0)
		sc->sc_instances = ie->ie_max;
	if (ie->ie_tcpmux)
		sc->sc_tcpmux = 1;
	if (!b.b_stderr_set)
		sc->sc_stderr = STDERR_SOCKET;	/* what inetd does */
	b.b_user = ie->ie_user;
	b.b_user_at = b.b_at;
	b.b_group = ie->ie_group;
	b.b_group_at = b.b_at;
	if (ie->ie_program == NULL) {
		b.b_prog_set = 1;
		if ((sc->sc_builtin = builtin_named(ie->ie_name)) ==
		    BUILTIN_NONE)
			problem(ld, &b.b_at, "no internal service \"%s\" (want "
			    "echo, discard, chargen, daytime, time or tcpmux)",
			    ie->ie_name);
	} else if (check_server(&b, &b.b_at, ie->ie_program) == 0 &&
	    ie->ie_argc > 0) {
		b.b_argv0 = ie->ie_argv[0];
		b.b_args = xcalloc(ie->ie_argc, sizeof(*b.b_args));
		memcpy(b.b_args, ie->ie_argv + 1,
		    (ie->ie_argc - 1) * sizeof(*b.b_args));
		b.b_nargs = ie->ie_argc - 1;
	}
	inetd_port(&b, ie);
	if (addr != NULL || ie->ie_family != AF_UNSPEC) {
		b.b_family = ie->ie_family;
		b.b_addr_at = b.b_at;
		free(b.b_addrs);
		b.b_addrs = xcalloc(2, sizeof(*b.b_addrs));
		b.b_addrs[0] = addr != NULL ? addr : "*";
		b.b_naddrs = 1;
	}
	finish(&b);
	conf_add(ld, &b);
	build_clear(&b);
}

static void
inetd_line(struct inetd_file *ifl, char *line)
{
	struct inetd_ent	 ie;
	char			 err[256];

	switch (inetd_parse_line(line, &ie, err, sizeof(err))) {
	case INETD_ENTRY:
		inetd_entry(ifl, &ie);
		break;
	case INETD_ADDR:
		if (strcmp(ie.ie_addr, "*") == 0)
			ifl->if_addr = NULL;
		else {
			snprintf(ifl->if_hostbuf, sizeof(ifl->if_hostbuf), "%s",
			    ie.ie_addr);
			ifl->if_addr = ifl->if_hostbuf;
		}
		break;
	case INETD_NONE:
		break;
	default:
		problem(ifl->if_ld, &ifl->if_at, "%s", err);
		break;
	}
	inetd_ent_clear(&ie);
}


/*
 * inetd_conf.  A file that cannot be opened is noted and skipped (the
 * packages that edit it may not have created it yet); one that can is
 * held to the same rules as superd.conf.
 */
static void
inetd_load(struct loader *ld)
{
	struct inetd_file	 ifl;
	const char		*path = ld->ld_conf->cf_inetd_conf;
	char			*text, *line, *next;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		warn_add(ld->ld_conf, "%s: %s (inetd_conf skipped)", path,
		    strerror(errno));
		return;
	}
	close(fd);
	if ((text = read_text(ld, path, ld->ld_inetd_seq)) == NULL)
		return;
	memset(&ifl, 0, sizeof(ifl));
	ifl.if_ld = ld;
	ifl.if_at.w_file = intern(ld, path);
	ifl.if_at.w_seq = ld->ld_inetd_seq;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		ifl.if_at.w_line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		inetd_line(&ifl, line);
	}
	free(text);
}

/* ---------------------------------------------------------------------
 * Checks across services.
 */

static void
check_names(struct loader *ld)
{
	struct conf	*cf = ld->ld_conf;
	struct svc_conf	*a, *b;
	size_t		 i, j;

	for (i = 0; i < cf->cf_nsvcs; i++) {
		b = cf->cf_svcs[i];
		for (j = 0; j < i && b->sc_name != NULL; j++) {
			a = cf->cf_svcs[j];
			if (a->sc_name == NULL || a->sc_proto != b->sc_proto ||
			    strcmp(a->sc_name, b->sc_name) != 0)
				continue;
			/* A disabled example steps aside for an inetd.conf line. */
			if (a->sc_disabled && j < ld->ld_nmain && i >= ld->ld_nmain)
				continue;
			problem(ld, &ld->ld_named[i], "duplicate service name "
			    "\"%s\" (first at %s:%d)", b->sc_name,
			    ld->ld_named[j].w_file, ld->ld_named[j].w_line);
			break;
		}
	}
}

static int
is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Whether two listeners of one protocol and port would collide. */
static int
binds_clash(const struct bindaddr *a, const struct bindaddr *b)
{
	const struct sockaddr_in6	*a6, *b6;

	if (a->ba_addr.ss_family != b->ba_addr.ss_family)
		return (a->ba_addr.ss_family == AF_INET6 && a->ba_wildcard) ||
		    (b->ba_addr.ss_family == AF_INET6 && b->ba_wildcard);
	if (is_any(&a->ba_addr) || is_any(&b->ba_addr))
		return 1;
	if (a->ba_addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ba_addr)->sin_addr.
		    s_addr == ((const struct sockaddr_in *)&b->ba_addr)->
		    sin_addr.s_addr;
	a6 = (const struct sockaddr_in6 *)&a->ba_addr;
	b6 = (const struct sockaddr_in6 *)&b->ba_addr;
	return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) &&
	    a6->sin6_scope_id == b6->sin6_scope_id;
}

static void
bind_text(const struct bindaddr *ba, char *buf, size_t len)
{
	const void	*p;

	if (ba->ba_wildcard) {
		snprintf(buf, len, "*");
		return;
	}
	if (ba->ba_addr.ss_family == AF_INET)
		p = &((const struct sockaddr_in *)&ba->ba_addr)->sin_addr;
	else
		p = &((const struct sockaddr_in6 *)&ba->ba_addr)->sin6_addr;
	if (inet_ntop(ba->ba_addr.ss_family, p, buf, len) == NULL)
		snprintf(buf, len, "?");
}

static int
svcs_clash(const struct svc_conf *a, const struct svc_conf *b,
    const struct bindaddr **clash)
{
	size_t	 i, j;

	if (a->sc_disabled || b->sc_disabled || a->sc_proto != b->sc_proto)
		return 0;
	if (a != b && a->sc_name != NULL && b->sc_name != NULL &&
	    strcmp(a->sc_name, b->sc_name) == 0)
		return 0;	/* reported as a duplicate name */
	if (a->sc_proto == PROTO_UNIX)
		return a != b && a->sc_path != NULL && b->sc_path != NULL &&
		    strcmp(a->sc_path, b->sc_path) == 0;
	if (a->sc_port <= 0 || a->sc_port != b->sc_port)
		return 0;
	for (i = 0; i < a->sc_nbinds; i++)
		for (j = a == b ? i + 1 : 0; j < b->sc_nbinds; j++)
			if (binds_clash(&a->sc_binds[i], &b->sc_binds[j])) {
				*clash = &b->sc_binds[j];
				return 1;
			}
	return 0;
}

static void
check_clashes(struct loader *ld)
{
	struct conf		*cf = ld->ld_conf;
	struct svc_conf		*a, *b;
	const struct bindaddr	*ba = NULL;
	struct where		 w;
	char			 addr[INET6_ADDRSTRLEN + 1], what[128];
	size_t			 i, j;

	for (i = 0; i < cf->cf_nsvcs; i++) {
		b = cf->cf_svcs[i];
		for (j = 0; j <= i; j++) {
			a = cf->cf_svcs[j];
			if (!svcs_clash(a, b, &ba))
				continue;
			if (b->sc_proto == PROTO_UNIX)
				snprintf(what, sizeof(what), "unix %s",
				    b->sc_path);
			else {
				bind_text(ba, addr, sizeof(addr));
				snprintf(what, sizeof(what), "%s %s port %d",
				    proto_name(b->sc_proto), addr, b->sc_port);
			}
			w = ld->ld_named[i];
			w.w_line = b->sc_line;
			if (a == b)
				problem(ld, &w, "service \"%s\": two of its "
				    "addresses overlap (%s)", b->sc_name, what);
			else
				problem(ld, &w, "service \"%s\" (%s) clashes "
				    "with service \"%s\" (%s:%d)", b->sc_name,
				    what, a->sc_name, a->sc_file, a->sc_line);
			break;
		}
	}
}

/* ---------------------------------------------------------------------
 * The interface.
 */

struct conf *
config_load(const char *path, struct conf_errors *errs)
{
	struct loader	 ld;
	struct conf	*cf;
	struct cfile	*main_cf;
	size_t		 i;
	int		 bad;

	memset(&ld, 0, sizeof(ld));
	ld.ld_root = geteuid() == 0;
	ld.ld_inet6 = have_inet6();
	cf = ld.ld_conf = xcalloc(1, sizeof(*cf));
	cf->cf_file = xstrdup(path);
	cf->cf_pidfile = xstrdup("/run/superd.pid");
	cf->cf_ports = xstrdup("/run/superd.ports");
	cf->cf_facility = LOG_DAEMON;
	cf->cf_include = xstrdup("");
	cf->cf_inetd_conf = xstrdup("");
	ld.ld_inetd_seq = 1;

	if ((main_cf = cfile_load(&ld, path, 0)) != NULL) {
		top_load(&ld, main_cf, 1);
		if (cf->cf_include[0] != '\0' && ld.ld_include_at != NULL)
			include_load(&ld);
		ld.ld_nmain = cf->cf_nsvcs;
		if (cf->cf_inetd_conf[0] != '\0' && ld.ld_inetd_at != NULL)
			inetd_load(&ld);
		check_names(&ld);
		check_clashes(&ld);
	}

	bad = ld.ld_nprobs > 0;
	problems_flush(&ld, errs);
	for (i = 0; i < ld.ld_nfiles; i++)
		cfile_free(ld.ld_files[i]);
	free(ld.ld_files);
	for (i = 0; i < ld.ld_nstrs; i++)
		free(ld.ld_strs[i]);
	free(ld.ld_strs);
	free(ld.ld_named);
	if (bad) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

void
svc_conf_free(struct svc_conf *sc)
{
	if (sc == NULL)
		return;
	free(sc->sc_name);
	free((char *)sc->sc_file);	/* owned: outlives the conf's files */
	free(sc->sc_binds);
	free(sc->sc_path);
	free(sc->sc_server);
	strv_free(sc->sc_argv);
	free(sc->sc_user);
	free(sc->sc_refuse_message);
	free(sc->sc_allow);
	free(sc->sc_deny);
	strv_free(sc->sc_env);
	free(sc->sc_chdir);
	free(sc);
}

void
config_free(struct conf *cf)
{
	size_t	 i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->cf_nsvcs; i++)
		svc_conf_free(cf->cf_svcs[i]);
	free(cf->cf_svcs);
	free(cf->cf_file);
	free(cf->cf_pidfile);
	free(cf->cf_ports);
	free(cf->cf_include);
	free(cf->cf_inetd_conf);
	config_errors_clear(&cf->cf_warnings);
	free(cf);
}

size_t
config_enabled(const struct conf *cf)
{
	size_t	 i, n = 0;

	for (i = 0; i < cf->cf_nsvcs; i++)
		if (cf->cf_svcs[i] != NULL && !cf->cf_svcs[i]->sc_disabled)
			n++;
	return n;
}

void
config_errors_clear(struct conf_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->ce_count; i++)
		free(errs->ce_msg[i]);
	free(errs->ce_msg);
	errs->ce_msg = NULL;
	errs->ce_count = 0;
}

/* A prefix length of 0..max written as plain digits. */
static int
parse_prefix(const char *s, int max, int *prefix)
{
	size_t	 n;
	int	 v = 0;

	n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || s[n] != '\0')
		return -1;
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	if (v > max)
		return -1;
	*prefix = v;
	return 0;
}

/*
 * "ADDRESS" or "ADDRESS/PREFIX", IPv4 or IPv6.  An IPv4-mapped IPv6 block
 * of /96 or longer is kept as the IPv4 block it means, so that it matches
 * IPv4 clients whichever way the socket shows them.  Host bits beyond the
 * prefix are cleared.
 */
int
config_parse_cidr(const char *s, struct cidr *ci)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	const char	*slash;
	size_t		 alen;
	int		 prefix = -1, bits, i;

	memset(ci, 0, sizeof(*ci));
	if ((slash = strchr(s, '/')) == NULL)
		alen = strlen(s);
	else
		alen = slash - s;
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, ci->ci_addr) == 1) {
		ci->ci_family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, ci->ci_addr) == 1) {
		ci->ci_family = AF_INET6;
		bits = 128;
	} else
		return -1;
	if (slash != NULL && parse_prefix(slash + 1, bits, &prefix) == -1)
		return -1;
	ci->ci_prefix = slash != NULL ? prefix : bits;
	if (ci->ci_family == AF_INET6 && ci->ci_prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((struct in6_addr *)ci->ci_addr)) {
		memmove(ci->ci_addr, ci->ci_addr + 12, 4);
		memset(ci->ci_addr + 4, 0, 12);
		ci->ci_family = AF_INET;
		ci->ci_prefix -= 96;
		bits = 32;
	}
	for (i = 0; i < bits / 8; i++) {
		if (i * 8 >= ci->ci_prefix)
			ci->ci_addr[i] = 0;
		else if (i * 8 + 8 > ci->ci_prefix)
			ci->ci_addr[i] &= (uint8_t)(0xff <<
			    (8 - (ci->ci_prefix - i * 8)));
	}
	return 0;
}

/* Bytes: digits, optionally followed by K, M or G (powers of 1024). */
int
config_parse_size(const char *s, rlim_t *v)
{
	unsigned long long	 n = 0, mult = 1;
	const char		*p;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'K': case 'k':
		mult = 1ULL << 10;
		p++;
		break;
	case 'M': case 'm':
		mult = 1ULL << 20;
		p++;
		break;
	case 'G': case 'g':
		mult = 1ULL << 30;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || n > ULLONG_MAX / mult)
		return -1;
	n *= mult;
	if (n >= (unsigned long long)RLIM_INFINITY)
		return -1;
	*v = (rlim_t)n;
	return 0;
}
