/* What can this host's KVM run?  Measured once per process with tiny
 * guests (docs/design.md: on PVM hosts, CR0.PG=1 in legacy 32-bit mode is
 * a #GP and a triple fault, a 32-bit IRET is an emulation failure, and a
 * write to IA32_TSC_ADJUST does not move the guest's TSC). */
#ifndef BTVM_MONITOR_KVM_PROBE_H
#define BTVM_MONITOR_KVM_PROBE_H

enum kvm_probe_result {
	KVM_PROBE_FULL = 0,        /* everything probed runs */
	KVM_PROBE_LIMITED = 3,     /* unpaged protected mode runs, something else not */
	KVM_PROBE_UNAVAILABLE = 4, /* no usable KVM */
};

/* Capabilities, as bits. */
#define KVM_CAN_PROTECTED 1u  /* flat 32-bit protected mode, port I/O */
#define KVM_CAN_IRET      2u  /* a same-privilege 32-bit IRET */
#define KVM_CAN_PAGING    4u  /* 32-bit 4 KiB paging (CR0.PG=1) */
#define KVM_CAN_TSC_OFFSET 8u /* a write to IA32_TSC_ADJUST moves the guest TSC */
#define KVM_CAN_ALL       15u

/* The capability bits, and a one-line explanation (static storage). */
unsigned kvm_probe(const char **line);
/* Does the host have every capability in `needs`?  Fills *line. */
enum kvm_probe_result kvm_probe_for(unsigned needs, const char **line);
/* Parses a list of iret, paging, tsc (or "none") into capability bits;
 * -1 on junk. */
int kvm_probe_parse_needs(const char *s, unsigned *needs);
#endif
