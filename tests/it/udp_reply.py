"""UDP wait-mode test service: superd hands it the bound datagram socket as
fd 0.  It reads one datagram and answers it with what it got, from whom,
its pid, PROTO, SUPERD_SERVICE and its open descriptors, then exits."""

import os
import socket

sock = socket.socket(fileno=0)
data, peer = sock.recvfrom(65535)
fds = []
for name in os.listdir("/proc/self/fd"):
    try:
        os.readlink("/proc/self/fd/" + name)   # the listing's own fd is gone
    except OSError:
        continue
    fds.append(int(name))
reply = "%s pid=%d proto=%s service=%s fds=%s" % (
    data.decode("utf-8", "replace"), os.getpid(), os.environ.get("PROTO"),
    os.environ.get("SUPERD_SERVICE"), ",".join(map(str, sorted(fds))))
sock.sendto(reply.encode(), peer)
