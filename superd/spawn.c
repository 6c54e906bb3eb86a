/*
 * spawn.c - the parent's side of a start: what a child is given.
 *
 * superd resolves the identity, opens /dev/null and the stderr pipe and
 * builds the environment, so that the child (exec.c) has nothing left to
 * look up or allocate; launch.c starts it.  What superd lent it, it
 * closes afterwards, unless launch.c keeps it until the child has its
 * own copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "spawn_int.h"

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
 * With `timeout`, cg returns the instance's own cgroup (cgroup.c; ci_pid
 * 0 where it has none), which the child enters first.
 *
 * Returns its pid, or -1 when it could not be started at all (errno EAGAIN
 * or ENOMEM: fork failed; EBUSY: too many of the service's children are
 * still short of their programs, launch.c).  A child that fails before
 * its exec has that logged when it is reaped (launch_reaped).
 */
pid_t
spawn_instance(struct service *sv, int fd, const struct peer *pe,
    struct errlog *el, struct cginst *cg)
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
	cx.sx_cgfd = -1;
	cg->ci_pid = 0;
	cx.sx_peer = pe;
	if (ident_resolve(&sv->sv_ident, sc, mono_ms()) == -1) {
		log_warn("%s: cannot start %s: user %s", sc->sc_name,
		    sc->sc_server != NULL ? sc->sc_server : "builtin",
		    sc->sc_user);
		return not_started(pe, fd);
	}
	confine_plan(sc, sv->sv_ident.id_uid, &cx.sx_plan);
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
	if (sc->sc_timeout > 0 && cgroup_instance(sc->sc_name, cg) == 0)
		cx.sx_cgfd = cgroup_procs(cg, cx.sx_cgprocs,
		    sizeof(cx.sx_cgprocs));
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
		cgroup_end(cg, 0, 0);
		errno = saved_errno;
		return -1;
	}
	return pid;
}
