/* The hardware-assisted backend: the guest runs under /dev/kvm with no
 * in-kernel interrupt controller, so every device (PIC included) lives in
 * btvm exactly as under the bt backend, and interrupts are injected with
 * KVM_INTERRUPT when KVM reports the window open. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "monitor/kvm_probe.h"
#include "monitor/kvm_util.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

struct kvm_state {
	struct kvm_handle h;
};

static struct kvm_state *ks(struct vm *vm) { return vm->backend_state; }

/* Inside KVM_RUN the kick signal is unblocked so that a timer or console
 * input makes KVM_RUN return EINTR; everywhere else it stays blocked. */
static int set_run_sigmask(struct kvm_state *s, char *err, size_t errlen)
{
	sigset_t cur;
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	sigdelset(&cur, BTVM_KICK_SIGNAL);
	struct {
		struct kvm_signal_mask m;
		uint8_t set[8];
	} arg;
	arg.m.len = 8; /* the kernel's sigset size on x86-64 */
	memcpy(arg.set, &cur, 8);
	if (ioctl(s->h.vcpu_fd, KVM_SET_SIGNAL_MASK, &arg) < 0) {
		snprintf(err, errlen, "KVM: KVM_SET_SIGNAL_MASK: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Selectors and GDTR other than the multiboot ones, when the loader asks
 * (the Linux 32-bit boot protocol: see struct boot_state). */
static int set_boot_segments(struct kvm_state *s, const struct boot_state *bs, char *err, size_t errlen)
{
	struct kvm_sregs sr;
	if (!bs->cs_sel)
		return 0;
	if (ioctl(s->h.vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		goto fail;
	sr.cs.selector = bs->cs_sel;
	sr.ds.selector = sr.es.selector = sr.fs.selector = sr.gs.selector = sr.ss.selector = bs->ds_sel;
	sr.gdt.base = bs->gdt_base;
	sr.gdt.limit = bs->gdt_limit;
	if (ioctl(s->h.vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "KVM: cannot set the vCPU's entry segments: %s", strerror(errno));
	return -1;
}

static int kvm_create(struct vm *vm, const struct boot_state *bs, char *err, size_t errlen)
{
	struct kvm_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vm->backend_state = s;
	if (kvm_handle_open(&s->h, err, errlen) < 0)
		return -1;
	/* A Linux kernel turns paging on within its first instructions after
	 * decompressing; where KVM cannot run 32-bit paging (PVM), say so now
	 * rather than after minutes of decompression. */
	const char *line;
	if (bs->kind && !strcmp(bs->kind, "linux-bzimage") && !(kvm_probe(&line) & KVM_CAN_PAGING)) {
		snprintf(err, errlen, "a Linux kernel needs 32-bit paging, which this host's KVM cannot run (%s): "
			 "run it with --accel bt", line + 5 /* skip "kvm: " */);
		return -1;
	}
	struct kvm_regs regs = {
		.rax = bs->eax, .rbx = bs->ebx, .rcx = bs->ecx, .rdx = bs->edx,
		.rsi = bs->esi, .rdi = bs->edi, .rbp = bs->ebp, .rsp = bs->esp,
		.rip = bs->eip, .rflags = 0x2,
	};
	if (kvm_handle_add_ram(&s->h, vm->mem.phys.base, vm->mem.phys.size, err, errlen) < 0 ||
	    kvm_handle_create_vcpu(&s->h, err, errlen) < 0)
		return -1;
	/* The guest TSC runs at KVM's rate for this vCPU (the host's unless
	 * KVM scales it); CPUID 15H reports that. */
	uint64_t tsc_hz = kvm_handle_tsc_hz(&s->h);
	if (tsc_hz)
		vm->cpu_model.tsc_hz = tsc_hz;
	/* IA32_TSC_ADJUST is KVM's to implement; announced only where a
	 * write to it moves the TSC (kvm_probe.c).  (PVM puts the host's
	 * leaves 1, 7 and 0DH in front of the guest whatever btvm sets.) */
	vm->cpu_model.tsc_adjust = kvm_probe(NULL) & KVM_CAN_TSC_OFFSET;
	if (kvm_handle_set_cpu_model(&s->h, &vm->cpu_model, err, errlen) < 0 ||
	    kvm_handle_set_flat32(&s->h, &regs, err, errlen) < 0 ||
	    set_boot_segments(s, bs, err, errlen) < 0 ||
	    set_run_sigmask(s, err, errlen) < 0)
		return -1;
	return 0;
}

/* PVM-style hosts turn CR0.PG=1 in legacy 32-bit mode into #GP and a
 * triple fault, and fail to emulate a 32-bit IRET (measured: KVM internal
 * error, suberror 1, with EIP at the IRET).  When the probe says this host
 * is such a host, the exit is reported as the host limit it is, not as a
 * guest crash or a btvm failure. */
static bool at_iret(struct vm *vm, struct kvm_state *s)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	if (ioctl(s->h.vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(s->h.vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return false;
	if (sr.cr0 & 0x80000000u)
		return false; /* paged: the linear address is not physical */
	const uint8_t *p = phys_ptr(&vm->mem.phys, (uint32_t)(sr.cs.base + r.rip), 2);
	return p && (p[0] == 0xcf || (p[0] == 0x66 && p[1] == 0xcf));
}

static bool host_limit(struct vm *vm, struct kvm_state *s, bool shutdown, char *msg, size_t len)
{
	const char *line;
	unsigned caps = kvm_probe(&line);
	const char *what;
	if (shutdown && !(caps & KVM_CAN_PAGING))
		what = "the guest triple-faulted, and this host cannot run 32-bit paged guests under KVM";
	else if (!shutdown && !(caps & KVM_CAN_IRET) && at_iret(vm, s))
		what = "KVM failed to emulate the guest's IRET, which this host cannot run";
	else
		return false;
	snprintf(msg, len, "%s (%s): run it with --accel bt", what, line + 5 /* skip "kvm: " */);
	return true;
}

static int kvm_run_vcpu(struct vm *vm, struct vcpu_exit *ex)
{
	struct kvm_state *s = ks(vm);
	struct kvm_run *r = s->h.run;
	if (ioctl(s->h.vcpu_fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			ex->kind = VCPU_EXIT_KICK;
			return 0;
		}
		return -1;
	}
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		ex->kind = VCPU_EXIT_IO;
		ex->io.port = r->io.port;
		ex->io.size = r->io.size;
		ex->io.write = r->io.direction == KVM_EXIT_IO_OUT;
		ex->io.count = r->io.count;
		ex->io.data = (uint8_t *)r + r->io.data_offset;
		return 0;
	case KVM_EXIT_MMIO:
		ex->kind = VCPU_EXIT_MMIO;
		ex->mmio.addr = r->mmio.phys_addr;
		ex->mmio.data = r->mmio.data;
		ex->mmio.len = r->mmio.len;
		ex->mmio.write = r->mmio.is_write;
		return 0;
	case KVM_EXIT_HLT:
		ex->kind = VCPU_EXIT_HLT;
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		ex->kind = VCPU_EXIT_IRQ_WINDOW;
		return 0;
	case KVM_EXIT_INTR:
		ex->kind = VCPU_EXIT_KICK;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		if (host_limit(vm, s, true, ex->msg, sizeof(ex->msg)))
			ex->kind = VCPU_EXIT_HOST_LIMIT;
		else
			ex->kind = VCPU_EXIT_SHUTDOWN;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		ex->kind = VCPU_EXIT_ERROR;
		snprintf(ex->msg, sizeof(ex->msg), "VM entry failed (hardware reason 0x%llx)",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		if (host_limit(vm, s, false, ex->msg, sizeof(ex->msg))) {
			ex->kind = VCPU_EXIT_HOST_LIMIT;
			return 0;
		}
		ex->kind = VCPU_EXIT_ERROR;
		snprintf(ex->msg, sizeof(ex->msg), "KVM internal error (suberror %u)", r->internal.suberror);
		return 0;
	default:
		ex->kind = VCPU_EXIT_ERROR;
		snprintf(ex->msg, sizeof(ex->msg), "unexpected KVM exit reason %u", r->exit_reason);
		return 0;
	}
}

static bool kvm_irq_window_open(struct vm *vm)
{
	struct kvm_run *r = ks(vm)->h.run;
	return r->ready_for_interrupt_injection && r->if_flag;
}

static int kvm_inject_irq(struct vm *vm, int vector)
{
	struct kvm_interrupt irq = { .irq = (uint32_t)vector };
	return ioctl(ks(vm)->h.vcpu_fd, KVM_INTERRUPT, &irq);
}

static void kvm_request_irq_window(struct vm *vm, bool on)
{
	ks(vm)->h.run->request_interrupt_window = on;
}

static void kvm_dump_state(struct vm *vm, FILE *f)
{
	struct kvm_state *s = ks(vm);
	struct kvm_regs r;
	struct kvm_sregs sr;
	if (!s || ioctl(s->h.vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(s->h.vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return;
	struct guest_state_view g = {
		(uint32_t)r.rip, (uint32_t)r.rflags, (uint32_t)r.rax, (uint32_t)r.rbx, (uint32_t)r.rcx,
		(uint32_t)r.rdx, (uint32_t)r.rsi, (uint32_t)r.rdi, (uint32_t)r.rbp, (uint32_t)r.rsp,
		sr.cs.selector, sr.ss.selector, (uint32_t)sr.cr0, (uint32_t)sr.cr2, (uint32_t)sr.cr3,
		(uint32_t)sr.cr4, (uint32_t)sr.gdt.base, (uint32_t)sr.idt.base, sr.gdt.limit, sr.idt.limit,
	};
	guest_state_print(f, &g);
}

static void kvm_destroy(struct vm *vm)
{
	struct kvm_state *s = ks(vm);
	if (!s)
		return;
	kvm_handle_close(&s->h);
	free(s);
	vm->backend_state = NULL;
}

/* The run phase uses the vCPU fd only (KVM_RUN, KVM_INTERRUPT, and
 * KVM_GET_REGS/SREGS for host_limit() and crash reports).  host_limit()
 * also needs the probe's answer: run the probe now, while it may still
 * open /dev/kvm and create its test VMs; its result is cached. */
static void kvm_sandbox_spec(struct vm *vm, struct sandbox_spec *s)
{
	const char *line;
	kvm_probe(&line);
	s->kvm_vcpu_fd = ks(vm)->h.vcpu_fd;
}

const struct cpu_backend kvm_backend = {
	.name = "kvm",
	.create = kvm_create,
	.run = kvm_run_vcpu,
	.irq_window_open = kvm_irq_window_open,
	.inject_irq = kvm_inject_irq,
	.request_irq_window = kvm_request_irq_window,
	.dump_state = kvm_dump_state,
	.destroy = kvm_destroy,
	.sandbox_spec = kvm_sandbox_spec,
};
