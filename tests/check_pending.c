/*
 * check_pending.c - the reader of a connection's first bytes, a PROXY
 * header or a tcpmux name (pending.c): what it takes, when it gives up,
 * and how it counts the connections of one client.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"
#include "check_superd.h"

/* What pending.c told the callback, and what the callback answers. */
static struct {
	int			 calls;
	enum first_status	 st;
	enum first_kind		 kind;
	char			 name[TCPMUX_LINE_MAX];
	char			 src[64];
	int			 then_tcpmux;	/* on a PROXY header */
	int			 then_hold;	/* on a PROXY header */
} seen;

static int
record(struct pending *pd, enum first_status st)
{
	seen.calls++;
	seen.st = st;
	seen.kind = pd->pd_kind;
	if (st == FIRST_DONE && pd->pd_kind == FIRST_TCPMUX)
		snprintf(seen.name, sizeof(seen.name), "%s", pd->pd_name);
	if (st == FIRST_DONE && pd->pd_kind == FIRST_PROXY) {
		snprintf(seen.src, sizeof(seen.src), "%s",
		    pd->pd_proxy.ph_src_ip);
		if (seen.then_tcpmux) {
			pd->pd_kind = FIRST_TCPMUX;
			return 1;
		}
	}
	if (st == FIRST_DONE && (pd->pd_kind == FIRST_PROXY ||
	    pd->pd_kind == FIRST_HELD) && seen.then_hold) {
		seen.then_hold--;
		pd->pd_kind = FIRST_HELD;
		return 1;
	}
	return 0;
}

/* A descriptor looked for among those pending_watch() names. */
struct watch_for {
	int	 wf_fd;
	int	 wf_seen;	/* times named */
};

/* An fd_watch_fn over a struct watch_for. */
static void
note_watch(void *arg, int fd)
{
	struct watch_for	*wf = arg;

	if (fd == wf->wf_fd)
		wf->wf_seen++;
}

/* The loop's answer when only *arg is readable. */
static int
only_ready(void *arg, int fd)
{
	return fd == *(const int *)arg;
}

/* Whether pending_watch() names fd, and the deadline it gives. */
static int
watched(int fd, int64_t *next)
{
	struct watch_for	 wf = { fd, 0 };

	*next = 0;
	pending_watch(note_watch, &wf, next);
	return wf.wf_seen;
}

/* One turn of the loop for the connection fd: what is there is read. */
static void
turn(int fd)
{
	pending_read(only_ready, &fd);
}

static void
client_says(int fd, const char *text)
{
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

START_TEST(pending_takes_exactly_the_first_bytes)
{
	struct svc_conf	 sc;
	struct service	 sv;
	struct peer	 pe;
	int		 sp[2];
	char		 rest[16];

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sv.sv_conf = &sc;
	memset(&pe, 0, sizeof(pe));
	memset(&seen, 0, sizeof(seen));
	seen.then_tcpmux = 1;
	snprintf(pe.pe_remote_ip, sizeof(pe.pe_remote_ip), "127.0.0.1");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pending_add(&sv, sp[0], &pe, FIRST_PROXY, record), 0);
	ck_assert_uint_eq(sv.sv_pending, 1);
	ck_assert_uint_eq(sv.sv_headers, 1);
	/* The proxy's address is no client's: it is not counted as one. */
	ck_assert_uint_eq(pending_count_source(&sv, "127.0.0.1"), 0);
	/* A header and part of a name in one segment: the header only. */
	client_says(sp[1], "PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\nta");
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.src, "192.0.2.7");
	ck_assert_uint_eq(sv.sv_pending, 1);
	ck_assert_uint_eq(sv.sv_headers, 0);
	turn(sp[0]);		/* "ta": taken, not yet a line */
	ck_assert_int_eq(seen.calls, 1);
	turn(sp[0]);		/* nothing more: still waiting */
	ck_assert_int_eq(seen.calls, 1);
	client_says(sp[1], "rget\r\nafter");
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_int_eq(seen.st, FIRST_DONE);
	ck_assert_str_eq(seen.name, "target");
	ck_assert_uint_eq(sv.sv_pending, 0);
	/* What follows the name is the program's, untouched. */
	ck_assert_int_eq(recv(sp[0], rest, sizeof(rest), MSG_DONTWAIT), 5);
	ck_assert_int_eq(memcmp(rest, "after", 5), 0);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/*
 * A header that comes in pieces, as a slow or congested proxy sends it:
 * each piece is taken and judged with those before it, nothing past the
 * header is taken, and one complete while the service has no slot is held
 * (not read) until its callback lets it go.
 */
START_TEST(pending_header_in_pieces_then_held)
{
	static const uint8_t v2[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 9, 127, 0, 0, 1, 0x9c, 0x40, 0x00, 0x50,
		'h', 'i'
	};
	static const char v1[] = "PROXY TCP6 2001:db8::5 ::1 4000 80\r\n";
	struct svc_conf	 sc;
	struct service	 sv;
	struct peer	 pe;
	size_t		 i;
	int		 sp[2];
	int64_t		 next;
	char		 rest[8];

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sv.sv_conf = &sc;
	memset(&pe, 0, sizeof(pe));
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pending_add(&sv, sp[0], &pe, FIRST_PROXY, record), 0);
	/* v1 one byte at a time: asks for more up to its last byte. */
	for (i = 0; i + 1 < sizeof(v1) - 1; i++) {
		ck_assert_int_eq(write(sp[1], v1 + i, 1), 1);
		turn(sp[0]);
		ck_assert_int_eq(seen.calls, 0);
	}
	ck_assert_int_eq(write(sp[1], v1 + i, 1), 1);
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.st, FIRST_DONE);
	ck_assert_str_eq(seen.src, "2001:db8::5");
	ck_assert_uint_eq(sv.sv_pending, 0);
	close(sp[0]);
	close(sp[1]);

	/* v2: part of the fixed part, the rest of it, then the body. */
	memset(&seen, 0, sizeof(seen));
	seen.then_hold = 2;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pending_add(&sv, sp[0], &pe, FIRST_PROXY, record), 0);
	ck_assert_int_eq(write(sp[1], v2, 7), 7);
	turn(sp[0]);
	ck_assert_int_eq(write(sp[1], v2 + 7, 9), 9);
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(sv.sv_headers, 1);
	/* Owing bytes: the loop watches it, until its deadline at most. */
	ck_assert_int_eq(watched(sp[0], &next), 1);
	ck_assert(next > mono_ms() && next <= mono_ms() + PROXY_SECONDS * 1000);
	ck_assert_int_eq(write(sp[1], v2 + 16, sizeof(v2) - 16),
	    (ssize_t)(sizeof(v2) - 16));
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.src, "192.0.2.9");
	/* Held: no header owed, still pending, its bytes not read. */
	ck_assert_uint_eq(sv.sv_headers, 0);
	ck_assert_uint_eq(sv.sv_pending, 1);
	ck_assert_int_eq(watched(sp[0], &next), 0);	/* the program's */
	ck_assert_int_eq(next, 0);
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	pending_timeouts(mono_ms() + 3600 * 1000);
	ck_assert_int_eq(seen.calls, 1);
	pending_held();		/* still no slot */
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_uint_eq(sv.sv_pending, 1);
	pending_held();		/* a slot: the callback takes it */
	ck_assert_int_eq(seen.calls, 3);
	ck_assert_int_eq(seen.kind, FIRST_HELD);
	ck_assert_uint_eq(sv.sv_pending, 0);
	ck_assert_int_eq(recv(sp[0], rest, sizeof(rest), MSG_DONTWAIT), 2);
	ck_assert_int_eq(memcmp(rest, "hi", 2), 0);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/*
 * What came with a connection is read as soon as it is added, with no turn
 * of the loop: a header and the name behind it both, and of that
 * connection alone.  One with nothing yet waits as any other, and one held
 * for an instance slot is not read.
 */
START_TEST(pending_reads_the_newest_at_once)
{
	struct svc_conf	 sc;
	struct service	 sv;
	struct peer	 pe;
	int		 older[2], sp[2];
	char		 rest[16];

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sv.sv_conf = &sc;
	memset(&pe, 0, sizeof(pe));
	memset(&seen, 0, sizeof(seen));
	pending_read_newest();		/* nothing pending: nothing done */
	ck_assert_int_eq(seen.calls, 0);
	seen.then_tcpmux = 1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, older), 0);
	ck_assert_int_eq(pending_add(&sv, older[0], &pe, FIRST_PROXY, record),
	    0);
	client_says(older[1], "PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	client_says(sp[1], "PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\n"
	    "target\r\nafter");
	ck_assert_int_eq(pending_add(&sv, sp[0], &pe, FIRST_PROXY, record), 0);
	ck_assert_uint_eq(sv.sv_pending, 2);
	pending_read_newest();
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_int_eq(seen.st, FIRST_DONE);
	ck_assert_str_eq(seen.src, "192.0.2.7");
	ck_assert_str_eq(seen.name, "target");
	ck_assert_int_eq(recv(sp[0], rest, sizeof(rest), MSG_DONTWAIT), 5);
	ck_assert_int_eq(memcmp(rest, "after", 5), 0);
	/* The older one is the loop's to read, on its turn. */
	ck_assert_uint_eq(sv.sv_pending, 1);
	ck_assert_uint_eq(sv.sv_headers, 1);
	close(sp[0]);
	close(sp[1]);

	/* Nothing sent yet: it waits, and is read on the loop's turn. */
	memset(&seen, 0, sizeof(seen));
	seen.then_hold = 1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pending_add(&sv, sp[0], &pe, FIRST_PROXY, record), 0);
	pending_read_newest();
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(sv.sv_headers, 2);
	client_says(sp[1], "PROXY TCP4 192.0.2.8 127.0.0.1 1 2\r\nhi");
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.src, "192.0.2.8");
	/* Held for a slot: the bytes behind the header are the program's. */
	ck_assert_uint_eq(sv.sv_headers, 1);
	pending_read_newest();
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(recv(sp[0], rest, sizeof(rest), MSG_PEEK |
	    MSG_DONTWAIT), 2);
	pending_rebind(&sv, NULL);
	ck_assert_uint_eq(sv.sv_pending, 0);
	ck_assert_uint_eq(sv.sv_headers, 0);
	close(sp[0]);
	close(sp[1]);
	close(older[0]);
	close(older[1]);
}
END_TEST

/* A connection of sv waiting for a name; *client is the other end. */
static int
mux_conn(struct service *sv, int *client)
{
	struct peer	 pe;
	int		 sp[2];

	memset(&pe, 0, sizeof(pe));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pending_add(sv, sp[0], &pe, FIRST_TCPMUX, record), 0);
	*client = sp[1];
	return sp[0];
}

START_TEST(pending_bad_closed_late_and_dropped)
{
	struct service	 sv;
	char		 line[200];
	int		 fd, client;

	memset(&sv, 0, sizeof(sv));
	memset(&seen, 0, sizeof(seen));
	fd = mux_conn(&sv, &client);
	client_says(client, "bad\001name\r\n");
	turn(fd);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.st, FIRST_BAD);
	close(fd);
	close(client);
	/* A line that never ends within the limit is bad too. */
	fd = mux_conn(&sv, &client);
	memset(line, 'a', sizeof(line));
	ck_assert_int_eq(write(client, line, 100), 100);
	turn(fd);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(write(client, line, 100), 100);
	turn(fd);
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_int_eq(seen.st, FIRST_BAD);
	close(fd);
	close(client);
	fd = mux_conn(&sv, &client);
	pending_timeouts(mono_ms() + 1000);
	ck_assert_int_eq(seen.calls, 2);
	pending_timeouts(mono_ms() + TCPMUX_SECONDS * 1000 + 1);
	ck_assert_int_eq(seen.calls, 3);
	ck_assert_int_eq(seen.st, FIRST_TIMEOUT);
	close(fd);
	close(client);
	fd = mux_conn(&sv, &client);
	pending_rebind(&sv, NULL);
	ck_assert_int_eq(seen.calls, 4);
	ck_assert_int_eq(seen.st, FIRST_DROPPED);
	close(fd);
	close(client);
	fd = mux_conn(&sv, &client);
	close(client);
	turn(fd);
	ck_assert_int_eq(seen.calls, 5);
	ck_assert_int_eq(seen.st, FIRST_CLOSED);
	ck_assert_uint_eq(sv.sv_pending, 0);
	close(fd);
}
END_TEST

/*
 * Pending connections count per client as per_source does: an IPv6 one by
 * the service's prefix (a host rotating its addresses in its /64 is one
 * client), an IPv4 one, mapped or not, by its address.
 */
START_TEST(pending_counts_a_client_by_its_prefix)
{
	static const char *const from[] = { "2001:db8:1:2::a",
	    "2001:db8:1:2:ffff::1", "::ffff:192.0.2.7" };
	struct svc_conf	 sc;
	struct service	 sv;
	struct peer	 pe;
	int		 sp[3][2];
	size_t		 i;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	memset(&seen, 0, sizeof(seen));
	sc.sc_per_source_ipv6_prefix = 64;
	sv.sv_conf = &sc;
	for (i = 0; i < 3; i++) {
		memset(&pe, 0, sizeof(pe));
		snprintf(pe.pe_remote_ip, sizeof(pe.pe_remote_ip), "%s",
		    from[i]);
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
		ck_assert_int_eq(pending_add(&sv, sp[i][0], &pe, FIRST_TCPMUX,
		    record), 0);
	}
	ck_assert_uint_eq(pending_count_source(&sv, "2001:db8:1:2::99"), 2);
	ck_assert_uint_eq(pending_count_source(&sv, "2001:db8:1:3::a"), 0);
	ck_assert_uint_eq(pending_count_source(&sv, "192.0.2.7"), 1);
	ck_assert_uint_eq(pending_count_source(&sv, "192.0.2.8"), 0);
	ck_assert_uint_eq(pending_count_source(&sv, "pid 12"), 0);
	/* The prefix is the service's, judged when counting. */
	sc.sc_per_source_ipv6_prefix = 128;
	ck_assert_uint_eq(pending_count_source(&sv, "2001:db8:1:2::a"), 1);
	sc.sc_per_source_ipv6_prefix = 48;
	ck_assert_uint_eq(pending_count_source(&sv, "2001:db8:1:3::a"), 2);
	pending_rebind(&sv, NULL);
	ck_assert_int_eq(seen.calls, 3);
	ck_assert_uint_eq(sv.sv_pending, 0);
	for (i = 0; i < 3; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
}
END_TEST

Suite *
pending_suite(void)
{
	Suite	*s = suite_create("pending");
	TCase	*tc = tcase_create("pending");

	tcase_add_test(tc, pending_takes_exactly_the_first_bytes);
	tcase_add_test(tc, pending_header_in_pieces_then_held);
	tcase_add_test(tc, pending_reads_the_newest_at_once);
	tcase_add_test(tc, pending_bad_closed_late_and_dropped);
	tcase_add_test(tc, pending_counts_a_client_by_its_prefix);
	suite_add_tcase(s, tc);
	return s;
}
