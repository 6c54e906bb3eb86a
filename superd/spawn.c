/*
 * spawn.c - everything between fork and exec.
 *
 * The child gets the connection on fds 0 and 1, fd 2 as `stderr` says and
 * nothing else; default signals, its own session, the configured limits,
 * nice value, identity and directory, and a clean environment.  Up to the
 * exec a child may share superd's memory (launch.c), so it makes system
 * calls only through sys.h and hands what failed back as a report.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn_int.h"
#include "sys.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

static const char *const stage_names[] = {
	"setsid", "descriptors", "setrlimit", "setpriority", "unknown user",
	"cannot switch identity", "chdir", "environment", "execve"
};

static const int limit_resource[LIMIT_COUNT] = {
	RLIMIT_CPU, RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_FSIZE
};

/*
 * Closes every descriptor from lowfd up, or with CLOSE_RANGE_CLOEXEC
 * marks them close-on-exec: one system call, not one per possible
 * descriptor (the loop is only for kernels without close_range).
 */
static void
fds_from(int lowfd, unsigned flags)
{
	int	 fd;

	if (sys_close_range((unsigned)lowfd, ~0U, flags) == 0)
		return;
	for (fd = lowfd; fd < 65536; fd++)
		if (flags & CLOSE_RANGE_CLOEXEC)
			(void)sys_fcntl(fd, F_SETFD, FD_CLOEXEC);
		else
			(void)sys_close(fd);
}

void
log_spawn_failure(const struct svc_conf *sc, int stage, int err)
{
	const char	*what = stage >= 0 && stage <= STAGE_EXEC ?
			    stage_names[stage] : "?";

	log_warnx("%s: cannot start %s: %s: %s", sc->sc_name,
	    sc->sc_server != NULL ? sc->sc_server : "builtin", what,
	    strerror(err));
}

/*
 * Tells the parent what failed (err is a negative errno, as sys.h gives):
 * through shared memory (clone) or the report pipe (fork).
 */
static void __attribute__((noreturn))
child_fail(struct spawn_ctx *cx, enum stage stage, int err)
{
	struct report	 rp = { stage, -err };

	if (cx->sx_shared != NULL) {
		cx->sx_shared->rp_stage = rp.rp_stage;
		cx->sx_shared->rp_errno = rp.rp_errno;
	} else if (cx->sx_rep != -1)
		(void)!write(cx->sx_rep, &rp, sizeof(rp));
	sys_exit(rp.rp_errno == ENOENT ? 127 : 126);
}

/* Each step returns 0 or a negative errno. */
static int
child_fds(const struct spawn_ctx *cx)
{
	const struct svc_conf	*sc = cx->sx_sc;
	int			 errfd = cx->sx_errfd, fd = cx->sx_fd, rc;

	if (sc->sc_proto == PROTO_TCP && !sc->sc_wait) {
		if (sc->sc_keepalive && (rc = sys_setsockopt_on(fd,
		    SOL_SOCKET, SO_KEEPALIVE)) < 0)
			return rc;
		if (sc->sc_nodelay && (rc = sys_setsockopt_on(fd,
		    IPPROTO_TCP, TCP_NODELAY)) < 0)
			return rc;
	}
	if (sc->sc_stderr == STDERR_SOCKET)
		errfd = fd;
	else if (sc->sc_stderr == STDERR_NULL || errfd == -1)
		errfd = cx->sx_nullfd;
	if ((rc = sys_dup2(fd, STDIN_FILENO)) < 0 ||
	    (rc = sys_dup2(fd, STDOUT_FILENO)) < 0 ||
	    (rc = sys_dup2(errfd, STDERR_FILENO)) < 0)
		return rc;
	/* The stderr pipe was made non-blocking for superd's end: a program
	 * expects its writes to wait, not fail. */
	if (errfd == cx->sx_errfd &&
	    (rc = sys_fcntl(STDERR_FILENO, F_SETFL, 0)) < 0)
		return rc;
	/* Whatever superd inherited from its own parent goes too. */
	fds_from(3, CLOSE_RANGE_CLOEXEC);
	return 0;
}

static int
child_limits(const struct svc_conf *sc)
{
	struct rlimit	 rl;
	int		 i, rc;

	for (i = 0; i < LIMIT_COUNT; i++) {
		if (!sc->sc_limit_set[i])
			continue;
		rl.rlim_cur = rl.rlim_max = sc->sc_limit[i];
		if ((rc = sys_setrlimit(limit_resource[i], &rl)) < 0)
			return rc;
	}
	return 0;
}

/* Drops to the service's identity; never leaves the child root by mistake. */
static int
child_identity(const struct svc_conf *sc, const struct ident *id)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;
	int	 rc;

	if (!sc->sc_setid)
		return 0;
	if ((rc = sys_setgroups((size_t)id->id_ngroups, id->id_groups)) < 0 ||
	    (rc = sys_setresgid(id->id_gid)) < 0 ||
	    (rc = sys_setresuid(id->id_uid)) < 0)
		return rc;
	if (sys_getresuid(&ruid, &euid, &suid) < 0 ||
	    sys_getresgid(&rgid, &egid, &sgid) < 0 ||
	    ruid != id->id_uid || euid != id->id_uid || suid != id->id_uid ||
	    rgid != id->id_gid || egid != id->id_gid || sgid != id->id_gid)
		return -EPERM;
	if (id->id_uid != 0 && sys_setresuid(0) == 0)
		return -EPERM;
	return 0;
}

/*
 * A child started in superd's descriptor table leaves it before it
 * touches a descriptor, taking only those up to the highest it was given;
 * superd keeps those open until it sees *sx_unshared set (launch.c).
 */
static void
child_unshare_fds(struct spawn_ctx *cx)
{
	int	 top = STDERR_FILENO, rc;

	if (cx->sx_fd > top)
		top = cx->sx_fd;
	if (cx->sx_errfd > top)
		top = cx->sx_errfd;
	if (cx->sx_nullfd > top)
		top = cx->sx_nullfd;
	if ((rc = sys_unshare_fds_below((unsigned)top + 1)) < 0)
		child_fail(cx, STAGE_FDS, rc);
	__atomic_store_n(cx->sx_unshared, 1, __ATOMIC_RELEASE);
}

/* What the child does from its start to its exec. */
void __attribute__((noreturn))
child_run(struct spawn_ctx *cx)
{
	const struct svc_conf	*sc;
	int			 rc;

	if (cx->sx_unshared != NULL)
		child_unshare_fds(cx);
	signals_child_reset();
	if ((rc = sys_setsid()) < 0)
		child_fail(cx, STAGE_SESSION, rc);
	sc = cx->sx_sc;
	if ((rc = child_fds(cx)) < 0)
		child_fail(cx, STAGE_FDS, rc);
	if ((rc = child_limits(sc)) < 0)
		child_fail(cx, STAGE_LIMITS, rc);
	if (sc->sc_nice_set &&
	    (rc = sys_setpriority(PRIO_PROCESS, 0, sc->sc_nice)) < 0)
		child_fail(cx, STAGE_NICE, rc);
	if ((rc = child_identity(sc, cx->sx_id)) < 0)
		child_fail(cx, STAGE_IDENTITY, rc);
	if ((rc = sys_chdir(sc->sc_chdir)) < 0)
		child_fail(cx, STAGE_CHDIR, rc);
	sys_umask(022);
	if (sc->sc_builtin != BUILTIN_NONE) {
		/* No exec will close superd's listeners and pipes: do it now. */
		fds_from(3, 0);
		builtin_run(sc->sc_builtin, STDIN_FILENO);
	}
	if (cx->sx_env == NULL)
		child_fail(cx, STAGE_ENV, -ENOMEM);
	rc = sys_execve(sc->sc_server, sc->sc_argv, cx->sx_env);
	child_fail(cx, STAGE_EXEC, rc);
}

/*
 * How the child starts (launch.c).  A plain program shares superd's
 * memory until its exec, and superd goes on at once; in wait mode too,
 * where superd learns at the reap whether the program ran.  A child that
 * runs a builtin needs more than system calls: it is forked.  No child
 * reads from the client: superd has read what it had to (pending.c).
 */
static pid_t
launch(const struct svc_conf *sc, struct spawn_ctx *cx)
{
	if (sc->sc_builtin != BUILTIN_NONE)
		return launch_fork(cx);
	return launch_clone(cx);
}

/* Nothing started: the connection goes all the same. */
static pid_t
not_started(const struct peer *pe, int fd)
{
	int	 saved_errno = errno;

	if (pe != NULL)
		close(fd);
	errno = saved_errno;
	return -1;
}

static int
null_fd(void)
{
	static int	 fd = -1;

	if (fd == -1)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return fd;
}

/*
 * Starts one instance on fd: a connection, from the peer pe, or with pe
 * NULL the listener lent in wait mode.  A connection is superd's no longer:
 * closed here, or kept by launch.c until the child has left superd's
 * descriptor table.  el, empty (ERRLOG_NONE), returns the instance's
 * stderr pipe (errlog.c).
 *
 * Returns its pid, or -1 when it could not be started at all (errno EAGAIN
 * or ENOMEM: fork failed; EBUSY: too many of the service's children are
 * still short of their programs, launch.c).  A child that fails before
 * its exec has that logged when it is reaped (launch_reaped).
 */
pid_t
spawn_instance(struct service *sv, int fd, const struct peer *pe,
    struct errlog *el)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct spawn_ctx	 cx;
	int			 saved_errno;
	pid_t			 pid;

	memset(&cx, 0, sizeof(cx));
	cx.sx_sc = sc;
	cx.sx_id = &sv->sv_ident;
	cx.sx_fd = fd;
	cx.sx_errfd = -1;
	cx.sx_rep = -1;
	cx.sx_peer = pe;
	if (ident_resolve(&sv->sv_ident, sc, mono_ms()) == -1) {
		log_warn("%s: cannot start %s: user %s", sc->sc_name,
		    sc->sc_server != NULL ? sc->sc_server : "builtin",
		    sc->sc_user);
		return not_started(pe, fd);
	}
	if ((cx.sx_nullfd = null_fd()) == -1) {
		log_warn("%s: /dev/null", sc->sc_name);
		return not_started(pe, fd);
	}
	if (sc->sc_builtin == BUILTIN_NONE &&
	    (cx.sx_env = env_build(sc, pe)) == NULL) {
		log_warn("%s: environment", sc->sc_name);
		return not_started(pe, fd);
	}
	if (sc->sc_stderr == STDERR_LOG &&
	    (cx.sx_errfd = errlog_open(el, sv)) != -1)
		/* Kept until the reap (errlog.c): always in wait mode, else
		 * while descriptors are plentiful. */
		cx.sx_errkept = sc->sc_wait || fd_plentiful(cx.sx_errfd);
	/*
	 * superd has no signal handler (signals.c: its signals stay blocked
	 * and are read from a signalfd), so none can run in a child that
	 * shares its memory; the child unblocks them before its exec.
	 */
	pid = launch(sc, &cx);
	saved_errno = errno;
	env_free(cx.sx_env);
	/* A write end not kept is closed, unless launch_clone took it. */
	if (el->el_wfd != -1 && !cx.sx_errkept) {
		if (cx.sx_errfd != -1)
			close(cx.sx_errfd);
		el->el_wfd = -1;
	}
	if (pe != NULL && cx.sx_fd != -1)
		close(cx.sx_fd);
	if (pid == -1) {
		errlog_close(el, sv);
		errno = saved_errno;
		return -1;
	}
	return pid;
}
