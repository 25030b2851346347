/* isa-debug-exit, with QEMU's semantics (hw/misc/debugexit.c): the port
 * offset is ignored, the written value is zero-extended from the access
 * width and the status is ((v << 1) | 1) converted to int, as QEMU passes
 * it to exit(); the host keeps its low 8 bits. */
#include "devices/debug_exit.h"

static void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned len, bool is_write)
{
	struct debug_exit *d = opaque;
	(void)offset;
	if (!is_write) {
		io_data_put(data, len, 0);
		return;
	}
	uint64_t v = io_data_get(data, len);  /* at most 4 bytes: the width mask */
	uint32_t status = (uint32_t)((v << 1) | 1);
	if (d->on_exit)
		d->on_exit(d->opaque, (int)status);
}

void debug_exit_init(struct debug_exit *d, void (*on_exit)(void *opaque, int status),
		     void *opaque)
{
	d->on_exit = on_exit;
	d->opaque = opaque;
}

int debug_exit_register(struct debug_exit *d, struct io_bus *pio, uint16_t base,
			unsigned size)
{
	if (size == 0 || (uint32_t)base + size > 0x10000)
		return -1;
	return io_bus_register(pio, base, size, debug_exit_io, d, "isa-debug-exit");
}
