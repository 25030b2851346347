#!/bin/bash
# check_sandbox.sh BTVM BACKEND GUEST_DIR
#
# The host sandbox end to end, through the real binary (docs/security.md):
# for each --sandbox-selftest kind, btvm runs a guest test kernel and,
# from the vCPU thread at the guest's first exit while it is still
# running, makes a host call a hostile guest would want.
#   default (sandbox on): exit status 10, exactly one stderr line
#       "btvm: sandbox: blocked host system call NAME (nr N)", the file
#       the call would create does not exist, and the guest did not get
#       to its final PASS line (it was stopped mid-run);
#   --no-sandbox: the call gets through (the file exists, or btvm says
#       what the call returned) and the guest runs to its end.  The calls
#       that let btvm go on are made in one run (--sandbox-selftest is
#       repeatable); execve, which replaces btvm, in another.
# BACKEND bt runs interrupts.elf (it sleeps in HLT, which exits to the run
# loop; bt does port I/O without exits); kvm runs hello.elf (every port
# write exits) and is skipped (77) when `btvm probe --accel kvm` finds no
# usable KVM.  Exit: 0 pass, 1 fail, 77 skip.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 BTVM bt|kvm GUEST_DIR" >&2
	exit 2
fi
BTVM=$1 BACKEND=$2 GUESTS=$3
case $BACKEND in
bt) ELF=$GUESTS/interrupts.elf ;;
kvm)
	ELF=$GUESTS/hello.elf
	line=$("$BTVM" probe --accel kvm --needs none </dev/null)
	rc=$?
	if [ $rc -eq 3 ] || [ $rc -eq 4 ]; then
		echo "SKIP: $line"
		exit 77
	fi
	;;
*)
	echo "$0: backend must be bt or kvm" >&2
	exit 2
	;;
esac
[ -f "$ELF" ] || { echo "FAIL: no guest at $ELF (build the guest-tests target)"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/check-sandbox.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failed=0 total=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# run NAME ARGS...: btvm run --accel BACKEND ARGS ELF; sets rc, out, err
run() {
	local name=$1
	shift
	timeout 60 "$BTVM" run --accel "$BACKEND" --timeout 30 "$@" "$ELF" </dev/null \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	out=$(tr -d '\r' <"$TMP/$name.out")
	# a host without direct execution adds a "btvm: note:" line: not
	# the sandbox's business
	err=$(grep -v '^btvm: note: ' "$TMP/$name.err")
}

guest_finished() { grep -q '^PASS: ' <<<"$out"; }

# blocked KIND EXPECTED_LINE [FILE]
blocked() {
	local kind=$1 want=$2 file=${3:-}
	total=$((total + 1))
	run "on-${kind%%:*}" --sandbox-selftest="$kind"
	local ok=1
	[ $rc -eq 10 ] || { fail "$kind (sandbox on): exit status $rc, expected 10"; ok=0; }
	[ "$err" = "$want" ] || { fail "$kind (sandbox on): stderr '$err', expected '$want'"; ok=0; }
	if [ -n "$file" ] && [ -e "$file" ]; then
		fail "$kind (sandbox on): $file was created"
		ok=0
	fi
	if guest_finished; then
		fail "$kind (sandbox on): the guest ran to its end; the call was not made while it ran"
		ok=0
	fi
	[ $ok -eq 1 ] && echo "ok - $kind is stopped: $err"
}

# through NAME WANT_STATUS KIND EVIDENCE [KIND EVIDENCE]...: one --no-sandbox
# run making every KIND; EVIDENCE is a file that must exist or a pattern
# btvm's stderr must match.
through() {
	local name=$1 want_rc=$2
	shift 2
	local args=() kinds=()
	for ((i = 1; i <= $#; i += 2)); do
		args+=(--sandbox-selftest="${!i}")
	done
	total=$((total + 1))
	# Direct execution of guest user code (bt's default) traps every i386
	# system call with a seccomp filter of its own, sandbox or not: the
	# int80 call could not get through, so these runs translate ring 3.
	[ "$BACKEND" = bt ] && args+=(--user-exec bt)
	run "off-$name" --no-sandbox "${args[@]}"
	local ok=1
	[ $rc -eq "$want_rc" ] || { fail "$name (--no-sandbox): exit status $rc, expected $want_rc"; ok=0; }
	while [ $# -gt 0 ]; do
		local kind=$1 evidence=$2
		shift 2
		case $evidence in
		/*) [ -e "$evidence" ] || { fail "$kind (--no-sandbox): $evidence was not created"; ok=0; } ;;
		*) grep -q -- "$evidence" <<<"$err" || { fail "$kind (--no-sandbox): stderr lacks '$evidence': $err"; ok=0; } ;;
		esac
		kinds+=("${kind%%:*}")
	done
	if [ "$want_rc" -eq 1 ] && ! guest_finished; then
		fail "$name (--no-sandbox): the guest did not run to its end"
		ok=0
	fi
	[ $ok -eq 1 ] && echo "ok - with --no-sandbox these get through: ${kinds[*]}"
}

# What the host allows (monitor/host_probe.c; BTVM_HOST_MASK hides
# capabilities): where the kernel has no i386 system-call entry, int $0x80
# from btvm is the host's own #GP before any filter sees it, so the int80
# checks are reported skipped; where it runs no compatibility-mode code,
# guest ring 3 is translated and the breakout checks expect what the
# translator does (the guest's own #GP, as under QEMU).
skipped=0
skip() {
	echo "skip - $*"
	skipped=$((skipped + 1))
}
has_i386=1 has_compat=1
i386_line=$("$BTVM" probe --needs i386-syscall </dev/null) || has_i386=0
compat_line=$("$BTVM" probe --needs compat-mode </dev/null) || has_compat=0
has_sysenter=1
sysenter_line=$("$BTVM" probe --needs sysenter </dev/null) || has_sysenter=0

B="btvm: sandbox: blocked host system call"
blocked "open:$TMP/opened" "$B openat (nr 257)" "$TMP/opened"
blocked "execve:$TMP/executed" "$B execve (nr 59)" "$TMP/executed"
blocked "socket:$TMP/socket" "$B socket (nr 41)" "$TMP/socket"
if [ $has_i386 = 1 ]; then
	blocked int80 "$B getpid (i386 nr 20)"
else
	skip "int80 (sandbox on): $i386_line"
fi
blocked x32 "$B getpid (x32 nr 39)"

calls=("open:$TMP/opened-off" "$TMP/opened-off" "socket:$TMP/socket-off" "$TMP/socket-off"
	x32 "x32 getpid returned")
if [ $has_i386 = 1 ]; then
	calls+=(int80 "int \$0x80 (i386 getpid) returned [1-9]")
else
	skip "int80 (--no-sandbox): $i386_line"
fi
through calls 1 "${calls[@]}"
# execve replaces btvm with touch(1), which exits 0
through execve 0 "execve:$TMP/executed-off" "$TMP/executed-off"

# A hostile guest user program, for real (bt only): breakout.elf's ring-3
# code far-jumps to the host's 64-bit code selector 0x33 and calls openat
# with SYSCALL, both hidden from the direct-execution scan.
if [ "$BACKEND" = bt ]; then
	BO_ELF=$GUESTS/breakout.elf BO_FILE=/tmp/btvm-breakout-check
	# bo NAME ARGS...: sets rc, out, err
	bo() {
		local name=$1
		shift
		rm -f "$BO_FILE"
		timeout 60 "$BTVM" run --accel bt "$@" "$BO_ELF" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"
		rc=$?
		out=$(tr -d '\r' <"$TMP/$name.out")
		err=$(cat "$TMP/$name.err")
	}
	# translated KIND ARGS...: with no compatibility mode on the host, the
	# default (direct execution) translates ring 3 with a note: the far
	# transfer is the guest's #GP and the guest runs to its end.
	translated() {
		local what=$1
		shift
		total=$((total + 1))
		bo "bo-tr-$total" "$@"
		if [ $rc -eq 1 ] && guest_finished && [ ! -e "$BO_FILE" ] &&
			grep -q "note: guest user code is translated" <<<"$err"; then
			echo "ok - $what: no compatibility mode here, so ring 3 is translated and the far transfer is the guest's #GP (${compat_line#host: })"
		else
			fail "$what (no compatibility mode): status $rc, stderr '$err'"
		fi
	}
	total=$((total + 1))
	bo bo-translated --timeout 30 --user-exec bt
	if [ $rc -eq 1 ] && guest_finished && [ ! -e "$BO_FILE" ]; then
		echo "ok - breakout: translated, the far jump is the guest's #GP (as under QEMU)"
	else
		fail "breakout (--user-exec bt): status $rc, stderr '$err'"
	fi
	total=$((total + 1))
	bo bo-sysenter-translated --timeout 30 --append sysenter --user-exec bt
	if [ $rc -eq 1 ] && guest_finished; then
		echo "ok - breakout sysenter, translated: the guest's #GP(0) (IA32_SYSENTER_CS = 0), as under QEMU"
	else
		fail "breakout sysenter (--user-exec bt): status $rc, stderr '$err'"
	fi
	if [ $has_compat = 1 ]; then
		total=$((total + 1))
		bo bo-direct --timeout 30
		if [ $rc -eq 10 ] && [ "$err" = "$B openat (nr 257)" ] && [ ! -e "$BO_FILE" ] && ! guest_finished; then
			echo "ok - breakout: native ljmp \$0x33 + syscall from guest ring 3 is stopped: $err"
		else
			fail "breakout (direct execution): status $rc, stderr '$err', file $([ -e "$BO_FILE" ] && echo created || echo absent)"
		fi
		# Without the sandbox the call gets through: the sandbox is the wall.
		# The 64-bit code then spins; the --timeout kick finds it outside
		# compatibility mode and btvm stops.
		total=$((total + 1))
		bo bo-nosandbox --timeout 2 --no-sandbox
		if [ $rc -eq 10 ] && [ -e "$BO_FILE" ] && grep -q "escaped its segments to host code segment 0x33" <<<"$err"; then
			echo "ok - breakout with --no-sandbox: the host call got through, then: $err"
		else
			fail "breakout (--no-sandbox): status $rc, stderr '$err', file $([ -e "$BO_FILE" ] && echo created || echo absent)"
		fi
		rm -f "$BO_FILE"
		# A SYSENTER hidden the same way: the host's compat entry turns it
		# into an i386 system call on the host's own code segment (where
		# SYSENTER reaches it: not on AMD CPUs, where it is #UD).
		if [ $has_sysenter = 0 ]; then
			skip "breakout sysenter (direct execution, with and without the sandbox): $sysenter_line"
		else
		total=$((total + 1))
		bo bo-sysenter --timeout 30 --append sysenter
		if [ $rc -eq 10 ] && [ "$err" = "$B getpid (i386 nr 20)" ] && ! guest_finished; then
			echo "ok - breakout: a native SYSENTER from guest ring 3 is stopped: $err"
		else
			fail "breakout sysenter (direct execution): status $rc, stderr '$err'"
		fi
		total=$((total + 1))
		bo bo-sysenter-nosandbox --timeout 30 --append sysenter --no-sandbox
		if [ $rc -eq 10 ] && grep -q "escaped its segments to host code segment 0x23" <<<"$err" && ! guest_finished; then
			echo "ok - breakout sysenter with --no-sandbox: direct execution's own filter, then: $err"
		else
			fail "breakout sysenter (--no-sandbox): status $rc, stderr '$err'"
		fi
		fi
	else
		translated "breakout" --timeout 30
		translated "breakout --no-sandbox" --timeout 30 --no-sandbox
		translated "breakout sysenter" --timeout 30 --append sysenter
		translated "breakout sysenter --no-sandbox" --timeout 30 --append sysenter --no-sandbox
	fi
fi

# The option is documented, and the self-test refuses junk in one line.
total=$((total + 1))
if "$BTVM" --help | grep -q -- '--no-sandbox'; then
	echo "ok - --help lists --no-sandbox"
else
	fail "--help does not list --no-sandbox"
fi
total=$((total + 1))
"$BTVM" run --sandbox-selftest=bogus "$ELF" </dev/null >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && grep -q '^btvm: --sandbox-selftest' "$TMP/bad.err"; then
	echo "ok - a bad --sandbox-selftest is one usage line"
else
	fail "--sandbox-selftest=bogus: status $rc, stderr: $(cat "$TMP/bad.err")"
fi

echo "$((total - failed)) of $total sandbox checks passed ($BACKEND)$([ $skipped -gt 0 ] && echo ", $skipped skipped (see the skip lines)")"
[ $failed -eq 0 ]
