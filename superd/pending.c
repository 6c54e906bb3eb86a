/*
 * pending.c - connections waiting for their first bytes.
 *
 * Owns every accepted connection whose first bytes superd reads itself
 * before it decides what to do with it (a tcpmux name line, a PROXY header
 * before one): its descriptor, its peer, its deadline and the bytes read so
 * far.  The loop watches them with its listeners; nothing here blocks.
 * Exactly the bytes owed are taken from the socket, never one of what
 * follows, so a program started on it gets the stream unchanged.  How a
 * connection's first bytes ended goes to the callback it was added with,
 * which then owns it.
 *
 * Each one counts in its service's sv_pending, which bounds them as
 * `instances` bounds instances (loop.c): a silent client costs one entry
 * until its deadline, never an instance.  Those owing a PROXY header count
 * in sv_headers instead, which PROXY_WAITING bounds per service: a proxy
 * legitimately holds many connections, so its own address is no one
 * client's, and while a header is owed none is known.  The others are
 * counted per client too (pending_count_source), so that loop.c can keep
 * one client from taking every entry.
 *
 * A connection is read first right after it is added (pending_read_newest),
 * since what it owes has usually come with it.
 *
 * A connection whose header is in may have to wait for an instance slot
 * (FIRST_HELD): it is not read meanwhile, and pending_held() asks its
 * callback again on every turn of the loop.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

static struct pending	**table;
static size_t		  ntable, table_cap;

/* The deadline and the most bytes of each kind. */
static const struct {
	int		 fk_seconds;
	size_t		 fk_max;
} kinds[] = {
	[FIRST_PROXY] = { PROXY_SECONDS, PROXY_HDR_MAX },
	[FIRST_TCPMUX] = { TCPMUX_SECONDS, TCPMUX_LINE_MAX },
	[FIRST_HELD] = { 0, 0 },
};

static void
pending_start(struct pending *pd, enum first_kind kind)
{
	int	 header = kind == FIRST_PROXY;

	pd->pd_kind = kind;
	pd->pd_len = 0;
	pd->pd_deadline = kind == FIRST_HELD ? INT64_MAX :
	    mono_ms() + (int64_t)kinds[kind].fk_seconds * 1000;
	if (header != pd->pd_header) {
		if (header)
			pd->pd_svc->sv_headers++;
		else if (pd->pd_svc->sv_headers > 0)
			pd->pd_svc->sv_headers--;
		pd->pd_header = header;
	}
}

/*
 * Takes the connection fd of sv, from pe, until its first bytes are in.
 * Returns -1 (errno EMFILE: it could not be watched; ENOMEM) with fd still
 * the caller's.
 */
int
pending_add(struct service *sv, int fd, const struct peer *pe,
    enum first_kind kind, pending_fn done)
{
	struct pending	*pd, **grown;
	size_t		 cap;

	if (!fd_has_headroom(fd)) {
		errno = EMFILE;
		return -1;
	}
	if (ntable == table_cap) {
		cap = table_cap ? table_cap * 2 : 16;
		if ((grown = reallocarray(table, cap, sizeof(*table))) == NULL)
			return -1;
		table = grown;
		table_cap = cap;
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		return -1;
	pd->pd_svc = sv;
	pd->pd_fd = fd;
	pd->pd_peer = *pe;
	/* Behind a proxy the client is known once the header is in. */
	if (kind != FIRST_PROXY)
		(void)addr_key(pe->pe_remote_ip, &pd->pd_src);
	pd->pd_done = done;
	pending_start(pd, kind);
	table[ntable++] = pd;
	sv->sv_pending++;
	return 0;
}

/*
 * Tells the callback how table[i] ended: it stays (returns 1, waiting for
 * its next kind) or goes.
 */
static int
pending_finish(size_t i, enum first_status st)
{
	struct pending	*pd = table[i];

	if (pd->pd_done(pd, st) == 1 && st == FIRST_DONE) {
		pending_start(pd, pd->pd_kind);
		return 1;
	}
	if (pd->pd_svc->sv_pending > 0)
		pd->pd_svc->sv_pending--;
	if (pd->pd_header && pd->pd_svc->sv_headers > 0)
		pd->pd_svc->sv_headers--;
	table[i] = table[--ntable];
	free(pd);
	return 0;
}

static ssize_t
first_parse(struct pending *pd, size_t len)
{
	if (pd->pd_kind == FIRST_PROXY)
		return proxy_parse(pd->pd_buf, len, &pd->pd_proxy);
	return tcpmux_parse((const char *)pd->pd_buf, len, pd->pd_name,
	    sizeof(pd->pd_name));
}

/*
 * Reads what the client sent: a look at what is there, then exactly the
 * part owed.  Returns a status, or -1 to go on waiting.
 */
static int
first_read(struct pending *pd)
{
	size_t	 max = kinds[pd->pd_kind].fk_max, take;
	ssize_t	 n, done;

	n = recv(pd->pd_fd, pd->pd_buf + pd->pd_len, max - pd->pd_len,
	    MSG_PEEK | MSG_DONTWAIT);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? -1 : FIRST_CLOSED;
	if (n == 0)
		return FIRST_CLOSED;
	done = first_parse(pd, pd->pd_len + (size_t)n);
	if (done < 0 || (done > 0 && (size_t)done <= pd->pd_len))
		return FIRST_BAD;
	take = done > 0 ? (size_t)done - pd->pd_len : (size_t)n;
	/* Taken, or the next readiness would be the same bytes again. */
	if (recv(pd->pd_fd, pd->pd_buf + pd->pd_len, take, MSG_DONTWAIT) !=
	    (ssize_t)take)
		return FIRST_CLOSED;
	pd->pd_len += take;
	if (done > 0)
		return FIRST_DONE;
	return pd->pd_len == max ? FIRST_BAD : -1;
}

/* Gives the loop every pending connection, its deadline to *next. */
void
pending_watch(fd_watch_fn watch, void *set, int64_t *next)
{
	size_t	 i;

	for (i = 0; i < ntable; i++) {
		if (table[i]->pd_kind == FIRST_HELD)
			continue;	/* the program's to read */
		watch(set, table[i]->pd_fd);
		if (*next == 0 || table[i]->pd_deadline < *next)
			*next = table[i]->pd_deadline;
	}
}

void
pending_read(fd_ready_fn ready, void *set)
{
	size_t	 i = 0;
	int	 st;

	/* A descriptor in the set may have been closed and reused since the
	 * wait: every read here is non-blocking, so that costs nothing. */
	while (i < ntable) {
		if (table[i]->pd_kind == FIRST_HELD ||
		    !ready(set, table[i]->pd_fd) ||
		    (st = first_read(table[i])) == -1 ||
		    pending_finish(i, (enum first_status)st) == 1)
			i++;
	}
}

/*
 * Reads the connection pending_add took last, at once: a proxy sends its
 * header with the connection (a client its tcpmux name), so it is usually
 * there when the connection is accepted, and leaving it for the loop would
 * cost every connection a turn of pselect() of its own.  Whatever is not
 * in yet is waited for like any other; a header followed by a name in the
 * same bytes is read to the end.
 */
void
pending_read_newest(void)
{
	size_t	 i = ntable - 1;
	int	 st;

	if (ntable == 0)
		return;
	/* Kept (1): at the same place, owing what comes next. */
	while (table[i]->pd_kind != FIRST_HELD &&
	    (st = first_read(table[i])) != -1 &&
	    pending_finish(i, (enum first_status)st) == 1)
		;
}

/* Connections whose deadline has come. */
void
pending_timeouts(int64_t now)
{
	size_t	 i = 0;

	while (i < ntable) {
		if (table[i]->pd_deadline > now ||
		    pending_finish(i, FIRST_TIMEOUT) == 1)
			i++;
	}
}

/* Connections waiting for an instance slot: their callbacks try again. */
void
pending_held(void)
{
	size_t	 i = 0;

	while (i < ntable) {
		if (table[i]->pd_kind != FIRST_HELD ||
		    pending_finish(i, FIRST_DONE) == 1)
			i++;
	}
}

/*
 * A reload replaced old by sv: its pending connections go on there.
 * With sv NULL old is retired, and they are dropped.
 */
void
pending_rebind(struct service *old, struct service *sv)
{
	size_t	 i = 0;

	while (i < ntable) {
		if (table[i]->pd_svc != old) {
			i++;
			continue;
		}
		if (sv == NULL) {
			(void)pending_finish(i, FIRST_DROPPED);
			continue;
		}
		table[i]->pd_svc = sv;
		old->sv_pending--;
		sv->sv_pending++;
		if (table[i]->pd_header) {
			old->sv_headers--;
			sv->sv_headers++;
		}
		i++;
	}
}

/*
 * How many connections of sv from the client at addr are pending, an
 * IPv6 client counted by the service's prefix as per_source counts it.
 */
unsigned
pending_count_source(const struct service *sv, const char *addr)
{
	struct srckey	 key;
	unsigned	 n = 0;
	size_t		 i;

	if (addr_key(addr, &key) == -1)
		return 0;
	for (i = 0; i < ntable; i++)
		if (table[i]->pd_svc == sv && addr_key_same(&table[i]->pd_src,
		    &key, sv->sv_conf->sc_per_source_ipv6_prefix))
			n++;
	return n;
}
