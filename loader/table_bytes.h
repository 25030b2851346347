/* Little-endian byte writers and the 8-bit checksum shared by the BIOS
 * table builders (loader/mptable.c, loader/acpi_tables.c).  Both the MP
 * spec (1.4, 4.1 and 4.2) and ACPI (6.x, 5.2.5.3 and 5.2.6) define a
 * structure's checksum as the byte that makes all its bytes sum to 0. */
#ifndef BTVM_LOADER_TABLE_BYTES_H
#define BTVM_LOADER_TABLE_BYTES_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void tb_put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static inline void tb_put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}
static inline void tb_put32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static inline void tb_putstr(uint8_t *p, size_t off, const char *s, size_t n)
{
	memcpy(p + off, s, n);   /* fixed-width, not NUL-terminated */
}
static inline uint8_t tb_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}
/* Sets p[at] so that the n bytes from p sum to 0. */
static inline void tb_checksum(uint8_t *p, size_t n, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)(0x100 - tb_sum(p, n));
}
#endif
