#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "loader/e820.h"

static void layout_128m(void **state)
{
	(void)state;
	struct e820_map m;
	e820_build(&m, 128u << 20);
	assert_true(e820_is_ram(&m, 0, 0x9fc00));
	assert_false(e820_is_ram(&m, 0x9f000, 0x1000));    /* crosses into the EBDA */
	assert_false(e820_is_ram(&m, 0xa0000, 0x1000));    /* VGA hole */
	assert_false(e820_is_ram(&m, 0xff000, 0x2000));    /* BIOS area into RAM */
	assert_true(e820_is_ram(&m, 0x100000, (128u << 20) - 0x100000));
	assert_false(e820_is_ram(&m, (128u << 20) - 0x1000, 0x2000)); /* past the end */
	assert_false(e820_is_ram(&m, UINT64_MAX - 1, 4)); /* wraps */
	unsigned ram = 0, reserved = 0;
	for (unsigned i = 0; i < m.n; i++)
		if (m.e[i].type == E820_RAM)
			ram++;
		else
			reserved++;
	assert_int_equal(ram, 2);
	assert_int_equal(reserved, 5);
}

static void tiny_ram_has_no_high_entry(void **state)
{
	(void)state;
	struct e820_map m;
	e820_build(&m, 0x100000);
	assert_false(e820_is_ram(&m, 0x100000, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_128m),
		cmocka_unit_test(tiny_ram_has_no_high_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
