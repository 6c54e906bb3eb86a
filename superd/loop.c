/*
 * loop.c - the event loop: one pselect() over the listeners that may
 * accept now, the connections waiting for their first bytes (pending.c),
 * the instances' stderr pipes and superd's signals (signals.c).
 *
 * A listener is left out of the set while its service is at its instance
 * limit (its pending connections count there too), over its rate, paused,
 * or (wait mode) lent to an instance: the kernel's backlog holds the
 * clients meanwhile, so no limit drops anyone.  Timers (bind retry,
 * pauses, rate, timeouts, deadlines) only shorten the wait.
 *
 * A tcpmux connection waits in pending.c for its name line, one client
 * holding at most a few such places (mux_pending_cap); then the target
 * named is judged by its own policy and started as its own instance, or
 * the client is answered and closed.
 *
 * With proxy_protocol, a connection from a peer in proxy_from waits in
 * pending.c for its PROXY header first (read right after the accept when
 * it came with the connection, as it usually does), holding no instance
 * slot: at most PROXY_WAITING of them per service at once, whoever sends
 * them (a proxy holds many connections; its address is no client's).  The
 * header's client is then the one judged, counted and shown; one admitted
 * while the service is at its limit stays there (FIRST_HELD), counted as
 * an instance, until a slot frees.  Any other peer is served as itself.
 */
#include <sys/select.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

#define ACCEPT_BATCH	16	/* connections taken per readiness */
#define PAUSE_MS	1000	/* out of descriptors or processes */
#define FIRST_LOG_MAX	5	/* lines a second on clients' first bytes */
#define PAUSE_STUCK	"children not reaching their program"	/* EBUSY */
#define MUX_PENDING_SOURCE 4	/* names one client may owe at once */

struct fdset {
	fd_set	 fs_read;
	int	 fs_max;
};

/* An fd_watch_fn: superd keeps every descriptor below FD_SETSIZE (fds.c). */
static void
fdset_add(void *arg, int fd)
{
	struct fdset	*fs = arg;

	if (fd < 0 || fd >= FD_SETSIZE)
		return;
	FD_SET(fd, &fs->fs_read);
	if (fd > fs->fs_max)
		fs->fs_max = fd;
}

/* An fd_ready_fn. */
static int
fdset_has(void *arg, int fd)
{
	struct fdset	*fs = arg;

	return fd >= 0 && fd < FD_SETSIZE && FD_ISSET(fd, &fs->fs_read);
}

/* Headers owed count apart: a silent proxy connection is no instance. */
static int
service_at_limit(const struct service *sv)
{
	int	 max = sv->sv_conf->sc_instances;

	if (sv->sv_headers >= PROXY_WAITING)
		return 1;
	return max > 0 && sv->sv_running + sv->sv_pending - sv->sv_headers >=
	    (unsigned)max;
}

/*
 * Why the service may not take a new client now (paused, instances,
 * rate), setting *next to when it may; NULL when it may.
 */
static const char *
service_busy(struct service *sv, int64_t now, int64_t *next)
{
	if (sv->sv_paused_until > now) {
		if (*next == 0 || sv->sv_paused_until < *next)
			*next = sv->sv_paused_until;
		return "paused";
	}
	sv->sv_paused_until = 0;
	if (service_at_limit(sv))
		return "instances";
	return policy_rate_ready(sv, now, next) ? NULL : "rate";
}

static void
watch_services(struct fdset *fs, int64_t now, int64_t *next)
{
	struct service	**svs;
	size_t		  n, i, j;

	svs = servtab_services(&n);
	for (i = 0; i < n; i++) {
		if (service_busy(svs[i], now, next) != NULL)
			continue;
		for (j = 0; j < svs[i]->sv_nls; j++)
			if (svs[i]->sv_ls[j]->ls_waitpid == 0)
				fdset_add(fs, svs[i]->sv_ls[j]->ls_fd);
	}
	pending_watch(fdset_add, fs, next);
	child_watch(fdset_add, fs, now, next);
}

/* Out of descriptors or processes: rest a moment instead of spinning. */
static void
service_pause(struct service *sv, const char *why)
{
	sv->sv_paused_until = mono_ms() + PAUSE_MS;
	if (!sv->sv_pause_logged)
		log_warnx("%s: %s, pausing for %d ms", sv->sv_conf->sc_name,
		    why, PAUSE_MS);
	sv->sv_pause_logged = 1;
}

/* A client refused: counted, logged, and told on fd (-1: not here). */
static void
refuse(struct service *sv, int fd, const char *addr, const char *reason)
{
	const char	*msg = sv->sv_conf->sc_refuse_message;
	char		 line[1024];
	int		 len;

	sv->sv_refused++;
	refused_log(sv, addr, reason);
	if (fd != -1 && msg != NULL && *msg != '\0') {
		len = snprintf(line, sizeof(line), "%s\r\n", msg);
		if (len > 0)
			(void)send(fd, line, (size_t)len < sizeof(line) ?
			    (size_t)len : sizeof(line) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	}
}

static void
log_start(const struct service *sv, pid_t pid, const char *from)
{
	if (sv->sv_conf->sc_log_connections)
		log_info("%s: start pid=%ld from %s", sv->sv_conf->sc_name,
		    (long)pid, from);
}

static void
peer_from(const struct svc_conf *sc, const struct peer *pe, char *from,
    size_t size)
{
	if (sc->sc_proto == PROTO_UNIX)
		snprintf(from, size, "%s", pe->pe_remote_ip);
	else
		snprintf(from, size, "%s:%u", pe->pe_remote_ip,
		    pe->pe_remote_port);
}

/* What per_source counts: instances serving addr, and those on their way. */
static unsigned
from_source(const struct service *sv, const char *addr)
{
	if (sv->sv_conf->sc_per_source <= 0)
		return 0;
	return child_count_source(sv, addr) + pending_count_source(sv, addr);
}

/*
 * Starts an instance for a connection admitted, which it gives up.  via,
 * when not NULL, says which proxy passed the client on (for the log).
 */
static void
start_instance(struct service *sv, int fd, const struct peer *pe,
    const char *via)
{
	const struct svc_conf	*sc = sv->sv_conf;
	char			 from[192];
	struct errlog		 el = ERRLOG_NONE;
	struct cginst		 cg;
	pid_t			 pid;
	size_t			 len;

	peer_from(sc, pe, from, sizeof(from));
	if (via != NULL && (len = strlen(from)) < sizeof(from))
		snprintf(from + len, sizeof(from) - len, " %s", via);
	if (sc->sc_builtin != BUILTIN_NONE &&
	    builtin_inline(sc->sc_builtin, sc->sc_proto)) {
		builtin_reply(sc->sc_builtin, fd);
		sv->sv_started++;
		close(fd);
	} else if ((pid = spawn_instance(sv, fd, pe, &el, &cg)) == -1) {
		if (errno == EAGAIN || errno == ENOMEM || errno == EBUSY)
			service_pause(sv, errno == EBUSY ? PAUSE_STUCK :
			    "cannot fork");
	} else {
		sv->sv_pause_logged = 0;	/* the shortage, if any, is over */
		policy_rate_take(sv);
		log_start(sv, pid, from);
		if (child_add(sv, NULL, pid, pe->pe_remote_ip, &el, &cg) == -1)
			log_warn("%s: child table", sc->sc_name);
	}
}

/*
 * Whether a line on a client's first bytes may be logged now: a client
 * controls how many there are, so only a few a second are.
 */
static int
first_log_ok(void)
{
	static int64_t		 window;
	static unsigned		 lines;
	static unsigned long	 dropped;
	int64_t			 now = mono_ms();

	if (now - window >= 1000) {
		if (dropped > 0)
			log_warnx("%lu more lines on clients' first bytes not "
			    "logged", dropped);
		window = now;
		lines = 0;
		dropped = 0;
	}
	if (lines < FIRST_LOG_MAX) {
		lines++;
		return 1;
	}
	dropped++;
	return 0;
}

static const char *const first_failures[] = {
	[FIRST_BAD] = "malformed",
	[FIRST_TIMEOUT] = "timed out",
	[FIRST_CLOSED] = "connection closed",
	[FIRST_DROPPED] = "service removed by a reload",
};

/*
 * A trusted peer sent no valid header: closed, and logged as few times a
 * second as first_log_ok allows.  One that closed without a byte is a
 * proxy's health check: nothing to log but a debug line.
 */
static void
proxy_failed(struct pending *pd, enum first_status st)
{
	const char	*name = pd->pd_svc->sv_conf->sc_name;
	const char	*ip = pd->pd_peer.pe_remote_ip;

	if (st == FIRST_CLOSED && pd->pd_len == 0)
		log_debug("%s: %s closed before a PROXY header (a health "
		    "check)", name, ip);
	else if (first_log_ok())
		log_warnx("%s: PROXY header from %s: %s, closing", name, ip,
		    st == FIRST_BAD ? "malformed header" : first_failures[st]);
	close(pd->pd_fd);
}

/* The first bytes of a tcpmux connection did not come: answer, log, close. */
static void
mux_failed(struct pending *pd, enum first_status st)
{
	const char	*name = pd->pd_svc->sv_conf->sc_name;
	const char	*ip = pd->pd_peer.pe_remote_ip;

	if (pd->pd_kind == FIRST_PROXY) {
		proxy_failed(pd, st);
		return;
	}
	if (st != FIRST_CLOSED)
		tcpmux_answer(pd->pd_fd, '-', st == FIRST_TIMEOUT ?
		    "Timed out" : st == FIRST_BAD ? "Bad request" :
		    "Service not available");
	if (st != FIRST_CLOSED && first_log_ok())
		log_info("%s: name from %s: %s, closing", name, ip,
		    first_failures[st]);
	close(pd->pd_fd);
}

/*
 * How many connections of one client (an IPv6 one by its prefix) a tcpmux
 * service lets wait for their names at once, whatever its per_source.  A
 * real client sends its name as soon as it is connected, so a host, or a
 * few behind one NAT, has no more than a handful in flight: 4.  And at
 * most half the service's `instances` (at least 1), the bound at which it
 * stops accepting: one client alone never holds the listener for the
 * others, unless `instances` is 1.
 */
static unsigned
mux_pending_cap(const struct service *sv)
{
	int	 half = sv->sv_conf->sc_instances / 2;

	if (sv->sv_conf->sc_instances > 0 && half < MUX_PENDING_SOURCE)
		return half > 0 ? (unsigned)half : 1;
	return MUX_PENDING_SOURCE;
}

/* A tcpmux client refused by sv: logged, a `-` line, closed. */
static void
mux_refuse(struct service *sv, int fd, const char *ip, const char *why,
    const char *answer)
{
	const char	*msg = sv->sv_conf->sc_refuse_message;

	refuse(sv, -1, ip, why);
	tcpmux_answer(fd, '-', msg != NULL && *msg != '\0' ? msg : answer);
	close(fd);
}

/*
 * The header of a trusted peer is in: its client is the connection's from
 * now on (LOCAL / UNKNOWN: the proxy's own connection, as it is), and the
 * proxy is kept in pd_via for the log.  A LOCAL header is logged as such
 * when the service logs its connections; so is the client of a tcpmux
 * connection (log_client), whose start line is its target's.
 */
static void
proxy_apply(struct pending *pd, int log_client)
{
	const struct svc_conf	*sc = pd->pd_svc->sv_conf;
	struct peer		*pe = &pd->pd_peer;

	snprintf(pd->pd_via, sizeof(pd->pd_via), "%s", pe->pe_remote_ip);
	proxy_peer(&pd->pd_proxy, pe);
	if (!sc->sc_log_connections)
		return;
	if (pd->pd_proxy.ph_local)
		log_info("%s: PROXY LOCAL from %s: the proxy's own connection",
		    sc->sc_name, pd->pd_via);
	else if (log_client)
		log_info("%s: proxied client %s:%u via %s", sc->sc_name,
		    pe->pe_remote_ip, pe->pe_remote_port, pd->pd_via);
}

/* The tcpmux service reads a PROXY header first: its client is the one. */
static int
mux_proxied(struct pending *pd)
{
	struct service	*sv = pd->pd_svc;
	struct peer	*pe = &pd->pd_peer;

	proxy_apply(pd, 1);
	(void)addr_key(pe->pe_remote_ip, &pd->pd_src);	/* none: not counted */
	if (!policy_acl(sv->sv_conf, pe->pe_remote_ip)) {
		refuse(sv, pd->pd_fd, pe->pe_remote_ip, "acl");
		close(pd->pd_fd);
		return 0;
	}
	/* Itself counted: the proxy's address was no client's to cap. */
	if (pending_count_source(sv, pe->pe_remote_ip) > mux_pending_cap(sv)) {
		mux_refuse(sv, pd->pd_fd, pe->pe_remote_ip, "pending",
		    "Too many connections waiting");
		return 0;
	}
	pd->pd_kind = FIRST_TCPMUX;
	return 1;
}

/*
 * The name is in: `help`, an unknown name, or a target judged by its own
 * allow/deny, per_source, per_source_rate, instances and rate.  A target
 * that may not take the client now refuses it at once, as RFC 1078 lets
 * it, rather than hold it: held clients would fill the tcpmux service's
 * bound for every other target.
 */
static void
mux_name(struct pending *pd)
{
	struct service	*target, **svs;
	const char	*ip = pd->pd_peer.pe_remote_ip, *why;
	int64_t		 now = mono_ms(), next = 0;
	size_t		 n;

	svs = servtab_services(&n);
	if (strcasecmp(pd->pd_name, "help") == 0) {
		tcpmux_help(svs, n, pd->pd_fd, ip);
		close(pd->pd_fd);
		return;
	}
	if ((target = tcpmux_find(svs, n, pd->pd_name)) == NULL) {
		refuse(pd->pd_svc, -1, ip, "unknown name");
		tcpmux_answer(pd->pd_fd, '-', "Service not available");
		close(pd->pd_fd);
		return;
	}
	if ((why = policy_admit(target, ip, from_source(target, ip),
	    now)) != NULL || (why = service_busy(target, now, &next)) != NULL) {
		mux_refuse(target, pd->pd_fd, ip, why, strcmp(why, "acl") == 0 ?
		    "Access denied" : "Service busy");
		return;
	}
	tcpmux_answer(pd->pd_fd, '+', "Go");
	start_instance(target, pd->pd_fd, &pd->pd_peer, NULL);
}

/* pending.c's callback for the connections of a tcpmux service. */
static int
mux_first(struct pending *pd, enum first_status st)
{
	if (st != FIRST_DONE) {
		mux_failed(pd, st);
		return 0;
	}
	if (pd->pd_kind == FIRST_PROXY)
		return mux_proxied(pd);
	mux_name(pd);
	return 0;
}

/*
 * Into pending.c, or closed: a descriptor select cannot watch, say.  What
 * came with the connection is read at once; done may have had it then.
 */
static int
wait_first(struct service *sv, int fd, const struct peer *pe,
    enum first_kind kind, pending_fn done)
{
	if (pending_add(sv, fd, pe, kind, done) == 0) {
		pending_read_newest();
		return 0;
	}
	service_pause(sv, errno == EMFILE ? "out of descriptors" :
	    "out of memory");
	close(fd);
	return -1;
}

/*
 * Accepted by a tcpmux service: it waits for its name (pending.c), unless
 * its client already has as many waiting as one may.  From a trusted proxy
 * it waits for the header first: the client is known then (mux_proxied).
 */
static void
mux_accept(struct service *sv, int fd, const struct peer *pe, int proxied)
{
	if (!proxied && pending_count_source(sv, pe->pe_remote_ip) >=
	    mux_pending_cap(sv)) {
		mux_refuse(sv, fd, pe->pe_remote_ip, "pending",
		    "Too many connections waiting");
		return;
	}
	if (wait_first(sv, fd, pe, proxied ? FIRST_PROXY : FIRST_TCPMUX,
	    mux_first) == 0)
		policy_rate_take(sv);
}

/*
 * Whether a proxied client admitted may start now: the service not paused
 * nor over its rate, and an instance slot free.  Those already held go
 * first (held: this one is among them).
 */
static int
proxy_may_start(struct service *sv, int held)
{
	int	 max = sv->sv_conf->sc_instances;
	int64_t	 now = mono_ms(), next = 0;
	unsigned waiting = sv->sv_pending - sv->sv_headers;

	if (sv->sv_paused_until > now || !policy_rate_ready(sv, now, &next))
		return 0;
	return max <= 0 || sv->sv_running + (held ? 0 : waiting) <
	    (unsigned)max;
}

/*
 * pending.c's callback for a trusted peer of a service other than tcpmux:
 * the header, then the client judged, then an instance when there is a
 * slot for it (held until then, returning 1).
 */
static int
proxy_first(struct pending *pd, enum first_status st)
{
	struct service	*sv = pd->pd_svc;
	struct peer	*pe = &pd->pd_peer;
	const char	*why;
	char		 via[96];
	int		 held = pd->pd_kind == FIRST_HELD;

	if (st != FIRST_DONE) {
		proxy_failed(pd, st);
		return 0;
	}
	if (!held) {
		proxy_apply(pd, 0);
		if ((why = policy_admit(sv, pe->pe_remote_ip, from_source(sv,
		    pe->pe_remote_ip), mono_ms())) != NULL) {
			refuse(sv, pd->pd_fd, pe->pe_remote_ip, why);
			close(pd->pd_fd);
			return 0;
		}
		/* Counted by per_source as its instance would be. */
		(void)addr_key(pe->pe_remote_ip, &pd->pd_src);
	}
	if (!proxy_may_start(sv, held)) {
		pd->pd_kind = FIRST_HELD;
		return 1;
	}
	snprintf(via, sizeof(via), "via %s%s", pd->pd_via,
	    pd->pd_proxy.ph_local ? " (PROXY LOCAL)" : "");
	start_instance(sv, pd->pd_fd, pe, via);
	return 0;
}

/* Serves an accepted connection, which it gives up. */
static void
serve_connection(struct service *sv, struct listener *ls, int fd)
{
	const struct svc_conf	*sc = sv->sv_conf;
	struct peer		 pe;
	const char		*why;
	int			 proxied;

	if (peer_fill(&pe, fd, sc->sc_proto, &ls->ls_bound,
	    ls->ls_boundlen) == -1) {
		close(fd);	/* gone before we looked: nothing to serve */
		return;
	}
	/* Only a trusted proxy's header is read: it is judged once in. */
	proxied = sc->sc_proxy && policy_proxy_trusted(sc, pe.pe_remote_ip);
	if (proxied && sc->sc_builtin != BUILTIN_TCPMUX)
		(void)wait_first(sv, fd, &pe, FIRST_PROXY, proxy_first);
	else if (!proxied && sc->sc_proto != PROTO_UNIX &&
	    (why = policy_admit(sv, pe.pe_remote_ip, from_source(sv,
	    pe.pe_remote_ip), mono_ms())) != NULL) {
		refuse(sv, fd, pe.pe_remote_ip, why);
		close(fd);
	} else if (sc->sc_builtin == BUILTIN_TCPMUX)
		mux_accept(sv, fd, &pe, proxied);
	else
		start_instance(sv, fd, &pe, NULL);
}

static int	reserve_fd = -1;	/* spent to shed a client on EMFILE */

/*
 * Out of descriptors: the client at the head of the backlog would wake us
 * again and again.  Spend the reserve descriptor to take it and close it
 * at once, then rest the service a moment.
 */
static void
shed_client(struct service *sv, struct listener *ls)
{
	int	 fd;

	if (reserve_fd != -1) {
		close(reserve_fd);
		reserve_fd = -1;
		if ((fd = accept4(ls->ls_fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
			close(fd);
	}
	service_pause(sv, "out of descriptors");
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Before any listener opens, so the reserve is there when needed. */
void
loop_init(void)
{
	fds_refresh();
	if (reserve_fd == -1)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
accept_clients(struct service *sv, struct listener *ls)
{
	int	 i, fd;
	int64_t	 next = 0;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (service_at_limit(sv) ||
		    !policy_rate_ready(sv, mono_ms(), &next))
			return;
		fd = accept4(ls->ls_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			/* Spare stderr pipes go before any client is shed. */
			if ((errno == EMFILE || errno == ENFILE) &&
			    errlog_spares_drop(NULL) > 0)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				shed_client(sv, ls);
			else if (errno == ENOBUFS || errno == ENOMEM)
				service_pause(sv, "out of memory");
			else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNABORTED && errno != EPROTO &&
			    errno != EINTR)
				log_warn("%s: accept", sv->sv_conf->sc_name);
			if (errno != ECONNABORTED && errno != EINTR &&
			    errno != EPROTO)
				return;
			continue;
		}
		serve_connection(sv, ls, fd);
		if (sv->sv_paused_until != 0)
			return;
	}
}

/* Wait mode: the instance gets the listener itself until it exits. */
static void
lend_listener(struct service *sv, struct listener *ls)
{
	char		 from[96] = "-";
	struct errlog	 el = ERRLOG_NONE;
	struct cginst	 cg;
	pid_t		 pid;

	if (looping_lend(sv, ls, from, sizeof(from)) == -1)
		return;		/* nothing queued after all (or dropped) */
	if ((pid = spawn_instance(sv, ls->ls_fd, NULL, &el, &cg)) == -1) {
		/* The client stays queued: rest rather than wake on it again. */
		service_pause(sv, errno == EAGAIN || errno == ENOMEM ?
		    "cannot fork" : errno == EBUSY ? PAUSE_STUCK :
		    "cannot start an instance");
		return;
	}
	policy_rate_take(sv);
	log_start(sv, pid, from);
	/* One that never reaches its program is no client's fault: the
	 * reap says so (looping_end). */
	if (child_add(sv, ls, pid, from, &el, &cg) == -1)
		log_warn("%s: child table", sv->sv_conf->sc_name);
}

static void
listener_ready(struct service *sv, struct listener *ls)
{
	const struct svc_conf	*sc = sv->sv_conf;

	/* A udp program is always lent the socket (config_resolve.c sees to
	 * its wait): accept() there would fail at once, again and again. */
	if (sc->sc_proto == PROTO_UDP && sc->sc_builtin != BUILTIN_NONE)
		builtin_dgram(sv, ls);
	else if ((sc->sc_wait || sc->sc_proto == PROTO_UDP) &&
	    sc->sc_builtin == BUILTIN_NONE)
		lend_listener(sv, ls);
	else
		accept_clients(sv, ls);
}

static void
dispatch(struct fdset *fs)
{
	struct service	**svs;
	size_t		  n, i, j;

	svs = servtab_services(&n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < svs[i]->sv_nls; j++) {
			struct listener *ls = svs[i]->sv_ls[j];

			if (ls->ls_fd != -1 && ls->ls_waitpid == 0 &&
			    fdset_has(fs, ls->ls_fd))
				listener_ready(svs[i], ls);
		}
	}
	child_read(fdset_has, fs);
	pending_read(fdset_has, fs);
}

/* SIGHUP: check the whole new file first; any error keeps the old one. */
static void
reload(void)
{
	const struct conf	*cur;
	struct conf		*nc;
	struct conf_errors	 errs = { NULL, 0 };
	size_t			 i;

	notify("RELOADING=1");
	fds_refresh();
	cur = servtab_conf();
	nc = config_load(cur->cf_file, &errs);
	if (nc == NULL) {
		for (i = 0; i < errs.ce_count; i++)
			log_warnx("reload: %s", errs.ce_msg[i]);
		/* Out of memory, with no room left even for the message. */
		if (errs.ce_count == 0)
			log_warnx("reload of %s failed: %s, keeping the running "
			    "configuration", cur->cf_file, strerror(ENOMEM));
		else
			log_warnx("reload of %s failed: %zu errors, keeping the "
			    "running configuration", cur->cf_file,
			    errs.ce_count);
		config_errors_clear(&errs);
		status_ready(1);
		return;
	}
	config_errors_clear(&errs);
	log_facility(nc->cf_facility);
	log_info("reloading %s", nc->cf_file);
	log_conf_warnings(nc);
	launch_settle();	/* no child is still reading the old one */
	if (servtab_apply(nc) == -1)
		log_warn("reload");
	cgroup_load(servtab_conf());
	status_ready(0);
}

/* The `more refusals not logged` lines whose second is over (refuse.c). */
static void
refusal_summaries(int64_t now, int64_t *next)
{
	if (!refused_due(now, next))
		return;
	servtab_foreach(refused_summarize, &now);
	(void)refused_due(now, next);	/* when the next are due */
}

/* Runs until SIGTERM or SIGINT. */
void
loop_run(void)
{
	struct fdset	 fs;
	struct timespec	 ts, *tsp;
	int64_t		 now, next;
	int		 rc;

	loop_init();
	for (;;) {
		if (signals_take(SIG_STOP)) {
			launch_settle();	/* before the services go */
			return;
		}
		if (signals_take(SIG_CHILD))
			child_reap_all();
		/* Retired services left unused by a reap, an adopted
		   instance's end or a header given up: a walk of the
		   retired only, most often none. */
		servtab_sweep();
		if (signals_take(SIG_RELOAD))
			reload();
		if (signals_take(SIG_DUMP))
			servtab_dump();
		now = mono_ms();
		next = 0;
		servtab_retry(now, &next);
		child_timeouts(now, &next);
		cgroup_sweep(now, &next);
		pending_timeouts(now);
		pending_held();
		errlog_spares_expire(now, &next);
		refusal_summaries(now, &next);
		launch_pending(now, &next);
		status_tick(now, &next);
		FD_ZERO(&fs.fs_read);
		fs.fs_max = -1;
		watch_services(&fs, now, &next);
		tsp = NULL;
		if (next != 0) {
			int64_t wait = next > now ? next - now : 0;

			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			tsp = &ts;
		}
		/* A signal that came since the checks above is pending on
		 * it: the wait ends at once. */
		FD_SET(signals_fd(), &fs.fs_read);
		if (signals_fd() > fs.fs_max)
			fs.fs_max = signals_fd();
		rc = pselect(fs.fs_max + 1, &fs.fs_read, NULL, NULL, tsp, NULL);
		if (rc == -1) {
			if (errno != EINTR)
				log_warn("pselect");
			continue;
		}
		if (rc > 0) {
			if (FD_ISSET(signals_fd(), &fs.fs_read))
				signals_read();
			dispatch(&fs);
		}
	}
}
