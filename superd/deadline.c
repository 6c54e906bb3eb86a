/*
 * deadline.c - a read that gives up at a deadline.
 *
 * For the few bytes a child reads itself before exec (a PROXY header): a
 * silent or slow client must not hold an instance forever.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "superd.h"

/* Like read(2); -1 with ETIMEDOUT once deadline (mono_ms) has passed. */
ssize_t
deadline_read(int fd, void *buf, size_t size, int64_t deadline)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	int64_t		 left;
	ssize_t		 n;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n == -1 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		n = read(fd, buf, size);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n;
	}
}
