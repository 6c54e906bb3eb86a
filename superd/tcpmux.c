/*
 * tcpmux.c - the TCPMUX builtin (RFC 1078): the name line and the answers.
 *
 * superd reads the name line itself (pending.c) and judges the client by
 * the target's own policy (loop.c).  Here: the parser of the line, the
 * lookup of a name among the services that set `tcpmux = true`, the
 * answer to `help`, which lists only the names the asking client may use,
 * and the one-line answers.  The services to look among are handed in by
 * the loop, which owns the connection: this file never reads the service
 * table itself.  Every answer is written without waiting: a client that
 * does not read loses what does not fit.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "superd.h"

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

/* Sends what fits now; a client that does not read gets no more. */
static int
send_now(int fd, const char *text, size_t len)
{
	return send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ?
	    0 : -1;
}

/* One line: `+Go`, or `-` and why. */
void
tcpmux_answer(int fd, char sign, const char *text)
{
	char	 line[1024];
	int	 len;

	len = snprintf(line, sizeof(line), "%c%s\r\n", sign, text);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {	/* cut, still a line */
		len = sizeof(line) - 1;
		memcpy(line + len - 2, "\r\n", 2);
	}
	(void)send_now(fd, line, (size_t)len);
}

/* `help`: the names among svs the client at addr may use, one a line. */
void
tcpmux_help(struct service **svs, size_t n, int fd, const char *addr)
{
	const struct svc_conf	 *sc;
	size_t			  i, len = 0;
	char			  buf[4096];

	for (i = 0; i < n; i++) {
		sc = svs[i]->sv_conf;
		if (!tcpmux_reachable(sc) || !policy_acl(sc, addr))
			continue;
		/* Room for the name, CR LF and snprintf's NUL. */
		if (len + strlen(sc->sc_name) + 3 > sizeof(buf)) {
			if (send_now(fd, buf, len) == -1)
				return;
			len = 0;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\r\n",
		    sc->sc_name);
	}
	if (len > 0)
		(void)send_now(fd, buf, len);
}

/* The service among svs that a name reaches through tcpmux, or NULL. */
struct service *
tcpmux_find(struct service **svs, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (tcpmux_reachable(svs[i]->sv_conf) &&
		    strcasecmp(svs[i]->sv_conf->sc_name, name) == 0)
			return svs[i];
	return NULL;
}
