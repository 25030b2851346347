#!/bin/bash
# Runs one guest test ELF and checks its serial output and exit status.
#
#   run-guest.sh --backend qemu [--qemu PATH]          --expect FILE ELF
#   run-guest.sh --backend kvm --btvm PATH [--needs L] --expect FILE ELF
#   run-guest.sh --backend bt  --btvm PATH             --expect FILE ELF
#
# --needs L   what the test needs from the host's KVM besides flat 32-bit
#             protected mode: "none", or a comma list of "iret", "paging".
#             With --backend kvm the runner first runs
#                 btvm probe --accel kvm --needs L
#             which prints one line and exits 0 (the host can run it),
#             3 (KVM works but lacks something in L) or 4 (no usable KVM);
#             3 and 4 make this test SKIP (exit 77) with the probe's line.
# The guest's COM1 output (\r stripped) must equal the --expect file line
# for line, and the emulator must exit with status 1 (the guest wrote 0 to
# isa-debug-exit at 0xf4: (0 << 1) | 1).
# --stdin FILE feeds FILE to the guest's COM1 input (default /dev/null).
# --disk GEN  gives the guest a disk: the runner runs `bash GEN IMAGE` to
#             make a fresh image in its temporary directory for every run
#             (so no run sees another's writes and no committed file is
#             written) and attaches IMAGE as the primary IDE master: QEMU
#             gets -drive file=IMAGE,format=raw,if=ide,index=0 with the
#             disk's IDENTIFY strings set to btvm's (model "btvm ATA disk",
#             serial BTVM00001, firmware 1.0) so both print the same; btvm
#             gets --disk IMAGE.
# --drives GEN  gives the guest several IDE drives: the runner runs `bash
#             GEN DIR`, which makes fresh images in DIR (its temporary
#             directory) and prints one line per drive, "INDEX MEDIA
#             [FILE]" (MEDIA disk or cdrom; no FILE: an empty CD drive).
#             QEMU and btvm both get -drive / --drive
#             if=ide,index=INDEX,media=MEDIA[,file=DIR/FILE,format=raw],
#             and QEMU the IDENTIFY strings of btvm's disks and CD-ROM
#             (model, firmware; the serial numbers differ: btvm numbers
#             them by position).
# --screen FILE  the test draws on the VGA text screen: QEMU gets a VGA
#             (-device isa-vga: -nodefaults leaves none; ISA, so that the
#             PCI bus stays as btvm's), btvm gets --display file:SCREEN, and
#             SCREEN (the text screen when the guest stopped) must equal FILE.
# Exit: 0 pass, 1 fail, 77 skip.  Set GUEST_KEEP_OUTPUT=DIR to keep the
# raw output there.
set -u

backend="" btvm="" needs="none" expect="" elf="" stdin_file=/dev/null disk_gen="" drives_gen="" screen="" qemu="${QEMU:-qemu-system-i386}"
usage() {
	echo "usage: $0 --backend qemu|kvm|bt [--btvm PATH] [--qemu PATH] [--needs none|iret,paging,tsc] [--stdin FILE] [--disk GEN] [--drives GEN] [--screen FILE] --expect FILE ELF" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend="${2:-}"; shift 2 || usage ;;
	--btvm) btvm="${2:-}"; shift 2 || usage ;;
	--qemu) qemu="${2:-}"; shift 2 || usage ;;
	--needs) needs="${2:-}"; shift 2 || usage ;;
	--expect) expect="${2:-}"; shift 2 || usage ;;
	--stdin) stdin_file="${2:-}"; shift 2 || usage ;;
	--disk) disk_gen="${2:-}"; shift 2 || usage ;;
	--drives) drives_gen="${2:-}"; shift 2 || usage ;;
	--screen) screen="${2:-}"; shift 2 || usage ;;
	--) shift; elf="${1:-}"; shift || usage ;;
	-*) echo "run-guest: unknown option $1" >&2; usage ;;
	*) [ -z "$elf" ] || usage; elf="$1"; shift ;;
	esac
done
[ -n "$backend" ] && [ -n "$expect" ] && [ -n "$elf" ] || usage
[ -f "$elf" ] || { echo "run-guest: no guest ELF at $elf (build the guest-tests target)" >&2; exit 1; }
[ -e "$expect" ] || { echo "run-guest: no expected output at $expect" >&2; exit 1; }
case "$needs" in
none) ;;
*[!a-z,]* | ,* | *, | *,,*) echo "run-guest: --needs must be none or a list of iret, paging, tsc (got '$needs')" >&2; exit 1 ;;
*)
	for n in ${needs//,/ }; do
		case $n in
		iret | paging | tsc) ;;
		*) echo "run-guest: --needs must be none or a list of iret, paging, tsc (got '$needs')" >&2; exit 1 ;;
		esac
	done
	;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$elf" .elf)

qemu_disk=() btvm_disk=()
if [ -n "$disk_gen" ]; then
	[ -f "$disk_gen" ] || { echo "run-guest: no disk generator at $disk_gen" >&2; exit 1; }
	if ! bash "$disk_gen" "$tmp/disk.img" >"$tmp/disk-gen.out" 2>&1; then
		echo "FAIL: $name: disk generator $disk_gen failed:"
		cat "$tmp/disk-gen.out"
		exit 1
	fi
	qemu_disk=(-drive "file=$tmp/disk.img,format=raw,if=ide,index=0"
		-global "ide-hd.model=btvm ATA disk" -global ide-hd.serial=BTVM00001
		-global ide-hd.ver=1.0)
	btvm_disk=(--disk "$tmp/disk.img")
fi
if [ -n "$drives_gen" ]; then
	[ -f "$drives_gen" ] || { echo "run-guest: no drive generator at $drives_gen" >&2; exit 1; }
	mkdir "$tmp/drives"
	if ! bash "$drives_gen" "$tmp/drives" >"$tmp/drives.list" 2>"$tmp/drives-gen.err"; then
		echo "FAIL: $name: drive generator $drives_gen failed:"
		cat "$tmp/drives-gen.err"
		exit 1
	fi
	qemu_disk+=(-global "ide-hd.model=btvm ATA disk" -global ide-hd.ver=1.0
		-global "ide-cd.model=btvm ATAPI CD-ROM" -global ide-cd.ver=1.0)
	while read -r index media file; do
		spec="if=ide,index=$index,media=$media"
		[ -z "$file" ] || spec="$spec,file=$tmp/drives/$file,format=raw"
		qemu_disk+=(-drive "$spec")
		btvm_disk+=(--drive "$spec")
	done <"$tmp/drives.list"
fi

qemu_vga=() btvm_display=()
if [ -n "$screen" ]; then
	[ -f "$screen" ] || { echo "run-guest: no expected screen at $screen" >&2; exit 1; }
	qemu_vga=(-device isa-vga)
	btvm_display=(--display "file:$tmp/screen")
fi

case "$backend" in
qemu)
	if ! command -v "$qemu" >/dev/null 2>&1; then
		echo "SKIP: $qemu not found"
		exit 77
	fi
	timeout 60 "$qemu" -accel tcg -kernel "$elf" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-serial stdio -display none -nodefaults -no-reboot -m 128 "${qemu_disk[@]}" "${qemu_vga[@]}" \
		<"$stdin_file" >"$tmp/raw" 2>"$tmp/stderr"
	status=$?
	;;
kvm | bt)
	if [ -z "$btvm" ] || [ ! -x "$btvm" ]; then
		echo "run-guest: --btvm must name the btvm executable (got '${btvm}')" >&2
		exit 1
	fi
	if [ "$backend" = kvm ]; then
		timeout 60 "$btvm" probe --accel kvm --needs "$needs" </dev/null >"$tmp/probe.out" 2>"$tmp/probe.err"
		prc=$?
		line=$(head -n 1 "$tmp/probe.out")
		case $prc in
		0) ;;
		3 | 4)
			echo "SKIP: $line"
			exit 77
			;;
		*)
			echo "FAIL: '$btvm probe --accel kvm --needs $needs' exited $prc: $line"
			cat "$tmp/probe.err"
			exit 1
			;;
		esac
	fi
	# btvm enforces --timeout itself; the outer timeout is a safety net.
	# BTVM_RUN_ARGS: extra options, e.g. --user-exec bt (label guest-bt-translated)
	# shellcheck disable=SC2086
	timeout 75 "$btvm" run --accel "$backend" --mem 128M --serial stdio --timeout 60 ${BTVM_RUN_ARGS:-} "${btvm_disk[@]}" "${btvm_display[@]}" "$elf" \
		<"$stdin_file" >"$tmp/raw" 2>"$tmp/stderr"
	status=$?
	;;
*)
	usage
	;;
esac

tr -d '\r' <"$tmp/raw" >"$tmp/out"
if [ -n "${GUEST_KEEP_OUTPUT:-}" ]; then
	mkdir -p "$GUEST_KEEP_OUTPUT" && cp "$tmp/out" "$GUEST_KEEP_OUTPUT/$name.$backend.out"
fi

ok=1
if ! diff -u --label "$expect" --label "$name ($backend output)" "$expect" "$tmp/out" >"$tmp/diff"; then
	ok=0
	echo "FAIL: $name: serial output differs from $expect:"
	cat "$tmp/diff"
fi
if [ -n "$screen" ] && [ "$backend" != qemu ]; then
	if [ -n "${GUEST_KEEP_OUTPUT:-}" ] && [ -f "$tmp/screen" ]; then
		cp "$tmp/screen" "$GUEST_KEEP_OUTPUT/$name.$backend.screen"
	fi
	if ! diff -u --label "$screen" --label "$name ($backend --display file:)" "$screen" "$tmp/screen" >"$tmp/sdiff" 2>&1; then
		ok=0
		echo "FAIL: $name: the text screen differs from $screen:"
		cat "$tmp/sdiff"
	fi
fi
if [ "$status" -ne 1 ]; then
	ok=0
	case $status in
	3) why="the guest reported failure (wrote 1 to port 0xf4)" ;;
	124) why="timed out" ;;
	*) why="expected 1: the guest writes 0 to port 0xf4 on success" ;;
	esac
	echo "FAIL: $name: exit status $status ($why)"
fi
if [ $ok -eq 0 ]; then
	if [ -s "$tmp/stderr" ]; then
		echo "--- $backend stderr:"
		head -n 40 "$tmp/stderr"
	fi
	exit 1
fi
echo "PASS: $name ($backend): $(tail -n 1 "$tmp/out")"
exit 0
