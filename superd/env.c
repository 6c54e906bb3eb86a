/*
 * env.c - the environment a started program gets (SPEC 4), pure.
 *
 * Exactly PATH, the service's env entries, the UCSPI variables of the
 * protocol and SUPERD_SERVICE: nothing of superd's own environment.
 */
#include <stdlib.h>
#include <string.h>

#include "superd.h"

#define ENV_FIXED	8	/* PATH, PROTO, 4 TCP vars, SUPERD_SERVICE, NULL */
#define VALUE_MAX	64	/* an address or a number, as text */

/*
 * The environment is one allocation, built on every start: the pointer
 * array, then the strings it points to.  No printf and one malloc, where
 * a string each cost a tenth of superd's time per connection.
 */
struct envbuf {
	char	**eb_env;
	size_t	  eb_n;
	char	 *eb_at;	/* where the next string goes */
};

static void
env_put(struct envbuf *eb, const char *key, const char *val)
{
	size_t	 klen = strlen(key), vlen = strlen(val);

	eb->eb_env[eb->eb_n++] = eb->eb_at;
	memcpy(eb->eb_at, key, klen);
	eb->eb_at[klen] = '=';
	memcpy(eb->eb_at + klen + 1, val, vlen + 1);
	eb->eb_at += klen + vlen + 2;
}

static void
env_put_num(struct envbuf *eb, const char *key, unsigned long v)
{
	char	 text[24], *p = text + sizeof(text) - 1;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	env_put(eb, key, p);
}

static void
env_ucspi(struct envbuf *eb, const struct peer *pe)
{
	switch (pe->pe_proto) {
	case PROTO_TCP:
		env_put(eb, "PROTO", "TCP");
		env_put(eb, "TCPLOCALIP", pe->pe_local_ip);
		env_put_num(eb, "TCPLOCALPORT", pe->pe_local_port);
		env_put(eb, "TCPREMOTEIP", pe->pe_remote_ip);
		env_put_num(eb, "TCPREMOTEPORT", pe->pe_remote_port);
		break;
	case PROTO_UNIX:
		env_put(eb, "PROTO", "UNIX");
		env_put_num(eb, "UNIXREMOTEUID", (unsigned long)pe->pe_uid);
		env_put_num(eb, "UNIXREMOTEGID", (unsigned long)pe->pe_gid);
		env_put_num(eb, "UNIXREMOTEPID", (unsigned long)pe->pe_pid);
		break;
	case PROTO_UDP:
		env_put(eb, "PROTO", "UDP");
		break;
	}
}

/* Names superd sets itself; an env entry may not shadow them. */
static int
env_reserved(const char *entry, size_t klen)
{
	static const char *const names[] = { "PROTO", "TCPLOCALIP",
	    "TCPLOCALPORT", "TCPREMOTEIP", "TCPREMOTEPORT", "UNIXREMOTEUID",
	    "UNIXREMOTEGID", "UNIXREMOTEPID", "SUPERD_SERVICE" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == klen &&
		    strncmp(entry, names[i], klen) == 0)
			return 1;
	return 0;
}

/* Room for every string env_build may put, their ends included. */
static size_t
env_size(const struct svc_conf *sc, size_t nenv)
{
	size_t	 size, i;

	size = sizeof("PATH=" SUPERD_PATH) + sizeof("SUPERD_SERVICE=") +
	    strlen(sc->sc_name) + sizeof("TCPLOCALIP=TCPLOCALPORT="
	    "TCPREMOTEIP=TCPREMOTEPORT=PROTO=UNIX") + 5 * VALUE_MAX;
	for (i = 0; i < nenv; i++)
		size += strlen(sc->sc_env[i]) + 1;
	return size;
}

/*
 * Builds the environment; pe is NULL for a wait service, which gets only
 * PROTO and SUPERD_SERVICE.  An env entry for PATH replaces the default.
 */
char **
env_build(const struct svc_conf *sc, const struct peer *pe)
{
	static const char *const proto[] = { "TCP", "UDP", "UNIX" };
	struct envbuf	 eb;
	size_t		 nenv = 0, i, klen, slots;
	const char	*path = SUPERD_PATH;

	while (sc->sc_env != NULL && sc->sc_env[nenv] != NULL)
		nenv++;
	slots = (nenv + ENV_FIXED + 1) * sizeof(char *);
	if ((eb.eb_env = malloc(slots + env_size(sc, nenv))) == NULL)
		return NULL;
	eb.eb_n = 0;
	eb.eb_at = (char *)eb.eb_env + slots;
	for (i = 0; i < nenv; i++)
		if (strncmp(sc->sc_env[i], "PATH=", 5) == 0)
			path = sc->sc_env[i] + 5;
	env_put(&eb, "PATH", path);
	for (i = 0; i < nenv; i++) {
		klen = strcspn(sc->sc_env[i], "=");
		if (klen == 0 || strncmp(sc->sc_env[i], "PATH=", 5) == 0 ||
		    env_reserved(sc->sc_env[i], klen))
			continue;
		eb.eb_env[eb.eb_n++] = strcpy(eb.eb_at, sc->sc_env[i]);
		eb.eb_at += strlen(sc->sc_env[i]) + 1;
	}
	if (pe == NULL)
		env_put(&eb, "PROTO", proto[sc->sc_proto]);
	else
		env_ucspi(&eb, pe);
	env_put(&eb, "SUPERD_SERVICE", sc->sc_name);
	eb.eb_env[eb.eb_n] = NULL;
	return eb.eb_env;
}

void
env_free(char **env)
{
	free(env);
}
