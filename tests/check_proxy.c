/*
 * check_proxy.c - the PROXY header parser (proxy.c), the tcpmux name
 * line parser (tcpmux.c), and the reader of a connection's first bytes
 * that uses both (pending.c): all judge bytes from untrusted clients.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "check_superd.h"

static ssize_t
parse(const char *text, struct proxy_hdr *ph)
{
	return proxy_parse((const uint8_t *)text, strlen(text), ph);
}

START_TEST(v1_tcp4_and_tcp6)
{
	struct proxy_hdr ph;
	const char	*h4 = "PROXY TCP4 192.0.2.10 127.0.0.1 40000 80\r\nrest";
	const char	*h6 = "PROXY TCP6 2001:db8::10 ::1 1 65535\r\n";

	ck_assert_int_eq(parse(h4, &ph), (ssize_t)(strchr(h4, '\n') - h4 + 1));
	ck_assert_str_eq(ph.ph_src_ip, "192.0.2.10");
	ck_assert_uint_eq(ph.ph_src_port, 40000);
	ck_assert_str_eq(ph.ph_dst_ip, "127.0.0.1");
	ck_assert_uint_eq(ph.ph_dst_port, 80);
	ck_assert_int_eq(ph.ph_local, 0);
	ck_assert_int_eq(parse(h6, &ph), (ssize_t)strlen(h6));
	ck_assert_str_eq(ph.ph_src_ip, "2001:db8::10");
	ck_assert_uint_eq(ph.ph_dst_port, 65535);
}
END_TEST

START_TEST(v1_unknown_and_incomplete)
{
	struct proxy_hdr ph;

	ck_assert_int_eq(parse("PROXY UNKNOWN\r\n", &ph), 15);
	ck_assert_int_eq(ph.ph_local, 1);
	ck_assert_int_eq(parse("PROXY UNKNOWN ignored 1 2\r\n", &ph), 27);
	ck_assert_int_eq(parse("PRO", &ph), 0);
	ck_assert_int_eq(parse("PROXY TCP4 192.0.2.1", &ph), 0);
}
END_TEST

START_TEST(v1_malformed)
{
	struct proxy_hdr ph;
	char		 longline[200];

	ck_assert_int_eq(parse("GET / HTTP/1.0\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 300.1.2.3 127.0.0.1 1 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 192.0.2.1\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 ::1 ::1 1 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", &ph), -1);
	memset(longline, '1', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "PROXY TCP4 ", 11);
	ck_assert_int_eq(parse(longline, &ph), -1);	/* over 107 bytes */
}
END_TEST

static size_t
v2(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
    size_t len)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(buf, sig, 12);
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (uint8_t)(len >> 8);
	buf[15] = (uint8_t)len;
	memcpy(buf + 16, body, len);
	return 16 + len;
}

START_TEST(v2_inet_tlv_local)
{
	struct proxy_hdr ph;
	uint8_t		 buf[256], body[64];
	size_t		 n;

	memset(body, 0, sizeof(body));
	inet_pton(AF_INET, "192.0.2.20", body);
	inet_pton(AF_INET, "127.0.0.1", body + 4);
	body[8] = 0x9c; body[9] = 0x42;		/* 40002 */
	body[10] = 0; body[11] = 80;
	memcpy(body + 12, "\x04\x00\x03" "abc", 6);	/* a NOOP TLV */
	n = v2(buf, 0x21, 0x11, body, 18);
	ck_assert_int_eq(proxy_parse(buf, n, &ph), (ssize_t)n);
	ck_assert_str_eq(ph.ph_src_ip, "192.0.2.20");
	ck_assert_uint_eq(ph.ph_src_port, 40002);
	ck_assert_uint_eq(ph.ph_dst_port, 80);
	ck_assert_int_eq(proxy_parse(buf, n - 1, &ph), 0);	/* truncated */
	ck_assert_int_eq(proxy_parse(buf, 10, &ph), 0);
	n = v2(buf, 0x20, 0x00, body, 0);			/* LOCAL */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), 16);
	ck_assert_int_eq(ph.ph_local, 1);
	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::20", body);
	inet_pton(AF_INET6, "::1", body + 16);
	body[32] = 0x9c; body[33] = 0x43;
	n = v2(buf, 0x21, 0x21, body, 36);
	ck_assert_int_eq(proxy_parse(buf, n, &ph), (ssize_t)n);
	ck_assert_str_eq(ph.ph_src_ip, "2001:db8::20");
	ck_assert_uint_eq(ph.ph_src_port, 40003);
}
END_TEST

/*
 * The ends a header gives the connection: an IPv4-mapped address (from a
 * dual-stack proxy) as IPv4, so that IPv4 rules match it; LOCAL leaves
 * the socket's own.
 */
START_TEST(peer_from_header_unmapped)
{
	struct proxy_hdr ph;
	struct peer	 pe;

	memset(&pe, 0, sizeof(pe));
	snprintf(pe.pe_remote_ip, sizeof(pe.pe_remote_ip), "127.0.0.2");
	pe.pe_remote_port = 1234;
	ck_assert_int_gt(parse("PROXY UNKNOWN\r\n", &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "127.0.0.2");
	ck_assert_uint_eq(pe.pe_remote_port, 1234);
	ck_assert_int_gt(parse("PROXY TCP6 ::ffff:10.9.9.9 ::ffff:192.0.2.1 "
	    "4000 80\r\n", &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "10.9.9.9");
	ck_assert_uint_eq(pe.pe_remote_port, 4000);
	ck_assert_str_eq(pe.pe_local_ip, "192.0.2.1");
	ck_assert_uint_eq(pe.pe_local_port, 80);
	ck_assert_int_gt(parse("PROXY TCP6 2001:db8::ffff:a09:909 ::1 1 2\r\n",
	    &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "2001:db8::ffff:a09:909");
}
END_TEST

START_TEST(v2_malformed)
{
	struct proxy_hdr ph;
	uint8_t		 buf[256], body[64];
	size_t		 n;

	memset(body, 0, sizeof(body));
	n = v2(buf, 0x11, 0x11, body, 12);		/* version 1 */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x22, 0x11, body, 12);		/* command 2 */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x21, 0x41, body, 12);		/* unknown family */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x21, 0x21, body, 12);		/* IPv6, short body */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	v2(buf, 0x21, 0x11, body, 0);
	buf[14] = 0xff; buf[15] = 0xff;			/* longer than we take */
	ck_assert_int_eq(proxy_parse(buf, 16, &ph), -1);
	buf[3] = 'x';					/* bad signature */
	ck_assert_int_eq(proxy_parse(buf, 16, &ph), -1);
}
END_TEST

START_TEST(tcpmux_lines)
{
	char	 name[128];

	ck_assert_int_eq(tcpmux_parse("help\r\n", 6, name, sizeof(name)), 6);
	ck_assert_str_eq(name, "help");
	ck_assert_int_eq(tcpmux_parse("  Hello-Mux \n", 13, name, sizeof(name)),
	    13);
	ck_assert_str_eq(name, "Hello-Mux");
	ck_assert_int_eq(tcpmux_parse("echo\r\nafter", 11, name, sizeof(name)), 6);
	ck_assert_str_eq(name, "echo");
	ck_assert_int_eq(tcpmux_parse("partial", 7, name, sizeof(name)), 0);
	ck_assert_int_eq(tcpmux_parse("bad\001name\r\n", 10, name, sizeof(name)),
	    -1);
	ck_assert_int_eq(tcpmux_parse("a\rb\r\n", 5, name, sizeof(name)), -1);
	ck_assert_int_eq(tcpmux_parse("toolong\r\n", 9, name, 4), -1);
}
END_TEST

START_TEST(tcpmux_line_bound)
{
	char	 buf[200], name[128];

	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(tcpmux_parse(buf, 127, name, sizeof(name)), 0);
	ck_assert_int_eq(tcpmux_parse(buf, 128, name, sizeof(name)), -1);
}
END_TEST

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

/* One turn of the loop for the connection fd: what is there is read. */
static void
turn(int fd)
{
	fd_set	 set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	pending_read(&set);
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
	ck_assert_int_eq(write(sp[1], v2 + 16, sizeof(v2) - 16),
	    (ssize_t)(sizeof(v2) - 16));
	turn(sp[0]);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.src, "192.0.2.9");
	/* Held: no header owed, still pending, its bytes not read. */
	ck_assert_uint_eq(sv.sv_headers, 0);
	ck_assert_uint_eq(sv.sv_pending, 1);
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
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("proxy");

	tcase_add_test(tc, v1_tcp4_and_tcp6);
	tcase_add_test(tc, v1_unknown_and_incomplete);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v2_inet_tlv_local);
	tcase_add_test(tc, peer_from_header_unmapped);
	tcase_add_test(tc, v2_malformed);
	tcase_add_test(tc, tcpmux_lines);
	tcase_add_test(tc, tcpmux_line_bound);
	tcase_add_test(tc, pending_takes_exactly_the_first_bytes);
	tcase_add_test(tc, pending_header_in_pieces_then_held);
	tcase_add_test(tc, pending_bad_closed_late_and_dropped);
	tcase_add_test(tc, pending_counts_a_client_by_its_prefix);
	suite_add_tcase(s, tc);
	return s;
}
