/* QEMU's "BIOS linker/loader" script (the fw_cfg file etc/table-loader):
 * the commands a firmware runs to place the ACPI tables it reads from
 * fw_cfg and patch the pointers between them.  The format is QEMU's
 * (hw/acpi/bios-linker-loader.c), which SeaBIOS and OVMF implement: each
 * command is 128 bytes, little-endian, a 32-bit command number, then
 *   ALLOCATE (1):     file[56], align (u32, a power of two), zone (u8:
 *                     1 = anywhere, 2 = the F segment 0xF0000-0xFFFFF);
 *                     once per file, before any command naming it
 *   ADD_POINTER (2):  dest_file[56], src_file[56], offset (u32), size
 *                     (u8: 1, 2, 4 or 8): add the address src_file was
 *                     placed at to the size-byte integer at offset in
 *                     dest_file (which holds an offset into src_file)
 *   ADD_CHECKSUM (3): file[56], offset, start, length (u32 each):
 *                     subtract the byte sum of [start, start+length) from
 *                     the byte at offset (so the range sums to 0)
 * File names are NUL-padded, at most 55 characters. */
#ifndef BTVM_LOADER_ACPI_LINKER_H
#define BTVM_LOADER_ACPI_LINKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_LINKER_ENTRY_SIZE 128u
#define ACPI_LINKER_FILESZ 56u
#define ACPI_LINKER_MAX_ENTRIES 24u

enum {
	ACPI_LINKER_ALLOCATE = 1,
	ACPI_LINKER_ADD_POINTER = 2,
	ACPI_LINKER_ADD_CHECKSUM = 3,
};
enum {
	ACPI_LINKER_ZONE_HIGH = 1,
	ACPI_LINKER_ZONE_FSEG = 2,
};

struct acpi_linker {
	uint8_t buf[ACPI_LINKER_ENTRY_SIZE * ACPI_LINKER_MAX_ENTRIES];
	unsigned n;
	bool overflow;            /* a command did not fit (a btvm bug) */
};

void acpi_linker_init(struct acpi_linker *l);
void acpi_linker_alloc(struct acpi_linker *l, const char *file, uint32_t align, uint8_t zone);
void acpi_linker_add_pointer(struct acpi_linker *l, const char *dest_file, const char *src_file,
			     uint32_t offset, uint8_t size);
void acpi_linker_add_checksum(struct acpi_linker *l, const char *file, uint32_t offset,
			      uint32_t start, uint32_t length);
static inline size_t acpi_linker_len(const struct acpi_linker *l)
{
	return (size_t)l->n * ACPI_LINKER_ENTRY_SIZE;
}
#endif
