/*
 * reply.c - the exec'd service every server under test starts: read the
 * request line from stdin (up to a newline, end of input or
 * BENCH_REQUEST_MAX bytes), write the fixed reply to stdout, exit.
 *
 * It does as little as a service can, so that what is measured is the
 * server that started it.  Raw system calls, no stdio: nothing to flush.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int
main(void)
{
	char		 buf[BENCH_REQUEST_MAX];
	size_t		 have = 0;
	ssize_t		 n;
	const char	*out = BENCH_REPLY;
	size_t		 left = sizeof(BENCH_REPLY) - 1;

	while (have < sizeof(buf)) {
		n = read(STDIN_FILENO, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (memchr(buf + have, '\n', (size_t)n) != NULL)
			break;
		have += (size_t)n;
	}
	while (left > 0) {
		n = write(STDOUT_FILENO, out, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		out += n;
		left -= (size_t)n;
	}
	return 0;
}
