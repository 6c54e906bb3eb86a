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
 * inet_pton(3) reads.  The per-source key of a client (struct srckey)
 * is built, and shown as the log names it, here too: per-source limits
 * count an IPv6 client by a prefix of its address, since one host may
 * hold a whole /64 and pick a fresh address for every connection.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"

/* The protocols' names, as the configuration and the log spell them. */
static const char *const proto_names[] = {
	[PROTO_TCP] = "tcp",
	[PROTO_UDP] = "udp",
	[PROTO_UNIX] = "unix"
};

const char *
proto_name(enum proto p)
{
	return proto_names[p];
}

/* The protocol named s: 0, or -1 when s names none. */
int
proto_parse(const char *s, enum proto *p)
{
	size_t	 i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(s, proto_names[i]) == 0) {
			*p = (enum proto)i;
			return 0;
		}
	return -1;
}

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

/*
 * The key of a numeric address (IPv4, IPv6 or IPv4-mapped; an IPv6 scope
 * such as "%eth0" is no part of it); -1 if none.
 */
int
addr_key(const char *text, struct srckey *key)
{
	char	 buf[INET6_ADDRSTRLEN];
	size_t	 n = strcspn(text, "%");

	memset(key, 0, sizeof(*key));
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	text = buf;
	if (inet_pton(AF_INET, text, key->sk_addr) == 1)
		key->sk_family = AF_INET;
	else if (inet_pton(AF_INET6, text, key->sk_addr) == 1) {
		key->sk_family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)key->sk_addr)) {
			memmove(key->sk_addr, key->sk_addr + 12, 4);
			memset(key->sk_addr + 4, 0, 12);
			key->sk_family = AF_INET;
		}
	} else
		return -1;
	return 0;
}

/* The key of a socket address, without a detour through text. */
int
addr_key_sa(const struct sockaddr_storage *from, socklen_t len,
    struct srckey *key)
{
	struct sockaddr_storage	 ss = *from;

	memset(key, 0, sizeof(*key));
	addr_unmap(&ss, &len);
	if (ss.ss_family == AF_INET)
		memcpy(key->sk_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(key->sk_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    16);
	else
		return -1;
	key->sk_family = ss.ss_family;
	return 0;
}

/* Clears an IPv6 key's bits beyond prefix (1..128); IPv4 stays whole. */
void
addr_key_mask(struct srckey *key, int prefix)
{
	int	 i;

	if (key->sk_family != AF_INET6 || prefix <= 0 || prefix >= 128)
		return;
	for (i = prefix / 8; i < 16; i++)
		key->sk_addr[i] = i == prefix / 8 ?
		    key->sk_addr[i] & (uint8_t)(0xff << (8 - prefix % 8)) : 0;
}

/* Whether two keys are one client, an IPv6 one counted by its prefix. */
int
addr_key_same(const struct srckey *a, const struct srckey *b, int prefix)
{
	struct srckey	 ma = *a, mb = *b;

	if (a->sk_family == 0 || a->sk_family != b->sk_family)
		return 0;
	addr_key_mask(&ma, prefix);
	addr_key_mask(&mb, prefix);
	return memcmp(ma.sk_addr, mb.sk_addr, sizeof(ma.sk_addr)) == 0;
}

/*
 * A key as the log shows the client it counts: an IPv4 address, an IPv6
 * prefix as 2001:db8:1:2::/64 (the address alone at 128).
 */
void
addr_key_format(const struct srckey *key, int prefix, char *buf, size_t size)
{
	struct srckey	 mk = *key;
	size_t		 len;

	addr_key_mask(&mk, prefix);
	if (mk.sk_family == 0 ||
	    inet_ntop(mk.sk_family, mk.sk_addr, buf, size) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	len = strlen(buf);
	if (mk.sk_family == AF_INET6 && prefix > 0 && prefix < 128)
		snprintf(buf + len, size - len, "/%d", prefix);
}
