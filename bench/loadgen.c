/*
 * loadgen.c - the load generator of `make bench`.
 *
 *   loadgen -p PORT [-a ADDR] [-u] [-c CONC] (-n COUNT | -t SECONDS)
 *           [-m PAYLOAD] [-S] [-H] [-k CHECK] [-T TIMEOUT_MS] [-L LIMIT_S]
 *           [-P SERVERPID] [-x 1|2]
 *
 * TCP: CONC connections are kept in flight; each one connects, sends
 * PAYLOAD, half-closes with -H, reads to end of input and checks the
 * reply.  UDP (-u): CONC clients each send a datagram and wait for the
 * answer; one not answered within TIMEOUT_MS counts as lost, and that
 * client goes on from a new socket so that a late answer cannot pass for
 * the next one.  -S puts a sequence number in front of each payload, so
 * no two requests are the same bytes.  -x starts each TCP connection with
 * a PROXY protocol header of version 1 or 2, sent in the same write as
 * the request, as a load balancer passes its client on: a client of its
 * own for each connection (10.0.0.0/8, fd00::/8 to an IPv6 target, port
 * 1024 and up) to the target's address and port.
 *
 * CHECK is `any` (a non-empty reply), `echo` (the request back),
 * `exact:TEXT`, `suffix:TEXT` or `len:N`; TEXT and PAYLOAD take \n, \r,
 * \t, \0 and \\.  With -P the server's own CPU time (its run time from
 * /proc/PID/schedstat, children excluded) is read before and after.
 *
 * A client turned away (refused, reset, or closed on without a reply)
 * waits 10 ms before it tries again.
 *
 * Prints one line of KEY=VALUE pairs: counts by outcome, conn/s (answers
 * checked good per second), latency percentiles in microseconds (connect
 * to end of reply; send to reply for UDP), and the server's CPU
 * milliseconds per 1000 good answers.  Only loopback addresses are
 * accepted (127.0.0.0/8 and ::1), and every run is bounded by LIMIT_S
 * seconds (default 300).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONC_MAX	1024
#define REPLY_MAX	65536
#define REQ_MAX		4096
#define TICK_MS		10	/* the longest epoll wait: deadlines are checked */
#define RETRY_PAUSE_NS	10000000	/* a turned-away client tries again after */
#define PROXY_MAX	108	/* the longest v1 line (107), any v2 we send */

enum state { ST_IDLE, ST_CONNECTING, ST_READING, ST_WAITING };

enum outcome {
	OUT_OK,		/* reply checked good */
	OUT_REFUSED,	/* connection refused (or ICMP port unreachable) */
	OUT_RESET,	/* reset or broken pipe */
	OUT_CLOSED,	/* closed without a byte of reply */
	OUT_BAD,	/* a reply that fails the check */
	OUT_TIMEOUT,	/* no complete reply in time (TCP) */
	OUT_LOST,	/* no answer in time (UDP) */
	OUT_OTHER,	/* anything else: socket(), EMFILE, ... */
	OUT_COUNT
};

static const char *const outcome_names[OUT_COUNT] = {
	"ok", "refused", "reset", "closed", "bad", "timeout", "lost", "other"
};

enum check { CK_ANY, CK_ECHO, CK_EXACT, CK_SUFFIX, CK_LEN };

struct slot {
	int		 sl_fd;
	enum state	 sl_state;
	int64_t		 sl_start;	/* ns */
	int64_t		 sl_deadline;	/* ns */
	int64_t		 sl_not_before;	/* ns: turned away, it waits until then */
	size_t		 sl_got;
	size_t		 sl_reqlen;
	char		 sl_req[REQ_MAX];
	size_t		 sl_hdrlen;	/* -x: the PROXY header sent first */
	char		 sl_hdr[PROXY_MAX];
	char		*sl_buf;
};

static struct sockaddr_storage	 target;
static socklen_t		 target_len;
static int			 udp, half_close, seq_prefix;
static int			 proxy_version;	/* -x: 1 or 2; 0: none */
static char			 payload[REQ_MAX];
static size_t			 payload_len;
static enum check		 check = CK_ANY;
static char			 check_text[REQ_MAX];
static size_t			 check_len;
static int64_t			 timeout_ns;
static int			 ep;
static struct slot		*slots;
static unsigned long		 counts[OUT_COUNT];
static uint32_t			*lat;		/* microseconds, per good reply */
static size_t			 nlat, lat_cap;
static unsigned long		 started, seq;
static int64_t			 last_done;	/* ns: when the last request ended */
static unsigned long		 max_count;	/* 0: run for a duration */
static int64_t			 stop_starting;	/* ns; 0: by count */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: loadgen -p PORT [-a ADDR] [-u] [-c CONC] "
	    "(-n COUNT | -t SECONDS)\n"
	    "               [-m PAYLOAD] [-S] [-H] [-k CHECK] [-T TIMEOUT_MS] "
	    "[-L LIMIT_S]\n"
	    "               [-P SERVERPID] [-x 1|2]\n");
	exit(2);
}

static int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Copies s into out, turning \n \r \t \0 \\ into their bytes. */
static size_t
unescape(const char *s, char *out, size_t size)
{
	size_t	 n = 0;

	for (; *s != '\0' && n < size; s++) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case '0': out[n++] = '\0'; break;
		default: out[n++] = *s; break;
		}
	}
	return n;
}

static void
parse_check(const char *arg)
{
	if (strcmp(arg, "any") == 0)
		check = CK_ANY;
	else if (strcmp(arg, "echo") == 0)
		check = CK_ECHO;
	else if (strncmp(arg, "exact:", 6) == 0) {
		check = CK_EXACT;
		check_len = unescape(arg + 6, check_text, sizeof(check_text));
	} else if (strncmp(arg, "suffix:", 7) == 0) {
		check = CK_SUFFIX;
		check_len = unescape(arg + 7, check_text, sizeof(check_text));
	} else if (strncmp(arg, "len:", 4) == 0) {
		check = CK_LEN;
		check_len = (size_t)strtoul(arg + 4, NULL, 10);
	} else
		usage();
}

static int
reply_good(const struct slot *sl)
{
	switch (check) {
	case CK_ANY:
		return sl->sl_got > 0;
	case CK_ECHO:
		return sl->sl_got == sl->sl_reqlen &&
		    memcmp(sl->sl_buf, sl->sl_req, sl->sl_got) == 0;
	case CK_EXACT:
		return sl->sl_got == check_len &&
		    memcmp(sl->sl_buf, check_text, check_len) == 0;
	case CK_SUFFIX:
		return sl->sl_got >= check_len &&
		    memcmp(sl->sl_buf + sl->sl_got - check_len, check_text,
		    check_len) == 0;
	case CK_LEN:
		return sl->sl_got == check_len;
	}
	return 0;
}

/* utime+stime of one process, in clock ticks; -1 if unreadable. */
static long long
proc_cpu_ticks(long pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold anything: fields follow its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (long long)ut + (long long)st;
}

/*
 * CPU time of one process in nanoseconds, children excluded: the run
 * time the scheduler counts (/proc/PID/schedstat, every server here is a
 * single thread), or utime+stime where that file is missing.  The tick
 * count alone is too coarse: 10 ms steps on a 0.5 s measurement.
 */
static long long
proc_cpu_ns(long pid)
{
	char		 path[64];
	long long	 ns, ticks;
	FILE		*f;
	int		 n;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = fscanf(f, "%lld", &ns);
		fclose(f);
		if (n == 1)
			return ns;
	}
	if ((ticks = proc_cpu_ticks(pid)) == -1)
		return -1;
	return ticks * (1000000000LL / sysconf(_SC_CLK_TCK));
}

static long
proc_rss_kb(long pid)
{
	char	 path[64], line[256];
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
record_latency(int64_t ns)
{
	uint32_t	*grown;
	int64_t		 us = ns / 1000;

	if (nlat == lat_cap) {
		if (lat_cap >= 64u * 1024 * 1024)
			return;		/* enough for any percentile */
		lat_cap = lat_cap ? lat_cap * 2 : 65536;
		if ((grown = realloc(lat, lat_cap * sizeof(*lat))) == NULL) {
			lat_cap = nlat;
			return;
		}
		lat = grown;
	}
	lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
close_slot(struct slot *sl)
{
	if (sl->sl_fd != -1)
		close(sl->sl_fd);	/* leaves the epoll set with it */
	sl->sl_fd = -1;
}

/* Ends the request in flight on sl with outcome out. */
static void
finish(struct slot *sl, enum outcome out, int64_t now)
{
	counts[out]++;
	last_done = now;
	/*
	 * Like a real client, one turned away (refused, reset, closed on)
	 * does not hammer the port; one that timed out has waited already.
	 */
	sl->sl_not_before = out == OUT_REFUSED || out == OUT_RESET ||
	    out == OUT_CLOSED ? now + RETRY_PAUSE_NS : 0;
	if (out == OUT_OK)
		record_latency(now - sl->sl_start);
	/* A UDP client keeps its socket unless an answer may still come. */
	if (!udp || out == OUT_LOST || out == OUT_OTHER)
		close_slot(sl);
	sl->sl_state = ST_IDLE;
}

/* The target, which must be a loopback address: no load leaves the host. */
static int
set_target(const char *addr, int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&target;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&target;

	memset(&target, 0, sizeof(target));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		target_len = sizeof(*sin);
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127 ? 0 : -1;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		target_len = sizeof(*sin6);
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ? 0 : -1;
	}
	return -1;
}

static int
may_start(int64_t now)
{
	if (max_count > 0)
		return started < max_count;
	return now < stop_starting;
}

/* A v2 header's address block: source and destination, then ports. */
static size_t
proxy_v2(uint8_t *out, const uint8_t *src, const uint8_t *dst, size_t alen,
    unsigned sport, unsigned dport)
{
	static const uint8_t	 sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	size_t			 body = 2 * alen + 4;

	memcpy(out, sig, sizeof(sig));
	out[12] = 0x21;				/* version 2, PROXY */
	out[13] = alen == 4 ? 0x11 : 0x21;	/* TCP over IPv4 / IPv6 */
	out[14] = (uint8_t)(body >> 8);
	out[15] = (uint8_t)body;
	memcpy(out + 16, src, alen);
	memcpy(out + 16 + alen, dst, alen);
	out[16 + 2 * alen] = (uint8_t)(sport >> 8);
	out[17 + 2 * alen] = (uint8_t)sport;
	out[18 + 2 * alen] = (uint8_t)(dport >> 8);
	out[19 + 2 * alen] = (uint8_t)dport;
	return 16 + body;
}

/*
 * The PROXY header of connection number n: its client is one of the load
 * balancer's own, 10.0.0.0/8 (fd00::/8 to an IPv6 target), so that every
 * connection comes from another address, as through a real one.
 */
static void
make_proxy_header(struct slot *sl, unsigned long n)
{
	const struct sockaddr_in	*sin = (struct sockaddr_in *)&target;
	const struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&target;
	int				 v4 = target.ss_family == AF_INET;
	const void			*dst;
	unsigned			 sport, dport;
	uint8_t				 src[16];
	char				 s[INET6_ADDRSTRLEN];
	char				 d[INET6_ADDRSTRLEN];
	int				 len;

	dst = v4 ? (const void *)&sin->sin_addr : (const void *)&sin6->sin6_addr;
	dport = ntohs(v4 ? sin->sin_port : sin6->sin6_port);
	sport = 1024 + (unsigned)(n % 64512);
	memset(src, 0, sizeof(src));
	src[0] = v4 ? 10 : 0xfd;
	src[v4 ? 1 : 13] = (uint8_t)(n >> 16);
	src[v4 ? 2 : 14] = (uint8_t)(n >> 8);
	src[v4 ? 3 : 15] = (uint8_t)n;
	if (proxy_version == 2) {
		sl->sl_hdrlen = proxy_v2((uint8_t *)sl->sl_hdr, src, dst,
		    v4 ? 4 : 16, sport, dport);
		return;
	}
	inet_ntop(target.ss_family, src, s, sizeof(s));
	inet_ntop(target.ss_family, dst, d, sizeof(d));
	len = snprintf(sl->sl_hdr, sizeof(sl->sl_hdr),
	    "PROXY %s %s %s %u %u\r\n", v4 ? "TCP4" : "TCP6", s, d, sport,
	    dport);
	sl->sl_hdrlen = len > 0 && (size_t)len < sizeof(sl->sl_hdr) ?
	    (size_t)len : 0;
}

static void
make_request(struct slot *sl)
{
	int	 n = 0;

	if (seq_prefix)
		n = snprintf(sl->sl_req, sizeof(sl->sl_req), "%lu ", ++seq);
	if (n < 0)
		n = 0;
	if ((size_t)n + payload_len > sizeof(sl->sl_req))
		payload_len = sizeof(sl->sl_req) - (size_t)n;
	memcpy(sl->sl_req + n, payload, payload_len);
	sl->sl_reqlen = (size_t)n + payload_len;
	if (proxy_version != 0)
		make_proxy_header(sl, started);
}

static enum outcome
errno_outcome(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return OUT_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return OUT_RESET;
	case ETIMEDOUT:
		return OUT_TIMEOUT;
	default:
		return OUT_OTHER;
	}
}

static void
watch(struct slot *sl, int op, uint32_t events)
{
	struct epoll_event	 ev;

	ev.events = events;
	ev.data.u32 = (uint32_t)(sl - slots);
	if (epoll_ctl(ep, op, sl->sl_fd, &ev) == -1) {
		perror("loadgen: epoll_ctl");
		exit(1);
	}
}

static void
send_request(struct slot *sl, int64_t now)
{
	struct iovec	 iov[2];
	struct msghdr	 msg;
	ssize_t		 n;

	/* The header and the request in one write, as a proxy sends them. */
	iov[0].iov_base = sl->sl_hdr;
	iov[0].iov_len = sl->sl_hdrlen;
	iov[1].iov_base = sl->sl_req;
	iov[1].iov_len = sl->sl_reqlen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = sl->sl_hdrlen > 0 ? iov : iov + 1;
	msg.msg_iovlen = sl->sl_hdrlen > 0 ? 2 : 1;
	n = sendmsg(sl->sl_fd, &msg, MSG_NOSIGNAL);
	if (n != (ssize_t)(sl->sl_hdrlen + sl->sl_reqlen)) {
		finish(sl, n == -1 ? errno_outcome(errno) : OUT_OTHER, now);
		return;
	}
	if (!udp && half_close && shutdown(sl->sl_fd, SHUT_WR) == -1) {
		finish(sl, errno_outcome(errno), now);
		return;
	}
	if (!udp)
		watch(sl, EPOLL_CTL_MOD, EPOLLIN);
	sl->sl_state = udp ? ST_WAITING : ST_READING;
}

static void
start(struct slot *sl, int64_t now)
{
	int	 type = udp ? SOCK_DGRAM : SOCK_STREAM;

	started++;
	make_request(sl);
	sl->sl_got = 0;
	sl->sl_start = now;
	sl->sl_deadline = now + timeout_ns;
	if (sl->sl_fd == -1) {
		sl->sl_fd = socket(target.ss_family,
		    type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sl->sl_fd == -1) {
			finish(sl, OUT_OTHER, now);
			return;
		}
		if (connect(sl->sl_fd, (struct sockaddr *)&target,
		    target_len) == -1 && errno != EINPROGRESS) {
			finish(sl, errno_outcome(errno), now);
			return;
		}
		if (!udp) {
			watch(sl, EPOLL_CTL_ADD, EPOLLOUT);
			sl->sl_state = ST_CONNECTING;
			return;
		}
		watch(sl, EPOLL_CTL_ADD, EPOLLIN);
	}
	send_request(sl, now);
}

static void
connected(struct slot *sl, int64_t now)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (getsockopt(sl->sl_fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		finish(sl, errno_outcome(err), now);
		return;
	}
	send_request(sl, now);
}

static void
readable(struct slot *sl, int64_t now)
{
	ssize_t	 n;

	for (;;) {
		n = recv(sl->sl_fd, sl->sl_buf + sl->sl_got,
		    REPLY_MAX - sl->sl_got, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			finish(sl, errno_outcome(errno), now);
			return;
		}
		if (udp) {
			sl->sl_got = (size_t)n;
			finish(sl, reply_good(sl) ? OUT_OK : OUT_BAD, now);
			return;
		}
		if (n == 0) {
			finish(sl, reply_good(sl) ? OUT_OK :
			    sl->sl_got == 0 ? OUT_CLOSED : OUT_BAD, now);
			return;
		}
		sl->sl_got += (size_t)n;
		if (sl->sl_got == REPLY_MAX) {
			finish(sl, OUT_BAD, now);
			return;
		}
	}
}

static void
expire(int c, int64_t now)
{
	int	 i;

	for (i = 0; i < c; i++) {
		if (slots[i].sl_state == ST_IDLE || slots[i].sl_deadline > now)
			continue;
		finish(&slots[i], udp ? OUT_LOST : OUT_TIMEOUT, now);
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies. */
static uint32_t
percentile(double p)
{
	size_t	 rank;

	if (nlat == 0)
		return 0;
	rank = (size_t)(p * (double)nlat + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > nlat)
		rank = nlat;
	return lat[rank - 1];
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[CONC_MAX];
	const char		*addr = "127.0.0.1";
	long			 pid = 0;
	int			 ch, c = 1, port = 0, i, n, active;
	double			 seconds = 0, limit_s = 300;
	long			 timeout_ms = -1;
	long long		 cpu0 = -1, cpu1 = -1;
	int64_t			 t0, tend, hard_stop, now;
	unsigned long		 errors;
	double			 elapsed, cpu_ms;
	enum outcome		 o;

	payload_len = unescape("ping\\n", payload, sizeof(payload));
	while ((ch = getopt(argc, argv, "a:c:Hk:L:m:n:p:P:St:T:ux:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': c = atoi(optarg); break;
		case 'H': half_close = 1; break;
		case 'k': parse_check(optarg); break;
		case 'L': limit_s = atof(optarg); break;
		case 'm': payload_len = unescape(optarg, payload,
			      sizeof(payload)); break;
		case 'n': max_count = strtoul(optarg, NULL, 10); break;
		case 'p': port = atoi(optarg); break;
		case 'P': pid = atol(optarg); break;
		case 'S': seq_prefix = 1; break;
		case 't': seconds = atof(optarg); break;
		case 'T': timeout_ms = atol(optarg); break;
		case 'u': udp = 1; break;
		case 'x': proxy_version = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || c < 1 || c > CONC_MAX ||
	    (max_count == 0) == (seconds <= 0) || limit_s <= 0 ||
	    proxy_version < 0 || proxy_version > 2 ||
	    (proxy_version != 0 && udp))
		usage();
	if (set_target(addr, port) == -1) {
		fprintf(stderr, "loadgen: %s: only loopback addresses "
		    "(127.0.0.0/8, ::1) are load-tested\n", addr);
		return 2;
	}
	if (timeout_ms < 0)
		timeout_ms = udp ? 1000 : 10000;
	timeout_ns = (int64_t)timeout_ms * 1000000;
	if ((slots = calloc((size_t)c, sizeof(*slots))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("loadgen");
		return 1;
	}
	for (i = 0; i < c; i++) {
		slots[i].sl_fd = -1;
		if ((slots[i].sl_buf = malloc(REPLY_MAX)) == NULL) {
			perror("loadgen");
			return 1;
		}
	}

	if (pid > 0)
		cpu0 = proc_cpu_ns(pid);
	t0 = now_ns();
	stop_starting = seconds > 0 ? t0 + (int64_t)(seconds * 1e9) : 0;
	hard_stop = t0 + (int64_t)(limit_s * 1e9);
	for (i = 0; i < c && may_start(t0); i++)
		start(&slots[i], t0);
	for (;;) {
		now = now_ns();
		active = 0;
		for (i = 0; i < c; i++) {
			if (slots[i].sl_state == ST_IDLE && may_start(now) &&
			    now >= slots[i].sl_not_before)
				start(&slots[i], now);
			if (slots[i].sl_state == ST_IDLE && may_start(now))
				active = 1;	/* waits to try again */
			if (slots[i].sl_state != ST_IDLE)
				active = 1;
		}
		if (!active || now >= hard_stop)
			break;
		n = epoll_wait(ep, evs, c, TICK_MS);
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct slot *sl = &slots[evs[i].data.u32];

			if (sl->sl_state == ST_CONNECTING)
				connected(sl, now);
			else if (sl->sl_state == ST_READING ||
			    sl->sl_state == ST_WAITING)
				readable(sl, now);
		}
		expire(c, now);
	}
	/* Whatever the hard limit cut short did not complete in time. */
	for (i = 0; i < c; i++)
		if (slots[i].sl_state != ST_IDLE)
			finish(&slots[i], udp ? OUT_LOST : OUT_TIMEOUT, now);
	tend = last_done > t0 ? last_done : now_ns();
	if (pid > 0)
		cpu1 = proc_cpu_ns(pid);

	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	elapsed = (double)(tend - t0) / 1e9;
	errors = 0;
	for (o = OUT_REFUSED; o < OUT_COUNT; o++)
		errors += counts[o];
	printf("proto=%s conc=%d conns=%lu errors=%lu", udp ? "udp" : "tcp", c,
	    started, errors);
	for (o = OUT_OK; o < OUT_COUNT; o++)
		printf(" %s=%lu", outcome_names[o], counts[o]);
	printf(" secs=%.3f cps=%.1f p50_us=%u p90_us=%u p99_us=%u max_us=%u",
	    elapsed, elapsed > 0 ? (double)counts[OUT_OK] / elapsed : 0.0,
	    percentile(0.50), percentile(0.90), percentile(0.99),
	    nlat ? lat[nlat - 1] : 0);
	if (cpu0 >= 0 && cpu1 >= 0) {
		cpu_ms = (double)(cpu1 - cpu0) / 1e6;
		printf(" cpu_ms=%.1f cpu_ms_per_1000=%.2f rss_kb=%ld", cpu_ms,
		    counts[OUT_OK] ? cpu_ms * 1000.0 / (double)counts[OUT_OK] :
		    0.0, proc_rss_kb(pid));
	}
	printf("\n");
	return 0;
}
