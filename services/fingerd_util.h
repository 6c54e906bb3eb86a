/*
 * fingerd_util.h - the parts of fingerd(8) that make no decision about
 * the outside world: reading and parsing the RFC 1288 query, making text
 * safe for the client's terminal, and the full name from a GECOS field.
 * Kept apart from fingerd.c so tests/check_shipped.c can test them.
 */
#ifndef FINGERD_UTIL_H
#define FINGERD_UTIL_H

#include <stddef.h>
#include <time.h>

#define FQ_LINE_MAX	512		/* bytes of a query before its CRLF */
#define FQ_BUF_SIZE	(FQ_LINE_MAX + 2)	/* room for the CRLF */
#define FINGER_VIS_MAX(n)	(4 * (n) + 1)	/* finger_vis() worst case */

struct fquery {
	int		 fq_verbose;	/* "/W" given */
	int		 fq_empty;	/* no name: who is logged in */
	int		 fq_forward;	/* an '@': a query for another host */
	char		 fq_user[FQ_LINE_MAX + 1];
	const char	*fq_error;	/* why the query was refused */
};

int	 fquery_read(int, char *, size_t, size_t *, const struct timespec *);
int	 fquery_parse(const char *, size_t, struct fquery *);
size_t	 finger_vis(char *, size_t, const char *, size_t);
void	 finger_fullname(char *, size_t, const char *, const char *);

#endif
