/* Local APIC (xAPIC).  Section numbers: Intel SDM Vol. 3A, chapter 11. */
#include "devices/lapic.h"
#include <stdio.h>
#include <string.h>

#define LVT_DM(v) (((v) >> 8) & 7u)

/* Writable bits of each LVT entry (Figure 11-8).  Delivery status (12)
 * and remote IRR (14) are read-only; timer bit 18 (TSC-deadline) is
 * reserved because CPUID does not offer that mode. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x300FF,
	[LVT_THERMAL] = 0x107FF,
	[LVT_PERF] = 0x107FF,
	[LVT_LINT0] = 0x1A7FF,
	[LVT_LINT1] = 0x1A7FF,
	[LVT_ERROR] = 0x100FF,
};

/* ---------------------------------------------------------------- bit sets */

static void set_bit(uint32_t *v, unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static void clr_bit(uint32_t *v, unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }
static bool get_bit(const uint32_t *v, unsigned n) { return v[n >> 5] & (1u << (n & 31)); }

/* Highest set bit of a 256-bit register, or -1. */
static int highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

bool lapic_enabled(const struct lapic *l)
{
	return l->apic_base & LAPIC_BASE_ENABLE;
}

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & LAPIC_SVR_ENABLE;
}

/* 11.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4,
 * where ISRV is the highest vector in service. */
static uint8_t ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xF0);
	return (l->tpr & 0xF0) >= isr_class ? l->tpr : isr_class;
}

/* ---------------------------------------------------------------- acceptance */

static void signal_error(struct lapic *l, uint32_t bits);

/* 11.8.4: a fixed interrupt is accepted into IRR; TMR records its trigger
 * mode (1 = level).  Vectors 0-15 are illegal (11.5.2, ESR bit 6). */
static bool accept(struct lapic *l, unsigned vector, bool level)
{
	if (vector < 16) {
		signal_error(l, LAPIC_ESR_RECV_ILLEGAL_VECTOR);
		return false;
	}
	set_bit(l->irr, vector);
	if (level)
		set_bit(l->tmr, vector);
	else
		clr_bit(l->tmr, vector);
	return true;
}

/* 11.5.3: an error is latched for the next ESR write and raises the error
 * LVT's interrupt.  An illegal error vector latches its own error without
 * interrupting again. */
static void signal_error(struct lapic *l, uint32_t bits)
{
	l->esr_pending |= bits;
	uint32_t lvt = l->lvt[LVT_ERROR];
	if (!(lvt & LAPIC_LVT_MASKED)) {
		if ((lvt & 0xFF) < 16)
			l->esr_pending |= LAPIC_ESR_RECV_ILLEGAL_VECTOR;
		else
			accept(l, lvt & 0xFF, false);
	}
}

/* A local interrupt source fires through its LVT entry (11.5.1). */
static void lvt_fire(struct lapic *l, int which)
{
	uint32_t lvt = l->lvt[which];
	if (lvt & LAPIC_LVT_MASKED)
		return;
	switch (which == LVT_TIMER || which == LVT_ERROR ? LAPIC_DM_FIXED : LVT_DM(lvt)) {
	case LAPIC_DM_FIXED:
		/* Only LINT0/1 can be level triggered (11.5.1 "Trigger Mode"). */
		accept(l, lvt & 0xFF, (which == LVT_LINT0 || which == LVT_LINT1) && (lvt & LAPIC_LVT_LEVEL));
		break;
	case LAPIC_DM_NMI:
		/* the vector field is ignored (11.5.1); NMI is edge-triggered */
		l->nmi_pending = true;
		l->nmis++;
		break;
	case LAPIC_DM_SMI:
		l->smi_ignored++;
		break;
	case LAPIC_DM_INIT:
		l->init_ignored++;
		break;
	default:
		/* ExtINT: the 8259 is consulted at INTA (lapic_intr_ack). */
		break;
	}
}

/* ---------------------------------------------------------------- timer (11.5.4) */

static bool timer_periodic(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] & LAPIC_LVT_PERIODIC;
}

/* Divide configuration (Figure 11-10): bits 0, 1 and 3 select 2, 4, 8,
 * 16, 32, 64, 128 or 1. */
static uint64_t divisor(uint32_t dcr)
{
	unsigned v = (dcr & 3) | ((dcr >> 1) & 4);
	return 1ull << ((v + 1) & 7);
}

static uint64_t now_ns(const struct lapic *l)
{
	return timerq_now(l->tq);
}

/* Current count at time t (the count register, 11.5.4 Figure 11-11). */
static uint32_t timer_count(const struct lapic *l, uint64_t t)
{
	if (!l->timer_running)
		return 0;
	uint64_t e = t > l->base_ns ? (t - l->base_ns) / l->tick_ns : 0;
	if (e < l->base_count)
		return (uint32_t)(l->base_count - e);
	if (!timer_periodic(l))
		return 0;
	/* Reloaded with the initial count each time it reaches zero. */
	return l->timer_initial - (uint32_t)((e - l->base_count) % l->timer_initial);
}

/* The first expiry (count reaching zero) strictly after t. */
static uint64_t expiry_after(const struct lapic *l, uint64_t t)
{
	uint64_t first = l->base_ns + (uint64_t)l->base_count * l->tick_ns;
	if (first > t || !timer_periodic(l))
		return first;
	uint64_t period = (uint64_t)l->timer_initial * l->tick_ns;
	return first + ((t - first) / period + 1) * period;
}

/* Arms the vtimer for the next expiry that must interrupt. A one-shot
 * count that ran out while masked just stops (no interrupt is owed). */
static void timer_schedule(struct lapic *l, uint64_t now)
{
	if (!l->timer_running || (l->lvt[LVT_TIMER] & LAPIC_LVT_MASKED)) {
		vtimer_cancel(l->tq, &l->timer);
		return;
	}
	uint64_t next = expiry_after(l, now);
	if (!timer_periodic(l) && next <= now) {
		l->timer_running = false;
		vtimer_cancel(l->tq, &l->timer);
		return;
	}
	vtimer_arm(l->tq, &l->timer, next);
}

static void timer_fired(void *opaque, uint64_t now)
{
	struct lapic *l = opaque;
	l->timer_fires++;
	lvt_fire(l, LVT_TIMER);
	if (!timer_periodic(l)) {
		l->timer_running = false;   /* one-shot: the count stays 0 */
		return;
	}
	/* Late or very fast: one interrupt now, the next at a period
	 * boundary no sooner than LAPIC_MIN_REARM_NS (missed ones dropped). */
	vtimer_arm(l->tq, &l->timer, expiry_after(l, now + LAPIC_MIN_REARM_NS - 1));
}

/* Restart counting from `count` at now with the current divisor. */
static void timer_rebase(struct lapic *l, uint32_t count, uint64_t now)
{
	l->base_ns = now;
	l->base_count = count;
	l->tick_ns = divisor(l->dcr) * (1000000000ull / LAPIC_BUS_HZ);
	l->timer_running = count != 0;
	timer_schedule(l, now);
}

/* ---------------------------------------------------------------- ICR (11.6) */

/* Does a destination (11.6.2) name this APIC?  Physical: the APIC ID, or
 * 0xFF for all.  Logical: flat model (DFR 0xF) matches any common bit
 * with LDR; cluster model (DFR 0x0) matches the cluster (high nibble, 0xF
 * for all clusters) and any common bit of the low nibble. */
static bool dest_matches(const struct lapic *l, bool logical, uint8_t dest)
{
	if (!logical)
		return dest == 0xFF || dest == l->id;
	if (l->dfr_model == 0xF)
		return (dest & l->ldr) != 0;
	if (l->dfr_model == 0x0)
		return ((dest >> 4) == 0xF || (dest >> 4) == (l->ldr >> 4)) && (dest & l->ldr & 0x0F);
	return false;
}

/* A message for this APIC: fixed and lowest priority are accepted (with one
 * CPU the lowest-priority target is us), others are counted. */
static bool receive(struct lapic *l, uint8_t vector, unsigned mode, bool level)
{
	switch (mode) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		return accept(l, vector, level);
	case LAPIC_DM_NMI:
		/* to the CPU's NMI input (vector ignored, 11.6.1): latched until
		 * the backend delivers it (lapic_nmi_ack).  Not "accepted" as
		 * an IRR bit: a level IOAPIC entry gets no Remote IRR. */
		l->nmi_pending = true;
		l->nmis++;
		return false;
	case LAPIC_DM_SMI:
		l->smi_ignored++;
		return false;
	case LAPIC_DM_INIT:
		l->init_ignored++;
		return false;
	case LAPIC_DM_SIPI:
		l->sipi_ignored++;
		return false;
	case LAPIC_DM_EXTINT:
		l->extint_ioapic = true;
		return true;
	default:
		return false;
	}
}

/* A write to ICR low sends the IPI (11.6.1).  Delivery is immediate, so
 * the delivery status bit always reads 0 (idle). */
static void send_ipi(struct lapic *l)
{
	uint32_t lo = l->icr_lo;
	uint8_t vector = lo & 0xFF;
	unsigned mode = (lo >> 8) & 7;
	bool logical = lo & (1u << 11);
	bool level = lo & (1u << 15);
	bool to_self;
	switch ((lo >> 18) & 3) {
	case 1: /* self */
	case 2: /* all including self */
		to_self = true;
		break;
	case 3: /* all excluding self: there is nobody else */
		to_self = false;
		break;
	default:
		to_self = dest_matches(l, logical, (uint8_t)(l->icr_hi >> 24));
		break;
	}
	if ((mode == LAPIC_DM_FIXED || mode == LAPIC_DM_LOWEST) && vector < 16) {
		signal_error(l, LAPIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	/* INIT level de-assert (level 0, trigger level) only synchronises
	 * arbitration IDs: nothing to do, nothing to count (11.6.1). */
	if (mode == LAPIC_DM_INIT && !(lo & (1u << 14)) && level)
		return;
	if (!to_self) {
		if (mode == LAPIC_DM_INIT)
			l->init_ignored++;
		else if (mode == LAPIC_DM_SIPI)
			l->sipi_ignored++;
		else
			l->msgs_not_for_us++;
		return;
	}
	/* An IPI of fixed mode can be level triggered only in name: the SDM
	 * keeps the trigger bit for INIT; fixed IPIs are accepted edge. */
	receive(l, vector, mode, false);
}

/* ---------------------------------------------------------------- registers */

static void set_svr(struct lapic *l, uint32_t v)
{
	l->svr = v & 0x1FF;
	/* 11.4.7.2: software disable sets every LVT mask bit. */
	if (!sw_enabled(l)) {
		for (int i = 0; i < LVT_COUNT; i++)
			l->lvt[i] |= LAPIC_LVT_MASKED;
		timer_schedule(l, now_ns(l));
	}
}

static void write_lvt(struct lapic *l, int which, uint32_t v)
{
	uint64_t now = now_ns(l);
	uint32_t count = which == LVT_TIMER ? timer_count(l, now) : 0;
	bool was_periodic = timer_periodic(l);
	uint32_t ro = l->lvt[which] & ~lvt_writable[which];
	v &= lvt_writable[which];
	if (!sw_enabled(l))
		v |= LAPIC_LVT_MASKED;   /* 11.4.7.2: cannot be unmasked */
	l->lvt[which] = (v | ro) & ~(1u << 12);
	if (which == LVT_TIMER) {
		/* A mode change continues from the current count. */
		if (was_periodic != timer_periodic(l) && l->timer_running)
			timer_rebase(l, count, now);
		else
			timer_schedule(l, now);
	} else if (which == LVT_LINT0 || which == LVT_LINT1) {
		/* An unmasked level-triggered fixed LINT with its pin high
		 * requests now; ExtINT is looked at on every INTA anyway. */
		int pin = which - LVT_LINT0;
		if (l->lint_level[pin] && LVT_DM(v) == LAPIC_DM_FIXED && (v & LAPIC_LVT_LEVEL))
			lvt_fire(l, which);
	}
}

/* Register index -> value; *ok = false for a reserved offset. */
static uint32_t reg_read(struct lapic *l, uint32_t off, bool *ok)
{
	*ok = true;
	if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80)
		return l->isr[(off - LAPIC_ISR) >> 4];
	if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80)
		return l->tmr[(off - LAPIC_TMR) >> 4];
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80)
		return l->irr[(off - LAPIC_IRR) >> 4];
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR)
		return l->lvt[(off - LAPIC_LVT_TIMER) >> 4];
	switch (off) {
	case LAPIC_ID: return (uint32_t)l->id << 24;
	case LAPIC_VER: return LAPIC_VERSION;
	case LAPIC_TPR: return l->tpr;
	case LAPIC_APR: return 0;
	case LAPIC_PPR: return ppr(l);
	case LAPIC_EOI: return 0;   /* write-only */
	case LAPIC_RRD: return 0;   /* remote read: never valid */
	case LAPIC_LDR: return (uint32_t)l->ldr << 24;
	case LAPIC_DFR: return (uint32_t)l->dfr_model << 28 | 0x0FFFFFFFu;
	case LAPIC_SVR: return l->svr;
	case LAPIC_ESR: return l->esr;
	case LAPIC_ICR_LO: return l->icr_lo;
	case LAPIC_ICR_HI: return l->icr_hi;
	case LAPIC_TIMER_ICR: return l->timer_initial;
	case LAPIC_TIMER_CCR: return timer_count(l, now_ns(l));
	case LAPIC_TIMER_DCR: return l->dcr;
	default:
		*ok = false;
		return 0;
	}
}

static void eoi(struct lapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	clr_bit(l->isr, (unsigned)v);
	/* 11.8.5: for a level-triggered vector the EOI goes to the IOAPIC. */
	if (get_bit(l->tmr, (unsigned)v) && l->eoi_level)
		l->eoi_level(l->eoi_opaque, v);
}

static bool is_read_only(uint32_t off)
{
	return off == LAPIC_VER || off == LAPIC_APR || off == LAPIC_PPR || off == LAPIC_RRD ||
	       off == LAPIC_TIMER_CCR || (off >= LAPIC_ISR && off < LAPIC_IRR + 0x80);
}

/* false for a reserved offset. */
static bool reg_write(struct lapic *l, uint32_t off, uint32_t v)
{
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) {
		write_lvt(l, (int)((off - LAPIC_LVT_TIMER) >> 4), v);
		return true;
	}
	if (is_read_only(off))
		return true;   /* implemented, read-only: the write is ignored */
	switch (off) {
	case LAPIC_ID:
		l->id = (uint8_t)(v >> 24);   /* 11.4.6: writable on P6 and later */
		return true;
	case LAPIC_TPR:
		l->tpr = (uint8_t)v;
		return true;
	case LAPIC_EOI:
		eoi(l);
		return true;
	case LAPIC_LDR:
		l->ldr = (uint8_t)(v >> 24);
		return true;
	case LAPIC_DFR:
		l->dfr_model = (uint8_t)(v >> 28);
		return true;
	case LAPIC_SVR:
		set_svr(l, v);
		return true;
	case LAPIC_ESR:
		/* 11.5.3: a write moves the errors seen since the last
		 * write into the readable register. */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case LAPIC_ICR_HI:
		l->icr_hi = v & 0xFF000000u;
		return true;
	case LAPIC_ICR_LO:
		l->icr_lo = v & 0x000CCFFFu;
		send_ipi(l);
		return true;
	case LAPIC_TIMER_ICR:
		/* 11.5.4: writing the initial count starts the timer; 0 stops it. */
		l->timer_initial = v;
		timer_rebase(l, v, now_ns(l));
		return true;
	case LAPIC_TIMER_DCR: {
		uint64_t now = now_ns(l);
		uint32_t count = timer_count(l, now);
		l->dcr = v & 0xB;
		if (l->timer_running)
			timer_rebase(l, count, now);
		else
			l->tick_ns = divisor(l->dcr) * (1000000000ull / LAPIC_BUS_HZ);
		return true;
	}
	default:
		return false;
	}
}

void lapic_mmio(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct lapic *l = opaque;
	/* 11.4.1: 32-bit accesses at 16-byte aligned offsets only. */
	if (len != 4 || (offset & 15) || offset >= LAPIC_SIZE) {
		l->bad_accesses++;
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	uint32_t off = (uint32_t)offset;
	bool ok;
	if (is_write) {
		ok = reg_write(l, off, io_data_get(data, 4));
	} else {
		io_data_put(data, 4, reg_read(l, off, &ok));
	}
	if (!ok)
		signal_error(l, LAPIC_ESR_ILLEGAL_REGISTER);
}

uint32_t lapic_peek(struct lapic *l, uint32_t offset)
{
	bool ok;
	return reg_read(l, offset & 0xFF0, &ok);
}

int lapic_register(struct lapic *l, struct io_bus *mmio)
{
	return io_bus_register(mmio, LAPIC_BASE, LAPIC_SIZE, lapic_mmio, l, "lapic");
}

/* ---------------------------------------------------------------- INTR / INTA */

/* Is the 8259's INTR the CPU's?  With the APIC globally disabled the CPU
 * behaves as one without an APIC: LINT0 is INTR (11.4.3).  Enabled, LINT0
 * must be unmasked in ExtINT mode (virtual wire). */
static bool extint_routed(const struct lapic *l)
{
	if (!lapic_enabled(l))
		return true;
	uint32_t lvt = l->lvt[LVT_LINT0];
	return !(lvt & LAPIC_LVT_MASKED) && LVT_DM(lvt) == LAPIC_DM_EXTINT;
}

static bool extint_pending(const struct lapic *l)
{
	if (l->extint_ioapic)
		return true;
	return extint_routed(l) && l->extint.pending && l->extint.pending(l->extint.opaque);
}

/* The fixed vector that would be dispatched now, or -1 (11.8.3: its
 * priority class must be above PPR's). */
static int fixed_pending(const struct lapic *l)
{
	if (!lapic_enabled(l) || !sw_enabled(l))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || (v & 0xF0) <= (ppr(l) & 0xF0))
		return -1;
	return v;
}

bool lapic_nmi_pending(const struct lapic *l)
{
	return l->nmi_pending;
}

bool lapic_nmi_ack(struct lapic *l)
{
	bool p = l->nmi_pending;
	l->nmi_pending = false;
	return p;
}

bool lapic_intr_pending(struct lapic *l)
{
	return extint_pending(l) || fixed_pending(l) >= 0;
}

int lapic_intr_ack(struct lapic *l)
{
	/* ExtINT first: it bypasses the priority logic (11.5.1). */
	if (extint_pending(l)) {
		l->extint_ioapic = false;
		int vec = l->extint.ack ? l->extint.ack(l->extint.opaque) : -1;
		if (vec >= 0)
			return vec;
	}
	int v = fixed_pending(l);
	if (v < 0)
		return -1;
	clr_bit(l->irr, (unsigned)v);
	set_bit(l->isr, (unsigned)v);
	return v;
}

void lapic_set_lint(struct lapic *l, int pin, bool level)
{
	if (pin < 0 || pin > 1)
		return;
	bool was = l->lint_level[pin];
	l->lint_level[pin] = level;
	if (!lapic_enabled(l))
		return;
	int which = LVT_LINT0 + pin;
	uint32_t lvt = l->lvt[which];
	if (LVT_DM(lvt) != LAPIC_DM_FIXED && LVT_DM(lvt) != LAPIC_DM_NMI)
		return;   /* ExtINT is read at INTA; others are not wired */
	bool level_trig = LVT_DM(lvt) == LAPIC_DM_FIXED && (lvt & LAPIC_LVT_LEVEL);
	if (level && !was) {
		lvt_fire(l, which);
	} else if (!level && was && level_trig && !(lvt & LAPIC_LVT_MASKED)) {
		/* A level request withdrawn before INTA goes away. */
		clr_bit(l->irr, lvt & 0xFF);
	}
}

bool lapic_deliver(struct lapic *l, uint8_t vector, unsigned delivery_mode, bool logical,
		   uint8_t dest, bool level_triggered)
{
	if (!lapic_enabled(l) || !dest_matches(l, logical, dest)) {
		l->msgs_not_for_us++;
		return false;
	}
	return receive(l, vector, delivery_mode, level_triggered);
}

/* ---------------------------------------------------------------- reset, MSR */

/* The power-up state of 11.4.7.1 (SVR 0xFF, all LVT masked). */
static void power_up_state(struct lapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr_model = 0xF;
	l->svr = 0xFF;
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LAPIC_LVT_MASKED;
	l->extint_ioapic = false;
	l->nmi_pending = false;
	l->timer_initial = 0;
	l->dcr = 0;
	l->tick_ns = divisor(0);
	l->base_count = 0;
	l->base_ns = 0;
	l->timer_running = false;
	vtimer_cancel(l->tq, &l->timer);
}

void lapic_reset(struct lapic *l)
{
	l->apic_base = LAPIC_BASE | LAPIC_BASE_BSP | LAPIC_BASE_ENABLE;
	l->id = 0;
	power_up_state(l);
	/* What the BIOS leaves (SeaBIOS smp_setup): APIC software enabled,
	 * LINT0 ExtINT and LINT1 NMI, both written as level triggered --
	 * virtual-wire mode (MP spec 1.4, 3.6.2.2). */
	l->svr = LAPIC_SVR_ENABLE | 0xFF;
	l->lvt[LVT_LINT0] = LAPIC_LVT_LEVEL | LAPIC_DM_EXTINT << 8;
	l->lvt[LVT_LINT1] = LAPIC_LVT_LEVEL | LAPIC_DM_NMI << 8;
}

void lapic_init(struct lapic *l, struct timer_queue *tq, struct lapic_extint extint,
		void (*eoi_level)(void *, int), void *eoi_opaque)
{
	memset(l, 0, sizeof(*l));
	l->tq = tq;
	l->extint = extint;
	l->eoi_level = eoi_level;
	l->eoi_opaque = eoi_opaque;
	vtimer_init(&l->timer, timer_fired, l);
	lapic_reset(l);
}

uint64_t lapic_msr_read(const struct lapic *l)
{
	return l->apic_base;
}

/* 11.4.4, Figure 11-5: bit 8 BSP (read-only), bit 11 global enable, bits
 * 12-35 the base.  Bit 10 (x2APIC) is reserved here: CPUID does not offer
 * x2APIC.  With no CPUID leaf 0x80000008, MAXPHYADDR is 36 (SDM Vol. 3A
 * 4.1.4), so bits 36-63 are reserved too. */
enum lapic_msr_result lapic_msr_write(struct lapic *l, uint64_t value, char *err, size_t errlen)
{
	const uint64_t reserved = 0xFFull | 1ull << 9 | 1ull << 10 | ~((1ull << 36) - 1);
	if (value & reserved)
		return LAPIC_MSR_GP;
	uint64_t base = value & 0xFFFFFF000ull;
	if (base != LAPIC_BASE) {
		snprintf(err, errlen, "the guest moved the local APIC to %#llx (IA32_APIC_BASE = %#llx); "
			 "btvm keeps it at %#x", (unsigned long long)base, (unsigned long long)value,
			 LAPIC_BASE);
		return LAPIC_MSR_UNSUPPORTED;
	}
	bool enable = value & LAPIC_BASE_ENABLE;
	if (!enable && lapic_enabled(l)) {
		/* 11.4.3: disabled, the APIC loses its state; re-enabled it
		 * starts from the power-up state. */
		power_up_state(l);
	}
	l->apic_base = (l->apic_base & LAPIC_BASE_BSP) | base | (enable ? LAPIC_BASE_ENABLE : 0);
	return LAPIC_MSR_OK;
}
