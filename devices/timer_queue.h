/* Virtual time for devices.  Devices derive their state lazily from the
 * clock (QEMU's i8254 lesson) and arm a vtimer only for the next event that
 * must raise an interrupt.  The monitor asks timerq_next_deadline() and arms
 * one host timer (timer_create on the vCPU thread) for it; after any exit it
 * calls timerq_run() which fires every expired vtimer.
 * Tests install a manual clock and advance it by hand. */
#ifndef BTVM_DEVICES_TIMER_QUEUE_H
#define BTVM_DEVICES_TIMER_QUEUE_H
#include <stdbool.h>
#include <stdint.h>

#define VTIME_NEVER UINT64_MAX

struct timer_queue;

struct vtimer {
	uint64_t deadline;  /* ns of the queue's clock */
	void (*cb)(void *opaque, uint64_t now);
	void *opaque;
	struct vtimer *next;
	bool armed;
};

struct timer_queue {
	uint64_t (*clock)(void *opaque);  /* ns, monotonic */
	void *clock_opaque;
	struct vtimer *head;  /* sorted by deadline */
	uint64_t manual_now;  /* used by timerq_manual_clock */
};

/* clock == NULL selects CLOCK_MONOTONIC. */
void timerq_init(struct timer_queue *q, uint64_t (*clock)(void *), void *opaque);
/* A clock that only moves with timerq_advance(): for unit tests. */
void timerq_init_manual(struct timer_queue *q, uint64_t start_ns);
void timerq_advance(struct timer_queue *q, uint64_t delta_ns); /* manual clock: moves time and runs expired timers */
uint64_t timerq_now(struct timer_queue *q);

void vtimer_init(struct vtimer *t, void (*cb)(void *, uint64_t), void *opaque);
void vtimer_arm(struct timer_queue *q, struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct timer_queue *q, struct vtimer *t);

uint64_t timerq_next_deadline(const struct timer_queue *q);
/* Fires every timer whose deadline <= now (callbacks may re-arm).
 * Returns how many fired. */
unsigned timerq_run(struct timer_queue *q, uint64_t now);

uint64_t host_monotonic_ns(void);
#endif
