/* QEMU's isa-debug-exit: any write of value v to its ports ends the VM with
 * exit status (v << 1) | 1, v being the value at the access width (1, 2 or
 * 4 bytes).  Reads return 0.  A guest cannot make btvm exit with 0. */
#ifndef BTVM_DEVICES_DEBUG_EXIT_H
#define BTVM_DEVICES_DEBUG_EXIT_H
#include <stdint.h>
#include "devices/io_bus.h"

struct debug_exit {
	void (*on_exit)(void *opaque, int status);
	void *opaque;
};

void debug_exit_init(struct debug_exit *d, void (*on_exit)(void *opaque, int status),
		     void *opaque);
/* Claims size ports from base (QEMU: iobase 0xF4, iosize 4 on x86 boards
 * that ask for it).  0, or -1 for a bad or taken range. */
int debug_exit_register(struct debug_exit *d, struct io_bus *pio, uint16_t base,
			unsigned size);
#endif
