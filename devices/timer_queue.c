#include "devices/timer_queue.h"
#include <stddef.h>
#include <time.h>

uint64_t host_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t monotonic_clock(void *opaque)
{
	(void)opaque;
	return host_monotonic_ns();
}

static uint64_t manual_clock(void *opaque)
{
	return ((struct timer_queue *)opaque)->manual_now;
}

void timerq_init(struct timer_queue *q, uint64_t (*clock)(void *), void *opaque)
{
	q->clock = clock ? clock : monotonic_clock;
	q->clock_opaque = opaque;
	q->head = NULL;
	q->manual_now = 0;
}

void timerq_init_manual(struct timer_queue *q, uint64_t start_ns)
{
	timerq_init(q, manual_clock, q);
	q->manual_now = start_ns;
}

void timerq_advance(struct timer_queue *q, uint64_t delta_ns)
{
	uint64_t target = q->manual_now + delta_ns;
	/* Step through deadlines so callbacks observe their own expiry time. */
	for (;;) {
		uint64_t d = timerq_next_deadline(q);
		if (d > target)
			break;
		if (d > q->manual_now)
			q->manual_now = d;
		timerq_run(q, q->manual_now);
	}
	q->manual_now = target;
}

uint64_t timerq_now(struct timer_queue *q)
{
	return q->clock(q->clock_opaque);
}

void vtimer_init(struct vtimer *t, void (*cb)(void *, uint64_t), void *opaque)
{
	t->deadline = VTIME_NEVER;
	t->cb = cb;
	t->opaque = opaque;
	t->next = NULL;
	t->armed = false;
}

void vtimer_cancel(struct timer_queue *q, struct vtimer *t)
{
	if (!t->armed)
		return;
	for (struct vtimer **pp = &q->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void vtimer_arm(struct timer_queue *q, struct vtimer *t, uint64_t deadline_ns)
{
	vtimer_cancel(q, t);
	t->deadline = deadline_ns;
	struct vtimer **pp = &q->head;
	while (*pp && (*pp)->deadline <= deadline_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

uint64_t timerq_next_deadline(const struct timer_queue *q)
{
	return q->head ? q->head->deadline : VTIME_NEVER;
}

unsigned timerq_run(struct timer_queue *q, uint64_t now)
{
	unsigned fired = 0;
	while (q->head && q->head->deadline <= now) {
		struct vtimer *t = q->head;
		q->head = t->next;
		t->next = NULL;
		t->armed = false;
		t->cb(t->opaque, now);
		fired++;
	}
	return fired;
}
