/* 8259A PIC pair: programmed through the port I/O bus like a guest does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/pic8259.h"

struct fixture {
	struct io_bus bus;
	struct pic_pair pic;
	int changes;     /* intr_changed calls */
	bool last_intr;
};

static struct fixture F;

static void on_intr(void *opaque, bool level)
{
	struct fixture *f = opaque;
	f->changes++;
	f->last_intr = level;
}

static void outb(uint16_t port, uint8_t v)
{
	io_bus_access(&F.bus, port, &v, 1, true);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;
	io_bus_access(&F.bus, port, &v, 1, false);
	return v;
}

static void irq(int n, int level)
{
	pic_set_irq(&F.pic, n, level);
}

/* Linux's init_8259A(): edge, master 0x20, slave 0x28, normal EOI. */
static void linux_init(bool auto_eoi)
{
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	outb(0x20, 0x11);        /* ICW1: edge, cascade, ICW4 */
	outb(0x21, 0x20);        /* ICW2 */
	outb(0x21, 0x04);        /* ICW3: slave on IR2 */
	outb(0x21, auto_eoi ? 0x03 : 0x01);  /* ICW4: 8086 (+AEOI) */
	outb(0xA0, 0x11);
	outb(0xA1, 0x28);
	outb(0xA1, 0x02);
	outb(0xA1, 0x01);
	outb(0x21, 0x00);        /* unmask everything */
	outb(0xA1, 0x00);
}

static uint8_t read_isr(uint16_t cmd)
{
	outb(cmd, 0x0B);
	return inb(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	outb(cmd, 0x0A);
	return inb(cmd);
}

static int setup(void **state)
{
	(void)state;
	io_bus_init(&F.bus, "pio");
	pic_init(&F.pic, on_intr, &F);
	F.changes = 0;
	F.last_intr = false;
	assert_int_equal(pic_register(&F.pic, &F.bus), 0);
	return 0;
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(inb(0x21), 0xFF);
	assert_int_equal(inb(0xA1), 0xFF);
	irq(1, 1);
	assert_false(pic_intr_pending(&F.pic));  /* masked */
	assert_int_equal(pic_ack(&F.pic), -1);   /* nothing ever raised */
	outb(0x21, 0xFD);
	assert_true(pic_intr_pending(&F.pic));
	assert_int_equal(pic_ack(&F.pic), 0x09);  /* BIOS base 0x08 */
	/* a second register attempt overlaps */
	assert_int_equal(pic_register(&F.pic, &F.bus), -1);
}

static void test_init_sequence(void **state)
{
	(void)state;
	outb(0x21, 0x5A);
	outb(0x20, 0x11);
	assert_int_equal(inb(0x21), 0x00);  /* ICW1 clears IMR */
	outb(0x21, 0x30);                   /* ICW2 */
	outb(0x21, 0x04);                   /* ICW3 */
	outb(0x21, 0x01);                   /* ICW4 */
	assert_int_equal(inb(0x21), 0x00);  /* ICWs did not touch IMR */
	outb(0x21, 0xA5);                   /* now OCW1 */
	assert_int_equal(inb(0x21), 0xA5);
	outb(0x21, 0x00);
	irq(3, 1);
	assert_int_equal(pic_ack(&F.pic), 0x33);

	/* Single, no ICW4: ICW2 is the last ICW; low 3 bits ignored. */
	outb(0x20, 0x12);
	outb(0x21, 0x47);
	outb(0x21, 0xEE);
	assert_int_equal(inb(0x21), 0xEE);
	outb(0x21, 0x00);
	irq(4, 0);
	irq(4, 1);
	assert_int_equal(pic_ack(&F.pic), 0x44);
}

static void test_mask_unmask(void **state)
{
	(void)state;
	linux_init(false);
	outb(0x21, 0x08);
	irq(3, 1);
	assert_false(pic_intr_pending(&F.pic));
	assert_int_equal(read_irr(0x20), 0x08);  /* IRR latches masked */
	assert_int_equal(F.changes, 0);
	outb(0x21, 0x00);
	assert_true(pic_intr_pending(&F.pic));
	assert_int_equal(F.changes, 1);
	assert_true(F.last_intr);
	outb(0x21, 0x08);
	assert_false(pic_intr_pending(&F.pic));
	assert_int_equal(F.changes, 2);
	outb(0x21, 0x00);
	assert_int_equal(pic_ack(&F.pic), 0x23);
	assert_false(pic_intr_pending(&F.pic));
	assert_int_equal(F.changes, 4);
	assert_false(F.last_intr);
	/* slave mask */
	outb(0xA1, 0x02);
	irq(9, 1);
	assert_false(pic_intr_pending(&F.pic));
	outb(0xA1, 0x00);
	outb(0x20, 0x20);
	assert_int_equal(pic_ack(&F.pic), 0x29);
}

static void test_edge_vs_level(void **state)
{
	(void)state;
	linux_init(false);
	/* Edge: a pulse is latched; a held line is one request. */
	irq(5, 1);
	irq(5, 0);
	assert_true(pic_intr_pending(&F.pic));
	assert_int_equal(pic_ack(&F.pic), 0x25);
	outb(0x20, 0x20);
	assert_false(pic_intr_pending(&F.pic));
	irq(5, 1);
	assert_int_equal(pic_ack(&F.pic), 0x25);
	outb(0x20, 0x20);
	irq(5, 1);  /* still high: no new edge */
	assert_false(pic_intr_pending(&F.pic));
	irq(5, 0);

	/* ELCR: reserved bits read 0 (IRQ0-2, 8, 13). */
	outb(0x4D0, 0xFF);
	outb(0x4D1, 0xFF);
	assert_int_equal(inb(0x4D0), 0xF8);
	assert_int_equal(inb(0x4D1), 0xDE);
	outb(0x4D0, 0x20);  /* IRQ5 level */
	outb(0x4D1, 0x00);
	assert_int_equal(inb(0x4D0), 0x20);

	irq(5, 1);
	assert_int_equal(pic_ack(&F.pic), 0x25);
	assert_int_equal(read_irr(0x20), 0x20);  /* level: IRR follows line */
	assert_int_equal(read_isr(0x20), 0x20);
	assert_false(pic_intr_pending(&F.pic));
	outb(0x20, 0x20);
	assert_true(pic_intr_pending(&F.pic));   /* line still high */
	assert_int_equal(pic_ack(&F.pic), 0x25);
	irq(5, 0);
	assert_int_equal(read_irr(0x20), 0x00);
	outb(0x20, 0x20);
	assert_false(pic_intr_pending(&F.pic));
}

static void test_priority(void **state)
{
	(void)state;
	linux_init(false);
	irq(4, 1);
	irq(1, 1);
	assert_int_equal(pic_ack(&F.pic), 0x21);
	assert_false(pic_intr_pending(&F.pic));  /* IRQ4 < IRQ1 in service */
	irq(0, 1);
	assert_true(pic_intr_pending(&F.pic));   /* IRQ0 nests */
	assert_int_equal(pic_ack(&F.pic), 0x20);
	assert_int_equal(read_isr(0x20), 0x03);
	outb(0x20, 0x20);                        /* clears IRQ0 (highest) */
	assert_int_equal(read_isr(0x20), 0x02);
	assert_false(pic_intr_pending(&F.pic));
	/* Slave IRQ10 rides on IR2: above IRQ4, below IRQ1. */
	irq(10, 1);
	assert_false(pic_intr_pending(&F.pic));
	outb(0x20, 0x20);                        /* EOI IRQ1 */
	assert_int_equal(pic_ack(&F.pic), 0x2A);
	assert_false(pic_intr_pending(&F.pic));  /* IRQ4 waits for IR2 */
	outb(0xA0, 0x20);
	outb(0x20, 0x20);
	assert_int_equal(pic_ack(&F.pic), 0x24);
	outb(0x20, 0x20);
	assert_int_equal(read_isr(0x20), 0x00);

	/* Set priority: IRQ3 lowest, so IRQ4 now beats IRQ1. */
	outb(0x20, 0xC3);
	irq(1, 0);
	irq(4, 0);
	irq(1, 1);
	irq(4, 1);
	assert_int_equal(pic_ack(&F.pic), 0x24);
	outb(0x20, 0x20);
	assert_int_equal(pic_ack(&F.pic), 0x21);
	outb(0x20, 0x20);
}

static void test_eoi(void **state)
{
	(void)state;
	linux_init(false);
	irq(3, 1);
	assert_int_equal(pic_ack(&F.pic), 0x23);
	irq(1, 1);
	assert_int_equal(pic_ack(&F.pic), 0x21);
	irq(6, 1);
	assert_int_equal(read_isr(0x20), 0x0A);
	outb(0x20, 0x63);  /* specific EOI IRQ3 */
	assert_int_equal(read_isr(0x20), 0x02);
	assert_false(pic_intr_pending(&F.pic));
	outb(0x20, 0x20);  /* non-specific: IRQ1 */
	assert_int_equal(read_isr(0x20), 0x00);
	assert_int_equal(pic_ack(&F.pic), 0x26);
	outb(0x20, 0x66);
	assert_int_equal(read_isr(0x20), 0x00);
	outb(0x20, 0x20);  /* EOI with nothing in service: harmless */
	assert_int_equal(read_isr(0x20), 0x00);
}

static void test_spurious_irq7(void **state)
{
	(void)state;
	linux_init(false);
	outb(0x4D0, 0x20);
	irq(5, 1);
	assert_true(pic_intr_pending(&F.pic));
	irq(5, 0);  /* level request withdrawn before INTA */
	assert_false(pic_intr_pending(&F.pic));
	assert_false(F.last_intr);
	assert_int_equal(pic_ack(&F.pic), 0x27);
	assert_int_equal(read_isr(0x20), 0x00);
	assert_int_equal(pic_ack(&F.pic), -1);

	/* masked between INT and INTA */
	irq(6, 1);
	assert_true(pic_intr_pending(&F.pic));
	outb(0x21, 0x40);
	assert_int_equal(pic_ack(&F.pic), 0x27);
	assert_int_equal(read_isr(0x20), 0x00);
	assert_int_equal(read_irr(0x20), 0x40);  /* still latched */
	outb(0x21, 0x00);
	assert_int_equal(pic_ack(&F.pic), 0x26);
}

static void test_spurious_irq15(void **state)
{
	(void)state;
	linux_init(false);
	outb(0x4D1, 0x08);  /* IRQ11 level */
	irq(11, 1);
	assert_true(pic_intr_pending(&F.pic));
	irq(11, 0);
	/* The master's cascade request was latched: INTR stays, and the
	 * slave answers with its IR7 vector. */
	assert_true(pic_intr_pending(&F.pic));
	assert_int_equal(pic_ack(&F.pic), 0x2F);
	assert_int_equal(read_isr(0x20), 0x04);  /* master: IR2 in service */
	assert_int_equal(read_isr(0xA0), 0x00);
	outb(0x20, 0x20);
	assert_int_equal(read_isr(0x20), 0x00);
	assert_false(pic_intr_pending(&F.pic));
	assert_int_equal(pic_ack(&F.pic), -1);
}

static void test_ocw3_reads(void **state)
{
	(void)state;
	linux_init(false);
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	irq(0, 1);
	irq(7, 1);
	irq(14, 1);
	assert_int_equal(inb(0x20), 0x81);       /* IRR by default; slave masked */
	assert_int_equal(inb(0xA0), 0x40);
	assert_int_equal(read_isr(0xA0), 0x00);
	assert_int_equal(inb(0xA0), 0x00);       /* selection sticks */
	outb(0xA0, 0x08);                        /* OCW3 without RR: no change */
	assert_int_equal(inb(0xA0), 0x00);
	assert_int_equal(read_irr(0xA0), 0x40);
	assert_int_equal(inb(0xA1), 0xFF);       /* data port is IMR */

	/* poll: the read is the acknowledge */
	outb(0x21, 0x00);
	outb(0xA1, 0x00);
	assert_int_equal(read_irr(0x20), 0x85);  /* cascade request on IR2 */
	outb(0x20, 0x0C);
	assert_int_equal(inb(0x20), 0x80);
	assert_int_equal(read_isr(0x20), 0x01);
	outb(0x20, 0x20);
	outb(0x20, 0x0C);
	assert_int_equal(inb(0x21), 0x82);       /* either port; level 2 */
	outb(0xA0, 0x0C);
	assert_int_equal(inb(0xA0), 0x86);       /* then poll the slave */
	assert_int_equal(read_isr(0xA0), 0x40);
	outb(0xA0, 0x20);
	outb(0x20, 0x20);
	outb(0x20, 0x0C);
	assert_int_equal(inb(0x20), 0x87);
	outb(0x20, 0x20);
	outb(0x20, 0x0C);
	assert_int_equal(inb(0x20), 0x00);       /* nothing */
}

static void test_cascade(void **state)
{
	(void)state;
	linux_init(false);
	irq(12, 1);
	assert_true(pic_intr_pending(&F.pic));
	assert_int_equal(read_irr(0x20), 0x04);
	assert_int_equal(pic_ack(&F.pic), 0x2C);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xA0), 0x10);
	irq(12, 0);
	irq(8, 1);  /* higher on the slave, but master IR2 is in service */
	assert_false(pic_intr_pending(&F.pic));
	outb(0xA0, 0x20);
	outb(0x20, 0x20);
	assert_int_equal(pic_ack(&F.pic), 0x28);
	outb(0xA0, 0x20);
	outb(0x20, 0x20);
	assert_false(pic_intr_pending(&F.pic));
	/* the cascade pin is not a device input */
	irq(2, 1);
	assert_false(pic_intr_pending(&F.pic));

	/* special fully nested mode lets IRQ8 nest in IRQ12 */
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x11);
	irq(12, 1);
	assert_int_equal(pic_ack(&F.pic), 0x2C);
	irq(8, 0);
	irq(8, 1);
	assert_int_equal(pic_ack(&F.pic), 0x28);
	assert_int_equal(read_isr(0xA0), 0x11);
}

static void test_auto_eoi(void **state)
{
	(void)state;
	linux_init(true);
	irq(1, 1);
	irq(4, 1);
	assert_int_equal(pic_ack(&F.pic), 0x21);
	assert_int_equal(read_isr(0x20), 0x00);
	assert_true(pic_intr_pending(&F.pic));  /* nothing in service */
	assert_int_equal(pic_ack(&F.pic), 0x24);
	/* Two slave requests, slave also AEOI: both come through. */
	outb(0xA0, 0x11);
	outb(0xA1, 0x28);
	outb(0xA1, 0x02);
	outb(0xA1, 0x03);
	irq(9, 1);
	irq(13, 1);
	assert_int_equal(pic_ack(&F.pic), 0x29);
	assert_int_equal(pic_ack(&F.pic), 0x2D);
	assert_false(pic_intr_pending(&F.pic));
	assert_int_equal(read_isr(0x20) | read_isr(0xA0), 0x00);
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void test_garbage(void **state)
{
	(void)state;
	static const uint16_t ports[] = { 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1 };
	for (int i = 0; i < 200000; i++) {
		uint32_t r = rnd();
		uint16_t port = ports[r % 6];
		switch ((r >> 4) % 5) {
		case 0:
			outb(port, (uint8_t)(r >> 12));
			break;
		case 1:
			(void)inb(port);
			break;
		case 2:
			irq((int)((r >> 12) % 20) - 2, (int)(r >> 20) & 1);
			break;
		case 3: {
			int v = pic_ack(&F.pic);
			assert_true(v >= -1 && v <= 255);
			break;
		}
		default: {
			uint8_t d[4] = { (uint8_t)r, (uint8_t)(r >> 8), 0, 0 };
			io_bus_access(&F.bus, port, d, 1 + (r >> 16) % 4, (r >> 22) & 1);
			break;
		}
		}
		assert_int_equal(pic_intr_pending(&F.pic), F.last_intr);
	}
	pic_set_irq(&F.pic, 1000, 1);
	pic_set_irq(&F.pic, -5, 1);
	/* still usable afterwards */
	pic_reset(&F.pic);
	linux_init(false);
	for (int i = 0; i < 16; i++)
		irq(i, 0);
	irq(3, 1);
	assert_int_equal(pic_ack(&F.pic), 0x23);
}

static void test_word_access(void **state)
{
	(void)state;
	linux_init(false);
	uint8_t d[2] = { 0x0B, 0x5A };  /* outw 0x20: OCW3 then IMR */
	io_bus_access(&F.bus, 0x20, d, 2, true);
	assert_int_equal(inb(0x21), 0x5A);
	uint8_t r[4];
	io_bus_access(&F.bus, 0x21, r, 4, false);
	assert_int_equal(r[0], 0x5A);
	assert_int_equal(r[1], 0xFF);
	assert_int_equal(r[3], 0xFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_init_sequence, setup),
		cmocka_unit_test_setup(test_mask_unmask, setup),
		cmocka_unit_test_setup(test_edge_vs_level, setup),
		cmocka_unit_test_setup(test_priority, setup),
		cmocka_unit_test_setup(test_eoi, setup),
		cmocka_unit_test_setup(test_spurious_irq7, setup),
		cmocka_unit_test_setup(test_spurious_irq15, setup),
		cmocka_unit_test_setup(test_ocw3_reads, setup),
		cmocka_unit_test_setup(test_cascade, setup),
		cmocka_unit_test_setup(test_auto_eoi, setup),
		cmocka_unit_test_setup(test_garbage, setup),
		cmocka_unit_test_setup(test_word_access, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
