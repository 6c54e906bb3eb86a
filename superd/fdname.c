/*
 * fdname.c - the names of descriptors in systemd's keeping: how superd
 * writes them and reads them back.
 *
 * systemd names each descriptor it hands over in $LISTEN_FDNAMES, one name
 * per descriptor, separated by ':'.  What superd stores (FDSTORE=1) it
 * names itself: a listener "SERVICE/N/INODE" (handover.c), a running
 * instance "@instance/PID/START/SERVICE/PEER" (adopt.c).  systemd refuses
 * a name with a control character or a ':', so those become '_' in a
 * service's name, and a peer's ':' (IPv6) is written '+'.  Pure functions,
 * no state: what they read comes from the environment superd was started
 * with, and is checked as any outside input is.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "superd.h"

/*
 * src as systemd takes it in a stored descriptor's name: every byte it
 * refuses (controls, DEL, ':') becomes '_', one for one.
 */
void
fdname_clean(char *dst, size_t size, const char *src)
{
	size_t	 i;

	snprintf(dst, size, "%s", src);
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f ||
		    dst[i] == ':')
			dst[i] = '_';
}

/*
 * The i-th ':'-separated name of names (a $LISTEN_FDNAMES, NULL when not
 * set) in buf, cut to fit; "" when there are fewer names.
 */
void
fdname_listen(const char *names, size_t i, char *buf, size_t size)
{
	const char	*p = names, *end;
	size_t		 len;

	buf[0] = '\0';
	if (names == NULL)
		return;
	for (; i > 0 && p != NULL; i--)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL)
		return;
	end = strchr(p, ':');
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/* Whether name is a running instance's rather than a listener's. */
int
fdname_is_instance(const char *name)
{
	return strncmp(name, FDNAME_INSTANCE, strlen(FDNAME_INSTANCE)) == 0;
}

/* The name a running instance gets in the store. */
void
fdname_instance(char *buf, size_t size, const struct fdname_inst *fi)
{
	char	 svc[sizeof(fi->fi_service)], peer[sizeof(fi->fi_peer)];
	size_t	 i;

	fdname_clean(svc, sizeof(svc), fi->fi_service);
	fdname_clean(peer, sizeof(peer), fi->fi_peer);
	for (i = 0; peer[i] != '\0'; i++)
		if (peer[i] == '_' && fi->fi_peer[i] == ':')
			peer[i] = '+';
	snprintf(buf, size, FDNAME_INSTANCE "%ld/%lld/%s/%s", (long)fi->fi_pid,
	    (long long)fi->fi_start, svc, peer);
}

/*
 * Takes an instance's name apart into fi: the service is what lies between
 * START and the last '/' (a peer has none).  -1 when name is none that
 * fdname_instance() writes, or a part does not fit.
 */
int
fdname_instance_parse(const char *name, struct fdname_inst *fi)
{
	const char	*p, *last;
	long long	 start;
	long		 pid;
	int		 used = 0;
	size_t		 len;

	if (!fdname_is_instance(name))
		return -1;
	p = name + strlen(FDNAME_INSTANCE);
	if (sscanf(p, "%ld/%lld/%n", &pid, &start, &used) != 2 || used == 0 ||
	    pid <= 0 || (long)(pid_t)pid != pid)
		return -1;
	p += used;
	if ((last = strrchr(p, '/')) == NULL || last == p)
		return -1;
	len = (size_t)(last - p);
	if (len >= sizeof(fi->fi_service) ||
	    strlen(last + 1) >= sizeof(fi->fi_peer))
		return -1;
	memcpy(fi->fi_service, p, len);
	fi->fi_service[len] = '\0';
	strcpy(fi->fi_peer, last + 1);
	for (p = fi->fi_peer; *p != '\0'; p++)
		if (*p == '+')
			fi->fi_peer[p - fi->fi_peer] = ':';
	fi->fi_pid = (pid_t)pid;
	fi->fi_start = start;
	return 0;
}
