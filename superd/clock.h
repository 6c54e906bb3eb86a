/*
 * clock.h - superd's one clock: milliseconds of CLOCK_MONOTONIC.
 *
 * A leaf every file may include, so that nothing calls up into the loop
 * for the time.  Every deadline, window and pause is a value of it.
 */
#ifndef SUPERD_CLOCK_H
#define SUPERD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC exists on every Linux superd runs on: it cannot fail. */
static inline int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* SUPERD_CLOCK_H */
