"""UDP wait services (SPEC section 5)."""

import socket
import time

from harness import check, limit, python3, service


def udp_service(t, name):
    return service(name, protocol="udp", wait=True, server=python3(),
                   args=[t.copy_helper("udp_reply.py")])


def replies(sock, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    got = []
    while len(got) < count:
        left = deadline - time.monotonic()
        check(left > 0, "%d of %d datagrams answered within %.0f s: %s"
              % (len(got), count, timeout, got))
        sock.settimeout(left)
        try:
            got.append(sock.recv(65535).decode())
        except socket.timeout:
            pass
    return got


def fields(reply):
    word, *rest = reply.split()
    return word, dict(f.split("=", 1) for f in rest)


@limit(30)
def test_udp_wait_service_served_repeatedly(t):
    sd = t.start([udp_service(t, "dgram")])
    port = sd.port("dgram", "udp")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    pids = set()
    for i in range(15):
        c.sendto(b"ping%d" % i, ("127.0.0.1", port))
        word, f = fields(replies(c, 1)[0])
        check(word == "ping%d" % i, "datagram %d answered with %r" % (i, word))
        check(f["proto"] == "UDP" and f["service"] == "dgram",
              "PROTO=%s SUPERD_SERVICE=%s" % (f["proto"], f["service"]))
        check(f["fds"] == "0,1,2", "the wait program has descriptors %s "
              "open, not only 0,1,2" % f["fds"])
        pids.add(f["pid"])
    check(len(pids) == 15, "15 datagrams were answered by %d instances, "
          "not one each" % len(pids))


@limit(30)
def test_udp_queued_datagrams_all_answered(t):
    # A healthy wait service restarted back to back is never paused and
    # loses nothing of what queued while an instance ran.
    sd = t.start([udp_service(t, "burst")])
    port = sd.port("burst", "udp")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    for i in range(20):
        c.sendto(b"q%d" % i, ("127.0.0.1", port))
    words = sorted(fields(r)[0] for r in replies(c, 20, timeout=15))
    check(words == sorted("q%d" % i for i in range(20)),
          "answers %s" % words)
    sd.check_alive("after the burst")
    check(not sd.find_log(r"(?i)loop"), "a healthy service was called "
          "looping")
