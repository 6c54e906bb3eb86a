/*
 * policy.c - whether a client may be served now.
 *
 * Pure: the ACL (addresses and CIDR blocks, IPv4 and IPv6, an IPv4 client
 * on a dual-stack socket matched as IPv4) and the service's rate bucket,
 * with the time passed in.
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

/* Whether the numeric address text falls in the block. */
int
cidr_match(const struct cidr *ci, const char *addr)
{
	uint8_t	 raw[16];
	int	 family, full, rest;

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
 * instances already serving that address.  Behind a PROXY header the
 * address here is the proxy's: the child judges the real client instead.
 */
const char *
policy_admit(struct service *sv, const char *addr, unsigned from_addr,
    int64_t now)
{
	if (sv->sv_conf->sc_proxy)
		return NULL;
	return policy_judge(sv, addr, from_addr, now);
}

/* policy_admit for a client whose address is known to be its own. */
const char *
policy_judge(struct service *sv, const char *addr, unsigned from_addr,
    int64_t now)
{
	const struct svc_conf	*sc = sv->sv_conf;

	if (!policy_acl(sc, addr))
		return "acl";
	if (sc->sc_per_source > 0 && from_addr >= (unsigned)sc->sc_per_source)
		return "per_source";
	if (!policy_source_rate(&sv->sv_sources, sc->sc_per_source_rate, addr,
	    now))
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
 * per_source_rate: new connections per minute per client address, in a
 * fixed table per service so a million knocking addresses cost no more
 * memory than a few.  An address's count expires a minute after its
 * first connection of the window; when its probe run is full, the entry
 * whose window is oldest gives way (forgetting a stale address is
 * harmless, a fresh one was just seen).
 */
#define SRC_SLOTS	4096
#define SRC_PROBE	8
#define SRC_WINDOW_MS	60000

struct src_slot {
	char		 ss_addr[46];
	int64_t		 ss_since;
	unsigned	 ss_count;
};

struct src_table {
	struct src_slot	 st_slot[SRC_SLOTS];
};

static uint32_t
src_hash(const char *addr)
{
	uint32_t	 h = 2166136261u;

	while (*addr != '\0')
		h = (h ^ (unsigned char)*addr++) * 16777619u;
	return h;
}

static struct src_slot *
src_find(struct src_table *st, const char *addr, int64_t now)
{
	struct src_slot	*slot, *victim = NULL;
	uint32_t	 h = src_hash(addr);
	int		 i, idle, victim_idle = 0;

	for (i = 0; i < SRC_PROBE; i++) {
		slot = &st->st_slot[(h + i) % SRC_SLOTS];
		if (slot->ss_count > 0 && strcmp(slot->ss_addr, addr) == 0)
			return slot;
		idle = slot->ss_count == 0 || now - slot->ss_since >= SRC_WINDOW_MS;
		if (victim == NULL || (idle && !victim_idle) ||
		    (!idle && !victim_idle && slot->ss_since < victim->ss_since)) {
			victim = slot;
			victim_idle = idle;
		}
	}
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->ss_addr, addr, sizeof(victim->ss_addr) - 1);
	victim->ss_since = now;
	return victim;
}

/* Counts one connection from addr; 0 when it is over the limit. */
int
policy_source_rate(struct src_table **stp, int limit, const char *addr,
    int64_t now)
{
	struct src_slot	*slot;

	if (limit <= 0)
		return 1;
	if (*stp == NULL && (*stp = calloc(1, sizeof(**stp))) == NULL)
		return 1;	/* no memory: do not refuse for our own failure */
	slot = src_find(*stp, addr, now);
	if (now - slot->ss_since >= SRC_WINDOW_MS) {
		slot->ss_since = now;
		slot->ss_count = 0;
	}
	if (slot->ss_count >= (unsigned)limit)
		return 0;
	slot->ss_count++;
	return 1;
}

void
policy_source_free(struct src_table *st)
{
	free(st);
}
