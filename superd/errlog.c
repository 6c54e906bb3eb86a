/*
 * errlog.c - what instances write to stderr (`stderr = "log"`), logged
 * line by line and tagged with the service, their control bytes escaped.
 *
 * Each running instance writes into a pipe of its own, so the halves of a
 * line written in pieces never get another instance's text between them.
 * The read ends are non-blocking and read a bounded amount per turn, and
 * each service has a budget of lines a second: past it the lines are
 * counted, not logged, and the pipes wait for the next second.  A flooding
 * instance then blocks on its own full pipe, never superd.
 *
 * superd keeps the write end of an instance's pipe until it reaps the
 * instance (while descriptors are plentiful; a wait instance's always):
 * its exit then wakes superd once (SIGCHLD), not twice (end of file, then
 * SIGCHLD), and what is left in the pipe is read at the reap.  A pipe so
 * emptied is kept as a spare for the service's next instance: a busy
 * service makes no pipe per client, and a spare unused for a second is
 * closed.  What a helper an instance left behind writes later is logged
 * with a later instance's lines, under the same service.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

#define ERRLINE_MAX	1024
#define ERRTEXT_MAX	1900	/* escaped: fits log.c's line with its tag */
#define ERRLINES_PER_S	100	/* stderr lines logged per service per second */
#define ERRREAD_TURNS	4	/* reads of 4 KiB per pipe per loop turn */
#define NOPIPE_LOG_MS	60000	/* "goes to /dev/null" logged at most */
#define SPARES_MAX	32	/* emptied pipes kept, all services together */
#define SPARE_IDLE_MS	1000	/* a spare unused this long is closed */

/* An emptied pipe waiting for its service's next instance. */
struct spare {
	struct service	*sp_svc;
	int		 sp_fd, sp_wfd;
	int64_t		 sp_since;	/* mono_ms() when it was emptied */
};

static struct spare	 spares[SPARES_MAX];	/* the oldest first */
static int		 nspares;

static void
spare_remove(int i)
{
	nspares--;
	memmove(&spares[i], &spares[i + 1],
	    (size_t)(nspares - i) * sizeof(*spares));
}

/* Gives el the service's most recent spare; returns 0 if it had none. */
static int
spare_take(struct errlog *el, struct service *sv)
{
	int	 i;

	for (i = nspares - 1; i >= 0; i--)
		if (spares[i].sp_svc == sv) {
			el->el_fd = spares[i].sp_fd;
			el->el_wfd = spares[i].sp_wfd;
			spare_remove(i);
			return 1;
		}
	return 0;
}

/* Closes spare i, logging what a leftover helper may have written to it. */
static void
spare_close(int i)
{
	struct errlog	 el = ERRLOG_NONE;
	struct service	*sv = spares[i].sp_svc;

	el.el_fd = spares[i].sp_fd;
	el.el_wfd = spares[i].sp_wfd;
	spare_remove(i);
	errlog_read(&el, sv, 1);
	errlog_close(&el, sv);
}

/*
 * Gives el the pipe of a new instance, a spare or a new one, and returns
 * the write end for the child (el keeps both ends), or -1.  Short of
 * descriptors, the instance's stderr goes nowhere rather than take the
 * last ones superd needs to serve clients; that is logged at most once a
 * minute per service (near the limit, pipes that fit and pipes that do
 * not take turns, and each turn would be logged).
 */
int
errlog_open(struct errlog *el, struct service *sv)
{
	int64_t	 now;
	int	 p[2];

	memset(el, 0, sizeof(*el));
	el->el_fd = el->el_wfd = -1;
	if (spare_take(el, sv))
		return el->el_wfd;
	/* Both ends non-blocking in one call; the child makes its end
	 * blocking again (exec.c), so superd pays one system call less. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	if (!fd_has_headroom(p[0] > p[1] ? p[0] : p[1])) {
		close(p[0]);
		close(p[1]);
		errno = EMFILE;
		goto fail;
	}
	el->el_fd = p[0];
	el->el_wfd = p[1];
	return p[1];
fail:
	now = mono_ms();
	if (sv->sv_errnopipe == 0 || now - sv->sv_errnopipe >= NOPIPE_LOG_MS) {
		log_warn("%s: stderr of new instances goes to /dev/null",
		    sv->sv_conf->sc_name);
		sv->sv_errnopipe = now;
	}
	return -1;
}

/* Whether the service's stderr pipes may be read now (its budget). */
int
errlog_ready(struct service *sv, int64_t now, int64_t *next)
{
	if (now - sv->sv_errwindow >= 1000) {
		if (sv->sv_errdropped > 0)
			log_warnx("%s: stderr: %lu lines not logged (over %d a "
			    "second)", sv->sv_conf->sc_name, sv->sv_errdropped,
			    ERRLINES_PER_S);
		sv->sv_errwindow = now;
		sv->sv_errlines = 0;
		sv->sv_errdropped = 0;
	}
	if (sv->sv_errlines < ERRLINES_PER_S)
		return 1;
	if (*next == 0 || sv->sv_errwindow + 1000 < *next)
		*next = sv->sv_errwindow + 1000;
	return 0;
}

/* One line of an instance, its line end taken off and the rest escaped
 * (log_escape): a program cannot forge or garble the log's lines. */
static void
errlog_line(struct service *sv, const char *line, size_t len)
{
	char	 text[ERRTEXT_MAX];

	if (sv->sv_errlines >= ERRLINES_PER_S) {
		sv->sv_errdropped++;
		return;
	}
	sv->sv_errlines++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	(void)log_escape(text, sizeof(text), line, len);
	log_info("%s: stderr: %s", sv->sv_conf->sc_name, text);
}

/* Splits what was read into lines; a partial line waits in el_buf. */
static void
errlog_split(struct errlog *el, struct service *sv, const char *buf,
    size_t n)
{
	size_t	 i, start = 0, room;

	for (i = 0; i < n; i++) {
		room = ERRLINE_MAX - 1 - el->el_len;
		if (buf[i] != '\n' && i - start < room)
			continue;
		if (el->el_len == 0) {
			errlog_line(sv, buf + start, i - start);
		} else {
			memcpy(el->el_buf + el->el_len, buf + start, i - start);
			errlog_line(sv, el->el_buf, el->el_len + i - start);
			el->el_len = 0;
		}
		start = i + (buf[i] == '\n');
	}
	if (start == n)
		return;
	if (el->el_buf == NULL && (el->el_buf = malloc(ERRLINE_MAX)) == NULL)
		return;		/* the partial line is lost, nothing else */
	memcpy(el->el_buf + el->el_len, buf + start, n - start);
	el->el_len += n - start;
}

/*
 * Reads what the instance wrote, a bounded amount unless `all` (the
 * instance ended: take what is left).  The pipe closes at end of file.
 * Returns whether the pipe is still open and was read empty.
 */
int
errlog_read(struct errlog *el, struct service *sv, int all)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 turns = all ? 64 : ERRREAD_TURNS;
	int64_t	 next = 0;

	while (el->el_fd != -1 && turns-- > 0 &&
	    (all || errlog_ready(sv, mono_ms(), &next))) {
		n = read(el->el_fd, buf, sizeof(buf));
		if (n > 0) {
			errlog_split(el, sv, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n == 0 || errno != EINTR)
			errlog_close(el, sv);
		break;
	}
	return 0;
}

/* The instance is gone: its last partial line is logged. */
void
errlog_flush(struct errlog *el, struct service *sv)
{
	if (el->el_len > 0)
		errlog_line(sv, el->el_buf, el->el_len);
	free(el->el_buf);
	el->el_buf = NULL;
	el->el_len = 0;
}

/* ... and the pipe let go. */
void
errlog_close(struct errlog *el, struct service *sv)
{
	errlog_flush(el, sv);
	if (el->el_fd != -1)
		close(el->el_fd);
	if (el->el_wfd != -1)
		close(el->el_wfd);
	memset(el, 0, sizeof(*el));
	el->el_fd = el->el_wfd = -1;
}

/*
 * The instance was reaped: its pipe, read empty and with its write end
 * still kept, becomes a spare of its service; any other closes.  With
 * SPARES_MAX kept, the oldest spare makes room.
 */
void
errlog_recycle(struct errlog *el, struct service *sv, int emptied,
    int64_t now)
{
	if (!emptied || el->el_fd == -1 || el->el_wfd == -1 ||
	    sv->sv_retired || sv->sv_conf->sc_stderr != STDERR_LOG) {
		errlog_close(el, sv);
		return;
	}
	errlog_flush(el, sv);
	if (nspares == SPARES_MAX)
		spare_close(0);
	spares[nspares].sp_svc = sv;
	spares[nspares].sp_fd = el->el_fd;
	spares[nspares].sp_wfd = el->el_wfd;
	spares[nspares].sp_since = now;
	nspares++;
	el->el_fd = el->el_wfd = -1;
}

/* Closes the spares unused for SPARE_IDLE_MS; *next is when to look again. */
void
errlog_spares_expire(int64_t now, int64_t *next)
{
	int64_t	 at;

	while (nspares > 0 && spares[0].sp_since + SPARE_IDLE_MS <= now)
		spare_close(0);
	if (nspares == 0)
		return;
	at = spares[0].sp_since + SPARE_IDLE_MS;
	if (*next == 0 || at < *next)
		*next = at;
}

/*
 * Closes the spares of sv (a service going away), or with sv NULL all of
 * them (descriptors ran short).  Returns how many were closed.
 */
int
errlog_spares_drop(const struct service *sv)
{
	int	 i, dropped = 0;

	for (i = nspares - 1; i >= 0; i--)
		if (sv == NULL || spares[i].sp_svc == sv) {
			spare_close(i);
			dropped++;
		}
	return dropped;
}
