/*
 * config_check.c - checks across services, once all of them are loaded.
 *
 * Two services of one protocol may not share a name, and no two listeners
 * may collide, even two of one service: the same address and port (a
 * wildcard covers every address of its family, a dual-stack one both), or
 * the same unix path.  Each problem is reported once, at the later
 * service.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "superd.h"
#include "config_int.h"

static void
check_names(struct loader *ld)
{
	struct conf	*cf = ld->ld_conf;
	struct svc_conf	*a, *b;
	size_t		 i, j;

	for (i = 0; i < cf->cf_nsvcs; i++) {
		b = cf->cf_svcs[i];
		for (j = 0; j < i && b->sc_name != NULL; j++) {
			a = cf->cf_svcs[j];
			if (a->sc_name == NULL || a->sc_proto != b->sc_proto ||
			    strcmp(a->sc_name, b->sc_name) != 0)
				continue;
			/* A disabled example steps aside for an inetd.conf line. */
			if (a->sc_disabled && j < ld->ld_nmain && i >= ld->ld_nmain)
				continue;
			problem(ld, &ld->ld_named[i], "duplicate service name "
			    "\"%s\" (first at %s:%d)", b->sc_name,
			    ld->ld_named[j].w_file, ld->ld_named[j].w_line);
			break;
		}
	}
}

static int
is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Whether two listeners of one protocol and port would collide. */
static int
binds_clash(const struct bindaddr *a, const struct bindaddr *b)
{
	const struct sockaddr_in6	*a6, *b6;

	if (a->ba_addr.ss_family != b->ba_addr.ss_family)
		return (a->ba_addr.ss_family == AF_INET6 && a->ba_wildcard) ||
		    (b->ba_addr.ss_family == AF_INET6 && b->ba_wildcard);
	if (is_any(&a->ba_addr) || is_any(&b->ba_addr))
		return 1;
	if (a->ba_addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ba_addr)->sin_addr.
		    s_addr == ((const struct sockaddr_in *)&b->ba_addr)->
		    sin_addr.s_addr;
	a6 = (const struct sockaddr_in6 *)&a->ba_addr;
	b6 = (const struct sockaddr_in6 *)&b->ba_addr;
	return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) &&
	    a6->sin6_scope_id == b6->sin6_scope_id;
}

static void
bind_text(const struct bindaddr *ba, char *buf, size_t len)
{
	const void	*p;

	if (ba->ba_wildcard) {
		snprintf(buf, len, "*");
		return;
	}
	if (ba->ba_addr.ss_family == AF_INET)
		p = &((const struct sockaddr_in *)&ba->ba_addr)->sin_addr;
	else
		p = &((const struct sockaddr_in6 *)&ba->ba_addr)->sin6_addr;
	if (inet_ntop(ba->ba_addr.ss_family, p, buf, len) == NULL)
		snprintf(buf, len, "?");
}

static int
svcs_clash(const struct svc_conf *a, const struct svc_conf *b,
    const struct bindaddr **clash)
{
	size_t	 i, j;

	if (a->sc_disabled || b->sc_disabled || a->sc_proto != b->sc_proto)
		return 0;
	if (a != b && a->sc_name != NULL && b->sc_name != NULL &&
	    strcmp(a->sc_name, b->sc_name) == 0)
		return 0;	/* reported as a duplicate name */
	if (a->sc_proto == PROTO_UNIX)
		return a != b && a->sc_path != NULL && b->sc_path != NULL &&
		    strcmp(a->sc_path, b->sc_path) == 0;
	if (a->sc_port <= 0 || a->sc_port != b->sc_port)
		return 0;
	for (i = 0; i < a->sc_nbinds; i++)
		for (j = a == b ? i + 1 : 0; j < b->sc_nbinds; j++)
			if (binds_clash(&a->sc_binds[i], &b->sc_binds[j])) {
				*clash = &b->sc_binds[j];
				return 1;
			}
	return 0;
}

static void
check_clashes(struct loader *ld)
{
	struct conf		*cf = ld->ld_conf;
	struct svc_conf		*a, *b;
	const struct bindaddr	*ba = NULL;
	struct where		 w;
	char			 addr[INET6_ADDRSTRLEN + 1], what[128];
	size_t			 i, j;

	for (i = 0; i < cf->cf_nsvcs; i++) {
		b = cf->cf_svcs[i];
		for (j = 0; j <= i; j++) {
			a = cf->cf_svcs[j];
			if (!svcs_clash(a, b, &ba))
				continue;
			if (b->sc_proto == PROTO_UNIX)
				snprintf(what, sizeof(what), "unix %s",
				    b->sc_path);
			else {
				bind_text(ba, addr, sizeof(addr));
				snprintf(what, sizeof(what), "%s %s port %d",
				    proto_name(b->sc_proto), addr, b->sc_port);
			}
			w = ld->ld_named[i];
			w.w_line = b->sc_line;
			if (a == b)
				problem(ld, &w, "service \"%s\": two of its "
				    "addresses overlap (%s)", b->sc_name, what);
			else
				problem(ld, &w, "service \"%s\" (%s) clashes "
				    "with service \"%s\" (%s:%d)", b->sc_name,
				    what, a->sc_name, a->sc_file, a->sc_line);
			break;
		}
	}
}

void
check_services(struct loader *ld)
{
	check_names(ld);
	check_clashes(ld);
}
