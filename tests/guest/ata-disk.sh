#!/bin/bash
# ata-disk.sh OUT: writes the disk image the `ata` guest test reads, fresh,
# at OUT.  run-guest.sh --disk runs this for every run, so no run sees what
# another one wrote and no committed file is ever modified.
#
# The image has 2^28 + 2048 sectors (128 GiB + 1 MiB apparent size, a few
# KiB on disk: it is sparse), so that it reaches past the 28-bit LBA limit
# and the LBA48 registers matter.  Marked sectors hold the 32-byte line
#     "btvm disk lba 0x%012x ok\n"  (the sector's LBA, lower-case hex)
# sixteen times; every other sector is zeros.  The guest knows the list.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
sectors=$(( (1 << 28) + 2048 ))
rm -f -- "$out"
truncate -s $(( sectors * 512 )) -- "$out"
for lba in 0 1000 $(( (1 << 28) - 2 )) $(( 1 << 28 )) $(( sectors - 1 )); do
	line=$(printf 'btvm disk lba 0x%012x ok' "$lba")
	for _ in $(seq 16); do printf '%s\n' "$line"; done |
		dd of="$out" bs=512 seek="$lba" count=1 iflag=fullblock conv=notrunc status=none
done
