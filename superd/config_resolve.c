/*
 * config_resolve.c - finishing a service: what needs several of its
 * settings at once, and the system's answer to the names they give.
 *
 * What superd cannot do for the service is caught here (a udp program
 * that would not wait, a PROXY header or a client address where there is
 * none).  Users and groups become ids, a port name and the hosts of
 * `address` become bind addresses, the program is looked at on disk and
 * its argv built.  The same for a service of superd.conf and a line of
 * inetd.conf; what is wrong goes to the loader as a problem at its
 * setting's line.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"

/*
 * The program: an absolute path of an executable regular file, inside
 * the service's chroot when it has one (chroot is applied first).
 */
int
check_server(struct build *b, const struct where *w, const char *v)
{
	struct stat	 st;
	const char	*root = b->b_sc->sc_chroot;
	char		*path;
	int		 rc = -1;

	b->b_prog_set = 1;
	if (v[0] != '/') {
		problem(b->b_ld, w, "server \"%s\" is not an absolute path", v);
		return -1;
	}
	path = root != NULL ? xasprintf("%s%s", root, v) : xstrdup(v);
	if (stat(path, &st) == -1)
		problem(b->b_ld, w, "server \"%s\"%s%s: %s", v,
		    root != NULL ? " in chroot " : "", root != NULL ? root : "",
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problem(b->b_ld, w, "server \"%s\" is not a regular file", v);
	else if ((st.st_mode & 0111) == 0 || access(path, X_OK) == -1)
		problem(b->b_ld, w, "server \"%s\" is not executable", v);
	else {
		b->b_sc->sc_server = xstrdup(v);
		rc = 0;
	}
	free(path);
	return rc;
}

/*
 * A start opens the chroot and the writable paths following no symbolic
 * link (exec.c), so one on the way (a system's /var/run, say) would fail
 * every start: it is named here instead.  path is under root when root
 * is not NULL.  A part that is missing is left for the start to report.
 */
int
check_no_link(struct build *b, const struct where *w, const char *what,
    const char *root, const char *path)
{
	struct stat	 st;
	char		*full, *end, c;
	int		 rc = 0;

	full = xasprintf("%s%s", root != NULL ? root : "", path);
	for (end = full + 1; rc == 0; end++) {
		if (*end != '/' && *end != '\0')
			continue;
		c = *end;
		*end = '\0';
		if (lstat(full, &st) == -1)
			break;
		if (S_ISLNK(st.st_mode)) {
			problem(b->b_ld, w, "%s \"%s\": %s is a symbolic link, "
			    "which a start does not follow", what, path, full);
			rc = -1;
		}
		if (c == '\0')
			break;
		*end = c;
	}
	free(full);
	return rc;
}

/*
 * The root of a confined service: a directory itself, not a symbolic
 * link nor reached through one, that no one but its owner can change
 * under the service.
 */
int
check_chroot(struct build *b, const struct where *w, const char *v)
{
	struct stat	 st;
	char		*dir;

	if (lstat(v, &st) == -1) {
		problem(b->b_ld, w, "chroot \"%s\": %s", v, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		problem(b->b_ld, w, "chroot \"%s\" is a symbolic link", v);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem(b->b_ld, w, "chroot \"%s\" is not a directory", v);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		problem(b->b_ld, w, "chroot \"%s\": mode %04o is writable by "
		    "group or others", v, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (check_no_link(b, w, "chroot", NULL, v) == -1)
		return -1;
	dir = xstrdup(v);	/* first: on no memory the old one stays */
	free(b->b_sc->sc_chroot);
	b->b_sc->sc_chroot = dir;
	return 0;
}

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
void
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

int
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
	b->b_ld->ld_ai = res;	/* freed by load_abandon() on no memory */
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
	b->b_ld->ld_ai = NULL;
	freeaddrinfo(res);
	if (!found)
		problem(b->b_ld, &b->b_addr_at, "address \"%s\": no IPv4 or "
		    "usable IPv6 address", host);
}

void
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
	else if (sc->sc_proto == PROTO_UNIX)	/* no proxy_from could match */
		why = "unix services (a client has no address)";
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
static void
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
 * What needs several settings at once, for a service of superd.conf or a
 * line of inetd.conf alike.
 */
void
build_finish(struct build *b)
{
	struct svc_conf	*sc = b->b_sc;

	if (sc->sc_name == NULL && b->b_name_at.w_line == 0)
		problem(b->b_ld, &b->b_at, "service has no name");
	finish_program(b);
	if (!b->b_wait_set)
		sc->sc_wait = sc->sc_proto == PROTO_UDP;
	finish_policy(b);
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
	if (sc->sc_writable != NULL && !sc->sc_read_only)
		problem(b->b_ld, &b->b_writable_at, "\"writable\" applies only "
		    "with read_only = true");
	finish_identity(b);
}
