/* Guest-physical RAM as seen by devices and the loader: the physical alias
 * of the guest memfd (monitor/guest_mem.c creates it).  Every access is
 * bounds-checked: a guest-supplied address can be anything. */
#ifndef BTVM_DEVICES_PHYS_MEM_H
#define BTVM_DEVICES_PHYS_MEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct phys_mem {
	uint8_t *base;  /* host address of guest-physical 0 */
	uint64_t size;  /* bytes of RAM */
};

/* Host pointer for [pa, pa+len) or NULL when any byte lies outside RAM. */
static inline void *phys_ptr(const struct phys_mem *m, uint64_t pa, uint64_t len)
{
	if (pa > m->size || len > m->size - pa)
		return NULL;
	return m->base + pa;
}

bool phys_read(const struct phys_mem *m, uint64_t pa, void *dst, size_t len);
bool phys_write(const struct phys_mem *m, uint64_t pa, const void *src, size_t len);
#endif
