/* btvm nanobenchmarks: the operations that are timed both in the guest
 * kernel (bench/nano) and natively on the host (bench/native), so that both
 * columns run the very same instruction sequence.  Plain C + GNU asm, no
 * library calls: it is included by freestanding guest code too. */
#ifndef BENCH_OPS_H
#define BENCH_OPS_H
#include <stdint.h>

/* Cheap operations are unrolled this many times per loop turn, so the loop
 * overhead (dec/jnz) is small next to the operation; iteration counts are
 * multiples of it. */
#define OPS_UNROLL 8
/* callret: one loop turn calls a recursive function this deep, i.e. does
 * this many call/ret pairs. */
#define CALLRET_DEPTH 16

static inline uint64_t ops_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

#define OPS_REPEAT8(s) s s s s s s s s

/* pushf; popf -- in the guest at CPL0 (POPF may change IF there, so a BT
 * must emulate it), natively at CPL3 (IF is silently kept). */
static inline void ops_pushfpopf_loop(uint32_t n)
{
	for (uint32_t i = n / OPS_UNROLL; i; i--)
		__asm__ volatile(OPS_REPEAT8("pushfl\n\tpopfl\n\t") : : : "memory", "cc");
}

/* call/ret: n call/ret pairs through a recursive function (callret.S). */
void ops_callret_rec(void);             /* ECX = depth; clobbers ECX only */
static inline void ops_callret_loop(uint32_t n)
{
	for (uint32_t i = n / CALLRET_DEPTH; i; i--)
		__asm__ volatile("movl %0, %%ecx\n\tcall ops_callret_rec"
				 : : "i"(CALLRET_DEPTH) : "ecx", "memory", "cc");
}

/* compute: n iterations of ordinary ALU/memory/call code (compute.S) over
 * a 256-entry table; returns the final state. */
uint32_t ops_compute_loop(uint32_t n, uint32_t *table);

/* The ring-3 loops (user.S, on a page of their own). */
/* n int 0x80 round trips with EAX = nr, EBX = remaining count, ECX = 1;
 * returns the sum of the EAX values that came back. */
uint32_t ops_int80_loop(uint32_t n, uint32_t nr);
/* usercompute: n xorshift steps, each a load and a store into a 64 KiB
 * buffer (OPS_USERBUF_WORDS words). */
#define OPS_USERBUF_WORDS 16384
uint32_t ops_usercompute_loop(uint32_t n, uint32_t *buf);

#endif
