#include "devices/phys_mem.h"
#include <string.h>

bool phys_read(const struct phys_mem *m, uint64_t pa, void *dst, size_t len)
{
	const void *p = phys_ptr(m, pa, len);
	if (!p)
		return false;
	memcpy(dst, p, len);
	return true;
}

bool phys_write(const struct phys_mem *m, uint64_t pa, const void *src, size_t len)
{
	void *p = phys_ptr(m, pa, len);
	if (!p)
		return false;
	memcpy(p, src, len);
	return true;
}
