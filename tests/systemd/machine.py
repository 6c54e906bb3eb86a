"""A throw-away machine booted by the host's own systemd, for testing the
superd package the way administrators run it.

Machine(dir).boot() starts systemd as PID 1 of private pid, mount,
network, uts, ipc and cgroup namespaces (boot.sh: an overlay of / on a
tmpfs, every unit of the host's targets masked), and waits until the
system is running.  sh() runs a command inside it (nsenter into every
namespace), connect() opens a TCP connection inside its network
namespace, stop() kills its PID 1, which ends every process of the
machine and its mounts with it.

Needs root, /lib/systemd/systemd, overlayfs, unshare and nsenter, and a
cgroup2 hierarchy (a pure one or the unified one of a hybrid layout): a
machine without them raises Skip, saying which.  bench/systemd.py boots
one too, for the systemd table of `make bench`.  Python 3 standard library
only."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from harness import Fail, Skip

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMD = "/lib/systemd/systemd"
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)


def cgroup2_root():
    """The mount point of a cgroup2 hierarchy whose root we may use."""
    for path in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            with open("/proc/self/mountinfo") as f:
                mounts = [line.split() for line in f]
        except OSError:
            return None
        for m in mounts:
            sep = m.index("-")
            if m[4] == path and m[sep + 1] == "cgroup2":
                return path
    return None


def requirements():
    """Why this host cannot boot a machine, or None."""
    if os.geteuid() != 0:
        return "needs root (namespaces, mounts)"
    if not os.access(SYSTEMD, os.X_OK):
        return "no %s (Debian's systemd package)" % SYSTEMD
    with open("/proc/filesystems") as f:
        if "overlay" not in f.read().split():
            return "the kernel has no overlayfs"
    for tool in ("unshare", "nsenter", "ip"):
        if not shutil.which(tool):
            return "no %s" % tool
    if cgroup2_root() is None:
        return "no cgroup2 hierarchy mounted"
    return None


class Machine:
    def __init__(self, workdir, name="superd-test"):
        self.workdir = workdir
        self.name = name
        self.proc = None
        self.pid1 = None
        self.cgroup = None
        self.console = os.path.join(workdir, "console.log")

    # -- life ---------------------------------------------------------------

    def boot(self, timeout=30.0):
        why = requirements()
        if why:
            raise Skip(why)
        self.cgroup = os.path.join(cgroup2_root(), "%s-%d-%s" % (
            self.name, os.getpid(), os.path.basename(self.workdir)))
        os.mkdir(self.cgroup)
        mnt = os.path.join(self.workdir, "mnt")
        os.mkdir(mnt)
        procs = os.path.join(self.cgroup, "cgroup.procs")

        def child_setup():
            # The machine's cgroup namespace is rooted at a cgroup of its
            # own, and it dies with the test run however that ends.
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
            os.setsid()
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

        with open(self.console, "wb") as out:
            self.proc = subprocess.Popen(
                ["unshare", "--pid", "--mount", "--net", "--uts", "--ipc",
                 "--cgroup", "--fork", "--kill-child",
                 os.path.join(HERE, "boot.sh"), mnt],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, preexec_fn=child_setup)
        self.pid1 = self._wait(self._child_of_unshare, timeout, "PID 1")
        self._wait(self._running, timeout, "the boot")

    def stop(self):
        """Kill the machine: its PID 1 first, so that all of it goes."""
        if self.pid1:
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.cgroup:
            self._remove_cgroup()
        self.pid1 = self.proc = self.cgroup = None

    def _remove_cgroup(self):
        """Remove the machine's cgroup and those its systemd made, deepest
        first, once the kernel has let go of the dead processes."""
        deadline = time.monotonic() + 10
        while True:
            try:
                for top, dirs, _ in os.walk(self.cgroup, topdown=False):
                    for d in dirs:
                        os.rmdir(os.path.join(top, d))
                os.rmdir(self.cgroup)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Fail("the machine ended during %s (status %s): %s" %
                           (what, self.proc.returncode, self.console_tail()))
            v = cond()
            if v:
                return v
            if time.monotonic() > deadline:
                raise Fail("%s: not within %.0f s: %s" %
                           (what, timeout, self.console_tail()))
            time.sleep(0.05)

    def _child_of_unshare(self):
        try:
            with open("/proc/%d/task/%d/children" %
                      (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        if not kids:
            return None
        pid = int(kids[0])
        try:
            with open("/proc/%d/comm" % pid) as f:
                return pid if f.read().strip() == "systemd" else None
        except OSError:
            return None

    def _running(self):
        r = self.sh("systemctl is-system-running", check=False)
        return r.stdout.strip() in ("running", "degraded")

    def console_tail(self, n=20):
        try:
            with open(self.console, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- inside -------------------------------------------------------------

    def sh(self, command, check=True, timeout=60):
        """Run a shell command inside the machine; CompletedProcess."""
        r = subprocess.run(["nsenter", "-t", str(self.pid1), "-a",
                            "sh", "-c", command],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise Fail("in the machine, `%s` exited %d: %s%s" %
                       (command, r.returncode, r.stdout, r.stderr))
        return r

    def path(self, inside):
        """The host's path of a file inside the machine."""
        return "/proc/%d/root%s" % (self.pid1, inside)

    def write(self, inside, text, mode=0o644):
        with open(self.path(inside), "w") as f:
            f.write(text)
        os.chmod(self.path(inside), mode)

    def copy_in(self, host_path, inside):
        shutil.copyfile(host_path, self.path(inside))

    def socket(self, family=socket.AF_INET, kind=socket.SOCK_STREAM):
        """A socket of the machine's network namespace (setns is per
        thread: a short-lived thread makes it, the socket keeps the
        namespace it was made in)."""
        made = {}

        def make():
            fd = os.open("/proc/%d/ns/net" % self.pid1, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    made["err"] = ctypes.get_errno()
                    return
            finally:
                os.close(fd)
            made["sock"] = socket.socket(family, kind)

        t = threading.Thread(target=make)
        t.start()
        t.join()
        if "err" in made:
            raise OSError(made["err"], os.strerror(made["err"]))
        return made["sock"]

    def connect(self, port, host="127.0.0.1", timeout=5.0):
        s = self.socket()
        s.settimeout(timeout)
        try:
            s.connect((host, port))
        except BaseException:
            s.close()
            raise
        return s

    # -- the package under test ------------------------------------------------

    def install(self, deb):
        """dpkg -i the package as an administrator would."""
        self.copy_in(deb, "/root/" + os.path.basename(deb))
        return self.sh("dpkg -i /root/%s" % os.path.basename(deb),
                       timeout=120)

    def unit(self, unit, *props):
        """The values of a unit's properties, as a dict."""
        r = self.sh("systemctl show -p %s %s" % (",".join(props), unit))
        return dict(line.split("=", 1) for line in r.stdout.splitlines()
                    if "=" in line)

    def journal(self, unit):
        return self.sh("journalctl -q -o cat -u %s" % unit,
                       check=False).stdout
