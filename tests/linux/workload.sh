# The standard workload of the Linux guest test (run by the guest's /init
# with busybox sh; its output is compared with expected/workload.out).
# Everything here is deterministic: no times, no PIDs, no random data.
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
echo done
