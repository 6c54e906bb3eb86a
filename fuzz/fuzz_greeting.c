/*
 * fuzz_greeting.c - the greeting's name reader (services/greeting_util.c)
 * and the visitor number of its state file.
 *
 * Invariants: the name kept is at most GREET_NAME_KEEP printable ASCII
 * bytes, NUL-terminated; how the name ended agrees with the bytes taken;
 * no more than GREET_NAME_READ bytes are taken; the outcome does not
 * depend on how the bytes are split into reads, nor on whether they come
 * from a buffer or a descriptor.  A state file the parser accepts holds a
 * number that its own text form gives back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "greeting_util.h"
#include "svcio.h"
#include "fuzz.h"

static void
check_name(const struct greet_name *gn, const uint8_t *data, size_t len)
{
	size_t	 i;

	FUZZ_ASSERT(gn->gn_len <= GREET_NAME_KEEP);
	FUZZ_ASSERT(gn->gn_buf[gn->gn_len] == '\0');
	FUZZ_ASSERT(strlen(gn->gn_buf) == gn->gn_len);
	for (i = 0; i < gn->gn_len; i++)
		FUZZ_ASSERT(gn->gn_buf[i] >= 0x20 && gn->gn_buf[i] <= 0x7e);
	FUZZ_ASSERT(gn->gn_seen <= len && gn->gn_seen <= GREET_NAME_READ);
	FUZZ_ASSERT(gn->gn_len <= gn->gn_seen);
	switch (gn->gn_end) {
	case GREET_NEWLINE:
		FUZZ_ASSERT(gn->gn_seen > 0 && data[gn->gn_seen - 1] == '\n');
		break;
	case GREET_NUL:
		FUZZ_ASSERT(gn->gn_seen > 0 && data[gn->gn_seen - 1] == '\0');
		break;
	case GREET_CUT:
		FUZZ_ASSERT(gn->gn_seen == GREET_NAME_READ);
		break;
	case GREET_EOF:
	case GREET_MORE:
		FUZZ_ASSERT(gn->gn_seen == len);
		break;
	default:
		FUZZ_ASSERT(!"unknown greet_end");
	}
	if (gn->gn_end != GREET_MORE && gn->gn_end != GREET_EOF)
		FUZZ_ASSERT(memchr(data, '\n', gn->gn_seen - 1) == NULL &&
		    memchr(data, '\0', gn->gn_seen - 1) == NULL);
	/* The kept bytes are the printable ones taken, in order. */
	{
		size_t	 j = 0;

		for (i = 0; i < gn->gn_seen && j < GREET_NAME_KEEP; i++)
			if (data[i] >= 0x20 && data[i] <= 0x7e)
				FUZZ_ASSERT(j < gn->gn_len &&
				    gn->gn_buf[j++] == (char)data[i]);
		FUZZ_ASSERT(j == gn->gn_len);
	}
	FUZZ_ASSERT(strcmp(greet_name_show(gn), gn->gn_len == 0 ? GREET_ANON :
	    gn->gn_buf) == 0);
}

static int
same_name(const struct greet_name *a, const struct greet_name *b)
{
	return a->gn_len == b->gn_len && a->gn_seen == b->gn_seen &&
	    a->gn_end == b->gn_end && strcmp(a->gn_buf, b->gn_buf) == 0;
}

static void
check_count(const uint8_t *data, size_t len)
{
	char		*buf, text[GREET_COUNT_LEN];
	uint64_t	 n, back;
	int		 tl;

	buf = malloc(len == 0 ? 1 : len);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data, len);
	errno = 0;
	if (greet_count_parse(buf, len, &n) == -1) {
		FUZZ_ASSERT(errno == EINVAL || errno == ERANGE);
		free(buf);
		return;
	}
	tl = greet_count_format(text, sizeof(text), n);
	FUZZ_ASSERT(tl > 1 && (size_t)tl < sizeof(text) && text[tl - 1] == '\n');
	FUZZ_ASSERT(greet_count_parse(text, (size_t)tl, &back) == 0);
	FUZZ_ASSERT(back == n);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct greet_name	 whole, split, fromfd;
	struct timespec		 dl;
	uint8_t			*copy;
	size_t			 used, off, step, n;
	int			 fd;

	copy = malloc(size == 0 ? 1 : size);
	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, data, size);

	/* All at once. */
	greet_name_init(&whole);
	used = greet_name_feed(&whole, copy, size);
	FUZZ_ASSERT(used == whole.gn_seen);
	check_name(&whole, copy, size);
	greet_name_eof(&whole);
	FUZZ_ASSERT(whole.gn_end != GREET_MORE);
	check_name(&whole, copy, size);

	/* In reads of 1 to 7 bytes, as a slow client sends them. */
	greet_name_init(&split);
	for (off = 0, step = 1 + size % 7; off < size; off += n) {
		n = size - off < step ? size - off : step;
		used = greet_name_feed(&split, copy + off, n);
		FUZZ_ASSERT(used <= n);
		if (used < n) {
			FUZZ_ASSERT(split.gn_end != GREET_MORE);
			break;
		}
		step = step % 7 + 1;
	}
	greet_name_eof(&split);
	FUZZ_ASSERT(same_name(&whole, &split));

	/* From a descriptor, as the service reads it. */
	if ((fd = fuzz_pipe(copy, size)) != -1) {
		greet_name_init(&fromfd);
		svc_deadline(&dl, 5);
		FUZZ_ASSERT(greet_name_read(fd, &fromfd, &dl) == 0);
		FUZZ_ASSERT(same_name(&whole, &fromfd));
		close(fd);
	}

	check_count(copy, size);
	free(copy);
	return 0;
}
