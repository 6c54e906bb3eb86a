/*
 * udpreply.c - the wait-mode datagram service: fd 0 is the server's bound
 * UDP socket.  Take one datagram, answer its sender with the fixed reply,
 * exit.  The datagrams queued behind it are the server's to hand to the
 * next instance.
 */
#include <sys/socket.h>

#include <errno.h>
#include <unistd.h>

#include "bench.h"

int
main(void)
{
	char			 buf[BENCH_REQUEST_MAX];
	struct sockaddr_storage	 from;
	socklen_t		 len;
	ssize_t			 n;

	do {
		len = sizeof(from);
		n = recvfrom(STDIN_FILENO, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &len);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return 1;
	if (sendto(STDIN_FILENO, BENCH_REPLY, sizeof(BENCH_REPLY) - 1, 0,
	    (struct sockaddr *)&from, len) == -1)
		return 1;
	return 0;
}
