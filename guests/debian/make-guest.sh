#!/bin/bash
# make-guest.sh [--pae] [--workload SCRIPT] [--add HOSTFILE:GUESTPATH]... OUTDIR
#
# Builds a minimal Debian 12 guest for btvm from Debian's own packages:
#   OUTDIR/vmlinuz         the stock 32-bit kernel, linux-image-6.1.0-NN-686
#                          (-686-pae with --pae), NN being what the
#                          linux-image-686[-pae] metapackage depends on
#   OUTDIR/initrd.gz       gzip'd cpio (newc): busybox-static:i386 with its
#                          applet links, /dev/console, /dev/ttyS0, /dev/null,
#                          /init (guests/debian/init.sh), /workload when
#                          --workload is given, and every --add file
#   OUTDIR/cmdline         the recommended kernel command line
#   OUTDIR/kernel-version  the kernel's version string (from its setup header)
#   OUTDIR/packages        the exact package versions used
# Boot it with
#   btvm run --mem 256M --initrd OUTDIR/initrd.gz --append "$(cat OUTDIR/cmdline)" OUTDIR/vmlinuz
#
# The packages are fetched with `apt-get download` (nothing is installed)
# into a cache, ${BTVM_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btvm/debian},
# and kept there; a rerun with the same inputs leaves OUTDIR alone.  apt
# must know the i386 architecture: when it does not, this script runs
# `dpkg --add-architecture i386 && apt-get update`, which needs root.
#
# Exit status: 0 done (or up to date), 1 error, 2 bad usage, 3 Debian's
# package registry cannot be reached (tests skip on 3).  Errors are one line
# on stderr starting with "make-guest: ".
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=make-guest

usage() {
	echo "usage: $0 [--pae] [--workload SCRIPT] [--add HOSTFILE:GUESTPATH]... OUTDIR" >&2
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

pae=0 workload="" outdir=""
adds=()
while [ $# -gt 0 ]; do
	case "$1" in
	--pae) pae=1; shift ;;
	--workload) [ $# -ge 2 ] || usage; workload=$2; shift 2 ;;
	--add) [ $# -ge 2 ] || usage; adds+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; [ $# -eq 1 ] || usage; outdir=$1; shift ;;
	-*) echo "$prog: unknown option '$1'" >&2; usage ;;
	*) [ -z "$outdir" ] || usage; outdir=$1; shift ;;
	esac
done
[ -n "$outdir" ] || usage

flavour=686
[ $pae -eq 1 ] && flavour=686-pae
if [ -n "$workload" ] && [ ! -f "$workload" ]; then
	die "--workload: '$workload' is not a file"
fi
# --add HOSTFILE:GUESTPATH, split at the last ':' (a host path may hold one).
add_src=() add_dst=()
for a in "${adds[@]+"${adds[@]}"}"; do
	case "$a" in
	*:*) ;;
	*) die "--add '$a': expected HOSTFILE:GUESTPATH" ;;
	esac
	src=${a%:*} dst=${a##*:}
	[ -f "$src" ] || die "--add '$a': '$src' is not a file"
	case "$dst" in
	/*) ;;
	*) die "--add '$a': the guest path '$dst' must be absolute" ;;
	esac
	dst=${dst#/}
	case "/$dst/" in
	*/../* | */./* | *//* | *[[:space:]]*) die "--add '$a': bad guest path '/$dst'" ;;
	esac
	[ -n "$dst" ] || die "--add '$a': bad guest path '/'"
	add_src+=("$src") add_dst+=("$dst")
done

for t in apt-get apt-cache dpkg dpkg-deb python3 tar sha256sum; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (this script needs Debian's apt, dpkg and python3)"
done
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

cache=${BTVM_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btvm/debian}
mkdir -p "$cache" || die "cannot create the package cache '$cache'"
mkdir -p "$outdir" || die "cannot create '$outdir'"

# ---- apt: the i386 architecture and fresh package lists ----------------
updated=0
apt_update() {
	[ $updated -eq 0 ] || return 0
	updated=1
	# An index that fails (e.g. a mirror mid-sync) makes apt-get update
	# exit non-zero while the rest is usable; what matters is whether the
	# packages resolve afterwards, which the callers check.
	echo "$prog: running apt-get update" >&2
	apt-get update -qq >/dev/null 2>&1
}
if [ "$(dpkg --print-architecture)" != i386 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
	[ $is_root -eq 1 ] || die "apt does not know the i386 architecture; as root run: dpkg --add-architecture i386 && apt-get update"
	dpkg --add-architecture i386 || die "dpkg --add-architecture i386 failed"
	apt_update
fi

# Prints the kernel package the metapackage depends on (empty if unknown).
resolve_kernel() {
	apt-cache depends "linux-image-$flavour:i386" 2>/dev/null |
		sed -n -E 's/^ *Depends: (linux-image-[0-9][0-9.]*-[0-9]+-'"$flavour"')(:i386)?$/\1/p' | head -n 1
}
kpkg=$(resolve_kernel)
if [ -z "$kpkg" ]; then
	[ $is_root -eq 1 ] || die "apt-cache does not know linux-image-$flavour:i386; as root run: apt-get update"
	apt_update
	kpkg=$(resolve_kernel)
	[ -n "$kpkg" ] || unreachable "cannot resolve linux-image-$flavour:i386 even after apt-get update: is Debian's package registry reachable?"
fi
bbpkg=busybox-static

# What apt would download for both packages, asked once (apt is slow to
# start): lines "'URI' FILENAME SIZE HASH".
uris=""
list_uris() {
	uris=$(apt-get download --print-uris "$kpkg:i386" "$bbpkg:i386" 2>/dev/null)
}
# Prints "FILENAME SIZE" of the .deb of package $1 (from $uris).
deb_name() {
	[ -n "$uris" ] || list_uris
	printf '%s\n' "$uris" | sed -n -E "s/^'[^']*' ($1_[^ ]+\.deb) ([0-9]+) .*/\1 \2/p" | head -n 1
}
# Makes sure the .deb of package $1 is in the cache; prints its path.
fetch_deb() {
	local pkg=$1 info name size
	info=$(deb_name "$pkg")
	if [ -z "$info" ]; then
		[ $is_root -eq 1 ] && apt_update
		list_uris
		info=$(deb_name "$pkg")
		[ -n "$info" ] || unreachable "apt cannot locate $pkg:i386: is Debian's package registry reachable?"
	fi
	name=${info% *} size=${info##* }
	if [ -f "$cache/$name" ] && [ "$(stat -c %s "$cache/$name")" = "$size" ]; then
		echo "$cache/$name"
		return 0
	fi
	echo "$prog: downloading $pkg:i386 into $cache" >&2
	local opts=()
	# As root apt drops to the _apt user, which cannot write a cache in
	# root's home; keep root for this download instead.
	[ $is_root -eq 1 ] && opts=(-o APT::Sandbox::User=root)
	if ! (cd "$cache" && apt-get download -q "${opts[@]}" "$pkg:i386" >"$cache/.download.log" 2>&1); then
		if [ $is_root -eq 1 ] && [ $updated -eq 0 ]; then
			apt_update   # stale lists name files the mirror no longer has
			list_uris
			info=$(deb_name "$pkg")
			name=${info% *} size=${info##* }
			(cd "$cache" && apt-get download -q "${opts[@]}" "$pkg:i386" >"$cache/.download.log" 2>&1) ||
				unreachable "apt-get download $pkg:i386 failed: $(tail -n 1 "$cache/.download.log")"
		else
			unreachable "apt-get download $pkg:i386 failed: $(tail -n 1 "$cache/.download.log")"
		fi
	fi
	[ -n "$name" ] && [ -f "$cache/$name" ] || die "apt-get download $pkg:i386 left no $name in $cache"
	echo "$cache/$name"
}

list_uris
kdeb=$(fetch_deb "$kpkg") || exit $?
bbdeb=$(fetch_deb "$bbpkg") || exit $?

# ---- up to date? -------------------------------------------------------
stamp() {
	echo "make-guest 1"
	echo "kernel $(basename "$kdeb")"
	echo "busybox $(basename "$bbdeb")"
	sha256sum "$0" "$here/init.sh" "$here/mkinitrd.py" "$here/cmdline" | cut -d' ' -f1
	if [ -n "$workload" ]; then
		echo "workload $(sha256sum <"$workload" | cut -d' ' -f1)"
	fi
	local i
	for i in "${!add_src[@]}"; do
		echo "add ${add_dst[$i]} $(stat -c %a "${add_src[$i]}") $(sha256sum <"${add_src[$i]}" | cut -d' ' -f1)"
	done
}
want=$(stamp) || die "cannot read the inputs"
if [ -f "$outdir/.inputs" ] && [ "$(cat "$outdir/.inputs")" = "$want" ] &&
	[ -f "$outdir/vmlinuz" ] && [ -f "$outdir/initrd.gz" ] && [ -f "$outdir/cmdline" ]; then
	echo "$prog: $outdir is up to date ($kpkg)" >&2
	exit 0
fi
rm -f "$outdir/.inputs"

# ---- extract ------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/make-guest.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/k" "$work/bb"
# Only the kernel image: the package's ~300 MB of modules are not needed
# (everything this guest uses is built in).
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work/k" --wildcards './boot/vmlinuz-*' ||
	die "cannot extract the kernel from $kdeb"
dpkg-deb -x "$bbdeb" "$work/bb" || die "cannot extract $bbdeb"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$kdeb holds no boot/vmlinuz-*"
bb=$work/bb/bin/busybox
[ -f "$bb" ] || die "$bbdeb holds no bin/busybox"

# ---- initrd ---------------------------------------------------------------
m=$work/manifest
{
	for d in bin sbin usr usr/bin usr/sbin dev proc sys etc tmp; do
		echo "dir $d 755"
	done
	echo "dir root 700"
	echo "char dev/console 600 5 1"
	echo "char dev/ttyS0 660 4 64"
	echo "char dev/null 666 1 3"
	echo "file bin/busybox 755 $bb"
	echo "file init 755 $here/init.sh"
	[ -n "$workload" ] && echo "file workload 755 $workload"
} >"$m"
# The applet links, as busybox itself lists them (an i386 static binary
# runs on an x86-64 host with IA32 emulation).  Without that, /bin/sh alone
# and /init installs the rest at boot with `busybox --install -s`.
if applets=$("$bb" --list-full 2>/dev/null) && [ -n "$applets" ]; then
	printf '%s\n' "$applets" | grep -v -x -e 'bin/busybox' -e '' | sort -u |
		while read -r a; do echo "symlink $a /bin/busybox"; done >>"$m"
else
	echo "$prog: cannot run busybox here to list its applets; /init installs them at boot" >&2
	echo "symlink bin/sh busybox" >>"$m"
fi
# --add files, with the directories they need.
for i in "${!add_src[@]}"; do
	dst=${add_dst[$i]} dir=""
	IFS=/ read -r -a parts <<<"$dst"
	for ((j = 0; j < ${#parts[@]} - 1; j++)); do
		dir=${dir:+$dir/}${parts[$j]}
		grep -q -x -E "dir $dir [0-7]+" "$m" || echo "dir $dir 755" >>"$m"
	done
	mode=644
	[ -x "${add_src[$i]}" ] && mode=755
	echo "file $dst $mode $(realpath "${add_src[$i]}")" >>"$m"
done
python3 "$here/mkinitrd.py" "$work/initrd.gz" <"$m" || exit 1  # mkinitrd said why

# ---- outputs ---------------------------------------------------------------
# The kernel's version string: the setup header's kernel_version field
# (offset 0x20E) points to it, relative to 0x200 (boot protocol 2.00+).
kver=$(python3 - "$vmlinuz" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
o = struct.unpack_from("<H", d, 0x20E)[0] + 0x200
print(d[o:o + 256].split(b"\0")[0].decode("ascii", "replace"))
EOF
) || die "cannot read the kernel version from $vmlinuz"
cp "$vmlinuz" "$outdir/vmlinuz.new" && mv "$outdir/vmlinuz.new" "$outdir/vmlinuz" &&
	cp "$work/initrd.gz" "$outdir/initrd.gz.new" && mv "$outdir/initrd.gz.new" "$outdir/initrd.gz" &&
	echo "$(grep -v -e '^#' -e '^$' "$here/cmdline" | tr '\n' ' ' | sed 's/ *$//')" >"$outdir/cmdline" &&
	echo "$kver" >"$outdir/kernel-version" &&
	for d in "$kdeb" "$bbdeb"; do dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}\n' "$d"; done >"$outdir/packages" &&
	echo "$want" >"$outdir/.inputs" || die "cannot write into '$outdir'"
echo "$prog: wrote $outdir ($kpkg, $(stat -c %s "$outdir/initrd.gz") byte initrd)" >&2
