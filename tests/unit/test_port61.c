/* Port 0x61 with the PIT behind it, driven the way Linux's TSC calibration
 * (arch/x86/kernel/tsc.c) drives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/pit8254.h"
#include "devices/port61.h"

static struct timer_queue TQ;
static struct io_bus BUS;
static struct pit8254 PIT;
static struct port61 P61;

static uint64_t tick_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t cur_tick(void)
{
	return (uint64_t)((unsigned __int128)TQ.manual_now * PIT_HZ / 1000000000u);
}

static void advance_to(uint64_t ns)
{
	assert_true(ns >= TQ.manual_now);
	timerq_advance(&TQ, ns - TQ.manual_now);
}

static void outb(uint16_t port, uint8_t v)
{
	io_bus_access(&BUS, port, &v, 1, true);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;
	io_bus_access(&BUS, port, &v, 1, false);
	return v;
}

static int setup(void **state)
{
	(void)state;
	timerq_init_manual(&TQ, 123456789);  /* not on a tick boundary */
	io_bus_init(&BUS, "pio");
	pit_init(&PIT, &TQ, (struct irq_line){ NULL, NULL, 0 });
	port61_init(&P61, &PIT);
	assert_int_equal(pit_register(&PIT, &BUS), 0);
	assert_int_equal(port61_register(&P61, &BUS), 0);
	return 0;
}

static void test_bits(void **state)
{
	(void)state;
	uint8_t a = inb(0x61), b = inb(0x61);
	assert_int_equal(a, 0x10);  /* refresh toggles on every read */
	assert_int_equal(b, 0x00);
	assert_false(pit_get_gate(&PIT, 2));
	outb(0x61, 0xFF);
	assert_true(pit_get_gate(&PIT, 2));
	a = inb(0x61);
	b = inb(0x61);
	assert_int_equal(a & 0xCF, 0x03);  /* bits 2, 3, 6, 7 read 0 */
	assert_int_equal((a ^ b) & 0x10, 0x10);
	outb(0x61, 0x02);  /* speaker on, gate off */
	assert_false(pit_get_gate(&PIT, 2));
	assert_int_equal(inb(0x61) & 0x0F, 0x02);
	port61_reset(&P61);
	assert_int_equal(inb(0x61) & 0x0F, 0x00);
	/* wider accesses: only the first byte is the port */
	uint8_t d[4] = { 0x01, 0x55, 0x55, 0x55 };
	io_bus_access(&BUS, 0x61, d, 4, true);
	assert_true(pit_get_gate(&PIT, 2));
	io_bus_access(&BUS, 0x61, d, 4, false);
	assert_int_equal(d[0] & 0x0F, 0x01);
	assert_int_equal(d[1], 0xFF);
	assert_int_equal(d[3], 0xFF);
	assert_int_equal(port61_register(&P61, &BUS), -1);
}

/* pit_calibrate_tsc(): gate high, ch2 mode 0 with a 50 ms latch, poll
 * bit 5 until OUT rises. */
static void test_linux_pit_calibrate(void **state)
{
	(void)state;
	const uint16_t latch = PIT_HZ / (1000 / 50);  /* 59659 */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xB0);
	uint64_t t0 = cur_tick();
	uint64_t w0 = TQ.manual_now;
	outb(0x42, latch & 0xFF);
	outb(0x42, latch >> 8);
	assert_int_equal(inb(0x61) & 0x20, 0);
	/* OUT rises N+1 CLKs after the write */
	uint64_t rise = tick_ns(t0 + 1 + latch);
	uint64_t seen = 0;
	for (int i = 0; i < 100000 && !seen; i++) {
		advance_to(TQ.manual_now + 1000);  /* a 1 us polling loop */
		if (inb(0x61) & 0x20)
			seen = TQ.manual_now;
	}
	assert_true(seen >= rise);
	assert_true(seen < rise + 1000);
	/* 50 ms (+ the load CLK) of clock time, to within a poll step */
	assert_in_range(seen - w0, 50000000, 50000000 + 838 + 1000);
	/* exact edge */
	outb(0x43, 0xB0);
	t0 = cur_tick();
	outb(0x42, latch & 0xFF);
	outb(0x42, latch >> 8);
	advance_to(tick_ns(t0 + 1 + latch) - 1);
	assert_int_equal(inb(0x61) & 0x20, 0);
	advance_to(tick_ns(t0 + 1 + latch));
	assert_int_equal(inb(0x61) & 0x20, 0x20);
	advance_to(tick_ns(t0 + 1 + 10 * latch));
	assert_int_equal(inb(0x61) & 0x20, 0x20);  /* stays high */
}

/* quick_pit_calibrate(): count from 0xFFFF and watch the MSB fall by
 * one every 256 CLKs, reading LSB then MSB each time. */
static void test_linux_quick_pit_calibrate(void **state)
{
	(void)state;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xB0);
	uint64_t start = cur_tick() + 1;
	outb(0x42, 0xFF);
	outb(0x42, 0xFF);
	for (unsigned i = 1; i <= 200; i++) {
		/* the MSB changes when the count goes 0x..00 -> 0x..FF */
		advance_to(tick_ns(start + 256 * i) - 1);
		(void)inb(0x42);
		assert_int_equal(inb(0x42), 0xFF - (i - 1));
		advance_to(tick_ns(start + 256 * i));
		uint8_t lsb = inb(0x42);
		assert_int_equal(inb(0x42), 0xFF - i);
		assert_int_equal(lsb, 0xFF);
	}
	/* arbitrary sample points follow real time exactly */
	uint64_t end = TQ.manual_now + 20000000;  /* past the wrap at 65536 */
	for (uint64_t ns = TQ.manual_now; ns < end; ns += 7919) {
		advance_to(ns);
		uint64_t e = cur_tick() - start;
		uint16_t want = (uint16_t)(0xFFFF - e);
		uint8_t lsb = inb(0x42);
		uint8_t msb = inb(0x42);
		assert_int_equal(lsb | msb << 8, want);
	}
}

/* Dropping the gate through port 0x61 suspends channel 2 in mode 0. */
static void test_gate_pauses(void **state)
{
	(void)state;
	outb(0x61, 0x01);
	outb(0x43, 0xB0);
	uint64_t start = cur_tick() + 1;
	outb(0x42, 0x00);
	outb(0x42, 0x10);  /* 4096 */
	advance_to(tick_ns(start + 1000));
	outb(0x61, 0x00);
	advance_to(tick_ns(start + 50000));
	outb(0x43, 0x80);  /* latch ch2 */
	uint8_t lo = inb(0x42);
	assert_int_equal(lo | inb(0x42) << 8, 4096 - 1000);
	assert_int_equal(inb(0x61) & 0x20, 0);
	outb(0x61, 0x01);  /* resumes at tick start + 50000 */
	advance_to(tick_ns(start + 50000 + 3095));
	assert_int_equal(inb(0x61) & 0x20, 0);
	advance_to(tick_ns(start + 50000 + 3096));
	assert_int_equal(inb(0x61) & 0x20, 0x20);
}

/* The speaker's square wave (mode 3) is visible on bit 5. */
static void test_square_wave_on_bit5(void **state)
{
	(void)state;
	outb(0x61, 0x03);
	outb(0x43, 0xB6);
	uint64_t start = cur_tick() + 1;
	outb(0x42, 100);
	outb(0x42, 0);
	int high = 0;
	for (uint64_t t = start; t < start + 1000; t++) {
		advance_to(tick_ns(t));
		bool out = inb(0x61) & 0x20;
		assert_int_equal(out, (t - start) % 100 < 50);
		high += out;
	}
	assert_int_equal(high, 500);
	outb(0x61, 0x02);  /* gate low: OUT forced high */
	assert_int_equal(inb(0x61) & 0x20, 0x20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bits, setup),
		cmocka_unit_test_setup(test_linux_pit_calibrate, setup),
		cmocka_unit_test_setup(test_linux_quick_pit_calibrate, setup),
		cmocka_unit_test_setup(test_gate_pauses, setup),
		cmocka_unit_test_setup(test_square_wave_on_bit5, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
