/* btvm macro benchmarks: one static i386 program (gcc -m32 -static) that
 * runs inside the Linux guest and, unchanged, on the host (the native
 * column).  The same sources also build for x86-64 (macro-x86_64), the
 * native column on a host that runs no i386 code.  See bench/README.md,
 * "Macro benchmarks".
 *
 *   macro [ms=N] [NAME...]      NAME: a benchmark, or all (the default)
 *   macro tsc-khz               prints the TSC's rate in kHz (for run.sh)
 *
 * Prints "# NAME: what it does" before each benchmark, then either
 * "BENCH NAME VALUE ns/op" (timed), "BENCH NAME VALUE ms" (fixed work) or
 * "BENCH-FAIL NAME why", and at the end "BENCH-END ok" (status 0) or
 * "BENCH-END fail" (status 1).  Bad arguments: one "macro: ..." line on
 * stderr, status 2.  BENCH_TMP names the directory the file benchmark
 * writes in (default /tmp; it should be a tmpfs). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "macro.h"

const char *macro_tmpdir = "/tmp";

static const struct macro_bench benches[] = {
	{ "getpid", "getpid() system call", &macro_getpid, NULL },
	{ "clock", "clock_gettime(CLOCK_MONOTONIC) (the vDSO, if the clocksource allows)", &macro_clock, NULL },
	{ "fork", "fork() a child that _exit(0)s at once; waitpid() for it", &macro_fork, NULL },
	{ "pipe", "one byte there and back between two processes over two pipes (one round trip)", &macro_pipe, NULL },
	{ "yield", "sched_yield() ping-pong between two processes on one CPU (one round trip = two switches)", &macro_yield, NULL },
	{ "pgfault", "first write to a fresh anonymous page (mmap 1 MiB, touch each page, munmap): per page", &macro_pgfault, NULL },
	{ "sha256", "SHA-256 of 8 MiB (FIPS 180-4), ms in all", NULL, macro_sha256 },
	{ "sort", "qsort() of 512 Ki 32-bit integers (2 MiB), ms in all", NULL, macro_sort },
	{ "file", "write 16 MiB to a tmpfs file in 4 KiB writes, read it back, unlink: ms in all", NULL, macro_file },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

static const struct macro_bench *find(const char *name)
{
	for (size_t i = 0; i < NBENCH; i++)
		if (strcmp(benches[i].name, name) == 0)
			return &benches[i];
	return NULL;
}

/* The guest has one CPU; on the host the two-process benchmarks would
 * otherwise run on two CPUs and not switch at all.  Pin to the CPU we
 * are on (a no-op in a uniprocessor guest); children inherit it. */
static void pin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		printf("# cannot pin to CPU %d: the two-process benchmarks may run on two CPUs\n", cpu);
}

int main(int argc, char **argv)
{
	const struct macro_bench *run[NBENCH * 4];
	size_t nrun = 0;
	unsigned ms = 100;
	int failed = 0;
	const char *tmp = getenv("BENCH_TMP");

	if (tmp && *tmp)
		macro_tmpdir = tmp;
	if (argc == 2 && strcmp(argv[1], "tsc-khz") == 0)
		return macro_tsc_khz();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;

		if (strncmp(a, "ms=", 3) == 0) {
			unsigned long v = strtoul(a + 3, &end, 10);
			if (a[3] == '\0' || *end != '\0' || v == 0 || v > 600000) {
				fprintf(stderr, "macro: bad '%s': ms= takes 1..600000\n", a);
				return 2;
			}
			ms = (unsigned)v;
		} else if (strcmp(a, "all") == 0) {
			for (size_t j = 0; j < NBENCH && nrun < NBENCH * 4; j++)
				run[nrun++] = &benches[j];
		} else if (find(a)) {
			if (nrun == NBENCH * 4) {
				fprintf(stderr, "macro: too many benchmarks\n");
				return 2;
			}
			run[nrun++] = find(a);
		} else {
			fprintf(stderr, "macro: unknown benchmark '%s' (one of:", a);
			for (size_t j = 0; j < NBENCH; j++)
				fprintf(stderr, " %s", benches[j].name);
			fprintf(stderr, ", all)\n");
			return 2;
		}
	}
	if (nrun == 0)
		for (size_t j = 0; j < NBENCH; j++)
			run[nrun++] = &benches[j];
	setvbuf(stdout, NULL, _IOLBF, 0);
	pin();
	printf("# btvm macro benchmarks: target %u ms per timed run\n", ms);
	for (size_t i = 0; i < nrun; i++)
		failed |= macro_run(run[i], ms);
	printf("BENCH-END %s\n", failed ? "fail" : "ok");
	return failed;
}
