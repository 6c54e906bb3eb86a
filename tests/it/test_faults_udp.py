"""Fault cases 38-41 of tests/FAULTS.md (UDP and wait services), and the
UDP side of case 9 (a wait service whose program cannot start)."""

import os
import re
import select
import socket
import time

import faultkit
from faultkit import idle_cpu, udp_reply as reply, udp_rx_queue
from harness import (check, is_root, limit, python3, service, tag, talk,
                     wait_for)


def client(t, source=("127.0.0.1", 0)):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    c.bind(source)
    return c




def starts(sd, name, since):
    return len(re.findall(tag(name) + r": start pid=", sd.log()[since:]))


# -- 9 (UDP) ----------------------------------------------------------------

def test_udp_wait_program_missing_consumes_the_datagram(t):
    prog = t.script("gone.sh", "exit 0\n")
    sd = t.start([service("gone", protocol="udp", wait=True, server=prog)])
    port = sd.port("gone", "udp")
    os.unlink(prog)
    c = client(t)
    mark = sd.mark()
    c.sendto(b"first", ("127.0.0.1", port))
    sd.wait_log(tag("gone") + r": cannot start .*execve: No such file", mark)
    sd.wait_log(tag("gone") + r": exit pid=\d+ status=127", mark)
    time.sleep(0.5)
    # One datagram, one attempt: it was taken off the queue, not retried.
    check(starts(sd, "gone", mark) == 1, "%d start attempts for one datagram"
          % starts(sd, "gone", mark))
    check(udp_rx_queue(port) == 0, "the datagram is still queued")
    for i in range(3):
        c.sendto(b"more%d" % i, ("127.0.0.1", port))
    wait_for(lambda: starts(sd, "gone", mark) == 4, 3,
             "one attempt for each further datagram")
    time.sleep(0.3)
    check(starts(sd, "gone", mark) == 4, "more attempts than datagrams")
    check(idle_cpu(sd.pid, 0.5) < 0.1, "superd keeps busy on a wait service "
          "whose program is missing")
    # Each failed start counts towards looping: the tenth in a row pauses
    # the service.
    check(not sd.find_log(tag("gone") + r": looping", mark), "paused early")
    for i in range(6):
        c.sendto(b"last%d" % i, ("127.0.0.1", port))
        time.sleep(0.05)
    sd.wait_log(tag("gone") + r": looping .*paused for 10 s", mark,
                what="the pause after 10 failed starts")


# -- 38 ---------------------------------------------------------------------

@limit(30)
def test_udp_wait_program_not_reading_is_paused_then_resumed(t):
    # /bin/true leaves the datagram that started it first in the queue.
    sd = t.start([service("lazy", protocol="udp", wait=True,
                          server="/bin/true"),
                  service("fine", protocol="udp", wait=True, server=python3(),
                          args=[t.copy_helper("udp_reply.py")]),
                  service("other", server="/bin/echo", args=["o"])])
    port = sd.port("lazy", "udp")
    mark = sd.mark()
    # Ten restarts on the first source's datagram could be that client's
    # doing: only its datagrams are dropped.  Ten more on another source's,
    # with no progress in between, are the program's: the service pauses.
    client(t, ("127.0.0.1", 0)).sendto(b"never read", ("127.0.0.1", port))
    client(t, ("127.0.0.2", 0)).sendto(b"nor this", ("127.0.0.1", port))
    d = sd.wait_log(tag("lazy") + r": looping on datagrams from 127\.0\.0\.1 "
                    r".*dropping them for 10 s", mark,
                    what="the first source dropped")
    m = sd.wait_log(tag("lazy") + r": looping \(10 restarts without "
                    r"progress\), paused for 10 s", mark,
                    what="the looping pause")
    paused_at = time.monotonic()
    n = len(re.findall(tag("lazy") + r": start pid=",
                       sd.log()[mark:mark + d.start()]))
    check(n == 10, "%d restarts before the first source was dropped, not 10"
          % n)
    n = len(re.findall(tag("lazy") + r": start pid=",
                       sd.log()[mark + d.start():mark + m.start()]))
    check(n == 10, "%d restarts before the pause, not 10" % n)
    after_pause = sd.mark()
    # While paused: no restarts, no CPU, the other services answer.
    check(idle_cpu(sd.pid, 1.0) < 0.1, "superd is busy while the looping "
          "service is paused")
    check(talk(sd.port("other")) == b"o\n", "a TCP service stopped")
    f = client(t)
    f.sendto(b"hello", ("127.0.0.1", sd.port("fine", "udp")))
    got = reply(f, 5)
    check(got is not None and got.startswith(b"hello "), "a healthy UDP wait "
          "service did not answer: %r" % got)
    check(udp_rx_queue(port) > 0, "the second source's datagram was dropped")
    sd.wait_log(tag("lazy") + r": start pid=", after_pause, timeout=12,
                what="a restart once the pause is over")
    waited = time.monotonic() - paused_at
    check(9.0 <= waited <= 11.5, "restarted %.1f s after the pause began, "
          "not 10 s" % waited)
    check(not re.search(tag("fine") + r": looping", sd.log()),
          "the healthy service was called looping")


# -- 39 ---------------------------------------------------------------------

def test_udp_wait_program_never_exiting_holds_the_socket(t):
    sd = t.start([service("hog", protocol="udp", wait=True,
                          server="/bin/sleep", args=["30"]),
                  service("other", server="/bin/echo", args=["o"])])
    port = sd.port("hog", "udp")
    c = client(t)
    mark = sd.mark()
    for i in range(5):
        c.sendto(b"d%d" % i, ("127.0.0.1", port))
        time.sleep(0.05)
    sd.wait_log(tag("hog") + r": start pid=", mark)
    check(idle_cpu(sd.pid, 0.7) < 0.1, "superd is busy while the wait "
          "instance holds the socket")
    check(starts(sd, "hog", mark) == 1, "%d instances for 5 datagrams while "
          "the first one runs" % starts(sd, "hog", mark))
    check(udp_rx_queue(port) > 0, "the datagrams did not queue in the kernel")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")
    # Once it is gone, superd watches the socket again: the queued
    # datagrams start the next instance.
    # (The echo instance just served may still wait to be reaped.)
    kids = wait_for(lambda: [p for p, st in sd.children() if st != "Z"]
                    if len(sd.children()) == 1 else None, 3,
                    "the wait instance as superd's only child")
    os.kill(kids[0], 9)
    wait_for(lambda: starts(sd, "hog", mark) == 2, 3,
             "a new instance for the queued datagrams")


# -- 40 ---------------------------------------------------------------------

def test_udp_builtins_ignore_privileged_and_broadcast_sources(t):
    sd = t.start([service("uecho", protocol="udp", builtin="echo"),
                  service("ucharg", protocol="udp", builtin="chargen")])
    echo = sd.port("uecho", "udp")
    charg = sd.port("ucharg", "udp")
    sources = []
    if is_root():
        sources += [("127.0.0.1", 7), ("127.0.0.1", 19), ("127.0.0.1", 1023)]
    try:
        client(t, ("127.0.0.255", 0))
        sources.append(("127.0.0.255", 0))      # a .255 host: broadcast
    except OSError:
        pass
    check(sources, "no source to test from (not root, no 127.0.0.255)")
    socks = []
    for src in sources:
        try:
            c = client(t, src)
        except OSError as e:
            check(False, "cannot bind %s: %s" % (src, e))
        for port in (echo, charg):
            c.sendto(b"loop?", ("127.0.0.1", port))
        socks.append(c)
    # Whatever superd would answer arrives well within half a second.
    ready, _, _ = select.select(socks, [], [], 0.5)
    for c in ready:
        got, peer = c.recvfrom(70000)
        check(False, "a datagram from %s:%d was answered by port %d: %r"
              % (c.getsockname() + (peer[1], got)))
    ok = client(t, ("127.0.0.2", 0))
    ok.sendto(b"fine", ("127.0.0.1", echo))
    check(reply(ok, 3) == b"fine", "an ordinary source is not answered")
    mark = sd.mark()
    os.kill(sd.pid, 10)
    line = sd.wait_log(tag("uecho") + r": status .*", mark).group(0)
    check(re.search(r"\brefused=%d\b" % len(sources), line),
          "the ignored datagrams are not counted as refused: %r" % line)


# -- 41 ---------------------------------------------------------------------

def test_udp_builtins_with_empty_and_largest_datagrams(t):
    sd = t.start([service(n, protocol="udp", builtin=n)
                  for n in ("echo", "chargen", "daytime", "time")])
    c = client(t)

    def ask(name, data):
        c.sendto(data, ("127.0.0.1", sd.port(name, "udp")))
        got = reply(c, 3)
        check(got is not None, "%s: no answer to %d bytes" % (name, len(data)))
        return got

    check(ask("echo", b"") == b"", "echo of an empty datagram")
    big = bytes(i % 251 for i in range(65507))      # the IPv4 maximum
    check(ask("echo", big) == big, "echo of a 65507-byte datagram differs")
    for data in (b"", big):
        got = ask("chargen", data)
        check(len(got) <= 512, "chargen answered %d bytes" % len(got))
        check(re.fullmatch(rb"[ -~]*", got), "chargen sent non-printables")
        check(re.fullmatch(rb"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n",
                           ask("daytime", data)), "daytime's answer")
        check(len(ask("time", data)) == 4, "time's answer is not 4 bytes")
    sd.check_alive("after empty and large datagrams")
    check(faultkit.zombies(sd.pid) == [], "zombies")
