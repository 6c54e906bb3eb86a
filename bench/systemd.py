"""The systemd table of `make bench`: superd's exec'd service, unconfined
and confined three ways, against systemd `Accept=yes` socket units with
the equivalent settings, in one machine, in one run.

The machine is the one of the real-systemd test tier
(tests/systemd/machine.py: the host's systemd booted as PID 1 of private
namespaces over an overlay of /, every unit of the host's targets
masked).  In it run a socket unit per case (Accept=yes on 127.0.0.1, its
throttles raised) with a template service starting bench/reply, and one
superd (entered into the machine's mount and network namespaces only:
its pid stays the host's) with one service per case starting the same
file.  loadgen runs in the machine's network namespace, so both sides
are measured over the same loopback, every cell interleaved in each
round.  Per connection: conn/s, the server's own CPU (superd; systemd's
PID 1) and the server with every instance it reaped (/proc/PID/stat
utime+stime+cutime+cstime), as ratios superd / systemd.

table(ctx, bench) is called by bench/run.py with itself as bench (the
module the run started, whose Server, Cell and rounds it uses).  Skips,
saying why, where a machine cannot be booted (not root, no systemd, no
overlayfs, no cgroup2), and leaves out a confined case (saying why) when
the superd measured rejects its settings (`superd -t`)."""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
# After the standard library's, so that nothing of the tests shadows it.
sys.path.append(os.path.join(TOP, "tests", "systemd"))
sys.path.append(os.path.join(TOP, "tests", "it"))

import harness  # noqa: E402
import machine  # noqa: E402

# (key, label, the superd service's settings, the systemd template
# service's settings).  {jail} is the directory holding only the static
# program, the chroot and the RootDirectory= alike.
CASES = [
    ("plain", "unconfined", "", []),
    ("chroot", "chroot + no_new_privs + capabilities",
     'chroot = "{jail}"; no_new_privs = true; '
     'capabilities = [ "net_bind_service" ];',
     ["RootDirectory={jail}", "NoNewPrivileges=yes",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"]),
    ("tmp_ro", "private_tmp + read_only",
     "private_tmp = true; read_only = true;",
     ["PrivateTmp=yes", "ProtectSystem=strict"]),
    ("network", "private_network", "private_network = true;",
     ["PrivateNetwork=yes"]),
]
CONCS = (32, 1)
BAR = 5.0           # superd confined / systemd alike, conn/s (issue 18)

# Inside the machine (its /srv is the overlay's, not the host's).
DIR = "/srv/superd-bench"
PROG = DIR + "/reply"
JAIL = DIR + "/jail"
UNITS = "/etc/systemd/system"
FIRST_PORT = 7100   # the machine's network namespace has nothing else

# The throttles of an Accept=yes socket, raised so that none limits: the
# trigger limit off (0), more connections than any run keeps open, and
# superd's backlog.  LogLevelMax=notice keeps PID 1's two lines per
# connection (started, deactivated) out of the log, as superd's
# log_connections = false does.
SOCKET_UNIT = """[Socket]
ListenStream=127.0.0.1:{port}
Accept=yes
Backlog=128
TriggerLimitBurst=0
MaxConnections=4096
MaxConnectionsPerSource=4096
"""
SERVICE_UNIT = """[Service]
ExecStart={prog}
StandardInput=socket
LogLevelMax=notice
{confine}
"""


def table(ctx, bench):
    why = machine.requirements()
    if why:
        return skip(ctx, bench, why)
    m = machine.Machine(ctx.dir("systemd-machine"), name="superd-bench")
    try:
        try:
            m.boot()
        except (harness.Skip, harness.Fail) as e:
            return skip(ctx, bench, "the machine did not boot: %s" % e)
        run(ctx, bench, m)
    finally:
        m.stop()


def skip(ctx, bench, why):
    bench.log("table systemd skipped: %s" % why)
    ctx.results["systemd"] = {"skipped": why}


def run(ctx, bench, m):
    os.makedirs(m.path(JAIL))
    for d in (DIR, JAIL):       # superd -t refuses a chroot others write
        os.chmod(m.path(d), 0o755)
    shutil.copy2(ctx.prog("reply"), m.path(PROG))
    shutil.copy2(ctx.prog("reply"), m.path(JAIL + "/reply"))
    cases, left_out = accepted_cases(ctx, bench, m)
    units = install_units(ctx, bench, m, cases)
    sd = superd_server(ctx, bench, m, "superd", cases)
    up = bench.start_servers([sd])
    try:
        cells = []
        for conc in CONCS:
            for key, _, _, _ in cases:
                cells.append(bench.Cell(sd, key, conc, bench.W_REPLY,
                                        label="superd"))
                cells.append(bench.Cell(units[key], "reply", conc,
                                        bench.W_REPLY, label="systemd"))
        bench.warm_up(ctx, cells)
        # systemd serves tens of connections a second: a longer sample
        # than the other tables', so that each counts more than a few.
        ctx.systemd_secs = 2 * ctx.secs
        bench.run_rounds(ctx, [cells], ctx.systemd_secs, ctx.reps,
                         "systemd")
        res = {"cells": {}, "left_out": left_out,
               "mounts": mount_count(m), "failed": {}}
        for c in cells:
            key = c.key if c.label == "superd" else c.server.key
            s = bench.summary(c)
            s["tree_per_1000"] = tree_per_1000(c)
            res["cells"]["%s/%s/c%d" % (c.label, key, c.conc)] = s
        for s in [sd] + list(units.values()):
            if s.failed:
                res["failed"][s.name] = s.failed
        res["units"] = {key: unit_text(cases, key) for key, _, _, _ in cases}
        ctx.results["systemd"] = res
    finally:
        for s in up:
            s.stop()


def accepted_cases(ctx, bench, m):
    """The cases whose settings the superd measured accepts (`superd -t`
    inside the machine), and {label: why} for those it does not."""
    cases, left_out = [], {}
    for case in CASES:
        key, label, body, _ = case
        if not body:
            cases.append(case)
            continue
        s = superd_server(ctx, bench, m, "check-" + key, [case])
        r = subprocess.run(s.argv[:s.argv.index("-F")] +
                           ["-t", "-f", s.argv[s.argv.index("-f") + 1]],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode == 0:
            cases.append(case)
        else:
            # Its first complaint, without the temporary file's name.
            first = (r.stdout.strip().split("\n") or [""])[0]
            left_out[label] = "`superd -t` rejects its settings: %s" % (
                first.split(": ", 1)[-1][:200])
            bench.log("systemd: %s left out: %s" % (label, left_out[label]))
    return cases, left_out


def superd_server(ctx, bench, m, name, cases):
    """A superd whose configuration and binary are copied into the
    machine at their host paths, started in the machine's mount and
    network namespaces; its ports file is read from the host through
    /proc/PID1/root."""
    s = bench.superd_server(
        ctx, name, [(key, "server = %s; %s" % (
            bench.lc("/reply" if key == "chroot" else PROG),
            body.format(jail=JAIL)), "tcp", "127.0.0.1")
            for key, _, body, _ in cases],
        [("log_connections", "false"), ("instances", "0"),
         ("user", bench.lc(ctx.user))], "systemd")
    conf = s.argv[s.argv.index("-f") + 1]
    for path in (ctx.superd, conf):
        os.makedirs(os.path.dirname(m.path(path)), exist_ok=True)
        shutil.copy2(path, m.path(path))
    s.ports_file = m.path(s.ports_file)
    s.argv = ["nsenter", "-t", str(m.pid1), "--mount", "--net"] + s.argv
    s.netns = "/proc/%d/ns/net" % m.pid1
    return s


def unit_text(cases, key):
    confine = dict((k, settings) for k, _, _, settings in cases)[key]
    return SERVICE_UNIT.format(prog="/reply" if key == "chroot" else PROG,
                               confine="\n".join(confine).format(jail=JAIL))


def install_units(ctx, bench, m, cases):
    """A socket unit and its template service per case, started; returns
    {key: a bench Server of that unit}."""
    units = {}
    for i, (key, _, _, _) in enumerate(cases):
        port = FIRST_PORT + i
        name = "superd-bench-" + key
        m.write("%s/%s.socket" % (UNITS, name), SOCKET_UNIT.format(port=port))
        m.write("%s/%s@.service" % (UNITS, name), unit_text(cases, key))
        units[key] = unit_server(bench, m, name, key, port, ctx.dir("systemd"))
    m.sh("systemctl daemon-reload")
    m.sh("systemctl start %s" % " ".join(u.unit + ".socket"
                                          for u in units.values()))
    for key, u in units.items():
        check_unit(bench, m, u.unit + ".socket", ["ActiveState=active"] +
                   SOCKET_UNIT.split("\n")[2:-1])
        # systemd ignores a setting it does not know, with a log line only.
        settings = [s.format(jail=JAIL) for k, _, _, confine in cases
                    if k == key for s in confine]
        check_unit(bench, m, u.unit + "@check.service", settings)
    ctx.commands["systemd"] = {
        "superd": "superd -F -f superd.conf in the machine's mount and "
        "network namespaces, one service per case: `server = \"%s\";` and "
        "the settings in the table (the chroot's: `server = \"/reply\";`)"
        % PROG,
        "systemd": "per case superd-bench-CASE.socket: `%s` and "
        "superd-bench-CASE@.service: `%s` with the settings in the table" % (
            "; ".join(SOCKET_UNIT.format(port="PORT").split("\n")[1:-1]),
            "; ".join(SERVICE_UNIT.format(prog=PROG, confine="")
                      .split("\n")[1:-2]))}
    return units


def check_unit(bench, m, unit, settings):
    """That systemd has each KEY=VALUE of settings for unit."""
    want = dict(s.split("=", 1) for s in settings)
    got = m.unit(unit, *want)
    for k, v in want.items():
        if got.get(k, "").lower() != v.lower():
            raise bench.BenchError("%s has %s=%s, not %s" % (
                unit, k, got.get(k), v))


def mount_count(m):
    """The mounts a read-only remount walks: the machine's."""
    try:
        with open("/proc/%d/mountinfo" % m.pid1) as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def unit_server(bench, m, unit, key, port, workdir):
    """A socket unit of the machine as a bench Server: PID 1 serves it,
    and the machine's life is its life (the table stops the machine)."""

    class _UnitServer(bench.Server):
        def __init__(self):
            super().__init__("systemd " + key, [], workdir,
                             ports={"reply": ("127.0.0.1", port)})
            self.unit = unit
            self.key = key
            self.netns = "/proc/%d/ns/net" % m.pid1

        @property
        def pid(self):
            return m.pid1

        def alive(self):
            return m.proc is not None and m.proc.poll() is None

        def start(self):
            pass

        def stop(self):
            pass

        def stderr_tail(self):
            return m.console_tail(5)

    return _UnitServer()


def tree_per_1000(cell):
    """The median over the samples of the CPU of the server and every
    instance it reaped, in ms per 1000 good answers."""
    vals = [s["tree_cpu_ms"] * 1000.0 / s["ok"] for s in cell.samples
            if s.get("ok") and "tree_cpu_ms" in s]
    vals.sort()
    return vals[len(vals) // 2] if vals else None


# ---------------------------------------------------------------------------
# the report


def pair(res, key, conc, bench, field):
    a = res["cells"].get("superd/%s/c%d" % (key, conc))
    b = res["cells"].get("systemd/%s/c%d" % (key, conc))
    if field == "tree_per_1000":
        return bench.ratio((a or {}).get(field), (b or {}).get(field))
    return bench.paired(a, b, field)


def targets(ctx, bench):
    """(label, value text, verdict): every confined case at every
    concurrency, superd ≥ BAR× its systemd equivalent in conn/s."""
    res = ctx.results.get("systemd")
    if not res or "cells" not in res:
        return []
    out = []
    for conc in CONCS:
        for key, label, _, _ in CASES:
            what = "conn/s at c=%d, superd / systemd Accept=yes, %s" % (
                conc, label)
            r = pair(res, key, conc, bench, "cps")
            if r is None:
                out.append((what, "n/a", "N/A"))
            elif key == "plain":
                out.append((what, "%.2f×" % r, "INFO"))
            else:
                out.append((what, "%.2f× (bar ≥ %.2f×)" % (r, BAR),
                            "PASS" if r >= BAR else "MISS"))
    return out


def report(ctx, bench):
    res = ctx.results.get("systemd")
    if not res:
        return []
    L = ["## systemd Accept=yes against superd, confined alike", ""]
    a = L.append
    if "skipped" in res:
        return L + ["Skipped: %s." % res["skipped"], ""]
    fmt = bench.fmt
    a("The host's %s, booted as PID 1 of private pid, mount, "
      "network, uts, ipc and cgroup namespaces over an overlay of / on a "
      "tmpfs, every unit of the host's targets masked, as in the "
      "real-systemd test tier (tests/systemd/machine.py); %s mounts in "
      "its mount namespace. In it, per case, a socket unit `Accept=yes` "
      "on 127.0.0.1 with its throttles raised and a template service "
      "starting build/bench/reply (statically linked, on the machine's "
      "overlay), and one superd, in the machine's mount and network "
      "namespaces, with one service per case starting the same file. "
      "loadgen runs in the machine's network namespace. %d rounds, every "
      "cell interleaved in each, %g s per measurement." % (
          systemd_version(), fmt(res.get("mounts")), ctx.reps,
          getattr(ctx, "systemd_secs", ctx.secs)))
    a("")
    a("The systemd equivalents, the closest there are: chroot ↔ "
      "`RootDirectory=` on the same directory holding only the program "
      "(both chroot(2) into it); no_new_privs ↔ `NoNewPrivileges=yes`; "
      "capabilities = [ \"net_bind_service\" ] for a root instance ↔ "
      "`CapabilityBoundingSet=CAP_NET_BIND_SERVICE`; private_tmp ↔ "
      "`PrivateTmp=yes`; read_only ↔ `ProtectSystem=strict` (read_only "
      "leaves only the private /tmp writable, strict also /dev, /proc and "
      "/sys); private_network ↔ `PrivateNetwork=yes`. Both run the "
      "instance as %s. Where the two differ, systemd was given the "
      "cheaper side: its instances' stderr is the connection (its "
      "default), superd's goes to its log (superd's default), and "
      "`LogLevelMax=notice` keeps PID 1's per-connection lines out, as "
      "log_connections = false does for superd." % ctx.user)
    a("")
    a("CPU per connection: *own* is the server process alone (superd; "
      "systemd's PID 1), from its run time (/proc/PID/schedstat); *with "
      "instances* adds every process it reaped (utime+stime+cutime+cstime "
      "of /proc/PID/stat: the instances, and under systemd the forked "
      "child that sets up the sandbox before exec). Ratios are superd / "
      "systemd, paired round by round for conn/s.")
    a("")
    a("| case | clients | superd conn/s | systemd conn/s | superd / "
      "systemd conn/s | p99 ms (superd / systemd) | own CPU ms / 1000 "
      "(superd / systemd PID 1) | with instances (superd / systemd) | "
      "superd / systemd CPU with instances | errors (superd / systemd) |")
    a("|---|---:|---:|---:|---:|---|---|---|---:|---|")
    for conc in CONCS:
        for key, label, _, _ in CASES:
            if label in res["left_out"]:
                a("| %s | %d | left out (below) ||||||||" % (label, conc))
                continue
            s = res["cells"].get("superd/%s/c%d" % (key, conc)) or {}
            y = res["cells"].get("systemd/%s/c%d" % (key, conc)) or {}
            a("| %s | %d | %s | %s | %s | %s / %s | %s / %s | %s / %s | "
              "%s | %s / %s |" % (
                  label, conc, fmt(s.get("cps")), fmt(y.get("cps")),
                  fmt(pair(res, key, conc, bench, "cps"), 1) + "×",
                  fmt(s.get("p99_ms"), 1), fmt(y.get("p99_ms"), 1),
                  fmt(s.get("cpu_per_1000"), 0),
                  fmt(y.get("cpu_per_1000"), 0),
                  fmt(s.get("tree_per_1000"), 0),
                  fmt(y.get("tree_per_1000"), 0),
                  fmt(pair(res, key, conc, bench, "tree_per_1000"), 2) + "×",
                  s.get("errors", "–"), y.get("errors", "–")))
    a("")
    for label, why in res["left_out"].items():
        a("- %s left out: %s" % (label, why))
    for name, why in res.get("failed", {}).items():
        a("- %s failed: %s" % (name, why))
    a(bench.foreign_line(res["cells"].values()))
    a("")
    L.extend(bench.commands_lines(ctx, "systemd"))
    a("The template services (one per case):")
    a("")
    for key, text in res.get("units", {}).items():
        a("- %s: `%s`" % (key, "; ".join(text.split("\n")[1:-1]).rstrip(
            "; ")))
    a("")
    return L


def systemd_version():
    try:
        r = subprocess.run([machine.SYSTEMD, "--version"],
                           stdout=subprocess.PIPE, text=True)
        return r.stdout.split("\n")[0]
    except OSError:
        return "systemd ?"
