/* i8042 keyboard controller.  The controller is instantaneous: IBF is never
 * set, replies land in a small output queue whose head is the output
 * buffer. */
#include "devices/i8042.h"
#include <string.h>

#define ST_OBF     0x01
#define ST_SYS     0x04
#define ST_A2      0x08
#define ST_UNLOCK  0x10  /* keyboard not inhibited by the key lock */
#define ST_AUX     0x20
#define ST_TIMEOUT 0x40

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS     0x04
#define CB_KBD_DIS 0x10
#define CB_AUX_DIS 0x20
#define CB_XLATE   0x40

/* As a BIOS leaves it: keyboard IRQ, system flag, translation; aux off. */
#define CB_DEFAULT (CB_KBD_INT | CB_SYS | CB_AUX_DIS | CB_XLATE)
#define OUTPORT_DEFAULT 0x03  /* bit 0: no reset, bit 1: A20 on */

static void update_irq(struct i8042 *k)
{
	int kbd = 0, aux = 0;
	if (k->q_count) {
		bool is_aux = k->q[k->q_head].status & ST_AUX;
		kbd = !is_aux && (k->ram[0] & CB_KBD_INT);
		aux = is_aux && (k->ram[0] & CB_AUX_INT);
	}
	if (kbd != k->irq1_level) {
		k->irq1_level = kbd;
		irq_set(&k->irq1, kbd);
	}
	if (aux != k->irq12_level) {
		k->irq12_level = aux;
		irq_set(&k->irq12, aux);
	}
}

/* status: 0 (keyboard or controller), ST_AUX, optionally | ST_TIMEOUT. */
static void enqueue(struct i8042 *k, uint8_t data, uint8_t status)
{
	if (k->q_count == I8042_QUEUE)
		return;  /* a real device would hold the byte; ours drop it */
	unsigned at = (k->q_head + k->q_count) % I8042_QUEUE;
	k->q[at].data = data;
	k->q[at].status = status;
	k->q_count++;
}

/* The AT keyboard (translated scan code set 2). */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending) {  /* argument of 0xED, 0xF3 or 0xF0 */
		uint8_t cmd = k->kbd_pending;
		k->kbd_pending = 0;
		enqueue(k, 0xfa, 0);
		if (cmd == 0xf0 && v == 0)
			enqueue(k, 0x02, 0);  /* current scan code set */
		return;
	}
	switch (v) {
	case 0xff:  /* reset and self-test (BAT) */
		enqueue(k, 0xfa, 0);
		enqueue(k, 0xaa, 0);
		break;
	case 0xf2:  /* identify: MF2 keyboard */
		enqueue(k, 0xfa, 0);
		enqueue(k, 0xab, 0);
		enqueue(k, 0x83, 0);
		break;
	case 0xed:  /* set LEDs */
	case 0xf3:  /* set typematic rate */
	case 0xf0:  /* get/set scan code set */
		enqueue(k, 0xfa, 0);
		k->kbd_pending = v;
		break;
	case 0xee:  /* echo */
		enqueue(k, 0xee, 0);
		break;
	case 0xf4:  /* enable scanning */
	case 0xf5:  /* disable scanning, defaults */
	case 0xf6:  /* defaults */
		enqueue(k, 0xfa, 0);
		break;
	default:
		enqueue(k, 0xfe, 0);  /* resend: unknown command */
		break;
	}
}

static void command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (cmd >= 0x20 && cmd <= 0x3f) {  /* read controller RAM */
		enqueue(k, k->ram[cmd & 0x1f], 0);
		return;
	}
	if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
		k->pending = cmd;  /* the data byte follows on port 0x60 */
		return;
	}
	if (cmd >= 0xf0) {  /* pulse output port bits 0-3 that are 0 */
		if (!(cmd & 1) && k->reset_request)
			k->reset_request(k->opaque);
		return;
	}
	switch (cmd) {
	case 0xa7: k->ram[0] |= CB_AUX_DIS; break;
	case 0xa8: k->ram[0] &= (uint8_t)~CB_AUX_DIS; break;
	case 0xa9: enqueue(k, 0x00, 0); break;  /* aux interface test: OK */
	case 0xaa:                               /* self-test: OK */
		k->ram[0] |= CB_SYS;
		enqueue(k, 0x55, 0);
		break;
	case 0xab: enqueue(k, 0x00, 0); break;  /* kbd interface test: OK */
	case 0xad: k->ram[0] |= CB_KBD_DIS; break;
	case 0xae: k->ram[0] &= (uint8_t)~CB_KBD_DIS; break;
	case 0xc0: enqueue(k, 0x80, 0); break;  /* input port: not inhibited */
	case 0xd0: enqueue(k, k->outport, 0); break;
	default: break;  /* unknown commands are ignored */
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd & 0x1f] = v;
	} else if (cmd == 0xd1) {
		/* Output port; bit 0 low asserts the CPU reset line.  A20
		 * (bit 1) is stored but the gate is always open. */
		k->outport = v;
		if (!(v & 1) && k->reset_request)
			k->reset_request(k->opaque);
	} else if (cmd == 0xd2) {
		enqueue(k, v, 0);
	} else if (cmd == 0xd3) {
		enqueue(k, v, ST_AUX);
	} else if (cmd == 0xd4) {
		enqueue(k, 0xfe, ST_AUX | ST_TIMEOUT);  /* no aux device */
	} else {
		kbd_write(k, v);
	}
}

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = ST_UNLOCK | (k->ram[0] & CB_SYS ? ST_SYS : 0) | (k->a2 ? ST_A2 : 0);
	if (k->q_count)
		s |= ST_OBF | k->q[k->q_head].status;
	return s;
}

static uint8_t data_read(struct i8042 *k)
{
	if (k->q_count) {
		k->last = k->q[k->q_head].data;
		k->q_head = (k->q_head + 1) % I8042_QUEUE;
		k->q_count--;
	}
	/* Drop the lines so a byte still queued makes a fresh edge. */
	if (k->irq1_level) {
		k->irq1_level = 0;
		irq_set(&k->irq1, 0);
	}
	if (k->irq12_level) {
		k->irq12_level = 0;
		irq_set(&k->irq12, 0);
	}
	return k->last;
}

/* Only the first byte of a wider access is ours (0x61 and 0x65 are not). */
static void data_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		    bool is_write)
{
	struct i8042 *k = opaque;
	(void)offset;
	if (!len)
		return;
	if (is_write) {
		k->a2 = false;
		data_write(k, data[0]);
	} else {
		memset(data, 0xff, len);
		data[0] = data_read(k);
	}
	update_irq(k);
}

static void cmd_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		   bool is_write)
{
	struct i8042 *k = opaque;
	(void)offset;
	if (!len)
		return;
	if (is_write) {
		k->a2 = true;
		command(k, data[0]);
	} else {
		memset(data, 0xff, len);
		data[0] = status(k);
	}
	update_irq(k);
}

void i8042_reset(struct i8042 *k)
{
	memset(k->ram, 0, sizeof(k->ram));
	k->ram[0] = CB_DEFAULT;
	k->outport = OUTPORT_DEFAULT;
	k->pending = k->kbd_pending = 0;
	k->a2 = false;
	k->q_head = k->q_count = 0;
	k->last = 0;
	update_irq(k);
}

void i8042_init(struct i8042 *k, struct irq_line irq1, struct irq_line irq12,
		void (*reset_request)(void *opaque), void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->irq1 = irq1;
	k->irq12 = irq12;
	k->reset_request = reset_request;
	k->opaque = opaque;
	i8042_reset(k);
}

int i8042_register(struct i8042 *k, struct io_bus *pio)
{
	if (io_bus_register(pio, 0x60, 1, data_io, k, "i8042 data"))
		return -1;
	return io_bus_register(pio, 0x64, 1, cmd_io, k, "i8042 command");
}
