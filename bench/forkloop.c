/*
 * forkloop.c - the least a super-server can do per client: the limits the
 * benchmark holds superd against.
 *
 *   forkloop fork  PORT PROG [ARG...]   accept, fork, dup2, exec
 *   forkloop vfork PORT PROG [ARG...]   accept, vfork, dup2, exec
 *   forkloop udp   PORT PROG [ARG...]   UDP wait mode: lend the bound socket
 *                                        to one instance (vfork+exec) at a
 *                                        time, wait for it, watch again
 *
 * Listens on 127.0.0.1:PORT.  No access control, no environment, no
 * limits, no logging: only what cannot be left out.  The connection goes
 * to the program as fds 0 and 1 (fd 2 stays ours).  It exits on SIGTERM,
 * when its parent dies, or after BENCH_LIFETIME seconds.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define BACKLOG	128	/* superd's default */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: forkloop fork|vfork|udp PORT PROG [ARG...]\n");
	exit(2);
}

static int
bind_loopback(int type, int port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, BACKLOG) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the child: the connection becomes stdin and stdout, then exec. */
static void __attribute__((noreturn))
child_exec(int fd, char **argv)
{
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

static void
reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int
serve_tcp(int lfd, int use_vfork, char **argv)
{
	pid_t	 pid;
	int	 fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("forkloop: accept");
			return 1;
		}
		/* The accepted socket is close-on-exec; dup2 clears it on 0, 1. */
		pid = use_vfork ? vfork() : fork();
		if (pid == 0)
			child_exec(fd, argv);
		if (pid == -1)
			perror("forkloop: fork");
		close(fd);
		reap();
	}
}

static int
serve_udp_wait(int sfd, char **argv)
{
	struct pollfd	 pfd = { sfd, POLLIN, 0 };
	pid_t		 pid;
	int		 rc;

	for (;;) {
		rc = poll(&pfd, 1, -1);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1) {
			perror("forkloop: poll");
			return 1;
		}
		pid = vfork();
		if (pid == 0)
			child_exec(sfd, argv);
		if (pid == -1) {
			perror("forkloop: vfork");
			sleep(1);
			continue;
		}
		/* Wait mode: the socket is the instance's until it exits. */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
}

int
main(int argc, char *argv[])
{
	const char	*mode;
	int		 port, fd;

	if (argc < 4)
		usage();
	mode = argv[1];
	port = atoi(argv[2]);
	if (port <= 0 || port > 65535)
		usage();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(BENCH_LIFETIME);
	if (strcmp(mode, "fork") == 0 || strcmp(mode, "vfork") == 0) {
		if ((fd = bind_loopback(SOCK_STREAM, port)) == -1) {
			perror("forkloop: listen");
			return 1;
		}
		return serve_tcp(fd, mode[0] == 'v', argv + 3);
	}
	if (strcmp(mode, "udp") == 0) {
		if ((fd = bind_loopback(SOCK_DGRAM, port)) == -1) {
			perror("forkloop: bind");
			return 1;
		}
		return serve_udp_wait(fd, argv + 3);
	}
	usage();
}
