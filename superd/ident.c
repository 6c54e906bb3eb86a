/*
 * ident.c - the identity a service's programs run as, resolved in superd.
 *
 * A child sharing superd's memory may not look users up (NSS allocates and
 * reads files), so the parent resolves the user, its primary group and
 * supplementary groups once and keeps them.  They are looked up again
 * when /etc/passwd or /etc/group changes, at most once a second: a user
 * deleted since the configuration was read is then refused, never run as
 * someone else, and a spawn costs no lookup in the usual case.
 *
 * The lookup itself runs in a short-lived forked process that hands the
 * answer back over a pipe.  Listing a user's groups asks every NSS module
 * configured for groups (systemd, sss, ldap...), and glibc keeps each one
 * it loaded, with what it needs, for the life of the process: half a
 * megabyte and more that superd would carry for good, and code that could
 * leak or crash inside it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define GROUPS_MAX	65536

/* What the lookup process answers: this, then ia_ngroups groups. */
struct answer {
	int	 ia_errno;	/* 0: found */
	uid_t	 ia_uid;
	int	 ia_ngroups;
};

/* In the lookup process: the user and its groups, written to fd. */
static void __attribute__((noreturn))
lookup_child(int fd, const struct svc_conf *sc)
{
	struct answer	 ia = { 0, 0, 0 };
	struct passwd	*pw;
	gid_t		*groups = NULL;
	int		 n = 64;

	errno = 0;
	if ((pw = getpwnam(sc->sc_user)) == NULL)
		ia.ia_errno = errno != 0 ? errno : ENOENT;
	while (ia.ia_errno == 0) {
		free(groups);
		if ((groups = calloc((size_t)n, sizeof(*groups))) == NULL)
			ia.ia_errno = ENOMEM;
		else if (getgrouplist(pw->pw_name, sc->sc_gid, groups, &n) != -1)
			break;
		else if (n > GROUPS_MAX)
			ia.ia_errno = E2BIG;
	}
	if (ia.ia_errno == 0) {
		ia.ia_uid = pw->pw_uid;
		ia.ia_ngroups = n;
	}
	if (write_all(fd, &ia, sizeof(ia)) == -1 || (ia.ia_ngroups > 0 &&
	    write_all(fd, groups, (size_t)n * sizeof(*groups)) == -1))
		_exit(1);
	_exit(0);
}

/* The lookup process's answer into id; -1 with errno when there is none. */
static int
lookup_read(int fd, struct ident *id, const struct svc_conf *sc)
{
	struct answer	 ia;
	gid_t		*groups;

	if (read_all(fd, &ia, sizeof(ia)) == -1)
		return -1;
	if (ia.ia_errno != 0) {
		errno = ia.ia_errno;
		return -1;
	}
	if (ia.ia_ngroups < 0 || ia.ia_ngroups > GROUPS_MAX) {
		errno = EPROTO;
		return -1;
	}
	if ((groups = calloc((size_t)ia.ia_ngroups + 1, sizeof(*groups))) ==
	    NULL)
		return -1;
	if (read_all(fd, groups, (size_t)ia.ia_ngroups * sizeof(*groups)) ==
	    -1) {
		free(groups);
		return -1;
	}
	free(id->id_groups);
	id->id_groups = groups;
	id->id_ngroups = ia.ia_ngroups;
	id->id_uid = ia.ia_uid;
	id->id_gid = sc->sc_gid;
	return 0;
}

static int
lookup(struct ident *id, const struct svc_conf *sc)
{
	int	 p[2], rc, saved_errno, status;
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		close(p[0]);
		lookup_child(p[1], sc);
	}
	close(p[1]);
	rc = pid == -1 ? -1 : lookup_read(p[0], id, sc);
	saved_errno = errno;
	close(p[0]);
	while (pid != -1 && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	errno = saved_errno;
	return rc;
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
