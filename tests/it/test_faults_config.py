"""Fault cases 1-17 of tests/FAULTS.md: configuration and start-up."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import faultkit
import harness
from faultkit import Notify, idle_cpu
from harness import (Skip, check, connect, limit, need_root, pid_alive,
                     read_line, read_until_eof, render, service, service_line,
                     tag, talk, wait_for)


def echo(name, word="ok", **kw):
    return service(name, server="/bin/echo", args=[word], **kw)


def free_port():
    """A TCP and UDP port nobody uses on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise Skip("no free port found")


def refused(port):
    try:
        connect(port, timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def check_rejected(t, conf, want, what):
    """superd -t and a real start both reject conf with exit 1, the
    messages in want (regexes) on stderr, no pid file, nothing bound."""
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "%s: superd -t exited %d, not 1 (stderr %r)"
          % (what, rc, err[-300:]))
    for w in want:
        check(re.search(w, err, re.M), "%s: superd -t did not say /%s/: %r"
              % (what, w, err[-400:]))
    pidfile, ports = t.path("rej.pid"), t.path("rej.ports")
    rc, out, err = t.run_superd(["-d", "-f", conf, "-p", pidfile,
                                 "-P", ports])
    check(rc == 1, "%s: superd exited %d at start, not 1" % (what, rc))
    for w in want:
        check(re.search(w, err, re.M), "%s: starting superd did not say "
              "/%s/: %r" % (what, w, err[-400:]))
    check(not os.path.exists(pidfile), "%s: a pid file was left" % what)
    check(not os.path.exists(ports), "%s: a ports file was written" % what)
    check("listening on" not in err, "%s: superd opened a listener before "
          "rejecting the file: %r" % (what, err[-300:]))


# -- 1 ----------------------------------------------------------------------

def test_malformed_files_rejected_with_line_before_binding(t):
    port = free_port()
    good = ('  { name = "first"; address = "127.0.0.1"; port = %d; '
            'server = "/bin/echo"; },\n' % port)
    cases = {
        # a list element without the comma before the next one
        "separator": ('services : (\n' + good.rstrip(",\n") + '\n'
                      '  { name = "b"; address = "127.0.0.1"; port = 0; '
                      'server = "/bin/echo"; }\n);\n', 3),
        # a group never closed
        "brace": ('services : (\n' + good +
                  '  { name = "b"; address = "127.0.0.1"; port = 0;\n'
                  ');\n', 4),
        # a string that never ends
        "string": ('services : (\n' + good + '  { name = "b', 3),
    }
    for what, (text, line) in cases.items():
        conf = t.write(what + ".conf", text)
        check_rejected(t, conf, [r"^%s:%d: syntax error$" % (re.escape(conf),
                                                             line)], what)
        check(refused(port), "%s: port %d of the file's good service "
              "accepts" % (what, port))


# -- 2 ----------------------------------------------------------------------

def test_broken_reload_keeps_everything_and_tells_systemd(t):
    n = Notify(t)
    holder = service("hold", server="/bin/sh",
                     args=["-c", 'echo $$; read x; echo "bye $x"'])
    sd = t.start([holder, echo("kept", "k")], env={"NOTIFY_SOCKET": n.path})
    n.expect("READY=1")
    port = sd.port("kept")
    inode = faultkit.listener_inode(sd, port)
    s = connect(sd.port("hold"))
    t.socks.append(s)
    pid = int(read_line(s))
    ports_before = sd.ports_text()
    mark = sd.mark()
    sd.rewrite_text(render([holder, echo("kept", "k")]).replace(
        '"kept";', '"kept"; colour = "red";', 1))
    sd.signal(signal.SIGHUP)
    fields = n.wait(lambda fs: "READY=1" in fs, "READY=1 after the reload")
    states = [f for m in n.seen for f in m]
    check("RELOADING=1" in states[states.index("READY=1") + 1:],
          "no RELOADING=1 before the READY=1 of the reload: %s" % n.seen)
    status = [f for f in fields if f.startswith("STATUS=")]
    check(status and re.search(r"(?i)reject|fail|error|keep", status[0]),
          "READY=1 of a rejected reload carries no STATUS saying so: %s"
          % fields)
    sd.wait_log(re.escape(sd.conf) + r':3: unknown setting "colour"', mark,
                what="FILE:LINE of the broken setting")
    check(faultkit.listener_inode(sd, port) == inode,
          "the listener of `kept` was replaced by a rejected reload")
    check(sd.ports_text() == ports_before, "the ports file changed")
    check(pid_alive(pid), "the running instance was killed")
    s.sendall(b"x\n")
    check(read_until_eof(s) == b"bye x\n", "the running instance's client "
          "was disturbed")
    check(talk(port) == b"k\n", "the old service does not answer")


# -- 3 ----------------------------------------------------------------------

def test_duplicate_name_across_include_dir_names_both(t):
    inc = t.path("inc.d")
    os.mkdir(inc, 0o755)
    superd = {"include": inc}
    conf = t.conf([echo("twice", "main"), echo("other")], superd)
    t.write("inc.d/10-more.conf", 'services : (\n'
            '  { name = "twice"; address = "127.0.0.1"; port = 0;\n'
            '    server = "/bin/echo"; }\n);\n')
    first = "%s:%d" % (conf, service_line(0, superd))
    check_rejected(t, conf, [
        r"%s:2: duplicate service name \"twice\" \(first at %s\)"
        % (re.escape(os.path.join(inc, "10-more.conf")), re.escape(first))],
        "duplicate across files")
    # The same file brought in by a reload: the old set goes on.
    os.rename(os.path.join(inc, "10-more.conf"), t.path("more.conf.off"))
    sd = t.start([echo("twice", "main"), echo("other")], superd)
    before = sd.ports_text()
    mark = sd.mark()
    os.rename(t.path("more.conf.off"), os.path.join(inc, "10-more.conf"))
    sd.signal(signal.SIGHUP)
    sd.wait_log(r"duplicate service name \"twice\"", mark)
    sd.wait_log(r"reload of .* failed", mark)
    check(sd.ports_text() == before, "the ports file changed")
    check(talk(sd.port("twice")) == b"main\n", "the old `twice` stopped")


# -- 4 ----------------------------------------------------------------------

def test_same_address_and_port_rejected_tcp_and_udp_may_share(t):
    port = free_port()
    a = echo("a", port=port)
    b = echo("b", address="*", port=port)       # "*" covers 127.0.0.1 too
    conf = t.conf([a, b])
    check_rejected(t, conf, [r"^%s:3: service \"b\" .*clashes with service "
                             r"\"a\"" % re.escape(conf)], "tcp clash")
    check(refused(port), "port %d bound by a rejected file" % port)
    # tcp and udp on the same port are two sockets, no clash.
    sd = t.start([echo("st", port=port),
                  service("su", protocol="udp", builtin="echo", port=port)])
    check(sd.port("st") == port and sd.port("su", "udp") == port,
          "tcp and udp on port %d: %s" % (port, sd.ports()))
    check(talk(port) == b"ok\n", "the tcp service does not answer")


# -- 5 ----------------------------------------------------------------------

def test_busy_port_others_start_and_ready_sent(t):
    blocker = socket.socket()
    t.socks.append(blocker)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    n = Notify(t)
    sd = t.start([echo("busy", "b", port=port), echo("free", "f")],
                 env={"NOTIFY_SOCKET": n.path}, wait=[("free", "tcp")])
    n.expect("READY=1")
    sd.wait_log(tag("busy") + r": cannot listen on tcp 127\.0\.0\.1 port %d"
                r".*retrying every 10 s" % port, what="the busy listener "
                "logged with its retry")
    check(talk(sd.port("free")) == b"f\n", "the other service does not run")
    check(not sd.entries("busy"), "ports file lists the listener that "
          "could not open")


# -- 6 ----------------------------------------------------------------------

def test_unknown_user_is_a_config_error_with_line(t):
    svcs = [echo("a"), echo("b", user="no-such-user-superd"),
            echo("c", group="no-such-group-superd")]
    conf = t.conf(svcs)
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "superd -t exited %d, not 1" % rc)
    check(re.search(r"%s:3: unknown user \"no-such-user-superd\""
                    % re.escape(conf), err), "no FILE:3 unknown user: %r"
          % err)
    if os.geteuid() == 0:
        check(re.search(r"%s:4: unknown group \"no-such-group-superd\""
                        % re.escape(conf), err),
              "no FILE:4 unknown group: %r" % err)


@limit(20)
def test_user_deleted_after_start_is_refused_never_root(t):
    need_root("bind-mount a private /etc/passwd in a mount namespace")
    unshare = shutil.which("unshare")
    if unshare is None:
        raise Skip("unshare (util-linux) is not installed")
    with open("/etc/passwd") as f:
        base = f.read()
    if not base.endswith("\n"):
        base += "\n"
    passwd = t.write("passwd", base + "superdgone:x:47114:47114:gone:"
                     "/nonexistent:/usr/sbin/nologin\n")
    # superd sees the copy as /etc/passwd; the test edits it in place (the
    # bind mount follows the inode), as userdel would edit the real one.
    prefix = [unshare, "--mount", "--propagation", "private", "/bin/sh",
              "-c", 'mount --bind "$0" /etc/passwd && exec "$@"', passwd]
    svc = service("asgone", server="/bin/sh", user="superdgone",
                  args=["-c", "id -u"])
    try:
        sd = faultkit.start_hooked(t, [svc, echo("other", "o")],
                                   prefix=prefix)
    except Exception:
        log = open(t.path("superd.log"), "rb").read()
        if b"unshare" in log or b"mount" in log:
            raise Skip("no private mount namespace here: %r" % log[-200:])
        raise
    check(talk(sd.port("asgone")) == b"47114\n",
          "the service does not run as the configured user")
    with open(passwd, "r+") as f:
        f.write(base)
        f.truncate()
    time.sleep(1.2)     # superd looks at the account files once a second
    mark = sd.mark()
    data = talk(sd.port("asgone"))
    check(data == b"", "a service whose user is gone answered %r (ran as "
          "someone else)" % data)
    sd.wait_log(tag("asgone") + r": cannot start /bin/sh: user superdgone",
                mark, what="the missing user logged")
    check(not sd.find_log(tag("asgone") + r": start pid=", mark),
          "an instance was started without its user")
    check(talk(sd.port("other")) == b"o\n", "another service stopped")
    sd.check_alive("after refusing a deleted user")


# -- 7, 8 -------------------------------------------------------------------

def test_bad_ports_and_unknown_service_names_have_lines(t):
    bad = [("65536", 65536), ("minus one", -1), ("string 70000", "70000"),
           ("float", 7), ("bool", True),
           ("string 2^32+7", "4294967303"), ("unknown name", "nosuch-superd")]
    svcs = []
    for i, (_, port) in enumerate(bad):
        svcs.append(echo("p%d" % i, port=port))
    # no port, and a name /etc/services does not know
    nameless = echo("x")
    del nameless["port"]
    nameless["name"] = "nosuch-superd-svc"
    svcs.append(nameless)
    svcs.append(echo("dynamic", port=0))        # 0: the kernel chooses
    text = render(svcs).replace("port = 7;", "port = 7.0;")
    conf = t.write("ports.conf", text)
    check("port = 7.0;" in text, "test bug: no float port in the file")
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "superd -t exited %d on bad ports, not 1" % rc)
    for i, (what, _) in enumerate(bad + [("no port", None)]):
        line = service_line(i)
        check(re.search(r"^%s:%d: " % (re.escape(conf), line), err, re.M),
              "port %s: no error at line %d: %r" % (what, line, err))
    check(not re.search(r"^%s:%d: " % (re.escape(conf),
                                      service_line(len(svcs) - 1)), err,
                        re.M), "port = 0 was reported as an error: %r" % err)


# -- 9 ----------------------------------------------------------------------

def test_unusable_programs_reported_by_check(t):
    script = t.script("noexec.sh", "echo no\n")
    os.chmod(script, 0o644)
    svcs = [service("missing", server=t.path("no-such-program")),
            service("noexec", server=script),
            service("dir", server=t.dir),
            service("relative", server="bin/echo")]
    conf = t.conf(svcs)
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "superd -t exited %d, not 1" % rc)
    for i, name in enumerate(["missing", "noexec", "dir", "relative"]):
        check(re.search(r"^%s:%d: server " % (re.escape(conf),
                                             service_line(i)), err, re.M),
              "%s program not reported at its line: %r" % (name, err))


def test_program_gone_at_run_time_exits_127_or_126(t):
    gone = t.script("gone.sh", "echo here\n")
    noexec = t.script("noexec.sh", "echo here\n")
    sd = t.start([service("gone", server=gone),
                  service("noexec", server=noexec)])
    os.unlink(gone)
    os.chmod(noexec, 0o644)
    mark = sd.mark()
    for name in ("gone", "noexec"):
        started = time.monotonic()
        check(talk(sd.port(name)) == b"", "%s: the client got data" % name)
        check(time.monotonic() - started < 3, "%s: the client was not closed "
              "at once" % name)
    sd.wait_log(tag("gone") + r": cannot start .*execve: No such file or "
                r"directory", mark)
    sd.wait_log(tag("gone") + r": exit pid=\d+ status=127\b", mark)
    sd.wait_log(tag("noexec") + r": cannot start .*execve: Permission denied",
                mark)
    sd.wait_log(tag("noexec") + r": exit pid=\d+ status=126\b", mark)
    faultkit.wait_no_children(sd, "after the failed starts")


# -- 10 ---------------------------------------------------------------------

def test_group_writable_or_foreign_files_rejected_as_root(t):
    need_root("apply the ownership and mode rules superd applies as root")
    inc = t.path("inc.d")
    os.mkdir(inc, 0o755)
    conf = t.conf([echo("a")], {"include": inc})
    part = t.write("inc.d/10-part.conf", 'services : ( );\n')
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0, "the good files are refused: %r" % err)
    os.chmod(conf, 0o664)
    check_rejected(t, conf, [r"^%s: mode 0664 is writable by group or "
                             r"others" % re.escape(conf)], "mode 0664")
    os.chmod(conf, 0o644)
    os.chmod(part, 0o646)
    check_rejected(t, conf, [r"^%s: mode 0646 is writable by group or "
                             r"others" % re.escape(part)], "include 0646")
    os.chmod(part, 0o644)
    uid, _ = faultkit.nobody_ids()
    os.chown(part, uid, 0)
    check_rejected(t, conf, [r"^%s: owned by uid %d, not by root"
                             % (re.escape(part), uid)], "include not root's")


# -- 11 ---------------------------------------------------------------------

def test_missing_or_unreadable_file(t):
    missing = t.path("no-such.conf")
    rc, _, err = t.run_superd(["-d", "-f", missing, "-p", "",
                               "-P", t.path("m.ports")])
    check(rc == 1, "superd exited %d on a missing file, not 1" % rc)
    check("%s: No such file or directory" % missing in err,
          "stderr does not say `FILE: No such file or directory`: %r" % err)
    if os.geteuid() == 0:
        # Root reads any file: ask as nobody instead.
        secret = t.conf([echo("a")], name="secret.conf")
        os.chmod(secret, 0o600)
        uid, gid = faultkit.nobody_ids()
        p = subprocess.run([harness.SUPERD, "-t", "-f", secret],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10, user=uid, group=gid, extra_groups=[])
        check(p.returncode == 1, "an unreadable file: exit %d, not 1"
              % p.returncode)
        check(b"Permission denied" in p.stderr, "an unreadable file: %r"
              % p.stderr)
    # Reload with the file gone: the running set stays.
    sd = t.start([echo("stays", "s")])
    before = sd.ports_text()
    mark = sd.mark()
    os.rename(sd.conf, sd.conf + ".away")
    sd.signal(signal.SIGHUP)
    sd.wait_log(re.escape(sd.conf) + r": No such file or directory", mark)
    sd.wait_log(r"reload of .* failed", mark)
    check(sd.ports_text() == before, "the ports file changed")
    check(talk(sd.port("stays")) == b"s\n", "the old service stopped")


# -- 12 ---------------------------------------------------------------------

def test_include_of_directory_or_itself_rejected_and_survived(t):
    sd = t.start([echo("stays", "s")])
    good = open(sd.conf).read()
    os.mkdir(t.path("adir"), 0o755)
    # An @include is relative to the including file's directory.
    me = os.path.basename(sd.conf)
    cases = [
        ("directory", '@include "adir"\n' + good,
         r":1: @include .*not a regular file"),
        ("itself", '@include "%s"\n' % me + good,
         r":1: @include .*nested more than 10 deep"),
    ]
    for what, text, want in cases:
        # The same text as a file of its own for -t (including itself
        # under its own name).
        copy = t.path(what + ".conf")
        t.write(what + ".conf", text.replace(me, what + ".conf"))
        rc, _, err = t.run_superd(["-t", "-f", copy])
        check(rc == 1 and re.search(want, err), "@include of %s: -t exit %d, "
              "%r" % (what, rc, err[-300:]))
        mark = sd.mark()
        sd.rewrite_text(text)
        sd.signal(signal.SIGHUP)
        sd.wait_log(want, mark, what="@include of %s rejected" % what)
        sd.check_alive("after a reload with an @include of %s" % what)
        check(talk(sd.port("stays")) == b"s\n", "@include of %s: the old "
              "service stopped" % what)


# -- 13 ---------------------------------------------------------------------

@limit(30)
def test_huge_and_binary_files_rejected_quickly(t):
    huge = t.path("huge.conf")
    with open(huge, "w") as f:
        chunk = ("# " + "x" * 1021 + "\n") * 1024
        for _ in range(10):             # 10 MiB
            f.write(chunk)
    line = t.write("line.conf", "services : ( );\n" + "y" * (1 << 20) + " = ;\n")
    garbage = t.path("garbage.conf")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 131 + 7) % 255 + 1 for i in range(100000)))
    nul = t.path("nul.conf")
    with open(nul, "wb") as f:
        f.write(b"services : ( );\n\0\0\0binary\n")
    cases = [(huge, r"larger than \d+ MiB"), (line, r":2: syntax error"),
             (garbage, r"syntax error"), (nul, r"NUL byte")]
    for path, want in cases:
        started = time.monotonic()
        rc, _, err = t.run_superd(["-t", "-f", path], timeout=10)
        took = time.monotonic() - started
        check(rc == 1, "%s: exit %d, not 1 (stderr %r)"
              % (os.path.basename(path), rc, err[-200:]))
        check(re.search(re.escape(path) + r".*" + want, err),
              "%s: no message /%s/: %r" % (os.path.basename(path), want,
                                           err[-200:]))
        check(took < 5, "%s: rejected only after %.1f s"
              % (os.path.basename(path), took))
    # A reload meeting such a file keeps the running configuration.
    sd = t.start([echo("stays", "s")])
    for path, want in cases:
        mark = sd.mark()
        shutil.copyfile(path, sd.conf)
        sd.signal(signal.SIGHUP)
        sd.wait_log(want, mark, timeout=8)
        sd.check_alive("after reloading %s" % os.path.basename(path))
    check(talk(sd.port("stays")) == b"s\n", "the old service stopped")


# -- 15 ---------------------------------------------------------------------

def test_no_enabled_service_ready_idle_and_exit_0(t):
    n = Notify(t)
    sd = t.start([echo("off", disabled=True)], wait=[],
                 env={"NOTIFY_SOCKET": n.path})
    n.expect("READY=1")
    sd.wait_log(r"\b0 services\b", what="counting 0 services")
    used = idle_cpu(sd.pid, 1.0)
    check(used <= 0.05, "superd with nothing to do used %.2f s of CPU in "
          "1 s" % used)
    sd.signal(signal.SIGTERM)
    check(sd.wait_exit() == 0, "superd did not exit 0 on SIGTERM")


# -- inetd.conf lines superd cannot serve (Sun RPC, other socket types) ------

def inetd_user():
    import pwd
    return "nobody" if harness.is_root() else pwd.getpwuid(os.geteuid()).pw_name


def test_inetd_conf_lines_not_served_are_skipped_never_fatal(t):
    """What update-inetd adds for rstatd, rusersd or rwalld: `rpc/udp`
    lines.  -t warns with FILE:LINE and says ok; superd starts and serves
    the rest; a reload bringing another such line applies the rest too."""
    user = inetd_user()
    p1, p2 = free_port(), free_port()
    rpc = ("rstatd/1-5\tdgram\trpc/udp\twait\t%s\t/usr/sbin/tcpd\t"
           "/usr/sbin/rpc.rstatd\n" % user)
    served = "%d\tstream\ttcp\tnowait\t%s\t/bin/echo\techo\tfrom-inetd\n"
    inetd = t.write("inetd.conf", rpc + served % (p1, user))
    conf = t.conf([echo("main")], {"address": "127.0.0.1",
                                   "inetd_conf": inetd})
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0 and ": ok, 2 services" in out,
          "-t exited %d, stdout %r, stderr %r" % (rc, out, err))
    check(re.search(r"warning: .*inetd\.conf:1: Sun RPC .*rpc/udp.*skipped",
                    err), "-t gave no warning naming inetd.conf:1: %r" % err)
    sd = t.start(conf=conf, wait=[("main", "tcp"), (str(p1), "tcp")])
    sd.wait_log(r"inetd\.conf:1: Sun RPC .*skipped")
    check(talk(p1) == b"from-inetd\n", "the served inetd.conf line")
    # The next package adds its line, and a new service comes with it.
    t.write("inetd.conf", rpc + served % (p1, user) +
            "rusersd/2-3\tdgram\trpc/udp\twait\t%s\t/usr/sbin/tcpd\t"
            "/usr/sbin/rpc.rusersd\n" % user +
            "x\tseqpacket\ttcp\tnowait\t%s\tinternal\n" % user +
            served % (p2, user))
    mark = sd.mark()
    sd.reload()
    check(not sd.find_log(r"reload of .* failed", mark),
          "the reload was refused: %s" % sd.log()[mark:])
    sd.wait_log(r"inetd\.conf:3: Sun RPC .*skipped", mark)
    sd.wait_log(r"inetd\.conf:4: socket type \"seqpacket\" .*skipped", mark)
    check(talk(p2) == b"from-inetd\n", "the line added with the reload")
    check(talk(p1) == b"from-inetd\n", "the line kept")
    # A malformed line stays an error: the running set is kept.
    t.write("inetd.conf", rpc + "broken-line stream\n")
    mark = sd.mark()
    sd.signal(signal.SIGHUP)
    sd.wait_log(r"inetd\.conf:2: .*fields", mark)
    check(talk(p2) == b"from-inetd\n", "a broken reload kept the services")


# -- a reload that runs out of memory -----------------------------------------

def failalloc_library(t):
    """tests/it/failalloc.c built for this test, or Skip saying why."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise Skip("no C compiler to build the allocation-failing library")
    ldd = subprocess.run(["ldd", harness.SUPERD], capture_output=True,
                         text=True)
    if "libasan" in ldd.stdout:
        raise Skip("AddressSanitizer's allocator must come first: no "
                   "LD_PRELOAD library can stand in front of it")
    lib = t.path("failalloc.so")
    r = subprocess.run([cc, "-shared", "-fPIC", "-o", lib,
                        os.path.join(harness.HERE, "failalloc.c"), "-ldl"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Skip("could not build failalloc.so: %s" % r.stderr[-300:])
    return lib


def test_reload_out_of_memory_keeps_running_configuration(t):
    """While the trigger file exists, every allocation superd's own code
    makes fails: a reload then fails like a bad file, logged, and the
    running services go on; once memory is back the reload applies."""
    lib = failalloc_library(t)
    trigger = t.path("no-memory")
    sd = t.start([echo("kept", "kept")],
                 env={"LD_PRELOAD": lib, "FAILALLOC_WHEN": trigger})
    port = sd.port("kept")
    sd.rewrite([echo("kept", "kept"), echo("added", "added")])
    with open(trigger, "w"):
        pass
    mark = sd.mark()
    sd.signal(signal.SIGHUP)
    sd.wait_log(r"reload of .* failed: .*(memory|errors), keeping the "
                r"running configuration", mark)
    os.unlink(trigger)
    check(sd.alive(), "superd exited on a reload without memory")
    check(talk(port) == b"kept\n", "the running service after the reload")
    check("added" not in sd.ports_text(), "the failed reload added a service")
    sd.reload()
    wait_for(lambda: "added" in sd.ports_text(), 5,
             "the service added by the next reload")
    check(talk(sd.port("added")) == b"added\n", "the added service")
