"""Command line, `-t`, exit statuses and the pid file (SPEC section 2)."""

import os
import re
import signal

from harness import check, service, talk


def echo_service(name, word="ok"):
    return service(name, server="/bin/echo", args=[word])


def test_version(t):
    rc, out, _ = t.run_superd(["-V"])
    check(rc == 0, "superd -V exited %d, not 0" % rc)
    check(re.fullmatch(r"superd \S+\n", out),
          "superd -V printed %r, not one line `superd VERSION`" % out)


def test_help(t):
    rc, out, _ = t.run_superd(["-h"])
    check(rc == 0, "superd -h exited %d, not 0" % rc)
    check("usage" in out.lower(), "superd -h printed no usage on stdout: %r"
          % out[:200])


def usage_error(t, args, what):
    # Always -d and a valid configuration: should superd wrongly accept the
    # command line it stays in the foreground, where the timeout ends it.
    conf = t.conf([echo_service("u")])
    base = ["-d", "-f", conf, "-p", "", "-P", t.path("u.ports")]
    rc, _, err = t.run_superd(args(base), timeout=5)
    check(rc == 2, "%s: exit status %d, not 2 (stderr %r)"
          % (what, rc, err[:200]))


def test_usage_unknown_option(t):
    usage_error(t, lambda b: b[:1] + ["-Z"] + b[1:], "unknown option -Z")


def test_usage_missing_argument(t):
    usage_error(t, lambda b: b[:-2] + ["-P"], "-P without its argument")


def test_usage_stray_operand(t):
    usage_error(t, lambda b: b + ["stray"], "a stray operand")


def test_check_ok_counts_enabled_services(t):
    conf = t.conf([echo_service("one"), echo_service("two"),
                   service("off", server="/bin/echo", disabled=True)])
    pidfile, ports = t.path("t.pid"), t.path("t.ports")
    rc, out, err = t.run_superd(["-t", "-f", conf, "-p", pidfile,
                                 "-P", ports])
    check(rc == 0, "superd -t exited %d on a good file (stderr %r)"
          % (rc, err[:300]))
    check(out == "superd: %s: ok, 2 services\n" % conf,
          "superd -t printed %r" % out)
    # -t binds nothing and writes nothing.
    check(not os.path.exists(pidfile), "superd -t wrote the pid file")
    check(not os.path.exists(ports), "superd -t wrote the ports file")


def test_check_syntax_error_names_line(t):
    conf = t.write("superd.conf", (
        'services : (\n'
        '  { name = "a"; address = "127.0.0.1"; port = 0; server = "/bin/echo"; },\n'
        '  { name = "b"; address = "127.0.0.1"; port = ; server = "/bin/echo"; }\n'
        ');\n'))
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "superd -t exited %d on a syntax error, not 1" % rc)
    check("%s:3:" % conf in err,
          "stderr does not name %s:3: %r" % (conf, err[:300]))


def test_check_unknown_setting_names_line(t):
    svcs = [echo_service("a"), echo_service("b")]
    svcs[1]["instnaces"] = 5
    conf = t.conf(svcs)
    rc, _, err = t.run_superd(["-t", "-f", conf])
    check(rc == 1, "superd -t exited %d on an unknown setting, not 1" % rc)
    check("%s:3:" % conf in err,
          "stderr does not name %s:3: %r" % (conf, err[:300]))


def test_start_with_bad_config_exits_1(t):
    conf = t.write("superd.conf", "services : ( { name = ; } );\n")
    ports = t.path("bad.ports")
    rc, _, err = t.run_superd(["-d", "-f", conf, "-p", "", "-P", ports])
    check(rc == 1, "superd exited %d on a broken file, not 1" % rc)
    check("%s:1:" % conf in err, "stderr does not name %s:1: %r"
          % (conf, err[:300]))
    check(not os.path.exists(ports), "a ports file was written")


def test_empty_config_starts_and_stops(t):
    sd = t.start([], wait=[])
    sd.wait_log(r"\b0 services\b", what="counting 0 services")
    sd.signal(signal.SIGTERM)
    check(sd.wait_exit() == 0, "superd with no services did not exit 0 on "
          "SIGTERM")


def test_unwritable_pidfile_exits_3(t):
    conf = t.conf([echo_service("p")])
    pidfile = t.path("no-such-dir", "superd.pid")
    rc, _, err = t.run_superd(["-d", "-f", conf, "-p", pidfile,
                               "-P", t.path("p.ports")])
    check(rc == 3, "superd exited %d when it cannot write its pid file, "
          "not 3" % rc)


def test_pidfile_written_and_second_superd_exits_3(t):
    pidfile = t.path("superd.pid")
    first = t.start([echo_service("first")], pidfile=pidfile)
    with open(pidfile) as f:
        check(f.read().strip() == str(first.pid),
              "pid file does not hold superd's pid %d" % first.pid)
    conf = t.conf([echo_service("second")], name="second.conf")
    rc, _, err = t.run_superd(["-d", "-f", conf, "-p", pidfile,
                               "-P", t.path("second.ports")])
    check(rc == 3, "a second superd on the same pid file exited %d, not 3"
          % rc)
    first.check_alive("after the second superd")
    with open(pidfile) as f:
        check(f.read().strip() == str(first.pid),
              "the second superd changed the first one's pid file")
    check(talk(first.port("first")) == b"ok\n",
          "the first superd no longer serves")
    first.signal(signal.SIGTERM)
    check(first.wait_exit() == 0, "superd did not exit 0 on SIGTERM")
    check(not os.path.exists(pidfile), "pid file left after SIGTERM")
