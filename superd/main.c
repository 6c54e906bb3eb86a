/*
 * main.c - options, start-up order, daemonizing and the pid file.
 *
 * Start-up: check the configuration (exit 1 on any error, before anything
 * is bound), take the pid file (exit 3 when it is not a regular file of
 * superd's own user, or when another process holds it: named from
 * /proc/locks), daemonize, open the listeners, tell systemd, run the loop.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "superd.h"

#define EXIT_CONFIG	1
#define EXIT_USAGE	2
#define EXIT_START	3

struct options {
	const char	*op_config;
	const char	*op_pidfile;	/* NULL: from the configuration */
	const char	*op_ports;	/* NULL: from the configuration */
	int		 op_test;
	int		 op_foreground;
	int		 op_debug;
};

static int	 pidfile_fd = -1;
static char	*pidfile_path;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: superd [-dFt] [-f file] [-p pidfile] [-P portsfile]\n"
	    "       superd -V | -h\n");
}

static void
parse_options(int argc, char **argv, struct options *op)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'f' },
		{ "test",	no_argument,		NULL, 't' },
		{ "foreground",	no_argument,		NULL, 'F' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "pidfile",	required_argument,	NULL, 'p' },
		{ "ports",	required_argument,	NULL, 'P' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	 ch;

	memset(op, 0, sizeof(*op));
	op->op_config = "/etc/superd.conf";
	while ((ch = getopt_long(argc, argv, "+f:tFdp:P:Vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			op->op_config = optarg;
			break;
		case 't':
			op->op_test = 1;
			break;
		case 'F':
			op->op_foreground = 1;
			break;
		case 'd':
			op->op_debug = op->op_foreground = 1;
			break;
		case 'p':
			op->op_pidfile = optarg;
			break;
		case 'P':
			op->op_ports = optarg;
			break;
		case 'V':
			printf("superd %s\n", SUPERD_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "superd: unexpected operand \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

/* Descriptors 0-2 always exist, so no socket ever lands on them. */
static void
stdio_guard(void)
{
	int	 fd;

	do {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			exit(EXIT_START);
	} while (fd <= STDERR_FILENO);
	close(fd);
}

static struct conf *
load_or_report(const char *path)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	size_t			 i;

	conf = config_load(path, &errs);
	for (i = 0; i < errs.ce_count; i++)
		fprintf(stderr, "%s\n", errs.ce_msg[i]);
	if (conf == NULL && errs.ce_count == 0)	/* no room for a message */
		fprintf(stderr, "superd: %s: %s\n", path, strerror(ENOMEM));
	config_errors_clear(&errs);
	return conf;
}

/*
 * What /proc tells of a process: "pid N (uid U, COMMAND)".  -1 when it
 * is gone or hidden.
 */
static int
proc_describe(pid_t pid, char *buf, size_t size)
{
	char		 path[64], line[256], comm[64] = "";
	FILE		*fp;
	long		 uid = -1;
	size_t		 n;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Uid: %*d %ld", &uid) == 1)
			break;
	fclose(fp);
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		n = fread(comm, 1, sizeof(comm) - 1, fp);
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
	}
	snprintf(buf, size, "pid %ld (uid %ld, %s)", (long)pid, uid, comm);
	return 0;
}

/*
 * The pid that holds a flock(2) lock on the file open at fd, from
 * /proc/locks (the device's major:minor in hex, then the inode); 0 when
 * none is found.  A lock taken before a fork names the process that took
 * it, which may be gone.
 */
static pid_t
lock_holder(int fd)
{
	struct stat		 st;
	char			 line[256], kind[16];
	FILE			*fp;
	long			 pid;
	unsigned		 maj, min;
	unsigned long long	 ino;
	pid_t			 found = 0;

	if (fstat(fd, &st) == -1 || (fp = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a
		   waiter's line has "->" before FLOCK and does not scan */
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &pid,
		    &maj, &min, &ino) == 5 && strcmp(kind, "FLOCK") == 0 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    ino == (unsigned long long)st.st_ino && pid > 0)
			found = (pid_t)pid;
	}
	fclose(fp);
	return found;
}

/* The pid a pid file holds, or 0. */
static pid_t
pidfile_named(int fd)
{
	char	 buf[32];
	ssize_t	 n;
	long	 pid;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld", &pid) != 1 || pid <= 0)
		return 0;
	return (pid_t)pid;
}

/*
 * Why the pid file's lock could not be taken: who holds it.  A superd
 * took its lock before it daemonized, so /proc/locks names the parent,
 * gone since; the file then names the one that runs.
 */
static void
pidfile_locked(const char *path, int fd)
{
	char	 who[160];
	pid_t	 pid, named;

	pid = lock_holder(fd);
	if (pid != 0 && proc_describe(pid, who, sizeof(who)) == 0)
		fprintf(stderr, "superd: %s: locked by %s\n", path, who);
	else if ((named = pidfile_named(fd)) != 0 &&
	    proc_describe(named, who, sizeof(who)) == 0)
		fprintf(stderr, "superd: %s: locked; the file names %s\n", path,
		    who);
	else if (pid != 0)
		fprintf(stderr, "superd: %s: locked (taken by pid %ld, which "
		    "has exited)\n", path, (long)pid);
	else
		fprintf(stderr, "superd: %s: locked by another process\n",
		    path);
}

/*
 * Opens the pid file, never through a symbolic link, and only when it is
 * a regular file of superd's own user: the directory may be one others
 * can write, and a file they planted or own is not superd's to write.
 */
static int
pidfile_open(const char *path)
{
	struct stat	 st;
	int		 fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, "superd: %s: %s\n", path, errno == ELOOP ?
		    "is a symbolic link; superd does not follow it" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		fprintf(stderr, "superd: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "superd: %s: not a regular file\n", path);
		goto fail;
	}
	/* A hard link planted in a directory others can write would have
	 * superd truncate the file it names (fs.protected_hardlinks = 0). */
	if (st.st_nlink != 1) {
		fprintf(stderr, "superd: %s: has %lu links, not 1; superd "
		    "writes only a file of its own\n", path,
		    (unsigned long)st.st_nlink);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "superd: %s: owned by uid %u, not by superd's "
		    "uid %u\n", path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Takes the pid file: an exclusive lock held for superd's life tells a
 * second superd that this one runs.  Called before daemonizing, so the
 * error reaches the command line; the lock survives the fork.
 */
static int
pidfile_take(const char *path)
{
	if (path == NULL || *path == '\0')
		return 0;
	if ((pidfile_fd = pidfile_open(path)) == -1)
		return -1;
	if (flock(pidfile_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			pidfile_locked(path, pidfile_fd);
		else
			fprintf(stderr, "superd: %s: %s\n", path,
			    strerror(errno));
		close(pidfile_fd);
		pidfile_fd = -1;
		return -1;
	}
	if ((pidfile_path = strdup(path)) == NULL)
		return -1;
	return 0;
}

static int
pidfile_write(void)
{
	char	 buf[32];
	int	 len;

	if (pidfile_fd == -1)
		return 0;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfile_fd, 0) == -1 ||
	    pwrite(pidfile_fd, buf, (size_t)len, 0) != len)
		return -1;
	return 0;
}

static void
pidfile_remove(void)
{
	if (pidfile_path != NULL && unlink(pidfile_path) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", pidfile_path);
}

/* The classic double step: the parent returns 0 once the child runs. */
static int
daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		return -1;
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

static int
test_config(const char *path)
{
	struct conf	*conf;
	size_t		 i;

	if ((conf = load_or_report(path)) == NULL)
		return EXIT_CONFIG;
	for (i = 0; i < conf->cf_warnings.ce_count; i++)
		fprintf(stderr, "superd: warning: %s\n",
		    conf->cf_warnings.ce_msg[i]);
	printf("superd: %s: ok, %zu services\n", path, config_enabled(conf));
	config_free(conf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options	 op;
	struct conf	*conf;

	parse_options(argc, argv, &op);
	stdio_guard();
	if (op.op_test)
		return test_config(op.op_config);
	handover_init();	/* before any descriptor of superd's own */
	if ((conf = load_or_report(op.op_config)) == NULL)
		return EXIT_CONFIG;
	notify_init();
	log_init(op.op_debug, conf->cf_facility);
	if (pidfile_take(op.op_pidfile != NULL ? op.op_pidfile :
	    conf->cf_pidfile) == -1)
		goto fail;
	if (!op.op_foreground && daemonize() == -1) {
		log_warn("cannot daemonize");
		goto fail;
	}
	if (pidfile_write() == -1) {
		log_warn("cannot write the pid file");
		goto fail;
	}
	status_init();
	if (signals_init() == -1) {
		log_warn("cannot set up signals");
		goto fail;
	}
	servtab_set_ports(op.op_ports);
	loop_init();
	log_info("starting superd %s", SUPERD_VERSION);
	log_conf_warnings(conf);
	if (servtab_apply(conf) == -1) {
		log_warn("cannot start services");
		goto fail;
	}
	cgroup_load(conf);
	adopt_all();
	handover_close_rest();
	status_ready(0);
	loop_run();
	adopt_hand_over();	/* before STOPPING=1: the unit is still ours */
	notify("STOPPING=1");
	log_info("stopping");
	cgroup_stop();
	servtab_close_all();
	servtab_remove_ports();
	pidfile_remove();
	return 0;
fail:
	config_free(conf);
	return EXIT_START;
}
