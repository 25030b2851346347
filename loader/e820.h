/* The guest's physical memory map, as reported to the guest through
 * multiboot (mmap_*), the Linux zero page (e820_table) and CMOS.
 * Layout for RAM size R (R <= BTVM_MAX_RAM, so RAM never reaches the
 * PCI/APIC hole below 4 GiB):
 *   [0, 0x9FC00)          RAM (conventional memory)
 *   [0x9FC00, 0xA0000)    reserved (EBDA)
 *   [0xA0000, 0xF0000)    not listed (VGA window, option ROMs)
 *   [0xF0000, 0x100000)   reserved (BIOS area; MP/ACPI tables live here)
 *   [0x100000, R)         RAM
 *   [0xFEC00000, +4K)     reserved (IOAPIC)
 *   [0xFEE00000, +4K)     reserved (LAPIC)
 *   [0xFFFC0000, 4G)      reserved (BIOS ROM alias)
 */
#ifndef BTVM_LOADER_E820_H
#define BTVM_LOADER_E820_H
#include <stdint.h>

#define E820_RAM 1
#define E820_RESERVED 2

#define BTVM_MIN_RAM (2ull << 20)
#define BTVM_MAX_RAM (3ull << 30)
#define BTVM_LOW_RAM_END 0x9FC00ull
#define BTVM_HIGH_RAM_START 0x100000ull

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

#define E820_MAX 16
struct e820_map {
	struct e820_entry e[E820_MAX];
	unsigned n;
};

/* ram_size must lie in [BTVM_MIN_RAM, BTVM_MAX_RAM]. */
void e820_build(struct e820_map *m, uint64_t ram_size);
/* 1 if [addr, addr+len) lies wholly inside one RAM entry. */
int e820_is_ram(const struct e820_map *m, uint64_t addr, uint64_t len);
#endif
