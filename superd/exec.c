/*
 * exec.c - what runs in the new process, from clone or fork to execve.
 *
 * The child gets the connection on fds 0 and 1, fd 2 as `stderr` says and
 * nothing else; its own cgroup first where it has one (cgroup.c), so
 * that nothing it does next starts outside it; default signals, its own
 * session, the configured limits, nice value, confinement (the plan of
 * confine.c: namespaces, mounts, root, capabilities, no new privileges),
 * identity and directory, and the environment superd built for it.  A builtin is run here instead of
 * a program (builtin_run).
 *
 * Everything here was prepared by superd (spawn.c, launch.c): a child
 * started with clone(CLONE_VM) runs in superd's memory, on a stack of
 * SLOT_STACK bytes, while superd goes on.  So this code makes system
 * calls only through sys.h, which leave errno alone; it does not
 * allocate, look anything up, take a lock or touch stdio, and writes
 * nothing superd reads but its report and the word that says it left
 * superd's descriptor table.  It reads only its spawn context: the
 * service's configuration (kept until launch_settle), the identity and
 * environment its slot holds.  A failure is reported, never logged
 * (exec_fail), and the child ends with exit_group, never exit(): no
 * atexit handler of superd's runs in it.  A forked child runs the same
 * code; only there does exec_fail write to a pipe, and a builtin, in a
 * copy of superd's memory, may use libc.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "spawn_int.h"
#include "sys.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

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

/*
 * Tells the parent what failed (err is a negative errno, as sys.h gives):
 * through shared memory (clone) or the report pipe (fork).
 */
static void __attribute__((noreturn))
exec_fail(struct spawn_ctx *cx, enum stage stage, int err)
{
	struct report	 rp = { stage, -err };

	if (cx->sx_shared != NULL) {
		cx->sx_shared->rp_stage = rp.rp_stage;
		cx->sx_shared->rp_errno = rp.rp_errno;
	} else if (cx->sx_rep != -1)
		(void)!write(cx->sx_rep, &rp, sizeof(rp));
	sys_exit(rp.rp_errno == ENOENT ? 127 : 126);
}

/*
 * SIGPIPE back to default (every other disposition is default since
 * signals_init, signals.c), then an empty mask.
 */
static void
exec_signals(void)
{
	sys_signal_default(SIGPIPE);
	sys_unblock_all();
}

/* Each step returns 0 or a negative errno. */
static int
exec_fds(const struct spawn_ctx *cx)
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
exec_limits(const struct svc_conf *sc)
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

/*
 * A new network namespace has only a loopback interface, and it is down:
 * the instance's own 127.0.0.1 works once it is up.
 */
static int
exec_loopback(void)
{
	struct ifreq	 ifr = { 0 };
	int		 fd, rc;

	ifr.ifr_name[0] = 'l';
	ifr.ifr_name[1] = 'o';
	if ((fd = sys_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return fd;
	if ((rc = sys_ioctl(fd, SIOCGIFFLAGS, &ifr)) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = sys_ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	(void)sys_close(fd);
	return rc;
}

/* A fresh tmpfs on dir, where the root has one (a chroot may not). */
static int
exec_tmpfs(const char *dir)
{
	int	 rc;

	rc = sys_mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777");
	return rc == -ENOENT ? 0 : rc;
}

/*
 * The root moved by a descriptor of the directory opened without
 * following a symbolic link: a component of the path swapped for a link
 * since the configuration was checked takes the instance nowhere else.
 */
static int
exec_chroot(const char *dir)
{
	int	 fd, rc;

	if ((fd = sys_open_nofollow(dir, O_DIRECTORY)) < 0)
		return fd;
	rc = sys_fchdir(fd);
	(void)sys_close(fd);
	return rc < 0 ? rc : sys_chroot(".");
}

/*
 * A `writable` path mounted on itself, writable: a copy of its mounts
 * made writable while detached and attached on the very path opened,
 * both by descriptor, no symbolic link followed on the way.
 */
static int
exec_writable(const char *path)
{
	int	 fd, tree, rc;

	if ((fd = sys_open_nofollow(path, 0)) < 0)
		return fd;
	if ((tree = sys_open_tree_clone(fd)) < 0) {
		(void)sys_close(fd);
		return tree;
	}
	rc = sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, 0,
	    SYS_MOUNT_ATTR_RDONLY);
	if (rc == 0)
		rc = sys_move_mount(tree, fd);
	(void)sys_close(tree);
	(void)sys_close(fd);
	return rc;
}

/*
 * The bounding set down to the capabilities kept, while superd's
 * CAP_SETPCAP is still there: nothing the program execs can get others.
 */
static int
exec_bounding(const struct confine_plan *cp)
{
	int	 cap, rc;

	if (!cp->cp_caps)
		return 0;
	for (cap = 0; cap < CONFINE_CAPS; cap++) {
		if (cp->cp_keep & (1ULL << cap))
			continue;
		rc = sys_prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0);
		if (rc == -EINVAL)
			break;		/* past the kernel's last capability */
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Namespaces, mounts and root, in this order: mounts made private before
 * any is touched, so that none travels back to superd's namespace; the
 * whole tree read-only while the real root is still at hand; then the
 * chroot, inside which /tmp, /var/tmp and `writable` are found; those
 * last are mounts of their own, writable again.  Each failure names its
 * step; the instance never starts half confined.
 */
static int
exec_confine(const struct confine_plan *cp, enum stage *stage)
{
	char * const	*w;
	int		 rc;

	*stage = STAGE_NAMESPACES;
	if (cp->cp_unshare != 0 && (rc = sys_unshare(cp->cp_unshare)) < 0)
		return rc;
	*stage = STAGE_LOOPBACK;
	if (cp->cp_loopback && (rc = exec_loopback()) < 0)
		return rc;
	*stage = STAGE_PROPAGATION;
	if (cp->cp_private_mounts && (rc = sys_mount(NULL, "/", NULL,
	    MS_REC | MS_PRIVATE, NULL)) < 0)
		return rc;
	*stage = STAGE_READ_ONLY;
	if (cp->cp_read_only && (rc = sys_mount_setattr_tree("/",
	    SYS_MOUNT_ATTR_RDONLY, 0)) < 0)
		return rc;
	*stage = STAGE_CHROOT;
	if (cp->cp_chroot != NULL && (rc = exec_chroot(cp->cp_chroot)) < 0)
		return rc;
	*stage = STAGE_PRIVATE_TMP;
	if (cp->cp_private_tmp && ((rc = exec_tmpfs("/tmp")) < 0 ||
	    (rc = exec_tmpfs("/var/tmp")) < 0))
		return rc;
	*stage = STAGE_WRITABLE;
	for (w = cp->cp_writable; w != NULL && *w != NULL; w++)
		if ((rc = exec_writable(*w)) < 0)
			return rc;
	*stage = STAGE_BOUNDING;
	return exec_bounding(cp);
}

/*
 * Exactly the capabilities kept, in every set: a user other than root
 * holds them through setuid (PR_SET_KEEPCAPS) and exec (ambient).
 */
static int
exec_caps(const struct confine_plan *cp)
{
	int	 cap, rc;

	if (!cp->cp_caps)
		return 0;
	if ((rc = sys_capset_all(cp->cp_keep)) < 0 ||
	    (rc = sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0)) < 0)
		return rc;
	for (cap = 0; cp->cp_ambient && cap < CONFINE_CAPS; cap++)
		if ((cp->cp_keep & (1ULL << cap)) && (rc = sys_prctl(
		    PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap)) < 0)
			return rc;
	return 0;
}

/*
 * Drops to the service's identity; never leaves the child root by
 * mistake.  Capabilities kept for a user other than root survive the
 * switch in the permitted set only, so the check below still holds.
 */
static int
exec_identity(const struct svc_conf *sc, const struct ident *id,
    const struct confine_plan *cp)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;
	int	 rc;

	if (!sc->sc_setid)
		return 0;
	if (cp->cp_ambient && (rc = sys_prctl(PR_SET_KEEPCAPS, 1, 0)) < 0)
		return rc;
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
	if (cp->cp_ambient && (rc = sys_prctl(PR_SET_KEEPCAPS, 0, 0)) < 0)
		return rc;
	return 0;
}

/*
 * A child started in superd's descriptor table leaves it before it
 * touches a descriptor, taking only those up to the highest it was given;
 * superd keeps those open until it sees *sx_unshared set (launch.c).
 */
static void
exec_unshare_fds(struct spawn_ctx *cx)
{
	int	 top = STDERR_FILENO, rc;

	if (cx->sx_fd > top)
		top = cx->sx_fd;
	if (cx->sx_errfd > top)
		top = cx->sx_errfd;
	if (cx->sx_nullfd > top)
		top = cx->sx_nullfd;
	if (cx->sx_cgfd > top)
		top = cx->sx_cgfd;
	if ((rc = sys_unshare_fds_below((unsigned)top + 1)) < 0)
		exec_fail(cx, STAGE_FDS, rc);
	__atomic_store_n(cx->sx_unshared, 1, __ATOMIC_RELEASE);
}

/* What the child does from its start to its exec. */
void __attribute__((noreturn))
exec_run(struct spawn_ctx *cx)
{
	const struct svc_conf	*sc;
	enum stage		 stage;
	int			 rc;

	if (cx->sx_unshared != NULL)
		exec_unshare_fds(cx);
	if (cx->sx_cgfd != -1 &&
	    (rc = sys_cgroup_enter(cx->sx_cgfd, cx->sx_cgprocs)) < 0)
		exec_fail(cx, STAGE_CGROUP, rc);
	exec_signals();
	if ((rc = sys_setsid()) < 0)
		exec_fail(cx, STAGE_SESSION, rc);
	sc = cx->sx_sc;
	if ((rc = exec_fds(cx)) < 0)
		exec_fail(cx, STAGE_FDS, rc);
	if ((rc = exec_limits(sc)) < 0)
		exec_fail(cx, STAGE_LIMITS, rc);
	if (sc->sc_nice_set &&
	    (rc = sys_setpriority(PRIO_PROCESS, 0, sc->sc_nice)) < 0)
		exec_fail(cx, STAGE_NICE, rc);
	if ((rc = exec_confine(&cx->sx_plan, &stage)) < 0)
		exec_fail(cx, stage, rc);
	if ((rc = exec_identity(sc, cx->sx_id, &cx->sx_plan)) < 0)
		exec_fail(cx, STAGE_IDENTITY, rc);
	if ((rc = exec_caps(&cx->sx_plan)) < 0)
		exec_fail(cx, STAGE_CAPABILITIES, rc);
	if (cx->sx_plan.cp_no_new_privs &&
	    (rc = sys_prctl(PR_SET_NO_NEW_PRIVS, 1, 0)) < 0)
		exec_fail(cx, STAGE_NO_NEW_PRIVS, rc);
	if ((rc = sys_chdir(sc->sc_chdir)) < 0)
		exec_fail(cx, STAGE_CHDIR, rc);
	sys_umask(022);
	if (sc->sc_builtin != BUILTIN_NONE) {
		/* No exec will close superd's listeners and pipes: do it now. */
		fds_from(3, 0);
		builtin_run(sc->sc_builtin, STDIN_FILENO);
	}
	if (cx->sx_env == NULL)
		exec_fail(cx, STAGE_ENV, -ENOMEM);
	rc = sys_execve(sc->sc_server, sc->sc_argv, cx->sx_env);
	exec_fail(cx, STAGE_EXEC, rc);
}
