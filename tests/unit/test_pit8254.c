/* 8254 PIT on a manual clock.  PIT tick k starts at tick_ns(k); a count
 * written during tick T is loaded into the counting element at tick T+1
 * (datasheet: "loaded on the next CLK pulse"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/pit8254.h"

#define MAX_RISES 128

struct sink {
	int level, rises, calls;
	uint64_t rise_ns[MAX_RISES];
};

static struct timer_queue TQ;
static struct io_bus BUS;
static struct pit8254 PIT;
static struct sink S;

static void sink_set(void *opaque, int irq, int level)
{
	struct sink *s = opaque;
	assert_int_equal(irq, 0);
	s->calls++;
	if (level && !s->level) {
		if (s->rises < MAX_RISES)
			s->rise_ns[s->rises] = timerq_now(&TQ);
		s->rises++;
	}
	s->level = level;
}

static uint64_t tick_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ);
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

static void write16(uint16_t port, uint16_t v)
{
	outb(port, (uint8_t)v);
	outb(port, (uint8_t)(v >> 8));
}

static uint16_t read16(uint16_t port)
{
	uint8_t lo = inb(port);
	return (uint16_t)(lo | inb(port) << 8);
}

static uint16_t latch_read(int ch)
{
	outb(0x43, (uint8_t)(ch << 6));  /* counter latch command */
	return read16((uint16_t)(0x40 + ch));
}

static int setup(void **state)
{
	(void)state;
	timerq_init_manual(&TQ, 0);
	io_bus_init(&BUS, "pio");
	S = (struct sink){ 0 };
	pit_init(&PIT, &TQ, (struct irq_line){ sink_set, &S, 0 });
	assert_int_equal(pit_register(&PIT, &BUS), 0);
	return 0;
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(S.calls, 0);
	assert_int_equal(timerq_next_deadline(&TQ), VTIME_NEVER);
	assert_true(pit_get_gate(&PIT, 0));
	assert_true(pit_get_gate(&PIT, 1));
	assert_false(pit_get_gate(&PIT, 2));
	assert_false(pit_get_gate(&PIT, 3));
	assert_false(pit_get_out(&PIT, 0));  /* mode 0, no count */
	assert_false(pit_get_out(&PIT, -1));
	assert_int_equal(inb(0x43), 0xFF);
	advance_to(1000000000);
	assert_int_equal(S.rises, 0);
}

/* Linux's PIT periodic mode: 0x34, LATCH = 1193 (HZ=1000). */
static void test_mode2_period(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	write16(0x40, 1193);
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(timerq_next_deadline(&TQ), tick_ns(1 + 1193));
	advance_to(100000000);  /* tick 119318: edges at 1 + k*1193, k=1..100 */
	assert_int_equal(S.rises, 100);
	assert_int_equal(S.level, 0);
	assert_int_equal(S.rise_ns[0], tick_ns(1 + 1193));
	assert_int_equal(S.rise_ns[1], tick_ns(1 + 2 * 1193));
	assert_int_equal(S.rise_ns[63], tick_ns(1 + 64 * 1193));
	assert_int_equal(timerq_next_deadline(&TQ), tick_ns(1 + 101 * 1193));
	/* e = 119317, e % 1193 = 17 */
	assert_int_equal(latch_read(0), 1193 - 17);
	/* OUT is low for the one CLK where the count is 1 */
	advance_to(tick_ns(1 + 101 * 1193 - 1));
	assert_false(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 1);
	assert_int_equal(S.rises, 100);
	advance_to(tick_ns(1 + 101 * 1193));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 1193);
	assert_int_equal(S.rises, 101);
}

static void test_mode3_period(void **state)
{
	(void)state;
	outb(0x43, 0x36);
	write16(0x40, 1193);  /* odd: high 597 CLKs, low 596 */
	advance_to(100000000);
	assert_int_equal(S.rises, 100);
	assert_int_equal(S.rise_ns[0], tick_ns(1 + 1193));
	assert_int_equal(S.rise_ns[99], tick_ns(1 + 100 * 1193));

	/* OUT and count through one period starting at tick s */
	uint64_t s = 1 + 101 * 1193;
	advance_to(tick_ns(s));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 1192);
	advance_to(tick_ns(s + 1));
	assert_int_equal(latch_read(0), 1190);
	advance_to(tick_ns(s + 596));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 0);
	advance_to(tick_ns(s + 597));
	assert_false(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 1192);
	advance_to(tick_ns(s + 1192));
	assert_false(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 2);
	advance_to(tick_ns(s + 1193));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(S.rises, 102);

	/* even count on channel 1: n/2 high, n/2 low, steps of 2 */
	outb(0x43, 0x76);
	uint64_t t = (uint64_t)((unsigned __int128)TQ.manual_now * PIT_HZ / 1000000000u);
	write16(0x41, 1000);
	advance_to(tick_ns(t + 1));
	assert_int_equal(latch_read(1), 1000);
	advance_to(tick_ns(t + 1 + 499));
	assert_true(pit_get_out(&PIT, 1));
	assert_int_equal(latch_read(1), 2);
	advance_to(tick_ns(t + 1 + 500));
	assert_false(pit_get_out(&PIT, 1));
	assert_int_equal(latch_read(1), 1000);
	advance_to(tick_ns(t + 1 + 1000));
	assert_true(pit_get_out(&PIT, 1));
	assert_int_equal(S.rises, 102);  /* channel 1 is not wired to irq0 */
}

static void test_mode0_terminal_count(void **state)
{
	(void)state;
	advance_to(tick_ns(5000) + 300);  /* mid-tick 5000 */
	outb(0x43, 0x30);
	write16(0x40, 1000);
	assert_false(pit_get_out(&PIT, 0));
	assert_int_equal(latch_read(0), 1000);
	/* "OUT does not go high until N+1 CLK pulses after the initial count
	 * is written": tick 5000 + 1 + 1000. */
	advance_to(tick_ns(5000 + 1001) - 1);
	assert_int_equal(S.level, 0);
	assert_int_equal(latch_read(0), 1);
	advance_to(tick_ns(5000 + 1001));
	assert_int_equal(S.level, 1);
	assert_int_equal(S.rises, 1);
	assert_int_equal(S.rise_ns[0], tick_ns(5000 + 1001));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(timerq_next_deadline(&TQ), VTIME_NEVER);
	/* the counter wraps and keeps counting; OUT stays high */
	advance_to(tick_ns(5000 + 1001 + 5));
	assert_int_equal(latch_read(0), 65531);
	advance_to(1000000000);
	assert_int_equal(S.level, 1);
	assert_int_equal(S.rises, 1);
	/* a new control word drops OUT; a new count re-arms */
	outb(0x43, 0x30);
	assert_int_equal(S.level, 0);
	uint64_t t = 1193182;  /* tick at exactly 1 s */
	write16(0x40, 10);
	advance_to(tick_ns(t + 11));
	assert_int_equal(S.rises, 2);
	assert_int_equal(S.rise_ns[1], tick_ns(t + 11));
	/* rewriting the count while OUT is high makes it low again */
	write16(0x40, 10);
	assert_int_equal(S.level, 0);
	advance_to(tick_ns(t + 22));
	assert_int_equal(S.rises, 3);
	assert_int_equal(S.level, 1);
	/* switching to a pulse mode returns the line to rest (low) */
	outb(0x43, 0x34);
	assert_int_equal(S.level, 0);
	write16(0x40, 10);
	advance_to(tick_ns(t + 22 + 1 + 10));
	assert_int_equal(S.rises, 4);
	assert_int_equal(S.level, 0);
}

static void test_latch_freezes(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	write16(0x40, 0);  /* 65536 */
	advance_to(tick_ns(40001));
	outb(0x43, 0x00);
	advance_to(tick_ns(50001));
	outb(0x43, 0x00);  /* ignored: the first latch is unread */
	assert_int_equal(read16(0x40), 65536 - 40000);
	assert_int_equal(read16(0x40), 65536 - 50000);  /* live again */
	/* half-read latch: LSB, then the rest of the same latch */
	outb(0x43, 0x00);
	uint8_t lo = inb(0x40);
	advance_to(tick_ns(50001 + 300));
	uint8_t hi = inb(0x40);
	assert_int_equal(lo | hi << 8, 65536 - 50000);
	/* a control word discards a pending latch */
	outb(0x43, 0x00);
	outb(0x43, 0x34);
	write16(0x40, 500);
	advance_to(tick_ns(50301 + 1 + 100));
	assert_int_equal(read16(0x40), 400);
}

static void test_rw_modes(void **state)
{
	(void)state;
	outb(0x43, 0x50);  /* ch1, LSB only, mode 0 */
	outb(0x41, 0x34);
	assert_int_equal(inb(0x41), 0x34);
	assert_int_equal(inb(0x41), 0x34);  /* LSB every time */
	advance_to(tick_ns(1 + 0x10));
	assert_int_equal(inb(0x41), 0x24);

	outb(0x43, 0x60);  /* ch1, MSB only */
	outb(0x41, 0x12);
	assert_int_equal(inb(0x41), 0x12);
	assert_int_equal(latch_read(1) & 0xFF, 0x12);  /* latch gives MSB too */

	outb(0x43, 0x70);  /* ch1, LSB then MSB */
	outb(0x41, 0x78);
	outb(0x41, 0x56);
	assert_int_equal(inb(0x41), 0x78);
	assert_int_equal(inb(0x41), 0x56);
	/* read and write flip-flops are independent (82C54: "reads and
	 * writes of the same counter may be interleaved") */
	assert_int_equal(inb(0x41), 0x78);  /* read LSB */
	outb(0x41, 0x11);                   /* write LSB */
	assert_int_equal(inb(0x41), 0x56);  /* read MSB */
	outb(0x41, 0x33);                   /* write MSB */
	assert_int_equal(read16(0x41), 0x3311);
	/* a control word resets the flip-flops */
	outb(0x41, 0x99);
	outb(0x43, 0x70);
	outb(0x41, 0x01);
	outb(0x41, 0x02);
	assert_int_equal(read16(0x41), 0x0201);
}

static uint8_t status(int ch)
{
	outb(0x43, (uint8_t)(0xE0 | 2 << ch));  /* read-back: status only */
	return inb((uint16_t)(0x40 + ch));
}

static void test_readback(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	/* OUT high, NULL COUNT, RW=3, mode 2, binary */
	assert_int_equal(status(0), 0xF4);
	write16(0x40, 100);
	assert_int_equal(status(0), 0xF4);  /* CE not loaded yet */
	advance_to(tick_ns(1));
	assert_int_equal(status(0), 0xB4);
	outb(0x43, 0x30);
	assert_int_equal(status(0), 0x70);  /* mode 0: OUT low */
	outb(0x43, 0x3E);                   /* mode 7 = mode 3 */
	assert_int_equal(status(0), 0xFE);
	outb(0x43, 0x31);
	assert_int_equal(status(0) & 0x01, 1);  /* BCD */

	/* status + count on channels 0 and 2: status first, then count */
	outb(0x43, 0x34);
	write16(0x40, 1000);
	outb(0x43, 0xB0);
	write16(0x42, 0xFFFF);  /* ch2 gate is low: mode 0 does not count */
	advance_to(tick_ns(2 + 200));  /* both written at tick 1 */
	outb(0x43, 0xCA);
	advance_to(tick_ns(2 + 300));
	assert_int_equal(inb(0x40), 0xB4);
	assert_int_equal(read16(0x40), 800);
	assert_int_equal(read16(0x40), 700);  /* latch consumed */
	assert_int_equal(inb(0x42), 0x30);    /* OUT low, loaded, mode 0 */
	assert_int_equal(read16(0x42), 0xFFFF);
	/* count-only read-back with LSB access, channel 1 */
	outb(0x43, 0x50);
	outb(0x41, 0x80);
	advance_to(tick_ns(2 + 300 + 1 + 0x20));
	outb(0x43, 0xD4);
	advance_to(tick_ns(2 + 300 + 1 + 0x30));
	assert_int_equal(inb(0x41), 0x60);
	assert_int_equal(inb(0x41), 0x50);
}

static void test_reload_zero(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	write16(0x40, 0);
	assert_int_equal(latch_read(0), 0);  /* 65536 reads as 0 */
	advance_to(tick_ns(2));
	assert_int_equal(latch_read(0), 65535);
	advance_to(1000000000);  /* tick 1193182: edges at 1 + k*65536 */
	assert_int_equal(S.rises, 18);
	assert_int_equal(S.rise_ns[0], tick_ns(1 + 65536));
	assert_int_equal(S.rise_ns[17], tick_ns(1 + 18 * 65536));
	/* mode 0 with 0: terminal count after 65536 */
	outb(0x43, 0x30);
	write16(0x40, 0);
	advance_to(tick_ns(1193182 + 1 + 65536) - 1);
	assert_int_equal(S.level, 0);
	advance_to(tick_ns(1193182 + 1 + 65536));
	assert_int_equal(S.level, 1);
}

/* The host timer fired 10 periods late: one tick, then back on the grid. */
static void test_late_host_drops_ticks(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	write16(0x40, 1193);
	advance_to(tick_ns(1 + 1193));
	assert_int_equal(S.rises, 1);
	uint64_t late = tick_ns(1 + 11 * 1193) + 500;
	TQ.manual_now = late;  /* time passed without timers running */
	assert_int_equal(timerq_run(&TQ, late), 1);
	assert_int_equal(S.rises, 2);
	assert_int_equal(timerq_next_deadline(&TQ), tick_ns(1 + 12 * 1193));
	advance_to(tick_ns(1 + 12 * 1193));
	assert_int_equal(S.rises, 3);

	/* An edge already due when the guest touches the PIT is delivered
	 * before the access takes effect. */
	TQ.manual_now = tick_ns(1 + 13 * 1193);
	outb(0x43, 0x30);
	assert_int_equal(S.rises, 4);
}

/* Linux's one-shot clockevent: mode 4, the count is the delay. */
static void test_mode4_oneshot(void **state)
{
	(void)state;
	outb(0x43, 0x38);
	assert_int_equal(S.level, 0);
	write16(0x40, 100);
	advance_to(tick_ns(1 + 100));
	assert_false(pit_get_out(&PIT, 0));  /* strobe: low at count 0 */
	assert_int_equal(S.rises, 0);
	advance_to(tick_ns(1 + 101));
	assert_true(pit_get_out(&PIT, 0));
	assert_int_equal(S.rises, 1);
	assert_int_equal(S.rise_ns[0], tick_ns(102));
	advance_to(1000000000);
	assert_int_equal(S.rises, 1);
	assert_int_equal(timerq_next_deadline(&TQ), VTIME_NEVER);
	write16(0x40, 50);  /* re-arm without a control word */
	advance_to(tick_ns(1193182 + 52));
	assert_int_equal(S.rises, 2);
	/* reprogramming before expiry restarts the count */
	write16(0x40, 1000);
	advance_to(tick_ns(1193182 + 52 + 500));
	write16(0x40, 1000);
	advance_to(tick_ns(1193182 + 52 + 500 + 1001));
	assert_int_equal(S.rises, 2);
	advance_to(tick_ns(1193182 + 52 + 500 + 1002));
	assert_int_equal(S.rises, 3);
}

static void test_mode2_new_count_at_period_end(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	write16(0x40, 1000);
	advance_to(tick_ns(1 + 500));
	write16(0x40, 200);
	assert_int_equal(status(0) & 0x40, 0x40);  /* NULL COUNT until reload */
	assert_int_equal(latch_read(0), 500);      /* current period unchanged */
	advance_to(tick_ns(1 + 1000 + 3 * 200));
	assert_int_equal(S.rises, 4);
	assert_int_equal(S.rise_ns[0], tick_ns(1 + 1000));
	assert_int_equal(S.rise_ns[1], tick_ns(1 + 1200));
	assert_int_equal(S.rise_ns[3], tick_ns(1 + 1600));
	assert_int_equal(status(0) & 0x40, 0);
}

static void test_gate(void **state)
{
	(void)state;
	/* mode 0 on channel 2 with the gate low: loaded, not counting */
	outb(0x43, 0xB0);
	write16(0x42, 100);
	advance_to(tick_ns(50));
	assert_int_equal(latch_read(2), 100);
	pit_set_gate(&PIT, 2, true);  /* tick 50 */
	assert_true(pit_get_gate(&PIT, 2));
	advance_to(tick_ns(80));
	assert_int_equal(latch_read(2), 70);
	pit_set_gate(&PIT, 2, false);  /* pauses */
	advance_to(tick_ns(1000));
	assert_int_equal(latch_read(2), 70);
	assert_false(pit_get_out(&PIT, 2));
	pit_set_gate(&PIT, 2, true);
	advance_to(tick_ns(1000 + 69));
	assert_false(pit_get_out(&PIT, 2));
	advance_to(tick_ns(1000 + 70));
	assert_true(pit_get_out(&PIT, 2));

	/* mode 1: the gate's rising edge triggers a one-shot low pulse */
	outb(0x43, 0xB2);
	write16(0x42, 10);
	assert_true(pit_get_out(&PIT, 2));
	advance_to(tick_ns(2000));
	assert_true(pit_get_out(&PIT, 2));  /* gate already high: no trigger */
	pit_set_gate(&PIT, 2, false);
	pit_set_gate(&PIT, 2, true);        /* trigger at tick 2000 */
	advance_to(tick_ns(2001));
	assert_false(pit_get_out(&PIT, 2));
	assert_int_equal(latch_read(2), 10);
	advance_to(tick_ns(2010));
	assert_false(pit_get_out(&PIT, 2));
	advance_to(tick_ns(2011));
	assert_true(pit_get_out(&PIT, 2));

	/* mode 2: gate low forces OUT high and stops; rising reloads */
	outb(0x43, 0xB4);
	write16(0x42, 10);
	advance_to(tick_ns(2011 + 1 + 9));
	assert_false(pit_get_out(&PIT, 2));  /* count 1 */
	pit_set_gate(&PIT, 2, false);
	assert_true(pit_get_out(&PIT, 2));
	advance_to(tick_ns(3000));
	assert_int_equal(latch_read(2), 1);
	pit_set_gate(&PIT, 2, true);
	advance_to(tick_ns(3001));
	assert_int_equal(latch_read(2), 10);
	advance_to(tick_ns(3001 + 9));
	assert_false(pit_get_out(&PIT, 2));

	/* channel 0 with its gate low in mode 2: no interrupts */
	outb(0x43, 0x34);
	write16(0x40, 100);
	pit_set_gate(&PIT, 0, false);
	advance_to(tick_ns(10000));
	assert_int_equal(S.rises, 0);
	pit_set_gate(&PIT, 0, true);  /* tick 10000, loaded at 10001 */
	advance_to(tick_ns(10001 + 100));
	assert_int_equal(S.rises, 1);
	pit_set_gate(&PIT, 7, true);  /* ignored */
}

static void test_bcd(void **state)
{
	(void)state;
	outb(0x43, 0x75);  /* ch1, LSB+MSB, mode 2, BCD */
	write16(0x41, 0x0100);  /* 100 decimal */
	advance_to(tick_ns(1 + 10));
	assert_int_equal(latch_read(1), 0x0090);
	advance_to(tick_ns(1 + 100 + 1));
	assert_int_equal(latch_read(1), 0x0099);
	outb(0x43, 0x71);  /* mode 0, BCD, count 0 = 10000 */
	write16(0x41, 0);
	advance_to(tick_ns(102 + 1 + 1));
	assert_int_equal(latch_read(1), 0x9999);
	write16(0x41, 0xFFFF);  /* invalid digits: bounded, no crash */
	uint16_t v = latch_read(1);
	assert_true((v & 0xF) <= 9 && (v >> 4 & 0xF) <= 9);
}

/* After a year of uptime the arithmetic must not overflow. */
static void test_far_clock(void **state)
{
	(void)state;
	uint64_t year = 365ull * 86400 * 1000000000;
	timerq_advance(&TQ, year + 123);
	uint64_t t = (uint64_t)((unsigned __int128)TQ.manual_now * PIT_HZ / 1000000000u);
	outb(0x43, 0x34);
	write16(0x40, 1193);
	advance_to(tick_ns(t + 1 + 10 * 1193));
	assert_int_equal(S.rises, 10);
	assert_int_equal(S.rise_ns[9], tick_ns(t + 1 + 10 * 1193));
	advance_to(tick_ns(t + 1 + 10 * 1193 + 17));
	assert_int_equal(latch_read(0), 1193 - 17);
}

static uint32_t rng = 777;
static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void test_garbage(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint32_t r = rnd();
		uint16_t port = (uint16_t)(0x40 + (r & 3));
		switch ((r >> 2) % 6) {
		case 0:
		case 1:
			outb(port, (uint8_t)(r >> 8));
			break;
		case 2:
			(void)inb(port);
			break;
		case 3:
			pit_set_gate(&PIT, (int)((r >> 8) % 5) - 1, (r >> 12) & 1);
			break;
		case 4:
			timerq_advance(&TQ, (r >> 8) % 200000);
			break;
		default: {
			uint8_t d[4] = { (uint8_t)(r >> 8), (uint8_t)(r >> 16), 1, 2 };
			io_bus_access(&BUS, port, d, 1 + (r >> 12) % 4, (r >> 14) & 1);
			break;
		}
		}
		(void)pit_get_out(&PIT, (int)(r % 3));
		uint64_t d = timerq_next_deadline(&TQ);
		assert_true(d == VTIME_NEVER || d > TQ.manual_now);
		assert_true(S.level == 0 || S.level == 1);
	}
	pit_reset(&PIT);
	assert_int_equal(S.level, 0);
	assert_int_equal(timerq_next_deadline(&TQ), VTIME_NEVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_mode2_period, setup),
		cmocka_unit_test_setup(test_mode3_period, setup),
		cmocka_unit_test_setup(test_mode0_terminal_count, setup),
		cmocka_unit_test_setup(test_latch_freezes, setup),
		cmocka_unit_test_setup(test_rw_modes, setup),
		cmocka_unit_test_setup(test_readback, setup),
		cmocka_unit_test_setup(test_reload_zero, setup),
		cmocka_unit_test_setup(test_late_host_drops_ticks, setup),
		cmocka_unit_test_setup(test_mode4_oneshot, setup),
		cmocka_unit_test_setup(test_mode2_new_count_at_period_end, setup),
		cmocka_unit_test_setup(test_gate, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_far_clock, setup),
		cmocka_unit_test_setup(test_garbage, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
