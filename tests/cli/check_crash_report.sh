#!/bin/bash
# check_crash_report.sh BTVM GUEST_ELF
#
# When btvm itself faults it prints a report worth filing
# (monitor/crash_report.c): the hidden --sandbox-selftest=crash makes the
# monitor load from address 8 at the guest's first exit.  Checked, with
# the sandbox on and off: btvm ends with exit status 8 (internal error, not
# the signal), the first line names the signal and the host address, the
# report says it is a bug, lists the host's capabilities, the guest's
# state and the last blocks the dispatcher entered, and the backtrace's
# frames carry module+offset and function+offset: the first is
# sandbox_selftest_run (also what addr2line makes of its offset), a later
# one vm_run.  Exit: 0 pass, 1 fail.
set -u
BTVM=$1 ELF=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crash-report.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failed=0
for mode in sandbox no-sandbox; do
	args=(--sandbox-selftest=crash)
	[ $mode = no-sandbox ] && args+=(--no-sandbox)
	# no core file from the deliberate crash
	(ulimit -c 0; exec timeout 60 "$BTVM" run --timeout 30 "${args[@]}" "$ELF") </dev/null >/dev/null 2>"$TMP/err"
	rc=$?
	err=$(grep -v '^btvm: note: ' "$TMP/err")
	ok=1
	check() { grep -qE -- "$1" <<<"$err" || { echo "FAIL ($mode): no line matching '$1'"; ok=0; }; }
	[ $rc -eq 8 ] || { echo "FAIL ($mode): exit status $rc, expected 8 (internal error)"; ok=0; }
	head -n 1 <<<"$err" | grep -qE '^btvm: internal error: signal 11 \(SEGV\) at host address 0x[0-9a-f]+ \(fault address 0x8\)' ||
		{ echo "FAIL ($mode): first line: $(head -n 1 <<<"$err")"; ok=0; }
	check '^btvm: this is a bug in btvm [0-9.]+; please report it'
	check '^btvm: host: compat-mode=(yes|no) i386-syscall=(yes|no)'
	check '^btvm: guest: --accel bt, EIP 0x[0-9a-f]+ CPL [0-3]'
	check '^btvm: guest: last blocks entered from the dispatcher \(of [0-9]+; .*\), oldest first:( 0x[0-9a-f]+)+$'
	check '^  #0  btvm\+0x[0-9a-f]+ sandbox_selftest_run\+0x[0-9a-f]+$'
	check '^  #[1-9] +btvm\+0x[0-9a-f]+ vm_run\+0x[0-9a-f]+$'
	frames=$(grep -c '^  #[0-9]' <<<"$err")
	[ "$frames" -ge 3 ] || { echo "FAIL ($mode): $frames backtrace frames, expected at least 3"; ok=0; }
	off=$(sed -n 's/^  #0  btvm+\(0x[0-9a-f]*\) .*$/\1/p' <<<"$err")
	if command -v addr2line >/dev/null && [ -n "$off" ]; then
		fn=$(addr2line -f -e "$BTVM" "$off" | head -n 1)
		[ "$fn" = sandbox_selftest_run ] || { echo "FAIL ($mode): frame #0 is $fn, expected sandbox_selftest_run"; ok=0; }
	fi
	if [ $ok = 1 ]; then
		echo "ok - crash report ($mode): $frames frames, frame #0 $off = ${fn:-?}"
	else
		failed=1
		echo "--- stderr:"; cat "$TMP/err"
	fi
done
exit $failed
