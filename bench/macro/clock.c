/* clock: clock_gettime(CLOCK_MONOTONIC).  With a clocksource the vDSO can
 * read (tsc) this never enters the kernel; with one it cannot (jiffies,
 * pit, hpet without a mapping) it is a system call.  run-all.sh prints
 * the guest's clocksource. */
#define _GNU_SOURCE
#include <time.h>
#include "macro.h"

static const char *run(uint64_t n)
{
	struct timespec a, b;

	if (clock_gettime(CLOCK_MONOTONIC, &a) != 0)
		return "clock_gettime(CLOCK_MONOTONIC) failed";
	for (uint64_t i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec))
			return "CLOCK_MONOTONIC went backwards";
		a = b;
	}
	return NULL;
}

const struct macro_timed macro_clock = { NULL, run, NULL };
