#!/usr/bin/env bash
# Installs what guests/debian/make-system.sh needs to build the Debian
# system guest (issue 17), kept out of scripts/setup.sh so that the default
# setup stays small: mmdebstrap and arch-test (the i386 tree), fdisk
# (sfdisk: the partition table), e2fsprogs (mkfs.ext4 -d).  A host that
# runs no i386 code also needs qemu-user-static, which make-system.sh
# installs itself when `btvm probe` says so.  Idempotent; needs root (or sudo).
set -euo pipefail
PACKAGES=(mmdebstrap arch-test fdisk e2fsprogs)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-system: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup-system: installing ${missing[*]}"
if ! "${SUDO[@]}" apt-get update -qq; then
  echo "setup-system: apt-get update failed: is Debian's package registry reachable?" >&2; exit 3
fi
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
