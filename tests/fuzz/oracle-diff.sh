#!/usr/bin/env bash
# The two oracles of the fuzzer against each other: fuzz-native on this CPU
# and the same program under qemu-i386 (user-mode emulation), seed by seed.
# btvm plays no part.  This is how the families run-fuzz.sh leaves out under
# qemu-i386 were found (README.md, "The oracle"); run it again when QEMU
# changes.  It needs a host that runs i386 code (host A).
#
# oracle-diff.sh [--seeds A-B] [--len N] [--skip LIST] [--bin DIR]
#                [--qemu-user PATH] [--btvm PATH] [--culprit]
#
# Prints "DIFF seed S: cpu: <line> | qemu-i386: <line>" (the first line that
# differs) or "NORESULT seed S: <why>" per seed, with --culprit the unit
# whose addition makes the difference appear, then "N same, M differ".
# Exits 0 when all agree, 1 otherwise, 2 on bad usage, 77 when this host
# cannot run both.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
seeds=1-1000
len=32
skip=
bin=
qemu_user=
btvm=
culprit=0
usage() {
	sed -n '8,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--seeds) seeds=${2:?}; shift 2 ;;
	--len) len=${2:?}; shift 2 ;;
	--skip) skip=${2:?}; shift 2 ;;
	--bin) bin=${2:?}; shift 2 ;;
	--qemu-user) qemu_user=${2:?}; shift 2 ;;
	--btvm) btvm=${2:?}; shift 2 ;;
	--culprit) culprit=1; shift ;;
	*) usage ;;
	esac
done
case $seeds in
*-*) first=${seeds%-*}; last=${seeds#*-} ;;
*) first=$seeds; last=$seeds ;;
esac
for v in "$first" "$last" "$len"; do
	case $v in ''|*[!0-9]*) echo "oracle-diff.sh: '$v' is not a number" >&2; exit 2 ;; esac
done
[ -n "$bin" ] || bin=$here/../../build/tests/fuzz
[ -n "$btvm" ] || btvm=$bin/../../btvm
gen=$bin/fuzzgen
native=$bin/fuzz-native
for f in "$gen" "$native" "$btvm"; do
	[ -x "$f" ] || { echo "oracle-diff.sh: $f is missing (build it, or pass --bin/--btvm)" >&2; exit 2; }
done
if ! probe=$("$btvm" probe --needs compat-mode,i386-syscall 2>&1); then
	echo "SKIP: the CPU cannot be one of the two oracles here: $probe"
	exit 77
fi
if [ -z "$qemu_user" ]; then
	for q in qemu-i386 qemu-i386-static; do
		command -v "$q" >/dev/null && { qemu_user=$q; break; }
	done
fi
[ -n "$qemu_user" ] || { echo "SKIP: no qemu-i386 or qemu-i386-static"; exit 77; }
echo "cpu: fuzz-native natively; qemu-i386: $("$qemu_user" --version | head -1)"

sk=()
[ -n "$skip" ] && sk=(--skip "$skip")
work=$(mktemp -d "${TMPDIR:-/tmp}/btvm-oracle.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# cmpout CPU QEMU FIRST COUNT: "S diff <cpu line> | <qemu line>" or "S noref"
cmpout() {
	awk -v first="$3" -v count="$4" '
	FNR == 1 { file++ }
	/^case / { seed = $2; cur = ""; next }
	/^end$/ { if (seed != "") { if (file == 1) ref[seed] = cur; else got[seed] = cur }; seed = ""; next }
	seed != "" { cur = cur $0 "\n" }
	END {
		for (s = first; s < first + count; s++) {
			if (!(s in ref)) print s, "nocpu"
			else if (!(s in got)) print s, "noqemu"
			else if (got[s] != ref[s]) {
				split(ref[s], A, "\n"); split(got[s], Q, "\n")
				for (i = 1; A[i] == Q[i]; i++) ;
				print s, "diff", "cpu: " A[i] " | qemu-i386: " Q[i]
			}
		}
	}' "$1" "$2"
}
# both PACK: $work/cpu.txt and $work/qemu.txt
both() {
	{
		timeout -k 5 20 "$native" "$1" > "$work/cpu.txt" 2>&1
		timeout -k 5 60 "$qemu_user" "$native" "$1" > "$work/qemu.txt" 2>&1
	} 2> /dev/null
}
# alone SEED [CUT]: the cmpout line of one seed run alone
alone() {
	local c=()
	[ $# -ge 2 ] && c=(--cut "$2")
	"$gen" --seed "$1" --count 1 --len "$len" "${sk[@]}" "${c[@]}" --out "$work/one.bin" || return
	both "$work/one.bin"
	local why
	why=$(grep -v '^case \|^done$\|^[a-z]*[ =]\|^mem \|^end$\|^\*\*$' "$work/qemu.txt" | head -1)
	cmpout "$work/cpu.txt" "$work/qemu.txt" "$1" 1 | sed "s|^\([0-9]*\) noqemu.*|\1 noqemu ${why//|/}|"
}
# find_culprit SEED: the first unit whose addition makes the seed differ
find_culprit() {
	local k off
	for ((k = 1; k <= len; k++)); do
		[ -n "$(alone "$1" "$k")" ] || continue
		"$gen" --seed "$1" --len "$len" "${sk[@]}" --cut $((k - 1)) --raw "$work/c0.bin"
		"$gen" --seed "$1" --len "$len" "${sk[@]}" --cut "$k" --raw "$work/c1.bin"
		off=$(stat -c %s "$work/c0.bin")
		echo "    unit $k: $(objdump -D -b binary -m i386 -M intel --adjust-vma=0x01010000 "$work/c1.bin" | tail -n +8 |
			awk -v m="$off" '
			function hex(s,  i, c, v) { v = 0; for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; if (c < 0) break; v = v * 16 + c } return v }
			{ a = hex(tolower($1)) - 16842752; if (a >= m) { sub(/^ *[0-9a-f]+:\t/, ""); gsub(/\t+/, " "); printf "%s; ", $0 } }')"
		return
	done
	echo "    unit: none of the prefixes differs"
}

same=0
differ=0
for ((s = first; s <= last; s += 100)); do
	n=100
	[ $((s + n - 1)) -gt "$last" ] && n=$((last - s + 1))
	"$gen" --seed "$s" --count "$n" --len "$len" "${sk[@]}" --out "$work/pack.bin" || exit 2
	both "$work/pack.bin"
	bad=0
	# a seed missing from qemu's output (qemu died in it or before it)
	# is run alone
	while read -r seed kind rest; do
		[ -n "$seed" ] || continue
		if [ "$kind" = noqemu ] || [ "$kind" = nocpu ]; then
			line=$(alone "$seed")
			[ -n "$line" ] || continue
			read -r seed kind rest <<< "$line"
		fi
		bad=$((bad + 1))
		case $kind in
		diff) echo "DIFF seed $seed: $rest" ;;
		noqemu) echo "NORESULT seed $seed: qemu-i386: ${rest:-(nothing)}" ;;
		*) echo "NORESULT seed $seed: the CPU gave no result" ;;
		esac
		[ "$culprit" = 1 ] && find_culprit "$seed"
	done < <(cmpout "$work/cpu.txt" "$work/qemu.txt" "$s" "$n")
	differ=$((differ + bad))
	same=$((same + n - bad))
done
echo "$same same, $differ differ"
[ "$differ" = 0 ]
