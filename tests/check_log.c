/*
 * check_log.c - the escaping of text others control before it is logged
 * (log.c).
 */
#include <string.h>

#include "superd.h"
#include "check_superd.h"

/* What a program writes to stderr reaches the log inert (log.c). */
START_TEST(log_escape_control_bytes)
{
	static const char	 in[] = "a\x1b[31m\a\r\0b\\c\td\xc3\xbc\x7f";
	char			 buf[64];

	ck_assert_uint_eq(log_escape(buf, sizeof(buf), in, sizeof(in) - 1),
	    strlen(buf));
	ck_assert_str_eq(buf,
	    "a\\x1b[31m\\x07\\x0d\\x00b\\x5cc\td\xc3\xbc\\x7f");
	/* Cut where it no longer fits, never inside an escape. */
	ck_assert_uint_eq(log_escape(buf, 6, "ab\001cd", 5), 2);
	ck_assert_str_eq(buf, "ab");
	ck_assert_uint_eq(log_escape(buf, 7, "ab\001cd", 5), 6);
	ck_assert_str_eq(buf, "ab\\x01");
}
END_TEST

/*
 * Above 0x7f only well-formed UTF-8 passes: a lone 0x9b (CSI to some
 * terminals), C1 controls in UTF-8 form, overlong forms, surrogates and
 * cut sequences are escaped byte by byte.
 */
START_TEST(log_escape_utf8)
{
	char	 buf[64];

	(void)log_escape(buf, sizeof(buf), "\x9b" "31m", 4);
	ck_assert_str_eq(buf, "\\x9b31m");
	(void)log_escape(buf, sizeof(buf), "\xc2\x9b" "1m", 4);
	ck_assert_str_eq(buf, "\\xc2\\x9b1m");
	(void)log_escape(buf, sizeof(buf), "\xc2\xa0\xe2\x82\xac\xf0\x9f\x98"
	    "\x80", 9);
	ck_assert_str_eq(buf, "\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80");
	(void)log_escape(buf, sizeof(buf), "\xc0\xaf", 2);
	ck_assert_str_eq(buf, "\\xc0\\xaf");
	(void)log_escape(buf, sizeof(buf), "\xed\xa0\x80", 3);
	ck_assert_str_eq(buf, "\\xed\\xa0\\x80");
	(void)log_escape(buf, sizeof(buf), "x\xe2\x82", 3);
	ck_assert_str_eq(buf, "x\\xe2\\x82");
	(void)log_escape(buf, sizeof(buf), "\xf4\x90\x80\x80", 4);
	ck_assert_str_eq(buf, "\\xf4\\x90\\x80\\x80");
	/* A character that does not fit whole is left out whole. */
	ck_assert_uint_eq(log_escape(buf, 4, "ab\xe2\x82\xac", 5), 2);
	ck_assert_str_eq(buf, "ab");
}
END_TEST

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, log_escape_control_bytes);
	tcase_add_test(tc, log_escape_utf8);
	suite_add_tcase(s, tc);
	return s;
}
