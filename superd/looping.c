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
 * A source is an address, an IPv6 one by the service's
 * per_source_ipv6_prefix (addr.c's key): its port, and the rest of its
 * network, are the client's to change.  UDP
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

#include <string.h>

#include "clock.h"
#include "superd.h"

#define LOOP_PAUSE_MS	10000	/* a looping service or source rests so long */
#define FAST_FAIL_MS	1000
#define DROP_BATCH	64	/* datagrams dropped per readiness */

/*
 * The source of a peer "ADDRESS:PORT" into key: its address, an IPv6 one
 * by the service's prefix, since one host may hold a whole /64 and take a
 * fresh address for every datagram.  -1 when it has none.
 */
static int
peer_source(const struct service *sv, const char *peer, struct srckey *key)
{
	const char	*colon = strrchr(peer, ':');
	char		 addr[64];
	size_t		 len;

	memset(key, 0, sizeof(*key));
	if (colon == NULL || colon == peer ||
	    (len = (size_t)(colon - peer)) >= sizeof(addr))
		return -1;
	memcpy(addr, peer, len);
	addr[len] = '\0';
	if (addr_key(addr, key) == -1)
		return -1;
	addr_key_mask(key, sv->sv_conf->sc_per_source_ipv6_prefix);
	return 0;
}

static struct loop_drop *
drop_find(struct service *sv, const struct srckey *key, int64_t now)
{
	struct loopwatch	*lw = &sv->sv_loop;
	int			 i;

	for (i = 0; i < LOOP_DROPS; i++)
		if (lw->lw_drops[i].ld_until > now &&
		    addr_key_same(&lw->lw_drops[i].ld_src, key,
		    sv->sv_conf->sc_per_source_ipv6_prefix))
			return &lw->lw_drops[i];
	return NULL;
}

/* Drops key's datagrams until `until`; a slot whose time has passed, or
 * else the one nearest its end, makes room. */
static void
drop_add(struct service *sv, const struct srckey *key, int64_t now,
    int64_t until)
{
	struct loopwatch	*lw = &sv->sv_loop;
	struct loop_drop	*ld;
	int			 i;

	if ((ld = drop_find(sv, key, now)) == NULL) {
		ld = &lw->lw_drops[0];
		for (i = 1; i < LOOP_DROPS; i++)
			if (lw->lw_drops[i].ld_until < ld->ld_until)
				ld = &lw->lw_drops[i];
		ld->ld_src = *key;
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
	struct srckey	 key;
	int64_t		 now;
	int		 i;

	if (sv->sv_conf->sc_proto == PROTO_TCP)
		listener_queue_mark(ls);
	if (sv->sv_conf->sc_proto != PROTO_UDP)
		return 0;
	now = mono_ms();
	for (i = 0; i < DROP_BATCH; i++) {
		if (listener_head_peek(ls, from, size) == -1)
			return -1;
		if (peer_source(sv, from, &key) == -1 ||
		    drop_find(sv, &key, now) == NULL)
			return 0;
		listener_drop_head(ls);
		sv->sv_refused++;
	}
	return -1;	/* more to drop: the socket wakes the loop again */
}

static void
streak_add(struct service *sv, const char *peer)
{
	struct loopwatch	*lw = &sv->sv_loop;
	struct srckey		 key;
	int			 i;

	if (peer_source(sv, peer, &key) == -1) {
		lw->lw_blameless = 1;
		return;
	}
	for (i = 0; i < lw->lw_nsrcs; i++)
		if (addr_key_same(&lw->lw_srcs[i], &key,
		    sv->sv_conf->sc_per_source_ipv6_prefix))
			return;
	if (lw->lw_nsrcs < LOOP_MAX)
		lw->lw_srcs[lw->lw_nsrcs++] = key;
}


/* LOOP_MAX ends without progress: drop the sources, or pause. */
static void
looping_verdict(struct service *sv, int64_t now)
{
	struct loopwatch	*lw = &sv->sv_loop;
	const char		*name = sv->sv_conf->sc_name;
	char			 first[64];
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
		drop_add(sv, &lw->lw_srcs[i], now, now + LOOP_PAUSE_MS);
	addr_key_format(&lw->lw_srcs[0], sv->sv_conf->sc_per_source_ipv6_prefix,
	    first, sizeof(first));
	if (lw->lw_nsrcs == 1)
		log_warnx("%s: looping on datagrams from %s (%d restarts "
		    "without progress), dropping them for %d s", name,
		    first, LOOP_MAX, LOOP_PAUSE_MS / 1000);
	else
		log_warnx("%s: looping on datagrams from %s and %d other "
		    "sources (%d restarts without progress, others served), "
		    "dropping them for %d s", name, first,
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
		streak_add(sv, ch->ch_peer);
	if (++lw->lw_count < LOOP_MAX)
		return;
	looping_verdict(sv, now);
	lw->lw_count = 0;
	lw->lw_blameless = 0;
}
