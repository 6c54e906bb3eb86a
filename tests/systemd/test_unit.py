"""The superd package's unit (packaging/debian/superd.service) under a
real systemd: installed with dpkg, started, reloaded, stopped."""

import re
import time

from harness import check, read_line, wait_for

ECHO_PORT = 7001
HOLD_PORT = 7002

# A service of the administrator's, in the package's include directory.
ECHO = """services : (
	{ name = "tcat"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; log_connections = true; }
);
""" % ECHO_PORT

HOLD = """services : (
	{ name = "tcat"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; log_connections = true; },
	{ name = "hold"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; }
);
""" % (ECHO_PORT, HOLD_PORT)


def echoes(m, port, text="hello"):
    """Whether the service on port answers text with text."""
    try:
        s = m.connect(port)
    except OSError:
        return False
    try:
        s.sendall((text + "\n").encode())
        return read_line(s) == text.encode()
    except OSError:
        return False
    finally:
        s.close()


def installed(m, deb):
    m.install(deb)
    state = m.unit("superd", "ActiveState", "Type", "StatusText")
    check(state["ActiveState"] == "active",
          "the package's unit is %s after dpkg -i" % state)
    return state


def add_config(m, text, ports=(ECHO_PORT,)):
    """Adds the services of text and waits until they answer: systemd 252
    lets `systemctl reload` return once ExecReload has sent SIGHUP, maybe
    before superd has read the file."""
    m.write("/etc/superd.d/test.conf", text)
    m.sh("systemctl reload superd")
    for port in ports:
        wait_for(lambda: echoes(m, port), 5, "port %d after the reload" %
                 port)


def test_install_starts_a_notify_unit_that_serves_and_logs(m, deb):
    """dpkg -i starts superd as Type=notify (active only once superd said
    READY=1); a service added in /etc/superd.d and a reload serve it, and
    superd's syslog lines reach the journal."""
    state = installed(m, deb)
    check(state["Type"] == "notify", "the unit's type is %s" % state)
    check(not echoes(m, ECHO_PORT), "port %d answered before the service "
          "was configured" % ECHO_PORT)
    add_config(m, ECHO)
    wait_for(lambda: "tcat: start pid=" in m.journal("superd"), 5,
             "superd's start line in the journal")


def status_text(m):
    return m.unit("superd", "StatusText")["StatusText"]


def settled(text):
    match = re.fullmatch(r"2 services, 0 running, (\d+) served, 0 refused",
                         text)
    return match if match and int(match.group(1)) >= 2 else None


def test_status_line_counts_what_superd_serves(m, deb):
    """systemctl status shows superd's STATUS= line: its services, running
    instances, clients served and refused, as they change."""
    installed(m, deb)
    add_config(m, HOLD, (ECHO_PORT, HOLD_PORT))
    # add_config's own clients (one a port at least) are served, counted
    # and gone.
    first = wait_for(lambda: settled(status_text(m)), 5, "StatusText "
                     "counting add_config's clients (it is %s)" %
                     status_text(m))
    served = int(first.group(1))
    for _ in range(3):
        check(echoes(m, ECHO_PORT), "tcat does not answer")
    served += 3
    held = m.connect(HOLD_PORT)
    try:
        held.sendall(b"held\n")
        check(read_line(held) == b"held", "the held instance did not answer")
        want = "2 services, 1 running, %d served, 0 refused" % (served + 1)
        wait_for(lambda: status_text(m) == want, 5, "StatusText=%s (it is "
                 "%s)" % (want, status_text(m)))
    finally:
        held.close()
    want = "2 services, 0 running, %d served, 0 refused" % (served + 1)
    wait_for(lambda: status_text(m) == want, 5, "StatusText=%s once the "
             "held client left (it is %s)" % (want, status_text(m)))
    out = m.sh("systemctl status superd", check=False).stdout
    check("Status: \"%s\"" % want in out, "systemctl status does not show "
          "the line: %s" % out)


def test_broken_reload_is_refused_and_the_running_config_kept(m, deb):
    """systemctl reload of a configuration with an error fails (the
    ExecReload check), and superd goes on serving what it served."""
    installed(m, deb)
    add_config(m, ECHO)
    m.write("/etc/superd.d/test.conf", ECHO + "services = oops;\n")
    r = m.sh("systemctl reload superd", check=False)
    check(r.returncode != 0, "a reload of a broken configuration "
          "succeeded: %s" % r.stdout)
    check(m.unit("superd", "ActiveState")["ActiveState"] == "active",
          "superd did not survive a broken reload")
    check(echoes(m, ECHO_PORT), "the service stopped answering after a "
          "refused reload")


def test_stop_leaves_running_instances_and_restart_serves(m, deb):
    """KillMode=process: systemctl stop ends superd alone, a client's
    running instance goes on; a start serves again."""
    installed(m, deb)
    add_config(m, HOLD, (ECHO_PORT, HOLD_PORT))
    held = m.connect(HOLD_PORT)
    held.sendall(b"before\n")
    check(read_line(held) == b"before", "the held instance did not answer")
    m.sh("systemctl stop superd")
    check(m.unit("superd", "ActiveState")["ActiveState"] == "inactive",
          "superd is still active after systemctl stop")
    held.sendall(b"after\n")
    check(read_line(held) == b"after", "a running instance ended with "
          "systemctl stop")
    held.close()
    m.sh("systemctl start superd")
    check(echoes(m, ECHO_PORT), "superd does not serve after a start")
    r = m.sh("systemctl restart superd")
    deadline = time.monotonic() + 5
    while not echoes(m, ECHO_PORT) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(echoes(m, ECHO_PORT), "superd does not serve after a restart "
          "(%s)" % r.stdout)


ESCAPE_PORT = 7004

# An instance whose grandchild leaves its session and process group.
ESCAPE = """services : (
	{ name = "tcat"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; },
	{ name = "escape"; port = %d; address = "127.0.0.1"; timeout = 2;
	  server = "/bin/sh";
	  args = [ "-c", "setsid sleep 300 & echo $!; read x" ]; }
);
""" % (ECHO_PORT, ESCAPE_PORT)


def instance_cgroups(m):
    return m.sh("ls -d /sys/fs/cgroup/system.slice/superd.service/"
                "superd-instance-* 2>/dev/null", check=False).stdout.strip()


def alive_in(m, pid):
    return m.sh("kill -0 %d" % pid, check=False).returncode == 0


def test_timeout_reaches_what_left_the_session(m, deb):
    """Delegate=yes: superd makes a cgroup below the unit's for each
    instance of a service with `timeout`; a grandchild that called
    setsid() is in it and ends at the timeout, and the cgroup goes."""
    installed(m, deb)
    add_config(m, ESCAPE)
    unit_cg = m.sh("cat /proc/$(systemctl show -P MainPID superd)/cgroup"
                   ).stdout
    check("0::/system.slice/superd.service\n" in unit_cg,
          "superd is not in its unit's cgroup: %r" % unit_cg)
    s = m.connect(ESCAPE_PORT)
    try:
        pid = int(read_line(s))
        wait_for(lambda: m.sh("ps -o sid= -p %d" % pid, check=False
                              ).stdout.strip() == str(pid), 3,
                 "the grandchild to leave the instance's session")
        cg = m.sh("cat /proc/%d/cgroup" % pid).stdout
        check(re.search(r"^0::/system\.slice/superd\.service/"
                        r"superd-instance-\d+-\d+$", cg, re.M),
              "the grandchild is not in an instance cgroup: %r" % cg)
        check(instance_cgroups(m) != "", "no instance cgroup below the "
              "unit's while the instance runs")
        wait_for(lambda: not alive_in(m, pid), 6,
                 "the grandchild to end at the instance's timeout")
    finally:
        s.close()
    wait_for(lambda: instance_cgroups(m) == "", 3,
             "the instance's cgroup to be removed")


SOCKET_PORT = 7003

SOCKET_UNIT = """[Socket]
ListenStream=127.0.0.1:%d
""" % SOCKET_PORT

ACTIVATED = """services : (
	{ name = "tsock"; port = %d; address = "127.0.0.1";
	  server = "/bin/cat"; log_connections = true; }
);
""" % SOCKET_PORT


def test_socket_unit_starts_superd_on_its_socket(m, deb):
    """A superd.socket unit holds the port while superd is stopped; the
    first client starts superd.service, which serves on the socket it is
    handed (LISTEN_FDS) instead of binding the port itself."""
    installed(m, deb)
    m.write("/etc/superd.d/test.conf", ACTIVATED)
    m.sh("systemctl stop superd")
    m.write("/etc/systemd/system/superd.socket", SOCKET_UNIT)
    m.sh("systemctl daemon-reload && systemctl start superd.socket")
    check(m.unit("superd", "ActiveState")["ActiveState"] == "inactive",
          "superd started before any client came")
    check(echoes(m, SOCKET_PORT), "the client that activated superd was "
          "not served")
    check(m.unit("superd", "ActiveState")["ActiveState"] == "active",
          "the socket unit did not start superd")
    check(echoes(m, SOCKET_PORT), "the next client was not served")
    log = m.journal("superd")
    check("tsock: start pid=" in log, "superd logged no start of tsock: "
          "%s" % log[-2000:])
    check("Address already in use" not in log and "wanted by no" not in log,
          "superd did not take the socket it was handed: %s" % log[-2000:])


def test_purge_stops_and_removes_superd(m, deb):
    """dpkg --purge stops superd, disables its unit and removes its
    configuration and state: its services stop answering."""
    installed(m, deb)
    add_config(m, ECHO)
    m.sh("dpkg --purge superd", timeout=120)
    state = m.unit("superd", "ActiveState", "LoadState")
    check(state["ActiveState"] == "inactive" and
          state["LoadState"] == "not-found",
          "the unit is still there after a purge: %s" % state)
    check(m.sh("pgrep -x superd", check=False).returncode == 1,
          "a superd still runs after a purge")
    check(not echoes(m, ECHO_PORT), "port %d still answers after a purge"
          % ECHO_PORT)
    left = m.sh("ls -d /etc/superd.conf /var/lib/superd 2>/dev/null",
                check=False).stdout.split()
    check(left == [], "the purge left %s" % left)
