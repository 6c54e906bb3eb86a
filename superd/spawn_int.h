/*
 * spawn_int.h - shared by the three files of a start, and by nothing
 * else: spawn.c (what superd prepares), launch.c (how the child starts)
 * and exec.c (what the child does up to its exec).
 */
#ifndef SUPERD_SPAWN_INT_H
#define SUPERD_SPAWN_INT_H

#include "superd.h"

enum stage {
	STAGE_CGROUP,
	STAGE_SESSION,
	STAGE_FDS,
	STAGE_LIMITS,
	STAGE_NICE,
	STAGE_NAMESPACES,
	STAGE_LOOPBACK,
	STAGE_PROPAGATION,
	STAGE_READ_ONLY,
	STAGE_CHROOT,
	STAGE_PRIVATE_TMP,
	STAGE_WRITABLE,
	STAGE_BOUNDING,
	STAGE_USER,
	STAGE_IDENTITY,
	STAGE_CAPABILITIES,
	STAGE_NO_NEW_PRIVS,
	STAGE_CHDIR,
	STAGE_ENV,
	STAGE_EXEC,
	STAGE_COUNT
};

/* What failed before exec, and why. */
struct report {
	int	 rp_stage;	/* -1: no failure */
	int	 rp_errno;
};

/*
 * What the child needs, prepared by the parent: a child sharing the
 * parent's memory may only make system calls (sys.h), so nothing here is
 * looked up or allocated there.
 */
struct spawn_ctx {
	const struct svc_conf	*sx_sc;
	const struct ident	*sx_id;
	int			 sx_fd;		/* connection or wait listener */
	int			 sx_errfd;	/* stderr pipe, or -1 */
	int			 sx_errkept;	/* superd keeps sx_errfd open */
	int			 sx_nullfd;	/* /dev/null, stderr = null */
	int			 sx_cgfd;	/* superd's cgroup, or -1 */
	char			 sx_cgprocs[CGROUP_PATH_MAX]; /* and the
						   cgroup.procs to join */
	char			**sx_env;
	int			 sx_rep;	/* fork: report pipe, else -1 */
	volatile struct report	*sx_shared;	/* report in shared memory */
	volatile int		*sx_unshared;	/* see exec_unshare_fds */
	const struct peer	*sx_peer;
	struct confine_plan	 sx_plan;	/* confine.c */
};

/* launch.c */
pid_t		 launch_clone(struct spawn_ctx *);
pid_t		 launch_fork(struct spawn_ctx *);

/* exec.c */
void __attribute__((noreturn)) exec_run(struct spawn_ctx *);

#endif /* SUPERD_SPAWN_INT_H */
