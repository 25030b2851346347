/* Thin helpers over the /dev/kvm API shared by the KVM backend and the
 * host probe: open, create a VM with one memory slot and one vCPU, and
 * put the vCPU in flat 32-bit protected mode (the multiboot entry state). */
#ifndef BTVM_MONITOR_KVM_UTIL_H
#define BTVM_MONITOR_KVM_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "monitor/cpu_model.h"

struct kvm_handle {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

/* Each returns 0, or -1 with one line in err. */
int kvm_handle_open(struct kvm_handle *h, char *err, size_t errlen);
int kvm_handle_add_ram(struct kvm_handle *h, void *host, uint64_t size, char *err, size_t errlen);
int kvm_handle_create_vcpu(struct kvm_handle *h, char *err, size_t errlen);
/* Replaces the host-supported CPUID that create_vcpu installs with btvm's
 * CPU model (the one bt shows). */
int kvm_handle_set_cpu_model(struct kvm_handle *h, const struct cpu_model *m, char *err, size_t errlen);
/* The vCPU's TSC frequency (KVM_GET_TSC_KHZ), 0 if KVM does not say. */
uint64_t kvm_handle_tsc_hz(struct kvm_handle *h);
int kvm_handle_set_flat32(struct kvm_handle *h, const struct kvm_regs *regs, char *err, size_t errlen);
void kvm_handle_close(struct kvm_handle *h);
/* "kvm_pvm", "kvm_intel", "kvm_amd" or "kvm", from /sys/module. */
const char *kvm_module_name(void);
#endif
