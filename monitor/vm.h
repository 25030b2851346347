/* One virtual machine: its memory, buses, platform devices, backend and
 * the state of the run loop. */
#ifndef BTVM_MONITOR_VM_H
#define BTVM_MONITOR_VM_H
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include "devices/acpi_pm.h"
#include "devices/ata.h"
#include "devices/debug_exit.h"
#include "devices/disk_image.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/io_bus.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pci.h"
#include "devices/pci_piix.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/port61.h"
#include "devices/rtc_cmos.h"
#include "devices/timer_queue.h"
#include "devices/uart16550.h"
#include "devices/vga.h"
#include "loader/e820.h"
#include "monitor/backend.h"
#include "monitor/cli.h"
#include "monitor/cpu_model.h"
#include "monitor/guest_mem.h"

/* btvm's own exit statuses are even; the guest's debug-exit ones are odd. */
enum {
	BTVM_EXIT_OK = 0,
	BTVM_EXIT_USAGE = 2,
	BTVM_EXIT_GUEST_CRASH = 4,
	BTVM_EXIT_HOST_LIMIT = 6,
	BTVM_EXIT_INTERNAL = 8,
	BTVM_EXIT_SANDBOX = 10,    /* the sandbox stopped a host system call (monitor/sandbox.c) */
	BTVM_EXIT_TIMEOUT = 124,
};

struct vm_stats {
	uint64_t exits[VCPU_EXIT_ERROR + 1];
	uint64_t io_reads, io_writes, mmio_reads, mmio_writes;
	uint64_t irqs_injected;
	uint64_t halts, halt_sleeps;
	uint64_t timer_kicks;
	uint64_t start_ns, end_ns;
};

struct vm {
	struct vm_config *cfg;
	struct guest_mem mem;
	struct e820_map e820;
	struct io_bus pio, mmio;
	struct timer_queue tq;

	struct pic_pair pic;
	struct pit8254 pit;
	struct port61 port61;
	struct rtc_cmos rtc;
	struct uart16550 com1;
	struct i8042 kbc;
	struct debug_exit dbg_exit;
	/* Present unless --no-apic: the local APIC (the CPU's interrupt
	 * input, with the 8259 on LINT0), the IOAPIC and the ACPI PM block. */
	bool has_apic;
	struct lapic lapic;
	struct ioapic ioapic;
	struct acpi_pm acpi_pm;
	struct pci_host pci;
	struct pci_piix piix;
	struct ata_channel ata[2];   /* primary and secondary IDE channels */
	/* the images of cfg->drives[] (index 0-3); fd -1 where none */
	struct disk_image drive_img[BTVM_IDE_DRIVES];
	struct vga vga;              /* VGA text mode: registers; the text buffer is RAM */
	struct fw_cfg fw_cfg;        /* QEMU's fw_cfg (monitor/fw_cfg_pc.c) */

	/* What CPUID shows the guest, under either backend (cpu_model.h);
	 * set before the backend is created. */
	struct cpu_model cpu_model;
	const struct cpu_backend *backend;
	void *backend_state;

	/* run-loop state */
	bool stop;
	int exit_status;
	char stop_reason[768];
	uint64_t timeout_deadline;  /* VTIME_NEVER when no --timeout */
	pthread_t vcpu_thread;
	timer_t host_timer;
	bool host_timer_ok;
	uint64_t host_timer_armed;  /* deadline currently armed */
	int serial_fd;              /* -1 for none */
	struct vm_stats stats;
};

/* The signal that interrupts a running vCPU (timers, console input). */
#define BTVM_KICK_SIGNAL SIGUSR1

/* platform.c */
int platform_create(struct vm *vm, char *err, size_t errlen);
/* Ends the run loop with a status and a one-line reason (may be empty). */
void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* IA32_APIC_BASE (MSR 0x1B) for the backends' RDMSR/WRMSR.  Both return
 * 0, or -1 when the access must raise #GP(0) (no APIC, reserved bits).
 * Moving the APIC elsewhere is refused: vm_request_stop with
 * BTVM_EXIT_HOST_LIMIT and a line saying so; the write returns 0 and the
 * backend should end the run. */
int vm_apic_base_read(struct vm *vm, uint64_t *value);
int vm_apic_base_write(struct vm *vm, uint64_t value);

/* fw_cfg_pc.c: the fw_cfg device with the PC's items, and the SMBIOS
 * tables in memory; after the kernel is loaded. */
int fw_cfg_pc_setup(struct vm *vm, char *err, size_t errlen);

/* run_loop.c */
int vm_run(struct vm *vm);
/* The CPU's INTR input (the local APIC, or the 8259 with --no-apic), and
 * the INTA cycle that takes its vector (-1: nothing after all).  The
 * backends use vm_intr_pending to decide whether to leave translated code. */
bool vm_intr_pending(struct vm *vm);
int vm_intr_ack(struct vm *vm);

/* kick.c: host timer and kicks for the vCPU thread */
int kick_setup(struct vm *vm, char *err, size_t errlen);
void kick_arm(struct vm *vm, uint64_t deadline_ns);
void kick_consume(void);       /* drop pending kicks (blocked while not in the guest) */
bool kick_pending(void);       /* a kick arrived since the last call (clears it) */
/* Called from the kick signal handler (async-signal-safe code only). */
extern void (*kick_hook)(void);
void kick_vcpu(struct vm *vm); /* from another thread */
void kick_wait(struct vm *vm, uint64_t deadline_ns); /* sleep until a kick or the deadline */

/* console.c: COM1 input from stdin, output sinks */
int console_setup(struct vm *vm, char *err, size_t errlen);
void console_pump(struct vm *vm);   /* move pending input bytes into the UART */
void console_restore(void);

/* stats.c */
void stats_print(struct vm *vm, FILE *f);
#endif
