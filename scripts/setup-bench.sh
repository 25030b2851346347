#!/usr/bin/env bash
# Installs the extra Debian packages that bench/run.sh uses, on top of what
# scripts/setup.sh installs (compiler, gcc-multilib, QEMU).  Idempotent:
# packages already installed are not asked for again, and `apt-get update`
# runs only when something is missing.
#
#   bochs bochsbios vgabios    the Bochs column (BIOS and VGA BIOS ROMs)
#   bochs-term                 a display library that runs without X: Debian's
#                              Bochs has no "nogui" (and its wx plugin needs X)
#   grub-pc-bin grub-common    grub-mkrescue + GRUB's BIOS modules: Bochs
#   xorriso mtools             cannot load a multiboot kernel itself, so the
#                              benchmark kernel is booted from a GRUB ISO
#   gnuplot-nox                the PNG/SVG charts
#   gcc-multilib               the guests and the native -m32 programs
#   qemu-system-x86            the qemu-kvm and qemu-tcg columns
set -euo pipefail

PACKAGES=(
  bochs bochsbios vgabios bochs-term
  grub-pc-bin grub-common xorriso mtools
  gnuplot-nox
  gcc-multilib qemu-system-x86
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup-bench: all packages present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-bench: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup-bench: installing ${missing[*]}"
if ! "${SUDO[@]}" apt-get update -qq; then
  echo "setup-bench: apt-get update failed: is Debian's package registry reachable?" >&2
  exit 1
fi
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-bench: done"
