#!/usr/bin/env python3
"""listen_fds.py FD,FD,... NAME:NAME:... COMMAND [ARG]...

Runs COMMAND as systemd runs a service it hands sockets to: the given
descriptors become 3, 4, ... in order, LISTEN_FDS counts them,
LISTEN_FDNAMES names them, and LISTEN_PID is the pid COMMAND runs as
(this process's: exec keeps it)."""

import fcntl
import os
import sys

fds = [int(f) for f in sys.argv[1].split(",") if f]
# Out of the way first, so that no source is overwritten by an earlier
# target.
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3 + len(fds)) for fd in fds]
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i, inheritable=True)
    os.close(fd)
os.environ["LISTEN_FDS"] = str(len(fds))
os.environ["LISTEN_FDNAMES"] = sys.argv[2]
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[3], sys.argv[3:])
