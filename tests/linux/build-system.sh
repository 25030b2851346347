#!/bin/bash
# build-system.sh OUTDIR BTVM: the linux-system/build test.  Builds the
# Debian system guest (guests/debian/make-system.sh; cached, so a rerun is
# quick).  Exit: 0 built, 77 skip with the reason (not root, the tools of
# scripts/setup-system.sh missing, or Debian's package registry cannot be
# reached: make-system.sh exited 3), anything else fails.
set -u
[ $# -eq 2 ] || { echo "usage: $0 OUTDIR BTVM" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
make_system=$here/../../guests/debian/make-system.sh
if bash "$make_system" --check "$1" 2>/dev/null; then
	echo "up to date: $1 ($(cat "$1/kernel-version"))"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: make-system.sh needs root (mmdebstrap)"; exit 77; }
for t in mmdebstrap arch-test sfdisk mkfs.ext4; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: '$t' is not installed: run scripts/setup-system.sh"; exit 77; }
done
start=$SECONDS
bash "$make_system" --btvm "$2" "$1"
rc=$?
case $rc in
0) echo "built $1 in $((SECONDS - start)) s" ;;
3) echo "SKIP: make-system.sh could not reach Debian's package registry (see above)"; exit 77 ;;
*) echo "FAIL: make-system.sh exited $rc"; exit 1 ;;
esac
