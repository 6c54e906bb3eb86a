#!/bin/sh
# Reporting service for the integration tests: tells its client what superd
# handed it (SPEC section 4), one "key: value" line each, then "end".
#
# It first reads one line from fd 0 and echoes it, which proves that the
# connection is on stdin as well as stdout.  Everything is read from /proc so
# that the shell itself cannot add to or hide anything.

IFS= read -r line
echo "stdin: $line"

# The shell's descriptor table, listed before the shell makes any pipe or
# command substitution (those would add descriptors of its own).  The harness
# drops the one descriptor the shell holds open on this script.
ls -l /proc/$$/fd

# The environment exactly as execve() received it.
tr '\0' '\n' </proc/$$/environ | sed 's/^/env: /'
tr '\0' '\n' </proc/$$/cmdline | sed 's/^/arg: /'
echo "pid: $$"
echo "stat: $(cat /proc/$$/stat)"
echo "cwd: $(readlink /proc/$$/cwd)"
echo "nofile: $(ulimit -n)"
# Ids of the shell; the signal state of a command it starts (the shell
# itself blocks signals while it waits for a child).
grep -E '^(Uid|Gid|Groups):' /proc/$$/status | sed 's/^/status: /'
grep -E '^(SigBlk|SigIgn):' /proc/self/status | sed 's/^/status: /'
echo end
