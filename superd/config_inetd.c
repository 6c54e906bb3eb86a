/*
 * config_inetd.c - a classic inetd.conf: each line taken apart, each
 * entry made a service.
 *
 *	[addr:]service socket-type protocol wait|nowait[.max] user[:group]
 *	    program|internal [argv0 [args ...]]
 *
 * inetd_parse_line() is pure: it takes a line apart in place, the entry
 * pointing into it, and looks no name up.  A line that is well formed but
 * asks for what superd does not serve (Sun RPC, a raw or seqpacket
 * socket, a protocol other than TCP and UDP) is INETD_SKIP, not an error:
 * packages add such lines through update-inetd, and one of them must not
 * stop superd from starting or reloading.
 *
 * An entry then gets the superd block's defaults for what the line does
 * not carry, and is finished and checked like a service of superd.conf.
 * A line for a name and protocol that an enabled service of superd.conf
 * has is left to superd.conf.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"

#define INETD_FIELDS_MAX	128

/* ---------------------------------------------------------------------
 * A line taken apart.
 */

static int
split(char *line, char **fields, int max)
{
	char	*p = line;
	int	 n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || n == max)
			return *p == '\0' ? n : -1;
		fields[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/*
 * "addr:service", "[v6addr]:service" or "service"; "tcpmux/NAME" and
 * "tcpmux/+NAME" name a service reached only through tcpmux.
 */
static void
parse_service(char *s, struct inetd_ent *ie)
{
	char	*colon, *end;

	if ((colon = strrchr(s, ':')) != NULL) {
		*colon = '\0';
		ie->ie_addr = s;
		if (s[0] == '[' && (end = strchr(s, ']')) != NULL &&
		    end[1] == '\0') {
			*end = '\0';
			ie->ie_addr = s + 1;
		}
		s = colon + 1;
	}
	if (strncmp(s, "tcpmux/", 7) == 0) {
		ie->ie_tcpmux = 1;
		s += 7;
		if (*s == '+')
			s++;
	}
	ie->ie_name = s;
}

/*
 * 0, -1 for a malformed pair (a stream socket over UDP), or INETD_SKIP
 * for a socket type or protocol superd does not serve.
 */
static int
parse_proto(const char *socktype, const char *proto, struct inetd_ent *ie,
    char *err, size_t errlen)
{
	static const struct {
		const char	*pr_name;
		enum proto	 pr_proto;
		int		 pr_family;
	} protos[] = {
		{ "tcp", PROTO_TCP, AF_UNSPEC }, { "tcp46", PROTO_TCP, AF_UNSPEC },
		{ "tcp4", PROTO_TCP, AF_INET }, { "tcp6", PROTO_TCP, AF_INET6 },
		{ "udp", PROTO_UDP, AF_UNSPEC }, { "udp46", PROTO_UDP, AF_UNSPEC },
		{ "udp4", PROTO_UDP, AF_INET }, { "udp6", PROTO_UDP, AF_INET6 },
	};
	size_t	 i;

	if (strncmp(proto, "rpc/", 4) == 0) {
		snprintf(err, errlen, "Sun RPC (protocol %s) is not served",
		    proto);
		return INETD_SKIP;
	}
	if (strcmp(socktype, "stream") != 0 && strcmp(socktype, "dgram") != 0) {
		snprintf(err, errlen, "socket type \"%s\" is not served (only "
		    "stream and dgram)", socktype);
		return INETD_SKIP;
	}
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(protos[i].pr_name, proto) == 0)
			break;
	if (i == sizeof(protos) / sizeof(protos[0])) {
		snprintf(err, errlen, "protocol \"%s\" is not served (only tcp, "
		    "udp, tcp4, udp4, tcp6 and udp6)", proto);
		return INETD_SKIP;
	}
	ie->ie_proto = protos[i].pr_proto;
	ie->ie_family = protos[i].pr_family;
	if ((ie->ie_proto == PROTO_TCP) != (strcmp(socktype, "stream") == 0)) {
		snprintf(err, errlen, "socket type %s does not go with "
		    "protocol %s", socktype, proto);
		return -1;
	}
	return 0;
}

/* wait, nowait, wait.MAX, nowait.MAX */
static int
parse_wait(char *s, struct inetd_ent *ie, char *err, size_t errlen)
{
	char		*dot, *end;
	long		 max;

	if ((dot = strchr(s, '.')) != NULL) {
		*dot++ = '\0';
		max = strtol(dot, &end, 10);
		if (!isdigit((unsigned char)*dot) || *end != '\0' ||
		    max < 1 || max > INT_MAX) {
			snprintf(err, errlen, "\"%s.%s\": the maximum must be "
			    "a positive number", s, dot);
			return -1;
		}
		ie->ie_max = (int)max;
	}
	if (strcmp(s, "wait") == 0)
		ie->ie_wait = 1;
	else if (strcmp(s, "nowait") == 0)
		ie->ie_wait = 0;
	else {
		snprintf(err, errlen, "\"%s\": want wait or nowait", s);
		return -1;
	}
	return 0;
}

/* user, user:group, user.group; a login class after '/' is ignored. */
static int
parse_user(char *s, struct inetd_ent *ie, char *err, size_t errlen)
{
	char	*sep, *slash;

	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
	if ((sep = strchr(s, ':')) != NULL || (sep = strchr(s, '.')) != NULL) {
		*sep++ = '\0';
		ie->ie_group = sep;
	}
	ie->ie_user = s;
	if (*s == '\0' || (ie->ie_group != NULL && *ie->ie_group == '\0')) {
		snprintf(err, errlen, "empty user or group");
		return -1;
	}
	return 0;
}

int
inetd_parse_line(char *line, struct inetd_ent *ie, char *err, size_t errlen)
{
	char	*f[INETD_FIELDS_MAX];
	size_t	 len;
	int	 n, i, rc;

	memset(ie, 0, sizeof(*ie));
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if ((n = split(line, f, INETD_FIELDS_MAX)) == -1) {
		snprintf(err, errlen, "more than %d fields", INETD_FIELDS_MAX);
		return -1;
	}
	if (n == 0 || f[0][0] == '#')
		return INETD_NONE;
	/* OpenBSD: a lone "host:" sets the address of the lines after it */
	if (n == 1 && (len = strlen(f[0])) > 1 && f[0][len - 1] == ':') {
		f[0][len - 1] = '\0';
		ie->ie_addr = f[0];
		return INETD_ADDR;
	}
	if (n < 6) {
		snprintf(err, errlen, "%d fields, want at least 6: service "
		    "socket-type protocol wait/nowait user program ...", n);
		return -1;
	}
	parse_service(f[0], ie);
	if (*ie->ie_name == '\0') {
		snprintf(err, errlen, "no service name");
		return -1;
	}
	/* A line superd does not serve must still be a well-formed line. */
	if (parse_wait(f[3], ie, err, errlen) == -1 ||
	    parse_user(f[4], ie, err, errlen) == -1 ||
	    (rc = parse_proto(f[1], f[2], ie, err, errlen)) == -1)
		return -1;
	if (rc == INETD_SKIP)
		return INETD_SKIP;
	if (strcmp(f[5], "internal") != 0)
		ie->ie_program = f[5];
	ie->ie_argc = ie->ie_program != NULL ? n - 6 : 0;
	if ((ie->ie_argv = calloc(ie->ie_argc + 1, sizeof(char *))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < ie->ie_argc; i++)
		ie->ie_argv[i] = f[6 + i];
	return INETD_ENTRY;
}

void
inetd_ent_clear(struct inetd_ent *ie)
{
	free(ie->ie_argv);
	memset(ie, 0, sizeof(*ie));
}

/* ---------------------------------------------------------------------
 * An entry made a service.
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

/*
 * The keys a line carries, and those of confinement, which a line of
 * inetd.conf does not get: the superd block's defaults do not apply.
 */
static void
inetd_skip(const struct inetd_ent *ie, const char *addr, int *skip)
{
	static const char *const carried[] = {
		"name", "protocol", "wait", "user", "group", "server",
		"builtin", "args", "argv0", "port", "chroot", "no_new_privs",
		"capabilities", "private_tmp", "private_network", "read_only",
		"writable",
	};
	size_t	 i;

	memset(skip, 0, CONFIG_KEYS_MAX * sizeof(*skip));
	for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		skip[key_index(carried[i])] = 1;
	if (addr != NULL || ie->ie_family != AF_UNSPEC)
		skip[key_index("address")] = 1;
	if (ie->ie_max > 0)
		skip[key_index("instances")] = 1;
	if (ie->ie_tcpmux)
		skip[key_index("tcpmux")] = 1;
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
	int		 skip[CONFIG_KEYS_MAX];

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
	build_defaults(&b, skip);
	b.b_name_at = ifl->if_at;
	sc->sc_name = xstrdup(ie->ie_name);
	sc->sc_proto = ie->ie_proto;
	sc->sc_wait = ie->ie_wait;
	b.b_wait_set = 1;
	b.b_wait_at = ifl->if_at;
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
	build_finish(&b);
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
	case INETD_SKIP:
		/* Never fatal: a package's line must not stop superd. */
		warn_add(ifl->if_ld->ld_conf, "%s:%d: %s, line skipped",
		    ifl->if_at.w_file, ifl->if_at.w_line, err);
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
void
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
	ld->ld_text = text;	/* freed by load_abandon() on no memory */
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
	ld->ld_text = NULL;
	free(text);
}
