#!/bin/bash
# check_errors.sh BTVM_BINARY IMAGE_DIR
#
# Runs `BTVM run --accel kvm FILE` for every malformed image listed by
# make_bad_images (IMAGE_DIR must hold its output: `make_bad_images DIR`
# writes the files and prints their names; this script reads the names from
# DIR/list.txt when present, else from the files named *.elf / *.bin in DIR
# except good-multiboot.elf), plus command-line error cases, and the Linux
# ones on good-linux.bin and big-initrd.img.  For each case
# it asserts:
#   - a non-zero exit status that is not a crash, signal or timeout (< 124),
#   - exactly one line on stderr, starting with "btvm: ",
#   - nothing on stdout,
#   - the input file (when there is one) is unchanged (sha256sum).
# Images named flat-* run with --flat --mem 2M.  Then bad --disk, --cdrom
# and --drive images and options, and an image in use by another btvm.  It prints one line per case
# and exits 1 if any case fails (2 on bad usage).
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BTVM_BINARY IMAGE_DIR" >&2
	exit 2
fi
BTVM=$1
DIR=$2
if [ ! -x "$BTVM" ]; then
	echo "$0: '$BTVM' is not an executable" >&2
	exit 2
fi
if [ ! -d "$DIR" ]; then
	echo "$0: '$DIR' is not a directory" >&2
	exit 2
fi

TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT

TIMEOUT=()
if command -v timeout >/dev/null 2>&1; then
	TIMEOUT=(timeout 30)
fi

total=0
failed=0

# check NAME INPUT_FILE_OR_EMPTY ARGS...
check() {
	local name=$1 input=$2
	shift 2
	local before="" after="" rc problems=""
	total=$((total + 1))
	if [ -n "$input" ] && [ -f "$input" ]; then
		before=$(sha256sum <"$input")
	fi
	"${TIMEOUT[@]}" "$BTVM" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		problems+=" exit-status-0;"
	elif [ "$rc" -ge 124 ]; then
		problems+=" exit-status-$rc-(timeout/crash/signal);"
	fi
	if [ -s "$TMP/out" ]; then
		problems+=" stdout-not-empty;"
	fi
	local lines last
	lines=$(wc -l <"$TMP/err")
	last=$(tail -c 1 "$TMP/err" | od -An -tx1 | tr -d ' \n')
	if [ "$lines" -ne 1 ] || [ "$last" != "0a" ]; then
		problems+=" stderr-has-$lines-lines-(want-exactly-1);"
	fi
	if ! head -n 1 "$TMP/err" | grep -q '^btvm: '; then
		problems+=" stderr-does-not-start-with-'btvm: ';"
	fi
	if [ -n "$before" ]; then
		after=$(sha256sum <"$input")
		if [ "$before" != "$after" ]; then
			problems+=" input-file-changed;"
		fi
	fi
	local msg
	msg=$(head -n 1 "$TMP/err")
	if [ -z "$problems" ]; then
		echo "PASS $name: (status $rc) $msg"
	else
		failed=$((failed + 1))
		echo "FAIL $name:$problems (status $rc) stderr: $(head -c 300 "$TMP/err" | tr '\n' '|')"
	fi
}

# Malformed images.
if [ -f "$DIR/list.txt" ]; then
	mapfile -t names <"$DIR/list.txt"
else
	names=()
	for f in "$DIR"/*.elf "$DIR"/*.bin; do
		[ -e "$f" ] || continue
		b=${f##*/}
		[ "$b" = good-multiboot.elf ] && continue
		names+=("$b")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "$0: no images in '$DIR' (run make_bad_images '$DIR' first)" >&2
	exit 2
fi
for n in "${names[@]}"; do
	[ -n "$n" ] || continue
	f="$DIR/$n"
	case "$n" in
	flat-*) check "$n" "$f" run --accel kvm --flat --mem 2M "$f" ;;
	*) check "$n" "$f" run --accel kvm "$f" ;;
	esac
done

# Files that are not kernel images.
check "missing-kernel-file" "" run --accel kvm "$DIR/does-not-exist.elf"
mkdir -p "$TMP/a-directory"
check "kernel-is-a-directory" "" run --accel kvm "$TMP/a-directory"

# Good kernel, bad module / initrd.
GOOD="$DIR/good-multiboot.elf"
if [ -f "$GOOD" ]; then
	check "module-file-missing" "$GOOD" run --accel kvm --module "$DIR/no-such-module.bin,arg" "$GOOD"
	check "initrd-file-missing" "$GOOD" run --accel kvm --initrd "$DIR/no-such-initrd.img" "$GOOD"
	check "module-is-a-directory" "$GOOD" run --accel kvm --module "$TMP/a-directory" "$GOOD"
	check "flat-with-module" "$GOOD" run --accel kvm --flat --module "$GOOD" "$GOOD"
else
	total=$((total + 1))
	failed=$((failed + 1))
	echo "FAIL good-multiboot.elf: missing from '$DIR' (needed for the module cases)"
	GOOD="$DIR/no-multiboot-header.bin"
fi

# Bad disk images (--disk, --disk-ro): the kernel is fine, the disk is not.
# The image must be left as it was.
if [ -f "$GOOD" ] && [ -f "$DIR/disk-good.img" ]; then
	DISK="$DIR/disk-good.img"
	check "disk-empty" "$DIR/disk-empty.img" run --accel kvm --disk "$DIR/disk-empty.img" "$GOOD"
	check "disk-not-whole-sectors" "$DIR/disk-not-whole-sectors.img" \
		run --accel kvm --disk "$DIR/disk-not-whole-sectors.img" "$GOOD"
	check "disk-ro-not-whole-sectors" "$DIR/disk-not-whole-sectors.img" \
		run --accel kvm --disk-ro "$DIR/disk-not-whole-sectors.img" "$GOOD"
	check "disk-missing" "" run --accel kvm --disk "$DIR/no-such-disk.img" "$GOOD"
	check "disk-ro-missing" "" run --accel kvm --disk-ro "$DIR/no-such-disk.img" "$GOOD"
	check "disk-is-a-directory" "" run --accel kvm --disk "$TMP/a-directory" "$GOOD"
	check "disk-is-a-char-device" "" run --accel kvm --disk /dev/null "$GOOD"
	mkfifo "$TMP/a-fifo"
	check "disk-is-a-fifo" "" run --accel kvm --disk-ro "$TMP/a-fifo" "$GOOD"
	check "disk-empty-name" "" run --accel kvm --disk "" "$GOOD"
	check "two-disks" "$DISK" run --accel kvm --disk "$DISK" --disk-ro "$DISK" "$GOOD"
	# --cdrom and --drive: the same file rules (a CD in whole 2048-byte
	# blocks), QEMU's -drive keys, and one drive per position.
	check "cdrom-missing" "" run --accel kvm --cdrom "$DIR/no-such.iso" "$GOOD"
	check "cdrom-empty" "$DIR/disk-empty.img" run --accel kvm --cdrom "$DIR/disk-empty.img" "$GOOD"
	check "cdrom-not-whole-blocks" "$DIR/cd-not-whole-blocks.iso" \
		run --accel kvm --cdrom "$DIR/cd-not-whole-blocks.iso" "$GOOD"
	check "cdrom-is-a-directory" "" run --accel kvm --cdrom "$TMP/a-directory" "$GOOD"
	check "drive-cdrom-not-whole-blocks" "$DIR/cd-not-whole-blocks.iso" \
		run --accel kvm --drive "file=$DIR/cd-not-whole-blocks.iso,if=ide,index=3,media=cdrom" "$GOOD"
	check "drive-not-whole-sectors" "$DIR/disk-not-whole-sectors.img" \
		run --accel kvm --drive "file=$DIR/disk-not-whole-sectors.img,if=ide,index=1,format=raw" "$GOOD"
	check "drive-missing" "" run --accel kvm --drive "file=$DIR/no-such-disk.img,index=1" "$GOOD"
	check "drive-is-a-directory" "" run --accel kvm --drive "file=$TMP/a-directory,index=2" "$GOOD"
	check "drive-is-a-char-device" "" run --accel kvm --drive "file=/dev/null,index=3" "$GOOD"
	check "drive-without-file" "" run --accel kvm --drive "if=ide,index=1" "$GOOD"
	check "drive-unknown-key" "$DISK" run --accel kvm --drive "file=$DISK,cache=none" "$GOOD"
	check "drive-not-key-value" "$DISK" run --accel kvm --drive "$DISK" "$GOOD"
	check "drive-if-virtio" "$DISK" run --accel kvm --drive "file=$DISK,if=virtio" "$GOOD"
	check "drive-format-qcow2" "$DISK" run --accel kvm --drive "file=$DISK,format=qcow2" "$GOOD"
	check "drive-index-4" "$DISK" run --accel kvm --drive "file=$DISK,index=4" "$GOOD"
	check "drive-media-floppy" "$DISK" run --accel kvm --drive "file=$DISK,media=floppy" "$GOOD"
	check "drive-readonly-maybe" "$DISK" run --accel kvm --drive "file=$DISK,readonly=maybe" "$GOOD"
	check "drive-cdrom-readonly-off" "$DISK" run --accel kvm --drive "file=$DISK,media=cdrom,readonly=off" "$GOOD"
	check "drive-key-twice" "$DISK" run --accel kvm --drive "file=$DISK,index=1,index=1" "$GOOD"
	check "drive-index-0-with-disk" "$DISK" run --accel kvm --disk "$DISK" --drive "file=$DISK,index=0" "$GOOD"
	check "two-drives-one-index" "$DISK" \
		run --accel kvm --drive "file=$DISK,index=1,readonly=on" --drive "file=$DISK,index=1,readonly=on" "$GOOD"
	check "cdrom-with-drive-index-2" "$DISK" run --accel kvm --drive "file=$DISK,index=2" --cdrom "$DISK" "$GOOD"
	check "five-drives" "$DISK" run --accel kvm --drive "file=$DISK,readonly=on" --drive "file=$DISK,readonly=on" \
		--drive "media=cdrom" --drive "file=$DISK,readonly=on" --drive "file=$DISK,readonly=on" "$GOOD"
	check "one-image-two-writable-drives" "$DISK" \
		run --accel kvm --drive "file=$DISK,index=1" --drive "file=$DISK,index=3" "$GOOD"
	check "drive-with-bad-kernel" "$DISK" run --accel kvm --drive "file=$DISK,index=1" "$DIR/bad-checksum.elf"
	check "drive-good-and-drive-bad" "$DISK" \
		run --accel kvm --drive "file=$DISK,index=1" --drive "file=$DIR/disk-empty.img,index=3" "$GOOD"
	check "disk-with-bad-kernel" "$DISK" run --accel kvm --disk "$DISK" "$DIR/bad-checksum.elf"
	if [ "$(id -u)" != 0 ]; then   # root can open any file for writing
		cp "$DISK" "$TMP/read-only.img" && chmod 444 "$TMP/read-only.img"
		check "disk-read-only-file-without-disk-ro" "$TMP/read-only.img" \
			run --accel kvm --disk "$TMP/read-only.img" "$GOOD"
		check "drive-read-only-file-without-readonly" "$TMP/read-only.img" \
			run --accel kvm --drive "file=$TMP/read-only.img,index=3" "$GOOD"
	fi
	# An image in use by another btvm: start one on spin-serial.bin (bt,
	# which every host can run), wait for its guest's first byte on COM1
	# (the disk is opened before the guest starts), then try a second.
	SPIN="$DIR/spin-serial.bin"
	: >"$TMP/holder.out"
	"$BTVM" run --accel bt --flat --mem 2M --disk "$DISK" --serial "file:$TMP/holder.out" \
		--timeout 60 "$SPIN" </dev/null >/dev/null 2>"$TMP/holder.err" &
	holder=$!
	for _ in $(seq 600); do
		[ -s "$TMP/holder.out" ] && break
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.05
	done
	if [ -s "$TMP/holder.out" ]; then
		check "disk-in-use" "$DISK" run --accel kvm --disk "$DISK" "$GOOD"
		check "disk-ro-in-use-by-a-writer" "$DISK" run --accel kvm --disk-ro "$DISK" "$GOOD"
		check "drive-in-use" "$DISK" run --accel kvm --drive "file=$DISK,index=1" "$GOOD"
		check "drive-readonly-in-use-by-a-writer" "$DISK" run --accel kvm --drive "file=$DISK,index=1,readonly=on" "$GOOD"
	else
		total=$((total + 1))
		failed=$((failed + 1))
		echo "FAIL disk-in-use: the btvm holding the disk did not start: $(head -c 300 "$TMP/holder.err")"
	fi
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
else
	total=$((total + 1))
	failed=$((failed + 1))
	echo "FAIL disk cases: good-multiboot.elf or disk-good.img missing from '$DIR'"
fi

# Good Linux kernel, bad initrd / command line / module.
LGOOD="$DIR/good-linux.bin"
if [ -f "$LGOOD" ] && [ -f "$DIR/big-initrd.img" ]; then
	check "linux-initrd-too-big-for-window" "$DIR/big-initrd.img" run --accel kvm --initrd "$DIR/big-initrd.img" "$LGOOD"
	check "linux-initrd-missing" "$LGOOD" run --accel kvm --initrd "$DIR/no-such-initrd.img" "$LGOOD"
	check "linux-cmdline-too-long" "$LGOOD" run --accel kvm --append "console=ttyS0 0123456789012345678901234567890" "$LGOOD"
	check "linux-with-module" "$LGOOD" run --accel kvm --module "$LGOOD" "$LGOOD"
else
	total=$((total + 1))
	failed=$((failed + 1))
	echo "FAIL good-linux.bin / big-initrd.img: missing from '$DIR' (needed for the Linux cases)"
fi

# --display: bad values, curses without a terminal of its own, files that
# cannot be written.  Under bt, so that the display is set up on any host.
check "display-sdl" "$GOOD" run --accel bt --display sdl "$GOOD"
check "display-file-empty-path" "$GOOD" run --accel bt --display file: "$GOOD"
check "display-curses-with-serial-stdio" "$GOOD" run --accel bt --display curses "$GOOD"
check "display-curses-stdout-not-a-terminal" "$GOOD" run --accel bt --display curses --serial none "$GOOD"
check "display-file-in-missing-directory" "$GOOD" run --accel bt --display "file:$TMP/no-such-dir/screen.txt" "$GOOD"
check "display-file-is-a-directory" "$GOOD" run --accel bt --display "file:$TMP/a-directory" "$GOOD"
check "display-with-probe" "" probe --display "file:$TMP/screen.txt"
# Accepted: a bzImage whose syssize, rounded up, counts up to 15 bytes past
# the end of the file (QEMU and GRUB boot those).  It must start (its code
# writes 0 to isa-debug-exit: status 1) with nothing on stderr.
ROUNDED="$DIR/good-linux-syssize-rounded-up.bin"
total=$((total + 1))
if [ -f "$ROUNDED" ]; then
	"${TIMEOUT[@]}" "$BTVM" run --accel bt --serial none --timeout 20 "$ROUNDED" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	if [ "$rc" -eq 1 ] && [ ! -s "$TMP/err" ]; then
		echo "PASS linux-syssize-rounded-up: accepted (status 1)"
	else
		failed=$((failed + 1))
		echo "FAIL linux-syssize-rounded-up: status $rc (want 1), stderr: $(head -c 300 "$TMP/err")"
	fi
else
	failed=$((failed + 1))
	echo "FAIL good-linux-syssize-rounded-up.bin missing from '$DIR'"
fi

# Command-line errors.
check "no-kernel-argument" "" run --accel kvm
check "mem-too-small-1K" "$GOOD" run --accel kvm --mem 1K "$GOOD"
check "mem-not-a-size-abc" "$GOOD" run --accel kvm --mem abc "$GOOD"
check "unknown-option" "$GOOD" run --accel kvm --no-such-option "$GOOD"
check "accel-foo" "$GOOD" run --accel foo "$GOOD"

echo "$((total - failed))/$total cases passed"
[ "$failed" -eq 0 ]
