/* The local APIC of the single vCPU, xAPIC (MMIO) mode at 0xFEE00000.
 * Section numbers are Intel SDM Vol. 3A chapter 11 ("Advanced
 * Programmable Interrupt Controller").
 *
 * Model:
 *  - Registers of Table 11-1: ID, version 0x00050014 (version 0x14, max
 *    LVT entry 5: timer, thermal, perf, LINT0, LINT1, error), TPR, APR
 *    (reads 0: one CPU, no arbitration), PPR, EOI, LDR, DFR, SVR, ISR/TMR/
 *    IRR (256 bits each), ESR, ICR, the six LVT entries, the timer's
 *    initial/current count and divide configuration.
 *  - Acceptance and dispatch per 11.8: IRR -> ISR at INTA for the highest
 *    vector whose priority class is above PPR's; EOI clears the highest
 *    ISR bit and, for a level-triggered vector (TMR), tells the IOAPIC.
 *  - LINT0 in ExtINT mode passes the 8259's INTR through (virtual-wire
 *    mode, MP spec 1.4 3.6.2.2): INTA then goes to the 8259.  ExtINT is not
 *    subject to TPR/PPR and sets no ISR bit (11.5.1, 11.8.3).
 *  - Timer (11.5.4): one-shot and periodic, counting at LAPIC_BUS_HZ
 *    divided by the divide configuration; TSC-deadline is not offered.
 *  - ICR (11.6): fixed and lowest-priority delivery to this APIC (self,
 *    all-including-self, or a physical/logical destination that matches);
 *    NMI (from the ICR, an LVT entry such as LINT1, or an IOAPIC message)
 *    is latched for the CPU's NMI input (lapic_nmi_pending/ack: the
 *    backend delivers vector 2, SDM Vol. 3A 6.7.1); INIT, SIPI and SMI
 *    are counted and ignored (no other CPUs, no SMM).
 *  - Access rules (11.4.1): registers are 32 bits wide at 16-byte aligned
 *    offsets.  Any other access (narrower, wider, or not at the start of
 *    a 16-byte slot) reads 0 and is dropped on write; it is counted in
 *    bad_accesses.  Reserved offsets read 0 and set ESR bit 7 "illegal
 *    register address" (11.5.3); writes to implemented read-only registers
 *    are ignored.
 *  - Reset (lapic_reset) leaves the APIC as a PC BIOS does (SeaBIOS, and
 *    so QEMU): globally and software enabled with spurious vector 0xFF,
 *    LINT0 = ExtINT, LINT1 = NMI (both level, as the BIOS writes them),
 *    every other LVT entry masked.  A guest that never touches the APIC
 *    therefore keeps receiving 8259 interrupts.
 * Not thread-safe: call everything from the vCPU thread. */
#ifndef BTVM_DEVICES_LAPIC_H
#define BTVM_DEVICES_LAPIC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/timer_queue.h"

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_SIZE 0x1000u
#define LAPIC_VERSION 0x00050014u
/* The timer's input clock: 1 GHz, as QEMU's APIC, so one count is
 * (divisor) ns.  Guests calibrate it (Linux against the PIT). */
#define LAPIC_BUS_HZ 1000000000ull
/* A periodic timer is re-armed no sooner than this after it fires: a
 * guest asking for more than 50,000 interrupts a second gets them at that
 * rate (the current-count register still counts at the programmed rate). */
#define LAPIC_MIN_REARM_NS 20000ull

/* IA32_APIC_BASE (MSR 0x1B), 11.4.4 */
#define LAPIC_MSR_APIC_BASE 0x1Bu
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_ENABLE (1ull << 11)

/* Register offsets (Table 11-1). */
enum {
	LAPIC_ID = 0x020, LAPIC_VER = 0x030, LAPIC_TPR = 0x080, LAPIC_APR = 0x090,
	LAPIC_PPR = 0x0A0, LAPIC_EOI = 0x0B0, LAPIC_RRD = 0x0C0, LAPIC_LDR = 0x0D0,
	LAPIC_DFR = 0x0E0, LAPIC_SVR = 0x0F0, LAPIC_ISR = 0x100, LAPIC_TMR = 0x180,
	LAPIC_IRR = 0x200, LAPIC_ESR = 0x280, LAPIC_ICR_LO = 0x300, LAPIC_ICR_HI = 0x310,
	LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_THERMAL = 0x330, LAPIC_LVT_PERF = 0x340,
	LAPIC_LVT_LINT0 = 0x350, LAPIC_LVT_LINT1 = 0x360, LAPIC_LVT_ERROR = 0x370,
	LAPIC_TIMER_ICR = 0x380, LAPIC_TIMER_CCR = 0x390, LAPIC_TIMER_DCR = 0x3E0,
};

/* LVT and ICR fields (Figures 11-8, 11-12). */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)
#define LAPIC_LVT_LEVEL (1u << 15)
#define LAPIC_DM_FIXED 0u
#define LAPIC_DM_LOWEST 1u
#define LAPIC_DM_SMI 2u
#define LAPIC_DM_NMI 4u
#define LAPIC_DM_INIT 5u
#define LAPIC_DM_SIPI 6u
#define LAPIC_DM_EXTINT 7u
#define LAPIC_SVR_ENABLE (1u << 8)

/* ESR bits (11.5.3, Figure 11-9) */
#define LAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define LAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* The 8259 behind LINT0 (ExtINT): its INTR output and INTA cycle.  Either
 * may be NULL (no 8259: never pending). */
struct lapic_extint {
	bool (*pending)(void *opaque);
	int (*ack)(void *opaque);       /* vector, or -1 */
	void *opaque;
};

struct lapic {
	struct timer_queue *tq;
	struct vtimer timer;
	struct lapic_extint extint;
	/* EOI of a level-triggered vector, for the IOAPIC's Remote IRR (may
	 * be NULL). */
	void (*eoi_level)(void *opaque, int vector);
	void *eoi_opaque;

	uint64_t apic_base;         /* IA32_APIC_BASE */
	uint8_t id;
	uint8_t tpr;
	uint8_t ldr;                /* LDR bits 31:24 */
	uint8_t dfr_model;          /* DFR bits 31:28 */
	uint32_t svr;
	uint32_t isr[8], tmr[8], irr[8];
	uint32_t esr;               /* what ESR reads */
	uint32_t esr_pending;       /* errors since the last write to ESR */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	bool lint_level[2];         /* input pins */
	bool extint_ioapic;         /* an ExtINT message from the IOAPIC waits */
	bool nmi_pending;           /* an NMI waits for the CPU (one is latched, 6.7.1) */

	/* timer: the count was `base_count` at `base_ns`; one count lasts
	 * tick_ns.  Periodic mode reloads `initial` when it reaches 0. */
	uint32_t timer_initial, dcr;
	uint64_t tick_ns, base_ns;
	uint32_t base_count;
	bool timer_running;         /* counting (initial count != 0, not expired one-shot) */

	/* counters (--stats, tests) */
	uint64_t init_ignored, sipi_ignored, smi_ignored, nmis;
	uint64_t bad_accesses, msgs_not_for_us, timer_fires;
};

/* tq must outlive the APIC.  lapic_init performs lapic_reset. */
void lapic_init(struct lapic *l, struct timer_queue *tq, struct lapic_extint extint,
		void (*eoi_level)(void *opaque, int vector), void *eoi_opaque);
/* The state a PC BIOS leaves (see above), APIC ID 0, BSP. */
void lapic_reset(struct lapic *l);
int lapic_register(struct lapic *l, struct io_bus *mmio);   /* 0 or -1 */
/* The MMIO handler (offset inside the 4 KiB page). */
void lapic_mmio(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write);

/* The CPU's INTR input: a fixed interrupt above PPR, or an ExtINT. */
bool lapic_intr_pending(struct lapic *l);
/* The INTA cycle: the vector to deliver, or -1 when nothing is pending. */
int lapic_intr_ack(struct lapic *l);
/* The CPU's NMI input: an NMI is latched (not masked by IF, not by TPR). */
bool lapic_nmi_pending(const struct lapic *l);
/* The CPU takes the latched NMI: true if there was one (now cleared). */
bool lapic_nmi_ack(struct lapic *l);

/* LINT0/LINT1 input pins (pin 0 or 1, level 0/1).  The 8259's INTR is
 * wired to LINT0. */
void lapic_set_lint(struct lapic *l, int pin, bool level);
/* An interrupt message from the IOAPIC (82093AA redirection entry
 * fields).  Returns true when this APIC accepted it into IRR (a level
 * entry's Remote IRR is then set); false when the message was not for
 * this APIC, was of a mode we do not deliver, or the APIC is disabled. */
bool lapic_deliver(struct lapic *l, uint8_t vector, unsigned delivery_mode, bool logical,
		   uint8_t dest, bool level_triggered);

/* IA32_APIC_BASE (11.4.4).  lapic_msr_write returns LAPIC_MSR_OK,
 * LAPIC_MSR_GP (reserved bits set: the backend raises #GP(0)) or
 * LAPIC_MSR_UNSUPPORTED (the guest moved the APIC: err holds one line). */
enum lapic_msr_result { LAPIC_MSR_OK, LAPIC_MSR_GP, LAPIC_MSR_UNSUPPORTED };
uint64_t lapic_msr_read(const struct lapic *l);
enum lapic_msr_result lapic_msr_write(struct lapic *l, uint64_t value, char *err, size_t errlen);
/* Globally enabled (IA32_APIC_BASE bit 11). */
bool lapic_enabled(const struct lapic *l);

/* The register at a 16-byte aligned offset, as a 32-bit read would see
 * it, without side effects on ESR (for tests and crash reports). */
uint32_t lapic_peek(struct lapic *l, uint32_t offset);
#endif
