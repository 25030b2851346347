/* The MP tables parsed back as an OS would find them (MP spec 1.4,
 * chapter 4): search for "_MP_", check both checksums, walk the entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loader/e820.h"
#include "loader/mptable.h"

#define RAM (2u << 20)
static struct phys_mem M;

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}
static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int setup(void **state)
{
	(void)state;
	M.size = RAM;
	M.base = calloc(1, RAM);
	return M.base ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	free(M.base);
	return 0;
}

static void test_tables(void **state)
{
	(void)state;
	char err[200];
	assert_int_equal(mptable_write(&M, err, sizeof(err)), 0);
	/* 4.0: the floating pointer on a 16-byte boundary in 0xF0000-0xFFFFF. */
	const uint8_t *fp = NULL;
	for (uint32_t a = 0xF0000; a < 0x100000; a += 16)
		if (!memcmp(M.base + a, "_MP_", 4))
			fp = M.base + a;
	assert_non_null(fp);
	assert_int_equal(fp[8], 1);
	assert_int_equal(sum(fp, 16), 0);
	assert_int_equal(fp[9], 4);
	assert_int_equal(fp[11], 0);
	assert_int_equal(fp[12] & 0x80, 0);          /* virtual wire */
	uint32_t cfg = u32(fp + 4);
	assert_true(cfg >= 0xF0000 && cfg < 0x100000);
	const uint8_t *ct = M.base + cfg;
	assert_memory_equal(ct, "PCMP", 4);
	uint16_t len = u16(ct + 4);
	assert_int_equal(sum(ct, len), 0);
	assert_int_equal(ct[6], 4);
	assert_int_equal(u32(ct + 36), 0xFEE00000);

	int cpus = 0, isa = -1, ioapic = -1, extint = 0, nmi = 0;
	int pin[16], flags[16];
	for (int i = 0; i < 16; i++)
		pin[i] = -1, flags[i] = -1;
	const uint8_t *e = ct + 44;
	for (unsigned n = 0; n < u16(ct + 34); n++) {
		assert_true(e < ct + len);
		switch (e[0]) {
		case 0:
			cpus++;
			assert_int_equal(e[1], 0);
			assert_int_equal(e[2], 0x14);
			assert_int_equal(e[3], 3);           /* enabled, BSP */
			assert_true(u32(e + 8) & (1u << 9)); /* APIC feature */
			e += 20;
			continue;
		case 1:
			assert_memory_equal(e + 2, "ISA   ", 6);
			isa = e[1];
			break;
		case 2:
			ioapic = e[1];
			assert_int_equal(e[2], 0x11);
			assert_int_equal(e[3], 1);
			assert_int_equal(u32(e + 4), 0xFEC00000);
			break;
		case 3:
			assert_int_equal(e[1], 0);           /* INT */
			assert_int_equal(e[4], isa);
			assert_int_equal(e[6], ioapic);
			assert_int_equal(pin[e[5]], -1);     /* one entry per IRQ */
			pin[e[5]] = e[7];
			flags[e[5]] = u16(e + 2);
			break;
		case 4:
			if (e[1] == 3 && e[6] == 0 && e[7] == 0)
				extint = 1;
			if (e[1] == 1 && e[6] == 0xFF && e[7] == 1)
				nmi = 1;
			break;
		default:
			fail_msg("unknown entry type %d", e[0]);
		}
		e += 8;
	}
	assert_ptr_equal(e, ct + len);
	assert_int_equal(cpus, 1);
	assert_int_equal(pin[0], 2);
	assert_int_equal(pin[2], -1);
	for (int i = 1; i < 16; i++)
		if (i != 2)
			assert_int_equal(pin[i], i);
	assert_int_equal(flags[9], 0x0D);                /* SCI: level, active high */
	assert_int_equal(flags[4], 0);
	assert_true(extint && nmi);
}

/* The guest must not take the table area for free RAM: it lies in a
 * reserved E820 entry for every RAM size. */
static void test_e820_reserved(void **state)
{
	(void)state;
	uint64_t sizes[] = { BTVM_MIN_RAM, 128ull << 20, BTVM_MAX_RAM };
	for (unsigned i = 0; i < 3; i++) {
		struct e820_map m;
		e820_build(&m, sizes[i]);
		int covered = 0;
		for (unsigned j = 0; j < m.n; j++)
			if (m.e[j].type == E820_RESERVED && m.e[j].addr <= MPTABLE_FP_ADDR &&
			    m.e[j].addr + m.e[j].size >= MPTABLE_CFG_ADDR + MPTABLE_MAX_SIZE)
				covered = 1;
		assert_true(covered);
		assert_false(e820_is_ram(&m, MPTABLE_FP_ADDR, 1));
	}
}

static void test_no_ram(void **state)
{
	(void)state;
	struct phys_mem small = { M.base, 0x80000 };
	char err[200];
	assert_int_equal(mptable_write(&small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not in guest RAM"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ram, setup, teardown),
		cmocka_unit_test(test_e820_reserved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
