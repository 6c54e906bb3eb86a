/*
 * config_keys.c - the settings of a service, one function per key, and
 * the service they build.
 *
 * build_init() starts a service from superd's own defaults; build_apply()
 * applies each key of the table, in order, from the service's own
 * settings or else from the superd block's; config_resolve.c finishes
 * the service and conf_add() hands it to the conf.  A key's function
 * checks its value and notes where it was written, for the checks that
 * need several settings at once.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "config_int.h"
#include "config_lcfg.h"

typedef int	(*key_fn)(struct build *, const config_setting_t *);

struct key {
	const char	*k_name;
	key_fn		 k_fn;
};

/* ---------------------------------------------------------------------
 * What several keys do alike.
 */

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
	if (proto_parse(v, &b->b_sc->sc_proto) == -1) {
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
	if ((v = get_path(b, s)) == NULL)
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

	if ((v = get_path(b, s)) == NULL)
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
 * depends on it (port, path), chroot before server (looked at inside
 * it), server and builtin before args.
 */
static const struct key keys[] = {
	{ "name",		key_name },
	{ "protocol",		key_protocol },
	{ "tcpmux",		key_tcpmux },
	{ "disabled",		key_disabled },
	{ "chroot",		key_chroot },	/* before server: inside it */
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
	{ "no_new_privs",	key_no_new_privs },
	{ "capabilities",	key_capabilities },
	{ "private_tmp",	key_private_tmp },
	{ "private_network",	key_private_network },
	{ "read_only",		key_read_only },
	{ "writable",		key_writable },
	{ "proxy_protocol",	key_proxy_protocol },
	{ "proxy_from",		key_proxy_from },
	{ "keepalive",		key_keepalive },
	{ "nodelay",		key_nodelay },
	{ "log_connections",	key_log_connections },
	{ "backlog",		key_backlog },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))
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
 * A service built.
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
void
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
