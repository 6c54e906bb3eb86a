/*
 * superd.h - the boundary between superd's modules.
 *
 * The data model (a parsed configuration, the running service table, the
 * child table) and one prototype section per .c file.  A function that is
 * not declared here is static in its file.
 */
#ifndef SUPERD_H
#define SUPERD_H

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SUPERD_VERSION		"0.1.0"
#define SUPERD_PATH		"/usr/local/bin:/usr/bin:/bin"
#define SUPERD_NAME_MAX		64
#define SUPERD_BIND_RETRY	10	/* seconds between bind attempts */
#define SUPERD_KILL_GRACE	2	/* SIGTERM -> SIGKILL on timeout */

/* ---------------------------------------------------------------------
 * Configuration (config.c): a plain-C picture of the file, no libconfig.
 */

enum proto {
	PROTO_TCP,
	PROTO_UDP,
	PROTO_UNIX
};

enum builtin {
	BUILTIN_NONE,
	BUILTIN_ECHO,
	BUILTIN_DISCARD,
	BUILTIN_CHARGEN,
	BUILTIN_DAYTIME,
	BUILTIN_TIME,
	BUILTIN_TCPMUX
};

enum stderr_mode {
	STDERR_LOG,
	STDERR_SOCKET,
	STDERR_NULL
};

enum limit_kind {
	LIMIT_CPU,
	LIMIT_MEMORY,
	LIMIT_FILES,
	LIMIT_PROCESSES,
	LIMIT_FSIZE,
	LIMIT_COUNT
};

/* An address or CIDR block of allow/deny; IPv4 kept as IPv4 (family AF_INET). */
struct cidr {
	int		 ci_family;	/* AF_INET or AF_INET6 */
	uint8_t		 ci_addr[16];	/* network order; 4 bytes used for IPv4 */
	int		 ci_prefix;	/* 0..32 or 0..128 */
};

/* One address a service binds (one per resolved `address` entry). */
struct bindaddr {
	struct sockaddr_storage	 ba_addr;	/* port filled in */
	socklen_t		 ba_len;
	int			 ba_wildcard;	/* from "*": dual-stack :: */
};

struct svc_conf {
	char		*sc_name;
	const char	*sc_file;	/* where the service is defined */
	int		 sc_line;	/* line of its opening { (or inetd.conf line) */

	enum proto	 sc_proto;
	int		 sc_port;	/* 0 dynamic, -1 none (tcpmux only) */
	struct bindaddr	*sc_binds;	/* resolved addresses, tcp/udp */
	size_t		 sc_nbinds;
	char		*sc_path;	/* unix socket path */
	mode_t		 sc_socket_mode;
	uid_t		 sc_socket_uid;	/* (uid_t)-1: leave */
	gid_t		 sc_socket_gid;	/* (gid_t)-1: leave */

	char		*sc_server;	/* NULL for a builtin */
	enum builtin	 sc_builtin;
	char	       **sc_argv;	/* argv0 and args, NULL-terminated */
	int		 sc_wait;

	char		*sc_user;
	uid_t		 sc_uid;
	gid_t		 sc_gid;
	int		 sc_setid;	/* switch identity (superd is root) */

	int		 sc_instances;	/* 0 = no limit */
	int		 sc_per_source;
	int		 sc_rate;	/* new instances per second */
	int		 sc_per_source_rate; /* per minute per address */
	int		 sc_per_source_ipv6_prefix; /* an IPv6 client is its /N */
	char		*sc_refuse_message; /* NULL or "" for none */
	struct cidr	*sc_allow;
	size_t		 sc_nallow;
	struct cidr	*sc_deny;
	size_t		 sc_ndeny;

	int		 sc_timeout;	/* seconds, 0 = none */
	int		 sc_limit_set[LIMIT_COUNT];
	rlim_t		 sc_limit[LIMIT_COUNT];
	int		 sc_nice_set;
	int		 sc_nice;
	char	       **sc_env;	/* "K=V", NULL-terminated */
	char		*sc_chdir;
	enum stderr_mode sc_stderr;

	/* Confinement (confine.c); none of it for an inetd.conf line. */
	char		*sc_chroot;	/* NULL: none */
	int		 sc_no_new_privs;
	int		 sc_caps_set;	/* `capabilities` given, even [] */
	uint64_t	 sc_caps;	/* bit N: capability N kept */
	int		 sc_private_tmp;
	int		 sc_private_network;
	int		 sc_read_only;
	char	       **sc_writable;	/* absolute paths, NULL-terminated */

	int		 sc_tcpmux;
	int		 sc_proxy;
	struct cidr	*sc_proxy_from;	/* peers trusted to send a header */
	size_t		 sc_nproxy_from;
	int		 sc_backlog;
	int		 sc_keepalive;
	int		 sc_nodelay;
	int		 sc_log_connections;
	int		 sc_disabled;
};

/* Problems found while loading: every one, in file order. */
struct conf_errors {
	char		**ce_msg;	/* "FILE:LINE: message" */
	size_t		 ce_count;
};

struct conf {
	char		*cf_file;
	char		*cf_pidfile;	/* "" for none */
	char		*cf_ports;	/* "" for none */
	int		 cf_facility;	/* LOG_DAEMON ... */
	char		*cf_include;	/* "" for none */
	char		*cf_inetd_conf;	/* "" for none */
	struct svc_conf	**cf_svcs;	/* every service, disabled included */
	size_t		 cf_nsvcs;
	struct conf_errors cf_warnings;	/* to log, not errors: e.g. an
					   inetd_conf that cannot be read */
};

/* config.c */
struct conf	*config_load(const char *, struct conf_errors *);
void		 config_free(struct conf *);
size_t		 config_enabled(const struct conf *);
void		 config_errors_clear(struct conf_errors *);
void		 svc_conf_free(struct svc_conf *);

/* config_plumb.c */
int		 config_parse_cidr(const char *, struct cidr *);
int		 config_parse_size(const char *, rlim_t *);

/* config_inetd.c: a line of a classic inetd.conf, taken apart in place */
struct inetd_ent {
	char		*ie_addr;	/* "addr:" prefix, or NULL */
	char		*ie_name;	/* service name (port from it) */
	enum proto	 ie_proto;	/* PROTO_TCP or PROTO_UDP */
	int		 ie_family;	/* AF_UNSPEC; AF_INET tcp4; AF_INET6 tcp6 */
	int		 ie_wait;
	int		 ie_max;	/* wait/nowait.MAX; 0 when absent */
	int		 ie_tcpmux;	/* "tcpmux/NAME" */
	char		*ie_user;
	char		*ie_group;	/* NULL: the user's primary group */
	char		*ie_program;	/* NULL: internal */
	char	       **ie_argv;	/* argv0 args..., NULL-terminated */
	int		 ie_argc;
};
#define INETD_NONE	0	/* blank or comment */
#define INETD_ENTRY	1
#define INETD_ADDR	2	/* "host:" alone: ie_addr for the lines after */
#define INETD_SKIP	3	/* well formed, not served (Sun RPC ...): err */
int		 inetd_parse_line(char *, struct inetd_ent *, char *, size_t);
void		 inetd_ent_clear(struct inetd_ent *);

/* ---------------------------------------------------------------------
 * Running state.
 */

/*
 * The loop's descriptor set as the files it asks see it: one callback adds
 * a descriptor to watch for reading, the other says whether one is
 * readable now.  fd_set stays inside loop.c.
 */
typedef void	(*fd_watch_fn)(void *, int);
typedef int	(*fd_ready_fn)(void *, int);

struct service;

/*
 * A client as per-source limits count it: IPv4 by its address (an
 * IPv4-mapped one too), IPv6 by the service's prefix of it (addr.c).
 */
struct srckey {
	int		 sk_family;	/* AF_INET, AF_INET6; 0: none */
	uint8_t		 sk_addr[16];	/* network order; 4 bytes for IPv4 */
};

/* The stderr pipe of one instance (`stderr = "log"`), read by superd. */
struct errlog {
	int			 el_fd;		/* read end, -1 when none */
	int			 el_wfd;	/* write end kept, or -1 */
	char			*el_buf;	/* a partial line */
	size_t			 el_len;
};
#define ERRLOG_NONE	{ -1, -1, NULL, 0 }

#define ACCEPTQ_MAX	16	/* TCP wait: queued clients named at a lend */

struct listener {
	struct service		*ls_svc;	/* owner */
	int			 ls_fd;		/* -1 while not open */
	struct bindaddr		 ls_bind;	/* configured (tcp/udp) */
	struct sockaddr_storage	 ls_bound;	/* getsockname after bind */
	socklen_t		 ls_boundlen;
	int64_t			 ls_retry_at;	/* mono_ms(); 0 = no retry */
	pid_t			 ls_waitpid;	/* wait mode: instance holding it */
	int			 ls_failed;	/* last open failed (logged) */
	uint64_t		 ls_head;	/* wait/udp: first datagram seen */
	int			 ls_head_valid;
	int			 ls_head_fresh;	/* seen at the last reap, not lent */
	char			 ls_head_peer[64]; /* its source, for the log */
	int			 ls_inherited;	/* handed over, not bound */
	dev_t			 ls_dev;	/* unix: the socket's node, as */
	ino_t			 ls_ino;	/*   bound, to know it again */
	int			 ls_queued;	/* wait/tcp: accept queue when lent
						   (-1 unknown) */
	uint64_t		 ls_lent[ACCEPTQ_MAX]; /* wait/tcp: cookies of */
	int			 ls_nlent;	/*   those queued when lent;
						   -1: not judged */
};

/* The identity a service's programs get, resolved by superd (ident.c). */
struct ident {
	uid_t			 id_uid;
	gid_t			 id_gid;
	gid_t			*id_groups;	/* supplementary, for setgroups */
	int			 id_ngroups;
	int			 id_valid;
	int64_t			 id_checked;	/* mono_ms() of the last look */
	struct timespec		 id_passwd_mtime;
	struct timespec		 id_group_mtime;
};

#define LOOP_MAX	10	/* no-progress restarts in a row: looping */
#define LOOP_DROPS	16	/* sources dropped at once, per service */

/* A source whose datagrams a looping wait service does not get for now. */
struct loop_drop {
	struct srckey		 ld_src;	/* by the service's prefix */
	int64_t			 ld_until;	/* mono_ms(); passed: a free slot */
};

/* Whether a wait service makes progress, and whom to blame (looping.c). */
struct loopwatch {
	int			 lw_count;	/* no-progress restarts in a row */
	int			 lw_blameless;	/* one of them had no source */
	int			 lw_nsrcs;
	struct srckey		 lw_srcs[LOOP_MAX]; /* blamed since the last
						   progress, each once */
	int64_t			 lw_progress_at; /* mono_ms(), 0 = never */
	struct loop_drop	 lw_drops[LOOP_DROPS];
};

/* The budget of `refused` lines of a service (refuse.c). */
struct refusals {
	int64_t			 rf_window;	/* start of this second */
	unsigned		 rf_lines;	/* logged in it */
	unsigned long		 rf_unlogged;	/* over the budget */
};

struct service {
	struct svc_conf		*sv_conf;
	struct listener	       **sv_ls;
	size_t			 sv_nls;
	unsigned		 sv_running;
	unsigned long		 sv_started;
	unsigned long		 sv_refused;
	int64_t			 sv_paused_until; /* mono_ms() */
	int			 sv_pause_logged;
	double			 sv_tokens;	/* rate bucket */
	int64_t			 sv_tokens_at;
	struct loopwatch	 sv_loop;
	struct refusals		 sv_refusals;
	struct src_table	*sv_sources;	/* per_source_rate counts */
	struct ident		 sv_ident;
	int64_t			 sv_errwindow;	/* start of this second's budget */
	unsigned		 sv_errlines;	/* stderr lines logged in it */
	unsigned long		 sv_errdropped;	/* lines over the budget */
	int64_t			 sv_errnopipe;	/* when "no pipe" was last logged */
	unsigned		 sv_pending;	/* connections in pending.c */
	unsigned		 sv_headers;	/*   of them owing a PROXY header */
	int			 sv_retired;
};

/* An instance's own cgroup (cgroup.c), superd-instance-PID-ID. */
#define CGROUP_PATH_MAX	64	/* its name, or its name/cgroup.procs */
struct cginst {
	pid_t			 ci_pid;	/* the superd that made it; */
						/*   0: the instance has none */
	unsigned		 ci_id;
};

/* A running instance (child.c). */
struct child {
	pid_t			 ch_pid;
	struct service		*ch_svc;
	struct listener		*ch_wait;	/* wait mode listener, or NULL */
	char			 ch_peer[64];	/* address of the client */
	struct srckey		 ch_src;	/* the same, for per_source */
	int64_t			 ch_start;	/* mono_ms() */
	int64_t			 ch_deadline;	/* mono_ms(), 0 = none */
	int			 ch_killed;	/* 1 SIGTERM sent, 2 SIGKILL sent */
	struct errlog		 ch_err;
	int			 ch_pidfd;	/* adopted from the previous superd
						   (adopt.c): no child of ours;
						   -1 for our own */
	char			*ch_fdname;	/*   and its name in the store */
	struct cginst		 ch_cg;		/* `timeout` > 0: its cgroup */
};

/* Peer of a connection as a service sees it. */
struct peer {
	enum proto	 pe_proto;
	char		 pe_local_ip[64];
	unsigned	 pe_local_port;
	char		 pe_remote_ip[64];
	unsigned	 pe_remote_port;
	pid_t		 pe_pid;	/* unix credentials */
	uid_t		 pe_uid;
	gid_t		 pe_gid;
};

/* ident.c */
int		 ident_resolve(struct ident *, const struct svc_conf *, int64_t);
void		 ident_clear(struct ident *);

/* log.c */
void		 log_init(int, int);
void		 log_facility(int);
void		 log_conf_warnings(const struct conf *);
void		 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

size_t		 log_escape(char *, size_t, const char *, size_t);

/* refuse.c */
void		 refused_log(struct service *, const char *, const char *);
int		 refused_due(int64_t, int64_t *);
void		 refused_summarize(struct service *, void *);

/* addr.c: address formatting and the protocols' names, pure */
const char	*proto_name(enum proto);
int		 proto_parse(const char *, enum proto *);
int		 addr_format(const struct sockaddr *, socklen_t, char *, size_t,
		    unsigned *);
void		 addr_unmap(struct sockaddr_storage *, socklen_t *);
int		 peer_fill(struct peer *, int, enum proto,
		    const struct sockaddr_storage *, socklen_t);
int		 addr_key(const char *, struct srckey *);
int		 addr_key_sa(const struct sockaddr_storage *, socklen_t,
		    struct srckey *);
void		 addr_key_mask(struct srckey *, int);
int		 addr_key_same(const struct srckey *, const struct srckey *,
		    int);
void		 addr_key_format(const struct srckey *, int, char *, size_t);

/*
 * confine.c: the names of capabilities, and what a child does to confine
 * itself, prepared by superd (pure) for exec.c.
 */
#define CONFINE_CAPS	64	/* capability numbers below this */
struct confine_plan {
	int		 cp_unshare;	/* CLONE_NEWNS, CLONE_NEWNET or 0 */
	int		 cp_loopback;	/* bring lo up in the new network */
	int		 cp_private_mounts; /* / made MS_PRIVATE, recursively */
	int		 cp_private_tmp; /* fresh tmpfs on /tmp and /var/tmp */
	int		 cp_read_only;	/* / read-only but for what follows */
	char * const	*cp_writable;	/* bind-mounted, kept writable */
	const char	*cp_chroot;	/* NULL: none */
	int		 cp_caps;	/* capabilities set exactly: */
	uint64_t	 cp_keep;	/*   these, in every set */
	int		 cp_ambient;	/*   kept across setuid and exec for
					     a user other than root */
	int		 cp_no_new_privs;
};
int		 confine_cap_named(const char *);
const char	*confine_cap_name(int);
int		 confine_cap_held(int);
void		 confine_plan(const struct svc_conf *, uid_t,
		    struct confine_plan *);

/* env.c: the environment of a started program, pure */
char		**env_build(const struct svc_conf *, const struct peer *);
void		 env_free(char **);

/* signals.c */
int		 signals_init(void);
int		 signals_fd(void);
void		 signals_read(void);
int		 signals_take(int);
#define SIG_RELOAD	0
#define SIG_STOP	1
#define SIG_DUMP	2
#define SIG_CHILD	3

/* listen.c */
int		 listener_open(struct listener *);
void		 listener_close(struct listener *);
void		 listener_stop(struct listener *);
void		 listener_update(struct listener *);
int		 listener_same(const struct svc_conf *, const struct bindaddr *,
		    const struct svc_conf *, const struct bindaddr *);
int		 listener_head_peek(struct listener *, char *, size_t);
int		 listener_head_same(struct listener *);
void		 listener_drop_head(struct listener *);
void		 listener_queue_mark(struct listener *);
int		 listener_queue_same(const struct listener *);

/* acceptq.c */
struct acceptq_req_buf {
	unsigned char	 ar_bytes[128];
	size_t		 ar_len;
};
struct inet_diag_msg;
void		 acceptq_request(struct acceptq_req_buf *, int, uint16_t);
int		 acceptq_match(const struct inet_diag_msg *, int,
		    const uint8_t *, size_t, uint64_t *);
int		 acceptq_scan(const struct sockaddr_storage *,
		    void (*)(uint64_t, void *), void *);

/* servtab.c */
struct lkey {
	const struct svc_conf	*lk_sc;
	const struct bindaddr	*lk_ba;	/* NULL for unix */
};
struct reload_plan {
	size_t		 rp_kept, rp_added, rp_retired;
};
void		 servtab_plan(const struct lkey *, size_t, const struct lkey *,
		    size_t, size_t *, struct reload_plan *);
int		 servtab_apply(struct conf *);
struct service	**servtab_services(size_t *);
void		 servtab_foreach(void (*)(struct service *, void *), void *);
void		 servtab_sweep(void);
void		 servtab_close_all(void);
void		 servtab_remove_ports(void);
void		 servtab_dump(void);
void		 servtab_retry(int64_t, int64_t *);
void		 servtab_set_ports(const char *);
const struct conf *servtab_conf(void);
struct totals {
	size_t		 tt_services;	/* in the table */
	unsigned long	 tt_running;	/* instances, retired services' too */
	unsigned long	 tt_served;	/* since start, removed services' too */
	unsigned long	 tt_refused;
};
void		 servtab_totals(struct totals *);

/* policy.c: whether a client may be served now, pure */
const char	*policy_admit(struct service *, const char *, unsigned, int64_t);
int		 policy_proxy_trusted(const struct svc_conf *, const char *);
int		 policy_acl(const struct svc_conf *, const char *);
int		 cidr_match(const struct cidr *, const char *);
int		 policy_rate_ready(struct service *, int64_t, int64_t *);
void		 policy_rate_take(struct service *);
struct src_table;
int		 policy_source_rate(struct src_table **, int, int,
		    const char *, int64_t);
ssize_t		 policy_dgram(struct service *, const struct srckey *, size_t,
		    size_t, size_t, int64_t);
void		 policy_source_free(struct src_table *);

/* fds.c */
void		 fds_refresh(void);
int		 fd_has_headroom(int);
int		 fd_plentiful(int);
void		 fds_plan(size_t);
int		 fd_place_high(int);
void		 fd_unplace(int);
int		 fds_placed(void);

/* loop.c */
void		 loop_init(void);
void		 loop_run(void);

/* launch.c */
void		 launch_pending(int64_t, int64_t *);
int		 launch_reaped(pid_t);
void		 launch_settle(void);

/* spawn.c */
pid_t		 spawn_instance(struct service *, int, const struct peer *,
		    struct errlog *, struct cginst *);

/* cgroup.c */
int		 cgroup_parse_self(const char *, char *, size_t);
int		 cgroup_parse_mount(const char *, const char *, char *, size_t);
void		 cgroup_load(const struct conf *);
int		 cgroup_instance(const char *, struct cginst *);
int		 cgroup_procs(const struct cginst *, char *, size_t);
int		 cgroup_adopt(pid_t, struct cginst *);
int		 cgroup_signal(const struct cginst *, int);
int		 cgroup_kill(const struct cginst *);
void		 cgroup_end(struct cginst *, int, int64_t);
void		 cgroup_sweep(int64_t, int64_t *);
void		 cgroup_stop(void);

/* errlog.c */
int		 errlog_open(struct errlog *, struct service *);
int		 errlog_ready(struct service *, int64_t, int64_t *);
int		 errlog_read(struct errlog *, struct service *, int);
void		 errlog_flush(struct errlog *, struct service *);
void		 errlog_close(struct errlog *, struct service *);
void		 errlog_recycle(struct errlog *, struct service *, int, int64_t);
void		 errlog_spares_expire(int64_t, int64_t *);
int		 errlog_spares_drop(const struct service *);

/* child.c */
int		 child_add(struct service *, struct listener *, pid_t,
		    const char *, struct errlog *, struct cginst *);
int		 child_adopt(struct service *, pid_t, int, const char *,
		    int64_t, const char *);
const struct child *child_at(size_t);
void		 child_watch(fd_watch_fn, void *, int64_t, int64_t *);
void		 child_read(fd_ready_fn, void *);
void		 child_reap_all(void);
void		 child_timeouts(int64_t, int64_t *);
void		 child_forget_listener(const struct listener *);
void		 child_rebind(struct service *, struct service *);
unsigned	 child_count_source(const struct service *, const char *);
size_t		 child_count(void);

/* looping.c */
int		 looping_lend(struct service *, struct listener *, char *, size_t);
void		 looping_end(struct child *, int, int64_t, int);

/* io.c */
int		 write_all(int, const void *, size_t);
int		 read_all(int, void *, size_t);

/* builtin.c */
int		 builtin_inline(enum builtin, enum proto);
void		 builtin_reply(enum builtin, int);
void		 builtin_run(enum builtin, int) __attribute__((noreturn));
void		 builtin_dgram(struct service *, struct listener *);
void		 builtin_ports_clear(void);
void		 builtin_port_add(unsigned);

/* tcpmux.c */
#define TCPMUX_LINE_MAX	128	/* the name line, CR LF included */
#define TCPMUX_SECONDS	10	/* to send it */
ssize_t		 tcpmux_parse(const char *, size_t, char *, size_t);
struct service	*tcpmux_find(struct service **, size_t, const char *);
void		 tcpmux_help(struct service **, size_t, int, const char *);
void		 tcpmux_answer(int, char, const char *);


/* proxy.c */
struct proxy_hdr {
	int		 ph_local;	/* LOCAL/UNKNOWN: keep the socket's ends */
	char		 ph_src_ip[64];
	unsigned	 ph_src_port;
	char		 ph_dst_ip[64];
	unsigned	 ph_dst_port;
};
#define PROXY_SECONDS	5	/* to send a PROXY header */
#define PROXY_WAITING	64	/* headers a service waits for at once */
#define PROXY_HDR_MAX	(16 + 4096) /* the longest header proxy_parse takes */
ssize_t		 proxy_parse(const uint8_t *, size_t, struct proxy_hdr *);
void		 proxy_peer(const struct proxy_hdr *, struct peer *);

/*
 * pending.c: accepted connections whose first bytes superd reads itself,
 * without blocking, before it decides what to do with them.
 */
enum first_kind {
	FIRST_PROXY,		/* a PROXY protocol header (proxy.c) */
	FIRST_TCPMUX,		/* a tcpmux name line (tcpmux.c) */
	FIRST_HELD		/* nothing: read, admitted, waiting for an
				   instance slot (pending_held) */
};
enum first_status {
	FIRST_DONE,		/* read: pd_proxy or pd_name holds it */
	FIRST_BAD,		/* malformed or too long */
	FIRST_TIMEOUT,		/* not complete by the deadline */
	FIRST_CLOSED,		/* the client went first */
	FIRST_DROPPED		/* its service went away in a reload */
};
struct pending;
/*
 * Told how a connection's first bytes ended.  The callback owns the
 * connection then, and returns 0; on FIRST_DONE it may instead set
 * pd_kind to what comes next and return 1 to keep it waiting.
 */
typedef int	(*pending_fn)(struct pending *, enum first_status);
struct pending {
	struct service	*pd_svc;	/* whose listener accepted it */
	int		 pd_fd;
	struct peer	 pd_peer;
	struct srckey	 pd_src;	/* pd_peer's, for per-source counts */
	enum first_kind	 pd_kind;	/* what it owes now */
	int		 pd_header;	/* counted in pd_svc's sv_headers */
	int64_t		 pd_deadline;	/* mono_ms() */
	struct proxy_hdr pd_proxy;	/* FIRST_PROXY, once done */
	char		 pd_via[64];	/*   and the proxy that sent it */
	char		 pd_name[TCPMUX_LINE_MAX]; /* FIRST_TCPMUX, once done */
	size_t		 pd_len;	/* bytes of pd_buf read */
	pending_fn	 pd_done;
	uint8_t		 pd_buf[PROXY_HDR_MAX];
};
int		 pending_add(struct service *, int, const struct peer *,
		    enum first_kind, pending_fn);
void		 pending_watch(fd_watch_fn, void *, int64_t *);
void		 pending_read(fd_ready_fn, void *);
void		 pending_read_newest(void);
void		 pending_timeouts(int64_t);
void		 pending_held(void);
void		 pending_rebind(struct service *, struct service *);
unsigned	 pending_count_source(const struct service *, const char *);

/* notify.c */
void		 notify_init(void);
void		 notify(const char *);
void		 notify_fd(const char *, int);
int		 notify_active(void);

/* status.c */
void		 status_init(void);
void		 status_ready(int);
void		 status_tick(int64_t, int64_t *);

/* handover.c */
#define FDNAME_MAX	256	/* systemd's limit on a stored descriptor's name */
void		 handover_init(void);
int		 handover_take(struct listener *);
void		 handover_close_rest(void);
void		 handover_store(const struct listener *);
void		 handover_store_fd(const char *, int);
void		 handover_unstore(const struct listener *);
void		 handover_unstore_name(const char *);
int		 handover_storing(void);
int		 handover_take_instance(char *, size_t);

/* fdname.c */
#define FDNAME_INSTANCE	"@instance/"	/* a running instance's pidfd; no
					   service name has an @ */
struct fdname_inst {
	pid_t		 fi_pid;
	int64_t		 fi_start;			/* mono_ms() */
	char		 fi_service[SUPERD_NAME_MAX + 1];
	char		 fi_peer[64];			/* as ch_peer */
};
void		 fdname_clean(char *, size_t, const char *);
void		 fdname_listen(const char *, size_t, char *, size_t);
int		 fdname_is_instance(const char *);
void		 fdname_instance(char *, size_t, const struct fdname_inst *);
int		 fdname_instance_parse(const char *, struct fdname_inst *);

/* adopt.c */
void		 adopt_all(void);
void		 adopt_hand_over(void);

#endif /* SUPERD_H */
