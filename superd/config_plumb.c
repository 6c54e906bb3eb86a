/*
 * config_plumb.c - the plain C under config_load(): memory, problems,
 * names, and the parsers of an address block and of a size.
 *
 * Nothing here knows a setting, and nothing here calls into the other
 * config files: the allocators jump back to the load when memory runs
 * out, problems and warnings are collected with their place and handed
 * over in file order, a file name is interned for as long as the load
 * runs.  config_parse_cidr() and config_parse_size() are pure.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "config_int.h"

/* Sorted at the end into file order: seq, then line, then as found. */
struct problem {
	int		 pr_seq;
	int		 pr_line;
	size_t		 pr_order;
	char		*pr_msg;
};

/* ---------------------------------------------------------------------
 * Allocation.  A load that runs out of memory fails like a bad file: the
 * allocators jump back to config_load(), which lets go of what the load
 * holds and returns NULL, so a reload under memory pressure keeps the
 * running configuration instead of ending superd.  The loader tracks what
 * would otherwise be lost (the service being built, an open file, an
 * address lookup); a temporary string of the moment may be lost with it.
 */

static struct loader	*oom_loader;	/* the load running, if any */

static void	 config_oom(void) __attribute__((noreturn));

/* config_load() names the load it runs, and NULL once it returns. */
void
oom_loader_set(struct loader *ld)
{
	oom_loader = ld;
}

static void
config_oom(void)
{
	if (oom_loader == NULL)
		fatalx("config: out of memory");
	longjmp(oom_loader->ld_oom, 1);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		config_oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		config_oom();
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		config_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		config_oom();
	return p;
}

/* A copy of n strings, NULL-terminated, for a service to own. */
char **
strv_dup(const char **v, size_t n)
{
	char	**d;
	size_t	  i;

	d = xcalloc(n + 1, sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		config_oom();
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		config_oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---------------------------------------------------------------------
 * Names.
 */

/* A file name that lives as long as the loader. */
const char *
intern(struct loader *ld, const char *s)
{
	size_t	 i;

	for (i = 0; i < ld->ld_nstrs; i++)
		if (strcmp(ld->ld_strs[i], s) == 0)
			return ld->ld_strs[i];
	ld->ld_strs = xreallocarray(ld->ld_strs, ld->ld_nstrs + 1,
	    sizeof(*ld->ld_strs));
	ld->ld_strs[ld->ld_nstrs] = xstrdup(s);
	return ld->ld_strs[ld->ld_nstrs++];
}

/* ---------------------------------------------------------------------
 * Problems: collected with their file order and line, sorted at the end.
 * Warnings go to the conf as they come.
 */

void
problem(struct loader *ld, const struct where *w, const char *fmt, ...)
{
	struct problem	*pr;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ld->ld_probs = xreallocarray(ld->ld_probs, ld->ld_nprobs + 1,
	    sizeof(*ld->ld_probs));
	pr = &ld->ld_probs[ld->ld_nprobs];
	pr->pr_seq = w->w_seq;
	pr->pr_line = w->w_line;
	pr->pr_order = ld->ld_nprobs;
	if (w->w_line > 0)
		pr->pr_msg = xasprintf("%s:%d: %s", w->w_file, w->w_line, msg);
	else
		pr->pr_msg = xasprintf("%s: %s", w->w_file, msg);
	ld->ld_nprobs++;	/* only once it is whole */
	free(msg);
}

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem	*pa = a, *pb = b;

	if (pa->pr_seq != pb->pr_seq)
		return pa->pr_seq < pb->pr_seq ? -1 : 1;
	if (pa->pr_line != pb->pr_line)
		return pa->pr_line < pb->pr_line ? -1 : 1;
	return pa->pr_order < pb->pr_order ? -1 : pa->pr_order > pb->pr_order;
}

/* Equal messages together, each run in file order (the array is sorted). */
static int
problem_msg_cmp(const void *a, const void *b)
{
	const struct problem	*pa = *(struct problem *const *)a;
	const struct problem	*pb = *(struct problem *const *)b;
	int			 c;

	if ((c = strcmp(pa->pr_msg, pb->pr_msg)) != 0)
		return c;
	return pa < pb ? -1 : pa > pb;
}

/*
 * Hand the problems over in file order.  A default from the superd block
 * is checked once for every service that uses it: the same message at the
 * same place is reported once, where it comes first.  A file full of
 * errors makes many problems, so duplicates are found by sorting, not by
 * comparing each message with every earlier one.
 */
void
problems_flush(struct loader *ld, struct conf_errors *errs)
{
	struct problem	**bymsg, *first;
	char		**grown;
	size_t		  i, n = ld->ld_nprobs, kept = 0;

	if (n > 1 && errs != NULL) {
		qsort(ld->ld_probs, n, sizeof(*ld->ld_probs), problem_cmp);
		/* Without room to sort them, duplicates stay. */
		if ((bymsg = calloc(n, sizeof(*bymsg))) == NULL)
			goto hand_over;
		for (i = 0; i < n; i++)
			bymsg[i] = &ld->ld_probs[i];
		qsort(bymsg, n, sizeof(*bymsg), problem_msg_cmp);
		for (first = bymsg[0], i = 1; i < n; i++) {
			if (strcmp(bymsg[i]->pr_msg, first->pr_msg) != 0) {
				first = bymsg[i];
				continue;
			}
			free(bymsg[i]->pr_msg);
			bymsg[i]->pr_msg = NULL;
		}
		free(bymsg);
	}
hand_over:
	for (i = 0; i < n; i++)
		kept += ld->ld_probs[i].pr_msg != NULL;
	if (errs != NULL && kept > 0 && (grown = reallocarray(errs->ce_msg,
	    errs->ce_count + kept, sizeof(*errs->ce_msg))) == NULL)
		errs = NULL;	/* no room: the load fails all the same */
	else if (errs != NULL && kept > 0)
		errs->ce_msg = grown;
	for (i = 0; i < n; i++) {
		if (errs == NULL)
			free(ld->ld_probs[i].pr_msg);
		else if (ld->ld_probs[i].pr_msg != NULL)
			errs->ce_msg[errs->ce_count++] = ld->ld_probs[i].pr_msg;
	}
	free(ld->ld_probs);
	ld->ld_probs = NULL;
	ld->ld_nprobs = 0;
}

/* A note for the log and for superd -t, not an error. */
void
warning(struct loader *ld, const struct where *w, const char *fmt, ...)
{
	struct conf_errors	*cw = &ld->ld_conf->cf_warnings;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	cw->ce_msg = xreallocarray(cw->ce_msg, cw->ce_count + 1,
	    sizeof(*cw->ce_msg));
	if (w->w_line > 0)
		cw->ce_msg[cw->ce_count++] = xasprintf("%s:%d: %s", w->w_file,
		    w->w_line, msg);
	else
		cw->ce_msg[cw->ce_count++] = xasprintf("%s: %s", w->w_file,
		    msg);
	free(msg);
}

/* A warning whose message carries its own place. */
void
warn_add(struct conf *cf, const char *fmt, ...)
{
	struct conf_errors	*w = &cf->cf_warnings;
	va_list			 ap;
	char			*msg;

	w->ce_msg = xreallocarray(w->ce_msg, w->ce_count + 1,
	    sizeof(*w->ce_msg));
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	w->ce_msg[w->ce_count++] = msg;
}

/* ---------------------------------------------------------------------
 * Parsers of a value, pure.
 */

/* A prefix length of 0..max written as plain digits. */
static int
parse_prefix(const char *s, int max, int *prefix)
{
	size_t	 n;
	int	 v = 0;

	n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || s[n] != '\0')
		return -1;
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	if (v > max)
		return -1;
	*prefix = v;
	return 0;
}

/*
 * "ADDRESS" or "ADDRESS/PREFIX", IPv4 or IPv6.  An IPv4-mapped IPv6 block
 * of /96 or longer is kept as the IPv4 block it means, so that it matches
 * IPv4 clients whichever way the socket shows them.  Host bits beyond the
 * prefix are cleared.
 */
int
config_parse_cidr(const char *s, struct cidr *ci)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	const char	*slash;
	size_t		 alen;
	int		 prefix = -1, bits, i;

	memset(ci, 0, sizeof(*ci));
	if ((slash = strchr(s, '/')) == NULL)
		alen = strlen(s);
	else
		alen = slash - s;
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, ci->ci_addr) == 1) {
		ci->ci_family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, ci->ci_addr) == 1) {
		ci->ci_family = AF_INET6;
		bits = 128;
	} else
		return -1;
	if (slash != NULL && parse_prefix(slash + 1, bits, &prefix) == -1)
		return -1;
	ci->ci_prefix = slash != NULL ? prefix : bits;
	if (ci->ci_family == AF_INET6 && ci->ci_prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((struct in6_addr *)ci->ci_addr)) {
		memmove(ci->ci_addr, ci->ci_addr + 12, 4);
		memset(ci->ci_addr + 4, 0, 12);
		ci->ci_family = AF_INET;
		ci->ci_prefix -= 96;
		bits = 32;
	}
	for (i = 0; i < bits / 8; i++) {
		if (i * 8 >= ci->ci_prefix)
			ci->ci_addr[i] = 0;
		else if (i * 8 + 8 > ci->ci_prefix)
			ci->ci_addr[i] &= (uint8_t)(0xff <<
			    (8 - (ci->ci_prefix - i * 8)));
	}
	return 0;
}

/* Bytes: digits, optionally followed by K, M or G (powers of 1024). */
int
config_parse_size(const char *s, rlim_t *v)
{
	unsigned long long	 n = 0, mult = 1;
	const char		*p;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'K': case 'k':
		mult = 1ULL << 10;
		p++;
		break;
	case 'M': case 'm':
		mult = 1ULL << 20;
		p++;
		break;
	case 'G': case 'g':
		mult = 1ULL << 30;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || n > ULLONG_MAX / mult)
		return -1;
	n *= mult;
	if (n >= (unsigned long long)RLIM_INFINITY)
		return -1;
	*v = (rlim_t)n;
	return 0;
}
