/*
 * check_env.c - the environment a program gets (env.c).
 */
#include <string.h>

#include "superd.h"
#include "check_superd.h"

static size_t
env_len(char **env)
{
	size_t	 n = 0;

	while (env[n] != NULL)
		n++;
	return n;
}

static const char *
env_get(char **env, const char *key)
{
	size_t	 i, k = strlen(key);

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], key, k) == 0 && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

static struct svc_conf
conf_named(const char *name, enum proto proto, char **extra)
{
	struct svc_conf	 sc;

	memset(&sc, 0, sizeof(sc));
	sc.sc_name = (char *)name;
	sc.sc_proto = proto;
	sc.sc_env = extra;
	return sc;
}

START_TEST(tcp_exact)
{
	char		*extra[] = { "A=1", "B=two words", NULL };
	struct svc_conf	 sc = conf_named("envy", PROTO_TCP, extra);
	struct peer	 pe;
	char		**env;

	memset(&pe, 0, sizeof(pe));
	pe.pe_proto = PROTO_TCP;
	strcpy(pe.pe_local_ip, "127.0.0.1");
	pe.pe_local_port = 4242;
	strcpy(pe.pe_remote_ip, "127.0.0.2");
	pe.pe_remote_port = 51000;
	env = env_build(&sc, &pe);
	ck_assert_ptr_nonnull(env);
	ck_assert_uint_eq(env_len(env), 9);
	ck_assert_str_eq(env_get(env, "PATH"), "/usr/local/bin:/usr/bin:/bin");
	ck_assert_str_eq(env_get(env, "A"), "1");
	ck_assert_str_eq(env_get(env, "B"), "two words");
	ck_assert_str_eq(env_get(env, "PROTO"), "TCP");
	ck_assert_str_eq(env_get(env, "TCPLOCALIP"), "127.0.0.1");
	ck_assert_str_eq(env_get(env, "TCPLOCALPORT"), "4242");
	ck_assert_str_eq(env_get(env, "TCPREMOTEIP"), "127.0.0.2");
	ck_assert_str_eq(env_get(env, "TCPREMOTEPORT"), "51000");
	ck_assert_str_eq(env_get(env, "SUPERD_SERVICE"), "envy");
	env_free(env);
}
END_TEST

START_TEST(unix_credentials)
{
	struct svc_conf	 sc = conf_named("ux", PROTO_UNIX, NULL);
	struct peer	 pe;
	char		**env;

	memset(&pe, 0, sizeof(pe));
	pe.pe_proto = PROTO_UNIX;
	pe.pe_uid = 1000;
	pe.pe_gid = 100;
	pe.pe_pid = 4321;
	env = env_build(&sc, &pe);
	ck_assert_uint_eq(env_len(env), 6);
	ck_assert_str_eq(env_get(env, "PROTO"), "UNIX");
	ck_assert_str_eq(env_get(env, "UNIXREMOTEUID"), "1000");
	ck_assert_str_eq(env_get(env, "UNIXREMOTEGID"), "100");
	ck_assert_str_eq(env_get(env, "UNIXREMOTEPID"), "4321");
	ck_assert_ptr_null(env_get(env, "TCPREMOTEIP"));
	env_free(env);
}
END_TEST

START_TEST(wait_service_gets_proto_only)
{
	struct svc_conf	 sc = conf_named("dgram", PROTO_UDP, NULL);
	char		**env = env_build(&sc, NULL);

	ck_assert_uint_eq(env_len(env), 3);
	ck_assert_str_eq(env_get(env, "PROTO"), "UDP");
	ck_assert_str_eq(env_get(env, "SUPERD_SERVICE"), "dgram");
	env_free(env);
}
END_TEST

START_TEST(entries_cannot_shadow_superd)
{
	char		*extra[] = { "PATH=/opt/bin", "SUPERD_SERVICE=fake",
			    "TCPREMOTEIP=6.6.6.6", "=novalue", NULL };
	struct svc_conf	 sc = conf_named("real", PROTO_UDP, extra);
	char		**env = env_build(&sc, NULL);

	ck_assert_str_eq(env_get(env, "PATH"), "/opt/bin");
	ck_assert_str_eq(env_get(env, "SUPERD_SERVICE"), "real");
	ck_assert_ptr_null(env_get(env, "TCPREMOTEIP"));
	ck_assert_uint_eq(env_len(env), 3);
	env_free(env);
}
END_TEST

Suite *
env_suite(void)
{
	Suite	*s = suite_create("env");
	TCase	*tc = tcase_create("env");

	tcase_add_test(tc, tcp_exact);
	tcase_add_test(tc, unix_credentials);
	tcase_add_test(tc, wait_service_gets_proto_only);
	tcase_add_test(tc, entries_cannot_shadow_superd);
	suite_add_tcase(s, tc);
	return s;
}
