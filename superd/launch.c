/*
 * launch.c - how a prepared child starts.
 *
 * A plain program that accepts no wait starts with clone(CLONE_VM): the
 * child runs in superd's memory on a stack of its own, and superd goes on
 * at once, without copying page tables (fork) or sleeping until the exec
 * (vfork).  The child makes only system calls (sys.h) and reads only its
 * slot: a copy of the spawn context and of the identity, and the
 * environment, which the slot owns.  The kernel clears the slot's busy
 * word when the child execs or exits (CLONE_CHILD_CLEARTID), and only
 * then is the slot reused.  A failure before exec waits in the slot until
 * superd reaps the child.
 *
 * With many listeners, placed high (fds.c), the child also starts in
 * superd's descriptor table (CLONE_FILES) and leaves it first, for a copy
 * of the low descriptors only: neither superd's clone nor the child's exec
 * then touches every listener.  Until the child has left, superd keeps
 * the connection it was given open (launch_release), and the write end of
 * its stderr pipe where superd does not keep that anyway (errlog.c).
 *
 * What a starting child still reads through its context (the service's
 * configuration) is only freed after launch_settle().
 *
 * A wait-mode program starts with vfork, so that superd knows at once
 * whether it runs; so does every program where clone(CLONE_VM) is refused
 * (a seccomp filter), not used (sys.h), or SUPERD_SPAWN_VFORK is set in
 * superd's environment (valgrind, which exits on such a clone).  Builtins
 * and children that read the client first (a PROXY header) are forked,
 * and report over a pipe.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn_int.h"
#include "sys.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
/* A child's frames stay poisoned when it execs: clear them for the next. */
#define STACK_FRESH(top)	ASAN_UNPOISON_MEMORY_REGION((top) - SLOT_STACK, \
				    SLOT_STACK)
#else
#define STACK_FRESH(top)	((void)0)
#endif

#define SLOTS_MAX	32
#define SLOT_STACK	(64 * 1024)	/* deep enough for child_run */

struct slot {
	volatile pid_t		 sl_busy;	/* zeroed by the kernel */
	volatile int		 sl_unshared;	/* set by the child */
	int			 sl_held[2];	/* closed once it is set */
	pid_t			 sl_pid;	/* 0: free */
	struct report		 sl_report;
	unsigned long		 sl_seq;	/* order of the starts */
	struct spawn_ctx	 sl_cx;
	struct ident		 sl_id;		/* id_groups is sl_groups */
	gid_t			*sl_groups;
	int			 sl_groupcap;
	char			*sl_stack;	/* its top; a guard page below */
};

/*
 * Children on their way to exec at once: two per CPU (one execing, one
 * ready behind it), at least four.  Starting more floods the run queue
 * with execs that compete for the same CPUs: p99 latency grows with the
 * bound (measured at 32 clients: +4 % at three per CPU, +9 % at four, +30 %
 * at sixteen) for a few percent less CPU and no more throughput in full
 * runs.  Fewer makes superd wait more often.  At the bound superd waits
 * for the oldest child's exec, as it would with vfork.
 */
static struct slot	 slots[SLOTS_MAX];
static int		 nslots;
static unsigned long	 nstarts;
static int		 clone_off;	/* no stacks, or clone refused */

static int
slots_wanted(void)
{
	long	 cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 2)
		return 4;
	return cpus * 2 > SLOTS_MAX ? SLOTS_MAX : (int)cpus * 2;
}

/* One mapping for every stack, each above a guard page. */
static int
stacks_map(void)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE), each = SLOT_STACK + page;
	char	*base;
	int	 i, n = slots_wanted();

	base = mmap(NULL, each * (size_t)n, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	for (i = 0; i < n; i++) {
		slots[i].sl_held[0] = slots[i].sl_held[1] = -1;
		if (mprotect(base + (size_t)i * each, page, PROT_NONE) == -1) {
			(void)munmap(base, each * (size_t)n);
			return -1;
		}
		slots[i].sl_stack = base + (size_t)(i + 1) * each;
	}
	nslots = n;
	return 0;
}

static int
slot_started(const struct slot *sl)
{
	return __atomic_load_n(&sl->sl_busy, __ATOMIC_ACQUIRE) == 0;
}

/* Sleeps until the slot's child has exec'd or exited (or 10 ms passed). */
static void
slot_wait(struct slot *sl)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	pid_t		 busy = sl->sl_busy;

	if (busy != 0)
		(void)syscall(SYS_futex, &sl->sl_busy, FUTEX_WAIT, busy, &ts,
		    NULL, 0);
}

/* superd's copies of what the child was given, once it has its own. */
static void
slot_release(struct slot *sl)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (sl->sl_held[i] != -1) {
			close(sl->sl_held[i]);
			sl->sl_held[i] = -1;
		}
}

/* The child is past its exec: log what failed, free what it read. */
static void
slot_finish(struct slot *sl)
{
	slot_release(sl);
	if (sl->sl_report.rp_stage != -1)
		log_spawn_failure(sl->sl_cx.sx_sc, sl->sl_report.rp_stage,
		    sl->sl_report.rp_errno);
	env_free(sl->sl_cx.sx_env);
	sl->sl_cx.sx_env = NULL;
	sl->sl_pid = 0;
}

/* Waits for the slot's child to pass its exec, then finishes the slot. */
static void
slot_drain(struct slot *sl)
{
	while (!slot_started(sl))
		slot_wait(sl);
	slot_finish(sl);
}

/* The lowest free slot, finishing those whose children started. */
static struct slot *
slot_take(void)
{
	struct slot	*oldest;
	int		 i;

	for (;;) {
		oldest = &slots[0];
		for (i = 0; i < nslots; i++) {
			if (slots[i].sl_pid != 0 && slot_started(&slots[i]))
				slot_finish(&slots[i]);
			if (slots[i].sl_pid == 0)
				return &slots[i];
			if (slots[i].sl_seq < oldest->sl_seq)
				oldest = &slots[i];
		}
		/* Every child is on its way to exec: not for long. */
		slot_wait(oldest);
	}
}

/* The identity with its groups copied: a refresh may free the original. */
static int
slot_copy_ident(struct slot *sl, const struct ident *id)
{
	gid_t	*groups;

	if (id->id_ngroups > sl->sl_groupcap) {
		if ((groups = realloc(sl->sl_groups, (size_t)id->id_ngroups *
		    sizeof(*groups))) == NULL)
			return -1;
		sl->sl_groups = groups;
		sl->sl_groupcap = id->id_ngroups;
	}
	sl->sl_id = *id;
	if (id->id_ngroups > 0)
		memcpy(sl->sl_groups, id->id_groups,
		    (size_t)id->id_ngroups * sizeof(*sl->sl_groups));
	sl->sl_id.id_groups = sl->sl_groups;
	return 0;
}

static int
slot_child(void *arg)
{
	struct slot	*sl = arg;

	child_run(&sl->sl_cx);
}

/*
 * Starts the child and returns at once.  The slot takes the environment
 * (cx->sx_env becomes NULL); a failure before exec is logged when the
 * child is reaped (launch_reaped).  Where clone cannot be used, this is
 * launch_vfork().
 */
pid_t
launch_clone(struct spawn_ctx *cx, struct report *out)
{
	struct slot	*sl;
	pid_t		 pid;
	int		 share;

	if (!SYS_RAW || clone_off || (slots[0].sl_stack == NULL &&
	    (getenv("SUPERD_SPAWN_VFORK") != NULL || stacks_map() == -1))) {
		clone_off = 1;
		return launch_vfork(cx, out);
	}
	sl = slot_take();
	if (slot_copy_ident(sl, cx->sx_id) == -1)
		return -1;
	sl->sl_cx = *cx;
	sl->sl_cx.sx_id = &sl->sl_id;
	sl->sl_cx.sx_shared = &sl->sl_report;
	sl->sl_report.rp_stage = -1;
	sl->sl_report.rp_errno = 0;
	/* Listeners placed high: the child leaves them behind (fds.c). */
	share = fds_placed() > 0 ? CLONE_FILES : 0;
	sl->sl_cx.sx_unshared = share ? &sl->sl_unshared : NULL;
	sl->sl_unshared = 0;
	sl->sl_busy = 1;
	STACK_FRESH(sl->sl_stack);
	pid = clone(slot_child, sl->sl_stack, CLONE_VM | share |
	    CLONE_CHILD_CLEARTID | SIGCHLD, sl, NULL, NULL, &sl->sl_busy);
	if (pid == -1) {
		sl->sl_cx.sx_env = NULL;	/* still the caller's */
		if (errno != EINVAL && errno != ENOSYS && errno != EPERM)
			return -1;
		/* A seccomp filter, say: vfork from now on. */
		clone_off = 1;
		log_info("clone refused (%s): starting programs with vfork",
		    strerror(errno));
		return launch_vfork(cx, out);
	}
	sl->sl_pid = pid;
	sl->sl_seq = ++nstarts;
	/* Closed in the shared table, they would be gone for the child too. */
	if (share != 0) {
		sl->sl_held[0] = cx->sx_fd;
		cx->sx_fd = -1;
		if (!cx->sx_errkept) {
			sl->sl_held[1] = cx->sx_errfd;
			cx->sx_errfd = -1;
		}
	}
	cx->sx_env = NULL;
	out->rp_stage = -1;
	return pid;
}

/*
 * Closes superd's copies of what children were given, for those that
 * have left superd's descriptor table.  Returns whether a child has yet
 * to: its client sees the end of the connection only once both copies
 * are closed, so superd looks again soon (loop.c).
 */
int
launch_release(void)
{
	int	 i, waiting = 0;

	for (i = 0; i < nslots; i++) {
		if (slots[i].sl_held[0] == -1 && slots[i].sl_held[1] == -1)
			continue;
		if (__atomic_load_n(&slots[i].sl_unshared, __ATOMIC_ACQUIRE))
			slot_release(&slots[i]);
		else
			waiting = 1;
	}
	return waiting;
}

/* A child was reaped: its slot, if it still holds one, is done. */
void
launch_reaped(pid_t pid)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].sl_pid == pid) {
			slot_drain(&slots[i]);
			return;
		}
}

/* Before a configuration is freed: no child may still be reading it. */
void
launch_settle(void)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].sl_pid != 0)
			slot_drain(&slots[i]);
}

/* The parent sleeps until the child's exec: no page tables are copied. */
pid_t
launch_vfork(struct spawn_ctx *cx, struct report *out)
{
	volatile struct report	 shared = { -1, 0 };
	pid_t			 pid;

	cx->sx_shared = &shared;
	pid = vfork();
	if (pid == 0)
		child_run(cx);
	out->rp_stage = shared.rp_stage;
	out->rp_errno = shared.rp_errno;
	return pid;
}

/* The child reports over a close-on-exec pipe: EOF once exec succeeded. */
pid_t
launch_fork(struct spawn_ctx *cx, struct report *out)
{
	int	 rep[2], saved;
	pid_t	 pid;
	ssize_t	 n;

	if (pipe2(rep, O_CLOEXEC) == -1)
		return -1;
	cx->sx_rep = rep[1];
	if ((pid = fork()) == 0) {
		close(rep[0]);
		child_run(cx);
	}
	saved = errno;
	close(rep[1]);
	if (pid != -1) {
		do
			n = read(rep[0], out, sizeof(*out));
		while (n == -1 && errno == EINTR);
		if (n != sizeof(*out))
			out->rp_stage = -1;
	}
	close(rep[0]);
	errno = saved;
	return pid;
}
