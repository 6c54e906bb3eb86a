#!/usr/bin/env python3
"""superd under mixed load for a bounded time, then a check that nothing
was left behind.

    tests/soak/run.py SUPERD [SECONDS]        (make soak)

SECONDS defaults to $SOAK_SECONDS, else 120.  superd runs with -d on
loopback only, with TCP, UDP and UNIX services under limits (instances,
per_source, rate, timeout) and the greeting with a state file.  Meanwhile:
clients that complete, reset (SO_LINGER 0), stall, flood; SIGHUPs at random
moments with changing configurations (a service added and removed, settings
changed, now and then a broken file); SIGUSR1 dumps.  Then the load stops
and the run checks that superd's descriptors, RSS (within 1 MiB) and
children are back to where they were after the warm-up, that no zombie is
left, that the greeting's counter equals the greetings served, and that the
log holds no line outside the expected kinds.  It prints the figures and
exits 0 only when every check holds.

Python 3 standard library only; run as root, services run as nobody.
"""

import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# One rendering of libconfig text for every test: the integration harness.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "it"))
from harness import lc_value as lc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
IT = os.path.join(TOP, "tests", "it")

RSS_SLACK_KIB = 1024
CLIENT_TIMEOUT = 20.0       # no client waits longer for its answer
SOURCES = ["127.0.0.%d" % i for i in range(1, 21)]


# ---------------------------------------------------------------------------
# configuration


class Config:
    """The services of one configuration; `variant` picks the settings
    that change between reloads."""

    def __init__(self, d, greeting, udp_reply, python):
        self.d = d
        self.greeting = greeting
        self.udp_reply = udp_reply
        self.python = python

    def services(self, variant):
        v = variant
        svcs = [
            # Echoes what it gets until the client closes its side.
            {"name": "cat", "server": "/bin/cat",
             "instances": v.get("cat_instances", 24), "per_source": 8,
             "rate": v.get("cat_rate", 400), "timeout": v.get("timeout", 5)},
            {"name": "greeting", "server": self.greeting,
             "args": ["-s", os.path.join(self.d, "greeting.count"), "-t",
                      "3"],
             "instances": 16, "timeout": 10},
            {"name": "day", "builtin": "daytime"},
            {"name": "echob", "builtin": "echo", "instances": 16,
             "timeout": 5},
            {"name": "uecho", "protocol": "udp", "builtin": "echo"},
            {"name": "uwait", "protocol": "udp", "wait": True,
             "server": self.python, "args": [self.udp_reply]},
            {"name": "ucat", "protocol": "unix",
             "path": os.path.join(self.d, "ucat.sock"), "server": "/bin/cat",
             "instances": v.get("unix_instances", 12), "timeout": 5},
        ]
        if v.get("extra"):
            svcs.append({"name": "extra", "builtin": "time",
                         "allow": ["127.0.0.0/8"]})
        for s in svcs:
            if s.get("protocol") != "unix":
                s["address"] = "127.0.0.1"
                s["port"] = 0
        return svcs

    def text(self, variant):
        lines = ["services : ("]
        svcs = self.services(variant)
        for i, s in enumerate(svcs):
            lines.append("  %s%s" % (lc(s), "," if i + 1 < len(svcs) else ""))
        lines.append(");")
        return "\n".join(lines) + "\n"


BASE = {}
VARIANTS = [
    {},
    {"extra": True},
    {"cat_instances": 12, "cat_rate": 150},
    {"extra": True, "timeout": 4, "unix_instances": 6},
    {"cat_rate": 100},
]
BROKEN = 'services : (\n  { name = "cat"; port = = 0; }\n);\n'


def write_atomic(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


# ---------------------------------------------------------------------------
# /proc


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """AddressSanitizer keeps freed memory in quarantine: under it RSS
    says nothing about leaks (its own leak check at exit does)."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if st[1] == str(pid):
            out.append((int(d), st[0]))
    return out


# ---------------------------------------------------------------------------
# the run


class Soak:
    def __init__(self, superd, seconds):
        self.superd = os.path.abspath(superd)
        self.seconds = seconds
        self.d = tempfile.mkdtemp(prefix="superd-soak-")
        os.chmod(self.d, 0o755)
        self.conf = os.path.join(self.d, "superd.conf")
        self.ports_path = os.path.join(self.d, "superd.ports")
        self.log_path = os.path.join(self.d, "superd.log")
        self.lock = threading.Lock()
        self.stats = {}
        self.errors = []
        self.greeted = 0
        self.ports = {}
        self.stop = threading.Event()
        self.reloads = self.rejected = self.dumps = 0
        self.proc = None

    # -- bookkeeping ------------------------------------------------------
    def count(self, kind, n=1):
        with self.lock:
            self.stats[kind] = self.stats.get(kind, 0) + n

    def error(self, what):
        with self.lock:
            self.errors.append(what)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def read_ports(self):
        ports = {}
        try:
            with open(self.ports_path) as f:
                for line in f:
                    fs = line.split()
                    if len(fs) >= 4:
                        ports[(fs[0], fs[1])] = int(fs[3])
                    elif len(fs) == 3:
                        ports[(fs[0], fs[1])] = fs[2]
        except OSError:
            pass
        with self.lock:
            self.ports = ports
        return ports

    def port(self, name, proto="tcp"):
        with self.lock:
            return self.ports.get((name, proto))

    # -- superd -----------------------------------------------------------
    def setup(self):
        greeting = os.path.join(self.d, "greeting")
        shutil.copyfile(os.path.join(TOP, "services", "greeting"), greeting)
        os.chmod(greeting, 0o755)
        udp_reply = os.path.join(self.d, "udp_reply.py")
        shutil.copyfile(os.path.join(IT, "udp_reply.py"), udp_reply)
        os.chmod(udp_reply, 0o755)
        state = os.path.join(self.d, "greeting.count")
        with open(state, "w"):
            pass
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(state, nobody.pw_uid, nobody.pw_gid)
        python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                       if os.access(p, os.X_OK)), sys.executable)
        self.config = Config(self.d, greeting, udp_reply, python)
        self.state = state

    def start(self):
        write_atomic(self.conf, self.config.text(BASE))
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.superd, "-d", "-f", self.conf, "-p", "",
                 "-P", self.ports_path], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=env, close_fds=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 10
        while len(self.read_ports()) < 7:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("soak: superd did not start; log:\n"
                                 + self.log()[-2000:])
            time.sleep(0.05)
        self.asan = sanitized(self.pid)

    def reload(self, variant, broken=False):
        before = os.stat(self.ports_path).st_ino
        failed_before = self.log().count("failed: ")
        write_atomic(self.conf, BROKEN if broken else self.config.text(variant))
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if broken and self.log().count("failed: ") > failed_before:
                self.rejected += 1
                return
            if not broken and os.stat(self.ports_path).st_ino != before:
                self.reloads += 1
                self.read_ports()
                return
            if self.proc.poll() is not None:
                raise SystemExit("soak: superd exited during a reload")
            time.sleep(0.02)
        self.error("a reload did not finish within 10 s")

    # -- clients ----------------------------------------------------------
    def tcp(self, name, source=None, timeout=CLIENT_TIMEOUT):
        port = self.port(name)
        if port is None:
            return None
        s = socket.socket()
        s.settimeout(timeout)
        try:
            s.bind((source or random.choice(SOURCES), 0))
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            raise
        return s

    @staticmethod
    def read_all(s, limit=1 << 22):
        data = b""
        while len(data) < limit:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def complete_cat(self, rnd):
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1,
                                                                     4000)))
        s = self.tcp("cat")
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = self.read_all(s)
        finally:
            s.close()
        if got == payload:
            self.count("cat served")
        elif got == b"":
            self.count("cat refused")      # per_source: closed at once
        else:
            self.error("cat: %d bytes back for %d sent" % (len(got),
                                                            len(payload)))

    def complete_greeting(self, rnd):
        name = "v%d" % rnd.randrange(1 << 30)
        s = self.tcp("greeting")
        try:
            s.sendall(name.encode() + rnd.choice([b"\n", b"\r\n", b"\0"]))
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(256)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        m = re.fullmatch(rb"Hello (\S+), you are visitor number (\d+) to "
                         rb"this server\n", buf)
        if m and m.group(1).decode() == name:
            with self.lock:
                self.greeted += 1
            self.count("greetings")
        else:
            self.error("greeting answered %r" % buf[:100])

    def complete_unix(self, rnd):
        path = self.port("ucat", "unix")
        payload = b"unix %d\n" % rnd.randrange(1 << 30)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CLIENT_TIMEOUT)
            s.connect(path)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = self.read_all(s)
        if got == payload:
            self.count("unix served")
        else:
            self.error("ucat: %r for %r" % (got[:60], payload))

    def complete_builtins(self, rnd):
        s = self.tcp("day")
        try:
            got = self.read_all(s)
        finally:
            s.close()
        if re.fullmatch(rb".+ \d\d:\d\d:\d\d \d{4}\r\n", got):
            self.count("daytime served")
        else:
            self.error("daytime answered %r" % got)
        s = self.tcp("echob")
        try:
            s.sendall(b"ping\n")
            s.shutdown(socket.SHUT_WR)
            got = self.read_all(s)
        finally:
            s.close()
        if got == b"ping\n":
            self.count("echo served")
        else:
            self.error("echo answered %r" % got)
        port = self.port("extra")
        if port is not None:
            try:
                s = self.tcp("extra", timeout=5)
                got = self.read_all(s)
                s.close()
                if len(got) == 4:
                    self.count("time served")
            except OSError:
                self.count("time refused")  # removed by a reload meanwhile

    def udp_wait(self, rnd):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(5)
            word = b"w%d" % rnd.randrange(1 << 30)
            u.sendto(word, ("127.0.0.1", self.port("uwait", "udp")))
            try:
                got = u.recv(4096)
            except socket.timeout:
                self.error("uwait: no answer within 5 s")
                return
        if got.split()[0] == word:
            self.count("udp wait served")
        else:
            self.error("uwait answered %r" % got[:80])

    def reset(self, rnd):
        # Resets right after the connection, or after a partial request.
        name = rnd.choice(["cat", "greeting", "echob", "cat"])
        s = self.tcp(name)
        if rnd.random() < 0.5:
            s.sendall(b"partial without its end")
            time.sleep(rnd.random() * 0.05)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
        self.count("resets")

    def stall(self, rnd):
        # Says nothing and keeps the connection for up to 7 s: the timeout
        # (5 s for cat), or the greeting's own 3 s, ends the instance.
        s = self.tcp(rnd.choice(["cat", "greeting"]))
        try:
            end = time.monotonic() + rnd.uniform(0.5, 7)
            while time.monotonic() < end and not self.stop.is_set():
                s.settimeout(0.2)
                try:
                    if s.recv(1024) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
        finally:
            s.close()
        self.count("stalls")

    def flood(self, rnd):
        # 40 connections opened at once and dropped, and 200 datagrams.
        socks = []
        for _ in range(40):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port("cat")))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            socks.append(s)
        time.sleep(0.01)
        for s in socks:
            s.close()
        self.count("flood connections", 40)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            u.settimeout(0.5)
            for i in range(200):
                u.sendto(b"f%d" % i, ("127.0.0.1", self.port("uecho", "udp")))
            got = 0
            try:
                while got < 200:
                    u.recv(100)
                    got += 1
            except socket.timeout:
                pass
        self.count("flood datagrams", 200)
        self.count("flood datagrams answered", got)
        time.sleep(rnd.uniform(0.2, 1.0))

    def worker(self, job, seed):
        rnd = random.Random(seed)
        fn = getattr(self, job)
        for _ in range(10 ** 7):        # bounded; the clock ends it first
            if self.stop.is_set():
                return
            try:
                fn(rnd)
            except (OSError, socket.timeout) as e:
                self.error("%s: %s" % (job, e))
                time.sleep(0.05)

    # -- the run ----------------------------------------------------------
    def warm_up(self):
        """Every service once, so that what lasts (stderr pipes, tables)
        exists before the figures are taken."""
        rnd = random.Random(1)
        for fn in (self.complete_cat, self.complete_greeting,
                   self.complete_unix, self.complete_builtins, self.udp_wait):
            fn(rnd)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(2)
            u.sendto(b"x", ("127.0.0.1", self.port("uecho", "udp")))
            u.recv(10)
        self.settle()

    def settle(self, timeout=30):
        deadline = time.monotonic() + timeout
        while children(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        # superd keeps an emptied stderr pipe a second for the next
        # instance (errlog.c): idle means those are closed too.
        time.sleep(1.3)

    def run(self):
        self.setup()
        self.start()
        self.warm_up()
        before = {"fds": fd_count(self.pid), "rss": rss_kib(self.pid),
                  "children": len(children(self.pid))}
        greeted_before = self.greeted
        jobs = (["complete_cat"] * 4 + ["complete_greeting"] * 3 +
                ["complete_unix"] * 2 + ["complete_builtins"] +
                ["udp_wait"] + ["reset"] * 2 + ["stall"] * 2 + ["flood"])
        threads = [threading.Thread(target=self.worker, args=(job, i),
                                    daemon=True)
                   for i, job in enumerate(jobs)]
        started = time.monotonic()
        for th in threads:
            th.start()
        rnd = random.Random(42)
        next_dump = started + 10
        while time.monotonic() - started < self.seconds:
            time.sleep(rnd.uniform(0.5, 3.0))
            if self.proc.poll() is not None:
                break
            if rnd.random() < 0.15:
                self.reload(None, broken=True)
            else:
                self.reload(rnd.choice(VARIANTS))
            if time.monotonic() > next_dump:
                os.kill(self.pid, signal.SIGUSR1)
                self.dumps += 1
                next_dump += 10
        self.stop.set()
        for th in threads:
            th.join(CLIENT_TIMEOUT + 10)
        hung = sum(th.is_alive() for th in threads)
        alive = self.proc.poll() is None
        if alive:
            self.reload(BASE)       # the configuration the figures began with
            self.settle()
        return self.report(before, greeted_before, hung, alive,
                           time.monotonic() - started)

    # -- the verdict ------------------------------------------------------
    EXPECTED = [
        r"starting superd \S+",
        r"stopping",
        r"reloading \S+",
        r"configuration \S+: \d+ services, listeners kept \d+, added \d+, "
        r"retired \d+, failed 0",
        r"[\w.-]+: listening on .*",
        r"[\w.-]+: start pid=\d+ from (\S+|pid \d+)",
        r"[\w.-]+: exit pid=\d+ (status|signal)=\d+ duration=[\d.]+",
        r"[\w.-]+: refused \S+ \(per_source\)",
        r"[\w.-]+: timeout pid=\d+ after \d+ s, sending SIGTERM",
        r"[\w.-]+: timeout pid=\d+ still running, sending SIGKILL",
        r"[\w.-]+: status .*",
        # What the programs say about the clients that reset or stalled.
        # All instances of a service share one stderr pipe and err(3)
        # writes a line in pieces, so pieces of concurrent lines may mix:
        # any sequence of these pieces is theirs.
        r"(cat|ucat|greeting): stderr: (cat|greeting|-|: |read|write error"
        r"|write|standard output|Connection reset by peer|Broken pipe"
        r"|no name in \d+ s; not counted)*",
        r"[\w.-]+: stderr: \d+ lines not logged \(over \d+ a second\)",
    ]
    BROKEN_LINES = [
        r"reload: \S+:2: syntax error",
        r"reload of \S+ failed: 1 errors, keeping the running configuration",
    ]

    def report(self, before, greeted_before, hung, alive, took):
        failures = list(self.errors[:20])
        if len(self.errors) > 20:
            failures.append("... and %d more client errors"
                            % (len(self.errors) - 20))
        after = {"fds": None, "rss": None, "children": None}
        zombies = []
        if alive:
            after = {"fds": fd_count(self.pid), "rss": rss_kib(self.pid),
                     "children": len(children(self.pid))}
            zombies = [p for p, st in children(self.pid) if st == "Z"]
        with open(self.state) as f:
            counter = int(f.read().strip() or 0)
        if alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        else:
            rc = self.proc.returncode
        log = self.log()
        lines = [ln[len("superd: "):] if ln.startswith("superd: ") else ln
                 for ln in log.splitlines()]
        expected = [re.compile(p + r"$") for p in self.EXPECTED]
        broken = [re.compile(p + r"$") for p in self.BROKEN_LINES]
        unexpected, broken_seen = [], 0
        for ln in lines:
            if any(p.match(ln) for p in expected):
                continue
            if any(p.match(ln) for p in broken):
                broken_seen += 1
                continue
            unexpected.append(ln)
        if not alive:
            failures.append("superd died during the soak (status %s)" % rc)
        elif rc != 0:
            failures.append("superd exited %s on SIGTERM" % rc)
        if hung:
            failures.append("%d client threads did not end" % hung)
        if broken_seen != 2 * self.rejected:
            failures.append("%d lines about broken files for %d broken reloads"
                            % (broken_seen, self.rejected))
        if unexpected:
            failures.append("%d unexpected log lines, e.g. %s"
                            % (len(unexpected), unexpected[:5]))
        if alive:
            if after["fds"] != before["fds"]:
                failures.append("descriptors %d before, %d after"
                                % (before["fds"], after["fds"]))
            if (after["rss"] - before["rss"] > RSS_SLACK_KIB and
                    not self.asan):
                failures.append("RSS grew by %d KiB"
                                % (after["rss"] - before["rss"]))
            if after["children"] != before["children"]:
                failures.append("children %d before, %d after"
                                % (before["children"], after["children"]))
            if zombies:
                failures.append("zombies: %s" % zombies[:5])
        if counter != self.greeted:
            failures.append("greeting counter %d, greetings served %d"
                            % (counter, self.greeted))

        st = self.stats
        conns = sum(v for k, v in st.items()
                    if k not in ("flood datagrams", "flood datagrams answered",
                                 "udp wait served"))
        print("soak: %.0f s of load against %s" % (took, self.superd))
        print("soak: connections %d: %s" % (conns, ", ".join(
            "%s %d" % kv for kv in sorted(st.items()))))
        print("soak: greetings %d (%d during the load), counter %d"
              % (self.greeted, self.greeted - greeted_before, counter))
        print("soak: reloads %d, broken files rejected %d, SIGUSR1 dumps %d"
              % (self.reloads, self.rejected, self.dumps))
        print("soak: descriptors %s -> %s, RSS %s -> %s KiB%s, children %s -> "
              "%s, zombies %d" % (before["fds"], after["fds"], before["rss"],
                                  after["rss"], " (AddressSanitizer: not "
                                  "judged)" if self.asan else "",
                                  before["children"], after["children"],
                                  len(zombies)))
        print("soak: log %d lines, %d unexpected, client errors %d"
              % (len(lines), len(unexpected), len(self.errors)))
        for f in failures:
            print("soak: FAIL: %s" % f)
        if failures:
            print("soak: the directory %s is kept" % self.d)
            return 1
        print("soak: PASS")
        shutil.rmtree(self.d, ignore_errors=True)
        return 0


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    seconds = float(sys.argv[2] if len(sys.argv) == 3 else
                    os.environ.get("SOAK_SECONDS", "120"))
    soak = Soak(sys.argv[1], seconds)
    try:
        return soak.run()
    finally:
        if soak.proc is not None and soak.proc.poll() is None:
            soak.proc.kill()
            soak.proc.wait()


if __name__ == "__main__":
    sys.exit(main())
