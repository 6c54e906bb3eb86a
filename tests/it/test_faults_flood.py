"""Fault case 60 of tests/FAULTS.md: the log flooded and forged."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import faultkit
from faultkit import idle_cpu
from harness import (Skip, check, limit, need_root, python3, service, tag,
                     talk, wait_for)


def udp_client(t, source):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    c.bind((source, 0))
    return c


def reply(c, timeout):
    c.settimeout(timeout)
    try:
        return c.recv(70000)
    except socket.timeout:
        return None


def starts(sd, name, since=0):
    return len(re.findall(tag(name) + r": start pid=", sd.log()[since:]))


def udp_rx_queue(port):
    """Bytes queued on the UDP socket bound to 127.0.0.1:port."""
    with open("/proc/net/udp") as f:
        for row in f.read().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].split(":")[1], 16) == port:
                return int(cols[4].split(":")[1], 16)
    return None


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
