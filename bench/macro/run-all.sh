#!/bin/sh
# The workload of the macro-benchmark guest (bench/run.sh builds it with
# guests/debian/make-guest.sh --workload bench/macro/run-all.sh
# --add macro-i386:/bin/macro) and, on the host, of the native column.
# It runs /bin/macro, the static i386 program of bench/macro/*.c.
#
# Settings, from the environment (native) or else from words on the
# kernel command line (the guest; /init's /proc/cmdline):
#   BENCH_MS   / bench_ms=N          target time of each timed loop (ms)
#   BENCH_LIST / bench_list=A,B,...  which benchmarks (default: all;
#                                    none: no program, only the boot)
#   MACRO_BIN                        the program (default /bin/macro)
#   BENCH_TMP                        tmpfs directory for "file" (default
#                                    /tmp, mounted as a tmpfs here when
#                                    it is not one)
ms=${BENCH_MS:-} list=${BENCH_LIST:-}
if [ -z "$ms$list" ] && [ -z "${MACRO_BIN:-}" ] && [ -r /proc/cmdline ]; then
	for w in $(cat /proc/cmdline); do
		case "$w" in
		bench_ms=*) ms=${w#bench_ms=} ;;
		bench_list=*) list=${w#bench_list=} ;;
		esac
	done
fi
bin=${MACRO_BIN:-/bin/macro}
tmp=${BENCH_TMP:-/tmp}
if [ -z "${BENCH_TMP:-}" ] && ! grep -q " $tmp tmpfs " /proc/mounts 2>/dev/null; then
	mount -t tmpfs -o size=64m tmpfs "$tmp" || echo "# run-all: cannot mount a tmpfs on $tmp"
fi
# With the TSC's rate given (tsc_early_khz=) the kernel starts on
# tsc-early and moves to tsc about a second after the TSC is set up (its
# refinement work); do not let a benchmark straddle that switch.
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
n=0
while [ "$(cat $cs 2>/dev/null)" = tsc-early ] && [ $n -lt 30 ]; do
	sleep 0.1
	n=$((n + 1))
done
echo "# kernel $(uname -r), clocksource $(cat $cs 2>/dev/null || echo '?')"
[ "$list" = none ] && exit 0    # bench/run.sh times the boot alone
# shellcheck disable=SC2086 # one argument per benchmark
BENCH_TMP=$tmp "$bin" ${ms:+ms=$ms} $(echo "$list" | tr ',' ' ')
