#!/bin/bash
# coverage.sh TARGET DIR...: the line and branch coverage of TARGET's code
# under test (its device, loader or CLI files) when every input in DIRs
# runs once, through clang's source-based coverage (llvm-cov 14).  E.g.
#   tests/fuzz/libfuzzer/coverage.sh ata /tmp/fz/ata tests/fuzz/libfuzzer/corpus/ata
# Builds into a temporary directory; needs clang, llvm-profdata-14 and
# llvm-cov-14 (Debian's llvm-14, which clang brings).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 TARGET DIR..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
t=$1
shift
case $t in
pic) files="devices/pic8259.c" ;;
pit) files="devices/pit8254.c devices/port61.c" ;;
rtc) files="devices/rtc_cmos.c" ;;
uart) files="devices/uart16550.c" ;;
i8042) files="devices/i8042.c" ;;
lapic) files="devices/lapic.c" ;;
ioapic) files="devices/ioapic.c" ;;
intc) files="devices/pic8259.c devices/ioapic.c devices/lapic.c" ;;
acpi_pm) files="devices/acpi_pm.c" ;;
pci) files="devices/pci.c devices/pci_piix.c" ;;
ata) files="devices/ata.c devices/ata_cmd.c devices/ata_identify.c devices/atapi.c devices/atapi_cmd.c" ;;
fw_cfg) files="devices/fw_cfg.c" ;;
vga) files="devices/vga.c devices/vga_text.c" ;;
disk_image) files="devices/disk_image.c" ;;
loader_multiboot) files="loader/loader.c loader/multiboot.c loader/elf32.c" ;;
loader_linux) files="loader/loader.c loader/linux.c" ;;
loader_flat) files="loader/loader.c loader/flat.c" ;;
cli) files="monitor/cli.c monitor/cli_drive.c" ;;
*) echo "$0: unknown target '$t'" >&2; exit 2 ;;
esac
dirs=()
for d in "$@"; do dirs+=("$(cd "$d" && pwd)"); done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-cov.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
srcs=("$root"/devices/*.c "$root"/loader/*.c)
[ "$t" = cli ] && srcs+=("$root/monitor/cli.c" "$root/monitor/cli_drive.c" "$root/monitor/sandbox_selftest.c")
clang -O1 -g -D_GNU_SOURCE -DBTVM_VERSION='"cov"' -I"$root" -fprofile-instr-generate -fcoverage-mapping \
	-fsanitize=fuzzer "$here/fuzz_$t.c" "${srcs[@]}" -o "$tmp/fuzz" 2>"$tmp/cc.log" ||
	{ cat "$tmp/cc.log" >&2; exit 1; }
(cd "$tmp" && LLVM_PROFILE_FILE="$tmp/p.profraw" ./fuzz -runs=0 "${dirs[@]}" >/dev/null 2>&1) || true
llvm-profdata-14 merge -sparse "$tmp/p.profraw" -o "$tmp/p.profdata"
(cd "$root" && llvm-cov-14 report "$tmp/fuzz" -instr-profile="$tmp/p.profdata" $files)
