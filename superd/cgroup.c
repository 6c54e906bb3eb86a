/*
 * cgroup.c - a cgroup v2 of its own for each instance of a service with
 * `timeout`.
 *
 * An instance leads its own process group, but anything it starts can
 * leave that group (setsid, setpgid) and so escape `timeout`.  A cgroup
 * cannot be left by its members: the instance's cgroup, made in superd's
 * own (under systemd: the unit's, delegated), holds everything the
 * instance started, and `cgroup.kill` ends it all at once.  This file
 * finds superd's cgroup, makes an instance's directory before the start
 * (exec.c moves the child in), signals and kills what is in it, and
 * removes it once it is empty, or keeps it a while for the next instance;
 * what an instance that ended in time left running keeps the instance's
 * deadline here.
 *
 * An instance's cgroup is reached by its name below superd's (the *at
 * calls on one descriptor), so that running instances hold none of
 * superd's descriptors.  Directories are named superd-instance-PID-N,
 * PID that of the superd that made them: a superd sweeping what a
 * predecessor left never takes one that another superd sharing the
 * cgroup has just made.  Where cgroup v2 is not usable, nothing is made
 * and `timeout` reaches the process group only, as it did before.
 */
#include <sys/stat.h>
#include <sys/statfs.h>

#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

#define CG_PREFIX	"superd-instance-"
#define CG_NAME_MAX	CGROUP_PATH_MAX
#define CG_FILE_MAX	(4 * 1024 * 1024) /* the longest /proc file read */
#define CG_PATH_MAX	4096
#define CG_TRIES	256	/* names tried for one new directory */
#define CG_KILL_ROUNDS	8	/* of SIGKILL by pid, without cgroup.kill */
#define CG_RETRY_MS	250	/* between tries to remove a busy directory */
#define CG_SPARES	32	/* empty instance cgroups kept for reuse */
#define CG_SPARE_MS	1000	/*   for so long unused */

/*
 * An empty cgroup kept for the next instance: making and removing one
 * costs superd more than all else of a start (about 45 us).
 */
struct spare {
	struct cginst	 sp_cg;
	int64_t		 sp_since;	/* mono_ms() */
};

/* A cgroup whose instance ended: killed at rm_deadline, then removed. */
struct remnant {
	struct cginst	 rm_cg;
	int64_t		 rm_deadline;	/* 0: only to be removed */
};

static int		 base_fd = -1;	/* superd's own cgroup */
static pid_t		 base_pid;	/* superd's, in the names it makes */
static char		 base_path[CG_PATH_MAX]; /* as /proc/PID/cgroup has it */
static unsigned		 next_id;
static struct remnant	*remnants;
static size_t		 nremnants, remnants_cap;
static struct spare	 spares[CG_SPARES];
static size_t		 nspares;

/*
 * The path of the `0::` line (the cgroup v2 one) of /proc/self/cgroup,
 * given as text: 0, or -1 when there is none or it does not fit.
 */
int
cgroup_parse_self(const char *text, char *path, size_t size)
{
	const char	*ln, *end;
	size_t		 len;

	for (ln = text; *ln != '\0'; ln = *end != '\0' ? end + 1 : end) {
		end = strchrnul(ln, '\n');
		if (end - ln < 3 || strncmp(ln, "0::", 3) != 0)
			continue;
		len = (size_t)(end - ln) - 3;
		if (len == 0 || ln[3] != '/' || len >= size)
			return -1;
		memcpy(path, ln + 3, len);
		path[len] = '\0';
		return 0;
	}
	return -1;
}

/*
 * A field of mountinfo with its octal escapes (\040 for a space...)
 * decoded: its length, or -1 when it does not fit in size.
 */
static int
field_decode(const char *f, size_t flen, char *out, size_t size)
{
	size_t	 i, n = 0;

	for (i = 0; i < flen; i++) {
		if (n + 1 >= size)
			return -1;
		if (f[i] == '\\' && i + 3 < flen &&
		    f[i + 1] >= '0' && f[i + 1] <= '3' &&
		    f[i + 2] >= '0' && f[i + 2] <= '7' &&
		    f[i + 3] >= '0' && f[i + 3] <= '7') {
			out[n++] = (char)((f[i + 1] - '0') * 64 +
			    (f[i + 2] - '0') * 8 + (f[i + 3] - '0'));
			i += 3;
		} else
			out[n++] = f[i];
	}
	out[n] = '\0';
	return (int)n;
}

/*
 * The directory of the cgroup at path (from cgroup_parse_self) in the
 * one mountinfo line ln..end: 0, or -1 when the line is no cgroup2 mount
 * holding it.
 */
static int
mount_line(const char *ln, const char *end, const char *path, char *out,
    size_t size)
{
	const char	*field[5], *p = ln, *sep;
	size_t		 flen[5], rlen;
	char		 root[CG_PATH_MAX];
	int		 i, n;

	for (i = 0; i < 5; i++) {	/* id parent dev root mountpoint */
		field[i] = p;
		sep = memchr(p, ' ', (size_t)(end - p));
		if (sep == NULL)
			return -1;
		flen[i] = (size_t)(sep - p);
		p = sep + 1;
	}
	/* Options and optional fields, then " - TYPE SOURCE OPTIONS" (no
	 * field has a space: they are escaped). */
	sep = memmem(p - 1, (size_t)(end - p + 1), " - ", 3);
	if (sep == NULL || (size_t)(end - sep) < 11 ||
	    memcmp(sep, " - cgroup2 ", 11) != 0)
		return -1;
	if (field_decode(field[3], flen[3], root, sizeof(root)) == -1)
		return -1;
	rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(path, root, rlen) != 0 ||
	    (path[rlen] != '/' && path[rlen] != '\0'))
		return -1;	/* another part of the hierarchy */
	if ((n = field_decode(field[4], flen[4], out, size)) == -1)
		return -1;
	if (strcmp(out, "/") == 0)
		n = 0;
	path += rlen;
	if (strcmp(path, "/") == 0)
		path = "";
	if ((size_t)n + strlen(path) >= size)
		return -1;
	strcpy(out + n, path);
	if (out[0] == '\0') {		/* the mount's own root: "/" */
		if (size < 2)
			return -1;
		strcpy(out, "/");
	}
	return 0;
}

/*
 * The directory of the cgroup path (cgroup_parse_self) where mountinfo,
 * given as text, has a cgroup2 mount that holds it: the first such
 * mount.  0, or -1 when there is none.
 */
int
cgroup_parse_mount(const char *text, const char *path, char *out,
    size_t size)
{
	const char	*ln, *end;

	for (ln = text; *ln != '\0'; ln = *end != '\0' ? end + 1 : end) {
		end = strchrnul(ln, '\n');
		if (mount_line(ln, end, path, out, size) == 0)
			return 0;
	}
	return -1;
}

/* A /proc file read whole, NUL-terminated; NULL with errno set. */
static char *
read_text(const char *file)
{
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CG_FILE_MAX ||
			    (grown = realloc(buf, cap)) == NULL) {
				errno = cap > CG_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			buf = grown;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0) {
			close(fd);
			buf[len] = '\0';
			return buf;
		}
		break;
	}
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return NULL;
}

/* The cgroup v2 directory superd is in, into out; NULL or why not. */
static const char *
base_find(char *out, size_t size)
{
	char	*path = base_path, *text;
	int	 found;

	if ((text = read_text("/proc/self/cgroup")) == NULL)
		return "cannot read /proc/self/cgroup";
	found = cgroup_parse_self(text, path, sizeof(base_path));
	free(text);
	if (found == -1)
		return "superd is in no cgroup v2";
	if ((text = read_text("/proc/self/mountinfo")) == NULL)
		return "cannot read /proc/self/mountinfo";
	found = cgroup_parse_mount(text, path, out, size);
	free(text);
	return found == -1 ? "no cgroup2 mount holds superd's cgroup" : NULL;
}

/*
 * Whether the directory name is an instance cgroup of a superd that is
 * gone: one that runs (another, in the same cgroup) may be about to move
 * a child into an empty one.
 */
static int
cg_orphaned(const char *name)
{
	char	*end;
	long	 pid;

	if (strncmp(name, CG_PREFIX, strlen(CG_PREFIX)) != 0)
		return 0;
	pid = strtol(name + strlen(CG_PREFIX), &end, 10);
	if (pid <= 0 || *end != '-')
		return 0;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* Empty instance directories a previous superd left: removed. */
static void
base_clean(void)
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd;

	if ((fd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL)
		if (de->d_type == DT_DIR && cg_orphaned(de->d_name))
			(void)unlinkat(base_fd, de->d_name, AT_REMOVEDIR);
	closedir(dir);
}

/* superd's cgroup opened as base_fd: 0, or -1 and why not. */
static int
base_open(const char **why)
{
	char		 dir[CG_PATH_MAX];
	struct statfs	 fs;
	int		 fd;

	if (geteuid() != 0) {
		*why = "superd is not root";
		return -1;
	}
	if ((*why = base_find(dir, sizeof(dir))) != NULL)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (fstatfs(fd, &fs) == -1 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		*why = "its directory is no cgroup2 file system";
		close(fd);
		return -1;
	}
	if (faccessat(fd, ".", W_OK, AT_EACCESS) == -1) {
		*why = strerror(errno);	/* EROFS, EACCES: a container's */
		close(fd);
		return -1;
	}
	base_fd = fd;
	base_pid = getpid();
	base_clean();
	return 0;
}

/*
 * After each load of the configuration: superd's cgroup found, if a
 * service has a `timeout` and it was not found before.  Where it cannot
 * be used, said once per load.
 */
void
cgroup_load(const struct conf *cf)
{
	const char	*why;
	size_t		 i;

	if (base_fd != -1)
		return;
	for (i = 0; i < cf->cf_nsvcs; i++)
		if (!cf->cf_svcs[i]->sc_disabled &&
		    cf->cf_svcs[i]->sc_timeout > 0)
			break;
	if (i == cf->cf_nsvcs)
		return;
	if (base_open(&why) == -1)
		log_warnx("cgroup v2 not usable (%s): `timeout` reaches only "
		    "each instance's process group", why);
}

static void
cg_name(const struct cginst *cg, char *name)
{
	snprintf(name, CG_NAME_MAX, CG_PREFIX "%ld-%u", (long)cg->ci_pid,
	    cg->ci_id);
}

/* A file of the instance's cgroup opened: its descriptor, or -1. */
static int
cg_open(const struct cginst *cg, const char *file, int flags)
{
	char	 path[CG_NAME_MAX + 32];

	cg_name(cg, path);
	strcat(path, "/");
	strcat(path, file);
	return openat(base_fd, path, flags | O_CLOEXEC | O_NOFOLLOW);
}

/*
 * A new cgroup for an instance of the service named, into cg: 0, or -1
 * (cg->ci_pid 0) when it starts without one, which is logged unless
 * cgroup v2 is not usable at all (said at the load).
 */
int
cgroup_instance(const char *service, struct cginst *cg)
{
	char	 name[CG_NAME_MAX];
	int	 i;

	cg->ci_pid = 0;
	if (base_fd == -1)
		return -1;
	if (nspares > 0) {
		*cg = spares[--nspares].sp_cg;
		return 0;
	}
	cg->ci_pid = base_pid;
	for (i = 0; i < CG_TRIES; i++) {
		cg->ci_id = next_id++;
		cg_name(cg, name);
		if (mkdirat(base_fd, name, 0755) == 0)
			return 0;
		if (errno != EEXIST) {
			log_warn("%s: cgroup %s, `timeout` reaches its process "
			    "group only", service, name);
			break;
		}
	}
	if (i == CG_TRIES)
		log_warnx("%s: no free cgroup name, `timeout` reaches its "
		    "process group only", service);
	cg->ci_pid = 0;
	return -1;
}

/*
 * What the child needs to enter cg (exec.c): the descriptor of superd's
 * cgroup, returned, and the path of cg's cgroup.procs below it.
 */
int
cgroup_procs(const struct cginst *cg, char *path, size_t size)
{
	char	 name[CG_NAME_MAX];

	cg_name(cg, name);
	snprintf(path, size, "%s/cgroup.procs", name);
	return base_fd;
}

/*
 * The cgroup of an instance a previous superd started (adopt.c), into
 * cg: 0 when pid is in an instance directory of superd's cgroup, -1 (cg
 * ci_pid 0) when not.  The caller makes sure pid is still its process.
 */
int
cgroup_adopt(pid_t pid, struct cginst *cg)
{
	char		 file[64], path[CG_PATH_MAX], *text, *end;
	const char	*name;
	size_t		 len = strcmp(base_path, "/") == 0 ? 0 :
			    strlen(base_path);
	long		 owner;
	unsigned long	 id;
	int		 found;

	cg->ci_pid = 0;
	if (base_fd == -1)
		return -1;
	snprintf(file, sizeof(file), "/proc/%ld/cgroup", (long)pid);
	if ((text = read_text(file)) == NULL)
		return -1;
	found = cgroup_parse_self(text, path, sizeof(path));
	free(text);
	if (found == -1 || strncmp(path, base_path, len) != 0 ||
	    path[len] != '/')
		return -1;
	name = path + len + 1;
	if (strncmp(name, CG_PREFIX, strlen(CG_PREFIX)) != 0)
		return -1;
	errno = 0;
	owner = strtol(name + strlen(CG_PREFIX), &end, 10);
	if (owner <= 0 || *end != '-' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	id = strtoul(end + 1, &end, 10);
	if (*end != '\0' || errno != 0 || id > UINT_MAX)
		return -1;
	cg->ci_pid = (pid_t)owner;
	cg->ci_id = (unsigned)id;
	return 0;
}

/*
 * Sends signo to each process listed in the cgroup's cgroup.procs, read
 * in pieces of a fixed size: how many were listed, or -1.
 */
static int
procs_signal(const struct cginst *cg, int signo)
{
	char	 buf[4096];
	size_t	 have = 0, used;
	ssize_t	 n;
	long	 pid;
	char	*p, *nl;
	int	 fd, count = 0;

	if ((fd = cg_open(cg, "cgroup.procs", O_RDONLY)) == -1)
		return -1;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			pid = strtol(p, NULL, 10);
			if (pid > 1 && kill((pid_t)pid, signo) == 0)
				count++;
		}
		used = (size_t)(p - buf);
		memmove(buf, p, have - used);
		have -= used;
		if (have == sizeof(buf) - 1)
			break;		/* no pid is that long */
	}
	close(fd);
	return count;
}

/* SIGTERM, say, to every process of the instance's cgroup: 0 or -1. */
int
cgroup_signal(const struct cginst *cg, int signo)
{
	if (cg->ci_pid == 0)
		return -1;
	return procs_signal(cg, signo) == -1 ? -1 : 0;
}

/*
 * Everything in the cgroup killed: cgroup.kill (Linux 5.14), or else
 * SIGKILL to each process listed, a few rounds at most (a process that
 * forks as it is killed is in the list of the next round).  0, or -1
 * when the cgroup cannot be reached.
 */
int
cgroup_kill(const struct cginst *cg)
{
	int	 fd, i, n, done = 0;

	if (cg->ci_pid == 0)
		return -1;
	if ((fd = cg_open(cg, "cgroup.kill", O_WRONLY)) != -1) {
		done = write(fd, "1", 1) == 1;
		close(fd);
	}
	for (i = 0; !done && i < CG_KILL_ROUNDS; i++) {
		if ((n = procs_signal(cg, SIGKILL)) == -1)
			return -1;
		done = n == 0;
	}
	return 0;
}

/*
 * Whether any process is left in the cgroup: 1 (also in doubt), 0, or -1
 * when the directory is gone.
 */
static int
cg_populated(const struct cginst *cg)
{
	char	 buf[256];
	ssize_t	 n;
	int	 fd;

	if ((fd = cg_open(cg, "cgroup.events", O_RDONLY)) == -1)
		return errno == ENOENT ? -1 : 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	return strstr(buf, "populated 0") == NULL;
}

/* The directory removed: 0, or -1 while it is busy. */
static int
cg_remove(const struct cginst *cg)
{
	char	 name[CG_NAME_MAX];

	cg_name(cg, name);
	if (unlinkat(base_fd, name, AT_REMOVEDIR) == -1 && errno == EBUSY)
		return -1;
	return 0;
}

static void
remnant_add(const struct cginst *cg, int64_t deadline)
{
	struct remnant	*grown;
	size_t		 cap;

	if (nremnants == remnants_cap) {
		cap = remnants_cap ? remnants_cap * 2 : 16;
		grown = reallocarray(remnants, cap, sizeof(*remnants));
		if (grown == NULL) {
			/* Ended now rather than never; the directory is
			 * removed at the next start. */
			cgroup_kill(cg);
			return;
		}
		remnants = grown;
		remnants_cap = cap;
	}
	remnants[nremnants].rm_cg = *cg;
	remnants[nremnants++].rm_deadline = deadline;
}

/* An empty cgroup: kept for the next instance, or removed. */
static void
cg_spare(const struct cginst *cg)
{
	if (nspares < CG_SPARES && cg->ci_pid == base_pid) {
		spares[nspares].sp_cg = *cg;
		spares[nspares++].sp_since = mono_ms();
	} else if (cg_remove(cg) == -1)
		remnant_add(cg, 0);
}

/*
 * The instance's leader ended (or was never tracked): with kill, what is
 * left is killed at once; else it is killed at deadline.  The directory
 * goes (or serves again) once it is empty.
 */
void
cgroup_end(struct cginst *cg, int kill, int64_t deadline)
{
	int	 populated;

	if (cg->ci_pid == 0)
		return;
	if (kill) {
		cgroup_kill(cg);
		if (cg_remove(cg) == -1)
			remnant_add(cg, 0);
	} else if ((populated = cg_populated(cg)) == 1)
		remnant_add(cg, deadline);
	else if (populated == 0)
		cg_spare(cg);
	cg->ci_pid = 0;
}

/* Spares unused for CG_SPARE_MS removed, the oldest first. */
static void
spares_expire(int64_t now, int64_t *next)
{
	size_t	 i, kept = 0;

	for (i = 0; i < nspares; i++) {
		if (now - spares[i].sp_since < CG_SPARE_MS)
			spares[kept++] = spares[i];
		else if (cg_remove(&spares[i].sp_cg) == -1)
			remnant_add(&spares[i].sp_cg, 0);
	}
	nspares = kept;
	if (nspares > 0 && (*next == 0 ||
	    spares[0].sp_since + CG_SPARE_MS < *next))
		*next = spares[0].sp_since + CG_SPARE_MS;
}

/*
 * Every turn of the loop: what instances left at their deadline is
 * killed, empty directories removed; *next says when to look again.
 */
void
cgroup_sweep(int64_t now, int64_t *next)
{
	struct remnant	*rm;
	int64_t		 due;
	size_t		 i;

	spares_expire(now, next);
	for (i = 0; i < nremnants; ) {
		rm = &remnants[i];
		if (rm->rm_deadline != 0 && now >= rm->rm_deadline) {
			if (cg_populated(&rm->rm_cg) == 1) {
				log_warnx("cgroup " CG_PREFIX "%ld-%u: "
				    "processes left by an instance still "
				    "running at its timeout, killed",
				    (long)rm->rm_cg.ci_pid, rm->rm_cg.ci_id);
				cgroup_kill(&rm->rm_cg);
			}
			rm->rm_deadline = 0;
		}
		if (rm->rm_deadline == 0 && cg_remove(&rm->rm_cg) == 0) {
			*rm = remnants[--nremnants];
			continue;
		}
		due = rm->rm_deadline != 0 ? rm->rm_deadline :
		    now + CG_RETRY_MS;
		if (*next == 0 || due < *next)
			*next = due;
		i++;
	}
}

/*
 * At a stop: spares and the directories of what has ended removed, now
 * or never (no wait).  What is still running keeps its cgroup: the next
 * superd adopts it or, once it is empty, removes it.
 */
void
cgroup_stop(void)
{
	size_t	 i;

	for (i = 0; i < nspares; i++)
		(void)cg_remove(&spares[i].sp_cg);
	for (i = 0; i < nremnants; i++)
		(void)cg_remove(&remnants[i].rm_cg);
	nspares = nremnants = 0;
}
