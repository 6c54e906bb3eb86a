"""The PROXY protocol read by superd itself (SPEC 3, proxy_protocol and
proxy_from): which peers are believed, what the program and the limits see,
and what a connection costs while its header is owed.

Distinct clients are distinct loopback sources (127.0.0.2, 127.0.0.3, ...);
the headers are written here, as a proxy would send them."""

import re
import socket
import struct

from harness import (check, connect, read_line, read_until_eof, service,
                     tag, wait_for)

# Prints what it was given, then echoes.
SHOW = ('echo "$TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALIP $TCPLOCALPORT"; '
        'exec cat')
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def shower(name, **settings):
    return service(name, server="/bin/sh", args=["-c", SHOW],
                   proxy_protocol=True, log_connections=True, **settings)


def v1(src, dst, sport, dport):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def v2(src, dst, sport, dport):
    if ":" in src:
        body = (socket.inet_pton(socket.AF_INET6, src) +
                socket.inet_pton(socket.AF_INET6, dst))
        fam = 0x21
    else:
        body = socket.inet_aton(src) + socket.inet_aton(dst)
        fam = 0x11
    body += struct.pack("!HH", sport, dport)
    return V2_SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def starts(sd, name, since):
    return len(re.findall(tag(name) + r": start pid=\d+", sd.log()[since:]))


def test_direct_client_forged_header_is_data(t):
    """A peer outside proxy_from is a direct client: its header reaches the
    program as bytes, the program sees its own address, and allow/deny
    judge that address, not the one it claims."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2"],
                         deny=["127.0.0.3"], refuse_message="not you")])
    port = sd.port("px")
    forged = v1("10.1.2.3", "127.0.0.1", 4000, port)
    s = connect(port, source="127.0.0.4")
    s.sendall(forged)
    f = s.makefile("rb")
    first = f.readline().decode().split()
    check(first[:2] == ["127.0.0.4", str(s.getsockname()[1])],
          "a direct client with a forged header was shown as %s" % first)
    got = f.readline()
    check(got == forged, "the forged header reached the program as %r" % got)
    f.close()
    s.close()
    mark = sd.mark()
    s = connect(port, source="127.0.0.3")
    s.sendall(forged)
    check(read_until_eof(s) == b"not you\r\n", "a denied direct client "
          "passed by claiming 10.1.2.3 in a header")
    sd.wait_log(tag("px") + r": refused 127\.0\.0\.3 \(acl\)", mark)


def test_trusted_v1_and_v2_give_the_header_addresses(t):
    """From a peer in proxy_from, v1 and v2 headers (IPv4, IPv6, a mapped
    IPv4) give the program the header's ends; the bytes after the header
    reach it unchanged."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2", "127.0.0.3"])])
    port = sd.port("px")
    cases = [
        ("127.0.0.2", v1("192.0.2.10", "198.51.100.1", 40000, 80),
         "192.0.2.10 40000 198.51.100.1 80"),
        ("127.0.0.3", v2("192.0.2.11", "198.51.100.2", 40001, 81),
         "192.0.2.11 40001 198.51.100.2 81"),
        ("127.0.0.2", v2("2001:db8::7", "2001:db8::1", 40002, 82),
         "2001:db8::7 40002 2001:db8::1 82"),
        ("127.0.0.3", v2("::ffff:192.0.2.12", "::ffff:198.51.100.3", 40003,
                         83), "192.0.2.12 40003 198.51.100.3 83"),
    ]
    for source, header, want in cases:
        s = connect(port, source=source)
        s.sendall(header + b"after the header\n")
        f = s.makefile("rb")
        got = f.readline().decode().strip()
        check(got == want, "via %s the program saw %r, want %r"
              % (source, got, want))
        check(f.readline() == b"after the header\n", "the bytes after the "
              "header did not reach the program unchanged")
        f.close()
        s.close()


def test_per_source_counts_proxied_clients(t):
    """per_source counts the headers' clients, whichever proxy they come
    through; the proxies' own addresses are no client."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2", "127.0.0.3"],
                         per_source=1, refuse_message="one at a time")])
    port = sd.port("px")
    held = connect(port, source="127.0.0.2")
    t.socks.append(held)
    held.sendall(v1("192.0.2.20", "127.0.0.1", 5000, port))
    check(read_line(held).startswith(b"192.0.2.20 "), "first client")
    mark = sd.mark()
    s = connect(port, source="127.0.0.3")
    s.sendall(v2("192.0.2.20", "127.0.0.1", 5001, port))
    check(read_until_eof(s) == b"one at a time\r\n", "the same client "
          "through another proxy was not held to per_source = 1")
    sd.wait_log(tag("px") + r": refused 192\.0\.2\.20 \(per_source\)", mark)
    others = []
    for i, source in enumerate(["127.0.0.2", "127.0.0.2", "127.0.0.3"]):
        s = connect(port, source=source)
        t.socks.append(s)
        s.sendall(v1("192.0.2.%d" % (30 + i), "127.0.0.1", 5002, port))
        check(read_line(s).startswith(b"192.0.2.%d " % (30 + i)),
              "another client through a proxy holding one was refused")
        others.append(s)


def test_silent_trusted_connection_holds_no_instance(t):
    """With instances = 1, a trusted connection that has not sent its
    header holds no instance: a client whose header is in is served at
    once beside it."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2", "127.0.0.3"],
                         instances=1)])
    port = sd.port("px")
    fds = sd.fd_count()
    silent = connect(port, source="127.0.0.2", timeout=10)
    t.socks.append(silent)
    wait_for(lambda: sd.fd_count() > fds, 3, "the silent connection taken")
    s = connect(port, source="127.0.0.3", timeout=2)
    s.sendall(v1("192.0.2.40", "127.0.0.1", 6000, port))
    check(read_line(s, timeout=2).startswith(b"192.0.2.40 "),
          "a client was not served beside a silent proxy connection")
    check(len(sd.children()) == 1, "%d instances for one served client"
          % len(sd.children()))
    s.close()


def test_admitted_header_waits_for_an_instance_slot(t):
    """A header in while the service is at `instances` is not refused: the
    client waits (as the backlog would hold it) and is served when the
    running instance ends."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2"], instances=1)])
    port = sd.port("px")
    first = connect(port, source="127.0.0.2")
    t.socks.append(first)
    first.sendall(v1("192.0.2.50", "127.0.0.1", 7000, port))
    check(read_line(first).startswith(b"192.0.2.50 "), "first client")
    second = connect(port, source="127.0.0.2", timeout=10)
    t.socks.append(second)
    second.sendall(v1("192.0.2.51", "127.0.0.1", 7001, port))
    second.settimeout(0.5)
    try:
        early = second.recv(100)
    except socket.timeout:
        early = None
    check(early is None, "a second client over instances = 1 got %r at "
          "once" % early)
    first.close()
    check(read_line(second, timeout=5).startswith(b"192.0.2.51 "),
          "the waiting client was not served once the slot freed")


def test_health_check_costs_no_fork(t):
    """A trusted peer that connects and closes without a byte (a TCP health
    check) starts nothing and logs no warning."""
    sd = t.start([shower("px", proxy_from=["127.0.0.2"])])
    port = sd.port("px")
    mark = sd.mark()
    for _ in range(5):
        connect(port, source="127.0.0.2").close()
    wait_for(lambda: len(re.findall(r"closed before a PROXY header",
                                    sd.log()[mark:])) == 5, 5,
             "five health checks seen")
    s = connect(port, source="127.0.0.2")
    s.sendall(v1("192.0.2.60", "127.0.0.1", 8000, port))
    check(read_line(s).startswith(b"192.0.2.60 "), "a client after the "
          "health checks")
    s.close()
    # The start line is the parent's, written after the fork: the child may
    # answer before it is in the log.
    wait_for(lambda: starts(sd, "px", mark) >= 1, 5, "the client's start "
             "logged")
    check(starts(sd, "px", mark) == 1, "%d instances started for five "
          "health checks and one client" % starts(sd, "px", mark))
    check(not sd.find_log(tag("px") + r": PROXY header from", mark),
          "a health check was logged as a bad header")
