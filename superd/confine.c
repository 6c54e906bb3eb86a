/*
 * confine.c - the names of Linux capabilities, those superd holds, and
 * the plan of what a child does to confine itself.
 *
 * The plan is a pure function of the service and the user its program
 * runs as, made by superd before the start (spawn.c), so that the child
 * (exec.c) only follows it with system calls: which namespaces it enters,
 * what it mounts, where its root is, which capabilities it keeps and
 * whether it may gain privileges at exec.
 */
#include <sys/syscall.h>

#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "superd.h"

/* By number, as <linux/capability.h> has them, without "CAP_". */
static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};
#define NCAPS	((int)(sizeof(cap_names) / sizeof(cap_names[0])))
_Static_assert(NCAPS <= CONFINE_CAPS, "CONFINE_CAPS too small");

/*
 * A capability's number from its name, in any case, with or without the
 * "cap_" prefix: "net_bind_service", "CAP_NET_BIND_SERVICE".  -1 when
 * there is no such capability.
 */
int
confine_cap_named(const char *name)
{
	int	 i;

	if (strncasecmp(name, "cap_", 4) == 0)
		name += 4;
	for (i = 0; i < NCAPS; i++)
		if (strcasecmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

/* The name of capability n, NULL when superd knows none. */
const char *
confine_cap_name(int n)
{
	return n >= 0 && n < NCAPS ? cap_names[n] : NULL;
}

/*
 * Whether superd's effective set holds capability cap: a child of its
 * can set up no confinement that needs one it lacks.  When the kernel
 * will not say, it is taken as held (a start then says what failed).
 */
int
confine_cap_held(int cap)
{
	struct {
		uint32_t	 version;
		int		 pid;
	} hdr = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct {
		uint32_t	 effective, permitted, inheritable;
	} data[2];

	if (cap < 0 || cap >= CONFINE_CAPS ||
	    syscall(SYS_capget, &hdr, data) == -1)
		return 1;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/*
 * What the child of sc does to confine itself when its program runs as
 * uid.  A read-only system has its own /tmp (the one place left to
 * write), and both need a mount namespace whose mounts do not travel
 * back to the host's.  A user other than root keeps its capabilities
 * through setuid and exec only as ambient ones; root's are what is left
 * of its bounding set.
 */
void
confine_plan(const struct svc_conf *sc, uid_t uid, struct confine_plan *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->cp_read_only = sc->sc_read_only;
	cp->cp_private_tmp = sc->sc_private_tmp || sc->sc_read_only;
	cp->cp_private_mounts = cp->cp_private_tmp;
	if (cp->cp_private_mounts)
		cp->cp_unshare |= CLONE_NEWNS;
	if (sc->sc_private_network) {
		cp->cp_unshare |= CLONE_NEWNET;
		cp->cp_loopback = 1;
	}
	if (sc->sc_read_only)
		cp->cp_writable = sc->sc_writable;
	cp->cp_chroot = sc->sc_chroot;
	cp->cp_caps = sc->sc_caps_set;
	cp->cp_keep = sc->sc_caps_set ? sc->sc_caps : 0;
	cp->cp_ambient = cp->cp_caps && cp->cp_keep != 0 && uid != 0;
	cp->cp_no_new_privs = sc->sc_no_new_privs;
}
