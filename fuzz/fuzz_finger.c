/*
 * fuzz_finger.c - the finger query (services/fingerd_util.c): what
 * fquery_read() takes from the client, what fquery_parse() makes of it,
 * and finger_vis() on the same bytes, which stands between every chosen
 * byte and the client's terminal.
 *
 * Invariants: a refused query says why; an accepted one is a single name
 * of no more than FQ_LINE_MAX bytes with no blank or control, and its
 * flags agree with it; fquery_read() stops at the first LF within its
 * buffer and never returns more than it was sent.  finger_vis() returns
 * the length the whole result needs, bounded by FINGER_VIS_MAX, writes a
 * NUL-terminated prefix of it into any buffer, and lets through only
 * printable ASCII, tab and printable UTF-8: no C0 or C1 control, no DEL,
 * no bidirectional override, nothing malformed.  finger_fullname() fits
 * the buffer it is given.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fingerd_util.h"
#include "svcio.h"
#include "fuzz.h"

static void
check_query(const char *buf, size_t len)
{
	struct fquery	 fq;
	size_t		 n, i;

	if (fquery_parse(buf, len, &fq) == -1) {
		FUZZ_ASSERT(fq.fq_error != NULL && *fq.fq_error != '\0');
		return;
	}
	FUZZ_ASSERT(fq.fq_error == NULL);
	n = strlen(fq.fq_user);
	FUZZ_ASSERT(n <= FQ_LINE_MAX);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)fq.fq_user[i] > 0x20 &&
		    fq.fq_user[i] != 0x7f);
	FUZZ_ASSERT(fq.fq_empty == (n == 0));
	FUZZ_ASSERT(fq.fq_forward == (strchr(fq.fq_user, '@') != NULL));
	FUZZ_ASSERT(fq.fq_verbose == 0 || fq.fq_verbose == 1);
	/* The name is in the line, which ends at the first LF. */
	FUZZ_ASSERT(n == 0 || memmem(buf, len, fq.fq_user, n) != NULL);
	if (n > 0 && memchr(buf, '\n', len) != NULL)
		FUZZ_ASSERT((const char *)memmem(buf, len, fq.fq_user, n) <
		    (const char *)memchr(buf, '\n', len));
}

/* Length of the printable UTF-8 sequence at s, 0 if it is not one. */
static size_t
utf8_ok(const unsigned char *s, size_t len)
{
	unsigned long	 cp;
	size_t		 n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/* Nothing a terminal would obey: checked independently of finger_vis. */
static void
check_harmless(const char *out, size_t len)
{
	const unsigned char	*s = (const unsigned char *)out;
	size_t			 i = 0, k;

	while (i < len) {
		if (s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f)) {
			i++;
			continue;
		}
		k = utf8_ok(s + i, len - i);
		FUZZ_ASSERT(k != 0);
		i += k;
	}
}

static void
check_vis(const char *src, size_t len)
{
	char	*full, *part;
	size_t	 need, size, n, i, sizes[7];

	size = FINGER_VIS_MAX(len);
	full = malloc(size);
	FUZZ_ASSERT(full != NULL);
	need = finger_vis(full, size, src, len);
	FUZZ_ASSERT(need <= size - 1);
	FUZZ_ASSERT(need >= len);
	FUZZ_ASSERT(strlen(full) == need);
	check_harmless(full, need);
	/* Exact-size buffers up to a fit: a truncated prefix, the same need. */
	sizes[0] = 0, sizes[1] = 1, sizes[2] = 2, sizes[3] = 5;
	sizes[4] = need / 2, sizes[5] = need, sizes[6] = need + 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		part = malloc(n == 0 ? 1 : n);
		FUZZ_ASSERT(part != NULL);
		part[0] = 'x';
		FUZZ_ASSERT(finger_vis(part, n, src, len) == need);
		if (n > need) {
			FUZZ_ASSERT(strcmp(part, full) == 0);
		} else if (n > 0) {
			FUZZ_ASSERT(strlen(part) == n - 1);
			FUZZ_ASSERT(memcmp(part, full, n - 1) == 0);
		} else
			FUZZ_ASSERT(part[0] == 'x');
		free(part);
	}
	free(full);
}

static void
check_read(const char *data, size_t len)
{
	struct timespec	 dl;
	char		*buf;
	size_t		 got, lf;
	const char	*nl;
	int		 fd;

	if ((fd = fuzz_pipe(data, len)) == -1)
		return;
	buf = malloc(FQ_BUF_SIZE);
	FUZZ_ASSERT(buf != NULL);
	svc_deadline(&dl, 5);
	FUZZ_ASSERT(fquery_read(fd, buf, FQ_BUF_SIZE, &got, &dl) == 0);
	FUZZ_ASSERT(got <= FQ_BUF_SIZE && got <= len);
	FUZZ_ASSERT(memcmp(buf, data, got) == 0);
	/* It stops at a LF, at end of input, or with a full buffer. */
	nl = memchr(data, '\n', len < FQ_BUF_SIZE ? len : FQ_BUF_SIZE);
	lf = nl != NULL ? (size_t)(nl - data) + 1 : 0;
	FUZZ_ASSERT(got >= lf);
	FUZZ_ASSERT(lf > 0 || got == (len < FQ_BUF_SIZE ? len : FQ_BUF_SIZE));
	check_query(buf, got);
	free(buf);
	close(fd);
}

/*
 * The full name from a GECOS field (the input up to its first NUL) and a
 * login (the rest): it fits any buffer, and a smaller buffer gets a
 * prefix of what a larger one gets.
 */
static void
check_fullname(const char *data, size_t len)
{
	const char	*nul;
	char		*gecos, *login, big[256], *dst;
	size_t		 glen, size;

	nul = memchr(data, '\0', len);
	glen = nul != NULL ? (size_t)(nul - data) : len;
	gecos = strndup(data, glen);
	login = strndup(nul != NULL ? nul + 1 : "", nul != NULL ?
	    len - glen - 1 : 0);
	FUZZ_ASSERT(gecos != NULL && login != NULL);
	finger_fullname(big, sizeof(big), gecos, login);
	FUZZ_ASSERT(strlen(big) < sizeof(big));
	FUZZ_ASSERT(strchr(big, ',') == NULL || strchr(login, ',') != NULL);
	for (size = 1; size <= 32; size++) {
		dst = malloc(size);
		FUZZ_ASSERT(dst != NULL);
		finger_fullname(dst, size, gecos, login);
		FUZZ_ASSERT(strlen(dst) < size);
		FUZZ_ASSERT(strncmp(dst, big, strlen(dst)) == 0);
		free(dst);
	}
	free(login);
	free(gecos);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	buf = malloc(size == 0 ? 1 : size);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data, size);
	check_query(buf, size);
	check_read(buf, size);
	check_vis(buf, size);
	check_fullname(buf, size);
	free(buf);
	return 0;
}
