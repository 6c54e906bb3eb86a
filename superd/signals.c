/*
 * signals.c - the pending-signal flags and the mask the loop waits with.
 *
 * The signals superd acts on stay blocked except inside the loop's
 * pselect(), which unblocks them atomically: a signal that came at any
 * other moment waits, pending, and ends the next wait at once.  Handlers
 * only set a flag; everything else happens in the loop.  A burst of the
 * same signal coalesces into one flag.
 *
 * A pselect() that finds a descriptor ready returns with the old mask
 * back in place and a pending signal still pending: under steady load a
 * listener is ready at every turn, and SIGCHLD, SIGHUP or SIGTERM would
 * wait until the backlog runs dry.  signals_poll() lets them through
 * after such a turn.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "sys.h"

static volatile sig_atomic_t	pending[4];
static sigset_t			wait_mask;	/* the mask during pselect */
static sigset_t			handled;	/* blocked outside it */

static const int caught[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD };

static void
on_signal(int signo)
{
	int	 saved = errno;

	switch (signo) {
	case SIGHUP:
		pending[SIG_RELOAD] = 1;
		break;
	case SIGTERM:
	case SIGINT:
		pending[SIG_STOP] = 1;
		break;
	case SIGUSR1:
		pending[SIG_DUMP] = 1;
		break;
	case SIGCHLD:
		pending[SIG_CHILD] = 1;
		break;
	}
	errno = saved;
}

/*
 * The C library keeps two real-time signals for itself and refuses
 * sigaction() on them, yet an ignored one is passed on through exec all
 * the same (make, for one, starts commands that way).  superd has no
 * threads, so it sets them back to default with the system call itself.
 */
static void
reset_libc_reserved(void)
{
	int	 signo;

	if (!SYS_RAW)
		return;		/* libc's sigaction would refuse them */
	for (signo = 32; signo < SIGRTMIN; signo++)
		sys_signal_default(signo);
}

int
signals_init(void)
{
	struct sigaction	 sa;
	size_t			 i;
	int			 signo;

	/*
	 * Start from default dispositions (an ignored signal inherited from
	 * whoever started superd would reach every program), so a child only
	 * has to undo what superd itself sets below.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (signo = 1; signo < NSIG; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			(void)sigaction(signo, &sa, NULL);
	reset_libc_reserved();
	memset(&sa, 0, sizeof(sa));
	sigfillset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigaction(caught[i], &sa, NULL) == -1)
			return -1;
	/* A client that goes away must not kill superd on write. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	/* Blocked from now on; pselect() opens the door with wait_mask. */
	sigemptyset(&handled);
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaddset(&handled, caught[i]);
	if (sigprocmask(SIG_BLOCK, &handled, &wait_mask) == -1)
		return -1;
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigdelset(&wait_mask, caught[i]);
	return 0;
}

/* The signal mask to wait with: the handled signals let through. */
const sigset_t *
signals_wait_mask(void)
{
	return &wait_mask;
}

/*
 * After a wait that returned ready descriptors: runs the handlers of the
 * signals that came meanwhile.  One system call when none did.
 */
void
signals_poll(void)
{
	sigset_t	 waiting;
	size_t		 i;

	if (sigpending(&waiting) == -1)
		return;
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigismember(&waiting, caught[i]) == 1)
			break;
	if (i == sizeof(caught) / sizeof(caught[0]))
		return;
	/* Unblocked, a pending signal is delivered before this returns. */
	(void)sigprocmask(SIG_UNBLOCK, &handled, NULL);
	(void)sigprocmask(SIG_BLOCK, &handled, NULL);
}

/* Returns and clears one pending flag. */
int
signals_take(int which)
{
	if (!pending[which])
		return 0;
	pending[which] = 0;
	return 1;
}

/*
 * In a new child, signals still blocked: default dispositions for what
 * superd catches or ignores (everything else is default since
 * signals_init), then an empty mask.  Only sys.h calls: a child sharing
 * superd's memory runs this.
 */
void
signals_child_reset(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sys_signal_default(caught[i]);
	sys_signal_default(SIGPIPE);
	sys_unblock_all();
}
