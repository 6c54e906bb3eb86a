/*
 * fuzz_inetd_line.c - inetd_parse_line() (superd/config_inetd.c), one
 * line of a classic inetd.conf, taken apart in place.
 *
 * Invariants: the result is one of the four documented; every string of
 * an entry points into the line and holds no blank, CR or LF; an entry
 * has a service name, a user, a known protocol and family, argv ending
 * in NULL after ie_argc words (none for an internal service); a refusal
 * says why in a NUL-terminated err that fits the buffer given, however
 * small.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"

static void
check_str(const char *s, const char *line, size_t len, int empty_ok)
{
	FUZZ_ASSERT(s != NULL);
	FUZZ_ASSERT(s >= line && s <= line + len);
	FUZZ_ASSERT(empty_ok || *s != '\0');
	FUZZ_ASSERT(strpbrk(s, " \t\r\n") == NULL);
}

static void
check_entry(const struct inetd_ent *ie, const char *line, size_t len)
{
	int	 i;

	check_str(ie->ie_name, line, len, 0);
	check_str(ie->ie_user, line, len, 0);
	if (ie->ie_addr != NULL)
		check_str(ie->ie_addr, line, len, 1);
	if (ie->ie_group != NULL)
		check_str(ie->ie_group, line, len, 0);
	FUZZ_ASSERT(ie->ie_proto == PROTO_TCP || ie->ie_proto == PROTO_UDP);
	FUZZ_ASSERT(ie->ie_family == AF_UNSPEC || ie->ie_family == AF_INET ||
	    ie->ie_family == AF_INET6);
	FUZZ_ASSERT(ie->ie_wait == 0 || ie->ie_wait == 1);
	FUZZ_ASSERT(ie->ie_max >= 0);
	FUZZ_ASSERT(ie->ie_tcpmux == 0 || ie->ie_tcpmux == 1);
	FUZZ_ASSERT(ie->ie_argv != NULL && ie->ie_argc >= 0);
	if (ie->ie_program == NULL)
		FUZZ_ASSERT(ie->ie_argc == 0);
	else {
		check_str(ie->ie_program, line, len, 0);
		FUZZ_ASSERT(strcmp(ie->ie_program, "internal") != 0);
	}
	for (i = 0; i < ie->ie_argc; i++)
		check_str(ie->ie_argv[i], line, len, 0);
	FUZZ_ASSERT(ie->ie_argv[ie->ie_argc] == NULL);
}

static void
parse_one(const uint8_t *data, size_t size, size_t errlen)
{
	struct inetd_ent	 ie;
	char			*line, *err;
	size_t			 len;
	int			 r;

	/* A C string, as inetd_load() hands the lines of a file (no NUL). */
	line = malloc(size + 1);
	FUZZ_ASSERT(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);
	/* An exact-size error buffer: a write past it is an error. */
	err = malloc(errlen);
	FUZZ_ASSERT(err != NULL);
	memset(err, 'x', errlen);
	r = inetd_parse_line(line, &ie, err, errlen);
	switch (r) {
	case INETD_NONE:
		break;
	case INETD_ADDR:
		check_str(ie.ie_addr, line, len, 0);
		break;
	case INETD_ENTRY:
		check_entry(&ie, line, len);
		break;
	case INETD_SKIP:
	case -1:
		FUZZ_ASSERT(memchr(err, '\0', errlen) != NULL);
		FUZZ_ASSERT(errlen == 1 || err[0] != '\0');
		break;
	default:
		FUZZ_ASSERT(!"inetd_parse_line: unknown result");
	}
	inetd_ent_clear(&ie);
	FUZZ_ASSERT(ie.ie_argv == NULL);
	free(err);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As inetd_load() calls it, then with an err of a few bytes. */
	parse_one(data, size, 256);
	parse_one(data, size, 1 + size % 16);
	return 0;
}
