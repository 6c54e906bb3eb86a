/*
 * policy.c - whether a client may be served now.
 *
 * Pure: the ACL (addresses and CIDR blocks, IPv4 and IPv6, an IPv4 client
 * on a dual-stack socket matched as IPv4), which peers are trusted to send
 * a PROXY header (proxy_from), the service's rate bucket, and
 * the per-source table (per_source_rate, and what a UDP builtin may answer
 * one source), with the time passed in.  The one impurity is the table's
 * hash key, drawn from the kernel when the table is made.
 */
#include <sys/random.h>

#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

/*
 * Whether the numeric address text falls in the block.  A link-local
 * IPv6 address may come with its scope ("fe80::1%eth0", as the log and
 * addr_format() write it): the block is matched by the address alone.
 */
int
cidr_match(const struct cidr *ci, const char *addr)
{
	uint8_t		 raw[16];
	char		 bare[INET6_ADDRSTRLEN];
	const char	*pct;
	int		 family, full, rest;

	if ((pct = strchr(addr, '%')) != NULL) {
		if (pct == addr || (size_t)(pct - addr) >= sizeof(bare) ||
		    pct[1] == '\0')
			return 0;
		memcpy(bare, addr, (size_t)(pct - addr));
		bare[pct - addr] = '\0';
		addr = bare;
	}
	if (inet_pton(AF_INET, addr, raw) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, addr, raw) == 1)
		family = AF_INET6;
	else
		return 0;
	if (family != ci->ci_family)
		return 0;
	full = ci->ci_prefix / 8;
	rest = ci->ci_prefix % 8;
	if (memcmp(raw, ci->ci_addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((raw[full] ^ ci->ci_addr[full]) & (0xff << (8 - rest))) == 0;
}

static int
cidr_any(const struct cidr *list, size_t n, const char *addr)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (cidr_match(&list[i], addr))
			return 1;
	return 0;
}

/*
 * Whether the peer at addr (its own address, from the socket) is a proxy
 * trusted to send a PROXY header: one of the service's proxy_from.  Any
 * other peer is a direct client, whatever its first bytes look like.
 */
int
policy_proxy_trusted(const struct svc_conf *sc, const char *addr)
{
	return sc->sc_proxy && cidr_any(sc->sc_proxy_from, sc->sc_nproxy_from,
	    addr);
}

/* 1 when the client at addr passes allow/deny. */
int
policy_acl(const struct svc_conf *sc, const char *addr)
{
	if (sc->sc_nallow > 0 && !cidr_any(sc->sc_allow, sc->sc_nallow, addr))
		return 0;
	return !cidr_any(sc->sc_deny, sc->sc_ndeny, addr);
}

/*
 * Whether a new client at addr may be served: the reason it is refused
 * (acl, per_source, per_source_rate), or NULL.  from_addr is the number of
 * instances already serving that address.  Behind a trusted proxy addr is
 * the client's from its PROXY header (loop.c), never the proxy's.
 */
const char *
policy_admit(struct service *sv, const char *addr, unsigned from_addr,
    int64_t now)
{
	const struct svc_conf	*sc = sv->sv_conf;

	if (!policy_acl(sc, addr))
		return "acl";
	if (sc->sc_per_source > 0 && from_addr >= (unsigned)sc->sc_per_source)
		return "per_source";
	if (!policy_source_rate(&sv->sv_sources, sc->sc_per_source_rate,
	    sc->sc_per_source_ipv6_prefix, addr, now))
		return "per_source_rate";
	return NULL;
}

/*
 * Token bucket of `rate` per second, burst `rate`.  Returns 1 when a new
 * instance may start now; otherwise sets *next to when one may.
 */
int
policy_rate_ready(struct service *sv, int64_t now, int64_t *next)
{
	int	 rate = sv->sv_conf->sc_rate;
	int64_t	 at;

	if (rate <= 0)
		return 1;
	if (sv->sv_tokens_at == 0) {
		sv->sv_tokens = rate;
		sv->sv_tokens_at = now;
	}
	sv->sv_tokens += (double)(now - sv->sv_tokens_at) * rate / 1000.0;
	if (sv->sv_tokens > rate)
		sv->sv_tokens = rate;
	sv->sv_tokens_at = now;
	if (sv->sv_tokens >= 1.0)
		return 1;
	at = now + (int64_t)((1.0 - sv->sv_tokens) * 1000.0 / rate) + 1;
	if (*next == 0 || at < *next)
		*next = at;
	return 0;
}

void
policy_rate_take(struct service *sv)
{
	if (sv->sv_conf->sc_rate > 0)
		sv->sv_tokens -= 1.0;
}

/*
 * The per-source table: per_source_rate's count per client a minute, and
 * a UDP builtin's answers to one client a second.  A client is a srckey
 * (an IPv6 one masked to the service's prefix), so rotating addresses
 * within a /64 buys nothing.
 *
 * The table is fixed, so a million knocking addresses cost no more memory
 * than a few, and keyed with a random seed, so nobody can aim addresses at
 * one probe run.  When a newcomer needs a slot, an idle one goes first,
 * then the least recently seen; a slot that is limiting its client right
 * now (at its limit within its window) is never given up, or a flood of
 * fresh addresses would wipe the count of the client it is holding back.
 * When every slot of the run is limiting, the newcomer is not counted:
 * a connection is then admitted (refusing innocents for an attacker's
 * flood is the worse failure), a datagram not answered (a UDP builtin
 * must never become an amplifier, and an unanswered datagram is lost
 * like any other).
 */
#define SRC_SLOTS	4096
#define SRC_PROBE	8
#define SRC_WINDOW_MS	60000
#define DG_WINDOW_MS	1000
#define DG_REPLIES	128	/* answers a second to one source */
#define DG_ALLOWANCE	1024	/* bytes a second beyond what it sent */
#define DG_HEADER	28	/* IPv4 and UDP headers: what a datagram
				   costs its sender on the wire at least */

struct src_slot {
	struct srckey	 ss_key;
	int64_t		 ss_seen;	/* last use */
	int64_t		 ss_since;	/* per_source_rate window */
	unsigned	 ss_count;
	int64_t		 ss_dg_since;	/* datagram window */
	int		 ss_dg_on;	/* ss_dg_since is set */
	unsigned	 ss_dg_replies;
	long		 ss_dg_budget;	/* bytes it may still get back */
};

struct src_table {
	uint32_t	 st_seed;
	struct src_slot	 st_slot[SRC_SLOTS];
};

static struct src_table *
src_table_get(struct src_table **stp)
{
	struct src_table	*st;

	if (*stp != NULL)
		return *stp;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (getrandom(&st->st_seed, sizeof(st->st_seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(st->st_seed))
		st->st_seed = (uint32_t)(uintptr_t)st;
	return *stp = st;
}

static uint32_t
src_hash(const struct src_table *st, const struct srckey *key)
{
	uint32_t	 h = 2166136261u ^ st->st_seed;
	size_t		 i, n = key->sk_family == AF_INET ? 4 : 16;

	h = (h ^ (uint32_t)key->sk_family) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ key->sk_addr[i]) * 16777619u;
	return h ^ (h >> 15);
}

static int
src_rate_live(const struct src_slot *slot, int64_t now)
{
	return slot->ss_count > 0 && now - slot->ss_since < SRC_WINDOW_MS;
}

static int
src_dgram_live(const struct src_slot *slot, int64_t now)
{
	return slot->ss_dg_on && now - slot->ss_dg_since < DG_WINDOW_MS;
}

/* Whether the slot is holding its client back now (limit: per minute). */
static int
src_limiting(const struct src_slot *slot, int limit, int64_t now)
{
	if (limit > 0 && src_rate_live(slot, now) &&
	    slot->ss_count >= (unsigned)limit)
		return 1;
	return src_dgram_live(slot, now) &&
	    (slot->ss_dg_replies >= DG_REPLIES || slot->ss_dg_budget <= 0);
}

/* The slot of key, a new one, or NULL when none may be given up. */
static struct src_slot *
src_find(struct src_table *st, const struct srckey *key, int limit,
    int64_t now)
{
	struct src_slot	*slot, *victim = NULL;
	uint32_t	 h = src_hash(st, key);
	int		 i, empty, idle, victim_idle = 0;

	for (i = 0; i < SRC_PROBE; i++) {
		slot = &st->st_slot[(h + i) % SRC_SLOTS];
		empty = slot->ss_key.sk_family == 0;
		if (!empty && slot->ss_key.sk_family == key->sk_family &&
		    memcmp(slot->ss_key.sk_addr, key->sk_addr,
		    sizeof(key->sk_addr)) == 0)
			return slot;
		if (!empty && src_limiting(slot, limit, now))
			continue;
		idle = empty || (!src_rate_live(slot, now) &&
		    !src_dgram_live(slot, now));
		if (victim == NULL || (idle && !victim_idle) ||
		    (idle == victim_idle && slot->ss_seen < victim->ss_seen)) {
			victim = slot;
			victim_idle = idle;
		}
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->ss_key = *key;
	victim->ss_seen = now;
	return victim;
}

/* Whether one more connection from the slot's client fits the limit. */
static int
src_rate_fits(struct src_slot *slot, int limit, int64_t now)
{
	if (limit <= 0)
		return 1;
	if (!src_rate_live(slot, now)) {
		slot->ss_since = now;
		slot->ss_count = 0;
	}
	return slot->ss_count < (unsigned)limit;
}

/*
 * Counts one connection from addr against `limit` a minute, an IPv6
 * address by its /prefix; 0 when it is over the limit.
 */
int
policy_source_rate(struct src_table **stp, int limit, int prefix,
    const char *addr, int64_t now)
{
	struct src_table	*st;
	struct src_slot		*slot;
	struct srckey		 key;

	if (limit <= 0 || addr_key(addr, &key) == -1)
		return 1;
	addr_key_mask(&key, prefix);
	if ((st = src_table_get(stp)) == NULL)
		return 1;	/* no memory: do not refuse for our own failure */
	if ((slot = src_find(st, &key, limit, now)) == NULL)
		return 1;	/* every slot it could take is limiting */
	slot->ss_seen = now;
	if (!src_rate_fits(slot, limit, now))
		return 0;
	slot->ss_count++;
	return 1;
}

/*
 * A loopback source is a local process: the kernel drops such addresses
 * arriving from outside.  It can loop with nobody's service but its own
 * and could send the datagrams itself, so its answers are not counted (a
 * local load test of echo stays a test of superd); its bytes are.
 */
static int
src_loopback(const struct srckey *key)
{
	static const uint8_t	 one6[16] = { [15] = 1 };

	if (key->sk_family == AF_INET)
		return key->sk_addr[0] == 127;
	return key->sk_family == AF_INET6 &&
	    memcmp(key->sk_addr, one6, sizeof(one6)) == 0;
}

/*
 * A UDP builtin's answer to a datagram of `in` bytes from key: how many
 * bytes of an answer that would be `want` long may go back (at least
 * `least`, or -1: no answer).  Per source: per_source_rate answers a
 * minute, at most DG_REPLIES a second (but from loopback), and never more
 * bytes a second than it sent (headers counted) plus DG_ALLOWANCE, so that
 * a forged source cannot turn chargen into an amplifier or keep two echo
 * services talking.
 */
ssize_t
policy_dgram(struct service *sv, const struct srckey *from, size_t in,
    size_t want, size_t least, int64_t now)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct src_table	*st;
	struct src_slot		*slot;
	struct srckey		 key = *from;
	long			 budget;

	/* discard answers nothing: only per_source_rate is left to apply. */
	if (sc->sc_builtin == BUILTIN_DISCARD && sc->sc_per_source_rate <= 0)
		return 0;
	addr_key_mask(&key, sc->sc_per_source_ipv6_prefix);
	if ((st = src_table_get(&sv->sv_sources)) == NULL ||
	    (slot = src_find(st, &key, sc->sc_per_source_rate, now)) == NULL)
		return -1;
	slot->ss_seen = now;
	if (!src_rate_fits(slot, sc->sc_per_source_rate, now))
		return -1;
	if (sc->sc_builtin == BUILTIN_DISCARD) {
		slot->ss_count++;
		return 0;
	}
	if (!src_dgram_live(slot, now)) {
		slot->ss_dg_since = now;
		slot->ss_dg_on = 1;
		slot->ss_dg_replies = 0;
		slot->ss_dg_budget = DG_ALLOWANCE;
	}
	if (slot->ss_dg_replies >= DG_REPLIES && !src_loopback(from))
		return -1;
	budget = slot->ss_dg_budget + (long)in + DG_HEADER;
	if (budget < (long)least)
		return -1;
	if ((long)want > budget)
		want = (size_t)budget;
	slot->ss_dg_budget = budget - (long)want;
	slot->ss_dg_replies++;
	if (sc->sc_per_source_rate > 0)
		slot->ss_count++;
	return (ssize_t)want;
}

void
policy_source_free(struct src_table *st)
{
	free(st);
}
