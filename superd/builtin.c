/*
 * builtin.c - the services superd answers itself (RFC 862, 863, 864, 867,
 * 868).
 *
 * UDP builtins and the one-shot TCP ones (daytime, time) are answered in
 * the loop without a fork; stream echo, discard and chargen run in a
 * forked child (builtin_run), never by exec.  A UDP builtin never answers
 * a source port below 1024 or a broadcast/multicast source, nor one of
 * the ports superd's own UDP builtins listen on, whatever the address (as
 * FreeBSD's inetd): that is how echo and chargen on two hosts, or two of
 * superd's, are made to talk to each other forever.  It answers a source
 * only within the service's allow/deny, rate and per_source_rate, and
 * within a per-source budget (policy_dgram) that bounds any loop with
 * someone else's service and keeps chargen from amplifying.
 *
 * The set of those ports is the one piece of state here: servtab.c
 * refills it whenever listeners open, so that a datagram costs a short
 * scan, not a walk of the service table.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

#define CHARGEN_LINE	72
#define DGRAM_BATCH	32	/* datagrams answered per turn */
#define DGRAM_MAX	65536
#define UDP_CHARGEN_MAX	512
#define SECONDS_1900_1970 2208988800UL

/* Whether the builtin answers inside superd's loop, without a fork. */
int
builtin_inline(enum builtin b, enum proto proto)
{
	if (proto == PROTO_UDP)
		return 1;
	return b == BUILTIN_DAYTIME || b == BUILTIN_TIME;
}

static size_t
daytime_text(char *buf, size_t size)
{
	time_t		 now = time(NULL);
	struct tm	 tm;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(buf, size, "%a %b %e %H:%M:%S %Y\r\n", &tm) == 0)
		return 0;
	return strlen(buf);
}

static size_t
time_bytes(unsigned char *buf)
{
	uint32_t	 t = (uint32_t)((uint64_t)time(NULL) + SECONDS_1900_1970);

	buf[0] = t >> 24;
	buf[1] = t >> 16;
	buf[2] = t >> 8;
	buf[3] = t;
	return 4;
}

/* One chargen line starting at offset `start` of the printable ring. */
static void
chargen_line(char *line, unsigned start)
{
	int	 i;

	for (i = 0; i < CHARGEN_LINE; i++)
		line[i] = ' ' + (start + i) % 95;
	line[CHARGEN_LINE] = '\r';
	line[CHARGEN_LINE + 1] = '\n';
}

/* TCP daytime and time: answer and let the caller close. */
void
builtin_reply(enum builtin b, int fd)
{
	char	 buf[64];
	size_t	 len;

	len = b == BUILTIN_TIME ? time_bytes((unsigned char *)buf) :
	    daytime_text(buf, sizeof(buf));
	if (len > 0)
		(void)send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* In a forked child: serve one stream connection on fd until it ends. */
void
builtin_run(enum builtin b, int fd)
{
	char		 buf[8192];
	ssize_t		 n;
	unsigned	 start = 0;

	switch (b) {
	case BUILTIN_ECHO:
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, (size_t)n) == -1)
				break;
		break;
	case BUILTIN_DISCARD:
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		break;
	case BUILTIN_CHARGEN:
		for (;;) {
			chargen_line(buf, start++);
			if (write_all(fd, buf, CHARGEN_LINE + 2) == -1)
				break;
		}
		break;
	case BUILTIN_DAYTIME:
	case BUILTIN_TIME:
		builtin_reply(b, fd);
		break;
	default:
		break;
	}
	_exit(0);
}

/* The ports superd's UDP builtins are bound to, for dgram_source_bad. */
static unsigned short	*own_ports;
static size_t		 n_own_ports, own_ports_cap;

void
builtin_ports_clear(void)
{
	n_own_ports = 0;
}

/* Adds a port; without memory the set stays as it is (the per-source
 * budget still bounds a loop). */
void
builtin_port_add(unsigned port)
{
	unsigned short	*grown;
	size_t		 i, cap;

	for (i = 0; i < n_own_ports; i++)
		if (own_ports[i] == port)
			return;
	if (n_own_ports == own_ports_cap) {
		cap = own_ports_cap ? own_ports_cap * 2 : 8;
		if ((grown = reallocarray(own_ports, cap,
		    sizeof(*own_ports))) == NULL)
			return;
		own_ports = grown;
		own_ports_cap = cap;
	}
	own_ports[n_own_ports++] = (unsigned short)port;
}

static int
own_port(unsigned port)
{
	size_t	 i;

	for (i = 0; i < n_own_ports; i++)
		if (own_ports[i] == port)
			return 1;
	return 0;
}

/* Sources a UDP builtin never answers (RFC 862 and common sense). */
static int
dgram_source_bad(const struct sockaddr_storage *from, socklen_t len)
{
	struct sockaddr_storage	 copy = *from, *ss = &copy;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	uint32_t		 a;

	addr_unmap(ss, &len);
	if (ss->ss_family == AF_INET) {
		sin = (struct sockaddr_in *)ss;
		a = ntohl(sin->sin_addr.s_addr);
		return ntohs(sin->sin_port) < 1024 ||
		    own_port(ntohs(sin->sin_port)) || IN_MULTICAST(a) ||
		    a == INADDR_BROADCAST || a == INADDR_ANY ||
		    (a & 0xff) == 0xff;
	}
	if (ss->ss_family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)ss;
		return ntohs(sin6->sin6_port) < 1024 ||
		    own_port(ntohs(sin6->sin6_port)) ||
		    IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	}
	return 1;
}

/* Whether allow/deny let the source in; the text only when there are lists. */
static int
dgram_acl(const struct svc_conf *sc, const struct sockaddr_storage *from,
    socklen_t len)
{
	char	 addr[64];

	if (sc->sc_nallow == 0 && sc->sc_ndeny == 0)
		return 1;
	if (addr_format((const struct sockaddr *)from, len, addr, sizeof(addr),
	    NULL) == -1)
		return 0;
	return policy_acl(sc, addr);
}

/*
 * The answer to a datagram of len bytes, in buf, cut to what the source
 * may get (policy_dgram); -1 for none.  chargen's length is anything from
 * 0 to 512 (RFC 864), so it is the one answer that may be cut short.
 */
static ssize_t
dgram_answer(struct service *sv, const struct srckey *key, char *buf,
    size_t len, int64_t now)
{
	enum builtin	 b = sv->sv_conf->sc_builtin;
	size_t		 i, n;
	ssize_t		 may;

	switch (b) {
	case BUILTIN_ECHO:
		n = len;
		break;
	case BUILTIN_CHARGEN:
		n = (size_t)(time(NULL) ^ len) % (UDP_CHARGEN_MAX + 1);
		break;
	case BUILTIN_DAYTIME:
	case BUILTIN_TIME:
		n = b == BUILTIN_TIME ? time_bytes((unsigned char *)buf) :
		    daytime_text(buf, DGRAM_MAX);
		break;
	default:
		n = 0;
		break;
	}
	may = policy_dgram(sv, key, len, n, b == BUILTIN_CHARGEN ? 0 : n, now);
	if (may == -1 || b != BUILTIN_CHARGEN)
		return may;
	for (i = 0; i < (size_t)may; i++)
		buf[i] = ' ' + (i % 95);
	return may;
}

/*
 * UDP builtins: answer what is queued, a bounded batch per turn.  `rate`
 * is a budget of datagrams served: with it spent, the rest stays queued
 * in the kernel and the loop stops watching the socket until it refills.
 * Refused datagrams are counted, never logged: a flood of them would
 * flood the log.
 */
void
builtin_dgram(struct service *sv, struct listener *ls)
{
	static char		 buf[DGRAM_MAX];
	const struct svc_conf	*sc = sv->sv_conf;
	struct sockaddr_storage	 ss;
	struct srckey		 key;
	socklen_t		 len;
	ssize_t			 n, out;
	int64_t			 now, next = 0;
	int			 i;

	for (i = 0; i < DGRAM_BATCH; i++) {
		now = mono_ms();
		if (!policy_rate_ready(sv, now, &next))
			break;
		len = sizeof(ss);
		n = recvfrom(ls->ls_fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &len);
		if (n == -1)
			break;
		if (dgram_source_bad(&ss, len) || !dgram_acl(sc, &ss, len) ||
		    addr_key_sa(&ss, len, &key) == -1 ||
		    (out = dgram_answer(sv, &key, buf, (size_t)n, now)) == -1) {
			sv->sv_refused++;
			continue;
		}
		sv->sv_started++;
		policy_rate_take(sv);
		if (sc->sc_builtin == BUILTIN_DISCARD)
			continue;
		(void)sendto(ls->ls_fd, buf, (size_t)out, MSG_DONTWAIT,
		    (struct sockaddr *)&ss, len);
	}
}
