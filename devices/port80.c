#include "devices/port80.h"
#include <stddef.h>

static void port80_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		      bool is_write)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		io_data_put(data, len, 0);
}

int port80_register(struct io_bus *pio)
{
	return io_bus_register(pio, 0x80, 1, port80_io, NULL, "post");
}
