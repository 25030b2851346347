/* The generic run loop, shared by every backend: run the vCPU, dispatch
 * its exit to the port-I/O or MMIO bus, fire expired device timers, feed
 * console input, and deliver interrupts when the guest can take them: the
 * local APIC is the CPU's INTR input (it passes the 8259's through LINT0
 * in ExtINT mode); with --no-apic the 8259 is.
 * HLT sleeps (ppoll) until a timer deadline or a kick: no busy-waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "monitor/sandbox.h"
#include "monitor/vm.h"

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Timers, input and the --timeout limit: everything that moves with host
 * time.  Returns the next deadline the host timer must wake us for. */
static uint64_t poll_host_events(struct vm *vm)
{
	kick_consume();
	uint64_t now = host_monotonic_ns();
	timerq_run(&vm->tq, now);
	console_pump(vm);
	if (now >= vm->timeout_deadline)
		vm_request_stop(vm, BTVM_EXIT_TIMEOUT, "guest still running after --timeout %g s; stopped",
				vm->cfg->timeout_sec);
	return min_u64(timerq_next_deadline(&vm->tq), vm->timeout_deadline);
}

bool vm_intr_pending(struct vm *vm)
{
	return vm->has_apic ? lapic_intr_pending(&vm->lapic) : pic_intr_pending(&vm->pic);
}

/* The INTA cycle: the APIC dispatches its highest fixed vector above PPR
 * (SDM Vol. 3A 11.8.3) or runs the 8259's INTA for an ExtINT. */
int vm_intr_ack(struct vm *vm)
{
	return vm->has_apic ? lapic_intr_ack(&vm->lapic) : pic_ack(&vm->pic);
}

bool vm_nmi_pending(struct vm *vm)
{
	return vm->has_apic && lapic_nmi_pending(&vm->lapic);
}

bool vm_nmi_ack(struct vm *vm)
{
	return vm->has_apic && lapic_nmi_ack(&vm->lapic);
}

/* Could an NMI still arrive while the CPU halts with IF=0?  One is
 * latched, or an unmasked IOAPIC entry delivers NMI (a device interrupt
 * on that pin wakes the CPU, as Linux's NMI watchdog through the IOAPIC
 * does). */
static bool nmi_may_come(struct vm *vm)
{
	if (!vm->has_apic)
		return false;
	if (lapic_nmi_pending(&vm->lapic))
		return true;
	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = vm->ioapic.rte[pin];
		if (!(e & IOAPIC_RTE_MASKED) && ((e >> 8) & 7) == 4 /* NMI */)
			return true;
	}
	return false;
}

static void deliver_interrupts(struct vm *vm)
{
	const struct cpu_backend *be = vm->backend;
	if (be->inject_nmi && vm_nmi_pending(vm) && vm_nmi_ack(vm) && be->inject_nmi(vm) == 0)
		vm->stats.nmis_injected++;
	if (!vm_intr_pending(vm)) {
		be->request_irq_window(vm, false);
		return;
	}
	if (!be->irq_window_open(vm)) {
		be->request_irq_window(vm, true);
		return;
	}
	int vector = vm_intr_ack(vm);
	if (vector >= 0) {
		be->inject_irq(vm, vector);
		vm->stats.irqs_injected++;
	}
	/* Another request waiting behind this one (a lower-priority IRQ): come
	 * back as soon as the guest can take it, not at the next timer tick,
	 * where the timer would win again and starve it. */
	be->request_irq_window(vm, vm_intr_pending(vm));
}

static void do_io(struct vm *vm, struct vcpu_exit *ex)
{
	for (uint32_t i = 0; i < ex->io.count && !vm->stop; i++) {
		uint8_t *d = ex->io.data + (size_t)i * ex->io.size;
		io_bus_access(&vm->pio, ex->io.port, d, ex->io.size, ex->io.write);
	}
	if (ex->io.write)
		vm->stats.io_writes += ex->io.count;
	else
		vm->stats.io_reads += ex->io.count;
}

static void do_mmio(struct vm *vm, struct vcpu_exit *ex)
{
	io_bus_access(&vm->mmio, ex->mmio.addr, ex->mmio.data, ex->mmio.len, ex->mmio.write);
	if (ex->mmio.write)
		vm->stats.mmio_writes++;
	else
		vm->stats.mmio_reads++;
}

/* HLT: the vCPU sleeps until an interrupt it can take, or an NMI, is
 * pending.  With EFLAGS.IF = 0 only an NMI can wake it; when none can
 * come (nmi_may_come) a real PC would hang there for ever: we end the run
 * and say so. */
static void do_halt(struct vm *vm)
{
	vm->stats.halts++;
	bool intr_ok = vm->backend->irq_window_open(vm);
	if (!intr_ok && !nmi_may_come(vm)) {
		vm_request_stop(vm, BTVM_EXIT_GUEST_CRASH,
				"guest halted with interrupts disabled (HLT with EFLAGS.IF=0): nothing can wake it");
		return;
	}
	while (!vm->stop && !(intr_ok && vm_intr_pending(vm)) && !vm_nmi_pending(vm)) {
		uint64_t deadline = poll_host_events(vm);
		if (vm->stop || (intr_ok && vm_intr_pending(vm)) || vm_nmi_pending(vm))
			break;
		vm->stats.halt_sleeps++;
		kick_wait(vm, deadline);
	}
}

int vm_run(struct vm *vm)
{
	const struct cpu_backend *be = vm->backend;
	struct vcpu_exit ex;
	bool selftest_done = false;
	vm->stats.start_ns = host_monotonic_ns();
	while (!vm->stop) {
		uint64_t deadline = poll_host_events(vm);
		if (vm->stop)
			break;
		deliver_interrupts(vm);
		kick_arm(vm, deadline);

		memset(&ex, 0, sizeof(ex));
		if (be->run(vm, &ex) < 0) {
			vm_request_stop(vm, BTVM_EXIT_INTERNAL, "%s backend: run failed: %s",
					be->name, strerror(errno));
			break;
		}
		vm->stats.exits[ex.kind]++;
		if (vm->cfg->n_sandbox_selftest && !selftest_done && !vm->stop) {
			/* the guest runs: try the forbidden calls (docs/security.md) */
			selftest_done = true;
			for (unsigned i = 0; i < vm->cfg->n_sandbox_selftest; i++)
				sandbox_selftest_run(vm->cfg->sandbox_selftest[i]);
		}
		switch (ex.kind) {
		case VCPU_EXIT_IO:
			do_io(vm, &ex);
			break;
		case VCPU_EXIT_MMIO:
			do_mmio(vm, &ex);
			break;
		case VCPU_EXIT_HLT:
			do_halt(vm);
			break;
		case VCPU_EXIT_IRQ_WINDOW:
		case VCPU_EXIT_KICK:
			break;
		case VCPU_EXIT_SHUTDOWN:
			vm_request_stop(vm, BTVM_EXIT_GUEST_CRASH, "guest triple-faulted (shutdown)%s%s",
					ex.msg[0] ? ": " : "", ex.msg);
			be->dump_state(vm, stderr);
			break;
		case VCPU_EXIT_HOST_LIMIT:
			vm_request_stop(vm, BTVM_EXIT_HOST_LIMIT, "%s", ex.msg);
			break;
		case VCPU_EXIT_ERROR:
			vm_request_stop(vm, BTVM_EXIT_INTERNAL, "%s backend: %s", be->name, ex.msg);
			be->dump_state(vm, stderr);
			break;
		}
	}
	vm->stats.end_ns = host_monotonic_ns();
	kick_arm(vm, VTIME_NEVER);
	if (vm->exit_status == BTVM_EXIT_TIMEOUT)
		be->dump_state(vm, stderr); /* where the guest was when time ran out */
	return vm->exit_status;
}
