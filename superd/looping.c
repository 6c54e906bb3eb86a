/*
 * looping.c - wait services whose instances make no progress.
 *
 * An instance of a wait service makes no progress when it ends while the
 * datagram that started it is still first in the queue (UDP); when it
 * ends within FAST_FAIL_MS while every client that waited in the accept
 * queue when it started still waits there, none accepted (TCP: the
 * kernel's socket table names them, acceptq.c; a queue of more than
 * ACCEPTQ_MAX, or a table that cannot be read, is not judged); or when it
 * fails (cannot start, exits non-zero, is killed) within FAST_FAIL_MS.
 * LOOP_MAX such ends in a row are a looping verdict, and whom it hits
 * depends on whom the failures since the last progress follow:
 *
 *  - all of them one source's datagrams: that source's datagrams are
 *    dropped for LOOP_PAUSE_MS, as they reach the head of the queue, and
 *    the other clients are served on.  One client cannot get the service
 *    switched off for the others.
 *  - several sources (in this streak, or in the streaks before it since
 *    the last progress), while the program made progress for someone
 *    within LOOP_PAUSE_MS: the program works, these clients' datagrams do
 *    not; each source is dropped.
 *  - several sources and no recent progress, or an end no client can be
 *    blamed for (the program could not start; TCP, whose clients superd
 *    never sees): the program itself is broken, and the whole service
 *    pauses for LOOP_PAUSE_MS.  A program that never reads thus costs one
 *    streak for the first source, and pauses at the second.
 *
 * A source is an address: its port is the client's to change.  UDP
 * source addresses can be forged.  Whoever forges a client's address gets
 * that client's datagrams dropped for a while, and whoever forges two can
 * still pause a service that served nobody in the last LOOP_PAUSE_MS;
 * its clients then wait in the queue, and none is lost.  A service that
 * serves anyone is not paused by forged sources; nor is a TCP wait
 * service whose program takes a client each run, however fast clients
 * refill its queue, as the clients it took are gone from the table.
 * Memory is bounded: LOOP_DROPS sources per service, the one nearest its
 * end making room.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"

#define LOOP_PAUSE_MS	10000	/* a looping service or source rests so long */
#define FAST_FAIL_MS	1000
#define DROP_BATCH	64	/* datagrams dropped per readiness */

/* The source of a peer "ADDRESS:PORT": its address, "" when none. */
static void
peer_source(const char *peer, char *addr, size_t size)
{
	const char	*colon = strrchr(peer, ':');
	size_t		 len;

	addr[0] = '\0';
	if (colon == NULL || colon == peer)
		return;
	len = (size_t)(colon - peer);
	if (len >= size)
		len = size - 1;
	memcpy(addr, peer, len);
	addr[len] = '\0';
}

static struct loop_drop *
drop_find(struct loopwatch *lw, const char *addr, int64_t now)
{
	int	 i;

	for (i = 0; i < LOOP_DROPS; i++)
		if (lw->lw_drops[i].ld_until > now &&
		    strcmp(lw->lw_drops[i].ld_addr, addr) == 0)
			return &lw->lw_drops[i];
	return NULL;
}

/* Drops addr's datagrams until `until`; a slot whose time has passed, or
 * else the one nearest its end, makes room. */
static void
drop_add(struct loopwatch *lw, const char *addr, int64_t now, int64_t until)
{
	struct loop_drop	*ld;
	int			 i;

	if ((ld = drop_find(lw, addr, now)) == NULL) {
		ld = &lw->lw_drops[0];
		for (i = 1; i < LOOP_DROPS; i++)
			if (lw->lw_drops[i].ld_until < ld->ld_until)
				ld = &lw->lw_drops[i];
		snprintf(ld->ld_addr, sizeof(ld->ld_addr), "%s", addr);
	}
	ld->ld_until = until;
}

/*
 * Before a wait instance starts: for UDP, the datagram it is lent for
 * (its source into from), after those of dropped sources are taken off
 * the head of the queue; -1 when none is left to serve now.  For TCP, the
 * clients in the accept queue (listen.c), to judge the instance's end by:
 * a dump of the kernel's TCP table here and another at a quick end, paid
 * only by TCP wait services.
 */
int
looping_lend(struct service *sv, struct listener *ls, char *from, size_t size)
{
	char	 addr[64];
	int64_t	 now;
	int	 i;

	if (sv->sv_conf->sc_proto == PROTO_TCP)
		listener_queue_mark(ls);
	if (sv->sv_conf->sc_proto != PROTO_UDP)
		return 0;
	now = mono_ms();
	for (i = 0; i < DROP_BATCH; i++) {
		if (listener_head_peek(ls, from, size) == -1)
			return -1;
		peer_source(from, addr, sizeof(addr));
		if (drop_find(&sv->sv_loop, addr, now) == NULL)
			return 0;
		listener_drop_head(ls);
		sv->sv_refused++;
	}
	return -1;	/* more to drop: the socket wakes the loop again */
}

static void
streak_add(struct loopwatch *lw, const char *peer)
{
	char	 addr[64];
	int	 i;

	peer_source(peer, addr, sizeof(addr));
	if (addr[0] == '\0') {
		lw->lw_blameless = 1;
		return;
	}
	for (i = 0; i < lw->lw_nsrcs; i++)
		if (strcmp(lw->lw_srcs[i], addr) == 0)
			return;
	if (lw->lw_nsrcs < LOOP_MAX)
		snprintf(lw->lw_srcs[lw->lw_nsrcs++], sizeof(lw->lw_srcs[0]),
		    "%s", addr);
}


/* LOOP_MAX ends without progress: drop the sources, or pause. */
static void
looping_verdict(struct service *sv, int64_t now)
{
	struct loopwatch	*lw = &sv->sv_loop;
	const char		*name = sv->sv_conf->sc_name;
	int			 i, works;

	works = lw->lw_progress_at != 0 &&
	    now - lw->lw_progress_at < LOOP_PAUSE_MS;
	if (lw->lw_blameless || lw->lw_nsrcs == 0 ||
	    (lw->lw_nsrcs > 1 && !works)) {
		sv->sv_paused_until = now + LOOP_PAUSE_MS;
		log_warnx("%s: looping (%d restarts without progress), paused "
		    "for %d s", name, LOOP_MAX, LOOP_PAUSE_MS / 1000);
		return;
	}
	for (i = 0; i < lw->lw_nsrcs; i++)
		drop_add(lw, lw->lw_srcs[i], now, now + LOOP_PAUSE_MS);
	if (lw->lw_nsrcs == 1)
		log_warnx("%s: looping on datagrams from %s (%d restarts "
		    "without progress), dropping them for %d s", name,
		    lw->lw_srcs[0], LOOP_MAX, LOOP_PAUSE_MS / 1000);
	else
		log_warnx("%s: looping on datagrams from %s and %d other "
		    "sources (%d restarts without progress, others served), "
		    "dropping them for %d s", name, lw->lw_srcs[0],
		    lw->lw_nsrcs - 1, LOOP_MAX, LOOP_PAUSE_MS / 1000);
}

/*
 * A wait instance was reaped: whether it made progress.  Any progress
 * ends the streak and forgets the sources blamed; LOOP_MAX ends without it
 * in a row are a verdict.  One whose program never ran (launch.c: it
 * could not start, or was killed short of its exec) takes its datagram
 * with it, which would only wake superd again, and blames no client.
 */
void
looping_end(struct child *ch, int status, int64_t now, int never_ran)
{
	struct service		*sv = ch->ch_svc;
	struct listener		*ls = ch->ch_wait;
	struct loopwatch	*lw = &sv->sv_loop;
	int			 quick, failed, stuck = 0;

	if (never_ran && ls->ls_fd != -1 && sv->sv_conf->sc_proto == PROTO_UDP)
		listener_drop_head(ls);
	quick = now - ch->ch_start < FAST_FAIL_MS;
	failed = never_ran ||
	    (quick && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0));
	if (ls->ls_fd != -1 && sv->sv_conf->sc_proto == PROTO_UDP &&
	    ls->ls_head_valid)
		stuck = listener_head_same(ls);
	else if (ls->ls_fd != -1 && sv->sv_conf->sc_proto == PROTO_TCP)
		stuck = quick && listener_queue_same(ls);
	ls->ls_waitpid = 0;
	if (!failed && !stuck) {
		lw->lw_count = 0;
		lw->lw_blameless = 0;
		lw->lw_nsrcs = 0;	/* whoever failed before is forgiven */
		lw->lw_progress_at = now;
		return;
	}
	if (never_ran)
		lw->lw_blameless = 1;
	else
		streak_add(lw, ch->ch_peer);
	if (++lw->lw_count < LOOP_MAX)
		return;
	looping_verdict(sv, now);
	lw->lw_count = 0;
	lw->lw_blameless = 0;
}
