/*
 * proxy.c - the PROXY protocol, versions 1 and 2 (HAProxy's), pure.
 *
 * proxy_parse() judges a prefix of a connection's first bytes, as
 * pending.c reads them without blocking: more is needed, a complete
 * header (its length, so that exactly it is taken), or not a header.
 * proxy_peer() turns a header into the connection's ends.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

#define V1_MAX		107	/* the spec's longest v1 line, CRLF included */
#define V2_FIXED	16
#define V2_BODY_MAX	4096	/* addresses and TLVs: far more than any proxy sends */

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static int
parse_port(const char *s, unsigned *port)
{
	unsigned long	 v = 0;
	size_t		 n = 0;

	if (s[0] == '0' && s[1] != '\0')
		return -1;
	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static int
parse_v1_line(char *line, struct proxy_hdr *ph)
{
	char	*f[6], *save = NULL, *tok;
	int	 n = 0, family;
	uint8_t	 raw[16];

	for (tok = strtok_r(line, " ", &save); tok != NULL && n < 6;
	    tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 2 || strcmp(f[0], "PROXY") != 0)
		return -1;
	if (strcmp(f[1], "UNKNOWN") == 0) {
		ph->ph_local = 1;
		return 0;
	}
	if (n != 6 || tok != NULL)
		return -1;
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else
		return -1;
	if (inet_pton(family, f[2], raw) != 1 ||
	    inet_pton(family, f[3], raw) != 1 ||
	    parse_port(f[4], &ph->ph_src_port) == -1 ||
	    parse_port(f[5], &ph->ph_dst_port) == -1)
		return -1;
	snprintf(ph->ph_src_ip, sizeof(ph->ph_src_ip), "%s", f[2]);
	snprintf(ph->ph_dst_ip, sizeof(ph->ph_dst_ip), "%s", f[3]);
	return 0;
}

static ssize_t
parse_v1(const uint8_t *buf, size_t len, struct proxy_hdr *ph)
{
	char	 line[V1_MAX + 1];
	size_t	 i;

	for (i = 0; i < len && i < V1_MAX; i++)
		if (buf[i] == '\n')
			break;
	if (i == len)
		return len >= V1_MAX ? -1 : 0;
	if (i >= V1_MAX || i == 0 || buf[i - 1] != '\r')
		return -1;
	memcpy(line, buf, i - 1);
	line[i - 1] = '\0';
	if (memchr(line, '\0', i - 1) != NULL || parse_v1_line(line, ph) == -1)
		return -1;
	return (ssize_t)i + 1;
}

static void
v2_address(int family, const uint8_t *raw, const uint8_t *port, char *ip,
    size_t size, unsigned *out)
{
	inet_ntop(family, raw, ip, size);
	*out = (unsigned)port[0] << 8 | port[1];
}

static ssize_t
parse_v2(const uint8_t *buf, size_t len, struct proxy_hdr *ph)
{
	size_t	 body;
	uint8_t	 cmd, fam;

	if (len < V2_FIXED)
		return 0;
	if ((buf[12] >> 4) != 2)
		return -1;
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	body = (size_t)buf[14] << 8 | buf[15];
	if (cmd > 1 || body > V2_BODY_MAX)
		return -1;
	if (len < V2_FIXED + body)
		return 0;
	if (cmd == 0 || fam == 0x00 || fam == 0x31 || fam == 0x32) {
		ph->ph_local = 1;	/* LOCAL, or no inet address given */
		return (ssize_t)(V2_FIXED + body);
	}
	if ((fam == 0x11 || fam == 0x12) && body >= 12) {
		v2_address(AF_INET, buf + 16, buf + 24, ph->ph_src_ip,
		    sizeof(ph->ph_src_ip), &ph->ph_src_port);
		v2_address(AF_INET, buf + 20, buf + 26, ph->ph_dst_ip,
		    sizeof(ph->ph_dst_ip), &ph->ph_dst_port);
	} else if ((fam == 0x21 || fam == 0x22) && body >= 36) {
		v2_address(AF_INET6, buf + 16, buf + 48, ph->ph_src_ip,
		    sizeof(ph->ph_src_ip), &ph->ph_src_port);
		v2_address(AF_INET6, buf + 32, buf + 50, ph->ph_dst_ip,
		    sizeof(ph->ph_dst_ip), &ph->ph_dst_port);
	} else
		return -1;
	return (ssize_t)(V2_FIXED + body);
}

/*
 * Judges the first len bytes of a connection: the header's length once it
 * is complete and valid, 0 while more bytes are needed, -1 when it is not
 * a valid PROXY header.
 */
ssize_t
proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *ph)
{
	size_t	 n;

	memset(ph, 0, sizeof(*ph));
	if (len == 0)
		return 0;
	if (buf[0] == 'P') {
		n = len < 6 ? len : 6;
		if (memcmp(buf, "PROXY ", n) != 0)
			return -1;
		return parse_v1(buf, len, ph);
	}
	n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (memcmp(buf, v2_sig, n) != 0)
		return -1;
	return parse_v2(buf, len, ph);
}

/*
 * An IPv4-mapped IPv6 address (a dual-stack proxy sends them) as the IPv4
 * address it is, so that IPv4 rules and the environment see a.b.c.d.
 */
static void
unmapped(const char *ip, char *out, size_t size)
{
	struct in6_addr	 a6;

	if (inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6) &&
	    inet_ntop(AF_INET, &a6.s6_addr[12], out, (socklen_t)size) != NULL)
		return;
	snprintf(out, size, "%s", ip);
}

/* The connection's ends as the header gives them (LOCAL: as they are). */
void
proxy_peer(const struct proxy_hdr *ph, struct peer *pe)
{
	if (ph->ph_local)
		return;
	unmapped(ph->ph_src_ip, pe->pe_remote_ip, sizeof(pe->pe_remote_ip));
	pe->pe_remote_port = ph->ph_src_port;
	unmapped(ph->ph_dst_ip, pe->pe_local_ip, sizeof(pe->pe_local_ip));
	pe->pe_local_port = ph->ph_dst_port;
}
