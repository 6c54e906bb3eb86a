"""Harness for superd's integration tests.

Each test gets a T: a private temporary directory, a way to write a
libconfig superd.conf and start `superd -d -f CONF -p '' -P DIR/NAME.ports`
with its stderr in a log file, and clean-up that kills every superd and every
process that outlived it.  Services listen on 127.0.0.1 with port = 0 and the
ports file tells the test which port the kernel chose.

Python 3 standard library only.  Every socket operation has a timeout and
every wait is bounded, so a hanging superd fails a test instead of hanging
the run.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Set by ./run.
SUPERD = None
KEEP = False

# The PATH every service must get (SPEC section 4).
SERVICE_PATH = "/usr/local/bin:/usr/bin:/bin"
# superd keeps an emptied stderr pipe this long for the next instance.
SPARE_IDLE_S = 1.0

# superd's own environment carries these so that tests can prove none of it
# reaches a service.
CANARY_NAME = "SUPERD_IT_CANARY"
CANARY_VALUE = "must-not-reach-services"
SUPERD_PATH_ENV = "/usr/sbin:/usr/bin:/sbin:/bin:/superd-it-canary/bin"

# Sanitizer settings of `make check-asan` must reach the daemon under test.
PASS_THROUGH = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")

SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: (Address|Undefined|Leak)Sanitizer")


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def is_root():
    return os.geteuid() == 0


def need_root(why):
    if not is_root():
        raise Skip("needs root (euid 0) to " + why)


def limit(seconds):
    """Decorator: this test's time limit (the default is 20 s)."""
    def mark(func):
        func.time_limit = seconds
        return func
    return mark


def python3():
    """An interpreter for helper services; as root they run as nobody, who
    may not reach a private virtualenv, so prefer the system one."""
    for p in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(p, os.X_OK):
            return p
    return os.path.realpath(shutil.which("python3") or "/usr/bin/python3")


# ---------------------------------------------------------------------------
# configuration files


def lc_value(v):
    """A Python value as libconfig text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(lc_value(x) for x in v) + " ]"
    if isinstance(v, dict):
        return "{ " + " ".join("%s = %s;" % (k, lc_value(x))
                               for k, x in v.items()) + " }"
    raise TypeError("no libconfig form for %r" % (v,))


def service(name, **settings):
    """A service entry; TCP and UDP ones default to 127.0.0.1 and a port
    chosen by the kernel."""
    svc = {"name": name}
    if settings.get("protocol", "tcp") != "unix":
        svc["address"] = "127.0.0.1"
        svc["port"] = 0
    svc.update(settings)
    return svc


def render(services, superd=None):
    """superd.conf text.  The superd block (if any) is line 1, then
    `services : (` and one service per line, so a test knows the line of
    every service: service_line(i, superd)."""
    lines = []
    if superd:
        lines.append("superd : %s;" % lc_value(superd))
    lines.append("services : (")
    for i, svc in enumerate(services):
        sep = "," if i + 1 < len(services) else ""
        lines.append("  %s%s" % (lc_value(svc), sep))
    lines.append(");")
    return "\n".join(lines) + "\n"


def service_line(index, superd=None):
    return index + (3 if superd else 2)


def listeners_of(services):
    """(name, proto) pairs a configuration must show in its ports file."""
    out = []
    for svc in services:
        if svc.get("disabled"):
            continue
        proto = svc.get("protocol", "tcp")
        if proto != "unix" and "port" not in svc:
            continue
        out.append((svc["name"], proto))
    return out


# ---------------------------------------------------------------------------
# ports file


class PortEntry:
    def __init__(self, fields):
        self.name = fields[0]
        self.proto = fields[1]
        self.addr = self.port = self.path = None
        if self.proto == "unix":
            self.path = fields[2] if len(fields) > 2 else None
        elif len(fields) >= 4:
            self.addr = fields[2]
            try:
                self.port = int(fields[3])
            except ValueError:
                self.port = None

    def __repr__(self):
        if self.proto == "unix":
            return "%s unix %s" % (self.name, self.path)
        return "%s %s %s %s" % (self.name, self.proto, self.addr, self.port)


def parse_ports(text):
    return [PortEntry(line.split()) for line in text.splitlines()
            if len(line.split()) >= 2]


# ---------------------------------------------------------------------------
# /proc


def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name: [0] state,
    [1] ppid, [3] session, [16] nice.  None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data.rsplit(")", 1)[1].split()


def pid_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def children_of(pid):
    """[(child pid, state letter)] of a process."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = proc_stat(int(d))
        if st is not None and st[1] == str(pid):
            out.append((int(d), st[0]))
    return out


def fd_links(pid):
    """{fd: link target} of a process."""
    base = "/proc/%d/fd" % pid
    out = {}
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(os.path.join(base, name))
        except OSError:
            pass
    return out


def listening_inodes(port, proto="tcp"):
    """Socket inodes listening (TCP) or bound (UDP) on a local port."""
    inodes = set()
    for table in (proto, proto + "6"):
        try:
            with open("/proc/net/" + table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if int(cols[1].split(":")[1], 16) != port:
                continue
            if proto == "tcp" and cols[3] != "0A":    # LISTEN
                continue
            inodes.add(int(cols[9]))
    return inodes


def socket_inodes(pid):
    out = set()
    for target in fd_links(pid).values():
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            out.add(int(m.group(1)))
    return out


def become_subreaper():
    """Instances that outlive superd are re-parented to this process (not
    init), so that clean-up can find, kill and reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def sweep_children():
    """Kill and reap every child of this process: superds and whatever was
    re-parented here.  Bounded: processes may still be forking."""
    me = os.getpid()
    for _ in range(100):
        kids = children_of(me)
        for pid, _state in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not kids:
            return
        time.sleep(0.01)


def remove_instance_cgroups(pids):
    """The empty instance cgroups the superds of pids left beside the
    runner (those of instances still running when superd stopped; the
    next superd would sweep them): removed, so that a run leaves none in
    the host's cgroup.  A test that runs superd elsewhere cleans up its
    own."""
    try:
        with open("/proc/self/cgroup") as f:
            own = [ln[3:].strip() for ln in f if ln.startswith("0::")]
        with open("/proc/self/mountinfo") as f:
            mnts = [ln.split() for ln in f if " - cgroup2 " in ln]
    except OSError:
        return
    for m in mnts:
        if not own or m[3] != "/":
            continue
        d = m[4] + own[0].rstrip("/")
        for pid in pids:
            prefix = "superd-instance-%d-" % pid
            try:
                names = [n for n in os.listdir(d) if n.startswith(prefix)]
            except OSError:
                names = []
            for n in names:
                try:
                    os.rmdir(os.path.join(d, n))
                except OSError:
                    pass


# ---------------------------------------------------------------------------
# sockets


def connect(port, host="127.0.0.1", timeout=5.0, source=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def connect_unix(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except BaseException:
        s.close()
        raise
    return s


def read_until_eof(s, timeout=5.0, limit_bytes=1 << 20):
    """Everything the peer sends until it closes; a reset counts as the
    close.  Fails when the peer neither closes nor finishes in time."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < limit_bytes:
        left = deadline - time.monotonic()
        check(left > 0, "connection not closed within %.0f s (got %r)"
              % (timeout, data[-200:]))
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_line(s, timeout=5.0):
    """One line (up to and without the newline)."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        check(left > 0, "no complete line within %.0f s (got %r)"
              % (timeout, data))
        s.settimeout(left)
        try:
            chunk = s.recv(1)
        except socket.timeout:
            continue
        check(chunk, "connection closed before a complete line (got %r)"
              % data)
        data += chunk
    return data[:-1]


def talk(port, data=b"", host="127.0.0.1", timeout=5.0):
    """Connect, send data, return what the service sends until it closes."""
    s = connect(port, host, timeout)
    try:
        if data:
            s.sendall(data)
        return read_until_eof(s, timeout)
    finally:
        s.close()


def wait_for(cond, timeout, what, interval=0.02):
    """Poll cond() until it returns a true value; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Fail("%s: not within %.1f s" % (what, timeout))
        time.sleep(interval)


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# the reporting service


class Report:
    """What tests/it/report.sh told its client."""

    def __init__(self, text, script):
        self.text = text
        self.stdin = None
        self.fds = {}
        self.env_list = []
        self.args = []
        self.status = {}
        self.ended = False
        for line in text.splitlines():
            m = re.search(r" (\d+) -> (.*)$", line)
            if m and not line.startswith(("env:", "arg:", "stat:")):
                if m.group(2) != script:   # the shell's own script fd
                    self.fds[int(m.group(1))] = m.group(2)
                continue
            key, sep, value = line.partition(": ")
            if line == "end":
                self.ended = True
            elif not sep:
                continue
            elif key == "stdin":
                self.stdin = value
            elif key == "env":
                self.env_list.append(value)
            elif key == "arg":
                self.args.append(value)
            elif key == "status":
                k, _, v = value.partition(":")
                self.status[k] = v.split()
            elif key in ("pid", "nofile", "cwd"):
                setattr(self, key, value)
            elif key == "stat":
                self.stat = value.rsplit(")", 1)[1].split()
        check(self.ended, "the report did not finish: %r" % text[-300:])
        self.env = dict(e.partition("=")[::2] for e in self.env_list)
        self.pid = int(self.pid)
        self.session = int(self.stat[3])
        self.nice = int(self.stat[16])


# ---------------------------------------------------------------------------
# a running superd


class Superd:
    def __init__(self, t, conf, ports, pidfile, args, env, label,
                 mode="-d", closed_std=False, ignored=(), blocked=(),
                 wrapper=(), pass_fds=()):
        self.t = t
        self.wrapper = list(wrapper)    # command superd runs under
        self.pass_fds = tuple(pass_fds)
        self.mode = mode
        self.closed_std = closed_std
        self.ignored = ignored      # signal names superd starts with ignored
        self.blocked = blocked      # signals superd starts with blocked
        self.conf = conf
        self.ports_path = ports
        self.pidfile = pidfile
        self.args = list(args or [])
        self.label = label
        self.log_path = t.path(label + ".log")
        self.env = superd_env(env)
        self.proc = None

    def command(self):
        cmd = [SUPERD, self.mode, "-f", self.conf, "-p", self.pidfile]
        if self.ports_path is not None:
            cmd += ["-P", self.ports_path]
        return self.wrapper + cmd + self.args

    def launch(self):
        cmd = self.command()
        if self.closed_std:
            # The shell closes 0, 1 and 2 and becomes superd (same pid).
            cmd = ["/bin/sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh"] + cmd
        if self.ignored:
            # Ignored dispositions survive exec: superd inherits them.
            cmd = ["/bin/sh", "-c", "trap '' %s; exec \"$@\""
                   % " ".join(self.ignored), "sh"] + cmd
        # So does the signal mask, taken from this process at fork.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, self.blocked)
        try:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=log, env=self.env, close_fds=True,
                    pass_fds=self.pass_fds)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        self.pid = self.proc.pid
        self.t.daemons.append(self)

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self, when=""):
        if self.alive():
            return
        lines = [ln for ln in self.log().splitlines() if ln.strip()]
        san = [ln for ln in lines if SANITIZER_REPORT.search(ln)]
        raise Fail("superd exited with status %s%s; log: %r"
                   % (self.proc.returncode, " " + when if when else "",
                      (san or lines or ["(empty)"])[-1][:300]))

    def wait_exit(self, timeout=5.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail("superd did not exit within %.0f s" % timeout)

    def signal(self, sig):
        self.check_alive("before signal %d" % sig)
        os.kill(self.pid, sig)

    # -- ports file ---------------------------------------------------------
    def ports_text(self):
        try:
            with open(self.ports_path) as f:
                return f.read()
        except OSError:
            return ""

    def ports(self):
        return parse_ports(self.ports_text())

    def entries(self, name, proto="tcp"):
        return [e for e in self.ports() if e.name == name and e.proto == proto]

    def port(self, name, proto="tcp"):
        es = self.entries(name, proto)
        check(es and es[0].port, "ports file has no %s/%s line (it has %s)"
              % (name, proto, self.ports()))
        return es[0].port

    def unix_path(self, name):
        es = self.entries(name, "unix")
        check(es and es[0].path, "ports file has no %s/unix line" % name)
        return es[0].path

    def wait_ports(self, pred, what, timeout=8.0):
        def ok():
            self.check_alive("while waiting for the ports file to show "
                             + what)
            if not os.path.exists(self.ports_path):
                return None
            entries = self.ports()
            return [entries] if pred(entries) else None
        return wait_for(ok, timeout, "ports file showing " + what)[0]

    def wait_ready(self, pairs, timeout=8.0):
        want = set(pairs)
        self.wait_ports(lambda es: want <= {(e.name, e.proto) for e in es},
                        ", ".join("%s/%s" % p for p in sorted(want))
                        or "(an empty list)", timeout)

    def rewrite(self, services, superd=None):
        """Replace this superd's configuration file (for a reload)."""
        self.rewrite_text(render(services, superd))

    def rewrite_text(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def ports_inode(self):
        try:
            return os.stat(self.ports_path).st_ino
        except OSError:
            return None

    def reload(self, timeout=8.0):
        """SIGHUP, then wait until the reload is done: the ports file is
        replaced (a new inode) after every successful reload."""
        before = self.ports_inode()
        self.signal(signal.SIGHUP)
        wait_for(lambda: self.check_alive("during a reload") or
                 self.ports_inode() not in (None, before),
                 timeout, "ports file replaced after SIGHUP")

    # -- log ------------------------------------------------------------
    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def mark(self):
        return len(self.log())

    def log_lines(self, since=0):
        return self.log()[since:].splitlines()

    def find_log(self, pattern, since=0):
        return re.search(pattern, self.log()[since:], re.M)

    def wait_log(self, pattern, since=0, timeout=5.0, what=None):
        return wait_for(lambda: self.find_log(pattern, since), timeout,
                        "log line " + (what or "/%s/" % pattern), 0.03)

    # -- /proc ----------------------------------------------------------
    def children(self):
        return children_of(self.pid)

    def fd_count(self):
        return len(fd_links(self.pid))

    def idle_fd_count(self, timeout=5.0):
        """superd's descriptor count once it is idle: no instance left, and
        the spare stderr pipes it keeps for a second after a reap
        (errlog.c) closed."""
        wait_for(lambda: not self.children(), timeout,
                 "superd with no children left")
        time.sleep(SPARE_IDLE_S + 0.3)
        return self.fd_count()

    def stop(self, timeout=3.0):
        """End this superd: SIGTERM (so a sanitizer build can report at
        exit), SIGKILL if it does not go."""
        if self.proc is None or not self.alive():
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def tag(name):
    """Regex: NAME as a log line's tag ("NAME:", "NAME " or "NAME[")."""
    return r"(?<![A-Za-z0-9._-])" + re.escape(name) + r"(?=[:\[\s])"


def superd_env(extra=None):
    env = {"PATH": SUPERD_PATH_ENV, CANARY_NAME: CANARY_VALUE}
    for k in PASS_THROUGH:
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------
# per-test context


class T:
    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="superd-it-")
        # As root, services run as nobody: they must reach scripts in here.
        os.chmod(self.dir, 0o755)
        self.daemons = []
        self.socks = []
        self.notes = []         # (label, text) shown with -v on failure

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def script(self, name, body):
        return self.write(name, "#!/bin/sh\n" + body, 0o755)

    def copy_helper(self, name):
        """A helper service from tests/it, copied here so that the user
        the service runs as can read it wherever the tree lives."""
        dst = self.path(name)
        shutil.copyfile(os.path.join(HERE, name), dst)
        os.chmod(dst, 0o755)
        return dst

    def conf(self, services, superd=None, name="superd.conf"):
        return self.write(name, render(services, superd))

    def start(self, services=None, superd=None, conf=None, wait=None,
              pidfile="", args=None, env=None, label="superd", ready=True,
              mode="-d", closed_std=False, ignored=(), blocked=(),
              wrapper=(), pass_fds=()):
        """Write the configuration (unless conf names one), start superd
        and wait until its ports file lists every listener of the
        configuration (or the (name, proto) pairs in wait)."""
        if conf is None:
            conf = self.conf(services or [], superd, label + ".conf")
        sd = Superd(self, conf, self.path(label + ".ports"), pidfile, args,
                    env, label, mode, closed_std, ignored, blocked,
                    wrapper, pass_fds)
        sd.launch()
        if ready:
            sd.wait_ready(listeners_of(services or []) if wait is None
                          else wait)
        return sd

    def run_superd(self, args, timeout=8.0, env=None):
        """Run superd to completion: (exit status, stdout, stderr)."""
        cmd = [SUPERD] + list(args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, env=superd_env(env))
        except subprocess.TimeoutExpired:
            raise Fail("`%s` did not exit within %.0f s"
                       % (" ".join(cmd), timeout))
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.notes.append((" ".join(cmd), "exit %d\nstdout:\n%sstderr:\n%s"
                           % (p.returncode, out, err)))
        san = [ln for ln in err.splitlines() if SANITIZER_REPORT.search(ln)]
        check(not san, "`superd %s` exited %d with a sanitizer report: %s"
              % (" ".join(args), p.returncode, san[-1] if san else ""))
        return p.returncode, out, err

    def report(self, port, host="127.0.0.1", script=None, timeout=5.0):
        """Talk to a report.sh service over TCP."""
        s = connect(port, host, timeout)
        self.socks.append(s)
        s.sendall(b"ping\n")
        return Report(read_until_eof(s, timeout).decode("utf-8", "replace"),
                      script or self.path("report.sh"))

    def cleanup(self):
        """Stop every superd, kill whatever is left, and return the
        sanitizer reports found in the logs (an empty list when none)."""
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        for sd in reversed(self.daemons):
            sd.stop()
        sweep_children()
        remove_instance_cgroups([sd.pid for sd in self.daemons
                                 if sd.proc is not None])
        found = []
        for sd in self.daemons:
            m = SANITIZER_REPORT.search(sd.log())
            if m:
                found.append("%s log: %s" % (sd.label, m.group(0)))
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)
        return found

    def tails(self, lines=25):
        out = []
        for label, text in self.notes:
            out.append("--- " + label)
            out.extend(text.splitlines()[-lines:])
        for sd in self.daemons:
            out.append("--- %s (%s), log tail:" % (sd.label,
                                                   " ".join(sd.command())))
            out.extend(sd.log().splitlines()[-lines:] or ["(empty)"])
        return out
