"""Fault cases 42-46 of tests/FAULTS.md: signals and lifecycle."""

import os
import re
import signal
import threading
import time

import faultkit
from faultkit import Notify, listener_inode, tcp_listeners, wait_no_children
from harness import (check, connect, limit, pid_alive, read_line,
                     read_until_eof, service, tag, talk)


def echo(name, word):
    return service(name, server="/bin/echo", args=[word])


def refused(port, host="127.0.0.1"):
    try:
        connect(port, host=host, timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# -- 42 ---------------------------------------------------------------------

@limit(30)
def test_storm_of_1000_sighups(t):
    sd = t.start([echo("stormy", "s"), echo("changed", "before")])
    port = sd.port("stormy")
    inode = listener_inode(sd, port)
    check(talk(port) == b"s\n" and talk(sd.port("changed")) == b"before\n",
          "not serving before the storm")
    wait_no_children(sd, "before the storm")
    fds = sd.idle_fd_count()
    mark = sd.mark()
    for i in range(1000):
        if i == 500:
            # Changed in the middle: the HUPs after it must bring it in.
            faultkit.rewrite_atomic(sd, [echo("stormy", "s"),
                                         echo("changed", "after")])
        os.kill(sd.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while talk(sd.port("changed")) != b"after\n":
        check(time.monotonic() < deadline, "the change made during the storm "
              "was not applied within 10 s")
        time.sleep(0.05)
    time.sleep(0.3)         # let the coalesced reloads finish
    sd.check_alive("after 1000 SIGHUPs")
    reloads = len(re.findall(r"^superd: reloading ", sd.log()[mark:], re.M))
    check(1 <= reloads < 1000, "%d reloads for 1000 SIGHUPs: they did not "
          "coalesce" % reloads)
    check(listener_inode(sd, port) == inode, "the unchanged listener was "
          "replaced during the storm")
    check(talk(port) == b"s\n", "the kept service does not answer")
    wait_no_children(sd, "after the storm")
    faultkit.wait_fds(sd, fds, "after the storm")
    # Still takes an ordinary reload.
    sd.rewrite([echo("stormy", "s")])
    sd.reload()
    check(not sd.entries("changed"), "the last reload was not applied")


# -- 43 ---------------------------------------------------------------------

@limit(25)
def test_sigterm_during_a_burst(t):
    n = Notify(t)
    pidfile = t.path("superd.pid")
    sd = t.start([echo("busy", "b"),
                  service("hold", server="/bin/sh",
                          args=["-c", "echo $$; exec sleep 30"])],
                 pidfile=pidfile, env={"NOTIFY_SOCKET": n.path})
    n.expect("READY=1")
    busy, hold = sd.port("busy"), sd.port("hold")
    holders = []
    for _ in range(3):
        s = connect(hold)
        t.socks.append(s)
        holders.append(int(read_line(s)))
    stop = threading.Event()

    def hammer():
        for _ in range(100000):
            if stop.is_set():
                return
            try:
                talk(busy, timeout=3)
            except Exception:
                pass        # refused once superd has gone

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(8)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.5)
        sent = time.monotonic()
        sd.signal(signal.SIGTERM)
        n.expect("STOPPING=1", timeout=3)
        status = sd.wait_exit(timeout=3)
        took = time.monotonic() - sent
    finally:
        stop.set()
        for th in threads:
            th.join(5)
    check(status == 0, "exit status %s, not 0" % status)
    check(took < 1.0, "superd took %.2f s to stop during a burst" % took)
    check(not os.path.exists(pidfile), "pid file left behind")
    check(not os.path.exists(sd.ports_path), "ports file left behind")
    check(refused(busy) and refused(hold), "a listener still accepts")
    check(all(pid_alive(p) for p in holders), "running instances were "
          "ended with superd")


# -- 44 ---------------------------------------------------------------------

@limit(30)
def test_100_instances_ending_at_once_all_reaped(t):
    sd = t.start([service("many", server="/bin/sh",
                          args=["-c", "echo $$; read x"]),
                  echo("other", "o")])
    port = sd.port("many")
    socks, pids = [], []
    for _ in range(100):
        s = connect(port)
        socks.append(s)
        t.socks.append(s)
        pids.append(int(read_line(s)))
    check(len(sd.children()) == 100, "%d instances run, not 100"
          % len(sd.children()))
    mark = sd.mark()
    for p in pids:
        os.kill(p, signal.SIGKILL)
    started = time.monotonic()
    wait_no_children(sd, "after 100 instances were killed at once",
                     timeout=3)
    took = time.monotonic() - started
    exits = re.findall(tag("many") + r": exit pid=(\d+) signal=9\b",
                       sd.log()[mark:])
    check(sorted(map(int, exits)) == sorted(pids), "%d of 100 exits logged"
          % len(exits))
    check(took < 1.0, "reaping 100 instances took %.2f s" % took)
    check(not faultkit.zombies(sd.pid), "zombies left")
    line_mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    line = sd.wait_log(tag("many") + r": status .*", line_mark).group(0)
    check(re.search(r"\brunning=0\b", line), "still counted as running: %r"
          % line)
    check(talk(sd.port("other")) == b"o\n", "another service stopped")


# -- 45 ---------------------------------------------------------------------

def test_reload_keeps_backlog_reopens_changed_closes_removed(t):
    def versioned(word, **kw):
        return service("held", instances=1, server="/bin/sh", args=[
            "-c", 'echo %s; read x; echo "done $x"' % word], **kw)

    sd = t.start([versioned("v1"), echo("moved", "m"), echo("gone", "g"),
                  service("stays", server="/bin/sh",
                          args=["-c", 'echo $$; read x; echo "bye $x"'])])
    held, moved, gone = sd.port("held"), sd.port("moved"), sd.port("gone")
    held_inode = listener_inode(sd, held)
    moved_inode = listener_inode(sd, moved)
    first = connect(held)
    t.socks.append(first)
    check(read_line(first) == b"v1", "first instance")
    queued = connect(held)          # in the backlog: instances = 1
    t.socks.append(queued)
    running = connect(sd.port("stays"))
    t.socks.append(running)
    stays_pid = int(read_line(running))
    mark = sd.mark()
    sd.rewrite([versioned("v2"),
                service("moved", server="/bin/echo", args=["m2"],
                        address="127.0.0.2", port=moved)])
    sd.reload()
    sd.wait_log(r"configuration .*: 2 services, listeners kept 1, added 1, "
                r"retired 3", mark, what="the reload's summary")
    check(listener_inode(sd, held) == held_inode, "the kept listener was "
          "replaced")
    check(sd.port("moved") == moved, "the moved service's port changed")
    check(refused(moved), "127.0.0.1:%d still accepts after the move"
          % moved)
    check(talk(moved, host="127.0.0.2") == b"m2\n", "the moved service does "
          "not answer on its new address")
    check(moved_inode not in [i for _, i in tcp_listeners(moved)],
          "the changed listener was not reopened")
    check(refused(gone), "the removed service's port still accepts")
    check(pid_alive(stays_pid), "a removed service's instance was killed")
    # The client that waited in the kept backlog through the reload is
    # served, by the new settings, once the slot frees.
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "the first client")
    check(read_line(queued, timeout=5) == b"v2", "the client queued during "
          "the reload was not served by the new configuration")
    queued.sendall(b"b\n")
    check(read_until_eof(queued) == b"done b\n", "the queued client")
    running.sendall(b"x\n")
    check(read_until_eof(running) == b"bye x\n", "the removed service's "
          "instance lost its client")
