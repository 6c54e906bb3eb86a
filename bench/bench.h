/*
 * bench.h - what the benchmark's programs agree on: the reply the tiny
 * services send, so that the load generator can check every answer, and
 * how long a benchmark server may live if nobody stops it.
 */
#ifndef BENCH_H
#define BENCH_H

/* The fixed answer of reply, udpreply and inproc's reply mode. */
#define BENCH_REPLY		"superd-bench ok\n"

/* The most a request line may be; the services read no further. */
#define BENCH_REQUEST_MAX	4096

/*
 * A benchmark server (forkloop, inproc) exits by itself after this many
 * seconds, and when the driver that started it dies: a crashed run must
 * not leave a server behind.
 */
#define BENCH_LIFETIME		1800

#endif
