/* i8042 keyboard controller: controller commands, keyboard replies, IRQs,
 * reset requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/i8042.h"

static struct fx {
	struct io_bus bus;
	struct i8042 k;
	int level[16], rises[16];
	int resets;
} f;

static void irq_rec(void *opaque, int irq, int level)
{
	struct fx *x = opaque;
	assert_true(irq == 1 || irq == 12);
	if (level && !x->level[irq])
		x->rises[irq]++;
	x->level[irq] = level;
}

static void on_reset(void *opaque)
{
	((struct fx *)opaque)->resets++;
}

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	io_bus_init(&f.bus, "pio");
	i8042_init(&f.k, (struct irq_line){ irq_rec, &f, 1 },
		   (struct irq_line){ irq_rec, &f, 12 }, on_reset, &f);
	assert_int_equal(i8042_register(&f.k, &f.bus), 0);
	return 0;
}

static uint8_t in(uint16_t port)
{
	uint8_t d = 0;
	assert_true(io_bus_access(&f.bus, port, &d, 1, false));
	return d;
}

static void out(uint16_t port, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, port, &v, 1, true));
}

static void test_ports_claimed(void **state)
{
	(void)state;
	uint8_t d = 0;
	assert_false(io_bus_access(&f.bus, 0x61, &d, 1, false));
	assert_false(io_bus_access(&f.bus, 0x63, &d, 1, false));
	assert_int_equal(in(0x64), 0x14);  /* SYS | not inhibited, empty */
}

static void test_self_test(void **state)
{
	(void)state;
	out(0x64, 0x60);
	out(0x60, 0x00);  /* command byte without the system flag */
	assert_int_equal(in(0x64) & 0x0f, 0x00);
	out(0x64, 0xaa);
	assert_int_equal(in(0x64) & 0x2f, 0x0d);  /* OBF | SYS | A2 */
	assert_int_equal(in(0x60), 0x55);
	assert_int_equal(in(0x64) & 0x05, 0x04);  /* SYS stays, OBF gone */
	out(0x64, 0xab);
	assert_int_equal(in(0x60), 0x00);
	out(0x64, 0xa9);
	assert_int_equal(in(0x60), 0x00);
	assert_int_equal(f.rises[1], 0);  /* keyboard IRQ disabled throughout */
}

static void test_command_byte(void **state)
{
	(void)state;
	out(0x64, 0x20);
	assert_int_equal(in(0x64) & 0x01, 0x01);
	assert_int_equal(f.level[1], 1);  /* replies raise IRQ1 when enabled */
	assert_int_equal(in(0x60), 0x65);
	assert_int_equal(f.level[1], 0);
	out(0x64, 0x60);
	assert_int_equal(in(0x64) & 0x08, 0x08);  /* A2: command */
	out(0x60, 0x47);
	assert_int_equal(in(0x64) & 0x08, 0x00);  /* A2: data */
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x47);
	out(0x64, 0xa7);  /* aux disable sets bit 5 */
	out(0x64, 0xad);  /* kbd disable sets bit 4 */
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x77);
	out(0x64, 0xa8);
	out(0x64, 0xae);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x47);
	/* Controller RAM beyond byte 0 */
	out(0x64, 0x65);
	out(0x60, 0x99);
	out(0x64, 0x25);
	assert_int_equal(in(0x60), 0x99);
	/* Empty buffer: the last byte again, no IRQ */
	assert_int_equal(in(0x60), 0x99);
	assert_int_equal(f.level[1], 0);
}

static void test_output_port_reset(void **state)
{
	(void)state;
	out(0x64, 0xd0);
	assert_int_equal(in(0x60), 0x03);
	out(0x64, 0xd1);
	out(0x60, 0xdf);  /* A20 on, reset line high */
	assert_int_equal(f.resets, 0);
	out(0x64, 0xd0);
	assert_int_equal(in(0x60), 0xdf);
	out(0x64, 0xd1);
	out(0x60, 0xde);  /* bit 0 low: CPU reset */
	assert_int_equal(f.resets, 1);
}

static void test_pulse_reset(void **state)
{
	(void)state;
	out(0x64, 0xff);  /* pulses nothing */
	assert_int_equal(f.resets, 0);
	out(0x64, 0xfe);
	assert_int_equal(f.resets, 1);
	out(0x64, 0xf0);
	assert_int_equal(f.resets, 2);
	out(0x64, 0xfd);
	assert_int_equal(f.resets, 2);
}

static void test_keyboard_commands(void **state)
{
	(void)state;
	out(0x60, 0xff);
	assert_int_equal(f.rises[1], 1);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(f.rises[1], 2);  /* a fresh edge for the next byte */
	assert_int_equal(in(0x60), 0xaa);
	assert_int_equal(in(0x64) & 0x01, 0);
	assert_int_equal(f.level[1], 0);
	out(0x60, 0xf2);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(in(0x60), 0xab);
	assert_int_equal(in(0x60), 0x83);
	out(0x60, 0xed);
	assert_int_equal(in(0x60), 0xfa);
	out(0x60, 0x07);  /* LED argument, not a command */
	assert_int_equal(in(0x60), 0xfa);
	out(0x60, 0xf3);
	out(0x60, 0x20);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(in(0x60), 0xfa);
	out(0x60, 0xf0);
	out(0x60, 0x00);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(in(0x60), 0xfa);
	assert_int_equal(in(0x60), 0x02);
	out(0x60, 0xf4);
	assert_int_equal(in(0x60), 0xfa);
	out(0x60, 0x01);
	assert_int_equal(in(0x60), 0xfe);
	assert_int_equal(in(0x64) & 0x21, 0);
	assert_int_equal(f.rises[12], 0);
}

static void test_aux(void **state)
{
	(void)state;
	out(0x64, 0xd3);
	out(0x60, 0x5a);
	assert_int_equal(in(0x64) & 0x21, 0x21);  /* OBF | AUX */
	assert_int_equal(f.level[12], 0);        /* aux IRQ off by default */
	assert_int_equal(in(0x60), 0x5a);
	out(0x64, 0x60);
	out(0x60, 0x47);  /* both IRQs */
	out(0x64, 0xd3);
	out(0x60, 0xa5);
	assert_int_equal(f.level[12], 1);
	assert_int_equal(f.level[1], 0);
	assert_int_equal(in(0x60), 0xa5);
	assert_int_equal(f.level[12], 0);
	/* No mouse: a byte for it comes back as 0xFE with the timeout bit. */
	out(0x64, 0xd4);
	out(0x60, 0xff);
	assert_int_equal(in(0x64) & 0x61, 0x61);
	assert_int_equal(in(0x60), 0xfe);
	assert_int_equal(in(0x64) & 0x61, 0x00);
	/* D2 fakes keyboard data. */
	out(0x64, 0xd2);
	out(0x60, 0x1c);
	assert_int_equal(f.level[1], 1);
	assert_int_equal(in(0x64) & 0x21, 0x01);
	assert_int_equal(in(0x60), 0x1c);
}

static void test_queue_overflow_and_wide(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		out(0x60, 0xff);
	int n = 0;
	while (in(0x64) & 1) {
		(void)in(0x60);
		n++;
	}
	assert_int_equal(n, I8042_QUEUE);
	uint8_t d[4] = { 0xaa, 0x11, 0x22, 0x33 };
	assert_true(io_bus_access(&f.bus, 0x64, d, 4, true));
	memset(d, 0, sizeof(d));
	assert_true(io_bus_access(&f.bus, 0x60, d, 2, false));
	assert_int_equal(d[0], 0x55);
	assert_int_equal(d[1], 0xff);
	i8042_reset(&f.k);
	assert_int_equal(in(0x64), 0x14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ports_claimed, setup),
		cmocka_unit_test_setup(test_self_test, setup),
		cmocka_unit_test_setup(test_command_byte, setup),
		cmocka_unit_test_setup(test_output_port_reset, setup),
		cmocka_unit_test_setup(test_pulse_reset, setup),
		cmocka_unit_test_setup(test_keyboard_commands, setup),
		cmocka_unit_test_setup(test_aux, setup),
		cmocka_unit_test_setup(test_queue_overflow_and_wide, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
