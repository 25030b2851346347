#!/usr/bin/env bash
# Installs everything btvm needs from Debian's packages, then configures and
# builds it in ./build.  Idempotent: packages already present are not asked
# for again, and the build is incremental.
#   scripts/setup.sh            install + build
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config gcc-multilib   # C17 host build, -m32 guests
  libzydis-dev libseccomp-dev libunwind-dev libjemalloc-dev libcmocka-dev
  qemu-system-x86                                 # the reference (TCG) runs
  qemu-user-static                                # qemu-i386: the fuzz oracle on hosts without i386
  python3                                         # small test helpers
  clang libclang-rt-14-dev                        # libFuzzer targets (tests/fuzz/libfuzzer): clang 14's libFuzzer and sanitizers
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  if ! "${SUDO[@]}" apt-get update -qq; then
    echo "setup: apt-get update failed: is Debian's package registry reachable?" >&2; exit 1
  fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/btvm"
