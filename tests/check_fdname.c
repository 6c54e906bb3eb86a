/*
 * check_fdname.c - the names of descriptors in systemd's keeping
 * (fdname.c): $LISTEN_FDNAMES taken apart, and a running instance's name
 * written and read back.
 */
#include <limits.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

START_TEST(clean_replaces_what_systemd_refuses)
{
	char	 buf[FDNAME_MAX];

	fdname_clean(buf, sizeof(buf), "a:b\tc\x7f" "d/e f");
	ck_assert_str_eq(buf, "a_b_c_d/e f");
	fdname_clean(buf, 4, "abcdef");
	ck_assert_str_eq(buf, "abc");
}
END_TEST

START_TEST(listen_names_by_index)
{
	char	 buf[FDNAME_MAX];

	fdname_listen("one:two::four", 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one");
	fdname_listen("one:two::four", 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "two");
	fdname_listen("one:two::four", 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	fdname_listen("one:two::four", 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "four");
	/* fewer names than descriptors, or none at all */
	fdname_listen("one:two::four", 4, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	fdname_listen("one", 9, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	fdname_listen(NULL, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* too long for the buffer: cut, still terminated */
	fdname_listen("abcdefgh:x", 0, buf, 5);
	ck_assert_str_eq(buf, "abcd");
}
END_TEST

static void
inst(struct fdname_inst *fi, pid_t pid, int64_t start, const char *svc,
    const char *peer)
{
	memset(fi, 0, sizeof(*fi));
	fi->fi_pid = pid;
	fi->fi_start = start;
	strcpy(fi->fi_service, svc);
	strcpy(fi->fi_peer, peer);
}

/* What superd writes it reads back, an IPv6 peer's ':' included. */
START_TEST(instance_round_trip)
{
	static const char *const peers[] = {
		"192.0.2.7", "2001:db8::1", "::ffff:192.0.2.7", "",
	};
	struct fdname_inst	 in, out;
	char			 name[FDNAME_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		inst(&in, 4242, 123456789012LL, "finger/alt", peers[i]);
		fdname_instance(name, sizeof(name), &in);
		ck_assert(fdname_is_instance(name));
		ck_assert_ptr_null(strchr(name, ':'));
		ck_assert_int_eq(fdname_instance_parse(name, &out), 0);
		ck_assert_int_eq(out.fi_pid, 4242);
		ck_assert_int_eq(out.fi_start, 123456789012LL);
		ck_assert_str_eq(out.fi_service, "finger/alt");
		ck_assert_str_eq(out.fi_peer, peers[i]);
	}
	fdname_instance(name, sizeof(name), &in);
	ck_assert_str_eq(name, "@instance/4242/123456789012/finger/alt/");
}
END_TEST

/* A service name's refused bytes are written as the listeners have them. */
START_TEST(instance_service_cleaned)
{
	struct fdname_inst	 in, out;
	char			 name[FDNAME_MAX];

	inst(&in, 7, 0, "a:b\tc", "10.0.0.1");
	fdname_instance(name, sizeof(name), &in);
	ck_assert_str_eq(name, "@instance/7/0/a_b_c/10.0.0.1");
	ck_assert_int_eq(fdname_instance_parse(name, &out), 0);
	ck_assert_str_eq(out.fi_service, "a_b_c");
}
END_TEST

START_TEST(instance_names_refused)
{
	static const char *const bad[] = {
		"finger/0/123",			/* a listener's */
		"@instance/",
		"@instance/12",
		"@instance/12/",
		"@instance/12/34",
		"@instance/12/34/",		/* no service */
		"@instance/12/34//peer",	/* an empty one */
		"@instance/x/34/svc/peer",
		"@instance/12/y/svc/peer",
		"@instance/0/34/svc/peer",	/* no process */
		"@instance/-5/34/svc/peer",
		"@instance/99999999999999999999/34/svc/peer",
	};
	struct fdname_inst	 out;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(fdname_instance_parse(bad[i], &out) == -1,
		    "%s taken", bad[i]);
}
END_TEST

/* Parts longer than superd writes are refused, never cut or overrun. */
START_TEST(instance_parts_too_long)
{
	struct fdname_inst	 out;
	char			 name[FDNAME_MAX * 2];

	memset(name, 0, sizeof(name));
	strcpy(name, "@instance/1/2/");
	memset(name + strlen(name), 's', SUPERD_NAME_MAX + 1);
	strcat(name, "/peer");
	ck_assert_int_eq(fdname_instance_parse(name, &out), -1);
	memset(name, 0, sizeof(name));
	strcpy(name, "@instance/1/2/svc/");
	memset(name + strlen(name), 'p', sizeof(out.fi_peer));
	ck_assert_int_eq(fdname_instance_parse(name, &out), -1);
	name[strlen(name) - 1] = '\0';
	ck_assert_int_eq(fdname_instance_parse(name, &out), 0);
	ck_assert_uint_eq(strlen(out.fi_peer), sizeof(out.fi_peer) - 1);
}
END_TEST

Suite *
fdname_suite(void)
{
	Suite	*s = suite_create("fdname");
	TCase	*tc = tcase_create("fdname");

	tcase_add_test(tc, clean_replaces_what_systemd_refuses);
	tcase_add_test(tc, listen_names_by_index);
	tcase_add_test(tc, instance_round_trip);
	tcase_add_test(tc, instance_service_cleaned);
	tcase_add_test(tc, instance_names_refused);
	tcase_add_test(tc, instance_parts_too_long);
	suite_add_tcase(s, tc);
	return s;
}
