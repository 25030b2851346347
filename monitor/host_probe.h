/* What this host lets btvm do: one probe that every part asks.
 *
 * Hosts differ in exactly what btvm leans on (docs/design.md, "Hosts"):
 * a paravirtualized cloud VM may run no 32-bit code at all, an older CPU
 * or kernel has no FSGSBASE in user space, CPUID faulting may be absent,
 * /dev/kvm may be missing or limited.  Each capability is measured once
 * per process, the risky ones in a forked child so that a fault kills
 * the child, never btvm.  BTVM_HOST_MASK (a comma-separated list of the
 * names below, or "all") makes the probe report capabilities as absent,
 * so that every fall-back can be tested on a host that has everything. */
#ifndef BTVM_MONITOR_HOST_PROBE_H
#define BTVM_MONITOR_HOST_PROBE_H
#include <stdbool.h>
#include <stdio.h>

enum host_cap {
	HOST_COMPAT_MODE,    /* a 32-bit code segment from modify_ldt runs (compatibility mode) */
	HOST_I386_SYSCALL,   /* int $0x80 reaches the kernel's i386 entry (seccomp can trap it) */
	HOST_SYSENTER,       /* SYSENTER from compatibility mode reaches the i386 entry */
	HOST_FSGSBASE,       /* RD/WR{FS,GS}BASE in user space (AT_HWCAP2 bit 1) */
	HOST_CPUID_FAULTING, /* arch_prctl(ARCH_SET_CPUID, 0) */
	HOST_KVM,            /* /dev/kvm runs a 32-bit protected-mode guest (monitor/kvm_probe.c) */
	HOST_CAP_COUNT,
};

/* The environment variable read by the probe. */
#define HOST_MASK_ENV "BTVM_HOST_MASK"

/* Probes every capability but KVM now: call before the guest windows
 * are reserved (the children need code below 2 GiB, MAP_32BIT). */
void host_probe_early(void);
/* Is `cap` usable here (and not masked)?  Probes on first use. */
bool host_has(enum host_cap cap);
/* Was `cap` present on the host but masked by BTVM_HOST_MASK? */
bool host_masked(enum host_cap cap);
/* i386 programs run natively on this host: compatibility mode and the
 * kernel's i386 system-call entry (both, not masked). */
bool host_runs_i386(void);
/* The capability's name as BTVM_HOST_MASK and `btvm probe --needs` spell
 * it ("compat-mode", ...), or NULL. */
const char *host_cap_name(enum host_cap cap);
/* One line: why the capability is absent ("masked by BTVM_HOST_MASK", or
 * what the probe saw), "" when present. */
const char *host_cap_why(enum host_cap cap);
/* What btvm does without it (for the table). */
const char *host_cap_fallback(enum host_cap cap);
/* Parses a comma-separated list of names into a bit set (1u << cap);
 * -1 on an unknown name, which *bad points at. */
int host_cap_parse(const char *list, unsigned *caps, const char **bad);
/* Does BTVM_HOST_MASK name `cap`?  (Reads only the environment.) */
bool host_mask_has(enum host_cap cap);
/* BTVM_HOST_MASK could not be parsed: the offending name, or NULL. */
const char *host_mask_error(void);
/* vm.max_map_count and vm.mmap_min_addr (-1: unreadable). */
long host_max_map_count(void);
long host_mmap_min_addr(void);
/* The table `btvm probe` prints. */
void host_probe_print(FILE *f);
#endif
