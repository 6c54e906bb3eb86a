/*
 * svcio.c - descriptor helpers for the shipped services.
 *
 * A service's client is on fd 0 and fd 1 and may be slow, silent or
 * hostile, so every read waits against an absolute deadline on the
 * monotonic clock: a client that trickles one byte a second cannot stretch
 * the wait.  Nothing here owns state.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "svcio.h"

#define DRAIN_MAX	65536	/* bytes discarded at most before closing */

static int	 ms_left(const struct timespec *);

/* The deadline `seconds' from now. */
void
svc_deadline(struct timespec *dl, unsigned int seconds)
{
	if (clock_gettime(CLOCK_MONOTONIC, dl) == -1) {
		/* CLOCK_MONOTONIC cannot fail on Linux; expire at once. */
		dl->tv_sec = 0;
		dl->tv_nsec = 0;
		return;
	}
	dl->tv_sec += seconds;
}

/* Milliseconds until dl, rounded up so a wait never ends early; 0 if past. */
static int
ms_left(const struct timespec *dl)
{
	struct timespec	now;
	long long	ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(dl->tv_sec - now.tv_sec) * 1000 +
	    (dl->tv_nsec - now.tv_nsec + 999999) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * read(2) that gives up at the deadline (NULL: no deadline) with errno
 * ETIMEDOUT.  Waits in poll(2) even without a deadline, so a descriptor
 * left non-blocking cannot make it spin.  Returns the byte count, 0 at end
 * of input, -1 on error.
 */
ssize_t
svc_read(int fd, void *buf, size_t size, const struct timespec *dl)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		ms, r;

	for (;;) {
		ms = -1;
		if (dl != NULL && (ms = ms_left(dl)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((r = poll(&pfd, 1, ms)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			continue;	/* ms_left() decides */
		if ((n = read(fd, buf, size)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		return n;
	}
}

/* Write all of buf, across short writes and interruptions. */
int
svc_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Before exiting with input left unread: closing a TCP socket whose
 * receive queue is not empty sends a reset, and a reset can make the
 * client drop the reply it has not read yet.  So end the reply with a FIN,
 * then read and discard for a short while.  Best effort: the reply has
 * been written already, and a pipe or a file is not a socket.
 */
void
svc_drain(int in, int out, unsigned int seconds)
{
	struct timespec	dl;
	char		buf[4096];
	size_t		total = 0;
	ssize_t		n;

	(void)shutdown(out, SHUT_WR);
	svc_deadline(&dl, seconds);
	while (total < DRAIN_MAX) {
		if ((n = svc_read(in, buf, sizeof(buf), &dl)) <= 0)
			break;
		total += (size_t)n;
	}
}

/* Parse an option's seconds: a decimal from 0 to 86400. */
int
svc_parse_seconds(const char *s, unsigned int *secs)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 86400)
		return -1;
	*secs = (unsigned int)v;
	return 0;
}
