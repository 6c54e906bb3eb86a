/*
 * check_looping.c - UDP wait programs that fail without progress
 * (looping.c): whose datagrams are dropped, when the service pauses.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "superd.h"
#include "check_superd.h"

/*
 * LOOP_MAX failures of a UDP wait program, each on a datagram of another
 * address of one /64: one client, whose datagrams are dropped (looping.c),
 * not several sources that pause the service for everyone.  IPv4
 * addresses stay apart.
 */
static void
fail_from(struct service *sv, struct listener *ls, const char *peer,
    int64_t now)
{
	struct child	 ch;

	memset(&ch, 0, sizeof(ch));
	ch.ch_svc = sv;
	ch.ch_wait = ls;
	ch.ch_start = now;
	snprintf(ch.ch_peer, sizeof(ch.ch_peer), "%s", peer);
	looping_end(&ch, 1 << 8, now + 1, 0);	/* exit 1 at once */
}

START_TEST(looping_rotating_ipv6_client_is_one_source)
{
	struct svc_conf	 sc;
	struct service	 sv;
	struct listener	 ls;
	char		 peer[64], shown[64];
	int64_t		 now = mono_ms();
	int		 i, dropped = 0;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	memset(&ls, 0, sizeof(ls));
	sc.sc_name = "u";
	sc.sc_proto = PROTO_UDP;
	sc.sc_per_source_ipv6_prefix = 64;
	sv.sv_conf = &sc;
	ls.ls_svc = &sv;
	ls.ls_fd = -1;
	for (i = 0; i < LOOP_MAX; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:1:2::%x:%d", i + 1,
		    5000 + i);
		fail_from(&sv, &ls, peer, now);
	}
	ck_assert_int_eq(sv.sv_paused_until, 0);
	for (i = 0; i < LOOP_DROPS; i++) {
		if (sv.sv_loop.lw_drops[i].ld_until <= now)
			continue;
		dropped++;
		addr_key_format(&sv.sv_loop.lw_drops[i].ld_src, 64, shown,
		    sizeof(shown));
		ck_assert_str_eq(shown, "2001:db8:1:2::/64");
	}
	ck_assert_int_eq(dropped, 1);
	/* Two IPv4 addresses are two sources: no progress, a pause. */
	for (i = 0; i < LOOP_MAX; i++)
		fail_from(&sv, &ls, i % 2 ? "192.0.2.1:53" : "192.0.2.2:53",
		    now);
	ck_assert_int_gt(sv.sv_paused_until, now);
}
END_TEST

Suite *
looping_suite(void)
{
	Suite	*s = suite_create("looping");
	TCase	*tc = tcase_create("looping");

	tcase_add_test(tc, looping_rotating_ipv6_client_is_one_source);
	suite_add_tcase(s, tc);
	return s;
}
