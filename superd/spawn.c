/*
 * spawn.c - everything between fork and exec.
 *
 * The child gets the connection on fds 0 and 1, fd 2 as `stderr` says and
 * nothing else; default signals, its own session, the configured limits,
 * nice value, identity and directory, and a clean environment.  A failure
 * before exec travels back to the parent over a close-on-exec pipe: the
 * parent reads EOF once exec succeeded, or a report of what failed.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

#define ERRLINE_MAX	1024
#define ERRLINES_PER_S	100	/* stderr lines logged per service per second */
#define PROXY_SECONDS	5	/* to send a PROXY header */

enum stage {
	STAGE_SESSION,
	STAGE_FDS,
	STAGE_LIMITS,
	STAGE_NICE,
	STAGE_USER,
	STAGE_IDENTITY,
	STAGE_CHDIR,
	STAGE_ENV,
	STAGE_EXEC
};

static const char *const stage_names[] = {
	"setsid", "descriptors", "setrlimit", "setpriority", "unknown user",
	"cannot switch identity", "chdir", "environment", "execve"
};

struct report {
	int	 rp_stage;
	int	 rp_errno;
};

static const int limit_resource[LIMIT_COUNT] = {
	RLIMIT_CPU, RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_FSIZE
};

/* Marks every descriptor from lowfd up close-on-exec. */
static void
cloexec_from(int lowfd)
{
	long	 max, fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/* Closes every descriptor from lowfd up (a child that will not exec). */
static void
close_from(int lowfd)
{
	long	 max, fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, lowfd, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

static const struct svc_conf	*child_sc;	/* in a child: what it starts */

static void
log_spawn_failure(const struct svc_conf *sc, const struct report *rp)
{
	const char	*what = rp->rp_stage >= 0 &&
			    rp->rp_stage <= STAGE_EXEC ?
			    stage_names[rp->rp_stage] : "?";

	log_warnx("%s: cannot start %s: %s: %s", sc->sc_name,
	    sc->sc_server != NULL ? sc->sc_server : "builtin", what,
	    strerror(rp->rp_errno));
}

/* Reports to the parent, or logs itself once detached (rep == -1). */
static void __attribute__((noreturn))
child_fail(int rep, enum stage stage)
{
	struct report	 rp = { stage, errno };

	if (rep == -1)
		log_spawn_failure(child_sc, &rp);
	else
		(void)!write(rep, &rp, sizeof(rp));
	_exit(rp.rp_errno == ENOENT ? 127 : 126);
}

static int
child_fds(const struct svc_conf *sc, int fd, int errfd)
{
	int	 on = 1;

	if (sc->sc_proto == PROTO_TCP && !sc->sc_wait) {
		if (sc->sc_keepalive && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE,
		    &on, sizeof(on)) == -1)
			return -1;
		if (sc->sc_nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
		    &on, sizeof(on)) == -1)
			return -1;
	}
	if ((sc->sc_stderr == STDERR_NULL || errfd == -1) &&
	    (errfd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (sc->sc_stderr == STDERR_SOCKET)
		errfd = fd;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		return -1;
	/* Wait mode hands over a non-blocking listener: programs expect blocking. */
	if (fcntl(STDIN_FILENO, F_SETFL, 0) == -1)
		return -1;
	/* Whatever superd inherited from its own parent goes too. */
	cloexec_from(3);
	return 0;
}

static int
child_limits(const struct svc_conf *sc)
{
	struct rlimit	 rl;
	int		 i;

	for (i = 0; i < LIMIT_COUNT; i++) {
		if (!sc->sc_limit_set[i])
			continue;
		rl.rlim_cur = rl.rlim_max = sc->sc_limit[i];
		if (setrlimit(limit_resource[i], &rl) == -1)
			return -1;
	}
	return 0;
}

/* Drops to the service's identity; never leaves the child root by mistake. */
static int
child_identity(const struct svc_conf *sc, int rep)
{
	struct passwd	*pw;

	if (!sc->sc_setid)
		return 0;
	if ((pw = getpwnam(sc->sc_user)) == NULL) {
		errno = ENOENT;
		child_fail(rep, STAGE_USER);
	}
	if (initgroups(pw->pw_name, sc->sc_gid) == -1 ||
	    setgid(sc->sc_gid) == -1 || setuid(pw->pw_uid) == -1)
		return -1;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != sc->sc_gid || getegid() != sc->sc_gid) {
		errno = EPERM;
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * Lets the parent go on before the child reads from the client: the
 * parent's wait on the report pipe must never depend on a client.  From
 * here on the child logs its own failures, through a copy of superd's
 * stderr since fd 2 is about to become the program's.
 */
static int
child_detach(int rep)
{
	int	 logfd;

	close(rep);
	if ((logfd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) != -1)
		log_stderr_fd(logfd);
	return -1;
}

static void
refuse_in_child(const struct svc_conf *sc, int fd, const char *ip)
{
	const char	*msg = sc->sc_refuse_message;

	log_info("%s: refused %s (acl)", sc->sc_name, ip);
	if (msg != NULL && *msg != '\0' &&
	    (write(fd, msg, strlen(msg)) == -1 || write(fd, "\r\n", 2) == -1))
		_exit(1);
	_exit(1);
}

/* What the child reads itself before exec: PROXY header, tcpmux name. */
static const struct svc_conf *
child_prelude(const struct svc_conf *sc, int fd, struct peer *pe)
{
	struct proxy_hdr	 ph;
	const char		*why;

	if (sc->sc_proxy) {
		if (proxy_read(fd, PROXY_SECONDS, &ph, &why) == -1) {
			log_warnx("%s: PROXY header from %s: %s, closing",
			    sc->sc_name, pe->pe_remote_ip, why);
			_exit(1);
		}
		if (!ph.ph_local) {
			snprintf(pe->pe_remote_ip, sizeof(pe->pe_remote_ip),
			    "%s", ph.ph_src_ip);
			pe->pe_remote_port = ph.ph_src_port;
			snprintf(pe->pe_local_ip, sizeof(pe->pe_local_ip),
			    "%s", ph.ph_dst_ip);
			pe->pe_local_port = ph.ph_dst_port;
		}
		if (sc->sc_log_connections)
			log_info("%s: proxied pid=%ld client %s:%u", sc->sc_name,
			    (long)getpid(), pe->pe_remote_ip, pe->pe_remote_port);
		if (!policy_acl(sc, pe->pe_remote_ip))
			refuse_in_child(sc, fd, pe->pe_remote_ip);
	}
	if (sc->sc_builtin == BUILTIN_TCPMUX)
		sc = tcpmux_select(fd, pe->pe_remote_ip);
	return sc;
}

static void __attribute__((noreturn))
child_run(const struct svc_conf *sc, int fd, int errfd, char **env, int rep,
    const struct peer *given)
{
	struct peer	 pe;

	child_sc = sc;
	signals_child_reset();
	if (setsid() == -1)
		child_fail(rep, STAGE_SESSION);
	if (given != NULL && (sc->sc_proxy || sc->sc_builtin == BUILTIN_TCPMUX)) {
		pe = *given;
		rep = child_detach(rep);
		child_sc = sc = child_prelude(sc, fd, &pe);
		env_free(env);
		env = sc->sc_builtin == BUILTIN_NONE ? env_build(sc, &pe) : NULL;
	}
	if (child_fds(sc, fd, errfd) == -1)
		child_fail(rep, STAGE_FDS);
	if (child_limits(sc) == -1)
		child_fail(rep, STAGE_LIMITS);
	if (sc->sc_nice_set && setpriority(PRIO_PROCESS, 0, sc->sc_nice) == -1)
		child_fail(rep, STAGE_NICE);
	if (child_identity(sc, rep) == -1)
		child_fail(rep, STAGE_IDENTITY);
	if (chdir(sc->sc_chdir) == -1)
		child_fail(rep, STAGE_CHDIR);
	umask(022);
	if (sc->sc_builtin != BUILTIN_NONE) {
		/* No exec will close superd's listeners and pipes: do it now. */
		close_from(3);
		builtin_run(sc->sc_builtin, STDIN_FILENO);
	}
	if (env == NULL) {
		errno = ENOMEM;
		child_fail(rep, STAGE_ENV);
	}
	execve(sc->sc_server, sc->sc_argv, env);
	child_fail(rep, STAGE_EXEC);
}

/* The write end of the service's stderr pipe, made on first use. */
static int
stderr_pipe(struct service *sv)
{
	if (sv->sv_errpipe[1] != -1)
		return sv->sv_errpipe[1];
	if (pipe2(sv->sv_errpipe, O_CLOEXEC) == -1) {
		sv->sv_errpipe[0] = sv->sv_errpipe[1] = -1;
		return -1;
	}
	if (fcntl(sv->sv_errpipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    sv->sv_errpipe[0] >= FD_SETSIZE) {
		spawn_close_stderr(sv);
		errno = EMFILE;
		return -1;
	}
	return sv->sv_errpipe[1];
}

/*
 * Starts one instance on fd (a connection, or the listener in wait mode).
 * Returns its pid, or -1 when fork failed (errno says why).  A child that
 * failed before exec has its pid returned too, since it still has to be
 * reaped, and *failed set; the failure is logged here.
 */
pid_t
spawn_instance(struct service *sv, int fd, const struct peer *pe, int *failed)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct report		 rp;
	sigset_t		 all, saved;
	char			**env = NULL;
	int			 rep[2], errfd = -1, saved_errno;
	pid_t			 pid;
	ssize_t			 n;

	*failed = 0;
	if (sc->sc_stderr == STDERR_LOG && (errfd = stderr_pipe(sv)) == -1) {
		log_warn("%s: cannot make the stderr pipe", sc->sc_name);
		return -1;
	}
	if (sc->sc_builtin == BUILTIN_NONE)
		env = env_build(sc, pe);
	if (pipe2(rep, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", sc->sc_name);
		env_free(env);
		return -1;
	}
	/* No handler of superd's may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	pid = fork();
	if (pid == 0) {
		close(rep[0]);
		child_run(sc, fd, errfd, env, rep[1], pe);
	}
	saved_errno = errno;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(rep[1]);
	env_free(env);
	if (pid == -1) {
		close(rep[0]);
		errno = saved_errno;
		return -1;
	}
	do
		n = read(rep[0], &rp, sizeof(rp));
	while (n == -1 && errno == EINTR);
	close(rep[0]);
	*failed = n == sizeof(rp);
	if (*failed)
		log_spawn_failure(sc, &rp);
	return pid;
}

/*
 * Whether the service's stderr pipe may be read now.  Past its budget of
 * lines for this second it is left alone: a flooding instance then waits
 * on its own full pipe while superd and the log stay calm.
 */
int
spawn_stderr_ready(struct service *sv, int64_t now, int64_t *next)
{
	if (sv->sv_errpipe[0] == -1)
		return 0;
	if (now - sv->sv_errwindow >= 1000) {
		if (sv->sv_errdropped > 0)
			log_warnx("%s: stderr: %lu lines not logged (over %d a "
			    "second)", sv->sv_conf->sc_name, sv->sv_errdropped,
			    ERRLINES_PER_S);
		sv->sv_errwindow = now;
		sv->sv_errlines = 0;
		sv->sv_errdropped = 0;
	}
	if (sv->sv_errlines < ERRLINES_PER_S)
		return 1;
	if (*next == 0 || sv->sv_errwindow + 1000 < *next)
		*next = sv->sv_errwindow + 1000;
	return 0;
}

static void
stderr_line(struct service *sv, const char *line, size_t len)
{
	if (sv->sv_errlines >= ERRLINES_PER_S) {
		sv->sv_errdropped++;
		return;
	}
	sv->sv_errlines++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	log_info("%s: stderr: %.*s", sv->sv_conf->sc_name, (int)len, line);
}

/*
 * Reads what instances wrote to stderr and logs it line by line.  A turn
 * reads a bounded amount, so a flooding instance cannot starve the loop;
 * `all` reads until the pipe is empty.
 */
void
spawn_drain_stderr(struct service *sv, int all)
{
	char	 buf[4096];
	ssize_t	 n;
	size_t	 i, start;
	int	 turns = all ? 1024 : 4;
	int64_t	 next = 0;

	if (sv->sv_errpipe[0] == -1)
		return;
	if (sv->sv_errbuf == NULL &&
	    (sv->sv_errbuf = malloc(ERRLINE_MAX)) == NULL)
		return;
	while (turns-- > 0 && (all || spawn_stderr_ready(sv, mono_ms(), &next)) &&
	    (n = read(sv->sv_errpipe[0], buf, sizeof(buf))) > 0) {
		for (i = 0, start = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n' && sv->sv_errlen + (i - start) <
			    ERRLINE_MAX - 1)
				continue;
			memcpy(sv->sv_errbuf + sv->sv_errlen, buf + start,
			    i - start);
			stderr_line(sv, sv->sv_errbuf, sv->sv_errlen + i - start);
			sv->sv_errlen = 0;
			start = i + (buf[i] == '\n');
		}
		memcpy(sv->sv_errbuf + sv->sv_errlen, buf + start, n - start);
		sv->sv_errlen += n - start;
	}
	if (all && sv->sv_errlen > 0) {
		stderr_line(sv, sv->sv_errbuf, sv->sv_errlen);
		sv->sv_errlen = 0;
	}
}

void
spawn_close_stderr(struct service *sv)
{
	if (sv->sv_errpipe[0] != -1)
		close(sv->sv_errpipe[0]);
	if (sv->sv_errpipe[1] != -1)
		close(sv->sv_errpipe[1]);
	sv->sv_errpipe[0] = sv->sv_errpipe[1] = -1;
}
