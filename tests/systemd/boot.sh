#!/bin/sh
# boot.sh DIR - become the root of a throw-away machine and exec systemd.
#
# Runs as PID 1 of fresh pid, mount, network, uts, ipc and cgroup
# namespaces (tests/systemd/machine.py starts it under unshare).  The new
# root is an overlay of the host's / whose upper layer lives on a tmpfs
# mounted on DIR in the private mount namespace: whatever the booted system
# writes (dpkg, /etc, /var) lands there and is gone when PID 1 dies, and
# the host's files are never written.  /proc, /sys, /dev, /run and /tmp are
# fresh mounts of the namespaces, never the host's.
#
# Every unit that the targets of the host pull in (their .wants
# directories) is masked, and so is every generator: a boot then starts
# journald and nothing else, so that no unit of the host's can empty a
# /tmp, set a sysctl or touch a device.  The tests install and start
# what they test (the superd package) themselves.
set -eu
dir=$1

mount --make-rprivate /
mount -t tmpfs -o mode=755 sdboot "$dir"
mkdir "$dir/upper" "$dir/work" "$dir/root"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
root=$dir/root

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
mount -t tmpfs -o mode=755 dev "$root/dev"
for node in null zero full random urandom tty; do
	touch "$root/dev/$node"
	mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount -t tmpfs -o mode=755 run "$root/run"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
mount -t tmpfs -o mode=1777 vartmp "$root/var/tmp"

units=$root/etc/systemd/system
mkdir -p "$units" "$root/etc/systemd/system-generators"
for wants in /lib/systemd/system/*.wants /etc/systemd/system/*.wants; do
	[ -d "$wants" ] || continue
	for unit in "$wants"/*; do
		name=${unit##*/}
		case $name in
		*.target | systemd-journald.service | systemd-journald*.socket)
			continue ;;
		esac
		rm -f "$units/$name"
		ln -s /dev/null "$units/$name"
	done
done
for gen in /lib/systemd/system-generators/*; do
	ln -sf /dev/null "$root/etc/systemd/system-generators/${gen##*/}"
done
# A container's policy-rc.d (exit 101) would keep the package's scripts
# from starting the unit under test.
rm -f "$root/usr/sbin/policy-rc.d"

ip link set lo up
mkdir "$root/oldroot"
cd "$root"
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot
export container=superd-test
# The journal gets systemd's own lines on the units (a watchdog timeout,
# say) along with the services'.
exec /lib/systemd/systemd --system --log-target=journal
