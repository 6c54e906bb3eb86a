/*
 * listen.c - opening and closing one listening socket, and what waits on
 * a wait service's: the first datagram queued (UDP), the length of the
 * accept queue (TCP).
 *
 * Every socket is close-on-exec, and non-blocking unless a wait service's
 * program gets it (through dup2, which clears close-on-exec on the copy).
 * A UNIX socket's node is superd's only while it is the node it bound:
 * its mode comes from the umask at bind(), its owner and later changes go
 * through a descriptor of the node, never through a path that may have
 * become a link to something else.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

/* Describes where a listener listens, for log lines. */
static void
listener_where(const struct listener *ls, char *buf, size_t size)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	char			 ip[64];
	unsigned		 port;

	if (sc->sc_proto == PROTO_UNIX) {
		snprintf(buf, size, "unix %s", sc->sc_path);
		return;
	}
	if (ls->ls_fd != -1 && ls->ls_boundlen > 0)
		addr_format((const struct sockaddr *)&ls->ls_bound,
		    ls->ls_boundlen, ip, sizeof(ip), &port);
	else
		addr_format((const struct sockaddr *)&ls->ls_bind.ba_addr,
		    ls->ls_bind.ba_len, ip, sizeof(ip), &port);
	snprintf(buf, size, "%s %s port %u", proto_name(sc->sc_proto), ip,
	    port);
}

/*
 * A wait service's program gets the listener itself and expects blocking
 * reads, and the flag would be shared with superd's descriptor: such a
 * listener stays blocking and superd only ever uses it with MSG_DONTWAIT.
 */
static int
sock_flags(const struct svc_conf *sc)
{
	return SOCK_CLOEXEC | (sc->sc_wait ? 0 : SOCK_NONBLOCK);
}

/*
 * A path that is already a socket nobody answers on is a leftover of an
 * earlier run and may go; anything else at the path stays untouched.
 */
static int
unix_clear_path(const char *path)
{
	struct stat		 st;
	struct sockaddr_un	 sun;
	int			 fd, live;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path);
}

/* Closes fd on a failure path, keeping the errno that tells why. */
static int
fail_close(int fd)
{
	int	 saved = errno;

	close(fd);
	errno = saved;
	return -1;
}

/*
 * The node at a UNIX socket's path, opened without following a link and
 * described in *st: -1 (errno ELOOP or ENOTSOCK) unless it is a socket.
 * Whoever can write the socket's directory can put anything at the path;
 * what superd changes afterwards goes through this descriptor, so it can
 * only ever be this node.
 */
static int
unix_node_open(const char *path, struct stat *st)
{
	int	 nfd;

	if ((nfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(nfd, st) == -1)
		return fail_close(nfd);
	if (!S_ISSOCK(st->st_mode)) {
		errno = S_ISLNK(st->st_mode) ? ELOOP : ENOTSOCK;
		return fail_close(nfd);
	}
	return nfd;
}

/*
 * Gives the node the configured mode and owner where it differs.  An
 * O_PATH descriptor takes no fchmod: its /proc/self/fd link leads to
 * exactly this node and nowhere else.
 */
static int
unix_node_perms(int nfd, const struct stat *st, const struct svc_conf *sc)
{
	char	 proc[32];
	uid_t	 uid = sc->sc_socket_uid;
	gid_t	 gid = sc->sc_socket_gid;

	if ((st->st_mode & 07777) != sc->sc_socket_mode) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", nfd);
		if (chmod(proc, sc->sc_socket_mode) == -1)
			return -1;
	}
	if (uid == st->st_uid)
		uid = (uid_t)-1;
	if (gid == st->st_gid)
		gid = (gid_t)-1;
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 0;
	return fchownat(nfd, "", uid, gid, AT_EMPTY_PATH);
}

/*
 * Binds with the umask that leaves exactly the configured mode, so the
 * socket never exists with more permission than configured and no chmod
 * goes through the path; superd's own umask comes back at once.
 */
static int
unix_bind(int fd, const struct svc_conf *sc)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, sc->sc_path, sizeof(sun.sun_path) - 1);
	old = umask(~sc->sc_socket_mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old);
	return rc;
}

/*
 * The socket just bound gets its owner (and any mode bits a umask cannot
 * give), and superd remembers its node: a reload or a stop touches the
 * path again only while it is still this node.
 */
static int
unix_claim(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	struct stat		 st;
	int			 nfd, rc;

	if ((nfd = unix_node_open(sc->sc_path, &st)) == -1)
		return -1;
	rc = unix_node_perms(nfd, &st, sc);
	close(nfd);
	ls->ls_dev = st.st_dev;
	ls->ls_ino = st.st_ino;
	return rc;
}

/* The node at the listener's path, when it is still the socket bound. */
static int
unix_node_ours(const struct listener *ls, struct stat *st)
{
	int	 nfd;

	if ((nfd = unix_node_open(ls->ls_svc->sv_conf->sc_path, st)) == -1)
		return -1;
	if (st->st_dev != ls->ls_dev || st->st_ino != ls->ls_ino) {
		close(nfd);
		errno = ESTALE;
		return -1;
	}
	return nfd;
}

/* Removes the socket's path, unless something else has taken it since. */
static void
unix_unlink(const struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	struct stat		 st;
	int			 nfd;

	if ((nfd = unix_node_ours(ls, &st)) == -1) {
		if (errno != ENOENT)
			log_warnx("%s: %s is no longer the socket superd "
			    "bound; left in place", sc->sc_name, sc->sc_path);
		return;
	}
	close(nfd);
	(void)unlink(sc->sc_path);
}

static int
open_unix(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	int			 fd;

	if (unix_clear_path(sc->sc_path) == -1)
		return -1;
	ls->ls_dev = 0;
	ls->ls_ino = 0;		/* no node is superd's yet */
	fd = socket(AF_UNIX, SOCK_STREAM | sock_flags(sc), 0);
	if (fd == -1)
		return -1;
	if (unix_bind(fd, sc) == -1)
		return fail_close(fd);
	if (unix_claim(ls) == -1 || listen(fd, sc->sc_backlog) == -1) {
		int saved = errno;

		unix_unlink(ls);
		errno = saved;
		return fail_close(fd);
	}
	return fd;
}

static int
open_inet(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	const struct bindaddr	*ba = &ls->ls_bind;
	int			 fd, on = 1, v6only;
	int			 type = sc->sc_proto == PROTO_UDP ? SOCK_DGRAM :
				     SOCK_STREAM;

	fd = socket(ba->ba_addr.ss_family, type | sock_flags(sc), 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		return fail_close(fd);
	if (ba->ba_addr.ss_family == AF_INET6) {
		/* "*" is one dual-stack socket; a named IPv6 address is IPv6 only. */
		v6only = !ba->ba_wildcard;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only)) == -1)
			return fail_close(fd);
	}
	if (bind(fd, (const struct sockaddr *)&ba->ba_addr, ba->ba_len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, sc->sc_backlog) == -1))
		return fail_close(fd);
	return fd;
}

/*
 * Opens the listener; on failure logs once per failure streak and leaves
 * it for the loop to retry every SUPERD_BIND_RETRY seconds.
 */
int
listener_open(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	char			 where[160];
	int			 fd;

	if ((fd = handover_take(ls)) != -1) {
		ls->ls_inherited = 1;
		ls->ls_dev = 0;		/* a handed-over node is not superd's */
		ls->ls_ino = 0;
	} else {
		ls->ls_inherited = 0;
		fd = sc->sc_proto == PROTO_UNIX ? open_unix(ls) : open_inet(ls);
	}
	if (fd != -1)
		fd = fd_place_high(fd);	/* children's descriptors stay low */
	if (fd != -1 && !fd_has_headroom(fd)) {
		listener_where(ls, where, sizeof(where));
		if (!ls->ls_failed)
			log_warnx("%s: cannot listen on %s: descriptor %d leaves "
			    "no room under RLIMIT_NOFILE or select's limit of %d, "
			    "retrying every %d s", sc->sc_name, where, fd,
			    FD_SETSIZE, SUPERD_BIND_RETRY);
		close(fd);
		fd = -1;
		ls->ls_failed = 1;
	}
	if (fd == -1) {
		listener_where(ls, where, sizeof(where));
		if (!ls->ls_failed)
			log_warn("%s: cannot listen on %s, retrying every %d s",
			    sc->sc_name, where, SUPERD_BIND_RETRY);
		ls->ls_failed = 1;
		ls->ls_retry_at = mono_ms() + SUPERD_BIND_RETRY * 1000;
		return -1;
	}
	ls->ls_fd = fd;
	ls->ls_failed = 0;
	ls->ls_retry_at = 0;
	ls->ls_boundlen = sizeof(ls->ls_bound);
	if (getsockname(fd, (struct sockaddr *)&ls->ls_bound,
	    &ls->ls_boundlen) == -1)
		ls->ls_boundlen = 0;
	listener_where(ls, where, sizeof(where));
	log_info("%s: listening on %s%s", sc->sc_name, where,
	    ls->ls_inherited ? " (handed over)" : "");
	handover_store(ls);
	return 0;
}

/*
 * A kept socket takes the new configuration's backlog and, for a UNIX
 * socket, its mode and owner: only while its path still leads to the
 * very socket superd bound, never to whatever replaced it.
 */
void
listener_update(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;
	struct stat		 st;
	int			 nfd;

	if (sc->sc_proto != PROTO_UDP && listen(ls->ls_fd, sc->sc_backlog) == -1)
		log_warn("%s: listen", sc->sc_name);
	if (sc->sc_proto != PROTO_UNIX || ls->ls_inherited)
		return;
	if ((nfd = unix_node_ours(ls, &st)) == -1) {
		log_warnx("%s: %s is no longer the socket superd bound; its "
		    "mode and owner are left as they are", sc->sc_name,
		    sc->sc_path);
		return;
	}
	if (unix_node_perms(nfd, &st, sc) == -1)
		log_warn("%s: %s", sc->sc_name, sc->sc_path);
	close(nfd);
}

/* Closes the listener for good (service removed, or superd stopping). */
void
listener_close(struct listener *ls)
{
	const struct svc_conf	*sc = ls->ls_svc->sv_conf;

	if (ls->ls_fd == -1)
		return;
	handover_unstore(ls);
	fd_unplace(ls->ls_fd);
	close(ls->ls_fd);
	ls->ls_fd = -1;
	if (sc->sc_proto == PROTO_UNIX && !ls->ls_inherited)
		unix_unlink(ls);
}

/*
 * Closes the listener as superd stops.  When systemd keeps it in its
 * store (handover.c), the socket lives on for the next superd, and so
 * does its UNIX node.
 */
void
listener_stop(struct listener *ls)
{
	if (!handover_storing()) {
		listener_close(ls);
		return;
	}
	if (ls->ls_fd == -1)
		return;
	fd_unplace(ls->ls_fd);
	close(ls->ls_fd);
	ls->ls_fd = -1;
}

/*
 * Whether two configured listeners are the same socket, kept on reload.
 * A dynamic port belongs to its service: another service asking for a
 * port of the kernel's choice gets a new one, not this one.
 */
int
listener_same(const struct svc_conf *a, const struct bindaddr *ba,
    const struct svc_conf *b, const struct bindaddr *bb)
{
	if (a->sc_proto != b->sc_proto || a->sc_wait != b->sc_wait)
		return 0;
	if (a->sc_proto == PROTO_UNIX)
		return strcmp(a->sc_path, b->sc_path) == 0;
	if (a->sc_port == 0 && strcmp(a->sc_name, b->sc_name) != 0)
		return 0;
	return ba->ba_len == bb->ba_len && ba->ba_wildcard == bb->ba_wildcard &&
	    memcmp(&ba->ba_addr, &bb->ba_addr, ba->ba_len) == 0;
}

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char	*p = data;

	while (len-- > 0)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

#define HEAD_BYTES	256	/* of a datagram, to tell it from another */

/* Peeks at the first queued datagram with its kernel time stamp. */
static ssize_t
head_peek(int fd, char *buf, size_t size, struct sockaddr_storage *ss,
    socklen_t *sslen, struct timespec *ts)
{
	union {
		struct cmsghdr	 align;
		char		 space[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	struct iovec	 iov = { buf, size };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	int		 on = 1, off = 0;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = ss;
	msg.msg_namelen = sizeof(*ss);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	/*
	 * The kernel stamps a datagram the first time it is read with time
	 * stamps on, and the stamp stays with it: it tells the datagram that
	 * started an instance from the same request sent again.  Off again at
	 * once, so the program gets the socket as it was configured.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	n = recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &off, sizeof(off));
	if (n == -1)
		return -1;
	memset(ts, 0, sizeof(*ts));
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS)
			memcpy(ts, CMSG_DATA(cm), sizeof(*ts));
	*sslen = msg.msg_namelen;
	return n;
}

/*
 * A fingerprint of the first queued datagram: source, length, first
 * bytes and time stamp.  -1 when none is queued.
 */
static int
head_hash(int fd, uint64_t *hash, char *peer, size_t size)
{
	char			 buf[HEAD_BYTES], ip[64];
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct timespec		 ts;
	ssize_t			 n;
	unsigned		 port;

	if ((n = head_peek(fd, buf, sizeof(buf), &ss, &len, &ts)) == -1)
		return -1;
	*hash = fnv1a(14695981039346656037ULL, &ss, len);
	*hash = fnv1a(*hash, &n, sizeof(n));
	*hash = fnv1a(*hash, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	*hash = fnv1a(*hash, &ts, sizeof(ts));
	if (peer != NULL) {
		addr_format((struct sockaddr *)&ss, len, ip, sizeof(ip), &port);
		snprintf(peer, size, "%s:%u", ip, port);
	}
	return 0;
}

/*
 * Before a UDP wait instance starts: remember the datagram that woke
 * superd, so its end can tell whether it made progress.  When the last
 * instance's end already looked at the queue, the datagram first in it
 * then is the one to lend for: no need to look again.
 */
int
listener_head_peek(struct listener *ls, char *peer, size_t size)
{
	if (ls->ls_head_fresh) {
		ls->ls_head_fresh = 0;
		snprintf(peer, size, "%s", ls->ls_head_peer);
		return 0;
	}
	ls->ls_head_valid = head_hash(ls->ls_fd, &ls->ls_head, peer, size) == 0;
	return ls->ls_head_valid ? 0 : -1;
}

/*
 * When the instance has ended: whether the datagram that started it is
 * still first in line (no progress).  What is first now is kept for the
 * next instance.
 */
int
listener_head_same(struct listener *ls)
{
	uint64_t	 now;
	int		 same;

	ls->ls_head_fresh = 0;
	if (!ls->ls_head_valid)
		return 0;
	if (head_hash(ls->ls_fd, &now, ls->ls_head_peer,
	    sizeof(ls->ls_head_peer)) == -1) {
		ls->ls_head_valid = 0;
		return 0;
	}
	same = now == ls->ls_head;
	ls->ls_head = now;
	ls->ls_head_fresh = 1;
	return same;
}

/* Throws away the first queued datagram (its instance could not start). */
void
listener_drop_head(struct listener *ls)
{
	char	 byte;

	(void)recv(ls->ls_fd, &byte, 1, MSG_DONTWAIT | MSG_TRUNC);
	ls->ls_head_valid = 0;
	ls->ls_head_fresh = 0;
}

/*
 * TCP wait: the length of the listener's accept queue, which TCP_INFO on a
 * listening socket gives in tcpi_unacked; -1 when unknown.  A length alone
 * proves little (a queue stays as long, or full, under a load its program
 * keeps up with): it spares a dump of the kernel's table when the queue
 * is empty at a lend or shorter at the end.
 */
static int
accept_queue_len(int fd)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_unacked) +
	    sizeof(ti.tcpi_unacked) || ti.tcpi_state != TCP_LISTEN)
		return -1;
	return (int)ti.tcpi_unacked;
}

/* A cookie of the queue at a lend: kept while there is room. */
static void
lent_add(uint64_t cookie, void *arg)
{
	struct listener	*ls = arg;

	if (ls->ls_nlent >= 0 && ls->ls_nlent < ACCEPTQ_MAX)
		ls->ls_lent[ls->ls_nlent++] = cookie;
}

/*
 * Before a TCP wait instance starts: how many clients wait for it, and
 * which (acceptq.c).  Its end is not judged (ls_nlent -1) when the queue
 * is empty, when more wait than ACCEPTQ_MAX (who of them the program took
 * could not be told), or when the kernel's table cannot be read.
 */
void
listener_queue_mark(struct listener *ls)
{
	int	 n;

	ls->ls_nlent = -1;
	if ((ls->ls_queued = accept_queue_len(ls->ls_fd)) <= 0)
		return;
	ls->ls_nlent = 0;
	n = acceptq_scan(&ls->ls_bound, lent_add, ls);
	if (n <= 0 || n > ACCEPTQ_MAX)
		ls->ls_nlent = -1;
}

struct lent_seen {
	const struct listener	*ls;
	uint32_t		 seen;	/* bit i: ls_lent[i] still waits */
};

/* A cookie of the queue at the end: is it one of those lent? */
static void
lent_see(uint64_t cookie, void *arg)
{
	struct lent_seen	*st = arg;
	int			 i;

	for (i = 0; i < st->ls->ls_nlent; i++)
		if (st->ls->ls_lent[i] == cookie)
			st->seen |= 1U << i;
}

/*
 * When the TCP wait instance has ended: whether every client that waited
 * when it started still waits, none of them accepted (nor gone).  A queue
 * shorter than it was says no at once; otherwise the kernel's table
 * decides, as new clients may have taken the places of those accepted.
 * looping.c only asks about a quick instance.
 */
int
listener_queue_same(const struct listener *ls)
{
	struct lent_seen	 st = { ls, 0 };
	int			 len;

	if (ls->ls_nlent <= 0)
		return 0;
	len = accept_queue_len(ls->ls_fd);
	if (len >= 0 && len < ls->ls_queued)
		return 0;
	if (acceptq_scan(&ls->ls_bound, lent_see, &st) == -1)
		return 0;
	return st.seen == (1U << ls->ls_nlent) - 1;
}
