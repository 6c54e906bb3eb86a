"""What a started program gets (SPEC section 4), told by report.sh."""

import grp
import os
import pwd
import re
import signal
import socket
import time

from harness import (CANARY_NAME, SERVICE_PATH, Report, Skip, check,
                     connect_unix, ipv6_available, need_root, read_until_eof,
                     service, tag, talk)


def reporter(t, name, **settings):
    """A service running report.sh through /bin/sh."""
    script = t.copy_helper("report.sh")
    return service(name, server="/bin/sh", args=[script], **settings)


def connection_fd(report):
    target = report.fds.get(0, "")
    check(re.fullmatch(r"socket:\[\d+\]", target),
          "fd 0 is %r, not a socket" % target)
    return target


def test_stdin_and_stdout_are_the_connection(t):
    sd = t.start([reporter(t, "conn")])
    r = t.report(sd.port("conn"))
    check(r.stdin == "ping", "the program read %r from fd 0, not the "
          "client's line" % r.stdin)
    check(r.fds.get(1) == connection_fd(r),
          "fd 1 is %r, fd 0 is %r: not the same connection"
          % (r.fds.get(1), r.fds.get(0)))


def test_only_fds_0_1_2_open_in_every_stderr_mode(t):
    modes = ["log", "socket", "null"]
    sd = t.start([reporter(t, "fd_" + m, stderr=m) for m in modes])
    for m in modes:
        r = t.report(sd.port("fd_" + m))
        check(sorted(r.fds) == [0, 1, 2],
              "stderr=%s: open descriptors %s, not only 0 1 2"
              % (m, sorted(r.fds.items())))
        conn = connection_fd(r)
        if m == "socket":
            check(r.fds[2] == conn, "stderr=socket: fd 2 is %r, not the "
                  "connection %r" % (r.fds[2], conn))
        elif m == "null":
            check(r.fds[2] == "/dev/null", "stderr=null: fd 2 is %r, not "
                  "/dev/null" % r.fds[2])
        else:
            check(r.fds[2] not in (conn, "/dev/null"),
                  "stderr=log: fd 2 is %r, not a channel to the log"
                  % r.fds[2])


def test_tcp_environment_is_exact(t):
    # superd's own environment holds a canary, a different PATH and a
    # NOTIFY_SOCKET: none of them may reach the program.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    t.socks.append(notify)
    notify.bind(t.path("notify.sock"))
    sd = t.start([reporter(t, "envsvc",
                           env=["GREETING=hello world", "EMPTY="])],
                 env={"NOTIFY_SOCKET": t.path("notify.sock")})
    port = sd.port("envsvc")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t.socks.append(s)
    client_port = s.getsockname()[1]
    s.sendall(b"ping\n")
    r = Report(read_until_eof(s).decode(), t.path("report.sh"))
    want = {
        "PATH": SERVICE_PATH,
        "GREETING": "hello world",
        "EMPTY": "",
        "PROTO": "TCP",
        "TCPLOCALIP": "127.0.0.1",
        "TCPLOCALPORT": str(port),
        "TCPREMOTEIP": "127.0.0.1",
        "TCPREMOTEPORT": str(client_port),
        "SUPERD_SERVICE": "envsvc",
    }
    check(CANARY_NAME not in r.env, "superd's own environment leaked: %s"
          % CANARY_NAME)
    check("NOTIFY_SOCKET" not in r.env, "NOTIFY_SOCKET leaked")
    check(r.env == want, "environment differs: extra %s, missing or wrong %s"
          % (sorted(set(r.env_list) - {"%s=%s" % kv for kv in want.items()}),
             sorted({"%s=%s" % kv for kv in want.items()} - set(r.env_list))))
    check(len(r.env_list) == len(want), "duplicate environment entries: %s"
          % r.env_list)


def test_ipv4_client_on_dual_stack_listener_is_dotted(t):
    if not ipv6_available():
        raise Skip("no IPv6 on this machine")
    sd = t.start([reporter(t, "dual", address="*")])
    six = [e for e in sd.entries("dual") if e.addr == "::"]
    check(six, "the \"*\" listener has no `::` socket: %s"
          % sd.entries("dual"))
    # An IPv4 client reaches the :: socket when it is dual-stack; when "*"
    # got a separate 0.0.0.0 socket on the same port, that one answers and
    # the addresses must be dotted all the same.
    r = t.report(six[0].port)
    check(r.env.get("TCPREMOTEIP") == "127.0.0.1",
          "TCPREMOTEIP=%r, not 127.0.0.1" % r.env.get("TCPREMOTEIP"))
    check(r.env.get("TCPLOCALIP") == "127.0.0.1",
          "TCPLOCALIP=%r, not 127.0.0.1" % r.env.get("TCPLOCALIP"))


def test_unix_environment_has_peer_credentials(t):
    path = t.path("report.sock")
    sd = t.start([reporter(t, "unixsvc", protocol="unix", path=path)])
    check(sd.unix_path("unixsvc") == path,
          "ports file shows %r, not %r" % (sd.unix_path("unixsvc"), path))
    s = connect_unix(path)
    t.socks.append(s)
    s.sendall(b"ping\n")
    r = Report(read_until_eof(s).decode(), t.path("report.sh"))
    want = {
        "PATH": SERVICE_PATH,
        "PROTO": "UNIX",
        "UNIXREMOTEUID": str(os.getuid()),
        "UNIXREMOTEGID": str(os.getgid()),
        "UNIXREMOTEPID": str(os.getpid()),
        "SUPERD_SERVICE": "unixsvc",
    }
    check(r.env == want, "environment %s, not %s" % (r.env, want))
    check(sorted(r.fds) == [0, 1, 2], "open descriptors %s, not only 0 1 2"
          % sorted(r.fds.items()))


def test_default_directory_argv0_and_args(t):
    script = t.copy_helper("report.sh")
    sd = t.start([
        service("plain", server="/bin/sh", args=[script]),
        service("named", server="/bin/sh", argv0="reporter-zero",
                args=[script, "one two", "three"], chdir=t.dir),
    ])
    r = t.report(sd.port("plain"))
    check(r.cwd == "/", "default directory %r, not /" % r.cwd)
    check(r.args == ["sh", script], "argv %r, not [sh, script]: argv0 "
          "defaults to the basename of server" % r.args)
    r = t.report(sd.port("named"))
    check(r.cwd == t.dir, "chdir: directory %r, not %r" % (r.cwd, t.dir))
    check(r.args == ["reporter-zero", script, "one two", "three"],
          "argv0/args: argv is %r" % r.args)


def test_limits_files_and_nice(t):
    sd = t.start([reporter(t, "limited", limits={"files": 37}, nice=7)])
    r = t.report(sd.port("limited"))
    check(r.nofile == "37", "limits.files = 37: ulimit -n says %s" % r.nofile)
    check(r.nice == 7, "nice = 7: the program runs at nice %d" % r.nice)


# Signals 32 and 33 are the C library's own (glibc and musl reserve them and
# refuse to change their dispositions), so a parent that ignores them, as
# some make programs do, passes that on whatever superd does.
LIBC_SIGNALS = (1 << 31) | (1 << 32)


def test_signals_and_session(t):
    # superd starts with signals ignored and blocked, as it may be from a
    # shell or an init script: the program must get defaults all the same.
    sd = t.start([reporter(t, "sigs")], ignored=["QUIT", "TSTP", "TTOU"],
                 blocked=[signal.SIGUSR2, signal.SIGWINCH])
    r = t.report(sd.port("sigs"))
    blocked = int(r.status["SigBlk"][0], 16)
    ignored = int(r.status["SigIgn"][0], 16) & ~LIBC_SIGNALS
    check(blocked == 0, "signal mask not empty: SigBlk %x" % blocked)
    check(ignored == 0, "ignored signals inherited: SigIgn %x" % ignored)
    check(r.session == r.pid, "the program is not a session leader "
          "(session %d, pid %d)" % (r.session, r.pid))


def test_default_user_is_nobody_when_root(t):
    need_root("switch a service to the default user nobody")
    nobody = pwd.getpwnam("nobody")
    sd = t.start([reporter(t, "who")])
    r = t.report(sd.port("who"))
    uid, gid = str(nobody.pw_uid), str(nobody.pw_gid)
    check(r.status["Uid"] == [uid] * 4, "real/effective/saved/fs uid %s, "
          "not nobody's %s" % (r.status["Uid"], uid))
    check(r.status["Gid"] == [gid] * 4, "real/effective/saved/fs gid %s, "
          "not nobody's %s" % (r.status["Gid"], gid))
    want = sorted(set(os.getgrouplist("nobody", nobody.pw_gid)))
    groups = sorted({int(g) for g in r.status["Groups"]})
    check(groups == want, "supplementary groups %s, not nobody's %s"
          % (groups, want))


def test_group_lookup_leaves_no_nss_module_in_superd(t):
    # Listing a user's groups loads every NSS module configured for groups
    # (libnss_systemd on Debian); superd looks them up in a process of its
    # own so that none of them stays in superd (ident.c).
    need_root("switch a service to the user root")
    sd = t.start([reporter(t, "asroot", user="root")])
    r = t.report(sd.port("asroot"))
    want = sorted(set(os.getgrouplist("root", 0)))
    groups = sorted({int(g) for g in r.status["Groups"]})
    check(groups == want, "supplementary groups %s, not root's %s"
          % (groups, want))
    with open("/proc/%d/maps" % sd.pid) as f:
        modules = sorted({ln.split()[-1] for ln in f if "libnss_" in ln})
    check(not modules, "superd loaded %s" % modules)


def test_configured_user_and_group(t):
    need_root("switch a service to another user")
    try:
        daemon = pwd.getpwnam("daemon")
        nogroup = grp.getgrnam("nogroup")
    except KeyError:
        raise Skip("no user `daemon` or no group `nogroup` on this machine")
    sd = t.start([reporter(t, "asdaemon", user="daemon", group="nogroup")])
    r = t.report(sd.port("asdaemon"))
    check(r.status["Uid"] == [str(daemon.pw_uid)] * 4,
          "user = daemon: uids %s" % r.status["Uid"])
    check(r.status["Gid"] == [str(nogroup.gr_gid)] * 4,
          "group = nogroup: gids %s" % r.status["Gid"])
    check("0" not in r.status["Groups"], "root's group 0 kept: %s"
          % r.status["Groups"])


def test_missing_program_is_logged_and_client_closed(t):
    gone = t.script("gone.sh", "echo should-not-run\n")
    sd = t.start([service("gone", server=gone),
                  service("fine", server="/bin/echo", args=["fine"])])
    os.unlink(gone)
    mark = sd.mark()
    start = time.monotonic()
    data = talk(sd.port("gone"))
    check(data == b"", "the client of a missing program got %r" % data)
    check(time.monotonic() - start < 3, "the client was not closed at once")
    sd.wait_log(tag("gone") + r".*(?i:no such file|not found|cannot|can't|"
                r"fail|error|exec)", mark, what="naming `gone` and the "
                "failure to start it")
    sd.check_alive("after a program could not be started")
    check(talk(sd.port("fine")) == b"fine\n",
          "another service no longer answers")
    t.script("gone.sh", "echo back\n")
    check(talk(sd.port("gone")) == b"back\n",
          "the service does not recover once its program is back")


def test_started_with_fds_0_1_2_closed(t):
    # superd's own first descriptors then fall on 0, 1 and 2: handing the
    # connection to a program must still leave it exactly on 0 and 1.
    sd = t.start([reporter(t, "closedstd")], mode="-F", closed_std=True)
    r = t.report(sd.port("closedstd"))
    check(r.stdin == "ping", "fd 0 is not the connection: read %r" % r.stdin)
    check(r.fds.get(1) == connection_fd(r), "fd 1 %r is not the connection "
          "%r" % (r.fds.get(1), r.fds.get(0)))
    check(sorted(r.fds) == [0, 1, 2], "open descriptors %s, not only 0 1 2"
          % sorted(r.fds.items()))
