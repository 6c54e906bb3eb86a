/*
 * launch.c - how a prepared child starts, and how long superd lets it
 * take to reach its program.
 *
 * A plain program starts with clone(CLONE_VM): the child runs in superd's
 * memory on a stack of its own, and superd goes on at once, without
 * copying page tables (fork) or sleeping until the exec (vfork).  The
 * child (exec.c) makes only system calls (sys.h) and reads only its slot:
 * a copy of the spawn context and of the identity, and the environment,
 * which the slot owns.  The kernel clears the slot's busy word when the child
 * execs or exits (CLONE_CHILD_CLEARTID), and only then is the slot
 * reused.  A failure before exec waits in the slot until superd reaps the
 * child, and is logged then; in wait mode the reap is also where superd
 * learns that the program never ran (launch_reaped).
 *
 * With many listeners, placed high (fds.c), the child also starts in
 * superd's descriptor table (CLONE_FILES) and leaves it first, for a copy
 * of the low descriptors only: neither superd's clone nor the child's exec
 * then touches every listener.  Until the child has left, superd keeps
 * the connection it was given open (launch_pending), and the write end of
 * its stderr pipe where superd does not keep that anyway (errlog.c).
 *
 * Builtins are forked, and so is every program where clone(CLONE_VM) is
 * refused (a seccomp filter), not used (sys.h), or SUPERD_SPAWN_VFORK is
 * set in superd's environment (valgrind, which exits on such a clone).  A
 * forked child reports over a close-on-exec pipe, which superd reads
 * without waiting: it holds a slot too, without a stack.
 *
 * Once the child has switched to the service's user, that user can stop
 * it before its exec; superd never waits for such a child beyond a short
 * bound.  A child still short of its program after EXEC_GRACE_MS is
 * killed, and one service cannot hold more than SLOTS_SERVICE slots, so
 * the others can still start theirs.  What a starting child still reads
 * through its context (the service's configuration) is only freed after
 * launch_settle().
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
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

/*
 * Children short of their programs at once, and of those one service's:
 * a service with 16 children on their way has a problem a 17th will not
 * solve (a stopped child holds its slot until its grace ends), and the
 * rest stays for the other services.
 */
#define SLOTS_MAX	64
#define SLOTS_SERVICE	16
#define SLOT_STACK	(64 * 1024)	/* deep enough for exec_run */
#define SLOT_WAIT_MS	10	/* the longest a start waits for a slot */

/*
 * From its start to its exec a child needs well under a millisecond, and
 * tens of milliseconds on a loaded machine (page faults, a slow chdir or
 * lookup of the program on a busy disk).  Two seconds is far beyond any
 * healthy start, and short enough that a child stopped on purpose holds
 * its slot, and a reload waiting in launch_settle(), only briefly.
 */
#define EXEC_GRACE_MS	2000
#define KILL_WAIT_MS	1000	/* for a killed child to be gone */

struct slot {
	volatile pid_t		 sl_busy;	/* clone: zeroed by the kernel */
	volatile int		 sl_unshared;	/* set by the child */
	int			 sl_held[2];	/* closed once it is set */
	pid_t			 sl_pid;	/* 0: free */
	int			 sl_rep;	/* fork: report pipe until read */
	int			 sl_forked;
	int			 sl_killed;
	int64_t			 sl_start;	/* mono_ms() */
	struct report		 sl_report;
	struct spawn_ctx	 sl_cx;		/* fork: only sx_sc */
	struct ident		 sl_id;		/* id_groups is sl_groups */
	gid_t			*sl_groups;
	int			 sl_groupcap;
	char			*sl_stack;	/* its top; a guard page below */
};

/*
 * Children on their way to exec at once with clone: two per CPU (one
 * execing, one ready behind it), at least four.  Starting more floods the
 * run queue with execs that compete for the same CPUs: p99 latency grows
 * with the bound (measured at 32 clients: +4 % at three per CPU, +9 % at
 * four, +30 % at sixteen) for a few percent less CPU and no more
 * throughput in full runs.  Fewer makes superd wait more often.  At the
 * bound superd waits for the oldest young child's exec, as it would with
 * vfork, but SLOT_WAIT_MS at most: children that have been on their way
 * longer are taken to be stopped, and more slots are used beside them.
 * (With more than eight CPUs, SLOTS_SERVICE bounds one service first.)
 */
static struct slot	 slots[SLOTS_MAX];
static int		 ntop;		/* slots ever used */
static int		 nusual;	/* the bound above */
static int		 clone_off = -1; /* unknown yet */

static int
slots_wanted(void)
{
	long	 cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 2)
		return 4;
	return cpus * 2 > SLOTS_MAX / 2 ? SLOTS_MAX / 2 : (int)cpus * 2;
}

/* A stack above a guard page, made when the slot first starts a clone. */
static int
slot_stack(struct slot *sl)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	char	*base;

	base = mmap(NULL, SLOT_STACK + page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	if (mprotect(base, page, PROT_NONE) == -1) {
		(void)munmap(base, SLOT_STACK + page);
		errno = ENOMEM;
		return -1;
	}
	sl->sl_stack = base + page + SLOT_STACK;
	return 0;
}

static const char *const stage_names[STAGE_COUNT] = {
	[STAGE_CGROUP] = "cgroup: join",
	[STAGE_SESSION] = "setsid",
	[STAGE_FDS] = "descriptors",
	[STAGE_LIMITS] = "setrlimit",
	[STAGE_NICE] = "setpriority",
	[STAGE_NAMESPACES] = "confine: new namespaces",
	[STAGE_LOOPBACK] = "confine: loopback of private_network",
	[STAGE_PROPAGATION] = "confine: private mounts",
	[STAGE_READ_ONLY] = "confine: read_only",
	[STAGE_CHROOT] = "confine: chroot",
	[STAGE_PRIVATE_TMP] = "confine: private /tmp",
	[STAGE_WRITABLE] = "confine: writable",
	[STAGE_BOUNDING] = "confine: capability bounding set",
	[STAGE_USER] = "unknown user",
	[STAGE_IDENTITY] = "cannot switch identity",
	[STAGE_CAPABILITIES] = "confine: capabilities",
	[STAGE_NO_NEW_PRIVS] = "confine: no_new_privs",
	[STAGE_CHDIR] = "chdir",
	[STAGE_ENV] = "environment",
	[STAGE_EXEC] = "execve",
};

/* A confinement step refused for want of privilege: superd's, not the
 * service's (superd -t has warned of it). */
static int
confine_refused(int stage, int err)
{
	return err == EPERM && geteuid() != 0 && ((stage >= STAGE_NAMESPACES &&
	    stage <= STAGE_BOUNDING) || stage == STAGE_CAPABILITIES);
}

static void
log_spawn_failure(const struct svc_conf *sc, int stage, int err)
{
	const char	*what = stage >= 0 && stage < STAGE_COUNT ?
			    stage_names[stage] : "?";

	log_warnx("%s: cannot start %s: %s: %s%s", sc->sc_name,
	    sc->sc_server != NULL ? sc->sc_server : "builtin", what,
	    strerror(err), confine_refused(stage, err) ?
	    " (superd is not root)" : "");
}

/* Reads what a forked child reported, if it has: EOF once it exec'd. */
static void
slot_read_report(struct slot *sl)
{
	struct report	 rp;
	ssize_t		 n;

	n = read(sl->sl_rep, &rp, sizeof(rp));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == sizeof(rp))
		sl->sl_report = rp;
	close(sl->sl_rep);
	sl->sl_rep = -1;
}

/* Whether the child has exec'd or exited (a forked one: as last read). */
static int
slot_past(const struct slot *sl)
{
	if (sl->sl_forked)
		return sl->sl_rep == -1;
	return __atomic_load_n(&sl->sl_busy, __ATOMIC_ACQUIRE) == 0;
}

/* Past its exec with nothing to tell: done before its reap. */
static int
slot_done(const struct slot *sl)
{
	return slot_past(sl) && sl->sl_report.rp_stage == -1 && !sl->sl_killed;
}

/* On its way to exec, and neither killed nor waiting for its reap. */
static int
slot_starting(const struct slot *sl)
{
	return sl->sl_pid != 0 && !sl->sl_killed && !slot_past(sl);
}

/* Sleeps until the slot's child has exec'd or exited, or ms passed. */
static void
slot_wait(struct slot *sl, int64_t ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };
	struct pollfd	 pfd;
	pid_t		 busy = sl->sl_busy;

	if (sl->sl_forked) {
		pfd.fd = sl->sl_rep;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)ms) > 0)
			slot_read_report(sl);
	} else if (busy != 0)
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
	if (sl->sl_rep != -1) {
		close(sl->sl_rep);
		sl->sl_rep = -1;
	}
	if (sl->sl_report.rp_stage != -1 && sl->sl_cx.sx_sc != NULL)
		log_spawn_failure(sl->sl_cx.sx_sc, sl->sl_report.rp_stage,
		    sl->sl_report.rp_errno);
	env_free(sl->sl_cx.sx_env);
	sl->sl_cx.sx_env = NULL;
	sl->sl_pid = 0;
	sl->sl_killed = 0;
}

/* Past its grace: SIGKILL ends it even when it is stopped. */
static void
slot_kill(struct slot *sl)
{
	log_warnx("%s: pid=%ld did not reach its program within %d s, killed",
	    sl->sl_cx.sx_sc->sc_name, (long)sl->sl_pid, EXEC_GRACE_MS / 1000);
	(void)kill(sl->sl_pid, SIGKILL);
	sl->sl_killed = 1;
	sl->sl_start = mono_ms();	/* now the start of KILL_WAIT_MS */
}

/* Reads every forked child's report pipe that may have news. */
static void
slots_read_reports(void)
{
	int	 i;

	for (i = 0; i < ntop; i++)
		if (slots[i].sl_pid != 0 && slots[i].sl_rep != -1)
			slot_read_report(&slots[i]);
}

/* A slot unused so far, made ready to be taken. */
static struct slot *
slot_new(void)
{
	struct slot	*sl;

	if (ntop == SLOTS_MAX)
		return NULL;
	sl = &slots[ntop++];
	sl->sl_held[0] = sl->sl_held[1] = -1;
	sl->sl_rep = -1;
	return sl;
}

/*
 * A free slot for a child of sc, finishing those whose children started;
 * NULL (errno EBUSY) when sc already holds SLOTS_SERVICE or every slot is
 * held.  Waits SLOT_WAIT_MS at most, and only for a child started less
 * than that long ago: past the usual bound (nusual) after that.
 */
static struct slot *
slot_take(const struct svc_conf *sc, int forked)
{
	struct slot	*sl, *free, *bare, *stacked, *young, *young_clone,
			*young_mine;
	int64_t		 now = mono_ms(), until = now + SLOT_WAIT_MS;
	int		 i, starting, mine, may, read_reports = 0;

	for (;;) {
		bare = stacked = young = young_clone = young_mine = NULL;
		starting = mine = 0;
		for (i = 0; i < ntop; i++) {
			sl = &slots[i];
			if (sl->sl_pid != 0 && slot_done(sl))
				slot_finish(sl);
			if (sl->sl_pid == 0 && sl->sl_stack == NULL && bare == NULL)
				bare = sl;
			if (sl->sl_pid == 0 && sl->sl_stack != NULL &&
			    stacked == NULL)
				stacked = sl;
			if (!slot_starting(sl))
				continue;
			starting += !sl->sl_forked;
			mine += sl->sl_cx.sx_sc == sc;
			if (now - sl->sl_start >= SLOT_WAIT_MS)
				continue;	/* stopped, perhaps */
			if (young == NULL || sl->sl_start < young->sl_start)
				young = sl;
			if (!sl->sl_forked && (young_clone == NULL ||
			    sl->sl_start < young_clone->sl_start))
				young_clone = sl;
			if (sl->sl_cx.sx_sc == sc && (young_mine == NULL ||
			    sl->sl_start < young_mine->sl_start))
				young_mine = sl;
		}
		may = mine < SLOTS_SERVICE && (forked || starting < nusual ||
		    young_clone == NULL || now >= until);
		/* Stacks only for clones, so that few are ever made. */
		free = forked ? bare : stacked;
		if (free == NULL && may)
			free = slot_new();
		if (free == NULL)
			free = forked ? stacked : bare;
		if (free != NULL && may) {
			free->sl_start = now;
			return free;
		}
		if (!read_reports) {
			/* Forked children that started have said so by now. */
			slots_read_reports();
			read_reports = 1;
			continue;
		}
		sl = mine >= SLOTS_SERVICE ? young_mine : free == NULL ? young :
		    young_clone;
		if (sl == NULL || now >= until)
			break;
		slot_wait(sl, until - now);
		now = mono_ms();
	}
	errno = EBUSY;
	return NULL;
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

/* The slot now belongs to the child pid (sl_start: slot_take). */
static void
slot_hold(struct slot *sl, pid_t pid, int forked)
{
	sl->sl_pid = pid;
	sl->sl_forked = forked;
	sl->sl_killed = 0;
}

static int
slot_child(void *arg)
{
	struct slot	*sl = arg;

	exec_run(&sl->sl_cx);
}

/* Whether programs start with fork rather than clone (see the top). */
static int
clone_unused(void)
{
	if (clone_off == -1) {
		clone_off = !SYS_RAW || getenv("SUPERD_SPAWN_VFORK") != NULL;
		nusual = slots_wanted();
	}
	return clone_off;
}

/*
 * Starts the child and returns at once.  The slot takes the environment
 * (cx->sx_env becomes NULL); a failure before exec is logged when the
 * child is reaped (launch_reaped).  Where clone cannot be used, this is
 * launch_fork().  Returns -1 with errno EBUSY when the service may not
 * start one more child now (slot_take).
 */
pid_t
launch_clone(struct spawn_ctx *cx)
{
	struct slot	*sl;
	pid_t		 pid;
	int		 share;

	if (clone_unused())
		return launch_fork(cx);
	if ((sl = slot_take(cx->sx_sc, 0)) == NULL ||
	    (sl->sl_stack == NULL && slot_stack(sl) == -1) ||
	    slot_copy_ident(sl, cx->sx_id) == -1)
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
		/* A seccomp filter, say: fork from now on. */
		clone_off = 1;
		log_info("clone refused (%s): starting programs with fork",
		    strerror(errno));
		return launch_fork(cx);
	}
	slot_hold(sl, pid, 0);
	/* Closed in the shared table, they would be gone for the child too;
	 * a listener lent in wait mode (no peer) stays superd's anyway. */
	if (share != 0) {
		if (cx->sx_peer != NULL) {
			sl->sl_held[0] = cx->sx_fd;
			cx->sx_fd = -1;
		}
		if (!cx->sx_errkept) {
			sl->sl_held[1] = cx->sx_errfd;
			cx->sx_errfd = -1;
		}
	}
	cx->sx_env = NULL;
	return pid;
}

/*
 * The child reports over a close-on-exec pipe: EOF once it exec'd (or, a
 * builtin, once it closed it).
 * superd reads it later, without waiting (launch_pending, launch_reaped).
 */
pid_t
launch_fork(struct spawn_ctx *cx)
{
	struct slot	*sl;
	int		 rep[2], saved;
	pid_t		 pid;

	if ((sl = slot_take(cx->sx_sc, 1)) == NULL)
		return -1;
	if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	cx->sx_rep = rep[1];
	if ((pid = fork()) == 0) {
		close(rep[0]);
		exec_run(cx);
	}
	saved = errno;
	close(rep[1]);
	cx->sx_rep = -1;
	if (pid == -1) {
		close(rep[0]);
		errno = saved;
		return -1;
	}
	memset(&sl->sl_cx, 0, sizeof(sl->sl_cx));
	sl->sl_cx.sx_sc = cx->sx_sc;
	sl->sl_report.rp_stage = -1;
	sl->sl_report.rp_errno = 0;
	sl->sl_rep = rep[0];
	slot_hold(sl, pid, 1);
	return pid;
}

/*
 * Every turn of the loop: closes superd's copies of what children were
 * given once they have left superd's descriptor table (their client sees
 * the end of the connection only once both copies are closed, so superd
 * looks again soon), frees the slots of children that exec'd, and kills
 * those past their grace.  Sets *next to when to look again.
 */
void
launch_pending(int64_t now, int64_t *next)
{
	struct slot	*sl;
	int64_t		 due;
	int		 i;

	for (i = 0; i < ntop; i++) {
		sl = &slots[i];
		if (sl->sl_pid == 0)
			continue;
		if (sl->sl_rep != -1)
			slot_read_report(sl);
		if (slot_past(sl) ||
		    __atomic_load_n(&sl->sl_unshared, __ATOMIC_ACQUIRE))
			slot_release(sl);
		if (slot_done(sl)) {
			slot_finish(sl);
			continue;
		}
		if (sl->sl_killed || slot_past(sl))
			continue;	/* finished at its reap */
		if (now - sl->sl_start >= EXEC_GRACE_MS) {
			slot_kill(sl);
			continue;
		}
		due = sl->sl_held[0] != -1 || sl->sl_held[1] != -1 ? now + 1 :
		    sl->sl_start + EXEC_GRACE_MS;
		if (*next == 0 || due < *next)
			*next = due;
	}
}

/*
 * A child was reaped: its slot, if it still holds one, is done.  The
 * kernel clears the busy word of a clone child as it exits, before the
 * child can be reaped, and a dead child's report is all in its pipe.
 * Returns whether the child never ran its program (it failed before its
 * exec, or was killed short of it).
 */
int
launch_reaped(pid_t pid)
{
	struct slot	*sl;
	int		 i, failed;

	for (i = 0; i < ntop; i++) {
		sl = &slots[i];
		if (sl->sl_pid != pid)
			continue;
		if (sl->sl_rep != -1)
			slot_read_report(sl);
		failed = sl->sl_report.rp_stage != -1 || sl->sl_killed;
		slot_finish(sl);
		return failed;
	}
	return 0;
}

/*
 * Before a configuration is freed: no child may still be reading it.
 * Waits for each child to pass its exec, killing it at the end of its
 * grace; waits EXEC_GRACE_MS + KILL_WAIT_MS at most.  A slot whose child
 * is still not gone after that stays taken (its stack may not be reused)
 * but forgets the configuration.
 */
void
launch_settle(void)
{
	struct slot	*sl;
	int64_t		 now, left;
	int		 i;

	for (i = 0; i < ntop; i++) {
		sl = &slots[i];
		if (sl->sl_pid == 0 || sl->sl_cx.sx_sc == NULL)
			continue;	/* free, or settled before */
		while (!slot_past(sl)) {
			now = mono_ms();
			left = sl->sl_start + (sl->sl_killed ? KILL_WAIT_MS :
			    EXEC_GRACE_MS) - now;
			if (left <= 0 && !sl->sl_killed)
				slot_kill(sl);
			else if (left <= 0)
				break;
			else
				slot_wait(sl, left < 100 ? left : 100);
		}
		if (slot_done(sl)) {
			slot_finish(sl);
			continue;
		}
		/* Kept for its reap, which must not read the old
		 * configuration: what there is to say is said now. */
		if (!slot_past(sl))
			log_warnx("%s: pid=%ld still not gone %d ms after "
			    "SIGKILL", sl->sl_cx.sx_sc->sc_name,
			    (long)sl->sl_pid, KILL_WAIT_MS);
		else if (sl->sl_report.rp_stage != -1)
			log_spawn_failure(sl->sl_cx.sx_sc,
			    sl->sl_report.rp_stage, sl->sl_report.rp_errno);
		sl->sl_cx.sx_sc = NULL;
	}
}
