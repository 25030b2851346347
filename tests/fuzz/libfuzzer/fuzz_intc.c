/* The interrupt controllers wired as on btvm's PC (monitor/platform.c):
 * every ISA line to the 8259 pair and to the IOAPIC pin of the same
 * number (IRQ0 to pin 2), the 8259's INTR to LINT0, the IOAPIC's messages
 * to the local APIC, level EOIs back to the IOAPIC; the PIT on IRQ0 and
 * the RTC on IRQ8 as interrupt sources, on a manual clock.  Operations:
 * port I/O to the PICs, the PIT and the RTC, MMIO to both APICs, ISA
 * lines, INTA cycles (the CPU's, through the local APIC as vm_intr_ack
 * does).  Invariants: an INTA gives -1 or a vector 0-255, and never -1
 * while a fixed interrupt is deliverable; vectors 0-15 never enter IRR or
 * ISR; Remote IRR only on level entries; no timer survives its deadline;
 * no handler recursion runs away (ASan's stack overflow). */
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "fuzz_common.h"

static struct pic_pair pic;
static struct ioapic io;
static struct lapic la;

static const unsigned widths[4] = { 1, 4, 4, 2 };
/* where: 0-5 PIC ports, 6-7 PIT data/control, 8-9 RTC, 10-12 LAPIC
 * registers, 13 IOAPIC IOREGSEL, 14 IOWIN, 15 any LAPIC offset (u16) */
static const uint16_t pio[10] = { 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x43, 0x70, 0x71 };
static const uint32_t lregs[3] = { LAPIC_EOI, LAPIC_SVR, LAPIC_TPR };

static void isa_irq_set(void *opaque, int irq, int level)
{
	(void)opaque;
	pic_set_irq(&pic, irq, level);
	if (irq != 2)
		ioapic_set_irq(&io, irq == 0 ? 2 : irq, level);
}

static void pic_intr_to_lint0(void *opaque, bool level)
{
	(void)opaque;
	lapic_set_lint(&la, 0, level);
}

static bool pic_pending_cb(void *opaque) { return pic_intr_pending(opaque); }
static int pic_ack_cb(void *opaque) { return pic_ack(opaque); }

static bool ioapic_to_lapic(void *opaque, uint8_t vector, unsigned mode, bool logical, uint8_t dest, bool level)
{
	(void)opaque;
	return lapic_deliver(&la, vector, mode, logical, dest, level);
}

static void lapic_eoi_to_ioapic(void *opaque, int vector)
{
	(void)opaque;
	ioapic_eoi(&io, vector);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus, mmio;
	static struct timer_queue tq;
	static struct pit8254 pit;
	static struct rtc_cmos rtc;
	io_bus_init(&bus, "pio");
	io_bus_init(&mmio, "mmio");
	timerq_init_manual(&tq, 1000000000ull);
	pic_init(&pic, pic_intr_to_lint0, NULL);
	ioapic_init(&io, ioapic_to_lapic, NULL);
	lapic_init(&la, &tq, (struct lapic_extint){ pic_pending_cb, pic_ack_cb, &pic }, lapic_eoi_to_ioapic, NULL);
	pit_init(&pit, &tq, (struct irq_line){ isa_irq_set, NULL, 0 });
	rtc_init(&rtc, &tq, (struct irq_line){ isa_irq_set, NULL, 8 }, NULL, NULL);
	FZ_ASSERT(pic_register(&pic, &bus) == 0 && pit_register(&pit, &bus) == 0 && rtc_register(&rtc, &bus) == 0 &&
			  ioapic_register(&io, &mmio) == 0 && lapic_register(&la, &mmio) == 0,
		  "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		bool wr = op.kind == FZ_WRITE;
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			if (op.where < 10)
				fz_access(&bus, pio[op.where], 1, wr, op.value);
			else if (op.where < 13)
				fz_access(&mmio, LAPIC_BASE + lregs[op.where - 10], 4, wr, op.value);
			else if (op.where < 15)
				fz_access(&mmio, IOAPIC_BASE + (op.where == 13 ? 0 : 0x10), 4, wr, op.value);
			else
				fz_access(&mmio, LAPIC_BASE + (fz_u16(&in) & 0xFF0u), 4, wr, op.value);
			break;
		case FZ_CLOCK:
			fz_advance(&tq, op.value);
			break;
		case FZ_SPECIAL:
			if (op.raw < 0xC0) {
				isa_irq_set(NULL, op.raw & 15, (op.raw >> 4) & 1);
			} else {
				/* INTA: a fixed interrupt above PPR must give its vector */
				bool fixed = lapic_enabled(&la) && (la.svr & LAPIC_SVR_ENABLE);
				int hi = -1;
				for (int v = 255; v >= 16 && hi < 0; v--)
					if (la.irr[v >> 5] & (1u << (v & 31)))
						hi = v;
				uint8_t ppr = lapic_peek(&la, LAPIC_PPR) & 0xF0;
				bool deliverable = fixed && hi >= 0 && (hi & 0xF0) > ppr;
				int v = lapic_intr_ack(&la);
				FZ_ASSERT(v >= -1 && v < 256, "INTA gave %d", v);
				FZ_ASSERT(!deliverable || v >= 0, "vector %#x deliverable (PPR %#x) but INTA gave -1", hi, ppr);
			}
			break;
		}
		FZ_ASSERT(!(la.irr[0] & 0xFFFF) && !(la.isr[0] & 0xFFFF), "vector below 16 in IRR/ISR");
		for (int p = 0; p < IOAPIC_PINS; p++)
			FZ_ASSERT(!(io.rte[p] & IOAPIC_RTE_REMOTE_IRR) || (io.rte[p] & IOAPIC_RTE_LEVEL),
				  "pin %d: Remote IRR on an edge entry", p);
	}
	return 0;
}
