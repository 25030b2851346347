#!/bin/bash
# check-display.sh BTVM VGA_ELF: --display while the guest runs, with the
# sandbox on (the default), under bt.  vga.elf with --append hold keeps
# counting on its status line until --timeout stops it (status 124).
#   file:    the file is rewritten while the guest runs (it appears before
#            the end, and the counter in it moves), and holds the whole
#            screen (25 rows and the cursor line) at the end;
#   curses:  in a pseudo-terminal (script(1)): the alternate screen is
#            entered, the guest's text and code page 437 characters are
#            drawn, the cursor is placed, and the terminal is given back.
# Prints one line per check; exit 0 pass, 1 fail, 77 skip.
set -u
[ $# -eq 2 ] || { echo "usage: $0 BTVM VGA_ELF" >&2; exit 2; }
btvm=$1 elf=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-display.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
status_line='btvm vga guest test: the cursor is here ->'

# --- file: rewritten while the guest runs -------------------------------
"$btvm" run --display "file:$tmp/screen" --serial "file:$tmp/serial" --append hold --timeout 4 "$elf" \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
counter() { sed -n '25p' "$tmp/screen" 2>/dev/null | sed -n "s/^$status_line *\([0-9]*\).*/\1/p"; }
first=""
for _ in $(seq 60); do
	first=$(counter)
	[ -n "$first" ] && break
	sleep 0.05
done
sleep 1.5
second=$(counter)
wait "$pid"
rc=$?
if [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]; then
	pass "file: rewritten while the guest runs (counter $first, then $second)"
else
	fail "file: not rewritten while the guest runs (counter '$first', then '$second')"
fi
[ "$rc" -eq 124 ] && pass "file: --timeout ends the holding guest (124)" ||
	fail "file: status $rc, expected 124: $(head -c 300 "$tmp/err")"
lines=$(wc -l <"$tmp/screen")
if [ "$lines" -eq 26 ] && sed -n '26p' "$tmp/screen" | grep -q '^cursor: row 24 column 4[4-9]$'; then
	pass "file: 25 rows and the cursor line at the end"
else
	fail "file: $lines lines at the end, last: $(tail -n 1 "$tmp/screen")"
fi

# --- curses: in a pseudo-terminal ---------------------------------------
if ! command -v script >/dev/null 2>&1; then
	echo "SKIP: no script(1) to give btvm a terminal"
	exit $((failed ? 1 : 77))
fi
# script -e: its status is btvm's; -c: the command; output to stdout.
script -qefc "'$btvm' run --display curses --serial none --append hold --timeout 2 '$elf'" /dev/null \
	</dev/null >"$tmp/tty" 2>&1
rc=$?
[ "$rc" -eq 124 ] && pass "curses: --timeout ends the holding guest (124)" ||
	fail "curses: status $rc, expected 124: $(tr -d '\033' <"$tmp/tty" | tail -c 300)"
has() { grep -qF -- "$1" "$tmp/tty"; }
esc=$'\033'
has "${esc}[?1049h" && pass "curses: the alternate screen is entered" || fail "curses: no alternate screen"
has "$status_line" && pass "curses: the guest's status line is drawn" || fail "curses: no status line"
has "╔═╗" && has "░▒▓█" && pass "curses: code page 437 drawn as UTF-8" || fail "curses: no CP437 characters"
has "${esc}[25;4" && has "${esc}[?25h" && pass "curses: the cursor is placed on row 25 and shown" ||
	fail "curses: the cursor is not placed"
if [ "$(grep -ao "${esc}\[?1049[hl]" "$tmp/tty" | tail -n 1)" = "${esc}[?1049l" ]; then
	pass "curses: the terminal is given back at the end"
else
	fail "curses: the normal screen is not restored at the end"
fi
! has "sandbox" && pass "curses: nothing stopped by the sandbox" || fail "curses: $(grep -a sandbox "$tmp/tty")"
exit $failed
