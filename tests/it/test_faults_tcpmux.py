"""Fault case 57 of tests/FAULTS.md: tcpmux targets keep their own limits.

superd reads the name line itself (pending.c); the target named is judged
by its own allow/deny, per_source, instances and rate, started as its own
instance (its timeout, its start and exit lines) and a silent client holds
no instance of anyone, only one of the tcpmux service's bounded pending
places until its deadline, and one client (an IPv6 one by its prefix)
holds at most a few of those."""

import re
import time

from faultkit import recv_some
from harness import (Skip, check, connect, ipv6_available, limit, need_root,
                     read_line, read_until_eof, service, tag, wait_for)
from test_faults_policy import SOURCES, netns_of, start_in_netns


def holder(name, **settings):
    """An instance that says its pid, then waits for a line."""
    return service(name, server="/bin/sh",
                   args=["-c", 'echo $$; read x; echo "done $x"'], **settings)


def mux_open(t, port, name, source=None):
    """Connect to the tcpmux service, send NAME; returns (socket, reply)."""
    s = connect(port, source=source, timeout=15)
    t.socks.append(s)
    s.sendall(name.encode() + b"\r\n")
    return s, read_line(s, timeout=5)


def count(sd, pattern, since=0):
    return len(re.findall(pattern, sd.log()[since:], re.M))


@limit(30)
def test_tcpmux_target_keeps_its_instances_timeout_and_name(t):
    sd = t.start([service("mux", builtin="tcpmux"),
                  holder("target", tcpmux=True, timeout=1, instances=1)])
    port = sd.port("mux")
    mark = sd.mark()
    first, line = mux_open(t, port, "target")
    check(line == b"+Go\r", "the first client got %r, not +Go" % line)
    pid = read_line(first)
    check(pid.isdigit(), "the first client's instance did not start")
    # Its instance runs: the target's `instances = 1` leaves no room.
    for i in range(2):
        s, line = mux_open(t, port, "target")
        check(line.startswith(b"-"), "client %d of a target at its "
              "instances limit got %r, not a `-` line" % (i + 2, line))
        check(read_until_eof(s, timeout=3) == b"", "a refused client got "
              "more than its `-` line")
    check(len(sd.children()) <= 1, "more than one instance of a target "
          "with instances = 1")
    sd.wait_log(tag("target") + r": refused 127\.0\.0\.1 \(instances\)", mark,
                what="`target: refused 127.0.0.1 (instances)`")
    # The target's own timeout ends it, and every line names the target.
    sd.wait_log(tag("target") + r": timeout pid=%s after 1 s" % pid.decode(),
                mark, timeout=4, what="the target's timeout")
    sd.wait_log(tag("target") + r": exit pid=%s signal=15" % pid.decode(),
                mark, timeout=4, what="the target's exit line")
    check(sd.find_log(tag("target") + r": start pid=%s from 127\.0\.0\.1:\d+"
                      % pid.decode(), mark), "the start line does not name "
          "the target")
    check(not sd.find_log(tag("mux") + r": (start|exit) pid=", mark),
          "start or exit lines name the tcpmux service")
    # Once it is gone the target takes the next client.
    wait_for(lambda: not sd.children(), 3, "the timed-out instance reaped")
    s, line = mux_open(t, port, "target")
    check(line == b"+Go\r", "the target took no client once free (%r)" % line)
    check(read_line(s).isdigit(), "no instance for the client after")


def test_tcpmux_target_per_source_applies(t):
    sd = t.start([service("mux", builtin="tcpmux"),
                  holder("target", tcpmux=True, per_source=1)])
    port = sd.port("mux")
    mark = sd.mark()
    first, line = mux_open(t, port, "target")
    check(line == b"+Go\r" and read_line(first).isdigit(),
          "the first client from 127.0.0.1 was not served")
    s, line = mux_open(t, port, "target")
    check(line.startswith(b"-"), "a second client from 127.0.0.1 got %r "
          "under per_source = 1" % line)
    sd.wait_log(tag("target") + r": refused 127\.0\.0\.1 \(per_source\)",
                mark, what="`target: refused 127.0.0.1 (per_source)`")
    other, line = mux_open(t, port, "target", source="127.0.0.2")
    check(line == b"+Go\r" and read_line(other).isdigit(),
          "a client from 127.0.0.2 was refused too")
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "the first instance")


@limit(40)
def test_tcpmux_silent_clients_are_bounded_and_hold_no_instance(t):
    # The tcpmux service's `instances` bounds the connections waiting for
    # their names; running targets are not the tcpmux service's.
    sd = t.start([service("mux", builtin="tcpmux", instances=2),
                  holder("target", tcpmux=True),
                  service("other", server="/bin/echo", args=["ok"])])
    port = sd.port("mux")
    mark = sd.mark()
    running = []
    for i in range(2):
        s, line = mux_open(t, port, "target")
        check(line == b"+Go\r" and read_line(s).isdigit(),
              "target client %d was not served while %d instances of the "
              "target run" % (i + 1, i))
        running.append(s)
    # One client may hold half the bound at most: a second silent
    # connection from 127.0.0.2 is refused at once, not held.
    silent = [connect(port, source="127.0.0.2", timeout=15)]
    extra = connect(port, source="127.0.0.2", timeout=15)
    t.socks.extend(silent + [extra])
    got = recv_some(extra, 1.0)
    check(got is not None and got.startswith(b"-"), "a second silent client "
          "from 127.0.0.2 got %r, not a `-` line at once" % got)
    silent.append(connect(port, source="127.0.0.3", timeout=15))
    t.socks.append(silent[-1])
    time.sleep(0.3)     # both accepted and waiting for their names
    started = time.monotonic()
    real = connect(port, timeout=15)
    t.socks.append(real)
    real.sendall(b"target\r\n")
    # At the bound the listener waits; the kernel's backlog holds the real
    # client meanwhile, and superd serves the others at once.
    check(recv_some(real, 1.0) is None, "the real client was answered "
          "although the silent ones fill the bound")
    check(read_until_eof(connect(sd.port("other"))) == b"ok\n",
          "another service did not answer at once")
    line = read_line(real, timeout=13)
    waited = time.monotonic() - started
    check(line == b"+Go\r", "the real client got %r, not +Go" % line)
    check(8 <= waited <= 12, "the real client was served after %.1f s, not "
          "once a silent one timed out (10 s)" % waited)
    check(read_line(real).isdigit(), "no instance for the real client")
    for s in silent:
        got = recv_some(s, 2)
        check(got is not None and got.startswith(b"-"), "a silent client "
              "got %r, not a `-` line" % got)
    sd.wait_log(tag("mux") + r": name from 127\.0\.0\.[23]: timed out", mark,
                what="the silent clients' timeouts")
    for s in running:
        s.sendall(b"x\n")
        check(read_until_eof(s) == b"done x\n", "a running target instance")


@limit(30)
def test_tcpmux_one_client_cannot_hold_the_service(t):
    # More silent connections from one client than the tcpmux service's
    # default `instances` (128): a few wait for their names, the others are
    # answered `-` at once, and another client is served meanwhile.
    sd = t.start([service("mux", builtin="tcpmux"),
                  service("open-mux", server="/bin/echo", args=["open"],
                          tcpmux=True)])
    port = sd.port("mux")
    mark = sd.mark()
    silent = []
    for _ in range(140):
        s = connect(port, timeout=15)
        t.socks.append(s)
        silent.append(s)
    s = connect(port, source="127.0.0.2", timeout=15)
    t.socks.append(s)
    s.sendall(b"help\r\n")
    names = read_until_eof(s, timeout=1.0).decode().split()
    check(names == ["open-mux"], "help from a second client: %r" % names)
    refused = [got for got in (recv_some(c, 1.0) for c in silent)
               if got is not None and got.startswith(b"-")]
    check(len(refused) == 136, "%d of 140 silent connections from one "
          "client got a `-` line at once, not all but 4" % len(refused))
    check(all(recv_some(c, 0.1) is None for c in silent[:4]),
          "the first 4 silent connections were not left waiting")
    sd.wait_log(tag("mux") + r": refused 127\.0\.0\.1 \(pending\)", mark,
                what="`mux: refused 127.0.0.1 (pending)`")
    s, line = mux_open(t, port, "open-mux", source="127.0.0.2")
    check(line == b"+Go\r", "a second client's name got %r" % line)


def test_tcpmux_pending_ipv6_clients_counted_by_prefix(t):
    need_root("make a network namespace with IPv6 addresses of one /64")
    if not ipv6_available():
        raise Skip("no IPv6")
    sd = start_in_netns(t, [
        service("mux", builtin="tcpmux", address="::1"),
        service("open-mux", server="/bin/echo", args=["open"],
                tcpmux=True)], "superd")
    with netns_of(sd.pid):
        port = sd.port("mux")
        for _ in range(4):
            t.socks.append(connect(port, "::1", source=SOURCES[0],
                                   timeout=15))
        # Another address of the same /64 is the same client.
        s = connect(port, "::1", source=SOURCES[1], timeout=15)
        t.socks.append(s)
        got = recv_some(s, 1.0)
        check(got is not None and got.startswith(b"-"), "a fifth silent "
              "connection from the same /64 got %r, not a `-` line" % got)
        s = connect(port, "::1", source=SOURCES[3], timeout=15)
        t.socks.append(s)
        s.sendall(b"open-mux\r\n")
        check(read_until_eof(s, timeout=2.0) == b"+Go\r\nopen\n",
              "a client of another /64 was not served")
    sd.wait_log(tag("mux") + r": refused 2001:db8:1::b \(pending\)",
                what="`mux: refused 2001:db8:1::b (pending)`")


def test_tcpmux_help_lists_only_what_the_client_may_use(t):
    sd = t.start([service("mux", builtin="tcpmux"),
                  service("open-mux", server="/bin/echo", args=["open"],
                          tcpmux=True),
                  service("closed-mux", server="/bin/echo", args=["closed"],
                          tcpmux=True, deny=["127.0.0.1"]),
                  service("local-mux", server="/bin/echo", args=["local"],
                          tcpmux=True, allow=["127.0.0.2"])])
    port = sd.port("mux")
    mark = sd.mark()
    s = connect(port)
    s.sendall(b"help\r\n")
    names = read_until_eof(s).decode().split()
    check("open-mux" in names, "help does not list open-mux: %r" % names)
    check("closed-mux" not in names, "help lists closed-mux, which denies "
          "127.0.0.1: %r" % names)
    check("local-mux" not in names, "help lists local-mux, which allows "
          "only 127.0.0.2: %r" % names)
    s = connect(port, source="127.0.0.2")
    s.sendall(b"help\r\n")
    names = read_until_eof(s).decode().split()
    check("local-mux" in names and "closed-mux" in names,
          "help from 127.0.0.2 misses what it may use: %r" % names)
    s, line = mux_open(t, port, "closed-mux")
    check(line == b"-Access denied\r", "a denied client got %r" % line)
    sd.wait_log(tag("closed-mux") + r": refused 127\.0\.0\.1 \(acl\)", mark,
                what="`closed-mux: refused 127.0.0.1 (acl)`")


def test_tcpmux_reload_with_connections_waiting_for_their_names(t):
    mux = service("mux", builtin="tcpmux")
    target = service("target", server="/bin/echo", args=["tg"], tcpmux=True)
    other = service("other", server="/bin/echo", args=["ok"])
    sd = t.start([mux, target, other])
    port = sd.port("mux")
    waiting = connect(port, timeout=10)
    t.socks.append(waiting)
    waiting.sendall(b"tar")
    time.sleep(0.2)
    sd.rewrite([mux, target, other, service("new", builtin="daytime")])
    sd.reload()
    # The service kept its name: the connection goes on there.
    waiting.sendall(b"get\r\n")
    check(read_until_eof(waiting) == b"+Go\r\ntg\n", "a connection waiting "
          "across a reload that keeps its tcpmux service was not served")
    waiting = connect(port, timeout=10)
    t.socks.append(waiting)
    waiting.sendall(b"tar")
    time.sleep(0.2)
    mark = sd.mark()
    sd.rewrite([target, other])
    sd.reload()
    # Its tcpmux service is gone: answered and closed, nothing started.
    got = read_until_eof(waiting, timeout=3)
    check(got.startswith(b"-") and b"+Go" not in got, "a connection of a "
          "removed tcpmux service got %r" % got)
    check(not sd.find_log(r": start pid=", mark), "an instance started "
          "for a connection of a removed tcpmux service")
    check(read_until_eof(connect(sd.port("other"))) == b"ok\n",
          "superd does not serve after the reload")


def test_tcpmux_behind_a_proxy_header_judges_the_real_client(t):
    sd = t.start([service("mux", builtin="tcpmux", proxy_protocol=True,
                          proxy_from=["127.0.0.1"], log_connections=True),
                  service("where", server="/bin/sh",
                          args=["-c", "echo $TCPREMOTEIP"], tcpmux=True,
                          deny=["10.9.0.0/16"])])
    port = sd.port("mux")
    s = connect(port)
    s.sendall(b"PROXY TCP4 10.1.2.3 10.0.0.2 4000 1\r\nwhere\r\n")
    check(read_until_eof(s) == b"+Go\r\n10.1.2.3\n", "the proxied client's "
          "address did not reach the target")
    s = connect(port)
    s.sendall(b"PROXY TCP4 10.9.2.3 10.0.0.2 4000 1\r\nwhere\r\n")
    check(read_until_eof(s) == b"-Access denied\r\n", "the target's deny did "
          "not apply to the proxied client")
    # Behind a proxy, the client whose connections wait is the header's:
    # the proxy's own address is no one client.
    mark = sd.mark()
    waiting = []
    for i in range(5):
        s = connect(port, timeout=15)
        t.socks.append(s)
        s.sendall(b"PROXY TCP4 10.%d.2.3 10.0.0.2 4000 1\r\n"
                  % (1 if i < 4 else 2))
        waiting.append(s)
    wait_for(lambda: count(sd, r"proxied client 10\.[12]\.2\.3:", mark) == 5,
             3, "the five headers read")
    s = connect(port, timeout=15)
    t.socks.append(s)
    s.sendall(b"PROXY TCP4 10.1.2.3 10.0.0.2 4001 1\r\n")
    got = recv_some(s, 1.0)
    check(got is not None and got.startswith(b"-"), "a fifth waiting "
          "connection of the proxied client 10.1.2.3 got %r" % got)
    check(all(recv_some(c, 0.1) is None for c in waiting),
          "a waiting connection was answered")
    s = connect(port, timeout=15)
    s.sendall(b"PROXY TCP4 10.1.9.9 10.0.0.2 4000 1\r\nwhere\r\n")
    check(read_until_eof(s) == b"+Go\r\n10.1.9.9\n", "another proxied "
          "client was not served")
