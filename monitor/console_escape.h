/* The console's escape key, as QEMU's character multiplexer has it: Ctrl-A
 * followed by a command key.  A pure state machine (unit-tested). */
#ifndef BTVM_MONITOR_CONSOLE_ESCAPE_H
#define BTVM_MONITOR_CONSOLE_ESCAPE_H
#include <stdint.h>

#define CONSOLE_ESCAPE_KEY 0x01 /* Ctrl-A */

enum console_action { CONSOLE_PASS, CONSOLE_QUIT, CONSOLE_HELP };

struct console_escape {
	int pending; /* the last byte was the escape key */
};

/* Feeds one input byte; out receives the 0..2 bytes for the guest. */
enum console_action console_escape_feed(struct console_escape *e, uint8_t byte, uint8_t out[2], unsigned *nout);
/* Writes the key list to fd. */
void console_escape_help(int fd);
#endif
