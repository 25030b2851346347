/* ACPI fixed-hardware power-management registers (ACPI 6.x, 4.8), at the
 * ports of the PIIX4 PM function that QEMU's PC uses (base 0x600):
 *   0x600  PM1a_EVT_BLK: PM1_STS (2 bytes), PM1_EN (2 bytes)    4.8.3.1
 *   0x604  PM1a_CNT_BLK: PM1_CNT (2 bytes)                        4.8.3.2
 *   0x608  PM_TMR_BLK:   PM_TMR (4 bytes)                          4.8.3.3
 * The FADT (loader/acpi_tables.c) points the guest here.
 *
 * Model:
 *  - PM_TMR: a 24-bit counter at 3.579545 MHz derived from the timer
 *    queue's clock (never ticked).  TMR_STS (PM1_STS bit 0) is set each
 *    time bit 23 of the counter changes; with TMR_EN the SCI is raised.
 *  - PM1_STS bits are cleared by writing 1; PM1_EN is read/write (only
 *    TMR_EN has a source; the power and sleep buttons do not exist).
 *  - PM1_CNT: SCI_EN always reads 1 (the FADT has no SMI_CMD: the machine
 *    is always in ACPI mode, 4.8.3.2.1).  Writing SLP_EN (bit 13, reads
 *    0) with SLP_TYP (bits 12:10) = ACPI_PM_SLP_TYP_S5 powers the machine
 *    off (on_poweroff); other sleep types are not offered by the DSDT and
 *    are ignored (counted).
 *  - The SCI is a level, active-high interrupt line (IRQ 9 on the PC:
 *    the FADT's SCI_INT, and MADT / MP table entries say so).
 * Accesses of any width are split into bytes; bytes beyond the registers
 * read 0xFF. */
#ifndef BTVM_DEVICES_ACPI_PM_H
#define BTVM_DEVICES_ACPI_PM_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/irq.h"
#include "devices/timer_queue.h"

#define ACPI_PM_BASE 0x600
#define ACPI_PM1_EVT_BLK (ACPI_PM_BASE + 0)
#define ACPI_PM1_CNT_BLK (ACPI_PM_BASE + 4)
#define ACPI_PM_TMR_BLK (ACPI_PM_BASE + 8)
#define ACPI_PM_SIZE 12
#define ACPI_PM_TIMER_HZ 3579545u
#define ACPI_SCI_IRQ 9
/* SLP_TYP for S5 (soft off): 0, as the PIIX4's SUS_TYP "soft off"; the
 * DSDT's \_S5 package carries it. */
#define ACPI_PM_SLP_TYP_S5 0

#define ACPI_PM1_TMR_STS (1u << 0)
#define ACPI_PM1_TMR_EN (1u << 0)
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

struct acpi_pm {
	struct timer_queue *tq;
	struct irq_line sci;
	struct vtimer timer;          /* next bit-23 change, while TMR_EN */
	uint16_t sts;                 /* sticky status bits other than TMR_STS */
	uint16_t en;
	uint16_t cnt;                 /* SLP_TYP and the other r/w bits */
	uint64_t tmr_sts_epoch;       /* tick >> 23 when TMR_STS was last cleared */
	int sci_level;
	void (*on_poweroff)(void *opaque);
	void *opaque;
	uint64_t sleeps_ignored;
};

/* pm_init performs acpi_pm_reset; on_poweroff may be NULL. */
void acpi_pm_init(struct acpi_pm *pm, struct timer_queue *tq, struct irq_line sci,
		  void (*on_poweroff)(void *opaque), void *opaque);
void acpi_pm_reset(struct acpi_pm *pm);
int acpi_pm_register(struct acpi_pm *pm, struct io_bus *pio);  /* 0 or -1 */
uint32_t acpi_pm_timer(struct acpi_pm *pm);                    /* PM_TMR now */
#endif
