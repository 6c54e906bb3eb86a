/*
 * failalloc.c - an LD_PRELOAD library for one test: while the file named
 * by FAILALLOC_WHEN exists, the allocations that the main program itself
 * makes fail with ENOMEM.  Those of libraries (libconfig, libc inside
 * itself) go through: the test is of superd's own handling.
 *
 *	cc -shared -fPIC -o failalloc.so failalloc.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uintptr_t	 main_lo, main_hi;

static int
find_main(struct dl_phdr_info *info, size_t size, void *arg)
{
	int	 i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (main_lo == 0 || lo < main_lo)
			main_lo = lo;
		if (lo + ph->p_memsz > main_hi)
			main_hi = lo + ph->p_memsz;
	}
	return 1;	/* the first object is the program */
}

static int
failing(void *caller)
{
	const char	*when = getenv("FAILALLOC_WHEN");

	if (main_hi == 0)
		dl_iterate_phdr(find_main, NULL);
	if (when == NULL || (uintptr_t)caller < main_lo ||
	    (uintptr_t)caller >= main_hi || access(when, F_OK) != 0)
		return 0;
	errno = ENOMEM;
	return 1;
}

static void	*(*real_malloc)(size_t);
static void	*(*real_calloc)(size_t, size_t);
static void	*(*real_realloc)(void *, size_t);
static void	*(*real_reallocarray)(void *, size_t, size_t);
static char	*(*real_strdup)(const char *);
static char	*(*real_strndup)(const char *, size_t);
static int	 (*real_vasprintf)(char **, const char *, va_list);

/* dlsym may allocate: until the real functions are known, calloc fails
 * (dlsym copes) and the others are never reached. */
__attribute__((constructor)) static void
resolve(void)
{
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_reallocarray = dlsym(RTLD_NEXT, "reallocarray");
	real_strdup = dlsym(RTLD_NEXT, "strdup");
	real_strndup = dlsym(RTLD_NEXT, "strndup");
	real_vasprintf = dlsym(RTLD_NEXT, "vasprintf");
}

#define CALLER	__builtin_return_address(0)

void *
malloc(size_t n)
{
	if (real_malloc == NULL)
		resolve();
	return failing(CALLER) ? NULL : real_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	if (real_calloc == NULL)
		return NULL;
	return failing(CALLER) ? NULL : real_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	if (real_realloc == NULL)
		resolve();
	return failing(CALLER) ? NULL : real_realloc(p, n);
}

void *
reallocarray(void *p, size_t n, size_t size)
{
	if (real_reallocarray == NULL)
		resolve();
	return failing(CALLER) ? NULL : real_reallocarray(p, n, size);
}

char *
strdup(const char *s)
{
	if (real_strdup == NULL)
		resolve();
	return failing(CALLER) ? NULL : real_strdup(s);
}

char *
strndup(const char *s, size_t n)
{
	if (real_strndup == NULL)
		resolve();
	return failing(CALLER) ? NULL : real_strndup(s, n);
}

int
vasprintf(char **sp, const char *fmt, va_list ap)
{
	if (real_vasprintf == NULL)
		resolve();
	return failing(CALLER) ? -1 : real_vasprintf(sp, fmt, ap);
}

int
asprintf(char **sp, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	if (real_vasprintf == NULL)
		resolve();
	if (failing(CALLER))
		return -1;
	va_start(ap, fmt);
	rc = real_vasprintf(sp, fmt, ap);
	va_end(ap);
	return rc;
}
