#!/bin/sh
# /init of the btvm Debian guest (copied into the initrd by make-guest.sh).
# PID 1: mounts the kernel file systems, prints the marker line the test
# runner times, runs /workload between two marker lines (or, without one,
# a shell on the serial console), and then ends the machine.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
# make-guest.sh links the applets when it can run busybox; else do it here.
[ -e /bin/mount ] || /bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Replaces the static /dev (console, ttyS0, null) with the kernel's full one.
mount -t devtmpfs devtmpfs /dev
echo "btvm-guest: init started on $(uname -r)"

if [ -f /workload ]; then
	# Only emergency kernel messages from here on, so that nothing the
	# kernel prints late (e.g. "random: crng init done") lands inside the
	# workload's output.
	echo 1 >/proc/sys/kernel/printk
	cd /root
	echo "=== btvm-workload begin ==="
	sh /workload
	rc=$?
	echo "=== btvm-workload end (status $rc) ==="
else
	echo "btvm-guest: shell on the serial console; 'exit' ends the machine"
	# cttyhack makes the console's real tty (ttyS0) the controlling
	# terminal, so that job control and ^C work.
	setsid cttyhack sh -l
fi

# Without ACPI (acpi=off, or a machine that has none) the kernel cannot
# power off: reboot(POWER_OFF) becomes a halt with interrupts disabled
# (kernel/reboot.c), which would hang QEMU and look like a crash to btvm.
# There, reboot instead: QEMU -no-reboot exits, and btvm ends with status 0
# on the i8042 reset the kernel's reboot path uses.
if [ -d /sys/firmware/acpi ]; then
	poweroff -f
fi
reboot -f
