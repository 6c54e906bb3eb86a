/*
 * nscost.c - what the kernel charges for the namespaces superd's
 * confinement settings create, measured alone: the cost the `confine`
 * table's ratios are made of.
 *
 *   nscost [N]     N processes per kind (default 300)
 *
 * For each kind a process is forked N times; each one unshares (nothing,
 * a mount namespace, a mount namespace with private_tmp's mounts, a
 * network namespace), reports how long that took, and exits.  The parent
 * times the whole life, fork to reap, which includes tearing the
 * namespace down.  Needs root (CAP_SYS_ADMIN).  Prints one line per kind,
 * in microseconds: medians would hide nothing here, means are printed.
 */
#include <sys/mount.h>
#include <sys/wait.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct kind {
	const char	*name;
	int		 flags;
	int		 tmp_mounts;
};

static const struct kind kinds[] = {
	{ "none (fork, exit)", 0, 0 },
	{ "mount namespace", CLONE_NEWNS, 0 },
	{ "mount namespace + private /tmp, /var/tmp", CLONE_NEWNS, 1 },
	{ "network namespace", CLONE_NEWNET, 0 },
};

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The child: its namespace set up, the time it took written to fd. */
static void
child(const struct kind *k, int fd)
{
	double	 t[2], start = now_us();

	if (k->flags != 0 && unshare(k->flags) == -1)
		_exit(1);
	t[0] = now_us() - start;
	start = now_us();
	if (k->tmp_mounts &&
	    (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") == -1 ||
	    mount("tmpfs", "/var/tmp", "tmpfs", 0, "mode=1777") == -1))
		_exit(1);
	t[1] = now_us() - start;
	_exit(write(fd, t, sizeof(t)) == sizeof(t) ? 0 : 1);
}

static int
measure(const struct kind *k, int n)
{
	double	 t[2], setup = 0, mounts = 0, life = 0, start;
	int	 i, p[2], status;
	pid_t	 pid;

	for (i = 0; i < n; i++) {
		if (pipe(p) == -1)
			return -1;
		start = now_us();
		if ((pid = fork()) == -1)
			return -1;
		if (pid == 0) {
			close(p[0]);
			child(k, p[1]);
		}
		close(p[1]);
		if (read(p[0], t, sizeof(t)) != sizeof(t) ||
		    waitpid(pid, &status, 0) != pid || status != 0) {
			close(p[0]);
			return -1;
		}
		life += now_us() - start;
		close(p[0]);
		setup += t[0];
		mounts += t[1];
	}
	printf("%-42s unshare %7.1f  mounts %6.1f  fork to reap %7.1f\n",
	    k->name, setup / n, mounts / n, life / n);
	return 0;
}

int
main(int argc, char **argv)
{
	int	 n = argc > 1 ? atoi(argv[1]) : 300;
	size_t	 i;

	if (n < 1) {
		fprintf(stderr, "usage: nscost [N]\n");
		return 2;
	}
	printf("microseconds per process, mean of %d\n", n);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (measure(&kinds[i], n) == -1) {
			fprintf(stderr, "nscost: %s: failed (root?)\n",
			    kinds[i].name);
			return 1;
		}
	return 0;
}
