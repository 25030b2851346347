#include "monitor/cpu_model.h"
#include <string.h>

/* The p/q closest to tsc_hz / crystal_hz with p <= pmax and q <= qmax. */
static void best_ratio(uint64_t tsc_hz, uint32_t crystal_hz, uint64_t pmax, uint64_t qmax,
		       uint32_t *num, uint32_t *den)
{
	*num = *den = 0;
	if (!crystal_hz || tsc_hz < crystal_hz / 16)
		return;  /* (the search below would be long; no TSC is that slow) */
	/* Every denominator q with a numerator in range, p the nearest to
	 * q * tsc/crystal; keep the p/q with the smallest |p/q - tsc/crystal|,
	 * the smallest q on a tie.  At most 16 * pmax steps (pmax = 4294 for
	 * a 1 GHz crystal). */
	uint64_t best_p = 0, best_q = 0;
	unsigned __int128 best_err_num = 0; /* |p*crystal - q*tsc| */
	for (uint64_t q = 1; q <= qmax && q <= UINT32_MAX; q++) {
		unsigned __int128 target = (unsigned __int128)q * tsc_hz;
		uint64_t p = (uint64_t)((target + crystal_hz / 2) / crystal_hz);
		if (p > pmax)
			break;
		if (p == 0)
			continue;
		unsigned __int128 have = (unsigned __int128)p * crystal_hz;
		unsigned __int128 err = have > target ? have - target : target - have;
		/* err/q < best_err_num/best_q, by cross-multiplying */
		if (!best_q || err * best_q < best_err_num * q) {
			best_p = p;
			best_q = q;
			best_err_num = err;
			if (!err)
				break;
		}
	}
	*num = (uint32_t)best_p;
	*den = (uint32_t)best_q;
}

void cpu_model_tsc_ratio(uint64_t tsc_hz, uint32_t crystal_hz, uint32_t *num, uint32_t *den)
{
	uint32_t crystal_khz = crystal_hz / 1000;
	best_ratio(tsc_hz, crystal_hz, crystal_khz ? UINT32_MAX / crystal_khz : 0, UINT32_MAX, num, den);
}

uint32_t cpu_model_linux_tsc_khz(const struct cpu_model *m)
{
	struct cpuid_regs r;
	cpu_model_cpuid(m, 0x15, 0, &r);
	if (!r.eax || !r.ebx)
		return 0;
	uint32_t crystal_khz = r.ecx / 1000;
	return crystal_khz * r.ebx / r.eax; /* unsigned int, as in Linux */
}

static void basic_leaf(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *o)
{
	switch (leaf) {
	case 0:
		o->eax = CPU_MODEL_MAX_BASIC; /* leaves 2-6 and 8-14H read as zeros */
		memcpy(&o->ebx, "Genu", 4);
		memcpy(&o->edx, "ineI", 4);
		memcpy(&o->ecx, "ntel", 4);
		break;
	case 1:
		o->eax = 0x000006f1;     /* family 6, model 15, stepping 1 */
		o->ebx = 8u << 8;        /* CLFLUSH line 8 qwords; APIC ID 0 */
		o->edx = 1u << 0 /* FPU */ | 1u << 3 /* PSE */ | 1u << 4 /* TSC */ | 1u << 5 /* MSR */ |
			 1u << 6 /* PAE */ | 1u << 8 /* CX8 */ | 1u << 11 /* SEP */ | 1u << 12 /* MTRR */ |
			 1u << 13 /* PGE */ | 1u << 15 /* CMOV */ | 1u << 16 /* PAT */ | 1u << 19 /* CLFSH */ |
			 1u << 23 /* MMX */ | 1u << 24 /* FXSR */ | 1u << 25 /* SSE */ | 1u << 26 /* SSE2 */;
		if (m->apic)
			o->edx |= 1u << 9; /* APIC: on-chip local APIC */
		break;
	case 7:
		/* Structured features, subleaf 0 only (EAX = 0: no others).
		 * EBX[1] IA32_TSC_ADJUST (MSR 3BH, SDM Vol. 3B 17.17.3): with
		 * an invariant TSC it tells Linux that a TSC write would show,
		 * and Linux then keeps no clocksource watchdog on the TSC
		 * (check_system_tsc_reliable()).  EDX[29]: IA32_ARCH_CAPABILITIES
		 * exists, so that the guest reads this CPU is not open to
		 * Meltdown and friends (bt/emulate.c, MSR 10AH). */
		if (subleaf == 0) {
			o->ebx = m->tsc_adjust ? 1u << 1 : 0;
			o->edx = 1u << 29;
		}
		break;
	case 0x15:
		/* Time Stamp Counter and Nominal Core Crystal Clock: TSC =
		 * ECX * EBX / EAX.  Linux takes a non-zero ECX as a known TSC
		 * frequency (X86_FEATURE_TSC_KNOWN_FREQ: no PIT calibration,
		 * no later refinement) and programs the local APIC timer at
		 * ECX (lapic_timer_period), which is why ECX is the APIC
		 * timer's input clock. */
		if (m->tsc_hz) {
			cpu_model_tsc_ratio(m->tsc_hz, CPU_MODEL_CRYSTAL_HZ, &o->ebx, &o->eax);
			/* Linux's 32-bit arithmetic cannot express every
			 * frequency over a 1 GHz crystal: when its figure would
			 * be off by more than CPU_MODEL_TSC_MAX_PPM, the crystal
			 * is not named (ECX = 0, allowed by the SDM).  Linux then
			 * derives it from 16H, takes 16H's MHz as a first TSC
			 * figure and refines it against the PM timer or PIT
			 * after a second (tsc_refine_calibration_work()). */
			uint64_t khz = (uint64_t)(CPU_MODEL_CRYSTAL_HZ / 1000) * o->ebx / (o->eax ? o->eax : 1);
			uint64_t hz = khz * 1000, err = hz > m->tsc_hz ? hz - m->tsc_hz : m->tsc_hz - hz;
			if (o->eax && err * 1000000 <= m->tsc_hz * CPU_MODEL_TSC_MAX_PPM) {
				o->ecx = CPU_MODEL_CRYSTAL_HZ;
			} else {
				/* Linux's crystal_khz = base MHz * 1000 * EAX / EBX,
				 * 32-bit too: EAX small enough for that. */
				uint64_t base_khz = (m->tsc_hz + 500000) / 1000000 * 1000;
				best_ratio(m->tsc_hz, CPU_MODEL_CRYSTAL_HZ, UINT32_MAX / (CPU_MODEL_CRYSTAL_HZ / 1000),
					   base_khz ? UINT32_MAX / base_khz : 0, &o->ebx, &o->eax);
			}
		}
		break;
	case 0x16:
		/* Processor frequency: base and maximum MHz (Linux's cpu_khz,
		 * /proc/cpuinfo "cpu MHz"), the bus (reference) clock in MHz,
		 * which drives the APIC timer. */
		if (m->tsc_hz) {
			o->eax = o->ebx = (uint32_t)((m->tsc_hz + 500000) / 1000000);
			o->ecx = CPU_MODEL_CRYSTAL_HZ / 1000000;
		}
		break;
	default:
		break;
	}
}

static void ext_leaf(const struct cpu_model *m, uint32_t leaf, struct cpuid_regs *o)
{
	switch (leaf) {
	case 0x80000000:
		o->eax = CPU_MODEL_MAX_EXT;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004: {
		static const char brand[48] = "btvm virtual i686";
		memcpy(o, brand + 16 * (leaf - 0x80000002), 16);
		break;
	}
	case 0x80000007:
		/* EDX[8] invariant TSC: constant rate in every P-, C- and
		 * T-state (SDM Vol. 3B 17.17.1).  Linux sets constant_tsc and
		 * nonstop_tsc from it. */
		if (m->invariant_tsc)
			o->edx = 1u << 8;
		break;
	default:
		break; /* 80000001H (no NX, no LM), 80000005H, 80000006H: zeros */
	}
}

void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
	memset(out, 0, sizeof(*out));
	if (leaf >= 0x80000000u && leaf <= CPU_MODEL_MAX_EXT)
		ext_leaf(m, leaf, out);
	else if (leaf <= CPU_MODEL_MAX_BASIC)
		basic_leaf(m, leaf, subleaf, out);
	else
		basic_leaf(m, CPU_MODEL_MAX_BASIC, subleaf, out);
}

size_t cpu_model_entries(const struct cpu_model *m, struct cpu_model_entry *out, size_t max)
{
	size_t n = 0;
	for (uint32_t leaf = 0; leaf <= CPU_MODEL_MAX_BASIC && n < max; leaf++, n++) {
		out[n] = (struct cpu_model_entry){ .leaf = leaf, .indexed = leaf == 7 };
		cpu_model_cpuid(m, leaf, 0, &out[n].r);
	}
	for (uint32_t leaf = 0x80000000u; leaf <= CPU_MODEL_MAX_EXT && n < max; leaf++, n++) {
		out[n] = (struct cpu_model_entry){ .leaf = leaf };
		cpu_model_cpuid(m, leaf, 0, &out[n].r);
	}
	return n;
}
