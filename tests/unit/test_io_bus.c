#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "devices/io_bus.h"

struct probe { uint64_t off; unsigned len; bool write; uint32_t val; int calls; };

static void handler(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct probe *p = opaque;
	p->off = off;
	p->len = len;
	p->write = is_write;
	p->calls++;
	if (is_write)
		p->val = io_data_get(data, len);
	else
		io_data_put(data, len, 0x11223344);
}

static void dispatch_by_offset(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe p = { 0 };
	io_bus_init(&bus, "pio");
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, handler, &p, "uart"), 0);
	uint8_t d[4] = { 0xab, 0xcd, 0, 0 };
	assert_true(io_bus_access(&bus, 0x3fb, d, 2, true));
	assert_int_equal(p.off, 3);
	assert_int_equal(p.len, 2);
	assert_true(p.write);
	assert_int_equal(p.val, 0xcdab);
	assert_true(io_bus_access(&bus, 0x3f8, d, 4, false));
	assert_int_equal(io_data_get(d, 4), 0x11223344);
}

static void unclaimed_reads_all_ones_and_counts(void **state)
{
	(void)state;
	struct io_bus bus;
	io_bus_init(&bus, "pio");
	uint8_t d[4] = { 0 };
	assert_false(io_bus_access(&bus, 0x1234, d, 4, false));
	assert_int_equal(io_data_get(d, 4), 0xffffffff);
	assert_false(io_bus_access(&bus, 0x1234, d, 1, true));
	assert_int_equal(bus.unhandled_reads, 1);
	assert_int_equal(bus.unhandled_writes, 1);
}

static void overlap_rejected(void **state)
{
	(void)state;
	struct io_bus bus;
	struct probe p;
	io_bus_init(&bus, "pio");
	assert_int_equal(io_bus_register(&bus, 0x20, 2, handler, &p, "a"), 0);
	assert_int_equal(io_bus_register(&bus, 0x21, 1, handler, &p, "b"), -1);
	assert_int_equal(io_bus_register(&bus, 0x1f, 2, handler, &p, "c"), -1);
	assert_int_equal(io_bus_register(&bus, 0x22, 1, handler, &p, "d"), 0);
	assert_int_equal(io_bus_register(&bus, 0x30, 0, handler, &p, "empty"), -1);
	assert_int_equal(io_bus_register(&bus, UINT64_MAX, 2, handler, &p, "wrap"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dispatch_by_offset),
		cmocka_unit_test(unclaimed_reads_all_ones_and_counts),
		cmocka_unit_test(overlap_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
