/*
 * greeting.c - the visitor counter: reads a visitor's name on stdin and
 * answers on stdout "Hello NAME, you are visitor number N to this server".
 *
 * This file owns the state file: the last number given, in decimal,
 * updated in place under flock(2) so that concurrent instances hand out
 * every number exactly once and the directory that holds the file need
 * not be writable by the service's user.  The file is the service user's
 * alone (0600): anyone who can open it can hold its lock and keep every
 * visitor waiting.  Reading and checking the name
 * and the number's text form live in greeting_util.c.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greeting_util.h"
#include "svcio.h"

#define STATE_FILE	"/var/lib/superd/greeting.count"
#define NAME_WAIT	5	/* default seconds a visitor has to send a name */
#define LOCK_WAIT	5	/* seconds to wait for the state file's lock */
#define OPEN_TRIES	3	/* open/create races lost before giving up */

static void	 usage(void) __attribute__((noreturn));
static void	 on_alarm(int);
static int	 state_open(const char *);
static void	 state_private(int, const struct stat *, const char *);
static int	 state_lock(int, const char *);
static ssize_t	 state_read(int, char *, size_t);
static int	 state_write(int, const char *, size_t);
static int	 count_visit(const char *, uint64_t *);

static void
usage(void)
{
	fprintf(stderr, "usage: greeting [-s file] [-t seconds]\n");
	exit(2);
}

/*
 * Open the state file for reading and writing, creating it for the very
 * first visitor when the directory allows.  An existing file is opened
 * without O_CREAT: with fs.protected_regular, O_CREAT on another user's
 * file in a sticky directory fails even though plain O_RDWR would work.
 */
static int
state_open(const char *path)
{
	struct stat	sb;
	int		fd = -1, i;

	for (i = 0; i < OPEN_TRIES && fd == -1; i++) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY)) != -1)
			break;
		if (errno != ENOENT) {
			warn("%s", path);
			return -1;
		}
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOCTTY, 0600);
		if (fd == -1 && errno != EEXIST) {
			warn("cannot create %s", path);
			return -1;
		}
		/* EEXIST: another instance created it just now; open it. */
	}
	if (fd == -1) {
		warnx("%s: created and removed under our feet", path);
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		warn("%s", path);
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		warnx("%s: not a regular file", path);
		goto fail;
	}
	state_private(fd, &sb, path);
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * A state file that others may open lets them hold its lock: make one of
 * ours private (as an older greeting created it 0644), and say so about
 * one of someone else's.  Counting goes on either way: refusing would
 * turn a visitor who may wait into one who is never greeted.
 */
static void
state_private(int fd, const struct stat *sb, const char *path)
{
	mode_t	 mode = sb->st_mode & 07777;

	if ((mode & 077) == 0)
		return;
	if (sb->st_uid != geteuid()) {
		warnx("%s: mode %04o lets other users open it and hold its "
		    "lock; make it 0600, owned by uid %ld", path,
		    (unsigned)mode, (long)geteuid());
		return;
	}
	if (fchmod(fd, mode & ~(mode_t)077) == -1)
		warn("%s: fchmod", path);
	else
		warnx("%s: was mode %04o, open to other users; now %04o", path,
		    (unsigned)mode, (unsigned)(mode & ~(mode_t)077));
}

/* Only there to interrupt flock(2): the default action would kill us. */
static void
on_alarm(int sig)
{
	(void)sig;
}

/*
 * Take the exclusive lock, waiting at most LOCK_WAIT seconds: a holder
 * that never lets go must not pile up instances that wait long.  A
 * greeting holds the lock for one read, one write and one fdatasync(2),
 * far less than that.  The
 * timer repeats every second so that a signal delivered before flock(2)
 * started waiting cannot be lost.
 */
static int
state_lock(int fd, const char *path)
{
	struct sigaction	sa;
	struct itimerval	it, off;
	int			r, saved;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: flock must fail */
	if (sigaction(SIGALRM, &sa, NULL) == -1) {
		warn("sigaction");
		return -1;
	}
	memset(&it, 0, sizeof(it));
	memset(&off, 0, sizeof(off));
	it.it_value.tv_sec = LOCK_WAIT;
	it.it_interval.tv_sec = 1;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1) {
		warn("setitimer");
		return -1;
	}
	r = flock(fd, LOCK_EX);
	saved = errno;
	if (setitimer(ITIMER_REAL, &off, NULL) == -1) {
		warn("setitimer");
		return -1;
	}
	if (r == -1) {
		if (saved == EINTR)
			warnx("%s: still locked after %d seconds", path,
			    LOCK_WAIT);
		else {
			errno = saved;
			warn("%s: flock", path);
		}
		return -1;
	}
	return 0;
}

/* Read the whole file from offset 0, at most size bytes. */
static ssize_t
state_read(int fd, char *buf, size_t size)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < size) {
		if ((n = pread(fd, buf + got, size - got, (off_t)got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Replace the contents in place: write at 0, then cut what an older,
 * longer text left behind.  Never a temporary file and rename(2): the
 * directory need not be writable, and the lock stays on the one inode.
 */
static int
state_write(int fd, const char *buf, size_t len)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)done);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	if (ftruncate(fd, (off_t)len) == -1)
		return -1;
	/* A number given must not be given again after a crash. */
	if (fdatasync(fd) == -1)
		return -1;
	return 0;
}

/*
 * Give this visitor the next number: lock, read the last one, write it
 * plus one, unlock.  A file that holds no number is left alone and no
 * number is given: starting again at 1 would repeat numbers.
 */
static int
count_visit(const char *path, uint64_t *np)
{
	char		buf[GREET_COUNT_LEN + 1];
	uint64_t	last;
	ssize_t		n;
	int		fd, len;

	if ((fd = state_open(path)) == -1)
		return -1;
	if (state_lock(fd, path) == -1)
		goto fail;
	if ((n = state_read(fd, buf, sizeof(buf))) == -1) {
		warn("%s: read", path);
		goto fail;
	}
	if ((size_t)n > GREET_COUNT_LEN ||
	    greet_count_parse(buf, (size_t)n, &last) == -1) {
		warnx("%s: does not hold a visitor number; not counting "
		    "(fix it, or empty it to start again at 1)", path);
		goto fail;
	}
	if (last == UINT64_MAX) {
		warnx("%s: the count is at its largest value", path);
		goto fail;
	}
	if ((len = greet_count_format(buf, sizeof(buf), last + 1)) == -1) {
		warn("%s", path);
		goto fail;
	}
	if (state_write(fd, buf, (size_t)len) == -1) {
		warn("%s: write", path);
		goto fail;
	}
	/* close(2) drops the lock. */
	if (close(fd) == -1) {
		warn("%s: close", path);
		return -1;
	}
	*np = last + 1;
	return 0;
fail:
	close(fd);
	return -1;
}

int
main(int argc, char *argv[])
{
	struct greet_name	 gn;
	struct timespec		 dl;
	const char		*state = STATE_FILE;
	char			*reply;
	uint64_t		 n;
	unsigned int		 wait = NAME_WAIT;
	int			 ch, len;

	while ((ch = getopt(argc, argv, "s:t:")) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 't':
			if (svc_parse_seconds(optarg, &wait) == -1) {
				warnx("-t %s: want seconds from 0 to 86400",
				    optarg);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc || *state == '\0')
		usage();

	/* A visitor who leaves early is an error to report, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");

	svc_deadline(&dl, wait);
	greet_name_init(&gn);
	if (greet_name_read(STDIN_FILENO, &gn, wait ? &dl : NULL) == -1) {
		if (errno == ETIMEDOUT)
			errx(1, "no name in %u s; not counted",
			    wait);
		err(1, "read");
	}
	/* Connected and left without a byte: a probe, not a visitor. */
	if (gn.gn_seen == 0)
		return 0;

	if (count_visit(state, &n) == -1)
		return 1;
	len = asprintf(&reply, "Hello %s, you are visitor number %" PRIu64
	    " to this server\n", greet_name_show(&gn), n);
	if (len == -1)
		err(1, "asprintf");
	if (svc_write_all(STDOUT_FILENO, reply, (size_t)len) == -1)
		err(1, "write");
	free(reply);
	if (gn.gn_end == GREET_CUT)
		svc_drain(STDIN_FILENO, STDOUT_FILENO, 1);
	return 0;
}
