"""How programs start (superd/launch.c): a program's process shares
superd's memory until its exec and superd goes on meanwhile; with
SUPERD_SPAWN_VFORK set every child is forked instead.  Both must hand
the program the same state, and a child that fails before its exec must not
disturb superd."""

import os
import pwd
import re
import threading
import time

from harness import (check, fd_links, limit, need_root, service, tag,
                     talk)

VFORK = {"SUPERD_SPAWN_VFORK": "1"}


def reporter(t, name, **settings):
    script = t.copy_helper("report.sh")
    return service(name, server="/bin/sh", args=[script], **settings)


# Enough services for superd to move its listeners high and start
# children in its own descriptor table (superd/fds.c).
MANY = 100


def fillers(n):
    return [service("f%03d" % i, server="/bin/true") for i in range(n)]


def program_state(t, env, label, extra=0):
    """What report.sh is handed by a superd started with env, with
    every setting a child applies before its exec, beside extra other
    services."""
    settings = {"limits": {"files": 77}, "nice": 3, "chdir": "/tmp",
                "env": ["EXTRA=1"]}
    if os.geteuid() == 0:
        settings["user"] = "nobody"
    sd = t.start([reporter(t, "state", **settings)] + fillers(extra),
                 env=env, label=label)
    r = t.report(sd.port("state"))
    env_seen = dict(r.env)
    for k in ("TCPREMOTEPORT", "TCPLOCALPORT"):
        env_seen.pop(k, None)
    sd.stop()
    return {"fds": sorted(r.fds), "fd_kinds": sorted(
        re.sub(r"\[\d+\]", "", v) for v in r.fds.values()),
        "env": env_seen, "cwd": r.cwd, "nofile": r.nofile, "nice": r.nice,
        "leader": r.session == r.pid,
        "ids": {k: r.status.get(k) for k in ("Uid", "Gid", "Groups")},
        "signals": {k: r.status.get(k) for k in ("SigBlk", "SigIgn")}}


def test_clone_and_vfork_hand_programs_the_same_state(t):
    shared = program_state(t, None, "clone")
    waited = program_state(t, VFORK, "vfork")
    check(shared == waited, "programs started the two ways differ:\n"
          "clone: %r\nvfork: %r" % (shared, waited))
    check(shared["fds"] == [0, 1, 2], "open descriptors %r" % shared["fds"])
    check(shared["leader"], "the program does not lead its own session")
    check(shared["nofile"] == "77" and shared["nice"] == 3 and
          shared["cwd"] == "/tmp", "limits, nice or chdir not applied: %r"
          % shared)
    check(shared["env"].get("EXTRA") == "1" and
          "SUPERD_SPAWN_VFORK" not in shared["env"],
          "environment not as configured: %r" % shared["env"])


def test_many_listeners_stay_out_of_programs(t):
    # With many listeners the child starts in superd's descriptor table
    # and leaves it for a copy of the low descriptors only.
    shared = program_state(t, None, "clone-many", extra=MANY)
    waited = program_state(t, VFORK, "vfork-many", extra=MANY)
    check(shared == waited, "programs started the two ways differ:\n"
          "clone: %r\nvfork: %r" % (shared, waited))
    check(shared["fds"] == [0, 1, 2], "open descriptors %r" % shared["fds"])


def test_listeners_move_high_only_when_many(t):
    few = t.start([service("one", server="/bin/true")], label="few")
    few_fds = [fd for fd, what in fd_links(few.pid).items()
               if "socket" in what]
    few.stop()
    many = t.start(fillers(MANY), label="many")
    sockets = sorted(fd for fd, what in fd_links(many.pid).items()
                     if "socket" in what)
    many.stop()
    check(max(few_fds) < 16, "one listener sits at %r" % few_fds)
    check(len(sockets) >= MANY and min(sockets) > 256 and
          max(sockets) < 1024, "%d listeners sit at %d..%d, not high under "
          "select's limit" % (len(sockets), min(sockets), max(sockets)))


@limit(40)
def test_client_sees_the_end_when_the_program_closes_early(t):
    # superd keeps its copy of a connection until the child has left its
    # descriptor table; it must not keep the client waiting for more.
    closer = service("closer", server="/bin/sh",
                     args=["-c", "exec >&- <&-; sleep 5"])
    for extra in (0, MANY):
        sd = t.start([closer] + fillers(extra), label="closer-%d" % extra)
        for _ in range(5):
            started = time.monotonic()
            data = talk(sd.port("closer"), timeout=4)
            took = time.monotonic() - started
            check(data == b"" and took < 1.0, "with %d other services the "
                  "client waited %.2f s for the end (%r)" % (extra, took, data))
        sd.stop()


def test_root_drops_to_the_service_user_on_both_paths(t):
    need_root("switching users")
    for env, label in ((None, "clone"), (VFORK, "vfork")):
        sd = t.start([reporter(t, "who", user="nobody")], env=env,
                     label=label)
        r = t.report(sd.port("who"))
        uid = str(pwd.getpwnam("nobody").pw_uid)
        check(r.status["Uid"] == [uid] * 4,
              "%s: real, effective, saved and fs uid are %r, not %s"
              % (label, r.status["Uid"], uid))
        sd.stop()


@limit(60)
def test_failing_starts_beside_busy_service_disturb_nothing(t):
    # Children whose exec fails share superd's memory while superd accepts
    # on another service; their errors must stay theirs (superd's own
    # accept would otherwise see a foreign errno and log or pause).
    sd = t.start([service("good", server="/bin/echo", args=["ok"]),
                  service("gone", server=t.script("gone.sh", "echo x\n"))])
    os.unlink(t.path("gone.sh"))
    good, gone = sd.port("good"), sd.port("gone")
    mark = sd.mark()
    rounds = 150
    bad_answers, errors = [], []

    def hammer(port, expect):
        for _ in range(rounds):
            try:
                data = talk(port, timeout=10)
            except OSError as e:
                errors.append(repr(e))
                continue
            if data != expect:
                bad_answers.append((port, data))

    threads = [threading.Thread(target=hammer, args=(good, b"ok\n"))
               for _ in range(4)]
    threads += [threading.Thread(target=hammer, args=(gone, b""))
                for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(50)
    check(not errors and not bad_answers, "clients failed: %r %r"
          % (errors[:3], bad_answers[:3]))
    lines = sd.log_lines(mark)
    failed = [ln for ln in lines if re.search(
        tag("gone") + r": cannot start .*execve: No such file", ln)]
    check(len(failed) == 4 * rounds, "%d exec failures logged for %d "
          "attempts" % (len(failed), 4 * rounds))
    stray = [ln for ln in lines if re.search(r"accept|paus|pselect", ln)]
    check(not stray, "superd logged about its own work: %r" % stray[:3])
    sd.check_alive("after the failed starts")
