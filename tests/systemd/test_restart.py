"""Restarts and upgrades of the package under load: clients that connect
meanwhile wait in the kernel's backlog and are served, none is refused."""

import os
import re
import threading
import time

from faultkit import recv_some
from harness import check, read_line, wait_for

PORT = 7001
CONF = """services : (
	{ name = "tcat"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; },
	{ name = "tdyn"; port = 0; address = "127.0.0.1";
	  server = "/bin/cat"; }
);
""" % PORT


class Load:
    """Clients that connect, talk and close in a loop until stopped, and
    count what happened to them."""

    def __init__(self, m, port, clients=4):
        self.m, self.port = m, port
        self.counts = {"served": 0, "refused": 0, "other": 0}
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = [threading.Thread(target=self.client, daemon=True)
                        for _ in range(clients)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping = True
        for t in self.threads:
            t.join(30)

    def count(self, what, err=None):
        with self.lock:
            self.counts[what] += 1
            if err is not None and len(self.errors) < 5:
                self.errors.append(repr(err))

    def client(self):
        while not self.stopping:
            try:
                s = self.m.connect(self.port, timeout=10)
            except ConnectionRefusedError as e:
                self.count("refused", e)
                time.sleep(0.001)
                continue
            except OSError as e:
                self.count("other", e)
                continue
            try:
                s.sendall(b"ping\n")
                line = read_line(s, timeout=10)
                if line == b"ping":
                    self.count("served")
                else:
                    self.count("other", line)
            except Exception as e:
                self.count("other", e)
            finally:
                s.close()

    def served(self):
        with self.lock:
            return self.counts["served"]


def setup(m, deb):
    m.install(deb)
    m.write("/etc/superd.d/test.conf", CONF)
    m.sh("systemctl reload superd")
    wait_for(lambda: dynamic_port(m), 5, "the services of the reload")


def dynamic_port(m):
    for line in m.sh("cat /run/superd.ports", check=False).stdout.splitlines():
        f = line.split()
        if f[0] == "tdyn":
            return int(f[3])
    return None


def figures(counts, event):
    """The line the runner prints after PASS: what the clients got."""
    return "across %s, 4 clients connecting continuously: %d served, " \
        "%d refused, %d failed otherwise" % (event, counts["served"],
                                             counts["refused"], counts["other"])


def under_load(m, action, times):
    with Load(m, PORT) as load:
        for _ in range(times):
            before = load.served()
            action()
            deadline = time.monotonic() + 5
            while load.served() < before + 20 and \
                    time.monotonic() < deadline:
                time.sleep(0.01)
    check(load.counts["refused"] == 0 and load.counts["other"] == 0,
          "clients across %d restarts: %s, first errors %s" %
          (times, load.counts, load.errors))
    check(load.counts["served"] > 20 * times, "only %s served" % load.counts)
    return load.counts


def test_restart_refuses_no_one(m, deb):
    """systemctl restart under load: the listeners outlive superd (the fd
    store), the backlog holds the clients meanwhile, none is refused, and
    a service on a port of the kernel's choice keeps its port."""
    setup(m, deb)
    dyn = dynamic_port(m)
    pid = m.unit("superd", "MainPID")["MainPID"]
    counts = under_load(m, lambda: m.sh("systemctl restart superd"), 3)
    check(m.unit("superd", "MainPID")["MainPID"] != pid,
          "superd was not restarted")
    check(dynamic_port(m) == dyn, "the dynamic port changed across "
          "restarts: %s, then %s" % (dyn, dynamic_port(m)))
    return figures(counts, "3 restarts")


def test_upgrade_refuses_no_one(m, deb):
    """dpkg -i of the package over itself (an upgrade's maintainer
    scripts) under load: none refused."""
    setup(m, deb)
    pid = m.unit("superd", "MainPID")["MainPID"]
    name = os.path.basename(deb)
    counts = under_load(m, lambda: m.sh("dpkg -i /root/%s" % name,
                                        timeout=120), 1)
    check(m.unit("superd", "MainPID")["MainPID"] != pid,
          "the upgrade did not restart superd")
    return figures(counts, "the upgrade")


# SIGKILL rather than the default SIGABRT: no core dump, which a host whose
# kernel.core_pattern is a pipe would hand to a program outside the machine.
WATCHDOG = """[Service]
WatchdogSec=1s
WatchdogSignal=SIGKILL
"""


def test_watchdog_restarts_a_wedged_superd_refusing_no_one(m, deb):
    """With WatchdogSec=1s, a superd whose loop stops (SIGSTOP) misses its
    pings: systemd logs the watchdog timeout, kills it and starts it
    again, and the clients that connected meanwhile wait in the stored
    listeners' backlog and are served."""
    setup(m, deb)
    m.sh("mkdir -p /etc/systemd/system/superd.service.d")
    m.write("/etc/systemd/system/superd.service.d/watchdog.conf", WATCHDOG)
    m.sh("systemctl daemon-reload && systemctl restart superd")
    wait_for(lambda: m.unit("superd", "WatchdogUSec")["WatchdogUSec"]
             in ("1s", "1000000"), 5, "WatchdogSec=1s in force")
    pid = m.unit("superd", "MainPID")["MainPID"]
    with Load(m, PORT) as load:
        wait_for(lambda: load.served() > 20, 5, "clients served")
        time.sleep(2.5)         # the pings keep it up meanwhile
        check(m.unit("superd", "MainPID")["MainPID"] == pid,
              "superd was restarted though its loop turned")
        m.sh("kill -STOP %s" % pid)
        stopped = load.served()
        wait_for(lambda: m.unit("superd", "MainPID")["MainPID"]
                 not in (pid, "0"), 10, "a new superd after the watchdog "
                 "timeout")
        wait_for(lambda: load.served() > stopped + 20, 10,
                 "clients served by the new superd")
    check(load.counts["refused"] == 0 and load.counts["other"] == 0,
          "clients across the watchdog's restart: %s, first errors %s" %
          (load.counts, load.errors))
    with open(m.console, errors="replace") as f:
        console = f.read()
    check("Watchdog timeout" in console + m.journal("superd"),
          "systemd logged no watchdog timeout: %s" % m.console_tail())
    check(int(m.unit("superd", "NRestarts")["NRestarts"]) >= 1,
          "systemd counts no restart")
    return figures(load.counts, "the watchdog's restart")


ONE = """services : (
	{ name = "one"; port = %d; address = "127.0.0.1"; instances = 1;
	  server = "/bin/sh"; args = [ "-c", "read x; echo $x" ];
	  log_connections = true; }
);
""" % PORT


def test_restart_keeps_counting_running_instances(m, deb):
    """instances = 1 and a client being served: across systemctl restart
    the new superd counts that instance (handed over in the fd store), so
    a second client waits until it ends, and is served then."""
    m.install(deb)
    m.write("/etc/superd.d/test.conf", ONE)
    m.sh("systemctl reload superd")
    first = wait_for(lambda: try_connect(m), 5, "the service of the reload")
    first.sendall(b"probe\n")
    check(read_line(first) == b"probe", "the service does not answer")
    first.close()
    first = m.connect(PORT)
    match = wait_for(lambda: re.findall(r"one: start pid=(\d+)",
                     m.journal("superd")), 5, "the first client's instance")
    pid = match[-1]
    m.sh("systemctl restart superd")
    wait_for(lambda: "one: pid=%s from 127.0.0.1 started by the previous "
             "superd, counted" % pid in m.journal("superd"), 5,
             "the new superd adopting instance %s" % pid)
    second = m.connect(PORT)
    second.sendall(b"second\n")
    early = recv_some(second, 1.0)
    check(early is None, "a second client was served (%r) while the first "
          "one's instance held the only slot" % early)
    first.sendall(b"first\n")
    check(read_line(first) == b"first", "the first client lost its "
          "instance across the restart")
    check(read_line(second) == b"second", "the second client was not "
          "served once the first instance ended")
    wait_for(lambda: "one: exit pid=%s ended" % pid in m.journal("superd"),
             5, "the adopted instance's end in the journal")


def try_connect(m):
    try:
        return m.connect(PORT)
    except OSError:
        return None
