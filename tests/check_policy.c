/*
 * check_policy.c - who is let in (policy.c): ACL matching, the rate
 * bucket, the per-source table, trust in a PROXY header's sender, and the
 * UDP builtins' per-source budget.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

static struct cidr
cidr_of(int family, const char *text, int prefix)
{
	struct cidr	 ci;

	memset(&ci, 0, sizeof(ci));
	ci.ci_family = family;
	ci.ci_prefix = prefix;
	ck_assert_int_eq(inet_pton(family, text, ci.ci_addr), 1);
	return ci;
}

START_TEST(cidr_edges)
{
	struct cidr	 all4 = cidr_of(AF_INET, "0.0.0.0", 0);
	struct cidr	 host = cidr_of(AF_INET, "127.0.0.1", 32);
	struct cidr	 net = cidr_of(AF_INET, "10.20.0.0", 14);
	struct cidr	 v6 = cidr_of(AF_INET6, "2001:db8::", 32);
	struct cidr	 one6 = cidr_of(AF_INET6, "::1", 128);

	ck_assert(cidr_match(&all4, "203.0.113.9"));
	ck_assert(!cidr_match(&all4, "::1"));
	ck_assert(cidr_match(&host, "127.0.0.1"));
	ck_assert(!cidr_match(&host, "127.0.0.2"));
	ck_assert(cidr_match(&net, "10.23.255.255"));
	ck_assert(!cidr_match(&net, "10.24.0.0"));
	ck_assert(cidr_match(&v6, "2001:db8:ffff::1"));
	ck_assert(!cidr_match(&v6, "2001:db9::1"));
	ck_assert(cidr_match(&one6, "::1"));
	ck_assert(!cidr_match(&one6, "::2"));
	ck_assert(!cidr_match(&host, "not an address"));
}
END_TEST

START_TEST(acl_allow_then_deny)
{
	struct svc_conf	 sc;
	struct cidr	 allow[1], deny[1];

	memset(&sc, 0, sizeof(sc));
	ck_assert(policy_acl(&sc, "192.0.2.1"));	/* no lists: open */
	allow[0] = cidr_of(AF_INET, "127.0.0.0", 8);
	deny[0] = cidr_of(AF_INET, "127.0.0.2", 32);
	sc.sc_allow = allow;
	sc.sc_nallow = 1;
	ck_assert(policy_acl(&sc, "127.0.0.2"));
	ck_assert(!policy_acl(&sc, "192.0.2.1"));
	sc.sc_deny = deny;
	sc.sc_ndeny = 1;
	ck_assert(!policy_acl(&sc, "127.0.0.2"));
	ck_assert(policy_acl(&sc, "127.0.0.3"));
}
END_TEST

/*
 * A link-local source as addr_format() writes it, scope and all (a UDP
 * builtin's datagram): deny must still cover it, and an allow list must
 * still let it in.
 */
START_TEST(acl_scoped_link_local)
{
	struct svc_conf	 sc;
	struct cidr	 ll[1];
	struct sockaddr_in6 sin6;
	char		 text[64];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr), 1);
	sin6.sin6_scope_id = 1;		/* lo */
	ck_assert_int_eq(addr_format((struct sockaddr *)&sin6, sizeof(sin6),
	    text, sizeof(text), NULL), 0);
	ck_assert_ptr_nonnull(strchr(text, '%'));
	memset(&sc, 0, sizeof(sc));
	ll[0] = cidr_of(AF_INET6, "fe80::", 10);
	sc.sc_deny = ll;
	sc.sc_ndeny = 1;
	ck_assert(!policy_acl(&sc, text));
	sc.sc_deny = NULL;
	sc.sc_ndeny = 0;
	sc.sc_allow = ll;
	sc.sc_nallow = 1;
	ck_assert(policy_acl(&sc, text));
	ck_assert(cidr_match(&ll[0], "fe80::1%eth0"));
	ck_assert(!cidr_match(&ll[0], "fe80::1%"));
	ck_assert(!cidr_match(&ll[0], "%lo"));
}
END_TEST

START_TEST(rate_bucket_with_injected_time)
{
	struct svc_conf	 sc;
	struct service	 sv;
	int64_t		 next = 0, now = 1000;
	int		 i;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sc.sc_rate = 5;
	sv.sv_conf = &sc;
	for (i = 0; i < 5; i++) {
		ck_assert(policy_rate_ready(&sv, now, &next));
		policy_rate_take(&sv);
	}
	ck_assert(!policy_rate_ready(&sv, now, &next));
	ck_assert_int_gt(next, now);
	ck_assert_int_le(next, now + 201);
	ck_assert(!policy_rate_ready(&sv, now + 100, &next));
	ck_assert(policy_rate_ready(&sv, now + 201, &next));
	policy_rate_take(&sv);
	ck_assert(!policy_rate_ready(&sv, now + 202, &next));
	/* A long quiet spell refills to the burst, no more. */
	for (i = 0; i < 5; i++) {
		ck_assert(policy_rate_ready(&sv, now + 60000, &next));
		policy_rate_take(&sv);
	}
	ck_assert(!policy_rate_ready(&sv, now + 60000, &next));
}
END_TEST

START_TEST(source_rate_window_and_addresses)
{
	struct src_table	*st = NULL;
	int64_t			 t0 = 5000;
	int			 i;

	for (i = 0; i < 3; i++)
		ck_assert(policy_source_rate(&st, 3, 64, "192.0.2.1", t0 + i));
	ck_assert(!policy_source_rate(&st, 3, 64, "192.0.2.1", t0 + 10));
	ck_assert(policy_source_rate(&st, 3, 64, "192.0.2.2", t0 + 10));
	ck_assert(!policy_source_rate(&st, 3, 64, "192.0.2.1", t0 + 59999));
	/* The count expires by itself a minute after the window opened. */
	ck_assert(policy_source_rate(&st, 3, 64, "192.0.2.1", t0 + 60000));
	policy_source_free(st);
}
END_TEST

START_TEST(source_rate_bounded_memory)
{
	struct src_table	*st = NULL;
	char			 addr[46];
	int			 i, refused = 0;

	/* A flood of distinct addresses fits the fixed table... */
	for (i = 0; i < 200000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		refused += !policy_source_rate(&st, 1, 64, addr, 1000);
	}
	ck_assert_int_eq(refused, 0);
	/* ...and once their minute is over, the table counts again. */
	ck_assert(policy_source_rate(&st, 1, 64, "198.51.100.7", 62000));
	ck_assert(!policy_source_rate(&st, 1, 64, "198.51.100.7", 62001));
	policy_source_free(st);
}
END_TEST

START_TEST(admit_order_and_reasons)
{
	struct svc_conf	 sc;
	struct service	 sv;
	struct cidr	 allow[1];

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sv.sv_conf = &sc;
	allow[0] = cidr_of(AF_INET, "127.0.0.0", 8);
	sc.sc_allow = allow;
	sc.sc_nallow = 1;
	sc.sc_per_source = 2;
	sc.sc_per_source_rate = 3;
	sc.sc_per_source_ipv6_prefix = 64;
	ck_assert_str_eq(policy_admit(&sv, "192.0.2.1", 0, 0), "acl");
	ck_assert_str_eq(policy_admit(&sv, "127.0.0.1", 2, 0), "per_source");
	ck_assert_ptr_null(policy_admit(&sv, "127.0.0.1", 1, 0));
	ck_assert_ptr_null(policy_admit(&sv, "127.0.0.1", 0, 1));
	ck_assert_ptr_null(policy_admit(&sv, "127.0.0.1", 0, 2));
	ck_assert_str_eq(policy_admit(&sv, "127.0.0.1", 0, 3), "per_source_rate");
	ck_assert_ptr_null(policy_admit(&sv, "127.0.0.2", 0, 3));
	/* Behind a proxy superd judges the header's client all the same. */
	sc.sc_proxy = 1;
	ck_assert_str_eq(policy_admit(&sv, "192.0.2.1", 0, 4), "acl");
	ck_assert_str_eq(policy_admit(&sv, "127.0.0.3", 2, 4), "per_source");
	policy_source_free(sv.sv_sources);
}
END_TEST

/*
 * Only a peer in proxy_from is believed to send a PROXY header; any other
 * is a direct client, and without proxy_protocol no peer is a proxy.
 */
START_TEST(proxy_trust_is_proxy_from_only)
{
	struct svc_conf	 sc;
	struct cidr	 from[2];

	memset(&sc, 0, sizeof(sc));
	from[0] = cidr_of(AF_INET, "10.1.0.0", 16);
	from[1] = cidr_of(AF_INET6, "2001:db8::", 32);
	sc.sc_proxy_from = from;
	sc.sc_nproxy_from = 2;
	ck_assert_int_eq(policy_proxy_trusted(&sc, "10.1.2.3"), 0);
	sc.sc_proxy = 1;
	ck_assert_int_eq(policy_proxy_trusted(&sc, "10.1.2.3"), 1);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "10.1.255.255"), 1);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "10.2.0.1"), 0);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "2001:db8:5::1"), 1);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "2001:db9::1"), 0);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "fe80::1%eth0"), 0);
	ck_assert_int_eq(policy_proxy_trusted(&sc, "not an address"), 0);
	sc.sc_nproxy_from = 0;
	ck_assert_int_eq(policy_proxy_trusted(&sc, "10.1.2.3"), 0);
}
END_TEST

/* Rotating through one /64 is one client; a /128 prefix undoes that. */
START_TEST(source_rate_ipv6_by_prefix)
{
	struct src_table	*st = NULL;
	char			 addr[64];
	int			 i, admitted = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:7:9:%x:%x::%x",
		    i >> 16, i & 0xffff, i % 7);
		admitted += policy_source_rate(&st, 1, 64, addr, 1000 + i / 10);
	}
	ck_assert_int_eq(admitted, 1);
	/* Another /64 is another client. */
	ck_assert(policy_source_rate(&st, 1, 64, "2001:db8:7:a::1", 20000));
	policy_source_free(st);
	st = NULL;
	ck_assert(policy_source_rate(&st, 1, 128, "2001:db8:7:9::1", 1000));
	ck_assert(policy_source_rate(&st, 1, 128, "2001:db8:7:9::2", 1000));
	ck_assert(!policy_source_rate(&st, 1, 128, "2001:db8:7:9::2", 1001));
	policy_source_free(st);
}
END_TEST

/* A flood of fresh /64s must not wipe the count of a client held back. */
START_TEST(source_rate_flood_keeps_limiting_entries)
{
	struct src_table	*st = NULL;
	char			 addr[64];
	int			 i, admitted = 0;

	ck_assert(policy_source_rate(&st, 1, 64, "2001:db8:ffff:1::1", 1000));
	ck_assert(!policy_source_rate(&st, 1, 64, "2001:db8:ffff:1::2", 1001));
	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:%x:%x::1", i >> 16,
		    i & 0xffff);
		admitted += policy_source_rate(&st, 1, 64, addr, 1002 + i / 100);
	}
	/* Fresh sources are admitted, tracked or not: nobody innocent is
	 * refused for want of room. */
	ck_assert_int_eq(admitted, 100000);
	ck_assert(!policy_source_rate(&st, 1, 64, "2001:db8:ffff:1::3", 2100));
	/* Its window over, the entry limits no more and lets it in. */
	ck_assert(policy_source_rate(&st, 1, 64, "2001:db8:ffff:1::4", 61001));
	policy_source_free(st);
}
END_TEST

static ssize_t
dgram_from(struct service *sv, const char *addr, size_t in, size_t want,
    size_t least, int64_t now)
{
	struct srckey	 key;

	ck_assert_int_eq(addr_key(addr, &key), 0);
	return policy_dgram(sv, &key, in, want, least, now);
}

/*
 * UDP builtins: a source never gets more bytes a second than it sent
 * (with the headers) plus the allowance, nor more than 128 answers.
 */
START_TEST(dgram_budget_per_source)
{
	struct svc_conf	 sc;
	struct service	 sv;
	ssize_t		 n;
	long		 sent = 0;
	int		 i, answered = 0;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sc.sc_per_source_ipv6_prefix = 64;
	sv.sv_conf = &sc;
	/* chargen, empty datagrams: cut short, never over the budget. */
	for (i = 0; i < 100; i++)
		if ((n = dgram_from(&sv, "192.0.2.1", 0, 512, 0, 5000 + i)) > 0)
			sent += n;
	ck_assert_int_le(sent, 1024 + 100 * 28);
	ck_assert_int_ge(sent, 1024);
	/* Another source has its own budget; a new second refills it. */
	ck_assert_int_eq(dgram_from(&sv, "192.0.2.2", 0, 512, 0, 5100), 512);
	ck_assert_int_eq(dgram_from(&sv, "192.0.2.1", 0, 512, 0, 6000), 512);
	/* An answer that cannot be cut is none rather than short. */
	ck_assert_int_eq(dgram_from(&sv, "192.0.2.3", 0, 2000, 2000, 7000), -1);
	/* echo: what it sent comes back, but at most 128 times a second. */
	for (i = 0; i < 1000; i++)
		answered += dgram_from(&sv, "2001:db8::1", 100, 100, 100,
		    8000 + i * 2) == 100;
	ck_assert_int_eq(answered, 128 * 2);
	/* A loopback source is a local process: its answers are not
	 * counted, its bytes are. */
	for (i = 0, answered = 0; i < 1000; i++)
		answered += dgram_from(&sv, i % 2 ? "::1" : "127.0.0.9", 100,
		    100, 100, 9000) == 100;
	ck_assert_int_eq(answered, 1000);
	for (i = 0, sent = 0; i < 100; i++)
		if ((n = dgram_from(&sv, "::1", 0, 512, 0, 30000)) > 0)
			sent += n;
	ck_assert_int_le(sent, 1024 + 100 * 28);
	/* per_source_rate counts answers a minute, by /64. */
	sc.sc_per_source_rate = 2;
	ck_assert_int_eq(dgram_from(&sv, "2001:db8:5::1", 4, 4, 4, 20000), 4);
	ck_assert_int_eq(dgram_from(&sv, "2001:db8:5::2", 4, 4, 4, 21000), 4);
	ck_assert_int_eq(dgram_from(&sv, "2001:db8:5::3", 4, 4, 4, 22000), -1);
	ck_assert_int_eq(dgram_from(&sv, "2001:db8:6::3", 4, 4, 4, 22000), 4);
	/* discard answers nothing: no budget, per_source_rate still. */
	sc.sc_builtin = BUILTIN_DISCARD;
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(dgram_from(&sv, "2001:db8:7::1", 100, 0, 0,
		    30000 + i), i < 2 ? 0 : -1);
	sc.sc_per_source_rate = 0;
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(dgram_from(&sv, "2001:db8:7::1", 100, 0, 0,
		    30000 + i), 0);
	policy_source_free(sv.sv_sources);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, cidr_edges);
	tcase_add_test(tc, acl_allow_then_deny);
	tcase_add_test(tc, acl_scoped_link_local);
	tcase_add_test(tc, rate_bucket_with_injected_time);
	tcase_add_test(tc, source_rate_window_and_addresses);
	tcase_add_test(tc, source_rate_bounded_memory);
	tcase_add_test(tc, admit_order_and_reasons);
	tcase_add_test(tc, proxy_trust_is_proxy_from_only);
	tcase_add_test(tc, source_rate_ipv6_by_prefix);
	tcase_add_test(tc, source_rate_flood_keeps_limiting_entries);
	tcase_add_test(tc, dgram_budget_per_source);
	suite_add_tcase(s, tc);
	return s;
}
