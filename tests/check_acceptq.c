/*
 * check_acceptq.c - the dump request that names a TCP listener's accept
 * queue, and which of the kernel's answers belong to it (acceptq.c).
 */
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <string.h>

#include "superd.h"
#include "check_superd.h"

START_TEST(request_filters_states_and_port_in_the_kernel)
{
	struct acceptq_req_buf	 rq;
	struct nlmsghdr		 nlh;
	struct inet_diag_req_v2	 req;
	struct nlattr		 nla;
	struct inet_diag_bc_op	 ops[2];
	size_t			 off = 0;

	acceptq_request(&rq, AF_INET6, 7000);
	memcpy(&nlh, rq.ar_bytes + off, sizeof(nlh));
	off += NLMSG_HDRLEN;
	ck_assert_uint_eq(nlh.nlmsg_len, rq.ar_len);
	ck_assert_uint_eq(nlh.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	ck_assert_uint_eq(nlh.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	memcpy(&req, rq.ar_bytes + off, sizeof(req));
	off += NLMSG_ALIGN(sizeof(req));
	ck_assert_uint_eq(req.sdiag_family, AF_INET6);
	ck_assert_uint_eq(req.sdiag_protocol, IPPROTO_TCP);
	ck_assert_uint_eq(req.idiag_states,
	    (1U << TCP_ESTABLISHED) | (1U << TCP_CLOSE_WAIT));
	memcpy(&nla, rq.ar_bytes + off, sizeof(nla));
	off += NLA_HDRLEN;
	ck_assert_uint_eq(nla.nla_type, INET_DIAG_REQ_BYTECODE);
	ck_assert_uint_eq(nla.nla_len, NLA_HDRLEN + sizeof(ops));
	memcpy(ops, rq.ar_bytes + off, sizeof(ops));
	off += sizeof(ops);
	ck_assert_uint_eq(off, rq.ar_len);
	/* Local port equal: jump to the end (accept), else past it. */
	ck_assert_uint_eq(ops[0].code, INET_DIAG_BC_S_EQ);
	ck_assert_uint_eq(ops[0].yes, 8);
	ck_assert_uint_eq(ops[0].no, 12);
	ck_assert_uint_eq(ops[1].no, 7000);	/* host order */
}
END_TEST

static struct inet_diag_msg
queued_v4(const char *local, unsigned state, unsigned inode)
{
	struct inet_diag_msg	 m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = AF_INET;
	m.idiag_state = (uint8_t)state;
	m.idiag_inode = inode;
	ck_assert_int_eq(inet_pton(AF_INET, local, m.id.idiag_src), 1);
	m.id.idiag_cookie[0] = 0x11223344;
	m.id.idiag_cookie[1] = 0x55667788;
	return m;
}

START_TEST(match_keeps_unaccepted_connections_of_the_listener)
{
	struct inet_diag_msg	 m;
	struct in_addr		 lo, other;
	uint64_t		 cookie = 0;

	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &lo), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.2", &other), 1);
	m = queued_v4("127.0.0.1", TCP_ESTABLISHED, 0);
	ck_assert_int_eq(acceptq_match(&m, AF_INET, (uint8_t *)&lo, 4,
	    &cookie), 1);
	ck_assert_uint_eq(cookie, 0x5566778811223344ULL);
	/* Its client has closed: still queued, still to be accepted. */
	m = queued_v4("127.0.0.1", TCP_CLOSE_WAIT, 0);
	ck_assert_int_eq(acceptq_match(&m, AF_INET, (uint8_t *)&lo, 4,
	    &cookie), 1);
	/* A wildcard listener takes any local address. */
	ck_assert_int_eq(acceptq_match(&m, AF_INET, NULL, 4, &cookie), 1);
	/* Accepted: a file refers to it. */
	m = queued_v4("127.0.0.1", TCP_ESTABLISHED, 4242);
	ck_assert_int_eq(acceptq_match(&m, AF_INET, (uint8_t *)&lo, 4,
	    &cookie), 0);
	/* Another listener's, on the same port. */
	m = queued_v4("127.0.0.1", TCP_ESTABLISHED, 0);
	ck_assert_int_eq(acceptq_match(&m, AF_INET, (uint8_t *)&other, 4,
	    &cookie), 0);
	ck_assert_int_eq(acceptq_match(&m, AF_INET6, NULL, 16, &cookie), 0);
	m = queued_v4("127.0.0.1", TCP_LISTEN, 0);
	ck_assert_int_eq(acceptq_match(&m, AF_INET, NULL, 4, &cookie), 0);
}
END_TEST

Suite *
acceptq_suite(void)
{
	Suite	*s = suite_create("acceptq");
	TCase	*tc = tcase_create("acceptq");

	tcase_add_test(tc, request_filters_states_and_port_in_the_kernel);
	tcase_add_test(tc, match_keeps_unaccepted_connections_of_the_listener);
	suite_add_tcase(s, tc);
	return s;
}
