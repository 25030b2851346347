/* isa-debug-exit (QEMU semantics) and the POST port 0x80. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/debug_exit.h"
#include "devices/port80.h"

static struct fx {
	struct io_bus bus;
	struct debug_exit d;
	int calls, status;
} f;

static void on_exit_rec(void *opaque, int status)
{
	struct fx *x = opaque;
	x->calls++;
	x->status = status;
}

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	io_bus_init(&f.bus, "pio");
	debug_exit_init(&f.d, on_exit_rec, &f);
	assert_int_equal(debug_exit_register(&f.d, &f.bus, 0xf4, 4), 0);
	return 0;
}

static int write_status(uint16_t port, uint32_t v, unsigned len)
{
	uint8_t d[4];
	io_data_put(d, 4, v);  /* bytes above len are junk the device must ignore */
	int before = f.calls;
	assert_true(io_bus_access(&f.bus, port, d, len, true));
	assert_int_equal(f.calls, before + 1);
	return f.status;
}

static void test_values(void **state)
{
	(void)state;
	assert_int_equal(write_status(0xf4, 0, 1), 1);
	assert_int_equal(write_status(0xf4, 5, 1), 11);
	assert_int_equal(write_status(0xf4, 0x10, 4), 0x21);
	assert_int_equal(write_status(0xf7, 1, 1), 3);  /* the offset is ignored */
}

static void test_width_mask(void **state)
{
	(void)state;
	assert_int_equal(write_status(0xf4, 0xdead0105, 1), 0x0b);
	assert_int_equal(write_status(0xf4, 0xdead0105, 2), 0x020b);
	assert_int_equal(write_status(0xf4, 0x12345678, 4), 0x2468acf1);
	/* (v << 1) | 1 as an int, as QEMU hands it to exit() */
	assert_int_equal(write_status(0xf4, 0xffffffff, 4), -1);
	assert_int_equal(write_status(0xf4, 0x80000000, 4), 1);
}

static void test_read_and_register(void **state)
{
	(void)state;
	uint8_t d[4] = { 0xff, 0xff, 0xff, 0xff };
	assert_true(io_bus_access(&f.bus, 0xf4, d, 4, false));
	assert_int_equal(io_data_get(d, 4), 0);
	assert_int_equal(f.calls, 0);
	struct debug_exit other;
	debug_exit_init(&other, on_exit_rec, &f);
	assert_int_equal(debug_exit_register(&other, &f.bus, 0xf6, 2), -1);  /* overlap */
	assert_int_equal(debug_exit_register(&other, &f.bus, 0x501, 0), -1);
	assert_int_equal(debug_exit_register(&other, &f.bus, 0xffff, 2), -1);
	assert_int_equal(debug_exit_register(&other, &f.bus, 0x501, 2), 0);
	debug_exit_init(&other, NULL, NULL);  /* no callback: harmless */
	d[0] = 7;
	assert_true(io_bus_access(&f.bus, 0x501, d, 1, true));
	assert_int_equal(f.calls, 0);
}

static void test_port80(void **state)
{
	(void)state;
	assert_int_equal(port80_register(&f.bus), 0);
	assert_int_equal(port80_register(&f.bus), -1);
	uint8_t d[4] = { 0x42, 0x42, 0x42, 0x42 };
	assert_true(io_bus_access(&f.bus, 0x80, d, 1, true));
	assert_true(io_bus_access(&f.bus, 0x80, d, 1, false));
	assert_int_equal(d[0], 0);
	memset(d, 0xee, sizeof(d));
	assert_true(io_bus_access(&f.bus, 0x80, d, 4, false));
	assert_int_equal(io_data_get(d, 4), 0);
	assert_int_equal(f.bus.unhandled_reads, 0);
	assert_int_equal(f.bus.unhandled_writes, 0);
	assert_int_equal(f.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_values, setup),
		cmocka_unit_test_setup(test_width_mask, setup),
		cmocka_unit_test_setup(test_read_and_register, setup),
		cmocka_unit_test_setup(test_port80, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
