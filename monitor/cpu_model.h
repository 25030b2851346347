/* The CPU btvm shows its guest through CPUID, the same under both
 * backends: bt emulates CPUID from cpu_model_cpuid(), the KVM backend
 * hands cpu_model_kvm_entries() to KVM_SET_CPUID2.  A documented i686
 * model (docs/design.md "CPU model"): GenuineIntel family 6 model 15,
 * with the TSC's frequency in leaves 15H and 16H and an invariant TSC in
 * 80000007H, so that a guest can take its TSC frequency from CPUID
 * instead of calibrating it against the PIT (Linux: native_calibrate_tsc()).
 * Leaf and bit names are those of SDM Vol. 2A, CPUID. */
#ifndef BTVM_MONITOR_CPU_MODEL_H
#define BTVM_MONITOR_CPU_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The highest basic and extended leaves the model defines (CPUID.0:EAX,
 * CPUID.80000000H:EAX). */
#define CPU_MODEL_MAX_BASIC 0x16u
#define CPU_MODEL_MAX_EXT 0x80000007u
/* The crystal clock of leaf 15H (ECX, in Hz).  On a CPU that enumerates
 * it, the local APIC timer counts at this clock (SDM Vol. 3A 11.5.4), and
 * Linux programs the timer from it without calibrating; it must therefore
 * equal the platform's LAPIC_BUS_HZ (1 GHz, QEMU's APIC timer rate). */
#define CPU_MODEL_CRYSTAL_HZ 1000000000u

/* Leaf 15H names its crystal (ECX), which makes the frequency a known
 * one for Linux, only when the frequency Linux computes from it is this
 * close to tsc_hz. */
#define CPU_MODEL_TSC_MAX_PPM 10u

struct cpu_model {
	bool apic;           /* CPUID.1:EDX.APIC[9]: a local APIC (not with --no-apic) */
	uint64_t tsc_hz;     /* the guest TSC's rate; 0 = unknown: leaves 15H and 16H read 0 */
	bool invariant_tsc;  /* CPUID.80000007H:EDX[8]: the guest TSC runs at tsc_hz in every state */
	bool tsc_adjust;     /* CPUID.7.0:EBX[1]: IA32_TSC_ADJUST, which moves the guest TSC */
};

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* CPUID with EAX = leaf, ECX = subleaf.  A leaf above the highest basic
 * or extended one returns the highest basic leaf's data, as Intel CPUs do
 * (SDM Vol. 2A, CPUID, "INPUT EAX = 0") and KVM does for an Intel vendor. */
void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);

/* Leaf 15H's EBX/EAX ratio for a TSC of tsc_hz over a crystal of
 * crystal_hz: the p/q closest to tsc_hz / crystal_hz with q >= 1 and
 * crystal_hz/1000 * p < 2^32.  That bound is Linux's: native_calibrate_tsc()
 * computes crystal_khz * EBX / EAX in 32 bits.  With the 1 GHz crystal
 * the error can reach tsc_hz * crystal_khz / 2^33 (116 ppm, half the gap
 * between 4/1 and 4293/1073 near 4 GHz), but is a few ppm for the
 * frequencies hosts report (tests/unit/test_monitor_cpu_model.c); past
 * CPU_MODEL_TSC_MAX_PPM leaf 15H leaves ECX at 0.  Both 0 when tsc_hz is
 * below crystal_hz / 16 or so large that no numerator fits. */
void cpu_model_tsc_ratio(uint64_t tsc_hz, uint32_t crystal_hz, uint32_t *num, uint32_t *den);

/* The known TSC frequency Linux takes from leaf 15H (kHz: ECX / 1000 *
 * EBX / EAX, in 32-bit arithmetic); 0 when 15H names no crystal. */
uint32_t cpu_model_linux_tsc_khz(const struct cpu_model *m);

/* One CPUID entry for KVM_SET_CPUID2 (the fields of struct
 * kvm_cpuid_entry2 that matter; kvm_util.c copies them). */
struct cpu_model_entry {
	uint32_t leaf, subleaf;
	bool indexed;        /* the subleaf is significant (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) */
	struct cpuid_regs r;
};
/* Every leaf the model defines, 0..MAX_BASIC and 80000000H..MAX_EXT (leaf
 * 7 as subleaf 0, indexed); returns how many were written (at most max). */
size_t cpu_model_entries(const struct cpu_model *m, struct cpu_model_entry *out, size_t max);
#endif
