/*
 * check_tcpmux.c - the tcpmux name line parser (tcpmux.c): it judges
 * bytes from untrusted clients.
 */
#include <string.h>

#include "superd.h"
#include "check_superd.h"

START_TEST(tcpmux_lines)
{
	char	 name[128];

	ck_assert_int_eq(tcpmux_parse("help\r\n", 6, name, sizeof(name)), 6);
	ck_assert_str_eq(name, "help");
	ck_assert_int_eq(tcpmux_parse("  Hello-Mux \n", 13, name, sizeof(name)),
	    13);
	ck_assert_str_eq(name, "Hello-Mux");
	ck_assert_int_eq(tcpmux_parse("echo\r\nafter", 11, name, sizeof(name)), 6);
	ck_assert_str_eq(name, "echo");
	ck_assert_int_eq(tcpmux_parse("partial", 7, name, sizeof(name)), 0);
	ck_assert_int_eq(tcpmux_parse("bad\001name\r\n", 10, name, sizeof(name)),
	    -1);
	ck_assert_int_eq(tcpmux_parse("a\rb\r\n", 5, name, sizeof(name)), -1);
	ck_assert_int_eq(tcpmux_parse("toolong\r\n", 9, name, 4), -1);
}
END_TEST

START_TEST(tcpmux_line_bound)
{
	char	 buf[200], name[128];

	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(tcpmux_parse(buf, 127, name, sizeof(name)), 0);
	ck_assert_int_eq(tcpmux_parse(buf, 128, name, sizeof(name)), -1);
}
END_TEST

Suite *
tcpmux_suite(void)
{
	Suite	*s = suite_create("tcpmux");
	TCase	*tc = tcase_create("tcpmux");

	tcase_add_test(tc, tcpmux_lines);
	tcase_add_test(tc, tcpmux_line_bound);
	suite_add_tcase(s, tc);
	return s;
}
