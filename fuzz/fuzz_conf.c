/*
 * fuzz_conf.c - what an accepted or refused configuration must look like,
 * shared by the targets that call config_load() (fuzz_config.c,
 * fuzz_inetd_conf.c).
 *
 * A configuration is refused exactly when there is an error, and every
 * error is "FILE[:LINE]: message".  An accepted one is what the rest of
 * superd relies on: valid names, unique per protocol; a program (server
 * with argv, or builtin, not both); a port or socket path of its
 * protocol; an address to bind for every inet service with a port, with
 * the service's port; no two enabled services on the same address; CIDR
 * blocks with their host bits clear; NAME=VALUE environment; absolute
 * paths; and config_enabled() counts the services not disabled.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "superd.h"
#include "fuzz.h"
#include "fuzz_conf.h"

static void
check_cidr(const struct cidr *ci)
{
	int	 bits, i;

	FUZZ_ASSERT(ci->ci_family == AF_INET || ci->ci_family == AF_INET6);
	bits = ci->ci_family == AF_INET ? 32 : 128;
	FUZZ_ASSERT(ci->ci_prefix >= 0 && ci->ci_prefix <= bits);
	for (i = ci->ci_prefix; i < 128; i++)
		FUZZ_ASSERT((ci->ci_addr[i / 8] & (0x80 >> (i % 8))) == 0);
}

static int
bind_port(const struct bindaddr *ba)
{
	if (ba->ba_addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ba->ba_addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&ba->ba_addr)->sin6_port);
}

static int
same_bind(const struct bindaddr *a, const struct bindaddr *b)
{
	return a->ba_len == b->ba_len &&
	    memcmp(&a->ba_addr, &b->ba_addr, a->ba_len) == 0;
}

static int
is_abs(const char *s)
{
	return s != NULL && s[0] == '/';
}

static void
check_svc(const struct svc_conf *sc)
{
	struct sockaddr_un	 sun;
	size_t			 i, j, n;
	int			 k;

	FUZZ_ASSERT(sc->sc_name != NULL);
	n = strlen(sc->sc_name);
	FUZZ_ASSERT(n >= 1 && n <= SUPERD_NAME_MAX);
	FUZZ_ASSERT(strspn(sc->sc_name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n);
	FUZZ_ASSERT(sc->sc_file != NULL && sc->sc_line >= 0);

	switch (sc->sc_proto) {
	case PROTO_UNIX:
		FUZZ_ASSERT(sc->sc_port == -1 && sc->sc_nbinds == 0);
		FUZZ_ASSERT(is_abs(sc->sc_path) &&
		    strlen(sc->sc_path) < sizeof(sun.sun_path));
		FUZZ_ASSERT((sc->sc_socket_mode & ~07777) == 0);
		break;
	case PROTO_TCP:
	case PROTO_UDP:
		FUZZ_ASSERT(sc->sc_path == NULL);
		FUZZ_ASSERT(sc->sc_port >= -1 && sc->sc_port <= 65535);
		if (sc->sc_port == -1) {
			/* reached through tcpmux only */
			FUZZ_ASSERT(sc->sc_proto == PROTO_TCP && sc->sc_tcpmux);
			FUZZ_ASSERT(sc->sc_nbinds == 0);
			break;
		}
		FUZZ_ASSERT(sc->sc_nbinds >= 1 && sc->sc_binds != NULL);
		for (i = 0; i < sc->sc_nbinds; i++) {
			const struct bindaddr *ba = &sc->sc_binds[i];

			FUZZ_ASSERT((ba->ba_addr.ss_family == AF_INET &&
			    ba->ba_len == sizeof(struct sockaddr_in)) ||
			    (ba->ba_addr.ss_family == AF_INET6 &&
			    ba->ba_len == sizeof(struct sockaddr_in6)));
			FUZZ_ASSERT(bind_port(ba) == sc->sc_port);
			for (j = 0; j < i; j++)
				FUZZ_ASSERT(!same_bind(ba, &sc->sc_binds[j]));
		}
		break;
	default:
		FUZZ_ASSERT(!"unknown protocol");
	}

	if (sc->sc_builtin == BUILTIN_NONE) {
		FUZZ_ASSERT(is_abs(sc->sc_server));
		FUZZ_ASSERT(sc->sc_argv != NULL && sc->sc_argv[0] != NULL);
	} else {
		FUZZ_ASSERT(sc->sc_builtin >= BUILTIN_ECHO &&
		    sc->sc_builtin <= BUILTIN_TCPMUX);
		FUZZ_ASSERT(sc->sc_server == NULL && sc->sc_argv == NULL);
		FUZZ_ASSERT(sc->sc_builtin != BUILTIN_TCPMUX ||
		    sc->sc_proto != PROTO_UDP);
	}
	FUZZ_ASSERT(sc->sc_wait == 0 || sc->sc_wait == 1);
	FUZZ_ASSERT(sc->sc_user != NULL && sc->sc_user[0] != '\0');
	FUZZ_ASSERT(sc->sc_instances >= 0 && sc->sc_per_source >= 0 &&
	    sc->sc_rate >= 0 && sc->sc_per_source_rate >= 0 &&
	    sc->sc_timeout >= 0 && sc->sc_backlog >= 1);
	FUZZ_ASSERT(sc->sc_nallow == 0 || sc->sc_allow != NULL);
	FUZZ_ASSERT(sc->sc_ndeny == 0 || sc->sc_deny != NULL);
	for (i = 0; i < sc->sc_nallow; i++)
		check_cidr(&sc->sc_allow[i]);
	for (i = 0; i < sc->sc_ndeny; i++)
		check_cidr(&sc->sc_deny[i]);
	for (k = 0; k < LIMIT_COUNT; k++)
		FUZZ_ASSERT(!sc->sc_limit_set[k] ||
		    sc->sc_limit[k] < RLIM_INFINITY);
	FUZZ_ASSERT(!sc->sc_nice_set ||
	    (sc->sc_nice >= -20 && sc->sc_nice <= 19));
	for (i = 0; sc->sc_env != NULL && sc->sc_env[i] != NULL; i++)
		FUZZ_ASSERT(sc->sc_env[i][0] != '=' &&
		    strchr(sc->sc_env[i], '=') != NULL);
	FUZZ_ASSERT(is_abs(sc->sc_chdir));
	FUZZ_ASSERT(sc->sc_stderr == STDERR_LOG ||
	    sc->sc_stderr == STDERR_SOCKET || sc->sc_stderr == STDERR_NULL);
}

/* Two enabled services never claim the same address of one protocol. */
static void
check_pair(const struct svc_conf *a, const struct svc_conf *b)
{
	size_t	 i, j;

	FUZZ_ASSERT(a->sc_proto != b->sc_proto ||
	    strcmp(a->sc_name, b->sc_name) != 0);
	if (a->sc_disabled || b->sc_disabled || a->sc_proto != b->sc_proto)
		return;
	if (a->sc_proto == PROTO_UNIX) {
		FUZZ_ASSERT(strcmp(a->sc_path, b->sc_path) != 0);
		return;
	}
	if (a->sc_port <= 0 || a->sc_port != b->sc_port)
		return;
	for (i = 0; i < a->sc_nbinds; i++)
		for (j = 0; j < b->sc_nbinds; j++)
			FUZZ_ASSERT(!same_bind(&a->sc_binds[i],
			    &b->sc_binds[j]));
}

static void
check_conf(const struct conf *cf, const char *main_path)
{
	size_t	 i, j, enabled = 0;

	FUZZ_ASSERT(strcmp(cf->cf_file, main_path) == 0);
	FUZZ_ASSERT(cf->cf_pidfile != NULL && cf->cf_ports != NULL);
	FUZZ_ASSERT(cf->cf_include[0] == '\0' || is_abs(cf->cf_include));
	FUZZ_ASSERT(cf->cf_inetd_conf[0] == '\0' ||
	    is_abs(cf->cf_inetd_conf));
	FUZZ_ASSERT((cf->cf_facility & ~LOG_FACMASK) == 0 &&
	    cf->cf_facility <= LOG_LOCAL7);
	FUZZ_ASSERT(cf->cf_nsvcs == 0 || cf->cf_svcs != NULL);
	for (i = 0; i < cf->cf_nsvcs; i++) {
		check_svc(cf->cf_svcs[i]);
		for (j = 0; j < i; j++)
			check_pair(cf->cf_svcs[j], cf->cf_svcs[i]);
		enabled += !cf->cf_svcs[i]->sc_disabled;
	}
	FUZZ_ASSERT(config_enabled(cf) == enabled);
	for (i = 0; i < cf->cf_warnings.ce_count; i++)
		FUZZ_ASSERT(cf->cf_warnings.ce_msg[i] != NULL &&
		    cf->cf_warnings.ce_msg[i][0] != '\0');
}

/* "FILE: message" or "FILE:LINE: message"; files are named absolutely. */
static void
check_error(const char *msg)
{
	FUZZ_ASSERT(msg != NULL);
	FUZZ_ASSERT(msg[0] == '/' || msg[0] == '?');
	FUZZ_ASSERT(strstr(msg, ": ") != NULL);
}

void
fuzz_check_load(const char *main_path, const struct conf *cf,
    const struct conf_errors *errs)
{
	char	 line[8192];
	size_t	 i;

	FUZZ_ASSERT((cf == NULL) == (errs->ce_count > 0));
	for (i = 0; i < errs->ce_count; i++)
		check_error(errs->ce_msg[i]);
	if (cf == NULL)
		return;
	check_conf(cf, main_path);
	/* What superd -t prints for it. */
	FUZZ_ASSERT(snprintf(line, sizeof(line), "superd: %s: ok, %zu "
	    "services\n", main_path, config_enabled(cf)) > 0);
}
