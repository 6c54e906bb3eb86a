/*
 * refuse.c - the `NAME: refused ADDRESS (REASON)` line.
 *
 * One format for every refusal, and this file alone writes it.  Every
 * refusal is decided in the loop (loop.c): at the accept, after a PROXY
 * header names the client, or on a tcpmux name.
 *
 * superd logs at most REFUSED_PER_S refusals a second per service: a flood
 * of refused clients costs a counter, not the log.  Once that second is
 * over, one line says how many were not logged; the loop asks for it at
 * the right time (refused_due), so it comes out even when no client
 * follows.
 */
#include <stdint.h>

#include "clock.h"
#include "superd.h"

#define REFUSED_PER_S	20	/* refusal lines per service per second */

static int64_t	 summary_at;	/* the earliest summary due, 0 = none */

static void
refused_line(const char *name, const char *addr, const char *reason)
{
	log_info("%s: refused %s (%s)", name, addr, reason);
}

/* Says how many refusals of sv were not logged, and opens a new second. */
static void
refused_summary(struct service *sv, int64_t now)
{
	struct refusals	*rf = &sv->sv_refusals;

	if (rf->rf_unlogged > 0)
		log_warnx("%s: %lu more refusals not logged (over %d a second)",
		    sv->sv_conf->sc_name, rf->rf_unlogged, REFUSED_PER_S);
	rf->rf_window = now;
	rf->rf_lines = 0;
	rf->rf_unlogged = 0;
}

/* A refusal by superd itself, logged within the service's budget. */
void
refused_log(struct service *sv, const char *addr, const char *reason)
{
	struct refusals	*rf = &sv->sv_refusals;
	int64_t		 now = mono_ms();

	if (now - rf->rf_window >= 1000)
		refused_summary(sv, now);
	if (rf->rf_lines < REFUSED_PER_S) {
		rf->rf_lines++;
		refused_line(sv->sv_conf->sc_name, addr, reason);
		return;
	}
	rf->rf_unlogged++;
	if (summary_at == 0 || rf->rf_window + 1000 < summary_at)
		summary_at = rf->rf_window + 1000;
}

/*
 * From the loop: whether summaries are due now, to be asked of every
 * service with refused_summarize(); else *next is when they will be.
 * Nothing to do, and no table walked, until then.
 */
int
refused_due(int64_t now, int64_t *next)
{
	if (summary_at != 0 && now >= summary_at) {
		summary_at = 0;
		return 1;
	}
	if (summary_at != 0 && (*next == 0 || summary_at < *next))
		*next = summary_at;
	return 0;
}

/*
 * The summary of sv if its second is over, else when it will be; arg
 * points to the int64_t now.  Walked by the service table's owner, so that
 * this file calls nothing above the log.
 */
void
refused_summarize(struct service *sv, void *arg)
{
	struct refusals	*rf = &sv->sv_refusals;
	int64_t		 now = *(const int64_t *)arg;

	if (rf->rf_unlogged == 0)
		return;
	if (now - rf->rf_window >= 1000)
		refused_summary(sv, now);
	else if (summary_at == 0 || rf->rf_window + 1000 < summary_at)
		summary_at = rf->rf_window + 1000;
}
