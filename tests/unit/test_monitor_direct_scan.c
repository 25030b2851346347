/* bt/direct.c's code-page scan and bt/ldt.c's descriptor conversion: what
 * decides that guest user code may run on the CPU, and how its segments
 * look in the host LDT. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <asm/ldt.h>
#include <string.h>
#include "bt/bt.h"

static uint8_t page[4096];

static void fill_clean(void)
{
	/* an ordinary compute loop, repeated: mov/shl/xor/add/dec/jnz */
	static const uint8_t loop[] = { 0x89, 0xc3, 0xc1, 0xe3, 0x0d, 0x31, 0xd8, 0x01, 0xc2, 0x49, 0x75, 0xf4 };
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = loop[i % sizeof(loop)];
}

static void clean_page_runs(void **state)
{
	(void)state;
	fill_clean();
	assert_false(bt_direct_page_sensitive(page, 0x90));
	assert_false(bt_direct_page_sensitive(page, -1));
}

static void sensitive_bytes_refuse(void **state)
{
	(void)state;
	static const uint8_t one[] = { 0x8C, 0x8E };
	for (size_t k = 0; k < sizeof(one); k++) {
		fill_clean();
		page[1000] = one[k];
		assert_true(bt_direct_page_sensitive(page, 0x90));
	}
	static const uint8_t two[] = { 0x00, 0x01, 0x02, 0x03, 0x31, 0x33, 0x34, 0x35, 0xA0, 0xA1, 0xA2,
				       0xA8, 0xA9, 0xB2, 0xB4, 0xB5 };
	for (size_t k = 0; k < sizeof(two); k++) {
		fill_clean();
		page[2000] = 0x0F;
		page[2001] = two[k];
		assert_true(bt_direct_page_sensitive(page, 0x90));
	}
	/* other two-byte opcodes (here 0F AF imul, 0F B6 movzx) are fine */
	fill_clean();
	page[10] = 0x0F; page[11] = 0xAF;
	page[20] = 0x0F; page[21] = 0xB6;
	assert_false(bt_direct_page_sensitive(page, 0x90));
}

static void page_boundary(void **state)
{
	(void)state;
	fill_clean();
	page[4095] = 0x0F;
	assert_true(bt_direct_page_sensitive(page, 0x01));   /* 0F | 01: SGDT & co. */
	assert_false(bt_direct_page_sensitive(page, 0xAF));  /* 0F | AF: IMUL */
	assert_true(bt_direct_page_sensitive(page, -1));     /* next page unknown */
}

static void ldt_descriptors(void **state)
{
	(void)state;
	struct user_desc u;
	/* flat 4 GiB DPL3 code, 32-bit, G: attr = access 0xFB, byte-6 flags 0xC0 */
	struct seg code = { 0x1b, 0, 0xffffffff, 0xc0fb };
	assert_int_equal(bt_ldt_desc(&code, 3, &u), 0);
	assert_int_equal(u.entry_number, 3);
	assert_int_equal(u.base_addr, 0);
	assert_int_equal(u.limit, 0xfffff);
	assert_int_equal(u.limit_in_pages, 1);
	assert_int_equal(u.seg_32bit, 1);
	assert_int_equal(u.contents, MODIFY_LDT_CONTENTS_CODE);
	assert_int_equal(u.read_exec_only, 0);
	/* byte-granular read-only data at 0x1000, limit 0xfff */
	struct seg data = { 0x2b, 0x1000, 0xfff, 0x40f1 };
	assert_int_equal(bt_ldt_desc(&data, 5, &u), 0);
	assert_int_equal(u.base_addr, 0x1000);
	assert_int_equal(u.limit, 0xfff);
	assert_int_equal(u.limit_in_pages, 0);
	assert_int_equal(u.contents, MODIFY_LDT_CONTENTS_DATA);
	assert_int_equal(u.read_exec_only, 1);
	/* expand-down data */
	struct seg stack = { 0x33, 0, 0xffff, 0x40f7 };
	assert_int_equal(bt_ldt_desc(&stack, 6, &u), 0);
	assert_int_equal(u.contents, MODIFY_LDT_CONTENTS_STACK);
	/* conforming code, not-present and system descriptors: not expressible */
	struct seg conf = { 0x1b, 0, 0xffffffff, 0xc0ff };
	assert_int_equal(bt_ldt_desc(&conf, 3, &u), -1);
	struct seg np = { 0x23, 0, 0xffffffff, 0xc073 };
	assert_int_equal(bt_ldt_desc(&np, 4, &u), -1);
	struct seg tss = { 0x28, 0, 0x67, 0x008b };
	assert_int_equal(bt_ldt_desc(&tss, 5, &u), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_page_runs),
		cmocka_unit_test(sensitive_bytes_refuse),
		cmocka_unit_test(page_boundary),
		cmocka_unit_test(ldt_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
