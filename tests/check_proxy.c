/*
 * check_proxy.c - the PROXY header parser (proxy.c): it judges bytes
 * from untrusted clients.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "check_superd.h"

static ssize_t
parse(const char *text, struct proxy_hdr *ph)
{
	return proxy_parse((const uint8_t *)text, strlen(text), ph);
}

START_TEST(v1_tcp4_and_tcp6)
{
	struct proxy_hdr ph;
	const char	*h4 = "PROXY TCP4 192.0.2.10 127.0.0.1 40000 80\r\nrest";
	const char	*h6 = "PROXY TCP6 2001:db8::10 ::1 1 65535\r\n";

	ck_assert_int_eq(parse(h4, &ph), (ssize_t)(strchr(h4, '\n') - h4 + 1));
	ck_assert_str_eq(ph.ph_src_ip, "192.0.2.10");
	ck_assert_uint_eq(ph.ph_src_port, 40000);
	ck_assert_str_eq(ph.ph_dst_ip, "127.0.0.1");
	ck_assert_uint_eq(ph.ph_dst_port, 80);
	ck_assert_int_eq(ph.ph_local, 0);
	ck_assert_int_eq(parse(h6, &ph), (ssize_t)strlen(h6));
	ck_assert_str_eq(ph.ph_src_ip, "2001:db8::10");
	ck_assert_uint_eq(ph.ph_dst_port, 65535);
}
END_TEST

START_TEST(v1_unknown_and_incomplete)
{
	struct proxy_hdr ph;

	ck_assert_int_eq(parse("PROXY UNKNOWN\r\n", &ph), 15);
	ck_assert_int_eq(ph.ph_local, 1);
	ck_assert_int_eq(parse("PROXY UNKNOWN ignored 1 2\r\n", &ph), 27);
	ck_assert_int_eq(parse("PRO", &ph), 0);
	ck_assert_int_eq(parse("PROXY TCP4 192.0.2.1", &ph), 0);
}
END_TEST

START_TEST(v1_malformed)
{
	struct proxy_hdr ph;
	char		 longline[200];

	ck_assert_int_eq(parse("GET / HTTP/1.0\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 300.1.2.3 127.0.0.1 1 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 192.0.2.1\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 ::1 ::1 1 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", &ph), -1);
	ck_assert_int_eq(parse("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", &ph), -1);
	memset(longline, '1', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "PROXY TCP4 ", 11);
	ck_assert_int_eq(parse(longline, &ph), -1);	/* over 107 bytes */
}
END_TEST

static size_t
v2(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
    size_t len)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(buf, sig, 12);
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (uint8_t)(len >> 8);
	buf[15] = (uint8_t)len;
	memcpy(buf + 16, body, len);
	return 16 + len;
}

START_TEST(v2_inet_tlv_local)
{
	struct proxy_hdr ph;
	uint8_t		 buf[256], body[64];
	size_t		 n;

	memset(body, 0, sizeof(body));
	inet_pton(AF_INET, "192.0.2.20", body);
	inet_pton(AF_INET, "127.0.0.1", body + 4);
	body[8] = 0x9c; body[9] = 0x42;		/* 40002 */
	body[10] = 0; body[11] = 80;
	memcpy(body + 12, "\x04\x00\x03" "abc", 6);	/* a NOOP TLV */
	n = v2(buf, 0x21, 0x11, body, 18);
	ck_assert_int_eq(proxy_parse(buf, n, &ph), (ssize_t)n);
	ck_assert_str_eq(ph.ph_src_ip, "192.0.2.20");
	ck_assert_uint_eq(ph.ph_src_port, 40002);
	ck_assert_uint_eq(ph.ph_dst_port, 80);
	ck_assert_int_eq(proxy_parse(buf, n - 1, &ph), 0);	/* truncated */
	ck_assert_int_eq(proxy_parse(buf, 10, &ph), 0);
	n = v2(buf, 0x20, 0x00, body, 0);			/* LOCAL */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), 16);
	ck_assert_int_eq(ph.ph_local, 1);
	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::20", body);
	inet_pton(AF_INET6, "::1", body + 16);
	body[32] = 0x9c; body[33] = 0x43;
	n = v2(buf, 0x21, 0x21, body, 36);
	ck_assert_int_eq(proxy_parse(buf, n, &ph), (ssize_t)n);
	ck_assert_str_eq(ph.ph_src_ip, "2001:db8::20");
	ck_assert_uint_eq(ph.ph_src_port, 40003);
}
END_TEST

/*
 * The ends a header gives the connection: an IPv4-mapped address (from a
 * dual-stack proxy) as IPv4, so that IPv4 rules match it; LOCAL leaves
 * the socket's own.
 */
START_TEST(peer_from_header_unmapped)
{
	struct proxy_hdr ph;
	struct peer	 pe;

	memset(&pe, 0, sizeof(pe));
	snprintf(pe.pe_remote_ip, sizeof(pe.pe_remote_ip), "127.0.0.2");
	pe.pe_remote_port = 1234;
	ck_assert_int_gt(parse("PROXY UNKNOWN\r\n", &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "127.0.0.2");
	ck_assert_uint_eq(pe.pe_remote_port, 1234);
	ck_assert_int_gt(parse("PROXY TCP6 ::ffff:10.9.9.9 ::ffff:192.0.2.1 "
	    "4000 80\r\n", &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "10.9.9.9");
	ck_assert_uint_eq(pe.pe_remote_port, 4000);
	ck_assert_str_eq(pe.pe_local_ip, "192.0.2.1");
	ck_assert_uint_eq(pe.pe_local_port, 80);
	ck_assert_int_gt(parse("PROXY TCP6 2001:db8::ffff:a09:909 ::1 1 2\r\n",
	    &ph), 0);
	proxy_peer(&ph, &pe);
	ck_assert_str_eq(pe.pe_remote_ip, "2001:db8::ffff:a09:909");
}
END_TEST

START_TEST(v2_malformed)
{
	struct proxy_hdr ph;
	uint8_t		 buf[256], body[64];
	size_t		 n;

	memset(body, 0, sizeof(body));
	n = v2(buf, 0x11, 0x11, body, 12);		/* version 1 */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x22, 0x11, body, 12);		/* command 2 */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x21, 0x41, body, 12);		/* unknown family */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	n = v2(buf, 0x21, 0x21, body, 12);		/* IPv6, short body */
	ck_assert_int_eq(proxy_parse(buf, n, &ph), -1);
	v2(buf, 0x21, 0x11, body, 0);
	buf[14] = 0xff; buf[15] = 0xff;			/* longer than we take */
	ck_assert_int_eq(proxy_parse(buf, 16, &ph), -1);
	buf[3] = 'x';					/* bad signature */
	ck_assert_int_eq(proxy_parse(buf, 16, &ph), -1);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("proxy");

	tcase_add_test(tc, v1_tcp4_and_tcp6);
	tcase_add_test(tc, v1_unknown_and_incomplete);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v2_inet_tlv_local);
	tcase_add_test(tc, peer_from_header_unmapped);
	tcase_add_test(tc, v2_malformed);
	suite_add_tcase(s, tc);
	return s;
}
