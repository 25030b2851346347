/* i8042 keyboard controller: data port 0x60, status/command port 0x64,
 * IRQ1 (keyboard) and IRQ12 (aux).  An AT keyboard answers its commands;
 * no key is ever typed (btvm's console input goes to the UART).  No aux
 * device (mouse) is attached: a byte sent with 0xD4 is answered with 0xFE
 * and the status timeout bit, as controllers report an absent PS/2 device,
 * so drivers give up at once instead of waiting out timeouts. */
#ifndef BTVM_DEVICES_I8042_H
#define BTVM_DEVICES_I8042_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/irq.h"

#define I8042_QUEUE 16

struct i8042 {
	struct irq_line irq1, irq12;
	void (*reset_request)(void *opaque);
	void *opaque;

	uint8_t ram[32];        /* controller RAM; ram[0] is the command byte */
	uint8_t outport;
	uint8_t pending;        /* controller command awaiting a byte on 0x60 */
	uint8_t kbd_pending;    /* keyboard command awaiting its argument */
	bool a2;                /* last write went to the command port */
	struct { uint8_t data, status; } q[I8042_QUEUE];  /* output buffer */
	unsigned q_head, q_count;
	uint8_t last;           /* re-read when the buffer is empty */
	int irq1_level, irq12_level;
};

void i8042_init(struct i8042 *k, struct irq_line irq1, struct irq_line irq12,
		void (*reset_request)(void *opaque), void *opaque);
void i8042_reset(struct i8042 *k);
/* Claims ports 0x60 and 0x64. */
int i8042_register(struct i8042 *k, struct io_bus *pio);
#endif
