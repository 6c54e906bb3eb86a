/*
 * check_superd.h - the unit-test suites, one per module, assembled by
 * check_main.c into one Check runner, and the log capture some of them
 * share (check_capture.c).  Tests run from the tests/ directory, so
 * fixtures are named "data/...".  tests/README.md maps each module to its
 * suite.
 */
#ifndef CHECK_SUPERD_H
#define CHECK_SUPERD_H

#include <check.h>

Suite	*acceptq_suite(void);
Suite	*addr_suite(void);
Suite	*builtin_suite(void);
Suite	*cgroup_suite(void);
Suite	*child_suite(void);
Suite	*config_suite(void);
Suite	*config_oom_suite(void);
Suite	*confine_suite(void);
Suite	*env_suite(void);
Suite	*errlog_suite(void);
Suite	*fdname_suite(void);
Suite	*fds_suite(void);
Suite	*log_suite(void);
Suite	*looping_suite(void);
Suite	*pending_suite(void);
Suite	*policy_suite(void);
Suite	*proxy_suite(void);
Suite	*servtab_suite(void);
Suite	*tcpmux_suite(void);

/* check_capture.c: superd's log lines, caught while a test runs. */
void		 capture_start(void);
const char	*capture_text(void);
int		 capture_count(const char *);
void		 capture_stop(void);

/* check_datadir.c: a private copy of data/ to run in, as a fixture. */
extern char	 datadir[];
void		 datadir_enter(void);
void		 datadir_leave(void);

#endif
