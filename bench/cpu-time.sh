#!/usr/bin/env bash
# CPU time of whole btvm runs of a fixed-work guest, for comparing builds or
# settings on a loaded host (where the wall-clock nanobenchmarks of run.sh
# vary 2-3x: a preempted emulator accumulates no CPU time).
#
#   bench/cpu-time.sh [--reps N] ELF "APPEND" CONFIG...
#
# CONFIG is LABEL:BTVM[:VAR=VALUE,...]: a btvm executable and environment
# variables for it (BTVM_HOST_MASK, BTVM_BT_VIEWS, ...), e.g.
#   bench/cpu-time.sh build/bench/fixed.elf "c=20000000" \
#       gs:build/btvm:BTVM_BT_VIEWS=gs r9:build/btvm:BTVM_BT_VIEWS=reg
#   bench/cpu-time.sh build/tests/guest/xferloop.elf "n=1000000" \
#       before:/tmp/old/btvm now:build/btvm nofsgsbase:build/btvm:BTVM_HOST_MASK=fsgsbase
# Each repetition runs every CONFIG in turn (`btvm run --accel bt
# --user-exec bt --append APPEND ELF`, under `perf stat -e task-clock`);
# prints the min and median milliseconds per CONFIG.  ELF: fixed.elf
# (bench/fixed/fixed.c: c=, k=, u= loop counts) or tests/guest/xferloop.elf
# (n= privilege round trips).  Needs perf (linux-perf); task-clock is a
# software counter, so it works in VMs without hardware counters.
set -uo pipefail
reps=7
[ "${1:-}" = --reps ] && { reps=$2; shift 2; }
[ $# -ge 3 ] || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
elf=$1 app=$2
shift 2
command -v perf >/dev/null || { echo "cpu-time.sh: perf is not installed" >&2; exit 2; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= reps; r++)); do
	for cfg in "$@"; do
		IFS=: read -r label btvm envs <<<"$cfg"
		IFS=, read -r -a vars <<<"$envs"
		env "${vars[@]}" perf stat -e task-clock -x, -o "$tmp/perf" \
			"$btvm" run --accel bt --user-exec bt --append "$app" "$elf" </dev/null >"$tmp/out" 2>&1
		ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$tmp/perf")
		grep -q -E '^(fixed: result|PASS)' "$tmp/out" || { echo "cpu-time.sh: $label: the guest did not finish:" >&2; head -5 "$tmp/out" >&2; exit 1; }
		echo "$label $ms" >>"$tmp/all"
	done
done
for cfg in "$@"; do
	label=${cfg%%:*}
	awk -v l="$label" '$1 == l { print $2 }' "$tmp/all" | sort -g |
		awk -v l="$label" -v a="$app" '{ v[NR] = $1 } END { printf "%-16s %-20s min %9.1f ms  median %9.1f ms  (%d runs)\n", l, a, v[1], v[int((NR + 1) / 2)], NR }'
done
