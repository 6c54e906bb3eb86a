"""Fault cases 31-37 of tests/FAULTS.md: what instances do."""

import re
import signal
import socket
import time

import faultkit
from faultkit import wait_no_children
from harness import (check, connect, limit, pid_alive, read_line,
                     read_until_eof, service, tag, talk, wait_for)


def status_line(sd, name):
    mark = sd.mark()
    sd.signal(signal.SIGUSR1)
    return sd.wait_log(tag(name) + r": status .*", mark).group(0)


# -- 31 ---------------------------------------------------------------------

def test_program_exiting_at_once(t):
    sd = t.start([service("quitter", server="/bin/true")])
    mark = sd.mark()
    s = connect(sd.port("quitter"))
    s.sendall(b"never read\n")
    check(read_until_eof(s) == b"", "the client of /bin/true got data")
    s.close()
    sd.wait_log(tag("quitter") + r": exit pid=\d+ status=0 ", mark)
    wait_no_children(sd, "after /bin/true")
    line = status_line(sd, "quitter")
    check(re.search(r"\brunning=0\b", line) and
          re.search(r"\bstarted=1\b", line),
          "SIGUSR1 after one short instance: %r" % line)


# -- 32 ---------------------------------------------------------------------

def test_crashing_programs_logged_with_their_signal(t):
    # No core file: the crash is the point, not its dump.
    sd = t.start([
        service("segv", server="/bin/sh",
                args=["-c", "ulimit -c 0; echo $$; kill -SEGV $$"]),
        service("abrt", server="/bin/sh",
                args=["-c", "ulimit -c 0; echo $$; kill -ABRT $$"]),
        service("other", server="/bin/echo", args=["o"])])
    mark = sd.mark()
    for name, signo in (("segv", 11), ("abrt", 6)):
        s = connect(sd.port(name))
        pid = int(read_line(s))
        read_until_eof(s)
        s.close()
        sd.wait_log(tag(name) + r": exit pid=%d signal=%d\b" % (pid, signo),
                    mark, what="%s's crash with signal %d" % (name, signo))
    wait_no_children(sd, "after the crashes")
    sd.check_alive("after instances crashed")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")


# -- 34 ---------------------------------------------------------------------

def test_daemonizing_program_frees_its_slot(t):
    # The program leaves a grandchild behind (detached from the connection)
    # and exits: its slot is free, the grandchild is not superd's.
    sd = t.start([service("forker", instances=1, server="/bin/sh", args=[
        "-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!"])])
    port = sd.port("forker")
    mark = sd.mark()
    grandchildren = []
    for i in range(2):
        s = connect(port)
        data = read_until_eof(s, timeout=5)
        s.close()
        check(data.strip().isdigit(), "client %d (instances = 1) got %r: "
              "the slot of the exited program was not freed" % (i + 1, data))
        grandchildren.append(int(data))
    wait_for(lambda: len(re.findall(tag("forker") + r": exit pid=\d+ "
                                    r"status=0", sd.log()[mark:])) == 2, 5,
             "the two direct children reaped")
    check(all(pid_alive(p) for p in grandchildren), "superd killed a "
          "grandchild")
    kids = [p for p, _ in sd.children()]
    check(not set(kids) & set(grandchildren), "a grandchild is superd's "
          "child")
    check(re.search(r"\brunning=0\b", status_line(sd, "forker")),
          "the grandchildren count as running instances")


# -- 35 ---------------------------------------------------------------------

def test_program_closing_its_stdio_keeps_running(t):
    sd = t.start([
        service("closer", server="/bin/sh", args=[
            "-c", "echo $$; exec 0<&- 1>&-; exec sleep 30"]),
        service("other", server="/bin/echo", args=["o"])])
    s = connect(sd.port("closer"))
    pid = int(read_line(s))
    check(read_until_eof(s) == b"", "the client did not see the end of the "
          "connection")
    s.close()
    time.sleep(0.2)
    check(pid_alive(pid), "the program was ended when it closed its stdio")
    check(re.search(r"\brunning=1\b", status_line(sd, "closer")),
          "the running program is not counted as running")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")


# -- 36 ---------------------------------------------------------------------

@limit(25)
def test_stderr_flood_cannot_block_superd(t):
    sd = t.start([
        service("flood", server="/bin/sh", args=[
            "-c", "echo started; exec timeout 1 yes 'flood line' >&2"]),
        service("other", server="/bin/echo", args=["o"])])
    mark = sd.mark()
    s = connect(sd.port("flood"))
    t.socks.append(s)
    check(read_line(s) == b"started", "the flooding program did not start")
    started = time.monotonic()
    slowest = 0.0
    while time.monotonic() - started < 1.0:
        t0 = time.monotonic()
        check(talk(sd.port("other")) == b"o\n", "another service stopped "
              "during the flood")
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.05)
    check(slowest < 0.5, "another service took %.2f s to answer during the "
          "flood" % slowest)
    sd.wait_log(tag("flood") + r": exit pid=\d+ status=124", mark,
                timeout=5, what="the flood's end")
    sd.wait_log(tag("flood") + r": stderr: \d+ lines not logged", mark,
                timeout=3, what="the lines dropped over the rate")
    lines = len(re.findall(tag("flood") + r": stderr: flood line$",
                           sd.log()[mark:], re.M))
    # At most 100 a second are logged: about 1 s of flood, 2 windows.
    check(0 < lines <= 250, "%d flood lines logged for about 1 s" % lines)


def test_stderr_lines_of_concurrent_instances_stay_whole(t):
    # Many programs write a line in pieces (err(3): "prog: ", the message,
    # "\n").  One instance writes the first half of its line and waits; a
    # second instance of the same service writes a whole line meanwhile.
    # Each line must reach the log whole, on its own.
    sd = t.start([service("pieces", server="/bin/sh", args=[
        "-c", 'read x; printf "%s-first-half " "$x" >&2; echo half; '
        'read y; printf "%s-second-half\\n" "$x" >&2; echo done'])])
    port = sd.port("pieces")
    mark = sd.mark()
    a = connect(port)
    t.socks.append(a)
    a.sendall(b"alpha\n")
    check(read_line(a) == b"half", "the first instance did not start")
    b = connect(port)
    t.socks.append(b)
    b.sendall(b"beta\n")
    check(read_line(b) == b"half", "the second instance did not start")
    b.sendall(b"\n")
    check(read_until_eof(b) == b"done\n", "the second instance")
    a.sendall(b"\n")
    check(read_until_eof(a) == b"done\n", "the first instance")
    wait_no_children(sd, "after both instances")
    lines = [ln for ln in sd.log_lines(mark) if ": stderr: " in ln]
    want = ["alpha-first-half alpha-second-half",
            "beta-first-half beta-second-half"]
    got = sorted(ln.split(": stderr: ", 1)[1] for ln in lines)
    check(got == want, "the stderr lines of two concurrent instances were "
          "logged as %s, not %s" % (got, want))


# -- 37 ---------------------------------------------------------------------

@limit(60)
def test_1000_sequential_connections_leave_nothing_behind(t):
    sd = t.start([service("short", server="/bin/echo", args=["s"],
                          log_connections=False)])
    port = sd.port("short")
    # Warm up: the first connections allocate what lasts (stderr pipe,
    # tables, the C library's buffers).
    for _ in range(50):
        talk(port)
    wait_no_children(sd, "after the warm-up")
    fds = sd.idle_fd_count()
    rss = faultkit.rss_kib(sd.pid)
    zombies_seen = 0
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            data = read_until_eof(s)
        finally:
            s.close()
        check(data == b"s\n", "connection %d got %r" % (i + 1, data))
        if i % 100 == 99:
            zombies_seen = max(zombies_seen, len(faultkit.zombies(sd.pid)))
    wait_no_children(sd, "after 1000 connections")
    check(not faultkit.zombies(sd.pid), "zombies after 1000 connections")
    faultkit.wait_fds(sd, fds, "after 1000 connections")
    grown = faultkit.rss_kib(sd.pid) - rss
    check(grown <= 256 or faultkit.sanitized(sd.pid), "superd's RSS grew by "
          "%d KiB over 1000 connections" % grown)
    line = status_line(sd, "short")
    check(re.search(r"\bstarted=1050\b", line) and
          re.search(r"\brunning=0\b", line), "status after 1050 connections: "
          "%r" % line)
