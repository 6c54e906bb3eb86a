"""Helpers of the fault tests (tests/FAULTS.md, test_faults_*.py).

superd started with a hook (resource limits, another user, a private mount
namespace), a strace attached to inject system call errors, CPU time, RSS
and descriptor figures from /proc, and the systemd side of NOTIFY_SOCKET.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

import harness
from harness import Fail, Skip, Superd, check, listeners_of, wait_for

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# /proc figures


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    st = harness.proc_stat(pid)
    check(st is not None, "process %d is gone" % pid)
    return (int(st[11]) + int(st[12])) / CLK_TCK


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Fail("no VmRSS for process %d" % pid)


def sanitized(pid):
    """Whether the process runs with AddressSanitizer, whose quarantine
    holds freed memory: its RSS says nothing about leaks (its leak check
    at exit does)."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def zombies(pid):
    return [p for p, state in harness.children_of(pid) if state == "Z"]


def idle_cpu(pid, seconds):
    """CPU seconds a process used over the next `seconds`."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def wait_no_children(sd, what, timeout=5.0):
    wait_for(lambda: not sd.children(), timeout,
             "%s: superd has no children left (has %s)"
             % (what, sd.children()[:5]))


def tcp_listeners(port):
    """[(accept queue length, inode)] of the TCP listeners on a local port.
    Asked of the kernel through ss (iproute2), which filters in the kernel:
    /proc/net/tcp is slow to read on a machine with many connections."""
    p = subprocess.run(["ss", "-H", "-ltne", "sport = :%d" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    check(p.returncode == 0, "ss failed: %r" % p.stderr[-200:])
    out = []
    for line in p.stdout.decode().splitlines():
        m = re.search(r"\bino:(\d+)", line)
        if m:
            out.append((int(line.split()[1]), int(m.group(1))))
    return out


def listener_inode(sd, port):
    """The inode of superd's one listening socket on port: the same inode
    after a reload proves the very socket was kept."""
    mine = harness.socket_inodes(sd.pid)
    inodes = [ino for _, ino in tcp_listeners(port) if ino in mine]
    check(len(inodes) == 1, "superd holds %d listening sockets on port %d"
          % (len(inodes), port))
    return inodes[0]


def accept_queue(port):
    """Connections waiting to be accepted on the listener on port."""
    ls = tcp_listeners(port)
    check(ls, "no listener on port %d" % port)
    return sum(q for q, _ in ls)


def udp_reply(c, timeout):
    """A datagram for the UDP socket c within timeout seconds, or None."""
    c.settimeout(timeout)
    try:
        return c.recv(70000)
    except socket.timeout:
        return None


def udp_rx_queue(port):
    """Bytes queued on the UDP socket bound to 127.0.0.1:port."""
    with open("/proc/net/udp") as f:
        for row in f.read().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].split(":")[1], 16) == port:
                return int(cols[4].split(":")[1], 16)
    return None


def wait_settled(sd, port, what, timeout=20.0):
    """Until the listener's backlog is empty and superd has no children:
    the end of a burst, not a lull in it."""
    wait_for(lambda: accept_queue(port) == 0 and not sd.children() and
             accept_queue(port) == 0, timeout,
             "%s: the backlog of port %d empty and no child of superd left"
             % (what, port))


def wait_fds(sd, want, what, timeout=3.0):
    """superd's descriptor count is back to want (a connection superd is
    taking at this very moment holds one more for a while, and a spare
    stderr pipe is kept for a second after the last reap)."""
    deadline = time.monotonic() + timeout
    while True:
        n = sd.fd_count()
        if n == want:
            return
        check(time.monotonic() < deadline, "%s: superd holds %d descriptors, "
              "%d before" % (what, n, want))
        time.sleep(0.05)


def first_free_fd(pid):
    """The lowest descriptor number a process does not use: with its
    RLIMIT_NOFILE there, it cannot get any new descriptor."""
    used = set(harness.fd_links(pid))
    n = 0
    while n in used:
        n += 1
    return n


# ---------------------------------------------------------------------------
# superd with a hook


class HookedSuperd(Superd):
    """superd started through a command prefix and/or with Popen options
    (preexec_fn, user, umask...).  The prefix must end by exec'ing superd,
    so that the pid stays superd's."""

    def __init__(self, t, conf, label="superd", prefix=(), popen=None,
                 env=None, ports=None):
        Superd.__init__(self, t, conf, ports or t.path(label + ".ports"), "",
                        None, env, label)
        self.prefix = list(prefix)
        self.popen = dict(popen or {})

    def launch(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.prefix + self.command(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=self.env, close_fds=True,
                **self.popen)
        self.pid = self.proc.pid
        self.t.daemons.append(self)


def rewrite_atomic(sd, services, superd=None):
    """Replace superd's configuration file in one step (write, rename): a
    reload running meanwhile reads the old file or the new, never half."""
    tmp = sd.conf + ".new"
    with open(tmp, "w") as f:
        f.write(harness.render(services, superd))
    os.chmod(tmp, 0o644)
    os.rename(tmp, sd.conf)


def start_hooked(t, services, label="superd", superd=None, wait=None,
                 ready=True, **kw):
    """Like T.start, through HookedSuperd; ready=False returns at once."""
    conf = t.conf(services, superd, label + ".conf")
    sd = HookedSuperd(t, conf, label, **kw)
    sd.launch()
    if ready:
        sd.wait_ready(listeners_of(services) if wait is None else wait)
    return sd


def nobody_ids():
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody on this machine")
    return pw.pw_uid, pw.pw_gid


def nobody_dir(t, name):
    """A directory of the test that nobody may write (ports file)."""
    uid, gid = nobody_ids()
    d = t.path(name)
    os.mkdir(d, 0o755)
    os.chown(d, uid, gid)
    return d


def unused_ids():
    """A uid and gid that no account names and no process runs as: a user
    whose process count (RLIMIT_NPROC) nothing else on the machine can
    change while a test counts on it, as other tests running as nobody
    would."""
    import grp
    for uid in range(59000, 60000):
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(uid)
            continue
        except KeyError:
            pass
        if processes_of(uid) == 0:
            return uid, uid
    raise Skip("no unused uid between 59000 and 59999")


def owned_dir(t, name, uid, gid):
    """A directory of the test that uid may write (ports file)."""
    d = t.path(name)
    os.mkdir(d, 0o755)
    os.chown(d, uid, gid)
    return d


def processes_of(uid):
    """Processes and threads a user has now: what RLIMIT_NPROC counts."""
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                text = f.read()
        except OSError:
            continue
        m = re.search(r"^Uid:\s+(\d+)", text, re.M)
        t = re.search(r"^Threads:\s+(\d+)", text, re.M)
        if m and int(m.group(1)) == uid:
            n += int(t.group(1)) if t else 1
    return n


# ---------------------------------------------------------------------------
# strace: inject a system call's failure into a running superd


class Strace:
    """strace attached to superd's main process (not its children, unless
    extra says -f)."""

    def __init__(self, t, pid, syscall, inject, extra=()):
        exe = shutil.which("strace")
        if exe is None:
            raise Skip("strace is not installed (Debian package strace): "
                       "needed to inject %s failures" % syscall)
        stamp = time.monotonic_ns()
        self.out = t.path("strace-%s.%d.out" % (syscall, stamp))
        self.log = t.path("strace-%s.%d.log" % (syscall, stamp))
        err = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                [exe, "-p", str(pid), "-o", self.out, "-e", "trace=" + syscall,
                 "-e", "inject=%s:%s" % (syscall, inject)] + list(extra),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        finally:
            err.close()
        self.syscall = syscall
        # strace says it has attached on stderr; only then does injection
        # hold.
        try:
            wait_for(lambda: self.proc.poll() is not None or
                     b"attached" in open(self.log, "rb").read(),
                     5, "strace attached to %d" % pid)
        except Fail:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise Skip("strace cannot attach here (ptrace not allowed?): %r"
                       % open(self.log, "rb").read()[-200:])

    def calls(self):
        """The traced calls so far: (result text) per call."""
        try:
            with open(self.out) as f:
                text = f.read()
        except OSError:
            return []
        return [ln for ln in text.splitlines()
                if ln.startswith(self.syscall + "(")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)     # detaches
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------
# systemd's side of NOTIFY_SOCKET


class Notify:
    def __init__(self, t, name="notify.sock"):
        self.path = t.path(name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        t.socks.append(self.sock)
        self.seen = []          # every message, in order

    def wait(self, pred, what, timeout=5.0):
        """Messages until one satisfies pred(fields); returns its fields."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "no notification %s within %.0f s (got %s)"
                  % (what, timeout, self.seen))
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                continue
            fields = [f for f in msg.split("\n") if f]
            self.seen.append(fields)
            if pred(fields):
                return fields

    def expect(self, state, timeout=5.0):
        return self.wait(lambda fs: state in fs, state, timeout)


# ---------------------------------------------------------------------------
# clients


def linger_reset(s):
    """close() of s then sends RST, not FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")


def recv_some(s, timeout):
    """What arrives within timeout: bytes, b"" on close, None on silence."""
    s.settimeout(timeout)
    try:
        return s.recv(65536)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""


def closed_within(s, timeout):
    """Whether the peer closes (EOF or reset) within timeout, ignoring any
    bytes before."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        got = recv_some(s, left)
        if got == b"":
            return True
        if got is None:
            return False
