#!/bin/bash
# Boots the Debian guest built by guests/debian/make-guest.sh (with
# tests/linux/workload.sh as its workload) and checks the workload's output.
#
#   run-linux.sh --backend qemu [--qemu PATH] [--pae] GUESTDIR
#   run-linux.sh --backend bt|kvm --btvm PATH [--pae] [--no-apic] GUESTDIR
#
# qemu  QEMU TCG, the reference: -M pc (i440FX, PIIX3, local APIC, IOAPIC,
#       ACPI with its PM timer) without the HPET btvm does not have, and a
#       pentium3 CPU trimmed towards btvm's CPUID model (SSE2 and CLFLUSH
#       added; PAE only with --pae).  QEMU TCG offers no invariant TSC and
#       no IA32_TSC_ADJUST (it warns and drops them), so its kernel would
#       keep a clocksource watchdog on the TSC, which on a loaded host can
#       mark the TSC unstable: QEMU alone gets tsc=reliable added.
# bt    btvm --accel bt.
# kvm   btvm --accel kvm, after `btvm probe --accel kvm --needs iret,paging`:
#       a host that cannot run those makes the test SKIP with the probe's line.
# --no-apic is passed to btvm: a PC with the 8259 only (no local APIC,
# IOAPIC, ACPI), which the kernel finds out by itself (btvm backends).
# --user-exec bt|direct is passed to btvm (default: btvm's, direct).
# --pae says GUESTDIR holds the -686-pae kernel (checked) and gives QEMU's
# CPU PAE.
#
# The lines the guest prints between "=== btvm-workload begin ===" and
# "=== btvm-workload end (status N) ===" (\r stripped; the kernel's release
# and version string, from GUESTDIR/kernel-version, replaced by
# @KERNEL_RELEASE@ and @KERNEL_VERSION@; lines starting with "#info ",
# which differ between machines, left out) must equal --expect FILE
# (default tests/linux/expected/workload.out), the workload must end with
# status 0, and the machine must end by itself (the guest powers off or
# reboots: QEMU -no-reboot exits 0, btvm exits 0 on ACPI S5 or the i8042
# reset).  No console line may say "Fatal" (the kernel's "PCI: Fatal: No
# config space access function found" was one).  Under btvm the "#info"
# lines must show the kernel took its TSC frequency from CPUID: a
# "tsc: Detected" line, none about calibrating against the PIT, refining
# the calibration or marking the TSC unstable, and a non-zero "cpu MHz"
# (QEMU TCG calibrates; its lines are not checked).  The boot-to-init time
# (from starting the emulator to the /init marker line on the console,
# measured here) is printed, not checked.
# Exit: 0 pass, 1 fail, 77 skip.  GUEST_KEEP_OUTPUT=DIR keeps the console log.
set -u

here=$(cd "$(dirname "$0")" && pwd)
backend="" btvm="" qemu="${QEMU:-qemu-system-i386}" pae=0 guest="" expect="$here/expected/workload.out"
btvm_opts=()
timeout_s=300
usage() {
	echo "usage: $0 --backend qemu|bt|kvm [--btvm PATH] [--qemu PATH] [--pae] [--no-apic] [--user-exec bt|direct] [--expect FILE] [--timeout SEC] GUESTDIR" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend="${2:-}"; shift 2 || usage ;;
	--btvm) btvm="${2:-}"; shift 2 || usage ;;
	--qemu) qemu="${2:-}"; shift 2 || usage ;;
	--pae) pae=1; shift ;;
	--no-apic) btvm_opts+=(--no-apic); shift ;;
	--user-exec) btvm_opts+=(--user-exec "${2:-}"); shift 2 || usage ;;
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

case "$backend" in
qemu)
	command -v "$qemu" >/dev/null 2>&1 || { echo "SKIP: $qemu not found"; exit 77; }
	[ ${#btvm_opts[@]} -eq 0 ] || { echo "run-linux: --no-apic and --user-exec are btvm options" >&2; exit 1; }
	cpu=pentium3,-vme,-de,-mce,-mca,-pse36,+sse2,+clflush
	[ $pae -eq 1 ] || cpu=$cpu,-pae
	cmd=(timeout "$timeout_s" "$qemu" -accel tcg -M pc,hpet=off -cpu "$cpu" -m 256
		-kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "$cmdline tsc=reliable"
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
	cmd=(timeout $((timeout_s + 15)) "$btvm" run --accel "$backend" "${btvm_opts[@]}" --mem 256M
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

# The workload's lines, normalised; its "#info " lines apart.
awk '/^=== btvm-workload end/ { exit } in_wl { print } /^=== btvm-workload begin ===$/ { in_wl = 1 }' \
	"$tmp/console" | while IFS= read -r l; do
	l=${l//"$version"/@KERNEL_VERSION@}
	printf '%s\n' "${l//"$release"/@KERNEL_RELEASE@}"
done >"$tmp/workload.all"
grep -v '^#info ' "$tmp/workload.all" >"$tmp/workload"
grep '^#info ' "$tmp/workload.all" >"$tmp/info"
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
fatal=$(grep -m 3 'Fatal' "$tmp/console")
if [ -n "$fatal" ]; then
	ok=0
	why+=("the console says Fatal: $(printf '%s' "$fatal" | tr '\n' '|')")
fi
if [ "$backend" != qemu ] && grep -q '^=== btvm-workload end (status 0) ===$' "$tmp/console"; then
	# btvm reports the TSC frequency in CPUID 15H: the kernel must have
	# taken it from there.
	if ! grep -Eq '^#info tsc: Detected [0-9]+\.[0-9]+ MHz' "$tmp/info"; then
		ok=0
		why+=("no 'tsc: Detected ... MHz' line in the kernel log")
	fi
	# (On a host whose TSC frequency leaf 15H cannot name exactly enough,
	# `btvm probe` says "no crystal", and the kernel refines 16H's MHz.)
	pat='PIT|[Cc]alibrat|Refined|unstable'
	"$btvm" probe 2>/dev/null | grep -q "the guest's CPUID 15H: no crystal" && pat='PIT|unstable'
	bad=$(grep -E -m 3 "$pat" "$tmp/info")
	if [ -n "$bad" ]; then
		ok=0
		why+=("the kernel did not take its TSC frequency from CPUID: $(printf '%s' "$bad" | tr '\n' '|')")
	fi
	if ! grep -Eq '^#info cpu MHz: [1-9]' "$tmp/info"; then
		ok=0
		why+=("/proc/cpuinfo: $(grep -m 1 'cpu MHz' "$tmp/info" || echo 'no cpu MHz line')")
	fi
fi
if [ "$status" != 0 ]; then
	ok=0
	case $status in
	124) why+=("timed out after $timeout_s s (exit status 124)") ;;
	*) why+=("$backend exited with status $status, not 0 (the guest powers off or reboots at the end)") ;;
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
sed 's/^#info /    /' "$tmp/info"
exit 0
