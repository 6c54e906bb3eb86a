/*
 * check_main.c - one Check runner for every module's suite.
 */
#include <stdlib.h>

#include "check_superd.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_suite());
	srunner_add_suite(sr, config_oom_suite());
	srunner_add_suite(sr, confine_suite());
	srunner_add_suite(sr, acceptq_suite());
	srunner_add_suite(sr, addr_suite());
	srunner_add_suite(sr, builtin_suite());
	srunner_add_suite(sr, cgroup_suite());
	srunner_add_suite(sr, child_suite());
	srunner_add_suite(sr, env_suite());
	srunner_add_suite(sr, errlog_suite());
	srunner_add_suite(sr, fdname_suite());
	srunner_add_suite(sr, fds_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, looping_suite());
	srunner_add_suite(sr, pending_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, proxy_suite());
	srunner_add_suite(sr, servtab_suite());
	srunner_add_suite(sr, tcpmux_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
