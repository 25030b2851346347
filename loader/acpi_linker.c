/* The BIOS linker/loader script; the format is described in acpi_linker.h. */
#include "loader/acpi_linker.h"
#include <string.h>
#include "loader/table_bytes.h"

void acpi_linker_init(struct acpi_linker *l)
{
	memset(l, 0, sizeof(*l));
}

static uint8_t *entry(struct acpi_linker *l, uint32_t command)
{
	if (l->n == ACPI_LINKER_MAX_ENTRIES) {
		l->overflow = true;
		return NULL;
	}
	uint8_t *e = l->buf + ACPI_LINKER_ENTRY_SIZE * l->n++;
	memset(e, 0, ACPI_LINKER_ENTRY_SIZE);
	tb_put32(e, 0, command);
	return e;
}

/* A NUL-padded file name field; longer names are cut (QEMU's strncpy of
 * at most 55 characters does the same). */
static void name(uint8_t *e, size_t off, const char *file)
{
	size_t n = strlen(file);
	memcpy(e + off, file, n < ACPI_LINKER_FILESZ - 1 ? n : ACPI_LINKER_FILESZ - 1);
}

void acpi_linker_alloc(struct acpi_linker *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = entry(l, ACPI_LINKER_ALLOCATE);
	if (!e)
		return;
	name(e, 4, file);
	tb_put32(e, 4 + ACPI_LINKER_FILESZ, align);
	tb_put8(e, 8 + ACPI_LINKER_FILESZ, zone);
}

void acpi_linker_add_pointer(struct acpi_linker *l, const char *dest_file, const char *src_file,
			     uint32_t offset, uint8_t size)
{
	uint8_t *e = entry(l, ACPI_LINKER_ADD_POINTER);
	if (!e)
		return;
	name(e, 4, dest_file);
	name(e, 4 + ACPI_LINKER_FILESZ, src_file);
	tb_put32(e, 4 + 2 * ACPI_LINKER_FILESZ, offset);
	tb_put8(e, 8 + 2 * ACPI_LINKER_FILESZ, size);
}

void acpi_linker_add_checksum(struct acpi_linker *l, const char *file, uint32_t offset,
			      uint32_t start, uint32_t length)
{
	uint8_t *e = entry(l, ACPI_LINKER_ADD_CHECKSUM);
	if (!e)
		return;
	name(e, 4, file);
	tb_put32(e, 4 + ACPI_LINKER_FILESZ, offset);
	tb_put32(e, 8 + ACPI_LINKER_FILESZ, start);
	tb_put32(e, 12 + ACPI_LINKER_FILESZ, length);
}
