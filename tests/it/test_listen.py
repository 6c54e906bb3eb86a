"""Listeners and the ports file (SPEC sections 5 and 6)."""

import socket
import time

from harness import check, limit, service, tag, talk


@limit(30)
def test_port_in_use_is_retried_until_free(t):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.socks.append(blocker)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)           # a listening socket: no bind can share it
    port = blocker.getsockname()[1]
    sd = t.start([service("busy", server="/bin/echo", args=["busy"],
                          port=port),
                  service("free", server="/bin/echo", args=["free"])],
                 wait=[("free", "tcp")])
    sd.wait_log(tag("busy"), what="about the busy listener")
    check(not sd.entries("busy"), "ports file lists a listener superd could "
          "not open: %s" % sd.entries("busy"))
    check(talk(sd.port("free")) == b"free\n", "the other service does not "
          "run while one listener waits for its port")
    blocker.close()
    freed = time.monotonic()
    # Retried every 10 s: bound within 10 s of the port becoming free.
    sd.wait_ports(lambda es: any(e.name == "busy" and e.port == port
                                 for e in es),
                  "busy on port %d" % port, timeout=11.5)
    check(talk(port) == b"busy\n", "superd does not serve the port it "
          "finally bound")
    check(time.monotonic() - freed < 11.5, "took over 11.5 s to bind")


def test_ports_file_lists_every_listener(t):
    sd = t.start([service("tcpone", server="/bin/echo", args=["1"]),
                  service("udpone", protocol="udp", server="/bin/true"),
                  service("unixone", protocol="unix",
                          path=t.path("one.sock"), server="/bin/true")])
    lines = sorted(sd.ports_text().splitlines())
    tcp = sd.port("tcpone")
    udp = sd.port("udpone", "udp")
    want = sorted(["tcpone tcp 127.0.0.1 %d" % tcp,
                   "udpone udp 127.0.0.1 %d" % udp,
                   "unixone unix %s" % t.path("one.sock")])
    check(lines == want, "ports file is %r, not %r" % (lines, want))
    check(talk(tcp) == b"1\n", "the listed TCP port does not answer")
