#include "monitor/kvm_util.h"
#include "monitor/host_probe.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

const char *kvm_module_name(void)
{
	static const char *const mods[] = { "kvm_pvm", "kvm_intel", "kvm_amd" };
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (access(path, F_OK) == 0)
			return mods[i];
	}
	return "kvm";
}

int kvm_handle_open(struct kvm_handle *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->kvm_fd = h->vm_fd = h->vcpu_fd = -1;
	if (host_mask_has(HOST_KVM)) {
		snprintf(err, errlen, "KVM is not available: masked by " HOST_MASK_ENV " (use --accel bt)");
		return -1;
	}
	h->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (h->kvm_fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "KVM is not available: /dev/kvm does not exist on this host (use --accel bt)");
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "KVM is not available: /dev/kvm: %s (is this user in the kvm group?)", strerror(e));
		else
			snprintf(err, errlen, "KVM is not available: /dev/kvm: %s", strerror(e));
		return -1;
	}
	int api = ioctl(h->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(err, errlen, "KVM is not usable: API version %d, btvm needs %d", api, KVM_API_VERSION);
		goto fail;
	}
	h->vm_fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
	if (h->vm_fd < 0) {
		snprintf(err, errlen, "KVM is not usable: KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	/* Intel VMX needs a 3-page area for the real-mode TSS; harmless elsewhere. */
	if (ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0)
		ioctl(h->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	return 0;
fail:
	kvm_handle_close(h);
	return -1;
}

int kvm_handle_add_ram(struct kvm_handle *h, void *host, uint64_t size, char *err, size_t errlen)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(h->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		snprintf(err, errlen, "KVM: cannot register guest RAM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int set_cpuid(struct kvm_handle *h, char *err, size_t errlen)
{
	int n = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->nent = (uint32_t)n;
	if (ioctl(h->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0 ||
	    ioctl(h->vcpu_fd, KVM_SET_CPUID2, c) < 0) {
		snprintf(err, errlen, "KVM: cannot set CPUID: %s", strerror(errno));
		free(c);
		return -1;
	}
	free(c);
	return 0;
}

int kvm_handle_set_cpu_model(struct kvm_handle *h, const struct cpu_model *m, char *err, size_t errlen)
{
	struct cpu_model_entry e[64];
	size_t n = cpu_model_entries(m, e, sizeof(e) / sizeof(e[0]));
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->nent = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		c->entries[i] = (struct kvm_cpuid_entry2){
			.function = e[i].leaf, .index = e[i].subleaf,
			.flags = e[i].indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = e[i].r.eax, .ebx = e[i].r.ebx, .ecx = e[i].r.ecx, .edx = e[i].r.edx,
		};
	int rc = ioctl(h->vcpu_fd, KVM_SET_CPUID2, c);
	if (rc < 0)
		snprintf(err, errlen, "KVM: cannot set the CPU model's CPUID: %s", strerror(errno));
	free(c);
	return rc < 0 ? -1 : 0;
}

uint64_t kvm_handle_tsc_hz(struct kvm_handle *h)
{
	if (ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) <= 0)
		return 0;
	int khz = ioctl(h->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

int kvm_handle_create_vcpu(struct kvm_handle *h, char *err, size_t errlen)
{
	h->vcpu_fd = ioctl(h->vm_fd, KVM_CREATE_VCPU, 0);
	if (h->vcpu_fd < 0) {
		snprintf(err, errlen, "KVM: cannot create a vCPU: %s", strerror(errno));
		return -1;
	}
	int sz = ioctl(h->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0) {
		snprintf(err, errlen, "KVM: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	h->run_size = (size_t)sz;
	h->run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, h->vcpu_fd, 0);
	if (h->run == MAP_FAILED) {
		h->run = NULL;
		snprintf(err, errlen, "KVM: cannot map the vCPU run area: %s", strerror(errno));
		return -1;
	}
	return set_cpuid(h, err, errlen);
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

/* Multiboot 0.6.96 section 3.2 "Machine state": CS a 32-bit read/execute
 * code segment with offset 0 and limit 0xFFFFFFFF, DS/ES/FS/GS/SS 32-bit
 * read/write data segments likewise, A20 on, CR0.PG=0, CR0.PE=1,
 * EFLAGS.VM=0, EFLAGS.IF=0.  GDTR/IDTR are undefined for the guest (it
 * must load its own); the selector values are the conventional 0x08/0x10. */
int kvm_handle_set_flat32(struct kvm_handle *h, const struct kvm_regs *regs, char *err, size_t errlen)
{
	struct kvm_sregs sr;
	if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		goto fail;
	flat_seg(&sr.cs, 0x08, 0xb);  /* execute/read, accessed */
	flat_seg(&sr.ds, 0x10, 0x3);  /* read/write, accessed */
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.type = 0xb;             /* busy 32-bit TSS: VMX entry checks demand a usable TR */
	sr.tr.present = 1;
	sr.tr.limit = 0x67;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.type = 0x2;
	sr.ldt.unusable = 1;
	sr.gdt.base = 0;
	sr.gdt.limit = 0;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = 0x11;                /* PE | ET */
	sr.cr2 = sr.cr3 = sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(h->vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		goto fail;
	if (ioctl(h->vcpu_fd, KVM_SET_REGS, regs) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "KVM: cannot set the vCPU's entry state: %s", strerror(errno));
	return -1;
}

void kvm_handle_close(struct kvm_handle *h)
{
	if (h->run)
		munmap(h->run, h->run_size);
	if (h->vcpu_fd >= 0)
		close(h->vcpu_fd);
	if (h->vm_fd >= 0)
		close(h->vm_fd);
	if (h->kvm_fd >= 0)
		close(h->kvm_fd);
	memset(h, 0, sizeof(*h));
	h->kvm_fd = h->vm_fd = h->vcpu_fd = -1;
}
