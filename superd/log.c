/*
 * log.c - the one log sink: syslog, and stderr as well with -d.
 *
 * Owns the log settings.  Every event has its helper elsewhere; they all
 * end up here, so a line has the same shape in syslog and on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"

static int	log_to_stderr;
static int	log_fd = STDERR_FILENO;
static int	log_verbose;

void
log_init(int to_stderr, int facility)
{
	log_to_stderr = to_stderr;
	log_verbose = to_stderr;
	openlog("superd", LOG_PID | LOG_NDELAY, facility);
}

/* A child about to give fd 2 to a program keeps logging to a copy. */
void
log_stderr_fd(int fd)
{
	log_fd = fd;
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
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(3);
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
 * Copies len bytes of text that others control (what a program writes to
 * its stderr) into dst as one inert log line, and returns its length.
 * Every byte below 0x20 but TAB, DEL and the backslash itself become \xHH
 * (\x5c for the backslash, so that no text can pass for an escape):
 * nothing can end the line early (NUL, CR, LF), ring a bell or drive the
 * terminal of whoever reads the log (ESC).  Bytes from 0x80 up pass as
 * they are, so UTF-8 text stays readable.  What does not fit in dst is
 * cut, never in the middle of an escape; dst is always terminated.
 */
size_t
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, out = 0;
	unsigned char		 c;

	if (size == 0)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if ((c >= 0x20 && c != 0x7f && c != '\\') || c == '\t') {
			if (out + 1 >= size)
				break;
			dst[out++] = (char)c;
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
