/*
 * fuzz_cgroup.c - the two /proc files cgroup.c reads to find superd's own
 * cgroup: /proc/self/cgroup (cgroup_parse_self) and mountinfo
 * (cgroup_parse_mount), the input taken as each.
 *
 * Invariants: a path found starts with '/', holds no newline, fits the
 * exact-size buffer given and stands in the input after a "0::"; a mount
 * directory found is non-empty and fits its exact-size buffer; a smaller
 * buffer never finds what a larger one refused.
 */
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"

static int
self_with(const char *text, size_t size, char *path)
{
	char	*buf = malloc(size);
	int	 r;

	FUZZ_ASSERT(buf != NULL);
	r = cgroup_parse_self(text, buf, size);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == 0) {
		FUZZ_ASSERT(strlen(buf) < size && buf[0] == '/');
		FUZZ_ASSERT(strchr(buf, '\n') == NULL);
		FUZZ_ASSERT(strstr(text, "0::") != NULL &&
		    strstr(text, buf) != NULL);
		strcpy(path, buf);
	}
	free(buf);
	return r;
}

static int
mount_with(const char *text, const char *path, size_t size)
{
	char	*out = malloc(size);
	int	 r;

	FUZZ_ASSERT(out != NULL);
	r = cgroup_parse_mount(text, path, out, size);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == 0)
		FUZZ_ASSERT(out[0] != '\0' && strlen(out) < size);
	free(out);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, path[4096] = "/system.slice/superd.service";
	int	 r, small;

	text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	r = self_with(text, sizeof(path), path);
	small = self_with(text, 1 + size % 16, path);
	FUZZ_ASSERT(small == r || (small == -1 && r == 0));
	r = mount_with(text, path, 4096);
	small = mount_with(text, path, 1 + size % 16);
	FUZZ_ASSERT(small == r || (small == -1 && r == 0));
	r = mount_with(text, "/", 4096);
	FUZZ_ASSERT(r == 0 || r == -1);
	free(text);
	return 0;
}
