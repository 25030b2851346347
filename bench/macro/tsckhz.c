/* tsc-khz: the TSC's rate on this machine, measured against
 * CLOCK_MONOTONIC (three 100 ms windows, the median).  bench/run.sh runs
 * it on the host and gives the guest kernel the figure as tsc_early_khz=,
 * because both btvm (RDTSC is the host's TSC plus an offset) and QEMU TCG
 * (cpu_get_host_ticks) give the guest the host's TSC rate, while the
 * kernel's own calibration against the PIT fails now and then on this
 * loaded 2-core host and leaves the guest on the PIT clocksource. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>
#include "macro.h"

int macro_tsc_khz(void)
{
	double khz[3];

	for (int i = 0; i < 3; i++) {
		struct timespec d = { 0, 100 * 1000 * 1000 };
		uint64_t t0 = macro_now_ns(), c0 = __rdtsc(), t1, c1;

		nanosleep(&d, NULL);
		t1 = macro_now_ns();
		c1 = __rdtsc();
		if (t1 <= t0 || c1 <= c0) {
			fprintf(stderr, "macro: the TSC or CLOCK_MONOTONIC did not advance\n");
			return 1;
		}
		khz[i] = (double)(c1 - c0) * 1e6 / (double)(t1 - t0);
	}
	for (int i = 0; i < 2; i++)             /* sort three */
		for (int j = 0; j < 2 - i; j++)
			if (khz[j] > khz[j + 1]) {
				double t = khz[j];
				khz[j] = khz[j + 1];
				khz[j + 1] = t;
			}
	printf("%.0f\n", khz[1]);
	return 0;
}
