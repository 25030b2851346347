/* The BIOS data area and EBDA, and the MP floating pointer found through
 * them by the MP specification's search (MP 1.4, 4.0) as xv6-style kernels
 * do it: EBDA first KiB, else the last KiB of base memory, then
 * 0xF0000-0xFFFFF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loader/bios_data.h"
#include "loader/e820.h"
#include "loader/mptable.h"

#define RAM (2u << 20)
static struct phys_mem M;
static struct e820_map map;

static int setup(void **state)
{
	(void)state;
	M.size = RAM;
	M.base = malloc(RAM);
	if (!M.base)
		return -1;
	memset(M.base, 0xAA, RAM);
	e820_build(&map, RAM);
	return 0;
}
static int teardown(void **state)
{
	(void)state;
	free(M.base);
	return 0;
}
static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void test_fields(void **state)
{
	(void)state;
	bios_data_write(&M, &map);
	const uint8_t *b = M.base;
	assert_int_equal(u16(b + 0x400), 0x3F8);              /* COM1 */
	for (unsigned p = 0x402; p < 0x40E; p += 2)
		assert_int_equal(u16(b + p), 0);               /* COM2-4, LPT1-3 */
	assert_int_equal(u16(b + 0x40E), 0x9FC0);              /* EBDA segment */
	assert_int_equal(u16(b + 0x410), 0x0206);              /* FPU, PS/2 mouse, 1 serial port */
	assert_int_equal(u16(b + 0x413), 639);                 /* base memory, KiB */
	/* the EBDA: its size byte, and it is the reserved E820 range */
	assert_int_equal(b[0x9FC00], 1);
	assert_int_equal(b[0x9FFFF], 0);
	assert_false(e820_is_ram(&map, 0x9FC00, 1));
	assert_true(e820_is_ram(&map, 0x9FBFF, 1));
	/* nothing else is touched */
	assert_int_equal(b[0x3FF], 0xAA);
	assert_int_equal(b[0x500], 0xAA);
	assert_int_equal(b[0x9FBFF], 0xAA);
	assert_int_equal(b[0xA0000], 0xAA);
}

/* Returns the address of a valid "_MP_" floating pointer in [a, a+len). */
static uint32_t mp_scan(uint32_t a, uint32_t len)
{
	for (uint32_t p = a; p + 16 <= a + len; p += 16) {
		const uint8_t *f = M.base + p;
		uint8_t s = 0;
		for (int i = 0; i < 16; i++)
			s = (uint8_t)(s + f[i]);
		if (!memcmp(f, "_MP_", 4) && s == 0)
			return p;
	}
	return 0;
}

static void test_mp_standard_search(void **state)
{
	(void)state;
	char err[200];
	bios_data_write(&M, &map);
	assert_int_equal(mptable_write(&M, err, sizeof(err)), 0);
	uint32_t ebda = (uint32_t)u16(M.base + 0x40E) << 4, found;
	/* the search never leaves RAM below 1 MiB: both areas are there */
	assert_true(ebda >= 0x80000 && ebda + 1024 <= 0xA0000);
	found = mp_scan(ebda, 1024);
	if (!found)
		found = mp_scan(0xF0000, 0x10000);
	assert_int_equal(found, MPTABLE_FP_ADDR);
	/* the same through the base memory size when there is no EBDA
	 * segment (the spec's second place, then the BIOS area) */
	uint32_t top = (uint32_t)u16(M.base + 0x413) * 1024;
	assert_true(top >= 1024 && top <= 0xA0000);
	found = mp_scan(top - 1024, 1024);
	if (!found)
		found = mp_scan(0xF0000, 0x10000);
	assert_int_equal(found, MPTABLE_FP_ADDR);
}

static void test_other_maps(void **state)
{
	(void)state;
	/* base memory up to the VGA window: no EBDA, segment 0, 640 KiB */
	struct e820_map m = { .n = 1, .e = { { 0, 0xA0000, E820_RAM } } };
	bios_data_write(&M, &m);
	assert_int_equal(u16(M.base + 0x40E), 0);
	assert_int_equal(u16(M.base + 0x413), 640);
	/* no RAM at 0: nothing written */
	memset(M.base, 0xAA, 0x1000);
	m.e[0].addr = 0x100000;
	bios_data_write(&M, &m);
	assert_int_equal(M.base[0x400], 0xAA);
	/* a RAM size smaller than the BDA: nothing written, no crash */
	struct phys_mem tiny = { M.base, 0x300 };
	bios_data_write(&tiny, &map);
	assert_int_equal(M.base[0x400], 0xAA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mp_standard_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_maps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
