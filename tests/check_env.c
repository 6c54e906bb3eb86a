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

START_TEST(longest_values_fit)
{
	static char	 big[2][600], name[300];
	char		*extra[] = { big[0], big[1], NULL };
	struct svc_conf	 sc;
	struct peer	 pe;
	char		**env;

	memset(big, 'v', sizeof(big));
	memcpy(big[0], "LONG1=", 6);
	memcpy(big[1], "LONG2=", 6);
	big[0][sizeof(big[0]) - 1] = big[1][sizeof(big[1]) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	sc = conf_named(name, PROTO_TCP, extra);
	memset(&pe, 'x', sizeof(pe));
	pe.pe_proto = PROTO_TCP;
	pe.pe_local_ip[sizeof(pe.pe_local_ip) - 1] = '\0';
	pe.pe_remote_ip[sizeof(pe.pe_remote_ip) - 1] = '\0';
	pe.pe_local_port = 65535;
	pe.pe_remote_port = 4294967295U;
	env = env_build(&sc, &pe);
	ck_assert_ptr_nonnull(env);
	ck_assert_uint_eq(env_len(env), 9);
	ck_assert_uint_eq(strlen(env_get(env, "LONG1")), sizeof(big[0]) - 7);
	ck_assert_str_eq(env_get(env, "SUPERD_SERVICE"), name);
	ck_assert_uint_eq(strlen(env_get(env, "TCPREMOTEIP")),
	    sizeof(pe.pe_remote_ip) - 1);
	ck_assert_str_eq(env_get(env, "TCPLOCALPORT"), "65535");
	ck_assert_str_eq(env_get(env, "TCPREMOTEPORT"), "4294967295");
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
	tcase_add_test(tc, longest_values_fit);
	suite_add_tcase(s, tc);
	return s;
}
