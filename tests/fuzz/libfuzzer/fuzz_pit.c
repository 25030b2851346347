/* The 8254 PIT (0x40-0x43) and system control port B (0x61, channel 2's
 * gate and OUT) on a manual clock.  Invariants: IRQ0 is only ever driven
 * to 0 or 1 and matches the level the PIT believes it drives; channel
 * state stays in range (mode 0-5, rw 1-3, count register 1..65536); no
 * timer survives its deadline (fz_advance). */
#include "devices/pit8254.h"
#include "devices/port61.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x43, 0x40, 0x42,
				    0x43, 0x61, 0x40, 0x41, 0x42, 0x43, 0x61, 0x43 };
static const unsigned widths[4] = { 1, 1, 2, 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct timer_queue tq;
	static struct pit8254 pit;
	static struct port61 p61;
	static struct fz_irqs irqs;
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	timerq_init_manual(&tq, 1000000000ull);
	pit_init(&pit, &tq, (struct irq_line){ fz_irq_set, &irqs, 0 });
	port61_init(&p61, &pit);
	FZ_ASSERT(pit_register(&pit, &bus) == 0 && port61_register(&p61, &bus) == 0, "register");
	struct fz_in in = { data, size };
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
			if (op.value < 0x80)
				pit_set_gate(&pit, (int)(op.value & 3), op.value & 4);
			else if (op.value < 0xF0)
				(void)pit_get_out(&pit, (int)(op.value & 3));
			else if (op.value == 0xF0)
				pit_reset(&pit);
			else if (op.value == 0xF1)
				port61_reset(&p61);
			break;
		}
		FZ_ASSERT(irqs.sets[0] == 0 || irqs.level[0] == pit.irq_level, "IRQ0 at %d, the PIT says %d",
			  irqs.level[0], pit.irq_level);
		for (int c = 0; c < 3; c++) {
			const struct pit_channel *ch = &pit.ch[c];
			FZ_ASSERT(ch->mode <= 5, "channel %d mode %u", c, ch->mode);
			FZ_ASSERT(ch->rw >= 1 && ch->rw <= 3, "channel %d rw %u", c, ch->rw);
			FZ_ASSERT(ch->cr >= 1 && ch->cr <= 65536, "channel %d CR %u", c, ch->cr);
		}
	}
	return 0;
}
