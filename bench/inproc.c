/*
 * inproc.c - the ceiling: a responder that answers inside its own process,
 * with no process created per client.
 *
 *   inproc reply|echo|daytime|time PORT [ADDR]          TCP
 *   inproc udp-reply|udp-echo|udp-daytime PORT [ADDR]   UDP
 *
 * reply reads the request line and sends BENCH_REPLY (what bench/reply
 * does, without the exec); echo sends back what it reads until end of
 * input; daytime and time answer at once, as RFC 867 and 868 say.  It
 * listens on ADDR (127.0.0.1 unless told; a loopback address, 127.0.0.0/8
 * or ::1), port PORT.  One epoll loop, non-blocking sockets.  It exits on SIGTERM, when its parent
 * dies, or after BENCH_LIFETIME seconds.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BACKLOG		128	/* superd's default */
#define BATCH		64	/* accepts or datagrams per wake-up */
#define MAX_EVENTS	64
#define SECONDS_1900_1970 2208988800UL

enum mode { M_REPLY, M_ECHO, M_DAYTIME, M_TIME };

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: inproc reply|echo|daytime|time|udp-reply|"
	    "udp-echo|udp-daytime PORT [ADDR]\n");
	exit(2);
}

static const char	*listen_addr = "127.0.0.1";

static int
bind_loopback(int type, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, listen_addr, &sin->sin_addr) == 1 &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, listen_addr, &sin6->sin6_addr) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		len = sizeof(*sin6);
	} else {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, BACKLOG) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The answer a one-shot mode sends; len 0 when the mode reads first. */
static size_t
answer(enum mode m, char *buf, size_t size)
{
	time_t		 now;
	struct tm	 tm;
	uint32_t	 t;

	switch (m) {
	case M_REPLY:
		memcpy(buf, BENCH_REPLY, sizeof(BENCH_REPLY) - 1);
		return sizeof(BENCH_REPLY) - 1;
	case M_DAYTIME:
		/* The same line superd's builtin makes, at the same cost. */
		now = time(NULL);
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(buf, size, "%a %b %e %H:%M:%S %Y\r\n", &tm) == 0)
			return 0;
		return strlen(buf);
	case M_TIME:
		t = (uint32_t)((uint64_t)time(NULL) + SECONDS_1900_1970);
		buf[0] = (char)(t >> 24);
		buf[1] = (char)(t >> 16);
		buf[2] = (char)(t >> 8);
		buf[3] = (char)t;
		return 4;
	default:
		return 0;
	}
}

static void
accept_batch(int ep, int lfd, enum mode m)
{
	struct epoll_event	 ev;
	char			 buf[128];
	size_t			 len;
	int			 i, fd;

	for (i = 0; i < BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		if (m == M_DAYTIME || m == M_TIME) {
			if ((len = answer(m, buf, sizeof(buf))) > 0)
				(void)send(fd, buf, len, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			close(fd);
	}
}

/* A connection is readable: reply once the line is in, or echo. */
static void
conn_ready(int fd, enum mode m)
{
	char	 buf[BENCH_REQUEST_MAX];
	ssize_t	 n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (m == M_ECHO) {
		if (n > 0) {
			(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL);
			return;
		}
	} else if (n > 0 && memchr(buf, '\n', (size_t)n) == NULL) {
		return;		/* the line is not complete yet */
	} else if (n >= 0) {
		(void)send(fd, BENCH_REPLY, sizeof(BENCH_REPLY) - 1,
		    MSG_NOSIGNAL);
	}
	close(fd);	/* also drops it from the epoll set */
}

static int
serve_tcp(enum mode m, int port)
{
	struct epoll_event	 ev, evs[MAX_EVENTS];
	int			 ep, lfd, n, i;

	if ((lfd = bind_loopback(SOCK_STREAM, port)) == -1 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("inproc: listen");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1) {
		perror("inproc: epoll_ctl");
		return 1;
	}
	for (;;) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_batch(ep, lfd, m);
			else
				conn_ready(evs[i].data.fd, m);
		}
	}
}

static int
serve_udp(enum mode m, int port)
{
	struct epoll_event	 ev;
	struct sockaddr_storage	 from;
	socklen_t		 len;
	char			 buf[65536];
	ssize_t			 n;
	size_t			 out;
	int			 ep, fd, i;

	if ((fd = bind_loopback(SOCK_DGRAM, port)) == -1 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("inproc: bind");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("inproc: epoll_ctl");
		return 1;
	}
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		for (i = 0; i < BATCH; i++) {
			len = sizeof(from);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &len);
			if (n == -1)
				break;
			out = m == M_ECHO ? (size_t)n : answer(m, buf, sizeof(buf));
			(void)sendto(fd, buf, out, 0, (struct sockaddr *)&from,
			    len);
		}
	}
}

int
main(int argc, char *argv[])
{
	static const char *const names[] = { "reply", "echo", "daytime",
	    "time" };
	const char	*name;
	int		 port, udp, i;

	if (argc != 3 && argc != 4)
		usage();
	if (argc == 4)
		listen_addr = argv[3];
	name = argv[1];
	if ((udp = strncmp(name, "udp-", 4) == 0))
		name += 4;
	port = atoi(argv[2]);
	if (port <= 0 || port > 65535)
		usage();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(BENCH_LIFETIME);
	for (i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return udp ? serve_udp((enum mode)i, port) :
			    serve_tcp((enum mode)i, port);
	usage();
}
