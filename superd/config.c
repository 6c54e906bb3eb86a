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
 * This file owns the load and maps libconfig's settings onto a struct
 * svc_conf, one function per key; the problems are collected here.  Its
 * parts are config_file.c (files read into memory and pre-scanned),
 * config_resolve.c (a service finished against the system),
 * config_inetd.c (inetd.conf lines) and config_check.c (checks across
 * services); config_int.h is what they share.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"

/* Sorted at the end into file order: seq, then line, then as found. */
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

/* The libconfig side of a load, kept out of the shared struct loader. */
struct lcfg {
	struct cfile		**lc_files;
	size_t			 lc_nfiles;
	const config_setting_t	*lc_dflt[CONFIG_KEYS_MAX]; /* superd block */
	const config_setting_t	*lc_include_at;
	const config_setting_t	*lc_inetd_at;
};

typedef int	(*key_fn)(struct build *, const config_setting_t *);

struct key {
	const char	*k_name;
	key_fn		 k_fn;
};

static void	 serr(struct loader *, const config_setting_t *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static struct where where_of(struct loader *, const config_setting_t *);

/* ---------------------------------------------------------------------
 * Allocation.  A load that runs out of memory fails like a bad file: the
 * allocators jump back to config_load(), which lets go of what the load
 * holds and returns NULL, so a reload under memory pressure keeps the
 * running configuration instead of ending superd.  The loader tracks what
 * would otherwise be lost (the service being built, an open file, an
 * address lookup); a temporary string of the moment may be lost with it.
 */

static struct loader	*oom_loader;	/* the load running, if any */

void
config_oom(void)
{
	if (oom_loader == NULL)
		fatalx("config: out of memory");
	longjmp(oom_loader->ld_oom, 1);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		config_oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		config_oom();
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		config_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		config_oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		config_oom();
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		config_oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---------------------------------------------------------------------
 * Small helpers.
 */

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
const char *
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

/* ---------------------------------------------------------------------
 * Problems: collected with their file order and line, sorted at the end.
 */

void
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
	pr->pr_order = ld->ld_nprobs;
	if (w->w_line > 0)
		pr->pr_msg = xasprintf("%s:%d: %s", w->w_file, w->w_line, msg);
	else
		pr->pr_msg = xasprintf("%s: %s", w->w_file, msg);
	ld->ld_nprobs++;	/* only once it is whole */
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

/* Equal messages together, each run in file order (the array is sorted). */
static int
problem_msg_cmp(const void *a, const void *b)
{
	const struct problem	*pa = *(struct problem *const *)a;
	const struct problem	*pb = *(struct problem *const *)b;
	int			 c;

	if ((c = strcmp(pa->pr_msg, pb->pr_msg)) != 0)
		return c;
	return pa < pb ? -1 : pa > pb;
}

/*
 * Hand the problems over in file order.  A default from the superd block
 * is checked once for every service that uses it: the same message at the
 * same place is reported once, where it comes first.  A file full of
 * errors makes many problems, so duplicates are found by sorting, not by
 * comparing each message with every earlier one.
 */
static void
problems_flush(struct loader *ld, struct conf_errors *errs)
{
	struct problem	**bymsg, *first;
	char		**grown;
	size_t		  i, n = ld->ld_nprobs, kept = 0;

	if (n > 1 && errs != NULL) {
		qsort(ld->ld_probs, n, sizeof(*ld->ld_probs), problem_cmp);
		/* Without room to sort them, duplicates stay. */
		if ((bymsg = calloc(n, sizeof(*bymsg))) == NULL)
			goto hand_over;
		for (i = 0; i < n; i++)
			bymsg[i] = &ld->ld_probs[i];
		qsort(bymsg, n, sizeof(*bymsg), problem_msg_cmp);
		for (first = bymsg[0], i = 1; i < n; i++) {
			if (strcmp(bymsg[i]->pr_msg, first->pr_msg) != 0) {
				first = bymsg[i];
				continue;
			}
			free(bymsg[i]->pr_msg);
			bymsg[i]->pr_msg = NULL;
		}
		free(bymsg);
	}
hand_over:
	for (i = 0; i < n; i++)
		kept += ld->ld_probs[i].pr_msg != NULL;
	if (errs != NULL && kept > 0 && (grown = reallocarray(errs->ce_msg,
	    errs->ce_count + kept, sizeof(*errs->ce_msg))) == NULL)
		errs = NULL;	/* no room: the load fails all the same */
	else if (errs != NULL && kept > 0)
		errs->ce_msg = grown;
	for (i = 0; i < n; i++) {
		if (errs == NULL)
			free(ld->ld_probs[i].pr_msg);
		else if (ld->ld_probs[i].pr_msg != NULL)
			errs->ce_msg[errs->ce_count++] = ld->ld_probs[i].pr_msg;
	}
	free(ld->ld_probs);
	ld->ld_probs = NULL;
	ld->ld_nprobs = 0;
}

static struct cfile *
cfile_of(struct loader *ld, const config_setting_t *s)
{
	struct lcfg	*lc = ld->ld_lc;
	size_t		 i;

	for (i = 0; i < lc->lc_nfiles; i++)
		if (&lc->lc_files[i]->cf_cfg == s->config)
			return lc->lc_files[i];
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
 * Parsing files: libconfig gets the text config_file.c read and checked.
 */

/*
 * Read, check and parse one file (oflags as read_text_flags takes them).
 * Returns NULL when it cannot be used; the problems are reported.
 */
static struct cfile *
cfile_load(struct loader *ld, const char *path, int seq, int oflags)
{
	struct lcfg	*lc = ld->ld_lc;
	struct cfile	*cf;
	struct where	 w;
	char		*text, *ef;

	if ((text = read_text_flags(ld, path, seq, oflags)) == NULL)
		return NULL;
	ld->ld_text = text;
	/* Each step leaves what it made where load_abandon() finds it. */
	lc->lc_files = xreallocarray(lc->lc_files, lc->lc_nfiles + 1,
	    sizeof(*lc->lc_files));
	cf = xcalloc(1, sizeof(*cf));
	config_init(&cf->cf_cfg);
	lc->lc_files[lc->lc_nfiles++] = cf;
	cf->cf_path = xstrdup(path);
	cf->cf_dir = dir_of(path);
	cf->cf_seq = seq;

	if (prescan(ld, path, cf->cf_dir, seq, text) == -1) {
		ld->ld_text = NULL;
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
		ld->ld_text = NULL;
		free(text);
		return NULL;
	}
	ld->ld_text = NULL;
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

const char *
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

int
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

enum builtin
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
	b->b_wait_own = b->b_own;
	b->b_wait_at = where_of(b->b_ld, s);
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

/* Where a setting finish_policy() checks came from. */
static void
policy_key_at(struct build *b, const config_setting_t *s, enum policy_key k)
{
	b->b_pk_set[k] = b->b_own ? 1 : 2;
	b->b_pk_at[k] = where_of(b->b_ld, s);
}

static int
key_per_source(struct build *b, const config_setting_t *s)
{
	policy_key_at(b, s, PK_PER_SOURCE);
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
	policy_key_at(b, s, PK_PER_SOURCE_RATE);
	return get_int(b, s, 0, INT_MAX, &b->b_sc->sc_per_source_rate);
}

static int
key_per_source_ipv6_prefix(struct build *b, const config_setting_t *s)
{
	policy_key_at(b, s, PK_IPV6_PREFIX);
	return get_int(b, s, 1, 128, &b->b_sc->sc_per_source_ipv6_prefix);
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
	policy_key_at(b, s, PK_ALLOW);
	return get_cidrs(b, s, &b->b_sc->sc_allow, &b->b_sc->sc_nallow);
}

static int
key_deny(struct build *b, const config_setting_t *s)
{
	policy_key_at(b, s, PK_DENY);
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
	char		*dir;

	if ((v = get_string(b, s)) == NULL || absolute(b, s, v) == -1)
		return -1;
	dir = xstrdup(v);	/* first: on no memory the old one stays */
	free(b->b_sc->sc_chdir);
	b->b_sc->sc_chdir = dir;
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
	b->b_proxy_own = b->b_own;
	b->b_proxy_at = where_of(b->b_ld, s);
	return get_bool(b, s, &b->b_sc->sc_proxy);
}

static int
key_proxy_from(struct build *b, const config_setting_t *s)
{
	b->b_proxy_from_set = 1;
	return get_cidrs(b, s, &b->b_sc->sc_proxy_from,
	    &b->b_sc->sc_nproxy_from);
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
	{ "per_source_ipv6_prefix", key_per_source_ipv6_prefix },
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
	{ "proxy_from",		key_proxy_from },
	{ "keepalive",		key_keepalive },
	{ "nodelay",		key_nodelay },
	{ "log_connections",	key_log_connections },
	{ "backlog",		key_backlog },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))
#define KEY_NAME 0
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");

int
key_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].k_name, name) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------------
 * Services.
 */

/* The loader holds it from the start (config_oom). */
static struct svc_conf *
svc_new(struct loader *ld)
{
	struct svc_conf	*sc;

	sc = ld->ld_wip = xcalloc(1, sizeof(*sc));
	sc->sc_proto = PROTO_TCP;
	sc->sc_socket_mode = 0666;
	sc->sc_socket_uid = (uid_t)-1;
	sc->sc_socket_gid = (gid_t)-1;
	sc->sc_instances = 128;
	sc->sc_per_source_ipv6_prefix = 64;
	sc->sc_chdir = xstrdup("/");
	sc->sc_stderr = STDERR_LOG;
	sc->sc_backlog = 128;
	sc->sc_log_connections = 1;
	return sc;
}

void
build_init(struct build *b, struct loader *ld, const struct where *at)
{
	memset(b, 0, sizeof(*b));
	b->b_ld = ld;
	b->b_sc = svc_new(ld);
	b->b_at = *at;
	b->b_family = AF_UNSPEC;
}

/* Once b_sc is in the conf (conf_add) or freed: the loader lets go. */
void
build_clear(struct build *b)
{
	free(b->b_addrs);
	free(b->b_args);
	b->b_ld->ld_wip = NULL;
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
			s = b->b_ld->ld_lc->lc_dflt[k];
			b->b_own = 0;
		} else
			s = NULL;
		if (s != NULL)
			keys[k].k_fn(b, s);
	}
}

/* The superd block's defaults alone, but for the keys skip[k] marks. */
void
build_defaults(struct build *b, const int *skip)
{
	build_apply(b, NULL, skip);
}

void
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

/* A note for the log and for superd -t, not an error. */
void
warning(struct loader *ld, const struct where *w, const char *fmt, ...)
{
	struct conf_errors	*cw = &ld->ld_conf->cf_warnings;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	cw->ce_msg = xreallocarray(cw->ce_msg, cw->ce_count + 1,
	    sizeof(*cw->ce_msg));
	if (w->w_line > 0)
		cw->ce_msg[cw->ce_count++] = xasprintf("%s:%d: %s", w->w_file,
		    w->w_line, msg);
	else
		cw->ce_msg[cw->ce_count++] = xasprintf("%s: %s", w->w_file,
		    msg);
	free(msg);
}

static const char *const policy_key_names[PK_COUNT] = {
	[PK_ALLOW] = "allow",
	[PK_DENY] = "deny",
	[PK_PER_SOURCE] = "per_source",
	[PK_PER_SOURCE_RATE] = "per_source_rate",
	[PK_IPV6_PREFIX] = "per_source_ipv6_prefix",
};

/* Whether the setting asks for anything (an empty list, a 0, do not). */
static int
policy_key_used(const struct svc_conf *sc, enum policy_key k)
{
	switch (k) {
	case PK_ALLOW:
		return sc->sc_nallow > 0;
	case PK_DENY:
		return sc->sc_ndeny > 0;
	case PK_PER_SOURCE:
		return sc->sc_per_source > 0;
	case PK_PER_SOURCE_RATE:
		return sc->sc_per_source_rate > 0;
	default:
		return 1;
	}
}

/*
 * Why superd cannot apply setting k to the service, or NULL.  A UDP wait
 * service counts its looping sources by per_source_ipv6_prefix
 * (looping.c).
 */
static const char *
policy_key_void(const struct svc_conf *sc, enum policy_key k)
{
	if (sc->sc_proto == PROTO_UNIX)
		return "unix services (a client has no address)";
	if (sc->sc_wait && sc->sc_builtin == BUILTIN_NONE &&
	    !(k == PK_IPV6_PREFIX && sc->sc_proto == PROTO_UDP))
		return "wait services (the program takes its clients itself)";
	if (sc->sc_proto == PROTO_UDP && k == PK_PER_SOURCE)
		return "udp builtins (a datagram starts no instance)";
	return NULL;
}

/*
 * superd reads a PROXY header only where it accepts the connection itself
 * (a nowait TCP service), and believes it only from the peers in
 * proxy_from: without that list any client could claim any address.
 */
static void
finish_proxy(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;
	const char	*why = NULL;

	if (!sc->sc_proxy)
		return;
	if (sc->sc_proto == PROTO_UDP)
		why = "udp services (a datagram carries no header)";
	else if (sc->sc_wait && sc->sc_builtin == BUILTIN_NONE)
		why = "wait services (the program takes its clients itself)";
	if (why != NULL && b->b_proxy_own)
		problem(b->b_ld, &b->b_proxy_at, "\"proxy_protocol\" does not "
		    "apply to %s", why);
	else if (why != NULL)
		warning(b->b_ld, &b->b_proxy_at, "\"proxy_protocol\" of the "
		    "superd block does not apply to service \"%s\": %s; "
		    "ignored there", sc->sc_name != NULL ? sc->sc_name : "?",
		    why);
	else if (sc->sc_nproxy_from == 0 && !b->b_proxy_from_set)
		problem(b->b_ld, b->b_proxy_own ? &b->b_proxy_at : &b->b_at,
		    "\"proxy_protocol\" needs \"proxy_from\", the proxies "
		    "trusted to send a header");
	if (why != NULL)
		sc->sc_proxy = 0;
}

/*
 * What superd cannot do for this service must not pass as done.  A udp
 * program is always a wait service: superd cannot hand it one datagram,
 * and accept() on its socket would only fail, again and again.  Written
 * in the service, either is an error at the setting's line; from the
 * superd block (or an inetd.conf line) a warning naming the service, so
 * that a default stays usable and an inetd.conf line is still served.
 */
void
finish_policy(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;
	const char	*name = sc->sc_name != NULL ? sc->sc_name : "?";
	const char	*why;
	int		 k;

	if (sc->sc_proto == PROTO_UDP && !sc->sc_wait &&
	    sc->sc_builtin == BUILTIN_NONE && b->b_prog_set) {
		if (b->b_wait_own)
			problem(b->b_ld, &b->b_wait_at, "\"wait\" = false: a "
			    "udp program must be a wait service");
		else
			warning(b->b_ld, &b->b_wait_at, "udp service \"%s\" "
			    "runs a program: nowait is not possible, served as "
			    "wait", name);
		sc->sc_wait = 1;
	}
	finish_proxy(b);
	for (k = 0; k < PK_COUNT; k++) {
		if (b->b_pk_set[k] == 0 || !policy_key_used(sc, k) ||
		    (why = policy_key_void(sc, k)) == NULL)
			continue;
		if (b->b_pk_set[k] == 1)
			problem(b->b_ld, &b->b_pk_at[k], "\"%s\" does not "
			    "apply to %s", policy_key_names[k], why);
		else if (k != PK_IPV6_PREFIX)
			warning(b->b_ld, &b->b_pk_at[k], "\"%s\" of the superd "
			    "block does not apply to service \"%s\": %s; "
			    "ignored there", policy_key_names[k], name, why);
	}
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
	build_finish(&b);
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
	svc_conf_free(b.b_sc);
	build_clear(&b);
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
	char	*copy;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		serr(ld, s, "\"%s\" must be a string", config_setting_name(s));
		return -1;
	}
	copy = xstrdup(config_setting_get_string(s));
	free(*dst);
	*dst = copy;
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
				ld->ld_lc->lc_include_at = s;
			global_relative(ld, &cf->cf_include);
		} else if (strcmp(name, "inetd_conf") == 0) {
			if (global_string(ld, s, &cf->cf_inetd_conf) == 0)
				ld->ld_lc->lc_inetd_at = s;
			global_relative(ld, &cf->cf_inetd_conf);
		} else if ((k = key_index(name)) > KEY_NAME)
			ld->ld_lc->lc_dflt[k] = s;
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

/*
 * Every regular *.conf of the include directory, in strcmp order, none
 * through a symbolic link.
 */
static void
include_load(struct loader *ld)
{
	const char	*dir = ld->ld_conf->cf_include;
	struct cfile	*cf;
	char		**names, why[128];
	size_t		 n, i;

	if (include_list(ld, dir, &names, &n, why, sizeof(why)) == -1) {
		serr(ld, ld->ld_lc->lc_include_at, "include \"%s\": %s", dir,
		    why);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((cf = cfile_load(ld, names[i], (int)i + 1,
		    O_NOFOLLOW)) != NULL)
			top_load(ld, cf, 0);
		free(names[i]);
	}
	free(names);
	ld->ld_inetd_seq = (int)n + 1;
}

/*
 * As root, inetd.conf's directory is held to the rule of the file itself:
 * whoever could write it could put another inetd.conf in its place.  An
 * unsafe directory is an error, like an unsafe inetd.conf.
 */
static int
inetd_dir_safe(struct loader *ld)
{
	const char	*path = ld->ld_conf->cf_inetd_conf, *unsafe;
	char		*dir, why[64];

	dir = dir_of(path);
	if ((unsafe = dir_unsafe(ld, dir, why, sizeof(why))) != NULL)
		serr(ld, ld->ld_lc->lc_inetd_at, "inetd_conf \"%s\": directory "
		    "%s: %s", path, dir, unsafe);
	free(dir);
	return unsafe == NULL;
}

/* ---------------------------------------------------------------------
 * The interface.
 */

/* What the load holds besides the conf; the problems are handed over. */
static void
loader_end(struct loader *ld, struct conf_errors *errs)
{
	struct lcfg	*lc = ld->ld_lc;
	size_t		 i;

	problems_flush(ld, errs);
	for (i = 0; i < lc->lc_nfiles; i++)
		cfile_free(lc->lc_files[i]);
	free(lc->lc_files);
	for (i = 0; i < ld->ld_nstrs; i++)
		free(ld->ld_strs[i]);
	free(ld->ld_strs);
	free(ld->ld_named);
}

/* The service being built, unless it is already the conf's. */
static void
loader_drop_wip(struct loader *ld)
{
	struct conf	*cf = ld->ld_conf;
	size_t		 i;

	if (ld->ld_wip == NULL || cf == NULL)
		return;
	for (i = 0; i < cf->cf_nsvcs; i++)
		if (cf->cf_svcs[i] == ld->ld_wip)
			return;
	svc_conf_free(ld->ld_wip);
	ld->ld_wip = NULL;
}

/*
 * Out of memory part way: everything is let go, and the one problem
 * reported is that, if even its message can be made.
 */
static void
load_abandon(struct loader *ld, const char *path, struct conf_errors *errs)
{
	char	*msg, **grown;

	if (ld->ld_fd != -1)
		close(ld->ld_fd);
	if (ld->ld_dir != NULL)
		closedir(ld->ld_dir);
	if (ld->ld_ai != NULL)
		freeaddrinfo(ld->ld_ai);
	free(ld->ld_text);
	loader_drop_wip(ld);
	loader_end(ld, NULL);
	config_free(ld->ld_conf);
	errno = ENOMEM;
	if (errs == NULL || asprintf(&msg, "%s: out of memory", path) == -1)
		return;
	if ((grown = reallocarray(errs->ce_msg, errs->ce_count + 1,
	    sizeof(*grown))) == NULL) {
		free(msg);
		return;
	}
	errs->ce_msg = grown;
	errs->ce_msg[errs->ce_count++] = msg;
	errno = ENOMEM;
}

static void
load_all(struct loader *ld, const char *path)
{
	struct conf	*cf;
	struct cfile	*main_cf;

	cf = ld->ld_conf = xcalloc(1, sizeof(*cf));
	cf->cf_file = xstrdup(path);
	cf->cf_pidfile = xstrdup("/run/superd.pid");
	cf->cf_ports = xstrdup("/run/superd.ports");
	cf->cf_facility = LOG_DAEMON;
	cf->cf_include = xstrdup("");
	cf->cf_inetd_conf = xstrdup("");
	if ((main_cf = cfile_load(ld, path, 0, 0)) == NULL)
		return;
	top_load(ld, main_cf, 1);
	if (cf->cf_include[0] != '\0' && ld->ld_lc->lc_include_at != NULL)
		include_load(ld);
	ld->ld_nmain = cf->cf_nsvcs;
	if (cf->cf_inetd_conf[0] != '\0' && ld->ld_lc->lc_inetd_at != NULL &&
	    inetd_dir_safe(ld))
		inetd_load(ld);
	check_services(ld);
}

/*
 * The loader lives outside the stack frame that calls setjmp(), so its
 * contents are sure after a longjmp(); superd loads one file at a time.
 */
struct conf *
config_load(const char *path, struct conf_errors *errs)
{
	static struct loader	 ld;
	static struct lcfg	 lc;
	struct conf		*cf;

	memset(&ld, 0, sizeof(ld));
	memset(&lc, 0, sizeof(lc));
	ld.ld_lc = &lc;
	ld.ld_root = geteuid() == 0;
	ld.ld_inet6 = have_inet6();
	ld.ld_inetd_seq = 1;
	ld.ld_fd = -1;
	if (setjmp(ld.ld_oom) != 0) {
		oom_loader = NULL;
		load_abandon(&ld, path, errs);
		return NULL;
	}
	oom_loader = &ld;
	load_all(&ld, path);
	oom_loader = NULL;
	cf = ld.ld_conf;
	if (ld.ld_nprobs > 0) {
		config_free(cf);
		cf = NULL;
	}
	loader_end(&ld, errs);
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
	free(sc->sc_proxy_from);
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
