/* An interrupt line from a device to an interrupt controller.  Devices only
 * ever call irq_set(); the platform (monitor/platform.c) wires the line to
 * the PIC (and later the IOAPIC).  Level is 0 or 1; an edge-triggered input
 * sees a 0->1 transition. */
#ifndef BTVM_DEVICES_IRQ_H
#define BTVM_DEVICES_IRQ_H

struct irq_line {
	void (*set)(void *opaque, int irq, int level);
	void *opaque;
	int irq;
};

static inline void irq_set(const struct irq_line *l, int level)
{
	if (l && l->set)
		l->set(l->opaque, l->irq, level);
}
#endif
