/*
 * config_int.h - what the files of config_load() share, and nothing else.
 *
 * config.c runs a load: the top level, the superd block, the services
 * lists; config_inetd.c makes services of inetd.conf lines;
 * config_keys.c maps each libconfig setting onto a struct svc_conf,
 * the confinement settings through config_confine.c;
 * config_read.c parses files with libconfig and types their settings;
 * config_file.c reads files into memory and pre-scans them;
 * config_resolve.c finishes a service against its other settings and
 * the system (users, groups, ports, addresses, the program);
 * config_check.c checks the services against each other; config_plumb.c
 * holds the memory, the problems and the names of a load.  Private to
 * those files: superd.h is the boundary the rest of superd sees, and this
 * header goes after it.  Only config.c, config_keys.c, config_confine.c
 * and config_read.c see libconfig (config_lcfg.h), so nothing here names
 * its types.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>

#define CONFIG_KEYS_MAX		48	/* room for the per-service keys */
#define KEY_NAME		0	/* key_index("name"): never a default */
#define UNSAFE_MAX		(PATH_MAX + 96)	/* path_unsafe()'s reason */

/* Where a problem is: a file (owned by the loader), its order, a line. */
struct where {
	const char	*w_file;
	int		 w_seq;		/* main 0, include files 1.., inetd last */
	int		 w_line;	/* 0: the file as a whole */
};

struct addrinfo;
struct problem;		/* config_plumb.c */
struct lcfg;		/* config_lcfg.h: the libconfig side of a load */

/* One config_load() from start to end. */
struct loader {
	struct conf		*ld_conf;
	struct problem		*ld_probs;
	size_t			 ld_nprobs;
	struct lcfg		*ld_lc;
	char			**ld_strs;	/* interned file names */
	size_t			 ld_nstrs;
	struct where		*ld_named;	/* per cf_svcs: its `name` */
	size_t			 ld_nmain;	/* services not from inetd.conf */
	int			 ld_root;
	int			 ld_inet6;
	int			 ld_inetd_seq;
	/* Out of memory: the allocators jump here (config_plumb.c), and what
	 * the load holds at that moment is let go. */
	jmp_buf			 ld_oom;
	struct svc_conf		*ld_wip;	/* the service being built */
	int			 ld_fd;		/* a file being read, or -1 */
	DIR			*ld_dir;	/* a directory being listed */
	char			*ld_text;	/* a file's text being parsed */
	struct addrinfo		*ld_ai;		/* a lookup being used */
};

/* The settings that need a client address, checked by finish_policy(). */
enum policy_key {
	PK_ALLOW,
	PK_DENY,
	PK_PER_SOURCE,
	PK_PER_SOURCE_RATE,
	PK_IPV6_PREFIX,
	PK_COUNT
};

/* One service being built: the svc_conf and what needs all of it. */
struct build {
	struct loader	*b_ld;
	struct svc_conf	*b_sc;
	struct where	 b_at;		/* its `{`, or its inetd.conf line */
	int		 b_own;		/* current setting is the service's own */
	int		 b_wait_set;
	int		 b_wait_own;	/* wait is the service's own setting */
	struct where	 b_wait_at;	/* its line, or the inetd.conf line */
	int		 b_pk_set[PK_COUNT];	/* 1 own, 2 from the superd block */
	struct where	 b_pk_at[PK_COUNT];
	int		 b_stderr_set;
	int		 b_proxy_own;	/* proxy_protocol is the service's own */
	struct where	 b_proxy_at;	/* its line */
	int		 b_proxy_from_set; /* given, even if wrong */
	int		 b_port_set;	/* given, even if wrong */
	int		 b_prog_set;	/* server or builtin given */
	int		 b_path_set;
	struct where	 b_name_at;
	const char     **b_addrs;	/* NULL: "*" */
	size_t		 b_naddrs;
	struct where	 b_addr_at;
	int		 b_family;	/* inetd tcp4/tcp6: only this family */
	const char	*b_user;
	struct where	 b_user_at;
	const char	*b_group;
	struct where	 b_group_at;
	const char	*b_owner;
	struct where	 b_owner_at;
	const char	*b_sgroup;
	struct where	 b_sgroup_at;
	struct where	 b_writable_at;
	const char     **b_args;
	size_t		 b_nargs;
	int		 b_args_own;
	struct where	 b_args_at;
	const char	*b_argv0;
	int		 b_argv0_own;
	struct where	 b_argv0_at;
};

/* config_inetd.c */
void		 inetd_load(struct loader *);

/* config_keys.c */
int		 valid_name(const char *);
enum builtin	 builtin_named(const char *);
int		 key_index(const char *);
void		 build_init(struct build *, struct loader *,
		    const struct where *);
void		 build_defaults(struct build *, const int *);
void		 build_clear(struct build *);
void		 conf_add(struct loader *, struct build *);

/* config_file.c */
char		*dir_of(const char *);
char		*join(const char *, const char *);
const char	*path_unsafe(const struct loader *, const char *, char *,
		    size_t);
char		*read_text(struct loader *, const char *, int);
char		*read_text_flags(struct loader *, const char *, int, int);
int		 prescan(struct loader *, const char *, const char *, int,
		    const char *);
int		 include_list(struct loader *, const char *, char ***, size_t *,
		    char *, size_t);

/* config_resolve.c */
int		 have_inet6(void);
int		 check_server(struct build *, const struct where *,
		    const char *);
int		 check_no_link(struct build *, const struct where *,
		    const char *, const char *, const char *);
int		 check_chroot(struct build *, const struct where *,
		    const char *);
void		 finish_identity(struct build *);
void		 finish_addresses(struct build *);
void		 build_finish(struct build *);

/* config_check.c */
void		 check_services(struct loader *);

/* config_plumb.c */
void		 oom_loader_set(struct loader *);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
char		**strv_dup(const char **, size_t);
char		*xvasprintf(const char *, va_list);
char		*xasprintf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
const char	*intern(struct loader *, const char *);
void		 problem(struct loader *, const struct where *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
void		 problems_flush(struct loader *, struct conf_errors *);
void		 warning(struct loader *, const struct where *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
void		 warn_add(struct conf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* CONFIG_INT_H */
