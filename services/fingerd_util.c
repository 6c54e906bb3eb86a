/*
 * fingerd_util.c - the finger query and the text fingerd shows.
 *
 * A query (RFC 1288) is one line: an optional "/W" (verbose), an optional
 * name, an optional "@host" asking us to forward it, then CRLF.  Every
 * byte fingerd sends that a user or a remote host chose (a GECOS field, a
 * .plan, a utmp host name, the query itself) goes through finger_vis(),
 * so that none of it can drive the client's terminal.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fingerd_util.h"
#include "svcio.h"

static size_t	 utf8_len(const unsigned char *, size_t);
static size_t	 vis_byte(char *, unsigned char);

/*
 * Read the query: until a LF, end of input, or size bytes (a longer line
 * is then refused by fquery_parse()).  Stops at the line's end without
 * waiting for end of input: the client waits for the answer first.
 */
int
fquery_read(int fd, char *buf, size_t size, size_t *lenp,
    const struct timespec *dl)
{
	size_t	len = 0;
	ssize_t	n;

	*lenp = 0;
	while (len < size) {
		if ((n = svc_read(fd, buf + len, size - len, dl)) == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n) != NULL)
			break;
	}
	*lenp = len;
	return 0;
}

/*
 * Parse what fquery_read() got: the line up to its LF (a CR before it is
 * dropped), or all of buf when end of input came first.  Returns 0, or -1
 * with fq_error set to a sentence for the client.
 */
int
fquery_parse(const char *buf, size_t len, struct fquery *fq)
{
	const char	*eol, *p, *end;
	size_t		 n;

	memset(fq, 0, sizeof(*fq));
	if ((eol = memchr(buf, '\n', len)) != NULL)
		n = (size_t)(eol - buf);
	else
		n = len;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > FQ_LINE_MAX) {
		fq->fq_error = "the query is too long";
		return -1;
	}
	p = buf;
	end = buf + n;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p >= 2 && p[0] == '/' && (p[1] == 'W' || p[1] == 'w') &&
	    (end - p == 2 || p[2] == ' ' || p[2] == '\t')) {
		fq->fq_verbose = 1;
		p += 2;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (n = 0; p + n < end; n++) {
		if (p[n] == ' ' || p[n] == '\t') {
			fq->fq_error = "one name per query, please";
			return -1;
		}
		if ((unsigned char)p[n] < 0x20 || p[n] == 0x7f) {
			fq->fq_error = "the query holds a control character";
			return -1;
		}
	}
	memcpy(fq->fq_user, p, n);
	fq->fq_user[n] = '\0';
	fq->fq_forward = memchr(p, '@', n) != NULL;
	fq->fq_empty = n == 0;
	return 0;
}

/*
 * The length of the printable UTF-8 sequence at s, or 0 when s does not
 * start one: malformed, overlong, a surrogate, or a control a terminal
 * would obey (C1 controls such as CSI, bidirectional overrides).
 */
static size_t
utf8_len(const unsigned char *s, size_t len)
{
	uint32_t	cp, min;
	size_t		i, n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/*
 * One byte in cat -v notation: ^X for a control, ^? for DEL, M- before a
 * byte with the high bit set.  Writes at most 4 bytes; returns how many.
 */
static size_t
vis_byte(char *out, unsigned char c)
{
	size_t	n = 0;

	if (c >= 0x80) {
		out[n++] = 'M';
		out[n++] = '-';
		c &= 0x7f;
	}
	if (c < 0x20) {
		out[n++] = '^';
		out[n++] = (char)(c + 0x40);
	} else if (c == 0x7f) {
		out[n++] = '^';
		out[n++] = '?';
	} else
		out[n++] = (char)c;
	return n;
}

/*
 * Copy len bytes of src to dst, harmless for a terminal: printable ASCII,
 * tab and printable UTF-8 pass; other bytes are shown as by vis_byte().
 * Like snprintf(3): dst is NUL-terminated when size > 0, and the return
 * is the length the whole result needs (FINGER_VIS_MAX(len) - 1 at most).
 */
size_t
finger_vis(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			 tmp[4];
	size_t			 i, j, k, n, out = 0;

	for (i = 0; i < len; i += k) {
		if (s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f)) {
			tmp[0] = (char)s[i];
			n = k = 1;
		} else if ((k = utf8_len(s + i, len - i)) != 0) {
			memcpy(tmp, s + i, k);
			n = k;
		} else {
			n = vis_byte(tmp, s[i]);
			k = 1;
		}
		for (j = 0; j < n; j++, out++)
			if (out + 1 < size)
				dst[out] = tmp[j];
	}
	if (size > 0)
		dst[out < size ? out : size - 1] = '\0';
	return out;
}

/*
 * The full name: the GECOS field up to its first comma, with '&' standing
 * for the login name capitalised, as BSD finger has it.  Cut to fit size.
 */
void
finger_fullname(char *dst, size_t size, const char *gecos, const char *login)
{
	size_t	n = 0, i;

	if (size == 0)
		return;
	for (; *gecos != '\0' && *gecos != ','; gecos++) {
		if (*gecos != '&') {
			if (n + 1 < size)
				dst[n++] = *gecos;
			continue;
		}
		for (i = 0; login[i] != '\0' && n + 1 < size; i++)
			dst[n++] = i == 0 ?
			    (char)toupper((unsigned char)login[i]) : login[i];
	}
	dst[n] = '\0';
}
