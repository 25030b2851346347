/* The i8042 (0x60, 0x64): controller and keyboard commands with their
 * argument bytes, reads of the output buffer.  Invariants: the output
 * queue stays inside its ring; IRQ1 and IRQ12 are 0 or 1 and what the
 * controller believes it drives.  A reset request (0xFE, outport bit 0)
 * is counted. */
#include "devices/i8042.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0x60, 0x64, 0x60, 0x64, 0x60, 0x64, 0x60, 0x64,
				    0x60, 0x60, 0x60, 0x64, 0x64, 0x64, 0x61, 0x65 };
static const unsigned widths[4] = { 1, 1, 2, 4 };
static unsigned long resets;

static void reset_request(void *opaque)
{
	(void)opaque;
	resets++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct i8042 k;
	static struct fz_irqs irqs;
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	i8042_init(&k, (struct irq_line){ fz_irq_set, &irqs, 1 }, (struct irq_line){ fz_irq_set, &irqs, 12 },
		   reset_request, NULL);
	FZ_ASSERT(i8042_register(&k, &bus) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			fz_access(&bus, ports[op.where], op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
			break;
		case FZ_SPECIAL:
			if (op.value == 0xFF)
				i8042_reset(&k);
			break;
		}
		FZ_ASSERT(k.q_count <= I8042_QUEUE && k.q_head < I8042_QUEUE, "queue head %u count %u", k.q_head,
			  k.q_count);
		FZ_ASSERT(irqs.sets[1] == 0 || irqs.level[1] == k.irq1_level, "IRQ1 %d vs %d", irqs.level[1],
			  k.irq1_level);
		FZ_ASSERT(irqs.sets[12] == 0 || irqs.level[12] == k.irq12_level, "IRQ12 %d vs %d",
			  irqs.level[12], k.irq12_level);
	}
	return 0;
}
