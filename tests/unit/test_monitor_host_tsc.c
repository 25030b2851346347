/* monitor/host_tsc.c: how btvm finds the host TSC's frequency (the guest's
 * under bt) -- the host's CPUID leaves, and the calibration against a
 * clock, here with made-up clocks whose reads are sometimes delayed (a
 * preempted bracket) -- and, last, the real host. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "monitor/host_tsc.h"

/* --- CPUID sources --- */

static struct {
	uint32_t max_basic;
	struct cpuid_regs l1, l15, hv0, hv10;
} fake;

static void fake_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	(void)subleaf;
	memset(r, 0, sizeof(*r));
	if (leaf == 0)
		r->eax = fake.max_basic;
	else if (leaf == 1)
		*r = fake.l1;
	else if (leaf == 0x15 && fake.max_basic >= 0x15)
		*r = fake.l15;
	else if (leaf == 0x40000000u)
		*r = fake.hv0;
	else if (leaf == 0x40000010u)
		*r = fake.hv10;
}

static void hv_signature(const char sig[12], uint32_t max)
{
	fake.l1.ecx = 1u << 31;
	fake.hv0.eax = max;
	memcpy(&fake.hv0.ebx, sig, 4);
	memcpy(&fake.hv0.ecx, sig + 4, 4);
	memcpy(&fake.hv0.edx, sig + 8, 4);
}

static void from_cpuid(void **state)
{
	(void)state;
	const char *how = NULL;
	/* CPUID 15H with its crystal: 24 MHz * 100 / 1 (a client part) */
	memset(&fake, 0, sizeof(fake));
	fake.max_basic = 0x16;
	fake.l15 = (struct cpuid_regs){ .eax = 1, .ebx = 100, .ecx = 24000000 };
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, &how), 2400000000ull);
	assert_string_equal(how, "the host's CPUID 15H");
	/* 38.4 MHz * 0x3e / 2 (no rounding in the SDM's formula) */
	fake.l15 = (struct cpuid_regs){ .eax = 2, .ebx = 0x3e, .ecx = 38400000 };
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 1190400000ull);
	/* a ratio without the crystal (Skylake client): not a frequency */
	fake.l15.ecx = 0;
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 0);
	/* max basic leaf below 15H: its values are not looked at */
	fake.l15.ecx = 24000000;
	fake.max_basic = 0x14;
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 0);

	/* a hypervisor's timing leaf: KVM's and VMware's signatures only */
	memset(&fake, 0, sizeof(fake));
	fake.max_basic = 0xd;
	fake.hv10.eax = 2299998;
	hv_signature("KVMKVMKVM\0\0\0", 0x40000010);
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, &how), 2299998000ull);
	assert_string_equal(how, "the hypervisor's CPUID 40000010H");
	hv_signature("VMwareVMware", 0x40000010);
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 2299998000ull);
	hv_signature("Microsoft Hv", 0x40000010);
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 0);
	hv_signature("KVMKVMKVM\0\0\0", 0x40000001);   /* leaf not offered (this host) */
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 0);
	hv_signature("KVMKVMKVM\0\0\0", 0x40000010);
	fake.l1.ecx = 0;                               /* no hypervisor bit */
	assert_int_equal(tsc_hz_from_cpuid(fake_cpuid, NULL), 0);
}

/* --- the calibration, against a made-up clock --- */

/* A TSC at 2.299998 GHz; every read of the clock takes 40 ns, except the
 * ones listed in `slow`, which are preempted for 50 us. */
struct fake_clock {
	uint64_t ns;       /* true time */
	unsigned reads;    /* clock reads so far */
	unsigned slow[4];  /* read numbers that are delayed (1-based; 0 = none) */
};

static uint64_t fc_tsc(void *opaque)
{
	struct fake_clock *c = opaque;
	c->ns += 5;
	return (uint64_t)((unsigned __int128)c->ns * 2299998000u / 1000000000u);
}

static uint64_t fc_ns(void *opaque)
{
	struct fake_clock *c = opaque;
	c->reads++;
	for (unsigned i = 0; i < 4; i++)
		if (c->slow[i] == c->reads)
			c->ns += 50000;
	c->ns += 20;
	uint64_t t = c->ns;
	c->ns += 20;
	return t;
}

static void sample_takes_the_tightest_bracket(void **state)
{
	(void)state;
	struct fake_clock fc = { .ns = 1000000, .slow = { 1, 2, 3 } };
	struct tsc_clocks clk = { fc_tsc, fc_ns, &fc };
	struct tsc_sample s;
	tsc_sample_take(&clk, 4, &s);
	/* three preempted brackets, the fourth is ~45 ns wide (103 ticks) */
	assert_true(s.width < 110);
	/* its middle is within a few ns of the clock read */
	uint64_t at = (uint64_t)((unsigned __int128)s.ns * 2299998000u / 1000000000u);
	assert_true(s.tsc > at ? s.tsc - at < 20 : at - s.tsc < 20);

	/* all preempted but one: still that one */
	fc = (struct fake_clock){ .ns = 5000000, .slow = { 1, 2, 4 } };
	tsc_sample_take(&clk, 4, &s);
	assert_true(s.width < 110);
}

static void rate_between_samples(void **state)
{
	(void)state;
	struct fake_clock fc = { .ns = 123456789, .slow = { 2, 5, 19 } };
	struct tsc_clocks clk = { fc_tsc, fc_ns, &fc };
	struct tsc_sample a, b;
	tsc_sample_take(&clk, 16, &a);
	fc.ns += 10000000;  /* 10 ms */
	tsc_sample_take(&clk, 16, &b);
	uint64_t hz = tsc_hz_between(&a, &b);
	/* within 1 kHz of the true rate, preempted reads and all */
	assert_true(hz > 2299997000ull && hz < 2299999000ull);
	assert_int_equal(tsc_hz_between(&b, &a), 0);  /* not later */
	assert_int_equal(tsc_hz_between(&a, &a), 0);
}

/* --- this host --- */

static void this_host(void **state)
{
	(void)state;
	const char *how = NULL;
	host_tsc_start();
	uint64_t hz = host_tsc_hz(&how);
	print_message("host TSC: %llu.%03llu MHz (%s); invariant: %s\n", (unsigned long long)hz / 1000000,
		      (unsigned long long)hz / 1000 % 1000, how, host_tsc_invariant() ? "yes" : "no");
	assert_true(hz >= 100000000ull && hz <= 20000000000ull);
	/* measured once */
	assert_int_equal(host_tsc_hz(NULL), hz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_cpuid),
		cmocka_unit_test(sample_takes_the_tightest_bracket),
		cmocka_unit_test(rate_between_samples),
		cmocka_unit_test(this_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
