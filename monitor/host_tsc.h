/* The host TSC's frequency.  Under bt the guest's TSC is the host's (plus
 * an offset: RDTSC is emulated from __rdtsc(), or runs natively in direct
 * execution), so this is the frequency CPUID leaf 15H reports to the guest
 * (monitor/cpu_model.h).  Found once per process, at start-up: from the
 * run phase on, CPUID faults in btvm (bt/direct.c turns CPUID faulting on)
 * and the sandbox is in place.  Sources, in this order:
 *   1. the host's CPUID 15H when it names its crystal clock (ECX != 0):
 *      TSC = ECX * EBX / EAX (SDM Vol. 2A, CPUID leaf 15H);
 *   2. a VMware or KVM hypervisor's timing leaf 40000010H (EAX = TSC kHz);
 *   3. a calibration against CLOCK_MONOTONIC_RAW: two samples at least
 *      HOST_TSC_CALIBRATE_NS apart, each the middle of the tightest of
 *      16 RDTSC brackets around a clock read.  RAW is the host kernel's
 *      clocksource unslewed by NTP, so the result is the rate at which the
 *      host's clocks (and so btvm's device time) see the TSC advance.
 *      Measured here: within 1 kHz of the host kernel's own figure
 *      (docs/design.md, "Timekeeping"). */
#ifndef BTVM_MONITOR_HOST_TSC_H
#define BTVM_MONITOR_HOST_TSC_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/cpu_model.h"

#define HOST_TSC_CALIBRATE_NS 10000000ull  /* 10 ms */

/* Takes the calibration's first sample (cheap).  Call it early at start-up:
 * what btvm does until host_tsc_hz() counts towards the interval. */
void host_tsc_start(void);
/* The host TSC frequency in Hz, 0 if no source worked; *how (may be NULL)
 * says which source.  Measured on the first call (sleeping what remains
 * of the calibration interval), then cached. */
uint64_t host_tsc_hz(const char **how);
/* CPUID.80000007H:EDX[8] on the host: its TSC runs at a constant rate in
 * every power state (SDM Vol. 3B 17.17.1).  Read on the first call, then
 * cached. */
bool host_tsc_invariant(void);

/* The parts, for unit tests. */
typedef void (*host_cpuid_fn)(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);
/* Sources 1 and 2 from the given CPUID; 0 when neither applies. */
uint64_t tsc_hz_from_cpuid(host_cpuid_fn cpuid, const char **how);

struct tsc_clocks {
	uint64_t (*tsc)(void *opaque);
	uint64_t (*ns)(void *opaque);
	void *opaque;
};
struct tsc_sample {
	uint64_t tsc;    /* the middle of the bracket */
	uint64_t ns;     /* the clock read inside it */
	uint64_t width;  /* TSC ticks between the bracket's two reads */
};
/* The tightest of `tries` brackets tsc / ns / tsc. */
void tsc_sample_take(const struct tsc_clocks *c, unsigned tries, struct tsc_sample *s);
/* The TSC's rate between two samples, Hz (rounded); 0 if b is not later. */
uint64_t tsc_hz_between(const struct tsc_sample *a, const struct tsc_sample *b);
#endif
