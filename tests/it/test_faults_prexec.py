"""Fault case 51 of tests/FAULTS.md: a child held between its start and its
exec (its user may stop it as soon as it runs as that user) must not
freeze superd.  strace holds every exec of one program at its entry (the
`-P` filter leaves every other program alone), as a SIGSTOP would: superd
must go on serving its other services, kill the held child at the end of
its grace, reap it, log it, and serve the held service again once the
programs exec normally."""

import os
import re
import signal
import socket
import time

import faultkit
from faultkit import udp_rx_queue
from harness import (check, children_of, connect, limit, need_root, python3,
                     read_until_eof, service, tag, talk, wait_for)

GRACE_S = 2                 # launch.c: EXEC_GRACE_MS
SLACK_S = 2.5               # a loaded machine, superd under strace
PROMPT_S = 1.5              # an answer while a child is held: well < GRACE_S
HOLD_US = 60 * 1000 * 1000  # how long strace holds an exec: the whole test


def hold(t, pid, paths):
    """strace attached to superd and following its children: every
    execve of one of paths waits HOLD_US at its entry."""
    extra = ["-f"]
    for p in paths:
        extra += ["-P", p]
    return faultkit.Strace(t, pid, "execve", "delay_enter=%d" % HOLD_US,
                           extra)


def held(sd):
    """superd's children that have not exec'd yet: still superd's image."""
    mine = os.readlink("/proc/%d/exe" % sd.pid)
    out = []
    for pid, state in children_of(sd.pid):
        try:
            if os.readlink("/proc/%d/exe" % pid) == mine:
                out.append(pid)
        except OSError:
            pass
    return out


def udp_ask(port, data, timeout):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        c.settimeout(timeout)
        c.sendto(data, ("127.0.0.1", port))
        return c.recv(70000)
    except socket.timeout:
        return None
    finally:
        c.close()


def answered_promptly(sd):
    """The services nothing holds answer, and soon."""
    t0 = time.monotonic()
    check(talk(sd.port("other"), timeout=PROMPT_S) == b"pong\n",
          "the TCP service beside the held one did not answer")
    got = udp_ask(sd.port("otherudp", "udp"), b"hello", PROMPT_S)
    check(got is not None and got.startswith(b"hello"),
          "the UDP wait service beside the held one did not answer")
    took = time.monotonic() - t0
    check(took < PROMPT_S, "the other services took %.2f s to answer" % took)


def setup(t):
    need_root("the held programs run as nobody, as a service's user would")
    tcp = t.script("held-tcp.sh", "exec head -n 1\n")
    udp = t.script("held-udp.sh", "exec %s %s\n"
                   % (python3(), t.copy_helper("udp_reply.py")))
    services = [
        service("heldtcp", server=tcp),
        service("heldudp", protocol="udp", wait=True, server=udp),
        service("other", server="/bin/echo", args=["pong"]),
        service("otherudp", protocol="udp", wait=True, server=python3(),
                args=[t.copy_helper("udp_reply.py")])]
    sd = t.start(services)
    return sd, hold(t, sd.pid, [tcp, udp])


def killed(sd, name, pids, since, t0):
    """Each of pids killed within its grace, and logged once."""
    for pid in pids:
        sd.wait_log(tag(name) + r": pid=%d did not reach its program within "
                    r"%d s, killed" % (pid, GRACE_S), since,
                    timeout=max(0.1, t0 + GRACE_S + SLACK_S -
                                time.monotonic()),
                    what="%s pid %d killed within its grace" % (name, pid))
    lines = re.findall(tag(name) + r": pid=\d+ did not reach its program",
                       sd.log()[since:])
    check(len(lines) == len(set(lines)), "a kill logged twice: %r" % lines)


def reaped(sd, name, pids, since):
    """Each of pids reaped, dead of the SIGKILL: none left, not even a
    zombie.  (A tracer sees its tracee's end first: strace is gone by
    now.)"""
    for pid in pids:
        sd.wait_log(tag(name) + r": exit pid=%d signal=9 " % pid, since,
                    what="%s pid %d reaped" % (name, pid))
        wait_for(lambda: not os.path.exists("/proc/%d" % pid), 3,
                 "pid %d gone" % pid)


@limit(40)
def test_wait_program_held_before_exec_does_not_freeze_superd(t):
    # A wait-mode program once started with vfork: superd slept until the
    # exec, however long the child took to reach it.
    sd, held_execs = setup(t)
    try:
        mark = sd.mark()
        port = sd.port("heldudp", "udp")
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.socks.append(c)
        c.sendto(b"first", ("127.0.0.1", port))
        pids = wait_for(lambda: held(sd), 5, "a heldudp child held")
        t0 = time.monotonic()
        answered_promptly(sd)
        killed(sd, "heldudp", pids, mark, t0)
        answered_promptly(sd)
    finally:
        held_execs.stop()
    reaped(sd, "heldudp", pids, mark)
    # Its program never ran: the datagram went with it, as when the
    # program is missing (case 9).
    wait_for(lambda: udp_rx_queue(port) == 0, 3, "the datagram dropped")
    # Execs are no longer held: the service answers again.
    got = udp_ask(port, b"again", 5)
    check(got is not None and got.startswith(b"again"),
          "heldudp does not answer once its programs exec again")
    wait_for(lambda: not [p for p, s in sd.children() if s == "Z"], 3,
             "no zombie left")


@limit(60)
def test_nowait_programs_held_before_exec_hold_no_more_than_their_share(t):
    # Every child on its way to exec holds a slot (launch.c); superd once
    # waited for the oldest when all were held.  Now one service holds 16
    # at most and is paused beyond, and the others still start theirs.
    sd, held_execs = setup(t)
    want = max(4, 2 * (os.cpu_count() or 1))     # launch.c: nusual
    n = 20
    try:
        mark = sd.mark()
        clients = [connect(sd.port("heldtcp")) for _ in range(n)]
        t.socks.extend(clients)
        wait_for(lambda: len(held(sd)) >= min(want, 16), 5,
                 "%d heldtcp children held" % min(want, 16))
        t0 = time.monotonic()
        pids = held(sd)
        answered_promptly(sd)
        sd.wait_log(tag("heldtcp") + r": children not reaching their "
                    r"program, pausing", mark, what="heldtcp paused")
        check(len(held(sd)) <= 16, "heldtcp holds %d slots" % len(held(sd)))
        killed(sd, "heldtcp", pids, mark, t0)
        answered_promptly(sd)
    finally:
        held_execs.stop()
    reaped(sd, "heldtcp", pids, mark)
    # The first client's child was killed: its connection is closed.
    check(read_until_eof(clients[0], 3) == b"", "data for a killed child")
    check(talk(sd.port("heldtcp"), b"back\n", timeout=5) == b"back\n",
          "heldtcp does not answer once its programs exec again")
    wait_for(lambda: not [p for p, s in sd.children() if s == "Z"], 3,
             "no zombie left")


@limit(40)
def test_reload_and_stop_beside_a_held_program_are_bounded(t):
    # Before a reload frees the old configuration, and at stop, superd
    # lets no starting child read it: it once waited for every one to
    # exec, however long that took.
    sd, held_execs = setup(t)
    try:
        mark = sd.mark()
        c = connect(sd.port("heldtcp"))
        t.socks.append(c)
        pids = wait_for(lambda: held(sd), 5, "a heldtcp child held")
        t0 = time.monotonic()
        sd.reload(timeout=GRACE_S + SLACK_S)
        killed(sd, "heldtcp", pids, mark, t0)
        answered_promptly(sd)
        c = connect(sd.port("heldtcp"))
        t.socks.append(c)
        wait_for(lambda: held(sd), 5, "a heldtcp child held again")
        t0 = time.monotonic()
        sd.signal(signal.SIGTERM)
        wait_for(lambda: not sd.alive(), GRACE_S + SLACK_S + 1,
                 "superd gone after SIGTERM")
        check(time.monotonic() - t0 < GRACE_S + SLACK_S + 1,
              "the stop took too long")
    finally:
        held_execs.stop()
