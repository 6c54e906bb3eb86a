/*
 * errlog.c - what instances write to stderr (`stderr = "log"`), logged
 * line by line and tagged with the service.
 *
 * Each instance writes into a pipe of its own, so the halves of a line
 * written in pieces never get another instance's text between them.  The
 * read ends are non-blocking and read a bounded amount per turn, and each
 * service has a budget of lines a second: past it the lines are counted,
 * not logged, and the pipes wait for the next second.  A flooding
 * instance then blocks on its own full pipe, never superd.
 *
 * superd keeps the write end of a wait instance's pipe until it reaps the
 * instance: its exit then wakes superd once (SIGCHLD), not twice (end of
 * file, then SIGCHLD), and the next client of a wait service, already
 * queued, is served that much sooner.  What is left in the pipe is read
 * at the reap.  When a datagram is already waiting for the next instance,
 * the pipe is kept with the listener and handed to that instance: one
 * pipe, not one per datagram, while a UDP wait service is busy (what a
 * helper the last instance left behind writes later is logged with the
 * next instance's lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "superd.h"

#define ERRLINE_MAX	1024
#define ERRLINES_PER_S	100	/* stderr lines logged per service per second */
#define ERRREAD_TURNS	4	/* reads of 4 KiB per pipe per loop turn */
#define NOPIPE_LOG_MS	60000	/* "goes to /dev/null" logged at most */

/*
 * Makes the pipe of a new instance: returns the write end for the child
 * and keeps the read end in el, or -1.  Short of descriptors, the
 * instance's stderr goes nowhere rather than take the last ones superd
 * needs to serve clients; that is logged at most once a minute per
 * service (near the limit, pipes that fit and pipes that do not take
 * turns, and each turn would be logged).
 */
int
errlog_open(struct errlog *el, struct service *sv)
{
	int64_t	 now;
	int	 p[2];

	memset(el, 0, sizeof(*el));
	el->el_fd = el->el_wfd = -1;
	/* Both ends non-blocking in one call; the child makes its end
	 * blocking again (spawn.c), so superd pays one system call less. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	if (!fd_has_headroom(p[0] > p[1] ? p[0] : p[1])) {
		close(p[0]);
		close(p[1]);
		errno = EMFILE;
		goto fail;
	}
	el->el_fd = p[0];
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

static void
errlog_line(struct service *sv, const char *line, size_t len)
{
	if (sv->sv_errlines >= ERRLINES_PER_S) {
		sv->sv_errdropped++;
		return;
	}
	sv->sv_errlines++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	log_info("%s: stderr: %.*s", sv->sv_conf->sc_name, (int)len, line);
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
 */
void
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
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			errlog_close(el, sv);
		break;
	}
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
