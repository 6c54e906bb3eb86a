/*
 * acceptq.c - what waits in a TCP listener's accept queue, from the
 * kernel's socket table.
 *
 * A connection in a listener's accept queue is a full socket in the
 * kernel's TCP table that no file refers to yet: NETLINK_SOCK_DIAG
 * (sock_diag(7)) lists it with inode 0 and a cookie no other socket has
 * while it lives.  acceptq_scan() names those of one listener, so that
 * looping.c can tell whether a TCP wait program took anyone off its queue
 * (a cookie gone), which the queue's length cannot tell when clients keep
 * arriving as fast as the program takes them.
 *
 * Cost: the kernel walks the machine's whole TCP table for each dump (it
 * sends only the sockets on the listener's port, filtered by a bytecode
 * program); only TCP wait services pay it, twice per instance at most.
 * The kernel answers at once, so every receive is non-blocking, and the
 * netlink socket lives for one scan.
 */
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"

#define ACCEPTQ_STATES	((1U << TCP_ESTABLISHED) | (1U << TCP_CLOSE_WAIT))
#define ACCEPTQ_RECVS	4096	/* a bound on the messages of one dump */

struct acceptq_req {
	struct nlmsghdr		 nlh;
	struct inet_diag_req_v2	 req;
	struct nlattr		 nla;
	struct inet_diag_bc_op	 ops[2];
};

/*
 * The dump request for family's TCP sockets in the states of an accept
 * queue whose local port is port (host order): the bytecode program goes
 * to its end (accept) when the port matches, past it (reject) otherwise.
 */
void
acceptq_request(struct acceptq_req_buf *buf, int family, uint16_t port)
{
	struct acceptq_req	 rq;

	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.nlh.nlmsg_seq = 1;
	rq.req.sdiag_family = (uint8_t)family;
	rq.req.sdiag_protocol = IPPROTO_TCP;
	rq.req.idiag_states = ACCEPTQ_STATES;
	rq.nla.nla_len = sizeof(rq.nla) + sizeof(rq.ops);
	rq.nla.nla_type = INET_DIAG_REQ_BYTECODE;
	rq.ops[0].code = INET_DIAG_BC_S_EQ;
	rq.ops[0].yes = sizeof(rq.ops);
	rq.ops[0].no = sizeof(rq.ops) + 4;
	rq.ops[1].no = port;
	_Static_assert(sizeof(rq) <= sizeof(buf->ar_bytes), "request room");
	memcpy(buf->ar_bytes, &rq, sizeof(rq));
	buf->ar_len = sizeof(rq);
}

/* The listener's family, local address (network order) and port. */
static int
bound_parts(const struct sockaddr_storage *ss, int *family,
    const uint8_t **addr, size_t *alen, uint16_t *port, int *wildcard)
{
	static const uint8_t	 zeros[16];

	*family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		*addr = (const uint8_t *)&sin->sin_addr;
		*alen = 4;
		*port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		*addr = sin6->sin6_addr.s6_addr;
		*alen = 16;
		*port = ntohs(sin6->sin6_port);
	} else
		return -1;
	*wildcard = memcmp(*addr, zeros, *alen) == 0;
	return 0;
}

/*
 * One message of the dump: whether it is an unaccepted connection of the
 * listener at addr (alen bytes; NULL: any address), and its cookie.
 */
int
acceptq_match(const struct inet_diag_msg *m, int family, const uint8_t *addr,
    size_t alen, uint64_t *cookie)
{
	if (m->idiag_family != family || m->idiag_inode != 0 ||
	    (m->idiag_state != TCP_ESTABLISHED &&
	    m->idiag_state != TCP_CLOSE_WAIT))
		return 0;
	if (addr != NULL && memcmp(m->id.idiag_src, addr, alen) != 0)
		return 0;
	*cookie = (uint64_t)m->id.idiag_cookie[0] |
	    (uint64_t)m->id.idiag_cookie[1] << 32;
	return 1;
}

/*
 * The messages of one received batch: 1 at the end of the dump, 0 when
 * more are to come, -1 on an error or a message cut short.
 */
static int
batch_scan(const void *buf, size_t len, int family, const uint8_t *addr,
    size_t alen, void (*each)(uint64_t, void *), void *arg, int *count)
{
	const struct nlmsghdr	*nlh = buf;
	uint64_t		 cookie;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			return -1;	/* the table changed under the walk */
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			return -1;	/* NLMSG_ERROR among them */
		if (acceptq_match(NLMSG_DATA(nlh), family, addr, alen,
		    &cookie)) {
			each(cookie, arg);
			(*count)++;
		}
	}
	return len == 0 ? 0 : -1;
}

/*
 * Calls each(cookie, arg) for every connection waiting in the accept
 * queue of the TCP listener bound to ss, and returns how many there were;
 * -1 when the kernel's table cannot be read (no sock_diag, out of memory,
 * a dump interrupted), and the caller then knows nothing.
 */
int
acceptq_scan(const struct sockaddr_storage *ss,
    void (*each)(uint64_t, void *), void *arg)
{
	static union {
		struct nlmsghdr	 nlh;	/* aligned */
		char		 bytes[8192];	/* the kernel's first batch size */
	} rx;
	struct acceptq_req_buf	 rq;
	struct sockaddr_nl	 kernel = { .nl_family = AF_NETLINK };
	const uint8_t		*addr;
	size_t			 alen;
	uint16_t		 port;
	ssize_t			 n;
	int			 fd, family, wildcard, i, done = -1, count = 0;

	if (bound_parts(ss, &family, &addr, &alen, &port, &wildcard) == -1)
		return -1;
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	acceptq_request(&rq, family, port);
	if (sendto(fd, rq.ar_bytes, rq.ar_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) != (ssize_t)rq.ar_len)
		goto out;
	/* Each receive makes the kernel queue the next batch at once. */
	for (i = 0; i < ACCEPTQ_RECVS; i++) {
		n = recv(fd, rx.bytes, sizeof(rx.bytes), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done = batch_scan(rx.bytes, (size_t)n, family,
		    wildcard ? NULL : addr, alen, each, arg, &count);
		if (done != 0)
			break;
		done = -1;
	}
out:
	close(fd);
	return done == 1 ? count : -1;
}
