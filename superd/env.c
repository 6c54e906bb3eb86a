/*
 * env.c - the environment a started program gets (SPEC 4), pure.
 *
 * Exactly PATH, the service's env entries, the UCSPI variables of the
 * protocol and SUPERD_SERVICE: nothing of superd's own environment.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

#define ENV_FIXED	8	/* PATH, PROTO, 4 TCP vars, SUPERD_SERVICE, NULL */

static int
env_add(char **env, size_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
env_add(char **env, size_t *n, const char *key, const char *fmt, ...)
{
	char	 val[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (asprintf(&env[*n], "%s=%s", key, val) == -1) {
		env[*n] = NULL;
		return -1;
	}
	(*n)++;
	env[*n] = NULL;
	return 0;
}

static int
env_ucspi(char **env, size_t *n, const struct peer *pe)
{
	switch (pe->pe_proto) {
	case PROTO_TCP:
		if (env_add(env, n, "PROTO", "TCP") == -1 ||
		    env_add(env, n, "TCPLOCALIP", "%s", pe->pe_local_ip) == -1 ||
		    env_add(env, n, "TCPLOCALPORT", "%u", pe->pe_local_port) == -1 ||
		    env_add(env, n, "TCPREMOTEIP", "%s", pe->pe_remote_ip) == -1 ||
		    env_add(env, n, "TCPREMOTEPORT", "%u", pe->pe_remote_port) == -1)
			return -1;
		return 0;
	case PROTO_UNIX:
		if (env_add(env, n, "PROTO", "UNIX") == -1 ||
		    env_add(env, n, "UNIXREMOTEUID", "%lu",
		    (unsigned long)pe->pe_uid) == -1 ||
		    env_add(env, n, "UNIXREMOTEGID", "%lu",
		    (unsigned long)pe->pe_gid) == -1 ||
		    env_add(env, n, "UNIXREMOTEPID", "%ld", (long)pe->pe_pid) == -1)
			return -1;
		return 0;
	case PROTO_UDP:
		return env_add(env, n, "PROTO", "UDP");
	}
	return -1;
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

/*
 * Builds the environment; pe is NULL for a wait service, which gets only
 * PROTO and SUPERD_SERVICE.  An env entry for PATH replaces the default.
 */
char **
env_build(const struct svc_conf *sc, const struct peer *pe)
{
	static const char *const proto[] = { "TCP", "UDP", "UNIX" };
	char		**env;
	size_t		 n = 0, nenv = 0, i, klen;

	while (sc->sc_env != NULL && sc->sc_env[nenv] != NULL)
		nenv++;
	if ((env = calloc(nenv + ENV_FIXED + 1, sizeof(*env))) == NULL)
		return NULL;
	if (env_add(env, &n, "PATH", "%s", SUPERD_PATH) == -1)
		goto fail;
	for (i = 0; i < nenv; i++) {
		klen = strcspn(sc->sc_env[i], "=");
		if (strncmp(sc->sc_env[i], "PATH=", 5) == 0) {
			free(env[0]);
			if ((env[0] = strdup(sc->sc_env[i])) == NULL)
				goto fail;
			continue;
		}
		if (klen == 0 || env_reserved(sc->sc_env[i], klen))
			continue;
		if ((env[n] = strdup(sc->sc_env[i])) == NULL)
			goto fail;
		env[++n] = NULL;
	}
	if ((pe == NULL ? env_add(env, &n, "PROTO", "%s", proto[sc->sc_proto]) :
	    env_ucspi(env, &n, pe)) == -1)
		goto fail;
	if (env_add(env, &n, "SUPERD_SERVICE", "%s", sc->sc_name) == -1)
		goto fail;
	return env;
fail:
	env_free(env);
	return NULL;
}

void
env_free(char **env)
{
	size_t	 i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}
