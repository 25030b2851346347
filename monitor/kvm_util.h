/* Thin helpers over the /dev/kvm API shared by the KVM backend and the
 * host probe: open, create a VM with one memory slot and one vCPU, and
 * put the vCPU in flat 32-bit protected mode (the multiboot entry state). */
#ifndef BTVM_MONITOR_KVM_UTIL_H
#define BTVM_MONITOR_KVM_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

struct kvm_handle {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

/* Each returns 0, or -1 with one line in err. */
int kvm_handle_open(struct kvm_handle *h, char *err, size_t errlen);
int kvm_handle_add_ram(struct kvm_handle *h, void *host, uint64_t size, char *err, size_t errlen);
int kvm_handle_create_vcpu(struct kvm_handle *h, char *err, size_t errlen);
int kvm_handle_set_flat32(struct kvm_handle *h, const struct kvm_regs *regs, char *err, size_t errlen);
void kvm_handle_close(struct kvm_handle *h);
/* "kvm_pvm", "kvm_intel", "kvm_amd" or "kvm", from /sys/module. */
const char *kvm_module_name(void);
#endif
