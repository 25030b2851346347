#!/bin/bash
# ide+sparse-drives.sh DIR: the `ide` guest test's second layout, the one a
# kernel written on QEMU's pc machine often has: no primary master, its disk
# on the primary slave, an empty CD drive as the secondary master and no
# secondary slave.  Output as ide-drives.sh.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
f="$dir/disk1.img"
rm -f -- "$f"
truncate -s 2M -- "$f"
line="btvm ide drive 1..............."
for _ in $(seq 16); do printf '%s\n' "$line"; done |
	dd of="$f" bs=512 count=1 iflag=fullblock conv=notrunc status=none
echo "1 disk disk1.img"
echo "2 cdrom"
