/*
 * fingerd.c - an RFC 1288 finger server on stdin/stdout.
 *
 * Answers one query: a user's login, full name, home, shell, sessions,
 * ~/.project and ~/.plan; or, for the empty query, who is logged in.  It
 * never forwards "user@host" queries.  This file owns the answer: every
 * line goes out through out_line(), which neutralises control bytes and
 * ends the line with CRLF.  The query parser and the neutraliser live in
 * fingerd_util.c.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "fingerd_util.h"
#include "svcio.h"

#define QUERY_WAIT	10	/* default seconds a client has to ask */
#define FILE_SHOWN	4096	/* bytes of a .plan or .project shown */
#define NAME_SHOWN	128	/* bytes of a full name kept */

static void	 usage(void) __attribute__((noreturn));
static void	 out_line(const char *, size_t);
static void	 out(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	 ut_field(char *, size_t, const char *, size_t);
static void	 ut_when(char *, size_t, const struct utmpx *, int);
static void	 list_users(void);
static void	 show_sessions(const char *);
static ssize_t	 read_user_file(const struct passwd *, const char *, char *,
		    size_t);
static void	 show_file(const struct passwd *, const char *, const char *,
		    const char *);
static void	 show_user(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: fingerd [-u] [-t seconds]\n");
	exit(2);
}

/* One line of the answer, neutralised, CRLF-ended. */
static void
out_line(const char *s, size_t len)
{
	char	*vis;
	size_t	 n;

	if ((vis = malloc(FINGER_VIS_MAX(len))) == NULL)
		err(1, "malloc");
	n = finger_vis(vis, FINGER_VIS_MAX(len), s, len);
	fwrite(vis, 1, n, stdout);
	fputs("\r\n", stdout);
	free(vis);
}

static void
out(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		err(1, "vasprintf");
	/* Padding for columns must not trail an empty last column. */
	while (n > 0 && s[n - 1] == ' ')
		n--;
	out_line(s, (size_t)n);
	free(s);
}

/* A utmp field is a fixed array, NUL-terminated only when short. */
static void
ut_field(char *dst, size_t size, const char *src, size_t srcsize)
{
	size_t	n;

	n = strnlen(src, srcsize);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A session's start, short for the list or long for one user. */
static void
ut_when(char *dst, size_t size, const struct utmpx *ut, int verbose)
{
	struct tm	tm;
	time_t		t = ut->ut_tv.tv_sec;
	size_t		n;

	if (localtime_r(&t, &tm) == NULL)
		n = 0;
	else if (verbose)
		n = strftime(dst, size, "%a %b %e %H:%M (%Z)", &tm);
	else
		n = strftime(dst, size, "%b %e %H:%M", &tm);
	if (n == 0)
		snprintf(dst, size, "?");
}

/* The empty query: one line per login session in utmp. */
static void
list_users(void)
{
	struct utmpx	*ut;
	struct passwd	*pw;
	char		 user[sizeof(ut->ut_user) + 1];
	char		 line[sizeof(ut->ut_line) + 1];
	char		 host[sizeof(ut->ut_host) + 1];
	char		 name[NAME_SHOWN], when[64];
	int		 n = 0;

	setutxent();
	while ((ut = getutxent()) != NULL) {
		if (ut->ut_type != USER_PROCESS)
			continue;
		if (n++ == 0)
			out("%-12s %-20s %-8s %-12s %s", "Login", "Name",
			    "Tty", "When", "Where");
		ut_field(user, sizeof(user), ut->ut_user, sizeof(ut->ut_user));
		ut_field(line, sizeof(line), ut->ut_line, sizeof(ut->ut_line));
		ut_field(host, sizeof(host), ut->ut_host, sizeof(ut->ut_host));
		ut_when(when, sizeof(when), ut, 0);
		name[0] = '\0';
		if ((pw = getpwnam(user)) != NULL)
			finger_fullname(name, 21, pw->pw_gecos, pw->pw_name);
		out("%-12s %-20s %-8s %-12s %s", user, name, line, when, host);
	}
	endutxent();
	if (n == 0)
		out("No one logged on.");
}

/* A user's login sessions, from utmp. */
static void
show_sessions(const char *login)
{
	struct utmpx	*ut;
	char		 line[sizeof(ut->ut_line) + 1];
	char		 host[sizeof(ut->ut_host) + 1];
	char		 when[64];
	int		 n = 0;

	setutxent();
	while ((ut = getutxent()) != NULL) {
		if (ut->ut_type != USER_PROCESS ||
		    strnlen(ut->ut_user, sizeof(ut->ut_user)) != strlen(login) ||
		    strncmp(ut->ut_user, login, sizeof(ut->ut_user)) != 0)
			continue;
		n++;
		ut_field(line, sizeof(line), ut->ut_line, sizeof(ut->ut_line));
		ut_field(host, sizeof(host), ut->ut_host, sizeof(ut->ut_host));
		ut_when(when, sizeof(when), ut, 1);
		if (host[0] != '\0')
			out("On since %s on %s from %s", when, line, host);
		else
			out("On since %s on %s", when, line);
	}
	endutxent();
	if (n == 0)
		out("Not logged in.");
}

/*
 * Read up to size bytes of a file in the user's home directory.  Only a
 * regular file owned by that user is shown: a symbolic link to someone
 * else's file, a FIFO that would block, or a device is not.  O_NONBLOCK
 * keeps open(2) from waiting on a FIFO before fstat(2) can refuse it.
 * Returns the bytes read, or -1 when there is nothing to show.
 */
static ssize_t
read_user_file(const struct passwd *pw, const char *file, char *buf,
    size_t size)
{
	struct stat	 sb;
	char		*path;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if (asprintf(&path, "%s/%s", pw->pw_dir, file) == -1)
		err(1, "asprintf");
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != pw->pw_uid)
		goto fail;
	while (got < size) {
		if ((n = read(fd, buf + got, size - got)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
fail:
	close(fd);
	return -1;
}

/*
 * Show ~/FILE under a heading, line by line (a CR before a LF is part of
 * the line end), or the none line when there is no such file.
 */
static void
show_file(const struct passwd *pw, const char *file, const char *heading,
    const char *none)
{
	char		 buf[FILE_SHOWN + 1];
	const char	*p, *end, *nl;
	ssize_t		 n;
	size_t		 len;

	if ((n = read_user_file(pw, file, buf, sizeof(buf))) == -1) {
		if (none != NULL)
			out("%s", none);
		return;
	}
	out("%s", heading);
	len = (size_t)n > FILE_SHOWN ? FILE_SHOWN : (size_t)n;
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (nl < end && len > 0 && p[len - 1] == '\r')
			len--;
		out_line(p, len);
	}
	if ((size_t)n > FILE_SHOWN)
		out("[%s cut after %d bytes]", file, FILE_SHOWN);
}

static void
show_user(const char *login)
{
	struct passwd	*pw;
	char		 name[NAME_SHOWN];

	if ((pw = getpwnam(login)) == NULL) {
		out("finger: no such user \"%s\"", login);
		return;
	}
	finger_fullname(name, sizeof(name), pw->pw_gecos, pw->pw_name);
	out("Login: %-24s Name: %s", pw->pw_name, name);
	out("Directory: %-20s Shell: %s", pw->pw_dir,
	    pw->pw_shell[0] != '\0' ? pw->pw_shell : "/bin/sh");
	show_sessions(pw->pw_name);
	show_file(pw, ".project", "Project:", NULL);
	show_file(pw, ".plan", "Plan:", "No Plan.");
}

int
main(int argc, char *argv[])
{
	struct fquery	 fq;
	struct timespec	 dl;
	char		 buf[FQ_BUF_SIZE];
	size_t		 len;
	unsigned int	 wait = QUERY_WAIT;
	int		 ch, uflag = 0, drain = 0;

	while ((ch = getopt(argc, argv, "t:u")) != -1) {
		switch (ch) {
		case 't':
			if (svc_parse_seconds(optarg, &wait) == -1) {
				warnx("-t %s: want seconds from 0 to 86400",
				    optarg);
				usage();
			}
			break;
		case 'u':
			uflag = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* A client that leaves early is an error to report, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");

	svc_deadline(&dl, wait);
	if (fquery_read(STDIN_FILENO, buf, sizeof(buf), &len,
	    wait ? &dl : NULL) == -1) {
		if (errno == ETIMEDOUT)
			errx(1, "no query in %u s", wait);
		err(1, "read");
	}
	/* Connected and left without a byte: nobody to answer. */
	if (len == 0)
		return 0;

	if (fquery_parse(buf, len, &fq) == -1) {
		out("finger: %s.", fq.fq_error);
		drain = 1;
	} else if (fq.fq_forward)
		out("finger: this server does not forward queries to "
		    "other hosts.");
	else if (fq.fq_empty && uflag)
		out("finger: this server does not list who is logged in; "
		    "please ask for a user by name.");
	else if (fq.fq_empty)
		list_users();
	else
		show_user(fq.fq_user);

	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "write");
	if (drain)
		svc_drain(STDIN_FILENO, STDOUT_FILENO, 1);
	return 0;
}
