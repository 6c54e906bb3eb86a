/*
 * sys.h - the system calls a child makes between its start and exec.
 *
 * A child started with clone(CLONE_VM) runs in superd's memory while
 * superd goes on (launch.c), so it must not write anything superd reads:
 * not even errno, which the two share.  Each call here returns its result,
 * or -errno, and on x86-64 and arm64 goes straight to the kernel without
 * touching libc's state.  Elsewhere (or built with -DSUPERD_SYS_LIBC, as
 * `make check-sys-libc` does to test that path) the libc wrappers stand
 * in, and the child is forked instead.
 */
#ifndef SUPERD_SYS_H
#define SUPERD_SYS_H

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#if !defined(SUPERD_SYS_LIBC) && defined(__linux__) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define SYS_RAW	1

static inline long
sys6(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long	 r10 __asm__("r10") = d;
	register long	 r8 __asm__("r8") = e;
	register long	 r9 __asm__("r9") = f;
	long		 ret;

	__asm__ volatile ("syscall"
	    : "=a"(ret)
	    : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	    : "rcx", "r11", "memory");
	return ret;
#else
	register long	 x8 __asm__("x8") = nr;
	register long	 x0 __asm__("x0") = a;
	register long	 x1 __asm__("x1") = b;
	register long	 x2 __asm__("x2") = c;
	register long	 x3 __asm__("x3") = d;
	register long	 x4 __asm__("x4") = e;
	register long	 x5 __asm__("x5") = f;

	__asm__ volatile ("svc 0"
	    : "+r"(x0)
	    : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
	    : "memory", "cc");
	return x0;
#endif
}

#define SYS(nr, a, b, c, d)	SYS6(nr, a, b, c, d, 0, 0)
#define SYS6(nr, a, b, c, d, e, f) \
	sys6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), \
	    (long)(f))
#define LIBC(call)		(-ENOSYS)

#else /* libc's wrappers; the caller is a forked child */
#define SYS_RAW	0
#define SYS(nr, a, b, c, d)	(-ENOSYS)
#define SYS6(nr, a, b, c, d, e, f) (-ENOSYS)
#define LIBC(call)		((call) == -1 ? -errno : 0)
#endif

/* The kernel's sigaction for SIG_DFL: all zero, whatever the layout. */
struct sys_sigaction {
	unsigned long	 ss_words[4];
};

static inline int
sys_setsid(void)
{
	return SYS_RAW ? (int)SYS(SYS_setsid, 0, 0, 0, 0) :
	    LIBC(setsid());
}

static inline int
sys_setsockopt_on(int fd, int level, int name)
{
	int	 on = 1;

	return SYS_RAW ? (int)SYS6(SYS_setsockopt, fd, level, name, &on,
	    sizeof(on), 0) :
	    LIBC(setsockopt(fd, level, name, &on, sizeof(on)));
}

/* dup2, which arm64 only has as dup3 (and dup3 refuses old == new). */
static inline int
sys_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return SYS_RAW ? (int)SYS(SYS_fcntl, newfd, F_SETFD, 0, 0) :
		    LIBC(fcntl(newfd, F_SETFD, 0));
	return SYS_RAW ? (int)SYS(SYS_dup3, oldfd, newfd, 0, 0) :
	    LIBC(dup2(oldfd, newfd));
}

static inline int
sys_fcntl(int fd, int cmd, int arg)
{
	return SYS_RAW ? (int)SYS(SYS_fcntl, fd, cmd, arg, 0) :
	    LIBC(fcntl(fd, cmd, arg));
}

static inline int
sys_close(int fd)
{
	return SYS_RAW ? (int)SYS(SYS_close, fd, 0, 0, 0) : LIBC(close(fd));
}

#ifndef SYS_close_range
#define SYS_close_range	436	/* one number on every architecture */
#endif

static inline int
sys_close_range(unsigned lowfd, unsigned highfd, unsigned flags)
{
	return SYS_RAW ? (int)SYS(SYS_close_range, lowfd, highfd, flags, 0) :
	    LIBC(syscall(SYS_close_range, lowfd, highfd, flags));
}

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE	(1U << 1)
#endif

/*
 * A child started in superd's descriptor table (CLONE_FILES) leaves it
 * for a copy of the descriptors below lowfd alone: those above (superd's
 * listeners) are neither copied nor closed.  Before Linux 5.9 the whole
 * table is copied, and exec closes the rest.
 */
static inline int
sys_unshare_fds_below(unsigned lowfd)
{
	int	 rc = sys_close_range(lowfd, ~0U, CLOSE_RANGE_UNSHARE);

	if (rc == -EINVAL || rc == -ENOSYS)
		rc = SYS_RAW ? (int)SYS(SYS_unshare, CLONE_FILES, 0, 0, 0) :
		    LIBC(unshare(CLONE_FILES));
	return rc;
}

static inline int
sys_setrlimit(int resource, const struct rlimit *rl)
{
	return SYS_RAW ? (int)SYS(SYS_prlimit64, 0, resource, rl, 0) :
	    LIBC(setrlimit(resource, rl));
}

static inline int
sys_setpriority(int which, int who, int prio)
{
	return SYS_RAW ? (int)SYS(SYS_setpriority, which, who, prio, 0) :
	    LIBC(setpriority(which, who, prio));
}

static inline int
sys_setgroups(size_t n, const gid_t *groups)
{
	return SYS_RAW ? (int)SYS(SYS_setgroups, n, groups, 0, 0) :
	    LIBC(setgroups(n, groups));
}

/* Real, effective and saved ids at once, as POSIX setgid/setuid set them
 * for root. */
static inline int
sys_setresgid(gid_t gid)
{
	return SYS_RAW ? (int)SYS(SYS_setresgid, gid, gid, gid, 0) :
	    LIBC(setresgid(gid, gid, gid));
}

static inline int
sys_setresuid(uid_t uid)
{
	return SYS_RAW ? (int)SYS(SYS_setresuid, uid, uid, uid, 0) :
	    LIBC(setresuid(uid, uid, uid));
}

static inline int
sys_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
	return SYS_RAW ? (int)SYS(SYS_getresuid, r, e, s, 0) :
	    LIBC(getresuid(r, e, s));
}

static inline int
sys_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
	return SYS_RAW ? (int)SYS(SYS_getresgid, r, e, s, 0) :
	    LIBC(getresgid(r, e, s));
}

static inline int
sys_chdir(const char *path)
{
	return SYS_RAW ? (int)SYS(SYS_chdir, path, 0, 0, 0) : LIBC(chdir(path));
}

static inline void
sys_umask(mode_t mask)
{
	if (SYS_RAW)
		(void)SYS(SYS_umask, mask, 0, 0, 0);
	else
		(void)umask(mask);
}

/* ---------------------------------------------------------------------
 * Confinement (exec.c, as confine.c planned it).
 */

static inline int
sys_unshare(int flags)
{
	return SYS_RAW ? (int)SYS(SYS_unshare, flags, 0, 0, 0) :
	    LIBC(unshare(flags));
}

static inline int
sys_mount(const char *src, const char *target, const char *type,
    unsigned long flags, const char *data)
{
	return SYS_RAW ? (int)SYS6(SYS_mount, src, target, type, flags, data,
	    0) : LIBC(mount(src, target, type, flags, data));
}

#ifndef SYS_mount_setattr
#define SYS_mount_setattr	442	/* one number on every architecture */
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE		0x8000
#endif
#define SYS_MOUNT_ATTR_RDONLY	0x00000001ULL

/* The kernel's struct mount_attr (<linux/mount.h> clashes with libc's). */
struct sys_mount_attr {
	unsigned long long	 ma_set;
	unsigned long long	 ma_clr;
	unsigned long long	 ma_propagation;
	unsigned long long	 ma_userns_fd;
};

/* Sets and clears mount attributes of the mount at dfd and path. */
static inline int
sys_mount_setattr(int dfd, const char *path, unsigned flags,
    unsigned long long set, unsigned long long clr)
{
	struct sys_mount_attr	 ma = { set, clr, 0, 0 };

	return SYS_RAW ? (int)SYS6(SYS_mount_setattr, dfd, path, flags, &ma,
	    sizeof(ma), 0) :
	    LIBC(syscall(SYS_mount_setattr, dfd, path, flags, &ma,
	    sizeof(ma)));
}

/* The same, on the mount at path and those below. */
static inline int
sys_mount_setattr_tree(const char *path, unsigned long long set,
    unsigned long long clr)
{
	return sys_mount_setattr(AT_FDCWD, path, AT_RECURSIVE, set, clr);
}

#ifndef SYS_openat2
#define SYS_openat2		437	/* one number on every architecture */
#endif
#ifndef SYS_open_tree
#define SYS_open_tree		428	/* one number on every architecture */
#endif
#ifndef SYS_move_mount
#define SYS_move_mount		429	/* one number on every architecture */
#endif
#define SYS_RESOLVE_NO_SYMLINKS	0x04ULL
#define SYS_OPEN_TREE_CLONE	1U
#define SYS_MOVE_MOUNT_F_EMPTY_PATH 0x04U
#define SYS_MOVE_MOUNT_T_EMPTY_PATH 0x40U

/* The kernel's struct open_how. */
struct sys_open_how {
	unsigned long long	 oh_flags;
	unsigned long long	 oh_mode;
	unsigned long long	 oh_resolve;
};

/* A new descriptor from a call that makes one, or -errno (libc's way). */
static inline int
sys_libc_fd(long fd)
{
	return fd == -1 ? -errno : (int)fd;
}

/*
 * An O_PATH descriptor of path, resolved without following any symbolic
 * link on the way (ELOOP if one is there): what it names cannot be
 * swapped for a link to elsewhere.  Linux 5.6 and later (openat2).
 */
static inline int
sys_open_nofollow(const char *path, int flags)
{
	struct sys_open_how	 how = {
		(unsigned long long)(O_PATH | O_CLOEXEC | flags), 0,
		SYS_RESOLVE_NO_SYMLINKS
	};

	return SYS_RAW ? (int)SYS(SYS_openat2, AT_FDCWD, path, &how,
	    sizeof(how)) :
	    sys_libc_fd(syscall(SYS_openat2, AT_FDCWD, path, &how,
	    sizeof(how)));
}

/*
 * The caller moved into a cgroup: "0" written to its cgroup.procs, at
 * path below the directory dirfd (no symbolic link on the way: cgroupfs
 * has none).
 */
static inline int
sys_cgroup_enter(int dirfd, const char *path)
{
	long	 rc;
	int	 fd;

	fd = SYS_RAW ? (int)SYS(SYS_openat, dirfd, path,
	    O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0) :
	    sys_libc_fd(openat(dirfd, path, O_WRONLY | O_CLOEXEC |
	    O_NOFOLLOW));
	if (fd < 0)
		return fd;
	rc = SYS_RAW ? SYS(SYS_write, fd, "0", 1, 0) :
	    write(fd, "0", 1) == -1 ? -errno : 1;
	(void)sys_close(fd);
	return rc < 0 ? (int)rc : 0;
}

/* A detached copy of the mounts at fd and below (open_tree). */
static inline int
sys_open_tree_clone(int fd)
{
	unsigned	 flags = SYS_OPEN_TREE_CLONE | O_CLOEXEC |
			    AT_EMPTY_PATH | AT_RECURSIVE;

	return SYS_RAW ? (int)SYS(SYS_open_tree, fd, "", flags, 0) :
	    sys_libc_fd(syscall(SYS_open_tree, fd, "", flags));
}

/* The mount tree at from_fd attached on what to_fd names. */
static inline int
sys_move_mount(int from_fd, int to_fd)
{
	unsigned	 flags = SYS_MOVE_MOUNT_F_EMPTY_PATH |
			    SYS_MOVE_MOUNT_T_EMPTY_PATH;

	return SYS_RAW ? (int)SYS6(SYS_move_mount, from_fd, "", to_fd, "",
	    flags, 0) :
	    LIBC(syscall(SYS_move_mount, from_fd, "", to_fd, "", flags));
}

static inline int
sys_fchdir(int fd)
{
	return SYS_RAW ? (int)SYS(SYS_fchdir, fd, 0, 0, 0) : LIBC(fchdir(fd));
}

static inline int
sys_chroot(const char *path)
{
	return SYS_RAW ? (int)SYS(SYS_chroot, path, 0, 0, 0) :
	    LIBC(chroot(path));
}

static inline int
sys_prctl(int option, unsigned long a, unsigned long b)
{
	return SYS_RAW ? (int)SYS6(SYS_prctl, option, a, b, 0, 0, 0) :
	    LIBC(prctl(option, a, b, 0UL, 0UL));
}

/* The kernel's capability header and sets, version 3 (64 bits). */
struct sys_cap_header {
	unsigned int		 ch_version;
	int			 ch_pid;
};
struct sys_cap_data {
	unsigned int		 cd_effective;
	unsigned int		 cd_permitted;
	unsigned int		 cd_inheritable;
};
#define SYS_CAP_VERSION_3	0x20080522

/* Effective, permitted and inheritable: exactly the capabilities in keep. */
static inline int
sys_capset_all(unsigned long long keep)
{
	struct sys_cap_header	 hdr = { SYS_CAP_VERSION_3, 0 };
	struct sys_cap_data	 data[2] = {
		{ (unsigned)keep, (unsigned)keep, (unsigned)keep },
		{ (unsigned)(keep >> 32), (unsigned)(keep >> 32),
		    (unsigned)(keep >> 32) },
	};

	return SYS_RAW ? (int)SYS(SYS_capset, &hdr, data, 0, 0) :
	    LIBC(syscall(SYS_capset, &hdr, data));
}

static inline int
sys_socket(int domain, int type, int protocol)
{
	int	 fd;

	if (SYS_RAW)
		return (int)SYS(SYS_socket, domain, type, protocol, 0);
	fd = socket(domain, type, protocol);
	return fd == -1 ? -errno : fd;
}

static inline int
sys_ioctl(int fd, unsigned long request, void *arg)
{
	return SYS_RAW ? (int)SYS(SYS_ioctl, fd, request, arg, 0) :
	    LIBC(ioctl(fd, request, arg));
}

static inline int
sys_execve(const char *path, char *const argv[], char *const envp[])
{
	return SYS_RAW ? (int)SYS(SYS_execve, path, argv, envp, 0) :
	    LIBC(execve(path, argv, envp));
}

static inline void __attribute__((noreturn))
sys_exit(int status)
{
	if (SYS_RAW)
		for (;;)
			(void)SYS(SYS_exit_group, status, 0, 0, 0);
	_exit(status);
}

/* Back to the default action: what exec does not reset by itself. */
static inline void
sys_signal_default(int signo)
{
#if SYS_RAW
	struct sys_sigaction	 ksa = { { 0, 0, 0, 0 } };

	(void)SYS(SYS_rt_sigaction, signo, &ksa, 0, _NSIG / 8);
#else
	struct sigaction	 sa;

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_DFL;
	(void)sigaction(signo, &sa, NULL);
#endif
}

static inline void
sys_unblock_all(void)
{
#if SYS_RAW
	unsigned long	 none[_NSIG / (8 * sizeof(unsigned long))] = { 0 };

	(void)SYS(SYS_rt_sigprocmask, SIG_SETMASK, none, 0, _NSIG / 8);
#else
	sigset_t	 empty;

	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
#endif
}

#endif /* SUPERD_SYS_H */
