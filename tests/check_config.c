/*
 * check_config.c - config.c: fixtures in data/, every error at its line.
 *
 * Each test runs in a private copy of data/ (check_datadir.c), so that
 * the ownership and mode rules superd applies as root hold wherever the
 * checkout is, and so that tests may write or chmod files freely.  Error messages name
 * "data/FILE", exactly as superd -t prints them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"
#include "check_superd.h"


static void
write_file(const char *path, const char *text, size_t len)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
}

/* ---------------------------------------------------------------------
 * Helpers.
 */

static struct conf *
load_ok(const char *path)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*cf;

	cf = config_load(path, &e);
	ck_assert_msg(e.ce_count == 0, "%s: unexpected error: %s", path,
	    e.ce_count ? e.ce_msg[0] : "");
	ck_assert_ptr_nonnull(cf);
	config_errors_clear(&e);
	return cf;
}

/* Loading path fails with exactly these messages, in this order. */
static void
expect_errors(const char *path, const char *const *want)
{
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*cf;
	char			 all[8192] = "";
	size_t			 i, n = 0;

	while (want[n] != NULL)
		n++;
	cf = config_load(path, &e);
	for (i = 0; i < e.ce_count; i++) {
		strncat(all, "\n  ", sizeof(all) - strlen(all) - 1);
		strncat(all, e.ce_msg[i], sizeof(all) - strlen(all) - 1);
	}
	ck_assert_msg(cf == NULL, "%s loaded without error", path);
	ck_assert_msg(e.ce_count == n, "%s: %zu errors, want %zu:%s", path,
	    e.ce_count, n, all);
	for (i = 0; i < n; i++)
		ck_assert_msg(strcmp(e.ce_msg[i], want[i]) == 0,
		    "error %zu is\n  %s\nwant\n  %s\nall:%s", i, e.ce_msg[i],
		    want[i], all);
	config_errors_clear(&e);
	ck_assert_ptr_null(e.ce_msg);
	ck_assert_uint_eq(e.ce_count, 0);
}

/* Loading path fails with exactly one message, made from fmt. */
static void __attribute__((format(printf, 2, 3)))
expect_error(const char *path, const char *fmt, ...)
{
	char		 want[PATH_MAX + 256];
	const char	*wantv[] = { want, NULL };
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	expect_errors(path, wantv);
}

static struct svc_conf *
svc(const struct conf *cf, const char *name, enum proto proto)
{
	size_t	 i;

	for (i = 0; i < cf->cf_nsvcs; i++)
		if (strcmp(cf->cf_svcs[i]->sc_name, name) == 0 &&
		    cf->cf_svcs[i]->sc_proto == proto)
			return cf->cf_svcs[i];
	ck_abort_msg("no service %s", name);
	return NULL;
}

static const char *
bind_addr(const struct bindaddr *ba, char *buf, size_t len)
{
	const void	*p;

	if (ba->ba_addr.ss_family == AF_INET)
		p = &((const struct sockaddr_in *)&ba->ba_addr)->sin_addr;
	else
		p = &((const struct sockaddr_in6 *)&ba->ba_addr)->sin6_addr;
	ck_assert_ptr_nonnull(inet_ntop(ba->ba_addr.ss_family, p, buf, len));
	return buf;
}

static int
bind_port(const struct bindaddr *ba)
{
	if (ba->ba_addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ba->ba_addr)->
		    sin_port);
	return ntohs(((const struct sockaddr_in6 *)&ba->ba_addr)->sin6_port);
}

static int
can_inet6(void)
{
	int	 fd;

	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		return 0;
	close(fd);
	return 1;
}

/* The identity a service gets by default. */
static void
assert_default_identity(const struct svc_conf *sc)
{
	struct passwd	*pw;

	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		ck_assert_ptr_nonnull(pw);
		ck_assert_str_eq(sc->sc_user, "nobody");
		ck_assert_uint_eq(sc->sc_uid, pw->pw_uid);
		ck_assert_uint_eq(sc->sc_gid, pw->pw_gid);
		ck_assert_int_eq(sc->sc_setid, 1);
	} else {
		ck_assert_uint_eq(sc->sc_uid, geteuid());
		ck_assert_uint_eq(sc->sc_gid, getegid());
		ck_assert_int_eq(sc->sc_setid, 0);
		ck_assert_ptr_nonnull(sc->sc_user);
	}
}

/* ---------------------------------------------------------------------
 * Good files.
 */

START_TEST(test_good_basic)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 buf[INET6_ADDRSTRLEN];

	cf = load_ok("data/good-basic.conf");
	ck_assert_str_eq(cf->cf_file, "data/good-basic.conf");
	ck_assert_str_eq(cf->cf_pidfile, "/tmp/superd-test.pid");
	ck_assert_str_eq(cf->cf_ports, "");
	ck_assert_int_eq(cf->cf_facility, LOG_LOCAL3);
	ck_assert_str_eq(cf->cf_include, "");
	ck_assert_str_eq(cf->cf_inetd_conf, "");
	ck_assert_uint_eq(cf->cf_nsvcs, 9);
	ck_assert_uint_eq(config_enabled(cf), 8);

	sc = svc(cf, "full", PROTO_TCP);
	ck_assert_str_eq(sc->sc_file, "data/good-basic.conf");
	ck_assert_int_eq(sc->sc_line, 8);
	ck_assert_int_eq(sc->sc_port, 4242);
	ck_assert_uint_eq(sc->sc_nbinds, 2);	/* the repeated address once */
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    "127.0.0.1");
	ck_assert_int_eq(bind_port(&sc->sc_binds[0]), 4242);
	ck_assert_int_eq(sc->sc_binds[0].ba_wildcard, 0);
	ck_assert_uint_eq(sc->sc_binds[0].ba_len, sizeof(struct sockaddr_in));
	ck_assert_str_eq(bind_addr(&sc->sc_binds[1], buf, sizeof(buf)),
	    "127.0.0.2");
	ck_assert_str_eq(sc->sc_server, "/bin/sh");
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_NONE);
	ck_assert_str_eq(sc->sc_argv[0], "greeter");
	ck_assert_str_eq(sc->sc_argv[1], "-c");
	ck_assert_str_eq(sc->sc_argv[2], "echo hi");
	ck_assert_ptr_null(sc->sc_argv[3]);
	ck_assert_int_eq(sc->sc_wait, 0);
	ck_assert_int_eq(sc->sc_instances, 10);
	ck_assert_int_eq(sc->sc_per_source, 2);
	ck_assert_int_eq(sc->sc_rate, 20);
	ck_assert_int_eq(sc->sc_per_source_rate, 30);
	ck_assert_str_eq(sc->sc_refuse_message, "go away");
	ck_assert_uint_eq(sc->sc_nallow, 2);
	ck_assert_int_eq(sc->sc_allow[0].ci_family, AF_INET);
	ck_assert_int_eq(sc->sc_allow[0].ci_prefix, 8);
	ck_assert_int_eq(sc->sc_allow[1].ci_family, AF_INET6);
	ck_assert_int_eq(sc->sc_allow[1].ci_prefix, 128);
	ck_assert_uint_eq(sc->sc_ndeny, 1);
	ck_assert_int_eq(sc->sc_deny[0].ci_addr[0], 10);
	ck_assert_int_eq(sc->sc_deny[0].ci_addr[1], 0);	/* host bits cleared */
	ck_assert_int_eq(sc->sc_timeout, 30);
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_CPU], 1);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_CPU], 5);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_MEMORY], 256ULL << 20);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_FILES], 64);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_PROCESSES], 100);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_FSIZE], 1048576);
	ck_assert_int_eq(sc->sc_nice_set, 1);
	ck_assert_int_eq(sc->sc_nice, -5);
	ck_assert_str_eq(sc->sc_env[0], "A=1");
	ck_assert_str_eq(sc->sc_env[1], "B=two words");
	ck_assert_str_eq(sc->sc_env[2], "C=");
	ck_assert_ptr_null(sc->sc_env[3]);
	ck_assert_str_eq(sc->sc_chdir, "/tmp");
	ck_assert_int_eq(sc->sc_stderr, STDERR_NULL);
	ck_assert_int_eq(sc->sc_tcpmux, 1);
	ck_assert_int_eq(sc->sc_proxy, 0);
	ck_assert_int_eq(svc(cf, "proxied", PROTO_TCP)->sc_proxy, 1);
	ck_assert_uint_eq(svc(cf, "proxied", PROTO_TCP)->sc_nproxy_from, 2);
	ck_assert_int_eq(svc(cf, "proxied", PROTO_TCP)->sc_proxy_from[1].ci_family,
	    AF_INET6);
	ck_assert_int_eq(svc(cf, "proxied", PROTO_TCP)->sc_per_source, 2);
	ck_assert_int_eq(sc->sc_keepalive, 1);
	ck_assert_int_eq(sc->sc_nodelay, 1);
	ck_assert_int_eq(sc->sc_log_connections, 0);
	ck_assert_int_eq(sc->sc_backlog, 16);
	ck_assert_int_eq(sc->sc_disabled, 0);
	assert_default_identity(sc);

	sc = svc(cf, "dgram", PROTO_UDP);
	ck_assert_int_eq(sc->sc_line, 38);
	ck_assert_int_eq(sc->sc_port, 0);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_DAYTIME);
	ck_assert_ptr_null(sc->sc_server);
	ck_assert_ptr_null(sc->sc_argv);
	ck_assert_int_eq(sc->sc_wait, 1);

	sc = svc(cf, "sock", PROTO_UNIX);
	ck_assert_str_eq(sc->sc_path, "/tmp/superd-test.sock");
	ck_assert_uint_eq(sc->sc_socket_mode, 0600);
	ck_assert_uint_eq(sc->sc_socket_uid, (uid_t)-1);
	ck_assert_uint_eq(sc->sc_socket_gid, (gid_t)-1);
	ck_assert_int_eq(sc->sc_port, -1);
	ck_assert_uint_eq(sc->sc_nbinds, 0);
	ck_assert_str_eq(sc->sc_argv[0], "cat");
	ck_assert_ptr_null(sc->sc_argv[1]);

	sc = svc(cf, "off", PROTO_TCP);
	ck_assert_int_eq(sc->sc_disabled, 1);
	ck_assert_int_eq(sc->sc_port, 4243);

	/* port by name, and the "*" default address */
	sc = svc(cf, "echo", PROTO_TCP);
	ck_assert_int_eq(sc->sc_port, 7);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_ECHO);
	ck_assert_uint_eq(sc->sc_nbinds, 1);
	ck_assert_int_eq(sc->sc_binds[0].ba_wildcard, 1);
	ck_assert_int_eq(sc->sc_binds[0].ba_addr.ss_family,
	    can_inet6() ? AF_INET6 : AF_INET);
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    can_inet6() ? "::" : "0.0.0.0");
	ck_assert_int_eq(bind_port(&sc->sc_binds[0]), 7);

	/* no port: the name in /etc/services for the protocol */
	sc = svc(cf, "daytime", PROTO_UDP);
	ck_assert_int_eq(sc->sc_port, 13);

	/* reached through tcpmux only: no port, no listener */
	sc = svc(cf, "only-mux", PROTO_TCP);
	ck_assert_int_eq(sc->sc_port, -1);
	ck_assert_uint_eq(sc->sc_nbinds, 0);

	/* a 64-bit integer and a size string */
	sc = svc(cf, "big-mem", PROTO_TCP);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_MEMORY], 5000000000ULL);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_FSIZE], 1ULL << 30);
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_CPU], 0);
	ck_assert_int_eq(sc->sc_nice_set, 0);
	config_free(cf);
}
END_TEST

START_TEST(test_good_defaults)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 buf[INET6_ADDRSTRLEN];

	cf = load_ok("data/good-defaults.conf");
	ck_assert_str_eq(cf->cf_pidfile, "/run/superd.pid");
	ck_assert_str_eq(cf->cf_ports, "/run/superd.ports");
	ck_assert_int_eq(cf->cf_facility, LOG_DAEMON);

	/* everything from the superd block */
	sc = svc(cf, "plain", PROTO_TCP);
	ck_assert_uint_eq(sc->sc_nbinds, 1);
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    "127.0.0.1");
	ck_assert_int_eq(sc->sc_instances, 7);
	ck_assert_str_eq(sc->sc_env[0], "FROM_DEFAULTS=yes");
	ck_assert_ptr_null(sc->sc_env[1]);
	ck_assert_str_eq(sc->sc_chdir, "/tmp");
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_CPU], 1);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_CPU], 9);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_FILES], 32);
	ck_assert_int_eq(sc->sc_stderr, STDERR_SOCKET);
	ck_assert_str_eq(sc->sc_server, "/bin/cat");
	ck_assert_str_eq(sc->sc_argv[0], "cat");
	ck_assert_str_eq(sc->sc_argv[1], "-u");
	ck_assert_ptr_null(sc->sc_argv[2]);

	/* own settings replace the defaults, never merge with them */
	sc = svc(cf, "own", PROTO_TCP);
	ck_assert_str_eq(sc->sc_env[0], "OWN=1");
	ck_assert_ptr_null(sc->sc_env[1]);
	ck_assert_int_eq(sc->sc_instances, 0);
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_CPU], 0);
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_FILES], 0);
	ck_assert_int_eq(sc->sc_limit_set[LIMIT_MEMORY], 1);
	ck_assert_uint_eq(sc->sc_limit[LIMIT_MEMORY], 1ULL << 20);
	ck_assert_str_eq(sc->sc_chdir, "/");

	/* a default wait = false holds for udp too, unless the service says */
	sc = svc(cf, "dg", PROTO_UDP);
	ck_assert_int_eq(sc->sc_wait, 1);
	ck_assert_int_eq(svc(cf, "plain", PROTO_TCP)->sc_wait, 0);

	/* a service naming its own program takes no default program */
	sc = svc(cf, "bi", PROTO_TCP);
	ck_assert_ptr_null(sc->sc_server);
	ck_assert_ptr_null(sc->sc_argv);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_ECHO);
	sc = svc(cf, "sh", PROTO_TCP);
	ck_assert_str_eq(sc->sc_argv[0], "sh");
	ck_assert_ptr_null(sc->sc_argv[1]);
	config_free(cf);
}
END_TEST

START_TEST(test_wait_default)
{
	struct conf	*cf;

	cf = load_ok("data/good-wait.conf");
	ck_assert_int_eq(svc(cf, "t", PROTO_TCP)->sc_wait, 0);
	ck_assert_int_eq(svc(cf, "u", PROTO_UDP)->sc_wait, 1);
	ck_assert_int_eq(svc(cf, "t2", PROTO_TCP)->sc_wait, 1);
	ck_assert_int_eq(svc(cf, "u2", PROTO_UDP)->sc_wait, 0);
	ck_assert_int_eq(svc(cf, "x", PROTO_UNIX)->sc_wait, 0);
	ck_assert_uint_eq(config_enabled(cf), 5);
	config_free(cf);
}
END_TEST

START_TEST(test_empty)
{
	struct conf	*cf;

	cf = load_ok("data/good-empty.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 0);
	ck_assert_uint_eq(config_enabled(cf), 0);
	ck_assert_str_eq(cf->cf_pidfile, "/run/superd.pid");
	ck_assert_str_eq(cf->cf_ports, "/run/superd.ports");
	ck_assert_int_eq(cf->cf_facility, LOG_DAEMON);
	ck_assert_str_eq(cf->cf_include, "");
	ck_assert_str_eq(cf->cf_inetd_conf, "");
	config_free(cf);
	cf = load_ok("data/good-nosvc.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 0);
	config_free(cf);
	cf = load_ok("data/good-onlysuperd.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 0);
	ck_assert_str_eq(cf->cf_pidfile, "");
	config_free(cf);
	config_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------------
 * Bad files: every problem, at its line.
 */

START_TEST(test_missing_file)
{
	static const char *const want[] = {
		"data/no-such.conf: No such file or directory", NULL };

	expect_errors("data/no-such.conf", want);
}
END_TEST

START_TEST(test_directory_as_file)
{
	static const char *const want[] = { "data/inc.d: Is a directory",
		NULL };

	expect_errors("data/inc.d", want);
}
END_TEST

START_TEST(test_syntax)
{
	static const char *const want[] = {
		"data/bad-syntax.conf:3: syntax error", NULL };

	expect_errors("data/bad-syntax.conf", want);
}
END_TEST

START_TEST(test_unknown)
{
	static const char *const want[] = {
		"data/bad-unknown.conf:3: unknown setting \"colour\"",
		"data/bad-unknown.conf:4: unknown setting \"name\" "
		    "(a name is per service)",
		"data/bad-unknown.conf:8: unknown setting \"colour\"",
		"data/bad-unknown.conf:10: unknown limit \"bogus\" (want cpu, "
		    "memory, files, processes or fsize)",
		"data/bad-unknown.conf:12: unknown setting \"servces\"",
		NULL };

	expect_errors("data/bad-unknown.conf", want);
}
END_TEST

START_TEST(test_types)
{
	static const char *const want[] = {
		"data/bad-types.conf:3: \"port\" must be an integer or a "
		    "string",
		"data/bad-types.conf:4: \"wait\" must be true or false",
		"data/bad-types.conf:5: \"instances\" must be an integer",
		"data/bad-types.conf:6: \"args\" must be an array of strings",
		"data/bad-types.conf:7: \"env\" must be an array of strings",
		"data/bad-types.conf:8: \"limits\" must be a group { ... }",
		"data/bad-types.conf:9: \"tcpmux\" must be true or false",
		"data/bad-types.conf:10: \"refuse_message\" must be a string",
		"data/bad-types.conf:11: \"socket_mode\" must be a string of "
		    "octal digits such as \"0600\"",
		"data/bad-types.conf:12: \"chdir\" must be a string",
		"data/bad-types.conf:14: \"name\" must be a string",
		"data/bad-types.conf:14: \"protocol\" must be a string",
		"data/bad-types.conf:14: \"address\" must be a string or an "
		    "array of strings",
		NULL };

	expect_errors("data/bad-types.conf", want);
}
END_TEST

START_TEST(test_values)
{
	static const char *const want[] = {
		"data/bad-values.conf:2: name \"bad name\": want 1 to 64 of "
		    "A-Z a-z 0-9 . _ -",
		"data/bad-values.conf:3: name \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\": want 1 to 64 of "
		    "A-Z a-z 0-9 . _ -",
		"data/bad-values.conf:4: protocol \"sctp\": want tcp, udp or "
		    "unix",
		"data/bad-values.conf:5: \"port\" = 70000: must be 0 to 65535",
		"data/bad-values.conf:6: \"port\" = -1: must be 0 to 65535",
		"data/bad-values.conf:7: port \"70000\": must be 0 to 65535",
		"data/bad-values.conf:8: port \"no-such-service-superd\": no "
		    "such tcp service in /etc/services",
		"data/bad-values.conf:9: service \"no-such-service-superd\" "
		    "has no port and \"no-such-service-superd\" is not a tcp "
		    "service in /etc/services",
		"data/bad-values.conf:10: builtin \"nosuch\": want echo, "
		    "discard, chargen, daytime, time or tcpmux",
		"data/bad-values.conf:11: stderr \"console\": want log, socket "
		    "or null",
		"data/bad-values.conf:12: env \"NO_EQUALS\": want NAME=VALUE",
		"data/bad-values.conf:12: env \"=x\": want NAME=VALUE",
		"data/bad-values.conf:13: limit memory \"lots\": want bytes, "
		    "or a size such as \"64K\", \"64M\" or \"1G\"",
		"data/bad-values.conf:13: limit cpu: want an integer of at "
		    "least 0",
		"data/bad-values.conf:14: allow \"10.0.0.0/33\": not an "
		    "address or address/prefix",
		"data/bad-values.conf:14: deny \"::1/129\": not an address or "
		    "address/prefix",
		"data/bad-values.conf:15: \"instances\" = -1: must be at "
		    "least 0",
		"data/bad-values.conf:15: \"nice\" = 20: must be -20 to 19",
		"data/bad-values.conf:15: \"backlog\" = 0: must be at least 1",
		"data/bad-values.conf:16: \"timeout\" = -5: must be at least 0",
		"data/bad-values.conf:16: chdir \"tmp\" is not an absolute "
		    "path",
		"data/bad-values.conf:17: unix service \"o\" has no path",
		"data/bad-values.conf:18: socket_mode \"0999\": want octal "
		    "digits such as \"0600\"",
		"data/bad-values.conf:19: \"port\" does not apply to unix "
		    "services",
		"data/bad-values.conf:19: path \"rel.sock\" is not an absolute "
		    "path",
		"data/bad-values.conf:20: \"path\" does not apply to tcp and "
		    "udp services",
		"data/bad-values.conf:21: integer 5000000000 does not fit in "
		    "32 bits (write a size such as \"4G\", or add L)",
		NULL };

	expect_errors("data/bad-values.conf", want);
}
END_TEST

START_TEST(test_program)
{
	static const char *const want[] = {
		"data/bad-program.conf:2: service \"a\" has neither server nor "
		    "builtin",
		"data/bad-program.conf:3: service \"b\" has both server and "
		    "builtin",
		"data/bad-program.conf:4: server \"bin/cat\" is not an "
		    "absolute path",
		"data/bad-program.conf:5: server \"/nonexistent/superd-prog\": "
		    "No such file or directory",
		"data/bad-program.conf:6: server \"/etc\" is not a regular "
		    "file",
		"data/bad-program.conf:7: server \"/etc/passwd\" is not "
		    "executable",
		"data/bad-program.conf:8: \"args\" does not apply to a builtin",
		"data/bad-program.conf:9: builtin tcpmux is a stream service, "
		    "not udp",
		"data/bad-program.conf:10: service has no name",
		NULL };

	expect_errors("data/bad-program.conf", want);
}
END_TEST

START_TEST(test_duplicate_name)
{
	static const char *const want[] = {
		"data/bad-dup.conf:5: duplicate service name \"same\" "
		    "(first at data/bad-dup.conf:2)",
		NULL };

	expect_errors("data/bad-dup.conf", want);
}
END_TEST

START_TEST(test_clash)
{
	static const char *const want[] = {
		"data/bad-clash.conf:3: service \"b\" (tcp 127.0.0.1 port "
		    "4000) clashes with service \"a\" (data/bad-clash.conf:2)",
		"data/bad-clash.conf:9: service \"h\" (tcp 127.0.0.1 port "
		    "4001) clashes with service \"g\" (data/bad-clash.conf:8)",
		"data/bad-clash.conf:13: service \"l\" (unix "
		    "/tmp/superd-k.sock) clashes with service \"k\" "
		    "(data/bad-clash.conf:12)",
		"data/bad-clash.conf:14: service \"m\": two of its addresses "
		    "overlap (tcp 0.0.0.0 port 4003)",
		NULL };

	expect_errors("data/bad-clash.conf", want);
}
END_TEST

/* "*" is dual-stack: it clashes with an IPv4 address on the same port. */
START_TEST(test_clash_wildcard)
{
	static const char text[] =
	    "services : (\n"
	    "  { name = \"any\"; port = 4100; server = \"/bin/cat\"; },\n"
	    "  { name = \"v4\"; address = \"127.0.0.1\"; port = 4100;\n"
	    "    server = \"/bin/cat\"; },\n"
	    "  { name = \"dyn\"; port = 0; server = \"/bin/cat\"; },\n"
	    "  { name = \"dyn2\"; port = 0; server = \"/bin/cat\"; },\n"
	    "  { name = \"u\"; protocol = \"udp\"; port = 4100;\n"
	    "    server = \"/bin/cat\"; }\n"
	    ");\n";
	static const char *const want[] = {
		"data/wild.conf:3: service \"v4\" (tcp 127.0.0.1 port 4100) "
		    "clashes with service \"any\" (data/wild.conf:2)",
		NULL };

	write_file("data/wild.conf", text, sizeof(text) - 1);
	expect_errors("data/wild.conf", want);
}
END_TEST

START_TEST(test_int_too_large)
{
	static const char text[] =
	    "services : (\n"
	    "  { name = \"a\"; port = 4294967297; server = \"/bin/cat\";\n"
	    "    limits = { fsize = 0x100000000; cpu = 2147483647;\n"
	    "    files = -2147483648; memory = 1.5e10; }; }\n"
	    ");\n";
	static const char *const want[] = {
		"data/int.conf:2: integer 4294967297 does not fit in 32 bits "
		    "(write a size such as \"4G\", or add L)",
		"data/int.conf:3: integer 0x100000000 does not fit in 32 bits "
		    "(write a size such as \"4G\", or add L)",
		"data/int.conf:4: limit files: want an integer of at least 0",
		"data/int.conf:4: limit memory: want an integer of at least 0 "
		    "or a size such as \"64M\"",
		NULL };

	write_file("data/int.conf", text, sizeof(text) - 1);
	expect_errors("data/int.conf", want);
}
END_TEST

/* A default from the superd block is checked once, not per service. */
START_TEST(test_defaults_reported_once)
{
	static const char *const want[] = {
		"data/bad-defaults.conf:2: \"instances\" = -3: must be at "
		    "least 0",
		"data/bad-defaults.conf:3: unknown user "
		    "\"no-such-user-superd\"",
		"data/bad-defaults.conf:4: facility \"no-such-facility\": not "
		    "a syslog facility (daemon, auth, local0 ... local7, ...)",
		"data/bad-defaults.conf:5: \"pidfile\" must be a string",
		NULL };

	expect_errors("data/bad-defaults.conf", want);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "services : ( );\n\0# after\n";
	static const char *const want[] = {
		"data/nul.conf: contains a NUL byte", NULL };

	write_file("data/nul.conf", text, sizeof(text) - 1);
	expect_errors("data/nul.conf", want);
}
END_TEST

START_TEST(test_too_large)
{
	static const char *const want[] = {
		"data/large.conf: larger than 4 MiB", NULL };
	size_t	 len = 4 * 1024 * 1024 + 1;
	char	*text;

	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	memset(text, '\n', len);
	text[0] = '#';
	write_file("data/large.conf", text, len);
	free(text);
	expect_errors("data/large.conf", want);

	/* exactly 4 MiB is fine */
	ck_assert_int_eq(truncate("data/large.conf", len - 1), 0);
	config_free(load_ok("data/large.conf"));
}
END_TEST

/* ---------------------------------------------------------------------
 * The include directory and @include.
 */

START_TEST(test_include_dir)
{
	struct conf	*cf;

	cf = load_ok("data/good-include.conf");
	ck_assert_str_eq(cf->cf_include, "data/inc.d");
	/* main file first, then *.conf in name order; others skipped */
	ck_assert_uint_eq(cf->cf_nsvcs, 4);
	ck_assert_str_eq(cf->cf_svcs[0]->sc_name, "main");
	ck_assert_str_eq(cf->cf_svcs[1]->sc_name, "inc-a");
	ck_assert_str_eq(cf->cf_svcs[1]->sc_file, "data/inc.d/10-first.conf");
	ck_assert_int_eq(cf->cf_svcs[1]->sc_line, 3);
	ck_assert_str_eq(cf->cf_svcs[2]->sc_name, "main");
	ck_assert_int_eq(cf->cf_svcs[2]->sc_proto, PROTO_UDP);
	ck_assert_str_eq(cf->cf_svcs[3]->sc_name, "inc-b");
	ck_assert_str_eq(cf->cf_svcs[3]->sc_file,
	    "data/inc.d/20-second.conf");
	/* the superd block's defaults hold in included files too */
	ck_assert_int_eq(cf->cf_svcs[3]->sc_instances, 5);
	config_free(cf);
}
END_TEST

START_TEST(test_include_errors)
{
	static const char *const want[] = {
		"data/inc-bad.d/10-superd.conf:1: unknown setting \"superd\" "
		    "(an included file holds only a services list)",
		"data/inc-bad.d/10-superd.conf:4: unknown setting \"colour\"",
		"data/inc-bad.d/20-dup.conf:2: duplicate service name "
		    "\"twice\" (first at data/bad-include.conf:6)",
		"data/inc-bad.d/30-syntax.conf:2: syntax error",
		"data/inc-bad.d/40-dup.conf:2: duplicate service name \"x\" "
		    "(first at data/inc-bad.d/10-superd.conf:3)",
		NULL };

	expect_errors("data/bad-include.conf", want);
}
END_TEST

START_TEST(test_include_missing)
{
	static const char *const want[] = {
		"data/bad-include-missing.conf:2: include "
		    "\"data/no-such-dir.d\": No such file or directory",
		NULL };

	expect_errors("data/bad-include-missing.conf", want);
}
END_TEST

START_TEST(test_atinclude)
{
	struct conf	*cf;

	cf = load_ok("data/good-atinclude.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 1);
	ck_assert_int_eq(cf->cf_svcs[0]->sc_instances, 3);
	ck_assert_int_eq(cf->cf_svcs[0]->sc_line, 4);
	config_free(cf);
}
END_TEST

/* libconfig 1.5 exits on an @include of a directory: never let it see one. */
START_TEST(test_atinclude_directory)
{
	static const char *const want[] = {
		"data/bad-atinclude-dir.conf:4: @include \"inc.d\": not a "
		    "regular file",
		"data/bad-atinclude-dir.conf:5: @include \"no-such-file.inc\": "
		    "No such file or directory",
		NULL };

	expect_errors("data/bad-atinclude-dir.conf", want);
}
END_TEST

START_TEST(test_atinclude_self)
{
	static const char *const want[] = {
		"data/bad-atinclude-self.conf:2: @include "
		    "\"bad-atinclude-self.conf\": nested more than 10 deep",
		NULL };

	expect_errors("data/bad-atinclude-self.conf", want);
}
END_TEST

/* A file that includes itself twice is refused at once, not read 2^10 times. */
START_TEST(test_atinclude_fanout)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*cf;
	size_t			 i;
	int			 bounded = 0;

	cf = config_load("data/bad-atinclude-fanout.conf", &errs);
	ck_assert_ptr_null(cf);
	for (i = 0; i < errs.ce_count; i++)
		bounded |= strstr(errs.ce_msg[i], "more than 100 @include files")
		    != NULL;
	ck_assert_msg(bounded, "no error about the @include bound");
	ck_assert_uint_lt(errs.ce_count, 200);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_atinclude_errors_name_the_part)
{
	static const char *const want[] = {
		"data/bad-part.inc:2: \"instances\" must be an integer",
		"data/bad-part.inc:3: unknown setting \"colour\"",
		NULL };

	expect_errors("data/bad-atinclude-err.conf", want);
}
END_TEST

/*
 * libconfig 1.5 reads an @include below the including file's directory
 * even when the name is absolute: not the file named, and it exited when
 * that was a directory.  An absolute name is an error at its line.
 */
START_TEST(test_atinclude_absolute)
{
	char	 text[PATH_MAX + 64], twin[PATH_MAX + 32], *p;

	snprintf(twin, sizeof(twin), "data/%s/data/part.inc", datadir);
	for (p = twin + strlen("data/"); (p = strchr(p + 1, '/')) != NULL; ) {
		*p = '\0';
		ck_assert_int_eq(mkdir(twin, 0755) == 0 || errno == EEXIST, 1);
		*p = '/';
	}
	ck_assert_int_eq(mkdir(twin, 0755), 0);
	snprintf(text, sizeof(text), "@include \"%s/data/part.inc\"\n",
	    datadir);
	write_file("data/abs.conf", text, strlen(text));
	expect_error("data/abs.conf", "data/abs.conf:1: @include "
	    "\"%s/data/part.inc\": must be a path relative to data", datadir);
}
END_TEST

/* data/NAME, made a directory of this mode and owner. */
static void
make_dir(const char *name, mode_t mode, uid_t uid)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "data/%s", name);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chown(path, uid, (gid_t)-1), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* A service whose instances come from app/x.inc. */
static const char inc_app[] =
    "services : (\n"
    "  { name = \"a\"; port = 0; server = \"/bin/cat\";\n"
    "    @include \"app/x.inc\"\n"
    "  }\n"
    ");\n";
#define AT_APP	"data/inc-app.conf:3: @include \"app/x.inc\": "

/*
 * As root, libconfig reads an @included file again by path after the
 * pre-scan checked it: every directory on the way must be root's alone,
 * or someone else could put another file there in between.
 */
START_TEST(test_atinclude_directories)
{
	struct conf	*cf;
	struct passwd	*nobody;

	make_dir("app", 0755, geteuid());
	write_file("data/app/x.inc", "instances = 3;\n", 15);
	write_file("data/inc-app.conf", inc_app, sizeof(inc_app) - 1);
	if (geteuid() != 0) {
		/* only root cares: a user's own directory is the user's */
		ck_assert_int_eq(chmod("data/app", 0777), 0);
		config_free(load_ok("data/inc-app.conf"));
		return;
	}
	nobody = getpwnam("nobody");
	ck_assert_ptr_nonnull(nobody);
	cf = load_ok("data/inc-app.conf");
	ck_assert_int_eq(cf->cf_svcs[0]->sc_instances, 3);
	config_free(cf);

	ck_assert_int_eq(chmod("data/app", 0777), 0);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/app: "
	    "mode 0777 is writable by group or others", datadir);
	ck_assert_int_eq(chmod("data/app", 0775), 0);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/app: "
	    "mode 0775 is writable by group or others", datadir);
	/* sticky is not enough for the directory holding the file */
	ck_assert_int_eq(chmod("data/app", 01777), 0);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/app: "
	    "mode 1777 is writable by group or others", datadir);
	ck_assert_int_eq(chmod("data/app", 0755), 0);
	ck_assert_int_eq(chown("data/app", nobody->pw_uid, 0), 0);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/app: "
	    "owned by uid %u, not by root", datadir,
	    (unsigned)nobody->pw_uid);
}
END_TEST

/*
 * As root, a symbolic link on the way to an @included file is followed
 * only when root's, and its target is held to the same rules; a sticky
 * directory of root's (like /tmp) may be on the way to a root's name.
 */
START_TEST(test_atinclude_links)
{
	struct conf	*cf;
	struct passwd	*nobody;

	if (geteuid() != 0)
		return;		/* only root follows no one else's links */
	nobody = getpwnam("nobody");
	ck_assert_ptr_nonnull(nobody);
	make_dir("app", 0755, 0);
	make_dir("open", 0777, 0);
	write_file("data/open/x.inc", "instances = 3;\n", 15);
	ck_assert_int_eq(symlink("../open/x.inc", "data/app/x.inc"), 0);
	write_file("data/inc-app.conf", inc_app, sizeof(inc_app) - 1);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/open: "
	    "mode 0777 is writable by group or others", datadir);
	ck_assert_int_eq(chmod("data/open", 0755), 0);
	cf = load_ok("data/inc-app.conf");
	ck_assert_int_eq(cf->cf_svcs[0]->sc_instances, 3);
	config_free(cf);
	ck_assert_int_eq(lchown("data/app/x.inc", nobody->pw_uid, 0), 0);
	expect_error("data/inc-app.conf", AT_APP "%s/data/app/x.inc: a "
	    "symbolic link owned by uid %u, not by root", datadir,
	    (unsigned)nobody->pw_uid);

	/* a sticky directory on the way: the name taken must be root's */
	ck_assert_int_eq(unlink("data/app/x.inc"), 0);
	ck_assert_int_eq(rmdir("data/app"), 0);
	make_dir("sticky", 01777, 0);
	make_dir("sticky/d", 0755, 0);
	write_file("data/sticky/d/x.inc", "instances = 3;\n", 15);
	ck_assert_int_eq(symlink("sticky/d", "data/app"), 0);
	config_free(load_ok("data/inc-app.conf"));
	ck_assert_int_eq(chown("data/sticky/d", nobody->pw_uid, 0), 0);
	expect_error("data/inc-app.conf", AT_APP "directory %s/data/sticky/d: "
	    "owned by uid %u, not by root", datadir, (unsigned)nobody->pw_uid);
}
END_TEST

/* As root, the main file's own directories are held to the same rule. */
START_TEST(test_main_file_directories)
{
	if (geteuid() != 0)
		return;		/* only root cares */
	make_dir("open", 0777, 0);
	write_file("data/open/main.conf", "", 0);
	expect_error("data/open/main.conf", "data/open/main.conf: directory "
	    "%s/data/open: mode 0777 is writable by group or others", datadir);
	ck_assert_int_eq(chmod("data/open", 0755), 0);
	config_free(load_ok("data/open/main.conf"));
}
END_TEST

/* ---------------------------------------------------------------------
 * Identity and ownership: what holds depends on running as root.
 */

START_TEST(test_identity)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	struct passwd	*pw;
	char		 text[1024], me[256];
	int		 n;

	pw = getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	snprintf(me, sizeof(me), "%s", pw->pw_name);
	n = snprintf(text, sizeof(text),
	    "services : (\n"
	    "  { name = \"me\"; port = 0; server = \"/bin/cat\";\n"
	    "    user = \"%s\"; }\n"
	    ");\n", me);
	write_file("data/me.conf", text, n);
	cf = load_ok("data/me.conf");
	sc = svc(cf, "me", PROTO_TCP);
	ck_assert_str_eq(sc->sc_user, me);
	ck_assert_uint_eq(sc->sc_uid, geteuid());
	ck_assert_int_eq(sc->sc_setid, geteuid() == 0);
	if (geteuid() == 0)
		ck_assert_uint_eq(sc->sc_gid, pw->pw_gid);
	else
		ck_assert_uint_eq(sc->sc_gid, getegid());
	config_free(cf);
}
END_TEST

static int
in_group_root(void)
{
	gid_t	 groups[NGROUPS_MAX];
	int	 i, n;

	if (getegid() == 0 || getgid() == 0)
		return 1;
	n = getgroups(NGROUPS_MAX, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == 0)
			return 1;
	return 0;
}

/* As root: any user and group.  Otherwise: only the invoking user. */
START_TEST(test_identity_other_user)
{
	static const char text[] =
	    "services : (\n"
	    "  { name = \"other\"; port = 0; server = \"/bin/cat\";\n"
	    "    user = \"nobody\";\n"
	    "    group = \"root\"; }\n"
	    ");\n";
	struct conf	*cf;
	struct svc_conf	*sc;
	struct passwd	*nobody, *me;
	struct group	*gr;
	const char	*want[3] = { NULL, NULL, NULL };
	char		 e1[512], e2[512];

	nobody = getpwnam("nobody");
	gr = getgrgid(0);
	me = getpwuid(geteuid());
	if (nobody == NULL || me == NULL || gr == NULL ||
	    strcmp(gr->gr_name, "root") != 0 || geteuid() == nobody->pw_uid)
		return;		/* not a system this test knows */
	write_file("data/other.conf", text, sizeof(text) - 1);
	if (geteuid() == 0) {
		cf = load_ok("data/other.conf");
		sc = svc(cf, "other", PROTO_TCP);
		ck_assert_str_eq(sc->sc_user, "nobody");
		ck_assert_uint_eq(sc->sc_uid, nobody->pw_uid);
		ck_assert_uint_eq(sc->sc_gid, 0);
		ck_assert_int_eq(sc->sc_setid, 1);
		config_free(cf);
		return;
	}
	snprintf(e1, sizeof(e1), "data/other.conf:3: user \"nobody\": superd "
	    "is not root and runs services only as \"%s\"", me->pw_name);
	snprintf(e2, sizeof(e2), "data/other.conf:4: group \"root\": superd "
	    "is not root and \"%s\" is not in it", me->pw_name);
	want[0] = e1;
	want[1] = in_group_root() ? NULL : e2;
	expect_errors("data/other.conf", want);
}
END_TEST

START_TEST(test_identity_unknown)
{
	static const char text[] =
	    "services : (\n"
	    "  { name = \"a\"; port = 0; server = \"/bin/cat\";\n"
	    "    user = \"no-such-user-superd\";\n"
	    "    group = \"no-such-group-superd\"; },\n"
	    "  { name = \"b\"; protocol = \"unix\"; path = \"/tmp/b.sock\";\n"
	    "    server = \"/bin/cat\";\n"
	    "    socket_owner = \"no-such-user-superd\";\n"
	    "    socket_group = \"no-such-group-superd\"; }\n"
	    ");\n";
	static const char *const want[] = {
		"data/unknown.conf:3: unknown user \"no-such-user-superd\"",
		"data/unknown.conf:4: unknown group \"no-such-group-superd\"",
		"data/unknown.conf:7: unknown user \"no-such-user-superd\"",
		"data/unknown.conf:8: unknown group \"no-such-group-superd\"",
		NULL };

	write_file("data/unknown.conf", text, sizeof(text) - 1);
	expect_errors("data/unknown.conf", want);
}
END_TEST

START_TEST(test_root_file_modes)
{
	static const char *const want_mode[] = {
		"data/good-nosvc.conf: mode 0666 is writable by group or "
		    "others", NULL };
	static const char *const want_owner[] = {
		"data/good-nosvc.conf: owned by uid 1, not by root", NULL };
	static const char *const want_inc[] = {
		"data/inc.d/20-second.conf: mode 0664 is writable by group "
		    "or others", NULL };
	static const char *const want_part[] = {
		"data/part.inc: mode 0646 is writable by group or others",
		NULL };

	if (geteuid() != 0) {
		/* only root cares: a user's own file is the user's business */
		ck_assert_int_eq(chmod("data/good-nosvc.conf", 0666), 0);
		config_free(load_ok("data/good-nosvc.conf"));
		return;
	}
	ck_assert_int_eq(chmod("data/good-nosvc.conf", 0666), 0);
	expect_errors("data/good-nosvc.conf", want_mode);
	ck_assert_int_eq(chmod("data/good-nosvc.conf", 0644), 0);
	ck_assert_int_eq(chown("data/good-nosvc.conf", 1, 0), 0);
	expect_errors("data/good-nosvc.conf", want_owner);
	ck_assert_int_eq(chmod("data/inc.d/20-second.conf", 0664), 0);
	expect_errors("data/good-include.conf", want_inc);
	ck_assert_int_eq(chmod("data/part.inc", 0646), 0);
	expect_errors("data/good-atinclude.conf", want_part);
}
END_TEST

/* ---------------------------------------------------------------------
 * config_parse_cidr, config_parse_size.
 */

static void
cidr_is(const char *s, int family, const char *addr, int prefix)
{
	struct cidr	 ci;
	uint8_t		 want[16];

	ck_assert_msg(config_parse_cidr(s, &ci) == 0, "%s rejected", s);
	ck_assert_int_eq(ci.ci_family, family);
	ck_assert_int_eq(ci.ci_prefix, prefix);
	memset(want, 0, sizeof(want));
	ck_assert_int_eq(inet_pton(family, addr, want), 1);
	ck_assert_msg(memcmp(ci.ci_addr, want, family == AF_INET ? 4 : 16) ==
	    0, "%s: wrong address", s);
}

START_TEST(test_cidr)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8x", "10.0.0/8", "10.0.0.0/ 8",
		"host.example", "*", "1.2.3.4/0008", "::1/1280", "10.0.0.0//8",
		"::ffff:1.2.3.4/129", NULL };
	struct cidr	 ci;
	size_t		 i;

	cidr_is("10.0.0.0/8", AF_INET, "10.0.0.0", 8);
	cidr_is("10.1.2.3/8", AF_INET, "10.0.0.0", 8);
	cidr_is("192.168.1.255/23", AF_INET, "192.168.0.0", 23);
	cidr_is("1.2.3.4", AF_INET, "1.2.3.4", 32);
	cidr_is("1.2.3.4/32", AF_INET, "1.2.3.4", 32);
	cidr_is("1.2.3.4/0", AF_INET, "0.0.0.0", 0);
	cidr_is("::1", AF_INET6, "::1", 128);
	cidr_is("::1/128", AF_INET6, "::1", 128);
	cidr_is("::/0", AF_INET6, "::", 0);
	cidr_is("2001:db8::ff/32", AF_INET6, "2001:db8::", 32);
	cidr_is("2001:db8:abcd::/33", AF_INET6, "2001:db8:8000::", 33);
	/* v4-mapped: kept as the IPv4 address or block it means */
	cidr_is("::ffff:1.2.3.4", AF_INET, "1.2.3.4", 32);
	cidr_is("::ffff:1.2.3.4/128", AF_INET, "1.2.3.4", 32);
	cidr_is("::ffff:10.1.0.0/104", AF_INET, "10.0.0.0", 8);
	cidr_is("::ffff:0.0.0.0/96", AF_INET, "0.0.0.0", 0);
	cidr_is("::ffff:0:0/80", AF_INET6, "::", 80);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(config_parse_cidr(bad[i], &ci) == -1,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_size)
{
	static const char *const bad[] = {
		"", "K", "-1", "+1", "1.5M", "1KB", "1 K", "64T", "0x10",
		"99999999999999999999", "17179869184G", " 1", NULL };
	rlim_t	 v;
	size_t	 i;

	ck_assert_int_eq(config_parse_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(config_parse_size("1048576", &v), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(config_parse_size("64K", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 10);
	ck_assert_int_eq(config_parse_size("64k", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 10);
	ck_assert_int_eq(config_parse_size("64M", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(config_parse_size("1G", &v), 0);
	ck_assert_uint_eq(v, 1ULL << 30);
	ck_assert_int_eq(config_parse_size("4096G", &v), 0);
	ck_assert_uint_eq(v, 4096ULL << 30);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(config_parse_size(bad[i], &v) == -1,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_errors_clear)
{
	struct conf_errors	 e = { NULL, 0 };

	config_errors_clear(&e);
	ck_assert_ptr_null(config_load("data/bad-unknown.conf", &e));
	ck_assert_uint_eq(e.ce_count, 5);
	/* a second load appends */
	ck_assert_ptr_null(config_load("data/bad-syntax.conf", &e));
	ck_assert_uint_eq(e.ce_count, 6);
	ck_assert_str_eq(e.ce_msg[5], "data/bad-syntax.conf:3: syntax error");
	config_errors_clear(&e);
	ck_assert_uint_eq(e.ce_count, 0);
	ck_assert_ptr_null(e.ce_msg);
}
END_TEST

/* ---------------------------------------------------------------------
 * inetd.conf: the line parser, and its entries as services.
 */

START_TEST(test_inetd_parse_line)
{
	struct inetd_ent	 ie;
	char			 line[256], err[256];

	snprintf(line, sizeof(line), "   # comment\n");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_NONE);
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), " \t\r\n");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_NONE);
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), "#<off># echo stream tcp nowait root "
	    "internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_NONE);
	inetd_ent_clear(&ie);

	snprintf(line, sizeof(line), "[::1]:finger\tstream\ttcp6\tnowait.20\t"
	    "alice:staff\t/usr/sbin/in.fingerd\tin.fingerd -w\r\n");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_ENTRY);
	ck_assert_str_eq(ie.ie_addr, "::1");
	ck_assert_str_eq(ie.ie_name, "finger");
	ck_assert_int_eq(ie.ie_proto, PROTO_TCP);
	ck_assert_int_eq(ie.ie_family, AF_INET6);
	ck_assert_int_eq(ie.ie_wait, 0);
	ck_assert_int_eq(ie.ie_max, 20);
	ck_assert_str_eq(ie.ie_user, "alice");
	ck_assert_str_eq(ie.ie_group, "staff");
	ck_assert_str_eq(ie.ie_program, "/usr/sbin/in.fingerd");
	ck_assert_int_eq(ie.ie_argc, 2);
	ck_assert_str_eq(ie.ie_argv[0], "in.fingerd");
	ck_assert_str_eq(ie.ie_argv[1], "-w");
	ck_assert_ptr_null(ie.ie_argv[2]);
	inetd_ent_clear(&ie);

	snprintf(line, sizeof(line), "time dgram udp4 wait bob.wheel internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_ENTRY);
	ck_assert_ptr_null(ie.ie_addr);
	ck_assert_int_eq(ie.ie_proto, PROTO_UDP);
	ck_assert_int_eq(ie.ie_family, AF_INET);
	ck_assert_int_eq(ie.ie_wait, 1);
	ck_assert_int_eq(ie.ie_max, 0);
	ck_assert_str_eq(ie.ie_user, "bob");
	ck_assert_str_eq(ie.ie_group, "wheel");
	ck_assert_ptr_null(ie.ie_program);
	ck_assert_int_eq(ie.ie_argc, 0);
	inetd_ent_clear(&ie);

	snprintf(line, sizeof(line), "tcpmux/+lister stream tcp nowait root "
	    "/bin/ls");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_ENTRY);
	ck_assert_str_eq(ie.ie_name, "lister");
	ck_assert_int_eq(ie.ie_tcpmux, 1);
	ck_assert_ptr_null(ie.ie_group);
	ck_assert_int_eq(ie.ie_argc, 0);
	inetd_ent_clear(&ie);

	snprintf(line, sizeof(line), "127.0.0.1:\n");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_ADDR);
	ck_assert_str_eq(ie.ie_addr, "127.0.0.1");
	inetd_ent_clear(&ie);

	snprintf(line, sizeof(line), "echo stream tcp nowait root");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "5 fields, want at least 6: service socket-type "
	    "protocol wait/nowait user program ...");
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), "echo stream tcp nowait.x root internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"nowait.x\": the maximum must be a positive "
	    "number");
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), "echo stream tcp nowait :wheel internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty user or group");
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), "echo stream rpc/tcp nowait root internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_SKIP);
	ck_assert_str_eq(err, "Sun RPC (protocol rpc/tcp) is not served");
	inetd_ent_clear(&ie);
	/* Not served, but still held to the form of a line. */
	snprintf(line, sizeof(line), "rstatd/1-5 dgram rpc/udp often root "
	    "/usr/sbin/rpc.rstatd");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"often\": want wait or nowait");
	inetd_ent_clear(&ie);
	snprintf(line, sizeof(line), "x seqpacket tcp nowait root internal");
	ck_assert_int_eq(inetd_parse_line(line, &ie, err, sizeof(err)),
	    INETD_SKIP);
	ck_assert_str_eq(err, "socket type \"seqpacket\" is not served (only "
	    "stream and dgram)");
	inetd_ent_clear(&ie);
}
END_TEST

/* The invoking user and its primary group: valid as root or not. */
static void
me_and_group(char *user, size_t ulen, char *group, size_t glen)
{
	struct passwd	*pw;
	struct group	*gr;

	pw = getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	snprintf(user, ulen, "%s", pw->pw_name);
	gr = getgrgid(geteuid() == 0 ? pw->pw_gid : getegid());
	ck_assert_ptr_nonnull(gr);
	snprintf(group, glen, "%s", gr->gr_name);
}

/* The inetd.conf of a test: @U@ is the invoking user, @G@ its group. */
static void
write_inetd(const char *tmpl)
{
	char		 user[256], group[256], text[4096];
	const char	*p;
	size_t		 n = 0, len;

	me_and_group(user, sizeof(user), group, sizeof(group));
	for (p = tmpl; *p != '\0'; ) {
		if (strncmp(p, "@U@", 3) == 0 || strncmp(p, "@G@", 3) == 0) {
			len = strlen(p[1] == 'U' ? user : group);
			ck_assert_uint_lt(n + len, sizeof(text));
			memcpy(text + n, p[1] == 'U' ? user : group, len);
			n += len;
			p += 3;
		} else {
			ck_assert_uint_lt(n + 1, sizeof(text));
			text[n++] = *p++;
		}
	}
	write_file("data/inetd.conf", text, n);
}

static const char inetd_good[] =
    "# a classic inetd.conf\n"
    "\n"
    "   # indented comment\n"
    "#<off># discard\tstream\ttcp\tnowait\troot\tinternal\n"
    "daytime\tstream\ttcp\tnowait\t@U@\tinternal\n"
    "daytime\tdgram\tudp\twait\t@U@\tinternal\n"
    "finger\tstream\ttcp6\tnowait.20\t@U@\t/bin/echo\techo\t-n\tfinger\n"
    "127.0.0.1:echo\tstream\ttcp4\tnowait\t@U@:@G@\t/bin/cat\n"
    "time\tdgram\tudp\twait\t@U@.@G@\tinternal\n"
    "tcpmux/+lister\tstream\ttcp\tnowait\t@U@\t/bin/ls\tls\t-l\n"
    "127.0.0.3:\n"
    "chargen stream tcp nowait @U@ internal\n"
    "*:\n"
    "discard stream tcp nowait @U@ internal\n";

START_TEST(test_inetd)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 buf[INET6_ADDRSTRLEN];

	write_inetd(inetd_good);
	cf = load_ok("data/good-inetd.conf");
	ck_assert_str_eq(cf->cf_inetd_conf, "data/inetd.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 8);
	ck_assert_uint_eq(config_enabled(cf), 8);
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 0);

	/* superd.conf wins over the inetd.conf line of the same name */
	sc = svc(cf, "daytime", PROTO_TCP);
	ck_assert_str_eq(sc->sc_file, "data/good-inetd.conf");
	ck_assert_str_eq(sc->sc_server, "/bin/cat");

	sc = svc(cf, "daytime", PROTO_UDP);
	ck_assert_str_eq(sc->sc_file, "data/inetd.conf");
	ck_assert_int_eq(sc->sc_line, 6);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_DAYTIME);
	ck_assert_int_eq(sc->sc_wait, 1);
	ck_assert_int_eq(sc->sc_port, 13);
	ck_assert_int_eq(sc->sc_stderr, STDERR_SOCKET);
	ck_assert_int_eq(sc->sc_instances, 9);	/* the superd block's */
	ck_assert_uint_eq(sc->sc_nbinds, 1);
	ck_assert_int_eq(sc->sc_binds[0].ba_wildcard, 1);
	ck_assert_uint_eq(sc->sc_uid, geteuid());

	sc = svc(cf, "finger", PROTO_TCP);
	ck_assert_int_eq(sc->sc_line, 7);
	ck_assert_int_eq(sc->sc_port, 79);
	ck_assert_int_eq(sc->sc_wait, 0);
	ck_assert_int_eq(sc->sc_instances, 20);
	ck_assert_str_eq(sc->sc_server, "/bin/echo");
	ck_assert_str_eq(sc->sc_argv[0], "echo");
	ck_assert_str_eq(sc->sc_argv[1], "-n");
	ck_assert_str_eq(sc->sc_argv[2], "finger");
	ck_assert_ptr_null(sc->sc_argv[3]);
	ck_assert_uint_eq(sc->sc_nbinds, 1);
	if (can_inet6()) {
		ck_assert_int_eq(sc->sc_binds[0].ba_addr.ss_family, AF_INET6);
		ck_assert_int_eq(sc->sc_binds[0].ba_wildcard, 0);
		ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
		    "::");
	}

	sc = svc(cf, "echo", PROTO_TCP);
	ck_assert_int_eq(sc->sc_port, 7);
	ck_assert_str_eq(sc->sc_argv[0], "cat");	/* no argv0 on the line */
	ck_assert_ptr_null(sc->sc_argv[1]);
	ck_assert_uint_eq(sc->sc_nbinds, 1);
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    "127.0.0.1");
	ck_assert_int_eq(bind_port(&sc->sc_binds[0]), 7);

	sc = svc(cf, "time", PROTO_UDP);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_TIME);
	ck_assert_int_eq(sc->sc_port, 37);

	sc = svc(cf, "lister", PROTO_TCP);
	ck_assert_int_eq(sc->sc_tcpmux, 1);
	ck_assert_int_eq(sc->sc_port, -1);
	ck_assert_uint_eq(sc->sc_nbinds, 0);
	ck_assert_str_eq(sc->sc_argv[0], "ls");
	ck_assert_str_eq(sc->sc_argv[1], "-l");

	/* "host:" sets the address of the lines after it; "*:" resets it */
	sc = svc(cf, "chargen", PROTO_TCP);
	ck_assert_int_eq(sc->sc_port, 19);
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    "127.0.0.3");
	sc = svc(cf, "discard", PROTO_TCP);
	ck_assert_int_eq(sc->sc_binds[0].ba_wildcard, 1);
	config_free(cf);
}
END_TEST

/* Settings a line does not carry come from the superd block. */
START_TEST(test_inetd_defaults)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 buf[INET6_ADDRSTRLEN];

	write_inetd("daytime stream tcp nowait @U@ internal\n"
	    "time stream tcp6 nowait @U@ internal\n");
	cf = load_ok("data/good-inetd-stderr.conf");
	sc = svc(cf, "daytime", PROTO_TCP);
	ck_assert_int_eq(sc->sc_stderr, STDERR_NULL);
	ck_assert_int_eq(sc->sc_instances, 128);
	ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
	    "127.0.0.2");
	/* tcp6 without an address: every IPv6 address, not the default */
	sc = svc(cf, "time", PROTO_TCP);
	if (can_inet6())
		ck_assert_str_eq(bind_addr(&sc->sc_binds[0], buf, sizeof(buf)),
		    "::");
	config_free(cf);
}
END_TEST

START_TEST(test_inetd_missing)
{
	struct conf	*cf;

	cf = load_ok("data/good-inetd-missing.conf");
	ck_assert_uint_eq(cf->cf_nsvcs, 1);
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 1);
	ck_assert_str_eq(cf->cf_warnings.ce_msg[0], "data/no-such-inetd.conf: "
	    "No such file or directory (inetd_conf skipped)");
	config_free(cf);
}
END_TEST

/*
 * A disabled example in superd.conf steps aside for the line a package
 * registered; a line whose program is gone is skipped with a warning.
 */
START_TEST(test_inetd_disabled_and_gone)
{
	struct conf	*cf;
	struct svc_conf	*sc;

	write_inetd("finger stream tcp nowait @U@ /bin/echo in.fingerd\n"
	    "echo stream tcp nowait @U@ /bin/cat cat\n"
	    "gone stream tcp nowait @U@ /no/such/in.goned in.goned\n");
	cf = load_ok("data/good-inetd-disabled.conf");
	ck_assert_uint_eq(config_enabled(cf), 2);
	ck_assert_uint_eq(cf->cf_nsvcs, 3);
	sc = cf->cf_svcs[2];		/* the inetd.conf line, after the file's */
	ck_assert_str_eq(sc->sc_name, "finger");
	ck_assert_int_eq(sc->sc_disabled, 0);
	ck_assert_str_eq(sc->sc_file, "data/inetd.conf");
	ck_assert_str_eq(sc->sc_server, "/bin/echo");
	sc = svc(cf, "echo", PROTO_TCP);
	ck_assert_int_eq(sc->sc_builtin, BUILTIN_ECHO);	/* enabled: it wins */
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 1);
	ck_assert_str_eq(cf->cf_warnings.ce_msg[0], "data/inetd.conf:3: "
	    "/no/such/in.goned: No such file or directory, entry \"gone\" "
	    "skipped");
	config_free(cf);
}
END_TEST

START_TEST(test_inetd_errors)
{
	static const char *const want[] = {
		"data/inetd.conf:1: 2 fields, want at least 6: service "
		    "socket-type protocol wait/nowait user program ...",
		"data/inetd.conf:3: socket type stream does not go with "
		    "protocol udp",
		"data/inetd.conf:4: \"sometimes\": want wait or nowait",
		"data/inetd.conf:5: \"nowait.0\": the maximum must be a "
		    "positive number",
		"data/inetd.conf:6: no internal service \"nosuch-internal\" "
		    "(want echo, discard, chargen, daytime, time or tcpmux)",
		"data/inetd.conf:6: service \"nosuch-internal\" is not a tcp "
		    "service in /etc/services",
		"data/inetd.conf:7: server \"bin/cat\" is not an absolute path",
		"data/inetd.conf:8: service \"no-such-service-superd\" is not "
		    "a tcp service in /etc/services",
		"data/inetd.conf:10: unknown user \"no-such-user-superd\"",
		"data/inetd.conf:11: name \"bad!name\": want 1 to 64 of "
		    "A-Z a-z 0-9 . _ -",
		"data/inetd.conf:13: duplicate service name \"chargen\" "
		    "(first at data/inetd.conf:12)",
		NULL };

	write_inetd("broken-line stream\n"
	    "x\traw\ttcp\tnowait\t@U@\tinternal\n"
	    "x\tstream\tudp\tnowait\t@U@\tinternal\n"
	    "x\tstream\ttcp\tsometimes\t@U@\tinternal\n"
	    "x\tstream\ttcp\tnowait.0\t@U@\tinternal\n"
	    "nosuch-internal\tstream\ttcp\tnowait\t@U@\tinternal\n"
	    "echo\tstream\ttcp\tnowait\t@U@\tbin/cat\tcat\n"
	    "no-such-service-superd\tstream\ttcp\tnowait\t@U@\t/bin/cat\n"
	    "echo\tstream\tsctp\tnowait\t@U@\tinternal\n"
	    "discard\tstream\ttcp\tnowait\tno-such-user-superd\tinternal\n"
	    "bad!name\tstream\ttcp\tnowait\t@U@\tinternal\n"
	    "chargen\tstream\ttcp\tnowait\t@U@\tinternal\n"
	    "chargen\tstream\ttcp6\tnowait\t@U@\tinternal\n");
	expect_errors("data/good-inetd.conf", want);
}
END_TEST

/*
 * Lines that packages add through update-inetd and superd does not serve
 * (Sun RPC, other socket types and protocols) are warnings naming their
 * line, skipped: the rest of the file is served.
 */
START_TEST(test_inetd_unserved_lines_skipped)
{
	struct conf	*cf;

	write_inetd("rstatd/1-5\tdgram\trpc/udp\twait\t@U@\t/usr/sbin/tcpd\t"
	    "/usr/sbin/rpc.rstatd\n"
	    "daytime\tdgram\tudp\twait\t@U@\tinternal\n"
	    "rusersd/2-3\tdgram\trpc/udp\twait\t@U@\t/usr/sbin/tcpd\t"
	    "/usr/sbin/rpc.rusersd\n"
	    "x\traw\ttcp\tnowait\t@U@\tinternal\n"
	    "echo\tstream\tsctp\tnowait\t@U@\tinternal\n");
	cf = load_ok("data/good-inetd.conf");
	ck_assert_ptr_nonnull(svc(cf, "daytime", PROTO_UDP));
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 4);
	ck_assert_str_eq(cf->cf_warnings.ce_msg[0], "data/inetd.conf:1: Sun "
	    "RPC (protocol rpc/udp) is not served, line skipped");
	ck_assert_str_eq(cf->cf_warnings.ce_msg[1], "data/inetd.conf:3: Sun "
	    "RPC (protocol rpc/udp) is not served, line skipped");
	ck_assert_str_eq(cf->cf_warnings.ce_msg[2], "data/inetd.conf:4: "
	    "socket type \"raw\" is not served (only stream and dgram), line "
	    "skipped");
	ck_assert_str_eq(cf->cf_warnings.ce_msg[3], "data/inetd.conf:5: "
	    "protocol \"sctp\" is not served (only tcp, udp, tcp4, udp4, tcp6 "
	    "and udp6), line skipped");
	config_free(cf);
}
END_TEST

START_TEST(test_inetd_root_mode)
{
	static const char *const want[] = {
		"data/inetd.conf: mode 0666 is writable by group or others",
		NULL };

	write_inetd("time dgram udp wait @U@ internal\n");
	ck_assert_int_eq(chmod("data/inetd.conf", 0666), 0);
	if (geteuid() == 0)
		expect_errors("data/good-inetd.conf", want);
	else
		config_free(load_ok("data/good-inetd.conf"));
}
END_TEST

/* ---------------------------------------------------------------------
 * Settings that need a client address, and udp programs without wait.
 */

START_TEST(test_policy_not_applicable)
{
	static const char *const want[] = {
		"data/bad-policy.conf:5: \"wait\" = false: a udp program must "
		    "be a wait service",
		"data/bad-policy.conf:8: \"per_source\" does not apply to udp "
		    "builtins (a datagram starts no instance)",
		"data/bad-policy.conf:12: \"allow\" does not apply to wait "
		    "services (the program takes its clients itself)",
		"data/bad-policy.conf:13: \"deny\" does not apply to wait "
		    "services (the program takes its clients itself)",
		"data/bad-policy.conf:14: \"per_source\" does not apply to "
		    "wait services (the program takes its clients itself)",
		"data/bad-policy.conf:15: \"per_source_rate\" does not apply "
		    "to wait services (the program takes its clients itself)",
		"data/bad-policy.conf:16: \"per_source_ipv6_prefix\" does not "
		    "apply to wait services (the program takes its clients "
		    "itself)",
		"data/bad-policy.conf:19: \"allow\" does not apply to unix "
		    "services (a client has no address)",
		"data/bad-policy.conf:20: \"per_source\" does not apply to "
		    "unix services (a client has no address)",
		"data/bad-policy.conf:21: \"per_source_rate\" does not apply "
		    "to unix services (a client has no address)",
		"data/bad-policy.conf:23: \"per_source_ipv6_prefix\" = 0: must "
		    "be 1 to 128",
		"data/bad-policy.conf:25: \"per_source_ipv6_prefix\" = 129: "
		    "must be 1 to 128",
		"data/bad-policy.conf:29: \"proxy_protocol\" needs "
		    "\"proxy_from\", the proxies trusted to send a header",
		"data/bad-policy.conf:33: \"proxy_protocol\" does not apply "
		    "to udp services (a datagram carries no header)",
		"data/bad-policy.conf:35: \"proxy_protocol\" does not apply "
		    "to wait services (the program takes its clients itself)",
		"data/bad-policy.conf:37: proxy_from \"proxy\": not an "
		    "address or address/prefix",
		"data/bad-policy.conf:39: \"proxy_protocol\" does not apply "
		    "to unix services (a client has no address)",
		NULL };

	expect_errors("data/bad-policy.conf", want);
}
END_TEST

/*
 * From the superd block the same settings stay usable: a warning names
 * each service they cannot apply to, and a udp program is served as wait.
 */
START_TEST(test_policy_defaults_warn)
{
	static const char *const want[] = {
		"data/good-policy-defaults.conf:5: udp service \"u\" runs a "
		    "program: nowait is not possible, served as wait",
		"data/good-policy-defaults.conf:6: \"allow\" of the superd "
		    "block does not apply to service \"u\": wait services (the "
		    "program takes its clients itself); ignored there",
		"data/good-policy-defaults.conf:7: \"per_source\" of the "
		    "superd block does not apply to service \"u\": wait "
		    "services (the program takes its clients itself); ignored "
		    "there",
		"data/good-policy-defaults.conf:8: \"per_source_rate\" of the "
		    "superd block does not apply to service \"u\": wait "
		    "services (the program takes its clients itself); ignored "
		    "there",
		"data/good-policy-defaults.conf:7: \"per_source\" of the "
		    "superd block does not apply to service \"ue\": udp "
		    "builtins (a datagram starts no instance); ignored there",
		"data/good-policy-defaults.conf:6: \"allow\" of the superd "
		    "block does not apply to service \"x\": unix services (a "
		    "client has no address); ignored there",
		"data/good-policy-defaults.conf:7: \"per_source\" of the "
		    "superd block does not apply to service \"x\": unix "
		    "services (a client has no address); ignored there",
		"data/good-policy-defaults.conf:8: \"per_source_rate\" of the "
		    "superd block does not apply to service \"x\": unix "
		    "services (a client has no address); ignored there",
		NULL };
	struct conf	*cf;
	struct svc_conf	*sc;
	size_t		 i;

	cf = load_ok("data/good-policy-defaults.conf");
	for (i = 0; want[i] != NULL && i < cf->cf_warnings.ce_count; i++)
		ck_assert_str_eq(cf->cf_warnings.ce_msg[i], want[i]);
	ck_assert_uint_eq(cf->cf_warnings.ce_count, i);
	ck_assert_ptr_null(want[i]);
	sc = svc(cf, "t", PROTO_TCP);
	ck_assert_int_eq(sc->sc_per_source, 2);
	ck_assert_int_eq(sc->sc_per_source_ipv6_prefix, 48);
	ck_assert_int_eq(svc(cf, "u", PROTO_UDP)->sc_wait, 1);
	sc = svc(cf, "ue", PROTO_UDP);
	ck_assert_int_eq(sc->sc_per_source_rate, 10);
	ck_assert_uint_eq(sc->sc_nallow, 1);
	config_free(cf);
	cf = load_ok("data/good-wait.conf");
	ck_assert_int_eq(svc(cf, "t", PROTO_TCP)->sc_per_source_ipv6_prefix,
	    64);
	/* A UDP wait service's looping detection counts sources so. */
	ck_assert_int_eq(svc(cf, "u", PROTO_UDP)->sc_per_source_ipv6_prefix,
	    56);
	config_free(cf);
}
END_TEST

/* ---------------------------------------------------------------------
 * Confinement settings.
 */

static void
write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* Every setting, per service and from the superd block. */
START_TEST(test_confine_settings)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 text[PATH_MAX + 1024], root[PATH_MAX + 8];

	ck_assert_int_eq(mkdir("root", 0755), 0);
	ck_assert_int_eq(chmod("root", 0755), 0);
	ck_assert_int_eq(mkdir("root/bin", 0755), 0);
	write_text("root/bin/prog", "#!/bin/sh\n");
	ck_assert_int_eq(chmod("root/bin/prog", 0755), 0);
	snprintf(root, sizeof(root), "%s/root", datadir);
	snprintf(text, sizeof(text),
	    "superd = { no_new_privs = true; private_network = true; };\n"
	    "services = (\n"
	    "{ name = \"a\"; port = 1; server = \"/bin/prog\";\n"
	    "  chroot = \"%s\"; capabilities = [ \"net_bind_service\",\n"
	    "  \"CAP_NET_RAW\", \"cap_kill\" ]; private_tmp = true;\n"
	    "  read_only = true; writable = [ \"/var/lib/a\" ]; },\n"
	    "{ name = \"b\"; port = 2; server = \"/bin/cat\";\n"
	    "  capabilities = [ ]; no_new_privs = false; }\n"
	    ");\n", root);
	write_text("c.conf", text);
	cf = load_ok("c.conf");
	sc = svc(cf, "a", PROTO_TCP);
	ck_assert_str_eq(sc->sc_chroot, root);
	ck_assert_str_eq(sc->sc_server, "/bin/prog");
	ck_assert_int_eq(sc->sc_caps_set, 1);
	ck_assert(sc->sc_caps == ((1ULL << 10) | (1ULL << 13) | (1ULL << 5)));
	ck_assert_int_eq(sc->sc_private_tmp, 1);
	ck_assert_int_eq(sc->sc_read_only, 1);
	ck_assert_str_eq(sc->sc_writable[0], "/var/lib/a");
	ck_assert_ptr_null(sc->sc_writable[1]);
	ck_assert_int_eq(sc->sc_no_new_privs, 1);	/* the default */
	ck_assert_int_eq(sc->sc_private_network, 1);
	sc = svc(cf, "b", PROTO_TCP);
	ck_assert_ptr_null(sc->sc_chroot);
	ck_assert_int_eq(sc->sc_caps_set, 1);	/* [ ]: keep none */
	ck_assert(sc->sc_caps == 0);
	ck_assert_int_eq(sc->sc_no_new_privs, 0);
	ck_assert_int_eq(sc->sc_private_network, 1);
	ck_assert_int_eq(sc->sc_read_only, 0);
	config_free(cf);
}
END_TEST

/* This process's effective capabilities, all set to effective. */
static void
effective_caps_set(const struct __user_cap_data_struct *effective)
{
	struct __user_cap_header_struct	 hdr = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};
	struct __user_cap_data_struct	 data[2];

	ck_assert_int_eq(syscall(SYS_capget, &hdr, data), 0);
	data[0].effective = effective[0].effective;
	data[1].effective = effective[1].effective;
	ck_assert_int_eq(syscall(SYS_capset, &hdr, data), 0);
}

/*
 * A setting that needs a capability superd lacks is a warning at its
 * line naming it: root's effective set is emptied for the load (its
 * permitted set stays, to take them back), as a user's has none.
 */
START_TEST(test_confine_capability_warnings)
{
	struct __user_cap_header_struct	 hdr = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};
	struct __user_cap_data_struct	 saved[2], none[2];
	struct conf_errors		 e = { NULL, 0 };
	struct conf			*cf;
	int				 held;

	ck_assert_int_eq(syscall(SYS_capget, &hdr, saved), 0);
	memset(none, 0, sizeof(none));
	write_text("w.conf", "services = (\n"
	    "{ name = \"a\"; port = 1; server = \"/bin/cat\";\n"
	    "  private_tmp = true; no_new_privs = true; },\n"
	    "{ name = \"b\"; port = 2; server = \"/bin/cat\";\n"
	    "  private_network = false;\n"
	    "  capabilities = [ \"kill\" ]; }\n"
	    ");\n");
	effective_caps_set(none);
	held = confine_cap_held(21);			/* CAP_SYS_ADMIN */
	cf = config_load("w.conf", &e);
	effective_caps_set(saved);	/* first: CK_FORK=no goes on after */
	ck_assert_int_eq(held, 0);
	ck_assert_uint_eq(e.ce_count, 0);
	ck_assert_ptr_nonnull(cf);
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 2);
	ck_assert_msg(strncmp(cf->cf_warnings.ce_msg[0], "w.conf:3: "
	    "\"private_tmp\" of service \"a\" needs capability \"sys_admin\", "
	    "which superd does not hold", 78) == 0, "%s",
	    cf->cf_warnings.ce_msg[0]);
	ck_assert_msg(strstr(cf->cf_warnings.ce_msg[0], ": each start will "
	    "fail") != NULL, "%s", cf->cf_warnings.ce_msg[0]);
	ck_assert_msg(strncmp(cf->cf_warnings.ce_msg[1], "w.conf:6: "
	    "\"capabilities\" of service \"b\" needs capability \"setpcap\"",
	    64) == 0, "%s", cf->cf_warnings.ce_msg[1]);
	config_free(cf);
	if (confine_cap_held(21)) {	/* superd as root: nothing to say */
		cf = load_ok("w.conf");
		ck_assert_uint_eq(cf->cf_warnings.ce_count, 0);
		config_free(cf);
	}
}
END_TEST

/* What -t refuses, each at its line. */
START_TEST(test_confine_errors)
{
	char	 text[6 * PATH_MAX + 1024];

	ck_assert_int_eq(mkdir("real", 0755), 0);
	ck_assert_int_eq(mkdir("real/jail", 0755), 0);
	ck_assert_int_eq(chmod("real/jail", 0755), 0);
	ck_assert_int_eq(symlink("real", "via"), 0);
	ck_assert_int_eq(mkdir("open", 0755), 0);
	ck_assert_int_eq(chmod("open", 0775), 0);
	ck_assert_int_eq(mkdir("empty", 0755), 0);
	ck_assert_int_eq(chmod("empty", 0755), 0);
	ck_assert_int_eq(symlink("empty", "link"), 0);
	snprintf(text, sizeof(text),
	    "services = (\n"
	    "{ name = \"a\"; port = 1; server = \"/bin/cat\";\n"
	    "  chroot = \"%s/open\"; },\n"
	    "{ name = \"b\"; port = 2; server = \"/bin/cat\";\n"
	    "  chroot = \"%s/link\"; },\n"
	    "{ name = \"c\"; port = 3; server = \"/bin/cat\";\n"
	    "  chroot = \"%s/none\"; },\n"
	    "{ name = \"d\"; port = 4; server = \"/bin/cat\";\n"
	    "  chroot = \"%s/empty\"; },\n"
	    "{ name = \"e\"; port = 5; server = \"/bin/cat\";\n"
	    "  capabilities = [ \"net_bind_service\", \"fly\" ]; },\n"
	    "{ name = \"f\"; port = 6; server = \"/bin/cat\";\n"
	    "  writable = [ \"/srv\" ]; },\n"
	    "{ name = \"g\"; port = 7; server = \"/bin/cat\";\n"
	    "  read_only = true; writable = [ \"srv\" ]; },\n"
	    "{ name = \"h\"; port = 8; server = \"/bin/cat\";\n"
	    "  private_tmp = 1; },\n"
	    "{ name = \"i\"; port = 9; server = \"/bin/cat\";\n"
	    "  chroot = \"empty\"; },\n"
	    "{ name = \"j\"; port = 10; server = \"/bin/cat\";\n"
	    "  chroot = \"%s/via/jail\"; },\n"
	    "{ name = \"k\"; port = 11; server = \"/bin/cat\";\n"
	    "  read_only = true; writable = [ \"%s/via/jail\" ]; }\n"
	    ");\n", datadir, datadir, datadir, datadir, datadir, datadir);
	write_text("e.conf", text);
	{
		char		 m[6][2 * PATH_MAX + 128];
		const char	*want[12];

		snprintf(m[0], sizeof(m[0]), "e.conf:3: chroot \"%s/open\": "
		    "mode 0775 is writable by group or others", datadir);
		snprintf(m[1], sizeof(m[1]), "e.conf:5: chroot \"%s/link\" is "
		    "a symbolic link", datadir);
		snprintf(m[2], sizeof(m[2]), "e.conf:7: chroot \"%s/none\": No "
		    "such file or directory", datadir);
		snprintf(m[3], sizeof(m[3]), "e.conf:8: server \"/bin/cat\" in "
		    "chroot %s/empty: No such file or directory", datadir);
		want[0] = m[0];
		want[1] = m[1];
		want[2] = m[2];
		want[3] = m[3];
		want[4] = "e.conf:11: capabilities \"fly\": no such capability "
		    "(want a name such as \"net_bind_service\")";
		want[5] = "e.conf:13: \"writable\" applies only with read_only = "
		    "true";
		want[6] = "e.conf:15: writable \"srv\" is not an absolute path";
		want[7] = "e.conf:17: \"private_tmp\" must be true or false";
		want[8] = "e.conf:19: chroot \"empty\" is not an absolute path";
		snprintf(m[4], sizeof(m[4]), "e.conf:21: chroot \"%s/via/jail\": "
		    "%s/via is a symbolic link, which a start does not follow",
		    datadir, datadir);
		snprintf(m[5], sizeof(m[5]), "e.conf:23: writable \"%s/via/jail\": "
		    "%s/via is a symbolic link, which a start does not follow",
		    datadir, datadir);
		want[9] = m[4];
		want[10] = m[5];
		want[11] = NULL;
		expect_errors("e.conf", want);
	}
}
END_TEST

/* A line of inetd.conf gets none of the superd block's confinement. */
START_TEST(test_confine_not_inetd)
{
	struct conf	*cf;
	struct svc_conf	*sc;
	char		 text[PATH_MAX + 1024];

	write_inetd("daytime stream tcp nowait @U@ internal\n");
	snprintf(text, sizeof(text), "superd = { inetd_conf = \"%s/data/"
	    "inetd.conf\"; no_new_privs = true; private_tmp = true;\n"
	    "  capabilities = [ \"kill\" ]; chroot = \"/\"; };\n", datadir);
	write_text("i.conf", text);
	cf = load_ok("i.conf");
	sc = svc(cf, "daytime", PROTO_TCP);
	ck_assert_int_eq(sc->sc_no_new_privs, 0);
	ck_assert_int_eq(sc->sc_private_tmp, 0);
	ck_assert_int_eq(sc->sc_caps_set, 0);
	ck_assert_ptr_null(sc->sc_chroot);
	config_free(cf);
}
END_TEST

/* A classic `dgram udp nowait` line is served, as wait, with a warning. */
START_TEST(test_inetd_udp_nowait)
{
	struct conf	*cf;

	write_inetd("tftp\tdgram\tudp\tnowait\t@U@\t/bin/cat\tcat\n"
	    "time\tdgram\tudp\tnowait\t@U@\tinternal\n");
	cf = load_ok("data/good-inetd.conf");
	ck_assert_uint_eq(cf->cf_warnings.ce_count, 1);
	ck_assert_str_eq(cf->cf_warnings.ce_msg[0], "data/inetd.conf:1: udp "
	    "service \"tftp\" runs a program: nowait is not possible, served "
	    "as wait");
	ck_assert_int_eq(svc(cf, "tftp", PROTO_UDP)->sc_wait, 1);
	ck_assert_int_eq(svc(cf, "time", PROTO_UDP)->sc_wait, 0);
	config_free(cf);
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("good");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_good_basic);
	tcase_add_test(tc, test_good_defaults);
	tcase_add_test(tc, test_wait_default);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory_as_file);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_program);
	tcase_add_test(tc, test_duplicate_name);
	tcase_add_test(tc, test_clash);
	tcase_add_test(tc, test_clash_wildcard);
	tcase_add_test(tc, test_int_too_large);
	tcase_add_test(tc, test_defaults_reported_once);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_errors_clear);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_include_dir);
	tcase_add_test(tc, test_include_errors);
	tcase_add_test(tc, test_include_missing);
	tcase_add_test(tc, test_atinclude);
	tcase_add_test(tc, test_atinclude_directory);
	tcase_add_test(tc, test_atinclude_self);
	tcase_add_test(tc, test_atinclude_fanout);
	tcase_add_test(tc, test_atinclude_errors_name_the_part);
	tcase_add_test(tc, test_atinclude_absolute);
	tcase_add_test(tc, test_atinclude_directories);
	tcase_add_test(tc, test_atinclude_links);
	tcase_add_test(tc, test_main_file_directories);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_identity_other_user);
	tcase_add_test(tc, test_identity_unknown);
	tcase_add_test(tc, test_root_file_modes);
	suite_add_tcase(s, tc);

	tc = tcase_create("inetd");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_inetd_parse_line);
	tcase_add_test(tc, test_inetd);
	tcase_add_test(tc, test_inetd_defaults);
	tcase_add_test(tc, test_inetd_missing);
	tcase_add_test(tc, test_inetd_disabled_and_gone);
	tcase_add_test(tc, test_inetd_errors);
	tcase_add_test(tc, test_inetd_unserved_lines_skipped);
	tcase_add_test(tc, test_inetd_root_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_policy_not_applicable);
	tcase_add_test(tc, test_policy_defaults_warn);
	tcase_add_test(tc, test_inetd_udp_nowait);
	suite_add_tcase(s, tc);

	tc = tcase_create("confine");
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_add_test(tc, test_confine_settings);
	tcase_add_test(tc, test_confine_capability_warnings);
	tcase_add_test(tc, test_confine_errors);
	tcase_add_test(tc, test_confine_not_inetd);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_size);
	suite_add_tcase(s, tc);

	return s;
}
