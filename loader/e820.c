#include "loader/e820.h"

static void add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type)
{
	if (m->n < E820_MAX)
		m->e[m->n++] = (struct e820_entry){ addr, size, type };
}

void e820_build(struct e820_map *m, uint64_t ram_size)
{
	m->n = 0;
	add(m, 0, BTVM_LOW_RAM_END, E820_RAM);
	add(m, BTVM_LOW_RAM_END, 0xA0000 - BTVM_LOW_RAM_END, E820_RESERVED);
	add(m, 0xF0000, 0x10000, E820_RESERVED);
	if (ram_size > BTVM_HIGH_RAM_START)
		add(m, BTVM_HIGH_RAM_START, ram_size - BTVM_HIGH_RAM_START, E820_RAM);
	add(m, 0xFEC00000, 0x1000, E820_RESERVED);
	add(m, 0xFEE00000, 0x1000, E820_RESERVED);
	add(m, 0xFFFC0000, 0x40000, E820_RESERVED);
}

int e820_is_ram(const struct e820_map *m, uint64_t addr, uint64_t len)
{
	if (addr + len < addr)
		return 0;
	for (unsigned i = 0; i < m->n; i++) {
		const struct e820_entry *e = &m->e[i];
		if (e->type == E820_RAM && addr >= e->addr && addr + len <= e->addr + e->size)
			return 1;
	}
	return 0;
}
