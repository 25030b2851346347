#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "devices/timer_queue.h"

struct rec { uint64_t fired_at[8]; int n; struct timer_queue *q; uint64_t period; };

static void cb(void *opaque, uint64_t now)
{
	struct rec *r = opaque;
	if (r->n < 8)
		r->fired_at[r->n] = now;
	r->n++;
}


static void ordered_and_cancelled(void **state)
{
	(void)state;
	struct timer_queue q;
	timerq_init_manual(&q, 1000);
	struct rec a = { 0 }, b = { 0 }, c = { 0 };
	struct vtimer ta, tb, tc;
	vtimer_init(&ta, cb, &a);
	vtimer_init(&tb, cb, &b);
	vtimer_init(&tc, cb, &c);
	vtimer_arm(&q, &ta, 3000);
	vtimer_arm(&q, &tb, 2000);
	vtimer_arm(&q, &tc, 2500);
	assert_int_equal(timerq_next_deadline(&q), 2000);
	vtimer_cancel(&q, &tc);
	assert_int_equal(timerq_run(&q, 2999), 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(c.n, 0);
	assert_int_equal(timerq_next_deadline(&q), 3000);
	vtimer_arm(&q, &ta, 5000); /* re-arm moves it */
	timerq_advance(&q, 10000);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.fired_at[0], 5000);
	assert_int_equal(timerq_now(&q), 11000);
	assert_int_equal(timerq_next_deadline(&q), VTIME_NEVER);
}

static struct vtimer rearm_t;
static void rearm_cb(void *opaque, uint64_t now)
{
	struct rec *r = opaque;
	cb(opaque, now);
	if (r->n < 4)
		vtimer_arm(r->q, &rearm_t, now + r->period);
}

static void callbacks_may_rearm(void **state)
{
	(void)state;
	struct timer_queue q;
	timerq_init_manual(&q, 0);
	struct rec r = { .q = &q, .period = 100 };
	vtimer_init(&rearm_t, rearm_cb, &r);
	vtimer_arm(&q, &rearm_t, 100);
	timerq_advance(&q, 1000);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.fired_at[3], 400);
}

static void monotonic_clock_moves(void **state)
{
	(void)state;
	struct timer_queue q;
	timerq_init(&q, NULL, NULL);
	uint64_t a = timerq_now(&q), b = timerq_now(&q);
	assert_true(b >= a);
	assert_true(a > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordered_and_cancelled),
		cmocka_unit_test(callbacks_may_rearm),
		cmocka_unit_test(monotonic_clock_moves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
