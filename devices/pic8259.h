/* The PC's pair of Intel 8259A interrupt controllers: master at 0x20-0x21,
 * slave at 0xA0-0xA1 cascaded on master IR2, and the PIIX edge/level
 * control registers (ELCR) at 0x4D0-0x4D1.
 *
 * Model (see pic8259.c for the datasheet references):
 *  - ICW1..ICW4 initialisation, OCW1 (IMR), OCW2 (EOI, specific EOI and
 *    the rotate / set-priority variants), OCW3 (IRR/ISR read select, poll,
 *    special mask mode), auto-EOI, special fully nested mode.
 *  - Edge inputs latch a 0->1 transition into IRR and keep it until INTA
 *    even if the line falls again (devices may send a 1-then-0 pulse).
 *    Level inputs (ELCR bit or ICW1 LTIM) mirror the line in IRR.
 *  - The vector is always ICW2 base + IR (8086 mode); 8080/85 mode,
 *    buffered mode and the ICW3 slave ID are stored but not modelled: the
 *    slave is hard-wired to master IR2 as on every PC.  The poll command
 *    acknowledges on the polled chip only (poll the slave after the
 *    master reports level 2), as with real cascaded 8259As.
 * Not thread-safe: call everything from the vCPU thread. */
#ifndef BTVM_DEVICES_PIC8259_H
#define BTVM_DEVICES_PIC8259_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT  0xA0
#define PIC_ELCR_PORT   0x4D0
#define PIC_CASCADE_IRQ 2

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;        /* current level of each IR input */
	uint8_t elcr;         /* 1 = level triggered (PIIX ELCR) */
	uint8_t elcr_mask;    /* ELCR bits that are writable */
	uint8_t vector_base;  /* ICW2 & 0xF8 */
	uint8_t icw3;         /* stored only */
	uint8_t init_step;    /* 0: operational; 2, 3, 4: ICW expected next */
	uint8_t prio_top;     /* IR with the highest priority (rotation) */
	bool need_icw4, single, ltim;
	bool auto_eoi, rotate_on_aeoi, sfnm;
	bool read_isr, poll, special_mask;
	bool is_master;
};

struct pic_pair {
	struct pic_chip chip[2];  /* [0] master, [1] slave */
	void (*intr_changed)(void *opaque, bool level);
	void *opaque;
	bool intr;          /* master INTR output */
	bool intr_unacked;  /* INTR was asserted since the last INTA */
};

/* intr_changed may be NULL; it is called on every change of master INTR.
 * pic_init also performs pic_reset. */
void pic_init(struct pic_pair *p, void (*intr_changed)(void *opaque, bool level), void *opaque);
/* Power-on state, as a BIOS would leave it: initialised, vector bases 0x08
 * and 0x70, every IRQ masked, all edge triggered.  Input line levels are
 * kept (they are wires driven by devices). */
void pic_reset(struct pic_pair *p);
/* 0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1.  0, or -1 if a range is taken (the
 * ranges registered before the failure stay registered). */
int pic_register(struct pic_pair *p, struct io_bus *pio);
/* irq_line.set for the PIC: irq 0..15 (2 is the cascade and is ignored,
 * as are out-of-range numbers), level 0 or non-zero. */
void pic_set_irq(void *opaque, int irq, int level);
bool pic_intr_pending(const struct pic_pair *p);
/* The INTA cycle.  Returns the vector, or the spurious vector (master or
 * slave base + 7, ISR untouched on the chip that had nothing) when INTR
 * was raised but the request vanished; -1 when INTR was not raised since
 * the last INTA at all. */
int pic_ack(struct pic_pair *p);
#endif
