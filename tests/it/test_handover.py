"""Listening sockets handed to superd (systemd's LISTEN_FDS protocol, from
systemd-socket-activate or the file descriptor store) and handed to
systemd's store to outlive a restart."""

import array
import os
import re
import shutil
import socket
import subprocess

from faultkit import recv_some
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
        self.pidfds = []        # stored instances' (closed by close())
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
            if name.startswith("@instance/"):
                self.pidfds.append(fds[0])
            else:
                self.t.socks.append(socket.socket(fileno=fds[0]))
        elif fields.get("FDSTOREREMOVE") == "1":
            self.removed.append(name)
            self.fds.pop(name, None)
        return True

    def close(self):
        for fd in self.pidfds:
            os.close(fd)
        self.pidfds = []

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


def restarted(t, store, label, wait):
    """A superd started as systemd starts the next one: handed every
    descriptor of the store."""
    names = sorted(store.fds)
    fds = [store.fds[n] for n in names]
    return t.start(conf=t.path("superd.conf"), label=label, wait=wait,
                   env={"NOTIFY_SOCKET": store.path}, pass_fds=fds,
                   wrapper=[LISTEN_FDS, ",".join(map(str, fds)),
                            ":".join(names)])


def stored_instance(store):
    """The name of the running instance a stop handed to the store."""
    store.wait(lambda: any(n.startswith("@instance/") for n in store.fds),
               "the running instance stored")
    return [n for n in store.fds if n.startswith("@instance/")][0]


def test_running_instances_stay_counted_across_a_restart(t):
    """A stop hands each running instance to the store as a pidfd; the next
    superd counts it: with instances = 1 a second client waits while the
    first one's instance, started by the previous superd, runs; that
    instance's end is logged, leaves the store and frees the slot.  The
    service is named "instance": its listener's stored name is no
    instance's."""
    store = Store(t)
    one = service("instance", server="/bin/sh", instances=1,
                  log_connections=True, args=["-c", "read x; echo $x"])
    t.conf([one], name="superd.conf")
    sd = t.start(conf=t.path("superd.conf"), wait=[("instance", "tcp")],
                 env={"NOTIFY_SOCKET": store.path})
    port = sd.port("instance")
    first = connect(port)
    t.socks.append(first)
    m = sd.wait_log(tag("instance") + r": start pid=(\d+)")
    pid = int(m.group(1))
    sd.stop()
    name = stored_instance(store)
    check(re.fullmatch(r"@instance/%d/\d+/instance/127\.0\.0\.1" % pid,
                       name), "the instance is stored as %s" % name)
    sd2 = restarted(t, store, "second", [("instance", "tcp")])
    try:
        sd2.wait_log(tag("instance") + r": pid=%d from 127\.0\.0\.1 started "
                     r"by the previous superd, counted" % pid)
        second = connect(port)
        t.socks.append(second)
        second.sendall(b"second\n")
        early = recv_some(second, 1.0)
        check(early is None, "a second client was served (%r) while the "
              "adopted instance held the only slot" % early)
        first.sendall(b"first\n")
        check(read_line(first) == b"first", "the adopted instance's client "
              "lost its instance")
        sd2.wait_log(tag("instance") + r": exit pid=%d ended duration="
                     % pid)
        store.wait(lambda: name in store.removed, "FDSTOREREMOVE of %s" %
                   name)
        check(read_line(second) == b"second", "the second client was not "
              "served once the adopted instance ended")
    finally:
        store.close()


def test_instance_of_a_service_gone_is_not_counted(t):
    """An instance handed over whose service the next superd does not run
    is logged, closed and taken out of the store."""
    store = Store(t)
    hold = service("hold", server="/bin/sh", args=["-c", "read x"])
    t.conf([hold, echo("stays")], name="superd.conf")
    sd = t.start(conf=t.path("superd.conf"), wait=[("hold", "tcp"),
                 ("stays", "tcp")], env={"NOTIFY_SOCKET": store.path})
    held = connect(sd.port("hold"))
    t.socks.append(held)
    wait_for(lambda: sd.children(), 5, "the held instance")
    sd.stop()
    name = stored_instance(store)
    t.conf([echo("stays")], name="superd.conf")
    sd2 = restarted(t, store, "second", [("stays", "tcp")])
    try:
        sd2.wait_log(r"instance %s handed over: its service is gone, not "
                     r"counted" % re.escape(name))
        store.wait(lambda: name in store.removed, "FDSTOREREMOVE of %s" %
                   name)
    finally:
        store.close()
