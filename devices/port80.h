/* POST diagnostic port 0x80: writes are swallowed, reads return 0, and
 * neither counts as an unhandled access (guests use it as an I/O delay). */
#ifndef BTVM_DEVICES_PORT80_H
#define BTVM_DEVICES_PORT80_H
#include "devices/io_bus.h"

int port80_register(struct io_bus *pio);
#endif
