/*
 * check_config_oom.c - config_load() out of memory at every allocation.
 *
 * The check binary is linked with the allocator functions wrapped
 * (-Wl,--wrap=..., Makefile): calls from superd's own objects go through
 * the wrappers below, libconfig's and libc's own calls do not.  Armed, a
 * wrapper fails the Nth call; the sweep fails each allocation of a load
 * in turn, and every load must then return NULL with an "out of memory"
 * problem (or another error made of its failure), never exit or crash.
 *
 * A load abandoned that way may lose a few temporaries (config_plumb.c says
 * which); memcheck (`make check-valgrind`) would count them, so the sweep
 * does not run under it.  `make check-unit` runs it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else			/* building the package: valgrind need not be there */
#define RUNNING_ON_VALGRIND	0
#endif

#include "superd.h"
#include "check_superd.h"

void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__real_reallocarray(void *, size_t, size_t);
char	*__real_strdup(const char *);
char	*__real_strndup(const char *, size_t);
int	 __real_vasprintf(char **, const char *, va_list);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	*__wrap_reallocarray(void *, size_t, size_t);
char	*__wrap_strdup(const char *);
char	*__wrap_strndup(const char *, size_t);
int	 __wrap_vasprintf(char **, const char *, va_list);
int	 __wrap_asprintf(char **, const char *, ...);

static long	 fail_at;	/* 0: off; else the call that fails */
static long	 calls;

static int
failing(void)
{
	if (fail_at == 0 || ++calls != fail_at)
		return 0;
	errno = ENOMEM;
	return 1;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return failing() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
	return failing() ? NULL : __real_realloc(p, size);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return failing() ? NULL : __real_reallocarray(p, n, size);
}

char *
__wrap_strdup(const char *s)
{
	return failing() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return failing() ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **sp, const char *fmt, va_list ap)
{
	return failing() ? -1 : __real_vasprintf(sp, fmt, ap);
}

int
__wrap_asprintf(char **sp, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = __wrap_vasprintf(sp, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Loads path failing its nth allocation; returns 1 once n is past the
 * load's last allocation.  A good file must then fail with an "out of
 * memory" problem (or none, when even that could not be made); a bad
 * one must fail, whatever it reports.
 */
static int
load_failing(const char *path, int good, long n)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*cf;
	size_t			 i;
	int			 nomem = 0;

	calls = 0;
	fail_at = n;
	cf = config_load(path, &errs);
	fail_at = 0;
	if (calls < n) {
		ck_assert_msg((cf != NULL) == good, "%s: loaded %s", path,
		    cf != NULL ? "although bad" : "with errors");
		config_free(cf);
		config_errors_clear(&errs);
		return 1;
	}
	ck_assert_msg(cf == NULL, "%s: allocation %ld failed, and the load "
	    "succeeded", path, n);
	for (i = 0; i < errs.ce_count; i++)
		if (strstr(errs.ce_msg[i], "memory") != NULL)
			nomem = 1;
	ck_assert_msg(!good || nomem || errs.ce_count == 0, "%s: allocation "
	    "%ld failed: %zu problems, none says out of memory (first: %s)",
	    path, n, errs.ce_count, errs.ce_msg[0]);
	config_errors_clear(&errs);
	return 0;
}

static void
sweep(const char *path, int good)
{
	long	 n;

	for (n = 1; n < 100000; n++)
		if (load_failing(path, good, n))
			return;
	ck_abort_msg("%s: still allocating after %ld allocations", path, n);
}


START_TEST(test_oom_every_allocation_of_a_load)
{
	if (RUNNING_ON_VALGRIND) {
		fprintf(stderr, "config_oom: the sweep does not run under "
		    "valgrind (see check_config_oom.c)\n");
		return;
	}
	sweep("data/good-basic.conf", 1);
	sweep("data/good-defaults.conf", 1);
	sweep("data/good-include.conf", 1);
	sweep("data/good-atinclude.conf", 1);
	sweep("data/good-inetd-missing.conf", 1);
	/* With problems to sort and report when memory runs out. */
	sweep("data/bad-values.conf", 0);
	sweep("data/bad-dup.conf", 0);
}
END_TEST

Suite *
config_oom_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config_oom");
	tc = tcase_create("sweep");
	/* the files as root reads them: a private copy, root's alone */
	tcase_add_checked_fixture(tc, datadir_enter, datadir_leave);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_oom_every_allocation_of_a_load);
	suite_add_tcase(s, tc);
	return s;
}
