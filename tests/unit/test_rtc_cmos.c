/* MC146818 RTC/CMOS on a manual clock with an injected wall clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/rtc_cmos.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define WALL 1709991956  /* 2024-03-09 13:45:56 UTC, a Saturday */

static struct fx {
	struct io_bus bus;
	struct timer_queue tq;
	struct rtc_cmos r;
	int level, rises;
} f;

static void irq_rec(void *opaque, int irq, int level)
{
	struct fx *x = opaque;
	assert_int_equal(irq, 8);
	if (level && !x->level)
		x->rises++;
	x->level = level;
}

static int64_t wall(void *opaque)
{
	assert_ptr_equal(opaque, &f);
	return WALL;
}

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	io_bus_init(&f.bus, "pio");
	timerq_init_manual(&f.tq, 5000 * SEC);
	rtc_init(&f.r, &f.tq, (struct irq_line){ irq_rec, &f, 8 }, wall, &f);
	assert_int_equal(rtc_register(&f.r, &f.bus), 0);
	return 0;
}

static uint8_t rd(uint8_t idx)
{
	uint8_t d = idx;
	assert_true(io_bus_access(&f.bus, 0x70, &d, 1, true));
	assert_true(io_bus_access(&f.bus, 0x71, &d, 1, false));
	return d;
}

static void wr(uint8_t idx, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, 0x70, &idx, 1, true));
	assert_true(io_bus_access(&f.bus, 0x71, &v, 1, true));
}

static void expect_time(const uint8_t want[8])
{
	static const uint8_t regs[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
	for (int i = 0; i < 8; i++)
		assert_int_equal(rd(regs[i]), want[i]);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(rd(0x0a), 0x26);
	assert_int_equal(rd(0x0b), 0x02);
	assert_int_equal(rd(0x0c), 0x00);
	assert_int_equal(rd(0x0d), 0x80);
	uint8_t d = 0;
	assert_true(io_bus_access(&f.bus, 0x70, &d, 1, false));
	assert_int_equal(d, 0xff);  /* the index port is write-only */
}

static void test_bcd_and_binary(void **state)
{
	(void)state;
	expect_time((const uint8_t[]){ 0x56, 0x45, 0x13, 0x07, 0x09, 0x03, 0x24, 0x20 });
	wr(0x0b, 0x06);  /* binary, 24 h */
	expect_time((const uint8_t[]){ 56, 45, 13, 7, 9, 3, 24, 20 });
	timerq_advance(&f.tq, 5 * SEC);  /* 13:46:01 */
	expect_time((const uint8_t[]){ 1, 46, 13, 7, 9, 3, 24, 20 });
}

static void test_12_hour(void **state)
{
	(void)state;
	wr(0x0b, 0x00);  /* BCD, 12 h */
	assert_int_equal(rd(0x04), 0x81);  /* 1 PM */
	wr(0x0b, 0x04);  /* binary, 12 h */
	assert_int_equal(rd(0x04), 0x81);
	/* Midnight and noon: 12 AM = 0x12, 12 PM = 0x92. */
	wr(0x0b, 0x80);  /* SET, BCD, 12 h */
	wr(0x04, 0x12);
	wr(0x02, 0x30);
	wr(0x0b, 0x00);
	assert_int_equal(rd(0x04), 0x12);
	wr(0x0b, 0x02);  /* 24 h: 00:30 */
	assert_int_equal(rd(0x04), 0x00);
	assert_int_equal(rd(0x02), 0x30);
	wr(0x0b, 0x80);
	wr(0x04, 0x92);
	wr(0x0b, 0x00);
	assert_int_equal(rd(0x04), 0x92);
	wr(0x0b, 0x02);  /* 24 h: 12:30 */
	assert_int_equal(rd(0x04), 0x12);
}

static void test_reg_c_clears_and_lowers_irq(void **state)
{
	(void)state;
	wr(0x0a, 0x20);  /* periodic off: keep PF out of C */
	wr(0x0b, 0x12);  /* UIE */
	assert_int_equal(f.level, 0);
	timerq_advance(&f.tq, SEC - 1);
	assert_int_equal(f.level, 0);
	timerq_advance(&f.tq, 1);  /* the second boundary */
	assert_int_equal(f.level, 1);
	assert_int_equal(rd(0x0c), 0x90);  /* IRQF | UF */
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(0x0c), 0x00);
	timerq_advance(&f.tq, 3 * SEC);  /* unread flags do not pile up edges */
	assert_int_equal(f.rises, 2);
	assert_int_equal(rd(0x0c), 0x90);
	/* Writing C does nothing; clearing UIE with UF pending drops IRQF. */
	timerq_advance(&f.tq, SEC);
	assert_int_equal(f.level, 1);
	wr(0x0c, 0x00);
	assert_int_equal(f.level, 1);
	wr(0x0b, 0x02);
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(0x0c), 0x10);
}

static unsigned count_periodic(unsigned steps, uint64_t step_ns)
{
	unsigned pf = 0;
	for (unsigned i = 0; i < steps; i++) {
		timerq_advance(&f.tq, step_ns);
		if (rd(0x0c) & 0x40)
			pf++;
	}
	return pf;
}

static void test_periodic_1024hz(void **state)
{
	(void)state;
	wr(0x0a, 0x26);
	wr(0x0b, 0x42);  /* PIE */
	unsigned pf = count_periodic(10000, 100000);  /* 1 s in 100 us steps */
	assert_int_equal(pf, 1024);
	assert_int_equal(f.rises, 1024);
	/* Rate 15 = 2 Hz; rate 1 behaves as 256 Hz; rate 0 is off. */
	wr(0x0a, 0x2f);
	assert_int_equal(count_periodic(100, 10 * MS), 2);
	wr(0x0a, 0x21);
	assert_int_equal(count_periodic(1000, MS), 256);
	wr(0x0a, 0x20);
	assert_int_equal(count_periodic(100, 10 * MS), 0);
	assert_int_equal(timerq_next_deadline(&f.tq), VTIME_NEVER);
}

static void test_periodic_flag_without_pie(void **state)
{
	(void)state;
	timerq_advance(&f.tq, 2 * MS);
	assert_int_equal(rd(0x0c), 0x40);  /* PF without PIE: no IRQF */
	assert_int_equal(f.level, 0);
	assert_int_equal(timerq_next_deadline(&f.tq), VTIME_NEVER);
}

static void test_uip(void **state)
{
	(void)state;
	timerq_advance(&f.tq, 999700 * 1000ull);  /* 300 us before the boundary */
	assert_int_equal(rd(0x0a), 0x26);
	timerq_advance(&f.tq, 100000);            /* 200 us before */
	assert_int_equal(rd(0x0a), 0xa6);
	assert_int_equal(rd(0x00), 0x56);          /* not yet updated */
	timerq_advance(&f.tq, 200000);            /* the boundary */
	assert_int_equal(rd(0x0a), 0x26);
	assert_int_equal(rd(0x00), 0x57);
	timerq_advance(&f.tq, SEC - 100000);      /* 100 us before */
	assert_int_equal(rd(0x0a), 0xa6);
	wr(0x0b, 0x82);                           /* SET: no update, no UIP */
	assert_int_equal(rd(0x0a), 0x26);
	wr(0x0a, 0xa5);                           /* UIP is read-only */
	assert_int_equal(rd(0x0a), 0x25);
}

static void test_nmi_bit(void **state)
{
	(void)state;
	assert_false(rtc_nmi_masked(&f.r));
	uint8_t d = 0x8d;
	assert_true(io_bus_access(&f.bus, 0x70, &d, 1, true));
	assert_true(rtc_nmi_masked(&f.r));
	assert_true(io_bus_access(&f.bus, 0x71, &d, 1, false));
	assert_int_equal(d, 0x80);  /* register D, the index without bit 7 */
	d = 0x0d;
	assert_true(io_bus_access(&f.bus, 0x70, &d, 1, true));
	assert_false(rtc_nmi_masked(&f.r));
	/* outw 0x70: index then data in one access */
	uint8_t w[2] = { 0x40, 0x77 };
	assert_true(io_bus_access(&f.bus, 0x70, w, 2, true));
	assert_int_equal(rd(0x40), 0x77);
}

static void test_mem_size(void **state)
{
	(void)state;
	rtc_set_mem_size(&f.r, 32ull << 20);
	assert_int_equal(rd(0x15), 0x80);  /* 640 KiB */
	assert_int_equal(rd(0x16), 0x02);
	assert_int_equal(rd(0x17), 0x00);  /* 31 MiB = 0x7C00 KiB */
	assert_int_equal(rd(0x18), 0x7c);
	assert_int_equal(rd(0x30), 0x00);
	assert_int_equal(rd(0x31), 0x7c);
	assert_int_equal(rd(0x34), 0x00);  /* 16 MiB / 64 KiB = 0x0100 */
	assert_int_equal(rd(0x35), 0x01);
	unsigned sum = 0;
	for (uint8_t i = 0x10; i <= 0x2d; i++)
		sum += rd(i);
	assert_int_equal(rd(0x2e) << 8 | rd(0x2f), sum);
	rtc_set_mem_size(&f.r, 16ull << 20);
	assert_int_equal(rd(0x34), 0x00);
	assert_int_equal(rd(0x35), 0x00);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 15 * 1024);
	rtc_set_mem_size(&f.r, 128ull << 20);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 0xffff);  /* capped */
	assert_int_equal(rd(0x30) | rd(0x31) << 8, 0xffff);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0x0700);
	rtc_set_mem_size(&f.r, 4ull << 30);
	assert_int_equal(rd(0x30) | rd(0x31) << 8, 0xffff);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0xff00);
	rtc_set_mem_size(&f.r, 512ull << 10);
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 512);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 0);
}

static void test_set_time_advances(void **state)
{
	(void)state;
	wr(0x0a, 0x20);  /* periodic off: keep PF out of C */
	wr(0x0b, 0x82);  /* SET */
	wr(0x00, 0x58);
	wr(0x02, 0x59);
	wr(0x04, 0x23);
	wr(0x07, 0x31);
	wr(0x08, 0x12);
	wr(0x09, 0x99);
	wr(0x32, 0x19);
	timerq_advance(&f.tq, 10 * SEC);  /* frozen while SET */
	expect_time((const uint8_t[]){ 0x58, 0x59, 0x23, 0x07, 0x31, 0x12, 0x99, 0x19 });
	wr(0x0b, 0x02);
	expect_time((const uint8_t[]){ 0x58, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19 });
	timerq_advance(&f.tq, 3 * SEC);
	/* 2000-01-01 00:00:01, a Saturday */
	expect_time((const uint8_t[]){ 0x01, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* UF, and AF: the alarm bytes are 00:00:00, just passed; no IRQF */
	assert_int_equal(rd(0x0c), 0x30);
	/* A write without SET moves the clock too. */
	wr(0x02, 0x42);
	timerq_advance(&f.tq, SEC);
	expect_time((const uint8_t[]){ 0x02, 0x42, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* Setting SET clears UIE. */
	wr(0x0b, 0x92);
	assert_int_equal(rd(0x0b), 0x82);
}

static void test_alarm(void **state)
{
	(void)state;
	wr(0x0a, 0x20);  /* periodic off: keep PF out of C */
	wr(0x01, 0x58);  /* hh:mm:58, any minute and hour */
	wr(0x03, 0xc0);
	wr(0x05, 0xff);
	wr(0x0b, 0x22);  /* AIE */
	(void)rd(0x0c);
	timerq_advance(&f.tq, SEC);  /* :57 */
	assert_int_equal(f.level, 0);
	timerq_advance(&f.tq, SEC);  /* :58 */
	assert_int_equal(f.level, 1);
	assert_int_equal(rd(0x0c), 0xb0);  /* IRQF | AF | UF */
	assert_int_equal(f.level, 0);
	/* Exact match on all three, a day later at most. */
	wr(0x01, 0x00);
	wr(0x03, 0x00);
	wr(0x05, 0x14);  /* 14:00:00, 2 s after 13:59:58 */
	timerq_advance(&f.tq, 14 * 60 * SEC);  /* 13:59:58 */
	assert_int_equal(f.level, 0);
	timerq_advance(&f.tq, 2 * SEC);
	assert_int_equal(f.level, 1);
	assert_int_equal(rd(0x0c), 0xb0);
}

static void test_reset_and_garbage(void **state)
{
	(void)state;
	wr(0x0b, 0x7e);
	timerq_advance(&f.tq, SEC);
	assert_int_equal(f.level, 1);
	rtc_reset(&f.r);
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(0x0b), 0x06);
	assert_int_equal(rd(0x0c), 0x00);
	/* Every byte to every register, invalid BCD included: no crash, and
	 * the clock still reads back something. */
	for (unsigned i = 0; i < 256; i++) {
		for (unsigned v = 0; v < 256; v += 7)
			wr((uint8_t)i, (uint8_t)v);
		timerq_advance(&f.tq, 3 * MS);
		(void)rd((uint8_t)i);
	}
	wr(0x0b, 0x02);
	wr(0x0a, 0x26);
	(void)rd(0x00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_bcd_and_binary, setup),
		cmocka_unit_test_setup(test_12_hour, setup),
		cmocka_unit_test_setup(test_reg_c_clears_and_lowers_irq, setup),
		cmocka_unit_test_setup(test_periodic_1024hz, setup),
		cmocka_unit_test_setup(test_periodic_flag_without_pie, setup),
		cmocka_unit_test_setup(test_uip, setup),
		cmocka_unit_test_setup(test_nmi_bit, setup),
		cmocka_unit_test_setup(test_mem_size, setup),
		cmocka_unit_test_setup(test_set_time_advances, setup),
		cmocka_unit_test_setup(test_alarm, setup),
		cmocka_unit_test_setup(test_reset_and_garbage, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
