/* tsc: what CPUID says about the TSC holds on the machine.  A CPU that
 * reports its TSC frequency (leaf 15H: TSC = ECX * EBX / EAX) must have a
 * TSC that runs at that rate against the PIT, and a local APIC timer that
 * counts at the crystal clock ECX (SDM Vol. 3A 11.5.4); 16H's base
 * frequency must agree; IA32_TSC_ADJUST, when CPUID.7.0:EBX[1] announces
 * it, moves the TSC when written and follows a TSC write (SDM Vol. 3B
 * 17.17.3).  QEMU's TCG CPU reports none of these, so its run checks only
 * the rest (the APIC timer at QEMU's 1 GHz, a TSC that counts); every line
 * is the same either way.  btvm reports them (monitor/cpu_model.c).  No
 * interrupts, no paging. */
#include "guest.h"

#define LAPIC 0xFEE00000u
#define PIT_HZ 1193182u

struct cpuid { uint32_t a, b, c, d; };

static struct cpuid cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid r;
	__asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
	return r;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint32_t apic_rd(uint32_t off) { return *(volatile uint32_t *)(LAPIC + off); }
static inline void apic_wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(LAPIC + off) = v; }

static int has_apic;

/* A sample of the three clocks: PIT channel 2's count (latched), the APIC
 * timer's current count and the TSC around them.  A host may stall the
 * guest at any instruction, so a sample whose bracket of two RDTSCs is
 * wider than BRACKET TSC ticks (87 us at 2.3 GHz) is taken again: each
 * sample is an instant, and a stall between two samples changes nothing
 * (Linux's tsc_read_refs() works so).  Waiting for the PIT's OUT to rise
 * would not: a stall across the edge makes that window too long, and on
 * a loaded host that is most windows. */
#define BRACKET 200000u

struct sample {
	uint64_t tsc;
	uint32_t pit, apic;
};

static int sample(struct sample *s)
{
	for (unsigned tries = 0; tries < 1000; tries++) {
		uint64_t a = rdtsc();
		outb(0x43, 0x80);  /* counter latch, channel 2 */
		uint8_t lo = inb(0x42), hi = inb(0x42);
		uint32_t ap = has_apic ? apic_rd(0x390) : 0;
		uint64_t b = rdtsc();
		if (b - a < BRACKET) {
			s->tsc = a + (b - a) / 2;
			s->pit = (uint32_t)(hi << 8 | lo);
			s->apic = ap;
			return 1;
		}
	}
	return 0;
}

/* One window of about 40 ms of PIT channel 2 (mode 0 from 0xFFFF, gated
 * through port 0x61): the TSC ticks and APIC timer counts per PIT count
 * (x 2^16); 0 if the window could not be measured. */
static int window(uint64_t *tsc, uint64_t *apic)
{
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));  /* gate high, speaker off */
	outb(0x43, 0xB0);                                   /* ch 2, LSB+MSB, mode 0, binary */
	outb(0x42, 0xFF);
	outb(0x42, 0xFF);
	struct sample s0, s1, now;
	if (!sample(&s0) || s0.pit < 60000)
		return 0;
	do {
		if (!sample(&now))
			return 0;
	} while (now.pit <= s0.pit && s0.pit - now.pit < 47727 /* 40 ms */);
	if (!sample(&s1) || s1.pit >= s0.pit)
		return 0;  /* the count wrapped past 0: stalled too long */
	uint32_t counts = s0.pit - s1.pit;
	*tsc = ((s1.tsc - s0.tsc) << 16) / counts;
	*apic = ((uint64_t)(s0.apic - s1.apic) << 16) / counts;
	return 1;
}

static void sort64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* |got - want| <= want / 50 (2%) */
static int near(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;
	return d <= want / 50;
}

void main(void)
{
	printf("tsc: the TSC and APIC timer against CPUID and the PIT, IA32_TSC_ADJUST\n");
	struct cpuid r = cpuid(0, 0);
	uint32_t max_basic = r.a;
	r = cpuid(1, 0);
	CHECK(r.d & (1u << 4), "CPUID.1:EDX.TSC: the CPU has a time-stamp counter");
	has_apic = (r.d & (1u << 9)) != 0;
	CHECK(has_apic, "CPUID.1:EDX.APIC: the CPU has a local APIC");

	/* what CPUID claims (0: not reported) */
	uint64_t tsc_hz = 0, crystal_hz = 0, base_mhz = 0;
	if (max_basic >= 0x15) {
		r = cpuid(0x15, 0);
		if (r.a && r.b && r.c) {
			tsc_hz = (uint64_t)r.c * r.b / r.a;
			crystal_hz = r.c;
		}
	}
	if (max_basic >= 0x16)
		base_mhz = cpuid(0x16, 0).a;

	/* the machine: the median of 5 windows */
	if (has_apic) {
		apic_wr(0x320, 0x10000 | 0x40);  /* LVT timer masked, one-shot */
		apic_wr(0x3E0, 0xB);             /* divide by 1 */
		apic_wr(0x380, 0xFFFFFFFFu);     /* 4.3 s at 1 GHz: outlasts a window */
	}
	uint64_t tsc[5], apic[5];
	unsigned n = 0;
	for (unsigned i = 0; i < 20 && n < 5; i++) {
		if (has_apic)
			apic_wr(0x380, 0xFFFFFFFFu);
		if (window(&tsc[n], &apic[n]))
			n++;
	}
	if (has_apic)
		apic_wr(0x380, 0);
	CHECK_EQ(n, 5, "five windows of the PIT measured");
	sort64(tsc, n);
	sort64(apic, n);
	uint64_t tsc_rate = n ? (tsc[n / 2] * PIT_HZ) >> 16 : 0, apic_rate = n ? (apic[n / 2] * PIT_HZ) >> 16 : 0;

	CHECK(tsc_rate > 100000000ull, "the TSC counts (faster than 100 MHz against the PIT)");
	if (!CHECK(!tsc_hz || near(tsc_rate, tsc_hz),
		   "the TSC runs at CPUID 15H's frequency within 2%% against the PIT (when 15H reports one)"))
		printf("#   CPUID 15H: TSC %u kHz; the PIT says %u kHz\n", (unsigned)(tsc_hz / 1000),
		       (unsigned)(tsc_rate / 1000));
	CHECK(!tsc_hz || !base_mhz || near(base_mhz * 1000000, tsc_hz),
	      "CPUID 16H's base frequency agrees with 15H's TSC frequency within 2%% (when both report one)");
	/* QEMU's APIC timer counts at 1 GHz; a CPU that reports its crystal
	 * counts at that (SDM Vol. 3A 11.5.4) */
	uint64_t want_apic = crystal_hz ? crystal_hz : 1000000000ull;
	if (!CHECK(!has_apic || near(apic_rate, want_apic),
		   "the APIC timer counts at CPUID 15H's crystal clock (else at 1 GHz) within 2%%"))
		printf("#   APIC timer: %u kHz against the PIT, expected %u kHz\n", (unsigned)(apic_rate / 1000),
		       (unsigned)(want_apic / 1000));

	/* IA32_TSC_ADJUST */
	int adjust = max_basic >= 7 && (cpuid(7, 0).b & (1u << 1));
	int starts_0 = 1, moves_tsc = 1, follows_tsc = 1;
	if (adjust) {
		const uint64_t step = 1ull << 40;  /* ~8 minutes at 2 GHz */
		starts_0 = rdmsr(0x3B) == 0;
		uint64_t t0 = rdtsc();
		wrmsr(0x3B, step);
		uint64_t t1 = rdtsc();
		moves_tsc = t1 - t0 >= step && t1 - t0 < step + 1000000000ull && rdmsr(0x3B) == step;
		/* write the TSC back by `step`: IA32_TSC_ADJUST follows */
		wrmsr(0x10, rdtsc() - step);
		uint64_t adj = rdmsr(0x3B);
		follows_tsc = adj < 1000000000ull || adj > (uint64_t)-1000000000ll;
		wrmsr(0x3B, 0);
		follows_tsc = follows_tsc && rdmsr(0x3B) == 0;
	}
	CHECK(starts_0, "IA32_TSC_ADJUST reads 0 after reset (when CPUID.7.0:EBX[1] announces it)");
	CHECK(moves_tsc, "writing IA32_TSC_ADJUST moves the TSC by as much (when announced)");
	CHECK(follows_tsc, "writing the TSC moves IA32_TSC_ADJUST by as much (when announced)");

	uint64_t a = rdtsc(), b = rdtsc();
	CHECK(b > a, "two RDTSCs in a row increase");
}
