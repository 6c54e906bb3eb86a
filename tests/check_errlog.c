/*
 * check_errlog.c - what instances write to stderr (errlog.c): split into
 * lines, escaped and tagged with the service, a partial line kept until
 * the rest or the end, long lines cut, a budget of lines a second, and
 * the emptied pipes kept as spares for the service's next instance.
 * The tests write into the pipe as an instance would and read the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
	sc.sc_stderr = STDERR_LOG;
	sv.sv_conf = &sc;
	capture_start();
}

static void
teardown(void)
{
	(void)errlog_spares_drop(NULL);
	capture_stop();
}

/* What the instance behind el writes. */
static void
says(const struct errlog *el, const char *text, size_t len)
{
	ck_assert_int_eq(write(el->el_wfd, text, len), (ssize_t)len);
}

static int
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

START_TEST(lines_split_tagged_and_escaped)
{
	struct errlog	 el;
	static const char text[] = "one\ntwo\r\nesc \x1b[31m bell\a\nhalf";

	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	says(&el, text, sizeof(text) - 1);
	/* Read empty, the pipe still open: that is what the reap recycles. */
	ck_assert_int_eq(errlog_read(&el, &sv, 0), 1);
	ck_assert_int_eq(capture_count("superd: svc: stderr: one\n"), 1);
	ck_assert_int_eq(capture_count("superd: svc: stderr: two\n"), 1);
	ck_assert_int_eq(capture_count(
	    "superd: svc: stderr: esc \\x1b[31m bell\\x07\n"), 1);
	ck_assert_int_eq(capture_count("half"), 0);
	ck_assert_int_eq(sv.sv_errlines, 3);
	/* The rest of a line written in pieces joins its start. */
	says(&el, "-way\nnext", 9);
	(void)errlog_read(&el, &sv, 0);
	ck_assert_int_eq(capture_count("superd: svc: stderr: half-way\n"), 1);
	/* The instance ended: its last partial line is logged all the same. */
	errlog_close(&el, &sv);
	ck_assert_int_eq(capture_count("superd: svc: stderr: next\n"), 1);
	ck_assert_int_eq(el.el_fd, -1);
	ck_assert_int_eq(el.el_wfd, -1);
	ck_assert_ptr_null(el.el_buf);
}
END_TEST

/* A line longer than 1023 bytes is logged in pieces, none lost. */
START_TEST(long_line_cut_into_pieces)
{
	struct errlog	 el;
	char		 text[2501], want[1100];

	memset(text, 'a', 1023);
	memset(text + 1023, 'b', 1023);
	memset(text + 2046, 'c', 454);
	text[2500] = '\n';
	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	says(&el, text, 1000);		/* in two writes, two reads */
	(void)errlog_read(&el, &sv, 0);
	says(&el, text + 1000, sizeof(text) - 1000);
	(void)errlog_read(&el, &sv, 0);
	snprintf(want, sizeof(want), "stderr: %.1023s\n", text);
	ck_assert_int_eq(capture_count(want), 1);
	snprintf(want, sizeof(want), "stderr: %.1023s\n", text + 1023);
	ck_assert_int_eq(capture_count(want), 1);
	snprintf(want, sizeof(want), "stderr: %.454s\n", text + 2046);
	ck_assert_int_eq(capture_count(want), 1);
	ck_assert_int_eq(capture_count("stderr: "), 3);
	errlog_close(&el, &sv);
}
END_TEST

/*
 * 100 lines a second per service: the rest are counted, not logged, the
 * count is logged when the next second opens, and until then the pipes
 * are not read (a flooding instance blocks on its own pipe).
 */
START_TEST(budget_of_lines_a_second)
{
	struct errlog	 el;
	char		 line[32];
	int64_t		 now, next = 0;
	int		 i;

	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	for (i = 0; i < 150; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		says(&el, line, strlen(line));
	}
	(void)errlog_read(&el, &sv, 0);
	now = sv.sv_errwindow;
	ck_assert_int_eq(capture_count("superd: svc: stderr: line "), 100);
	ck_assert_int_eq(capture_count("stderr: line 99\n"), 1);
	ck_assert_int_eq(capture_count("stderr: line 100\n"), 0);
	ck_assert_uint_eq(sv.sv_errdropped, 50);
	ck_assert_int_eq(errlog_ready(&sv, now + 999, &next), 0);
	ck_assert_int_eq(next, now + 1000);
	ck_assert_int_eq(capture_count("not logged"), 0);
	/* Nothing more is read while the budget is spent (unless this
	 * machine stalled for the rest of the second). */
	says(&el, "later\n", 6);
	(void)errlog_read(&el, &sv, 0);
	if (mono_ms() < now + 1000)
		ck_assert_int_eq(capture_count("later"), 0);
	ck_assert_int_eq(errlog_ready(&sv, now + 1000, &next), 1);
	ck_assert_int_eq(capture_count(
	    "superd: svc: stderr: 50 lines not logged (over 100 a second)\n"),
	    1);
	ck_assert_uint_eq(sv.sv_errdropped, 0);
	errlog_close(&el, &sv);
}
END_TEST

/* The reap reads all that is left, whatever the budget of this turn. */
START_TEST(reap_reads_to_the_end)
{
	struct errlog	 el;
	char		 line[1024];
	int		 i;

	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	for (i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "%0*d\n", 1000, i);
		says(&el, line, strlen(line));
	}
	/* A turn of the loop reads a bounded amount... */
	ck_assert_int_eq(errlog_read(&el, &sv, 0), 0);
	ck_assert_int_gt(capture_count("superd: svc: stderr: 0"), 0);
	ck_assert_int_lt(capture_count("superd: svc: stderr: 0"), 40);
	/* ...the reap all of it. */
	ck_assert_int_eq(errlog_read(&el, &sv, 1), 1);
	ck_assert_int_eq(capture_count("superd: svc: stderr: 0"), 40);
	/* The write end closed (the instance and superd's copy): end of
	 * file closes the pipe, and it is not "emptied". */
	close(el.el_wfd);
	el.el_wfd = -1;
	ck_assert_int_eq(errlog_read(&el, &sv, 0), 0);
	ck_assert_int_eq(el.el_fd, -1);
}
END_TEST

/*
 * An emptied pipe is kept for the service's next instance and never
 * given to another service; one not emptied is closed; a spare unused
 * for a second is closed, and what a helper left behind wrote into it is
 * logged then.
 */
START_TEST(spares_reused_by_their_service_then_expire)
{
	struct svc_conf	 osc = sc;
	struct service	 other;
	struct errlog	 el, el2;
	int64_t		 now = 1000000, next = 0;
	int		 rfd, wfd;

	memset(&other, 0, sizeof(other));
	osc.sc_name = "other";
	other.sv_conf = &osc;
	ck_assert_int_ne(wfd = errlog_open(&el, &sv), -1);
	rfd = el.el_fd;
	errlog_recycle(&el, &sv, 1, now);
	ck_assert_int_eq(el.el_fd, -1);
	ck_assert(fd_is_open(rfd) && fd_is_open(wfd));
	/* Another service gets a pipe of its own. */
	ck_assert_int_ne(errlog_open(&el2, &other), -1);
	ck_assert_int_ne(el2.el_fd, rfd);
	errlog_close(&el2, &other);
	/* The service's next instance gets the spare. */
	ck_assert_int_eq(errlog_open(&el, &sv), wfd);
	ck_assert_int_eq(el.el_fd, rfd);
	errlog_recycle(&el, &sv, 1, now);
	/* Not emptied (the instance closed it, or more was left): closed. */
	ck_assert_int_ne(errlog_open(&el2, &sv), -1);
	ck_assert_int_eq(el2.el_fd, rfd);
	errlog_recycle(&el2, &sv, 0, now);
	ck_assert(!fd_is_open(rfd) && !fd_is_open(wfd));
	ck_assert_int_eq(el2.el_fd, -1);
	/* Expiry, with what a leftover helper wrote. */
	ck_assert_int_ne(wfd = errlog_open(&el, &sv), -1);
	rfd = el.el_fd;
	errlog_recycle(&el, &sv, 1, now);
	ck_assert_int_eq(write(wfd, "leftover\n", 9), 9);
	errlog_spares_expire(now + 999, &next);
	ck_assert_int_eq(next, now + 1000);
	ck_assert(fd_is_open(rfd));
	ck_assert_int_eq(capture_count("leftover"), 0);
	next = 0;
	errlog_spares_expire(now + 1000, &next);
	ck_assert_int_eq(next, 0);
	ck_assert(!fd_is_open(rfd) && !fd_is_open(wfd));
	ck_assert_int_eq(capture_count("superd: svc: stderr: leftover\n"), 1);
}
END_TEST

/* A service going away, or a retired one, or one not logging, keeps none. */
START_TEST(spares_dropped_with_their_service)
{
	struct svc_conf	 osc = sc;
	struct service	 other;
	struct errlog	 el, el2, el3;
	int		 rfd, rfd2;

	memset(&other, 0, sizeof(other));
	other.sv_conf = &osc;
	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	ck_assert_int_ne(errlog_open(&el2, &sv), -1);
	ck_assert_int_ne(errlog_open(&el3, &other), -1);
	rfd = el.el_fd;
	rfd2 = el2.el_fd;
	errlog_recycle(&el, &sv, 1, 1000);
	errlog_recycle(&el2, &sv, 1, 1000);
	errlog_recycle(&el3, &other, 1, 1000);
	ck_assert_int_eq(errlog_spares_drop(&sv), 2);
	ck_assert(!fd_is_open(rfd) && !fd_is_open(rfd2));
	ck_assert_int_eq(errlog_spares_drop(NULL), 1);
	ck_assert_int_eq(errlog_spares_drop(NULL), 0);
	sv.sv_retired = 1;
	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	rfd = el.el_fd;
	errlog_recycle(&el, &sv, 1, 1000);
	ck_assert(!fd_is_open(rfd));
	sv.sv_retired = 0;
	sc.sc_stderr = STDERR_NULL;
	ck_assert_int_ne(errlog_open(&el, &sv), -1);
	rfd = el.el_fd;
	errlog_recycle(&el, &sv, 1, 1000);
	ck_assert(!fd_is_open(rfd));
	ck_assert_int_eq(errlog_spares_drop(NULL), 0);
}
END_TEST

Suite *
errlog_suite(void)
{
	Suite	*s = suite_create("errlog");
	TCase	*tc = tcase_create("errlog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_split_tagged_and_escaped);
	tcase_add_test(tc, long_line_cut_into_pieces);
	tcase_add_test(tc, budget_of_lines_a_second);
	tcase_add_test(tc, reap_reads_to_the_end);
	tcase_add_test(tc, spares_reused_by_their_service_then_expire);
	tcase_add_test(tc, spares_dropped_with_their_service);
	suite_add_tcase(s, tc);
	return s;
}
