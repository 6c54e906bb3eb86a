/*
 * builtin.c - the services superd answers itself (RFC 862, 863, 864, 867,
 * 868).
 *
 * UDP builtins and the one-shot TCP ones (daytime, time) are answered in
 * the loop without a fork; stream echo, discard and chargen run in a
 * forked child (builtin_run), never by exec.  A UDP builtin never answers
 * a source port below 1024 or a broadcast/multicast source: that is how
 * echo and chargen on two hosts are made to loop.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
		return ntohs(sin->sin_port) < 1024 || IN_MULTICAST(a) ||
		    a == INADDR_BROADCAST || a == INADDR_ANY ||
		    (a & 0xff) == 0xff;
	}
	if (ss->ss_family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)ss;
		return ntohs(sin6->sin6_port) < 1024 ||
		    IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	}
	return 1;
}

static size_t
dgram_answer(enum builtin b, char *buf, size_t len)
{
	size_t	 i, n;

	switch (b) {
	case BUILTIN_ECHO:
		return len;
	case BUILTIN_CHARGEN:
		/* A datagram of 0..512 characters, RFC 864. */
		n = (size_t)(time(NULL) ^ len) % (UDP_CHARGEN_MAX + 1);
		for (i = 0; i < n; i++)
			buf[i] = ' ' + (i % 95);
		return n;
	case BUILTIN_DAYTIME:
		return daytime_text(buf, DGRAM_MAX);
	case BUILTIN_TIME:
		return time_bytes((unsigned char *)buf);
	default:
		return 0;
	}
}

/* UDP builtins: answer what is queued, a bounded batch per turn. */
void
builtin_dgram(struct service *sv, struct listener *ls)
{
	static char		 buf[DGRAM_MAX];
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	ssize_t			 n;
	size_t			 out;
	int			 i;

	for (i = 0; i < DGRAM_BATCH; i++) {
		len = sizeof(ss);
		n = recvfrom(ls->ls_fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &len);
		if (n == -1)
			break;
		if (dgram_source_bad(&ss, len)) {
			sv->sv_refused++;
			continue;
		}
		sv->sv_started++;
		if (sv->sv_conf->sc_builtin == BUILTIN_DISCARD)
			continue;
		out = dgram_answer(sv->sv_conf->sc_builtin, buf, (size_t)n);
		(void)sendto(ls->ls_fd, buf, out, MSG_DONTWAIT,
		    (struct sockaddr *)&ss, len);
	}
}
