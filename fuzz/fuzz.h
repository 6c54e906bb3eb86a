/*
 * fuzz.h - what the fuzz targets share: an assertion that holds in every
 * build, a private scratch directory, and a pipe preloaded with bytes.
 *
 * Each fuzz_*.c defines LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize
 * when it needs set-up).  The same files link either with libFuzzer
 * (make fuzz) or with replay.c, which feeds every corpus file once
 * (make check-fuzz-replay).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* assert(3) vanishes under NDEBUG; an invariant of a target must not. */
#define FUZZ_ASSERT(c) do {						\
	if (!(c))							\
		fuzz_fail(__FILE__, __LINE__, #c);			\
} while (0)

void	 fuzz_fail(const char *, int, const char *)
	    __attribute__((noreturn));

/* A private directory, made once and removed at exit; its path. */
const char	*fuzz_dir(void);
/* Writes len bytes to NAME in fuzz_dir() (mode 0600, replaced). */
void		 fuzz_write(const char *, const void *, size_t);
/* Name lookups from local files only: no DNS, no systemd userdb. */
void		 fuzz_local_names(void);
/*
 * A pipe whose read end, returned, holds the len bytes then end of input;
 * -1 when len does not fit in the pipe without blocking.
 */
int		 fuzz_pipe(const void *, size_t);

#endif
