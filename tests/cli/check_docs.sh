#!/bin/bash
# check_docs.sh BTVM USAGE_MD
#
# `btvm --help` and docs/usage.md must agree:
#   * every option --help prints is documented in usage.md: the first cell
#     of a table row (| `--opt ARG` | meaning |), or a synopsis line (a line
#     of a fenced block that starts with "btvm ");
#   * every option usage.md gives btvm (in those places, in a `btvm run`,
#     `btvm probe` or `btvm --...` command of a fenced block, or in an
#     inline code span holding such a command) is printed by --help, apart
#     from the hidden test hooks listed below (each with its reason), which
#     must really be accepted by btvm and really be absent from --help;
#   * btvm accepts every one of those options (as `btvm OPT` or `btvm run
#     OPT`: no "unknown option");
#   * every exit status --help lists is a row of usage.md's exit status
#     table ("### Exit status"), and every row there is in --help;
#   * every capability `btvm probe` prints is named in usage.md.
# Each disagreement is one "FAIL: ..." line naming the option or status.
# Exit: 0 agree, 1 disagree, 2 bad usage.
set -u -o pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BTVM USAGE_MD" >&2
	exit 2
fi
btvm=$1 doc=$2
[ -x "$btvm" ] || { echo "FAIL: $btvm is not an executable"; exit 1; }
[ -f "$doc" ] || { echo "FAIL: $doc does not exist"; exit 1; }

# Hidden options: accepted by btvm, deliberately left out of --help.
declare -A hidden=(
	[--sandbox-selftest]="a test hook (tests/sandbox/check_sandbox.sh): makes a host system call the sandbox must stop; documented in docs/security.md"
)

failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

help=$("$btvm" --help </dev/null) || { echo "FAIL: '$btvm --help' exited $?"; exit 1; }
[ -n "$help" ] || { echo "FAIL: '$btvm --help' printed nothing"; exit 1; }

# ---------------------------------------------------------------- options
help_opts=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)

# The options usage.md gives btvm, one per line: "def --opt" where it
# defines them (the first cell of a table row; a synopsis line, i.e. a line
# of a fenced block starting with "btvm "), "use --opt" where it uses them
# (in a fenced block, what follows a `btvm run`, `btvm probe` or
# `btvm --...` command up to ; && or ||, continuation lines joined; inline
# code spans holding such a command, e.g. `btvm probe --accel kvm`).
doc_list=$(awk '
	function opts(s, kind) {
		while (match(s, /--[a-z][a-z0-9-]*/)) {
			print kind, substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
		}
	}
	# the part of s that is a btvm command line, or ""
	function command(s,    i) {
		if (!match(s, /(^|[[:space:]\/`])btvm[[:space:]]+(run|probe|--)/))
			return ""
		s = substr(s, RSTART)
		if ((i = index(s, ";")) > 0) s = substr(s, 1, i - 1)
		if ((i = index(s, "&&")) > 0) s = substr(s, 1, i - 1)
		if ((i = index(s, "||")) > 0) s = substr(s, 1, i - 1)
		return s
	}
	/^```/ { code = !code; joined = ""; next }
	code {
		line = $0
		if (joined == "" && line ~ /^btvm /)
			opts(line, "def")
		if (sub(/\\$/, "", line)) { joined = joined line " "; next }
		opts(command(joined line), "use")
		joined = ""
		next
	}
	/^\|/ {
		row = $0
		gsub(/\\\|/, "", row)        # escaped | inside a cell
		split(row, cell, "|")
		opts(cell[2], "def")
	}
	{
		s = $0
		while (match(s, /`[^`]*`/)) {
			span = substr(s, RSTART + 1, RLENGTH - 2)
			s = substr(s, RSTART + RLENGTH)
			opts(command(span), "use")
		}
	}
' "$doc" | sort -u)
doc_defs=$(sed -n 's/^def //p' <<<"$doc_list" | sort -u)
doc_opts=$(cut -d' ' -f2 <<<"$doc_list" | sort -u)

for o in $help_opts; do
	grep -qx -- "$o" <<<"$doc_defs" ||
		fail "'btvm --help' lists $o, but $doc does not document it (no option table row or synopsis line with it)"
done
for o in $doc_opts; do
	grep -qx -- "$o" <<<"$help_opts" && continue
	[ -n "${hidden[$o]+x}" ] && continue
	fail "$doc documents $o as an option of btvm, but 'btvm --help' does not list it (a hidden test hook must be listed in $0 with its reason)"
done
for o in "${!hidden[@]}"; do
	grep -qx -- "$o" <<<"$help_opts" &&
		fail "$o is listed as a hidden option in $0 (${hidden[$o]}), but 'btvm --help' shows it: remove it from the hidden list"
done

# btvm accepts each option, as a command (`btvm --version`) or as an option
# of `btvm run` (there is no kernel, so nothing runs).
for o in $(printf '%s\n' $help_opts $doc_opts "${!hidden[@]}" | sort -u); do
	e1=$(timeout 20 "$btvm" "$o" </dev/null 2>&1 >/dev/null)
	e2=$(timeout 20 "$btvm" run "$o" </dev/null 2>&1 >/dev/null)
	case "$e1" in *"unknown command"* | *"unknown option"*) ;; *) continue ;; esac
	case "$e2" in *"unknown option"*) ;; *) continue ;; esac
	fail "btvm does not accept $o ('btvm run $o': $e2)"
done

# ----------------------------------------------------------- exit statuses
# --help: the paragraph starting "exit status:", e.g. "...; 2 bad usage or
# input; 4 the guest crashed ...; 124 --timeout reached."
status_text=$(awk '/^exit status:/ { on = 1 } on && /^$/ { exit } on' <<<"$help" | tr '\n' ' ')
[ -n "$status_text" ] || fail "'btvm --help' has no 'exit status:' paragraph"
help_status=$(grep -oE '(^|[;:] )[0-9]+ ' <<<"$status_text" | grep -oE '[0-9]+' | sort -un)
help_odd=0
grep -qF '(v<<1)|1' <<<"$status_text" && help_odd=1
[ -n "$help_status" ] || fail "no exit status found in --help's 'exit status:' paragraph: $status_text"

# usage.md: the rows of the table under "### Exit status".
table=$(awk '/^#+ /{ on = ($0 ~ /^#+ Exit status/) ; next } on && /^\|/' "$doc")
[ -n "$table" ] || fail "$doc has no exit status table (a '### Exit status' heading followed by a table)"
doc_status=$(sed -nE 's/^\|[[:space:]]*([0-9]+)[[:space:]]*\|.*/\1/p' <<<"$table" | sort -un)
doc_odd=0
grep -qF '(v<<1)' <<<"$table" && doc_odd=1

for st in $help_status; do
	grep -qx "$st" <<<"$doc_status" ||
		fail "'btvm --help' lists exit status $st, but $doc's exit status table has no row for it"
done
for st in $doc_status; do
	grep -qx "$st" <<<"$help_status" ||
		fail "$doc's exit status table has status $st, but 'btvm --help' does not list it"
done
[ $help_odd = 1 ] && [ $doc_odd = 0 ] &&
	fail "'btvm --help' lists the guest's (v<<1)|1 statuses, but $doc's exit status table does not"
[ $help_odd = 0 ] && [ $doc_odd = 1 ] &&
	fail "$doc's exit status table has the guest's (v<<1)|1 statuses, but 'btvm --help' does not"

# ------------------------------------------------------ probe capabilities
# The KVM capability is masked so that the check does not run KVM guests.
caps=$(BTVM_HOST_MASK=kvm timeout 60 "$btvm" probe </dev/null | sed -nE 's/^([a-z][a-z0-9-]*) +(yes|no) .*/\1/p')
[ -n "$caps" ] || fail "'btvm probe' printed no capability rows"
for c in $caps; do
	grep -qF -- "\`$c\`" "$doc" ||
		fail "'btvm probe' has the capability $c, but $doc does not name it (\`$c\`)"
done

n_opts=$(printf '%s\n' $help_opts | wc -l)
n_status=$(printf '%s\n' $help_status | wc -l)
if [ $failed -gt 0 ]; then
	echo "$failed disagreement(s) between 'btvm --help' and $doc"
	exit 1
fi
echo "ok: $n_opts options, $n_status exit statuses (+ odd guest statuses: $help_odd), $(wc -w <<<"$caps") probe capabilities agree; hidden: ${!hidden[*]}"
