/* btvm nanobenchmarks, native column: the benchmarks that can run as an
 * ordinary i386 Linux process, with the same instruction sequences as the
 * guest kernel (bench/common/ops.h).  Built with gcc -m32 -static.
 *
 *   native-i386 [ms=N] [NAME...]     same words as the guest command line
 *
 * Prints "BENCH NAME ns_per_iter=X.XX iters=N" for syscall (getpid through
 * int 0x80: a real Linux system call, not the guest's 3-instruction
 * handler), sysenter (getpid through the vDSO's __kernel_vsyscall, which
 * uses SYSENTER on Intel CPUs), callret, compute, usercompute and
 * pushfpopf, "BENCH-NA NAME reason" for the privileged ones, then
 * "BENCH-END ok".  Time comes from CLOCK_MONOTONIC. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include "ops.h"

#define NR_GETPID_I386 20

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint32_t sink;

static void run_syscall(uint32_t n) { sink = ops_int80_loop(n, NR_GETPID_I386); }
/* getpid through the vDSO entry the kernel passes in AT_SYSINFO (what
 * glibc's `call *%gs:0x10` reaches): EAX = number, result in EAX. */
static uintptr_t vsyscall;
static void run_sysenter(uint32_t n)
{
	uint32_t r = 0;
	for (uint32_t i = n; i; i--)
		__asm__ volatile("call *%1" : "=a"(r) : "r"(vsyscall), "0"(NR_GETPID_I386) : "memory", "cc");
	sink = r;
}
static uint32_t userbuf[OPS_USERBUF_WORDS];
static void run_usercompute(uint32_t n) { sink = ops_usercompute_loop(n, userbuf); }
static void run_callret(uint32_t n) { ops_callret_loop(n); }
static void run_pushfpopf(uint32_t n) { ops_pushfpopf_loop(n); }
static uint32_t compute_table[256];
static void run_compute(uint32_t n) { sink = ops_compute_loop(n, compute_table); }

struct bench {
	const char *name;
	uint32_t granule;
	void (*run)(uint32_t n);        /* NULL: cannot run in a process */
	const char *why;
};

static const struct bench benches[] = {
	{ "syscall", 1, run_syscall, NULL },
	{ "sysenter", 1, run_sysenter, NULL },
	{ "in", 0, NULL, "privileged (port I/O)" },
	{ "cr3", 0, NULL, "privileged (CR3)" },
	{ "ptemod", 0, NULL, "privileged (page tables, INVLPG)" },
	{ "pgfault", 0, NULL, "privileged (kernel #PF handler)" },
	{ "divzero", 0, NULL, "privileged (a kernel #DE handler; a process gets SIGFPE)" },
	{ "callret", CALLRET_DEPTH, run_callret, NULL },
	{ "compute", 1, run_compute, NULL },
	{ "usercompute", 1, run_usercompute, NULL },
	{ "clisti", 0, NULL, "privileged (CLI/STI at CPL3 #GP)" },
	{ "pushfpopf", OPS_UNROLL, run_pushfpopf, NULL },
	{ "irq", 0, NULL, "privileged (PIT interrupt)" },
	{ "ctxsw", 0, NULL, "privileged (CR3)" },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

static uint32_t round_up(uint64_t n, uint32_t g)
{
	if (n > (1u << 30))
		n = 1u << 30;
	return (uint32_t)((n + g - 1) / g * g);
}

static void measure(const struct bench *b, uint64_t target_ns)
{
	if (b->run == run_sysenter && !vsyscall) {
		printf("BENCH-NA %s the kernel passed no AT_SYSINFO (no vDSO system call entry)\n", b->name);
		return;
	}
	if (!b->run) {
		printf("BENCH-NA %s %s\n", b->name, b->why);
		return;
	}
	uint32_t n = round_up(64, b->granule);
	uint64_t t;
	for (;;) {                      /* grow to 1/8 of the target: also the warm-up */
		uint64_t t0 = now_ns();
		b->run(n);
		t = now_ns() - t0;
		if (t >= target_ns / 8 || n >= (1u << 28))
			break;
		n *= 4;
	}
	n = round_up(t ? target_ns * n / t : n, b->granule);
	uint64_t t0 = now_ns();
	b->run(n);
	t = now_ns() - t0;
	uint64_t ns100 = (t * 100 + n / 2) / n;
	printf("BENCH %s ns_per_iter=%u.%02u iters=%u\n", b->name,
	       (unsigned)(ns100 / 100), (unsigned)(ns100 % 100), n);
}

int main(int argc, char **argv)
{
	uint64_t target_ms = 100;
	const struct bench *list[64];
	unsigned nlist = 0;
	int bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vsyscall = (uintptr_t)getauxval(AT_SYSINFO);
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "ms=", 3) == 0 && atoi(argv[i] + 3) > 0) {
			target_ms = (uint64_t)atoi(argv[i] + 3);
			continue;
		}
		int found = 0;
		for (unsigned j = 0; j < NBENCH; j++)
			if (strcmp(argv[i], "all") == 0 || strcmp(argv[i], benches[j].name) == 0) {
				if (nlist < 64)
					list[nlist++] = &benches[j];
				found = 1;
			}
		if (!found) {
			printf("BENCH-ERROR unknown benchmark: %s\n", argv[i]);
			bad = 1;
		}
	}
	if (!nlist && !bad)
		for (unsigned j = 0; j < NBENCH; j++)
			list[nlist++] = &benches[j];
	printf("# btvm nanobenchmarks, native i386 process; target_ms=%u\n", (unsigned)target_ms);
	for (unsigned i = 0; i < nlist; i++)
		measure(list[i], target_ms * 1000000u);
	printf("BENCH-END %s\n", bad ? "failed" : "ok");
	return bad;
}
