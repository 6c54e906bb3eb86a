/*
 * config.c - the configuration file: libconfig text in, struct conf out.
 *
 * config_load() reads the main file, the files of the include directory
 * and a classic inetd.conf, checks every setting, resolves names (ports,
 * addresses, users, groups) and returns a plain-C struct conf, or NULL
 * with every problem found as "FILE:LINE: message".  It binds nothing
 * and writes nothing, so superd -t and a reload can call it freely.
 *
 * This file owns the load: the top level of each file, the superd block,
 * the services lists, and the struct conf handed out and freed.  Its
 * parts, each calling only the ones after it: config_inetd.c (inetd.conf
 * lines), config_keys.c (one function per setting; a service built),
 * config_confine.c (the confinement settings), config_read.c
 * (libconfig's files and typed getters), config_file.c (files read into
 * memory and pre-scanned), config_resolve.c (a service
 * finished against its other settings and the system), config_check.c
 * (checks across services) and config_plumb.c (memory, problems, names,
 * parsers), which calls none of them.  config_int.h is what they share;
 * config_lcfg.h what the four that see libconfig share: this file,
 * config_keys.c, config_confine.c and config_read.c.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"
#include "config_lcfg.h"

/* ---------------------------------------------------------------------
 * Services lists.
 */

/*
 * One `{ ... }` of a services list.  A service that names its own program
 * (server or builtin) takes none of the program settings of the superd
 * block: a default args list belongs to the default server.
 */
static void
service_load(struct loader *ld, const config_setting_t *g)
{
	const config_setting_t	*own[CONFIG_KEYS_MAX], *s;
	struct build		 b;
	struct where		 at;
	int			 i, k, skip[CONFIG_KEYS_MAX];

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
	char		**names, why[UNSAFE_MAX];
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
 * whoever could write it, or any directory above it, could put another
 * inetd.conf in its place.  An unsafe directory is an error, like an
 * unsafe inetd.conf.
 */
static int
inetd_dir_safe(struct loader *ld)
{
	const char	*path = ld->ld_conf->cf_inetd_conf, *unsafe;
	char		 why[UNSAFE_MAX];

	if ((unsafe = path_unsafe(ld, path, why, sizeof(why))) != NULL)
		serr(ld, ld->ld_lc->lc_inetd_at, "inetd_conf \"%s\": %s", path,
		    unsafe);
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
		oom_loader_set(NULL);
		load_abandon(&ld, path, errs);
		return NULL;
	}
	oom_loader_set(&ld);
	load_all(&ld, path);
	oom_loader_set(NULL);
	cf = ld.ld_conf;
	if (ld.ld_nprobs > 0) {
		config_free(cf);
		cf = NULL;
	}
	loader_end(&ld, errs);
	return cf;
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
	free(sc->sc_chroot);
	strv_free(sc->sc_writable);
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
