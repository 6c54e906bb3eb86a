"""Admission and instance control on connections (SPEC section 5)."""

import socket
import struct
import time

from harness import (check, connect, limit, read_line, read_until_eof,
                     service, tag, talk)


def holder(name, **settings):
    """An instance that prints its pid and waits for one line."""
    return service(name, server="/bin/sh",
                   args=["-c", 'echo $$; read x; echo "done $x"'], **settings)


def test_acl_deny_refuses_and_logs(t):
    sd = t.start([service("guarded", server="/bin/echo", args=["in"],
                          deny=["127.0.0.1/32"])])
    port = sd.port("guarded")
    mark = sd.mark()
    s = connect(port)
    data = read_until_eof(s, timeout=3)
    s.close()
    check(data == b"", "a denied client got %r" % data)
    sd.wait_log(tag("guarded") + r".*\brefused 127\.0\.0\.1(:\d+)? \(acl\)",
                mark, what="`guarded: refused 127.0.0.1 (acl)`")
    check(not sd.find_log(tag("guarded") + r".*\bstart pid=", mark),
          "an instance was started for a denied client")
    s = connect(port, source="127.0.0.2")
    data = read_until_eof(s)
    s.close()
    check(data == b"in\n", "a client from 127.0.0.2 (not denied) got %r"
          % data)


def test_per_source_refuses_extra_client_with_message(t):
    sd = t.start([holder("persrc", per_source=1, refuse_message="too many")])
    port = sd.port("persrc")
    first = connect(port)
    t.socks.append(first)
    read_line(first)
    mark = sd.mark()
    second = connect(port)
    data = read_until_eof(second, timeout=3)
    second.close()
    check(data == b"too many\r\n", "the client over per_source got %r, not "
          "the refuse_message and a close" % data)
    sd.wait_log(tag("persrc") + r".*\brefused 127\.0\.0\.1(:\d+)? "
                r"\(per_source\)", mark, what="`persrc: refused 127.0.0.1 "
                "(per_source)`")
    other = connect(port, source="127.0.0.2")
    t.socks.append(other)
    read_line(other)    # another address is served meanwhile
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "the first client's instance "
          "was disturbed")


def test_instances_limit_holds_client_until_a_slot_frees(t):
    sd = t.start([holder("single", instances=1)])
    port = sd.port("single")
    first = connect(port)
    t.socks.append(first)
    read_line(first)
    second = connect(port)
    t.socks.append(second)
    second.settimeout(1.0)
    try:
        early = second.recv(100)
    except socket.timeout:
        early = None
    check(early is None, "with instances = 1 a second client got %r while "
          "the first instance ran" % early)
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "first instance's output")
    # Never dropped: the waiting client is served once the slot frees.
    pid = read_line(second, timeout=5)
    check(pid.isdigit(), "the waiting client got %r" % pid)
    second.sendall(b"b\n")
    check(read_until_eof(second) == b"done b\n", "second instance's output")


def test_clients_resetting_at_once_do_not_disturb(t):
    sd = t.start([service("resets", server="/bin/echo", args=["ok"])])
    port = sd.port("resets")
    linger = struct.pack("ii", 1, 0)    # close() sends RST
    for _ in range(50):
        s = connect(port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
    sd.check_alive("after 50 resetting clients")
    check(talk(port) == b"ok\n", "a normal client is not served after the "
          "resets")


@limit(25)
def test_timeout_terminates_then_kills(t):
    sd = t.start([
        service("slow", server="/bin/sh", timeout=1,
                args=["-c", "echo $$; exec sleep 30"]),
        service("stubborn", server="/bin/sh", timeout=1,
                args=["-c", "trap '' TERM; echo $$; while :; do sleep 1; done"]),
    ])
    mark = sd.mark()
    a = connect(sd.port("slow"))
    t.socks.append(a)
    b = connect(sd.port("stubborn"))
    t.socks.append(b)
    slow, stubborn = int(read_line(a)), int(read_line(b))
    started = time.monotonic()
    sd.wait_log(tag("slow") + r".*\bexit pid=%d signal=15\b" % slow, mark,
                timeout=4, what="slow's instance ended by SIGTERM")
    check(sd.find_log(tag("slow") + r".*(?i:timeout|timed out)", mark),
          "the timeout kill was not logged as such")
    sd.wait_log(tag("stubborn") + r".*\bexit pid=%d signal=9\b" % stubborn,
                mark, timeout=6, what="stubborn's instance killed by SIGKILL")
    # SIGKILL follows SIGTERM by 2 s; allow for whole-second timers.
    took = time.monotonic() - started
    check(took >= 1.5, "SIGKILL came %.1f s after the start: not 2 s after "
          "the SIGTERM of the 1 s timeout" % took)
