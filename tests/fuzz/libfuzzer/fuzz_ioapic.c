/* The IOAPIC's MMIO page (0xFEC00000): IOREGSEL/IOWIN, the 24 pins
 * raised and lowered, EOIs (the clock op's byte is the vector), and a
 * local APIC stand-in that accepts or
 * refuses messages.  Invariants: messages carry a delivery mode the
 * entry holds; a masked entry sends nothing; Remote IRR is only ever set
 * on a level-triggered entry; delivery status reads 0. */
#include "devices/ioapic.h"
#include "fuzz_common.h"

static const unsigned widths[4] = { 4, 4, 1, 2 };
static bool accept_next;
static unsigned long msgs;

static bool send(void *opaque, uint8_t vector, unsigned mode, bool logical, uint8_t dest, bool level)
{
	(void)opaque, (void)vector, (void)logical, (void)dest, (void)level;
	FZ_ASSERT(mode <= 7, "delivery mode %u", mode);
	msgs++;
	return accept_next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct ioapic io;
	accept_next = true;
	io_bus_init(&bus, "mmio");
	ioapic_init(&io, send, NULL);
	FZ_ASSERT(ioapic_register(&io, &bus) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		uint64_t off;
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			/* IOREGSEL, IOWIN, and now and then any offset */
			off = op.where < 7 ? 0 : op.where < 14 ? 0x10 : fz_u16(&in) & 0xFFFu;
			fz_access(&bus, IOAPIC_BASE + off, op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
			ioapic_eoi(&io, op.raw);
			break;
		case FZ_SPECIAL: {
			unsigned long before = msgs;
			int pin = (int)(op.value & 0x1F) - 4;   /* -4..27: out-of-range pins too */
			bool masked = pin >= 0 && pin < IOAPIC_PINS && (io.rte[pin] & IOAPIC_RTE_MASKED);
			accept_next = !(op.value & 0x40);
			if (op.value == 0xFF)
				ioapic_reset(&io);
			else
				ioapic_set_irq(&io, pin, op.value >> 7);
			FZ_ASSERT(!masked || msgs == before, "masked pin %d sent a message", pin);
			break;
		}
		}
		for (int p = 0; p < IOAPIC_PINS; p++) {
			uint64_t e = io.rte[p];
			FZ_ASSERT(!(e & IOAPIC_RTE_REMOTE_IRR) || (e & IOAPIC_RTE_LEVEL),
				  "pin %d: Remote IRR on an edge entry %#llx", p, (unsigned long long)e);
			FZ_ASSERT(!(e & IOAPIC_RTE_DELIVS), "pin %d: delivery status set", p);
		}
	}
	return 0;
}
