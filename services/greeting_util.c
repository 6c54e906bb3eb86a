/*
 * greeting_util.c - the name reader and the visitor number's text form.
 *
 * The reader is a small state machine fed with whatever bytes arrive, so
 * the same code serves a socket and a test's buffer.  It stops at the
 * first end of name and never waits for end of input: the classic client
 * sends its name with a trailing NUL, no newline, and keeps the connection
 * open until it has the answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "greeting_util.h"
#include "svcio.h"

static int	 is_blank(char);

void
greet_name_init(struct greet_name *gn)
{
	memset(gn, 0, sizeof(*gn));
	gn->gn_end = GREET_MORE;
}

/*
 * Take bytes of the name; returns how many were used, which is fewer than
 * len when the name ended inside buf.  Printable ASCII is kept up to
 * GREET_NAME_KEEP bytes; every other byte is dropped, so a name can carry
 * no terminal escape back to the client.  A CR is dropped like any other
 * control byte, which makes CRLF end a name as LF does.
 */
size_t
greet_name_feed(struct greet_name *gn, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	for (i = 0; i < len && gn->gn_end == GREET_MORE; i++) {
		gn->gn_seen++;
		if (p[i] == '\n')
			gn->gn_end = GREET_NEWLINE;
		else if (p[i] == '\0')
			gn->gn_end = GREET_NUL;
		else if (p[i] >= 0x20 && p[i] <= 0x7e &&
		    gn->gn_len < GREET_NAME_KEEP)
			gn->gn_buf[gn->gn_len++] = (char)p[i];
		if (gn->gn_end == GREET_MORE && gn->gn_seen >= GREET_NAME_READ)
			gn->gn_end = GREET_CUT;
	}
	gn->gn_buf[gn->gn_len] = '\0';
	return i;
}

void
greet_name_eof(struct greet_name *gn)
{
	if (gn->gn_end == GREET_MORE)
		gn->gn_end = GREET_EOF;
}

/*
 * Read a name from fd until it ends or the deadline passes (errno
 * ETIMEDOUT).  Reads in blocks: what follows the end of the name in the
 * same block is discarded, which is harmless since a visitor sends one
 * name.  Returns 0 when the name has ended, -1 on error.
 */
int
greet_name_read(int fd, struct greet_name *gn, const struct timespec *dl)
{
	char	buf[256];
	ssize_t	n;

	while (gn->gn_end == GREET_MORE) {
		if ((n = svc_read(fd, buf, sizeof(buf), dl)) == -1)
			return -1;
		if (n == 0)
			greet_name_eof(gn);
		else
			greet_name_feed(gn, buf, (size_t)n);
	}
	return 0;
}

/* The name to greet: an empty one (nothing printable) is a stranger. */
const char *
greet_name_show(const struct greet_name *gn)
{
	return gn->gn_len == 0 ? GREET_ANON : gn->gn_buf;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Parse the state file's contents: the last number given, in decimal.
 * Empty (or blank) means no visitor yet.  Trailing white space is allowed
 * so that `echo 41 > file' works; anything else (signs, letters, a number
 * past UINT64_MAX, junk after the digits) is corrupt: -1 with EINVAL or
 * ERANGE, because restarting the count at 1 would hand out numbers twice.
 */
int
greet_count_parse(const char *buf, size_t len, uint64_t *np)
{
	uint64_t	n = 0;
	size_t		i;

	while (len > 0 && is_blank(buf[len - 1]))
		len--;
	if (len == 0) {
		*np = 0;
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		if (n > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + (uint64_t)(buf[i] - '0');
	}
	*np = n;
	return 0;
}

/* The state file's text for n, newline-ended; its length, or -1. */
int
greet_count_format(char *buf, size_t size, uint64_t n)
{
	int	len;

	len = snprintf(buf, size, "%" PRIu64 "\n", n);
	if (len < 0 || (size_t)len >= size) {
		errno = ENOSPC;
		return -1;
	}
	return len;
}
