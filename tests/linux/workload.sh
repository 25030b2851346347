# The standard workload of the Linux guest test (run by the guest's /init
# with busybox sh; its output is compared with expected/workload.out).
# Everything here is deterministic (no times, no PIDs, no random data),
# except the '#info ' lines at the end, which the comparison leaves out.
uname -a
uname -m
ls /
# A file from a fixed pattern: the numbers 1..20000, one per line.
seq 1 20000 >/tmp/numbers
wc -l -c /tmp/numbers
sha256sum /tmp/numbers
md5sum /tmp/numbers
# 1 MiB of 'x' through dd and tr.
dd if=/dev/zero bs=4096 count=256 2>/dev/null | tr '\0' x | sha256sum
# Sorting, arithmetic, pipes, many short-lived processes.
sort -r -n /tmp/numbers | head -n 3
seq 1 500 | sort | tail -n 2
expr 6 \* 7
expr 123456789 % 1000
awk 'BEGIN { s = 0; for (i = 1; i <= 100000; i++) s += i * i; printf "%.0f\n", s }'
n=0
for i in $(seq 1 50); do n=$(expr $n + $i); done
echo "sum 1..50 = $n"
gzip -c /tmp/numbers | gunzip -c | cmp - /tmp/numbers && echo "gzip round trip ok"
# Timekeeping: the kernel must end on the tsc clocksource.  btvm reports
# the TSC frequency in CPUID leaf 15H, so the kernel registers tsc before
# init starts; QEMU TCG does not, and its kernel registers tsc only after
# refining its calibration a second after boot: wait for that (10 s at most).
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
i=0
while [ "$(cat $cs)" = tsc-early ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "clocksource: $(cat $cs)"
# Lines starting with '#info ' differ from machine to machine: run-linux.sh
# leaves them out of the comparison (and checks them for btvm's backends).
dmesg | sed -n 's/^\[[ 0-9.]*\] \(tsc: .*\)/#info \1/p'
sed -n 's/^cpu MHz[[:space:]]*: */#info cpu MHz: /p' /proc/cpuinfo
echo done
