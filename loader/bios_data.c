/* The BIOS data area and the EBDA; see bios_data.h. */
#include "loader/bios_data.h"
#include <string.h>
#include "loader/table_bytes.h"

#define VGA_WINDOW 0xA0000u   /* base memory ends here at the latest */

void bios_data_write(struct phys_mem *mem, const struct e820_map *map)
{
	uint64_t base_end = 0;
	for (unsigned i = 0; i < map->n; i++)
		if (map->e[i].type == E820_RAM && map->e[i].addr == 0)
			base_end = map->e[i].size;
	uint8_t *bda = phys_ptr(mem, BDA_COM_PORTS, 0x100);
	if (base_end < 0x1000 || !bda)
		return;
	/* The EBDA: from the end of base memory (on a segment boundary) to
	 * the VGA window; none when base memory reaches it. */
	uint64_t ebda = base_end < VGA_WINDOW ? base_end & ~0xFull : VGA_WINDOW;
	uint8_t *e = ebda < VGA_WINDOW ? phys_ptr(mem, ebda, VGA_WINDOW - ebda) : NULL;

	memset(bda, 0, 0x100);
	tb_put16(bda, BDA_COM_PORTS - 0x400, BDA_COM1_PORT);
	tb_put16(bda, BDA_EBDA_SEGMENT - 0x400, e ? (uint16_t)(ebda >> 4) : 0);
	tb_put16(bda, BDA_EQUIPMENT - 0x400, BDA_EQUIPMENT_PC);
	tb_put16(bda, BDA_BASE_MEM_KIB - 0x400, (uint16_t)(ebda >> 10));
	if (e) {
		memset(e, 0, VGA_WINDOW - ebda);
		e[0] = (uint8_t)((VGA_WINDOW - ebda) >> 10);   /* its size in KiB */
	}
}
