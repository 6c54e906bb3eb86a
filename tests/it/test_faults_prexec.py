"""Fault case 51 of tests/FAULTS.md: a child stopped between its start and
its exec (it runs as the service's user by then, who may SIGSTOP it) must
not freeze superd.  strace, following superd's children, sends SIGSTOP to
every child of the held services as its chdir returns (the services' own
directory, `-P`, leaves every other child alone), and detaches once they
are stopped: superd must go on serving its other services, kill each
stopped child at the end of its grace, reap it, log it, and serve the held
services again."""

import os
import re
import signal
import socket
import time

import faultkit
from faultkit import udp_rx_queue
from harness import (check, children_of, connect, limit, need_root,
                     proc_stat, python3, read_until_eof, service, tag, talk,
                     wait_for)

GRACE_S = 2                 # launch.c: EXEC_GRACE_MS
SLACK_S = 2.0               # a loaded machine
PROMPT_S = 1.5              # an answer while a child is held: well < GRACE_S


def stopper(t, pid, room):
    """strace attached to superd and following its children: SIGSTOP for
    each as its chdir to room returns, after its switch to the service's
    user and before its exec (superd/exec.c)."""
    return faultkit.Strace(t, pid, "chdir", "signal=SIGSTOP",
                           ["-f", "-P", room])


def held(sd, states="tT"):
    """superd's children that have not exec'd (still superd's image) and
    are stopped."""
    mine = os.readlink("/proc/%d/exe" % sd.pid)
    out = []
    for pid, state in children_of(sd.pid):
        try:
            if state in states and os.readlink("/proc/%d/exe" % pid) == mine:
                out.append(pid)
        except OSError:
            pass
    return out


def stopped(tracer):
    """The children strace has seen stop on their SIGSTOP."""
    try:
        with open(tracer.out) as f:
            text = f.read()
    except OSError:
        return set()
    return {int(pid) for pid in
            re.findall(r"^(\d+) +--- stopped by SIGSTOP ---", text, re.M)}


def stop_held(sd, tracer, want, what):
    """Waits for want children stopped, then lets strace go: they stay
    stopped, as a plain SIGSTOP leaves them.  Returns their pids."""
    try:
        wait_for(lambda: len(stopped(tracer)) >= want, 5, what)
    finally:
        tracer.stop()
    pids = sorted(stopped(tracer))
    wait_for(lambda: set(held(sd, "T")) >= set(pids), 2,
             "children %r left stopped, untraced" % pids)
    return pids


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
    room = t.path("room")
    os.mkdir(room)
    os.chmod(room, 0o755)
    udp_reply = t.copy_helper("udp_reply.py")
    services = [
        service("heldtcp", server="/usr/bin/head", args=["-n", "1"],
                chdir=room),
        service("heldudp", protocol="udp", wait=True, server=python3(),
                args=[udp_reply], chdir=room),
        service("heldecho", builtin="echo", user="nobody", chdir=room),
        service("other", server="/bin/echo", args=["pong"]),
        service("otherudp", protocol="udp", wait=True, server=python3(),
                args=[udp_reply])]
    sd = t.start(services)
    return sd, stopper(t, sd.pid, room)


def killed(sd, name, pids, since, t0):
    """Each of pids killed within its grace and logged once, then reaped
    at once (dead of the SIGKILL): none left, not even a zombie."""
    for pid in pids:
        left = max(0.1, t0 + GRACE_S + SLACK_S - time.monotonic())
        sd.wait_log(tag(name) + r": pid=%d did not reach its program within "
                    r"%d s, killed" % (pid, GRACE_S), since, timeout=left,
                    what="%s pid %d killed within its grace" % (name, pid))
        sd.wait_log(tag(name) + r": exit pid=%d signal=9 " % pid, since,
                    timeout=left, what="%s pid %d reaped" % (name, pid))
        wait_for(lambda: not os.path.exists("/proc/%d" % pid), 1,
                 "pid %d gone" % pid)
    lines = re.findall(tag(name) + r": pid=\d+ did not reach its program",
                       sd.log()[since:])
    check(len(lines) == len(set(lines)), "a kill logged twice: %r" % lines)


def no_zombie(sd):
    wait_for(lambda: not [p for p, s in sd.children() if s == "Z"], 3,
             "no zombie left")


def answers_again(t, sd, name, killed_client):
    """The client whose child was killed sees its connection closed; the
    service answers the next (an echo of one line) once its children are
    left alone, and no zombie is left."""
    check(read_until_eof(killed_client, 3) == b"", "data for a killed child")
    s = connect(sd.port(name))
    t.socks.append(s)
    s.sendall(b"back\n")
    s.shutdown(socket.SHUT_WR)
    check(read_until_eof(s, 5) == b"back\n",
          "%s does not answer once its children are left alone" % name)
    no_zombie(sd)


@limit(40)
def test_wait_program_stopped_before_exec_does_not_freeze_superd(t):
    # A wait-mode program once started with vfork: superd slept until the
    # exec, however long the child took to reach it.
    sd, tracer = setup(t)
    mark = sd.mark()
    port = sd.port("heldudp", "udp")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    t0 = time.monotonic()
    c.sendto(b"first", ("127.0.0.1", port))
    pids = stop_held(sd, tracer, 1, "a heldudp child stopped")
    answered_promptly(sd)
    killed(sd, "heldudp", pids, mark, t0)
    answered_promptly(sd)
    # Its program never ran: the datagram went with it, as when the
    # program is missing (case 9).
    wait_for(lambda: udp_rx_queue(port) == 0, 3, "the datagram dropped")
    got = udp_ask(port, b"again", 5)
    check(got is not None and got.startswith(b"again"),
          "heldudp does not answer once its children are left alone")
    no_zombie(sd)


@limit(60)
def test_nowait_programs_stopped_before_exec_hold_no_more_than_their_share(t):
    # Every child on its way to exec holds a slot (launch.c); superd once
    # waited for the oldest when all were held.  Now one service holds 16
    # at most and is paused beyond, and the others still start theirs.
    sd, tracer = setup(t)
    usual = max(4, 2 * (os.cpu_count() or 1))     # launch.c: nusual
    mark = sd.mark()
    t0 = time.monotonic()
    clients = [connect(sd.port("heldtcp")) for _ in range(20)]
    t.socks.extend(clients)
    try:
        wait_for(lambda: len(stopped(tracer)) >= min(usual, 16), 5,
                 "the usual slots held by stopped heldtcp children")
        answered_promptly(sd)
        sd.wait_log(tag("heldtcp") + r": children not reaching their "
                    r"program, pausing", mark, what="heldtcp paused")
    except BaseException:
        tracer.stop()
        raise
    pids = stop_held(sd, tracer, 16, "16 heldtcp children stopped")
    check(len(pids) == 16, "heldtcp holds %d slots" % len(pids))
    killed(sd, "heldtcp", pids, mark, t0)
    answered_promptly(sd)
    answers_again(t, sd, "heldtcp", clients[0])


@limit(40)
def test_builtin_stopped_before_it_runs_does_not_freeze_superd(t):
    # A forked child (builtin, PROXY, tcpmux) reported over a pipe that
    # superd read until the child exec'd, ran its builtin or closed it.
    sd, tracer = setup(t)
    mark = sd.mark()
    c = connect(sd.port("heldecho"))
    t.socks.append(c)
    t0 = time.monotonic()
    pids = stop_held(sd, tracer, 1, "a heldecho child stopped")
    answered_promptly(sd)
    killed(sd, "heldecho", pids, mark, t0)
    answers_again(t, sd, "heldecho", c)


@limit(40)
def test_reload_and_stop_beside_a_stopped_program_are_bounded(t):
    # Before a reload frees the old configuration, and at stop, superd
    # lets no starting child read it: it once waited for every one to
    # exec, however long that took.
    sd, tracer = setup(t)
    mark = sd.mark()
    c = connect(sd.port("heldtcp"))
    t.socks.append(c)
    t0 = time.monotonic()
    pids = stop_held(sd, tracer, 1, "a heldtcp child stopped")
    sd.reload(timeout=GRACE_S + SLACK_S)
    killed(sd, "heldtcp", pids, mark, t0)
    answered_promptly(sd)
    tracer = stopper(t, sd.pid, t.path("room"))
    c = connect(sd.port("heldtcp"))
    t.socks.append(c)
    t0 = time.monotonic()
    stop_held(sd, tracer, 1, "a heldtcp child stopped again")
    sd.signal(signal.SIGTERM)
    wait_for(lambda: not sd.alive(), GRACE_S + SLACK_S,
             "superd gone after SIGTERM")
    check(time.monotonic() - t0 < GRACE_S + SLACK_S, "the stop took too long")
