"""The services shipped with superd (SPEC section 9), served through it:
greeting, fingerd, and sort as configured in etc/superd.conf."""

import os
import pwd
import random
import re
import shutil
import socket
import threading

from harness import (HERE, Skip, check, connect, is_root, limit,
                     read_until_eof, service)

TOP = os.path.dirname(os.path.dirname(HERE))
GREETING_RE = re.compile(rb"Hello (.*), you are visitor number (\d+) to this "
                         rb"server\n")


def shipped(t, name):
    """A copy of services/NAME in the test's directory: as root the service
    runs as nobody, who may not reach the source tree."""
    src = os.path.join(TOP, "services", name)
    if not os.access(src, os.X_OK):
        raise Skip("services/%s is not built (make services)" % name)
    dst = t.path(name)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)
    return dst


def state_file(t):
    """An empty state file the service's user may write; its directory
    stays read-only to that user."""
    path = t.write("greeting.count", "")
    if is_root():
        nobody = pwd.getpwnam("nobody")
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    return path


def greeting_service(t, state):
    return service("greeting", server=shipped(t, "greeting"),
                   args=["-s", state])


def greet(port, data, half_close=False, keep_open=False):
    """(name, number) of one visit."""
    s = connect(port)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        if keep_open:
            # The classic client: the name, a NUL, and the connection
            # stays open; the answer comes all the same.
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(256)
                check(chunk, "the greeting closed before its answer: %r"
                      % buf)
                buf += chunk
        else:
            buf = read_until_eof(s)
    finally:
        s.close()
    m = GREETING_RE.fullmatch(buf)
    check(m, "the greeting answered %r" % buf)
    return m.group(1).decode(), int(m.group(2))


@limit(40)
def test_greeting_numbers_200_concurrent_visitors_exactly_once(t):
    state = state_file(t)
    sd = t.start([greeting_service(t, state)])
    port = sd.port("greeting")
    numbers, errors = [], []
    lock = threading.Lock()
    pending = list(range(200))

    def visitor():
        while True:
            with lock:
                if not pending:
                    return
                i = pending.pop()
            try:
                name, n = greet(port, b"visitor%d\n" % i)
                with lock:
                    numbers.append(n)
                    if name != "visitor%d" % i:
                        errors.append("visitor%d was greeted as %r" % (i, name))
            except Exception as e:
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=visitor, daemon=True)
               for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    check(not any(th.is_alive() for th in threads), "visitors still waiting")
    check(not errors, "%d visits failed: %s" % (len(errors), errors[:3]))
    check(sorted(numbers) == list(range(1, 201)), "200 visitors got numbers "
          "%s...; duplicates %s" % (sorted(numbers)[:10],
                                    sorted({n for n in numbers
                                            if numbers.count(n) > 1})[:10]))
    with open(state) as f:
        check(f.read().strip() == "200", "the state file does not hold 200")


def test_greeting_name_endings_and_restart(t):
    state = state_file(t)
    sd = t.start([greeting_service(t, state)])
    port = sd.port("greeting")
    visits = [
        (b"cew\0", dict(keep_open=True), "cew"),        # NUL, stays open
        (b"bob\n", {}, "bob"),                           # newline
        (b"amy\r\n", {}, "amy"),                         # CRLF
        (b"eve", dict(half_close=True), "eve"),          # end of input
    ]
    for n, (data, how, want) in enumerate(visits, 1):
        name, number = greet(port, data, **how)
        check(name == want, "%r was greeted as %r, not %r" % (data, name,
                                                              want))
        check(number == n, "visit %d got number %d" % (n, number))
    # A client that leaves without a byte is a probe, not a visitor.
    s = connect(port)
    s.shutdown(socket.SHUT_WR)
    check(read_until_eof(s) == b"", "an empty visit got an answer")
    s.close()
    # The count survives superd's restart.
    sd.stop()
    sd2 = t.start([greeting_service(t, state)], label="again")
    name, number = greet(sd2.port("greeting"), b"after\n")
    check(number == len(visits) + 1, "after a restart the next visitor is "
          "number %d, not %d" % (number, len(visits) + 1))


def finger_service(t):
    # As in etc/superd.conf: fingerd's error texts go to the client.
    return service("finger", server=shipped(t, "fingerd"), stderr="socket")


def finger(port, query):
    s = connect(port)
    try:
        s.sendall(query)
        return read_until_eof(s)
    finally:
        s.close()


def crlf_lines(data, what):
    check(data.endswith(b"\r\n"), "%s: the answer does not end with CRLF: %r"
          % (what, data[-40:]))
    lines = data.split(b"\r\n")[:-1]
    check(all(b"\n" not in ln and b"\r" not in ln for ln in lines),
          "%s: a line not ended by CRLF: %r" % (what, data[:300]))
    return [ln.decode("utf-8", "replace") for ln in lines]


def test_fingerd_user_and_empty_queries(t):
    sd = t.start([finger_service(t)])
    port = sd.port("finger")
    root = pwd.getpwuid(0)
    for query in (b"root\r\n", b"root\n", b"/W root\r\n"):
        lines = crlf_lines(finger(port, query), repr(query))
        text = "\n".join(lines)
        check(re.search(r"^Login: %s\b" % root.pw_name, text, re.M),
              "%r: no Login line: %r" % (query, text))
        check(re.search(r"^Directory: %s\b" % re.escape(root.pw_dir), text,
                        re.M), "%r: no Directory line: %r" % (query, text))
    lines = crlf_lines(finger(port, b"no-such-user-superd\r\n"), "unknown")
    check(lines == ['finger: no such user "no-such-user-superd"'],
          "an unknown user: %s" % lines)
    lines = crlf_lines(finger(port, b"\r\n"), "the empty query")
    check(lines == ["No one logged on."] or
          (lines and not any(ln.startswith("finger:") for ln in lines)),
          "the empty query: %s" % lines)


def test_fingerd_refuses_forwarding_without_connecting(t):
    # Should fingerd forward the query it would connect to the finger port
    # of the host named: listen there and see that nobody comes.
    watcher = None
    if is_root():
        try:
            watcher = socket.socket()
            watcher.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            watcher.bind(("127.0.0.1", 79))
            watcher.listen(8)
            t.socks.append(watcher)
        except OSError:
            watcher = None
    sd = t.start([finger_service(t)])
    port = sd.port("finger")
    for query in (b"root@127.0.0.1\r\n", b"@127.0.0.1\r\n",
                  b"root@localhost@127.0.0.1\r\n"):
        lines = crlf_lines(finger(port, query), repr(query))
        check(len(lines) == 1 and re.search(r"(?i)forward", lines[0]),
              "%r was not refused in one line: %s" % (query, lines))
    if watcher is None:
        raise Skip("the refusals hold; port 79 could not be watched for a "
                   "forwarded connection (not root, or in use)")
    watcher.settimeout(0.3)
    try:
        conn, peer = watcher.accept()
        conn.close()
        check(False, "fingerd connected to 127.0.0.1:79 from %s:%d" % peer)
    except socket.timeout:
        pass


@limit(30)
def test_sort_as_configured_sorts_a_half_closed_input(t):
    sd = t.start([service("sort", server="/usr/bin/sort",
                          limits={"cpu": 5, "memory": "256M"}, timeout=30)])
    rnd = random.Random(1288)
    lines = [b"%08x %s" % (rnd.getrandbits(32),
                           bytes(rnd.choice(b"abcdefghij ")
                                 for _ in range(rnd.randrange(0, 40))))
             for _ in range(5000)]
    data = b"".join(ln + b"\n" for ln in lines)
    s = connect(sd.port("sort"), timeout=15)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = read_until_eof(s, timeout=15, limit_bytes=len(data) + 1)
    finally:
        s.close()
    # No locale in the program's environment: byte order.
    want = b"".join(ln + b"\n" for ln in sorted(lines))
    check(got == want, "sort returned %d bytes, not the %d sorted ones%s"
          % (len(got), len(want), "" if len(got) != len(want) else
             " (same length, other order)"))
