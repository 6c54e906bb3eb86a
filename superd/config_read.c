/*
 * config_read.c - libconfig's side of reading: files parsed, settings
 * placed, values typed.
 *
 * libconfig parses the text that config_file.c read and checked; each
 * parsed file is kept until the load ends, as the superd block's
 * defaults point into it.  where_of() gives a setting's file and line,
 * serr() a problem there, and the getters report a setting of the wrong
 * type (or out of range) at its line.
 */
#include <sys/types.h>

#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "config_int.h"
#include "config_lcfg.h"

/* ---------------------------------------------------------------------
 * Where a setting is.
 */

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
struct where
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

void
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

/* ---------------------------------------------------------------------
 * Parsing files: libconfig gets the text config_file.c read and checked.
 */

/*
 * Read, check and parse one file (oflags as read_text_flags takes them).
 * Returns NULL when it cannot be used; the problems are reported.
 */
struct cfile *
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
	/* libconfig opens each @include itself, by path, after prescan()
	 * checked it: path_unsafe() is what makes that second read safe. */
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

void
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

const char *
get_string(struct build *b, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		serr(b->b_ld, s, "\"%s\" must be a string",
		    config_setting_name(s));
		return NULL;
	}
	return config_setting_get_string(s);
}

/* A string that must be an absolute path. */
const char *
get_path(struct build *b, const config_setting_t *s)
{
	const char	*v;

	if ((v = get_string(b, s)) == NULL)
		return NULL;
	if (v[0] != '/') {
		serr(b->b_ld, s, "%s \"%s\" is not an absolute path",
		    config_setting_name(s), v);
		return NULL;
	}
	return v;
}

int
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

int
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* An integer in [min, max]. */
int
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
const char **
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
