#!/bin/bash
# ide-drives.sh DIR: makes the drives the `ide` guest test uses, fresh, in
# DIR, and prints one line per drive: "INDEX MEDIA [FILE]" (run-guest.sh
# --drives turns each into -drive / --drive if=ide,index=INDEX,media=MEDIA).
# All four positions are filled:
#   0 primary master    disk, 1 MiB
#   1 primary slave     disk, 2 MiB
#   2 secondary master  CD, 300 blocks of 2048 bytes
#   3 secondary slave   disk, 512 KiB
# Sector 0 of disk N holds "btvm ide drive N\n" padded with dots to 32 bytes,
# sixteen times; marked CD blocks hold "btvm ide cd block NNNNNN\n" padded
# likewise, 64 times.  Everything else is zeros (the files are sparse).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
line32() { local s=$1; while [ ${#s} -lt 31 ]; do s="$s."; done; printf '%s\n' "$s"; }
disk() {   # disk INDEX KiB
	local f="$dir/disk$1.img"
	rm -f -- "$f"
	truncate -s "$2K" -- "$f"
	for _ in $(seq 16); do line32 "btvm ide drive $1"; done |
		dd of="$f" bs=512 count=1 iflag=fullblock conv=notrunc status=none
	echo "$1 disk disk$1.img"
}
disk 0 1024
disk 1 2048
cd="$dir/cd.iso"
rm -f -- "$cd"
truncate -s $((300 * 2048)) -- "$cd"
for b in 0 1 2 16 299; do
	for _ in $(seq 64); do line32 "$(printf 'btvm ide cd block %06u' "$b")"; done |
		dd of="$cd" bs=2048 seek="$b" count=1 iflag=fullblock conv=notrunc status=none
done
echo "2 cdrom cd.iso"
disk 3 512
