/* ACPI PM1a event/control and the PM timer (0x600-0x60B) on a manual
 * clock.  Invariants: PM_TMR is 24 bits; the SCI is 0 or 1 and what the
 * device believes it drives; SLP_EN reads 0 and SCI_EN 1; no timer
 * survives its deadline.  An S5 write is counted. */
#include "devices/acpi_pm.h"
#include "fuzz_common.h"

static const unsigned widths[4] = { 1, 2, 4, 2 };
static unsigned long poweroffs;

static void poweroff(void *opaque)
{
	(void)opaque;
	poweroffs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct timer_queue tq;
	static struct acpi_pm pm;
	static struct fz_irqs irqs;
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	timerq_init_manual(&tq, 3000000000ull);
	acpi_pm_init(&pm, &tq, (struct irq_line){ fz_irq_set, &irqs, 9 }, poweroff, NULL);
	FZ_ASSERT(acpi_pm_register(&pm, &bus) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			/* 0x5FF-0x60C: each register, the bytes inside, both ends */
			fz_access(&bus, ACPI_PM_BASE - 1 + op.where % 14, op.width, op.kind == FZ_WRITE,
				  op.value);
			break;
		case FZ_CLOCK:
			fz_advance(&tq, op.value);
			break;
		case FZ_SPECIAL:
			if (op.value == 0xFF)
				acpi_pm_reset(&pm);
			else
				FZ_ASSERT(acpi_pm_timer(&pm) < (1u << 24), "PM_TMR above 24 bits");
			break;
		}
		FZ_ASSERT(irqs.sets[9] == 0 || irqs.level[9] == pm.sci_level, "SCI %d vs %d", irqs.level[9],
			  pm.sci_level);
		uint32_t cnt = (uint32_t)fz_access(&bus, ACPI_PM1_CNT_BLK, 2, false, 0);
		FZ_ASSERT((cnt & ACPI_PM1_CNT_SCI_EN) && !(cnt & ACPI_PM1_CNT_SLP_EN), "PM1_CNT reads %#x", cnt);
	}
	return 0;
}
