/*
 * greeting_util.h - the parts of greeting(8) that make no decision about
 * the outside world: the name reader and the state file's number.  Kept
 * apart from greeting.c so tests/check_shipped.c can test them.
 */
#ifndef GREETING_UTIL_H
#define GREETING_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define GREET_NAME_KEEP	64	/* printable bytes of a name kept */
#define GREET_NAME_READ	1024	/* bytes read before a name is cut */
#define GREET_ANON	"stranger"	/* how an empty name is greeted */
#define GREET_COUNT_LEN	32	/* a longer state file is corrupt */

/* How the name ended. */
enum greet_end {
	GREET_MORE,		/* not yet: feed more input */
	GREET_NEWLINE,		/* LF, CRLF included */
	GREET_NUL,		/* a NUL byte, as the classic client sends */
	GREET_EOF,		/* end of input */
	GREET_CUT		/* GREET_NAME_READ bytes and no end */
};

struct greet_name {
	char		 gn_buf[GREET_NAME_KEEP + 1];
	size_t		 gn_len;	/* printable bytes kept */
	size_t		 gn_seen;	/* bytes received, the end included */
	enum greet_end	 gn_end;
};

void		 greet_name_init(struct greet_name *);
size_t		 greet_name_feed(struct greet_name *, const void *, size_t);
void		 greet_name_eof(struct greet_name *);
int		 greet_name_read(int, struct greet_name *,
		    const struct timespec *);
const char	*greet_name_show(const struct greet_name *);

int		 greet_count_parse(const char *, size_t, uint64_t *);
int		 greet_count_format(char *, size_t, uint64_t);

#endif
