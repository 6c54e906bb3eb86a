/*
 * check_capture.c - what superd logs, caught for the suites that judge
 * it (child.c's exit lines, errlog.c's stderr lines).  log.c writes a
 * line to stderr with -d; here stderr is a pipe for the while, read back
 * as one string.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"
#include "check_superd.h"

static int	 saved_stderr = -1;
static int	 capture_fd = -1;
static char	*captured;
static size_t	 captured_len, captured_cap;

void
capture_start(void)
{
	int	 p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	/* Room for every line a test makes: nothing may block superd. */
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	ck_assert_int_ne(saved_stderr = dup(STDERR_FILENO), -1);
	ck_assert_int_ne(dup2(p[1], STDERR_FILENO), -1);
	close(p[1]);
	capture_fd = p[0];
	captured_len = 0;
	log_init(1, LOG_DAEMON);
}

/* Everything logged since capture_start(). */
const char *
capture_text(void)
{
	ssize_t	 n;

	for (;;) {
		if (captured_cap - captured_len < 4096) {
			captured_cap = captured_cap * 2 + 8192;
			captured = realloc(captured, captured_cap);
			ck_assert_ptr_nonnull(captured);
		}
		n = read(capture_fd, captured + captured_len,
		    captured_cap - captured_len - 1);
		if (n <= 0)
			break;
		captured_len += (size_t)n;
	}
	ck_assert(n == 0 || errno == EAGAIN);
	captured[captured_len] = '\0';
	return captured;
}

/* How many times text was logged, whole lines or parts of them. */
int
capture_count(const char *text)
{
	const char	*at = capture_text();
	int		 n = 0;

	while ((at = strstr(at, text)) != NULL) {
		n++;
		at += strlen(text);
	}
	return n;
}

void
capture_stop(void)
{
	if (capture_fd == -1)
		return;
	log_init(0, LOG_DAEMON);
	closelog();
	(void)dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(capture_fd);
	saved_stderr = capture_fd = -1;
	free(captured);
	captured = NULL;
	captured_len = captured_cap = 0;
}
