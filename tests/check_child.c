/*
 * check_child.c - the table of running instances (child.c): what an
 * instance added counts for, whom it serves, how it is reaped and logged,
 * and its timeout.  The instances are real children of the test, each
 * blocked until the test lets it end, so that child_reap_all() reaps
 * them as superd's loop would.  An instance adopted from a previous
 * superd is a grandchild instead, known by its pidfd: no child of the
 * test's, as it would be no child of superd's.
 */
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"
#include "check_superd.h"

static struct svc_conf	 sc;
static struct service	 sv;

static void
setup(void)
{
	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sc.sc_name = "svc";
	sc.sc_proto = PROTO_TCP;
	sc.sc_stderr = STDERR_NULL;
	sc.sc_per_source_ipv6_prefix = 64;
	sv.sv_conf = &sc;
	capture_start();
}

static void
teardown(void)
{
	capture_stop();
}

/*
 * A child that waits until fd `gate` reaches end of file, then exits
 * with `status`; when `stubborn`, it ignores SIGTERM, and is not
 * returned before it does.
 */
static pid_t
instance(int gate[2], int status, int stubborn)
{
	pid_t	 pid;
	int	 ready[2];
	char	 c;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (stubborn)
			(void)signal(SIGTERM, SIG_IGN);
		close(ready[1]);
		close(gate[1]);
		while (read(gate[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(status);
	}
	close(ready[1]);
	/* End of file once the child has closed its copy. */
	while (read(ready[0], &c, 1) == -1 && errno == EINTR)
		;
	close(ready[0]);
	return pid;
}

static void
add(struct service *s, struct listener *ls, pid_t pid, const char *peer)
{
	struct errlog	 el = ERRLOG_NONE;
	struct cginst	 cg = { 0, 0 };

	ck_assert_int_eq(child_add(s, ls, pid, peer, &el, &cg), 0);
}

/* Reaps as the loop does on SIGCHLD until the table is down to `left`. */
static void
reap_until(size_t left)
{
	struct timespec	 tick = { 0, 10 * 1000 * 1000 };
	int		 i;

	for (i = 0; i < 300 && child_count() > left; i++) {
		child_reap_all();
		if (child_count() > left)
			nanosleep(&tick, NULL);
	}
	ck_assert_uint_eq(child_count(), left);
}

static void
gate_open(int gate[2])
{
	ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
}

/* Closing the gate's write end lets every instance behind it end. */
static void
gate_release(int gate[2])
{
	close(gate[1]);
	close(gate[0]);
}

START_TEST(add_counts_running_started_and_wait_listener)
{
	struct listener	 ls;
	int		 gate[2];
	pid_t		 a, b;

	memset(&ls, 0, sizeof(ls));
	ls.ls_fd = -1;
	ls.ls_svc = &sv;
	gate_open(gate);
	a = instance(gate, 0, 0);
	b = instance(gate, 0, 0);
	add(&sv, NULL, a, "192.0.2.1");
	add(&sv, &ls, b, "-");
	ck_assert_uint_eq(child_count(), 2);
	ck_assert_uint_eq(sv.sv_running, 2);
	ck_assert_uint_eq(sv.sv_started, 2);
	ck_assert_int_eq(ls.ls_waitpid, b);
	gate_release(gate);
	reap_until(0);
	ck_assert_uint_eq(sv.sv_running, 0);
	ck_assert_uint_eq(sv.sv_started, 2);
	/* The wait instance ended: its listener is armed again. */
	ck_assert_int_eq(ls.ls_waitpid, 0);
}
END_TEST

/*
 * per_source counts a client's instances of one service: IPv4 by the
 * address (mapped or not), IPv6 by the service's prefix, judged at the
 * time of asking; a peer that is no address ("-", "pid N") counts for
 * nobody.
 */
START_TEST(count_source_by_address_and_prefix)
{
	struct svc_conf	 osc = sc;
	struct service	 other;
	int		 gate[2];
	int		 i;
	static const char *peers[] = { "192.0.2.1", "::ffff:192.0.2.1",
	    "2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:3::a",
	    "pid 12", "-" };

	memset(&other, 0, sizeof(other));
	other.sv_conf = &osc;
	gate_open(gate);
	for (i = 0; i < 7; i++)
		add(&sv, NULL, instance(gate, 0, 0), peers[i]);
	add(&other, NULL, instance(gate, 0, 0), "192.0.2.1");
	ck_assert_uint_eq(child_count(), 8);
	ck_assert_uint_eq(child_count_source(&sv, "192.0.2.1"), 2);
	ck_assert_uint_eq(child_count_source(&sv, "::ffff:192.0.2.1"), 2);
	ck_assert_uint_eq(child_count_source(&sv, "192.0.2.2"), 0);
	ck_assert_uint_eq(child_count_source(&sv, "2001:db8:1:2::ffff"), 2);
	ck_assert_uint_eq(child_count_source(&sv, "2001:db8:1:3::ffff"), 1);
	ck_assert_uint_eq(child_count_source(&sv, "pid 12"), 0);
	ck_assert_uint_eq(child_count_source(&sv, "-"), 0);
	ck_assert_uint_eq(child_count_source(&other, "192.0.2.1"), 1);
	sc.sc_per_source_ipv6_prefix = 128;
	ck_assert_uint_eq(child_count_source(&sv, "2001:db8:1:2::a"), 1);
	ck_assert_uint_eq(child_count_source(&sv, "2001:db8:1:2::ffff"), 0);
	sc.sc_per_source_ipv6_prefix = 48;
	ck_assert_uint_eq(child_count_source(&sv, "2001:db8:1:ffff::1"), 3);
	gate_release(gate);
	reap_until(0);
	ck_assert_uint_eq(sv.sv_running, 0);
	ck_assert_uint_eq(other.sv_running, 0);
}
END_TEST

/*
 * A reload: the instances of the old service count for its successor,
 * and a wait listener that went away is not touched at the reap.
 */
START_TEST(rebind_and_forget_listener)
{
	struct svc_conf	 nsc = sc;
	struct service	 next;
	struct listener	 ls;
	int		 gate[2];
	pid_t		 w;

	memset(&next, 0, sizeof(next));
	next.sv_conf = &nsc;
	memset(&ls, 0, sizeof(ls));
	ls.ls_fd = -1;
	ls.ls_svc = &sv;
	gate_open(gate);
	add(&sv, NULL, instance(gate, 0, 0), "192.0.2.9");
	add(&sv, &ls, w = instance(gate, 0, 0), "-");
	child_rebind(&sv, &next);
	ck_assert_uint_eq(child_count_source(&sv, "192.0.2.9"), 0);
	ck_assert_uint_eq(child_count_source(&next, "192.0.2.9"), 1);
	/* servtab.c moves the running count over, as a reload does. */
	next.sv_running = sv.sv_running;
	sv.sv_running = 0;
	child_forget_listener(&ls);
	gate_release(gate);
	reap_until(0);
	ck_assert_uint_eq(next.sv_running, 0);
	ck_assert_int_eq(ls.ls_waitpid, w);
}
END_TEST

/* log_connections: the exit line says how each instance ended. */
START_TEST(reap_logs_status_or_signal)
{
	char	 want[128];
	int	 gate[2];
	pid_t	 a, b;

	sc.sc_log_connections = 1;
	gate_open(gate);
	add(&sv, NULL, a = instance(gate, 3, 0), "192.0.2.1");
	add(&sv, NULL, b = instance(gate, 0, 0), "192.0.2.2");
	ck_assert_int_eq(kill(b, SIGKILL), 0);
	reap_until(1);
	snprintf(want, sizeof(want), "svc: exit pid=%ld signal=9 duration=",
	    (long)b);
	ck_assert_int_eq(capture_count(want), 1);
	gate_release(gate);
	reap_until(0);
	snprintf(want, sizeof(want), "svc: exit pid=%ld status=3 duration=",
	    (long)a);
	ck_assert_int_eq(capture_count(want), 1);
	ck_assert_int_eq(capture_count("exit pid="), 2);
	sc.sc_log_connections = 0;
}
END_TEST

/*
 * `timeout`: nothing before the deadline (which is when to look again),
 * SIGTERM at it, SIGKILL SUPERD_KILL_GRACE seconds later to an instance
 * that lives on, and nothing after that.
 */
START_TEST(timeout_term_then_kill)
{
	int	 gate[2];
	int64_t	 t0, next = 0;
	pid_t	 pid;
	char	 want[128];

	sc.sc_timeout = 5;
	sc.sc_log_connections = 1;
	gate_open(gate);
	t0 = mono_ms();
	add(&sv, NULL, pid = instance(gate, 0, 1), "192.0.2.1");
	child_timeouts(t0, &next);
	ck_assert_int_ge(next, t0 + 5000);
	ck_assert_int_le(next, mono_ms() + 5000);
	ck_assert_int_eq(capture_count("timeout"), 0);
	t0 = next;
	next = 0;
	child_timeouts(t0, &next);
	snprintf(want, sizeof(want), "svc: timeout pid=%ld after 5 s, "
	    "sending SIGTERM", (long)pid);
	ck_assert_int_eq(capture_count(want), 1);
	ck_assert_int_eq(next, t0 + SUPERD_KILL_GRACE * 1000);
	/* It ignores SIGTERM: still there a moment later. */
	child_timeouts(t0 + 1, &next);
	ck_assert_int_eq(capture_count("sending"), 1);
	child_reap_all();
	ck_assert_uint_eq(child_count(), 1);
	next = 0;
	child_timeouts(t0 + SUPERD_KILL_GRACE * 1000, &next);
	snprintf(want, sizeof(want), "svc: timeout pid=%ld still running, "
	    "sending SIGKILL", (long)pid);
	ck_assert_int_eq(capture_count(want), 1);
	ck_assert_int_eq(next, 0);
	child_timeouts(t0 + 3600 * 1000, &next);
	ck_assert_int_eq(capture_count("sending"), 2);
	reap_until(0);
	snprintf(want, sizeof(want), "svc: exit pid=%ld signal=9", (long)pid);
	ck_assert_int_eq(capture_count(want), 1);
	gate_release(gate);
}
END_TEST

/* Without `timeout` an instance runs as long as it likes. */
START_TEST(no_timeout_no_deadline)
{
	int	 gate[2];
	int64_t	 next = 0;

	gate_open(gate);
	add(&sv, NULL, instance(gate, 0, 0), "192.0.2.1");
	child_timeouts(mono_ms() + 365LL * 86400 * 1000, &next);
	ck_assert_int_eq(next, 0);
	ck_assert_int_eq(capture_count("timeout"), 0);
	gate_release(gate);
	reap_until(0);
}
END_TEST

/*
 * An instance that is not the test's child: an intermediate child starts
 * it and exits.  Returned with its pidfd in *pidfd; -1 where the system
 * (or valgrind) has no pidfd_open.
 */
static pid_t
orphan(int gate[2], int *pidfd)
{
	int	 ready[2];
	pid_t	 mid, pid;
	int	 status;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_ne(mid = fork(), -1);
	if (mid == 0) {
		/* Check's handler would take the whole group down with it. */
		(void)signal(SIGTERM, SIG_DFL);
		close(ready[0]);
		pid = instance(gate, 0, 0);
		_exit(write(ready[1], &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &pid, sizeof(pid)), sizeof(pid));
	close(ready[0]);
	ck_assert_int_eq(waitpid(mid, &status, 0), mid);
	ck_assert_int_eq(status, 0);
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd == -1 && errno == ENOSYS) {
		/* valgrind 3.19 knows no pidfd_open: nothing to adopt with. */
		fprintf(stderr, "check_child: pidfd_open: %s, adoption test "
		    "skipped\n", strerror(errno));
		gate_release(gate);
		return -1;
	}
	ck_assert_int_ne(*pidfd, -1);
	return pid;
}

/* What the loop does: select on the table's descriptors, then read. */
struct round_set {
	fd_set	 rs_set;
	int	 rs_max;
};

static void
round_add(void *arg, int fd)
{
	struct round_set	*rs = arg;

	FD_SET(fd, &rs->rs_set);
	if (fd > rs->rs_max)
		rs->rs_max = fd;
}

static int
round_has(void *arg, int fd)
{
	struct round_set	*rs = arg;

	return FD_ISSET(fd, &rs->rs_set);
}

static int
loop_round(int64_t wait_ms)
{
	struct round_set rs;
	struct timeval	 tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
	int		 n;
	int64_t		 next = 0;

	FD_ZERO(&rs.rs_set);
	rs.rs_max = -1;
	child_watch(round_add, &rs, mono_ms(), &next);
	n = select(rs.rs_max + 1, &rs.rs_set, NULL, NULL, &tv);
	ck_assert_int_ne(n, -1);
	if (n > 0)
		child_read(round_has, &rs);
	return n;
}

/*
 * An adopted instance counts for instances and per_source (not for
 * started: another superd started it), its pidfd is watched, and its end
 * is logged from its own start, with no status, when the pidfd turns
 * readable.
 */
START_TEST(adopted_counts_and_ends_on_its_pidfd)
{
	char	 want[128];
	int	 gate[2], pidfd, i;
	pid_t	 pid;

	gate_open(gate);
	if ((pid = orphan(gate, &pidfd)) == -1)
		return;
	sc.sc_log_connections = 1;
	ck_assert_int_eq(child_adopt(&sv, pid, pidfd, "192.0.2.7",
	    mono_ms() - 5000, FDNAME_INSTANCE "7"), 0);
	ck_assert_uint_eq(child_count(), 1);
	ck_assert_uint_eq(sv.sv_running, 1);
	ck_assert_uint_eq(sv.sv_started, 0);
	ck_assert_uint_eq(child_count_source(&sv, "192.0.2.7"), 1);
	ck_assert_int_eq(loop_round(0), 0);
	child_reap_all();	/* not the test's child: nothing to reap */
	ck_assert_uint_eq(child_count(), 1);
	gate_release(gate);
	for (i = 0; i < 30 && child_count() > 0; i++)
		(void)loop_round(100);
	ck_assert_uint_eq(child_count(), 0);
	ck_assert_uint_eq(sv.sv_running, 0);
	snprintf(want, sizeof(want), "svc: exit pid=%ld ended duration=5.",
	    (long)pid);
	ck_assert_int_eq(capture_count(want), 1);
	sc.sc_log_connections = 0;
}
END_TEST

/* `timeout` holds for an adopted instance too, signalled by its pidfd. */
START_TEST(adopted_timeout_through_the_pidfd)
{
	char	 want[128];
	int	 gate[2], pidfd, i;
	int64_t	 next = 0;
	pid_t	 pid;

	gate_open(gate);
	if ((pid = orphan(gate, &pidfd)) == -1)
		return;
	sc.sc_timeout = 1;
	ck_assert_int_eq(child_adopt(&sv, pid, pidfd, "192.0.2.8",
	    mono_ms() - 2000, FDNAME_INSTANCE "8"), 0);
	child_timeouts(mono_ms(), &next);
	snprintf(want, sizeof(want), "svc: timeout pid=%ld after 1 s",
	    (long)pid);
	ck_assert_int_eq(capture_count(want), 1);
	for (i = 0; i < 30 && child_count() > 0; i++)
		(void)loop_round(100);
	ck_assert_uint_eq(child_count(), 0);
	gate_release(gate);
}
END_TEST

Suite *
child_suite(void)
{
	Suite	*s = suite_create("child");
	TCase	*tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_counts_running_started_and_wait_listener);
	tcase_add_test(tc, count_source_by_address_and_prefix);
	tcase_add_test(tc, rebind_and_forget_listener);
	tcase_add_test(tc, reap_logs_status_or_signal);
	tcase_add_test(tc, timeout_term_then_kill);
	tcase_add_test(tc, no_timeout_no_deadline);
	tcase_add_test(tc, adopted_counts_and_ends_on_its_pidfd);
	tcase_add_test(tc, adopted_timeout_through_the_pidfd);
	suite_add_tcase(s, tc);
	return s;
}
