/* Intel 8259A PIC pair.  Section references are to the Intel 8259A
 * Programmable Interrupt Controller datasheet (order 231468-003), ELCR to
 * the Intel 82371AB (PIIX4) datasheet, section 4.1.10. */
#include "devices/pic8259.h"
#include <stddef.h>

#define MASTER 0
#define SLAVE 1

/* The 8259A has no reset pin; the BIOS programs it.  We start as the BIOS
 * leaves a PC: master vectors 0x08-0x0F, slave 0x70-0x77, all masked. */
#define RESET_BASE_MASTER 0x08
#define RESET_BASE_SLAVE  0x70

/* PIIX: IRQ0, 1, 2, 8 and 13 are edge only; their ELCR bits are
 * reserved and read 0. */
#define ELCR_MASK_MASTER 0xF8
#define ELCR_MASK_SLAVE  0xDE

static uint8_t level_inputs(const struct pic_chip *c)
{
	return c->ltim ? 0xFF : c->elcr;
}

/* Priority rank of an IR: 0 is the highest.  Rotation only moves
 * prio_top; the order stays circular (datasheet "Automatic Rotation"). */
static int rank(const struct pic_chip *c, int ir)
{
	return (ir - c->prio_top) & 7;
}

/* Highest-priority IR set in mask, or -1. */
static int best(const struct pic_chip *c, uint8_t mask)
{
	for (int i = 0; i < 8; i++) {
		int ir = (c->prio_top + i) & 7;
		if (mask & (1u << ir))
			return ir;
	}
	return -1;
}

/* The priority resolver: the IR this chip would present on INT, or -1.
 * A request must be of strictly higher priority than every in-service
 * level (fully nested mode), except that
 *  - special mask mode: a masked level does not inhibit others (OCW3 SMM);
 *  - special fully nested mode on the master: the cascade IR may interrupt
 *    its own in-service level, so the slave can nest (ICW4 SFNM). */
static int chip_pending(const struct pic_chip *c)
{
	int req = best(c, c->irr & ~c->imr);
	if (req < 0)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (c->is_master && c->sfnm && req == PIC_CASCADE_IRQ)
		in_service &= ~(1u << PIC_CASCADE_IRQ);
	int cur = best(c, in_service);
	if (cur >= 0 && rank(c, cur) <= rank(c, req))
		return -1;
	return req;
}

/* An IR input changes.  Edge inputs latch a rising edge into IRR and keep
 * it until INTA (the line may fall again first: a pulse).  Level inputs
 * mirror the line. */
static void chip_input(struct pic_chip *c, int ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	bool was = c->lines & bit;
	if (level) {
		c->lines |= bit;
		if (!was || (level_inputs(c) & bit))
			c->irr |= bit;
	} else {
		c->lines &= (uint8_t)~bit;
		if (level_inputs(c) & bit)
			c->irr &= (uint8_t)~bit;
	}
}

/* Recompute the cascade and the master INTR output.  The slave's INT
 * drives master IR2 as an edge input: a slave request that vanishes before
 * INTA still completes the master's cycle (IR2 goes in service) and the
 * slave answers with its IR7 vector -- the spurious IRQ15 of real PCs. */
static void update(struct pic_pair *p)
{
	struct pic_chip *m = &p->chip[MASTER];
	chip_input(m, PIC_CASCADE_IRQ, chip_pending(&p->chip[SLAVE]) >= 0);
	bool out = chip_pending(m) >= 0;
	if (out)
		p->intr_unacked = true;
	if (out != p->intr) {
		p->intr = out;
		if (p->intr_changed)
			p->intr_changed(p->opaque, out);
	}
}

/* INTA on one chip for a resolved IR: set ISR (unless auto-EOI), clear an
 * edge request.  A level request stays in IRR while its line is high. */
static void chip_intack(struct pic_chip *c, int ir)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->prio_top = (uint8_t)((ir + 1) & 7);
	} else {
		c->isr |= bit;
	}
	if (!(level_inputs(c) & bit))
		c->irr &= (uint8_t)~bit;
}

static void chip_reset(struct pic_chip *c, bool master)
{
	uint8_t lines = c->lines;
	*c = (struct pic_chip){ 0 };
	c->lines = lines;
	c->is_master = master;
	c->imr = 0xFF;
	c->vector_base = master ? RESET_BASE_MASTER : RESET_BASE_SLAVE;
	c->icw3 = master ? 1u << PIC_CASCADE_IRQ : PIC_CASCADE_IRQ;
	c->elcr_mask = master ? ELCR_MASK_MASTER : ELCR_MASK_SLAVE;
}

void pic_reset(struct pic_pair *p)
{
	chip_reset(&p->chip[MASTER], true);
	chip_reset(&p->chip[SLAVE], false);
	p->intr_unacked = false;
	update(p);
}

void pic_init(struct pic_pair *p, void (*intr_changed)(void *, bool), void *opaque)
{
	*p = (struct pic_pair){ 0 };
	p->intr_changed = intr_changed;
	p->opaque = opaque;
	pic_reset(p);
}

void pic_set_irq(void *opaque, int irq, int level)
{
	struct pic_pair *p = opaque;
	/* IR2 of the master is the cascade, not a device input. */
	if (!p || irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
		return;
	chip_input(&p->chip[irq >> 3], irq & 7, level != 0);
	update(p);
}

bool pic_intr_pending(const struct pic_pair *p)
{
	return p->intr;
}

int pic_ack(struct pic_pair *p)
{
	struct pic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
	int vec, ir = chip_pending(m);
	if (ir < 0) {
		if (!p->intr_unacked)
			return -1;
		/* The request went away between INT and INTA: the 8259A
		 * answers with IR7's vector and sets no ISR bit
		 * ("Interrupt Sequence", note on default IR7). */
		vec = m->vector_base | 7;
	} else {
		chip_intack(m, ir);
		if (ir == PIC_CASCADE_IRQ) {
			int sir = chip_pending(s);
			if (sir >= 0) {
				chip_intack(s, sir);
				vec = s->vector_base | sir;
				/* A slave still requesting after its INTA
				 * (auto-EOI, several requests) asks again:
				 * its INT never fell to make a new edge. */
				if (chip_pending(s) >= 0)
					m->irr |= 1u << PIC_CASCADE_IRQ;
			} else {
				vec = s->vector_base | 7;  /* spurious IRQ15 */
			}
		} else {
			vec = m->vector_base | ir;
		}
	}
	p->intr_unacked = false;
	update(p);
	return vec;
}

/* ICW1 (A0=0, D4=1).  "Initialization Command Words": the edge sense
 * circuit is reset, IMR is cleared, IR7 gets the lowest priority, special
 * mask mode is cleared and status read selects IRR; without IC4 all ICW4
 * functions are zero.  We also clear ISR and the poll command.  Lines that
 * are high stay high: an edge input needs a new 0->1 transition. */
static void write_icw1(struct pic_chip *c, uint8_t v)
{
	c->ltim = v & 0x08;
	c->single = v & 0x02;
	c->need_icw4 = v & 0x01;
	c->imr = 0;
	c->isr = 0;
	c->irr = c->lines & level_inputs(c);
	c->prio_top = 0;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->auto_eoi = c->rotate_on_aeoi = c->sfnm = false;
	c->init_step = 2;
}

/* OCW2: D7-D5 = R, SL, EOI; D2-D0 = level. */
static void write_ocw2(struct pic_chip *c, uint8_t v)
{
	int level = v & 7, ir;
	switch (v >> 5) {
	case 0: /* rotate in auto-EOI mode (clear) */
		c->rotate_on_aeoi = false;
		break;
	case 4: /* rotate in auto-EOI mode (set) */
		c->rotate_on_aeoi = true;
		break;
	case 1: /* non-specific EOI: the highest-priority ISR bit */
	case 5: /* rotate on non-specific EOI */
		ir = best(c, c->isr);
		if (ir < 0)
			break;
		c->isr &= (uint8_t)~(1u << ir);
		if (v >> 5 == 5)
			c->prio_top = (uint8_t)((ir + 1) & 7);
		break;
	case 3: /* specific EOI */
		c->isr &= (uint8_t)~(1u << level);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << level);
		c->prio_top = (uint8_t)((level + 1) & 7);
		break;
	case 6: /* set priority: level becomes the lowest */
		c->prio_top = (uint8_t)((level + 1) & 7);
		break;
	default: /* 2: no operation */
		break;
	}
}

/* OCW3: D6-D5 = ESMM, SMM; D2 = poll; D1-D0 = RR, RIS. */
static void write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & 0x40)
		c->special_mask = v & 0x20;
	if (v & 0x04)
		c->poll = true;
	if (v & 0x02)
		c->read_isr = v & 0x01;
}

static void write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2: /* ICW2: T7-T3 of the vector (8086 mode) */
		c->vector_base = v & 0xF8;
		c->init_step = !c->single ? 3 : c->need_icw4 ? 4 : 0;
		break;
	case 3: /* ICW3: stored; the cascade is wired to IR2 regardless */
		c->icw3 = v;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4: /* ICW4: D1 AEOI, D4 SFNM; uPM, BUF, M/S ignored */
		c->auto_eoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint8_t chip_read(struct pic_pair *p, struct pic_chip *c, unsigned port)
{
	if (c->poll) {
		/* Poll command: this read is the INTA.  D7 = request,
		 * D2-D0 = highest-priority level ("The Poll Command"). */
		c->poll = false;
		int ir = chip_pending(c);
		if (ir < 0)
			return 0;
		chip_intack(c, ir);
		if (c->is_master)
			p->intr_unacked = false;
		update(p);
		return (uint8_t)(0x80 | ir);
	}
	if (port == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void chip_write(struct pic_chip *c, unsigned port, uint8_t v)
{
	if (port == 1)
		write_data(c, v);
	else if (v & 0x10)
		write_icw1(c, v);
	else if (v & 0x08)
		write_ocw3(c, v);
	else
		write_ocw2(c, v);
}

/* A wider access to an 8-bit device becomes byte accesses at successive
 * ports, as on the ISA bus; bytes beyond the device's 2 ports float. */
static void chip_io(struct pic_pair *p, int which, uint64_t off, uint8_t *data,
		    unsigned len, bool is_write)
{
	struct pic_chip *c = &p->chip[which];
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = off + i;
		if (port > 1) {
			if (!is_write)
				data[i] = 0xFF;
			continue;
		}
		if (is_write)
			chip_write(c, (unsigned)port, data[i]);
		else
			data[i] = chip_read(p, c, (unsigned)port);
	}
	if (is_write)
		update(p);
}

static void master_io(void *o, uint64_t off, uint8_t *d, unsigned len, bool w)
{
	chip_io(o, MASTER, off, d, len, w);
}

static void slave_io(void *o, uint64_t off, uint8_t *d, unsigned len, bool w)
{
	chip_io(o, SLAVE, off, d, len, w);
}

static void elcr_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct pic_pair *p = opaque;
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = off + i;
		if (port > 1) {
			if (!is_write)
				data[i] = 0xFF;
			continue;
		}
		struct pic_chip *c = &p->chip[port];
		if (!is_write) {
			data[i] = c->elcr;
			continue;
		}
		c->elcr = data[i] & c->elcr_mask;
		/* Inputs now level triggered mirror their line. */
		uint8_t lvl = level_inputs(c);
		c->irr = (uint8_t)((c->irr & ~lvl) | (c->lines & lvl));
	}
	if (is_write)
		update(p);
}

int pic_register(struct pic_pair *p, struct io_bus *pio)
{
	if (io_bus_register(pio, PIC_MASTER_PORT, 2, master_io, p, "pic-master") ||
	    io_bus_register(pio, PIC_SLAVE_PORT, 2, slave_io, p, "pic-slave") ||
	    io_bus_register(pio, PIC_ELCR_PORT, 2, elcr_io, p, "elcr"))
		return -1;
	return 0;
}
