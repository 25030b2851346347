/* Intel 82093AA I/O APIC at 0xFEC00000.  Section numbers refer to the
 * 82093AA datasheet (order 290566-001).
 *
 * Model:
 *  - IOREGSEL (offset 0x00) selects a register, IOWIN (0x10) reads or
 *    writes it (3.0).  IOREGSEL takes any access width (its low byte is
 *    the index); IOWIN must be a 32-bit access.  Other offsets and other
 *    widths read 0 and drop writes; they are counted in bad_accesses.
 *  - IOAPICID (0x00, bits 27:24), IOAPICVER (0x01: version 0x11, maximum
 *    redirection entry 23), IOAPICARB (0x02, reads the ID: one APIC bus
 *    agent), and 24 redirection entries at 0x10-0x3F (3.2.4): vector,
 *    delivery mode (fixed, lowest priority, SMI, NMI, INIT, ExtINT),
 *    destination mode and destination, polarity, trigger mode, mask,
 *    Remote IRR and delivery status (read-only).  Unknown register
 *    indexes read 0 and ignore writes.
 *  - Pins: edge-triggered entries send a message on each assertion
 *    (the rising edge for active high, the falling edge for active low);
 *    an edge on a masked pin is lost.  Level-triggered entries send while
 *    the pin is asserted, unmasked and Remote IRR is 0; the local APIC
 *    accepting the message sets Remote IRR, an EOI for the entry's
 *    vector clears it and re-sends if the pin is still asserted.
 *  - Delivery is immediate, so delivery status always reads 0 (idle).
 * Reset: every entry masked, edge, active high, vector 0; ID 0.
 * Not thread-safe: call everything from the vCPU thread. */
#ifndef BTVM_DEVICES_IOAPIC_H
#define BTVM_DEVICES_IOAPIC_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"

#define IOAPIC_BASE 0xFEC00000u
#define IOAPIC_SIZE 0x1000u     /* 82093AA decodes 0xFEC0xy00-0xFEC0xy1F; we claim the page */
#define IOAPIC_PINS 24
#define IOAPIC_VERSION 0x11u

#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10

/* Redirection entry bits (3.2.4). */
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIVS (1ull << 12)
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)

/* The message sent to the local APIC(s); returns true when a local APIC
 * accepted it (a level entry then sets Remote IRR). */
typedef bool (*ioapic_send_fn)(void *opaque, uint8_t vector, unsigned delivery_mode, bool logical,
			       uint8_t dest, bool level_triggered);

struct ioapic {
	uint32_t ioregsel;
	uint8_t id;
	uint64_t rte[IOAPIC_PINS];
	uint32_t pin_level;          /* bit n = current level of pin n */
	ioapic_send_fn send;
	void *send_opaque;
	uint64_t bad_accesses, messages, edges_lost;
};

/* ioapic_init performs ioapic_reset. */
void ioapic_init(struct ioapic *io, ioapic_send_fn send, void *opaque);
void ioapic_reset(struct ioapic *io);      /* pin levels are kept */
int ioapic_register(struct ioapic *io, struct io_bus *mmio);   /* 0 or -1 */
void ioapic_mmio(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write);
/* irq_line.set for an IOAPIC pin (0..23; others ignored). */
void ioapic_set_irq(void *opaque, int pin, int level);
/* An EOI of `vector` from a local APIC (level-triggered vectors only). */
void ioapic_eoi(void *opaque, int vector);
#endif
