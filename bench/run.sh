#!/usr/bin/env bash
# Runs the nanobenchmarks and the Linux macro benchmarks on every system
# side by side and writes bench/results/<date>-<host>[-quick].{md,dat,png,svg}
# (+ -linux.{dat,png,svg} for the macro table).  See bench/README.md.
#
#   bench/run.sh [--quick] [--only NAME[,NAME...]] [--systems S[,S...]]
#                [--reps N] [--ms N] [--build DIR] [--out DIR]
#
#   --quick     3 repetitions, 20 ms per timed run (default: 5 and 100 ms);
#               Linux guest: 50 ms per timed loop (default: 200 ms)
#   --only      only these benchmarks (default: all): nanobenchmark names,
#               linux-* macro names, or the groups nano and linux
#   --systems   only these columns (default: native,btvm-bt,btvm-bt-direct,
#               btvm-bt-direct-noFSGSBASE,btvm-kvm,qemu-kvm,qemu-tcg,bochs;
#               btvm-bt runs guest ring 3 translated (--user-exec bt),
#               btvm-bt-direct on the CPU (--user-exec direct, btvm's
#               default), btvm-bt-direct-noFSGSBASE the same with
#               BTVM_HOST_MASK=fsgsbase added (FS base through arch_prctl))
#   --reps N    repetitions (each one boots every system once, in turn)
#   --ms N      target time of each nanobenchmark run, in the guest's clock
#   --linux-ms N  target time of each timed loop in the Linux guest
#   --build DIR btvm's CMake build directory (default: build); built here
#   --out DIR   where the results go (default: bench/results)
#
# Needs what scripts/setup.sh and scripts/setup-bench.sh install; a system
# whose tools are missing gets a column of "n/a" that says why.  What the
# host can run is asked of `btvm probe` (i386 programs for the native
# columns, compatibility mode and FSGSBASE for the direct columns), which
# honours BTVM_HOST_MASK: `BTVM_HOST_MASK=all bench/run.sh` imitates a
# host without compatibility mode, i386 system calls, FSGSBASE, CPUID
# faulting or KVM (host B of shared/HOSTS.md), and the results file is
# named -hostB-mask (-mask-A+B for another mask).  The raw
# output of every run is kept in DIR/bench-runs/<stamp>/.  The Linux guest
# (guests/debian/make-guest.sh, cached in DIR/bench/linux-guest) needs
# Debian's package registry the first time.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCHES=(syscall sysenter userexit in cr3 ptemod pgfault divzero callret compute usercompute clisti pushfpopf irq ctxsw)
ALL_SYSTEMS=(native btvm-bt btvm-bt-direct btvm-bt-direct-noFSGSBASE btvm-kvm qemu-kvm qemu-tcg bochs)
# What each benchmark asks of the host's KVM beyond flat 32-bit protected
# mode (the `btvm probe --accel kvm --needs` vocabulary; see nano.c).
declare -A NEEDS=([syscall]="iret,paging" [sysenter]="iret,paging" [userexit]="iret,paging" [in]=none [cr3]=paging [ptemod]=paging
	[pgfault]="iret,paging" [divzero]=iret [callret]=none [compute]=none [usercompute]="iret,paging"
	[clisti]=none [pushfpopf]=none [irq]=iret [ctxsw]=paging)
NATIVE_OK=" syscall sysenter callret compute usercompute pushfpopf "
# The macro benchmarks: the Linux guest's boot-to-init time (measured
# here) and the programs of bench/macro, run by bench/macro/run-all.sh.
MACROS=(linux-boot linux-getpid linux-clock linux-fork linux-pipe linux-yield linux-pgfault
	linux-sha256 linux-sort linux-file)

orig_args="$*"
quick=0 reps="" ms="" linux_ms="" only="" systems="" build="$ROOT/build" out="$ROOT/bench/results"
usage() {       # usage [STATUS]: the header comment; on stderr unless STATUS is 0
	if [ "${1:-2}" = 0 ]; then
		sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	else
		sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	fi
	exit "${1:-2}"
}
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--only) only="${2:-}"; shift 2 || usage ;;
	--systems) systems="${2:-}"; shift 2 || usage ;;
	--reps) reps="${2:-}"; shift 2 || usage ;;
	--ms) ms="${2:-}"; shift 2 || usage ;;
	--linux-ms) linux_ms="${2:-}"; shift 2 || usage ;;
	--build) build="${2:-}"; shift 2 || usage ;;
	--out) out="${2:-}"; shift 2 || usage ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage ;;
	esac
done
[ -n "$reps" ] || reps=$((quick ? 3 : 5))
[ -n "$ms" ] || ms=$((quick ? 20 : 100))
[ -n "$linux_ms" ] || linux_ms=$((quick ? 50 : 200))
[[ "$reps" =~ ^[1-9][0-9]*$ && "$ms" =~ ^[1-9][0-9]*$ && "$linux_ms" =~ ^[1-9][0-9]*$ ]] ||
	{ echo "run.sh: --reps, --ms and --linux-ms take a positive number" >&2; exit 2; }
build=$(realpath -m "$build")
out=$(realpath -m "$out")

benches=("${BENCHES[@]}") macros=("${MACROS[@]}")
if [ -n "$only" ]; then
	benches=() macros=()
	for b in ${only//,/ }; do
		if [ "$b" = nano ]; then
			benches+=("${BENCHES[@]}")
		elif [ "$b" = linux ]; then
			macros+=("${MACROS[@]}")
		elif [ -n "${NEEDS[$b]:-}" ]; then
			benches+=("$b")
		elif [[ " ${MACROS[*]} " == *" $b "* ]]; then
			macros+=("$b")
		else
			echo "run.sh: unknown benchmark '$b' (one of: ${BENCHES[*]} ${MACROS[*]}, or nano, linux)" >&2
			exit 2
		fi
	done
fi
sys_list=("${ALL_SYSTEMS[@]}")
if [ -n "$systems" ]; then
	sys_list=()
	for s in ${systems//,/ }; do
		[[ " ${ALL_SYSTEMS[*]} " == *" $s "* ]] || { echo "run.sh: unknown system '$s' (one of: ${ALL_SYSTEMS[*]})" >&2; exit 2; }
		sys_list+=("$s")
	done
fi

host=$(hostname -s 2>/dev/null || hostname)
day=$(date +%Y-%m-%d)
stamp=$(date +%Y%m%d-%H%M%S)
# BTVM_HOST_MASK (btvm and its probe behave as if the host lacked these)
# is in the name: -hostB-mask for host B's set (shared/HOSTS.md), else
# -mask-A+B.
HOST_MASK=${BTVM_HOST_MASK:-}
mask_tag=""
if [ -n "$HOST_MASK" ]; then
	m=$(tr ', ' '\n\n' <<<"$HOST_MASK" | sed '/^$/d' | sort -u | paste -sd+)
	case "$m" in
	all | compat-mode+cpuid-faulting+fsgsbase+i386-syscall+kvm+sysenter) mask_tag=-hostB-mask ;;
	*) mask_tag="-mask-$m" ;;
	esac
fi
name="$day-$host$([ $quick = 1 ] && echo -quick)$mask_tag"
# Never overwrite an earlier run's results: the second run of a day is -2.
if [ -e "$(realpath -m "$out")/$name.md" ]; then
	i=2
	while [ -e "$(realpath -m "$out")/$name-$i.md" ]; do i=$((i + 1)); done
	name="$name-$i"
fi
rundir="$build/bench-runs/$stamp"
mkdir -p "$rundir/raw" "$out" || exit 1
log() { echo "run.sh: $*" >&2; }
t_start=$(date +%s)

# ---------------------------------------------------------------- build
# btvm from the main project; the benchmark binaries from the main project
# when it has add_subdirectory(bench), else from bench/ on its own.
BTVM="" NANO="" NATIVE="" MACRO="" MACRO64=""
btvm_why=""
log "building in $build"
if cmake -S "$ROOT" -B "$build" >"$rundir/cmake-configure.log" 2>&1; then
	if cmake --build "$build" --target btvm -j"$(nproc)" >"$rundir/cmake-btvm.log" 2>&1; then
		BTVM="$build/btvm"
	else
		btvm_why="btvm did not build (see $rundir/cmake-btvm.log)"
	fi
else
	btvm_why="the btvm CMake project did not configure (see $rundir/cmake-configure.log)"
fi
if [ -d "$build/bench/CMakeFiles" ]; then
	benchbuild="$build/bench"
	cmake --build "$build" --target bench-nano bench-native bench-macro bench-macro-x86_64 >"$rundir/cmake-bench.log" 2>&1
else
	benchbuild="$build/bench-standalone"
	{ cmake -S "$ROOT/bench" -B "$benchbuild" && cmake --build "$benchbuild"; } >"$rundir/cmake-bench.log" 2>&1
fi
[ -f "$benchbuild/nano.elf" ] && NANO="$benchbuild/nano.elf"
[ -x "$benchbuild/native-i386" ] && NATIVE="$benchbuild/native-i386"
[ -x "$benchbuild/macro-i386" ] && MACRO="$benchbuild/macro-i386"
[ -x "$benchbuild/macro-x86_64" ] && MACRO64="$benchbuild/macro-x86_64"
if [ -z "$NANO" ] && [ ${#benches[@]} -gt 0 ]; then
	log "the benchmark kernel did not build; see $rundir/cmake-bench.log"
	tail -20 "$rundir/cmake-bench.log" >&2
	exit 1
fi

# ---------------------------------------------------------------- what this host runs
# `btvm probe` (honouring BTVM_HOST_MASK): can host processes run i386
# code (the native programs are i386), compatibility-mode code (direct
# execution), and FSGSBASE (else direct execution sets the FS base with
# arch_prctl at each world switch)?  Status 0: yes; 4: no, and the line
# says why; anything else: unknown (an older btvm), then the programs are
# simply tried.
HOST_PROBE="$rundir/host-probe.txt"
i386_rc="" i386_line="" compat_rc="" compat_line="" fsgs_rc="" fsgs_line=""
if [ -n "$BTVM" ]; then
	"$BTVM" probe >"$HOST_PROBE" 2>&1 || echo "(btvm probe: status $?)" >>"$HOST_PROBE"
	i386_line=$("$BTVM" probe --needs compat-mode,i386-syscall 2>&1); i386_rc=$?
	compat_line=$("$BTVM" probe --needs compat-mode 2>&1); compat_rc=$?
	fsgs_line=$("$BTVM" probe --needs fsgsbase 2>&1); fsgs_rc=$?
	i386_line=$(head -1 <<<"$i386_line") compat_line=$(head -1 <<<"$compat_line") fsgs_line=$(head -1 <<<"$fsgs_line")
else
	echo "btvm did not build: no probe" >"$HOST_PROBE"
fi
if [ "$i386_rc" != 0 ] && [ "$i386_rc" != 4 ] && [ -n "$NATIVE" ]; then
	# no answer from the probe: does the kernel start an i386 program?
	err=$("$NATIVE" ms=1 callret 2>&1 >/dev/null </dev/null); rc=$?
	case $rc in
	0) i386_rc=0 i386_line="native-i386 runs here (no btvm probe)" ;;
	126) i386_rc=4 i386_line="the kernel does not start an i386 program: $(head -1 <<<"$err")" ;;
	esac
fi
[ "$i386_rc" = 4 ] && log "this host runs no i386 code ($i386_line): native nanobenchmarks n/a, native macro benchmarks from the x86-64 build"
[ "$compat_rc" = 4 ] && log "no compatibility mode ($compat_line): the direct-execution columns are n/a"
# The noFSGSBASE column: the same btvm with fsgsbase added to the mask.
NOFSGS_MASK="${HOST_MASK:+$HOST_MASK,}fsgsbase"

# ---------------------------------------------------------------- what can run where
# na.tsv: system, benchmark, short reason (in the cell), footnote text.
NA="$rundir/na.tsv" SAMPLES="$rundir/samples.tsv" FAILS="$rundir/fail.tsv" META="$rundir/meta.txt"
: >"$NA"; : >"$SAMPLES"; : >"$FAILS"; : >"$META"
declare -A RUNLIST   # system -> benchmarks it runs, in order
declare -A DEAD      # system -> why it is not booted again
na() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$NA"; }
na_all() { for b in "${benches[@]}"; do na "$1" "$b" "$2" "$3"; done; }
meta() { printf '%s=%s\n' "$1" "$2" >>"$META"; }

# The btvm options of a btvm-* column beyond --accel.
btvm_opts() {
	case "$1" in
	btvm-bt) echo "--user-exec bt" ;;
	btvm-bt-direct | btvm-bt-direct-noFSGSBASE) echo "--user-exec direct" ;;
	esac
}
# btvm's --accel for a btvm-* column.
btvm_accel() {
	case "$1" in
	btvm-kvm) echo kvm ;;
	*) echo bt ;;
	esac
}
# Runs btvm as column $1 runs it: with fsgsbase added to BTVM_HOST_MASK
# for btvm-bt-direct-noFSGSBASE, in this environment otherwise.
btvm_as() {
	local sys=$1
	shift
	if [ "$sys" = btvm-bt-direct-noFSGSBASE ]; then
		BTVM_HOST_MASK=$NOFSGS_MASK "$@"
	else
		"$@"
	fi
}
# Why a direct-execution column cannot run on this host (empty: it can).
# Sets direct_short and direct_note.
direct_na() {
	local sys=$1
	direct_short="" direct_note=""
	[[ "$sys" == btvm-bt-direct* ]] || return 0
	if [ "$compat_rc" = 4 ]; then
		direct_short="no compatibility mode on this host"
		direct_note="$sys: direct execution runs guest ring 3 in a compatibility-mode segment of the host LDT, which this host cannot run, so btvm translates guest user code (the btvm-bt column). \`btvm probe --needs compat-mode\`: $compat_line"
	elif [ "$sys" = btvm-bt-direct-noFSGSBASE ] && [ "$fsgs_rc" = 4 ]; then
		direct_short="no FSGSBASE here anyway"
		direct_note="$sys: this host has no FSGSBASE in user space already, so btvm-bt-direct runs without it (FS base through arch_prctl at each world switch) and is this column. \`btvm probe --needs fsgsbase\`: $fsgs_line"
	fi
}

kvm_line="" kvm_rc=""
declare -A PROBE_RC PROBE_LINE
if [ -n "$BTVM" ]; then
	kvm_line=$("$BTVM" probe --accel kvm 2>&1); kvm_rc=$?
	kvm_line=$(head -1 <<<"$kvm_line")
	for n in none iret paging iret,paging; do
		PROBE_LINE[$n]=$("$BTVM" probe --accel kvm --needs "$n" 2>&1); PROBE_RC[$n]=$?
		PROBE_LINE[$n]=$(head -1 <<<"${PROBE_LINE[$n]}")
	done
fi

# Selects the benchmarks the host's KVM can run for system $1 (btvm-kvm or
# qemu-kvm), marking the others n/a with the probe's line.
kvm_select() {
	local sys=$1 extra=$2 list="" b n
	for b in "${benches[@]}"; do
		n=${NEEDS[$b]}
		case "${PROBE_RC[$n]}" in
		0) list+=" $b" ;;
		3) na "$sys" "$b" "needs $n" "$sys: the host's KVM lacks what this needs. \`btvm probe --accel kvm\`: ${PROBE_LINE[$n]}$extra" ;;
		*) na "$sys" "$b" "no KVM" "$sys: no usable KVM here (btvm probe status ${PROBE_RC[$n]}): ${PROBE_LINE[$n]}" ;;
		esac
	done
	RUNLIST[$sys]=$list
}

bochs_missing() {
	local m="" f
	for f in bochs bochs-bin grub-mkrescue xorriso; do command -v "$f" >/dev/null || m+=" $f"; done
	for f in /usr/share/bochs/BIOS-bochs-latest /usr/share/vgabios/vgabios.bin; do [ -f "$f" ] || m+=" $f"; done
	ls /usr/lib/*/bochs/plugins/libbx_term_gui.so* >/dev/null 2>&1 || m+=" bochs-term"
	[ -d /usr/lib/grub/i386-pc ] || m+=" grub-pc-bin"
	echo "$m"
}

for sys in "${sys_list[@]}"; do
	[ ${#benches[@]} -gt 0 ] || break
	case "$sys" in
	native)
		list=""
		for b in "${benches[@]}"; do
			if [[ "$NATIVE_OK" == *" $b "* ]]; then list+=" $b"; else
				na native "$b" "privileged" "native: a Linux process cannot run this privileged operation (port I/O, CLI/STI, CR3, page tables, its own exception or interrupt handlers)"
			fi
		done
		if [ -z "$NATIVE" ]; then
			na_all native "not built" "native: bench/native did not build (gcc -m32 -static; gcc-multilib): see $rundir/cmake-bench.log"
			list=""
		elif [ "$i386_rc" = 4 ]; then
			# native-i386 cannot start (Exec format error on host B):
			# these have no native figure here.
			for b in $list; do
				na native "$b" "no i386 on this host" "native: this host runs no i386 code, so the i386 program of the native column (native-i386) cannot start. \`btvm probe --needs compat-mode,i386-syscall\`: $i386_line"
			done
			list=""
		fi
		RUNLIST[native]=$list ;;
	btvm-bt | btvm-bt-direct | btvm-bt-direct-noFSGSBASE)
		direct_na "$sys"
		if [ -z "$BTVM" ]; then
			na_all "$sys" "not built" "$sys: $btvm_why"; RUNLIST[$sys]=""
		elif [ -n "$direct_short" ]; then
			na_all "$sys" "$direct_short" "$direct_note"; RUNLIST[$sys]=""
		else
			# shellcheck disable=SC2046 # the options are words
			err=$(btvm_as "$sys" "$BTVM" run --accel bt $(btvm_opts "$sys") --serial none --timeout 10 --append "ms=1 callret" "$NANO" 2>&1 >/dev/null </dev/null); rc=$?
			if [ $rc = 2 ] || { [ "$sys" != btvm-bt ] && [ $rc != 1 ]; }; then
				# status 1: the guest's isa-debug-exit with 0 (a good run)
				na_all "$sys" "cannot run" "$sys: \`btvm run --accel bt $(btvm_opts "$sys")\` says \"$(head -1 <<<"$err")\" (status $rc)"
				RUNLIST[$sys]=""
			else
				RUNLIST[$sys]=" ${benches[*]}"
			fi
		fi ;;
	btvm-kvm)
		if [ -z "$BTVM" ]; then
			na_all btvm-kvm "not built" "btvm-kvm: $btvm_why"; RUNLIST[btvm-kvm]=""
		else
			kvm_select btvm-kvm ""
		fi ;;
	qemu-kvm)
		if ! command -v qemu-system-i386 >/dev/null; then
			na_all qemu-kvm "no QEMU" "qemu-kvm: qemu-system-i386 is not installed (scripts/setup.sh)"; RUNLIST[qemu-kvm]=""
		elif [ -n "$BTVM" ]; then
			kvm_select qemu-kvm " (QEMU stops at the first IRET with a KVM emulation failure here, so these are not run)"
		elif [ -w /dev/kvm ]; then
			RUNLIST[qemu-kvm]=" ${benches[*]}"
		else
			na_all qemu-kvm "no KVM" "qemu-kvm: /dev/kvm is not usable"; RUNLIST[qemu-kvm]=""
		fi ;;
	qemu-tcg)
		if command -v qemu-system-i386 >/dev/null; then RUNLIST[qemu-tcg]=" ${benches[*]}"; else
			na_all qemu-tcg "no QEMU" "qemu-tcg: qemu-system-i386 is not installed (scripts/setup.sh)"; RUNLIST[qemu-tcg]=""
		fi ;;
	bochs)
		m=$(bochs_missing)
		if [ -n "$m" ]; then
			na_all bochs "not installed" "bochs: missing$m (scripts/setup-bench.sh installs them)"; RUNLIST[bochs]=""
		else
			RUNLIST[bochs]=" ${benches[*]}"
		fi ;;
	esac
done

# ---------------------------------------------------------------- Bochs boot image
# Bochs cannot load a multiboot kernel: GRUB (grub-mkrescue, Debian's
# grub-pc-bin) boots it from an El Torito CD.  Bochs's TSC counts executed
# instructions, so the guest times itself with the PIT (clock=pit), which
# Bochs keeps on the host's clock (sync=realtime).  Bochs has no
# isa-debug-exit: the guest writes "Shutdown" to port 0x8900, which ends
# the simulation (with status 1 and a "shutdown requested" panic line).
bochs_image() {
	local dir="$rundir/bochs" list=$1
	[ "$list" = "$(cat "$dir/iso.list" 2>/dev/null)" ] && [ -f "$dir/nano.iso" ] && return 0
	rm -rf "$dir/iso" "$dir/nano.iso" "$dir/iso.list"
	mkdir -p "$dir/iso/boot/grub"
	cp "$NANO" "$dir/iso/boot/nano.elf"
	cat >"$dir/iso/boot/grub/grub.cfg" <<-EOF
		set timeout=0
		set default=0
		menuentry "btvm nanobenchmarks" {
		  multiboot /boot/nano.elf ms=$ms clock=pit$list
		  boot
		}
	EOF
	grub-mkrescue -o "$dir/nano.iso" "$dir/iso" --locales= --fonts= --themes= \
		--install-modules="multiboot normal configfile iso9660 biosdisk" >"$dir/grub-mkrescue.log" 2>&1 || return 1
	echo "$list" >"$dir/iso.list"
}

bochs_prepare() {
	local dir="$rundir/bochs"
	mkdir -p "$dir"
	cat >"$dir/bochsrc" <<-EOF
		# generated by bench/run.sh
		config_interface: textconfig
		display_library: term
		megs: 128
		romimage: file=/usr/share/bochs/BIOS-bochs-latest
		vgaromimage: file=/usr/share/vgabios/vgabios.bin
		ata0-master: type=cdrom, path=nano.iso, status=inserted
		boot: cdrom
		com1: enabled=1, mode=file, dev=com1.txt
		clock: sync=realtime, time0=local
		cpu: count=1, ips=4000000
		log: bochs.log
		panic: action=fatal
		error: action=report
		info: action=report
		debug: action=ignore
		mouse: enabled=0
		speaker: enabled=0
		sound: driver=dummy
	EOF
	echo c >"$dir/continue.rc"      # Debian's bochs-bin has the debugger: start running
}

# ---------------------------------------------------------------- one run
# run_system SYSTEM REP: boots SYSTEM once with its benchmark list and
# records the results.
timeout_for() {         # a boot takes 0.1 s (native) to ~6 s (Bochs, qemu-kvm) here
	echo $(((quick ? 60 : 120) + ms * 30 / 1000))
}

# The last thing the run said that was not a benchmark line: the guest's
# own complaint (stdout) or the emulator's (stderr).
last_words() {
	local sys=$1 o=$2 e=$3 w
	w=$(grep -vE '^(#|BENCH|$)' "$o" | tail -1)
	case "$sys" in
	bochs)
		[ -n "$w" ] || w=$(grep -aE '>>PANIC<<' "$e" 2>/dev/null | tail -1 | sed 's/^.*>>PANIC<< //')
		[ -n "$w" ] || w=$(grep -aiE 'error|fail|cannot|not available' "$e" 2>/dev/null | tail -1) ;;
	*) [ -n "$w" ] || w=$(grep -avE '^(#|$)|warning: host doesn.t support' "$e" | tail -1) ;;
	esac
	[ -n "$w" ] && printf ', "%s"' "$(cut -c1-240 <<<"$w" | tr -d '\t')"
}

# boot SYSTEM LIST OUT ERR: one boot of SYSTEM running the benchmarks in
# LIST; COM1 output (\r stripped) in OUT, the emulator's messages in ERR.
# Sets boot_rc.
boot() {
	local sys=$1 list=$2 o=$3 e=$4 to
	to=$(timeout_for "$sys")
	case "$sys" in
	native)
		# shellcheck disable=SC2086 # one argument per benchmark
		timeout "$to" "$NATIVE" ms="$ms" $list >"$o" 2>"$e" </dev/null; boot_rc=$? ;;
	btvm-*)
		# shellcheck disable=SC2046 # the options are words
		btvm_as "$sys" timeout $((to + 15)) "$BTVM" run --accel "$(btvm_accel "$sys")" $(btvm_opts "$sys") --mem 128M --serial stdio \
			--timeout "$to" --append "ms=$ms$list" "$NANO" >"$o" 2>"$e" </dev/null; boot_rc=$? ;;
	qemu-kvm | qemu-tcg)
		timeout "$to" qemu-system-i386 -accel "${sys#qemu-}" -kernel "$NANO" -append "ms=$ms$list" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio -display none -nodefaults \
			-no-reboot -m 128 >"$o" 2>"$e" </dev/null; boot_rc=$? ;;
	bochs)
		local d="$rundir/bochs"
		bochs_image "$list" || { echo "grub-mkrescue failed" >"$e"; : >"$o"; boot_rc=1; return; }
		rm -f "$d/com1.txt" "$d/bochs.log"
		(cd "$d" && TERM=dumb setsid -w timeout "$to" bochs -q -f bochsrc -rc continue.rc \
			</dev/null >"$e" 2>&1); boot_rc=$?
		cp "$d/com1.txt" "$o" 2>/dev/null || : >"$o"
		cat "$d/bochs.log" >>"$e" 2>/dev/null ;;
	esac
	tr -d '\r' <"$o" >"$o.tmp" && mv "$o.tmp" "$o"
}

# fail REP SYSTEM BENCH SHORT REASON: a run of BENCH gave no number.
fail() { printf '%s\t%s\t%s\t%s\t%s: %s\n' "$1" "$2" "$3" "$4" "$2" "$5" >>"$FAILS"; }
# What the exit status of a boot that ended early says, in a word.
ended() {
	case "$1" in
	6) echo "cannot run" ;;         # btvm: this host/backend cannot run the guest
	124 | 137) echo "timed out" ;;
	*) echo "crashed" ;;
	esac
}

# run_system SYSTEM REP: runs SYSTEM's benchmarks and records the numbers.
# When a boot ends inside a benchmark (a crash, or a backend that cannot
# run it yet), that benchmark is recorded as failed and the ones after it
# get a boot of their own.
run_system() {
	local sys=$1 rep=$2 list=${RUNLIST[$1]} boot_no=0 o e t0 t1 b line last rest crashed
	while [ -n "$list" ]; do
		boot_no=$((boot_no + 1))
		o="$rundir/raw/$rep-$sys.$boot_no.out" e="$rundir/raw/$rep-$sys.$boot_no.err"
		t0=$(date +%s.%N)
		boot "$sys" "$list" "$o" "$e"
		t1=$(date +%s.%N)
		printf '%s\t%s\t%s\t%.2f\t%s\n' "$rep" "$sys" "$boot_rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$list" >>"$rundir/runs.tsv"
		if ! grep -q '^# btvm nanobenchmarks' "$o"; then
			# Never started: the system itself is broken.  Say so for the
			# other repetitions too instead of waiting for it again.
			DEAD[$sys]="the guest never started: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
		fi
		last=$(grep -E '^# [a-z0-9]+: ' "$o" | tail -1 | sed -E 's/^# ([a-z0-9]+):.*/\1/')
		rest="" crashed=0
		for b in $list; do
			line=$(grep -E "^BENCH $b ns_per_iter=" "$o" | tail -1)
			if [ -n "$line" ]; then
				printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$sys" "$b" \
					"$(sed -E 's/.*ns_per_iter=([0-9.]+).*/\1/' <<<"$line")" \
					"$(sed -E 's/.*iters=([0-9]+).*/\1/' <<<"$line")" >>"$SAMPLES"
			elif line=$(grep -E "^BENCH-FAIL $b " "$o" | tail -1) && [ -n "$line" ]; then
				fail "$rep" "$sys" "$b" "check failed" "the guest's sanity check failed: ${line#"BENCH-FAIL $b "}"
			elif [ -z "$last" ]; then
				fail "$rep" "$sys" "$b" "$(ended "$boot_rc")" "the run ended before the first benchmark: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
			elif [ "$b" = "$last" ]; then
				fail "$rep" "$sys" "$b" "$(ended "$boot_rc")" "the run ended in this benchmark: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
				crashed=1
			elif [ $crashed = 1 ]; then
				rest+=" $b"
			else
				fail "$rep" "$sys" "$b" "no result" "no result line (exit status $boot_rc)"
			fi
		done
		list=$rest
	done
}

# ---------------------------------------------------------------- the Linux guest
# One guest for the macro benchmarks: Debian's 686 kernel and a busybox
# initrd with bench/macro/run-all.sh as its workload and macro-i386 as
# /bin/macro, built (and cached: make-guest.sh leaves an up-to-date OUTDIR
# alone) in the build directory.  It runs under each system that can boot
# Linux; native runs the same run-all.sh and program on the host -- or,
# where the host runs no i386 code (the probe above), the same sources
# built for x86-64 (macro-x86_64), labelled so in the table.
HOSTMACRO=$MACRO native_build=i386
if [ "$i386_rc" = 4 ]; then
	HOSTMACRO=$MACRO64 native_build=x86-64
fi
LGUEST="$benchbuild/linux-guest"
LSAMPLES="$rundir/linux-samples.tsv" LRUNS="$rundir/linux-runs.tsv"
: >"$LSAMPLES"; : >"$LRUNS"
declare -A LRUNLIST  # system -> macro benchmarks it runs (without linux-boot)
declare -A LDEAD     # system -> why the guest is not booted again
lna_all() { for b in "${macros[@]}"; do na "$1" "$b" "$2" "$3"; done; }
guest_why=""
if [ ${#macros[@]} -gt 0 ]; then
	if [ -z "$MACRO" ]; then
		guest_why="bench/macro did not build (gcc -m32 -static; gcc-multilib): see $rundir/cmake-bench.log"
	else
		log "building the Linux guest in $LGUEST"
		bash "$ROOT/guests/debian/make-guest.sh" --workload "$ROOT/bench/macro/run-all.sh" \
			--add "$MACRO:/bin/macro" "$LGUEST" >"$rundir/make-guest.log" 2>&1
		case $? in
		0) ;;
		3) guest_why="guests/debian/make-guest.sh cannot reach Debian's package registry: $(tail -1 "$rundir/make-guest.log")" ;;
		*) guest_why="guests/debian/make-guest.sh failed: $(tail -1 "$rundir/make-guest.log")" ;;
		esac
	fi
	[ -n "$guest_why" ] && log "no Linux guest: $guest_why"
fi
# The guest's programs, as bench/macro/macro takes them (linux-boot is
# timed here, not by the guest).
guest_list=""
for b in "${macros[@]}"; do [ "$b" = linux-boot ] || guest_list+=" ${b#linux-}"; done
# The guest kernel is told the TSC's rate (tsc_early_khz=, measured here
# on the host): btvm and QEMU TCG both give the guest the host's TSC rate,
# and the kernel's own calibration against the PIT fails now and then on
# a loaded host, which leaves that boot on the PIT clocksource (every
# clock_gettime a system call) while the next one has the TSC.
tsc_khz=""
if [ -n "$HOSTMACRO" ] && [ ${#macros[@]} -gt 0 ]; then
	tsc_khz=$("$HOSTMACRO" tsc-khz 2>/dev/null)
	[[ "$tsc_khz" =~ ^[1-9][0-9]*$ ]] || { log "cannot measure the host's TSC rate; the guest calibrates its own"; tsc_khz=""; }
fi
meta tsc_khz "${tsc_khz:-not measured}"
# Where native runs the file benchmark: a tmpfs, like the guest's /tmp.
native_tmp=/dev/shm
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || native_tmp=${TMPDIR:-/tmp}
meta native_tmp "$native_tmp ($(stat -f -c %T "$native_tmp" 2>/dev/null))"

for sys in "${sys_list[@]}"; do
	[ ${#macros[@]} -gt 0 ] || break
	LRUNLIST[$sys]=""
	if [ -n "$guest_why" ] && [ "$sys" != native ]; then
		lna_all "$sys" "no guest" "linux: $guest_why"; continue
	fi
	case "$sys" in
	native)
		[[ " ${macros[*]} " == *" linux-boot "* ]] &&
			na native linux-boot "no boot" "native: the programs run as host processes; nothing boots"
		if [ -z "$HOSTMACRO" ]; then
			if [ "$native_build" = x86-64 ]; then
				lna_all native "not built" "native: this host runs no i386 code and bench/macro's x86-64 build (macro-x86_64) did not build: see $rundir/cmake-bench.log"
			else
				lna_all native "not built" "native: $guest_why"
			fi
		else
			LRUNLIST[native]=$guest_list
		fi ;;
	btvm-bt | btvm-bt-direct | btvm-bt-direct-noFSGSBASE | qemu-tcg)
		case "$sys" in
		btvm-bt*)
			[ -n "$BTVM" ] || { lna_all "$sys" "not built" "$sys: $btvm_why"; continue; }
			direct_na "$sys"
			[ -z "$direct_short" ] || { lna_all "$sys" "$direct_short" "$direct_note"; continue; } ;;
		qemu-tcg) command -v qemu-system-i386 >/dev/null ||
			{ lna_all qemu-tcg "no QEMU" "qemu-tcg: qemu-system-i386 is not installed (scripts/setup.sh)"; continue; } ;;
		esac
		LRUNLIST[$sys]=" boot$guest_list" ;;
	btvm-kvm | qemu-kvm)
		# Linux turns on paging and returns from interrupts with IRET.
		if [ -z "$BTVM" ]; then
			lna_all "$sys" "not built" "$sys: $btvm_why"
		elif [ "$sys" = qemu-kvm ] && ! command -v qemu-system-i386 >/dev/null; then
			lna_all qemu-kvm "no QEMU" "qemu-kvm: qemu-system-i386 is not installed (scripts/setup.sh)"
		else
			case "${PROBE_RC[iret,paging]}" in
			0) LRUNLIST[$sys]=" boot$guest_list" ;;
			3) lna_all "$sys" "needs iret,paging" "$sys: the Linux guest needs 32-bit paging and IRET, which the host's KVM cannot run. \`btvm probe --accel kvm\`: ${PROBE_LINE[iret,paging]}" ;;
			*) lna_all "$sys" "no KVM" "$sys: no usable KVM here (btvm probe status ${PROBE_RC[iret,paging]}): ${PROBE_LINE[iret,paging]}" ;;
			esac
		fi ;;
	bochs)
		lna_all bochs "not set up" "bochs: Debian's Bochs starts only from its BIOS, so a Linux bzImage and initrd would need a bootloader image (GRUB with linux/initrd lines on a CD or disk); run.sh builds one only for the multiboot nano.elf, not for Linux" ;;
	esac
done

linux_timeout() { echo $((quick ? 180 : 300)); }

# linux_boot SYSTEM LIST OUT ERR: one run of the macro benchmarks in LIST
# (guest program names, "boot" first when the boot is timed): the guest
# booted under SYSTEM, or run-all.sh on the host for native.  Console in
# OUT (\r stripped), the emulator's messages in ERR.  Sets boot_rc and
# init_s (seconds from starting the emulator until /init's marker line
# appeared on the console, as tests/linux/run-linux.sh measures it).
linux_boot() {
	local sys=$1 list=${2# boot} o=$3 e=$4 to start at="" cmdline csv l
	to=$(linux_timeout)
	list=${list# }
	init_s=""
	if [ "$sys" = native ]; then
		MACRO_BIN="$HOSTMACRO" BENCH_MS="$linux_ms" BENCH_LIST="${list// /,}" BENCH_TMP="$native_tmp" \
			timeout "$to" sh "$ROOT/bench/macro/run-all.sh" >"$o" 2>"$e" </dev/null
		boot_rc=$?
		return
	fi
	# bench_list=none: the boot alone (run-all.sh then runs no program).
	csv=${list// /,}
	cmdline="$(cat "$LGUEST/cmdline")${tsc_khz:+ tsc_early_khz=$tsc_khz} bench_ms=$linux_ms bench_list=${csv:-none}"
	local cmd
	case "$sys" in
	btvm-*)
		# shellcheck disable=SC2046 # the options are words
		cmd=(timeout $((to + 15)) "$BTVM" run --accel "$(btvm_accel "$sys")" $(btvm_opts "$sys") --mem 256M --initrd "$LGUEST/initrd.gz"
			--append "$cmdline" --serial stdio --timeout "$to" "$LGUEST/vmlinuz")
		[ "$sys" = btvm-bt-direct-noFSGSBASE ] && cmd=(env "BTVM_HOST_MASK=$NOFSGS_MASK" "${cmd[@]}") ;;
	qemu-tcg | qemu-kvm)
		# tests/linux/run-linux.sh's command line: a PC without HPET, a
		# pentium3 trimmed towards btvm's CPUID model, and tsc=reliable
		# (QEMU's TCG CPU has no invariant TSC or IA32_TSC_ADJUST).
		cmd=(timeout "$to" qemu-system-i386 -accel "${sys#qemu-}" -M pc,hpet=off
			-cpu pentium3,-vme,-de,-mce,-mca,-pse36,+sse2,+clflush,-pae -m 256
			-kernel "$LGUEST/vmlinuz" -initrd "$LGUEST/initrd.gz" -append "$cmdline tsc=reliable"
			-display none -serial stdio -nodefaults -no-reboot) ;;
	esac
	: >"$o.raw"
	start=$EPOCHREALTIME
	{
		"${cmd[@]}" </dev/null 2>"$e"
		echo $? >"$o.rc"
	} | while IFS= read -r l || [ -n "$l" ]; do
		printf '%s\n' "$l" >>"$o.raw"
		if [ ! -e "$o.init" ] && [[ $l == *"btvm-guest: init started"* ]]; then
			echo "$EPOCHREALTIME" >"$o.init"
		fi
	done
	boot_rc=$(cat "$o.rc" 2>/dev/null || echo "?")
	[ -e "$o.init" ] && at=$(cat "$o.init") && init_s=$(awk -v a="$start" -v b="$at" 'BEGIN { printf "%.3f", b - a }')
	tr -d '\r' <"$o.raw" >"$o"
	rm -f "$o.raw" "$o.rc" "$o.init"
}

# run_linux SYSTEM REP: runs SYSTEM's macro benchmarks and records them;
# like run_system, a run that ends inside a benchmark marks it and boots
# again for the ones after it.
run_linux() {
	local sys=$1 rep=$2 list=${LRUNLIST[$1]} boot_no=0 o e b line last rest crashed cs body val unit
	while [ -n "$list" ]; do
		boot_no=$((boot_no + 1))
		o="$rundir/raw/$rep-$sys.linux$boot_no.out" e="$rundir/raw/$rep-$sys.linux$boot_no.err"
		linux_boot "$sys" "$list" "$o" "$e"
		# The guest's (or host's) clocksource, from run-all.sh's first line.
		cs=$(sed -n -E 's/^# kernel .*, clocksource (.*)$/\1/p' "$o" | head -1)
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$sys" "$boot_rc" "${init_s:-}" "${cs:-?}" "$list" >>"$LRUNS"
		if [[ " $list " == *" boot "* ]]; then
			if [ -n "$init_s" ]; then
				printf '%s\t%s\tlinux-boot\t%s\ts\n' "$rep" "$sys" "$init_s" >>"$LSAMPLES"
			else
				fail "$rep" "$sys" linux-boot "$(ended "$boot_rc")" "the /init marker never appeared: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
			fi
		fi
		# The workload's lines (the guest's, between /init's markers).
		if [ "$sys" = native ]; then
			body=$(cat "$o")
		else
			body=$(awk '/^=== btvm-workload end/ { exit } in_wl { print } /^=== btvm-workload begin ===$/ { in_wl = 1 }' "$o")
		fi
		if [ -n "${list// /}" ] && [ "${list// /}" != boot ] && ! grep -q '^# btvm macro benchmarks' <<<"$body"; then
			LDEAD[$sys]="the benchmarks never started: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
		fi
		last=$(grep -E '^# [a-z0-9]+: ' <<<"$body" | tail -1 | sed -E 's/^# ([a-z0-9]+):.*/\1/')
		rest="" crashed=0
		for b in $list; do
			[ "$b" = boot ] && continue
			line=$(grep -E "^BENCH $b [0-9.]+ [a-z/]+\$" <<<"$body" | tail -1)
			if [ -n "$line" ]; then
				read -r _ _ val unit <<<"$line"
				printf '%s\t%s\tlinux-%s\t%s\t%s\n' "$rep" "$sys" "$b" "$val" "$unit" >>"$LSAMPLES"
			elif line=$(grep -E "^BENCH-FAIL $b " <<<"$body" | tail -1) && [ -n "$line" ]; then
				fail "$rep" "$sys" "linux-$b" "check failed" "the program's check failed: ${line#"BENCH-FAIL $b "}"
			elif [ -z "$last" ]; then
				fail "$rep" "$sys" "linux-$b" "$(ended "$boot_rc")" "the run ended before the first benchmark: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
			elif [ "$b" = "$last" ]; then
				fail "$rep" "$sys" "linux-$b" "$(ended "$boot_rc")" "the run ended in this benchmark: exit status $boot_rc$(last_words "$sys" "$o" "$e")"
				crashed=1
			elif [ $crashed = 1 ]; then
				rest+=" $b"
			else
				fail "$rep" "$sys" "linux-$b" "no result" "no result line (exit status $boot_rc)"
			fi
		done
		list=$rest
		[ -z "${LDEAD[$sys]:-}" ] || break
	done
}

# ---------------------------------------------------------------- go
if [[ " ${sys_list[*]} " == *" bochs "* && -n "${RUNLIST[bochs]:-}" ]]; then
	if ! bochs_prepare || ! bochs_image "${RUNLIST[bochs]}"; then
		na_all bochs "no image" "bochs: grub-mkrescue failed (see $rundir/bochs/grub-mkrescue.log)"
		RUNLIST[bochs]=""
	fi
fi
for ((rep = 1; rep <= reps; rep++)); do
	for sys in "${sys_list[@]}"; do
		[ -n "${RUNLIST[$sys]:-}" ] || continue
		if [ -n "${DEAD[$sys]:-}" ]; then
			for b in ${RUNLIST[$sys]}; do fail "$rep" "$sys" "$b" "not run" "${DEAD[$sys]}"; done
			continue
		fi
		log "rep $rep/$reps: $sys:${RUNLIST[$sys]}"
		run_system "$sys" "$rep"
	done
	for sys in "${sys_list[@]}"; do
		[ -n "${LRUNLIST[$sys]:-}" ] || continue
		if [ -n "${LDEAD[$sys]:-}" ]; then
			for b in ${LRUNLIST[$sys]}; do fail "$rep" "$sys" "linux-$b" "not run" "${LDEAD[$sys]}"; done
			continue
		fi
		log "rep $rep/$reps: $sys linux:${LRUNLIST[$sys]}"
		run_linux "$sys" "$rep"
	done
done

# ---------------------------------------------------------------- report
meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
meta host "$host"
meta cpu "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
meta cores "$(nproc)"
meta hypervisor "$(grep -qw hypervisor /proc/cpuinfo && echo 'yes (this host is itself a virtual machine: the CPU flags include "hypervisor")' || echo no)"
meta kernel "$(uname -r)"
meta host_mask "$HOST_MASK"
meta host_probe_file "$HOST_PROBE"
meta i386_probe "${i386_line:-not asked} $([ -n "$i386_rc" ] && echo "(status $i386_rc)")"
meta compat_probe "${compat_line:-not asked} $([ -n "$compat_rc" ] && echo "(status $compat_rc)")"
meta fsgs_probe "${fsgs_line:-not asked} $([ -n "$fsgs_rc" ] && echo "(status $fsgs_rc)")"
meta compat_rc "$compat_rc"
meta fsgs_rc "$fsgs_rc"
meta i386_rc "$i386_rc"
meta native_macro_build "$native_build"
meta nofsgs_mask "$NOFSGS_MASK"
meta kvm_probe "${kvm_line:-btvm not built} $([ -n "$kvm_rc" ] && echo "(status $kvm_rc)")"
pvm="no (/sys/module/kvm_pvm absent)"
[ -d /sys/module/kvm_pvm ] && pvm="yes: /sys/module/kvm_pvm is loaded (PVM, a software nested hypervisor: /dev/kvm here is PVM, not VT-x/SVM)"
meta pvm "$pvm"
nested="unknown"
for f in /sys/module/kvm_intel/parameters/nested /sys/module/kvm_amd/parameters/nested; do
	[ -r "$f" ] && nested="$(basename "$(dirname "$(dirname "$f")")") nested=$(cat "$f")"
done
[ "$nested" = unknown ] && [ -d /sys/module/kvm_pvm ] && nested="no kvm_intel/kvm_amd module: only kvm_pvm"
meta kvm_nested "$nested"
meta qemu "$(qemu-system-i386 --version 2>/dev/null | head -1)"
meta bochs "$(dpkg-query -W -f='${Package} ${Version}' bochs 2>/dev/null)"
meta gcc "$(gcc --version | head -1)"
meta btvm "$([ -n "$BTVM" ] && "$BTVM" --version 2>&1 | head -1) (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$([ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo ', with uncommitted changes'))"
meta reps "$reps"
meta ms "$ms"
meta quick "$quick"
meta systems "${sys_list[*]}"
meta benches "${benches[*]}"
meta macros "${macros[*]}"
meta linux_ms "$linux_ms"
meta linux_guest "$(tr '\n' ';' 2>/dev/null <"$LGUEST/packages") kernel command line: $(cat 2>/dev/null "$LGUEST/cmdline")${tsc_khz:+ tsc_early_khz=$tsc_khz} bench_ms=$linux_ms bench_list=..."
meta rundir "$rundir"
meta command "bench/run.sh${orig_args:+ $orig_args}"
meta elapsed "$(($(date +%s) - t_start))"

python3 "$ROOT/bench/report.py" --rundir "$rundir" --out "$out" --name "$name" || exit 1
log "wrote $out/$name.md (+ its .dat .png .svg charts; -linux.* for the macro table); raw output in $rundir"
