/*
 * fuzz_escape.c - log_escape() (superd/log.c), what a program writes to
 * its stderr on its way to the log.
 *
 * Invariants: the line is terminated and no longer than the buffer; it
 * holds no control byte but tab, no DEL, and a backslash only as the start
 * of \xHH; above 0x7f only well-formed UTF-8 characters that are not C1
 * controls (checked with libc's own decoder, not superd's); and decoding
 * the escapes gives back a prefix of the input, all of it when the buffer
 * has room for the worst case.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "superd.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The line, its escapes decoded into back; returns the decoded length. */
static size_t
check_line(const char *line, size_t n, unsigned char *back)
{
	mbstate_t	 ms;
	wchar_t		 wc;
	size_t		 i = 0, out = 0, k;
	unsigned char	 c;

	while (i < n) {
		c = (unsigned char)line[i];
		FUZZ_ASSERT(c != '\0');
		FUZZ_ASSERT((c >= 0x20 && c != 0x7f) || c == '\t');
		if (c == '\\') {
			FUZZ_ASSERT(i + 3 < n + 1 && line[i + 1] == 'x' &&
			    hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0);
			back[out++] = (unsigned char)(hexval(line[i + 2]) << 4 |
			    hexval(line[i + 3]));
			i += 4;
			continue;
		}
		if (c < 0x80) {
			back[out++] = c;
			i++;
			continue;
		}
		memset(&ms, 0, sizeof(ms));
		k = mbrtowc(&wc, line + i, n - i, &ms);
		FUZZ_ASSERT(k != (size_t)-1 && k != (size_t)-2 && k > 1);
		FUZZ_ASSERT(wc > 0x9f);
		memcpy(back + out, line + i, k);
		out += k;
		i += k;
	}
	return out;
}

static void
escape_into(const uint8_t *data, size_t len, size_t size)
{
	unsigned char	*back;
	char		*dst;
	size_t		 n, dec;

	/* An exact-size buffer: a write past it is an error. */
	dst = malloc(size == 0 ? 1 : size);
	back = malloc(len + 1);
	FUZZ_ASSERT(dst != NULL && back != NULL);
	n = log_escape(dst, size, (const char *)data, len);
	if (size == 0) {
		FUZZ_ASSERT(n == 0);
	} else {
		FUZZ_ASSERT(n < size && dst[n] == '\0' && strlen(dst) == n);
		dec = check_line(dst, n, back);
		FUZZ_ASSERT(dec <= len && memcmp(back, data, dec) == 0);
		if (size > 4 * len)
			FUZZ_ASSERT(dec == len);
	}
	free(back);
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	escape_into(data, size, 4 * size + 1);
	/* A buffer cut anywhere, as a long stderr line meets the log's. */
	if (size > 0)
		escape_into(data + 1, size - 1, data[0] % 64);
	return 0;
}
