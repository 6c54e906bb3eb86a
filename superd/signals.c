/*
 * signals.c - the signals superd acts on, read from a descriptor.
 *
 * SIGHUP, SIGTERM, SIGINT, SIGUSR1 and SIGCHLD stay blocked for good and
 * are read from a signalfd that the loop watches beside the listeners:
 * there is no handler, a signal is never lost between a check and the
 * wait, and it is seen at the next turn however busy the listeners are
 * (a pselect() that finds descriptors ready leaves pending signals
 * pending).  A burst of the same signal coalesces into one flag.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "sys.h"

static int	 pending[4];
static int	 sigfd = -1;

static const int caught[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD };

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
	sigset_t		 handled;
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
	/* A client that goes away must not kill superd on write. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	sigemptyset(&handled);
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaddset(&handled, caught[i]);
	if (sigprocmask(SIG_BLOCK, &handled, NULL) == -1)
		return -1;
	sigfd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
	return sigfd == -1 ? -1 : 0;
}

/* The descriptor to watch: readable while a signal is pending. */
int
signals_fd(void)
{
	return sigfd;
}

static void
note_signal(uint32_t signo)
{
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
}

/* Takes every pending signal and sets its flag. */
void
signals_read(void)
{
	struct signalfd_siginfo	 si[8];
	ssize_t			 n, i;

	do {
		if ((n = read(sigfd, si, sizeof(si))) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("signalfd");
			return;
		}
		for (i = 0; i < n / (ssize_t)sizeof(si[0]); i++)
			note_signal(si[i].ssi_signo);
	} while (n == (ssize_t)sizeof(si));	/* short: none left */
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
