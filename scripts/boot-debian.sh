#!/bin/bash
# Builds (once, cached) a guest from Debian 12's stock i386 kernel and
# busybox and boots it under btvm's binary translator to a shell on the
# serial console.  Ctrl-A x quits.
#
#   scripts/boot-debian.sh [--pae] [--accel bt|kvm|qemu] [--build DIR] [--system]
#
# The guest goes to DIR/guests/debian-shell (DIR defaults to build/, where
# scripts/setup.sh builds btvm).  Needs Debian's package registry the first
# time (guests/debian/make-guest.sh explains what it downloads); without it,
# boot the built-in demo guest instead: build/btvm run build/guests/demo.elf
# --system boots a real Debian 12 system instead (guests/debian/make-system.sh:
# systemd, gcc, make on an ext4 IDE disk; as root, after
# scripts/setup-system.sh) to root's shell on the serial console, which
# logs in by itself; it runs on a copy of DIR/guests/debian-system/disk.img,
# DIR/guests/debian-system.disk.img, kept between boots.  `poweroff` ends it.
# --accel qemu boots the same system under QEMU TCG (the reference).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build pae=() accel=bt suffix= system=0
while [ $# -gt 0 ]; do
	case $1 in
	--pae) pae=(--pae); suffix=-pae; shift ;;
	--accel) accel=${2:?--accel needs bt or kvm}; shift 2 ;;
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--system) system=1; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "boot-debian: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
btvm=$build/btvm
if [ ! -x "$btvm" ]; then
	echo "boot-debian: no btvm at $btvm (run scripts/setup.sh first)" >&2
	exit 2
fi
if [ $system -eq 1 ]; then
	guest=$build/guests/debian-system$suffix
	"$root/guests/debian/make-system.sh" "${pae[@]}" --btvm "$btvm" "$guest"
	disk=$guest.disk.img
	if [ ! -f "$disk" ] || [ "$guest/disk.img" -nt "$disk" ]; then
		echo "boot-debian: copying $guest/disk.img to $disk (the guest writes to it)" >&2
		cp --sparse=always "$guest/disk.img" "$disk"
	fi
	if [ "$accel" = qemu ]; then
		cpu=pentium3,-vme,-de,-mce,-mca,-pse36,+sse2,+clflush
		[ ${#pae[@]} -eq 1 ] || cpu=$cpu,-pae
		exec qemu-system-i386 -accel tcg -M pc,hpet=off -cpu "$cpu" -m 512 \
			-kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$(cat "$guest/cmdline")" \
			-drive "file=$disk,format=raw,if=ide,index=0" -display none -serial mon:stdio -nodefaults -no-reboot
	fi
	exec "$btvm" run --accel "$accel" --mem 512M --disk "$disk" --initrd "$guest/initrd.img" \
		--append "$(cat "$guest/cmdline")" "$guest/vmlinuz"
fi
[ "$accel" != qemu ] || { echo "boot-debian: --accel qemu goes with --system" >&2; exit 2; }
guest=$build/guests/debian-shell$suffix
"$root/guests/debian/make-guest.sh" "${pae[@]}" "$guest"
exec "$btvm" run --accel "$accel" --mem 256M --initrd "$guest/initrd.gz" \
	--append "$(cat "$guest/cmdline")" "$guest/vmlinuz"
