/*
 * handover.c - listening sockets handed to superd at start, and handed to
 * systemd to keep while superd restarts.
 *
 * In: systemd's socket activation protocol (sd_listen_fds(3)): when
 * $LISTEN_PID is superd's pid, descriptors 3 .. 3+$LISTEN_FDS-1 are
 * listening sockets, named by $LISTEN_FDNAMES.  systemd-socket-activate, a
 * .socket unit and podman hand sockets over this way, and so does systemd
 * on a restart, with the descriptors superd stored.  A service's listener
 * takes the inherited socket of its protocol, address and port (or UNIX
 * path) instead of binding one; a listener on a port of the kernel's
 * choice takes the socket stored under its own name, so that its port
 * outlives a restart.  What no service takes is closed and logged once the
 * first configuration is up.
 *
 * Out: with $NOTIFY_SOCKET, every listener superd opens is also sent to
 * systemd's file descriptor store (FDSTORE=1, named by service and
 * listener), and taken out of it (FDSTOREREMOVE=1) when a reload retires
 * it.  A stop leaves the store alone: on a restart the kernel goes on
 * queueing clients on the stored sockets, the new superd gets them back
 * through "in", and no client is refused.  The unit must allow the store
 * (FileDescriptorStoreMax=); systemd 254 and later say its size in
 * $FDSTORE, and superd stores nothing when that is 0.
 *
 * Running instances stored at a stop (adopt.c) come back the same way,
 * as pidfds named FDNAME_INSTANCE...: handover_take_instance() hands them
 * to adopt.c, and they are never taken for listeners.
 *
 * An inherited UNIX socket's node is not superd's (it did not bind it):
 * its mode and owner are left as they are and a stop does not remove it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"

#define HANDOVER_MAX	4096	/* inherited sockets read at most */
#define LISTEN_FDS_START 3

struct inherited {
	int			 in_fd;		/* -1 once taken or closed */
	int			 in_type;	/* SOCK_STREAM, SOCK_DGRAM */
	struct sockaddr_storage	 in_addr;
	socklen_t		 in_len;
	char			 in_name[FDNAME_MAX];
};

static struct inherited	*inherited;
static size_t		 ninherited;
static int		 store_allowed;	/* NOTIFY_SOCKET, and $FDSTORE != 0 */

/* A positive decimal number, or -1. */
static long
env_number(const char *name)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return -1;
	return n;
}

/* Describes one socket; -1 (and closes it) when it is no listener. */
static int
inherited_read(struct inherited *in, int fd)
{
	socklen_t	 len = sizeof(in->in_type);
	int		 listening = 0;
	socklen_t	 llen = sizeof(listening);

	in->in_fd = fd;
	in->in_len = sizeof(in->in_addr);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &in->in_type, &len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&in->in_addr,
	    &in->in_len) == -1 ||
	    (in->in_type == SOCK_STREAM &&
	    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &llen) == -1 || !listening)) ||
	    (in->in_type != SOCK_STREAM && in->in_type != SOCK_DGRAM)) {
		log_warnx("inherited descriptor %d (%s) is no listening "
		    "socket, closed", fd, in->in_name[0] != '\0' ?
		    in->in_name : "unnamed");
		close(fd);
		in->in_fd = -1;
		return -1;
	}
	return 0;
}

/*
 * A running instance's pidfd, kept for adopt.c (handover_take_instance);
 * its type matches no listener's.
 */
static void
instance_keep(struct inherited *in, int fd)
{
	in->in_fd = fd;
	in->in_type = 0;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		log_warn("inherited descriptor %d (%s)", fd, in->in_name);
}

/*
 * Reads $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES and takes them out of
 * the environment, so that no program superd starts sees them.  Runs
 * before anything else opens a descriptor.
 */
void
handover_init(void)
{
	long		 pid = env_number("LISTEN_PID");
	long		 n = env_number("LISTEN_FDS");
	const char	*names = getenv("LISTEN_FDNAMES");
	long		 i;

	store_allowed = getenv("NOTIFY_SOCKET") != NULL &&
	    env_number("FDSTORE") != 0;
	if (pid == (long)getpid() && n > 0) {
		if (n > HANDOVER_MAX) {
			log_warnx("%ld inherited sockets, taking the first %d",
			    n, HANDOVER_MAX);
			n = HANDOVER_MAX;
		}
		inherited = calloc((size_t)n, sizeof(*inherited));
		if (inherited == NULL)
			log_warn("cannot take inherited sockets");
		for (i = 0; inherited != NULL && i < n; i++) {
			fdname_listen(names, (size_t)i,
			    inherited[i].in_name, sizeof(inherited[i].in_name));
			if (fdname_is_instance(inherited[i].in_name))
				instance_keep(&inherited[i],
				    LISTEN_FDS_START + (int)i);
			else
				(void)inherited_read(&inherited[i],
				    LISTEN_FDS_START + (int)i);
		}
		if (inherited != NULL)
			ninherited = (size_t)n;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* Whether two socket addresses are one, the port compared or not. */
static int
same_address(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b, int with_port)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    (!with_port || a4->sin_port == b4->sin_port);
	if (a->ss_family == AF_INET6)
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    (!with_port || a6->sin6_port == b6->sin6_port);
	return 0;
}

/*
 * The name ls has in the store: "SERVICE/N/INODE" for its N-th listener
 * and the socket's inode, so that no two stored sockets share a name and
 * FDSTOREREMOVE takes exactly one; anything systemd does not take in a
 * name (controls, ':') becomes '_'.  Without the socket (fd -1) only the
 * prefix "SERVICE/N/", by which a restarted superd finds a listener's
 * socket on a port of the kernel's choice.
 */
static void
handover_name(const struct listener *ls, int fd, char *buf, size_t size)
{
	const struct service	*sv = ls->ls_svc;
	struct stat		 st;
	size_t			 n, len;

	for (n = 0; n < sv->sv_nls && sv->sv_ls[n] != ls; n++)
		continue;
	fdname_clean(buf, size, sv->sv_conf->sc_name);
	len = strlen(buf);
	snprintf(buf + len, size - len, "/%zu/", n);
	len = strlen(buf);
	if (fd != -1 && fstat(fd, &st) == 0)
		snprintf(buf + len, size - len, "%ju", (uintmax_t)st.st_ino);
}

/* Takes the descriptor stored under name out of the store. */
void
handover_unstore_name(const char *name)
{
	char	 msg[FDNAME_MAX + 32];

	if (!store_allowed)
		return;
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	notify(msg);
}

static int
inherited_matches(const struct inherited *in, const struct listener *ls,
    const char *prefix)
{
	const struct svc_conf		*sc = ls->ls_svc->sv_conf;
	const struct sockaddr_un	*sun = (const void *)&in->in_addr;
	const struct sockaddr_in	*want = (const void *)&ls->ls_bind.ba_addr;
	int				 dynamic;

	if (in->in_fd == -1 ||
	    in->in_type != (sc->sc_proto == PROTO_UDP ? SOCK_DGRAM :
	    SOCK_STREAM))
		return 0;
	if (sc->sc_proto == PROTO_UNIX)
		return in->in_addr.ss_family == AF_UNIX &&
		    strncmp(sun->sun_path, sc->sc_path,
		    sizeof(sun->sun_path)) == 0;
	/* sin_port and sin6_port sit at the same offset. */
	dynamic = want->sin_port == 0;
	if (dynamic && strncmp(in->in_name, prefix, strlen(prefix)) != 0)
		return 0;
	return same_address(&in->in_addr, &ls->ls_bind.ba_addr,
	    !dynamic);
}

/*
 * The inherited socket for ls, made close-on-exec and (unless a wait
 * service's program gets it) non-blocking; -1 when there is none.
 */
int
handover_take(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	char			 name[FDNAME_MAX];
	size_t			 i;
	int			 fd, fl;

	if (ninherited == 0)
		return -1;
	handover_name(ls, -1, name, sizeof(name));
	for (i = 0; i < ninherited; i++) {
		if (!inherited_matches(&inherited[i], ls, name))
			continue;
		fd = inherited[i].in_fd;
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, sc->sc_wait ? fl & ~O_NONBLOCK :
		    fl | O_NONBLOCK) == -1 ||
		    (sc->sc_proto != PROTO_UDP &&
		    listen(fd, sc->sc_backlog) == -1)) {
			log_warn("%s: inherited socket %d", sc->sc_name, fd);
			return -1;
		}
		inherited[i].in_fd = -1;
		return fd;
	}
	return -1;
}

/*
 * The next running instance handed over (FDNAME_INSTANCE...), its name
 * in name; -1 when there is none left.
 */
int
handover_take_instance(char *name, size_t size)
{
	size_t	 i;
	int	 fd;

	for (i = 0; i < ninherited; i++) {
		if (inherited[i].in_fd == -1 ||
		    !fdname_is_instance(inherited[i].in_name))
			continue;
		fd = inherited[i].in_fd;
		inherited[i].in_fd = -1;
		snprintf(name, size, "%s", inherited[i].in_name);
		return fd;
	}
	return -1;
}

/* Closes, logs and unstores what no service took. */
void
handover_close_rest(void)
{
	size_t	 i;

	for (i = 0; i < ninherited; i++) {
		if (inherited[i].in_fd == -1)
			continue;
		log_warnx("inherited socket %s (descriptor %d) is wanted by no "
		    "service, closed", inherited[i].in_name[0] != '\0' ?
		    inherited[i].in_name : "unnamed", inherited[i].in_fd);
		close(inherited[i].in_fd);
		if (inherited[i].in_name[0] != '\0')
			handover_unstore_name(inherited[i].in_name);
	}
	free(inherited);
	inherited = NULL;
	ninherited = 0;
}

/* Hands fd to systemd's store under name. */
void
handover_store_fd(const char *name, int fd)
{
	char	 msg[FDNAME_MAX + 32];

	if (!store_allowed)
		return;
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	notify_fd(msg, fd);
}

/* Hands ls's socket to systemd's store. */
void
handover_store(const struct listener *ls)
{
	char	 name[FDNAME_MAX];

	if (!store_allowed || ls->ls_fd == -1)
		return;
	handover_name(ls, ls->ls_fd, name, sizeof(name));
	handover_store_fd(name, ls->ls_fd);
}

/* Takes a listener a reload retires out of the store. */
void
handover_unstore(const struct listener *ls)
{
	char	 name[FDNAME_MAX];

	handover_name(ls, ls->ls_fd, name, sizeof(name));
	handover_unstore_name(name);
}

/* Whether the store keeps superd's sockets across a stop. */
int
handover_storing(void)
{
	return store_allowed;
}
