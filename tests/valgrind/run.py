#!/usr/bin/env python3
"""Runs superd under valgrind memcheck through connections and reloads.

usage: run.py SUPERD CONNECTIONS RELOADS

superd runs with -d on loopback with a private configuration; the script
makes CONNECTIONS connections (TCP through a forked builtin and an exec'd
program, UDP, UNIX) and RELOADS SIGHUPs alternating between two
configurations (one of them broken, to go through the error path), then
stops superd with SIGTERM.  Valgrind's exit code tells: any memory error
or definitely/indirectly lost block fails the run.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

GOOD = """services : (
  { name = "echo"; address = "127.0.0.1"; port = 0; builtin = "echo"; },
  { name = "cat"; address = "127.0.0.1"; port = 0; server = "/bin/cat";
    user = "%(user)s"; env = [ "A=1" ]; },
  { name = "day"; protocol = "udp"; address = "127.0.0.1"; port = 0;
    builtin = "daytime"; },
  { name = "ux"; protocol = "unix"; path = "%(dir)s/ux.sock";
    server = "/bin/cat"; user = "%(user)s"; }%(extra)s
);
"""
EXTRA = """,
  { name = "extra"; address = "127.0.0.1"; port = 0; builtin = "time";
    allow = [ "127.0.0.0/8" ]; }"""
BROKEN = 'services : ( { name = "x"; port = = 0; } );\n'


def write(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def ports(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except OSError:
        return []


def port_of(entries, name, proto):
    for e in entries:
        if e[0] == name and e[1] == proto:
            return int(e[3])
    raise SystemExit("valgrind run: no %s/%s in the ports file" % (name, proto))


def wait_ports(path, names, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        have = {e[0] for e in ports(path)}
        if names <= have:
            return ports(path)
        if proc.poll() is not None:
            raise SystemExit("valgrind run: superd exited early")
        time.sleep(0.05)
    raise SystemExit("valgrind run: ports file incomplete after %d s" % timeout)


def talk_tcp(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return got
            got += chunk


def talk_udp(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(b"x", ("127.0.0.1", port))
        return s.recv(512)


def talk_unix(path, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return s.recv(4096)


def main():
    superd, nconn, nreload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    d = tempfile.mkdtemp(prefix="superd-valgrind-")
    os.chmod(d, 0o755)
    conf, portsf, log = (os.path.join(d, n) for n in
                         ("superd.conf", "superd.ports", "valgrind.log"))
    user = subprocess.run(["id", "-un"], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()
    good = GOOD % {"user": user, "dir": d, "extra": ""}
    more = GOOD % {"user": user, "dir": d, "extra": EXTRA}
    write(conf, good)
    cmd = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
           "--errors-for-leak-kinds=definite,indirect",
           "--show-leak-kinds=definite,indirect",
           "--suppressions=" + os.path.join(HERE, "superd.supp"),
           "--log-file=" + log, superd, "-d", "-f", conf, "-p", "",
           "-P", portsf]
    with open(os.path.join(d, "superd.stderr"), "wb") as err:
        # valgrind exits on superd's clone(CLONE_VM) launches (superd(8)).
        env = dict(os.environ, SUPERD_SPAWN_VFORK="1")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=err,
                                env=env)
    try:
        es = wait_ports(portsf, {"echo", "cat", "day", "ux"}, proc)
        echo, cat, day = (port_of(es, "echo", "tcp"), port_of(es, "cat", "tcp"),
                          port_of(es, "day", "udp"))
        for i in range(nconn):
            kind = i % 4
            if kind == 0:
                ok = talk_tcp(echo, b"ping %d\n" % i) == b"ping %d\n" % i
            elif kind == 1:
                ok = talk_tcp(cat, b"cat %d\n" % i) == b"cat %d\n" % i
            elif kind == 2:
                ok = talk_udp(day).endswith(b"\r\n")
            else:
                ok = talk_unix(os.path.join(d, "ux.sock"), b"u\n") == b"u\n"
            if not ok:
                raise SystemExit("valgrind run: connection %d got a wrong answer" % i)
        texts = (more, BROKEN, good)
        for i in range(nreload):
            write(conf, texts[i % 3])
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.02)
        write(conf, more)
        proc.send_signal(signal.SIGHUP)
        wait_ports(portsf, {"extra"}, proc)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(log) as f:
        report = f.read()
    if rc != 0 or report.strip():
        sys.stdout.write(report)
        print("valgrind run: FAILED (exit %d); log in %s" % (rc, d))
        return 1
    print("valgrind run: %d connections, %d reloads: no error, no leak"
          % (nconn, nreload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
