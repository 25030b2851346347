#include "monitor/host_tsc.h"
#include <cpuid.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#define SAMPLE_TRIES 16

void tsc_sample_take(const struct tsc_clocks *c, unsigned tries, struct tsc_sample *s)
{
	s->width = UINT64_MAX;
	for (unsigned i = 0; i < tries; i++) {
		uint64_t a = c->tsc(c->opaque);
		uint64_t ns = c->ns(c->opaque);
		uint64_t b = c->tsc(c->opaque);
		if (b >= a && b - a < s->width) {
			s->width = b - a;
			s->tsc = a + (b - a) / 2;
			s->ns = ns;
		}
	}
}

uint64_t tsc_hz_between(const struct tsc_sample *a, const struct tsc_sample *b)
{
	if (b->ns <= a->ns || b->tsc <= a->tsc || a->width == UINT64_MAX || b->width == UINT64_MAX)
		return 0;
	unsigned __int128 ticks = (unsigned __int128)(b->tsc - a->tsc) * 1000000000u;
	uint64_t dt = b->ns - a->ns;
	return (uint64_t)((ticks + dt / 2) / dt);
}

uint64_t tsc_hz_from_cpuid(host_cpuid_fn cpuid, const char **how)
{
	struct cpuid_regs r;
	cpuid(0, 0, &r);
	uint32_t max_basic = r.eax;
	if (max_basic >= 0x15) {
		cpuid(0x15, 0, &r);
		if (r.eax && r.ebx && r.ecx) {
			if (how)
				*how = "the host's CPUID 15H";
			return (uint64_t)r.ecx * r.ebx / r.eax;
		}
	}
	/* A hypervisor's timing leaf (VMware's, which KVM under QEMU's
	 * vmware-cpuid-freq also offers): only under those two signatures,
	 * other hypervisors use 40000010H for something else. */
	if (max_basic < 1)
		return 0;
	cpuid(1, 0, &r);
	if (!(r.ecx & (1u << 31)))
		return 0;
	cpuid(0x40000000, 0, &r);
	char sig[13];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	if (r.eax < 0x40000010 || r.eax > 0x400000ff ||
	    (strcmp(sig, "VMwareVMware") && memcmp(sig, "KVMKVMKVM\0\0\0", 12)))
		return 0;
	cpuid(0x40000010, 0, &r);
	if (!r.eax)
		return 0;
	if (how)
		*how = "the hypervisor's CPUID 40000010H";
	return (uint64_t)r.eax * 1000;
}

static void host_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	__cpuid_count(leaf, subleaf, r->eax, r->ebx, r->ecx, r->edx);
}

static uint64_t read_tsc(void *opaque)
{
	(void)opaque;
	return __rdtsc();
}

static uint64_t read_raw_ns(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct tsc_clocks host_clocks = { read_tsc, read_raw_ns, NULL };
static struct tsc_sample first;
static bool started, measured;
static uint64_t hz;
static const char *hz_how = "no source";

void host_tsc_start(void)
{
	if (started)
		return;
	tsc_sample_take(&host_clocks, SAMPLE_TRIES, &first);
	started = true;
}

static uint64_t calibrate(void)
{
	host_tsc_start();
	for (;;) {
		uint64_t now = read_raw_ns(NULL);
		if (now >= first.ns + HOST_TSC_CALIBRATE_NS)
			break;
		uint64_t left = first.ns + HOST_TSC_CALIBRATE_NS - now;
		struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
			break;
	}
	struct tsc_sample last;
	tsc_sample_take(&host_clocks, SAMPLE_TRIES, &last);
	return tsc_hz_between(&first, &last);
}

uint64_t host_tsc_hz(const char **how)
{
	if (!measured) {
		measured = true;
		hz = tsc_hz_from_cpuid(host_cpuid, &hz_how);
		if (!hz) {
			hz = calibrate();
			hz_how = "calibrated against CLOCK_MONOTONIC_RAW";
		}
		/* Nothing a host runs on is outside 100 MHz..20 GHz; a figure
		 * there came from a broken clock. */
		if (hz < 100000000ull || hz > 20000000000ull) {
			hz = 0;
			hz_how = "no source gave a plausible figure";
		}
	}
	if (how)
		*how = hz_how;
	return hz;
}

bool host_tsc_invariant(void)
{
	static int invariant = -1;
	if (invariant < 0) {
		struct cpuid_regs r;
		host_cpuid(0x80000000u, 0, &r);
		invariant = 0;
		if (r.eax >= 0x80000007u && r.eax <= 0x8000ffffu) {
			host_cpuid(0x80000007u, 0, &r);
			invariant = (r.edx >> 8) & 1;
		}
	}
	return invariant;
}
