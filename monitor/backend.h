/* The execution backend interface, implemented by `bt` (binary
 * translation, bt/bt_backend.c) and `kvm` (hardware assistance,
 * monitor/kvm_backend.c).  Devices and the loader never know which
 * backend runs: the generic run loop
 * (monitor/run_loop.c) calls run(), dispatches the exit to the buses and
 * injects interrupts when the backend says the guest can take one. */
#ifndef BTVM_MONITOR_BACKEND_H
#define BTVM_MONITOR_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "loader/loader.h"

struct vm;
struct sandbox_spec;

enum vcpu_exit_kind {
	VCPU_EXIT_IO,           /* port I/O: see io */
	VCPU_EXIT_MMIO,         /* access to a guest-physical address with no RAM */
	VCPU_EXIT_HLT,          /* guest executed HLT */
	VCPU_EXIT_IRQ_WINDOW,   /* the guest can now take an interrupt */
	VCPU_EXIT_KICK,         /* a host signal (timer, input) interrupted run() */
	VCPU_EXIT_SHUTDOWN,     /* triple fault */
	VCPU_EXIT_HOST_LIMIT,   /* the guest did something this host cannot run (msg) */
	VCPU_EXIT_ERROR,        /* backend failure (msg) */
};

struct vcpu_exit {
	enum vcpu_exit_kind kind;
	union {
		struct {
			uint16_t port;
			uint8_t size;    /* 1, 2, 4 */
			bool write;
			uint32_t count;  /* > 1 for string I/O */
			uint8_t *data;   /* count * size bytes, backend-owned; filled by
					    the loop for reads before the next run() */
		} io;
		struct {
			uint64_t addr;
			uint8_t *data;
			unsigned len;
			bool write;
		} mmio;
	};
	char msg[640];
};

struct cpu_backend {
	const char *name;
	/* Set up the vCPU in the state of *bs (32-bit protected mode, flat
	 * segments, paging off).  0, or -1 with one line in err. */
	int (*create)(struct vm *vm, const struct boot_state *bs, char *err, size_t errlen);
	/* Run the guest until something needs the monitor. 0, or -1 on
	 * failure of the host call itself (errno kept). */
	int (*run)(struct vm *vm, struct vcpu_exit *exit);
	/* True when an external interrupt could be delivered right now
	 * (EFLAGS.IF = 1 and no STI/MOV SS interrupt shadow). */
	bool (*irq_window_open)(struct vm *vm);
	/* Deliver external interrupt `vector` through the guest IDT. */
	int (*inject_irq)(struct vm *vm, int vector);
	/* Ask for a VCPU_EXIT_IRQ_WINDOW when the window opens. */
	void (*request_irq_window)(struct vm *vm, bool on);
	/* Print the guest registers for a crash report. */
	void (*dump_state)(struct vm *vm, FILE *f);
	/* Backend counters for --stats (may be NULL). */
	void (*print_stats)(struct vm *vm, FILE *f);
	void (*destroy)(struct vm *vm);
	/* What the run phase of this backend needs from the host sandbox
	 * (monitor/sandbox.h): fds, windows it remaps (may be NULL). */
	void (*sandbox_spec)(struct vm *vm, struct sandbox_spec *s);
	/* A device wrote guest RAM [pa, pa+len) behind the CPU's back (DMA):
	 * bt drops the translations made from it (may be NULL). */
	void (*phys_written)(struct vm *vm, uint64_t pa, uint64_t len);
};

/* The registers a crash report shows, filled by each backend's dump_state. */
struct guest_state_view {
	uint32_t eip, eflags, eax, ebx, ecx, edx, esi, edi, ebp, esp;
	uint16_t cs, ss;
	uint32_t cr0, cr2, cr3, cr4, gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
};
/* Prints the three "btvm: guest state" lines (monitor/stats.c). */
void guest_state_print(FILE *f, const struct guest_state_view *g);

extern const struct cpu_backend kvm_backend;
extern const struct cpu_backend bt_backend;
/* bt/views.c */
void bt_sandbox_spec(struct vm *vm, struct sandbox_spec *s);
#endif
