/* The MC146818 RTC and CMOS RAM through ports 0x70/0x71 on a manual
 * clock: the first four input bytes move the host's wall clock (seconds
 * after 2023-11-14), the rest are operations.  Invariants: IRQ8 is 0 or 1
 * and what the RTC believes it drives; the index stays 7 bits; no timer
 * survives its deadline. */
#include "devices/rtc_cmos.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0x70, 0x71, 0x70, 0x71, 0x70, 0x71, 0x70, 0x71,
				    0x70, 0x71, 0x70, 0x71, 0x70, 0x71, 0x70, 0x71 };
static const unsigned widths[4] = { 1, 1, 2, 4 };
static int64_t wall;

static int64_t wallclock(void *opaque)
{
	(void)opaque;
	return wall;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct timer_queue tq;
	static struct rtc_cmos rtc;
	static struct fz_irqs irqs;
	struct fz_in in = { data, size };
	wall = 1700000000 + (int64_t)fz_u32(&in);
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	timerq_init_manual(&tq, 5000000000ull);
	rtc_init(&rtc, &tq, (struct irq_line){ fz_irq_set, &irqs, 8 }, wallclock, NULL);
	rtc_set_mem_size(&rtc, 128ull << 20);
	FZ_ASSERT(rtc_register(&rtc, &bus) == 0, "register");
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			fz_access(&bus, ports[op.where], op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
			fz_advance(&tq, op.value);
			break;
		case FZ_SPECIAL:
			if (op.value == 0xFF)
				rtc_reset(&rtc);
			else
				rtc_set_mem_size(&rtc, (uint64_t)op.value << 24);
			break;
		}
		FZ_ASSERT(irqs.sets[8] == 0 || irqs.level[8] == rtc.irq_level, "IRQ8 at %d, the RTC says %d",
			  irqs.level[8], rtc.irq_level);
		FZ_ASSERT(rtc.index < 0x80, "index %#x", rtc.index);
	}
	return 0;
}
