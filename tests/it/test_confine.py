"""Confinement, seen from inside the program: chroot, no_new_privs,
capabilities, private_tmp, private_network, read_only with writable, and
timeout ending the instance's whole process group.

Every test needs root; one that needs a kind of namespace skips when this
kernel or container will not make one (tried with unshare(1) first).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import faultkit
import harness
from harness import (Skip, check, connect, limit, need_root, pid_alive,
                     python3, read_line, read_until_eof, service, tag, talk,
                     wait_for)
from test_realprog import TFTPD, boot_image, need_program, tftp_get


def need_namespace(kind):
    """kind is an unshare(1) option: --mount, --net."""
    need_root("make namespaces")
    try:
        p = subprocess.run(["unshare", kind, "true"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip("unshare %s cannot be tried: %s" % (kind, e))
    if p.returncode != 0:
        raise Skip("no %s namespace here: %s" % (kind.lstrip("-"),
                   p.stderr.decode("utf-8", "replace").strip()))


def outside_tmp(t, name):
    """A directory private_tmp and read_only tests can reach: not under
    /tmp (which they replace), removed when the test ends."""
    d = tempfile.mkdtemp(prefix="superd-it-%s-" % name, dir="/run")
    os.chmod(d, 0o755)
    t.notes.append(("outside /tmp", d))
    orig = t.cleanup

    def cleanup():
        try:
            return orig()
        finally:
            shutil.rmtree(d, ignore_errors=True)
    t.cleanup = cleanup
    return d


def caps_of(lines):
    """{"CapEff": int, ...} from /proc/PID/status lines."""
    caps = {}
    for ln in lines:
        key, _, value = ln.partition(":")
        if key.startswith("Cap"):
            caps[key] = int(value.strip(), 16)
    return caps


CAPS_SCRIPT = ("while read l; do case $l in Cap*) echo $l;; esac; "
               "done < /proc/self/status")


def copy_with_libs(root, program):
    """program and the shared objects ldd names, at the same paths in root."""
    paths = [program]
    out = subprocess.run(["ldd", program], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    for ln in out.splitlines():
        for word in ln.split():
            if word.startswith("/"):
                paths.append(word)
    for p in paths:
        dst = root + p
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        shutil.copy2(p, dst)


def test_confine_chroot_hides_the_rest(t):
    need_root("chroot")
    root = t.path("jail")
    os.mkdir(root, 0o755)
    copy_with_libs(root, "/bin/sh")
    copy_with_libs(root, "/bin/cat")
    os.makedirs(root + "/srv", 0o755)
    with open(root + "/srv/inside", "w") as f:
        f.write("inside the jail\n")
    secret = t.write("secret", "outside the jail\n")
    script = ("cat /srv/inside; cat %s || echo no-secret; cd /srv && "
              "echo pwd=$PWD" % secret)
    sd = t.start([service("jailed", server="/bin/sh", chroot=root,
                          chdir="/srv", args=["-c", script]),
                  service("free", server="/bin/sh", args=["-c", script])])
    out = talk(sd.port("jailed")).decode()
    check("inside the jail" in out, "the program in the chroot did not "
          "read its own /srv/inside: %r" % out)
    check("outside the jail" not in out and "no-secret" in out,
          "the program in the chroot read %s: %r" % (secret, out))
    check("pwd=/srv" in out, "chdir inside the chroot: %r" % out)
    # the same script outside a chroot does see the file
    out = talk(sd.port("free")).decode()
    check("outside the jail" in out, "control: %r" % out)


def test_confine_no_new_privs_keeps_setuid_helper_unprivileged(t):
    need_root("install a setuid-root helper")
    helper = t.path("whoami-setuid")
    shutil.copy2("/usr/bin/id", helper)
    os.chown(helper, 0, 0)
    os.chmod(helper, 0o4755)
    sd = t.start([service("nnp", server=helper, args=["-u"],
                          no_new_privs=True),
                  service("plain", server=helper, args=["-u"])])
    plain = talk(sd.port("plain")).decode().strip()
    if plain != "0":
        raise Skip("the setuid helper gives nothing even without "
                   "no_new_privs (a nosuid mount?): id -u said %r" % plain)
    nnp = talk(sd.port("nnp")).decode().strip()
    check(nnp not in ("", "0"), "under no_new_privs the setuid helper "
          "still ran as uid 0 (%r)" % nnp)


def cap_report(sd, name):
    return caps_of(talk(sd.port(name)).decode().splitlines())


def test_confine_capabilities_exact_for_user_and_root(t):
    need_root("grant capabilities")
    keep = (1 << 10) | (1 << 5)         # net_bind_service, kill
    sd = t.start([
        service("user", server="/bin/sh", args=["-c", CAPS_SCRIPT],
                capabilities=["net_bind_service", "CAP_KILL"]),
        service("root", server="/bin/sh", args=["-c", CAPS_SCRIPT],
                user="root", capabilities=["net_bind_service"]),
        service("none", server="/bin/sh", args=["-c", CAPS_SCRIPT],
                user="root", capabilities=[]),
        service("rootall", server="/bin/sh", args=["-c", CAPS_SCRIPT],
                user="root"),
    ])
    want = {"CapInh": keep, "CapPrm": keep, "CapEff": keep, "CapBnd": keep,
            "CapAmb": keep}
    got = cap_report(sd, "user")
    check(got == want, "nobody with net_bind_service and kill: %s, want %s"
          % (got, want))
    bind = 1 << 10
    want = {"CapInh": bind, "CapPrm": bind, "CapEff": bind, "CapBnd": bind,
            "CapAmb": 0}
    got = cap_report(sd, "root")
    check(got == want, "root with net_bind_service: %s, want %s"
          % (got, want))
    got = cap_report(sd, "none")
    check(all(v == 0 for v in got.values()) and len(got) == 5,
          "root with capabilities = []: %s" % got)
    got = cap_report(sd, "rootall")
    check(got.get("CapEff", 0) & (1 << 21), "control: root without "
          "`capabilities` lost CAP_SYS_ADMIN: %s" % got)


PROBE = ("ls -A /tmp /var/tmp; touch /tmp/probe-%s-$$ && echo made; "
         "read x")


def test_confine_private_tmp_per_instance(t):
    need_namespace("--mount")
    token = os.path.basename(t.dir)
    sd = t.start([service("ptmp", server="/bin/sh", private_tmp=True,
                          args=["-c", PROBE % token])])
    a = connect(sd.port("ptmp"))
    t.socks.append(a)
    first = []
    while "made" not in first:
        first.append(read_line(a).decode())
    b = connect(sd.port("ptmp"))
    t.socks.append(b)
    second = []
    while "made" not in second:
        second.append(read_line(b).decode())
    check(not any("probe-" in ln for ln in second),
          "the second instance saw the first's /tmp: %r" % second)
    check(second == ["/tmp:", "", "/var/tmp:", "made"],
          "the second instance's /tmp and /var/tmp are not empty: %r"
          % second)
    leaked = [n for n in os.listdir("/tmp") if n.startswith("probe-" + token)]
    check(not leaked, "the instances' files reached the host /tmp: %s"
          % leaked)
    a.sendall(b"done\n")
    b.sendall(b"done\n")


NET_PROBE = r"""
import socket, sys
port = int(sys.argv[1])
out = []
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", port))
    out.append("other=reached")
except OSError as e:
    out.append("other=" + type(e).__name__)
own = socket.socket()
own.bind(("127.0.0.1", 0))
own.listen(1)
c = socket.socket()
c.settimeout(3)
try:
    c.connect(own.getsockname())
    out.append("lo=up")
except OSError as e:
    out.append("lo=" + type(e).__name__)
print(" ".join(out), flush=True)
"""


def test_confine_private_network(t):
    need_namespace("--net")
    probe = t.write("netprobe.py", NET_PROBE)
    sd = t.start([service("other", server="/bin/cat")], label="other")
    other = sd.port("other")
    sd2 = t.start([
        service("isolated", server=python3(), private_network=True,
                args=[probe, str(other)]),
        service("open", server=python3(), args=[probe, str(other)]),
    ])
    out = talk(sd2.port("isolated")).decode().strip()
    check("other=ConnectionRefusedError" in out, "under private_network the "
          "program reached another loopback service, or failed otherwise: "
          "%r" % out)
    check("lo=up" in out, "the private network's loopback is not up: %r"
          % out)
    out = talk(sd2.port("open")).decode().strip()
    check("other=reached" in out, "control: %r" % out)


def dirs_outside_tmp(t, name, *subdirs):
    """New directories subdirs of one outside /tmp, for a mount
    namespace's tests (which need one)."""
    need_namespace("--mount")
    base = outside_tmp(t, name)
    paths = [os.path.join(base, d) for d in subdirs]
    for p in paths:
        os.mkdir(p, 0o755)
    return paths


def test_confine_read_only_with_writable(t):
    ro, rw = dirs_outside_tmp(t, "ro", "ro", "rw")
    script = ("echo a > %s/f && echo ro=written || echo ro=refused; "
              "echo b > %s/f && echo rw=written || echo rw=refused; "
              "echo c > /tmp/f && echo tmp=written || echo tmp=refused"
              % (ro, rw))
    sd = t.start([service("ro", server="/bin/sh", user="root",
                          read_only=True, writable=[rw],
                          args=["-c", script])])
    out = talk(sd.port("ro")).decode().split()
    check("ro=refused" in out, "root wrote outside `writable` under "
          "read_only: %r" % out)
    check(not os.path.exists(os.path.join(ro, "f")),
          "the file outside `writable` exists")
    check("rw=written" in out, "a `writable` path was not writable: %r"
          % out)
    with open(os.path.join(rw, "f")) as f:
        check(f.read() == "b\n", "the write in `writable` did not reach "
              "the host's file")
    check("tmp=written" in out, "the private /tmp of read_only is not "
          "writable: %r" % out)


def test_confine_timeout_ends_grandchildren(t):
    need_root("see every process")
    sd = t.start([service("tree", server="/bin/sh", timeout=1,
                          args=["-c", "sleep 300 & echo $!; wait"])])
    s = connect(sd.port("tree"))
    t.socks.append(s)
    grandchild = int(read_line(s))
    check(pid_alive(grandchild), "the background sleep is not running")
    wait_for(lambda: not pid_alive(grandchild), 6,
             "the background sleep to end at the instance's timeout")


def test_confine_failed_step_is_logged_and_others_served(t):
    need_root("chroot")
    root = t.path("gone")
    os.mkdir(root, 0o755)
    copy_with_libs(root, "/bin/cat")
    sd = t.start([service("jail", server="/bin/cat", chroot=root),
                  service("fine", server="/bin/echo", args=["still here"])])
    mark = sd.mark()
    os.rename(root, t.path("moved"))
    s = connect(sd.port("jail"))
    t.socks.append(s)
    check(read_until_eof(s) == b"", "a start without its chroot sent bytes")
    sd.wait_log(tag("jail") + r".*cannot start.*chroot.*No such file", mark,
                what="the failed chroot logged with the service and step")
    check(talk(sd.port("fine")) == b"still here\n",
          "superd did not serve the other service after the failed start")
    sd.check_alive("after a failed confined start")


def jail_saying(root, words):
    """A chroot at root whose /bin/cat serves /srv/which, saying words."""
    os.makedirs(root, 0o755)
    copy_with_libs(root, "/bin/cat")
    os.makedirs(root + "/srv", 0o755)
    with open(root + "/srv/which", "w") as f:
        f.write(words + "\n")


def test_confine_chroot_parent_swapped_for_symlink_fails(t):
    need_root("chroot")
    base = t.path("jails")
    jail_saying(os.path.join(base, "a", "root"), "the configured jail")
    jail_saying(os.path.join(base, "b", "root"), "another jail")
    sd = t.start([service("jail", server="/bin/cat", args=["/srv/which"],
                          chroot=os.path.join(base, "a", "root"))])
    check(talk(sd.port("jail")) == b"the configured jail\n",
          "control: the configured chroot not served")
    # Whoever can write in base points the chroot's parent elsewhere.
    os.rename(os.path.join(base, "a"), os.path.join(base, "a.real"))
    os.symlink(os.path.join(base, "b"), os.path.join(base, "a"))
    mark = sd.mark()
    s = connect(sd.port("jail"))
    t.socks.append(s)
    out = read_until_eof(s)
    check(out == b"", "the start followed the symbolic link into the other "
          "jail: %r" % out)
    sd.wait_log(tag("jail") + r".*cannot start.*confine: chroot: Too many "
                r"levels of symbolic links", mark,
                what="the chroot through a symbolic link refused, its step "
                "named")
    sd.check_alive("after the refused chroot")


def test_confine_writable_swapped_for_symlink_fails(t):
    rw, victim = dirs_outside_tmp(t, "swap", "rw", "victim")
    script = "echo x > %s/f && echo rw=written || echo rw=refused" % rw
    sd = t.start([service("ro", server="/bin/sh", user="root",
                          read_only=True, writable=[rw],
                          args=["-c", script])])
    check(talk(sd.port("ro")).split() == [b"rw=written"],
          "control: the `writable` directory not writable")
    # Whoever owns base swaps the writable directory for a link to one
    # that read_only must keep read-only.
    os.rename(rw, rw + ".real")
    os.symlink(victim, rw)
    mark = sd.mark()
    s = connect(sd.port("ro"))
    t.socks.append(s)
    out = read_until_eof(s)
    check(not os.path.exists(os.path.join(victim, "f")),
          "the instance wrote through the symbolic link into %s (%r)"
          % (victim, out))
    check(out == b"", "the instance started anyway: %r" % out)
    sd.wait_log(tag("ro") + r".*cannot start.*confine: writable: Too many "
                r"levels of symbolic links", mark,
                what="the writable path through a symbolic link refused, "
                "its step named")


def test_confine_not_root_warned_by_t_and_named_at_start(t):
    need_root("run superd as nobody")
    uid, gid = faultkit.nobody_ids()
    svcs = [service("ptmp", server="/bin/cat", private_tmp=True),
            service("caps", server="/bin/cat",
                    capabilities=["net_bind_service"]),
            service("nnp", server="/bin/echo", args=["served"],
                    no_new_privs=True)]
    conf = t.conf(svcs, name="nonroot.conf")
    p = subprocess.run([harness.SUPERD, "-t", "-f", conf], user=uid,
                       group=gid, extra_groups=[], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10,
                       env=harness.superd_env())
    err = p.stderr.decode("utf-8", "replace")
    t.notes.append(("superd -t as nobody", err))
    check(p.returncode == 0, "-t as nobody: exit %d" % p.returncode)
    for name, cap in (("private_tmp", "sys_admin"),
                      ("capabilities", "setpcap")):
        check(re.search(r'^superd: warning: .*"%s" of service "\w+" needs '
                        r'capability "%s", which superd does not hold '
                        r'\(it is not root\)' % (name, cap), err, re.M),
              "-t as nobody did not warn that %s needs %s: %r"
              % (name, cap, err))
    check("no_new_privs" not in err, "no_new_privs needs no privilege, "
          "yet -t warned: %r" % err)
    _, _, err = t.run_superd(["-t", "-f", conf])
    check("warning" not in err, "-t as root warned: %r" % err)
    run = faultkit.owned_dir(t, "run", uid, gid)
    sd = faultkit.start_hooked(t, svcs, label="nonroot",
                               ports=os.path.join(run, "superd.ports"),
                               popen={"user": uid, "group": gid,
                                      "extra_groups": []})
    mark = sd.mark()
    s = connect(sd.port("ptmp"))
    t.socks.append(s)
    check(read_until_eof(s) == b"", "a private_tmp instance started")
    sd.wait_log(tag("ptmp") + r".*cannot start.*confine: new namespaces: "
                r"Operation not permitted \(superd is not root\)", mark,
                what="the refused step logged as superd's want of privilege")
    check(talk(sd.port("nnp")) == b"served\n",
          "no_new_privs as nobody: not served")


def test_confine_timeout_kills_grandchildren_that_ignore_sigterm(t):
    need_root("see every process")
    sd = t.start([service("stubborn", server="/bin/sh", timeout=1,
                          args=["-c", "(trap '' TERM; exec sleep 300) & "
                                "echo $!; wait"])])
    mark = sd.mark()
    s = connect(sd.port("stubborn"))
    t.socks.append(s)
    grandchild = int(read_line(s))
    check(pid_alive(grandchild), "the background sleep is not running")
    sd.wait_log(tag("stubborn") + r".*\bexit pid=\d+ signal=15\b", mark,
                timeout=4, what="the instance ended by the timeout's SIGTERM")
    # Its leader gone, nothing is left to send SIGKILL to unless superd
    # kills the rest of the group as it reaps the leader.
    wait_for(lambda: not pid_alive(grandchild), 4,
             "the sleep that ignores SIGTERM to be killed")


@limit(40)
def test_confine_tftpd_as_in_the_manual(t):
    """superd(8)'s tftpd: root kept only for in.tftpd's own chroot and
    switch to nobody, no new privileges, a read-only system."""
    need_program(TFTPD, "tftpd-hpa")
    need_program(shutil.which("tftp") or "/usr/bin/tftp", "tftp-hpa")
    need_namespace("--mount")
    root = outside_tmp(t, "tftp")
    data = boot_image(root, 40)
    sd = t.start([service("tftp", protocol="udp", wait=True, user="root",
                          server=TFTPD, argv0="in.tftpd",
                          args=["-s", root, "-t", "1", "-u", "nobody"],
                          capabilities=["sys_chroot", "setuid", "setgid"],
                          no_new_privs=True, read_only=True)])
    got = tftp_get(t, sd.port("tftp", "udp"), "boot.img", t.path("got"))
    check(got == data, "%d bytes, not the %d served" % (len(got), len(data)))
