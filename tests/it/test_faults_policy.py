"""Fault cases 52-54 and 59 of tests/FAULTS.md: client policy where superd
can apply it (UDP builtins per datagram, IPv6 clients by prefix), an error
or a warning where it cannot, UDP builtins that neither loop nor amplify,
and UDP programs that are always wait services."""

import contextlib
import ctypes
import os
import pwd
import re
import select
import signal
import socket
import struct
import threading
import time

import faultkit
from faultkit import idle_cpu, udp_rx_queue
from harness import (Skip, check, connect, ipv6_available, need_root,
                     python3, service, service_line, tag, wait_for)


def udp_client(t, source=("127.0.0.1", 0)):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    c.bind(source)
    return c


def replies(c, timeout):
    """Every datagram that reaches c within timeout seconds."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        ready, _, _ = select.select([c], [], [], left)
        if ready:
            got.append(c.recv(70000))


def status(sd, name):
    """(started, refused) from superd's SIGUSR1 line for the service."""
    mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    line = sd.wait_log(tag(name) + r": status .*", mark).group(0)
    m = re.search(r"started=(\d+) refused=(\d+)", line)
    check(m, "no counters in %r" % line)
    return int(m.group(1)), int(m.group(2))




# -- network namespaces (root) ---------------------------------------------

CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def netns_of(pid):
    """Sockets made inside are in the network namespace of process pid."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    other = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY)
    try:
        if libc.setns(other, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(other)


SOURCES = ("2001:db8:1::a", "2001:db8:1::b", "2001:db8:1::c",
           "2001:db8:2::a")


def answer(port, source):
    s = connect(port, "::1", source=source)
    try:
        return s.recv(100)
    finally:
        s.close()


def start_in_netns(t, svcs, label):
    """superd in a network namespace of its own, whose loopback carries
    SOURCES: three addresses of one /64 and one of another."""
    setup = "ip link set lo up"
    for a in SOURCES:
        setup += " && ip -6 addr add %s/64 dev lo nodad" % a
    return faultkit.start_hooked(
        t, svcs, label=label, prefix=["unshare", "-n", "/bin/sh", "-c",
                                      setup + ' && exec "$@"', "sh"])


# -- 52: settings superd cannot apply -----------------------------------------

def test_settings_superd_cannot_apply_are_errors_at_their_lines(t):
    svcs = [service("ue", protocol="udp", builtin="echo", per_source=2),
            service("w", server="/bin/cat", wait=True, per_source=1),
            service("wu", protocol="udp", server="/bin/cat",
                    allow=["127.0.0.1"]),
            service("x", protocol="unix", path=t.path("x.sock"),
                    server="/bin/cat", deny=["10.0.0.0/8"])]
    conf = t.conf(svcs)
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "-t accepted settings superd cannot apply (exit %d)" % rc)
    for i, (key, what) in enumerate((("per_source", "udp builtins"),
                                     ("per_source", "wait services"),
                                     ("allow", "wait services"),
                                     ("deny", "unix services"))):
        want = '%s:%d: "%s" does not apply to %s' % (conf, service_line(i),
                                                     key, what)
        check(want in err, "-t does not say %r: %r" % (want, err))
    # From the superd block the same settings stay usable: a warning per
    # service they cannot apply to, and the configuration is ok.
    conf = t.conf([service("ue", protocol="udp", builtin="echo"),
                   service("t", server="/bin/cat")],
                  superd={"per_source": 2, "allow": ["127.0.0.1"]},
                  name="defaults.conf")
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0, "-t rejected a default (exit %d): %r" % (rc, err))
    check(re.search(r'warning: %s:1: "per_source" of the superd block does '
                    r'not apply to service "ue"' % re.escape(conf), err),
          "no warning for the default that does not apply: %r" % err)
    check("\"t\"" not in err, "a warning for a service the default fits: %r"
          % err)


def test_udp_builtins_apply_allow_deny_and_per_source_rate(t):
    sd = t.start([service("allowed", protocol="udp", builtin="echo",
                          allow=["127.0.0.2"]),
                  service("denied", protocol="udp", builtin="chargen",
                          deny=["127.0.0.1"]),
                  service("counted", protocol="udp", builtin="echo",
                          per_source_rate=2)])
    one = udp_client(t)
    two = udp_client(t, ("127.0.0.2", 0))
    for i in range(3):
        one.sendto(b"a%d" % i, ("127.0.0.1", sd.port("allowed", "udp")))
        one.sendto(b"", ("127.0.0.1", sd.port("denied", "udp")))
    got = replies(one, 0.5)
    check(got == [], "a source outside allow/inside deny was answered: %r"
          % got)
    two.sendto(b"in", ("127.0.0.1", sd.port("allowed", "udp")))
    two.sendto(b"", ("127.0.0.1", sd.port("denied", "udp")))
    check(len(replies(two, 1.0)) == 2, "an allowed source is not answered")
    check(status(sd, "allowed") == (1, 3), "allowed: not 1 served, 3 "
          "refused")
    check(status(sd, "denied") == (1, 3), "denied: not 1 served, 3 refused")
    for i in range(4):
        one.sendto(b"c%d" % i, ("127.0.0.1", sd.port("counted", "udp")))
    got = replies(one, 0.5)
    check(got == [b"c0", b"c1"], "per_source_rate = 2 answered %r" % got)
    two.sendto(b"other", ("127.0.0.1", sd.port("counted", "udp")))
    check(replies(two, 1.0) == [b"other"], "another source is refused too")
    # Refusals are counted, never logged one by one.
    check(not sd.find_log(r"refused 127\.0\.0\.1"), "a datagram's refusal "
          "was logged")


def test_udp_builtin_rate_leaves_datagrams_queued(t):
    sd = t.start([service("slow", protocol="udp", builtin="echo", rate=2)])
    port = sd.port("slow", "udp")
    c = udp_client(t)
    for i in range(8):
        c.sendto(b"r%d" % i, ("127.0.0.1", port))
    first = replies(c, 0.4)
    check(len(first) <= 3, "rate = 2 answered %d datagrams at once"
          % len(first))
    check(udp_rx_queue(port) > 0, "the datagrams over the rate are not "
          "left queued")
    check(idle_cpu(sd.pid, 0.5) < 0.1, "superd spins while the rate holds")
    rest = replies(c, 3.5)
    check(sorted(first + rest) == [b"r%d" % i for i in range(8)],
          "not every datagram answered in the end: %r" % (first + rest))


def test_udp_chargen_does_not_amplify(t):
    sd = t.start([service("cg", protocol="udp", builtin="chargen")])
    port = sd.port("cg", "udp")
    c = udp_client(t)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sent = got = 0
    start = time.monotonic()
    # Three seconds of empty datagrams: chargen's length changes every
    # second, so an amplifier cannot hide behind one short draw.
    for i in range(120):
        c.sendto(b"", ("127.0.0.1", port))
        sent += 1
        time.sleep(0.025)
        ready, _, _ = select.select([c], [], [], 0)
        while ready:
            got += len(c.recv(70000))
            ready, _, _ = select.select([c], [], [], 0)
    got += sum(len(d) for d in replies(c, 0.3))
    windows = int(time.monotonic() - start) + 2
    bound = windows * 1024 + sent * 28
    check(got <= bound, "chargen sent %d bytes for %d empty datagrams over "
          "%d s (at most %d allowed)" % (got, sent, windows - 1, bound))
    check(got > 0, "chargen answered nothing at all")


# -- 53: UDP builtin loops ----------------------------------------------------

def forge_udp(src_port, dst_port, payload):
    """A datagram to 127.0.0.1:dst_port that says it comes from
    127.0.0.1:src_port (a raw socket: root only)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    try:
        hdr = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0)
        s.sendto(hdr + payload, ("127.0.0.1", 0))
    finally:
        s.close()


def test_udp_builtins_never_answer_each_other(t):
    need_root("forge a datagram's source port with a raw socket")
    sd = t.start([service("ea", protocol="udp", builtin="echo"),
                  service("eb", protocol="udp", builtin="echo"),
                  service("cg", protocol="udp", builtin="chargen")])
    a, b, cg = (sd.port(n, "udp") for n in ("ea", "eb", "cg"))
    check(min(a, b, cg) >= 1024, "ports below 1024: %s" % [a, b, cg])
    forge_udp(b, a, b"ping")         # ea would answer eb, eb ea, ...
    forge_udp(a, cg, b"")            # cg would answer ea, ea cg, ...
    time.sleep(1.0)
    check(idle_cpu(sd.pid, 0.5) < 0.1, "superd is busy: the services talk "
          "to each other")
    for name, want in (("ea", (0, 1)), ("eb", (0, 0)), ("cg", (0, 1))):
        got = status(sd, name)
        check(got == want, "%s: started, refused = %s, not %s"
              % (name, got, want))


def test_udp_echo_loop_with_another_echo_is_bounded(t):
    """Someone else's echo on a port >= 1024: the ping-pong stops once the
    source's budget of answers a second is spent.  A loopback source is a
    local process, whose answers are not counted: the other echo sits on
    an address of another network, in a network namespace of superd's."""
    need_root("make a network namespace with an address that is not "
              "loopback")
    if not ipv6_available():
        raise Skip("no IPv6")
    sd = start_in_netns(t, [service("ue", protocol="udp", builtin="echo",
                                    address="::1")], "superd")
    with netns_of(sd.pid):
        port = sd.port("ue", "udp")
        peer = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        t.socks.append(peer)
        peer.bind((SOURCES[3], 0))
    seen = [0]
    stop = threading.Event()

    def other_echo():
        peer.settimeout(0.1)
        while not stop.is_set():
            try:
                data, src = peer.recvfrom(70000)
            except socket.timeout:
                continue
            seen[0] += 1
            peer.sendto(data, src)

    th = threading.Thread(target=other_echo)
    th.start()
    try:
        peer.sendto(b"ping", ("::1", port))
        time.sleep(1.5)
    finally:
        stop.set()
        th.join()
    check(1 <= seen[0] <= 130, "%d answers bounced between the two echo "
          "services in 1.5 s" % seen[0])
    check(idle_cpu(sd.pid, 0.5) < 0.1, "superd is still busy")
    check(status(sd, "ue") == (128, 1), "not 128 answered and the next "
          "refused: %s" % (status(sd, "ue"),))


# -- 54: UDP programs and wait = false ----------------------------------------

def test_udp_program_never_nowait(t):
    svcs = [service("u", protocol="udp", server="/bin/cat", wait=False)]
    conf = t.conf(svcs)
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "-t accepted a udp program with wait = false (exit %d)"
          % rc)
    want = '%s:%d: "wait" = false: a udp program must be a wait service' % (
        conf, service_line(0))
    check(want in err, "-t does not say %r: %r" % (want, err))
    # A classic inetd.conf line `dgram udp nowait` is served as wait, with a
    # warning naming its line.
    helper = t.copy_helper("udp_reply.py")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())[0]
    inetd = t.write("inetd.conf", "# old habits\n127.0.0.1:%d dgram udp "
                    "nowait %s %s udp_reply.py %s\n"
                    % (port, user, python3(), helper))
    conf = t.conf([service("t", server="/bin/cat")],
                  superd={"inetd_conf": inetd}, name="inetd-main.conf")
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0, "-t rejected an inetd.conf udp nowait line: %r" % err)
    check("warning: %s:2: udp service \"%d\" runs a program: nowait is "
          "not possible, served as wait" % (inetd, port) in err,
          "no warning naming the inetd.conf line: %r" % err)
    sd = t.start(conf=conf, wait=[(str(port), "udp")])
    sd.wait_log(r"%d\" runs a program: nowait is not possible" % port)
    c = udp_client(t)
    c.sendto(b"hello", ("127.0.0.1", port))
    got = replies(c, 3.0)
    check(got and got[0].startswith(b"hello "), "not served: %r" % got)
    check(idle_cpu(sd.pid, 0.5) < 0.1, "superd spins on the udp socket")
    check(not sd.find_log(r"accept"), "superd called accept() on it")


# -- 59: IPv6 clients by prefix -----------------------------------------------

def test_ipv6_clients_counted_by_prefix(t):
    need_root("make a network namespace with IPv6 addresses of one /64")
    if not ipv6_available():
        raise Skip("no IPv6")
    hold = t.script("hold.sh", "echo hi\nexec sleep 10\n")
    sd = start_in_netns(t, [
        service("one", address="::1", server=hold, per_source=1,
                refuse_message="no"),
        service("rate", address="::1", server="/bin/echo", args=["hi"],
                per_source_rate=1, refuse_message="no")], "superd")
    with netns_of(sd.pid):
        one, rate = sd.port("one"), sd.port("rate")
        got = [answer(one, s) for s in SOURCES]
        check(got == [b"hi\n", b"no\r\n", b"no\r\n", b"hi\n"],
              "per_source = 1 by /64: %r" % got)
        got = [answer(rate, s) for s in SOURCES]
        check(got == [b"hi\n", b"no\r\n", b"no\r\n", b"hi\n"],
              "per_source_rate = 1 by /64: %r" % got)
    check(sd.find_log(r"refused 2001:db8:1::b \(per_source\)"),
          "the refusal is not logged with the address")
    # A prefix of 128 counts every address on its own.
    sd = start_in_netns(t, [
        service("exact", address="::1", server=hold, per_source=1,
                per_source_ipv6_prefix=128, refuse_message="no")], "exact")
    with netns_of(sd.pid):
        got = [answer(sd.port("exact"), s) for s in SOURCES]
        check(got == [b"hi\n"] * 4, "per_source_ipv6_prefix = 128: %r" % got)
