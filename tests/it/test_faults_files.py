"""Files superd (and greeting) create, write or read where another user
may have a hand: UNIX socket nodes, the pid file, the ports file, the
include directory and inetd.conf's directory, greeting's state file
(tests/FAULTS.md cases 10, 49, 50, 61 and 62)."""

import glob
import os
import pwd
import re
import signal
import stat
import subprocess
import time

import faultkit
from harness import (HERE, Fail, Skip, check, connect_unix, is_root, limit,
                     need_root, python3, read_until_eof, service, tag, talk)
from test_faults_config import check_rejected

TOP = os.path.dirname(os.path.dirname(HERE))


def echo(name, word="ok", **kw):
    return service(name, server="/bin/echo", args=[word], **kw)


def secret_file(t, name):
    """A file of superd's own user, mode 0600, that nothing may touch."""
    return t.write(name, "secret\n", 0o600)


def check_untouched(path, what):
    st = os.lstat(path)
    check(stat.S_ISREG(st.st_mode), "%s: %s is no longer a regular file"
          % (what, path))
    check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid(),
          "%s: %s became mode %04o, uid %d" % (what, path,
                                               stat.S_IMODE(st.st_mode),
                                               st.st_uid))
    with open(path) as f:
        text = f.read()
    check(text == "secret\n", "%s: %s was written: %r" % (what, path,
                                                          text[:200]))


def umask_of(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^Umask:\s+([0-7]+)", f.read(), re.M)
    check(m, "no Umask line for process %d" % pid)
    return int(m.group(1), 8)


def mode_owner(path):
    st = os.lstat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid


def lock_holder(path, preexec=None):
    """A process that holds an exclusive flock on path, opened read-only
    (all it takes); it has the lock when this returns.  Kill it when done."""
    holder = subprocess.Popen(
        [python3(), "-c",
         "import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(60)\n", path],
        stdout=subprocess.PIPE, preexec_fn=preexec)
    if holder.stdout.readline() != b"locked\n":
        holder.kill()
        holder.wait()
        raise Fail("the holder could not lock %s" % path)
    return holder


# -- 49: UNIX socket mode and owner ------------------------------------------

def test_unix_socket_mode_and_owner_set_on_the_fresh_socket(t):
    need_root("give a socket to nobody")
    uid, _ = faultkit.nobody_ids()
    one, two = t.path("one.sock"), t.path("two.sock")
    # superd's own umask 077 must neither leak into the sockets' modes nor
    # be lost to the umask it binds with.
    sd = faultkit.start_hooked(
        t, [echo("one", protocol="unix", path=one, socket_mode="0640",
                 socket_owner="nobody"),
            echo("two", protocol="unix", path=two)],
        popen={"umask": 0o077})
    check(mode_owner(one) == (0o640, uid), "one.sock is mode %04o uid %d, "
          "not 0640 nobody" % mode_owner(one))
    check(mode_owner(two) == (0o666, 0), "two.sock is mode %04o uid %d, "
          "not the default 0666 root" % mode_owner(two))
    check(umask_of(sd.pid) == 0o077, "superd's umask is %04o after binding, "
          "not the 077 it started with" % umask_of(sd.pid))
    s = connect_unix(one)
    check(read_until_eof(s) == b"ok\n", "one.sock does not serve")
    s.close()


def test_unix_socket_replaced_by_a_link_is_left_alone_on_reload(t):
    need_root("give a socket to nobody")
    uid, _ = faultkit.nobody_ids()
    path, kept = t.path("svc.sock"), t.path("kept.sock")
    target = secret_file(t, "target")

    def conf(mode):
        return [echo("svc", protocol="unix", path=path, socket_mode=mode,
                     socket_owner="nobody"),
                echo("kept", protocol="unix", path=kept, socket_mode=mode)]

    sd = t.start(conf("0666"))
    check(mode_owner(path) == (0o666, uid), "svc.sock is mode %04o uid %d, "
          "not 0666 nobody" % mode_owner(path))
    # Whoever can write the directory swaps the socket for a link to a
    # file of root's; the next reload wants to change the mode.
    os.unlink(path)
    os.symlink(target, path)
    sd.rewrite(conf("0660"))
    mark = sd.mark()
    sd.reload()
    check_untouched(target, "after the reload")
    sd.wait_log(tag("svc") + r": %s is no longer the socket superd bound"
                % re.escape(path), mark)
    check(os.path.islink(path), "the link planted at the socket's path is "
          "gone")
    # The socket that is still superd's takes the new mode.
    check(mode_owner(kept) == (0o660, 0), "kept.sock is mode %04o uid %d "
          "after the reload, not 0660 root" % mode_owner(kept))
    s = connect_unix(kept)
    check(read_until_eof(s) == b"ok\n", "kept.sock does not serve")
    s.close()
    sd.signal(signal.SIGTERM)
    check(sd.wait_exit() == 0, "superd did not exit 0 on SIGTERM")
    check(os.path.islink(path), "stopping removed the link planted at the "
          "socket's path")
    check(not os.path.exists(kept), "stopping left kept.sock")
    check_untouched(target, "after the stop")


# -- 50: pid file and ports file ---------------------------------------------

def run_pidfile(t, pidfile, timeout=4):
    """superd -d with this pid file: must exit at once."""
    conf = t.conf([echo("p")], name="p.conf")
    return t.run_superd(["-d", "-f", conf, "-p", pidfile,
                         "-P", t.path("p.ports")], timeout=timeout)


def test_pidfile_through_a_symbolic_link_refused(t):
    target = secret_file(t, "target")
    pidfile = t.path("superd.pid")
    os.symlink(target, pidfile)
    rc, _, err = run_pidfile(t, pidfile)
    check(rc == 3, "a pid file that is a link: exit %d, not 3 (stderr %r)"
          % (rc, err[-300:]))
    check(re.search(r"^superd: %s: is a symbolic link" % re.escape(pidfile),
                    err, re.M), "no message naming the link: %r"
          % err[-300:])
    check_untouched(target, "the link's target")


def test_pidfile_of_another_user_refused(t):
    need_root("give the pid file to nobody")
    uid, gid = faultkit.nobody_ids()
    pidfile = t.write("superd.pid", "1\n", 0o644)
    os.chown(pidfile, uid, gid)
    rc, _, err = run_pidfile(t, pidfile)
    check(rc == 3, "a pid file of nobody's: exit %d, not 3 (stderr %r)"
          % (rc, err[-300:]))
    check(re.search(r"^superd: %s: owned by uid %d, not by superd's uid 0"
                    % (re.escape(pidfile), uid), err, re.M),
          "no message naming the owner: %r" % err[-300:])
    with open(pidfile) as f:
        check(f.read() == "1\n", "the pid file was written")
    nfifo = t.path("fifo.pid")
    os.mkfifo(nfifo, 0o644)
    rc, _, err = run_pidfile(t, nfifo)
    check(rc == 3 and "not a regular file" in err,
          "a FIFO as pid file: exit %d, %r" % (rc, err[-300:]))


def test_pidfile_hard_link_refused(t):
    """A hard link to root's file planted as the pid file (possible for
    others where fs.protected_hardlinks is 0): refused, the file kept."""
    victim = t.write("victim", "root's own\n", 0o600)
    pidfile = t.path("superd.pid")
    os.link(victim, pidfile)
    rc, _, err = run_pidfile(t, pidfile)
    check(rc == 3, "a hard-linked pid file: exit %d, not 3 (stderr %r)"
          % (rc, err[-300:]))
    check(re.search(r"^superd: %s: has 2 links, not 1" % re.escape(pidfile),
                    err, re.M), "no message naming the links: %r"
          % err[-300:])
    with open(victim) as f:
        check(f.read() == "root's own\n", "the linked file was written")


def test_pidfile_locked_by_another_user_names_the_holder(t):
    need_root("lock the pid file as nobody")
    uid, gid = faultkit.nobody_ids()
    pidfile = t.write("superd.pid", "", 0o644)

    def as_nobody():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    holder = lock_holder(pidfile, as_nobody)
    try:
        rc, _, err = run_pidfile(t, pidfile)
    finally:
        holder.kill()
        holder.wait()
    check(rc == 3, "a pid file locked by nobody: exit %d, not 3 (stderr %r)"
          % (rc, err[-300:]))
    check(re.search(r"^superd: %s: locked by pid %d \(uid %d, "
                    % (re.escape(pidfile), holder.pid, uid), err, re.M),
          "the message does not name the holder, pid %d uid %d: %r"
          % (holder.pid, uid, err[-300:]))


def test_ports_file_temporary_name_cannot_be_planted(t):
    ports = t.path("superd.ports")
    sd = faultkit.start_hooked(t, [echo("a")], ports=ports,
                               popen={"umask": 0o077})
    # The name the ports file's temporary file had: PATH.PID.tmp.
    planted = "%s.%d.tmp" % (ports, sd.pid)
    target = secret_file(t, "target")
    os.symlink(target, planted)
    sd.reload()
    check_untouched(target, "the planted link's target")
    check(os.path.islink(planted), "the planted link is gone")
    check([e.name for e in sd.ports()] == ["a"], "the ports file lists %s"
          % sd.ports())
    st = os.lstat(ports)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644,
          "the ports file is mode %o, not a regular file of mode 0644 "
          "(superd runs with umask 077)" % st.st_mode)
    left = sorted(set(glob.glob(ports + ".*")) - {planted})
    check(not left, "temporary files left: %s" % left)


# -- 61: directories ---------------------------------------------------------

def test_include_directory_writable_by_others_rejected(t):
    need_root("apply the ownership and mode rules superd applies as root")
    inc = t.path("inc.d")
    os.mkdir(inc)
    t.write("inc.d/10-a.conf", "services : ( %s );\n"
            % "{ name = \"a\"; address = \"127.0.0.1\"; port = 0; "
              "server = \"/bin/echo\"; }")
    conf = t.conf([echo("main")], {"include": inc})
    for mode, why in ((0o777, "mode 0777 is writable by group or others"),
                      (0o775, "mode 0775 is writable by group or others")):
        os.chmod(inc, mode)
        check_rejected(t, conf, [r"^%s:1: include \"%s\": directory %s"
                                 % (re.escape(conf), re.escape(inc), why)],
                       "include directory %04o" % mode)
    os.chmod(inc, 0o755)
    uid, _ = faultkit.nobody_ids()
    os.chown(inc, uid, 0)
    check_rejected(t, conf, [r"^%s:1: include \"%s\": directory owned by "
                             r"uid %d, not by root"
                             % (re.escape(conf), re.escape(inc), uid)],
                   "include directory of nobody's")
    os.chown(inc, 0, 0)
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0 and "ok, 2 services" in out,
          "a root-only include directory: exit %d, %r" % (rc, err[-300:]))


def test_include_directory_entries_never_followed(t):
    inc = t.path("inc.d")
    os.mkdir(inc, 0o755)
    t.write("inc.d/10-a.conf", "services : ( %s );\n"
            % "{ name = \"a\"; address = \"127.0.0.1\"; port = 0; "
              "server = \"/bin/echo\"; args = [ \"a\" ]; }")
    conf = t.conf([echo("main")], {"include": inc})
    broken = t.write("broken.conf", "services : ( { name = ; } );\n")
    link = t.path("inc.d", "20-link.conf")
    os.symlink(broken, link)
    os.mkdir(t.path("inc.d", "30-dir.conf"))
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0 and "ok, 2 services" in out, "a link in the include "
          "directory: exit %d, stdout %r, stderr %r" % (rc, out, err[-300:]))
    check(re.search(r"^superd: warning: %s: a symbolic link, not followed "
                    r"\(skipped\)" % re.escape(link), err, re.M),
          "no warning about the link: %r" % err[-300:])
    check(re.search(r"^superd: warning: %s: not a regular file \(skipped\)"
                    % re.escape(t.path("inc.d", "30-dir.conf")), err, re.M),
          "no warning about the directory entry: %r" % err[-300:])
    os.unlink(link)
    sd = t.start(conf=conf, wait=[("main", "tcp"), ("a", "tcp")])
    # A link planted later must not break a reload either.
    os.symlink(broken, link)
    mark = sd.mark()
    sd.reload()
    sd.wait_log(re.escape(link) + r": a symbolic link, not followed", mark)
    check(talk(sd.port("a")) == b"a\n", "the included service stopped "
          "serving after the reload")


def refused_reload(sd, want, what):
    """A SIGHUP is refused saying want; superd serves "v1" still."""
    mark = sd.mark()
    sd.signal(signal.SIGHUP)
    sd.wait_log(want, mark, what="the reload %s refused" % what)
    sd.check_alive("after the reload %s" % what)
    check(talk(sd.port("app")) == b"v1\n", "the refused reload %s changed "
          "the running service" % what)


def test_atinclude_directories_not_root_alone_refused_at_reload(t):
    need_root("apply the directory rules superd applies as root")
    app, spare = t.path("app"), t.path("spare")
    os.mkdir(app, 0o755)
    os.mkdir(spare, 0o755)
    t.write("app/part.inc", 'args = [ "v1" ];\n')
    conf = t.write("superd.conf",
                   'services : (\n'
                   '  { name = "app"; address = "127.0.0.1"; port = 0;\n'
                   '    server = "/bin/echo";\n'
                   '    @include "app/part.inc"\n'
                   '  }\n'
                   ');\n')
    sd = t.start(conf=conf, wait=[("app", "tcp")])
    check(talk(sd.port("app")) == b"v1\n", "the @included args not applied")
    at = r"%s:4: @include \"app/part\.inc\": " % re.escape(conf)

    # A directory someone else may write: they could swap the part between
    # superd's check and libconfig's read.
    os.chmod(app, 0o777)
    t.write("app/part.inc", 'args = [ "v2" ];\n')
    want = at + r"directory %s: mode 0777 is writable by group or others" \
        % re.escape(app)
    check_rejected(t, conf, [want], "@include in a 0777 directory")
    refused_reload(sd, want, "in a 0777 directory")

    # A link of root's in a root-only directory, to a part in a directory
    # others may write.
    os.chmod(app, 0o755)
    os.rename(t.path("app", "part.inc"), t.path("spare", "part.inc"))
    os.symlink("../spare/part.inc", t.path("app", "part.inc"))
    os.chmod(spare, 0o775)
    want = at + r"directory %s: mode 0775 is writable by group or others" \
        % re.escape(spare)
    refused_reload(sd, want, "through a link")

    # All root's alone: the reload applies.
    os.chmod(spare, 0o755)
    sd.reload()
    check(talk(sd.port("app")) == b"v2\n", "the reload of a root-only "
          "@include did not apply")


def test_inetd_conf_directory_writable_by_group_rejected(t):
    need_root("apply the ownership and mode rules superd applies as root")
    d = t.path("etc")
    os.mkdir(d)
    inetd = t.write("etc/inetd.conf", "")
    conf = t.conf([echo("main")], {"inetd_conf": inetd})
    os.chmod(d, 0o775)
    check_rejected(t, conf, [r"^%s:1: inetd_conf \"%s\": directory %s: mode "
                             r"0775 is writable by group or others"
                             % (re.escape(conf), re.escape(inetd),
                                re.escape(d))],
                   "inetd.conf's directory 0775")
    os.chmod(d, 0o755)
    rc, out, err = t.run_superd(["-t", "-f", conf])
    check(rc == 0, "a root-only inetd.conf directory: exit %d, %r"
          % (rc, err[-300:]))


# -- 62: greeting's state file -----------------------------------------------

def greeting(t):
    src = os.path.join(TOP, "services", "greeting")
    if not os.access(src, os.X_OK):
        raise Skip("services/greeting is not built (make services)")
    dst = t.path("greeting")
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())
    os.chmod(dst, 0o755)
    return dst


def service_dir(t):
    """A directory the service's user (nobody as root) may write."""
    if is_root():
        return faultkit.nobody_dir(t, "state")
    d = t.path("state")
    os.mkdir(d, 0o755)
    return d


def service_uid():
    return pwd.getpwnam("nobody").pw_uid if is_root() else os.geteuid()


def visit(t, state, name, number):
    """One visit to greeting served by superd with this state file; the
    superd is returned."""
    sd = t.start([service("greeting", server=greeting(t),
                          args=["-s", state])])
    answer = talk(sd.port("greeting"), name.encode() + b"\n")
    want = "Hello %s, you are visitor number %d to this server\n" % (name,
                                                                    number)
    check(answer == want.encode(), "greeting answered %r, not %r"
          % (answer, want))
    return sd


def test_greeting_state_file_created_private(t):
    state = os.path.join(service_dir(t), "greeting.count")
    visit(t, state, "Alice", 1)
    check(mode_owner(state) == (0o600, service_uid()), "the state file "
          "greeting created is mode %04o uid %d, not 0600 of the service's "
          "user" % mode_owner(state))


def test_greeting_state_file_open_to_others_made_private(t):
    state = os.path.join(service_dir(t), "greeting.count")
    with open(state, "w") as f:
        f.write("41\n")
    os.chmod(state, 0o644)
    if is_root():
        os.chown(state, service_uid(), -1)
    sd = visit(t, state, "Bob", 42)
    check(mode_owner(state) == (0o600, service_uid()), "a state file of the "
          "service's user open to others stayed mode %04o uid %d"
          % mode_owner(state))
    sd.wait_log(r"was mode 0644, open to other users; now 0600")


@limit(30)
def test_greeting_lock_wait_is_short(t):
    prog = greeting(t)
    state = t.write("greeting.count", "7\n", 0o600)
    holder = lock_holder(state)
    try:
        start = time.monotonic()
        try:
            p = subprocess.run([prog, "-s", state], input=b"Carol\n",
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=12)
        except subprocess.TimeoutExpired:
            raise Fail("greeting waited for the lock more than 12 s")
        took = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    check(p.returncode == 1 and p.stdout == b"",
          "greeting with its state file locked: exit %d, answered %r"
          % (p.returncode, p.stdout))
    check(b"still locked after 5 seconds" in p.stderr,
          "greeting did not say it gave up on the lock: %r" % p.stderr)
    check(4.5 <= took < 10, "greeting gave up after %.1f s, not about 5"
          % took)
    with open(state) as f:
        check(f.read() == "7\n", "the state file changed")
