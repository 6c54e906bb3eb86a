"""superd behind a real HAProxy (Debian's haproxy package): the PROXY
protocol as HAProxy sends it, version 1 (`send-proxy`) and 2
(`send-proxy-v2`), with its health checks on, and the two hosts of
superd(8), SCALING PAST ONE MACHINE.

Every test runs the haproxy.cfg of man/superd.8 (the lines between its
`BEGIN haproxy.cfg` and `END haproxy.cfg` comments) with the page's
addresses made loopback ones: the frontend on 127.0.0.1 at a free port,
the hosts at the ports of the superds under test, and the proxy's source
127.0.0.9, the services' proxy_from.  Distinct clients bind distinct
loopback sources (127.0.0.2, 127.0.0.3, ...) before they connect.  HAProxy
runs in the foreground (-db), a child of the test, and is stopped by its
PID."""

import os
import re
import shutil
import socket
import subprocess
import threading
import time

from harness import (HERE, Fail, Skip, Superd, check, connect, limit,
                     listening_inodes, read_line, read_until_eof, service,
                     socket_inodes, tag, wait_for)

MAN_PAGE = os.path.join(HERE, "..", "..", "man", "superd.8")
PROXY_SOURCE = "127.0.0.9"
# What the page's haproxy.cfg names, and the test replaces.
DOC_BIND = "198.51.100.1:79"
DOC_HOSTS = ("192.0.2.11", "192.0.2.12")
DOC_PROXY = "192.0.2.5"
# The page's limits, which the two-host test holds it to: the stick
# table's cap on one client across hosts, and each host's per_source.
DOC_CLIENT_CAP = 8
DOC_PER_SOURCE = 4

# Says which host it runs on ($0), and who the client is; then echoes.
SHOW = 'echo "$0 $TCPREMOTEIP $TCPREMOTEPORT"; exec cat'
# The test's own global section: the page leaves that to the site.
GLOBAL = "global\n    stats socket %s mode 600 level user\n\n"


def haproxy_program():
    """haproxy's path (it lives in /usr/sbin, which a user's PATH may
    lack), or Skip."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin"
    found = shutil.which("haproxy", path=path)
    if not found:
        raise Skip("haproxy is not installed (packaging/install-deps test "
                   "installs Debian's)")
    return found


def documented_cfg():
    """The haproxy.cfg text of superd(8), exactly as the page shows it."""
    with open(MAN_PAGE) as f:
        page = f.read()
    m = re.search(r'^\.\\" BEGIN haproxy\.cfg.*\n((?:.*\n)*?)'
                  r'^\.\\" END haproxy\.cfg', page, re.M)
    check(m, "man/superd.8 has no BEGIN/END haproxy.cfg lines")
    text = m.group(1)
    # A roff request or escape would make the page show other text.
    check("\\" not in text and not re.search(r"^[.']", text, re.M),
          "the haproxy.cfg of man/superd.8 holds roff requests or escapes")
    return text


def must_sub(text, pattern, repl, count):
    """re.subn that fails unless the page had exactly count matches, so
    that the test cannot drift from what the page says."""
    out, n = re.subn(pattern, repl, text)
    check(n == count, "man/superd.8's haproxy.cfg: %d matches of /%s/, "
          "want %d" % (n, pattern, count))
    return out


def loopback_cfg(frontend_port, host_ports, v1=False, inter=None,
                 bind_ip="127.0.0.1"):
    """The page's haproxy.cfg on loopback.  host_ports has one port per
    server line of the page; v1 makes its send-proxy-v2 send-proxy, inter
    replaces its check interval, and bind_ip is the frontend's address."""
    cfg = documented_cfg()
    cfg = must_sub(cfg, r"\bbind %s\n" % re.escape(DOC_BIND),
                   "bind %s:%d\n" % (bind_ip, frontend_port), 1)
    check(len(host_ports) == len(DOC_HOSTS), "one port per documented host")
    for doc_ip, port in zip(DOC_HOSTS, host_ports):
        cfg = must_sub(cfg, r"(server \S+ )%s:79( .*\bcheck port )79\b"
                       % re.escape(doc_ip),
                       r"\g<1>127.0.0.1:%d\g<2>%d" % (port, port), 1)
    n = len(DOC_HOSTS)
    cfg = must_sub(cfg, r"\bsource %s\b" % re.escape(DOC_PROXY),
                   "source " + PROXY_SOURCE, n)
    if v1:
        cfg = must_sub(cfg, r"\bsend-proxy-v2\b", "send-proxy", n)
    if inter:
        cfg = must_sub(cfg, r"\binter 2s\b", "inter " + inter, n)
    return cfg


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HAProxy:
    """haproxy -db, a child of the test.  It goes in t.daemons beside the
    superds (it has what the harness asks of them: stop, log, label,
    command), so the clean-up stops it by its PID and -v shows its log."""

    def __init__(self, t, host_ports, label="haproxy", **cfg_options):
        self.t = t
        self.label = label
        self.program = haproxy_program()
        self.stats_path = t.path(label + ".sock")
        self.log_path = t.path(label + ".log")
        self.host_ports = host_ports
        self.cfg_options = cfg_options
        self.cfg = self.proc = self.port = None

    def command(self):
        return [self.program, "-db", "-f", self.cfg]

    def launch(self):
        """Starts it on a free frontend port; another binding the port
        between the look and haproxy's bind costs a try, of three."""
        for _ in range(3):
            self.port = free_port()
            text = GLOBAL % self.stats_path + loopback_cfg(
                self.port, self.host_ports, **self.cfg_options)
            self.cfg = self.t.write(self.label + ".cfg", text)
            self.validate()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=log, close_fds=True)
            self.pid = self.proc.pid
            if self not in self.t.daemons:
                self.t.daemons.append(self)
            try:
                wait_for(self.listening, 5, "haproxy listening on 127.0.0.1"
                         ":%d" % self.port)
                return self
            except Fail:
                if self.proc.poll() is None:
                    raise
        raise Fail("haproxy did not start in three tries; log: %r"
                   % self.log()[-300:])

    def validate(self):
        p = subprocess.run([self.program, "-c", "-q", "-f", self.cfg],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        check(p.returncode == 0, "haproxy -c rejects the configuration of "
              "man/superd.8: %r" % p.stdout.decode("utf-8", "replace")[-400:])

    def listening(self):
        if self.proc.poll() is not None:
            raise Fail("haproxy exited with status %d" % self.proc.returncode)
        return listening_inodes(self.port) & socket_inodes(self.pid)

    def stats(self):
        """{server name: its row of `show stat`} of the backend."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.stats_path)
            s.sendall(b"show stat\n")
            text = read_until_eof(s).decode()
        lines = text.splitlines()
        check(lines and lines[0].startswith("# "), "show stat: %r" % text)
        keys = lines[0][2:].split(",")
        rows = [dict(zip(keys, ln.split(","))) for ln in lines[1:] if ln]
        return {r["svname"]: r for r in rows
                if r.get("svname") not in (None, "FRONTEND", "BACKEND")}

    # Its log is read, and it is stopped (SIGTERM, then SIGKILL, by PID),
    # as a superd is.
    alive = Superd.alive
    log = Superd.log
    stop = Superd.stop


def shower(host="host1", **settings):
    """The service of the page's hosts, with a program that shows what it
    was given."""
    return service("finger", server="/bin/sh", args=["-c", SHOW, host],
                   proxy_protocol=True, proxy_from=[PROXY_SOURCE],
                   log_connections=True, **settings)


def one_host(t, services=None, **cfg_options):
    """A superd whose port both of the page's server lines name, and
    HAProxy in front of it."""
    haproxy_program()
    sd = t.start(services or [shower()])
    port = sd.port("finger")
    return sd, HAProxy(t, (port, port), **cfg_options).launch()


def through(hp, source, timeout=5.0):
    """A client from source, connected through HAProxy."""
    s = connect(hp.port, source=source, timeout=timeout)
    hp.t.socks.append(s)
    return s


def served(s, source, host=None, timeout=5.0):
    """Reads the program's first line: it must name the client's own
    address and port.  Returns the host that served it."""
    line = read_line(s, timeout).decode("utf-8", "replace")
    fields = line.split()
    want = [source, str(s.getsockname()[1])]
    check(fields[1:] == want, "the program behind HAProxy saw %r, want "
          "client %s" % (line, " ".join(want)))
    check(host is None or fields[0] == host, "served by %s, want %s"
          % (fields[0], host))
    return fields[0]


def starts(sd, since):
    return len(re.findall(tag("finger") + r": start pid=\d+",
                          sd.log()[since:]))


def test_v1_and_v2_headers_give_the_client_address(t):
    """HAProxy's send-proxy and send-proxy-v2: the program sees each
    client's own address and port, the connection comes via the proxy,
    and the client's bytes reach the program unchanged."""
    haproxy_program()
    sd = t.start([shower()])
    port = sd.port("finger")
    proxies = {"v2": HAProxy(t, (port, port), label="haproxy-v2").launch(),
               "v1": HAProxy(t, (port, port), label="haproxy-v1",
                             v1=True).launch()}
    for version, hp in sorted(proxies.items()):
        for source in ("127.0.0.2", "127.0.0.3"):
            mark = sd.mark()
            s = through(hp, source)
            served(s, source)
            s.sendall(b"after the header\n")
            check(read_line(s) == b"after the header", "the client's bytes "
                  "did not reach the program unchanged (%s)" % version)
            sd.wait_log(tag("finger") + r": start pid=\d+ from %s:%d via %s"
                        % (re.escape(source), s.getsockname()[1],
                           re.escape(PROXY_SOURCE)), mark)
            s.close()


def test_allow_deny_and_refuse_message_through_the_proxy(t):
    """allow judges each client behind the proxy by its own address (the
    proxy's is not in allow), and a refused one gets the refuse_message
    through HAProxy."""
    sd, hp = one_host(t, [shower(allow=["127.0.0.2", "127.0.0.4"],
                                 refuse_message="not you")])
    served(through(hp, "127.0.0.2"), "127.0.0.2")
    mark = sd.mark()
    s = through(hp, "127.0.0.3")
    check(read_until_eof(s) == b"not you\r\n", "127.0.0.3, not in allow, "
          "was not refused with the refuse_message through the proxy")
    sd.wait_log(tag("finger") + r": refused 127\.0\.0\.3 \(acl\)", mark)
    served(through(hp, "127.0.0.4"), "127.0.0.4")
    # The parent logs the start after the fork; the child may answer first.
    wait_for(lambda: starts(sd, mark) >= 1, 5, "127.0.0.4's start logged")
    check(starts(sd, mark) == 1, "the refused client started a program")


def test_dual_stack_proxy_clients_count_as_ipv4(t):
    """HAProxy bound as a dual-stack listener would be (an IPv6 socket on
    ::ffff:127.0.0.1) sends its IPv4 clients as ::ffff:127.0.0.x, in TCP6
    headers: the program sees 127.0.0.x, and an IPv4 deny rule holds."""
    sd = t.start([shower(deny=["127.0.0.3"], refuse_message="not you")])
    port = sd.port("finger")
    for v1 in (False, True):
        hp = HAProxy(t, (port, port), label="haproxy-v%d" % (1 if v1 else 2),
                     v1=v1, bind_ip="::ffff:127.0.0.1").launch()
        served(through(hp, "127.0.0.2"), "127.0.0.2")
        mark = sd.mark()
        check(read_until_eof(through(hp, "127.0.0.3")) == b"not you\r\n",
              "a client denied as 127.0.0.3 passed as ::ffff:127.0.0.3")
        sd.wait_log(tag("finger") + r": refused 127\.0\.0\.3 \(acl\)", mark)


def test_per_source_through_the_proxy(t):
    """per_source = 1 counts each client behind the proxy: a client at its
    limit is refused (with the refuse_message) while another is served,
    and the first keeps its connection."""
    sd, hp = one_host(t, [shower(per_source=1, refuse_message="busy")])
    held = through(hp, "127.0.0.2")
    served(held, "127.0.0.2")
    mark = sd.mark()
    s = through(hp, "127.0.0.2")
    check(read_until_eof(s) == b"busy\r\n", "a client at per_source = 1 "
          "was not refused through the proxy")
    sd.wait_log(tag("finger") + r": refused 127\.0\.0\.2 \(per_source\)",
                mark)
    served(through(hp, "127.0.0.3"), "127.0.0.3")
    held.sendall(b"still here\n")
    check(read_line(held) == b"still here", "the held client lost its "
          "connection")


@limit(30)
def test_health_checks_fork_nothing(t):
    """HAProxy's checks, every 100 ms on both server lines, connect to the
    service's port from the proxy's address and send nothing: superd
    starts nothing for them and logs nothing above debug, while clients
    beside them are served.  (HAProxy 2.6 resets such a check as soon as
    the port answers, before the handshake ends, so the kernel leaves
    superd none to accept; test_proxy.py's test_health_check_costs_no_fork
    has checks that superd does accept.)"""
    sd, hp = one_host(t, inter="100ms")

    def checked():
        rows = hp.stats()
        return len(rows) == 2 and all(r["check_status"] == "L4OK"
                                      for r in rows.values())
    wait_for(checked, 5, "both servers checked (L4OK)")
    mark = sd.mark()
    clients = 5
    for i in range(clients):
        source = "127.0.0.%d" % (2 + i)
        s = through(hp, source)
        served(s, source)
        s.close()
        time.sleep(0.3)     # some 30 checks in all
    wait_for(lambda: not sd.children(), 5, "every instance ended")
    check(starts(sd, mark) == clients, "%d programs started for %d clients "
          "and the checks" % (starts(sd, mark), clients))
    # superd's own lines (a sanitizer build's runtime writes others).
    lines = [ln for ln in sd.log_lines(mark) if ln.startswith("superd: ")
             and not re.search(tag("finger") + r": (start|exit) pid=|"
                               r"closed before a PROXY header \(a health "
                               r"check\)$", ln)]
    check(not lines, "health checks logged %r" % lines[:3])
    for name, row in hp.stats().items():
        check(row["status"] == "UP" and row["check_status"] == "L4OK" and
              row["chkfail"] == "0", "server %s: status %s, check %s, %s "
              "failed checks" % (name, row["status"], row["check_status"],
                                 row["chkfail"]))


def test_direct_client_forged_header_is_data(t):
    """A client that reaches the host without the proxy and sends its own
    `PROXY TCP4 10.1.2.3 ...` is a direct client: the header reaches the
    program as bytes, and allow judges its own address, not 10.1.2.3."""
    sd, hp = one_host(t, [shower(allow=["127.0.0.2", "10.1.2.3"],
                                 refuse_message="not you")])
    port = sd.port("finger")
    forged = b"PROXY TCP4 10.1.2.3 127.0.0.1 4000 79\r\n"
    served(through(hp, "127.0.0.2"), "127.0.0.2")
    s = connect(port, source="127.0.0.2")
    t.socks.append(s)
    s.sendall(forged)
    served(s, "127.0.0.2")
    check(read_line(s) + b"\n" == forged, "the forged header did not reach "
          "the program as data")
    mark = sd.mark()
    s = connect(port, source="127.0.0.4")
    t.socks.append(s)
    s.sendall(forged)
    check(read_until_eof(s) == b"not you\r\n", "a direct client claiming "
          "10.1.2.3 in a header of its own passed allow")
    sd.wait_log(tag("finger") + r": refused 127\.0\.0\.4 \(acl\)", mark)


def test_silent_trusted_connection_does_not_delay_a_served_one(t):
    """With instances = 1, a connection from the proxy's address that sends
    nothing holds no instance: a client through HAProxy beside it is
    served at once, and the silent one is closed at its deadline without
    a program."""
    sd, hp = one_host(t, [shower(instances=1)])
    port = sd.port("finger")
    fds = sd.fd_count()
    mark = sd.mark()
    silent = connect(port, source=PROXY_SOURCE, timeout=10)
    t.socks.append(silent)
    wait_for(lambda: sd.fd_count() > fds, 3, "the silent connection taken")
    began = time.monotonic()
    s = through(hp, "127.0.0.2")
    served(s, "127.0.0.2", timeout=3)
    waited = time.monotonic() - began
    check(waited < 1.0, "a client beside a silent trusted connection "
          "waited %.1f s" % waited)
    s.close()
    check(read_until_eof(silent, timeout=8) == b"", "the silent connection "
          "got bytes")
    sd.wait_log(tag("finger") + r": PROXY header from %s: timed out"
                % re.escape(PROXY_SOURCE), mark)
    check(starts(sd, mark) == 1, "%d programs for one client and a silent "
          "connection" % starts(sd, mark))


def test_two_hosts_behind_one_proxy(t):
    """The page's scaling story: two superd hosts behind one HAProxy.  A
    client's connections spread over both, each host counting it (not the
    proxy) with per_source; the stick table closes the client's
    connection past its cap across the hosts before either sees it, while
    another client is served."""
    haproxy_program()
    hosts = [t.start([shower(host, per_source=DOC_PER_SOURCE,
                             refuse_message="too busy")], label=host)
             for host in ("host1", "host2")]
    hp = HAProxy(t, tuple(sd.port("finger") for sd in hosts)).launch()
    on = {"host1": 0, "host2": 0}
    for _ in range(DOC_CLIENT_CAP):
        host = served(through(hp, "127.0.0.2"), "127.0.0.2")
        on[host] = on.get(host, 0) + 1
    check(on == {"host1": DOC_PER_SOURCE, "host2": DOC_PER_SOURCE},
          "one client's %d connections spread as %s" % (DOC_CLIENT_CAP, on))
    marks = [sd.mark() for sd in hosts]
    try:
        # HAProxy's reject is a reset, which may beat connect()'s return.
        got = read_until_eof(through(hp, "127.0.0.2"), timeout=3)
    except ConnectionResetError:
        got = b""
    check(got == b"", "the client's connection past the stick table's cap "
          "was not closed by the proxy (got %r)" % got)
    served(through(hp, "127.0.0.3"), "127.0.0.3")
    reached = sum(starts(sd, mark) for sd, mark in zip(hosts, marks))
    check(reached == 1, "%d programs started for a capped client and "
          "another" % reached)
    for sd, mark in zip(hosts, marks):
        refusal = sd.find_log(r".*refused.*", mark)
        check(not refusal, "a host saw the capped connection: %r"
              % (refusal and refusal.group(0)))


def hundreds(hp, total, threads=8, sources=30):
    """total clients through hp, threads at a time, from sources loopback
    addresses in turn; returns what went wrong."""
    wrong = []
    lock = threading.Lock()
    turn = iter(range(total))

    def client():
        while True:
            with lock:
                i = next(turn, None)
            if i is None:
                return
            source = "127.0.0.%d" % (10 + i % sources)
            try:
                with connect(hp.port, source=source, timeout=10) as s:
                    served(s, source, timeout=10)
            except (Fail, OSError) as e:
                with lock:
                    wrong.append("%s: %s" % (source, e))
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    check(not any(w.is_alive() for w in workers), "clients still running")
    return wrong


@limit(120)
def test_hundreds_of_connections_per_header_version(t):
    """300 clients through each header version, 8 at a time from 30
    addresses: every one served, its program seeing its own address and
    port."""
    haproxy_program()
    sd = t.start([shower()])
    port = sd.port("finger")
    total = 300
    for v1 in (False, True):
        label = "haproxy-v1" if v1 else "haproxy-v2"
        hp = HAProxy(t, (port, port), label=label, v1=v1).launch()
        mark = sd.mark()
        wrong = hundreds(hp, total)
        check(not wrong, "%s: %d of %d clients not served right, first: %s"
              % (label, len(wrong), total, wrong[:1]))
        wait_for(lambda: starts(sd, mark) == total, 5,
                 "%d start lines for %s" % (total, label))
        hp.stop()
