/*
 * inetd.c - one line of a classic inetd.conf, taken apart.
 *
 *	[addr:]service socket-type protocol wait|nowait[.max] user[:group]
 *	    program|internal [argv0 [args ...]]
 *
 * Pure: no name is looked up here.  config_inetd.c turns an entry into a
 * service with superd's defaults, resolves it and checks it like any
 * other.  The line is taken apart in place; the entry points into it.
 *
 * A line that is well formed but asks for what superd does not serve (Sun
 * RPC, a raw or seqpacket socket, a protocol other than TCP and UDP) is
 * INETD_SKIP, not an error: packages add such lines through update-inetd,
 * and one of them must not stop superd from starting or reloading.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

#define INETD_FIELDS_MAX	128

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
