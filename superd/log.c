/*
 * log.c - the one log sink: syslog, and stderr as well with -d.
 *
 * Owns the log settings.  Every event has its helper elsewhere; they all
 * end up here, so a line has the same shape in syslog and on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"

static int	log_to_stderr;
static const int log_fd = STDERR_FILENO;
static int	log_verbose;

void
log_init(int to_stderr, int facility)
{
	log_to_stderr = to_stderr;
	log_verbose = to_stderr;
	openlog("superd", LOG_PID | LOG_NDELAY, facility);
}

void
log_facility(int facility)
{
	closelog();
	openlog("superd", LOG_PID | LOG_NDELAY, facility);
}

static void
log_vemit(int pri, const char *err, const char *fmt, va_list ap)
{
	char	 line[2048];
	int	 n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (err != NULL && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, ": %s", err);
	if (log_to_stderr) {
		/* One write per line so lines from children never interleave. */
		char	 out[sizeof(line) + 16];
		int	 len;

		len = snprintf(out, sizeof(out), "superd: %s\n", line);
		if (len > 0)
			(void)!write(log_fd, out,
			    (size_t)len < sizeof(out) ? (size_t)len : sizeof(out) - 1);
	}
	syslog(pri, "%s", line);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(3);
}

/*
 * The length of the UTF-8 sequence at s (at most n bytes) when it is a
 * well-formed character other than a C1 control (U+0080..U+009F, whose
 * CSI drives terminals as ESC [ does); 0 otherwise.  No overlong forms,
 * no surrogates, nothing past U+10FFFF.
 */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	size_t		 need, i;
	uint32_t	 cp, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
		min = 0xa0;	/* C1 controls end at 0x9f */
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/*
 * Copies len bytes of text that others control (what a program writes to
 * its stderr) into dst as one inert log line, and returns its length.
 * Every byte below 0x20 but TAB, DEL and the backslash itself become \xHH
 * (\x5c for the backslash, so that no text can pass for an escape):
 * nothing can end the line early (NUL, CR, LF), ring a bell or drive the
 * terminal of whoever reads the log (ESC).  Above 0x7f, well-formed UTF-8
 * characters pass as they are, so text stays readable; every other byte
 * (a stray 0x9b is a CSI to some terminals), and the C1 controls in their
 * UTF-8 form, become \xHH too.  What does not fit in dst is cut, never in
 * the middle of an escape or a character; dst is always terminated.
 */
size_t
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*in = (const unsigned char *)src;
	size_t			 i, out = 0, n;
	unsigned char		 c;

	if (size == 0)
		return 0;
	for (i = 0; i < len; i++) {
		c = in[i];
		if ((c >= 0x20 && c < 0x7f && c != '\\') || c == '\t')
			n = 1;
		else if (c >= 0x80)
			n = utf8_char(in + i, len - i);
		else
			n = 0;
		if (n > 0) {
			if (out + n >= size)
				break;
			memcpy(dst + out, in + i, n);
			out += n;
			i += n - 1;
			continue;
		}
		if (out + 4 >= size)
			break;
		dst[out++] = '\\';
		dst[out++] = 'x';
		dst[out++] = hex[c >> 4];
		dst[out++] = hex[c & 0xf];
	}
	dst[out] = '\0';
	return out;
}

/* What a configuration carries that is worth saying but is no error. */
void
log_conf_warnings(const struct conf *conf)
{
	size_t	 i;

	for (i = 0; i < conf->cf_warnings.ce_count; i++)
		log_warnx("%s", conf->cf_warnings.ce_msg[i]);
}
