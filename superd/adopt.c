/*
 * adopt.c - running instances handed from one superd to the next through
 * systemd's file descriptor store.
 *
 * At a stop with the store in use (handover.c), every running nowait
 * instance goes to the store as a pidfd named
 * "@instance/PID/START/SERVICE/PEER" (FDNAME_INSTANCE: no listener's name
 * starts with an @, since no service name has one): its pid, its start
 * (mono_ms(): the clock runs on across superd's restarts), its service (as
 * the listener names have it) and its client as per_source counts it, ':'
 * written '+' since systemd takes no ':' in a name.  The next superd gets
 * them with the listeners (LISTEN_FDS, kept aside by handover.c) and adopts
 * each into the child table of the service of that name: it counts for
 * `instances` and `per_source`, and child.c sees its end when its pidfd
 * turns readable (it is no child of the new superd: there is no status to
 * wait for), logs it and takes it out of the store.  An instance whose
 * service is gone, or that ended meanwhile, is logged, closed and taken out
 * of the store.  An instance of a service with `timeout` that runs in an
 * instance cgroup of superd's (cgroup.c) gets it back (child_adopt): its
 * timeout reaches all it started, as the previous superd's did.
 *
 * A wait instance holds its listener, which the next superd serves at
 * once: it is not handed over.
 */
#include <sys/syscall.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "superd.h"

static int
pidfd_signal(int pidfd, int signo)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

/* The pid a pidfd stands for, from /proc; -1 when it has none. */
static pid_t
pidfd_pid(int fd)
{
	char	 path[64], line[128];
	FILE	*fp;
	long	 pid = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Pid: %ld", &pid) == 1)
			break;
	fclose(fp);
	return pid > 0 ? (pid_t)pid : -1;
}

/* The running nowait service whose stored names carry svc. */
static struct service *
service_named(const char *svc)
{
	struct service	**svs;
	char		  name[FDNAME_MAX];
	size_t		  n, i;

	svs = servtab_services(&n);
	for (i = 0; i < n; i++) {
		if (svs[i]->sv_conf->sc_wait)
			continue;
		fdname_clean(name, sizeof(name), svs[i]->sv_conf->sc_name);
		if (strcmp(name, svc) == 0)
			return svs[i];
	}
	return NULL;
}

static void
adopt_one(int fd, const char *fdname)
{
	struct fdname_inst	 fi;
	struct service		*sv = NULL;
	pid_t			 pid = pidfd_pid(fd);
	const char		*why = NULL;

	if (fdname_instance_parse(fdname, &fi) == -1)
		why = "a name superd does not write";
	else if (pid == -1 || pidfd_signal(fd, 0) == -1)
		why = errno == ESRCH || pid == -1 ? "ended meanwhile" :
		    "no process descriptor";
	else if ((sv = service_named(fi.fi_service)) == NULL)
		why = "its service is gone";
	if (why == NULL &&
	    child_adopt(sv, pid, fd, fi.fi_peer, fi.fi_start, fdname) == 0) {
		log_info("%s: pid=%ld from %s started by the previous superd, "
		    "counted", sv->sv_conf->sc_name, (long)pid, fi.fi_peer);
		return;
	}
	log_warnx("instance %s handed over: %s, not counted", fdname,
	    why != NULL ? why : "out of memory");
	close(fd);
	handover_unstore_name(fdname);
}

/*
 * Once the first configuration runs: each instance handed over to its
 * service, before handover_close_rest() would close it.
 */
void
adopt_all(void)
{
	char	 name[FDNAME_MAX];
	int	 fd;

	while ((fd = handover_take_instance(name, sizeof(name))) != -1)
		adopt_one(fd, name);
}

static void
hand_over(const struct child *ch)
{
	struct fdname_inst	 fi;
	char			 name[FDNAME_MAX];
	int			 fd;

	if ((fd = (int)syscall(SYS_pidfd_open, ch->ch_pid, 0)) == -1) {
		if (errno != ESRCH)
			log_warn("%s: pidfd of pid %ld",
			    ch->ch_svc->sv_conf->sc_name, (long)ch->ch_pid);
		return;
	}
	fi.fi_pid = ch->ch_pid;
	fi.fi_start = ch->ch_start;
	snprintf(fi.fi_service, sizeof(fi.fi_service), "%s",
	    ch->ch_svc->sv_conf->sc_name);
	snprintf(fi.fi_peer, sizeof(fi.fi_peer), "%s", ch->ch_peer);
	fdname_instance(name, sizeof(name), &fi);
	handover_store_fd(name, fd);
	close(fd);
}

/*
 * At a stop: hands each nowait instance superd started to the store.  One
 * adopted from the previous superd is there already, under its name.
 */
void
adopt_hand_over(void)
{
	const struct child	*ch;
	size_t			 i;

	if (!handover_storing())
		return;
	for (i = 0; (ch = child_at(i)) != NULL; i++)
		if (ch->ch_wait == NULL && ch->ch_pidfd == -1 &&
		    !ch->ch_svc->sv_conf->sc_wait)
			hand_over(ch);
}
