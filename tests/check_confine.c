/*
 * check_confine.c - capability names and the plan of a confined start
 * (confine.c).
 */
#include <linux/capability.h>

#include <sched.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

START_TEST(cap_names)
{
	ck_assert_int_eq(confine_cap_named("net_bind_service"),
	    CAP_NET_BIND_SERVICE);
	ck_assert_int_eq(confine_cap_named("CAP_NET_BIND_SERVICE"),
	    CAP_NET_BIND_SERVICE);
	ck_assert_int_eq(confine_cap_named("cap_chown"), CAP_CHOWN);
	ck_assert_int_eq(confine_cap_named("Sys_Admin"), CAP_SYS_ADMIN);
	ck_assert_int_eq(confine_cap_named("checkpoint_restore"),
	    CAP_CHECKPOINT_RESTORE);
	ck_assert_int_eq(confine_cap_named("setfcap"), CAP_SETFCAP);
	ck_assert_int_eq(confine_cap_named(""), -1);
	ck_assert_int_eq(confine_cap_named("cap_"), -1);
	ck_assert_int_eq(confine_cap_named("net_bind"), -1);
	ck_assert_int_eq(confine_cap_named("net_bind_service "), -1);
	ck_assert_int_eq(confine_cap_named("cap_cap_chown"), -1);
}
END_TEST

/* Every number has its name, and the name gives the number back. */
START_TEST(cap_round_trip)
{
	int	 i;

	for (i = 0; i <= CAP_LAST_CAP; i++) {
		ck_assert_ptr_nonnull(confine_cap_name(i));
		ck_assert_int_eq(confine_cap_named(confine_cap_name(i)), i);
	}
	ck_assert_ptr_null(confine_cap_name(CAP_LAST_CAP + 1));
	ck_assert_ptr_null(confine_cap_name(-1));
}
END_TEST

START_TEST(plan_none)
{
	struct svc_conf		 sc;
	struct confine_plan	 cp;

	memset(&sc, 0, sizeof(sc));
	memset(&cp, 0xff, sizeof(cp));
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_unshare, 0);
	ck_assert_int_eq(cp.cp_loopback, 0);
	ck_assert_int_eq(cp.cp_private_mounts, 0);
	ck_assert_int_eq(cp.cp_private_tmp, 0);
	ck_assert_int_eq(cp.cp_read_only, 0);
	ck_assert_ptr_null(cp.cp_writable);
	ck_assert_ptr_null(cp.cp_chroot);
	ck_assert_int_eq(cp.cp_caps, 0);
	ck_assert_int_eq(cp.cp_ambient, 0);
	ck_assert_int_eq(cp.cp_no_new_privs, 0);
}
END_TEST

START_TEST(plan_namespaces)
{
	char			*writable[] = { "/srv", NULL };
	struct svc_conf		 sc;
	struct confine_plan	 cp;

	memset(&sc, 0, sizeof(sc));
	sc.sc_private_tmp = 1;
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_unshare, CLONE_NEWNS);
	ck_assert_int_eq(cp.cp_private_mounts, 1);
	ck_assert_int_eq(cp.cp_private_tmp, 1);
	ck_assert_int_eq(cp.cp_read_only, 0);

	/* read-only: its own /tmp too, the one place left to write */
	sc.sc_private_tmp = 0;
	sc.sc_read_only = 1;
	sc.sc_writable = writable;
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_unshare, CLONE_NEWNS);
	ck_assert_int_eq(cp.cp_private_tmp, 1);
	ck_assert_int_eq(cp.cp_read_only, 1);
	ck_assert_ptr_eq(cp.cp_writable, writable);

	sc.sc_read_only = 0;
	sc.sc_private_network = 1;
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_unshare, CLONE_NEWNET);
	ck_assert_int_eq(cp.cp_loopback, 1);
	ck_assert_int_eq(cp.cp_private_mounts, 0);
	ck_assert_ptr_null(cp.cp_writable);	/* only with read_only */

	sc.sc_private_tmp = 1;
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_unshare, CLONE_NEWNET | CLONE_NEWNS);
}
END_TEST

START_TEST(plan_caps)
{
	struct svc_conf		 sc;
	struct confine_plan	 cp;
	uint64_t		 bind = 1ULL << CAP_NET_BIND_SERVICE;

	memset(&sc, 0, sizeof(sc));
	sc.sc_chroot = "/srv/jail";
	sc.sc_no_new_privs = 1;
	sc.sc_caps_set = 1;
	sc.sc_caps = bind;
	confine_plan(&sc, 65534, &cp);
	ck_assert_str_eq(cp.cp_chroot, "/srv/jail");
	ck_assert_int_eq(cp.cp_no_new_privs, 1);
	ck_assert_int_eq(cp.cp_unshare, 0);	/* chroot needs no namespace */
	ck_assert_int_eq(cp.cp_caps, 1);
	ck_assert(cp.cp_keep == bind);
	ck_assert_int_eq(cp.cp_ambient, 1);

	/* root keeps them without ambient ones */
	confine_plan(&sc, 0, &cp);
	ck_assert_int_eq(cp.cp_caps, 1);
	ck_assert(cp.cp_keep == bind);
	ck_assert_int_eq(cp.cp_ambient, 0);

	/* [ ]: every capability dropped, nothing to raise */
	sc.sc_caps = 0;
	confine_plan(&sc, 65534, &cp);
	ck_assert_int_eq(cp.cp_caps, 1);
	ck_assert(cp.cp_keep == 0);
	ck_assert_int_eq(cp.cp_ambient, 0);

	/* not given: identity as ever, capabilities left alone */
	sc.sc_caps_set = 0;
	sc.sc_caps = bind;
	confine_plan(&sc, 0, &cp);
	ck_assert_int_eq(cp.cp_caps, 0);
	ck_assert(cp.cp_keep == 0);
}
END_TEST

Suite *
confine_suite(void)
{
	Suite	*s = suite_create("confine");
	TCase	*tc = tcase_create("pure");

	tcase_add_test(tc, cap_names);
	tcase_add_test(tc, cap_round_trip);
	tcase_add_test(tc, plan_none);
	tcase_add_test(tc, plan_namespaces);
	tcase_add_test(tc, plan_caps);
	suite_add_tcase(s, tc);
	return s;
}
