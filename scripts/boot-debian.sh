#!/bin/bash
# Builds (once, cached) a guest from Debian 12's stock i386 kernel and
# busybox and boots it under btvm's binary translator to a shell on the
# serial console.  Ctrl-A x quits.
#
#   scripts/boot-debian.sh [--pae] [--accel bt|kvm] [--build DIR]
#
# The guest goes to DIR/guests/debian-shell (DIR defaults to build/, where
# scripts/setup.sh builds btvm).  Needs Debian's package registry the first
# time (guests/debian/make-guest.sh explains what it downloads); without it,
# boot the built-in demo guest instead: build/btvm run build/guests/demo.elf
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build pae=() accel=bt suffix=
while [ $# -gt 0 ]; do
	case $1 in
	--pae) pae=(--pae); suffix=-pae; shift ;;
	--accel) accel=${2:?--accel needs bt or kvm}; shift 2 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "boot-debian: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
btvm=$build/btvm
if [ ! -x "$btvm" ]; then
	echo "boot-debian: no btvm at $btvm (run scripts/setup.sh first)" >&2
	exit 2
fi
guest=$build/guests/debian-shell$suffix
"$root/guests/debian/make-guest.sh" "${pae[@]}" "$guest"
exec "$btvm" run --accel "$accel" --mem 256M --initrd "$guest/initrd.gz" \
	--append "$(cat "$guest/cmdline")" "$guest/vmlinuz"
