#!/bin/bash
# make-system.sh [--pae] [--size N] [--btvm PATH] [--check] OUTDIR
#
# Builds a real Debian 12 i386 system for btvm from Debian's packages only
# (mmdebstrap --architectures=i386, run as root, with the host's apt
# sources):
#   OUTDIR/disk.img        raw disk image (sparse), N bytes (--size, a
#                          truncate(1) size; default 2G): an MBR partition
#                          table (sfdisk) with one Linux partition from 1 MiB,
#                          an ext4 file system made from the tree with
#                          `mkfs.ext4 -d` (no loop device, no mount)
#   OUTDIR/vmlinuz         the system's kernel, linux-image-686 (-686-pae
#                          with --pae), as installed in /boot
#   OUTDIR/initrd.img      its initramfs, built by Debian's initramfs-tools
#                          inside the tree with MODULES=list: ata_piix,
#                          sd_mod, ext4 (and what they depend on), enough
#                          to find the root file system on the IDE disk
#   OUTDIR/cmdline         the recommended kernel command line (root=/dev/sda1)
#   OUTDIR/kernel-version  the kernel's release (uname -r)
#   OUTDIR/packages        the installed packages, "name version arch"
# The system: minbase + systemd (systemd-sysv, udev, dbus), kmod, procps, gcc,
# make, libc6-dev, e2fsprogs; host name "btvm"; /dev/sda1 mounted on /;
# root has NO password and the serial console (ttyS0) logs root in by
# itself (a drop-in for serial-getty@ttyS0 runs agetty --autologin root):
# this image is for tests, not for a network.  /root/hello.deb is
# Debian's hello:i386, not installed (the test installs it).
# Boot it with
#   btvm run --mem 512M --disk OUTDIR/disk.img --initrd OUTDIR/initrd.img \
#       --append "$(cat OUTDIR/cmdline)" OUTDIR/vmlinuz
# (a guest writes to disk.img: copy it first to keep a pristine one).
#
# Cached: OUTDIR/.inputs holds a hash of this script and the options; a
# rerun with the same leaves OUTDIR alone (the mirror may have moved on:
# rm -rf OUTDIR to build afresh).  Takes about 2 minutes and 700 MB.
# --check only says whether OUTDIR is up to date (exit 0) or not (1).
#
# The packages are i386 programs that run while they are installed: a host
# that cannot run i386 code (`btvm probe --needs compat-mode,i386-syscall`
# says so; without a btvm, arch-test i386) needs qemu-user-static and a
# binfmt_misc entry for it, which this script installs and registers then,
# saying so (docs: /work/shared/HOSTS.md, "Running i386 programs on host B").
#
# Needs root, mmdebstrap and arch-test (scripts/setup-system.sh installs
# them), sfdisk and mkfs.ext4.
# Exit status: 0 done (or up to date), 1 error, 2 bad usage, 3 Debian's
# package registry cannot be reached (tests skip on 3).  Errors are one line
# on stderr starting with "make-system: ".
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root_dir=$(cd "$here/../.." && pwd)
prog=make-system

usage() {
	echo "usage: $0 [--pae] [--size N] [--btvm PATH] [--check] OUTDIR" >&2
	exit 2
}
die() {
	echo "$prog: $*" >&2
	exit 1
}
unreachable() {
	echo "$prog: $*" >&2
	exit 3
}

pae=0 size=2G outdir="" btvm="$root_dir/build/btvm" check=0
while [ $# -gt 0 ]; do
	case "$1" in
	--pae) pae=1; shift ;;
	--size) [ $# -ge 2 ] || usage; size=$2; shift 2 ;;
	--btvm) [ $# -ge 2 ] || usage; btvm=$2; shift 2 ;;
	--check) check=1; shift ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; [ $# -eq 1 ] || usage; outdir=$1; shift ;;
	-*) echo "$prog: unknown option '$1'" >&2; usage ;;
	*) [ -z "$outdir" ] || usage; outdir=$1; shift ;;
	esac
done
[ -n "$outdir" ] || usage
case "$size" in
[0-9]*[KMG] | [0-9]*) ;;
*) die "--size '$size': expected a number of bytes with an optional K, M or G" ;;
esac
bytes=$(numfmt --from=iec "$size" 2>/dev/null) || die "--size '$size': not a size"
[ "$bytes" -ge $((1024 * 1024 * 1024)) ] || die "--size '$size': at least 1G is needed"
flavour=686
[ $pae -eq 1 ] && flavour=686-pae

# ---- up to date? -------------------------------------------------------
want=$(printf 'make-system 1\nflavour %s\nsize %s\n%s\n' "$flavour" "$bytes" "$(sha256sum <"$0" | cut -d' ' -f1)")
complete() {
	local f
	for f in .inputs disk.img vmlinuz initrd.img cmdline kernel-version; do
		[ -f "$outdir/$f" ] || return 1
	done
}
if complete && [ "$(cat "$outdir/.inputs")" = "$want" ]; then
	echo "$prog: $outdir is up to date ($(cat "$outdir/kernel-version"))" >&2
	exit 0
fi
[ $check -eq 0 ] || exit 1

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap installs packages as root into the tree, and the file system keeps their owners)"
for t in mmdebstrap arch-test sfdisk mkfs.ext4 sha256sum numfmt; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (scripts/setup-system.sh installs what this script needs)"
done
sources=""
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[ -s "$f" ] && grep -q -E '^[^#]*(deb |URIs:)' "$f" && { sources=$f; break; }
done
[ -n "$sources" ] || die "no Debian apt sources on this host (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
mkdir -p "$outdir" || die "cannot create '$outdir'"
rm -f "$outdir/.inputs"

# ---- i386 programs on this host ----------------------------------------
runs_i386=""
if [ -x "$btvm" ]; then
	if "$btvm" probe --needs compat-mode,i386-syscall >/dev/null 2>&1; then runs_i386=1; else runs_i386=0; fi
elif arch-test -n i386 >/dev/null 2>&1; then
	runs_i386=1
else
	runs_i386=0
fi
if [ "$runs_i386" = 0 ] && ! arch-test i386 >/dev/null 2>&1; then
	echo "$prog: this host runs no i386 code: registering qemu-user-static's qemu-i386 with binfmt_misc for the package scripts" >&2
	if ! command -v qemu-i386-static >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null 2>&1 ||
			unreachable "apt-get install qemu-user-static failed: is Debian's package registry reachable?"
	fi
	[ -e /proc/sys/fs/binfmt_misc/register ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
	if [ ! -e /proc/sys/fs/binfmt_misc/qemu-i386 ]; then
		printf ':qemu-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-i386-static:F\n' \
			>/proc/sys/fs/binfmt_misc/register || die "cannot register qemu-i386 with binfmt_misc"
	fi
	arch-test i386 >/dev/null 2>&1 || die "i386 programs still do not run here (arch-test i386: $(arch-test i386 2>&1 | tail -n 1))"
fi

# ---- the tree ------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/var/tmp}/make-system.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
hook=$work/customize.sh
cat >"$hook" <<'EOF'
#!/bin/sh
# mmdebstrap --customize-hook: $1 is the tree.
set -e
r=$1
echo btvm >"$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tbtvm\n' >"$r/etc/hosts"
echo '/dev/sda1 / ext4 errors=remount-ro 0 1' >"$r/etc/fstab"
# root: no password; the serial console logs it in by itself.
chroot "$r" passwd -q -d root
d=$r/etc/systemd/system/serial-getty@ttyS0.service.d
mkdir -p "$d"
cat >"$d/autologin.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %I $TERM
UNIT
# The initramfs: only what finds / on the IDE disk.
sed -i 's/^MODULES=.*/MODULES=list/' "$r/etc/initramfs-tools/initramfs.conf"
printf '%s\n' ata_piix sd_mod ext4 crc32c_generic >>"$r/etc/initramfs-tools/modules"
chroot "$r" update-initramfs -u -k all >/dev/null
# A package to install in the test, from the registry, not installed.
mkdir -p "$r/root/debs"
chroot "$r" sh -c 'cd /root/debs && apt-get download -q -o APT::Sandbox::User=root hello' >/dev/null
mv "$r"/root/debs/hello_*.deb "$r/root/hello.deb"
rmdir "$r/root/debs"
EOF
chmod 755 "$hook"
echo "$prog: mmdebstrap of Debian 12 i386 (linux-image-$flavour, systemd, gcc, make) into $work/tree" >&2
start=$SECONDS
if ! mmdebstrap --quiet --architectures=i386 --variant=minbase \
	--include="systemd-sysv,udev,dbus,kmod,procps,e2fsprogs,initramfs-tools,linux-image-$flavour,gcc,make,libc6-dev" \
	--customize-hook="$hook \"\$1\"" \
	bookworm "$work/tree" "$sources" >"$work/mmdebstrap.log" 2>&1; then
	if grep -q -E 'apt-get update .*failed|Failed to fetch|Could not resolve|Temporary failure|Unable to connect|Unable to locate package|Network is unreachable|Connection (timed out|refused)' "$work/mmdebstrap.log"; then
		unreachable "mmdebstrap cannot download Debian's packages: is Debian's package registry reachable? ($(grep -m 1 -E '^(E|W):' "$work/mmdebstrap.log"))"
	fi
	die "mmdebstrap failed: $(grep -m 1 -E '^E:' "$work/mmdebstrap.log" || tail -n 1 "$work/mmdebstrap.log")"
fi
t=$work/tree
vmlinuz=$(ls "$t"/boot/vmlinuz-* 2>/dev/null | head -n 1)
initrd=$(ls "$t"/boot/initrd.img-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] && [ -n "$initrd" ] || die "the tree has no /boot/vmlinuz-* and initrd.img-*"
kver=${vmlinuz##*/vmlinuz-}
chroot "$t" dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' >"$work/packages" || die "dpkg-query in the tree failed"

# ---- the disk image --------------------------------------------------------
# One partition from sector 2048 (1 MiB) to the end; ext4 written straight
# into the image at that offset.
img=$work/disk.img
truncate -s "$bytes" "$img" || die "cannot create a $size image in $work"
echo 'label: dos
start=2048, type=83' | sfdisk -q "$img" >/dev/null 2>&1 || die "sfdisk could not partition the image"
part_kib=$(((bytes - 1024 * 1024) / 1024))
mkfs.ext4 -q -F -L btvm-root -E offset=$((2048 * 512)) -d "$t" "$img" "${part_kib}k" >"$work/mkfs.log" 2>&1 ||
	die "mkfs.ext4 -d failed: $(tail -n 1 "$work/mkfs.log")"

# ---- outputs ---------------------------------------------------------------
cmdline="root=/dev/sda1 ro console=ttyS0 nokaslr noisapnp cryptomgr.notests dis_ucode_ldr panic=-1 quiet"
mv "$img" "$outdir/disk.img" && cp "$vmlinuz" "$outdir/vmlinuz" && cp "$initrd" "$outdir/initrd.img" &&
	echo "$cmdline" >"$outdir/cmdline" && echo "$kver" >"$outdir/kernel-version" &&
	cp "$work/packages" "$outdir/packages" && echo "$want" >"$outdir/.inputs" ||
	die "cannot write into '$outdir'"
echo "$prog: wrote $outdir ($kver, $(wc -l <"$outdir/packages") packages, $(du -k "$outdir/disk.img" | cut -f1) KiB used of $size) in $((SECONDS - start)) s" >&2
