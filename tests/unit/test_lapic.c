/* Local APIC on a manual clock, with a fake 8259 on LINT0 and a recorder
 * for level EOIs.  Section numbers: SDM Vol. 3A chapter 11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/lapic.h"

static struct timer_queue TQ;
static struct io_bus BUS;
static struct lapic L;
static struct { bool intr; int vector; int acks; } PIC;
static int EOI_VEC[8], N_EOI;

static bool pic_pending(void *o) { (void)o; return PIC.intr; }
static int pic_ack(void *o)
{
	(void)o;
	PIC.acks++;
	PIC.intr = false;
	return PIC.vector;
}
static void on_eoi(void *o, int v)
{
	(void)o;
	if (N_EOI < 8)
		EOI_VEC[N_EOI] = v;
	N_EOI++;
}

static uint32_t rd(uint32_t off)
{
	uint8_t d[4];
	io_bus_access(&BUS, LAPIC_BASE + off, d, 4, false);
	return io_data_get(d, 4);
}

static void wr(uint32_t off, uint32_t v)
{
	uint8_t d[4];
	io_data_put(d, 4, v);
	io_bus_access(&BUS, LAPIC_BASE + off, d, 4, true);
}

static bool bit(uint32_t base, unsigned v) { return (rd(base + (v / 32) * 16) >> (v % 32)) & 1; }

static int setup(void **state)
{
	(void)state;
	timerq_init_manual(&TQ, 1000);
	io_bus_init(&BUS, "mmio");
	memset(&PIC, 0, sizeof(PIC));
	N_EOI = 0;
	lapic_init(&L, &TQ, (struct lapic_extint){ pic_pending, pic_ack, NULL }, on_eoi, NULL);
	assert_int_equal(lapic_register(&L, &BUS), 0);
	return 0;
}

static void self_ipi(unsigned v) { wr(LAPIC_ICR_LO, 0x40000u | v); }

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(rd(LAPIC_ID), 0);
	assert_int_equal(rd(LAPIC_VER), 0x00050014);
	assert_int_equal(rd(LAPIC_SVR), 0x1FF);
	assert_int_equal(rd(LAPIC_LVT_LINT0), 0x8700);
	assert_int_equal(rd(LAPIC_LVT_LINT1), 0x8400);
	assert_int_equal(rd(LAPIC_LVT_TIMER), 0x10000);
	assert_int_equal(rd(LAPIC_LVT_ERROR), 0x10000);
	assert_int_equal(rd(LAPIC_DFR), 0xFFFFFFFF);
	assert_int_equal(lapic_msr_read(&L), 0xFEE00900);
	assert_false(lapic_intr_pending(&L));
	assert_int_equal(lapic_intr_ack(&L), -1);
}

/* Virtual wire: the 8259's INTR is the CPU's while LINT0 is ExtINT. */
static void test_extint_passthrough(void **state)
{
	(void)state;
	PIC.intr = true;
	PIC.vector = 0x20;
	assert_true(lapic_intr_pending(&L));
	assert_int_equal(lapic_intr_ack(&L), 0x20);
	assert_int_equal(PIC.acks, 1);
	assert_int_equal(rd(LAPIC_ISR + 0x10), 0);   /* no ISR bit for ExtINT */
	/* TPR does not hold ExtINT back. */
	wr(LAPIC_TPR, 0xF0);
	PIC.intr = true;
	assert_true(lapic_intr_pending(&L));
	/* Masked LINT0: the 8259 is cut off. */
	wr(LAPIC_LVT_LINT0, 0x18700);
	assert_false(lapic_intr_pending(&L));
	/* APIC globally disabled: LINT0 is INTR again (11.4.3). */
	char err[200];
	assert_int_equal(lapic_msr_write(&L, 0xFEE00100, err, sizeof(err)), LAPIC_MSR_OK);
	assert_false(lapic_enabled(&L));
	assert_true(lapic_intr_pending(&L));
	assert_int_equal(lapic_intr_ack(&L), 0x20);
}

static void test_priority_and_eoi(void **state)
{
	(void)state;
	self_ipi(0x50);
	assert_true(bit(LAPIC_IRR, 0x50));
	assert_int_equal(lapic_intr_ack(&L), 0x50);
	assert_true(bit(LAPIC_ISR, 0x50));
	assert_false(bit(LAPIC_IRR, 0x50));
	assert_int_equal(rd(LAPIC_PPR), 0x50);
	self_ipi(0x45);                       /* same class as... lower: waits */
	assert_false(lapic_intr_pending(&L));
	self_ipi(0x5F);                       /* same class 5: waits too (11.8.3) */
	assert_false(lapic_intr_pending(&L));
	self_ipi(0x61);
	assert_int_equal(lapic_intr_ack(&L), 0x61);
	wr(LAPIC_EOI, 0);                     /* retires 0x61 */
	assert_false(bit(LAPIC_ISR, 0x61));
	assert_true(bit(LAPIC_ISR, 0x50));
	assert_false(lapic_intr_pending(&L));
	wr(LAPIC_EOI, 0);
	assert_int_equal(lapic_intr_ack(&L), 0x5F);
	wr(LAPIC_EOI, 0);
	assert_int_equal(lapic_intr_ack(&L), 0x45);
	wr(LAPIC_EOI, 0);
	assert_int_equal(N_EOI, 0);           /* all edge: no EOI to the IOAPIC */
	/* TPR: class must be above TPR[7:4]. */
	wr(LAPIC_TPR, 0x60);
	self_ipi(0x65);
	assert_false(lapic_intr_pending(&L));
	assert_int_equal(rd(LAPIC_PPR), 0x60);
	wr(LAPIC_TPR, 0x5F);
	assert_int_equal(lapic_intr_ack(&L), 0x65);
	assert_int_equal(rd(LAPIC_PPR), 0x60);  /* ISRV class 6 > TPR class 5 */
	wr(LAPIC_EOI, 0);
	assert_int_equal(rd(LAPIC_PPR), 0x5F);
}

static void test_level_eoi_and_deliver(void **state)
{
	(void)state;
	assert_true(lapic_deliver(&L, 0x70, LAPIC_DM_FIXED, false, 0, true));
	assert_true(bit(LAPIC_TMR, 0x70));
	assert_int_equal(lapic_intr_ack(&L), 0x70);
	wr(LAPIC_EOI, 0);
	assert_int_equal(N_EOI, 1);
	assert_int_equal(EOI_VEC[0], 0x70);
	/* Destinations: physical 1 is not us; broadcast is; flat logical
	 * needs a common LDR bit; cluster model matches cluster and bits. */
	assert_false(lapic_deliver(&L, 0x71, LAPIC_DM_FIXED, false, 1, false));
	assert_true(lapic_deliver(&L, 0x71, LAPIC_DM_LOWEST, false, 0xFF, false));
	assert_false(lapic_deliver(&L, 0x72, LAPIC_DM_FIXED, true, 0x01, false));
	wr(LAPIC_LDR, 0x01000000);
	assert_true(lapic_deliver(&L, 0x72, LAPIC_DM_FIXED, true, 0x03, false));
	wr(LAPIC_DFR, 0x0FFFFFFF);
	wr(LAPIC_LDR, 0x21000000);
	assert_int_equal(rd(LAPIC_DFR), 0x0FFFFFFF);
	assert_false(lapic_deliver(&L, 0x73, LAPIC_DM_FIXED, true, 0x11, false));
	assert_true(lapic_deliver(&L, 0x73, LAPIC_DM_FIXED, true, 0x21, false));
	assert_true(lapic_deliver(&L, 0x74, LAPIC_DM_FIXED, true, 0xF1, false));
	/* INIT/SIPI are counted, not acted on. */
	wr(LAPIC_ICR_LO, 0x000C4500);
	wr(LAPIC_ICR_LO, 0x000C4610);
	assert_int_equal(L.init_ignored, 1);
	assert_int_equal(L.sipi_ignored, 1);
	assert_false(bit(LAPIC_IRR, 0x10));
}

static void test_errors_and_access_rules(void **state)
{
	(void)state;
	/* Illegal vector 3 sent: ESR bit 5, visible after writing ESR. */
	self_ipi(3);
	assert_int_equal(rd(LAPIC_ESR), 0);
	wr(LAPIC_ESR, 0);
	assert_int_equal(rd(LAPIC_ESR), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
	wr(LAPIC_ESR, 0);
	assert_int_equal(rd(LAPIC_ESR), 0);
	/* Reserved register: reads 0, ESR bit 7, error LVT interrupt. */
	wr(LAPIC_LVT_ERROR, 0xE3);
	assert_int_equal(rd(0x3F0), 0);
	wr(LAPIC_ESR, 0);
	assert_int_equal(rd(LAPIC_ESR), LAPIC_ESR_ILLEGAL_REGISTER);
	assert_true(bit(LAPIC_IRR, 0xE3));
	/* Read-only register written: ignored, no error. */
	wr(LAPIC_VER, 0);
	wr(LAPIC_ESR, 0);
	assert_int_equal(rd(LAPIC_ESR), 0);
	assert_int_equal(rd(LAPIC_VER), 0x00050014);
	/* Sub-dword and misaligned: read 0, writes dropped, counted. */
	uint8_t b = 0x55;
	io_bus_access(&BUS, LAPIC_BASE + LAPIC_TPR, &b, 1, true);
	assert_int_equal(rd(LAPIC_TPR), 0);
	uint8_t d[4] = { 1, 1, 1, 1 };
	io_bus_access(&BUS, LAPIC_BASE + LAPIC_SVR + 4, d, 4, false);
	assert_memory_equal(d, "\0\0\0\0", 4);
	assert_int_equal(L.bad_accesses, 2);
	/* Software disable masks every LVT and keeps them masked. */
	wr(LAPIC_SVR, 0xFF);
	assert_true(rd(LAPIC_LVT_LINT0) & LAPIC_LVT_MASKED);
	wr(LAPIC_LVT_TIMER, 0x40);
	assert_true(rd(LAPIC_LVT_TIMER) & LAPIC_LVT_MASKED);
}

static void test_timer_oneshot(void **state)
{
	(void)state;
	wr(LAPIC_TIMER_DCR, 0x3);             /* divide by 16: 16 ns a count */
	wr(LAPIC_LVT_TIMER, 0x40);
	wr(LAPIC_TIMER_ICR, 1000);
	assert_int_equal(rd(LAPIC_TIMER_CCR), 1000);
	timerq_advance(&TQ, 16 * 400);
	assert_int_equal(rd(LAPIC_TIMER_CCR), 600);
	assert_false(lapic_intr_pending(&L));
	timerq_advance(&TQ, 16 * 600 - 1);
	assert_false(lapic_intr_pending(&L));
	timerq_advance(&TQ, 1);
	assert_true(lapic_intr_pending(&L));
	assert_int_equal(rd(LAPIC_TIMER_CCR), 0);
	assert_int_equal(lapic_intr_ack(&L), 0x40);
	wr(LAPIC_EOI, 0);
	timerq_advance(&TQ, 1000000);
	assert_false(lapic_intr_pending(&L));
	assert_int_equal(L.timer_fires, 1);
	/* Divide change mid-count continues from the current count. */
	wr(LAPIC_TIMER_ICR, 1000);
	timerq_advance(&TQ, 16 * 500);
	wr(LAPIC_TIMER_DCR, 0xB);             /* divide by 1 */
	assert_int_equal(rd(LAPIC_TIMER_DCR), 0xB);
	assert_int_equal(rd(LAPIC_TIMER_CCR), 500);
	timerq_advance(&TQ, 500);
	assert_int_equal(lapic_intr_ack(&L), 0x40);
	/* Masked one-shot: counts to 0 without interrupting. */
	wr(LAPIC_EOI, 0);
	wr(LAPIC_LVT_TIMER, 0x10040);
	wr(LAPIC_TIMER_ICR, 10);
	timerq_advance(&TQ, 100);
	assert_int_equal(rd(LAPIC_TIMER_CCR), 0);
	assert_false(lapic_intr_pending(&L));
}

static void test_timer_periodic(void **state)
{
	(void)state;
	wr(LAPIC_TIMER_DCR, 0x0);             /* divide by 2 */
	wr(LAPIC_LVT_TIMER, 0x20041);
	wr(LAPIC_TIMER_ICR, 50000);           /* 100 us period */
	for (int i = 0; i < 5; i++) {
		timerq_advance(&TQ, 100000);
		assert_int_equal(lapic_intr_ack(&L), 0x41);
		wr(LAPIC_EOI, 0);
		assert_int_equal(rd(LAPIC_TIMER_CCR), 50000);
	}
	timerq_advance(&TQ, 25000);
	assert_int_equal(rd(LAPIC_TIMER_CCR), 37500);
	assert_int_equal(L.timer_fires, 5);
	/* Masked: counting goes on, no interrupts; unmasked: resumes at the
	 * next period boundary. */
	wr(LAPIC_LVT_TIMER, 0x30041);
	timerq_advance(&TQ, 1000000);
	assert_false(lapic_intr_pending(&L));
	assert_int_equal(rd(LAPIC_TIMER_CCR), 37500);
	wr(LAPIC_LVT_TIMER, 0x20041);
	timerq_advance(&TQ, 74999);
	assert_false(lapic_intr_pending(&L));
	timerq_advance(&TQ, 1);
	assert_true(lapic_intr_pending(&L));
	wr(LAPIC_TIMER_ICR, 0);               /* stop */
	assert_int_equal(rd(LAPIC_TIMER_CCR), 0);
	unsigned fires = (unsigned)L.timer_fires;
	timerq_advance(&TQ, 1000000);
	assert_int_equal(L.timer_fires, fires);
	/* A 2 ns period is not re-armed faster than LAPIC_MIN_REARM_NS. */
	wr(LAPIC_TIMER_ICR, 1);
	timerq_advance(&TQ, 1000000);
	assert_true(L.timer_fires - fires <= 1000000 / LAPIC_MIN_REARM_NS + 1);
	assert_true(L.timer_fires - fires >= 1000000 / LAPIC_MIN_REARM_NS / 2);
}

static void test_lint_fixed(void **state)
{
	(void)state;
	wr(LAPIC_LVT_LINT1, 0x0000A055);      /* fixed, level, vector 0x55 */
	lapic_set_lint(&L, 1, true);
	assert_true(bit(LAPIC_IRR, 0x55));
	assert_true(bit(LAPIC_TMR, 0x55));
	lapic_set_lint(&L, 1, false);         /* withdrawn before INTA */
	assert_false(bit(LAPIC_IRR, 0x55));
	wr(LAPIC_LVT_LINT1, 0x00000056);      /* fixed, edge */
	lapic_set_lint(&L, 1, true);
	lapic_set_lint(&L, 1, false);
	assert_int_equal(lapic_intr_ack(&L), 0x56);
	wr(LAPIC_LVT_LINT1, 0x8400);          /* NMI: latched for the CPU */
	assert_false(lapic_nmi_pending(&L));
	lapic_set_lint(&L, 1, true);
	assert_true(lapic_nmi_pending(&L));
	assert_false(lapic_intr_pending(&L)); /* not an INTR */
	assert_true(lapic_nmi_ack(&L));
	assert_false(lapic_nmi_pending(&L));
	assert_false(lapic_nmi_ack(&L));
	/* an NMI IPI to self (ICR delivery mode 100b, shorthand self) */
	wr(LAPIC_ICR_LO, 0x00044400);
	assert_true(lapic_nmi_ack(&L));
	/* an IOAPIC message with delivery mode NMI: not accepted into IRR */
	assert_false(lapic_deliver(&L, 0, LAPIC_DM_NMI, false, 0, true));
	assert_true(lapic_nmi_ack(&L));
}

static void test_msr(void **state)
{
	(void)state;
	char err[200] = "";
	assert_int_equal(lapic_msr_write(&L, 0xFEE00800 | 1u << 10, err, sizeof(err)), LAPIC_MSR_GP);
	assert_int_equal(lapic_msr_write(&L, 0xFEE00801, err, sizeof(err)), LAPIC_MSR_GP);
	assert_int_equal(lapic_msr_write(&L, 0xFED00800, err, sizeof(err)), LAPIC_MSR_UNSUPPORTED);
	assert_non_null(strstr(err, "0xfed00000"));
	assert_true(lapic_enabled(&L));
	/* Disable: power-up state (SVR 0xFF, LVTs masked); BSP stays. */
	assert_int_equal(lapic_msr_write(&L, 0xFEE00000, err, sizeof(err)), LAPIC_MSR_OK);
	assert_int_equal(lapic_msr_read(&L), 0xFEE00100);
	assert_int_equal(lapic_msr_write(&L, 0xFEE00800, err, sizeof(err)), LAPIC_MSR_OK);
	assert_int_equal(lapic_msr_read(&L), 0xFEE00900);
	assert_int_equal(rd(LAPIC_SVR), 0xFF);
	assert_int_equal(rd(LAPIC_LVT_LINT0), 0x10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_extint_passthrough, setup),
		cmocka_unit_test_setup(test_priority_and_eoi, setup),
		cmocka_unit_test_setup(test_level_eoi_and_deliver, setup),
		cmocka_unit_test_setup(test_errors_and_access_rules, setup),
		cmocka_unit_test_setup(test_timer_oneshot, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_lint_fixed, setup),
		cmocka_unit_test_setup(test_msr, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
