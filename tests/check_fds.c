/*
 * check_fds.c - where superd's own descriptors go (superd/fds.c).
 * The valgrind run has every test in one process, so each test's
 * descriptors and limit are undone by the fixture.
 */
#include <sys/resource.h>

#include <fcntl.h>
#include <unistd.h>

#include "check_superd.h"
#include "superd.h"

#define NOFILE	200	/* so the top with headroom is 191 */

static struct rlimit	 saved_nofile;
static int		 opened[8];
static int		 nopened;

static void
setup(void)
{
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
	nopened = 0;
}

static void
teardown(void)
{
	while (nopened > 0) {
		fd_unplace(opened[--nopened]);
		close(opened[nopened]);
	}
	(void)setrlimit(RLIMIT_NOFILE, &saved_nofile);
	fds_refresh();
	fds_plan(0);
}

/* fd, as the test leaves it: closed by the teardown. */
static int
kept(int fd)
{
	ck_assert_int_lt(nopened, 8);
	opened[nopened++] = fd;
	return fd;
}

static void
set_nofile(rlim_t n)
{
	struct rlimit	 rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = n;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fds_refresh();
}

static int
fresh_fd(void)
{
	int	 fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* A new descriptor through fd_place_high, kept for the teardown. */
static int
placed_fd(void)
{
	return kept(fd_place_high(fresh_fd()));
}

START_TEST(headroom_follows_the_limit)
{
	set_nofile(NOFILE);
	ck_assert(fd_has_headroom(3));
	ck_assert(fd_has_headroom(NOFILE - 9));
	ck_assert(!fd_has_headroom(NOFILE - 8));
	ck_assert(!fd_has_headroom(FD_SETSIZE));
}
END_TEST

START_TEST(few_listeners_stay_where_they_are)
{
	int	 fd;

	set_nofile(NOFILE);
	fds_plan(3);
	fd = kept(fresh_fd());
	ck_assert_int_eq(fd_place_high(fd), fd);
	ck_assert_int_eq(fds_placed(), 0);
}
END_TEST

START_TEST(many_listeners_go_to_the_top_with_headroom)
{
	int	 a, b, flags;

	set_nofile(NOFILE);
	fds_plan(64);
	a = placed_fd();
	b = placed_fd();
	ck_assert_int_eq(a, NOFILE - 9);
	ck_assert_int_eq(b, NOFILE - 10);
	ck_assert(fd_has_headroom(a));
	ck_assert_int_eq(fds_placed(), 2);
	flags = fcntl(a, F_GETFD);
	ck_assert(flags != -1 && (flags & FD_CLOEXEC));
	/* The numbers they had are free again: the next open is low. */
	ck_assert_int_lt(kept(fresh_fd()), 16);
}
END_TEST

START_TEST(a_freed_number_is_taken_again)
{
	int	 top;

	set_nofile(NOFILE);
	fds_plan(64);
	top = fd_place_high(fresh_fd());
	(void)placed_fd();
	fd_unplace(top);
	close(top);
	ck_assert_int_eq(fds_placed(), 1);
	ck_assert_int_eq(placed_fd(), top);
	ck_assert_int_eq(fds_placed(), 2);
}
END_TEST

START_TEST(a_number_held_by_something_else_is_skipped)
{
	int	 other, fd;

	set_nofile(NOFILE);
	fds_plan(64);
	fd = fresh_fd();
	other = kept(dup2(fd, NOFILE - 9));
	close(fd);
	ck_assert_int_eq(other, NOFILE - 9);
	ck_assert_int_eq(placed_fd(), NOFILE - 10);
	/* Unplacing what was never placed changes nothing. */
	fd_unplace(other);
	ck_assert_int_eq(fds_placed(), 1);
}
END_TEST

Suite *
fds_suite(void)
{
	Suite	*s = suite_create("fds");
	TCase	*tc = tcase_create("placement");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, headroom_follows_the_limit);
	tcase_add_test(tc, few_listeners_stay_where_they_are);
	tcase_add_test(tc, many_listeners_go_to_the_top_with_headroom);
	tcase_add_test(tc, a_freed_number_is_taken_again);
	tcase_add_test(tc, a_number_held_by_something_else_is_skipped);
	suite_add_tcase(s, tc);
	return s;
}
