/* The local APIC's MMIO page (0xFEE00000) on a manual clock, with an 8259
 * stand-in on LINT0 (ExtINT), messages as the IOAPIC sends them, the LINT
 * pins, INTA cycles and IA32_APIC_BASE writes in between.  Invariants: an
 * INTA while INTR is up gives a vector 0-255; vectors 0-15 never enter IRR
 * or ISR (they are illegal: ESR instead); the timer's current count never
 * exceeds its initial count; no timer survives its deadline. */
#include "devices/lapic.h"
#include "fuzz_common.h"

static const uint32_t regs[15] = {
	LAPIC_ID, LAPIC_TPR, LAPIC_EOI, LAPIC_LDR, LAPIC_DFR, LAPIC_SVR, LAPIC_ESR, LAPIC_ICR_LO,
	LAPIC_ICR_HI, LAPIC_LVT_TIMER, LAPIC_LVT_LINT0, LAPIC_LVT_ERROR, LAPIC_TIMER_ICR, LAPIC_TIMER_CCR,
	LAPIC_TIMER_DCR,
};
static const unsigned widths[4] = { 4, 4, 1, 8 };

static struct {
	bool pending;
	uint8_t vector;
	unsigned eois;
} pic;

static bool pic_pending(void *opaque)
{
	(void)opaque;
	return pic.pending;
}

static int pic_ack(void *opaque)
{
	(void)opaque;
	if (!pic.pending)
		return -1;
	pic.pending = false;
	return pic.vector;
}

static void on_eoi(void *opaque, int vector)
{
	(void)opaque;
	FZ_ASSERT(vector >= 0 && vector < 256, "EOI of vector %d", vector);
	pic.eois++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct timer_queue tq;
	static struct lapic l;
	memset(&pic, 0, sizeof(pic));
	io_bus_init(&bus, "mmio");
	timerq_init_manual(&tq, 1000000000ull);
	lapic_init(&l, &tq, (struct lapic_extint){ pic_pending, pic_ack, NULL }, on_eoi, NULL);
	FZ_ASSERT(lapic_register(&l, &bus) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		uint64_t off;
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			off = op.where < 15 ? regs[op.where] : fz_u16(&in) & 0xFFFu;
			fz_access(&bus, LAPIC_BASE + off, op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
			fz_advance(&tq, op.value);
			break;
		case FZ_SPECIAL:
			switch (op.value & 7) {
			case 0: {   /* INTA */
				/* An ExtINT message from the IOAPIC while the 8259
				 * requests nothing: the 8259's INTA gives -1
				 * (pic_ack: "not raised since the last INTA"; a
				 * real 8259A would answer IR7), so INTR was up
				 * and nothing is delivered: one wake-up without
				 * a vector, harmless, left as it is. */
				bool was = lapic_intr_pending(&l), ioapic_only = l.extint_ioapic && !pic.pending;
				int v = lapic_intr_ack(&l);
				FZ_ASSERT(v >= -1 && v < 256, "INTA gave %d", v);
				FZ_ASSERT(!was || v >= 0 || ioapic_only, "INTR was up but INTA gave nothing");
				break;
			}
			case 1:
			case 2:
				lapic_set_lint(&l, (op.value >> 3) & 1, (op.value >> 4) & 1);
				break;
			case 3:
				pic.pending = true;
				pic.vector = (uint8_t)fz_u8(&in);
				break;
			case 4:
			case 5: {   /* a message from the IOAPIC */
				uint8_t vec = fz_u8(&in), dest = fz_u8(&in);
				(void)lapic_deliver(&l, vec, (op.value >> 3) & 7, (op.value >> 6) & 1, dest,
						    op.value >> 7);
				break;
			}
			case 6: {
				char err[200];
				uint64_t v = (uint64_t)fz_u32(&in) << 8 | LAPIC_BASE;
				(void)lapic_msr_write(&l, op.value & 8 ? v : fz_uN(&in, 8), err, sizeof(err));
				break;
			}
			case 7:
				lapic_reset(&l);
				break;
			}
			break;
		}
		FZ_ASSERT(!(l.irr[0] & 0xFFFF) && !(l.isr[0] & 0xFFFF), "vector below 16 in IRR %#x / ISR %#x",
			  l.irr[0], l.isr[0]);
		uint32_t ccr = lapic_peek(&l, LAPIC_TIMER_CCR);
		FZ_ASSERT(ccr <= l.timer_initial, "current count %#x above the initial %#x", ccr, l.timer_initial);
	}
	return 0;
}
