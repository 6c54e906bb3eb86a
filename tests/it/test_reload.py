"""Reload on SIGHUP (SPEC section 7; FAULTS 2, 42, 45)."""

import os
import re
import signal
import threading
import time

from harness import (check, connect, limit, listening_inodes, pid_alive,
                     read_line, read_until_eof, render, service,
                     socket_inodes, tag, talk)


def echo(name, word):
    return service(name, server="/bin/echo", args=[word])


def listener_inode(sd, port):
    """The inode of superd's listening socket on port: the same inode after
    a reload proves the very socket was kept, not reopened on that port."""
    inodes = listening_inodes(port) & socket_inodes(sd.pid)
    check(len(inodes) == 1, "superd holds %d listening sockets on port %d"
          % (len(inodes), port))
    return inodes.pop()


def refused(port):
    try:
        connect(port, timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_reload_keeps_listener_and_applies_settings(t):
    sd = t.start([echo("kept", "old")])
    port = sd.port("kept")
    inode = listener_inode(sd, port)
    sd.rewrite([echo("kept", "new"), echo("added", "x")])
    sd.reload()
    check(sd.port("kept") == port, "the dynamic port changed from %d to %d"
          % (port, sd.port("kept")))
    check(listener_inode(sd, port) == inode,
          "the listening socket was replaced, not kept")
    check(talk(port) == b"new\n", "the kept service still runs the old "
          "settings")


@limit(30)
def test_clients_served_during_reloads(t):
    sd = t.start([echo("steady", "ok")])
    port = sd.port("steady")
    stop = threading.Event()
    served, failures = [0], []

    def client():
        for _ in range(5000):
            if stop.is_set():
                return
            try:
                data = talk(port, timeout=5)
            except Exception as e:
                failures.append(repr(e))
                continue
            if data == b"ok\n":
                served[0] += 1
            else:
                failures.append("got %r" % data)

    th = threading.Thread(target=client, daemon=True)
    th.start()
    try:
        time.sleep(0.2)
        for _ in range(5):
            sd.reload()
            time.sleep(0.1)
    finally:
        stop.set()
        th.join(10)
    check(not th.is_alive(), "the client loop did not end")
    check(not failures, "%d of %d clients not served during reloads, e.g. %s"
          % (len(failures), len(failures) + served[0], failures[:3]))
    check(served[0] >= 5, "only %d clients served while reloading"
          % served[0])


def test_reload_adds_and_removes_services(t):
    sd = t.start([echo("stay", "s"), echo("leave", "l")])
    leave_port = sd.port("leave")
    sd.rewrite([echo("stay", "s"), echo("arrive", "a")])
    sd.reload()
    names = sorted(e.name for e in sd.ports())
    check(names == ["arrive", "stay"], "ports file lists %s after the "
          "reload, not arrive and stay" % names)
    check(talk(sd.port("arrive")) == b"a\n", "the added service does not "
          "answer")
    check(talk(sd.port("stay")) == b"s\n", "the kept service does not answer")
    check(refused(leave_port), "the removed service's port %d still accepts"
          % leave_port)


def broken_reload_keeps_old(t, bad_text, line):
    sd = t.start([echo("old", "o")])
    port = sd.port("old")
    inode = listener_inode(sd, port)
    ports_before = sd.ports_text()
    mark = sd.mark()
    sd.rewrite_text(bad_text)
    sd.signal(signal.SIGHUP)
    sd.wait_log(re.escape("%s:%d:" % (sd.conf, line)), mark,
                what="naming %s:%d" % (sd.conf, line))
    time.sleep(0.2)     # had superd applied anything, it would show by now
    sd.check_alive("after a broken reload")
    check(talk(port) == b"o\n", "the old service stopped answering")
    check(listener_inode(sd, port) == inode, "the old listener was replaced")
    check(sd.ports_text() == ports_before, "the ports file changed: %r"
          % sd.ports_text())
    # The rejected reload must not leave superd unable to take a good one.
    sd.rewrite([echo("old", "o"), echo("later", "l")])
    sd.reload()
    check(talk(sd.port("later")) == b"l\n", "a good reload after the broken "
          "one was not applied")


def test_reload_with_syntax_error_keeps_old_config(t):
    text = render([echo("old", "o")]).replace(
        "\n);", ',\n  { name = "new"; port = ; server = "/bin/echo"; }\n);')
    check(text.splitlines()[2].startswith('  { name = "new"'),
          "test bug: the broken line is not line 3")
    broken_reload_keeps_old(t, text, 3)


def test_reload_with_unknown_setting_keeps_old_config(t):
    bad = echo("new", "n")
    bad["instnaces"] = 5
    broken_reload_keeps_old(t, render([echo("old", "o"), bad]), 3)


def test_running_instance_survives_removal_of_its_service(t):
    sd = t.start([service("leaving", server="/bin/sh",
                          args=["-c", 'echo $$; read x; echo "bye $x"']),
                  echo("other", "x")])
    s = connect(sd.port("leaving"))
    t.socks.append(s)
    pid = int(read_line(s))
    other_port = sd.port("other")
    mark = sd.mark()
    sd.rewrite([echo("other", "x")])
    sd.reload()
    check([e.name for e in sd.ports()] == ["other"],
          "ports file after removing `leaving`: %s" % sd.ports())
    check(sd.port("other") == other_port, "the kept service `other` moved "
          "from port %d to %d" % (other_port, sd.port("other")))
    check(pid_alive(pid), "the instance (pid %d) was killed by the reload"
          % pid)
    s.sendall(b"now\n")
    data = read_until_eof(s)
    check(data == b"bye now\n", "the instance's client got %r" % data)
    sd.wait_log(tag("leaving") + r".*\bexit pid=%d status=0\b" % pid, mark,
                what="the exit of the removed service's instance")


def retired_status(sd):
    """The `running` figure SIGUSR1 shows for the retired `leaving`, or None
    when superd has no retired service of that name any more."""
    mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    sd.wait_log(tag("other") + r".*\bstatus\b", mark, what="the dump")
    m = sd.find_log(tag("leaving") + r".*\bstatus retired running=(\d+)",
                    mark)
    return None if m is None else int(m.group(1))


def end_instance(sd, s, pid, mark):
    s.sendall(b"x\n")
    read_until_eof(s)
    sd.wait_log(tag("leaving") + r".*\bexit pid=%d\b" % pid, mark,
                what="the exit of pid %d" % pid)


def test_retired_service_freed_after_its_last_instance(t):
    """A service removed by a reload stays in the retired table while an
    instance of it runs, and leaves it once the last one is reaped: not
    before (the instances still name it), not never (a leak per reload)."""
    sd = t.start([service("leaving", server="/bin/sh",
                          args=["-c", "echo $$; read x"]),
                  echo("other", "x")])
    socks = [connect(sd.port("leaving")) for _ in range(2)]
    t.socks.extend(socks)
    pids = [int(read_line(s)) for s in socks]
    sd.rewrite([echo("other", "x")])
    sd.reload()
    check(retired_status(sd) == 2, "after the reload `leaving` is not "
          "retired with its 2 instances running")
    mark = sd.mark()
    end_instance(sd, socks[0], pids[0], mark)
    check(retired_status(sd) == 1, "one instance of the retired `leaving` "
          "ended: it should stay retired with 1 running")
    end_instance(sd, socks[1], pids[1], mark)
    running = retired_status(sd)
    check(running is None, "the retired `leaving` is still in the table "
          "(running=%s) after its last instance ended" % running)
    # The name and its settings come back as a new service, not the old one.
    sd.rewrite([echo("other", "x"), echo("leaving", "back")])
    sd.reload()
    check(talk(sd.port("leaving")) == b"back\n", "a service added again "
          "under the freed name does not answer")
    check(retired_status(sd) is None, "the new `leaving` shows as retired")


def test_sighup_storm(t):
    sd = t.start([echo("stormy", "s")])
    port = sd.port("stormy")
    inode = listener_inode(sd, port)
    check(talk(port) == b"s\n", "not serving before the storm")
    fds = sd.fd_count()
    for _ in range(200):
        os.kill(sd.pid, signal.SIGHUP)
    time.sleep(0.5)
    sd.reload(timeout=10)       # one more, after the storm has settled
    sd.check_alive("after 200 SIGHUPs")
    check(listener_inode(sd, port) == inode,
          "the unchanged listener was replaced during the storm")
    check(talk(port) == b"s\n", "the service does not answer after the storm")
    check(sd.fd_count() == fds, "superd holds %d descriptors after the "
          "storm, %d before" % (sd.fd_count(), fds))
    # superd still takes a reload that changes something.
    sd.rewrite([echo("stormy", "s"), echo("after", "a")])
    sd.reload()
    sd.wait_ports(lambda es: "after" in {e.name for e in es}, "after")
    check(talk(sd.port("after")) == b"a\n", "the final config is not live")
