/*
 * check_builtin.c - the services superd answers itself (builtin.c): which
 * run in the loop, the daytime and time answers, the stream builtins in
 * a forked child over a socketpair, and the UDP builtins over loopback
 * sockets, with the sources they never answer.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "superd.h"
#include "check_superd.h"

#define SECONDS_1900_1970 2208988800UL

START_TEST(inline_are_udp_daytime_and_time)
{
	ck_assert(builtin_inline(BUILTIN_ECHO, PROTO_UDP));
	ck_assert(builtin_inline(BUILTIN_CHARGEN, PROTO_UDP));
	ck_assert(builtin_inline(BUILTIN_DISCARD, PROTO_UDP));
	ck_assert(builtin_inline(BUILTIN_DAYTIME, PROTO_TCP));
	ck_assert(builtin_inline(BUILTIN_TIME, PROTO_TCP));
	ck_assert(!builtin_inline(BUILTIN_ECHO, PROTO_TCP));
	ck_assert(!builtin_inline(BUILTIN_DISCARD, PROTO_TCP));
	ck_assert(!builtin_inline(BUILTIN_CHARGEN, PROTO_TCP));
}
END_TEST

/* Reads what the other end sends until it closes (at most size - 1). */
static size_t
read_to_end(int fd, char *buf, size_t size)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

/*
 * RFC 867 leaves the format free; superd's is ctime(3)'s, "Www Mmm dd
 * hh:mm:ss yyyy" (the day padded with a space), with CR LF, at the local
 * time now.
 */
static void
assert_daytime(const char *text, size_t len)
{
	struct tm	 tm;
	time_t		 before = time(NULL), at;
	char		 want[64];
	const char	*end;

	ck_assert_uint_eq(len, 26);
	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%a %b %e %H:%M:%S %Y", &tm);
	ck_assert_ptr_eq(end, text + 24);
	tm.tm_isdst = -1;
	at = mktime(&tm);
	ck_assert_int_le(at, before);
	ck_assert_int_ge(at, before - 5);
	ck_assert_ptr_nonnull(ctime_r(&at, want));
	ck_assert_uint_eq(strlen(want), 25);
	memcpy(want + 24, "\r\n", 3);
	ck_assert_str_eq(text, want);
}

/* RFC 868: seconds since 1900, 32 bits in network order. */
static void
assert_time(const unsigned char *b, size_t len)
{
	uint32_t	 t, now;

	now = (uint32_t)((uint64_t)time(NULL) + SECONDS_1900_1970);
	ck_assert_uint_eq(len, 4);
	t = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	    b[3];
	ck_assert_uint_le(t, now);
	ck_assert_uint_ge(t, now - 5);
}

START_TEST(tcp_daytime_and_time_answer_once)
{
	char	 buf[128];
	int	 sp[2];
	size_t	 n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	builtin_reply(BUILTIN_DAYTIME, sp[0]);
	close(sp[0]);
	n = read_to_end(sp[1], buf, sizeof(buf));
	close(sp[1]);
	assert_daytime(buf, n);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	builtin_reply(BUILTIN_TIME, sp[0]);
	close(sp[0]);
	n = read_to_end(sp[1], buf, sizeof(buf));
	close(sp[1]);
	assert_time((unsigned char *)buf, n);
}
END_TEST

/* builtin_run(b) in a child serving sp[0]; the test has sp[1]. */
static pid_t
serve(enum builtin b, int sp[2])
{
	pid_t	 pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sp), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(sp[1]);
		builtin_run(b, sp[0]);
	}
	close(sp[0]);
	return pid;
}

/* The child ended by itself with status 0. */
static void
assert_exit_0(pid_t pid)
{
	int	 status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(stream_echo_returns_every_byte)
{
	static char	 in[100000], out[sizeof(in) + 1];
	size_t		 i;
	int		 sp[2];
	pid_t		 pid;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7);
	pid = serve(BUILTIN_ECHO, sp);
	/* Smaller than the socket buffers: no deadlock writing it all. */
	ck_assert_int_eq(write_all(sp[1], in, 30000), 0);
	ck_assert_int_eq(write_all(sp[1], in + 30000, sizeof(in) - 30000), 0);
	ck_assert_int_eq(shutdown(sp[1], SHUT_WR), 0);
	ck_assert_uint_eq(read_to_end(sp[1], out, sizeof(out)), sizeof(in));
	ck_assert(memcmp(in, out, sizeof(in)) == 0);
	close(sp[1]);
	assert_exit_0(pid);
}
END_TEST

START_TEST(stream_discard_answers_nothing)
{
	char	 buf[4096];
	int	 sp[2];
	pid_t	 pid;

	memset(buf, 'x', sizeof(buf));
	pid = serve(BUILTIN_DISCARD, sp);
	ck_assert_int_eq(write_all(sp[1], buf, sizeof(buf)), 0);
	ck_assert_int_eq(shutdown(sp[1], SHUT_WR), 0);
	ck_assert_uint_eq(read_to_end(sp[1], buf, sizeof(buf)), 0);
	close(sp[1]);
	assert_exit_0(pid);
}
END_TEST

/*
 * RFC 864: lines of 72 printable characters and CR LF, each starting one
 * character further along the 95 printable ones, until the client goes.
 */
START_TEST(stream_chargen_rotating_lines)
{
	char	 buf[74 * 200];
	size_t	 got = 0;
	ssize_t	 n;
	int	 sp[2], line, i, status;
	pid_t	 pid;

	pid = serve(BUILTIN_CHARGEN, sp);
	while (got < sizeof(buf) &&
	    (n = read(sp[1], buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	ck_assert_uint_eq(got, sizeof(buf));
	for (line = 0; line < 200; line++) {
		for (i = 0; i < 72; i++)
			ck_assert_int_eq(buf[line * 74 + i],
			    ' ' + (line + i) % 95);
		ck_assert_int_eq(buf[line * 74 + 72], '\r');
		ck_assert_int_eq(buf[line * 74 + 73], '\n');
	}
	/* The client goes: chargen stops (a write fails), never spins. */
	close(sp[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) || WTERMSIG(status) == SIGPIPE);
}
END_TEST

/* A UDP builtin on 127.0.0.1 and a client socket of the test. */
static struct svc_conf	 sc;
static struct service	 sv;
static struct listener	 ls;
static int		 client = -1;

static int
udp_socket(struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof(*sin);
	int		 fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    -1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void
udp_setup(void)
{
	struct sockaddr_in	 svc, cli;

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	memset(&ls, 0, sizeof(ls));
	sc.sc_name = "udp";
	sc.sc_proto = PROTO_UDP;
	sc.sc_per_source_ipv6_prefix = 64;
	sv.sv_conf = &sc;
	ls.ls_svc = &sv;
	ls.ls_fd = udp_socket(&svc);
	client = udp_socket(&cli);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&svc,
	    sizeof(svc)), 0);
	builtin_ports_clear();
}

static void
udp_teardown(void)
{
	close(ls.ls_fd);
	close(client);
	client = -1;
	policy_source_free(sv.sv_sources);
	builtin_ports_clear();
}

/* Whether fd has something to read within 5 s (loopback may defer). */
static void
wait_readable(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };

	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
}

static const char	 sentinel[] = "\0end of the answers\0";

/*
 * Sends a datagram to the service and lets it answer; the answer's
 * length, or -1 for none.  After builtin_dgram() the test sends a
 * sentinel from the service's socket: what comes before it is the answer,
 * and no answer is told from a late one without a sleep.
 */
static ssize_t
ask(enum builtin b, const void *msg, size_t len, char *answer, size_t size)
{
	struct sockaddr_in	 to;
	socklen_t		 tolen = sizeof(to);
	char			 got[sizeof(sentinel)];
	ssize_t			 n;

	sc.sc_builtin = b;
	ck_assert_int_eq(send(client, msg, len, 0), (ssize_t)len);
	wait_readable(ls.ls_fd);
	builtin_dgram(&sv, &ls);
	ck_assert_int_eq(getsockname(client, (struct sockaddr *)&to, &tolen),
	    0);
	ck_assert_int_eq(sendto(ls.ls_fd, sentinel, sizeof(sentinel), 0,
	    (struct sockaddr *)&to, tolen), (ssize_t)sizeof(sentinel));
	wait_readable(client);
	ck_assert_int_ne(n = recv(client, answer, size, 0), -1);
	if ((size_t)n == sizeof(sentinel) &&
	    memcmp(answer, sentinel, sizeof(sentinel)) == 0)
		return -1;
	wait_readable(client);
	ck_assert_int_eq(recv(client, got, sizeof(got), 0),
	    (ssize_t)sizeof(sentinel));
	ck_assert(memcmp(got, sentinel, sizeof(sentinel)) == 0);
	return n;
}

START_TEST(udp_echo_daytime_time)
{
	char	 buf[2048];
	ssize_t	 n;

	ck_assert_int_eq(ask(BUILTIN_ECHO, "hello", 5, buf, sizeof(buf)), 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert_int_eq(ask(BUILTIN_ECHO, "", 0, buf, sizeof(buf)), 0);
	n = ask(BUILTIN_DAYTIME, "?", 1, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	assert_daytime(buf, (size_t)n);
	n = ask(BUILTIN_TIME, "", 0, buf, sizeof(buf));
	assert_time((unsigned char *)buf, (size_t)n);
	ck_assert_uint_eq(sv.sv_started, 4);
	ck_assert_uint_eq(sv.sv_refused, 0);
}
END_TEST

/* RFC 864 over UDP: 0 to 512 printable characters, whatever was sent. */
START_TEST(udp_chargen_at_most_512)
{
	char	 buf[2048];
	ssize_t	 n;
	int	 i, j;

	for (i = 0; i < 20; i++) {
		n = ask(BUILTIN_CHARGEN, buf, (size_t)i * 50, buf, sizeof(buf));
		ck_assert_int_ge(n, 0);
		ck_assert_int_le(n, 512);
		for (j = 0; j < n; j++)
			ck_assert_int_eq(buf[j], ' ' + j % 95);
	}
}
END_TEST

START_TEST(udp_discard_counts_and_answers_nothing)
{
	char	 buf[64];

	ck_assert_int_eq(ask(BUILTIN_DISCARD, "x", 1, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(sv.sv_started, 1);
	ck_assert_uint_eq(sv.sv_refused, 0);
}
END_TEST

/*
 * Never answered: a source on the port of one of superd's UDP builtins
 * (two builtins made to talk to each other forever), one denied by
 * allow/deny; each is counted as refused.
 */
START_TEST(udp_sources_never_answered)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct cidr		 lo;
	char			 buf[64];

	ck_assert_int_eq(getsockname(client, (struct sockaddr *)&sin, &len),
	    0);
	builtin_port_add(9);
	builtin_port_add(ntohs(sin.sin_port));
	builtin_port_add(ntohs(sin.sin_port));
	ck_assert_int_eq(ask(BUILTIN_ECHO, "x", 1, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(sv.sv_refused, 1);
	builtin_ports_clear();
	builtin_port_add(9);
	ck_assert_int_eq(ask(BUILTIN_ECHO, "x", 1, buf, sizeof(buf)), 1);
	memset(&lo, 0, sizeof(lo));
	lo.ci_family = AF_INET;
	lo.ci_prefix = 8;
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.0", lo.ci_addr), 1);
	sc.sc_deny = &lo;
	sc.sc_ndeny = 1;
	ck_assert_int_eq(ask(BUILTIN_ECHO, "x", 1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(ask(BUILTIN_CHARGEN, "x", 1, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(sv.sv_refused, 3);
	sc.sc_deny = NULL;
	sc.sc_ndeny = 0;
	sc.sc_allow = &lo;
	sc.sc_nallow = 1;
	ck_assert_int_eq(ask(BUILTIN_ECHO, "x", 1, buf, sizeof(buf)), 1);
	ck_assert_uint_eq(sv.sv_started, 2);
}
END_TEST

/* RFC 862: a source port below 1024 is never answered (root binds it). */
START_TEST(udp_privileged_source_port_never_answered)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 buf[64];
	int			 fd, port;

	if (geteuid() != 0)
		return;		/* only root can send from such a port */
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (port = 1023; port > 900; port--) {
		sin.sin_port = htons(port);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
	}
	ck_assert_int_gt(port, 900);
	ck_assert_int_eq(getsockname(ls.ls_fd, (struct sockaddr *)&sin, &len),
	    0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(client);
	client = fd;
	ck_assert_int_eq(ask(BUILTIN_ECHO, "x", 1, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(sv.sv_refused, 1);
	ck_assert_uint_eq(sv.sv_started, 0);
}
END_TEST

/* `rate`: with the budget spent, the rest stays queued in the kernel. */
START_TEST(udp_rate_leaves_datagrams_queued)
{
	char	 buf[64];

	sc.sc_rate = 1;		/* a burst of 1, one more a second */
	ck_assert_int_eq(ask(BUILTIN_ECHO, "a", 1, buf, sizeof(buf)), 1);
	ck_assert_int_eq(ask(BUILTIN_ECHO, "b", 1, buf, sizeof(buf)), -1);
	ck_assert_uint_eq(sv.sv_refused, 0);
	ck_assert_uint_eq(sv.sv_started, 1);
	ck_assert_int_eq(recv(ls.ls_fd, buf, sizeof(buf), MSG_DONTWAIT |
	    MSG_PEEK), 1);
	ck_assert_int_eq(buf[0], 'b');
}
END_TEST

Suite *
builtin_suite(void)
{
	Suite	*s = suite_create("builtin");
	TCase	*tc;

	tc = tcase_create("stream");
	tcase_add_test(tc, inline_are_udp_daytime_and_time);
	tcase_add_test(tc, tcp_daytime_and_time_answer_once);
	tcase_add_test(tc, stream_echo_returns_every_byte);
	tcase_add_test(tc, stream_discard_answers_nothing);
	tcase_add_test(tc, stream_chargen_rotating_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("dgram");
	tcase_add_checked_fixture(tc, udp_setup, udp_teardown);
	tcase_add_test(tc, udp_echo_daytime_time);
	tcase_add_test(tc, udp_chargen_at_most_512);
	tcase_add_test(tc, udp_discard_counts_and_answers_nothing);
	tcase_add_test(tc, udp_sources_never_answered);
	tcase_add_test(tc, udp_privileged_source_port_never_answered);
	tcase_add_test(tc, udp_rate_leaves_datagrams_queued);
	suite_add_tcase(s, tc);
	return s;
}
