"""Fault cases 47 and 48 of tests/FAULTS.md: what a program gets and what it
does not (descriptors, environment, signals, umask, identity, limits)."""

import os
import pwd
import re
import socket

import faultkit
from faultkit import Notify
from harness import (check, need_root, python3, read_until_eof, service,
                     connect)

# Prints what the program was handed, one "key: value" line each.  The
# descriptors are listed first, straight to the connection, before the
# shell makes a pipe of its own.
PROBE = r"""
ls -l /proc/$$/fd
echo "umask: $(umask)"
grep -E '^(NoNewPrivs|SigBlk|SigIgn|Uid|Gid|Groups):' /proc/$$/status |
    sed 's/^/status: /'
tr '\0' '\n' </proc/$$/environ | sed 's/^/env: /'
echo end
"""


def probe(t, sd, name, script):
    s = connect(sd.port(name))
    try:
        text = read_until_eof(s).decode("utf-8", "replace")
    finally:
        s.close()
    check(text.endswith("end\n"), "the probe did not finish: %r"
          % text[-200:])
    out = {"fd": {}, "env": {}, "status": {}}
    for line in text.splitlines():
        m = re.search(r" (\d+) -> (.*)$", line)
        if m and not line.startswith(("env:", "status:")):
            if m.group(2) != script:    # the shell's own script descriptor
                out["fd"][int(m.group(1))] = m.group(2)
            continue
        key, _, value = line.partition(": ")
        if key == "env":
            k, _, v = value.partition("=")
            out["env"][k] = v
        elif key == "status":
            k, _, v = value.partition(":")
            out["status"][k] = v.split()
        elif key == "umask":
            out[key] = value.strip()
    return out


def test_nothing_of_superd_reaches_a_program(t):
    script = t.script("probe.sh", PROBE)
    n = Notify(t)
    # superd inherits a descriptor of its own starter, has a pid file, a
    # notification socket, listeners of every kind and a stderr pipe, and
    # systemd's variables in its environment.
    r, w = os.pipe()
    t.write("superd.pid", "")
    env = {"NOTIFY_SOCKET": n.path, "LISTEN_FDS": "1",
           "LISTEN_PID": "1", "LISTEN_FDNAMES": "x", "WATCHDOG_USEC":
           "1000000", "WATCHDOG_PID": "1", "INVOCATION_ID": "0123"}
    svcs = [service("probe", server="/bin/sh", args=[script]),
            service("u", protocol="udp", builtin="echo"),
            service("x", protocol="unix", path=t.path("x.sock"),
                    server="/bin/true")]
    conf = t.conf(svcs, name="superd.conf")
    sd = faultkit.HookedSuperd(t, conf, env=env,
                               popen={"pass_fds": (r, w), "umask": 0o077})
    sd.pidfile = t.path("superd.pid")
    sd.launch()
    os.close(r)
    os.close(w)
    sd.wait_ready([("probe", "tcp"), ("u", "udp"), ("x", "unix")])
    n.expect("READY=1")
    got = probe(t, sd, "probe", script)
    check(sorted(got["fd"]) == [0, 1, 2], "open descriptors %s, not only "
          "0 1 2" % sorted(got["fd"].items()))
    check(re.fullmatch(r"socket:\[\d+\]", got["fd"][0]) and
          got["fd"][0] == got["fd"][1], "fd 0 and 1 are %r and %r, not the "
          "connection" % (got["fd"][0], got["fd"][1]))
    leaked = sorted(k for k in got["env"] if k.startswith(
        ("LISTEN_", "WATCHDOG_", "NOTIFY_", "INVOCATION_")))
    check(not leaked, "systemd's variables reached the program: %s" % leaked)
    check(got["status"]["SigBlk"] == ["0000000000000000"],
          "blocked signals: %s" % got["status"]["SigBlk"])
    check(got["status"]["NoNewPrivs"] == ["0"], "NoNewPrivs is %s: setuid "
          "programs could not work" % got["status"]["NoNewPrivs"])
    # superd itself runs with umask 077 here; programs get 022 (as under
    # inetd), whatever superd was started with.
    check(got["umask"] == "0022", "umask %s, not 0022" % got["umask"])


def test_privilege_drop_and_limits_are_complete(t):
    need_root("switch a service to nobody")
    nobody = pwd.getpwnam("nobody")
    check_ids = t.write("ids.py", "\n".join([
        "import os, resource",
        "for f in ('setuid', 'seteuid', 'setgid'):",
        "    try:",
        "        getattr(os, f)(0)",
        "        print(f, 'succeeded')",
        "    except PermissionError:",
        "        print(f, 'EPERM')",
        "try:",
        "    os.setgroups([0])",
        "    print('setgroups succeeded')",
        "except PermissionError:",
        "    print('setgroups EPERM')",
        "print('ids', *os.getresuid(), *os.getresgid())",
        "print('groups', *sorted(os.getgroups()))",
        "for n in ('CPU', 'AS', 'NOFILE', 'NPROC', 'FSIZE'):",
        "    print('limit', n, *resource.getrlimit(getattr(resource,",
        "          'RLIMIT_' + n)))",
        "print('nice', os.nice(0))",
        ""]))
    sd = faultkit.start_hooked(t, [service(
        "dropped", server=python3(), args=[check_ids], nice=5,
        limits={"cpu": 7, "memory": "512M", "files": 40, "processes": 33,
                "fsize": "1M"})])
    s = connect(sd.port("dropped"))
    out = read_until_eof(s).decode()
    s.close()
    lines = dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)
    for f in ("setuid", "seteuid", "setgid", "setgroups"):
        check(lines.get(f) == "EPERM", "%s(0) as nobody: %s" % (f,
                                                              lines.get(f)))
    uid, gid = nobody.pw_uid, nobody.pw_gid
    check(lines.get("ids") == "%d %d %d %d %d %d" % ((uid,) * 3 + (gid,) * 3),
          "real/effective/saved ids: %s" % lines.get("ids"))
    want = sorted(set(os.getgrouplist("nobody", gid)))
    check(lines.get("groups") == " ".join(map(str, want)),
          "supplementary groups %s, not nobody's %s" % (lines.get("groups"),
                                                        want))
    limits = {"CPU": 7, "AS": 512 << 20, "NOFILE": 40, "NPROC": 33,
              "FSIZE": 1 << 20}
    for name, v in limits.items():
        check(lines.get("limit") is not None and
              ("%s %d %d" % (name, v, v)) in out, "limit %s is not %d: %r"
              % (name, v, out))
    check(lines.get("nice") == "5", "nice %s, not 5" % lines.get("nice"))


def test_udp_wait_program_gets_only_its_socket(t):
    # A wait program gets the bound datagram socket as 0 and 1 and nothing
    # else, although superd holds other listeners and pipes.
    prog = t.write("fds.py", "\n".join([
        "import os, socket",
        "s = socket.socket(fileno=0)",
        "data, peer = s.recvfrom(100)",
        "fds = []",
        "for n in os.listdir('/proc/self/fd'):",
        "    try:",
        "        fds.append((int(n), os.readlink('/proc/self/fd/' + n)))",
        "    except OSError:",
        "        pass",
        "s.sendto(repr(sorted(fds)).encode(), peer)",
        ""]))
    sd = faultkit.start_hooked(t, [
        service("dg", protocol="udp", wait=True, server=python3(),
                args=[prog]),
        service("tcpone", server="/bin/echo", args=["x"])])
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    c.settimeout(5)
    c.sendto(b"?", ("127.0.0.1", sd.port("dg", "udp")))
    fds = eval(c.recv(4096).decode(), {})
    nums = [n for n, _ in fds]
    check(nums == [0, 1, 2], "the wait program has descriptors %s" % fds)
    check(fds[0][1] == fds[1][1] and fds[0][1].startswith("socket:"),
          "fd 0 and 1 are not the one datagram socket: %s" % fds)
