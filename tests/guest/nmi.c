/* NMI delivery (issue 13): an NMI IPI to self through the local APIC's
 * ICR, LINT0 in NMI mode (the 8259's INTR), an IOAPIC redirection entry
 * with delivery mode NMI; vector 2 through the IDT with IF = 0, and NMI
 * blocking until the next IRET with one NMI latched meanwhile.
 * SDM Vol. 3A 6.7.1 (handling multiple NMIs), 11.5.1 (LVT), 11.6.1 (ICR);
 * 82093AA datasheet 3.2.4 (redirection table). */
#include "guest.h"

#define LAPIC 0xFEE00000u
#define IOAPIC 0xFEC00000u
#define ICR_LO 0x300
#define LVT_LINT0 0x350
#define COM1_IER (0x3F8 + 1)

static inline uint32_t apic_rd(uint32_t off) { return *(volatile uint32_t *)(LAPIC + off); }
static inline void apic_wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(LAPIC + off) = v; }
static void ioapic_wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile uint32_t nmis, nested_seen, in_nmi, if_in_handler, extra_in_handler;

/* self NMI: delivery mode 100b, destination shorthand self, vector ignored */
static void self_nmi(void) { apic_wr(ICR_LO, 0x00044400); }

static void on_nmi(struct regs *r)
{
	if (in_nmi)
		nested_seen = 1;
	in_nmi = 1;
	nmis++;
	if_in_handler = r->eflags & EFLAGS_IF;
	for (uint32_t i = 0; i < extra_in_handler; i++) {
		uint32_t before = nmis;
		self_nmi();               /* blocked: latched, not taken here */
		if (nmis != before)
			nested_seen = 1;
	}
	extra_in_handler = 0;
	in_nmi = 0;
}

/* An IPI is not architecturally taken at the next instruction boundary
 * (QEMU's TCG takes it at the end of the translation block): wait for it,
 * a bounded number of PIT periods. */
static void wait_nmis(uint32_t n)
{
	for (int i = 0; i < 50 && nmis < n; i++)
		pit_wait_periods(1);
}

static void test_icr(void)
{
	nmis = nested_seen = 0;
	pit_set_rate(1000);
	CHECK(!(read_eflags() & EFLAGS_IF), "IF = 0 for the whole test");
	self_nmi();
	wait_nmis(1);
	CHECK_EQ(nmis, 1, "ICR self NMI: vector 2 taken with IF = 0");
	CHECK_EQ(apic_rd(ICR_LO) & (1u << 12), 0, "ICR: delivery status idle after the NMI");
	/* two more sent from inside the handler: blocked until its IRET,
	 * then one (only one is latched) */
	extra_in_handler = 2;
	self_nmi();
	wait_nmis(3);
	pit_wait_periods(3);
	CHECK(!nested_seen, "NMIs sent inside the NMI handler are not taken there (blocked until IRET)");
	CHECK_EQ(nmis, 3, "after the handler's IRET one latched NMI is taken (two sent, one kept)");
	CHECK(!nested_seen, "no NMI handler ran inside another");
}

static void test_lint0(void)
{
	/* LINT0 in NMI mode, edge: the 8259's INTR going high (IRQ0 from the
	 * PIT, unmasked in the 8259) is an NMI; nothing acknowledges the 8259,
	 * so INTR stays high and there is one edge. */
	nmis = 0;
	uint32_t old = apic_rd(LVT_LINT0);
	apic_wr(LVT_LINT0, 0x00000400);
	pic_unmask(0);
	for (int i = 0; i < 50 && !nmis; i++)
		pit_wait_periods(1);
	pic_mask(0);
	/* (QEMU re-delivers LINT0 at every 8259 update while INTR stays
	 * high, btvm once per rising edge: at least one) */
	CHECK(nmis >= 1, "LVT LINT0 in NMI mode: the 8259's INTR is an NMI");
	apic_wr(LVT_LINT0, old);
}

static void test_ioapic(void)
{
	/* COM1's THR-empty interrupt raises IRQ4 as soon as IER enables it:
	 * IOAPIC pin 4, edge, delivery mode NMI (100b), destination APIC 0. */
	nmis = 0;
	ioapic_wr(0x10 + 2 * 4 + 1, 0);
	ioapic_wr(0x10 + 2 * 4, 0x400);
	outb(COM1_IER, 0x02);
	wait_nmis(1);
	pit_wait_periods(3);
	uint32_t got = nmis;
	outb(COM1_IER, 0x00);
	ioapic_wr(0x10 + 2 * 4, 0x10000);
	CHECK_EQ(got, 1, "IOAPIC pin 4 with delivery mode NMI: one NMI when IRQ4 rises");
}

void main(void)
{
	printf("nmi: NMI from the local APIC ICR, LINT0 and the IOAPIC; blocking until IRET\n");
	set_handler(2, on_nmi);
	test_icr();
	test_lint0();
	test_ioapic();
	CHECK(!if_in_handler, "the NMI handler runs with IF = 0 (interrupt gate)");
}
