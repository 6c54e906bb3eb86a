"""Log lines (SPEC section 8) and stderr = "log"."""

import socket

from harness import (check, fd_links, python3, read_line, read_until_eof,
                     service, tag, wait_for)


def pid_and_client(sd, name):
    """Connect to a service that prints its pid first; (pid, client port)."""
    s = socket.create_connection(("127.0.0.1", sd.port(name)), timeout=5)
    try:
        client_port = s.getsockname()[1]
        pid = int(read_line(s))
        read_until_eof(s)
    finally:
        s.close()
    return pid, client_port


def test_start_and_exit_lines(t):
    sd = t.start([service("st", server="/bin/sh",
                          args=["-c", "echo $$; exit 3"])])
    mark = sd.mark()
    pid, client_port = pid_and_client(sd, "st")
    sd.wait_log(tag("st") + r".*\bstart pid=%d from 127\.0\.0\.1:%d\b"
                % (pid, client_port), mark,
                what="`st: start pid=%d from 127.0.0.1:%d`"
                % (pid, client_port))
    sd.wait_log(tag("st") + r".*\bexit pid=%d status=3 duration=\d+(\.\d+)?"
                r"\b" % pid, mark,
                what="`st: exit pid=%d status=3 duration=SECONDS`" % pid)


def test_exit_by_signal_shows_signal(t):
    sd = t.start([service("killed", server="/bin/sh",
                          args=["-c", "echo $$; kill -9 $$"])])
    mark = sd.mark()
    pid, _ = pid_and_client(sd, "killed")
    sd.wait_log(tag("killed") + r".*\bexit pid=%d signal=9\b" % pid, mark,
                what="`killed: exit pid=%d signal=9`" % pid)


def test_log_connections_false_logs_no_start_or_exit(t):
    sd = t.start([service("quiet", server="/bin/echo", args=["hi"],
                          log_connections=False),
                  service("loud", server="/bin/echo", args=["hi"])])
    mark = sd.mark()
    for name in ("quiet", "loud"):
        s = socket.create_connection(("127.0.0.1", sd.port(name)), timeout=5)
        read_until_eof(s)
        s.close()
    # The loud service's exit line shows that superd has reaped both.
    sd.wait_log(tag("loud") + r".*\bexit pid=", mark)
    check(not sd.find_log(tag("quiet") + r".*\b(start|exit) pid=", mark),
          "log_connections = false still logged start/exit lines")


def test_stderr_lines_reach_the_log_tagged(t):
    sd = t.start([service("chatty", server="/bin/sh", args=[
        "-c", "echo 'first complaint' >&2; echo 'second complaint' >&2; "
        "echo done"])])
    mark = sd.mark()
    s = socket.create_connection(("127.0.0.1", sd.port("chatty")), timeout=5)
    data = read_until_eof(s)
    s.close()
    check(data == b"done\n", "with stderr = log the client got %r" % data)
    first = sd.wait_log(tag("chatty") + r".*first complaint", mark)
    sd.wait_log(tag("chatty") + r".*second complaint", mark)
    check("second" not in first.group(0), "two stderr lines were logged as "
          "one line: %r" % first.group(0))
    log = sd.log()[mark:]
    check(log.count("first complaint") == 1 and
          log.count("second complaint") == 1,
          "a stderr line was logged more than once")


WAIT_COMPLAINER = """import os, socket, sys
s = socket.socket(fileno=0)
data, peer = s.recvfrom(512)
os.write(2, b"complaint about " + data + b"\\n")
os.write(2, b"unfinished " + data)
s.sendto(b"ok", peer)
"""


def start_complainer(t, name):
    """superd with a UDP wait service that complains on stderr; (superd,
    its port, a client socket)."""
    script = t.write("complainer.py", WAIT_COMPLAINER)
    sd = t.start([service(name, protocol="udp", wait=True,
                          server=python3(), args=[script])])
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(c)
    c.settimeout(10)
    return sd, sd.port(name, "udp"), c


def test_wait_instance_stderr_logged_before_its_exit_line(t):
    # superd keeps the write end of a wait instance's pipe (errlog.c):
    # what it wrote, a last line without its newline too, is still read
    # at the reap and logged before the exit line.
    sd, port, c = start_complainer(t, "wcomp")
    mark = sd.mark()
    for i in range(3):
        word = b"d%d" % i
        c.sendto(word, ("127.0.0.1", port))
        check(c.recvfrom(64)[0] == b"ok", "datagram %d not answered" % i)
        exit_line = sd.wait_log(tag("wcomp") + r": exit pid=(\d+)", mark)
        log = sd.log()[mark:]
        for text in ("complaint about " + word.decode(),
                     "unfinished " + word.decode()):
            at = log.find(": stderr: " + text)
            check(at != -1 and log.count(text) == 1,
                  "%r logged %d times" % (text, log.count(text)))
            check(at < exit_line.start(), "%r logged after the exit line"
                  % text)
        mark = sd.mark()


def test_busy_wait_service_keeps_each_instances_lines_apart(t):
    # While datagrams queue up, one stderr pipe serves instance after
    # instance (errlog.c): each one's lines, its unfinished last line too,
    # must still be logged whole and once, and no pipe may outlive the burst
    # by more than the second a spare is kept.
    sd, port, c = start_complainer(t, "wburst")
    mark = sd.mark()
    c.sendto(b"warm", ("127.0.0.1", port))     # superd opens /dev/null once
    c.recvfrom(64)
    sd.wait_log(tag("wburst") + r": exit pid=", mark)
    before = sd.idle_fd_count()
    mark = sd.mark()
    count = 12
    for i in range(count):
        c.sendto(b"b%02d" % i, ("127.0.0.1", port))
    answers = [c.recvfrom(64)[0] for _ in range(count)]
    check(answers == [b"ok"] * count, "answers %r" % answers)
    sd.wait_log(tag("wburst") + r": exit pid=", mark)
    wait_for(lambda: sd.fd_count() == before and
             len([ln for ln in sd.log_lines(mark)
                  if ": stderr: unfinished" in ln]) == count, 5,
             "every instance reaped and its pipe closed")
    lines = [ln.split(": stderr: ", 1)[1] for ln in sd.log_lines(mark)
             if ": stderr: " in ln]
    want = sorted(["complaint about b%02d" % i for i in range(count)] +
                  ["unfinished b%02d" % i for i in range(count)])
    check(sorted(lines) == want, "stderr lines %r" % lines)


# Prints the pipe its stderr is, complains there, and waits for the client.
PIPE_TELLER = ("readlink /proc/$$/fd/2; echo \"complaint from $$\" >&2; "
               "read line")


def pipe_of_instance(port):
    """Connect to the pipe teller: (its stderr pipe, the open socket)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return read_line(s).decode().strip(), s


def finish(sd, s, mark):
    """Let the instance on s exit; wait for superd to log its exit."""
    s.sendall(b"bye\n")
    read_until_eof(s)
    s.close()
    sd.wait_log(tag("teller") + r": exit pid=", mark)


def test_emptied_stderr_pipe_serves_the_next_instance_then_closes(t):
    sd = t.start([service("teller", server="/bin/sh",
                          args=["-c", PIPE_TELLER])])
    port = sd.port("teller")
    mark = sd.mark()
    finish(sd, pipe_of_instance(port)[1], mark)   # superd opens /dev/null
    idle = sd.idle_fd_count()
    pipes = []
    for _ in range(4):
        mark = sd.mark()
        pipe, s = pipe_of_instance(port)
        check(pipe.startswith("pipe:"), "stderr of an instance is %r" % pipe)
        pipes.append(pipe)
        finish(sd, s, mark)
    check(len(set(pipes)) == 1, "one instance after the other, each got a "
          "new stderr pipe: %s" % pipes)
    # Two at once never share one.
    mark = sd.mark()
    first, s1 = pipe_of_instance(port)
    second, s2 = pipe_of_instance(port)
    check(first != second, "two running instances share %s" % first)
    finish(sd, s1, mark)
    finish(sd, s2, sd.mark())
    wait_for(lambda: sd.log().count("complaint from") == 7, 5,
             "each instance's stderr line logged")
    # A second unused, the spares are closed, and the next instance gets
    # a pipe of its own again.
    check(sd.idle_fd_count() == idle, "superd holds %d descriptors a second "
          "after its last instance, %d before" % (sd.fd_count(), idle))
    held = set(fd_links(sd.pid).values())
    check(not held & {first, second}, "spare pipes kept past a second: %s"
          % sorted(held & {first, second}))
    mark = sd.mark()
    pipe, s = pipe_of_instance(port)
    check(pipe not in (first, second), "a closed spare %s served again"
          % pipe)
    finish(sd, s, mark)
