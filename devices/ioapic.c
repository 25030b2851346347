/* Intel 82093AA I/O APIC.  Section numbers: 82093AA datasheet. */
#include "devices/ioapic.h"
#include <string.h>

/* Writable bits of a redirection entry: everything but delivery status
 * (12) and Remote IRR (14); bits 17-55 are reserved (3.2.4). */
#define RTE_WRITABLE (0xFF00000000000000ull | (0x1FFFFull & ~(IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)))

static bool asserted(const struct ioapic *io, int pin)
{
	bool level = io->pin_level & (1u << pin);
	return (io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW) ? !level : level;
}

/* Send pin's message to the local APIC (3.2.4 fields). */
static void send(struct ioapic *io, int pin)
{
	uint64_t e = io->rte[pin];
	bool level = e & IOAPIC_RTE_LEVEL;
	io->messages++;
	bool accepted = io->send && io->send(io->send_opaque, (uint8_t)e, (unsigned)(e >> 8) & 7,
					     e & IOAPIC_RTE_DEST_LOGICAL, (uint8_t)(e >> 56), level);
	if (level && accepted)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level entry requests while asserted, unmasked and not already
 * accepted (Remote IRR). */
static void service_level(struct ioapic *io, int pin)
{
	uint64_t e = io->rte[pin];
	if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) && asserted(io, pin))
		send(io, pin);
}

void ioapic_set_irq(void *opaque, int pin, int level)
{
	struct ioapic *io = opaque;
	if (!io || pin < 0 || pin >= IOAPIC_PINS)
		return;
	bool was = asserted(io, pin);
	if (level)
		io->pin_level |= 1u << pin;
	else
		io->pin_level &= ~(1u << pin);
	bool now = asserted(io, pin);
	uint64_t e = io->rte[pin];
	if (e & IOAPIC_RTE_LEVEL) {
		service_level(io, pin);
	} else if (now && !was) {
		if (e & IOAPIC_RTE_MASKED)
			io->edges_lost++;   /* a masked edge is not held pending */
		else
			send(io, pin);
	}
}

void ioapic_eoi(void *opaque, int vector)
{
	struct ioapic *io = opaque;
	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];
		if ((e & IOAPIC_RTE_LEVEL) && (e & IOAPIC_RTE_REMOTE_IRR) && (int)(e & 0xFF) == vector) {
			io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
			service_level(io, pin);
		}
	}
}

static uint32_t reg_read(struct ioapic *io)
{
	uint32_t r = io->ioregsel & 0xFF;
	switch (r) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (uint32_t)io->id << 24;
	case IOAPIC_REG_VER:
		return (uint32_t)(IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	default:
		if (r >= IOAPIC_REG_REDTBL && r < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
			uint64_t e = io->rte[(r - IOAPIC_REG_REDTBL) / 2];
			return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0;
	}
}

static void reg_write(struct ioapic *io, uint32_t v)
{
	uint32_t r = io->ioregsel & 0xFF;
	if (r == IOAPIC_REG_ID) {
		io->id = (v >> 24) & 0xF;   /* 4-bit APIC ID (3.2.1) */
		return;
	}
	if (r < IOAPIC_REG_REDTBL || r >= IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)
		return;   /* version, arbitration: read-only; others unimplemented */
	int pin = (int)(r - IOAPIC_REG_REDTBL) / 2;
	uint64_t e = io->rte[pin];
	uint64_t w = (r & 1) ? ((uint64_t)v << 32 | (uint32_t)e) : ((e & ~0xFFFFFFFFull) | v);
	io->rte[pin] = (w & RTE_WRITABLE) | (e & IOAPIC_RTE_REMOTE_IRR);
	/* Remote IRR is only meaningful for level entries. */
	if (!(io->rte[pin] & IOAPIC_RTE_LEVEL))
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
	service_level(io, pin);   /* e.g. unmasking an asserted level pin */
}

void ioapic_mmio(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct ioapic *io = opaque;
	if (offset == 0x00 && len <= 4) {
		if (is_write)
			io->ioregsel = io_data_get(data, len) & 0xFF;
		else
			io_data_put(data, len, io->ioregsel);
		return;
	}
	if (offset == 0x10 && len == 4) {
		if (is_write)
			reg_write(io, io_data_get(data, 4));
		else
			io_data_put(data, 4, reg_read(io));
		return;
	}
	io->bad_accesses++;
	if (!is_write)
		memset(data, 0, len);
}

int ioapic_register(struct ioapic *io, struct io_bus *mmio)
{
	return io_bus_register(mmio, IOAPIC_BASE, IOAPIC_SIZE, ioapic_mmio, io, "ioapic");
}

void ioapic_reset(struct ioapic *io)
{
	io->ioregsel = 0;
	io->id = 0;
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

void ioapic_init(struct ioapic *io, ioapic_send_fn send_fn, void *opaque)
{
	memset(io, 0, sizeof(*io));
	io->send = send_fn;
	io->send_opaque = opaque;
	ioapic_reset(io);
}
