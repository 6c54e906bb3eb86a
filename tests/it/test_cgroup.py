"""A cgroup v2 per instance of a service with `timeout`: what an instance
starts cannot escape its timeout by leaving the process group (setsid),
its directory goes once it is empty, a service without `timeout` is not
moved, and without a usable cgroup v2 superd falls back to the process
group and says so.

superd runs in a cgroup of the test's own, made under the runner's (as
systemd's Delegate=yes gives the unit one), so that the instance cgroups
it makes are its alone.  Every test needs root and a writable cgroup v2;
it skips, saying why, where there is none.
"""

import os
import subprocess
import time

from harness import (Skip, check, connect, need_root, pid_alive, read_line,
                     read_until_eof, service, tag, talk, wait_for)

PREFIX = "superd-instance-"


def unescape(field):
    """A mountinfo field with its octal escapes (\\040...) decoded."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def cgroup2_mount():
    """Where the whole cgroup2 hierarchy is mounted, or None."""
    with open("/proc/self/mountinfo") as f:
        for ln in f:
            pre, _, post = ln.partition(" - ")
            fields = pre.split()
            if post.split()[:1] == ["cgroup2"] and fields[3] == "/":
                return unescape(fields[4])
    return None


def cgroup_of(pid="self"):
    """The cgroup v2 path of a process (its 0:: line), or None."""
    try:
        with open("/proc/%s/cgroup" % pid) as f:
            for ln in f:
                if ln.startswith("0::"):
                    return ln[3:].rstrip("\n")
    except OSError:
        pass
    return None


def remove_cgroup(d):
    """Kill what is left in d and below, then remove them, bounded."""
    for _ in range(100):
        if not os.path.isdir(d):
            return
        for sub in [os.path.join(d, n) for n in os.listdir(d)]:
            if os.path.isdir(sub):
                remove_cgroup(sub)
        try:
            with open(os.path.join(d, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            pass
        try:
            os.rmdir(d)
            return
        except OSError:
            time.sleep(0.05)


def private_cgroup(t):
    """A new cgroup under the runner's, removed when the test ends; a
    process can be moved into it.  Skips where none can be made."""
    need_root("make a cgroup")
    mnt, own = cgroup2_mount(), cgroup_of()
    if mnt is None or own is None:
        raise Skip("no cgroup v2 here")
    d = os.path.join(mnt + own.rstrip("/"), "superd-it-%d-%s"
                     % (os.getpid(), t.name[-20:]))
    try:
        os.mkdir(d)
    except OSError as e:
        raise Skip("cannot make a cgroup under %s: %s" % (own, e))
    orig = t.cleanup

    def cleanup():
        try:
            return orig()
        finally:
            remove_cgroup(d)
    t.cleanup = cleanup
    p = subprocess.run(["/bin/sh", "-c", 'echo $$ > "$0"/cgroup.procs', d],
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Skip("cannot move a process into a cgroup here: %s"
                   % p.stderr.decode("utf-8", "replace").strip())
    return d


def entering(cg):
    """A wrapper that moves itself into the cgroup cg, then execs."""
    return ["/bin/sh", "-c", 'echo $$ > "$0"/cgroup.procs && exec "$@"', cg]


def start_in(t, cg, services):
    """superd started inside the cgroup cg."""
    return t.start(services, wrapper=entering(cg))


def instance_dirs(cg):
    return sorted(n for n in os.listdir(cg) if n.startswith(PREFIX))


# Grandchildren that leave the instance's session: one plain, one that
# ignores SIGTERM.  The shell waits for them, so the instance runs until
# its timeout.
ESCAPE = ("setsid sleep 300 & echo $!; "
          "(trap '' TERM; exec setsid sleep 300) & echo $!; wait")


def test_cgroup_timeout_ends_escaped_grandchildren(t):
    """Fails without a cgroup per instance: the grandchildren have left
    the process group `timeout` signals."""
    cg = private_cgroup(t)
    sd = start_in(t, cg, [service("escape", server="/bin/sh", timeout=1,
                                  args=["-c", ESCAPE])])
    s = connect(sd.port("escape"))
    t.socks.append(s)
    pids = [int(read_line(s)), int(read_line(s))]
    for pid in pids:
        wait_for(lambda: pid_alive(pid) and os.getsid(pid) == pid, 3,
                 "grandchild %d to leave the instance's session" % pid)
    wait_for(lambda: not any(pid_alive(p) for p in pids), 6,
             "the escaped grandchildren to end at the instance's timeout")
    wait_for(lambda: not instance_dirs(cg), 3,
             "the instance's cgroup to be removed")


def test_cgroup_leftovers_keep_the_deadline(t):
    """The leader exits at once; what it left in its own session runs
    until the instance's deadline, then is killed."""
    cg = private_cgroup(t)
    sd = start_in(t, cg, [service("leave", server="/bin/sh", timeout=2,
                                  log_connections=True,
                                  args=["-c", "setsid sleep 300 & echo $!"])])
    mark = sd.mark()
    s = connect(sd.port("leave"))
    t.socks.append(s)
    started = time.monotonic()
    pid = int(read_line(s))
    sd.wait_log(tag("leave") + r".*\bexit pid=\d+ status=0", mark,
                what="the leader's exit")
    time.sleep(0.5)
    check(time.monotonic() - started < 1.8 and pid_alive(pid),
          "what the leader left did not run until the deadline")
    check(len(instance_dirs(cg)) == 1, "no cgroup kept for what is left: "
          "%r" % instance_dirs(cg))
    wait_for(lambda: not pid_alive(pid), 5,
             "what the leader left to end at the instance's deadline")
    check(time.monotonic() - started >= 1.9,
          "what the leader left ended before the deadline")
    sd.wait_log(r"superd-instance-%d-\d+: processes left .* killed" % sd.pid,
                mark, what="the leftovers' kill logged")
    wait_for(lambda: not instance_dirs(cg), 3,
             "the instance's cgroup to be removed")


def test_cgroup_removed_after_instances_end(t):
    """Instances that end in time, fail, or end by their timeout leave
    no directory behind, nor does superd's stop; at start-up, superd
    removes the empty ones a superd that is gone left, not those of one
    still running."""
    cg = private_cgroup(t)
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = PREFIX + "%d-7" % gone.pid
    live = PREFIX + "%d-7" % os.getpid()
    os.mkdir(os.path.join(cg, stale))
    os.mkdir(os.path.join(cg, live))
    sd = start_in(t, cg, [
        service("quick", server="/bin/echo", args=["hi"], timeout=30,
                log_connections=True),
        service("slow", server="/bin/sleep", args=["300"], timeout=1),
        service("fail", server="/bin/false", timeout=30)])
    for _ in range(5):
        check(talk(sd.port("quick")) == b"hi\n", "quick not served")
    s = connect(sd.port("slow"))
    t.socks.append(s)
    check(talk(sd.port("fail")) == b"", "/bin/false spoke")
    check(read_until_eof(s, 6) == b"", "the timed-out instance spoke")
    wait_for(lambda: instance_dirs(cg) == [live], 3,
             "every instance cgroup but the live superd's to be removed")
    check(sd.alive(), "superd is gone")
    # A spare cgroup, kept for the next instance, goes with superd.
    mark = sd.mark()
    check(talk(sd.port("quick")) == b"hi\n", "quick not served")
    sd.wait_log(tag("quick") + r": exit pid=\d+ status=0", mark)
    check(len(instance_dirs(cg)) == 2, "no spare cgroup kept: %r"
          % instance_dirs(cg))
    sd.stop()
    check(instance_dirs(cg) == [live], "superd's stop left %r"
          % instance_dirs(cg))


def test_cgroup_only_for_timeout(t):
    """A service without `timeout` stays in superd's cgroup (the fast
    path); one with it runs in a superd-instance-PID-N below, which the
    next instance reuses once it is empty."""
    cg = private_cgroup(t)
    sd = start_in(t, cg, [
        service("plain", server="/bin/cat", args=["/proc/self/cgroup"]),
        service("timed", server="/bin/cat", args=["/proc/self/cgroup"],
                timeout=30, log_connections=True)])
    with open("/proc/%d/cgroup" % sd.pid) as f:
        mine = f.read()
    own = cgroup_of(sd.pid)
    check(own is not None and own.endswith("/" + os.path.basename(cg)),
          "superd is not in the test's cgroup: %r" % own)
    plain = talk(sd.port("plain")).decode()
    check(plain == mine, "a service without timeout was moved: %r, "
          "superd: %r" % (plain, mine))
    timed = talk(sd.port("timed")).decode()
    line = [ln for ln in timed.splitlines() if ln.startswith("0::")]
    check(len(line) == 1 and
          line[0].rsplit("/", 1)[0] == "0::" + own and
          line[0].rsplit("/", 1)[1].startswith(PREFIX),
          "a service with timeout is not in an instance cgroup: %r" % timed)
    # Ended and empty, its cgroup serves the next instance.
    sd.wait_log(tag("timed") + r": exit pid=\d+ status=0", what="the "
                "first instance's end")
    again = talk(sd.port("timed")).decode()
    check(again == timed, "the next instance did not reuse the empty "
          "cgroup: %r, then %r" % (timed, again))


def test_cgroup_read_only_falls_back_to_the_group(t):
    """cgroup2 mounted read-only in superd's mount namespace: a warning,
    and `timeout` still ends the instance's process group."""
    need_root("make a mount namespace")
    mnt = cgroup2_mount()
    if mnt is None:
        raise Skip("no cgroup v2 here")
    p = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "mount", "-o", "remount,bind,ro", mnt],
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Skip("cannot remount cgroup2 read-only in a namespace: %s"
                   % p.stderr.decode("utf-8", "replace").strip())
    sd = t.start([service("tree", server="/bin/sh", timeout=1,
                          args=["-c", "sleep 300 & echo $!; wait"])],
                 wrapper=["unshare", "--mount", "--propagation", "private",
                          "/bin/sh", "-c", 'mount -o remount,bind,ro "$0" && '
                          'exec "$@"', mnt])
    sd.wait_log(r"cgroup v2 not usable \(Read-only file system\): "
                r"`timeout` reaches only each instance's process group",
                what="the fallback's warning")
    s = connect(sd.port("tree"))
    t.socks.append(s)
    grandchild = int(read_line(s))
    check(pid_alive(grandchild), "the background sleep is not running")
    check(cgroup_of(grandchild) == cgroup_of(sd.pid),
          "an instance was moved with cgroup v2 read-only")
    wait_for(lambda: not pid_alive(grandchild), 6,
             "the background sleep to end at the instance's timeout")


def test_cgroup_adopted_instance_keeps_its_cgroup(t):
    """An instance handed over across a restart (systemd's store, played
    by the test) is found in its cgroup by the next superd: its timeout
    still ends the grandchild that left its session.  Fails when the
    next superd signals the adopted instance's pidfd alone."""
    from test_handover import LISTEN_FDS, Store, stored_instance
    cg = private_cgroup(t)
    store = Store(t)
    svc = service("adopted", server="/bin/sh", timeout=3,
                  args=["-c", "setsid sleep 300 & echo $!; read x"])
    t.conf([svc], name="superd.conf")
    enter = entering(cg)
    sd = t.start(conf=t.path("superd.conf"), wait=[("adopted", "tcp")],
                 env={"NOTIFY_SOCKET": store.path}, wrapper=enter)
    s = connect(sd.port("adopted"))
    t.socks.append(s)
    started = time.monotonic()
    pid = int(read_line(s))
    wait_for(lambda: pid_alive(pid) and os.getsid(pid) == pid, 3,
             "the grandchild to leave the instance's session")
    sd.stop()
    stored_instance(store)
    names = sorted(store.fds)
    fds = [store.fds[n] for n in names]
    try:
        sd2 = t.start(conf=t.path("superd.conf"), label="second",
                      wait=[("adopted", "tcp")],
                      env={"NOTIFY_SOCKET": store.path}, pass_fds=fds,
                      wrapper=enter + [LISTEN_FDS, ",".join(map(str, fds)),
                                       ":".join(names)])
        sd2.wait_log(tag("adopted") + r": pid=\d+ from 127\.0\.0\.1 "
                     r"started by the previous superd, counted")
        check(pid_alive(pid), "the grandchild ended before the timeout")
        wait_for(lambda: not pid_alive(pid), 7,
                 "the grandchild of the adopted instance to end at its "
                 "timeout")
        check(time.monotonic() - started >= 2.9, "ended before the timeout")
        wait_for(lambda: not instance_dirs(cg), 3,
                 "the adopted instance's cgroup to be removed")
    finally:
        store.close()
