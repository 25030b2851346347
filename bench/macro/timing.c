/* The clock and the timed-loop runner of the macro benchmarks. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include "macro.h"

uint64_t macro_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fail(const char *name, const char *why)
{
	printf("BENCH-FAIL %s %s\n", name, why);
	fflush(stdout);
	return 1;
}

/* Like the nanobenchmarks (bench/nano): the loop is first grown by
 * doubling until one run takes at least 1/8 of the target, which is also
 * the warm-up (caches, page tables, a binary translator's code cache),
 * then one run of n * target / that-time operations is timed (and sized
 * again when it took less than half the target). */
static int run_timed(const struct macro_bench *b, unsigned target_ms)
{
	const struct macro_timed *t = b->timed;
	const uint64_t target = (uint64_t)target_ms * 1000000u;
	const char *why = t->setup ? t->setup() : NULL;
	uint64_t n = 1, t0, dt;

	if (why)
		return fail(b->name, why);
	for (;;) {
		t0 = macro_now_ns();
		why = t->run(n);
		dt = macro_now_ns() - t0;
		if (why)
			goto out;
		if (dt >= target / 8 || n >= (1ull << 40))
			break;
		n *= 2;
	}
	/* The warm-up's first runs can be far slower per operation than the
	 * steady state (a translator filling its caches, a shadow MMU
	 * building its tables), so a timed run that falls well short of the
	 * target is sized again from itself, at most twice. */
	for (int tries = 0; tries < 3; tries++) {
		n = dt ? (uint64_t)((double)n * (double)target / (double)dt) : n * 8;
		if (n == 0)
			n = 1;
		t0 = macro_now_ns();
		why = t->run(n);
		dt = macro_now_ns() - t0;
		if (why || dt >= target / 2)
			break;
	}
out:
	if (t->teardown) {
		const char *why2 = t->teardown();
		if (!why)
			why = why2;
	}
	if (why)
		return fail(b->name, why);
	printf("BENCH %s %.1f ns/op\n", b->name, (double)dt / (double)n);
	printf("# %s: %llu operations in %.1f ms\n", b->name, (unsigned long long)n, dt / 1e6);
	fflush(stdout);
	return 0;
}

int macro_run(const struct macro_bench *b, unsigned target_ms)
{
	uint64_t ns = 0;
	const char *why;

	printf("# %s: %s\n", b->name, b->what);
	fflush(stdout);
	if (b->timed)
		return run_timed(b, target_ms);
	why = b->fixed(&ns);
	if (why)
		return fail(b->name, why);
	printf("BENCH %s %.2f ms\n", b->name, ns / 1e6);
	fflush(stdout);
	return 0;
}
