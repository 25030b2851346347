#include "devices/io_bus.h"
#include <string.h>

void io_bus_init(struct io_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque, const char *name)
{
	if (len == 0 || base + len < base || bus->n == IO_BUS_MAX_RANGES)
		return -1;
	for (unsigned i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];
		if (base < r->base + r->len && r->base < base + len)
			return -1;
	}
	bus->ranges[bus->n++] = (struct io_range){ base, len, fn, opaque, name };
	return 0;
}

const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr)
{
	for (unsigned i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];
		if (addr - r->base < r->len)
			return r;
	}
	return NULL;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write)
{
	bus->accesses++;
	const struct io_range *r = io_bus_find(bus, addr);
	if (!r) {
		if (is_write) {
			bus->unhandled_writes++;
		} else {
			bus->unhandled_reads++;
			memset(data, 0xff, len);
		}
		return false;
	}
	r->fn(r->opaque, addr - r->base, data, len, is_write);
	return true;
}
