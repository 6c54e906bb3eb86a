#!/usr/bin/env python3
"""The driver of `make bench`: superd side by side with the servers users
would pick instead, on loopback, in one run.

usage: run.py --build DIR --superd PATH [--out FILE] [--reps N]
              [--patience S] [--quick] [--no-install] [--also NAME=PATH]
              [--only TABLES] [--concs LIST] [--servers NAMES]

It installs the anchors (Debian's openbsd-inetd, xinetd and ucspi-tcp's
tcpserver), starts every server of a table at once on its own loopback
port with a private configuration, and measures them with bench/loadgen in
interleaved rounds (each round visits every server, in a rotated order), so
that whatever the machine does meanwhile hits all of them alike.  Medians
of the rounds go into the tables; the ratios and the PASS/MISS lines are
computed from the same run.  It writes FILE (BENCHMARKS.md) and, with
every sample, DIR/NAME.json (NAME: FILE's name without .md).  The
systemd table (bench/systemd.py) boots a machine of the real-systemd test
tier and measures superd against Accept=yes socket units inside it.

Every server it starts is stopped when it ends, however it ends (finally,
SIGTERM/SIGINT/SIGHUP), and dies with it if the driver is killed outright
(PR_SET_PDEATHSIG).  Python 3 standard library only.
"""

import argparse
import contextlib
import ctypes
import datetime
import json
import os
import platform
import pwd
import random
import resource
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import systemd as systemd_table

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

BENCH_REPLY = "superd-bench ok\\n"          # bench.h, escaped for loadgen
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
POLICY_RC = "/usr/sbin/policy-rc.d"

# What loadgen sends and checks for each kind of service.
W_REPLY = ["-k", "exact:" + BENCH_REPLY]
W_UDP_REPLY = ["-u", "-S", "-T", "250", "-k", "exact:" + BENCH_REPLY]
# The same request again and again from one socket, as a client polling a
# service may send it.
W_UDP_SAME = ["-u", "-T", "250", "-k", "exact:" + BENCH_REPLY]
UDP_CASES = [("c1", 1, W_UDP_REPLY), ("c4", 4, W_UDP_REPLY),
             ("c1-same", 1, W_UDP_SAME)]
W_DAYTIME = ["-m", "", "-k", "suffix:\\r\\n"]
W_TIME = ["-m", "", "-k", "len:4"]
W_ECHO = ["-H", "-m", "superd-bench echo\\n", "-k", "echo"]
W_UDP_DAYTIME = ["-u", "-T", "250", "-k", "suffix:\\r\\n"]
W_UDP_ECHO = ["-u", "-S", "-T", "250", "-k", "echo"]
# The exec'd service behind a load balancer: (label, the PROXY header
# version loadgen sends, 0 for none), against superd without and with
# proxy_protocol; the concurrencies, the one the targets are read at first.
PROXY_CASES = [("plain", 0), ("PROXY v2", 2), ("PROXY v1", 1)]
PROXY_CONCS = (32, 1)


def log(msg):
    print("bench: " + msg, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------
# processes


RUNNING = []        # every Server started and not yet stopped


class Server:
    """One server under test: how to start it, where it listens, its pid.

    ports maps a service key to (address, port); for superd the ports come
    from its ports file once it is up."""

    def __init__(self, name, argv, workdir, ports=None, ports_file=None,
                 expect=None):
        self.name = name
        self.argv = argv
        self.workdir = workdir
        self.ports = dict(ports or {})
        self.ports_file = ports_file
        self.expect = expect or {}      # superd: key -> (name, proto, addr)
        self.proc = None
        self.t_exec = None
        self.idle_rss_kb = None
        self.idle_mem_kb = None
        self.failed = None
        self.netns = None       # a network namespace its clients use

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        r, w = os.pipe()

        def child_setup():
            # Dies with the driver, and tells when it was about to exec.
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            os.write(w, b"%d" % time.monotonic_ns())

        err = open(os.path.join(self.workdir, self.name + ".stderr"), "ab")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                preexec_fn=child_setup, start_new_session=True,
                cwd=self.workdir)
        except OSError:
            os.close(r)
            raise
        finally:
            err.close()
            os.close(w)
        RUNNING.append(self)
        try:
            data = os.read(r, 64)
        finally:
            os.close(r)
        self.t_exec = int(data) / 1e9 if data else time.monotonic()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self in RUNNING:
            RUNNING.remove(self)

    def stderr_tail(self):
        try:
            with open(os.path.join(self.workdir, self.name + ".stderr"),
                      "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace").strip()
        except OSError:
            return ""


def stop_all():
    for s in list(RUNNING):
        try:
            s.stop()
        except Exception as e:          # keep stopping the others
            log("could not stop %s (pid %s): %s" % (s.name, s.pid, e))


def proc_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_mem_kb(pid):
    """Idle memory beside VmRSS: PSS (shared pages divided among the
    processes that map them) and the pages only this process has."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Pss", "Private_Clean", "Private_Dirty"):
                    out[k] = int(v.split()[0])
    except (OSError, ValueError):
        return None
    if "Pss" not in out:
        return None
    return {"pss": out["Pss"], "private": out.get("Private_Clean", 0) +
            out.get("Private_Dirty", 0)}


def listening(proto, port):
    """Whether some socket is bound (UDP) or listening (TCP) on port."""
    files = ("/proc/net/%s" % proto, "/proc/net/%s6" % proto)
    want_state = "0A" if proto == "tcp" else "07"
    for path in files:
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == want_state and \
                            int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue
    return False


def read_ports_file(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 4:
                    out[(p[0], p[1], p[2])] = int(p[3])
    except OSError:
        pass
    return out


def wait_ready(server, timeout=10.0):
    """Waits until the server listens everywhere it should."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError("%s exited at start-up: %s" %
                             (server.name, server.stderr_tail()))
        if server.ports_file:
            got = read_ports_file(server.ports_file)
            if all(v in got for v in server.expect.values()):
                for key, v in server.expect.items():
                    server.ports[key] = (v[2], got[v])
                return
        elif all(listening(proto_of(k), p)
                 for k, (_, p) in server.ports.items()):
            return
        time.sleep(0.01)
    raise BenchError("%s not listening after %.0f s: %s" %
                     (server.name, timeout, server.stderr_tail()))


def proto_of(key):
    return "udp" if key.startswith("udp") or key.endswith("-udp") else "tcp"


USED_PORTS = set()


def free_port():
    """A port free for TCP and UDP on 127.0.0.1 and ::1, below the
    ephemeral range so that no client socket of loadgen can take it."""
    for _ in range(500):
        port = random.randrange(20000, 32000)
        if port in USED_PORTS:
            continue
        ok = True
        for fam, addr in ((socket.AF_INET, "127.0.0.1"),
                          (socket.AF_INET6, "::1")):
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                try:
                    with socket.socket(fam, typ) as s:
                        s.bind((addr, port))
                except OSError:
                    ok = False
        if ok:
            USED_PORTS.add(port)
            return port
    raise BenchError("no free loopback port found")


# ---------------------------------------------------------------------------
# the anchors


def dpkg_installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    parts = r.stdout.split()
    if r.returncode == 0 and parts[:3] == ["install", "ok", "installed"]:
        return parts[3] if len(parts) > 3 else "?"
    return None


@contextlib.contextmanager
def no_daemon_starts():
    """A policy-rc.d that denies every start while packages install, removed
    afterwards; an existing one (a container's) is left alone."""
    if os.path.lexists(POLICY_RC):
        yield
        return
    with open(POLICY_RC, "w") as f:
        f.write("#!/bin/sh\n# make bench: no daemon starts while packages "
                "install.\nexit 101\n")
    os.chmod(POLICY_RC, 0o755)
    try:
        yield
    finally:
        os.unlink(POLICY_RC)


def apt(args, check=True):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get"] + args, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise BenchError("apt-get %s failed:\n%s" %
                         (" ".join(args), r.stdout[-2000:]))
    return r


def apt_install(pkgs):
    log("installing %s" % " ".join(pkgs))
    with no_daemon_starts():
        args = ["install", "-y", "-qq", "--no-install-recommends"] + pkgs
        if apt(args, check=False).returncode != 0:
            apt(["update", "-qq"])
            apt(args)


def unpack_private(pkg, binary, anchors_dir, may_install):
    """Debian's package pkg unpacked under anchors_dir/pkg (not installed:
    xinetd and openbsd-inetd conflict with each other and with any other
    inet-superserver, superd's own package included, so apt would remove
    one to install the other).  Returns (path of binary, version)."""
    root = os.path.join(anchors_dir, pkg)
    path = os.path.join(root, "usr/sbin", binary)
    vfile = os.path.join(root, "VERSION")
    if os.access(path, os.X_OK) and os.path.exists(vfile):
        with open(vfile) as f:
            return path, f.read().strip()
    if not may_install:
        raise BenchError("%s is not unpacked in %s and installing is off"
                         % (pkg, root))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    dl = tempfile.mkdtemp(prefix="dl-", dir=anchors_dir)
    os.chmod(dl, 0o755)     # apt's download sandbox user must write there
    try:
        log("downloading %s" % pkg)
        r = subprocess.run(["apt-get", "download", "-qq", pkg], cwd=dl,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode != 0:
            apt(["update", "-qq"])
            r = subprocess.run(["apt-get", "download", "-qq", pkg], cwd=dl,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        debs = [f for f in os.listdir(dl) if f.endswith(".deb")]
        if r.returncode != 0 or not debs:
            raise BenchError("apt-get download %s failed: %s" %
                             (pkg, r.stdout[-1000:]))
        deb = os.path.join(dl, debs[0])
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        info = lambda field: subprocess.run(
            ["dpkg-deb", "-f", deb, field], stdout=subprocess.PIPE,
            text=True, check=True).stdout.strip()
        version = info("Version")
        # Its shared libraries do not conflict with anything: install them.
        libs = [d.split()[0] for d in info("Depends").replace("|", ",")
                .split(",") if d.strip().startswith("lib")]
        missing = [p for p in libs if not dpkg_installed(p)]
        if missing:
            apt_install(missing)
        with open(vfile, "w") as f:
            f.write(version + "\n")
    finally:
        shutil.rmtree(dl, ignore_errors=True)
    # Whatever is installed in this directory in the future stays apt's.
    for sub in ("etc", "lib"):
        shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
    return path, version


def find_anchors(ctx):
    """Sets ctx.anchors: name -> (path, version) for those available."""
    anchors = {}
    root = os.geteuid() == 0
    may_install = root and not ctx.args.no_install
    adir = os.path.join(ctx.build, "anchors")
    os.makedirs(adir, exist_ok=True)
    for pkg, binary, key in (("openbsd-inetd", "inetd", "inetd"),
                             ("xinetd", "xinetd", "xinetd")):
        try:
            anchors[key] = unpack_private(pkg, binary, adir, may_install)
        except (BenchError, OSError, subprocess.CalledProcessError) as e:
            log("no %s: %s" % (pkg, e))
    version = dpkg_installed("ucspi-tcp")
    if version is None and may_install:
        try:
            apt_install(["ucspi-tcp"])
            version = dpkg_installed("ucspi-tcp")
        except BenchError as e:
            log("no ucspi-tcp: %s" % e)
    if version and shutil.which("tcpserver"):
        anchors["tcpserver"] = (shutil.which("tcpserver"), version)
    ctx.anchors = anchors
    # openbsd-inetd runs in a mount namespace of its own (see inetd_argv).
    ctx.can_unshare = root and shutil.which("unshare") is not None and \
        subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "true"], stderr=subprocess.DEVNULL).returncode == 0
    if "inetd" in anchors and not ctx.can_unshare:
        log("openbsd-inetd left out: it writes /run/inetd.pid, and without "
            "a private mount namespace that could be a running inetd's")
        del anchors["inetd"]


# ---------------------------------------------------------------------------
# server configurations


def lc(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def superd_server(ctx, name, services, defaults, table, binary=None):
    """services: list of (key, libconfig body without name/port, proto,
    addr).  Every service listens on port 0; the ports file tells where."""
    d = ctx.dir(table)
    conf = os.path.join(d, name + ".conf")
    ports = os.path.join(d, name + ".ports")
    lines = ["superd : {", '  pidfile = "";']
    lines += ["  %s = %s;" % (k, v) for k, v in defaults]
    lines += ["};", "services : ("]
    expect = {}
    for i, (key, body, proto, addr) in enumerate(services):
        sep = "," if i + 1 < len(services) else ""
        lines.append('  { name = "%s"; protocol = "%s"; address = %s; '
                     'port = 0; %s }%s' % (key, proto, lc(addr), body, sep))
        expect[key] = (key, proto, addr)
    lines.append(");")
    write_file(conf, "\n".join(lines) + "\n")
    argv = [binary or ctx.superd, "-F", "-f", conf, "-p", "", "-P", ports]
    return Server(name, argv, d, ports_file=ports, expect=expect)


def inetd_argv(ctx, d, conf, services_file=None):
    """openbsd-inetd in the foreground (-i), in a mount namespace of its own
    with a private /run (it writes /run/inetd.pid, which may be a running
    inetd's) and, for the internal services, a private /etc/services: they
    are named by their official service names only, and this is how they
    get high ports."""
    run = os.path.join(d, "inetd-run")
    os.makedirs(run, exist_ok=True)
    script = 'mount --bind "$1" /run || exit 1\n'
    if services_file:
        script += 'mount --bind "$2" /etc/services || exit 1\n'
    script += 'exec "$3" -i "$4"\n'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            script, "sh", run, services_file or "-",
            ctx.anchors["inetd"][0], conf]


def xinetd_service(name, port, socktype, proto, wait, server, tuned,
                   user):
    lines = ["service %s" % name, "{",
             "\ttype\t\t= UNLISTED",
             "\tsocket_type\t= %s" % socktype,
             "\tprotocol\t= %s" % proto,
             "\twait\t\t= %s" % ("yes" if wait else "no"),
             "\tuser\t\t= %s" % user,
             "\tserver\t\t= %s" % server,
             "\tport\t\t= %d" % port,
             "\tbind\t\t= 127.0.0.1"]
    if tuned:
        lines += ["\tinstances\t= UNLIMITED",
                  "\tper_source\t= UNLIMITED",
                  "\tcps\t\t= 100000 1",
                  # superd has no tcp-wrappers step; nor does this then.
                  "\tflags\t\t= NOLIBWRAP"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def analysis():
    """The hand-written reading of the targets superd misses (profiles and
    causes), kept in bench/ANALYSIS.md so every run carries it."""
    path = os.path.join(TOP, "bench", "ANALYSIS.md")
    try:
        with open(path) as f:
            return "\n" + f.read()
    except OSError:
        return ""


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


# ---------------------------------------------------------------------------
# measuring


def loadgen(ctx, server, key, conc, wargs, secs=None, count=None,
            timeout_ms=None, cpu=True):
    addr, port = server.ports[key]
    cmd = ["nsenter", "--net=" + server.netns] if server.netns else []
    cmd += [ctx.prog("loadgen"), "-p", str(port), "-a", addr,
            "-c", str(conc)]
    cmd += ["-t", "%g" % secs] if secs else ["-n", str(count)]
    if timeout_ms:
        cmd += ["-T", str(timeout_ms)]
    cmd += wargs
    if cpu and server.pid:
        cmd += ["-P", str(server.pid)]
    limit = (secs or 0) + 30
    cmd += ["-L", str(limit)]
    before = cpu_snapshot(server.pid)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=limit + 10)
    after = cpu_snapshot(server.pid)
    if r.returncode != 0:
        raise BenchError("loadgen failed: %s" % r.stderr.strip())
    res = {}
    for kv in r.stdout.split():
        k, _, v = kv.partition("=")
        try:
            res[k] = float(v) if "." in v else int(v)
        except ValueError:
            res[k] = v
    res["foreign_pct"] = foreign_pct(before, after)
    res["tree_cpu_ms"] = (after[2] - before[2]) * 1000
    return res


HZ = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(pid):
    """(wall s, machine busy s, server and its reaped children s, our
    reaped children (loadgen) s).  Interrupt time is left out: loopback
    traffic is processed there, on behalf of whoever sent it."""
    busy = server = 0.0
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal ...
        busy = (v[0] + v[1] + v[2] + (v[7] if len(v) > 7 else 0)) / HZ
    except (OSError, ValueError, IndexError):
        pass
    if pid:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            server = sum(int(x) for x in fields[11:15]) / HZ
        except (OSError, ValueError, IndexError):
            pass
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.monotonic(), busy, server, ru.ru_utime + ru.ru_stime)


def foreign_pct(a, b):
    """The share of the machine's CPU that went to other work than the
    server, its instances and loadgen between two snapshots."""
    wall = b[0] - a[0]
    if wall <= 0:
        return None
    ours = (b[2] - a[2]) + (b[3] - a[3])
    other = max(0.0, (b[1] - a[1]) - ours)
    return 100.0 * other / (wall * (os.cpu_count() or 1))


def machine_busy_pct(window):
    """The share of the machine's CPU in use over the next window
    seconds; with no sample running that is other work."""
    a = cpu_snapshot(None)
    time.sleep(window)
    b = cpu_snapshot(None)
    return 100.0 * (b[1] - a[1]) / ((b[0] - a[0]) * (os.cpu_count() or 1))


def wait_quiet(ctx):
    """Waits, within the run's patience, until other work leaves the
    machine alone.  On this kind of kernel a task woken while another
    process holds the CPU may wait for the next tick, so a busy machine
    turns every hand-off between client, server and instance into
    milliseconds."""
    # One wait is short, so that patience is left for later samples if
    # the machine stays busy now.
    give_up = time.monotonic() + 5
    while True:
        busy = machine_busy_pct(0.2)
        if busy <= ctx.quiet_pct:
            return True
        if ctx.patience_left() <= 0 or time.monotonic() > give_up:
            return False
        ctx.waited += 0.2


def sample(ctx, cell, secs):
    """One measurement of a cell: taken when the machine is quiet if
    patience allows, and taken again (at most twice) when other work
    took more than ctx.busy_pct of the machine meanwhile; the sample with
    the least other work is kept."""
    best = None
    for attempt in range(3):
        if ctx.last_foreign is None or ctx.last_foreign > ctx.quiet_pct:
            wait_quiet(ctx)
        try:
            r = loadgen(ctx, cell.server, cell.key, cell.conc, cell.wargs,
                        secs=secs)
        except (BenchError, subprocess.TimeoutExpired) as e:
            return {"ok": 0, "errors": 1, "cps": 0.0, "error": str(e)}
        f = r.get("foreign_pct")
        ctx.last_foreign = f
        r["attempt"] = attempt + 1
        if best is None or (f or 0) < (best.get("foreign_pct") or 0):
            best = r
        if f is None or f <= ctx.busy_pct or ctx.patience_left() <= 0:
            break
        ctx.retried += secs
    return best


class Cell:
    def __init__(self, server, key, conc, wargs, label=None):
        self.server = server
        self.key = key
        self.conc = conc
        self.wargs = wargs
        self.label = label or server.name
        self.samples = []


def warm_up(ctx, cells):
    seen = set()
    for c in cells:
        if (c.server.name, c.key) in seen or c.server.failed:
            continue
        seen.add((c.server.name, c.key))
        try:
            r = loadgen(ctx, c.server, c.key, 4, c.wargs, secs=0.3,
                        cpu=False)
        except (BenchError, subprocess.TimeoutExpired) as e:
            r = {"ok": 0, "error": str(e)}
        if r.get("ok", 0) == 0:
            c.server.failed = "no good answer in a warm-up run (%s)" % \
                " ".join("%s=%s" % kv for kv in sorted(r.items()) if kv[1])
            log("%s/%s fails: %s" % (c.server.name, c.key, c.server.failed))


def run_rounds(ctx, groups, secs, reps, title):
    """groups: lists of Cells measured together; every round runs each
    group with its cells in an order rotated by the round number."""
    total = sum(len(g) for g in groups) * reps
    done = 0
    for rep in range(reps):
        for g in groups:
            order = g[rep % len(g):] + g[:rep % len(g)]
            for c in order:
                done += 1
                if c.server.failed or not c.server.alive():
                    if not c.server.failed:
                        c.server.failed = "exited: " + c.server.stderr_tail()
                    # Keeps the rounds of every cell aligned for pairing.
                    c.samples.append({"skipped": True})
                    continue
                c.samples.append(sample(ctx, c, secs))
        log("%s: round %d/%d done (%d/%d runs)" %
            (title, rep + 1, reps, done, total))


def med(cell, field):
    # A sample with no good reply has no latency to speak of.
    vals = [s[field] for s in cell.samples if field in s and
            (s.get("ok") or not field.endswith("_us"))]
    return statistics.median(vals) if vals else None


def total(cell, field):
    return sum(s.get(field, 0) for s in cell.samples)


def spread(cell):
    vals = [s["cps"] for s in cell.samples if "cps" in s]
    m = statistics.median(vals) if vals else 0
    if not vals or m == 0:
        return None
    return (max(vals) - min(vals)) / 2 / m * 100


def summary(cell):
    if cell.server.failed and not cell.samples:
        return {"failed": cell.server.failed}
    return {
        "cps": med(cell, "cps"), "p50_ms": ms(med(cell, "p50_us")),
        "p90_ms": ms(med(cell, "p90_us")), "p99_ms": ms(med(cell, "p99_us")),
        "max_ms": ms(med(cell, "max_us")),
        "cpu_per_1000": med(cell, "cpu_ms_per_1000"),
        "errors": total(cell, "errors"), "lost": total(cell, "lost"),
        "conns": total(cell, "conns"), "spread_pct": spread(cell),
        "foreign_pct": med(cell, "foreign_pct"),
        "reps": len([s for s in cell.samples if "cps" in s]),
        "failed": cell.server.failed,
        "samples": cell.samples,
    }


def ms(us):
    return None if us is None else us / 1000.0


# ---------------------------------------------------------------------------
# the tables


BENCH_PROGS = ("loadgen", "forkloop", "inproc", "reply", "udpreply")


class Ctx:
    """What one run knows.  Every program it runs is first copied into a
    private directory (snap): a `make` or `make clean` in the tree while
    the run goes on must neither change what is measured nor pull a
    binary from under it."""

    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.snap = tempfile.mkdtemp(prefix="superd-bench-")
        os.chmod(self.snap, 0o755)
        self.bin = os.path.join(self.snap, "bin")
        os.makedirs(self.bin)
        for name in BENCH_PROGS:
            shutil.copy2(os.path.join(self.build, name), self.bin)
        self.superd = self.snapshot(args.superd, "superd")
        self.superd_version = subprocess.run(
            [self.superd, "-V"], stdout=subprocess.PIPE,
            text=True).stdout.strip()
        self.tree = git_rev()
        self.work = os.path.join(self.snap, "run")
        os.makedirs(self.work)
        os.chmod(self.bin, 0o755)
        os.chmod(self.work, 0o755)
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.anchors = {}
        self.can_unshare = False
        self.results = {}
        self.commands = {}
        self.notes = []
        self.waited = 0.0           # s spent waiting for a quiet machine
        self.retried = 0.0          # s spent measuring again
        self.last_foreign = None
        self.quiet_pct = 10.0
        self.busy_pct = 25.0
        self.patience = args.patience

    def patience_left(self):
        return self.patience - self.waited - self.retried

    def prog(self, name):
        return os.path.join(self.bin, name)

    def snapshot(self, path, name):
        dest = os.path.join(self.bin, name)
        shutil.copy2(path, dest)
        return dest

    def dir(self, table):
        d = os.path.join(self.work, table)
        os.makedirs(d, exist_ok=True)
        return d


def start_servers(servers, ctx=None):
    up = []
    for s in servers:
        try:
            s.start()
            wait_ready(s)
            up.append(s)
        except BenchError as e:
            s.failed = str(e)
            log(str(e))
            s.stop()
    time.sleep(0.2)
    return up


def tuned_servers(ctx, table, svc):
    """The servers of the exec'd-service tables, each with its throttles
    raised so that none of them limits: svc is "tcp" (bench/reply, nowait)
    or "udp" (bench/udpreply, wait mode)."""
    d = ctx.dir(table)
    udp = svc == "udp"
    prog = ctx.prog("udpreply" if udp else "reply")
    key = "udpreply" if udp else "reply"
    servers = []
    cmds = {}

    # superd, and any other build of it given with --also, alike.
    for name, binary in [("superd", ctx.superd)] + ctx.also:
        servers.append(superd_server(
            ctx, name, [(key, "server = %s;" % lc(prog), "udp" if udp else
                         "tcp", "127.0.0.1")],
            [("log_connections", "false"), ("instances", "0"),
             ("user", lc(ctx.user))], table, binary))
        cmds[name] = "%s -F -f superd.conf -p '' -P superd.ports " \
            "(port = 0; log_connections = false; instances = 0)" % name

    if "inetd" in ctx.anchors:
        port = free_port()
        conf = os.path.join(d, "inetd.conf")
        # nowait.N counts starts per minute: 10000 would stop a server
        # doing more than 167/s for ten minutes, so N is far out of reach.
        line = "127.0.0.1:%d %s %s %s.100000000 %s %s %s\n" % (
            port, "dgram" if udp else "stream", "udp" if udp else "tcp",
            "wait" if udp else "nowait", ctx.user, prog,
            os.path.basename(prog))
        write_file(conf, line)
        servers.append(Server("openbsd-inetd", inetd_argv(ctx, d, conf), d,
                              ports={key: ("127.0.0.1", port)}))
        cmds["openbsd-inetd"] = "inetd -i inetd.conf: `%s`" % line.strip() \
            .replace(prog, "reply" if not udp else "udpreply") \
            .replace("127.0.0.1:%d " % port, "127.0.0.1:PORT ")

    if "xinetd" in ctx.anchors:
        port = free_port()
        conf = os.path.join(d, "xinetd.conf")
        write_file(conf, "defaults\n{\n}\n" + xinetd_service(
            key, port, "dgram" if udp else "stream", "udp" if udp else "tcp",
            udp, prog, True, ctx.user))
        servers.append(Server("xinetd", [ctx.anchors["xinetd"][0],
                                         "-dontfork", "-f", conf], d,
                              ports={key: ("127.0.0.1", port)}))
        cmds["xinetd"] = "xinetd -dontfork -f xinetd.conf (instances = " \
            "UNLIMITED, per_source = UNLIMITED, cps = 100000 1, " \
            "flags = NOLIBWRAP)"

    if "tcpserver" in ctx.anchors and not udp:
        port = free_port()
        # -RHl0: no ident or DNS look-ups, which superd does not do either;
        # -b 128: superd's backlog, instead of 20.
        argv = [ctx.anchors["tcpserver"][0], "-c", "10000", "-b", "128",
                "-RHl0", "127.0.0.1", str(port), prog]
        servers.append(Server("tcpserver", argv, d,
                              ports={key: ("127.0.0.1", port)}))
        cmds["tcpserver"] = "tcpserver -c 10000 -b 128 -RHl0 127.0.0.1 " \
            "PORT reply"

    if not udp:
        for mode in ("fork", "vfork"):
            port = free_port()
            servers.append(Server(mode + "-limit",
                                  [ctx.prog("forkloop"), mode, str(port),
                                   prog], d,
                                  ports={key: ("127.0.0.1", port)}))
            cmds[mode + "-limit"] = "forkloop %s PORT reply" % mode
        port = free_port()
        servers.append(Server("in-process", [ctx.prog("inproc"), "reply",
                                             str(port)], d,
                              ports={key: ("127.0.0.1", port)}))
        cmds["in-process"] = "inproc reply PORT"
    else:
        port = free_port()
        servers.append(Server("vfork-limit", [ctx.prog("forkloop"), "udp",
                                              str(port), prog], d,
                              ports={key: ("127.0.0.1", port)}))
        cmds["vfork-limit"] = "forkloop udp PORT udpreply"
    if ctx.args.servers:
        keep = set(ctx.args.servers.split(","))
        servers = [s for s in servers if s.name in keep]
    ctx.commands[table] = {n: c for n, c in cmds.items()
                           if n in {s.name for s in servers}}
    return servers, key


def table_exec(ctx):
    """Table 1: one exec'd service (bench/reply) behind every server."""
    servers, key = tuned_servers(ctx, "exec", "tcp")
    up = start_servers(servers)
    try:
        groups = []
        for conc in ctx.concs:
            groups.append([Cell(s, key, conc, W_REPLY) for s in up])
        warm_up(ctx, groups[-1])
        for s in up:
            s.idle_rss_kb = proc_rss_kb(s.pid)
            s.idle_mem_kb = proc_mem_kb(s.pid)
        run_rounds(ctx, groups, ctx.secs, ctx.reps, "exec'd service")
        res = {"servers": [s.name for s in servers], "rss_kb": {},
               "mem_kb": {}, "cells": {}}
        for s in servers:
            res["rss_kb"][s.name] = s.idle_rss_kb
            res["mem_kb"][s.name] = s.idle_mem_kb
        for g in groups:
            for c in g:
                res["cells"]["%s/c%d" % (c.server.name, c.conc)] = summary(c)
        res["failed"] = {s.name: s.failed for s in servers if s.failed}
        ctx.results["exec"] = res
    finally:
        for s in up:
            s.stop()


# The confine table: (key, label, settings).  The chrooted service runs
# /reply inside a directory holding only that static binary.
CONFINE_CASES = [
    ("plain", "unconfined", ""),
    ("chroot", "chroot + no_new_privs + capabilities",
     'no_new_privs = true; capabilities = [ "net_bind_service" ];'),
    ("tmp_ro", "private_tmp + read_only",
     "private_tmp = true; read_only = true;"),
    ("network", "private_network", "private_network = true;"),
    ("timeout", "timeout = 30 (a cgroup per instance)", "timeout = 30;"),
]
CONFINE_CONCS = (32, 1)


def table_confine(ctx):
    """One exec'd service (bench/reply) unconfined, confined three ways
    and with a timeout (a cgroup per instance), as five services of one
    superd, every cell of both concurrencies interleaved in each round."""
    if os.geteuid() != 0:
        raise BenchError("needs root: confinement makes namespaces")
    d = ctx.dir("confine")
    prog = ctx.prog("reply")
    jail = os.path.join(d, "jail")
    os.makedirs(jail, exist_ok=True)
    os.chmod(jail, 0o755)
    shutil.copy2(prog, os.path.join(jail, "reply"))
    # A private /tmp hides the run's own directory (under /tmp): that
    # service's copy of the program lives elsewhere for the table.
    outside = tempfile.mkdtemp(prefix="superd-bench-", dir="/run")
    os.chmod(outside, 0o755)
    shutil.copy2(prog, os.path.join(outside, "reply"))
    services = []
    for key, _, body in CONFINE_CASES:
        where = "server = %s;" % lc(os.path.join(outside, "reply")
                                     if key == "tmp_ro" else prog)
        if key == "chroot":
            where = "chroot = %s; server = \"/reply\";" % lc(jail)
        services.append((key, where + " " + body, "tcp", "127.0.0.1"))
    srv = superd_server(ctx, "superd", services,
                        [("log_connections", "false"), ("instances", "0"),
                         ("user", lc(ctx.user))], "confine")
    up = start_servers([srv])
    try:
        cells = [Cell(srv, key, conc, W_REPLY, label=key)
                 for conc in CONFINE_CONCS for key, _, _ in CONFINE_CASES]
        warm_up(ctx, cells)
        run_rounds(ctx, [cells], ctx.secs, ctx.reps, "confine")
        ctx.results["confine"] = {
            "cells": {"%s/c%d" % (c.key, c.conc): summary(c)
                      for c in cells},
            "failed": srv.failed}
        ctx.commands["confine"] = {
            label: "superd service `%s`" % (
                ("chroot = \"JAIL\"; server = \"/reply\"; " if key ==
                 "chroot" else "") + body or "(no confinement)")
            for key, label, body in CONFINE_CASES}
    finally:
        for s_ in up:
            s_.stop()
        shutil.rmtree(outside, ignore_errors=True)


def table_udp(ctx):
    """UDP wait mode: one instance of bench/udpreply per datagram."""
    res = {"cells": {}, "failed": {}}
    # The same-request case runs on servers of its own: a server that takes
    # it for a looping service pauses, and must not pause the others.
    for table, cases in (("udp", UDP_CASES[:2]), ("udp-same", UDP_CASES[2:])):
        servers, key = tuned_servers(ctx, table, "udp")
        res["servers"] = [s.name for s in servers]
        up = start_servers(servers)
        try:
            groups = [[Cell(s, key, conc, w, label=tag) for s in up]
                      for tag, conc, w in cases]
            # Warmed up with distinct requests: the same-request case
            # is for the measurement alone.
            warm_up(ctx, [Cell(s, key, 1, W_UDP_REPLY) for s in up])
            run_rounds(ctx, groups, ctx.secs, ctx.reps, table)
            for g in groups:
                for c in g:
                    res["cells"]["%s/%s" % (c.server.name, c.label)] = \
                        summary(c)
            res["failed"].update({s.name: s.failed for s in servers
                                  if s.failed})
        finally:
            for s in up:
                s.stop()
    ctx.results["udp"] = res


BUILTINS = [
    # key, superd builtin, proto, address, loadgen workload, inproc mode
    ("daytime-tcp", "daytime", "tcp", "127.0.0.1", W_DAYTIME, "daytime"),
    ("time-tcp", "time", "tcp", "127.0.0.1", W_TIME, "time"),
    ("echo-tcp", "echo", "tcp", "127.0.0.1", W_ECHO, "echo"),
    ("daytime-udp", "daytime", "udp", "::1", W_UDP_DAYTIME, "udp-daytime"),
    ("echo-udp", "echo", "udp", "::1", W_UDP_ECHO, "udp-echo"),
]
# Which builtins superd answers inside its own process (SPEC section 5).
INLINE = {"daytime-tcp", "time-tcp", "daytime-udp", "echo-udp"}


def table_builtins(ctx):
    """Table 2: superd's builtins, openbsd-inetd's internal services and the
    in-process ceiling.  UDP goes over ::1: openbsd-inetd ignores datagrams
    from 127.0.0.0/8 (its check against spoofed loopback sources)."""
    d = ctx.dir("builtins")
    servers = []
    sd = superd_server(
        ctx, "superd", [(k, "builtin = %s;" % lc(b), p, a)
                        for k, b, p, a, _, _ in BUILTINS],
        [("log_connections", "false"), ("instances", "0"),
         ("user", lc(ctx.user))], "builtins")
    servers.append(sd)
    if "inetd" in ctx.anchors:
        ports = {name: free_port() for name in ("echo", "daytime", "time")}
        services = os.path.join(d, "services")
        with open("/etc/services") as f:
            out = []
            for line in f:
                p = line.split()
                if len(p) >= 2 and p[0] in ports and "/" in p[1] and \
                        p[1].split("/")[1] in ("tcp", "udp"):
                    line = line.replace(p[1], "%d/%s" % (
                        ports[p[0]], p[1].split("/")[1]), 1)
                out.append(line)
        write_file(services, "".join(out))
        conf = os.path.join(d, "inetd.conf")
        lines = ["127.0.0.1,::1:"]
        for k, b, p, a, _, _ in BUILTINS:
            lines.append("%s %s %s %s.100000000 %s internal" % (
                b, "stream" if p == "tcp" else "dgram", p,
                "nowait" if p == "tcp" else "wait", ctx.user))
        write_file(conf, "\n".join(lines) + "\n")
        servers.append(Server(
            "openbsd-inetd", inetd_argv(ctx, d, conf, services), d,
            ports={k: (a, ports[b]) for k, b, p, a, _, _ in BUILTINS}))
    inprocs = []
    for k, b, p, a, _, mode in BUILTINS:
        port = free_port()
        inprocs.append(Server("in-process-" + k, [ctx.prog("inproc"), mode,
                                                   str(port), a], d,
                              ports={k: (a, port)}))
    servers += inprocs
    up = start_servers(servers)
    try:
        groups = []
        for k, b, p, a, w, _ in BUILTINS:
            g = []
            for s in up:
                if k in s.ports:
                    g.append(Cell(s, k, ctx.builtin_conc, w,
                                  label=s.name.replace("-" + k, "")))
            groups.append(g)
        for g in groups:
            warm_up(ctx, g)
        run_rounds(ctx, groups, ctx.builtin_secs, ctx.reps, "builtins")
        res = {"cells": {}, "conc": ctx.builtin_conc}
        for g in groups:
            for c in g:
                res["cells"]["%s/%s" % (c.label, c.key)] = summary(c)
        res["failed"] = {s.name: s.failed for s in servers if s.failed}
        ctx.results["builtins"] = res
    finally:
        for s in up:
            s.stop()


def table_proxy(ctx):
    """Table 5: table 1's exec'd service behind superd without
    proxy_protocol and behind superd with it (loadgen's address in
    proxy_from), loadgen sending each connection's PROXY header as a load
    balancer does, in the same write as the request."""
    prog = ctx.prog("reply")
    defaults = [("log_connections", "false"), ("instances", "0"),
                ("user", lc(ctx.user))]
    proxy = 'proxy_protocol = true; proxy_from = [ "127.0.0.1" ];'
    plain = superd_server(ctx, "superd", [
        ("reply", "server = %s;" % lc(prog), "tcp", "127.0.0.1")],
        defaults, "proxy")
    proxied = superd_server(ctx, "superd-proxy", [
        ("reply", "server = %s; %s" % (lc(prog), proxy), "tcp",
         "127.0.0.1")], defaults, "proxy")
    ctx.commands["proxy"] = {
        "superd": "superd -F -f superd.conf (port = 0; log_connections = "
        "false; instances = 0), loadgen with no header",
        "superd-proxy": "the same, the service with `%s`, loadgen -x 2 "
        "or -x 1" % proxy}
    up = start_servers([plain, proxied])
    try:
        groups = []
        for conc in PROXY_CONCS:
            groups.append([Cell(proxied if v else plain, "reply", conc,
                                (["-x", str(v)] if v else []) + W_REPLY,
                                label=label)
                           for label, v in PROXY_CASES])
        for c in groups[0]:
            warm_up(ctx, [c])   # one at a time: each header version
        run_rounds(ctx, groups, ctx.secs, ctx.proxy_reps, "proxy")
        res = {"cells": {}, "reps": ctx.proxy_reps}
        for g in groups:
            for c in g:
                res["cells"]["%s/c%d" % (c.label, c.conc)] = summary(c)
        res["failed"] = {s.name: s.failed for s in (plain, proxied)
                         if s.failed}
        ctx.results["proxy"] = res
    finally:
        for s in up:
            s.stop()


def table_systemd(ctx):
    """superd confined against systemd Accept=yes units: bench/systemd.py,
    given this module for its servers and rounds."""
    systemd_table.table(ctx, sys.modules[__name__])


def table_burst(ctx):
    """Table 3: each server with its default settings under a burst of 32
    clients, then one probe connection."""
    d = ctx.dir("burst")
    prog = ctx.prog("reply")
    servers = [superd_server(ctx, "superd",
                             [("reply", "server = %s; user = %s;" %
                               (lc(prog), lc(ctx.user)), "tcp",
                               "127.0.0.1")], [], "burst")]
    cmds = {"superd": "superd -F -f superd.conf (only name, address, port, "
            "server, user)"}
    if "inetd" in ctx.anchors:
        port = free_port()
        conf = os.path.join(d, "inetd.conf")
        line = "127.0.0.1:%d stream tcp nowait %s %s reply\n" % (
            port, ctx.user, prog)
        write_file(conf, line)
        servers.append(Server("openbsd-inetd", inetd_argv(ctx, d, conf), d,
                              ports={"reply": ("127.0.0.1", port)}))
        cmds["openbsd-inetd"] = "inetd -i inetd.conf: `127.0.0.1:PORT " \
            "stream tcp nowait %s reply reply`" % ctx.user
    if "xinetd" in ctx.anchors:
        port = free_port()
        conf = os.path.join(d, "xinetd.conf")
        write_file(conf, "defaults\n{\n}\n" + xinetd_service(
            "reply", port, "stream", "tcp", False, prog, False, ctx.user))
        servers.append(Server("xinetd", [ctx.anchors["xinetd"][0],
                                         "-dontfork", "-f", conf], d,
                              ports={"reply": ("127.0.0.1", port)}))
        cmds["xinetd"] = "xinetd -dontfork -f xinetd.conf (type, " \
            "socket_type, protocol, wait, user, server, port, bind)"
    if "tcpserver" in ctx.anchors:
        port = free_port()
        # -H -l0 only keep it from asking the DNS servers of
        # /etc/resolv.conf about 127.0.0.1: no traffic leaves the machine.
        servers.append(Server("tcpserver", [ctx.anchors["tcpserver"][0],
                                            "-H", "-l0", "127.0.0.1",
                                            str(port), prog], d,
                              ports={"reply": ("127.0.0.1", port)}))
        cmds["tcpserver"] = "tcpserver -H -l0 127.0.0.1 PORT reply (-H " \
            "-l0: no DNS look-ups, which would leave the machine)"
    ctx.commands["burst"] = cmds
    res = {}
    for s in servers:
        # One at a time: a server that switches itself off stays off.
        up = start_servers([s])
        if not up:
            res[s.name] = {"failed": s.failed}
            continue
        try:
            wait_quiet(ctx)     # one burst each: no round evens it out
            b = loadgen(ctx, s, "reply", 32, W_REPLY, secs=ctx.burst_secs,
                        timeout_ms=3000)
            p = loadgen(ctx, s, "reply", 1, W_REPLY, count=1,
                        timeout_ms=3000, cpu=False)
            res[s.name] = {"burst": b, "probe": p,
                           "alive": s.alive()}
        except (BenchError, subprocess.TimeoutExpired) as e:
            res[s.name] = {"failed": str(e)}
        finally:
            s.stop()
        log("burst: %s done" % s.name)
    ctx.results["burst"] = res


class DirWatch:
    """inotify on a directory: when a file is renamed into it."""
    IN_MOVED_TO = 0x80

    def __init__(self, d):
        self.fd = LIBC.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or LIBC.inotify_add_watch(
                self.fd, d.encode(), self.IN_MOVED_TO) < 0:
            raise BenchError("inotify: errno %d" % ctypes.get_errno())

    def wait(self, name, timeout):
        """The monotonic time name was renamed into place, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            t = time.monotonic()
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            off = 0
            while off + 16 <= len(data):
                _, mask, _, nlen = struct.unpack_from("iIII", data, off)
                ename = data[off + 16:off + 16 + nlen].rstrip(b"\0")
                off += 16 + nlen
                if ename.decode() == name:
                    return t

    def close(self):
        os.close(self.fd)


def scale_conf(ctx, path, n, extra=False):
    prog = ctx.prog("reply")
    lines = ["superd : {", '  pidfile = "";', "  log_connections = false;",
             "  instances = 0;", "  user = %s;" % lc(ctx.user), "};",
             "services : ("]
    names = ["s%04d" % i for i in range(n)] + (["extra"] if extra else [])
    for i, name in enumerate(names):
        lines.append('  { name = "%s"; address = "127.0.0.1"; port = 0; '
                     'server = %s; }%s' % (name, lc(prog),
                                            "," if i + 1 < len(names) else ""))
    lines.append(");")
    write_file(path, "\n".join(lines) + "\n")
    return names


def table_scale(ctx):
    """Table 4: start-up and SIGHUP reload time with 10, 100 and 1000
    services, and conn/s to one service while 1000 are configured."""
    d = ctx.dir("scale")
    res = {"start_ms": {}, "reload_ms": {}, "samples": {}}
    keep = None
    for n in ctx.scale_sizes:
        starts, reloads = [], []
        for rep in range(ctx.reps):
            sub = os.path.join(d, "n%d-%d" % (n, rep))
            os.makedirs(sub)
            conf = os.path.join(sub, "superd.conf")
            ports = os.path.join(sub, "superd.ports")
            scale_conf(ctx, conf, n)
            s = Server("superd-%d" % n, [ctx.superd, "-F", "-f", conf, "-p",
                                         "", "-P", ports], sub,
                       ports_file=ports)
            w = DirWatch(sub)
            try:
                wait_quiet(ctx)
                s.start()
                t = w.wait("superd.ports", 30)
                if t is None or len(read_ports_file(ports)) != n:
                    raise BenchError("superd with %d services: no complete "
                                     "ports file: %s" % (n, s.stderr_tail()))
                starts.append((t - s.t_exec) * 1000)
                for i in range(ctx.reloads):
                    names = scale_conf(ctx, conf, n, extra=(i % 2 == 0))
                    time.sleep(0.05)
                    t0 = time.monotonic()
                    s.proc.send_signal(signal.SIGHUP)
                    t = w.wait("superd.ports", 30)
                    if t is None:
                        raise BenchError("superd with %d services: no new "
                                         "ports file after SIGHUP" % n)
                    reloads.append((t - t0) * 1000)
                    got = {k[0] for k in read_ports_file(ports)}
                    if got != set(names):
                        raise BenchError("superd with %d services: the ports"
                                         " file after a reload lists %d "
                                         "services, not %d" %
                                         (n, len(got), len(names)))
                if n == max(ctx.scale_sizes) and rep == ctx.reps - 1:
                    keep = s    # the one that serves under load below
            finally:
                w.close()
                if s is not keep:
                    s.stop()
        res["start_ms"][n] = statistics.median(starts)
        res["reload_ms"][n] = statistics.median(reloads)
        res["samples"][n] = {"start_ms": starts, "reload_ms": reloads}
        log("scale: %d services: start %.1f ms, reload %.1f ms" %
            (n, res["start_ms"][n], res["reload_ms"][n]))

    # conn/s to one service: the 1000-service superd against a 1-service one
    try:
        big = keep
        got = read_ports_file(big.ports_file)
        big.ports["reply"] = ("127.0.0.1", got[("s0000", "tcp", "127.0.0.1")])
        one = superd_server(ctx, "superd-1",
                            [("reply", "server = %s;" % lc(ctx.prog("reply")),
                              "tcp", "127.0.0.1")],
                            [("log_connections", "false"), ("instances", "0"),
                             ("user", lc(ctx.user))], "scale")
        start_servers([one])
        if one.failed:
            raise BenchError(one.failed)
        cells = [Cell(one, "reply", 32, W_REPLY, label="1 service"),
                 Cell(big, "reply", 32, W_REPLY,
                      label="%d services" % max(ctx.scale_sizes))]
        warm_up(ctx, cells)
        run_rounds(ctx, [cells], ctx.secs, ctx.reps, "scale conn/s")
        res["cps"] = {c.label: summary(c) for c in cells}
        one.stop()
    finally:
        if keep:
            keep.stop()
    ctx.results["scale"] = res


# ---------------------------------------------------------------------------
# the report


def fmt(v, digits=0):
    if v is None:
        return "–"
    return "{:,.{}f}".format(v, digits)


def cell_of(ctx, table, key):
    return ctx.results.get(table, {}).get("cells", {}).get(key)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


SAMPLE_FIELD = {"cps": "cps", "p50_ms": "p50_us", "p99_ms": "p99_us",
                "cpu_per_1000": "cpu_ms_per_1000"}


def paired(a, b, field):
    """The median over the rounds of a's field over b's, each pair taken
    in the same round: whatever the machine did then, it did to both."""
    if not a or not b:
        return None
    f = SAMPLE_FIELD[field]
    rs = [x[f] / y[f] for x, y in zip(a.get("samples") or [],
                                      b.get("samples") or [])
          if x.get(f) and y.get(f)]
    if not rs:
        return ratio(a.get(field), b.get(field))
    return statistics.median(rs)


def targets(ctx):
    """(label, value text, verdict) per target; verdict PASS, MISS or
    INFO (reported, no bar) or N/A (a side is missing)."""
    out = []

    def get(table, key, field):
        c = cell_of(ctx, table, key)
        return c.get(field) if c else None

    def pr(table, a, b, field="cps"):
        return paired(cell_of(ctx, table, a), cell_of(ctx, table, b), field)

    def add(label, value, bar, higher_better, fmt_="%.2f×"):
        if value is None:
            out.append((label, "n/a", "N/A"))
            return
        ok = value >= bar if higher_better else value <= bar
        out.append((label, (fmt_ % value) + (" (bar %s %s)" % (
            "≥" if higher_better else "≤", fmt_ % bar)),
            "PASS" if ok else "MISS"))

    top = max(ctx.concs)
    s = "superd/c%d" % top
    add("exec'd service conn/s at c=%d, superd / tcpserver" % top,
        pr("exec", s, "tcpserver/c%d" % top), 1.0, True)
    add("exec'd service conn/s at c=%d, superd / vfork-limit" % top,
        pr("exec", s, "vfork-limit/c%d" % top), 0.95, True)
    r = pr("exec", s, "fork-limit/c%d" % top)
    out.append(("exec'd service conn/s at c=%d, superd / fork-limit" % top,
                "n/a" if r is None else "%.2f×" % r,
                "INFO" if r is not None else "N/A"))
    add("superd's own CPU per connection at c=%d / tcpserver's" % top,
        pr("exec", s, "tcpserver/c%d" % top, "cpu_per_1000"), 0.6, False)
    add("p99 latency at c=%d, superd / tcpserver" % top,
        pr("exec", s, "tcpserver/c%d" % top, "p99_ms"), 0.8, False)
    for k, b, p, a, _, _ in BUILTINS:
        if k not in INLINE:
            continue
        add("builtin %s/%s conn/s, superd / in-process ceiling" % (b, p),
            pr("builtins", "superd/" + k, "in-process/" + k), 0.8, True)
    rss = ctx.results.get("exec", {}).get("rss_kb", {})
    r = ratio(rss.get("superd"), rss.get("tcpserver"))
    # VmRSS counts shared library pages: see bench/ANALYSIS.md.
    out.append(("idle RSS, superd / tcpserver", "n/a" if r is None else
                "%.2f× (%s KiB / %s KiB) (bar ≤ 1.00×)"
                % (r, rss.get("superd"), rss.get("tcpserver")),
                "N/A" if r is None else "PASS" if r <= 1.0 else "MISS"))
    mem = ctx.results.get("exec", {}).get("mem_kb", {})
    for key, what in (("pss", "PSS (shared pages divided among their "
                       "users)"), ("private", "private memory")):
        sd_kb, ts_kb = [(mem.get(n) or {}).get(key)
                        for n in ("superd", "tcpserver")]
        r = ratio(sd_kb, ts_kb)
        if r is not None:
            out.append(("idle %s, superd / tcpserver" % what,
                        "%.2f× (%s KiB / %s KiB)" % (r, sd_kb, ts_kb),
                        "INFO"))
    burst = ctx.results.get("burst", {}).get("superd")
    if burst and "burst" in burst:
        b, p = burst["burst"], burst["probe"]
        good = b.get("refused", 0) == 0 and b.get("errors", 0) == 0 and \
            p.get("ok", 0) == 1
        out.append(("default settings, 5 s burst of 32: superd serves all, "
                    "refuses none, answers the probe",
                    "served %d, refused %d, other errors %d, probe %s" % (
                        b.get("ok", 0), b.get("refused", 0),
                        b.get("errors", 0) - b.get("refused", 0),
                        "answered" if p.get("ok") else "not answered"),
                    "PASS" if good else "MISS"))
    else:
        out.append(("default settings burst", "n/a", "N/A"))
    for conc in (1, 4):
        add("UDP wait conn/s at c=%d, superd / vfork-limit" % conc,
            pr("udp", "superd/c%d" % conc, "vfork-limit/c%d" % conc), 0.95,
            True)
    for tags, label in ((("c1", "c4"), "UDP wait: superd loses no request"),
                        (("c1-same",), "UDP wait, the same request again "
                         "and again: superd loses none")):
        lost = [get("udp", "superd/" + t, "lost") for t in tags]
        sent = [get("udp", "superd/" + t, "conns") for t in tags]
        if None in lost:
            out.append((label, "n/a", "N/A"))
        else:
            out.append((label, "%d lost of %d" % (sum(lost), sum(sent)),
                        "PASS" if sum(lost) == 0 else "MISS"))
    if "confine" in ctx.results:
        for key, bar in (("chroot", 0.95), ("tmp_ro", 0.7),
                         ("network", None), ("timeout", 0.9)):
            label = "confined conn/s at c=32, %s / unconfined" % dict(
                (k, lb) for k, lb, _ in CONFINE_CASES)[key]
            r = pr("confine", key + "/c32", "plain/c32")
            if bar is None:
                out.append((label, "n/a" if r is None else "%.2f×" % r,
                            "INFO" if r is not None else "N/A"))
            else:
                add(label, r, bar, True)
    sc = ctx.results.get("scale", {})
    big = max(ctx.scale_sizes)
    add("start-up with %d services (ms)" % big,
        sc.get("start_ms", {}).get(big), 100, False, "%.1f")
    add("SIGHUP reload with %d services (ms)" % big,
        sc.get("reload_ms", {}).get(big), 50, False, "%.1f")
    cps = sc.get("cps", {})
    add("conn/s to one service with %d configured / with 1" % big,
        paired(cps.get("%d services" % big), cps.get("1 service"), "cps"),
        0.9, True)
    top = PROXY_CONCS[0]
    for label, _ in PROXY_CASES[1:]:
        a, b = "%s/c%d" % (label, top), "plain/c%d" % top
        add("%s header read by superd: conn/s at c=%d / without "
            "proxy_protocol" % (label, top), pr("proxy", a, b), 0.95, True)
        add("%s header read by superd: superd's CPU per connection at "
            "c=%d / without" % (label, top),
            pr("proxy", a, b, "cpu_per_1000"), 1.15, False)
    for label, _ in PROXY_CASES[1:]:
        for conc in PROXY_CONCS[1:]:
            a, b = "%s/c%d" % (label, conc), "plain/c%d" % conc
            r = [pr("proxy", a, b, f) for f in ("cps", "cpu_per_1000")]
            out.append(("%s header read by superd at c=%d, conn/s and CPU "
                        "per connection / without" % (label, conc),
                        "n/a" if None in r else "%.2f×, %.2f×" % tuple(r),
                        "N/A" if None in r else "INFO"))
    out.extend(systemd_table.targets(ctx, sys.modules[__name__]))
    return out


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return "%s; %d CPUs; %s; Linux %s" % (cpu, os.cpu_count() or 0, mem,
                                          platform.release())


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def git_rev():
    r = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return r.stdout.strip() or "?"


def foreign_line(cells):
    """How much other work shared the machine with a table's samples."""
    vals = [x.get("foreign_pct") for c in cells if c
            for x in c.get("samples", []) if x.get("foreign_pct") is not None]
    if not vals:
        return ""
    return ("Other work on the machine during these samples: median %.0f %%, "
            "at most %.0f %% of its CPU." % (statistics.median(vals),
                                             max(vals)))


def commands_lines(ctx, table):
    """The report's list of the commands a table's servers ran."""
    return (["Commands:", ""] +
            ["- %s: %s" % (n, cmd)
             for n, cmd in ctx.commands.get(table, {}).items()] + [""])


def report(ctx, started, elapsed, load_before, load_after):
    L = []
    a = L.append
    a("# superd benchmarks")
    a("")
    a("Written by `make bench` (bench/run.py) from one run; every number "
      "below comes from that run. Re-run `make bench` to refresh it.")
    a("")
    a("- date: %s UTC; the run took %.0f s" % (
        started.strftime("%Y-%m-%d %H:%M"), elapsed))
    a("- machine: %s" % machine())
    a("- load average before / after: %s / %s (anything above 0 was other "
      "work on the machine; the rounds are interleaved so that it hits "
      "every server alike)" % (load_before, load_after))
    a("- superd: %s, tree %s" % (ctx.superd_version, ctx.tree))
    for k, (path, ver) in sorted(ctx.anchors.items()):
        pkg = {"inetd": "openbsd-inetd", "xinetd": "xinetd",
               "tcpserver": "ucspi-tcp"}[k]
        a("- %s %s (%s)" % (pkg, ver, "installed with apt" if k ==
                            "tcpserver" else "unpacked privately with "
                            "apt-get download + dpkg-deb -x"))
    missing = {"inetd", "xinetd", "tcpserver"} - set(ctx.anchors)
    if missing:
        a("- not measured (could not be installed): %s" %
          ", ".join(sorted(missing)))
    a("- method: %d rounds, each visiting every server of a table in a "
      "rotated order; %g s per measurement (%g s for the builtins); "
      "medians of the rounds; ± is half the range of conn/s over the "
      "rounds, in %% of the median; a ratio of two servers is the median "
      "of their ratios round by round" % (ctx.reps, ctx.secs,
                                          ctx.builtin_secs))
    a("- other work on the machine: the machine's CPU time (/proc/stat) "
      "less what the server, its instances and loadgen used. Before a "
      "measurement the run waits for it to fall under %.0f %% of the "
      "machine, and a measurement during which it took more than %.0f %% "
      "is taken again (twice at most; the one with the least is kept), "
      "within %.0f s of patience: this run waited %.0f s and measured "
      "again for %.0f s. Under such work a task woken on this kernel may "
      "wait for the next scheduler tick, so busy samples are slow for "
      "every server and their spread grows" % (
          ctx.quiet_pct, ctx.busy_pct, ctx.patience, ctx.waited,
          ctx.retried))
    if os.nice(0) != 0:
        a("- the run was at nice %d" % os.nice(0))
    a("- command: `make bench`, which ran `python3 bench/run.py %s`" %
      " ".join(sys.argv[1:]))
    a("")
    a("Every server listens on 127.0.0.1 (port 0 with the ports file for "
      "superd, a free high port for the others) and starts the same "
      "program: `build/bench/reply` (reads the request line, writes "
      "`superd-bench ok\\n`, exits; statically linked) for TCP, "
      "`build/bench/udpreply` (recvfrom fd 0, sendto, exit) for UDP. "
      "Each service runs as the user who runs the benchmark (%s), so no "
      "server switches identity. A connection is: connect, send "
      "`ping\\n`, read to end of input, check the reply; latency is "
      "connect to end of reply. CPU is the server process's own "
      "run time from /proc/PID/schedstat, in nanoseconds (its children "
      "excluded; every server here is one thread), per 1000 "
      "good replies; RSS is VmRSS after a warm-up, with no client "
      "connected." % ctx.user)
    a("")

    # ---- targets first: what the lead reads
    a("## Targets")
    a("")
    a("```")
    for label, value, verdict in targets(ctx):
        a("%-4s  %s: %s" % (verdict, label, value))
    a("```")
    a("")

    ex = ctx.results.get("exec")
    if ex:
        a("## 1. An exec'd service behind each server")
        a("")
        a("Throttles raised so that none of them limits (commands below). "
          "fork-limit and vfork-limit are bench/forkloop: accept, "
          "fork or vfork, dup2, exec, nothing else. in-process is "
          "bench/inproc answering the same reply with no process created.")
        a("")
        for conc in ctx.concs:
            a("### concurrency %d" % conc)
            a("")
            a("| server | conn/s | ± | p50 ms | p90 ms | p99 ms | max ms | "
              "errors | server CPU ms / 1000 conn | superd / this, conn/s |")
            a("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            sdc = ex["cells"].get("superd/c%d" % conc)
            for name in ex["servers"]:
                c = ex["cells"].get("%s/c%d" % (name, conc))
                if not c or c.get("cps") is None:
                    a("| %s | failed: %s |||||||||" % (
                        name, (c or {}).get("failed") or
                        ex["failed"].get(name, "?")))
                    continue
                a("| %s | %s | %s%% | %s | %s | %s | %s | %d | %s | %s |" % (
                    name, fmt(c["cps"]), fmt(c["spread_pct"]),
                    fmt(c["p50_ms"], 2), fmt(c["p90_ms"], 2),
                    fmt(c["p99_ms"], 2), fmt(c["max_ms"], 1), c["errors"],
                    fmt(c["cpu_per_1000"], 1),
                    fmt(paired(sdc, c, "cps"), 2) + "×" if sdc else "–"))
            a("")
        a(foreign_line(ex["cells"].values()))
        a("")
        a("Idle RSS (KiB): " + ", ".join(
            "%s %s" % (n, fmt(v)) for n, v in ex["rss_kb"].items()
            if v is not None))
        a("")
        a("Idle PSS / private (KiB): " + ", ".join(
            "%s %s / %s" % (n, fmt(v["pss"]), fmt(v["private"]))
            for n, v in ex.get("mem_kb", {}).items() if v))
        a("")
        L.extend(commands_lines(ctx, "exec"))

    cf = ctx.results.get("confine")
    if cf:
        a("## Confinement: the exec'd service confined by superd")
        a("")
        a("One superd, five services starting build/bench/reply: "
          "unconfined; in a chroot holding only that static binary, with "
          "no_new_privs and capabilities = [ \"net_bind_service\" ]; "
          "with private_tmp and read_only (a mount namespace per "
          "instance); with private_network (a network namespace per "
          "instance). Both concurrencies of every service are interleaved "
          "in each round.")
        a("")
        a("| service | clients | conn/s | ± | p50 ms | p99 ms | errors | "
          "superd CPU ms / 1000 conn | this / unconfined, conn/s |")
        a("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for conc in CONFINE_CONCS:
            base = cf["cells"].get("plain/c%d" % conc)
            for key, label, _ in CONFINE_CASES:
                c = cf["cells"].get("%s/c%d" % (key, conc))
                if not c or c.get("cps") is None:
                    a("| %s | %d | failed: %s ||||||" % (
                        label, conc, (c or {}).get("failed") or
                        cf.get("failed") or "?"))
                    continue
                a("| %s | %d | %s | %s%% | %s | %s | %d | %s | %s |" % (
                    label, conc, fmt(c["cps"]), fmt(c["spread_pct"]),
                    fmt(c["p50_ms"], 2), fmt(c["p99_ms"], 2), c["errors"],
                    fmt(c["cpu_per_1000"], 1),
                    fmt(paired(c, base, "cps"), 2) + "×"))
        a("")
        a(foreign_line(cf["cells"].values()))
        a("")
        L.extend(commands_lines(ctx, "confine"))

    ud = ctx.results.get("udp")
    if ud:
        a("## UDP wait mode: one instance per datagram")
        a("")
        a("Each client sends a datagram (a sequence number and `ping`) and "
          "waits 250 ms for the answer; one not answered by then is lost, "
          "and the client goes on from a new socket. In the rows marked "
          "*same* the one client sends the very same bytes (`ping`, no "
          "sequence number) each time, as a client polling a service "
          "does. vfork-limit is bench/forkloop udp: poll, vfork+exec "
          "bench/udpreply with the socket as fd 0, waitpid, poll again.")
        a("")
        a("| server | clients | replies/s | ± | p50 ms | p99 ms | lost | "
          "server CPU ms / 1000 | superd / this |")
        a("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for tag, conc, _ in UDP_CASES:
            sdc = ud["cells"].get("superd/" + tag)
            for name in ud["servers"]:
                c = ud["cells"].get("%s/%s" % (name, tag))
                conc = "1, same" if tag.endswith("same") else str(conc)
                if not c or c.get("cps") is None:
                    a("| %s | %s | failed: %s ||||||" % (
                        name, conc, (c or {}).get("failed") or
                        ud["failed"].get(name, "?")))
                    continue
                a("| %s | %s | %s | %s%% | %s | %s | %d of %d | %s | %s |" % (
                    name, conc, fmt(c["cps"]), fmt(c["spread_pct"]),
                    fmt(c["p50_ms"], 2), fmt(c["p99_ms"], 2), c["lost"],
                    c["conns"], fmt(c["cpu_per_1000"], 1),
                    fmt(paired(sdc, c, "cps"), 2) + "×" if sdc else "–"))
        a("")
        a(foreign_line(ud["cells"].values()))
        a("")
        L.extend(commands_lines(ctx, "udp"))

    bi = ctx.results.get("builtins")
    if bi:
        a("## 2. Builtins: superd, openbsd-inetd's internal services, the "
          "in-process ceiling")
        a("")
        a("%d clients. TCP over 127.0.0.1; UDP over ::1, because "
          "openbsd-inetd does not answer datagrams from 127.0.0.0/8. "
          "openbsd-inetd runs with a private /etc/services (a mount "
          "namespace of its own) so that its internal services, which it "
          "knows only by their official names, get high ports. superd "
          "answers daytime, time and the UDP builtins inside its own "
          "process and forks a child for stream echo (SPEC §5); "
          "openbsd-inetd forks for stream echo too." % bi["conc"])
        a("")
        a("| service | superd conn/s | openbsd-inetd conn/s | in-process "
          "conn/s | superd / in-process | p99 ms (superd / inetd / "
          "in-process) | server CPU ms / 1000 (superd / inetd / in-process) "
          "| errors (superd / inetd / in-process) |")
        a("|---|---:|---:|---:|---:|---|---|---|")
        for k, b, p, addr, _, _ in BUILTINS:
            sd = bi["cells"].get("superd/" + k) or {}
            ie = bi["cells"].get("openbsd-inetd/" + k) or {}
            ip = bi["cells"].get("in-process/" + k) or {}
            a("| %s/%s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s | "
              "%s / %s / %s |" % (
                  b, p, fmt(sd.get("cps")), fmt(ie.get("cps")),
                  fmt(ip.get("cps")),
                  fmt(paired(sd, ip, "cps"), 2),
                  fmt(sd.get("p99_ms"), 2), fmt(ie.get("p99_ms"), 2),
                  fmt(ip.get("p99_ms"), 2), fmt(sd.get("cpu_per_1000"), 1),
                  fmt(ie.get("cpu_per_1000"), 1),
                  fmt(ip.get("cpu_per_1000"), 1), sd.get("errors", "–"),
                  ie.get("errors", "–"), ip.get("errors", "–")))
        a("")
        a("With %d clients a single-threaded loadgen is close to its own "
          "limit for the answers given in-process, so conn/s there tells "
          "less than the server's CPU per answer." % bi["conc"])
        a("")
        a(foreign_line(bi["cells"].values()))
        a("")

    bu = ctx.results.get("burst")
    if bu:
        a("## 3. Default settings: a %g s burst of 32 clients, then one "
          "probe" % ctx.burst_secs)
        a("")
        a("Each server alone, with only the settings a service needs "
          "(commands below). A client waits at most 3 s for its reply, and "
          "one turned away (refused, reset, closed on) tries again 10 ms "
          "later, so those columns count attempts.")
        a("")
        a("| server | served | refused | reset or closed | timed out | "
          "conn/s | p99 ms | probe after the burst | other work % |")
        a("|---|---:|---:|---:|---:|---:|---:|---|---:|")
        for name, r in bu.items():
            if "burst" not in r:
                a("| %s | failed: %s |||||||" % (name, r.get("failed")))
                continue
            b, p = r["burst"], r["probe"]
            if p.get("ok"):
                probe = "answered in %.1f ms" % (p.get("p50_us", 0) / 1000)
            elif p.get("refused"):
                probe = "refused"
            elif p.get("timeout"):
                probe = "no answer in 3 s"
            else:
                probe = "failed (%s)" % ", ".join(
                    "%s %d" % (k, p.get(k, 0)) for k in ("reset", "closed",
                                                          "bad", "other")
                    if p.get(k))
            a("| %s | %d | %d | %d | %d | %s | %s | %s | %s |" % (
                name, b.get("ok", 0), b.get("refused", 0),
                b.get("reset", 0) + b.get("closed", 0) + b.get("bad", 0) +
                b.get("other", 0), b.get("timeout", 0), fmt(b.get("cps")),
                fmt(ms(b.get("p99_us")), 1), probe,
                fmt(b.get("foreign_pct"))))
        a("")
        L.extend(commands_lines(ctx, "burst"))

    sc = ctx.results.get("scale")
    if sc:
        a("## 4. Scale: superd with many services")
        a("")
        a("Every service on 127.0.0.1 port 0. Start-up: from the exec of "
          "superd until its ports file (listing every service) is renamed "
          "into place; reload: from SIGHUP until the new ports file is, the "
          "configuration having one service more or less each time. "
          "Medians of %d start-ups and %d reloads." % (
              ctx.reps, ctx.reps * ctx.reloads))
        a("")
        a("| services | start-up ms | reload ms |")
        a("|---:|---:|---:|")
        for n in ctx.scale_sizes:
            a("| %d | %s | %s |" % (n, fmt(sc["start_ms"].get(n), 1),
                                    fmt(sc["reload_ms"].get(n), 1)))
        a("")
        if sc.get("cps"):
            a("| conn/s to one service, 32 clients | conn/s | ± | p99 ms |"
              " superd CPU ms / 1000 |")
            a("|---|---:|---:|---:|---:|")
            for label, c in sc["cps"].items():
                a("| %s configured | %s | %s%% | %s | %s |" % (
                    label, fmt(c.get("cps")), fmt(c.get("spread_pct")),
                    fmt(c.get("p99_ms"), 2), fmt(c.get("cpu_per_1000"), 1)))
            a("")
            a(foreign_line(sc["cps"].values()))
            a("")

    px = ctx.results.get("proxy")
    if px:
        a("## 5. Behind a load balancer: the PROXY protocol")
        a("")
        a("Table 1's service behind two superd processes: one as in table "
          "1, one whose service has `proxy_protocol` with loadgen's "
          "address in `proxy_from`. loadgen plays the load balancer: in "
          "the PROXY rows each connection starts with a header of that "
          "version, in the same write as the request, naming a client of "
          "its own (10.x.y.z); superd reads it, judges and shows that "
          "client, and starts the program on the bytes after it. %d "
          "rounds, twice table 1's: the ratios are close to 1. Each ratio "
          "is to the row without a header at the same concurrency, paired "
          "round by round." % px["reps"])
        a("")
        a("| header | clients | conn/s | ± | p50 ms | p99 ms | errors | "
          "superd CPU ms / 1000 conn | conn/s / without | CPU per conn / "
          "without |")
        a("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for conc in PROXY_CONCS:
            plain = px["cells"].get("plain/c%d" % conc)
            for label, _ in PROXY_CASES:
                c = px["cells"].get("%s/c%d" % (label, conc))
                name = "none" if label == "plain" else label
                if not c or c.get("cps") is None:
                    a("| %s | %d | failed: %s ||||||||" % (
                        name, conc, (c or {}).get("failed") or "?"))
                    continue
                a("| %s | %d | %s | %s%% | %s | %s | %d | %s | %s | %s |"
                  % (name, conc, fmt(c["cps"]), fmt(c["spread_pct"]),
                     fmt(c["p50_ms"], 2), fmt(c["p99_ms"], 2), c["errors"],
                     fmt(c["cpu_per_1000"], 1),
                     fmt(paired(c, plain, "cps"), 2) + "×",
                     fmt(paired(c, plain, "cpu_per_1000"), 2) + "×"))
        a("")
        a(foreign_line(px["cells"].values()))
        a("")
        L.extend(commands_lines(ctx, "proxy"))
    L.extend(systemd_table.report(ctx, sys.modules[__name__]))
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--superd", required=True)
    ap.add_argument("--out", default=os.path.join(TOP, "BENCHMARKS.md"))
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--patience", type=float, default=120,
                    help="seconds the run may spend waiting for other work "
                    "on the machine to stop, or measuring again")
    ap.add_argument("--nice", type=int, default=0,
                    help="the niceness of the run when root: other work "
                    "on the machine yields to every server alike")
    ap.add_argument("--quick", action="store_true",
                    help="short runs, to try the bench itself")
    ap.add_argument("--no-install", action="store_true",
                    help="use only anchors already there")
    ap.add_argument("--also", action="append", default=[],
                    metavar="NAME=PATH", help="another superd binary to "
                    "measure beside superd in the exec and udp tables (an "
                    "older build, a variant)")
    ap.add_argument("--only", default="exec,confine,udp,builtins,burst,"
                    "scale,proxy,systemd",
                    help="the tables to run")
    ap.add_argument("--concs", default="1,4,32",
                    help="the concurrencies of the exec'd-service table")
    ap.add_argument("--servers", default="",
                    help="only these servers in the exec and udp tables "
                    "(comma-separated names), to look closer at a few")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")

    def on_signal(signo, _frame):
        raise SystemExit("bench: stopped by signal %d" % signo)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    try:
        ctx = Ctx(args)
    except OSError as e:
        sys.exit("bench: %s (make bench builds what it needs first)" % e)
    if os.geteuid() == 0 and args.nice:
        os.nice(args.nice)     # every server, instance and loadgen inherits
    ctx.reps = args.reps
    ctx.concs = tuple(int(c) for c in args.concs.split(","))
    ctx.also = []
    for spec in args.also:
        name, sep, path = spec.partition("=")
        if not sep or not name or name in ("superd", "tcpserver") or \
                not os.access(path, os.X_OK):
            ap.error("--also wants NAME=PATH to an executable superd")
        ctx.also.append((name, ctx.snapshot(path, "also-" + name)))
    ctx.secs = 0.3 if args.quick else 0.5
    ctx.builtin_conc = 32
    ctx.builtin_secs = 0.3
    ctx.burst_secs = 2 if args.quick else 5
    ctx.scale_sizes = (10, 100, 1000)
    # Twice the rounds: the ratios it is read by are close to 1.
    ctx.proxy_reps = 2 * args.reps
    ctx.reloads = 2 if args.quick else 3
    only = set(args.only.split(","))

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    load_before = loadavg()
    try:
        find_anchors(ctx)
        for key in ("inetd", "xinetd"):
            if key in ctx.anchors:
                path, version = ctx.anchors[key]
                ctx.anchors[key] = (ctx.snapshot(path, key), version)
        for name, fn in (("exec", table_exec), ("confine", table_confine),
                         ("udp", table_udp),
                         ("builtins", table_builtins),
                         ("burst", table_burst), ("scale", table_scale),
                         ("proxy", table_proxy),
                         ("systemd", table_systemd)):
            if name in only:
                log("table %s (at %.0f s)" % (name, time.monotonic() - t0))
                try:
                    fn(ctx)
                except Exception as e:      # the other tables still run
                    if not isinstance(e, BenchError):
                        traceback.print_exc()
                    log("table %s failed: %s" % (name, e))
                    ctx.notes.append("table %s failed: %s" % (name, e))
                finally:
                    stop_all()
    finally:
        stop_all()
        shutil.rmtree(ctx.snap, ignore_errors=True)
    elapsed = time.monotonic() - t0
    text = report(ctx, started, elapsed, load_before, loadavg())
    for note in ctx.notes:
        text += "\nNote: %s\n" % note
    text += analysis()
    with open(args.out, "w") as f:
        f.write(text)
    os.makedirs(ctx.build, exist_ok=True)
    raw = os.path.join(ctx.build, os.path.splitext(
        os.path.basename(args.out))[0] + ".json")
    with open(raw, "w") as f:
        json.dump({"results": ctx.results, "commands": ctx.commands},
                  f, indent=1, default=str)
    print()
    for label, value, verdict in targets(ctx):
        print("%-4s  %s: %s" % (verdict, label, value))
    log("wrote %s and %s in %.0f s" % (args.out, raw, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
