/*
 * check_cgroup.c - finding superd's cgroup v2 directory from the text of
 * /proc/self/cgroup and /proc/self/mountinfo (cgroup.c).
 */
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "check_superd.h"

/* A hybrid host's cgroup v1 lines around the v2 one. */
START_TEST(self_hybrid)
{
	char	 path[64];

	ck_assert_int_eq(cgroup_parse_self("12:pids:/x\n1:name=systemd:/a\n"
	    "0::/system.slice/superd.service\n", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/system.slice/superd.service");
	ck_assert_int_eq(cgroup_parse_self("0::/", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/");
}
END_TEST

START_TEST(self_odd)
{
	char	 path[8];

	/* cgroup v1 only, or nothing. */
	ck_assert_int_eq(cgroup_parse_self("4:memory:/a\n1:cpu:/\n", path,
	    sizeof(path)), -1);
	ck_assert_int_eq(cgroup_parse_self("", path, sizeof(path)), -1);
	/* Something like it, but not it. */
	ck_assert_int_eq(cgroup_parse_self("10::/a\n0:x:/b\n0::\n", path,
	    sizeof(path)), -1);
	ck_assert_int_eq(cgroup_parse_self("0::relative\n", path,
	    sizeof(path)), -1);
	/* Longer than the room given: refused, not cut. */
	ck_assert_int_eq(cgroup_parse_self("0::/abcdefgh\n", path,
	    sizeof(path)), -1);
	ck_assert_int_eq(cgroup_parse_self("0::/abcdef\n", path,
	    sizeof(path)), 0);
	ck_assert_str_eq(path, "/abcdef");
}
END_TEST

#define V1	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup " \
		"rw,cpu\n"
#define TMPFS	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw\n"

START_TEST(mount_unified)
{
	char	 dir[128];

	ck_assert_int_eq(cgroup_parse_mount("25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
	    TMPFS V1 "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 "
	    "- cgroup2 cgroup2 rw\n", "/", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/unified");
	ck_assert_int_eq(cgroup_parse_mount("33 24 0:28 / /sys/fs/cgroup "
	    "rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
	    "/system.slice/superd.service", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/system.slice/superd.service");
}
END_TEST

/* A mount point with a space and a backslash, escaped by the kernel. */
START_TEST(mount_escapes)
{
	char	 dir[128];

	ck_assert_int_eq(cgroup_parse_mount("40 30 0:37 / /mnt/my\\040cg\\134x "
	    "rw - cgroup2 none rw\n", "/a b", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/mnt/my cg\\x/a b");
	/* An escape cut short is taken as it is. */
	ck_assert_int_eq(cgroup_parse_mount("40 30 0:37 / /mnt/x\\04 "
	    "rw - cgroup2 none rw\n", "/", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/mnt/x\\04");
}
END_TEST

/*
 * Several cgroup2 mounts: the first that holds the path, a mount of a
 * part of the hierarchy (a container's) only for what is under it.
 */
START_TEST(mount_several)
{
	const char	*mi =
	    "50 30 0:37 /lxc/ct1 /srv/ct1 rw - cgroup2 cgroup2 rw\n"
	    "51 30 0:37 /lxc /srv/lxc rw - cgroup2 cgroup2 rw\n"
	    "52 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	char		 dir[128];

	ck_assert_int_eq(cgroup_parse_mount(mi, "/lxc/ct1/x", dir,
	    sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/srv/ct1/x");
	ck_assert_int_eq(cgroup_parse_mount(mi, "/lxc/ct10", dir,
	    sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/srv/lxc/ct10");
	ck_assert_int_eq(cgroup_parse_mount(mi, "/lxc/ct1", dir,
	    sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/srv/ct1");
	ck_assert_int_eq(cgroup_parse_mount(mi, "/user.slice", dir,
	    sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/user.slice");
}
END_TEST

START_TEST(mount_none)
{
	char	 dir[64];

	ck_assert_int_eq(cgroup_parse_mount(TMPFS V1, "/", dir, sizeof(dir)),
	    -1);
	ck_assert_int_eq(cgroup_parse_mount("", "/", dir, sizeof(dir)), -1);
	/* Short lines, a separator with no type after it. */
	ck_assert_int_eq(cgroup_parse_mount("40 30 0:37 /\n40 30 0:37 / /x "
	    "rw -\n40 30 0:37 / /x rw - cgroup2\n", "/", dir, sizeof(dir)), -1);
	/* cgroup2 as a source or an option is no cgroup2 mount. */
	ck_assert_int_eq(cgroup_parse_mount("40 30 0:37 / /x rw - tmpfs "
	    "cgroup2 rw\n40 30 0:37 / /y rw shared:1 - cgroup cgroup2 - "
	    "cgroup2 x\n", "/", dir, sizeof(dir)), -1);
}
END_TEST

/* A line longer than any path: refused without overflow. */
START_TEST(mount_long)
{
	char	*mi, dir[64];
	size_t	 n = 100000;

	mi = malloc(n + 128);
	ck_assert_ptr_nonnull(mi);
	strcpy(mi, "40 30 0:37 / /");
	memset(mi + strlen(mi), 'a', n);
	strcpy(mi + 14 + n, " rw - cgroup2 cgroup2 rw\n");
	ck_assert_int_eq(cgroup_parse_mount(mi, "/", dir, sizeof(dir)), -1);
	/* Then a good one after it is still found. */
	strcpy(mi + 14 + n, " rw - cgroup2 cgroup2 rw\n1 2 0:37 / /cg rw - "
	    "cgroup2 c rw\n");
	ck_assert_int_eq(cgroup_parse_mount(mi, "/s", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/cg/s");
	/* The path and the mount point together too long. */
	ck_assert_int_eq(cgroup_parse_mount("1 2 0:37 / /cg rw - cgroup2 c "
	    "rw\n", "/0123456789012345678901234567890123456789012345678901234"
	    "56789", dir, sizeof(dir)), -1);
	/* A mount's own root is "/": it needs two bytes, not one. */
	ck_assert_int_eq(cgroup_parse_mount("1 2 0:37 / / rw - cgroup2 c rw\n",
	    "/", dir, 1), -1);
	ck_assert_int_eq(cgroup_parse_mount("1 2 0:37 / / rw - cgroup2 c rw\n",
	    "/", dir, 2), 0);
	ck_assert_str_eq(dir, "/");
	free(mi);
}
END_TEST

/* cgroup2 mounted on / itself (a container's own view). */
START_TEST(mount_on_root)
{
	char	 dir[64];

	ck_assert_int_eq(cgroup_parse_mount("1 0 0:37 / / rw - cgroup2 c rw\n",
	    "/a", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/a");
	ck_assert_int_eq(cgroup_parse_mount("1 0 0:37 / / rw - cgroup2 c rw\n",
	    "/", dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, "/");
}
END_TEST

Suite *
cgroup_suite(void)
{
	Suite	*s = suite_create("cgroup");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, self_hybrid);
	tcase_add_test(tc, self_odd);
	tcase_add_test(tc, mount_unified);
	tcase_add_test(tc, mount_escapes);
	tcase_add_test(tc, mount_several);
	tcase_add_test(tc, mount_none);
	tcase_add_test(tc, mount_long);
	tcase_add_test(tc, mount_on_root);
	suite_add_tcase(s, tc);
	return s;
}
