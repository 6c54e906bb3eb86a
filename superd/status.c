/*
 * status.c - what superd tells systemd from its loop: the watchdog's
 * pings and the STATUS= line.
 *
 * The watchdog: with $WATCHDOG_USEC set (and $WATCHDOG_PID superd's own
 * pid, or unset, as sd_watchdog_enabled(3) has it), superd sends
 * WATCHDOG=1 every half period from the loop itself, so that a loop that
 * stops turning is noticed and the unit restarted.  Both variables leave
 * the environment at start: a program superd starts is no watchdog's.
 *
 * The status line: "N services, M running, S served, R refused" (served
 * and refused since start, services a reload removed included), sent when
 * it changes and at most once a second, so that a busy superd does not
 * flood systemd.  A reload that was rejected prefixes it until a good one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

#define STATUS_EVERY_MS	1000
#define STATUS_MAX	256
#define REJECTED	"reload rejected: configuration errors; "

static int64_t	 ping_every;	/* ms between pings; 0: no watchdog */
static int64_t	 ping_at;	/* mono_ms() of the next ping */
static char	 sent[STATUS_MAX];	/* the line systemd has */
static int64_t	 sent_at;	/* mono_ms() when it was sent */
static int	 sent_once;
static int	 rejected;	/* the last reload was rejected */

/* A positive decimal number, or 0. */
static unsigned long long
env_positive(const char *name)
{
	const char		*v = getenv(name);
	char			*end;
	unsigned long long	 n;

	if (v == NULL || *v == '\0' || *v == '-')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return n;
}

/*
 * Reads and removes $WATCHDOG_USEC and $WATCHDOG_PID.  Runs after
 * daemonizing: the pid systemd named is the one that pings.
 */
void
status_init(void)
{
	unsigned long long	 usec = env_positive("WATCHDOG_USEC");
	unsigned long long	 pid = env_positive("WATCHDOG_PID");

	ping_every = 0;
	if (usec > 0 && (getenv("WATCHDOG_PID") == NULL ||
	    pid == (unsigned long long)getpid())) {
		/* Half the period, and never below 1 ms: a busy loop is
		   still no flood. */
		ping_every = (int64_t)(usec / 2000);
		if (ping_every < 1)
			ping_every = 1;
		ping_at = mono_ms();
		log_info("watchdog: pinging every %lld ms",
		    (long long)ping_every);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void
next_at(int64_t when, int64_t *next)
{
	if (*next == 0 || when < *next)
		*next = when;
}

static void
status_line(char *buf, size_t size)
{
	struct totals	 tt;

	servtab_totals(&tt);
	snprintf(buf, size, "%s%zu services, %lu running, %lu served, "
	    "%lu refused", rejected ? REJECTED : "", tt.tt_services,
	    tt.tt_running, tt.tt_served, tt.tt_refused);
}

/* Sends head (e.g. "READY=1\n", or "") with the status line now. */
static void
status_send(const char *head, const char *line, int64_t now)
{
	char	 msg[STATUS_MAX + 32];

	snprintf(msg, sizeof(msg), "%sSTATUS=%s", head, line);
	notify(msg);
	snprintf(sent, sizeof(sent), "%s", line);
	sent_at = now;
	sent_once = 1;
}

/*
 * READY=1 with the status line, at start and after a reload; rejected
 * says whether that reload was refused.
 */
void
status_ready(int reload_rejected)
{
	char	 line[STATUS_MAX];

	rejected = reload_rejected;
	status_line(line, sizeof(line));
	status_send("READY=1\n", line, mono_ms());
}

/* One round of the loop: the ping and the status line when due. */
void
status_tick(int64_t now, int64_t *next)
{
	char	 line[STATUS_MAX];

	if (!notify_active())
		return;
	if (ping_every > 0) {
		if (now >= ping_at) {
			notify("WATCHDOG=1");
			ping_at = now + ping_every;
		}
		next_at(ping_at, next);
	}
	status_line(line, sizeof(line));
	if (sent_once && strcmp(line, sent) == 0)
		return;
	if (sent_once && now - sent_at < STATUS_EVERY_MS) {
		next_at(sent_at + STATUS_EVERY_MS, next);
		return;
	}
	status_send("", line, now);
}
