/* bt/direct_scan.c's code-page scan and bt/ldt.c's descriptor conversion: what
 * decides that guest user code may run on the CPU, and how its segments
 * look in the host LDT. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <asm/ldt.h>
#include <string.h>
#include "bt/bt.h"

static uint8_t page[4096], next[4096];

static void fill_clean(void)
{
	/* an ordinary compute loop, repeated: mov/shl/xor/add/dec/jnz */
	static const uint8_t loop[] = { 0x89, 0xc3, 0xc1, 0xe3, 0x0d, 0x31, 0xd8, 0x01, 0xc2, 0x49, 0x75, 0xf4 };
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = loop[i % sizeof(loop)];
	memset(next, 0x90, sizeof(next));
}

/* a NOP sled with one instruction at 1000 */
static void put(const uint8_t *insn, size_t n)
{
	memset(page, 0x90, sizeof(page));
	memset(next, 0x90, sizeof(next));
	memcpy(page + 1000, insn, n);
}

static void clean_page_runs(void **state)
{
	(void)state;
	fill_clean();
	assert_int_equal(bt_direct_scan_page(page, NULL, next), 0);
	/* 4096 = 341 loops + 4 bytes: the SHL at the end is cut off, and
	 * its opcode alone says it is harmless */
	assert_int_equal(bt_direct_scan_page(page, NULL, NULL), DXS_PARTIAL);
}

#define SCAN(...) ({ static const uint8_t i_[] = { __VA_ARGS__ }; put(i_, sizeof(i_)); bt_direct_scan_page(page, NULL, next); })

static void sensitive_instructions(void **state)
{
	(void)state;
	assert_int_equal(SCAN(0x8C, 0xD8), DXS_SEGMENT);               /* mov %ds,%eax */
	assert_int_equal(SCAN(0x8E, 0xE8), DXS_SEGLOAD);               /* mov %eax,%gs */
	assert_int_equal(SCAN(0x8E, 0xD0), DXS_SEGMENT);               /* mov %eax,%ss */
	assert_int_equal(SCAN(0x1E), DXS_SEGMENT);                     /* push %ds */
	assert_int_equal(SCAN(0x07), DXS_SEGLOAD);                     /* pop %es */
	assert_int_equal(SCAN(0x17), DXS_SEGMENT);                     /* pop %ss */
	assert_int_equal(SCAN(0x0F, 0xA8), DXS_SEGMENT);               /* push %gs */
	assert_int_equal(SCAN(0x0F, 0xA9), DXS_SEGLOAD);               /* pop %gs */
	assert_int_equal(SCAN(0x0F, 0xB4, 0x03), DXS_SEGLOAD);         /* lfs (%ebx),%eax */
	assert_int_equal(SCAN(0x0F, 0xB2, 0x03), DXS_SEGMENT);         /* lss (%ebx),%eax */
	assert_int_equal(SCAN(0xC5, 0x03), DXS_SEGLOAD);               /* lds (%ebx),%eax */
	assert_int_equal(SCAN(0xFF, 0x1B), DXS_SEGMENT);               /* lcall *(%ebx) */
	assert_int_equal(SCAN(0xFF, 0x2B), DXS_SEGMENT);               /* ljmp *(%ebx) */
	assert_int_equal(SCAN(0xEA, 1, 0, 0, 0, 0x73, 0), DXS_SEGMENT);/* ljmp $0x73,$1 */
	assert_int_equal(SCAN(0xCB), DXS_SEGMENT);                     /* lret */
	assert_int_equal(SCAN(0xCF), DXS_SEGMENT);                     /* iret */
	assert_int_equal(SCAN(0x0F, 0x01, 0x03), DXS_SYSTEM);          /* sgdt (%ebx) */
	assert_int_equal(SCAN(0x0F, 0x01, 0xE0), DXS_SYSTEM);          /* smsw %eax */
	assert_int_equal(SCAN(0x0F, 0x00, 0xC8), DXS_SYSTEM);          /* str %eax */
	assert_int_equal(SCAN(0x0F, 0x03, 0xC3), DXS_SYSTEM);          /* lsl %ebx,%eax */
	assert_int_equal(SCAN(0x0F, 0x34), DXS_SYSTEM);                /* sysenter */
	assert_int_equal(SCAN(0x0F, 0x33), DXS_SYSTEM);                /* rdpmc */
	assert_int_equal(SCAN(0x0F, 0x31), DXS_RDTSC);
	assert_int_equal(SCAN(0x0F, 0xA2), DXS_CPUID);
}

static void bytes_inside_instructions_do_not_count(void **state)
{
	(void)state;
	assert_int_equal(SCAN(0xB8, 0x8C, 0x8E, 0x0F, 0x01), 0);       /* mov $0x010f8e8c,%eax */
	assert_int_equal(SCAN(0x0F, 0x8C, 0x10, 0, 0, 0), 0);          /* jl rel32 */
	assert_int_equal(SCAN(0x8B, 0x83, 0x0F, 0x00, 0x8E, 0x1E), 0); /* mov 0x1e8e000f(%ebx),%eax */
	assert_int_equal(SCAN(0xFF, 0xD0), 0);                         /* call *%eax */
	assert_int_equal(SCAN(0xFF, 0x13), 0);                         /* call *(%ebx) */
	assert_int_equal(SCAN(0x0F, 0xAF, 0xC3), 0);                   /* imul %ebx,%eax */
	assert_int_equal(SCAN(0xCD, 0x80), 0);                         /* int $0x80: a trap, exact */
	assert_int_equal(SCAN(0xFA), 0);                               /* cli: #GP natively, exact */
}

static void page_boundary(void **state)
{
	(void)state;
	memset(page, 0x90, sizeof(page));
	page[4094] = 0x0F;
	page[4095] = 0x01;            /* 0F 01 | D0: xgetbv across the boundary */
	memset(next, 0x90, sizeof(next));
	next[0] = 0xD0;
	assert_int_equal(bt_direct_scan_page(page, NULL, next), DXS_SYSTEM);
	page[4095] = 0xAF;            /* 0F AF | C0: imul */
	next[0] = 0xC0;
	assert_int_equal(bt_direct_scan_page(page, NULL, next), 0);
	/* next page unknown: the cut instruction is judged by its opcode */
	assert_int_equal(bt_direct_scan_page(page, NULL, NULL),
			 DXS_PARTIAL | (DXS_SEGMENT | DXS_SYSTEM | DXS_RDTSC | DXS_CPUID) << DXS_TAIL_SHIFT);
	page[4094] = 0x90;
	page[4095] = 0xB8;            /* mov $imm32,%eax */
	assert_int_equal(bt_direct_scan_page(page, NULL, NULL), DXS_PARTIAL);
	page[4095] = 0x66;            /* a prefix: anything may follow */
	assert_int_equal(bt_direct_scan_page(page, NULL, NULL) & (DXS_SEGMENT << DXS_TAIL_SHIFT),
			 DXS_SEGMENT << DXS_TAIL_SHIFT);
}

/* An instruction that starts on the previous page and ends on this one:
 * its tail is not an instruction of this page. */
static void tail_of_the_previous_page(void **state)
{
	(void)state;
	static uint8_t prev[4096];
	memset(prev, 0x90, sizeof(prev));
	memset(page, 0x90, sizeof(page));
	memset(next, 0x90, sizeof(next));
	/* mov $0x..., %eax whose last byte is CF (IRET) on this page */
	prev[4092] = 0xB8; prev[4093] = 0x11; prev[4094] = 0x22; prev[4095] = 0x33;
	page[0] = 0xCF;
	assert_int_equal(bt_direct_scan_page(page, NULL, next), DXS_SEGMENT);  /* without the lead-in: wrong */
	assert_int_equal(bt_direct_scan_page(page, prev, next), 0);
	/* a real IRET right after it still counts */
	page[1] = 0xCF;
	assert_int_equal(bt_direct_scan_page(page, prev, next), DXS_SEGMENT);
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
		cmocka_unit_test(sensitive_instructions),
		cmocka_unit_test(bytes_inside_instructions_do_not_count),
		cmocka_unit_test(page_boundary),
		cmocka_unit_test(tail_of_the_previous_page),
		cmocka_unit_test(ldt_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
