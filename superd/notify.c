/*
 * notify.c - systemd's readiness protocol, written by hand.
 *
 * One datagram per state change to $NOTIFY_SOCKET (a path, or an abstract
 * name when it starts with '@').  The variable is taken out of superd's
 * environment at start so nothing started later can see it.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
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

/* Sends one state string, e.g. "READY=1"; silently nothing without systemd. */
void
notify(const char *state)
{
	int	 fd;

	if (notify_len == 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("notify: socket");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		log_warn("notify: %s", state);
	close(fd);
}
