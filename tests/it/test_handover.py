"""Listening sockets handed to superd (systemd's LISTEN_FDS protocol, from
systemd-socket-activate or the file descriptor store) and handed to
systemd's store to outlive a restart."""

import array
import os
import shutil
import socket
import subprocess

from harness import (HERE, Report, Skip, check, connect, connect_unix,
                     read_line, read_until_eof, service, tag, wait_for)

LISTEN_FDS = os.path.join(HERE, "listen_fds.py")


def echo(name, **settings):
    return service(name, server="/bin/cat", **settings)


class Store:
    """systemd's side of NOTIFY_SOCKET, with its file descriptor store:
    FDSTORE=1 keeps the descriptor sent under its FDNAME, FDSTOREREMOVE=1
    drops it."""

    def __init__(self, t):
        self.path = t.path("notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        t.socks.append(self.sock)
        self.fds = {}           # FDNAME -> descriptor
        self.removed = []
        self.t = t

    def take(self, timeout=0.2):
        """Reads what has come; False when nothing came within timeout."""
        self.sock.settimeout(timeout)
        fds = array.array("i")
        try:
            msg, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(
                16 * fds.itemsize))
        except socket.timeout:
            return False
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        fields = dict(f.split("=", 1) for f in msg.decode().split("\n")
                      if "=" in f)
        name = fields.get("FDNAME", "")
        if fields.get("FDSTORE") == "1":
            check(len(fds) == 1, "FDSTORE=1 came with %d descriptors"
                  % len(fds))
            self.fds[name] = fds[0]
            self.t.socks.append(socket.socket(fileno=fds[0]))
        elif fields.get("FDSTOREREMOVE") == "1":
            self.removed.append(name)
            self.fds.pop(name, None)
        return True

    def wait(self, cond, what, timeout=5.0):
        wait_for(lambda: self.take() and False or cond(), timeout, what)


def stored_port(fd):
    s = socket.socket(fileno=os.dup(fd))
    try:
        return s.getsockname()[1]
    finally:
        s.close()


def test_socket_activation_hands_tcp_and_unix_listeners(t):
    """systemd-socket-activate's sockets are the services' listeners: a
    TCP one matched by address and port, a UNIX one by path; one that no
    service wants is closed and logged; the program sees no LISTEN_*."""
    if not shutil.which("systemd-socket-activate"):
        raise Skip("no systemd-socket-activate (Debian's systemd package)")
    port, spare = free_port(), free_port()
    path = t.path("sa.sock")
    script = t.copy_helper("report.sh")
    svcs = [service("satcp", server="/bin/sh", args=[script], port=port),
            echo("saunix", protocol="unix", path=path)]
    sd = t.start(svcs, ready=False, wrapper=[
        "systemd-socket-activate", "-l", "127.0.0.1:%d" % port, "-l", path,
        "-l", "127.0.0.1:%d" % spare, "--fdname=web:local:spare"])
    # systemd-socket-activate runs superd at the first connection, which
    # waits in the handed socket's backlog meanwhile.
    s = wait_for(lambda: try_connect(port), 5, "the activated port")
    s.sendall(b"ping\n")
    r = Report(read_until_eof(s).decode(), script)
    s.close()
    sd.wait_log(tag("satcp") + r": listening on tcp 127\.0\.0\.1 port %d "
                r"\(handed over\)" % port)
    sd.wait_log(tag("saunix") + r": listening on unix .*sa\.sock "
                r"\(handed over\)")
    sd.wait_log(r"inherited socket spare \(descriptor 5\) is wanted by no "
                r"service, closed")
    leaked = [k for k in r.env if k.startswith("LISTEN_")]
    check(not leaked, "the program saw %s" % leaked)
    u = connect_unix(path)
    u.sendall(b"over unix\n")
    check(read_line(u) == b"over unix", "the handed UNIX socket does not "
          "serve")
    u.close()
    check("bind" not in sd.log(), "superd bound a socket it was handed: %s"
          % sd.log())
    sd.stop()
    check(os.path.exists(path), "superd removed the node of a UNIX socket "
          "it did not bind")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def try_connect(port):
    try:
        return connect(port)
    except OSError:
        return None


def test_fd_store_keeps_listeners_across_a_restart(t):
    """With NOTIFY_SOCKET superd stores every listener (one name each), a
    reload's retired listener leaves the store, and a stop leaves the
    rest: a client connecting while no superd runs waits in the backlog
    and is served by the next superd, handed the stored sockets, on the
    same port of the kernel's choice."""
    store = Store(t)
    env = {"NOTIFY_SOCKET": store.path}
    svcs = [echo("keep"), echo("drop")]
    sd = t.start(svcs, env=env)
    port = sd.port("keep")
    store.wait(lambda: len(store.fds) == 2, "two listeners stored")
    names = sorted(store.fds)
    check([n.rsplit("/", 1)[0] for n in names] == ["drop/0", "keep/0"],
          "stored names %s" % names)
    drop_name = [n for n in names if n.startswith("drop/")][0]
    t.conf([echo("keep")], name="superd.conf")
    sd.reload()
    store.wait(lambda: store.removed, "FDSTOREREMOVE for the retired one")
    check(store.removed == [drop_name], "removed %s, not %s" %
          (store.removed, drop_name))
    sd.stop()
    check(sd.proc.returncode == 0, "superd exited %s" % sd.proc.returncode)
    waiting = connect(port)         # the kernel queues it meanwhile
    waiting.sendall(b"queued\n")
    fds = [store.fds[n] for n in sorted(store.fds)]
    sd2 = t.start(conf=t.path("superd.conf"), label="second", wait=[
        ("keep", "tcp")], env=env, pass_fds=fds,
        wrapper=[LISTEN_FDS, ",".join(map(str, fds)),
                 ":".join(sorted(store.fds))])
    check(sd2.port("keep") == port, "the port moved from %d to %d" %
          (port, sd2.port("keep")))
    sd2.wait_log(tag("keep") + r": listening on tcp 127\.0\.0\.1 port %d "
                 r"\(handed over\)" % port)
    check(read_line(waiting) == b"queued", "the client queued across the "
          "restart was not served")
    waiting.close()
