/*
 * check_shipped.c - the Check runner for the shipped services' pure
 * parts: greeting's name reader and visitor number (greeting_util.c), and
 * fingerd's query parser, neutraliser and full name (fingerd_util.c).  A
 * runner of its own, apart from the daemon's, since the services link
 * nothing of superd.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "fingerd_util.h"
#include "greeting_util.h"
#include "svcio.h"

/* Feed a whole buffer to a fresh name; returns the bytes used. */
static size_t
feed(struct greet_name *gn, const char *s, size_t len)
{
	greet_name_init(gn);
	return greet_name_feed(gn, s, len);
}

/* A pipe holding s; its write end is closed when eof is set. */
static int
pipe_with(const char *s, size_t len, int eof, int *wfd)
{
	int	p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], s, len), (ssize_t)len);
	if (eof) {
		close(p[1]);
		*wfd = -1;
	} else
		*wfd = p[1];
	return p[0];
}

/* ------------------------------------------------------------------ */
/* greeting: the name */

START_TEST(name_newline)
{
	struct greet_name	gn;

	ck_assert_uint_eq(feed(&gn, "Alice\nrest", 10), 6);
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_str_eq(gn.gn_buf, "Alice");
	ck_assert_str_eq(greet_name_show(&gn), "Alice");
}
END_TEST

START_TEST(name_crlf)
{
	struct greet_name	gn;

	ck_assert_uint_eq(feed(&gn, "Bob\r\n", 5), 5);
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_str_eq(gn.gn_buf, "Bob");
}
END_TEST

START_TEST(name_nul)
{
	struct greet_name	gn;

	ck_assert_uint_eq(feed(&gn, "Carol\0junk\n", 11), 6);
	ck_assert_int_eq(gn.gn_end, GREET_NUL);
	ck_assert_str_eq(gn.gn_buf, "Carol");
}
END_TEST

START_TEST(name_in_pieces)
{
	struct greet_name	gn;

	greet_name_init(&gn);
	ck_assert_uint_eq(greet_name_feed(&gn, "Al", 2), 2);
	ck_assert_int_eq(gn.gn_end, GREET_MORE);
	ck_assert_uint_eq(greet_name_feed(&gn, "ice\n", 4), 4);
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_str_eq(gn.gn_buf, "Alice");
	/* Once ended, nothing more is taken. */
	ck_assert_uint_eq(greet_name_feed(&gn, "Bob\n", 4), 0);
	ck_assert_str_eq(gn.gn_buf, "Alice");
}
END_TEST

START_TEST(name_cap_64)
{
	struct greet_name	gn;
	char			buf[101];

	memset(buf, 'x', 100);
	buf[100] = '\n';
	ck_assert_uint_eq(feed(&gn, buf, sizeof(buf)), sizeof(buf));
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_uint_eq(gn.gn_len, GREET_NAME_KEEP);
	ck_assert_uint_eq(strlen(gn.gn_buf), 64);
	ck_assert_int_eq(strspn(gn.gn_buf, "x"), 64);
}
END_TEST

START_TEST(name_cut_without_end)
{
	struct greet_name	gn;
	char			buf[2000];

	memset(buf, 'y', sizeof(buf));
	ck_assert_uint_eq(feed(&gn, buf, sizeof(buf)), GREET_NAME_READ);
	ck_assert_int_eq(gn.gn_end, GREET_CUT);
	ck_assert_uint_eq(gn.gn_len, 64);
}
END_TEST

START_TEST(name_drops_nonprintable)
{
	struct greet_name	gn;
	const char		s[] = "Ab\x01" "c\x1b[31md\x7f" "e\tJ\xc3\xb6rg\n";

	feed(&gn, s, sizeof(s) - 1);
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_str_eq(gn.gn_buf, "Abc[31mdeJrg");
}
END_TEST

START_TEST(name_empty)
{
	struct greet_name	gn;

	feed(&gn, "\n", 1);
	ck_assert_int_eq(gn.gn_end, GREET_NEWLINE);
	ck_assert_uint_eq(gn.gn_len, 0);
	ck_assert_uint_eq(gn.gn_seen, 1);
	ck_assert_str_eq(greet_name_show(&gn), GREET_ANON);

	/* Only non-printable bytes: empty as well. */
	feed(&gn, "\x01\x02\r\n", 4);
	ck_assert_uint_eq(gn.gn_len, 0);
	ck_assert_str_eq(greet_name_show(&gn), "stranger");
}
END_TEST

START_TEST(name_read_eof)
{
	struct greet_name	gn;
	struct timespec		dl;
	int			fd, wfd;

	fd = pipe_with("Dave", 4, 1, &wfd);
	svc_deadline(&dl, 5);
	greet_name_init(&gn);
	ck_assert_int_eq(greet_name_read(fd, &gn, &dl), 0);
	ck_assert_int_eq(gn.gn_end, GREET_EOF);
	ck_assert_str_eq(gn.gn_buf, "Dave");
	close(fd);

	/* Nothing at all, then end of input: nothing seen. */
	fd = pipe_with("", 0, 1, &wfd);
	greet_name_init(&gn);
	ck_assert_int_eq(greet_name_read(fd, &gn, &dl), 0);
	ck_assert_int_eq(gn.gn_end, GREET_EOF);
	ck_assert_uint_eq(gn.gn_seen, 0);
	close(fd);
}
END_TEST

/* The classic client: name, NUL, and the connection stays open. */
START_TEST(name_read_nul_no_eof)
{
	struct greet_name	gn;
	struct timespec		dl, t0, t1;
	int			fd, wfd;

	fd = pipe_with("cew\0", 4, 0, &wfd);
	svc_deadline(&dl, 5);
	greet_name_init(&gn);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(greet_name_read(fd, &gn, &dl), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(gn.gn_end, GREET_NUL);
	ck_assert_str_eq(gn.gn_buf, "cew");
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);
	close(fd);
	close(wfd);
}
END_TEST

START_TEST(name_read_timeout)
{
	struct greet_name	gn;
	struct timespec		dl, t0, t1;
	int			fd, wfd;

	fd = pipe_with("slow", 4, 0, &wfd);
	svc_deadline(&dl, 1);
	greet_name_init(&gn);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(greet_name_read(fd, &gn, &dl), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, 990);
	ck_assert_int_eq(gn.gn_end, GREET_MORE);
	close(fd);
	close(wfd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* greeting: the visitor number */

START_TEST(count_empty_is_zero)
{
	uint64_t	n = 99;

	ck_assert_int_eq(greet_count_parse("", 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	n = 99;
	ck_assert_int_eq(greet_count_parse("\n", 1, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(count_numbers)
{
	uint64_t	n;

	ck_assert_int_eq(greet_count_parse("41", 2, &n), 0);
	ck_assert_uint_eq(n, 41);
	ck_assert_int_eq(greet_count_parse("41\n", 3, &n), 0);
	ck_assert_uint_eq(n, 41);
	ck_assert_int_eq(greet_count_parse("41\r\n", 4, &n), 0);
	ck_assert_uint_eq(n, 41);
	ck_assert_int_eq(greet_count_parse("007", 3, &n), 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_int_eq(greet_count_parse("18446744073709551615", 20, &n), 0);
	ck_assert_uint_eq(n, UINT64_MAX);
}
END_TEST

START_TEST(count_corrupt)
{
	const char	*bad[] = { "abc", "12a", "-1", "+1", " 5", "1 2",
			    ("4\0" "2"), "0x10", "1.5" };
	size_t		 len[] = { 3, 3, 2, 2, 2, 3, 3, 4, 3 };
	uint64_t	 n = 5;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(greet_count_parse(bad[i], len[i], &n) == -1,
		    "\"%s\" parsed", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(n, 5);
	}
	errno = 0;
	ck_assert_int_eq(greet_count_parse("18446744073709551616", 20, &n),
	    -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(greet_count_parse("99999999999999999999", 20, &n),
	    -1);
	ck_assert_uint_eq(n, 5);
}
END_TEST

START_TEST(count_format)
{
	char		buf[GREET_COUNT_LEN + 1];
	uint64_t	n;

	ck_assert_int_eq(greet_count_format(buf, sizeof(buf), 42), 3);
	ck_assert_str_eq(buf, "42\n");
	ck_assert_int_eq(greet_count_format(buf, sizeof(buf), UINT64_MAX),
	    21);
	ck_assert_int_eq(greet_count_parse(buf, 21, &n), 0);
	ck_assert_uint_eq(n, UINT64_MAX);
	ck_assert_int_eq(greet_count_format(buf, 3, 42), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fingerd: the query */

static struct fquery	fq;

static int
parse(const char *s)
{
	return fquery_parse(s, strlen(s), &fq);
}

START_TEST(query_empty)
{
	ck_assert_int_eq(parse("\r\n"), 0);
	ck_assert(fq.fq_empty);
	ck_assert(!fq.fq_verbose);
	ck_assert(!fq.fq_forward);
	ck_assert_str_eq(fq.fq_user, "");

	/* End of input with no line end at all. */
	ck_assert_int_eq(parse(""), 0);
	ck_assert(fq.fq_empty);
}
END_TEST

START_TEST(query_user)
{
	ck_assert_int_eq(parse("alice\r\n"), 0);
	ck_assert_str_eq(fq.fq_user, "alice");
	ck_assert(!fq.fq_empty && !fq.fq_verbose && !fq.fq_forward);

	ck_assert_int_eq(parse("alice\n"), 0);
	ck_assert_str_eq(fq.fq_user, "alice");

	ck_assert_int_eq(parse("alice"), 0);
	ck_assert_str_eq(fq.fq_user, "alice");

	/* Only the first line counts. */
	ck_assert_int_eq(parse("alice\r\nbob\r\n"), 0);
	ck_assert_str_eq(fq.fq_user, "alice");
}
END_TEST

START_TEST(query_verbose)
{
	ck_assert_int_eq(parse("/W\r\n"), 0);
	ck_assert(fq.fq_verbose && fq.fq_empty);

	/* What `finger -l @host' sends. */
	ck_assert_int_eq(parse("/W \r\n"), 0);
	ck_assert(fq.fq_verbose && fq.fq_empty);

	ck_assert_int_eq(parse("/W alice\r\n"), 0);
	ck_assert(fq.fq_verbose && !fq.fq_empty);
	ck_assert_str_eq(fq.fq_user, "alice");

	ck_assert_int_eq(parse("/w  alice \n"), 0);
	ck_assert(fq.fq_verbose);
	ck_assert_str_eq(fq.fq_user, "alice");

	/* "/W" is a token of its own, not a prefix of the name. */
	ck_assert_int_eq(parse("/Walice\r\n"), 0);
	ck_assert(!fq.fq_verbose);
	ck_assert_str_eq(fq.fq_user, "/Walice");
}
END_TEST

START_TEST(query_forward)
{
	ck_assert_int_eq(parse("alice@host\r\n"), 0);
	ck_assert(fq.fq_forward && !fq.fq_empty);

	ck_assert_int_eq(parse("@host\r\n"), 0);
	ck_assert(fq.fq_forward && !fq.fq_empty);

	ck_assert_int_eq(parse("/W alice@a@b\r\n"), 0);
	ck_assert(fq.fq_forward && fq.fq_verbose);
}
END_TEST

START_TEST(query_too_long)
{
	char	buf[FQ_LINE_MAX + 100];

	/* A full read buffer and no line end. */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(fquery_parse(buf, FQ_BUF_SIZE, &fq), -1);
	ck_assert_str_eq(fq.fq_error, "the query is too long");

	/* 513 bytes before LF: one too many. */
	buf[FQ_LINE_MAX + 1] = '\n';
	ck_assert_int_eq(fquery_parse(buf, FQ_BUF_SIZE, &fq), -1);
	ck_assert_ptr_nonnull(fq.fq_error);

	/* 512 bytes and CRLF: the longest query. */
	buf[FQ_LINE_MAX] = '\r';
	ck_assert_int_eq(fquery_parse(buf, FQ_BUF_SIZE, &fq), 0);
	ck_assert_uint_eq(strlen(fq.fq_user), FQ_LINE_MAX);
}
END_TEST

START_TEST(query_refused)
{
	ck_assert_int_eq(parse("alice bob\r\n"), -1);
	ck_assert_str_eq(fq.fq_error, "one name per query, please");
	ck_assert_int_eq(parse("al\x1bice\r\n"), -1);
	ck_assert_str_eq(fq.fq_error, "the query holds a control character");
	ck_assert_int_eq(fquery_parse("al\0ice\r\n", 8, &fq), -1);
	/* A lone CR inside the line is a control character too. */
	ck_assert_int_eq(parse("al\rice\r\n"), -1);
}
END_TEST

START_TEST(query_read_line)
{
	struct timespec	dl;
	char		buf[FQ_BUF_SIZE];
	size_t		len;
	int		fd, wfd;

	/* Stops at the line's end while the client keeps the line open. */
	fd = pipe_with("alice\r\n", 7, 0, &wfd);
	svc_deadline(&dl, 5);
	ck_assert_int_eq(fquery_read(fd, buf, sizeof(buf), &len, &dl), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(fquery_parse(buf, len, &fq), 0);
	ck_assert_str_eq(fq.fq_user, "alice");
	close(fd);
	close(wfd);

	/* Stops when the buffer is full. */
	fd = pipe_with("xxxxxxxxxx", 10, 1, &wfd);
	ck_assert_int_eq(fquery_read(fd, buf, 4, &len, &dl), 0);
	ck_assert_uint_eq(len, 4);
	close(fd);

	/* Times out without a line. */
	fd = pipe_with("ali", 3, 0, &wfd);
	svc_deadline(&dl, 1);
	ck_assert_int_eq(fquery_read(fd, buf, sizeof(buf), &len, &dl), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	close(fd);
	close(wfd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fingerd: the neutraliser and the full name */

static char	visbuf[256];

static const char *
vis(const char *s, size_t len)
{
	size_t	n;

	n = finger_vis(visbuf, sizeof(visbuf), s, len);
	ck_assert_uint_eq(n, strlen(visbuf));
	ck_assert_uint_le(n, FINGER_VIS_MAX(len) - 1);
	return visbuf;
}

START_TEST(vis_plain)
{
	ck_assert_str_eq(vis("hello, world", 12), "hello, world");
	ck_assert_str_eq(vis("a\tb", 3), "a\tb");
	ck_assert_str_eq(vis("", 0), "");
}
END_TEST

START_TEST(vis_controls)
{
	ck_assert_str_eq(vis("\x1b[31mred", 8), "^[[31mred");
	ck_assert_str_eq(vis("a\rb\nc", 5), "a^Mb^Jc");
	ck_assert_str_eq(vis("\0\x07\x7f", 3), "^@^G^?");
}
END_TEST

START_TEST(vis_utf8)
{
	/* Printable UTF-8 passes. */
	ck_assert_str_eq(vis("J\xc3\xb6rg \xe2\x82\xac", 9),
	    "J\xc3\xb6rg \xe2\x82\xac");
	/* C1 CSI, as a UTF-8 sequence and as a raw byte. */
	ck_assert_str_eq(vis("\xc2\x9b" "2J", 4), "M-BM-^[2J");
	ck_assert_str_eq(vis("\x9b" "2J", 3), "M-^[2J");
	/* Right-to-left override. */
	ck_assert_str_eq(vis("\xe2\x80\xae", 3), "M-bM-^@M-.");
	/* Malformed: a lone continuation, a truncated sequence, overlong. */
	ck_assert_str_eq(vis("\x80", 1), "M-^@");
	ck_assert_str_eq(vis("\xc3", 1), "M-C");
	ck_assert_str_eq(vis("\xc0\xaf", 2), "M-@M-/");
	ck_assert_str_eq(vis("\xff", 1), "M-^?");
}
END_TEST

START_TEST(vis_truncates)
{
	char	small[5];

	ck_assert_uint_eq(finger_vis(small, sizeof(small), "hello!", 6), 6);
	ck_assert_str_eq(small, "hell");
	ck_assert_uint_eq(finger_vis(small, sizeof(small), "\x1b\x1b\x1b", 3),
	    6);
	ck_assert_str_eq(small, "^[^[");
	ck_assert_uint_eq(finger_vis(NULL, 0, "\x9b", 1), 4);
}
END_TEST

START_TEST(fullname)
{
	char	buf[64], tiny[6];

	finger_fullname(buf, sizeof(buf), "Carl Wilson,Room 1,555-1234,", "cw");
	ck_assert_str_eq(buf, "Carl Wilson");
	finger_fullname(buf, sizeof(buf), "& Smith,,", "joe");
	ck_assert_str_eq(buf, "Joe Smith");
	finger_fullname(buf, sizeof(buf), "", "joe");
	ck_assert_str_eq(buf, "");
	finger_fullname(tiny, sizeof(tiny), "Marguerite", "m");
	ck_assert_str_eq(tiny, "Margu");
}
END_TEST

static Suite *
greeting_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("greeting");
	tc = tcase_create("name");
	tcase_add_test(tc, name_newline);
	tcase_add_test(tc, name_crlf);
	tcase_add_test(tc, name_nul);
	tcase_add_test(tc, name_in_pieces);
	tcase_add_test(tc, name_cap_64);
	tcase_add_test(tc, name_cut_without_end);
	tcase_add_test(tc, name_drops_nonprintable);
	tcase_add_test(tc, name_empty);
	tcase_add_test(tc, name_read_eof);
	tcase_add_test(tc, name_read_nul_no_eof);
	tcase_add_test(tc, name_read_timeout);
	suite_add_tcase(s, tc);
	tc = tcase_create("count");
	tcase_add_test(tc, count_empty_is_zero);
	tcase_add_test(tc, count_numbers);
	tcase_add_test(tc, count_corrupt);
	tcase_add_test(tc, count_format);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
fingerd_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("fingerd");
	tc = tcase_create("query");
	tcase_add_test(tc, query_empty);
	tcase_add_test(tc, query_user);
	tcase_add_test(tc, query_verbose);
	tcase_add_test(tc, query_forward);
	tcase_add_test(tc, query_too_long);
	tcase_add_test(tc, query_refused);
	tcase_add_test(tc, query_read_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, vis_plain);
	tcase_add_test(tc, vis_controls);
	tcase_add_test(tc, vis_utf8);
	tcase_add_test(tc, vis_truncates);
	tcase_add_test(tc, fullname);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* A test that writes to a pipe whose reader is gone must fail, not die. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(greeting_suite());
	srunner_add_suite(sr, fingerd_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
