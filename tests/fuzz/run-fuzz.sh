#!/usr/bin/env bash
# Differential fuzzing: translated guest code (btvm --accel bt) against the
# real CPU (a 32-bit host process; under qemu-i386 on a host that runs no
# i386 code), or against QEMU (--ref qemu).  See tests/fuzz/README.md.
#
# run-fuzz.sh [--seeds A-B] [--len N] [--btvm PATH] [--keep DIR] [--bin DIR]
#             [--batch K] [--jobs J] [--skip LIST] [--ref cpu|qemu] [--qemu PATH]
#             [--qemu-user PATH] [--code HEX [--undef FLAGS]] [--no-minimize]
#             [--details N] [--quiet]
#
# Prints the oracle first ("oracle: ..."), then one "FAIL seed S ..." line
# per mismatch (followed, unless --quiet, by the disassembly of the sequence
# and the diff), then "N passed, M failed" alone on a line.  Exits 0 when
# nothing failed, 1 when something did, 2 on bad usage or a broken set-up,
# 77 (SKIP) when no oracle can run here.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
seeds=1-100
len=32
btvm=
keep=
bin=
batch=100
jobs=1
skip=
code=
undef=
ref=cpu
qemu=qemu-system-i386
qemu_user=
quiet=0
minimize=1
details=

usage() {
	sed -n '6,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--seeds) seeds=${2:?}; shift 2 ;;
	--len) len=${2:?}; shift 2 ;;
	--btvm) btvm=${2:?}; shift 2 ;;
	--keep) keep=${2:?}; shift 2 ;;
	--bin) bin=${2:?}; shift 2 ;;
	--batch) batch=${2:?}; shift 2 ;;
	--jobs) jobs=${2:?}; shift 2 ;;
	--skip) skip=${2:?}; shift 2 ;;
	--code) code=${2:?}; shift 2 ;;
	--undef) undef=${2:?}; shift 2 ;;
	--ref) ref=${2:?}; shift 2 ;;
	--qemu) qemu=${2:?}; shift 2 ;;
	--qemu-user) qemu_user=${2:?}; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--no-minimize) minimize=0; shift ;;
	--details) details=${2:?}; shift 2 ;;
	-h|--help) usage ;;
	*) echo "run-fuzz.sh: unknown option '$1'" >&2; usage ;;
	esac
done

case $seeds in
*-*) first=${seeds%-*}; last=${seeds#*-} ;;
*) first=$seeds; last=$seeds ;;
esac
for v in "$first" "$last" "$len" "$batch" "$jobs"; do
	case $v in ''|*[!0-9]*) echo "run-fuzz.sh: '$v' is not a number" >&2; exit 2 ;; esac
done
[ "$last" -ge "$first" ] && [ "$batch" -ge 1 ] && [ "$jobs" -ge 1 ] || usage
case $ref in cpu|qemu) ;; *) echo "run-fuzz.sh: --ref cpu or qemu" >&2; exit 2 ;; esac

# The built programs: --bin, or the usual build directory.
if [ -z "$bin" ]; then
	bin=$here/../../build/tests/fuzz
fi
gen=$bin/fuzzgen
native=$bin/fuzz-native
guest=$bin/fuzz-guest.bin
[ -n "$btvm" ] || btvm=$bin/../../btvm
for f in "$gen" "$guest" "$btvm"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "run-fuzz.sh: $f is missing (build it, or pass --bin/--btvm)" >&2; exit 2; }
done

# The oracle.  --ref qemu: QEMU TCG with the privileged families.  --ref
# cpu: fuzz-native, an i386 program, runs on this CPU where the host runs
# i386 code (btvm's probe says so; BTVM_HOST_MASK can make it say no), or
# else under qemu-i386, user-mode emulation: an oracle that is not the CPU,
# so the families it is known to get wrong are left out (each one printed).
# The evidence for each is in README.md ("The oracle"); a family is listed
# here only when qemu-i386 and the CPU were compared directly and differ.
qemu_user_skips=(
	"cmpxchg8b|qemu-i386 (7.2) does not keep CF PF AF SF OF across cmpxchg8b: it recomputes them from a stale flags state (stc; cmpxchg8b gives CF=0), and aborts when that state holds stray bits"
	"int1|qemu-i386 (7.2) raises #UD at icebp (f1); the CPU raises #DB after it"
)
runner=()        # the command that runs fuzz-native (before its arguments)
refname=$ref     # the reference, as the reports name it
oracle_skip=     # families left out because of the oracle
if [ "$ref" = cpu ]; then
	[ -x "$native" ] || { echo "run-fuzz.sh: $native is missing" >&2; exit 2; }
	probe=$("$btvm" probe --needs compat-mode,i386-syscall 2>&1)
	prc=$?
	# An i386 ELF that the kernel hands to binfmt_misc (a qemu-i386
	# entry) is emulated even where the CPU could run it.
	binfmt=
	for e in /proc/sys/fs/binfmt_misc/*; do
		[ -f "$e" ] && head -1 "$e" 2>/dev/null | grep -qx enabled || continue
		grep -q '^magic 7f454c46010101.\{22\}0300' "$e" 2>/dev/null || continue
		binfmt="binfmt_misc entry $(basename "$e") hands i386 ELF to $(sed -n 's/^interpreter //p' "$e")"
	done
	case $prc in
	0)
		if [ -z "$binfmt" ]; then
			echo "oracle: the CPU (fuzz-native runs natively; $probe)"
		else
			echo "oracle: qemu-i386 through binfmt_misc (user-mode emulation, not the CPU: $binfmt; $probe)"
			refname=qemu-i386
		fi
		;;
	4)
		if [ -n "$qemu_user" ]; then
			command -v "$qemu_user" >/dev/null || { echo "run-fuzz.sh: --qemu-user $qemu_user: no such program" >&2; exit 2; }
		else
			for q in qemu-i386 qemu-i386-static; do
				command -v "$q" >/dev/null && { qemu_user=$q; break; }
			done
		fi
		if [ -z "$qemu_user" ]; then
			echo "SKIP: this host runs no i386 code ($probe), and there is no qemu-i386 or qemu-i386-static to run fuzz-native under (Debian: qemu-user-static)"
			exit 77
		fi
		runner=("$qemu_user")
		refname=qemu-i386
		echo "oracle: qemu-i386 (user-mode emulation; this host runs no i386 code: $probe; $("$qemu_user" --version | head -1))"
		;;
	*)
		echo "run-fuzz.sh: '$btvm probe --needs compat-mode,i386-syscall' failed (status $prc): $probe" >&2
		exit 2
		;;
	esac
	if [ "$refname" = qemu-i386 ]; then
		for e in "${qemu_user_skips[@]}"; do
			echo "left out under qemu-i386: ${e%%|*}: ${e#*|}"
			oracle_skip+=${oracle_skip:+,}${e%%|*}
		done
	fi
else
	command -v "$qemu" >/dev/null || { echo "run-fuzz.sh: no $qemu" >&2; exit 2; }
	echo "oracle: QEMU TCG ($qemu; the privileged mode)"
fi
genflags=()
allskip=$skip${skip:+${oracle_skip:+,}}$oracle_skip
[ -n "$allskip" ] && genflags+=(--skip "$allskip")
[ "$ref" = qemu ] && genflags+=(--priv)
[ -n "$code" ] && genflags+=(--code "$code") && minimize=0
[ -n "$undef" ] && genflags+=(--undef "$undef")

work=$(mktemp -d "${TMPDIR:-/tmp}/btvm-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
[ -n "$keep" ] && mkdir -p "$keep"

# run_ref PACK OUT CASES: the reference output; returns the reference's
# status (124: it ran out of time).  The native runner gets 10 s plus a
# tenth of a second per case: natively 100 cases take a few milliseconds,
# under qemu-i386 a few tens (and fuzz-native's alarm ends a case that
# hangs after 10 s).
run_ref() {
	if [ "$ref" = cpu ]; then
		# (bash's own notice of a runner killed by a signal is
		# dropped: ref_why tells the status)
		{ timeout -k 5 $((10 + $3 / 10)) "${runner[@]}" "$native" "$1" > "$2" 2>&1; } 2> /dev/null
	else
		cat "$guest" "$1" > "$1.img"
		timeout 120 "$qemu" -accel tcg -kernel "$1.img" -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-serial stdio -display none -nodefaults -no-reboot -m 128 < /dev/null > "$2" 2>&1
		local rc=$?
		tr -d '\r' < "$2" > "$2.t" && mv "$2.t" "$2"
		return $rc
	fi
}
# ref_why OUT STATUS: one line on why the reference printed no result
ref_why() {
	local l
	l=$(grep -v '^case \|^done$\|^[a-z]*[ =]\|^mem \|^end$\|^\*\*$' "$1" | head -1)
	case $2 in
	124|137) echo "it ran out of time (status $2)${l:+: $l}" ;;
	*) echo "${l:-(nothing on its output)} (status $2)" ;;
	esac
}
# run_bt PACK OUT ERR CASES: btvm's output; returns btvm's status.  The
# time limit grows with the number of cases (a hang, e.g. a livelock, must
# not stall a campaign for long: the cases it hid are run again alone).
run_bt() {
	cat "$guest" "$1" > "$1.img"
	local limit=$((5 + $4 / 4))
	timeout $((limit + 10)) "$btvm" run --accel bt --flat=0x100000 --serial stdio --timeout "$limit" "$1.img" \
		< /dev/null > "$2" 2> "$3"
	local rc=$?
	tr -d '\r' < "$2" > "$2.t" && mv "$2.t" "$2"
	return $rc
}

# compare REF BT FIRST COUNT: prints "SEED diff", "SEED missing" (btvm never
# printed it) or "SEED noref" (the reference never printed it) for each seed
# of FIRST..FIRST+COUNT-1 that does not match
compare() {
	awk -v first="$3" -v count="$4" '
	FNR == 1 { file++ }
	/^case / { seed = $2; cur = ""; next }
	/^end$/ { if (seed != "") { if (file == 1) ref[seed] = cur; else got[seed] = cur }; seed = ""; next }
	seed != "" { cur = cur $0 "\n" }
	END {
		for (s = first; s < first + count; s++) {
			if (!(s in ref)) print s, "noref"
			else if (!(s in got)) print s, "missing"
			else if (got[s] != ref[s]) print s, "diff"
		}
	}' "$1" "$2"
}

# one_case SEED DIR [CUT]: runs one seed alone (its first CUT units only,
# when given); leaves DIR/{ref,bt,err}.out, DIR/rc and DIR/raw.bin
one_case() {
	local s=$1 d=$2 c=()
	[ $# -ge 3 ] && c=(--cut "$3")
	mkdir -p "$d"
	"$gen" --seed "$s" --count 1 --len "$len" "${genflags[@]}" "${c[@]}" --out "$d/pack.bin" || return 2
	"$gen" --seed "$s" --len "$len" "${genflags[@]}" "${c[@]}" --raw "$d/raw.bin" || return 2
	run_ref "$d/pack.bin" "$d/ref.out" 1
	echo $? > "$d/refrc"
	run_bt "$d/pack.bin" "$d/bt.out" "$d/err.out" 1
	echo $? > "$d/rc"
}

case_text() { # FILE SEED
	awk -v s="$2" '/^case /{p = ($2 == s)} p {print} /^end$/{p = 0}' "$1"
}

disasm() { # RAW [MARK_FROM_OFFSET]
	objdump -D -b binary -m i386 -M intel --adjust-vma=0x01010000 "$1" | tail -n +8 |
		awk -v m="${2:--1}" '
		function hex(s,  i, c, v) { v = 0; for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; if (c < 0) break; v = v * 16 + c } return v }
		{ a = hex(tolower($1)) - 16842752; sub(/^ */, ""); print ((m >= 0 && a >= m) ? ">>  " : "    ") $0 }'
}

report() { # SEED DIR ALONE_FAILS
	local s=$1 d=$2 alone=$3 why
	local bterr
	bterr=$(grep -m1 '^btvm:' "$d/err.out" | grep -v 'guest state' || true)
	[ -z "$bterr" ] && bterr=$(grep -m1 'bt backend' "$d/err.out" || true)
	if ! grep -q "^case $s\$" "$d/ref.out"; then
		why="no result from the reference ($refname): $(ref_why "$d/ref.out" "$(cat "$d/refrc")")"
	elif [ "$alone" = 0 ]; then
		why="fails only in its batch (passes alone): state left by an earlier case?"
	elif ! grep -q "^case $s\$" "$d/bt.out"; then
		why="no result from btvm (status $(cat "$d/rc"))${bterr:+: $bterr}"
	else
		why=$(diff <(case_text "$d/ref.out" "$s") <(case_text "$d/bt.out" "$s") | grep -m1 '^>' | cut -c3-)
		why="first difference: ${why:-?}"
	fi
	echo "FAIL seed $s (len $len): $why"
	shown_details=$((shown_details + 1))
	local detail=1
	[ "$quiet" = 1 ] && detail=0
	[ -n "$details" ] && [ "$shown_details" -gt "$details" ] && detail=0
	[ "$detail" = 0 ] && [ -z "$keep" ] && return
	# The shortest failing prefix (in units): its last unit is the culprit.
	local md=$d/min k mark=-1 shown=$d
	if [ "$minimize" = 1 ] && [ "$alone" = 1 ]; then
		for ((k = 1; k <= len; k++)); do
			rm -rf "$md"
			one_case "$s" "$md" "$k"
			if [ -n "$(compare "$md/ref.out" "$md/bt.out" "$s" 1)" ]; then
				"$gen" --seed "$s" --len "$len" "${genflags[@]}" --cut $((k - 1)) --raw "$md/prev.bin"
				mark=$(stat -c %s "$md/prev.bin")
				shown=$md
				break
			fi
		done
	fi
	{
		echo "    reproduce: ${BTVM_HOST_MASK:+BTVM_HOST_MASK=$BTVM_HOST_MASK }$0 --seeds $s-$s --len $len${skip:+ --skip $skip} --ref $ref${code:+ --code '$code'}${undef:+ --undef $undef}"
		if [ "$mark" -ge 0 ]; then
			echo "    shortest failing prefix: the first $k units (fuzzgen --cut $k); the last one is marked >>"
		fi
		disasm "$shown/raw.bin" "$mark"
		echo "    --- $refname (reference)  +++ bt"
		diff -u <(case_text "$shown/ref.out" "$s") <(case_text "$shown/bt.out" "$s") | tail -n +3 | sed 's/^/    /'
		[ -n "$bterr" ] && sed 's/^/    /' "$d/err.out" | head -8
	} > "$d/report.txt"
	[ "$detail" = 1 ] && cat "$d/report.txt"
	if [ -n "$keep" ]; then
		mkdir -p "$keep/seed-$s"
		cp "$d"/* "$keep/seed-$s/" 2>/dev/null
		[ -d "$d/min" ] && cp -r "$d/min" "$keep/seed-$s/"
		disasm "$d/raw.bin" > "$keep/seed-$s/disasm.txt"
	fi
}

# run_chunk A B OUTDIR: runs seeds A..B in batches; writes OUTDIR/{pass,fail,log}
run_chunk() {
	local a=$1 b=$2 o=$3 s n pass=0 fail=0
	shown_details=0
	mkdir -p "$o"
	: > "$o/log"
	s=$a
	while [ "$s" -le "$b" ]; do
		n=$batch
		[ $((s + n - 1)) -gt "$b" ] && n=$((b - s + 1))
		local bd=$o/batch
		rm -rf "$bd"
		mkdir -p "$bd"
		if ! "$gen" --seed "$s" --count "$n" --len "$len" "${genflags[@]}" --out "$bd/pack.bin"; then
			echo "FAIL seeds $s-$((s + n - 1)): the generator failed" >> "$o/log"
			fail=$((fail + n))
			s=$((s + n))
			continue
		fi
		run_ref "$bd/pack.bin" "$bd/ref.out" "$n"
		# the native runner's notes (a fault the kernel and its
		# classification disagree on)
		grep '^fuzz-native: note' "$bd/ref.out" >> "$o/log"
		run_bt "$bd/pack.bin" "$bd/bt.out" "$bd/err.out" "$n"
		# Every case that differs, or that btvm did not reach (it
		# stopped at an earlier case), is run again alone.  A case
		# missing from the batch that passes alone is a pass.  When
		# the reference gives nothing for a seed run alone, it must
		# still run the nop case of the start: if it does not, it is
		# broken, and this job stops rather than trying every seed.
		local nbad=0 f kind
		while read -r f kind; do
			[ -n "$f" ] || continue
			local cd=$o/case-$f
			rm -rf "$cd"
			one_case "$f" "$cd"
			if ! grep -q "^case $f\$" "$cd/ref.out" && ! check_ref "$o/check.out"; then
				echo "FAIL seeds $f-$b: not run: the reference ($refname) gave no result for seed $f ($(ref_why "$cd/ref.out" "$(cat "$cd/refrc")")), and then none for a nop: $(ref_why "$o/check.out" "$(cat "$o/check.out.rc")")" >> "$o/log"
				fail=$((fail + b - s + 1 - (f - s) + nbad))
				pass=$((pass + f - s - nbad))
				echo "$pass" > "$o/pass"
				echo "$fail" > "$o/fail"
				rm -rf "$cd"
				return
			fi
			if [ -n "$(compare "$cd/ref.out" "$cd/bt.out" "$f" 1)" ]; then
				report "$f" "$cd" 1 >> "$o/log"
				nbad=$((nbad + 1))
			elif [ "$kind" = diff ] && [ "$n" -gt 1 ]; then
				report "$f" "$cd" 0 >> "$o/log"
				nbad=$((nbad + 1))
			fi
			rm -rf "$cd"
		done < <(compare "$bd/ref.out" "$bd/bt.out" "$s" "$n")
		fail=$((fail + nbad))
		pass=$((pass + n - nbad))
		s=$((s + n))
	done
	echo "$pass" > "$o/pass"
	echo "$fail" > "$o/fail"
}

# The oracle must run one case (a nop) before any seed is tried: a broken
# set-up (an i386 program the kernel will not run, a qemu that fails) is
# one clear line, never a campaign of seeds that each time out.
cflags=(--code 90)
[ "$ref" = qemu ] && cflags+=(--priv)
if ! "$gen" --seed "$first" --count 1 --len 1 "${cflags[@]}" --out "$work/check.bin"; then
	echo "run-fuzz.sh: $gen does not run" >&2
	exit 2
fi
# check_ref OUT: does the reference run the nop case?  (OUT.rc: its status)
check_ref() {
	run_ref "$work/check.bin" "$1" 1
	echo $? > "$1.rc"
	grep -qx done "$1"
}
if ! check_ref "$work/check.out"; then
	echo "run-fuzz.sh: the oracle ($refname) does not run one case: $(ref_why "$work/check.out" "$(cat "$work/check.out.rc")")" >&2
	exit 2
fi

total=$((last - first + 1))
[ "$jobs" -gt "$total" ] && jobs=$total
per=$(((total + jobs - 1) / jobs))
pids=()
for ((j = 0; j < jobs; j++)); do
	a=$((first + j * per))
	b=$((a + per - 1))
	[ "$b" -gt "$last" ] && b=$last
	[ "$a" -gt "$last" ] && break
	run_chunk "$a" "$b" "$work/chunk-$j" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p"
done

pass=0
fail=0
for ((j = 0; j < ${#pids[@]}; j++)); do
	c=$work/chunk-$j
	cat "$c/log"
	pass=$((pass + $(cat "$c/pass" 2>/dev/null || echo 0)))
	fail=$((fail + $(cat "$c/fail" 2>/dev/null || echo 0)))
done
if [ $((pass + fail)) -ne "$total" ]; then
	echo "run-fuzz.sh: only $((pass + fail)) of $total seeds were run" >&2
	fail=$((total - pass))
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
