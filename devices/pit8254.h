/* Intel 8254 programmable interval timer at ports 0x40-0x43.
 *
 * Counters are derived lazily from the timer queue's clock: the PIT clock
 * is a free-running 1193182 Hz grid (tick = floor(ns * PIT_HZ / 1e9)), a
 * counter remembers the tick at which its counting element was loaded, and
 * every read computes count and OUT from the ticks elapsed since then.
 * Only channel 0's OUT (wired to irq0) arms a vtimer, for the next edge.
 *
 * irq0 is driven as follows: in modes 0 and 1 the line follows OUT (it
 * stays high after terminal count until re-programmed); in modes 2-5 the
 * line rests low and each rising edge of OUT is sent as a 1-then-0 pulse,
 * which the PIC latches.  A late host timer delivers one pulse and re-arms
 * for the next edge after now: lost ticks are dropped, never burst.
 * Not thread-safe: call everything from the vCPU thread. */
#ifndef BTVM_DEVICES_PIT8254_H
#define BTVM_DEVICES_PIT8254_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/irq.h"
#include "devices/timer_queue.h"

#define PIT_HZ 1193182
#define PIT_PORT 0x40
#define PIT_NEVER UINT64_MAX

struct pit_channel {
	/* programming (control word) */
	uint8_t mode;       /* 0..5 (6, 7 are aliases of 2, 3) */
	uint8_t mode_bits;  /* M2-M0 as written, for the status byte */
	uint8_t rw;         /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	/* count register (CR) and write/read byte flip-flops */
	uint32_t cr;        /* 1..65536 (1..10000 in BCD) */
	bool has_cr;        /* a count was written since the control word */
	bool write_msb, read_msb;
	uint8_t write_lsb;
	/* counting element (CE): holds n at tick `start`, then counts */
	bool running;
	uint32_t n;
	uint64_t start;
	bool paused;        /* gate low in a mode where it stops counting */
	uint64_t frozen;    /* elapsed ticks at the pause */
	bool reload_pending;  /* modes 2/3: new CR loaded at the period end */
	uint64_t reload_at;
	uint64_t null_until;  /* status NULL COUNT is 1 before this tick */
	/* latches */
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct pit8254 {
	struct pit_channel ch[3];
	struct timer_queue *tq;
	struct irq_line irq0;
	struct vtimer timer;   /* channel 0 only */
	uint64_t next_edge;    /* tick of channel 0's next irq event */
	int irq_level;         /* level last driven on irq0 */
};

/* tq must stay valid for the PIT's lifetime.  pit_init performs pit_reset;
 * gates start high on channels 0 and 1 (wired high on a PC), low on 2. */
void pit_init(struct pit8254 *p, struct timer_queue *tq, struct irq_line irq0);
/* Every channel back to unprogrammed mode 0; gate inputs are kept. */
void pit_reset(struct pit8254 *p);
int pit_register(struct pit8254 *p, struct io_bus *pio);  /* 0 or -1 */
/* channel 0..2; other numbers are ignored (get_* return false). */
void pit_set_gate(struct pit8254 *p, int channel, bool gate);
bool pit_get_gate(const struct pit8254 *p, int channel);
bool pit_get_out(struct pit8254 *p, int channel);  /* at timerq_now() */
#endif
