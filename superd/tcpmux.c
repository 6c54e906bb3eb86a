/*
 * tcpmux.c - the TCPMUX builtin (RFC 1078), run in a forked child.
 *
 * The child reads the name line under a deadline, answers `help` with the
 * names of the services that set `tcpmux = true`, refuses an unknown name
 * with a `-` line, and otherwise judges the client by the target's own
 * allow/deny before `+Go`; spawn.c then starts the target with the
 * target's settings, identity and limits, exactly as on its own port.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "superd.h"

#define TCPMUX_LINE_MAX	128
#define TCPMUX_SECONDS	10

/*
 * Judges the bytes of a name line: its length with the line end once it
 * is complete (the name, without CR LF and surrounding blanks, goes to
 * name), 0 while incomplete, -1 when too long or not printable.
 */
ssize_t
tcpmux_parse(const char *buf, size_t len, char *name, size_t size)
{
	size_t	 i, start, end;

	for (i = 0; i < len && i < TCPMUX_LINE_MAX; i++) {
		if (buf[i] == '\n')
			break;
		if ((buf[i] < 0x20 && buf[i] != '\r' && buf[i] != '\t') ||
		    buf[i] == 0x7f)
			return -1;
	}
	if (i == TCPMUX_LINE_MAX)
		return -1;	/* no line end within the limit: too long */
	if (i == len)
		return 0;
	end = i;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	for (start = 0; start < end && (buf[start] == ' ' || buf[start] == '\t');
	    start++)
		;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	if (memchr(buf + start, '\r', end - start) != NULL ||
	    end - start >= size)
		return -1;
	memcpy(name, buf + start, end - start);
	name[end - start] = '\0';
	return (ssize_t)i + 1;
}

static int
tcpmux_reachable(const struct svc_conf *sc)
{
	return sc->sc_tcpmux && sc->sc_proto == PROTO_TCP && !sc->sc_wait &&
	    sc->sc_builtin != BUILTIN_TCPMUX;
}

static void
say(int fd, const char *text)
{
	size_t	 len = strlen(text);
	ssize_t	 n;

	while (len > 0 && ((n = write(fd, text, len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0) {
			text += n;
			len -= (size_t)n;
		}
}

static void __attribute__((noreturn))
help(int fd)
{
	struct service	**svs;
	size_t		  n, i;
	char		  line[SUPERD_NAME_MAX + 3];

	svs = servtab_services(&n);
	for (i = 0; i < n; i++)
		if (tcpmux_reachable(svs[i]->sv_conf)) {
			snprintf(line, sizeof(line), "%s\r\n",
			    svs[i]->sv_conf->sc_name);
			say(fd, line);
		}
	_exit(0);
}

static const struct svc_conf *
find_target(const char *name)
{
	struct service	**svs;
	size_t		  n, i;

	svs = servtab_services(&n);
	for (i = 0; i < n; i++)
		if (tcpmux_reachable(svs[i]->sv_conf) &&
		    strcasecmp(svs[i]->sv_conf->sc_name, name) == 0)
			return svs[i]->sv_conf;
	return NULL;
}

/* Reads exactly the name line, never a byte of what follows it. */
static int
read_name(int fd, char *name, size_t size)
{
	char		 buf[TCPMUX_LINE_MAX];
	size_t		 len = 0;
	ssize_t		 done = 0, n;
	int64_t		 deadline = mono_ms() + TCPMUX_SECONDS * 1000;

	while (len < sizeof(buf) &&
	    (done = tcpmux_parse(buf, len, name, size)) == 0) {
		if ((n = deadline_read(fd, buf + len, 1, deadline)) <= 0)
			return -1;
		len++;
	}
	return done > 0 ? 0 : -1;
}

/*
 * In the child of a tcpmux connection: returns the target to start, after
 * `+Go`; every other outcome answers the client and exits.
 */
const struct svc_conf *
tcpmux_select(int fd, const char *peer_ip)
{
	const struct svc_conf	*sc;
	char			 name[TCPMUX_LINE_MAX], line[1024];

	if (read_name(fd, name, sizeof(name)) == -1) {
		say(fd, "-Bad request\r\n");
		_exit(1);
	}
	if (strcasecmp(name, "help") == 0)
		help(fd);
	if ((sc = find_target(name)) == NULL) {
		say(fd, "-Service not available\r\n");
		_exit(1);
	}
	if (!policy_acl(sc, peer_ip)) {
		refused_line(sc->sc_name, peer_ip, "acl");
		snprintf(line, sizeof(line), "-%s\r\n", sc->sc_refuse_message &&
		    *sc->sc_refuse_message ? sc->sc_refuse_message :
		    "Access denied");
		say(fd, line);
		_exit(1);
	}
	say(fd, "+Go\r\n");
	return sc;
}
