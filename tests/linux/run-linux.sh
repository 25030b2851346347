#!/bin/bash
# Boots the Debian guest built by guests/debian/make-guest.sh (with
# tests/linux/workload.sh as its workload) and checks the workload's output.
#
#   run-linux.sh --backend qemu [--qemu PATH] [--pae] GUESTDIR
#   run-linux.sh --backend bt|kvm --btvm PATH [--pae] GUESTDIR
#
# qemu  QEMU TCG, the reference: -M isapc (no PCI, ACPI or IOAPIC, like
#       btvm's platform) with a pentium3 CPU trimmed towards btvm's CPUID
#       model (no local APIC; SSE2 and CLFLUSH added; PAE only with --pae).
# bt    btvm --accel bt.
# kvm   btvm --accel kvm, after `btvm probe --accel kvm --needs iret,paging`:
#       a host that cannot run those makes the test SKIP with the probe's line.
# --full-platform drops acpi=off noapic nolapic pci=off noisapnp pnpbios=off
# from the command line: the kernel then runs on the local APIC, IOAPIC,
# ACPI tables (powering off through S5) and PCI (btvm backends).
# --user-exec bt|direct is passed to btvm (default: btvm's, direct).
# --pae says GUESTDIR holds the -686-pae kernel (checked) and gives QEMU's
# CPU PAE.
#
# The lines the guest prints between "=== btvm-workload begin ===" and
# "=== btvm-workload end (status N) ===" (\r stripped; the kernel's release
# and version string, from GUESTDIR/kernel-version, replaced by
# @KERNEL_RELEASE@ and @KERNEL_VERSION@) must equal --expect FILE (default
# tests/linux/expected/workload.out), the workload must end with status 0,
# and the machine must end by itself (the guest reboots: QEMU -no-reboot
# exits 0, btvm exits 0 on the i8042 reset).  The boot-to-init time (from
# starting the emulator to the /init marker line on the console, measured
# here) is printed, not checked.
# Exit: 0 pass, 1 fail, 77 skip.  GUEST_KEEP_OUTPUT=DIR keeps the console log.
set -u

here=$(cd "$(dirname "$0")" && pwd)
backend="" btvm="" qemu="${QEMU:-qemu-system-i386}" pae=0 guest="" expect="$here/expected/workload.out" full=0
user_exec=()
timeout_s=300
usage() {
	echo "usage: $0 --backend qemu|bt|kvm [--btvm PATH] [--qemu PATH] [--pae] [--full-platform] [--user-exec bt|direct] [--expect FILE] [--timeout SEC] GUESTDIR" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend="${2:-}"; shift 2 || usage ;;
	--btvm) btvm="${2:-}"; shift 2 || usage ;;
	--qemu) qemu="${2:-}"; shift 2 || usage ;;
	--pae) pae=1; shift ;;
	--full-platform) full=1; shift ;;
	--user-exec) user_exec=(--user-exec "${2:-}"); shift 2 || usage ;;
	--expect) expect="${2:-}"; shift 2 || usage ;;
	--timeout) timeout_s="${2:-}"; shift 2 || usage ;;
	-*) echo "run-linux: unknown option $1" >&2; usage ;;
	*) [ -z "$guest" ] || usage; guest="$1"; shift ;;
	esac
done
[ -n "$backend" ] && [ -n "$guest" ] || usage
case "$timeout_s" in '' | *[!0-9]*) echo "run-linux: --timeout must be whole seconds" >&2; exit 1 ;; esac
[ -f "$expect" ] || { echo "run-linux: no expected output at $expect" >&2; exit 1; }
for f in vmlinuz initrd.gz cmdline kernel-version; do
	if [ ! -f "$guest/$f" ]; then
		# linux/build-guest skips when Debian's registry cannot be reached.
		echo "SKIP: no guest in $guest (missing $f): guests/debian/make-guest.sh has not built it"
		exit 77
	fi
done
kver=$(head -n 1 "$guest/kernel-version")
release=${kver%% *}
version="#${kver#*#}"
case "$pae:$release" in
1:*-pae | 0:*) ;;
*) echo "FAIL: --pae, but $guest holds kernel $release"; exit 1 ;;
esac
case "$pae:$release" in
0:*-pae) echo "FAIL: $guest holds the PAE kernel $release; pass --pae"; exit 1 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-linux.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cmdline=$(cat "$guest/cmdline")
if [ "$full" = 1 ]; then
	# --full-platform: let the kernel use the local APIC, IOAPIC, ACPI
	# (tables, PM timer, S5 power-off) and PCI instead of the recommended
	# command line's PIC-only machine (btvm backends only).
	cmdline=$(printf '%s\n' "$cmdline" | sed -E 's/ ?\b(acpi=off|noapic|nolapic|pci=off|noisapnp|pnpbios=off)\b//g')
fi

case "$backend" in
qemu)
	command -v "$qemu" >/dev/null 2>&1 || { echo "SKIP: $qemu not found"; exit 77; }
	cpu=pentium3,-apic,-vme,-de,-mce,-mca,-pse36,+sse2,+clflush
	[ $pae -eq 1 ] || cpu=$cpu,-pae
	cmd=(timeout "$timeout_s" "$qemu" -accel tcg -M isapc -cpu "$cpu" -m 256
		-kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "$cmdline"
		-display none -serial stdio -nodefaults -no-reboot)
	;;
bt | kvm)
	if [ -z "$btvm" ] || [ ! -x "$btvm" ]; then
		echo "run-linux: --btvm must name the btvm executable (got '$btvm')" >&2
		exit 1
	fi
	if [ "$backend" = kvm ]; then
		timeout 60 "$btvm" probe --accel kvm --needs iret,paging </dev/null >"$tmp/probe.out" 2>"$tmp/probe.err"
		prc=$?
		line=$(head -n 1 "$tmp/probe.out")
		case $prc in
		0) ;;
		3 | 4) echo "SKIP: $line"; exit 77 ;;
		*) echo "FAIL: '$btvm probe --accel kvm' exited $prc: $line $(head -n 1 "$tmp/probe.err")"; exit 1 ;;
		esac
	fi
	# btvm enforces --timeout itself; the outer timeout is a safety net.
	cmd=(timeout $((timeout_s + 15)) "$btvm" run --accel "$backend" "${user_exec[@]}" --mem 256M
		--initrd "$guest/initrd.gz" --append "$cmdline" --serial stdio --timeout "$timeout_s"
		"$guest/vmlinuz")
	;;
*)
	usage
	;;
esac

# Run it, noting when the /init marker appears.
start=$EPOCHREALTIME
{
	"${cmd[@]}" </dev/null 2>"$tmp/stderr"
	echo $? >"$tmp/status"
} | while IFS= read -r l || [ -n "$l" ]; do
	printf '%s\n' "$l" >>"$tmp/raw"
	if [ ! -e "$tmp/init-at" ] && [[ $l == *"btvm-guest: init started"* ]]; then
		echo "$EPOCHREALTIME" >"$tmp/init-at"
	fi
done
status=$(cat "$tmp/status" 2>/dev/null || echo "?")
touch "$tmp/raw"
tr -d '\r' <"$tmp/raw" >"$tmp/console"
if [ -n "${GUEST_KEEP_OUTPUT:-}" ]; then
	mkdir -p "$GUEST_KEEP_OUTPUT" && cp "$tmp/console" "$GUEST_KEEP_OUTPUT/linux-$release.$backend.console"
fi

# The workload's lines, normalised.
awk '/^=== btvm-workload end/ { exit } in_wl { print } /^=== btvm-workload begin ===$/ { in_wl = 1 }' \
	"$tmp/console" | while IFS= read -r l; do
	l=${l//"$version"/@KERNEL_VERSION@}
	printf '%s\n' "${l//"$release"/@KERNEL_RELEASE@}"
done >"$tmp/workload"
end=$(grep -m 1 '^=== btvm-workload end' "$tmp/console")

ok=1
why=()
if [ -e "$tmp/init-at" ]; then
	init_s=$(awk -v a="$start" -v b="$(cat "$tmp/init-at")" 'BEGIN { printf "%.2f", b - a }')
else
	init_s=""
	ok=0
	why+=("the /init marker never appeared")
fi
if [ -z "$end" ]; then
	ok=0
	why+=("no workload end marker")
elif [ "$end" != "=== btvm-workload end (status 0) ===" ]; then
	ok=0
	why+=("the workload failed: $end")
fi
if ! diff -u --label "$expect" --label "workload output ($backend)" "$expect" "$tmp/workload" >"$tmp/diff"; then
	ok=0
	why+=("the workload's output differs from $expect")
fi
if [ "$status" != 0 ]; then
	ok=0
	case $status in
	124) why+=("timed out after $timeout_s s (exit status 124)") ;;
	*) why+=("$backend exited with status $status, not 0 (the guest reboots at the end)") ;;
	esac
fi

if [ $ok -eq 0 ]; then
	msg=$(printf '%s; ' "${why[@]}")
	echo "FAIL: linux $release ($backend): ${msg%; }"
	# The diff only says something once the workload has started.
	if grep -q '^=== btvm-workload begin ===$' "$tmp/console" && [ -s "$tmp/diff" ]; then
		cat "$tmp/diff"
	fi
	echo "--- last console lines:"
	tail -n 25 "$tmp/console"
	if [ -s "$tmp/stderr" ]; then
		echo "--- $backend stderr:"
		head -n 20 "$tmp/stderr"
	fi
	exit 1
fi
echo "PASS: linux $release ($backend): workload output matches; boot-to-init ${init_s} s, whole run $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
exit 0
