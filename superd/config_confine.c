/*
 * config_confine.c - the confinement settings of a service, one function
 * per key: chroot, no_new_privs, capabilities, private_tmp,
 * private_network, read_only, writable.
 *
 * They only check and record what was written; confine.c plans what a
 * start does with it and exec.c does it.  config_keys.c applies them
 * from its table of keys, in its order.
 */
#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>

#include "superd.h"
#include "config_int.h"
#include "config_lcfg.h"

int
key_chroot(struct build *b, const config_setting_t *s)
{
	struct where	 w;
	const char	*v;

	if ((v = get_path(b, s)) == NULL)
		return -1;
	w = where_of(b->b_ld, s);
	return check_chroot(b, &w, v);
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
	return 0;
}

int
key_private_tmp(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_private_tmp);
}

int
key_private_network(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_private_network);
}

int
key_read_only(struct build *b, const config_setting_t *s)
{
	return get_bool(b, s, &b->b_sc->sc_read_only);
}

int
key_writable(struct build *b, const config_setting_t *s)
{
	const char	**v;
	size_t		  i, n;
	int		  bad = 0;

	if ((v = get_strings(b, s, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i][0] != '/') {
			serr(b->b_ld, config_setting_get_elem(s, i), "writable "
			    "\"%s\" is not an absolute path", v[i]);
			bad = 1;
		}
	if (!bad) {
		b->b_sc->sc_writable = strv_dup(v, n);
		b->b_writable_at = where_of(b->b_ld, s);
	}
	free(v);
	return bad ? -1 : 0;
}
