/*
 * ident.c - the identity a service's programs run as, resolved in superd.
 *
 * A child started with vfork may not look users up (NSS allocates and
 * reads files), so the parent resolves the user, its primary group and
 * supplementary groups once and keeps them.  They are looked up again
 * when /etc/passwd or /etc/group changes, at most once a second: a user
 * deleted since the configuration was read is then refused, never run as
 * someone else, and a spawn costs no lookup in the usual case.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"

#define IDENT_RECHECK_MS	1000

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Whether the account files changed since the identity was resolved. */
static int
files_changed(struct ident *id)
{
	struct stat	 pw, gr;
	int		 changed;

	if (stat("/etc/passwd", &pw) == -1)
		memset(&pw, 0, sizeof(pw));
	if (stat("/etc/group", &gr) == -1)
		memset(&gr, 0, sizeof(gr));
	changed = !same_time(&pw.st_mtim, &id->id_passwd_mtime) ||
	    !same_time(&gr.st_mtim, &id->id_group_mtime);
	id->id_passwd_mtime = pw.st_mtim;
	id->id_group_mtime = gr.st_mtim;
	return changed;
}

static int
lookup(struct ident *id, const struct svc_conf *sc)
{
	struct passwd	*pw;
	gid_t		*groups;
	int		 n = 16;

	errno = 0;
	if ((pw = getpwnam(sc->sc_user)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	for (;;) {
		if ((groups = calloc((size_t)n, sizeof(*groups))) == NULL)
			return -1;
		if (getgrouplist(pw->pw_name, sc->sc_gid, groups, &n) != -1)
			break;
		free(groups);
		if (n > 65536) {
			errno = E2BIG;
			return -1;
		}
	}
	free(id->id_groups);
	id->id_groups = groups;
	id->id_ngroups = n;
	id->id_uid = pw->pw_uid;
	id->id_gid = sc->sc_gid;
	return 0;
}

/*
 * Makes id current for sc.  Returns 0, or -1 with errno when the user
 * cannot be resolved now (the instance must not start).
 */
int
ident_resolve(struct ident *id, const struct svc_conf *sc, int64_t now)
{
	if (!sc->sc_setid) {
		id->id_uid = sc->sc_uid;
		id->id_gid = sc->sc_gid;
		id->id_valid = 1;
		return 0;
	}
	if (id->id_checked != 0 && now - id->id_checked < IDENT_RECHECK_MS) {
		if (!id->id_valid)
			errno = ENOENT;
		return id->id_valid ? 0 : -1;
	}
	id->id_checked = now;
	if (!files_changed(id) && id->id_valid)
		return 0;
	id->id_valid = lookup(id, sc) == 0;
	return id->id_valid ? 0 : -1;
}

void
ident_clear(struct ident *id)
{
	free(id->id_groups);
	memset(id, 0, sizeof(*id));
}
