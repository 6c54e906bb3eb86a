/*
 * fds.c - where superd's own descriptors may sit.
 *
 * Every descriptor superd keeps must be watchable by select (below
 * FD_SETSIZE) and leave room under RLIMIT_NOFILE to accept a client and
 * start its instance (fd_has_headroom).
 *
 * Listeners are moved to the top of that range (fd_place_high), so that
 * what a child is given -- its connection, its stderr pipe -- gets the low
 * numbers.  A child that starts in superd's descriptor table then takes a
 * copy of the low descriptors only (launch.c): with a thousand services it
 * neither copies nor closes a thousand listeners.
 */
#include <sys/resource.h>
#include <sys/select.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "superd.h"

#define FD_HEADROOM	8	/* descriptors kept free to accept and spawn */
#define PLACE_FROM	64	/* listeners, see fds_plan */

static rlim_t	 nofile = RLIM_INFINITY;	/* RLIMIT_NOFILE's soft limit */
static uint64_t	 placed[FD_SETSIZE / 64];	/* moved by fd_place_high */
static int	 nplaced;
static int	 place;		/* whether fd_place_high moves listeners */

/* Read at start and reload: asking on every spawn costs a system call. */
void
fds_refresh(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile = rl.rlim_cur;
}

/*
 * Whether a descriptor superd keeps (a listener, an instance's stderr
 * pipe) leaves room under RLIMIT_NOFILE to accept a client, start its
 * instance and write the ports file, and can be watched by select.
 * Keeping descriptors until none is left would leave superd unable to
 * serve anyone.
 */
int
fd_has_headroom(int fd)
{
	if (fd >= FD_SETSIZE)
		return 0;
	return nofile == RLIM_INFINITY || (rlim_t)fd + FD_HEADROOM < nofile;
}

/* One past the highest number fd_has_headroom accepts. */
static int
fd_ceiling(void)
{
	if (nofile != RLIM_INFINITY && nofile < FD_SETSIZE + FD_HEADROOM)
		return nofile > FD_HEADROOM ? (int)(nofile - FD_HEADROOM) : 0;
	return FD_SETSIZE;
}

/*
 * Whether a descriptor superd could do without (the kept write end of an
 * instance's stderr pipe) sits low enough to keep: in the lower half of
 * the room fd_has_headroom accepts less what listeners placed high take,
 * so that descriptors superd needs are never short for it.  Descriptors
 * are numbered lowest free first, so a low number says the room is far
 * from full.
 */
int
fd_plentiful(int fd)
{
	return fd < (fd_ceiling() - nplaced) / 2;
}

static int
is_placed(int fd)
{
	return (placed[fd / 64] >> (fd % 64)) & 1;
}

static int
is_free(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/*
 * Whether the next configuration's listeners are moved high.  Only many
 * are worth it: a child started in its own copy of superd's table copies
 * it up to the highest descriptor, so a few listeners placed high would
 * cost every child more than it saves.
 */
void
fds_plan(size_t nlisteners)
{
	place = nlisteners >= PLACE_FROM;
}

/*
 * Moves fd (close-on-exec) to the highest free number with headroom and
 * returns the new number; where none is higher, or on any failure, fd
 * stays where it is, which only costs children time.
 */
int
fd_place_high(int fd)
{
	int	 to;

	if (!place)
		return fd;
	for (to = fd_ceiling() - 1; to > fd; to--) {
		if (is_placed(to) || !is_free(to))
			continue;
		if (dup3(fd, to, O_CLOEXEC) == -1)
			return fd;
		close(fd);
		placed[to / 64] |= UINT64_C(1) << (to % 64);
		nplaced++;
		return to;
	}
	return fd;
}

/* fd, placed high, is about to be closed: its number is free again. */
void
fd_unplace(int fd)
{
	if (fd >= 0 && fd < FD_SETSIZE && is_placed(fd)) {
		placed[fd / 64] &= ~(UINT64_C(1) << (fd % 64));
		nplaced--;
	}
}

/* How many descriptors sit high: what a child need not copy. */
int
fds_placed(void)
{
	return nplaced;
}
