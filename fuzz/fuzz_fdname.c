/*
 * fuzz_fdname.c - the names of descriptors in systemd's keeping
 * (superd/fdname.c): a $LISTEN_FDNAMES taken apart name by name, and each
 * name read as a running instance's.
 *
 * Invariants: every name found fits its buffer and holds no ':'; the
 * names of all indexes, joined by ':', give the input back (up to its
 * first NUL) when none was cut; an instance name that parses has a
 * positive pid, a service and a peer that fit their buffers, a peer with
 * no '/' or '+', and is written back by fdname_instance() as a name with
 * no ':' that parses to the same pid, start and length of service.
 */
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"

static void
check_instance(const char *name)
{
	struct fdname_inst	 fi, again;
	char			 back[FDNAME_MAX * 2];

	memset(&fi, 0xa5, sizeof(fi));
	if (fdname_instance_parse(name, &fi) == -1)
		return;
	FUZZ_ASSERT(fdname_is_instance(name));
	FUZZ_ASSERT(fi.fi_pid > 0);
	FUZZ_ASSERT(strlen(fi.fi_service) > 0 &&
	    strlen(fi.fi_service) < sizeof(fi.fi_service));
	FUZZ_ASSERT(strlen(fi.fi_peer) < sizeof(fi.fi_peer));
	FUZZ_ASSERT(strchr(fi.fi_peer, '/') == NULL &&
	    strchr(fi.fi_peer, '+') == NULL);
	/* Written back and read again: the same parts, but for the bytes
	 * systemd refuses, which the writer replaces. */
	fdname_instance(back, sizeof(back), &fi);
	FUZZ_ASSERT(strchr(back, ':') == NULL);
	FUZZ_ASSERT(fdname_instance_parse(back, &again) == 0);
	FUZZ_ASSERT(again.fi_pid == fi.fi_pid &&
	    again.fi_start == fi.fi_start);
	FUZZ_ASSERT(strlen(again.fi_service) == strlen(fi.fi_service));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*names, *joined, name[FDNAME_MAX];
	size_t	 i, len, at = 0, n;
	int	 cut = 0;

	names = malloc(size + 1);
	joined = malloc(size + 2);
	FUZZ_ASSERT(names != NULL && joined != NULL);
	memcpy(names, data, size);
	names[size] = '\0';
	len = strlen(names);
	/* One name per ':' and one more: then "" for every index past. */
	for (i = 0, n = 1; i < len; i++)
		n += names[i] == ':';
	for (i = 0; i < n + 2; i++) {
		fdname_listen(names, i, name, sizeof(name));
		FUZZ_ASSERT(strlen(name) < sizeof(name));
		FUZZ_ASSERT(strchr(name, ':') == NULL);
		if (i >= n) {
			FUZZ_ASSERT(name[0] == '\0');
			continue;
		}
		cut |= strlen(name) == sizeof(name) - 1;
		check_instance(name);
		if (i > 0)
			joined[at++] = ':';
		memcpy(joined + at, name, strlen(name));
		at += strlen(name);
	}
	joined[at] = '\0';
	if (!cut)
		FUZZ_ASSERT(strcmp(joined, names) == 0);
	/* The whole input as one name, however long. */
	check_instance(names);
	free(names);
	free(joined);
	return 0;
}
