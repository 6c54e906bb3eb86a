"""What superd tells systemd from its loop (status.c): WATCHDOG=1 pings
when systemd asks for them, and the STATUS= line with its counts."""

import re
import signal
import socket
import time

from harness import (check, connect, read_line, service, talk,
                     wait_for)


class Notify:
    """systemd's side of NOTIFY_SOCKET: every message kept with the time
    it arrived."""

    def __init__(self, t, name="notify.sock"):
        self.path = t.path(name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        t.socks.append(self.sock)
        self.msgs = []          # (monotonic time, [fields])

    def drain(self, seconds):
        """Reads for the given time."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                return
            self.msgs.append((time.monotonic(),
                              [f for f in msg.split("\n") if f]))

    def pings(self):
        return [at for at, fields in self.msgs if "WATCHDOG=1" in fields]

    def statuses(self):
        return [f[len("STATUS="):] for _, fields in self.msgs
                for f in fields if f.startswith("STATUS=")]

    def wait_status(self, pattern, what, timeout=5.0):
        """Reads until a STATUS= line matches pattern; returns it."""
        def seen():
            self.drain(0.1)
            found = [s for s in self.statuses() if re.search(pattern, s)]
            return found[-1] if found else None
        return wait_for(seen, timeout, "STATUS= %s (got %s)" %
                        (what, self.statuses()[-3:]))


def echo(name, **settings):
    return service(name, server="/bin/echo", args=[name], **settings)


def test_watchdog_pings_at_half_the_period(t):
    """WATCHDOG_USEC=400000 with superd's own pid in WATCHDOG_PID: an idle
    superd sends WATCHDOG=1 about every 200 ms."""
    n = Notify(t)
    t.start([echo("idle")], env={"NOTIFY_SOCKET": n.path,
                                 "WATCHDOG_USEC": "400000"},
            wrapper=["/bin/sh", "-c",
                     'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"])
    n.drain(0.3)
    first = len(n.pings())
    n.drain(2.0)
    pings = n.pings()[first:]
    check(7 <= len(pings) <= 14, "%d pings in 2 s with a 400 ms watchdog "
          "(one every 200 ms expected)" % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    check(gaps and max(gaps) < 0.39, "an idle superd left %.0f ms between "
          "pings, more than the watchdog's 400 ms allow" %
          (max(gaps or [0]) * 1000))


def test_no_watchdog_unless_asked_for_this_pid(t):
    """No WATCHDOG_USEC, or a WATCHDOG_PID that is another process's: no
    WATCHDOG=1 (sd_watchdog_enabled's rule)."""
    n = Notify(t)
    t.start([echo("plain")], env={"NOTIFY_SOCKET": n.path})
    n.drain(1.0)
    check(not n.pings(), "WATCHDOG=1 without WATCHDOG_USEC")
    n2 = Notify(t, "notify2.sock")
    t.start([echo("other")], label="other",
            env={"NOTIFY_SOCKET": n2.path, "WATCHDOG_USEC": "200000",
                 "WATCHDOG_PID": "1"})
    n2.drain(1.0)
    check(n2.msgs, "the second superd sent nothing at all")
    check(not n2.pings(), "WATCHDOG=1 though WATCHDOG_PID named pid 1")


def test_programs_do_not_see_the_watchdog(t):
    """The watchdog is superd's: WATCHDOG_USEC and WATCHDOG_PID reach no
    program it starts."""
    n = Notify(t)
    script = t.copy_helper("report.sh")
    sd = t.start([service("rep", server="/bin/sh", args=[script])],
                 env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"})
    r = t.report(sd.port("rep"), script=script)
    leaked = [k for k in r.env if k.startswith("WATCHDOG_")]
    check(not leaked, "the program saw %s" % leaked)
    n.drain(0.5)
    check(n.pings(), "no WATCHDOG=1 though WATCHDOG_USEC was set (the "
          "check above proves nothing then)")


def test_status_counts_services_running_served_refused(t):
    """STATUS= counts services, running instances, served and refused
    clients, and follows them as they change."""
    n = Notify(t)
    hold = service("hold", server="/bin/sh", args=["-c", "read x; echo $x"])
    sd = t.start([echo("ok"), echo("no", deny=["127.0.0.1"]), hold],
                 env={"NOTIFY_SOCKET": n.path})
    n.wait_status(r"^3 services, 0 running, 0 served, 0 refused$",
                  "at start")
    for _ in range(3):
        check(talk(sd.port("ok")) == b"ok\n", "ok does not answer")
    for _ in range(2):
        check(talk(sd.port("no")) == b"", "a denied client was served")
    n.wait_status(r"^3 services, 0 running, 3 served, 2 refused$",
                  "3 served and 2 refused")
    s = connect(sd.port("hold"))
    t.socks.append(s)
    n.wait_status(r"^3 services, 1 running, 4 served, 2 refused$",
                  "the held instance running")
    s.sendall(b"bye\n")
    check(read_line(s) == b"bye", "the held instance did not answer")
    n.wait_status(r"^3 services, 0 running, 4 served, 2 refused$",
                  "the held instance ended")
    # At most one STATUS a second: 20 clients do not make 20 lines.
    before = len(n.statuses())
    for _ in range(20):
        talk(sd.port("ok"))
    n.wait_status(r" 24 served,", "24 served")
    n.drain(1.2)
    sent = len(n.statuses()) - before
    check(sent <= 4, "%d STATUS lines for 20 clients in about a second"
          % sent)


def test_status_says_a_reload_was_rejected_until_a_good_one(t):
    """A rejected reload prefixes STATUS (in the READY=1 that ends it),
    a good one clears it; a service removed by a reload keeps its clients
    in the served count."""
    n = Notify(t)
    sd = t.start([echo("gone"), echo("stay")], env={"NOTIFY_SOCKET": n.path})
    check(talk(sd.port("gone")) == b"gone\n", "gone does not answer")
    n.wait_status(r"^2 services, 0 running, 1 served, 0 refused$",
                  "one served")
    sd.rewrite_text("services = oops;\n")
    sd.signal(signal.SIGHUP)
    line = n.wait_status(r"^reload rejected", "the rejected reload")
    check(line == "reload rejected: configuration errors; 2 services, "
          "0 running, 1 served, 0 refused", "STATUS=%s" % line)
    ready = [fields for _, fields in n.msgs if "READY=1" in fields][-1]
    check(any(f.startswith("STATUS=reload rejected") for f in ready),
          "the READY=1 of the rejected reload says nothing: %s" % ready)
    sd.rewrite([echo("stay")])
    sd.reload()
    n.wait_status(r"^1 services, 0 running, 1 served, 0 refused$",
                  "the good reload clearing it, gone's client still served")
