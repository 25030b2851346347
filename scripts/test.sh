#!/usr/bin/env bash
# The project's test command (the README's, and the one CI runs):
#   1. every test in ./build but the Debian system (label linux-system): unit, CLI errors, guest tests under QEMU (the
#      reference) and under each btvm backend the host can run (the others
#      are reported as skipped with the reason);
#   2. the unit tests again, built with ASan/UBSan in ./build-asan;
#   3. the libFuzzer targets (tests/fuzz/libfuzzer), built with clang in
#      ./build-fuzz, each fuzzed for a few seconds from its seed corpus.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j"$jobs" >/dev/null || {
  echo "test: build failed"; cmake --build build 2>&1 | tail -30; exit 1; }
echo "KVM on this host: $(build/btvm probe --accel kvm)"
# The Debian system guest (label linux-system) is left out: a run takes 2
# minutes on an idle 2-core host and 7 on a loaded one, and one bt run in
# four hung there (tests/linux/CMakeLists.txt); run it with
# `ctest --test-dir build -L linux-system`.
ctest --test-dir build --output-on-failure -j"$jobs" -LE linux-system
rc=$?
# ctest does not show a skipped test's output: print each skip's reason.
log=build/Testing/Temporary/LastTest.log
if grep -q '^SKIP:' "$log" 2>/dev/null; then
  echo "Skip reasons:"
  awk '/^[0-9]+\/[0-9]+ Testing: /{t=$3} /^SKIP:/{print "  " t ": " $0}' "$log"
fi

echo
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBTVM_SANITIZE=ON >/dev/null &&
  cmake --build build-asan -j"$jobs" >/dev/null || { echo "test: sanitizer build failed"; exit 1; }
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
rc2=$?

echo
echo "== libFuzzer targets: loaders, disk images, devices, CLI (bounded runs) =="
rc3=0
if command -v clang >/dev/null; then
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBTVM_LIBFUZZER=ON >/dev/null &&
    cmake --build build-fuzz -j"$jobs" >/dev/null || { echo "test: libFuzzer build failed"; exit 1; }
  ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz-libfuzzer
  rc3=$?
else
  echo "skipped: no clang (scripts/setup.sh installs it)"
fi
exit $(( rc || rc2 || rc3 ))
