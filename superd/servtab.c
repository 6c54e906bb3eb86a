/*
 * servtab.c - the service table and how a new configuration replaces it.
 *
 * Owns the running configuration, the table of services and the services
 * retired by a reload that still have instances running.  The reload plan
 * (which listener of the new configuration keeps which open socket) is a
 * pure function; servtab_apply() carries it out.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"

static struct conf	 *running_conf;
static struct service	**table;
static size_t		  ntable;
static struct service	**retired;
static size_t		  nretired;
static char		 *ports_override;	/* -P, or NULL */
static unsigned long	  gone_served;	/* of services a reload removed */
static unsigned long	  gone_refused;

static int		  ports_write(void);

struct service **
servtab_services(size_t *n)
{
	*n = ntable;
	return table;
}

/* Calls fn for every service, those retired with instances left too. */
void
servtab_foreach(void (*fn)(struct service *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < ntable; i++)
		fn(table[i], arg);
	for (i = 0; i < nretired; i++)
		fn(retired[i], arg);
}

void
servtab_set_ports(const char *path)
{
	free(ports_override);
	ports_override = path != NULL ? strdup(path) : NULL;
}

static const char *
ports_path(void)
{
	if (ports_override != NULL)
		return ports_override;
	return running_conf != NULL ? running_conf->cf_ports : "";
}

/*
 * For each new listener, the old listener whose socket it keeps, or
 * SIZE_MAX: same protocol, wait mode and configured address and port
 * (a dynamic port stays dynamic, so it keeps the port the kernel gave).
 */
void
servtab_plan(const struct lkey *old, size_t nold, const struct lkey *new,
    size_t nnew, size_t *keep_from, struct reload_plan *rp)
{
	unsigned char	*taken;
	size_t		 i, j;

	memset(rp, 0, sizeof(*rp));
	taken = calloc(nold + 1, 1);
	for (i = 0; i < nnew; i++) {
		keep_from[i] = SIZE_MAX;
		for (j = 0; j < nold && taken != NULL; j++) {
			if (taken[j] || !listener_same(old[j].lk_sc,
			    old[j].lk_ba, new[i].lk_sc, new[i].lk_ba))
				continue;
			taken[j] = 1;
			keep_from[i] = j;
			rp->rp_kept++;
			break;
		}
		if (keep_from[i] == SIZE_MAX)
			rp->rp_added++;
	}
	rp->rp_retired = nold - rp->rp_kept;
	free(taken);
}

static struct service *
service_new(struct svc_conf *sc)
{
	struct service	*sv;
	size_t		 i, n;

	if ((sv = calloc(1, sizeof(*sv))) == NULL)
		return NULL;
	sv->sv_conf = sc;
	n = sc->sc_proto == PROTO_UNIX ? 1 : sc->sc_nbinds;
	if (n > 0 && (sv->sv_ls = calloc(n, sizeof(*sv->sv_ls))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((sv->sv_ls[i] = calloc(1, sizeof(**sv->sv_ls))) == NULL)
			goto fail;
		sv->sv_nls++;
		sv->sv_ls[i]->ls_svc = sv;
		sv->sv_ls[i]->ls_fd = -1;
		if (sc->sc_proto != PROTO_UNIX)
			sv->sv_ls[i]->ls_bind = sc->sc_binds[i];
	}
	return sv;
fail:
	for (i = 0; i < sv->sv_nls; i++)
		free(sv->sv_ls[i]);
	free(sv->sv_ls);
	free(sv);
	return NULL;
}

/* Closes the listeners the service still has (not handed on). */
static void
listeners_close(struct service *sv)
{
	size_t	 i;

	for (i = 0; i < sv->sv_nls; i++) {
		if (sv->sv_ls[i] == NULL)
			continue;
		child_forget_listener(sv->sv_ls[i]);
		listener_close(sv->sv_ls[i]);
	}
}

/* Frees a service whose listeners are closed or handed on. */
static void
service_free(struct service *sv)
{
	size_t	 i;

	listeners_close(sv);
	(void)errlog_spares_drop(sv);
	for (i = 0; i < sv->sv_nls; i++)
		free(sv->sv_ls[i]);
	policy_source_free(sv->sv_sources);
	ident_clear(&sv->sv_ident);
	free(sv->sv_ls);
	free(sv);
}

/* Frees a service and the configuration it owns (after: its listeners
 * still name the service's settings while they close). */
static void
service_free_all(struct service *sv)
{
	struct svc_conf	*sc = sv->sv_conf;

	service_free(sv);
	svc_conf_free(sc);
}

/*
 * Frees the retired services nothing refers to any more: no instance
 * left in the child table and no connection in pending.c.  The loop calls
 * it on each turn, so the child table never calls up into this one.
 */
void
servtab_sweep(void)
{
	struct service	*sv;
	size_t		 i = 0;

	while (i < nretired) {
		sv = retired[i];
		if (sv->sv_running > 0 || sv->sv_pending > 0) {
			i++;
			continue;
		}
		retired[i] = retired[--nretired];
		service_free_all(sv);
	}
}

static int
collect_keys(struct service **svs, size_t nsv, struct lkey **keys,
    struct listener ***lss, size_t *n)
{
	size_t	 i, j, k = 0, total = 0;

	for (i = 0; i < nsv; i++)
		total += svs[i]->sv_nls;
	*keys = calloc(total + 1, sizeof(**keys));
	*lss = calloc(total + 1, sizeof(**lss));
	if (*keys == NULL || *lss == NULL)
		return -1;
	for (i = 0; i < nsv; i++)
		for (j = 0; j < svs[i]->sv_nls; j++, k++) {
			(*lss)[k] = svs[i]->sv_ls[j];
			(*keys)[k].lk_sc = svs[i]->sv_conf;
			(*keys)[k].lk_ba = &svs[i]->sv_ls[j]->ls_bind;
		}
	*n = total;
	return 0;
}

/* The old service of the same name and protocol, whose counters go on. */
static struct service *
find_old(struct service **old, size_t nold, const struct svc_conf *sc)
{
	size_t	 i;

	for (i = 0; i < nold; i++)
		if (old[i] != NULL && old[i]->sv_conf->sc_proto == sc->sc_proto &&
		    strcmp(old[i]->sv_conf->sc_name, sc->sc_name) == 0)
			return old[i];
	return NULL;
}

/* Moves what lasts across a reload from the old service to its successor. */
static void
service_inherit(struct service *sv, struct service *old)
{
	sv->sv_running = old->sv_running;
	sv->sv_started = old->sv_started;
	sv->sv_refused = old->sv_refused;
	sv->sv_paused_until = old->sv_paused_until;
	sv->sv_tokens = old->sv_tokens;
	sv->sv_tokens_at = old->sv_tokens_at;
	sv->sv_loop = old->sv_loop;
	sv->sv_refusals = old->sv_refusals;
	sv->sv_sources = old->sv_sources;
	old->sv_sources = NULL;
	sv->sv_errwindow = old->sv_errwindow;
	sv->sv_errlines = old->sv_errlines;
	sv->sv_errdropped = old->sv_errdropped;
	child_rebind(old, sv);
	pending_rebind(old, sv);
	old->sv_running = 0;
}

static int
retire(struct service *sv)
{
	struct service	**grown;

	gone_served += sv->sv_started;
	gone_refused += sv->sv_refused;
	listeners_close(sv);
	pending_rebind(sv, NULL);	/* answered and closed */
	(void)errlog_spares_drop(sv);	/* no instance of it starts again */
	if (sv->sv_running == 0) {
		service_free_all(sv);
		return 0;
	}
	grown = reallocarray(retired, nretired + 1, sizeof(*retired));
	if (grown == NULL)
		return -1;
	retired = grown;
	sv->sv_retired = 1;
	retired[nretired++] = sv;
	return 0;
}

static struct service **
build_services(struct conf *nc, size_t *n)
{
	struct service	**svs;
	size_t		  i, k = 0;

	if ((svs = calloc(nc->cf_nsvcs + 1, sizeof(*svs))) == NULL)
		return NULL;
	for (i = 0; i < nc->cf_nsvcs; i++) {
		if (nc->cf_svcs[i]->sc_disabled)
			continue;
		if ((svs[k] = service_new(nc->cf_svcs[i])) == NULL)
			goto fail;
		k++;
	}
	*n = k;
	return svs;
fail:
	while (k > 0)
		service_free(svs[--k]);
	free(svs);
	return NULL;
}

/* Hands kept sockets over, per the plan. */
static void
take_sockets(struct service **svs, size_t nsv, struct listener **oldls,
    const size_t *keep_from)
{
	size_t		 i, j, k = 0;
	struct listener	*nl, *ol;

	for (i = 0; i < nsv; i++)
		for (j = 0; j < svs[i]->sv_nls; j++, k++) {
			if (keep_from[k] == SIZE_MAX)
				continue;
			ol = oldls[keep_from[k]];
			nl = svs[i]->sv_ls[j];
			/* The old struct moves: a wait child points at it. */
			ol->ls_svc = svs[i];
			ol->ls_bind = nl->ls_bind;
			svs[i]->sv_ls[j] = ol;
			free(nl);
			oldls[keep_from[k]] = NULL;
			if (ol->ls_fd != -1)
				listener_update(ol);
		}
}

/* Drops the old services: successors inherit, the rest retire. */
static void
settle_old(struct service **svs, size_t nsv)
{
	struct service	*old;
	size_t		 i, j;

	for (i = 0; i < nsv; i++) {
		old = find_old(table, ntable, svs[i]->sv_conf);
		if (old == NULL)
			continue;
		service_inherit(svs[i], old);
		for (j = 0; j < ntable; j++)
			if (table[j] == old)
				table[j] = NULL;
		/* Listeners handed on are no longer the old service's. */
		for (j = 0; j < old->sv_nls; j++)
			if (old->sv_ls[j] != NULL && old->sv_ls[j]->ls_svc != old)
				old->sv_ls[j] = NULL;
		service_free_all(old);
	}
	for (i = 0; i < ntable; i++) {
		if (table[i] == NULL)
			continue;
		for (j = 0; j < table[i]->sv_nls; j++)
			if (table[i]->sv_ls[j] != NULL &&
			    table[i]->sv_ls[j]->ls_svc != table[i])
				table[i]->sv_ls[j] = NULL;
		if (retire(table[i]) == -1)
			log_warn("%s: cannot retire", table[i]->sv_conf->sc_name);
	}
}

/* Tells builtin.c which ports its UDP builtins answer on now. */
static void
own_ports_refresh(void)
{
	struct listener	*ls;
	char		 ip[64];
	unsigned	 port;
	size_t		 i, j;

	builtin_ports_clear();
	for (i = 0; i < ntable; i++) {
		if (table[i]->sv_conf->sc_proto != PROTO_UDP ||
		    table[i]->sv_conf->sc_builtin == BUILTIN_NONE)
			continue;
		for (j = 0; j < table[i]->sv_nls; j++) {
			ls = table[i]->sv_ls[j];
			if (ls->ls_fd != -1 && addr_format((struct sockaddr *)
			    &ls->ls_bound, ls->ls_boundlen, ip, sizeof(ip),
			    &port) == 0 && port != 0)
				builtin_port_add(port);
		}
	}
}

/*
 * Makes nc the running configuration.  Unchanged listeners keep their
 * sockets, removed ones close, new ones open; running instances are never
 * touched.  Takes ownership of nc.
 */
int
servtab_apply(struct conf *nc)
{
	struct service	**svs;
	struct lkey	 *oldk = NULL, *newk = NULL;
	struct listener	**oldls = NULL, **newls = NULL;
	size_t		  nsv, nold, nnew, i, j, *keep_from = NULL, failed = 0;
	struct reload_plan rp;

	if ((svs = build_services(nc, &nsv)) == NULL)
		return -1;
	if (collect_keys(table, ntable, &oldk, &oldls, &nold) == -1 ||
	    collect_keys(svs, nsv, &newk, &newls, &nnew) == -1 ||
	    (keep_from = calloc(nnew + 1, sizeof(*keep_from))) == NULL) {
		for (i = 0; i < nsv; i++)
			service_free(svs[i]);
		free(svs);
		free(oldk);
		free(oldls);
		free(newk);
		free(newls);
		return -1;
	}
	servtab_plan(oldk, nold, newk, nnew, keep_from, &rp);
	fds_plan(nnew);
	take_sockets(svs, nsv, oldls, keep_from);
	settle_old(svs, nsv);
	free(table);
	free(oldk);
	free(oldls);
	free(newk);
	free(newls);
	free(keep_from);
	table = svs;
	ntable = nsv;
	if (running_conf != NULL) {
		/* Its services now belong to the table or were freed above. */
		free(running_conf->cf_svcs);
		running_conf->cf_svcs = NULL;
		running_conf->cf_nsvcs = 0;
		config_free(running_conf);
	}
	running_conf = nc;
	/* Disabled services are not in the table: keep only what is. */
	for (i = 0, j = 0; i < nc->cf_nsvcs; i++) {
		if (nc->cf_svcs[i]->sc_disabled)
			svc_conf_free(nc->cf_svcs[i]);
		else
			nc->cf_svcs[j++] = nc->cf_svcs[i];
	}
	nc->cf_nsvcs = j;
	for (i = 0; i < ntable; i++)
		for (j = 0; j < table[i]->sv_nls; j++)
			if (table[i]->sv_ls[j]->ls_fd == -1 &&
			    listener_open(table[i]->sv_ls[j]) == -1)
				failed++;
	own_ports_refresh();
	log_info("configuration %s: %zu services, listeners kept %zu, "
	    "added %zu, retired %zu, failed %zu", nc->cf_file, ntable,
	    rp.rp_kept, rp.rp_added, rp.rp_retired, failed);
	if (ports_write() == -1)
		log_warn("cannot write ports file %s", ports_path());
	return 0;
}

/* Opens the listeners whose retry time has come. */
void
servtab_retry(int64_t now, int64_t *next)
{
	size_t		 i, j;
	int		 opened = 0;
	struct listener	*ls;

	for (i = 0; i < ntable; i++)
		for (j = 0; j < table[i]->sv_nls; j++) {
			ls = table[i]->sv_ls[j];
			if (ls->ls_fd != -1 || ls->ls_retry_at == 0)
				continue;
			if (ls->ls_retry_at <= now && listener_open(ls) == 0) {
				opened = 1;
				continue;
			}
			if (*next == 0 || ls->ls_retry_at < *next)
				*next = ls->ls_retry_at;
		}
	if (opened)
		own_ports_refresh();
	if (opened && ports_write() == -1)
		log_warn("cannot write ports file %s", ports_path());
}

static int
write_port_lines(FILE *fp)
{
	struct listener	*ls;
	char		 ip[64];
	unsigned	 port;
	size_t		 i, j;

	for (i = 0; i < ntable; i++)
		for (j = 0; j < table[i]->sv_nls; j++) {
			ls = table[i]->sv_ls[j];
			if (ls->ls_fd == -1)
				continue;
			if (table[i]->sv_conf->sc_proto == PROTO_UNIX) {
				fprintf(fp, "%s unix %s\n",
				    table[i]->sv_conf->sc_name,
				    table[i]->sv_conf->sc_path);
				continue;
			}
			addr_format((struct sockaddr *)&ls->ls_bound,
			    ls->ls_boundlen, ip, sizeof(ip), &port);
			fprintf(fp, "%s %s %s %u\n", table[i]->sv_conf->sc_name,
			    proto_name(table[i]->sv_conf->sc_proto), ip, port);
		}
	return ferror(fp) ? -1 : 0;
}

/*
 * Replaces the ports file atomically: a reader sees the old or the new.
 * The new one is written to a file of an unpredictable name that only
 * this call can have created (mkostemp: O_CREAT | O_EXCL, so never
 * through a link planted in a directory others can write), then renamed
 * over the path, which replaces whatever the path was without following
 * it.
 */
int
ports_write(void)
{
	const char	*path = ports_path();
	char		*tmp;
	FILE		*fp = NULL;
	int		 fd, rc = -1;

	if (path == NULL || *path == '\0')
		return 0;
	if (asprintf(&tmp, "%s.XXXXXX", path) == -1)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW)) == -1) {
		free(tmp);
		return -1;
	}
	/* mkostemp creates it 0600; readers of any user may want the ports */
	if (fchmod(fd, 0644) == 0 && (fp = fdopen(fd, "w")) != NULL)
		rc = write_port_lines(fp);
	if (fp == NULL)
		close(fd);
	else if (fclose(fp) == EOF)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1) {
		int saved = errno;

		(void)unlink(tmp);
		errno = saved;
	}
	free(tmp);
	return rc;
}

void
servtab_remove_ports(void)
{
	const char	*path = ports_path();

	if (path != NULL && *path != '\0' && unlink(path) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", path);
}

/* SIGUSR1: one line per service with its counters. */
void
servtab_dump(void)
{
	size_t	 i, j, open;

	for (i = 0; i < ntable; i++) {
		for (j = 0, open = 0; j < table[i]->sv_nls; j++)
			open += table[i]->sv_ls[j]->ls_fd != -1;
		log_info("%s: status %s listeners=%zu running=%u started=%lu "
		    "refused=%lu", table[i]->sv_conf->sc_name,
		    proto_name(table[i]->sv_conf->sc_proto), open,
		    table[i]->sv_running, table[i]->sv_started,
		    table[i]->sv_refused);
	}
	for (i = 0; i < nretired; i++)
		log_info("%s: status retired running=%u",
		    retired[i]->sv_conf->sc_name, retired[i]->sv_running);
}

/*
 * Stop: every listener closes (or stays in systemd's store for the next
 * superd); instances keep running on their own.
 */
void
servtab_close_all(void)
{
	size_t	 i, j;

	for (i = 0; i < ntable; i++)
		for (j = 0; j < table[i]->sv_nls; j++)
			listener_stop(table[i]->sv_ls[j]);
}

/* The figures of superd's status line (status.c). */
void
servtab_totals(struct totals *tt)
{
	size_t	 i;

	tt->tt_services = ntable;
	tt->tt_running = 0;
	tt->tt_served = gone_served;
	tt->tt_refused = gone_refused;
	for (i = 0; i < ntable; i++) {
		tt->tt_running += table[i]->sv_running;
		tt->tt_served += table[i]->sv_started;
		tt->tt_refused += table[i]->sv_refused;
	}
	for (i = 0; i < nretired; i++)
		tt->tt_running += retired[i]->sv_running;
}

const struct conf *
servtab_conf(void)
{
	return running_conf;
}
