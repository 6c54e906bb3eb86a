/*
 * config_inetd.c - a classic inetd.conf: each active line becomes a
 * service.
 *
 * inetd.c takes a line apart; here the entry gets the superd block's
 * defaults for what the line does not carry, and is finished and checked
 * like a service of superd.conf.  A line for a name and protocol that an
 * enabled service of superd.conf has is left to superd.conf.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "superd.h"
#include "config_int.h"

struct inetd_file {
	struct loader	*if_ld;
	struct where	 if_at;		/* file, seq, current line */
	const char	*if_addr;	/* from a "host:" line; NULL: default */
	char		 if_hostbuf[256];
};

/* Whether superd.conf (or an include file) has this name and protocol. */
static int
main_has(struct loader *ld, const char *name, enum proto proto)
{
	struct svc_conf	*sc;
	size_t		 i;

	for (i = 0; i < ld->ld_nmain; i++) {
		sc = ld->ld_conf->cf_svcs[i];
		if (sc->sc_name != NULL && !sc->sc_disabled &&
		    sc->sc_proto == proto && strcmp(sc->sc_name, name) == 0)
			return 1;
	}
	return 0;
}

/* The port of a line: a number, or the service's name in /etc/services. */
static void
inetd_port(struct build *b, const struct inetd_ent *ie)
{
	struct servent	*se;
	const char	*proto = proto_name(ie->ie_proto);
	long		 n;

	if (ie->ie_tcpmux)
		return;		/* finish_port: reached through tcpmux only */
	b->b_port_set = 1;
	if (strspn(ie->ie_name, "0123456789") == strlen(ie->ie_name)) {
		n = strtol(ie->ie_name, NULL, 10);
		if (n < 1 || n > 65535)
			problem(b->b_ld, &b->b_at, "port %s: must be 1 to "
			    "65535", ie->ie_name);
		else
			b->b_sc->sc_port = (int)n;
	} else if ((se = getservbyname(ie->ie_name, proto)) == NULL)
		problem(b->b_ld, &b->b_at, "service \"%s\" is not a %s service "
		    "in /etc/services", ie->ie_name, proto);
	else
		b->b_sc->sc_port = ntohs(se->s_port);
}

/* The keys a line carries: the superd block's defaults do not apply. */
static void
inetd_skip(const struct inetd_ent *ie, const char *addr, int *skip)
{
	static const char *const carried[] = {
		"name", "protocol", "wait", "user", "group", "server",
		"builtin", "args", "argv0", "port",
	};
	size_t	 i;

	memset(skip, 0, CONFIG_KEYS_MAX * sizeof(*skip));
	for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		skip[key_index(carried[i])] = 1;
	if (addr != NULL || ie->ie_family != AF_UNSPEC)
		skip[key_index("address")] = 1;
	if (ie->ie_max > 0)
		skip[key_index("instances")] = 1;
	if (ie->ie_tcpmux)
		skip[key_index("tcpmux")] = 1;
}

void
warn_add(struct conf *cf, const char *fmt, ...)
{
	struct conf_errors	*w = &cf->cf_warnings;
	va_list			 ap;

	char			*msg;

	w->ce_msg = xreallocarray(w->ce_msg, w->ce_count + 1,
	    sizeof(*w->ce_msg));
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	w->ce_msg[w->ce_count++] = msg;
}

/* Whether an absolute program is missing (errno says how). */
static int
program_gone(const char *path)
{
	struct stat	 st;

	if (path[0] != '/')
		return 0;	/* reported as an error by check_server() */
	if (stat(path, &st) == -1)
		return 1;
	return 0;
}

static void
inetd_entry(struct inetd_file *ifl, struct inetd_ent *ie)
{
	struct loader	*ld = ifl->if_ld;
	struct build	 b;
	struct svc_conf	*sc;
	const char	*addr = ie->ie_addr != NULL ? ie->ie_addr : ifl->if_addr;
	int		 skip[CONFIG_KEYS_MAX];

	if (!valid_name(ie->ie_name)) {
		problem(ld, &ifl->if_at, "name \"%s\": want 1 to %d of "
		    "A-Z a-z 0-9 . _ -", ie->ie_name, SUPERD_NAME_MAX);
		return;
	}
	if (main_has(ld, ie->ie_name, ie->ie_proto))
		return;		/* superd.conf wins */
	if (ie->ie_program != NULL && program_gone(ie->ie_program)) {
		/*
		 * A package removed without update-inetd leaves its line
		 * behind: inetd skips such a line, and so does superd.
		 */
		warn_add(ld->ld_conf, "%s:%d: %s: %s, entry \"%s\" skipped",
		    ifl->if_at.w_file, ifl->if_at.w_line, ie->ie_program,
		    strerror(errno), ie->ie_name);
		return;
	}
	build_init(&b, ld, &ifl->if_at);
	sc = b.b_sc;
	inetd_skip(ie, addr, skip);
	build_defaults(&b, skip);
	b.b_name_at = ifl->if_at;
	sc->sc_name = xstrdup(ie->ie_name);
	sc->sc_proto = ie->ie_proto;
	sc->sc_wait = ie->ie_wait;
	b.b_wait_set = 1;
	b.b_wait_at = ifl->if_at;
	if (ie->ie_max > 0)
		sc->sc_instances = ie->ie_max;
	if (ie->ie_tcpmux)
		sc->sc_tcpmux = 1;
	if (!b.b_stderr_set)
		sc->sc_stderr = STDERR_SOCKET;	/* what inetd does */
	b.b_user = ie->ie_user;
	b.b_user_at = b.b_at;
	b.b_group = ie->ie_group;
	b.b_group_at = b.b_at;
	if (ie->ie_program == NULL) {
		b.b_prog_set = 1;
		if ((sc->sc_builtin = builtin_named(ie->ie_name)) ==
		    BUILTIN_NONE)
			problem(ld, &b.b_at, "no internal service \"%s\" (want "
			    "echo, discard, chargen, daytime, time or tcpmux)",
			    ie->ie_name);
	} else if (check_server(&b, &b.b_at, ie->ie_program) == 0 &&
	    ie->ie_argc > 0) {
		b.b_argv0 = ie->ie_argv[0];
		b.b_args = xcalloc(ie->ie_argc, sizeof(*b.b_args));
		memcpy(b.b_args, ie->ie_argv + 1,
		    (ie->ie_argc - 1) * sizeof(*b.b_args));
		b.b_nargs = ie->ie_argc - 1;
	}
	inetd_port(&b, ie);
	if (addr != NULL || ie->ie_family != AF_UNSPEC) {
		b.b_family = ie->ie_family;
		b.b_addr_at = b.b_at;
		free(b.b_addrs);
		b.b_addrs = xcalloc(2, sizeof(*b.b_addrs));
		b.b_addrs[0] = addr != NULL ? addr : "*";
		b.b_naddrs = 1;
	}
	build_finish(&b);
	conf_add(ld, &b);
	build_clear(&b);
}

static void
inetd_line(struct inetd_file *ifl, char *line)
{
	struct inetd_ent	 ie;
	char			 err[256];

	switch (inetd_parse_line(line, &ie, err, sizeof(err))) {
	case INETD_ENTRY:
		inetd_entry(ifl, &ie);
		break;
	case INETD_ADDR:
		if (strcmp(ie.ie_addr, "*") == 0)
			ifl->if_addr = NULL;
		else {
			snprintf(ifl->if_hostbuf, sizeof(ifl->if_hostbuf), "%s",
			    ie.ie_addr);
			ifl->if_addr = ifl->if_hostbuf;
		}
		break;
	case INETD_NONE:
		break;
	case INETD_SKIP:
		/* Never fatal: a package's line must not stop superd. */
		warn_add(ifl->if_ld->ld_conf, "%s:%d: %s, line skipped",
		    ifl->if_at.w_file, ifl->if_at.w_line, err);
		break;
	default:
		problem(ifl->if_ld, &ifl->if_at, "%s", err);
		break;
	}
	inetd_ent_clear(&ie);
}

/*
 * inetd_conf.  A file that cannot be opened is noted and skipped (the
 * packages that edit it may not have created it yet); one that can is
 * held to the same rules as superd.conf.
 */
void
inetd_load(struct loader *ld)
{
	struct inetd_file	 ifl;
	const char		*path = ld->ld_conf->cf_inetd_conf;
	char			*text, *line, *next;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		warn_add(ld->ld_conf, "%s: %s (inetd_conf skipped)", path,
		    strerror(errno));
		return;
	}
	close(fd);
	if ((text = read_text(ld, path, ld->ld_inetd_seq)) == NULL)
		return;
	ld->ld_text = text;	/* freed by load_abandon() on no memory */
	memset(&ifl, 0, sizeof(ifl));
	ifl.if_ld = ld;
	ifl.if_at.w_file = intern(ld, path);
	ifl.if_at.w_seq = ld->ld_inetd_seq;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		ifl.if_at.w_line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		inetd_line(&ifl, line);
	}
	ld->ld_text = NULL;
	free(text);
}
