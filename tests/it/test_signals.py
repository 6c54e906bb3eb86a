"""SIGTERM, SIGINT, SIGUSR1, reaping, and systemd notification (SPEC 5, 7)."""

import os
import re
import resource
import signal
import socket
import time

from harness import (Fail, check, connect, limit, pid_alive, read_line,
                     read_until_eof, service, tag, talk, wait_for)


def holder(name):
    """A service whose instance prints its pid and then stays."""
    return service(name, server="/bin/sh", args=["-c", "echo $$; exec sleep 30"])


def stop_leaves_instances(t, sig):
    pidfile = t.path("superd.pid")
    sd = t.start([holder("hold")], pidfile=pidfile)
    port = sd.port("hold")
    s = connect(port)
    t.socks.append(s)
    instance = int(read_line(s))
    sd.signal(sig)
    status = sd.wait_exit()
    check(status == 0, "exit status %s after signal %d, not 0" % (status, sig))
    check(not os.path.exists(pidfile), "pid file left behind")
    check(not os.path.exists(sd.ports_path), "ports file left behind")
    try:
        connect(port, timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    check(refused, "the listener still accepts after superd exited")
    check(pid_alive(instance), "the running instance (pid %d) did not "
          "survive superd's stop" % instance)


def test_sigterm_exits_0_and_leaves_instances_running(t):
    stop_leaves_instances(t, signal.SIGTERM)


def test_sigint_exits_0_and_leaves_instances_running(t):
    stop_leaves_instances(t, signal.SIGINT)


def test_sigusr1_logs_one_line_per_service(t):
    sd = t.start([service("usr1alpha", server="/bin/echo", args=["a"]),
                  service("usr1beta", server="/bin/echo", args=["b"])])
    mark = sd.mark()
    for _ in range(3):
        check(talk(sd.port("usr1alpha")) == b"a\n", "usr1alpha did not answer")
    # Counters are only settled once superd has reaped all three.
    wait_for(lambda: len(re.findall(tag("usr1alpha") + r".*\bexit pid=",
                                    sd.log()[mark:])) == 3,
             5, "three exit lines of usr1alpha")
    mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    sd.wait_log(tag("usr1alpha"), mark)
    sd.wait_log(tag("usr1beta"), mark)
    time.sleep(0.3)     # a second line per service would have come by now
    lines = sd.log_lines(mark)
    alpha = [ln for ln in lines if re.search(tag("usr1alpha"), ln)]
    beta = [ln for ln in lines if re.search(tag("usr1beta"), ln)]
    check(len(alpha) == 1 and len(beta) == 1,
          "SIGUSR1 logged %d lines for usr1alpha and %d for usr1beta, not one "
          "each: %s" % (len(alpha), len(beta), alpha + beta))
    check(re.search(r"(?<![\d.])3(?![\d.])", alpha[0]),
          "the status line does not show 3 started instances: %r" % alpha[0])
    sd.check_alive("after SIGUSR1")
    check(talk(sd.port("usr1beta")) == b"b\n", "service broken by SIGUSR1")


def wait_reaped(sd, what, timeout=5.0):
    """Wait until superd has no children left; name the zombies if not."""
    deadline = time.monotonic() + timeout
    while sd.children():
        if time.monotonic() >= deadline:
            kids = sd.children()
            zombies = [pid for pid, st in kids if st == "Z"]
            raise Fail("%s: superd still has %d children, %d of them zombies "
                       "(%s), %.0f s later" % (what, len(kids), len(zombies),
                                               zombies[:5], timeout))
        time.sleep(0.02)


@limit(40)
def test_no_zombies_or_fd_leak_after_300_connections(t):
    sd = t.start([service("quick", server="/bin/true")])
    port = sd.port("quick")
    # Warm up first: a first spawn may open lasting descriptors (such as a
    # service's stderr pipe); only growth after that is a leak.
    check(talk(port) == b"", "/bin/true sent data")
    wait_reaped(sd, "after the first connection")
    fds_before = sd.idle_fd_count()
    mark = sd.mark()
    for _ in range(300):
        s = connect(port)
        try:
            read_until_eof(s)
        finally:
            s.close()
    wait_reaped(sd, "after 300 connections")
    exits = len(re.findall(tag("quick") + r".*\bexit pid=\d+ status=0",
                           sd.log()[mark:]))
    check(exits == 300, "%d exit lines logged for 300 instances" % exits)
    fds_after = sd.idle_fd_count()
    check(fds_after == fds_before, "superd holds %d descriptors after 300 "
          "connections, %d before" % (fds_after, fds_before))


def busy_with_queued_clients(t, count):
    """superd with one service, /bin/true, and COUNT clients that connected
    while superd was stopped: with no limit to hold it back, the listener
    stays ready for many turns of superd's loop after it goes on.  Returns
    superd and the log mark before the clients came."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(hard, count + 256), hard))
    sd = t.start([service("busy", server="/bin/true", instances=0,
                          backlog=1024)], superd={"log_connections": True})
    port = sd.port("busy")
    mark = sd.mark()
    sd.signal(signal.SIGSTOP)
    try:
        for _ in range(count):
            t.socks.append(connect(port))
    finally:
        os.kill(sd.pid, signal.SIGCONT)
    return sd, mark


def lines_of(sd, mark, what):
    return [i for i, ln in enumerate(sd.log_lines(mark))
            if re.search(what, ln)]


def instance_lines(sd, mark, what):
    return lines_of(sd, mark, tag("busy") + r".*\b%s pid=" % what)


@limit(60)
def test_children_are_reaped_while_a_listener_stays_ready(t):
    sd, mark = busy_with_queued_clients(t, 600)
    wait_for(lambda: len(instance_lines(sd, mark, "start")) == 600, 30,
             "600 start lines")
    starts = instance_lines(sd, mark, "start")
    exits = instance_lines(sd, mark, "exit")
    # SIGCHLD must not wait for the backlog to run dry.
    check(exits and exits[0] < starts[-1],
          "no instance was reaped while 600 queued clients were served "
          "(%d exit lines, all after the last start)" % len(exits))
    wait_reaped(sd, "after 600 queued clients")


@limit(60)
def test_reload_and_stop_get_through_while_a_listener_stays_ready(t):
    sd, mark = busy_with_queued_clients(t, 1000)
    sd.wait_log(tag("busy") + r".*\bstart pid=", mark)
    sd.signal(signal.SIGHUP)
    sd.wait_log(r"reloading ", mark, timeout=30)
    sd.signal(signal.SIGTERM)
    check(sd.wait_exit(30) == 0, "superd did not exit 0 after SIGTERM")
    starts = instance_lines(sd, mark, "start")
    reload_at = lines_of(sd, mark, r"reloading ")[0]
    check(reload_at < starts[-1],
          "SIGHUP was acted on only after every queued client was served")
    check(len(starts) < 1000, "SIGTERM was acted on only after every one "
          "of 1000 queued clients was served")


class Notify:
    """The systemd side of NOTIFY_SOCKET."""

    def __init__(self, t):
        self.path = t.path("notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        t.socks.append(self.sock)

    def expect(self, state, timeout=5.0):
        """Wait for a message carrying STATE (e.g. READY=1); the states seen
        on the way are returned so that order can be checked."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "no %s within %.0f s (got %s)"
                  % (state, timeout, seen))
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                continue
            fields = msg.split("\n")
            seen.extend(f for f in fields if f)
            if state in fields:
                return seen


def test_notify_ready_reloading_stopping(t):
    n = Notify(t)
    sd = t.start([service("notified", server="/bin/echo", args=["n"])],
                 env={"NOTIFY_SOCKET": n.path})
    n.expect("READY=1")
    sd.signal(signal.SIGHUP)
    seen = n.expect("RELOADING=1")
    check("READY=1" not in seen[:seen.index("RELOADING=1")],
          "READY=1 came before RELOADING=1: %s" % seen)
    n.expect("READY=1")
    check(talk(sd.port("notified")) == b"n\n", "not serving after reload")
    sd.signal(signal.SIGTERM)
    n.expect("STOPPING=1")
    check(sd.wait_exit() == 0, "superd did not exit 0 after STOPPING=1")
