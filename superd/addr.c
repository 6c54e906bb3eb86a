/*
 * addr.c - socket addresses as a service and the log see them.
 *
 * Pure apart from peer_fill(), which asks the kernel, and the name of a
 * scope's interface.  An IPv4 client on a dual-stack socket arrives as
 * ::ffff:a.b.c.d; everything superd shows or matches uses the plain IPv4
 * form.  A link-local IPv6 address is only whole with its scope: the log
 * and the ports file show it as fe80::1%eth0 (RFC 4007), as getaddrinfo
 * reads it back.  A program's environment and allow/deny see the address
 * alone, the form tcpserver's TCPREMOTEIP has always had, which
 * inet_pton(3) reads.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"

/* Rewrites an IPv4-mapped IPv6 address as the IPv4 address it carries. */
void
addr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	if (ss->ss_family != AF_INET6)
		return;
	memcpy(&sin6, ss, sizeof(sin6));
	if (!IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr))
		return;
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = sin6.sin6_port;
	memcpy(&sin->sin_addr, &sin6.sin6_addr.s6_addr[12], 4);
	*len = sizeof(*sin);
}

/* Appends "%IFNAME" (or "%INDEX" for an interface without a name). */
static void
scope_append(uint32_t scope, char *buf, size_t size)
{
	char	 ifname[IF_NAMESIZE];
	size_t	 len = strlen(buf);

	if (if_indextoname(scope, ifname) != NULL)
		snprintf(buf + len, size - len, "%%%s", ifname);
	else
		snprintf(buf + len, size - len, "%%%u", (unsigned)scope);
}

static int
format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size,
    unsigned *port, int scoped)
{
	uint32_t		 scope = 0;
	struct sockaddr_storage	 ss;
	const void		*raw;

	if (len > sizeof(ss) || size == 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	addr_unmap(&ss, &len);
	if (port != NULL)
		*port = 0;
	switch (ss.ss_family) {
	case AF_INET:
		raw = &((struct sockaddr_in *)&ss)->sin_addr;
		if (port != NULL)
			*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		break;
	case AF_INET6:
		raw = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		scope = ((struct sockaddr_in6 *)&ss)->sin6_scope_id;
		if (port != NULL)
			*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		break;
	case AF_UNIX:
		snprintf(buf, size, "unix");
		return 0;
	default:
		snprintf(buf, size, "?");
		return -1;
	}
	if (inet_ntop(ss.ss_family, raw, buf, size) == NULL) {
		snprintf(buf, size, "?");
		return -1;
	}
	if (scoped && scope != 0)
		scope_append(scope, buf, size);
	return 0;
}

/*
 * Writes the numeric address (IPv6 without brackets, mapped IPv4 dotted,
 * a scope id as %IFNAME) into buf and its port into *port (0 when it has
 * none).
 */
int
addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size,
    unsigned *port)
{
	return format(sa, len, buf, size, port, 1);
}

/* Whether the address is a wildcard (0.0.0.0 or ::), whose connections
 * each have their own local address. */
static int
addr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 1;
}

/*
 * Fills in both ends of the connection on fd; fails when the client is
 * already gone (getpeername is also how a connection reset while it
 * waited in the backlog is noticed, before an instance starts for it).
 * local is the listener's bound address, which is the connection's own
 * unless it is a wildcard: only then does the kernel have to be asked.
 */
int
peer_fill(struct peer *pe, int fd, enum proto proto,
    const struct sockaddr_storage *local, socklen_t llen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct ucred		 cred;

	memset(pe, 0, sizeof(*pe));
	pe->pe_proto = proto;
	if (proto == PROTO_UNIX) {
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
			return -1;
		pe->pe_pid = cred.pid;
		pe->pe_uid = cred.uid;
		pe->pe_gid = cred.gid;
		snprintf(pe->pe_remote_ip, sizeof(pe->pe_remote_ip),
		    "pid %ld", (long)cred.pid);
		return 0;
	}
	if (local == NULL || llen == 0 || addr_is_any(local)) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			return -1;
		local = &ss;
		llen = len;
	}
	format((const struct sockaddr *)local, llen, pe->pe_local_ip,
	    sizeof(pe->pe_local_ip), &pe->pe_local_port, 0);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	format((const struct sockaddr *)&ss, len, pe->pe_remote_ip,
	    sizeof(pe->pe_remote_ip), &pe->pe_remote_port, 0);
	return 0;
}
