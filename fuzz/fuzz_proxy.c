/*
 * fuzz_proxy.c - proxy_parse() (superd/proxy.c) on a connection's first
 * bytes, and pending.c reading the same bytes from a socket as superd's
 * loop reads a trusted peer's header.
 *
 * Invariants: the result is -1, 0 or a length within the input; a
 * complete header does not depend on what follows it and every shorter
 * prefix of it asks for more (pending.c stops there); its addresses are
 * text that parses back as an address of one family; pending.c accepts
 * exactly what proxy_parse() accepts and consumes exactly the header,
 * leaving the stream after it unread.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "fuzz.h"

#define V1_MAX	107

static void
check_ip(const char *ip)
{
	uint8_t	 raw[16];

	FUZZ_ASSERT(memchr(ip, '\0', 64) != NULL);
	FUZZ_ASSERT(inet_pton(AF_INET, ip, raw) == 1 ||
	    inet_pton(AF_INET6, ip, raw) == 1);
}

static int
same_hdr(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return a->ph_local == b->ph_local &&
	    strcmp(a->ph_src_ip, b->ph_src_ip) == 0 &&
	    strcmp(a->ph_dst_ip, b->ph_dst_ip) == 0 &&
	    a->ph_src_port == b->ph_src_port &&
	    a->ph_dst_port == b->ph_dst_port;
}

/* What pending.c told its callback. */
static struct {
	int			 calls;
	enum first_status	 st;
	struct proxy_hdr	 ph;
} told;

static int
record(struct pending *pd, enum first_status st)
{
	told.calls++;
	told.st = st;
	told.ph = pd->pd_proxy;
	return 0;
}

/*
 * The bytes through pending.c, as superd's loop reads a trusted peer's
 * header: it accepts exactly what proxy_parse() accepts and takes exactly
 * the header, leaving the stream after it unread.
 */
/* The loop's answer for the one connection of a check: always readable. */
static int
is_ready(void *arg, int fd)
{
	return fd == *(const int *)arg;
}

static void
check_pending(const uint8_t *data, size_t size, ssize_t r,
    const struct proxy_hdr *ph)
{
	struct svc_conf	 sc;
	struct service	 sv;
	struct peer	 pe;
	uint8_t		*rest;
	ssize_t		 n;
	size_t		 got = 0, turns;
	int		 sp[2];

	memset(&sc, 0, sizeof(sc));
	memset(&sv, 0, sizeof(sv));
	sv.sv_conf = &sc;
	memset(&pe, 0, sizeof(pe));
	memset(&told, 0, sizeof(told));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return;
	if ((size > 0 && write(sp[1], data, size) != (ssize_t)size) ||
	    pending_add(&sv, sp[0], &pe, FIRST_PROXY, record) == -1) {
		close(sp[0]);
		close(sp[1]);
		return;
	}
	shutdown(sp[1], SHUT_WR);
	/* Each turn takes a byte at least, or ends it. */
	for (turns = 0; told.calls == 0 && turns <= size + 1; turns++) {
		pending_read(is_ready, &sp[0]);
	}
	FUZZ_ASSERT(told.calls == 1);
	FUZZ_ASSERT((told.st == FIRST_DONE) == (r > 0));
	FUZZ_ASSERT(told.st == FIRST_DONE || told.st == FIRST_BAD ||
	    told.st == FIRST_CLOSED);
	FUZZ_ASSERT(sv.sv_pending == 0 && sv.sv_headers == 0);
	if (r > 0) {
		FUZZ_ASSERT(same_hdr(&told.ph, ph));
		/* Not a byte past the header: the program gets it intact. */
		rest = malloc(size - (size_t)r + 1);
		FUZZ_ASSERT(rest != NULL);
		while ((n = read(sp[0], rest + got,
		    size - (size_t)r + 1 - got)) > 0)
			got += (size_t)n;
		FUZZ_ASSERT(n == 0);
		FUZZ_ASSERT(got == size - (size_t)r);
		FUZZ_ASSERT(memcmp(rest, data + r, got) == 0);
		free(rest);
	}
	close(sp[0]);
	close(sp[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 ph, ph2;
	uint8_t			*copy;
	ssize_t			 r;
	size_t			 k;

	/* An exact-size copy: a read past the bytes given is an error. */
	copy = malloc(size == 0 ? 1 : size);
	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	r = proxy_parse(copy, size, &ph);
	FUZZ_ASSERT(r >= -1 && r <= (ssize_t)size);
	if (r == 0 && size > 0)
		FUZZ_ASSERT(copy[0] == 'P' ? size < V1_MAX : size < 16 + 4096);
	if (r > 0) {
		if (copy[0] == 'P') {
			FUZZ_ASSERT(r <= V1_MAX && r >= 2);
			FUZZ_ASSERT(copy[r - 2] == '\r' && copy[r - 1] == '\n');
			FUZZ_ASSERT(memchr(copy, '\n', (size_t)r - 1) == NULL);
		} else
			FUZZ_ASSERT(r >= 16 &&
			    (size_t)r == 16 + ((size_t)copy[14] << 8 | copy[15]));
		if (!ph.ph_local) {
			check_ip(ph.ph_src_ip);
			check_ip(ph.ph_dst_ip);
			FUZZ_ASSERT(strchr(ph.ph_src_ip, ':') == NULL ?
			    strchr(ph.ph_dst_ip, ':') == NULL :
			    strchr(ph.ph_dst_ip, ':') != NULL);
			FUZZ_ASSERT(ph.ph_src_port <= 65535 &&
			    ph.ph_dst_port <= 65535);
		} else
			FUZZ_ASSERT(ph.ph_src_ip[0] == '\0' &&
			    ph.ph_dst_ip[0] == '\0');
		/* The header alone gives the same answer. */
		FUZZ_ASSERT(proxy_parse(copy, (size_t)r, &ph2) == r);
		FUZZ_ASSERT(same_hdr(&ph, &ph2));
	}
	/* A prefix of a header still being read asks for more. */
	if (r >= 0) {
		for (k = 0; k < (r > 0 ? (size_t)r : size); k++)
			FUZZ_ASSERT(proxy_parse(copy, k, &ph2) == 0);
	}
	check_pending(copy, size, r, &ph);
	free(copy);
	return 0;
}
