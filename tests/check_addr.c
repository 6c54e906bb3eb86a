/*
 * check_addr.c - address formatting and per-source keys (addr.c).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

static struct sockaddr_storage
sin6_of(const char *text, unsigned port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return ss;
}

START_TEST(format_v4_mapped_is_dotted)
{
	struct sockaddr_storage	 ss = sin6_of("::ffff:127.0.0.2", 4242);
	char			 buf[64];
	unsigned		 port;

	ck_assert_int_eq(addr_format((struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in6), buf, sizeof(buf), &port), 0);
	ck_assert_str_eq(buf, "127.0.0.2");
	ck_assert_uint_eq(port, 4242);
}
END_TEST

START_TEST(format_v6_without_brackets)
{
	struct sockaddr_storage	 ss = sin6_of("2001:db8::1", 79);
	char			 buf[64];
	unsigned		 port;

	addr_format((struct sockaddr *)&ss, sizeof(struct sockaddr_in6), buf,
	    sizeof(buf), &port);
	ck_assert_str_eq(buf, "2001:db8::1");
	ck_assert_uint_eq(port, 79);
}
END_TEST

/* A link-local address is only whole with its scope (RFC 4007). */
START_TEST(format_v6_keeps_scope)
{
	struct sockaddr_storage	 ss = sin6_of("fe80::1", 546);
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	char			 buf[64];
	unsigned		 port;

	sin6->sin6_scope_id = 1;	/* the loopback, in every namespace */
	ck_assert_int_eq(addr_format((struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in6), buf, sizeof(buf), &port), 0);
	ck_assert_str_eq(buf, "fe80::1%lo");
	ck_assert_uint_eq(port, 546);
	sin6->sin6_scope_id = 999999;	/* no such interface: its number */
	addr_format((struct sockaddr *)&ss, sizeof(struct sockaddr_in6), buf,
	    sizeof(buf), &port);
	ck_assert_str_eq(buf, "fe80::1%999999");
}
END_TEST

START_TEST(format_v4)
{
	struct sockaddr_in	 sin;
	char			 buf[64];
	unsigned		 port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(65535);
	sin.sin_addr.s_addr = htonl(0x0a000001);
	addr_format((struct sockaddr *)&sin, sizeof(sin), buf, sizeof(buf),
	    &port);
	ck_assert_str_eq(buf, "10.0.0.1");
	ck_assert_uint_eq(port, 65535);
}
END_TEST

START_TEST(unmap_keeps_real_v6)
{
	struct sockaddr_storage	 ss = sin6_of("::1", 7);
	socklen_t		 len = sizeof(struct sockaddr_in6);

	addr_unmap(&ss, &len);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ss = sin6_of("::ffff:10.1.2.3", 7);
	addr_unmap(&ss, &len);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 7);
}
END_TEST

START_TEST(source_key_format)
{
	struct srckey	 k;
	char		 buf[64];

	ck_assert_int_eq(addr_key("2001:db8:1:2:aaaa::1", &k), 0);
	addr_key_format(&k, 64, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:1:2::/64");
	addr_key_format(&k, 56, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:1::/56");
	addr_key_format(&k, 128, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:1:2:aaaa::1");
	ck_assert_int_eq(addr_key("::ffff:192.0.2.7", &k), 0);
	addr_key_format(&k, 64, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.7");
	memset(&k, 0, sizeof(k));
	addr_key_format(&k, 64, buf, sizeof(buf));
	ck_assert_str_eq(buf, "?");
	/* Cut, still a string. */
	ck_assert_int_eq(addr_key("2001:db8:1:2:aaaa::1", &k), 0);
	addr_key_format(&k, 64, buf, 8);
	ck_assert_uint_lt(strlen(buf), 8);
}
END_TEST

START_TEST(source_key_v4_mapped_and_prefix)
{
	struct srckey	 a, b;

	ck_assert_int_eq(addr_key("::ffff:192.0.2.7", &a), 0);
	ck_assert_int_eq(addr_key("192.0.2.7", &b), 0);
	ck_assert_int_eq(a.sk_family, AF_INET);
	ck_assert(addr_key_same(&a, &b, 64));
	/* IPv4 is counted by the whole address, whatever the prefix. */
	ck_assert_int_eq(addr_key("192.0.2.8", &b), 0);
	ck_assert(!addr_key_same(&a, &b, 1));
	ck_assert_int_eq(addr_key("2001:db8:1:2:aaaa::1", &a), 0);
	ck_assert_int_eq(addr_key("2001:db8:1:2:5555::9", &b), 0);
	ck_assert(addr_key_same(&a, &b, 64));
	ck_assert(!addr_key_same(&a, &b, 65));
	ck_assert(!addr_key_same(&a, &b, 128));
	ck_assert_int_eq(addr_key("2001:db8:1:3::1", &b), 0);
	ck_assert(!addr_key_same(&a, &b, 64));
	ck_assert(addr_key_same(&a, &b, 62));
	ck_assert(addr_key_same(&a, &b, 48));
	ck_assert_int_eq(addr_key("fe80::1%lo", &a), 0);
	ck_assert_int_eq(addr_key("fe80::2", &b), 0);
	ck_assert(addr_key_same(&a, &b, 64));
	ck_assert_int_eq(addr_key("pid 42", &b), -1);
	ck_assert(!addr_key_same(&b, &b, 64));
}
END_TEST

/* One table of names, read and written the same way. */
START_TEST(proto_names_both_ways)
{
	enum proto	 p = PROTO_TCP;

	ck_assert_str_eq(proto_name(PROTO_TCP), "tcp");
	ck_assert_str_eq(proto_name(PROTO_UDP), "udp");
	ck_assert_str_eq(proto_name(PROTO_UNIX), "unix");
	ck_assert_int_eq(proto_parse("unix", &p), 0);
	ck_assert_int_eq(p, PROTO_UNIX);
	ck_assert_int_eq(proto_parse("udp", &p), 0);
	ck_assert_int_eq(p, PROTO_UDP);
	ck_assert_int_eq(proto_parse("tcp", &p), 0);
	ck_assert_int_eq(p, PROTO_TCP);
	ck_assert_int_eq(proto_parse("TCP", &p), -1);
	ck_assert_int_eq(proto_parse("tcp6", &p), -1);
	ck_assert_int_eq(proto_parse("", &p), -1);
	ck_assert_int_eq(p, PROTO_TCP);
}
END_TEST

Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("addr");

	tcase_add_test(tc, format_v4_mapped_is_dotted);
	tcase_add_test(tc, format_v6_without_brackets);
	tcase_add_test(tc, format_v6_keeps_scope);
	tcase_add_test(tc, format_v4);
	tcase_add_test(tc, unmap_keeps_real_v6);
	tcase_add_test(tc, source_key_v4_mapped_and_prefix);
	tcase_add_test(tc, source_key_format);
	tcase_add_test(tc, proto_names_both_ways);
	suite_add_tcase(s, tc);
	return s;
}
