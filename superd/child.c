/*
 * child.c - the table of running instances.
 *
 * Owns every child superd started: which service and listener it belongs
 * to, whom it serves, when it started and when it must stop.  Children
 * are reaped in one pass whenever SIGCHLD reaches the loop.  The table
 * also holds the instances the previous superd started and handed over
 * (adopt.c): they count as any other, and since they are no children of
 * this superd their end is seen on their pidfd instead.  An instance
 * superd started leads its own session and process group; `timeout`
 * signals the whole group, and what is left of it when its leader ends is
 * killed then.  An instance with `timeout` also has a cgroup of its own
 * (cgroup.c), which what it starts cannot leave: `timeout` signals it all,
 * and what is left when the leader ends in time keeps its deadline there
 * (it no longer counts as an instance).
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

static struct child	*children;
static size_t		 nchildren, children_cap;
static size_t		 nuntracked;	/* started, but not in the table */
static size_t		 nsignalled;	/* in it, signalled by `timeout` */

size_t
child_count(void)
{
	return nchildren;
}

/* A new entry of the table, started at start; NULL when out of memory. */
static struct child *
child_new(struct service *sv, pid_t pid, const char *peer, int64_t start)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct child		*ch, *grown;

	if (nchildren == children_cap) {
		size_t cap = children_cap ? children_cap * 2 : 64;

		grown = reallocarray(children, cap, sizeof(*children));
		if (grown == NULL)
			return NULL;
		children = grown;
		children_cap = cap;
	}
	ch = &children[nchildren++];
	memset(ch, 0, sizeof(*ch));
	ch->ch_pid = pid;
	ch->ch_svc = sv;
	ch->ch_pidfd = -1;
	ch->ch_cg.ci_pid = 0;
	ch->ch_err = (struct errlog)ERRLOG_NONE;
	strncpy(ch->ch_peer, peer, sizeof(ch->ch_peer) - 1);
	(void)addr_key(ch->ch_peer, &ch->ch_src);	/* "-", "pid N": none */
	ch->ch_start = start;
	if (sc->sc_timeout > 0)
		ch->ch_deadline = ch->ch_start + (int64_t)sc->sc_timeout * 1000;
	sv->sv_running++;
	return ch;
}

/* The table takes el and cg, even when it has no room for the child. */
int
child_add(struct service *sv, struct listener *wait_ls, pid_t pid,
    const char *peer, struct errlog *el, struct cginst *cg)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct child		*ch;
	int64_t			 now = mono_ms();

	if ((ch = child_new(sv, pid, peer, now)) == NULL) {
		errlog_close(el, sv);
		/* Its cgroup still ends at its timeout. */
		cgroup_end(cg, 0, now + (int64_t)sc->sc_timeout * 1000);
		nuntracked++;
		return -1;
	}
	ch->ch_wait = wait_ls;
	ch->ch_err = *el;
	ch->ch_cg = *cg;
	sv->sv_started++;
	if (wait_ls != NULL)
		wait_ls->ls_waitpid = pid;
	return 0;
}

/*
 * An instance the previous superd started, known by its pidfd (which the
 * table owns from now on) and stored in systemd's store under fdname:
 * counted for `instances`, `per_source` and its `timeout` from its own
 * start, and in its cgroup where it runs in one of superd's.
 */
int
child_adopt(struct service *sv, pid_t pid, int pidfd, const char *peer,
    int64_t start, const char *fdname)
{
	struct child	*ch;
	char		*name;

	if ((name = strdup(fdname)) == NULL)
		return -1;
	if ((ch = child_new(sv, pid, peer, start)) == NULL) {
		free(name);
		return -1;
	}
	ch->ch_pidfd = pidfd;
	ch->ch_fdname = name;
	/* Its cgroup, found by pid: the pidfd says whether the pid was still
	 * the instance's once /proc was read. */
	if (sv->sv_conf->sc_timeout > 0 && cgroup_adopt(pid, &ch->ch_cg) == 0 &&
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1)
		ch->ch_cg.ci_pid = 0;
	return 0;
}

/* The i-th running instance (i < child_count()), for a stop to hand over. */
const struct child *
child_at(size_t i)
{
	return i < nchildren ? &children[i] : NULL;
}

static struct child *
child_find(pid_t pid)
{
	size_t	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].ch_pid == pid)
			return &children[i];
	return NULL;
}

/*
 * The service's instances serving the client at peer, an IPv6 client
 * counted by the service's prefix (judged now, so a reload that changes
 * the prefix holds for the instances already running).
 */
unsigned
child_count_source(const struct service *sv, const char *peer)
{
	struct srckey	 key;
	unsigned	 n = 0;
	size_t		 i;

	if (addr_key(peer, &key) == -1)
		return 0;
	for (i = 0; i < nchildren; i++)
		if (children[i].ch_svc == sv && addr_key_same(&children[i].ch_src,
		    &key, sv->sv_conf->sc_per_source_ipv6_prefix))
			n++;
	return n;
}

/* A reload replaced old by its successor sv: instances now count there. */
void
child_rebind(struct service *old, struct service *sv)
{
	size_t	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].ch_svc == old)
			children[i].ch_svc = sv;
}

/* The listener is going away: its wait instance must not re-arm it. */
void
child_forget_listener(const struct listener *ls)
{
	size_t	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].ch_wait == ls)
			children[i].ch_wait = NULL;
}

static void
log_exit(const struct child *ch, int status, int64_t now)
{
	const struct svc_conf	*sc = ch->ch_svc->sv_conf;
	int64_t			 ms = now - ch->ch_start;

	if (!sc->sc_log_connections)
		return;
	if (WIFSIGNALED(status))
		log_info("%s: exit pid=%ld signal=%d duration=%lld.%03lld",
		    sc->sc_name, (long)ch->ch_pid, WTERMSIG(status),
		    (long long)(ms / 1000), (long long)(ms % 1000));
	else
		log_info("%s: exit pid=%ld status=%d duration=%lld.%03lld",
		    sc->sc_name, (long)ch->ch_pid, WEXITSTATUS(status),
		    (long long)(ms / 1000), (long long)(ms % 1000));
}

/*
 * The next child that ended, reaped: its pid, 0 when none, -1 on error.
 * While an instance signalled by its timeout is about, the zombie is
 * looked at before it is reaped: if it is one of those, the rest of its
 * process group (a helper that ignored SIGTERM) is killed while the
 * zombie still holds the group's id, which no other process can have.
 */
static pid_t
reap_next(int *status)
{
	siginfo_t	 si;
	struct child	*ch;

	if (nsignalled == 0)
		return waitpid(-1, status, WNOHANG);
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return -1;
	if (si.si_pid == 0)
		return 0;
	if ((ch = child_find(si.si_pid)) != NULL && ch->ch_killed != 0)
		(void)kill(-si.si_pid, SIGKILL);
	return waitpid(si.si_pid, status, WNOHANG);
}

void
child_reap_all(void)
{
	struct child	*ch;
	struct service	*sv;
	pid_t		 pid;
	int		 status, emptied, never_ran;
	int64_t		 now = mono_ms();

	while ((pid = reap_next(&status)) > 0) {
		never_ran = launch_reaped(pid);
		if ((ch = child_find(pid)) == NULL) {
			if (nuntracked > 0)
				nuntracked--;
			continue;
		}
		if (ch->ch_killed != 0 && nsignalled > 0)
			nsignalled--;
		sv = ch->ch_svc;
		/* What it wrote before it ended comes before its exit line. */
		emptied = errlog_read(&ch->ch_err, sv, 1);
		errlog_flush(&ch->ch_err, sv);
		log_exit(ch, status, now);
		if (ch->ch_wait != NULL)
			looping_end(ch, status, now, never_ran);
		/* The emptied pipe serves the service's next instance. */
		errlog_recycle(&ch->ch_err, sv, emptied, now);
		if (sv->sv_running > 0)
			sv->sv_running--;
		/* Timed out: the rest goes now; else it keeps the deadline. */
		cgroup_end(&ch->ch_cg, ch->ch_killed != 0, ch->ch_deadline);
		*ch = children[--nchildren];
		/* None left that superd started: no need to ask again (one
		 * system call less per wait instance). */
		if (nchildren == 0 && nuntracked == 0)
			return;
	}
	if (pid == -1 && errno != ECHILD)
		log_warn("waitpid");
}

/*
 * Adds to the loop's set the stderr pipes that may be read now, and the
 * pidfds of adopted instances (readable once they end).
 */
void
child_watch(fd_watch_fn watch, void *set, int64_t now, int64_t *next)
{
	size_t	 i;

	for (i = 0; i < nchildren; i++) {
		if (children[i].ch_pidfd != -1)
			watch(set, children[i].ch_pidfd);
		if (children[i].ch_err.el_fd != -1 &&
		    errlog_ready(children[i].ch_svc, now, next))
			watch(set, children[i].ch_err.el_fd);
	}
}

/*
 * An adopted instance ended: logged (without a status: it was no child
 * of this superd's, so none can be had), out of the store and the table.
 */
static void
adopted_end(struct child *ch, int64_t now)
{
	const struct svc_conf	*sc = ch->ch_svc->sv_conf;
	struct service		*sv = ch->ch_svc;
	int64_t			 ms = now - ch->ch_start;

	if (sc->sc_log_connections)
		log_info("%s: exit pid=%ld ended duration=%lld.%03lld (started "
		    "by the previous superd)", sc->sc_name, (long)ch->ch_pid,
		    (long long)(ms / 1000), (long long)(ms % 1000));
	handover_unstore_name(ch->ch_fdname);
	free(ch->ch_fdname);
	close(ch->ch_pidfd);
	cgroup_end(&ch->ch_cg, ch->ch_killed != 0, ch->ch_deadline);
	if (ch->ch_killed != 0 && nsignalled > 0)
		nsignalled--;
	if (sv->sv_running > 0)
		sv->sv_running--;
	*ch = children[--nchildren];
}

void
child_read(fd_ready_fn ready, void *set)
{
	size_t	 i;
	int	 fd;

	for (i = 0; i < nchildren; i++)
		if (children[i].ch_err.el_fd != -1 &&
		    ready(set, children[i].ch_err.el_fd))
			errlog_read(&children[i].ch_err, children[i].ch_svc, 0);
	for (i = 0; i < nchildren; ) {
		fd = children[i].ch_pidfd;
		if (fd != -1 && ready(set, fd))
			adopted_end(&children[i], mono_ms());	/* i: the next */
		else
			i++;
	}
}

static void
child_signal(const struct child *ch, int signo)
{
	/* Its cgroup holds all it started, those that left its session
	   too; each gets the signal once. */
	if (ch->ch_cg.ci_pid != 0 && (signo == SIGKILL ?
	    cgroup_kill(&ch->ch_cg) : cgroup_signal(&ch->ch_cg, signo)) == 0)
		return;
	/* Adopted: its pid could be another's by now; only the pidfd is
	   sure, and reaches the instance alone. */
	if (ch->ch_pidfd != -1) {
		(void)syscall(SYS_pidfd_send_signal, ch->ch_pidfd, signo, NULL,
		    0);
		return;
	}
	/* The instance leads its own session: reach its helpers too. */
	if (kill(-ch->ch_pid, signo) == -1)
		(void)kill(ch->ch_pid, signo);
}

/*
 * Enforces `timeout`: SIGTERM at the deadline, SIGKILL 2 s later, to the
 * instance's cgroup, or where it has none its process group.
 */
void
child_timeouts(int64_t now, int64_t *next)
{
	struct child	*ch;
	size_t		 i;

	for (i = 0; i < nchildren; i++) {
		ch = &children[i];
		if (ch->ch_deadline == 0)
			continue;
		if (now >= ch->ch_deadline && ch->ch_killed == 0) {
			log_warnx("%s: timeout pid=%ld after %d s, sending SIGTERM",
			    ch->ch_svc->sv_conf->sc_name, (long)ch->ch_pid,
			    ch->ch_svc->sv_conf->sc_timeout);
			child_signal(ch, SIGTERM);
			ch->ch_killed = 1;
			nsignalled++;
			ch->ch_deadline = now + SUPERD_KILL_GRACE * 1000;
		} else if (now >= ch->ch_deadline && ch->ch_killed == 1) {
			log_warnx("%s: timeout pid=%ld still running, sending "
			    "SIGKILL", ch->ch_svc->sv_conf->sc_name,
			    (long)ch->ch_pid);
			child_signal(ch, SIGKILL);
			ch->ch_killed = 2;
			ch->ch_deadline = 0;
			continue;
		}
		if (ch->ch_deadline != 0 && (*next == 0 || ch->ch_deadline < *next))
			*next = ch->ch_deadline;
	}
}
