/*
 * config_confine.c - the confinement settings of a service, one function
 * per key: chroot, no_new_privs, capabilities, private_tmp,
 * private_network, read_only, writable.
 *
 * They check and record what was written; confine.c plans what a start
 * does with it and exec.c does it.  config_keys.c applies them from its
 * table of keys, in its order.  A setting that needs a capability superd
 * lacks (it is not root) is a warning: superd may hold the capability
 * without being root, and until it does every start fails at that step.
 */
#include <linux/capability.h>

#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"
#include "config_lcfg.h"

#define CAP_BIT(cap)	((uint64_t)1 << (cap))

/* A warning at s when superd lacks one of the capabilities in need;
 * whether it warned. */
static int
needs_caps(struct build *b, const config_setting_t *s, uint64_t need)
{
	struct where	 w;
	int		 cap;

	for (cap = 0; cap < CONFINE_CAPS; cap++)
		if ((need & CAP_BIT(cap)) && !confine_cap_held(cap))
			break;
	if (cap == CONFINE_CAPS)
		return 0;
	w = where_of(b->b_ld, s);
	warning(b->b_ld, &w, "\"%s\" of service \"%s\" needs capability "
	    "\"%s\", which superd does not hold%s: each start will fail",
	    config_setting_name(s), b->b_sc->sc_name != NULL ?
	    b->b_sc->sc_name : "?", confine_cap_name(cap),
	    geteuid() != 0 ? " (it is not root)" : "");
	return 1;
}

/* A boolean setting; when true, what it needs. */
static int
confine_bool(struct build *b, const config_setting_t *s, int *v,
    uint64_t need)
{
	if (get_bool(b, s, v) == -1)
		return -1;
	if (*v)
		(void)needs_caps(b, s, need);
	return 0;
}

int
key_chroot(struct build *b, const config_setting_t *s)
{
	struct where	 w;
	const char	*v;

	if ((v = get_path(b, s)) == NULL)
		return -1;
	w = where_of(b->b_ld, s);
	if (check_chroot(b, &w, v) == -1)
		return -1;
	(void)needs_caps(b, s, CAP_BIT(CAP_SYS_CHROOT));
	return 0;
}

int
key_no_new_privs(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_no_new_privs);
}

int
key_capabilities(struct build *b, const config_setting_t *s)
{
	const char	**v;
	size_t		  i, n;
	uint64_t	  caps = 0;
	int		  cap, bad = 0;

	if ((v = get_strings(b, s, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((cap = confine_cap_named(v[i])) == -1) {
			serr(b->b_ld, config_setting_get_elem(s, i),
			    "capabilities \"%s\": no such capability (want a "
			    "name such as \"net_bind_service\")", v[i]);
			bad = 1;
		} else
			caps |= (uint64_t)1 << cap;
	}
	free(v);
	if (bad)
		return -1;
	b->b_sc->sc_caps = caps;
	b->b_sc->sc_caps_set = 1;
	/* setpcap first: without it superd keeps none of them. */
	if (!needs_caps(b, s, CAP_BIT(CAP_SETPCAP)))
		(void)needs_caps(b, s, caps);
	return 0;
}

int
key_private_tmp(struct build *b, const config_setting_t *s)
{
	return confine_bool(b, s, &b->b_sc->sc_private_tmp,
	    CAP_BIT(CAP_SYS_ADMIN));
}

int
key_private_network(struct build *b, const config_setting_t *s)
{
	return confine_bool(b, s, &b->b_sc->sc_private_network,
	    CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_NET_ADMIN));
}

int
key_read_only(struct build *b, const config_setting_t *s)
{
	return confine_bool(b, s, &b->b_sc->sc_read_only,
	    CAP_BIT(CAP_SYS_ADMIN));
}

int
key_writable(struct build *b, const config_setting_t *s)
{
	struct where	  w;
	const char	**v;
	size_t		  i, n;
	int		  bad = 0;

	if ((v = get_strings(b, s, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		w = where_of(b->b_ld, config_setting_get_elem(s, i));
		if (v[i][0] != '/') {
			problem(b->b_ld, &w, "writable \"%s\" is not an "
			    "absolute path", v[i]);
			bad = 1;
		} else if (check_no_link(b, &w, "writable", b->b_sc->sc_chroot,
		    v[i]) == -1)
			bad = 1;
	}
	if (!bad) {
		b->b_sc->sc_writable = strv_dup(v, n);
		b->b_writable_at = where_of(b->b_ld, s);
	}
	free(v);
	return bad ? -1 : 0;
}
