/* The 8259A pair and its ELCR through ports 0x20-0x21, 0xA0-0xA1 and
 * 0x4D0-0x4D1, with IRQ lines raised and lowered and INTA cycles in
 * between.  Invariants: the INTR callback always tells the current
 * output; an INTA while INTR is up gives a vector of one of the two chips
 * (never -1); an INTA gives either -1 or such a vector. */
#include "devices/pic8259.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x20, 0x21,
				    0xA0, 0xA1, 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1 };
static const unsigned widths[4] = { 1, 1, 2, 4 };

static struct {
	int changes;
	bool level;
} intr;

static void on_intr(void *opaque, bool level)
{
	(void)opaque;
	FZ_ASSERT(level != intr.level || intr.changes == 0, "INTR callback without a change (%d)", level);
	intr.changes++;
	intr.level = level;
}

static void check_vector(const struct pic_pair *p, int v)
{
	if (v < 0) {
		FZ_ASSERT(v == -1, "pic_ack returned %d", v);
		return;
	}
	FZ_ASSERT((v & ~7) == p->chip[0].vector_base || (v & ~7) == p->chip[1].vector_base,
		  "vector %#x from neither chip (bases %#x, %#x)", v, p->chip[0].vector_base,
		  p->chip[1].vector_base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct pic_pair pic;
	io_bus_init(&bus, "pio");
	memset(&intr, 0, sizeof(intr));
	pic_init(&pic, on_intr, NULL);
	FZ_ASSERT(pic_register(&pic, &bus) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			fz_access(&bus, ports[op.where], op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:   /* no clock: an INTA instead */
		case FZ_SPECIAL:
			if (op.kind == FZ_CLOCK || (op.value & 0xE0) == 0xE0) {
				bool was = pic_intr_pending(&pic);
				int v = pic_ack(&pic);
				check_vector(&pic, v);
				FZ_ASSERT(!was || v >= 0, "INTR was up but INTA gave nothing");
			} else if ((op.value & 0xE0) == 0xC0) {
				pic_reset(&pic);
			} else {
				/* out-of-range lines are part of the interface */
				pic_set_irq(&pic, (int)(op.value & 0x1F) - 8 + 8 * ((op.value >> 5) & 1),
					    (op.value >> 6) & 1);
			}
			break;
		}
		FZ_ASSERT(pic_intr_pending(&pic) == intr.level, "INTR %d but the callback said %d",
			  pic_intr_pending(&pic), intr.level);
		for (int c = 0; c < 2; c++)
			FZ_ASSERT(pic.chip[c].init_step <= 4, "init_step %u", pic.chip[c].init_step);
	}
	return 0;
}
