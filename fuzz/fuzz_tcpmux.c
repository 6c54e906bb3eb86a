/*
 * fuzz_tcpmux.c - tcpmux_parse() (superd/tcpmux.c), the TCPMUX name line
 * a client sends (RFC 1078).
 *
 * Invariants: the result is -1, 0 or a length within the input that ends
 * at the first LF; every shorter prefix asks for more (pending.c parses
 * what has come so far, and takes no byte past the line end); the name is
 * the line without its CR LF and surrounding blanks, fits the buffer
 * given, and holds no CR, LF or other control but tab; a line that cannot
 * fit 128 bytes is never "incomplete".
 */
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"

#define LINE_MAX_	TCPMUX_LINE_MAX

static void
check_name(const char *buf, ssize_t r, const char *name, size_t size)
{
	size_t	 n = strlen(name), i, start, end;

	FUZZ_ASSERT(n < size);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(name[i] != '\r' && name[i] != '\n');
		FUZZ_ASSERT(((unsigned char)name[i] >= 0x20 &&
		    name[i] != 0x7f) || name[i] == '\t');
	}
	if (n > 0) {
		FUZZ_ASSERT(name[0] != ' ' && name[0] != '\t');
		FUZZ_ASSERT(name[n - 1] != ' ' && name[n - 1] != '\t');
	}
	/* The name is the line, trimmed. */
	end = (size_t)r - 1;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	for (start = 0; start < end && (buf[start] == ' ' ||
	    buf[start] == '\t'); start++)
		;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	FUZZ_ASSERT(end - start == n && memcmp(buf + start, name, n) == 0);
}

static ssize_t
parse_with(const char *buf, size_t len, size_t size)
{
	char	*name;
	ssize_t	 r;
	size_t	 k;

	/* An exact-size name buffer: a write past it is an error. */
	name = malloc(size);
	FUZZ_ASSERT(name != NULL);
	r = tcpmux_parse(buf, len, name, size);
	FUZZ_ASSERT(r >= -1 && r <= (ssize_t)len);
	if (r == 0)
		FUZZ_ASSERT(len < LINE_MAX_ && memchr(buf, '\n', len) == NULL);
	if (r > 0) {
		FUZZ_ASSERT(r <= LINE_MAX_ && buf[r - 1] == '\n');
		FUZZ_ASSERT(memchr(buf, '\n', (size_t)r - 1) == NULL);
		check_name(buf, r, name, size);
	}
	if (r >= 0)
		for (k = 0; k < (r > 0 ? (size_t)r : len); k++)
			FUZZ_ASSERT(tcpmux_parse(buf, k, name, size) == 0);
	free(name);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;
	ssize_t	 r, small;

	buf = malloc(size == 0 ? 1 : size);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data, size);
	/* As pending.c calls it, then with a name buffer too small. */
	r = parse_with(buf, size, LINE_MAX_);
	small = parse_with(buf, size, 1 + size % 8);
	/* A smaller buffer can only refuse a name the larger one took. */
	FUZZ_ASSERT(small == r || (small == -1 && r > 0));
	free(buf);
	return 0;
}
