/* --stats: counters printed to stderr when the run ends. */
#include <stdio.h>
#include "monitor/vm.h"

static const char *const exit_names[] = {
	[VCPU_EXIT_IO] = "port I/O",
	[VCPU_EXIT_MMIO] = "MMIO",
	[VCPU_EXIT_HLT] = "HLT",
	[VCPU_EXIT_IRQ_WINDOW] = "interrupt window",
	[VCPU_EXIT_KICK] = "host timer/input kick",
	[VCPU_EXIT_SHUTDOWN] = "shutdown",
	[VCPU_EXIT_HOST_LIMIT] = "host limit",
	[VCPU_EXIT_ERROR] = "error",
};

void stats_print(struct vm *vm, FILE *f)
{
	const struct vm_stats *s = &vm->stats;
	double secs = (double)(s->end_ns - s->start_ns) / 1e9;
	uint64_t total = 0;
	for (unsigned i = 0; i <= VCPU_EXIT_ERROR; i++)
		total += s->exits[i];
	fprintf(f, "btvm stats: backend %s, %.3f s of guest run time\n", vm->backend->name, secs);
	fprintf(f, "  exits: %llu", (unsigned long long)total);
	if (secs > 0)
		fprintf(f, " (%.0f per second)", (double)total / secs);
	fputc('\n', f);
	for (unsigned i = 0; i <= VCPU_EXIT_ERROR; i++)
		if (s->exits[i])
			fprintf(f, "    %-22s %llu\n", exit_names[i], (unsigned long long)s->exits[i]);
	fprintf(f, "  port I/O: %llu reads, %llu writes; unclaimed ports: %llu reads (returned 0xff), %llu writes (dropped)\n",
		(unsigned long long)s->io_reads, (unsigned long long)s->io_writes,
		(unsigned long long)vm->pio.unhandled_reads, (unsigned long long)vm->pio.unhandled_writes);
	fprintf(f, "  MMIO: %llu reads, %llu writes; unclaimed: %llu reads, %llu writes\n",
		(unsigned long long)s->mmio_reads, (unsigned long long)s->mmio_writes,
		(unsigned long long)vm->mmio.unhandled_reads, (unsigned long long)vm->mmio.unhandled_writes);
	fprintf(f, "  interrupts injected: %llu, NMIs %llu; HLT: %llu (slept %llu times)\n",
		(unsigned long long)s->irqs_injected, (unsigned long long)s->nmis_injected, (unsigned long long)s->halts,
		(unsigned long long)s->halt_sleeps);
	if (vm->backend->print_stats)
		vm->backend->print_stats(vm, f);
}

void guest_state_print(FILE *f, const struct guest_state_view *g)
{
	fprintf(f, "btvm: guest state: EIP=%08x EFLAGS=%08x EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
		   "btvm:   ESI=%08x EDI=%08x EBP=%08x ESP=%08x CS=%04x SS=%04x\n"
		   "btvm:   CR0=%08x CR2=%08x CR3=%08x CR4=%08x GDT=%08x/%x IDT=%08x/%x\n",
		g->eip, g->eflags, g->eax, g->ebx, g->ecx, g->edx, g->esi, g->edi, g->ebp, g->esp,
		g->cs, g->ss, g->cr0, g->cr2, g->cr3, g->cr4, g->gdt_base, g->gdt_limit, g->idt_base,
		g->idt_limit);
}
