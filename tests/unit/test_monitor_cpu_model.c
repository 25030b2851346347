/* monitor/cpu_model.c: the CPUID both backends show the guest, and in
 * particular what a Linux 6.1 guest needs to take its TSC frequency from
 * CPUID (native_calibrate_tsc(), cpu_khz_from_cpuid(), the constant_tsc /
 * nonstop_tsc / tsc_adjust conditions of check_system_tsc_reliable()). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "devices/lapic.h"
#include "monitor/cpu_model.h"

#define HOST_HZ 2299998000ull  /* this host's TSC, as its kernel reports it */

static const struct cpu_model model = { .apic = true, .tsc_hz = HOST_HZ, .invariant_tsc = true, .tsc_adjust = true };

static struct cpuid_regs cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	memset(&r, 0xA5, sizeof(r));  /* every register must be written */
	cpu_model_cpuid(m, leaf, subleaf, &r);
	return r;
}

static void vendor_and_max_leaves(void **state)
{
	(void)state;
	struct cpuid_regs r = cpuid(&model, 0, 0);
	/* Linux reads leaf 15H only from an Intel CPU whose max basic leaf
	 * reaches it, 16H likewise */
	assert_int_equal(r.eax, 0x16);
	char v[13];
	memcpy(v, &r.ebx, 4);
	memcpy(v + 4, &r.edx, 4);
	memcpy(v + 8, &r.ecx, 4);
	v[12] = 0;
	assert_string_equal(v, "GenuineIntel");
	assert_int_equal(cpuid(&model, 0x80000000u, 0).eax, 0x80000007u);
	r = cpuid(&model, 1, 0);
	assert_int_equal(r.eax, 0x6f1);            /* the MP table says so too */
	assert_true(r.edx & (1u << 4));            /* TSC */
	assert_true(r.edx & (1u << 9));            /* APIC */
	assert_int_equal(r.ecx, 0);                /* no hypervisor bit, no TSC-deadline */
	struct cpu_model no_apic = model;
	no_apic.apic = false;
	assert_false(cpuid(&no_apic, 1, 0).edx & (1u << 9));
}

static void tsc_leaves_as_linux_reads_them(void **state)
{
	(void)state;
	struct cpuid_regs r = cpuid(&model, 0x15, 0);
	/* EAX, EBX non-zero: a ratio; ECX non-zero: the crystal is named,
	 * X86_FEATURE_TSC_KNOWN_FREQ */
	assert_true(r.eax != 0 && r.ebx != 0);
	/* the crystal is what the local APIC timer counts (SDM Vol. 3A
	 * 11.5.4); Linux sets lapic_timer_period = ECX/1000 * 1000 / HZ */
	assert_int_equal(r.ecx, LAPIC_BUS_HZ);
	assert_int_equal(r.ecx / 1000 * 1000 / 250, LAPIC_BUS_HZ / 250);
	/* crystal_khz * EBX in 32 bits: no overflow */
	assert_true((uint64_t)(r.ecx / 1000) * r.ebx <= UINT32_MAX);
	uint32_t khz = cpu_model_linux_tsc_khz(&model);
	/* 2299998 kHz is 23/10 of the crystal to within 0.9 ppm, the best a
	 * numerator below 4295 can do */
	assert_int_equal(r.ebx, 23);
	assert_int_equal(r.eax, 10);
	assert_int_equal(khz, 2300000);
	/* 16H: base and maximum MHz, the bus (APIC) clock in MHz */
	r = cpuid(&model, 0x16, 0);
	assert_int_equal(r.eax, 2300);
	assert_int_equal(r.ebx, 2300);
	assert_int_equal(r.ecx, 1000);
	/* Linux keeps cpu_khz = 16H's when within 10% of tsc_khz */
	uint32_t cpu_khz = r.eax * 1000u;
	assert_true((cpu_khz > khz ? cpu_khz - khz : khz - cpu_khz) * 10 <= khz);
}

static void unknown_frequency_reads_zero(void **state)
{
	(void)state;
	struct cpu_model m = model;
	m.tsc_hz = 0;
	struct cpuid_regs r = cpuid(&m, 0x15, 0);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	r = cpuid(&m, 0x16, 0);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	assert_int_equal(cpu_model_linux_tsc_khz(&m), 0);
}

/* Linux 6.1's native_calibrate_tsc() and cpu_khz_from_cpuid(), with its
 * 32-bit unsigned arithmetic: the TSC kHz and whether it is a known
 * frequency (a named crystal). */
static uint32_t linux_tsc_khz(const struct cpu_model *m, bool *known)
{
	struct cpuid_regs r15 = cpuid(m, 0x15, 0), r16 = cpuid(m, 0x16, 0);
	*known = false;
	if (!r15.eax || !r15.ebx)
		return r16.eax * 1000u;  /* tsc_khz = cpu_khz */
	uint32_t crystal_khz = r15.ecx / 1000;
	*known = crystal_khz != 0;
	if (!crystal_khz)
		crystal_khz = r16.eax * 1000 * r15.eax / r15.ebx;
	return crystal_khz * r15.ebx / r15.eax;
}

static double ppm(double got, double want)
{
	return (got > want ? got - want : want - got) / want * 1e6;
}

/* Every TSC from 1 to 4.2 GHz (in steps that are not round): a named
 * crystal gives Linux a figure within CPU_MODEL_TSC_MAX_PPM (Linux's and
 * the SDM's ECX * EBX / EAX alike); otherwise Linux's first figure comes
 * from 16H's MHz.  The ratio is never off by more than half the gap at
 * the numerator bound. */
static void ratio_precision(void **state)
{
	(void)state;
	double worst = 0;
	unsigned unnamed = 0, n = 0;
	for (uint64_t hz = 1000000000ull; hz <= 4200000000ull; hz += 999983, n++) {
		struct cpu_model m = model;
		m.tsc_hz = hz;
		struct cpuid_regs r = cpuid(&m, 0x15, 0);
		assert_true(r.eax && r.ebx);
		assert_true((uint64_t)(CPU_MODEL_CRYSTAL_HZ / 1000) * r.ebx <= UINT32_MAX);
		double ratio_hz = (double)CPU_MODEL_CRYSTAL_HZ * r.ebx / r.eax;
		assert_true(ppm(ratio_hz, (double)hz) <= 1e6 * (CPU_MODEL_CRYSTAL_HZ / 1000) / 8589934592.0);
		bool known;
		double lin = linux_tsc_khz(&m, &known) * 1000.0;
		if (known) {
			assert_int_equal(r.ecx, CPU_MODEL_CRYSTAL_HZ);
			assert_true(ppm(lin, (double)hz) <= CPU_MODEL_TSC_MAX_PPM);
			assert_true(ppm(ratio_hz, (double)hz) <= CPU_MODEL_TSC_MAX_PPM + 1);
			assert_int_equal(cpu_model_linux_tsc_khz(&m) * 1000.0, lin);
			if (ppm(lin, (double)hz) > worst)
				worst = ppm(lin, (double)hz);
		} else {
			unnamed++;
			assert_int_equal(r.ecx, 0);
			/* Linux's base MHz * 1000 * EAX fits its 32 bits */
			assert_true((uint64_t)cpuid(&m, 0x16, 0).eax * 1000 * r.eax <= UINT32_MAX);
			assert_int_equal(cpu_model_linux_tsc_khz(&m), 0);
			assert_true(ppm(lin, (double)hz) < 300);  /* 16H's MHz, refined later */
		}
	}
	print_message("1-4.2 GHz: worst %.2f ppm with a named crystal; %u of %u without\n", worst, unnamed, n);
	assert_true(unnamed * 20 < n);  /* the rare case */
	/* Round frequencies are exact; frequencies hosts have reported
	 * (Linux's "Detected"/"Refined" lines) are within 3 ppm. */
	static const uint64_t round_khz[] = { 1000000, 2100000, 2400000, 2592000, 3193000, 3600000 };
	for (size_t i = 0; i < sizeof(round_khz) / sizeof(round_khz[0]); i++) {
		struct cpu_model m = model;
		m.tsc_hz = round_khz[i] * 1000;
		assert_int_equal(cpu_model_linux_tsc_khz(&m), round_khz[i]);
	}
	static const uint64_t host_khz[] = { 2299998, 2294786, 3407998, 1995380, 3393624, 2095077, 2803204,
					     2199994, 3000001, 3699998 };
	for (size_t i = 0; i < sizeof(host_khz) / sizeof(host_khz[0]); i++) {
		struct cpu_model m = model;
		m.tsc_hz = host_khz[i] * 1000;
		assert_true(ppm(cpu_model_linux_tsc_khz(&m), host_khz[i]) <= 3);
	}
	/* 4000.466 MHz sits half-way between 4/1 and 4293/1073: no named crystal */
	struct cpu_model odd = model;
	odd.tsc_hz = 4000466000ull;
	assert_int_equal(cpuid(&odd, 0x15, 0).ecx, 0);
	uint32_t num, den;
	cpu_model_tsc_ratio(2400000000ull, 1000000000u, &num, &den);
	assert_int_equal(num, 12);
	assert_int_equal(den, 5);
	cpu_model_tsc_ratio(10000000ull, 1000000000u, &num, &den);  /* far too slow */
	assert_true(num == 0 && den == 0);
	cpu_model_tsc_ratio(5000000000000ull, 1000000000u, &num, &den);  /* 5 THz: no numerator fits */
	assert_true(num == 0 && den == 0);
}

static void invariant_tsc_and_tsc_adjust(void **state)
{
	(void)state;
	assert_int_equal(cpuid(&model, 0x80000007u, 0).edx, 1u << 8);
	struct cpu_model m = model;
	m.invariant_tsc = false;
	assert_int_equal(cpuid(&m, 0x80000007u, 0).edx, 0);
	struct cpuid_regs r = cpuid(&model, 7, 0);
	assert_int_equal(r.eax, 0);                 /* no subleaf beyond 0 */
	assert_int_equal(r.ebx, 1u << 1);           /* IA32_TSC_ADJUST */
	assert_int_equal(r.edx, 1u << 29);          /* IA32_ARCH_CAPABILITIES */
	r = cpuid(&model, 7, 1);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	m = model;
	m.tsc_adjust = false;  /* a KVM that cannot offset the guest TSC */
	assert_int_equal(cpuid(&m, 7, 0).ebx, 0);
}

static void out_of_range_leaves(void **state)
{
	(void)state;
	/* the highest basic leaf's data, as an Intel CPU (and KVM) return */
	struct cpuid_regs top = cpuid(&model, 0x16, 0);
	static const uint32_t leaves[] = { 0x17, 0x40000000u, 0x40000010u, 0x80000008u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		struct cpuid_regs r = cpuid(&model, leaves[i], 0);
		assert_memory_equal(&r, &top, sizeof(r));
	}
	/* in range but undefined: zeros */
	struct cpuid_regs r = cpuid(&model, 0x0b, 0);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	char brand[49] = { 0 };
	for (uint32_t i = 0; i < 3; i++) {
		r = cpuid(&model, 0x80000002u + i, 0);
		memcpy(brand + 16 * i, &r, 16);
	}
	assert_string_equal(brand, "btvm virtual i686");
}

static void kvm_entries_match(void **state)
{
	(void)state;
	struct cpu_model_entry e[64];
	size_t n = cpu_model_entries(&model, e, 64);
	assert_int_equal(n, 0x17 + 8);
	for (size_t i = 0; i < n; i++) {
		struct cpuid_regs r = cpuid(&model, e[i].leaf, e[i].subleaf);
		assert_memory_equal(&r, &e[i].r, sizeof(r));
		assert_int_equal(e[i].indexed, e[i].leaf == 7);
	}
	assert_int_equal(e[0x15].leaf, 0x15);
	assert_int_equal(e[n - 1].leaf, 0x80000007u);
	assert_int_equal(cpu_model_entries(&model, e, 5), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vendor_and_max_leaves),
		cmocka_unit_test(tsc_leaves_as_linux_reads_them),
		cmocka_unit_test(unknown_frequency_reads_zero),
		cmocka_unit_test(ratio_precision),
		cmocka_unit_test(invariant_tsc_and_tsc_adjust),
		cmocka_unit_test(out_of_range_leaves),
		cmocka_unit_test(kvm_entries_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
