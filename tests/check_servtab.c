/*
 * check_servtab.c - the reload plan (servtab.c): which listener of a new
 * configuration keeps which open socket.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

static struct bindaddr
bind4(const char *ip, unsigned port)
{
	struct bindaddr		 ba;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ba.ba_addr;

	memset(&ba, 0, sizeof(ba));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	ba.ba_len = sizeof(*sin);
	return ba;
}

static struct svc_conf
svc(enum proto proto, int wait, char *path)
{
	struct svc_conf	 sc;

	memset(&sc, 0, sizeof(sc));
	sc.sc_name = "svc";
	sc.sc_proto = proto;
	sc.sc_wait = wait;
	sc.sc_path = path;
	return sc;
}

START_TEST(plan_keep_add_retire)
{
	struct svc_conf	 tcp = svc(PROTO_TCP, 0, NULL);
	struct svc_conf	 udp = svc(PROTO_UDP, 1, NULL);
	struct bindaddr	 a = bind4("127.0.0.1", 0), b = bind4("127.0.0.1", 79);
	struct bindaddr	 c = bind4("127.0.0.2", 79);
	struct lkey	 old[] = { { &tcp, &a }, { &tcp, &b }, { &udp, &b } };
	struct lkey	 new[] = { { &udp, &b }, { &tcp, &c }, { &tcp, &a } };
	size_t		 keep[3];
	struct reload_plan rp;

	servtab_plan(old, 3, new, 3, keep, &rp);
	ck_assert_uint_eq(keep[0], 2);		/* udp :79 kept */
	ck_assert_uint_eq(keep[1], SIZE_MAX);	/* new address: added */
	ck_assert_uint_eq(keep[2], 0);		/* dynamic port kept */
	ck_assert_uint_eq(rp.rp_kept, 2);
	ck_assert_uint_eq(rp.rp_added, 1);
	ck_assert_uint_eq(rp.rp_retired, 1);	/* tcp :79 on .1 */
}
END_TEST

START_TEST(plan_changed_port_or_mode_reopens)
{
	struct svc_conf	 nowait = svc(PROTO_TCP, 0, NULL);
	struct svc_conf	 wait = svc(PROTO_TCP, 1, NULL);
	struct bindaddr	 p1 = bind4("127.0.0.1", 5000), p2 = bind4("127.0.0.1", 5001);
	struct lkey	 old[] = { { &nowait, &p1 } };
	struct lkey	 moved[] = { { &nowait, &p2 } };
	struct lkey	 waiting[] = { { &wait, &p1 } };
	size_t		 keep[1];
	struct reload_plan rp;

	servtab_plan(old, 1, moved, 1, keep, &rp);
	ck_assert_uint_eq(keep[0], SIZE_MAX);
	ck_assert_uint_eq(rp.rp_retired, 1);
	servtab_plan(old, 1, waiting, 1, keep, &rp);
	ck_assert_uint_eq(keep[0], SIZE_MAX);
}
END_TEST

START_TEST(plan_unix_by_path_and_once_only)
{
	struct svc_conf	 u1 = svc(PROTO_UNIX, 0, "/run/a.sock");
	struct svc_conf	 u2 = svc(PROTO_UNIX, 0, "/run/a.sock");
	struct svc_conf	 u3 = svc(PROTO_UNIX, 0, "/run/b.sock");
	struct lkey	 old[] = { { &u1, NULL } };
	struct lkey	 new[] = { { &u2, NULL }, { &u2, NULL }, { &u3, NULL } };
	size_t		 keep[3];
	struct reload_plan rp;

	servtab_plan(old, 1, new, 3, keep, &rp);
	ck_assert_uint_eq(keep[0], 0);
	ck_assert_uint_eq(keep[1], SIZE_MAX);	/* one socket, one taker */
	ck_assert_uint_eq(keep[2], SIZE_MAX);
	ck_assert_uint_eq(rp.rp_kept, 1);
	ck_assert_uint_eq(rp.rp_added, 2);
	ck_assert_uint_eq(rp.rp_retired, 0);
}
END_TEST

START_TEST(plan_dynamic_port_stays_with_its_service)
{
	struct svc_conf	 leave = svc(PROTO_TCP, 0, NULL);
	struct svc_conf	 arrive = svc(PROTO_TCP, 0, NULL);
	struct svc_conf	 fixed_old = svc(PROTO_TCP, 0, NULL);
	struct svc_conf	 fixed_new = svc(PROTO_TCP, 0, NULL);
	struct bindaddr	 any = bind4("127.0.0.1", 0), p79 = bind4("127.0.0.1", 79);
	struct lkey	 old[] = { { &leave, &any }, { &fixed_old, &p79 } };
	struct lkey	 new[] = { { &arrive, &any }, { &fixed_new, &p79 } };
	size_t		 keep[2];
	struct reload_plan rp;

	leave.sc_name = "leave";
	arrive.sc_name = "arrive";
	fixed_old.sc_name = "finger";
	fixed_old.sc_port = 79;
	fixed_new.sc_name = "in.fingerd";
	fixed_new.sc_port = 79;
	servtab_plan(old, 2, new, 2, keep, &rp);
	ck_assert_uint_eq(keep[0], SIZE_MAX);	/* another service's port */
	ck_assert_uint_eq(keep[1], 1);		/* a fixed port is the port */
	ck_assert_uint_eq(rp.rp_retired, 1);
}
END_TEST

Suite *
servtab_suite(void)
{
	Suite	*s = suite_create("servtab");
	TCase	*tc = tcase_create("plan");

	tcase_add_test(tc, plan_keep_add_retire);
	tcase_add_test(tc, plan_changed_port_or_mode_reopens);
	tcase_add_test(tc, plan_unix_by_path_and_once_only);
	tcase_add_test(tc, plan_dynamic_port_stays_with_its_service);
	suite_add_tcase(s, tc);
	return s;
}
