/*
 * notify.c - systemd's readiness protocol, written by hand.
 *
 * One datagram per state change to $NOTIFY_SOCKET (a path, or an abstract
 * name when it starts with '@'), with a descriptor attached for the file
 * descriptor store (handover.c).  The variable is taken out of superd's
 * environment at start so nothing started later can see it.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"

static struct sockaddr_un	notify_addr;
static socklen_t		notify_len;

void
notify_init(void)
{
	const char	*path = getenv("NOTIFY_SOCKET");
	size_t		 len;

	if (path == NULL)
		return;
	len = strlen(path);
	if (len > 0 && len < sizeof(notify_addr.sun_path) &&
	    (path[0] == '/' || path[0] == '@')) {
		notify_addr.sun_family = AF_UNIX;
		memcpy(notify_addr.sun_path, path, len);
		if (path[0] == '@')
			notify_addr.sun_path[0] = '\0';
		notify_len = offsetof(struct sockaddr_un, sun_path) + len;
	}
	unsetenv("NOTIFY_SOCKET");
}

/*
 * Sends one state string, e.g. "READY=1", with descriptor passfd attached
 * unless it is -1 (FDSTORE=1); silently nothing without systemd.
 */
void
notify_fd(const char *state, int passfd)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 ctl;
	struct iovec	 iov = { (void *)(uintptr_t)state, strlen(state) };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	int		 fd;

	if (notify_len == 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("notify: socket");
		return;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &notify_addr;
	msg.msg_namelen = notify_len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (passfd != -1) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) == -1)
		log_warn("notify: %.*s", (int)strcspn(state, "\n"), state);
	close(fd);
}

void
notify(const char *state)
{
	notify_fd(state, -1);
}

/* Whether anyone listens: without systemd there is nothing to tell. */
int
notify_active(void)
{
	return notify_len != 0;
}
