"""Fault cases 18-30 of tests/FAULTS.md: connections (TCP and UNIX nowait)."""

import os
import re
import resource
import signal
import socket
import threading
import time

import faultkit
from faultkit import (closed_within, linger_reset, recv_some,
                      wait_no_children)
from harness import (Skip, check, connect, connect_unix, ipv6_available,
                     limit, need_root, python3, read_line, read_until_eof,
                     service, tag, talk, wait_for)


def holder(name, **settings):
    """An instance that says its pid, then waits for a line."""
    return service(name, server="/bin/sh",
                   args=["-c", 'echo $$; read x; echo "done $x"'], **settings)


def echo(name, word="ok", **kw):
    return service(name, server="/bin/echo", args=[word], **kw)


def cat_talk(port, data):
    """Send data, close our side, return all the answer (for /bin/cat)."""
    s = connect(port)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return read_until_eof(s)
    finally:
        s.close()


def count(sd, pattern, since=0):
    return len(re.findall(pattern, sd.log()[since:], re.M))


# -- 18 ---------------------------------------------------------------------

def test_silent_client_gets_its_instance_others_served(t):
    sd = t.start([holder("hold"), echo("other"),
                  service("echob", builtin="echo")])
    silent = connect(sd.port("hold"))
    t.socks.append(silent)
    # The instance starts although the client sends nothing: superd never
    # waits for a program's client to speak.
    check(read_line(silent).isdigit(), "no instance for a silent client")
    silent_echo = connect(sd.port("echob"))
    t.socks.append(silent_echo)
    for _ in range(3):
        started = time.monotonic()
        check(talk(sd.port("other")) == b"ok\n", "another service stopped")
        second = connect(sd.port("hold"))
        check(read_line(second).isdigit(), "a second client of the same "
              "service got no instance")
        second.sendall(b"b\n")
        check(read_until_eof(second) == b"done b\n", "second client")
        second.close()
        check(time.monotonic() - started < 2, "clients waited on the silent "
              "ones")
    silent.sendall(b"late\n")
    check(read_until_eof(silent) == b"done late\n", "the silent client's "
          "instance did not serve it when it spoke")


# -- 19 ---------------------------------------------------------------------

def test_clients_reset_in_the_backlog_are_dropped_quietly(t):
    sd = t.start([holder("one", instances=1)])
    port = sd.port("one")
    # A first instance creates what lasts (the stderr pipe); the count is
    # taken once superd is idle again.
    s = connect(port)
    read_line(s)
    s.sendall(b"w\n")
    read_until_eof(s)
    s.close()
    wait_no_children(sd, "after the warm-up")
    fds = sd.idle_fd_count()
    first = connect(port)
    t.socks.append(first)
    read_line(first)
    # superd does not accept while the only slot is taken: these wait in
    # the backlog, and reset there.
    queued = []
    for _ in range(30):
        s = connect(port)
        linger_reset(s)
        queued.append(s)
    time.sleep(0.2)
    mark = sd.mark()
    for s in queued:
        s.close()
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "the first client")
    # The slot is free again: superd takes the dead connections and goes on.
    s = connect(port)
    check(read_line(s).isdigit(), "a client after the resets got nothing")
    s.sendall(b"z\n")
    check(read_until_eof(s) == b"done z\n", "a client after the resets")
    s.close()
    wait_no_children(sd, "after the resets")
    starts = count(sd, tag("one") + r": start pid=", mark)
    check(starts <= 2, "%d instances started for 30 reset clients and one "
          "live one" % starts)
    noise = [ln for ln in sd.log_lines(mark)
             if not re.search(r": (start|exit) pid=", ln)]
    check(not noise, "resets in the backlog were logged: %s" % noise[:3])
    faultkit.wait_fds(sd, fds, "after the resets")


# -- 20 ---------------------------------------------------------------------

def test_client_reset_after_accept_ends_its_instance(t):
    # The program writes to a connection the client has reset: it gets
    # ECONNRESET or EPIPE and SIGPIPE, and ends.
    sd = t.start([service("writer", server="/bin/sh", args=[
        "-c", "echo go; sleep 0.3; exec yes"]), echo("other")])
    mark = sd.mark()
    for _ in range(10):
        s = connect(sd.port("writer"))
        check(read_line(s) == b"go", "the instance did not start")
        linger_reset(s)
        s.close()
    ends = wait_for(lambda: len(re.findall(
        tag("writer") + r": exit pid=\d+ (signal=13|status=[1-9]\d*)\b",
        sd.log()[mark:])) == 10 or None, 10,
        "10 instances ending after their clients reset")
    check(ends, "not all instances ended")
    wait_no_children(sd, "after the resets")
    sd.check_alive("after clients reset their connections")
    check(talk(sd.port("other")) == b"ok\n", "another service stopped")


# -- 21 ---------------------------------------------------------------------

@limit(60)
def test_burst_of_10000_connections(t):
    inst = 4
    sd = t.start([service("burst", server="/bin/cat", instances=inst,
                          log_connections=False)])
    port = sd.port("burst")
    check(cat_talk(port, b"warm\n") == b"warm\n", "no answer before the burst")
    wait_no_children(sd, "before the burst")
    fds_before = sd.idle_fd_count()
    stop = threading.Event()
    peak = {"children": 0, "fds": 0}

    def watch():
        while not stop.is_set():
            try:
                kids = len(sd.children())
                fds = sd.fd_count()
            except OSError:
                return
            peak["children"] = max(peak["children"], kids)
            peak["fds"] = max(peak["fds"], fds)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    mark = sd.mark()
    attempts = 0
    try:
        for wave in range(50):
            socks = []
            for i in range(200):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                # Most reset at once; every 20th closes normally, so that
                # its instance runs (cat ends at the EOF).
                if i % 20:
                    linger_reset(s)
                socks.append(s)
                attempts += 1
            for s in socks:
                s.close()
            if wave == 25:
                # Half-way, with the backlog full: the status dump comes
                # all the same.
                os.kill(sd.pid, signal.SIGUSR1)
                sd.wait_log(tag("burst") + r": status ", mark, timeout=3,
                            what="SIGUSR1's status line during the burst")
    finally:
        faultkit.wait_settled(sd, port, "after the burst")
        stop.set()
        watcher.join(5)
    check(attempts == 10000, "test bug: %d attempts" % attempts)
    check(peak["children"] <= inst, "%d instances ran at once with "
          "instances = %d" % (peak["children"], inst))
    check(peak["fds"] < 20, "superd held up to %d descriptors during the "
          "burst" % peak["fds"])
    check(not faultkit.zombies(sd.pid), "zombies after the burst")
    faultkit.wait_fds(sd, fds_before, "after the burst")
    check(cat_talk(port, b"after\n") == b"after\n", "no answer after the burst")
    wait_no_children(sd, "after the last client")
    mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    line = sd.wait_log(tag("burst") + r": status .*", mark).group(0)
    check(re.search(r"\brunning=0\b", line), "instances still counted as "
          "running: %r" % line)
    started = int(re.search(r"\bstarted=(\d+)", line).group(1))
    check(started >= 50, "only %d instances ran during the burst: it did "
          "not load the service" % started)


# -- 22 ---------------------------------------------------------------------

def test_per_source_counts_ipv4_on_dual_stack_as_dotted(t):
    if not ipv6_available():
        raise Skip("no IPv6 on this machine")
    sd = t.start([holder("dual", address="*", per_source=1,
                         refuse_message="one at a time")])
    six = [e for e in sd.entries("dual") if e.addr == "::"]
    check(six, "no `::` listener for \"*\": %s" % sd.entries("dual"))
    port = six[0].port
    first = connect(port)
    t.socks.append(first)
    read_line(first)
    mark = sd.mark()
    second = connect(port)
    check(read_until_eof(second, timeout=3) == b"one at a time\r\n",
          "the second client from 127.0.0.1 was not refused by per_source")
    second.close()
    sd.wait_log(tag("dual") + r": refused 127\.0\.0\.1 \(per_source\)", mark,
                what="the refusal naming 127.0.0.1 (not ::ffff:127.0.0.1)")
    check("::ffff:" not in sd.log()[mark:], "an IPv4 client is shown as "
          "IPv6-mapped")
    other = connect(port, source="127.0.0.2")
    t.socks.append(other)
    check(read_line(other).isdigit(), "another address is not served")


# -- 23 ---------------------------------------------------------------------

def test_per_source_rate_refuses_the_excess_of_one_address(t):
    sd = t.start([echo("limited", per_source_rate=2,
                       refuse_message="slow down")])
    port = sd.port("limited")
    mark = sd.mark()
    check(talk(port) == b"ok\n" and talk(port) == b"ok\n",
          "the first two connections of the minute were not served")
    check(talk(port) == b"slow down\r\n", "the third connection within a "
          "minute was not refused with the message")
    sd.wait_log(tag("limited") + r": refused 127\.0\.0\.1 "
                r"\(per_source_rate\)", mark)
    s = connect(port, source="127.0.0.2")
    check(read_until_eof(s) == b"ok\n", "another address was refused too")
    s.close()


@limit(20)
def test_rate_holds_clients_in_the_backlog_never_drops(t):
    sd = t.start([echo("rated", rate=2), echo("free", "f")])
    port = sd.port("rated")
    mark = sd.mark()
    clients = [connect(port, timeout=10) for _ in range(6)]
    for s in clients:
        t.socks.append(s)
    started = time.monotonic()
    # Meanwhile another service answers at once.
    check(talk(sd.port("free")) == b"f\n", "another service waited")
    check(time.monotonic() - started < 1.0, "another service was slowed")
    got = [read_until_eof(s, timeout=10) for s in clients]
    took = time.monotonic() - started
    check(got == [b"ok\n"] * 6, "clients held by `rate` got %s" % got)
    # 2 at once, then 2 a second: the last of 6 after about 2 s.
    check(took >= 1.3, "6 clients with rate = 2 all served within %.1f s"
          % took)
    check(not sd.find_log(r"refused", mark), "a client over `rate` was "
          "refused")
    t0 = time.monotonic()
    check(talk(port) == b"ok\n", "the service is off after its rate limit")
    check(time.monotonic() - t0 < 1.0, "a client after the limited ones "
          "waited %.1f s" % (time.monotonic() - t0))


# -- 24 ---------------------------------------------------------------------

def test_denied_clients_cannot_take_the_instances(t):
    sd = t.start([holder("guarded", instances=1, deny=["127.0.0.1/32"])])
    port = sd.port("guarded")
    mark = sd.mark()
    denied = []
    for _ in range(20):
        s = connect(port)
        denied.append(s)
        t.socks.append(s)
    for s in denied:
        check(closed_within(s, 3), "a denied client was not closed at once")
    # They are all still open on the client's side; the one slot is free.
    s = connect(port, source="127.0.0.2")
    t.socks.append(s)
    check(read_line(s).isdigit(), "an allowed client got no instance after "
          "20 denied ones")
    check(count(sd, tag("guarded") + r": refused 127\.0\.0\.1 \(acl\)",
                mark) == 20, "not every denied client was logged as (acl)")


# -- 25 ---------------------------------------------------------------------

@limit(25)
def test_out_of_descriptors_sheds_clients_then_recovers(t):
    sd = t.start([echo("svc"), echo("other", "o")])
    port = sd.port("svc")
    check(talk(port) == b"ok\n", "no answer before the shortage")
    wait_no_children(sd, "before the shortage")
    soft, hard = resource.prlimit(sd.pid, resource.RLIMIT_NOFILE)
    # Every descriptor number below the limit is taken: the next accept()
    # fails with EMFILE.
    full = faultkit.first_free_fd(sd.pid)
    resource.prlimit(sd.pid, resource.RLIMIT_NOFILE, (full, hard))
    mark = sd.mark()
    try:
        cpu0 = faultkit.cpu_seconds(sd.pid)
        clients = [connect(port) for _ in range(2)]
        for s in clients:
            t.socks.append(s)
        started = time.monotonic()
        # The reserve descriptor takes each client and closes it; the
        # service rests a second between them.
        for i, s in enumerate(clients):
            check(closed_within(s, 3), "client %d was not shed" % (i + 1))
            check(recv_some(s, 0.1) in (b"", None), "a shed client got data")
        took = time.monotonic() - started
        time.sleep(0.5)
        cpu = faultkit.cpu_seconds(sd.pid) - cpu0
        check(cpu < 0.3, "superd used %.2f s of CPU while out of "
              "descriptors for %.1f s (spinning)" % (cpu, took + 0.5))
        check(count(sd, tag("svc") + r": out of descriptors", mark) == 1,
              "the shortage was not logged exactly once: %s"
              % [ln for ln in sd.log_lines(mark) if "descriptor" in ln])
    finally:
        resource.prlimit(sd.pid, resource.RLIMIT_NOFILE, (soft, hard))
    sd.check_alive("after running out of descriptors")
    wait_for(lambda: talk(port, timeout=5) == b"ok\n", 4,
             "the service answering again once descriptors are back")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")


@limit(20)
def test_started_with_nofile_32_and_more_listeners_than_fit(t):
    # FAULTS 25 as written (prlimit --nofile=32): 40 services cannot all
    # listen within 32 descriptors.  Those that do must still take their
    # clients (or at least close them at once): none may be left waiting
    # in a backlog that superd no longer has a descriptor to drain.
    def nofile_32():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    svcs = [echo("s%d" % i, "s%d" % i) for i in range(40)]
    sd = faultkit.start_hooked(t, svcs, ready=False,
                               popen={"preexec_fn": nofile_32})
    sd.wait_log(r"configuration .*: 40 services", what="the start-up summary")
    sd.check_alive("started with 40 services and 32 descriptors")
    listening = re.findall(r"(s\d+): listening on tcp 127\.0\.0\.1 port "
                           r"(\d+)", sd.log())
    check(listening, "no service could listen at all")
    check(faultkit.idle_cpu(sd.pid, 0.5) < 0.1, "superd spins")
    for name, port in listening[:2]:
        s = connect(int(port))
        t.socks.append(s)
        got = recv_some(s, 3)
        check(got is not None, "a client of %s (listening) was neither "
              "served nor closed within 3 s: it waits in the backlog, superd "
              "has no descriptor left to take it" % name)
        check(got in (b"", ("%s\n" % name).encode()), "%s answered %r"
              % (name, got))


# -- 26 ---------------------------------------------------------------------

@limit(25)
def test_accept_failures_pause_without_spinning(t):
    sd = t.start([echo("svc")])
    port = sd.port("svc")
    # ENOBUFS from accept: the service rests, the client waits in the
    # backlog and is served once accept works again.
    tr = faultkit.Strace(t, sd.pid, "accept4", "error=ENOBUFS:when=1")
    try:
        mark = sd.mark()
        started = time.monotonic()
        s = connect(port, timeout=10)
        data = read_until_eof(s, timeout=10)
        took = time.monotonic() - started
        s.close()
        check(data == b"ok\n", "the client waiting through ENOBUFS got %r"
              % data)
        check(took >= 0.8, "served after %.1f s: no pause after ENOBUFS"
              % took)
        check(count(sd, tag("svc") + r": out of memory, pausing", mark) == 1,
              "ENOBUFS not logged once as a pause")
        calls = tr.calls()
        check(len(calls) <= 8, "%d accept calls for one client: %s"
              % (len(calls), calls[:10]))
    finally:
        tr.stop()
    # ENFILE: the system is out of descriptors; the reserve sheds the
    # client at the head of the queue, the next one is served.  (Once the
    # spare stderr pipe the last instance left is closed: superd would give
    # that up first, see the next test.)
    sd.idle_fd_count()
    tr = faultkit.Strace(t, sd.pid, "accept4", "error=ENFILE:when=1")
    try:
        mark = sd.mark()
        s = connect(port)
        check(closed_within(s, 3), "the client met by ENFILE was not shed")
        s.close()
        sd.wait_log(tag("svc") + r": out of descriptors", mark)
        time.sleep(0.3)
        check(count(sd, tag("svc") + r": out of descriptors", mark) == 1,
              "ENFILE not logged once")
        wait_for(lambda: talk(port, timeout=5) == b"ok\n", 4,
                 "the service answering after ENFILE")
    finally:
        tr.stop()
    sd.check_alive("after accept failures")


@limit(25)
def test_out_of_descriptors_closes_spare_pipes_before_shedding(t):
    sd = t.start([echo("svc"),
                  service("u", protocol="udp", wait=True, server=python3(),
                          args=[t.copy_helper("udp_reply.py")])])
    port = sd.port("svc")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(u)
    u.settimeout(5)
    tr = faultkit.Strace(t, sd.pid, "accept4", "error=ENFILE:when=1")
    try:
        # A UDP instance (no accept) leaves its emptied stderr pipe as a
        # spare; the next accept fails with ENFILE while it is kept.
        mark = sd.mark()
        u.sendto(b"x", ("127.0.0.1", sd.port("u", "udp")))
        u.recvfrom(512)
        sd.wait_log(tag("u") + r": exit pid=", mark)
        s = connect(port)
        data = read_until_eof(s, timeout=5)
        s.close()
        check(data == b"ok\n", "the client met by ENFILE while a spare pipe "
              "was kept got %r, not served" % data)
        check(any("ENFILE" in c for c in tr.calls()),
              "no accept failed with ENFILE: %s" % tr.calls())
    finally:
        tr.stop()
    check(count(sd, tag("svc") + r": out of descriptors", mark) == 0,
          "a client was shed while a spare pipe could be closed")
    sd.check_alive("after ENFILE")


# -- 27 ---------------------------------------------------------------------

@limit(25)
def test_fork_failure_closes_client_and_recovers(t):
    need_root("run superd as a user of its own, whose processes "
              "RLIMIT_NPROC then counts")
    uid, gid = faultkit.unused_ids()
    room = 2                                    # superd and one instance

    def few_processes():
        resource.setrlimit(resource.RLIMIT_NPROC, (room, room))

    run = faultkit.owned_dir(t, "run", uid, gid)
    sd = faultkit.start_hooked(
        t, [holder("forky"), echo("other", "o")],
        ports=os.path.join(run, "superd.ports"),
        popen={"user": uid, "group": gid, "extra_groups": [],
               "preexec_fn": few_processes})
    port = sd.port("forky")
    first = connect(port)
    t.socks.append(first)
    check(read_line(first).isdigit(), "the first instance did not start")
    mark = sd.mark()
    clients = []
    for _ in range(2):
        s = connect(port)
        t.socks.append(s)
        clients.append(s)
    for i, s in enumerate(clients):
        check(closed_within(s, 4), "client %d was not closed when fork "
              "failed" % (i + 1))
    check(count(sd, tag("forky") + r": cannot fork", mark) == 1,
          "fork failures not logged exactly once: %s"
          % [ln for ln in sd.log_lines(mark) if "fork" in ln])
    sd.check_alive("after fork failures")
    first.sendall(b"a\n")
    check(read_until_eof(first) == b"done a\n", "the running instance")
    wait_no_children(sd, "after the first instance")
    # Forks work again: the next client gets an instance (after the rest
    # the service takes, it waits in the backlog meanwhile).
    s = connect(port, timeout=6)
    t.socks.append(s)
    check(read_line(s, timeout=6).isdigit(), "no instance once forks "
          "succeed again")
    s.sendall(b"b\n")
    check(read_until_eof(s) == b"done b\n", "the recovered service")
    wait_no_children(sd, "after the recovered instance")
    check(talk(sd.port("other")) == b"o\n", "another service")


# -- 28 ---------------------------------------------------------------------

@limit(25)
def test_slow_proxy_header_and_tcpmux_name_time_out(t):
    sd = t.start([
        service("px", server="/bin/echo", args=["px"], proxy_protocol=True,
                proxy_from=["127.0.0.1"]),
        service("mux", builtin="tcpmux"),
        service("target", server="/bin/echo", args=["tg"], tcpmux=True),
        service("echob", builtin="echo"),
        service("day", builtin="daytime"),
    ])
    mark = sd.mark()
    slow = {"px": connect(sd.port("px"), timeout=20),
            "mux": connect(sd.port("mux"), timeout=20),
            "echob": connect(sd.port("echob"), timeout=20)}
    for s in slow.values():
        t.socks.append(s)
    texts = {"px": b"PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n",
             "mux": b"target-name-much-too-slow\r\n",
             "echob": b"slowly echoed\n"}
    ended, answers, sent = {}, {}, {"echob": 0}
    started = time.monotonic()
    # One byte a second to each, for up to 12 s; between the bytes the
    # other services must answer at once.
    for i in range(12):
        for name, s in slow.items():
            if name in ended:
                continue
            try:
                s.sendall(texts[name][i:i + 1])
            except OSError:
                ended[name] = time.monotonic() - started
                continue
            if name == "echob":
                sent[name] += 1
                continue
            got = recv_some(s, 0.01)
            if got is not None:
                ended[name] = time.monotonic() - started
                answers[name] = got
        t0 = time.monotonic()
        check(re.search(rb"\d\d:\d\d:\d\d", talk(sd.port("day"))),
              "daytime did not answer during the slow clients")
        p = connect(sd.port("px"))
        p.sendall(b"PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n")
        check(read_until_eof(p) == b"px\n", "a quick PROXY client was not "
              "served")
        p.close()
        check(time.monotonic() - t0 < 1.0, "quick clients waited on the slow "
              "ones")
        if "px" in ended and "mux" in ended:
            break
        time.sleep(max(0, started + i + 1 - time.monotonic()))
    check("px" in ended, "the slow PROXY client was never closed")
    check(4 <= ended["px"] <= 8, "the slow PROXY client was closed after "
          "%.1f s, not after the 5 s deadline" % ended["px"])
    sd.wait_log(tag("px") + r": PROXY header from 127\.0\.0\.1: timed out",
                mark)
    check("mux" in ended, "the slow tcpmux client was never answered")
    check(8 <= ended["mux"] <= 12.5, "the slow tcpmux client was dropped "
          "after %.1f s, not after the 10 s deadline" % ended["mux"])
    check(answers.get("mux", b"").startswith(b"-"), "the slow tcpmux client "
          "got %r, not a `-` line" % answers.get("mux"))
    # The echo builtin is no deadline's business: it echoed every byte.
    s = slow["echob"]
    s.sendall(b"\n")
    want = texts["echob"][:sent["echob"]]
    check(read_line(s) == want, "the slow echo client did not get %r back"
          % want)


# -- 29 ---------------------------------------------------------------------

def test_malformed_proxy_headers_closed_and_logged(t):
    sd = t.start([service("px", server="/bin/echo", args=["px"],
                          proxy_protocol=True, proxy_from=["127.0.0.1"])])
    port = sd.port("px")
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    bad = {
        "not PROXY": b"GET / HTTP/1.0\r\n\r\n",
        "v1 too long": b"PROXY TCP4 " + b"1" * 200 + b"\r\n",
        "v1 bad family": b"PROXY SCTP 1.2.3.4 5.6.7.8 1 2\r\n",
        "v1 bad port": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
        "v2 bad signature": b"\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c" +
        b"\0" * 12,
        "v2 length over the buffer": sig + b"\x21\x11\xff\xff" + b"\0" * 64,
        "v2 unknown family": sig + b"\x21\x55\x00\x0c" + b"\0" * 12,
        "v2 bad version": sig + b"\x31\x11\x00\x0c" + b"\0" * 12,
    }
    mark = sd.mark()
    for what, data in bad.items():
        s = connect(port)
        s.sendall(data)
        got = read_until_eof(s, timeout=3)
        s.close()
        check(got == b"", "%s: the client got %r, not a close" % (what, got))
    # Truncated: the client stops mid-header and closes its side.
    for what, data in {"v1 truncated": b"PROXY TCP4 1.2.3",
                       "v2 truncated": sig + b"\x21\x11\x00\x0c\0\0"}.items():
        s = connect(port)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = read_until_eof(s, timeout=3)
        s.close()
        check(got == b"", "%s: the client got %r" % (what, got))
    # Logged, but a few a second at most: the peer controls how many.
    wait_for(lambda: count(sd, tag("px") + r": PROXY header from "
                           r"127\.0\.0\.1: .*closing", mark) >= 5, 5,
             "PROXY header refusals logged")
    check(count(sd, tag("px") + r": PROXY header from ", mark) <=
          len(bad) + 2, "more PROXY header lines than bad headers")
    check(not sd.find_log(tag("px") + r": start pid=\d+", mark) or
          not re.search(tag("px") + r": exit pid=\d+ status=0", sd.log()[mark:]),
          "a program ran for a malformed header")
    s = connect(port)
    s.sendall(b"PROXY TCP4 10.1.2.3 10.4.5.6 1000 2000\r\n")
    check(read_until_eof(s) == b"px\n", "a good header is not served after "
          "the bad ones")
    s.close()


# -- 30 ---------------------------------------------------------------------

def test_unix_socket_paths(t):
    stale = t.path("stale.sock")
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(stale)
    old.close()                 # leaves the socket file, nobody listening
    plain = t.write("plain.sock", "keep me\n")
    live = t.path("live.sock")
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(live)
    other.listen(1)             # somebody else's socket, in use
    t.socks.append(other)
    adir = t.path("dir.sock")
    os.mkdir(adir)
    sd = t.start([service("stale", protocol="unix", path=stale,
                          server="/bin/echo", args=["fresh"]),
                  service("plain", protocol="unix", path=plain,
                          server="/bin/echo", args=["x"]),
                  service("dir", protocol="unix", path=adir,
                          server="/bin/echo", args=["x"]),
                  service("live", protocol="unix", path=live,
                          server="/bin/echo", args=["x"])],
                 wait=[("stale", "unix")])
    s = connect_unix(stale)
    check(read_until_eof(s) == b"fresh\n", "the stale socket was not "
          "replaced by a live one")
    s.close()
    sd.wait_log(tag("plain") + r": cannot listen on unix " + re.escape(plain))
    sd.wait_log(tag("dir") + r": cannot listen on unix " + re.escape(adir))
    sd.wait_log(tag("live") + r": cannot listen on unix " + re.escape(live))
    s = connect_unix(live)
    other.settimeout(2)
    conn, _ = other.accept()    # the live socket still belongs to its owner
    conn.close()
    s.close()
    with open(plain) as f:
        check(f.read() == "keep me\n", "a regular file at a socket path "
              "was changed")
    check(os.path.isdir(adir), "a directory at a socket path was removed")
    check(not any(sd.entries(n, "unix") for n in ("plain", "dir", "live")),
          "ports file lists sockets that could not open")
    # A path longer than sun_path is an error of the file.
    long_path = "/tmp/" + "p" * 120 + ".sock"
    conf = t.conf([service("long", protocol="unix", path=long_path,
                           server="/bin/echo")], name="long.conf")
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1 and re.search(re.escape(conf) + r":2: path .* longer than "
                                r"107 bytes", err),
          "a too long path: exit %d, %r" % (rc, err))
