"""Fault cases 58, 60, 63 and 64 of tests/FAULTS.md: one client pausing a
UDP wait service, the log flooded and forged, IPv6 scope ids, and a TCP
wait program that never accepts (told from one that accepts a client each
run while its queue stays as long)."""

import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import time

import faultkit
from faultkit import idle_cpu, udp_reply as reply, udp_rx_queue
from harness import (Skip, check, ipv6_available, limit, need_root, python3,
                     service, tag, talk, wait_for)
from test_faults_policy import SOURCES, netns_of, start_in_netns


def udp_client(t, source):
    c = socket.socket(socket.AF_INET6 if ":" in source else socket.AF_INET,
                      socket.SOCK_DGRAM)
    t.socks.append(c)
    c.bind((source, 0))
    return c




def starts(sd, name, since=0):
    return len(re.findall(tag(name) + r": start pid=", sd.log()[since:]))


def settle_starts(sd, name, since, n):
    """Wait for n start lines: the parent writes one after the fork, and
    the instance may answer its client before that."""
    wait_for(lambda: starts(sd, name, since) >= n, 5,
             "%d start lines logged" % n)




# -- 58 ---------------------------------------------------------------------

# Reads one datagram; one that says "crash" makes it fail at once, any
# other is answered.  Started with -S (no site module): a failure counts
# only within a second of the start, even on a loaded machine.
FLAKY = """import socket, sys
s = socket.socket(fileno=0)
data, peer = s.recvfrom(4096)
if data.startswith(b"crash"):
    sys.exit(1)
s.sendto(b"ok " + data, peer)
"""


@limit(40)
def test_udp_wait_one_failing_source_is_dropped_others_served(t):
    prog = t.write("flaky.py", FLAKY, 0o755)
    sd = t.start([service("flaky", protocol="udp", wait=True,
                          server=python3(), args=["-S", prog]),
                  service("other", server="/bin/echo", args=["o"])])
    port = sd.port("flaky", "udp")
    bad = udp_client(t, "127.0.0.2")
    good = udp_client(t, "127.0.0.1")
    # The healthy client is served first: the program works.
    good.sendto(b"first", ("127.0.0.1", port))
    check(reply(good, 5) == b"ok first", "the healthy client not served")
    mark = sd.mark()
    for i in range(12):
        bad.sendto(b"crash%d" % i, ("127.0.0.1", port))
    m = sd.wait_log(tag("flaky") + r": looping.*", mark, timeout=15,
                    what="the looping verdict")
    check(re.match(tag("flaky") + r": looping on datagrams from "
                   r"127\.0\.0\.2 \(10 restarts without progress\), "
                   r"dropping them for 10 s$", m.group(0)),
          "one source's failures did not drop that source: %r" % m.group(0))
    check(starts(sd, "flaky", mark) == 10, "%d instances for the failing "
          "source, not 10" % starts(sd, "flaky", mark))
    # Its two datagrams left are dropped, not served, and never pause
    # the service for the others.
    wait_for(lambda: udp_rx_queue(port) == 0, 3,
             "the failing source's datagrams left dropped")
    after = sd.mark()
    for i in range(3):
        bad.sendto(b"crash-again%d" % i, ("127.0.0.1", port))
        good.sendto(b"hello%d" % i, ("127.0.0.1", port))
        got = reply(good, 3)
        check(got == b"ok hello%d" % i,
              "the other source was not served while the failing one is "
              "dropped: %r" % got)
    settle_starts(sd, "flaky", after, 3)
    check(starts(sd, "flaky", after) == 3, "%d instances for 3 good and 3 "
          "dropped datagrams" % starts(sd, "flaky", after))
    check(not sd.find_log(tag("flaky") + r": looping.*paused", mark),
          "one source paused the service for everyone")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")



@limit(40)
def test_udp_wait_two_failing_sources_cannot_pause_a_working_service(t):
    # Two sources (forged ones, say) whose datagrams make the program fail,
    # while it serves a third: the program works, so both sources are
    # dropped and the service is not paused.
    prog = t.write("flaky.py", FLAKY, 0o755)
    sd = t.start([service("flaky", protocol="udp", wait=True,
                          server=python3(), args=["-S", prog])])
    port = sd.port("flaky", "udp")
    good = udp_client(t, "127.0.0.1")
    bad = [udp_client(t, "127.0.0.2"), udp_client(t, "127.0.0.3")]
    good.sendto(b"first", ("127.0.0.1", port))
    check(reply(good, 5) == b"ok first", "the healthy client not served")
    mark = sd.mark()
    for i in range(6):
        bad[i % 2].sendto(b"crash%d" % i, ("127.0.0.1", port))
        bad[1 - i % 2].sendto(b"crash%d" % i, ("127.0.0.1", port))
    m = sd.wait_log(tag("flaky") + r": looping.*", mark, timeout=15,
                    what="the looping verdict")
    check(re.match(tag("flaky") + r": looping on datagrams from "
                   r"127\.0\.0\.[23] and 1 other sources .*dropping them "
                   r"for 10 s$", m.group(0)),
          "two failing sources of a working service: %r" % m.group(0))
    wait_for(lambda: udp_rx_queue(port) == 0, 3,
             "the failing sources' datagrams left dropped")
    good.sendto(b"again", ("127.0.0.1", port))
    check(reply(good, 3) == b"ok again", "the healthy client not served")
    settle_starts(sd, "flaky", mark, 11)
    check(starts(sd, "flaky", mark) == 11, "%d instances for 10 failing "
          "datagrams, 2 dropped ones and 1 good one" % starts(sd, "flaky",
                                                              mark))


@limit(40)
def test_udp_wait_ipv6_client_rotating_in_its_prefix_is_one_source(t):
    # One host sending from three addresses of its /64 is one source: its
    # datagrams are dropped, named by the prefix, and the service is not
    # paused, though it served no one (three IPv4 sources would pause it).
    need_root("make a network namespace with IPv6 addresses of one /64")
    if not ipv6_available():
        raise Skip("no IPv6")
    prog = t.write("flaky.py", FLAKY, 0o755)
    sd = start_in_netns(t, [service("flaky", protocol="udp", wait=True,
                                    address="::1", server=python3(),
                                    args=["-S", prog])], "superd")
    port = sd.port("flaky", "udp")
    with netns_of(sd.pid):
        bad = [udp_client(t, a) for a in SOURCES[:3]]
        good = udp_client(t, SOURCES[3])
        for i in range(12):
            bad[i % 3].sendto(b"crash%d" % i, ("::1", port))
    m = sd.wait_log(tag("flaky") + r": looping.*", timeout=15,
                    what="the looping verdict")
    check(re.match(tag("flaky") + r": looping on datagrams from "
                   r"2001:db8:1::/64 \(10 restarts without progress\), "
                   r"dropping them for 10 s$", m.group(0)),
          "three addresses of one /64: %r" % m.group(0))
    mark = sd.mark()
    with netns_of(sd.pid):
        bad[0].sendto(b"crash-again", ("::1", port))
        good.sendto(b"hello", ("::1", port))
        got = reply(good, 3)
    check(got == b"ok hello", "another /64 was not served at once: %r" % got)
    settle_starts(sd, "flaky", mark, 1)
    check(starts(sd, "flaky", mark) == 1, "%d instances for 1 dropped and 1 "
          "good datagram" % starts(sd, "flaky", mark))


# -- 60 ---------------------------------------------------------------------

REFUSALS = 2000


@limit(40)
def test_refusal_burst_logs_a_bounded_number_of_lines_and_a_summary(t):
    sd = t.start([service("shut", server="/bin/echo", args=["no"],
                          deny=["127.0.0.0/8"], refuse_message="go away")])
    port = sd.port("shut")
    mark = sd.mark()
    t0 = time.monotonic()
    for i in range(REFUSALS):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.settimeout(5)
            got = b""
            while True:
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        finally:
            s.close()
        # The message still reaches every refused client.
        check(got == b"go away\r\n", "refused client %d got %r" % (i, got))
    took = time.monotonic() - t0
    # The summary comes once its second is over, with no client after.
    summary = tag("shut") + r": (\d+) more refusals not logged"

    def counted():
        log = sd.log()[mark:]
        lines = len(re.findall(tag("shut") + r": refused 127\.0\.0\.1 "
                               r"\(acl\)", log))
        unlogged = sum(int(n) for n in re.findall(summary, log))
        return (lines, unlogged) if lines + unlogged == REFUSALS else None

    lines, unlogged = wait_for(counted, 5, "refusal lines and summaries "
                               "adding up to %d" % REFUSALS)
    bound = 20 * (int(took) + 2)
    check(lines <= bound, "%d refusal lines for %d refusals in %.1f s "
          "(at most %d)" % (lines, REFUSALS, took, bound))
    check(unlogged > 0, "no refusal went unlogged")
    sd.signal(signal.SIGUSR1)
    sd.wait_log(tag("shut") + r": status .*refused=%d\b" % REFUSALS, mark,
                what="SIGUSR1 counting every refusal")


@limit(20)
def test_stderr_control_bytes_escaped_line_kept_whole(t):
    prog = t.script("noisy.sh",
                    r"printf 'a\033[31mred\007\rsuperd: forged\000after\\x\n'"
                    " >&2\necho done\n")
    sd = t.start([service("noisy", server=prog)])
    mark = sd.mark()
    check(talk(sd.port("noisy")) == b"done\n", "the program did not run")
    sd.wait_log(tag("noisy") + r": exit pid=", mark)
    with open(sd.log_path, "rb") as f:
        raw = f.read()[mark:]
    want = (b"noisy: stderr: a\\x1b[31mred\\x07\\x0dsuperd: forged\\x00after"
            b"\\x5cx\n")
    check(want in raw, "stderr not escaped into one line: %r"
          % [ln for ln in raw.split(b"\n") if b"stderr" in ln])
    for byte in (b"\x1b", b"\x07", b"\r", b"\x00"):
        check(byte not in raw, "%r reached the log" % byte)


# -- 63 ---------------------------------------------------------------------

NETNS_SETUP = ("ip link set lo up && "
               "ip -6 addr add fe80::1/64 dev lo nodad && exec \"$@\"")


def netns_ready():
    need_root("create a network namespace")
    for tool in ("unshare", "ip", "nsenter"):
        if shutil.which(tool) is None:
            raise Skip("%s is not installed" % tool)
    p = subprocess.run(["unshare", "-n", "/bin/sh", "-c", NETNS_SETUP, "sh",
                        "true"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    if p.returncode != 0:
        raise Skip("no link-local IPv6 address in a private network "
                   "namespace here: %r" % p.stdout[-200:])


@limit(30)
def test_ipv6_scope_id_kept_in_ports_file_and_log(t):
    netns_ready()
    sd = faultkit.start_hooked(
        t, [service("ll", address="fe80::1%lo", server="/usr/bin/env"),
            service("llu", protocol="udp", address="fe80::1%lo",
                    builtin="daytime")],
        prefix=["unshare", "-n", "/bin/sh", "-c", NETNS_SETUP, "sh"])
    for name, proto in (("ll", "tcp"), ("llu", "udp")):
        es = sd.entries(name, proto)
        check(len(es) == 1 and es[0].addr == "fe80::1%lo",
              "ports file line of %s: %s" % (name, sd.ports_text()))
        sd.wait_log(tag(name) + r": listening on %s fe80::1%%lo port %d$"
                    % (proto, es[0].port), what="%s listening line" % name)
    # A client in the same namespace: the environment keeps the plain
    # address, which inet_pton reads (tcpserver's TCPREMOTEIP).
    client = ("import socket; s = socket.create_connection(('fe80::1%%lo', "
              "%d), timeout=5); print(s.makefile('rb').read().decode())"
              % sd.port("ll"))
    p = subprocess.run(["nsenter", "-t", str(sd.pid), "-n", python3(), "-c",
                        client], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    out = p.stdout.decode()
    check(p.returncode == 0, "client failed: %r" % p.stderr[-300:])
    check("TCPREMOTEIP=fe80::1\n" in out and "TCPLOCALIP=fe80::1\n" in out,
          "environment: %r" % out)


# -- 64 ---------------------------------------------------------------------

# Accepts one connection, answers it and exits.
ACCEPT_ONE = """import socket
s = socket.socket(fileno=0)
c, peer = s.accept()
c.sendall(b"served\\n")
c.close()
"""


def sock_diag_tcp():
    """Whether the kernel lists TCP sockets over NETLINK_SOCK_DIAG, as
    superd judges a TCP wait program's progress by it; a container may
    have no inet_diag."""
    try:
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)
    except OSError:
        return False
    with nl:
        # SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST|NLM_F_DUMP, inet_diag_req_v2
        # for AF_INET TCP listeners.
        req = struct.pack("=BBBBI48x", socket.AF_INET, socket.IPPROTO_TCP,
                          0, 0, 1 << 10)
        nl.sendto(struct.pack("=IHHII", 16 + len(req), 20, 0x301, 1, 0) +
                  req, (0, 0))
        nl.settimeout(2)
        try:
            data = nl.recv(65536)
        except OSError:
            return False
    return len(data) >= 16 and struct.unpack("=IH", data[:6])[1] != 2


def need_sock_diag():
    if not sock_diag_tcp():
        raise Skip("no NETLINK_SOCK_DIAG for TCP (inet_diag): superd does "
                   "not judge a TCP wait program's progress")


@limit(40)
def test_tcp_wait_program_not_accepting_is_paused(t):
    need_sock_diag()
    prog = t.write("accept_one.py", ACCEPT_ONE, 0o755)
    sd = t.start([service("idle", wait=True, server="/bin/true"),
                  service("busy", wait=True, server=python3(), args=[prog]),
                  service("other", server="/bin/echo", args=["o"])])
    mark = sd.mark()
    c = socket.create_connection(("127.0.0.1", sd.port("idle")), timeout=5)
    t.socks.append(c)
    sd.wait_log(tag("idle") + r": looping \(10 restarts without "
                    r"progress\), paused for 10 s", mark, timeout=5,
                    what="the looping pause")
    n = starts(sd, "idle", mark)
    check(n == 10, "%d restarts before the pause, not 10" % n)
    during = sd.mark()
    check(idle_cpu(sd.pid, 1.0) < 0.1, "superd is busy while the service "
          "is paused")
    check(starts(sd, "idle", during) == 0, "restarted during its pause")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")
    # A healthy TCP wait program with a queue of clients takes one each
    # time: never called looping.
    port = sd.port("busy")
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10)
               for _ in range(15)]
    for s in clients:
        t.socks.append(s)
        check(s.makefile("rb").readline() == b"served\n",
              "a client of the healthy TCP wait service not served")
    check(not sd.find_log(tag("busy") + r": looping", mark),
          "a healthy TCP wait service was called looping")


@limit(30)
def test_tcp_wait_program_not_accepting_full_queue_is_paused(t):
    """A full accept queue (backlog 1, two clients) is judged too: its
    clients are named, and none of them leaves."""
    need_sock_diag()
    sd = t.start([service("idle", wait=True, server="/bin/true",
                          backlog=1)])
    mark = sd.mark()
    for _ in range(2):
        t.socks.append(socket.create_connection(
            ("127.0.0.1", sd.port("idle")), timeout=5))
    sd.wait_log(tag("idle") + r": looping \(10 restarts without "
                    r"progress\), paused for 10 s", mark, timeout=5,
                    what="the looping pause of a full queue")
    n = starts(sd, "idle", mark)
    check(n == 10, "%d restarts before the pause, not 10" % n)


# Accepts one client, answers, and takes a moment to exit: by then the
# client below has queued the next connection.
ACCEPT_ONE_SLOWLY = ACCEPT_ONE + """import time
time.sleep(0.1)
"""


@limit(60)
def test_tcp_wait_program_accepting_under_steady_queue_not_paused(t):
    """A healthy TCP wait program accepts one client a run while a client
    keeps three connections queued, opening one as each is answered: the
    queue's length never changes, yet each run took a client off it."""
    need_sock_diag()
    prog = t.write("accept_one.py", ACCEPT_ONE_SLOWLY, 0o755)
    sd = t.start([service("busy", wait=True, server=python3(),
                          args=["-S", prog])])
    mark = sd.mark()
    port = sd.port("busy")
    total, opened, answered = 40, 0, 0
    sel = selectors.DefaultSelector()

    def connect():
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        t.socks.append(c)
        sel.register(c, selectors.EVENT_READ)
        return c

    for _ in range(3):
        connect()
        opened += 1
    deadline = time.monotonic() + 40
    while answered < total and time.monotonic() < deadline:
        check(not sd.find_log(tag("busy") + r": looping", mark),
              "a healthy TCP wait service was called looping after %d "
              "answers" % answered)
        for key, _ in sel.select(timeout=1):
            c = key.fileobj
            sel.unregister(c)
            line = c.makefile("rb").readline()
            check(line == b"served\n", "a client got %r" % line)
            c.close()
            answered += 1
            if opened < total:
                connect()
                opened += 1
    check(answered == total, "%d of %d connections answered" %
          (answered, total))
    check(not sd.find_log(tag("busy") + r": looping", mark),
          "a healthy TCP wait service was called looping")
