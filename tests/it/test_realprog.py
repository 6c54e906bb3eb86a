"""Real inetd programs, unmodified, served by superd.

git daemon --inetd (a TCP nowait service) and tftpd-hpa's in.tftpd (a UDP
wait service that keeps the socket and serves further requests itself until
it has been idle for its -t seconds) are driven by their own clients, git
and tftp-hpa's tftp.  packaging/install-deps test installs all three; a
missing one is a skip, not a failure.
"""

import os
import pwd
import shutil
import subprocess

from harness import Fail, Skip, check, limit, need_root, service, tag

GIT = "/usr/bin/git"
TFTPD = "/usr/sbin/in.tftpd"


def need_program(path, package):
    if not os.access(path, os.X_OK):
        raise Skip("%s is not installed (Debian package %s; "
                   "packaging/install-deps test installs it)" % (path, package))


def run(t, argv, timeout=15.0, cwd=None, env=None):
    """Run a client to completion; its output goes to the failure notes."""
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail("`%s` did not finish within %.0f s"
                   % (" ".join(argv), timeout))
    out = p.stdout.decode("utf-8", "replace")
    t.notes.append((" ".join(argv), "exit %d\n%s" % (p.returncode, out)))
    return p.returncode, out


def git_env(t):
    """Neither the system's nor root's git configuration may change what
    the client does (an insteadOf, a credential helper)."""
    return {"PATH": "/usr/bin:/bin", "HOME": t.path(),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C"}


def git(t, *args, cwd=None):
    rc, out = run(t, [GIT] + list(args), cwd=cwd, env=git_env(t))
    check(rc == 0, "`git %s` exited %d: %s"
          % (" ".join(args), rc, out.strip()[-300:]))
    return out.strip()


@limit(30)
def test_git_daemon_inetd_clone(t):
    need_program(GIT, "git")
    base = t.path("srv")
    os.mkdir(base)
    work = t.path("work")
    git(t, "init", "-q", "-b", "main", work)
    with open(os.path.join(work, "README"), "w") as f:
        f.write("served by superd\n")
    git(t, "add", "README", cwd=work)
    git(t, "-c", "user.name=superd it", "-c", "user.email=it@localhost",
        "commit", "-q", "-m", "first", cwd=work)
    head = git(t, "rev-parse", "HEAD", cwd=work)
    repo = os.path.join(base, "repo.git")
    git(t, "clone", "-q", "--bare", work, repo)
    if os.geteuid() == 0:
        # As root, the service runs as nobody, and git serves only a
        # repository its user owns.
        nobody = pwd.getpwnam("nobody")
        for d, dirs, files in os.walk(repo):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.lchown(n, nobody.pw_uid, nobody.pw_gid)

    sd = t.start([service("git", server=GIT,
                          args=["daemon", "--inetd", "--export-all",
                                "--informative-errors",
                                "--base-path=" + base, base])])
    port = sd.port("git")
    dest = t.path("clone")
    git(t, "clone", "-q", "git://127.0.0.1:%d/repo.git" % port, dest)
    check(git(t, "rev-parse", "HEAD", cwd=dest) == head,
          "the clone's HEAD is not the served repository's")
    with open(os.path.join(dest, "README")) as f:
        check(f.read() == "served by superd\n",
              "the cloned README differs from the served one")
    sd.wait_log(tag("git") + r": exit pid=\d+ status=0\b", what="git daemon's "
                "exit with status 0")

    # A repository that is not there: git daemon tells the client itself
    # (--informative-errors), through the connection superd handed it.
    rc, out = run(t, [GIT, "clone", "-q", "git://127.0.0.1:%d/none.git"
                      % port, t.path("none")], env=git_env(t))
    check(rc != 0 and "no such repository" in out,
          "cloning a missing repository: exit %d, %r" % (rc, out[-200:]))
    sd.check_alive("after the clones")


def boot_image(root, blocks):
    """root/boot.img, world-readable, with every byte value in its
    blocks of 256 bytes (binary mode) and an end mark; its bytes."""
    data = bytes(range(256)) * blocks + b"end\n"
    with open(os.path.join(root, "boot.img"), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(root, "boot.img"), 0o644)
    return data


def tftp_get(t, port, name, dest):
    # tftp-hpa's client: binary mode, one transfer, then exit.
    rc, out = run(t, ["tftp", "-m", "binary", "127.0.0.1", str(port),
                      "-c", "get", name, dest], timeout=15.0)
    check(rc == 0 and os.path.exists(dest),
          "tftp get %s: exit %d, %r" % (name, rc, out.strip()[-200:]))
    with open(dest, "rb") as f:
        return f.read()


@limit(40)
def test_tftpd_udp_wait_fetches(t):
    need_program(TFTPD, "tftpd-hpa")
    need_program(shutil.which("tftp") or "/usr/bin/tftp", "tftp-hpa")
    need_root("let in.tftpd chroot into its directory (-s), as it does "
              "under inetd")
    root = t.path("tftp")
    os.mkdir(root, 0o755)
    data = boot_image(root, 400)    # many tftp blocks of 512 bytes

    # The inetd.conf line it stands for:
    #   tftp dgram udp wait root /usr/sbin/in.tftpd in.tftpd -s DIR
    # -t 1: exit after one idle second instead of 900, so that superd's
    # wait handoff is exercised more than once within the test.
    sd = t.start([service("tftp", protocol="udp", wait=True, user="root",
                          server=TFTPD, argv0="in.tftpd",
                          args=["-s", root, "-t", "1", "-u", "nobody"])])
    port = sd.port("tftp", "udp")

    # Back to back: the first request starts in.tftpd, which answers the
    # next ones itself while superd leaves the socket to it.
    for i in range(3):
        got = tftp_get(t, port, "boot.img", t.path("got%d" % i))
        check(got == data, "fetch %d: %d bytes, not the %d served"
              % (i + 1, len(got), len(data)))
    sd.wait_log(tag("tftp") + r": exit pid=\d+ status=0\b", timeout=10,
                what="in.tftpd's exit after its idle timeout")
    mark = sd.mark()

    # Once it has gone, superd watches the socket again and starts a new
    # instance for the next request.
    for i in range(3, 5):
        got = tftp_get(t, port, "boot.img", t.path("got%d" % i))
        check(got == data, "fetch %d: %d bytes, not the %d served"
              % (i + 1, len(got), len(data)))
    sd.wait_log(tag("tftp") + r": start pid=\d+ ", since=mark,
                what="a new in.tftpd after the first one exited")
    check(not sd.find_log(r"looping"), "superd took in.tftpd for a "
          "looping service")

    # A file that is not there is in.tftpd's answer, not superd's.
    rc, out = run(t, ["tftp", "-m", "binary", "127.0.0.1", str(port),
                      "-c", "get", "missing.img", t.path("missing")])
    check("File not found" in out or "not found" in out.lower(),
          "fetching a missing file: exit %d, %r" % (rc, out[-200:]))
    sd.check_alive("after the fetches")
