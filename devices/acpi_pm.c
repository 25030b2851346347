/* ACPI PM1 event/control registers and the PM timer (ACPI 6.x, 4.8). */
#include "devices/acpi_pm.h"
#include <string.h>

#define NS_PER_SEC 1000000000ull
#define TMR_STS_SHIFT 23   /* 24-bit timer: TMR_STS follows bit 23 (4.8.3.3) */

static uint64_t ns_to_tick(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / NS_PER_SEC);
}

static uint64_t tick_to_ns(uint64_t tick)
{
	return (uint64_t)(((unsigned __int128)tick * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

static uint64_t now_tick(struct acpi_pm *pm)
{
	return ns_to_tick(timerq_now(pm->tq));
}

uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
	return (uint32_t)(now_tick(pm) & 0xFFFFFF);
}

static uint16_t status(struct acpi_pm *pm)
{
	uint16_t s = pm->sts;
	if ((now_tick(pm) >> TMR_STS_SHIFT) != pm->tmr_sts_epoch)
		s |= ACPI_PM1_TMR_STS;
	return s;
}

/* The SCI is asserted while an enabled status bit is set (4.8.3.1), and
 * the timer is armed for the next bit-23 change while TMR_EN is on. */
static void update(struct acpi_pm *pm)
{
	int level = (status(pm) & pm->en) != 0;
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
	if ((pm->en & ACPI_PM1_TMR_EN) && !(status(pm) & ACPI_PM1_TMR_STS))
		vtimer_arm(pm->tq, &pm->timer, tick_to_ns((pm->tmr_sts_epoch + 1) << TMR_STS_SHIFT));
	else
		vtimer_cancel(pm->tq, &pm->timer);
}

static void timer_cb(void *opaque, uint64_t now)
{
	(void)now;
	update(opaque);
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
	switch (off) {
	case 0: case 1: return (uint8_t)(status(pm) >> (8 * off));
	case 2: case 3: return (uint8_t)(pm->en >> (8 * (off - 2)));
	case 4: case 5: {
		uint16_t cnt = (uint16_t)((pm->cnt & ~ACPI_PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
		return (uint8_t)(cnt >> (8 * (off - 4)));
	}
	case 8: case 9: case 10: case 11: return (uint8_t)(tmr >> (8 * (off - 8)));
	default: return 0xFF;
	}
}

static void write_cnt(struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = v & ~ACPI_PM1_CNT_SLP_EN;
	if (!(v & ACPI_PM1_CNT_SLP_EN))
		return;
	unsigned typ = (v >> 10) & 7;
	if (typ == ACPI_PM_SLP_TYP_S5 && pm->on_poweroff)
		pm->on_poweroff(pm->opaque);
	else
		pm->sleeps_ignored++;
}

static void pm_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	if (!is_write) {
		uint32_t tmr = acpi_pm_timer(pm);   /* one sample for a multi-byte read */
		for (unsigned i = 0; i < len; i++)
			data[i] = read_byte(pm, (unsigned)offset + i, tmr);
		return;
	}
	uint16_t cnt = pm->cnt;
	bool cnt_written = false;
	for (unsigned i = 0; i < len; i++) {
		unsigned off = (unsigned)offset + i;
		uint8_t b = data[i];
		switch (off) {
		case 0: case 1: {
			uint16_t clr = (uint16_t)(b << (8 * off));
			if (clr & ACPI_PM1_TMR_STS)
				pm->tmr_sts_epoch = now_tick(pm) >> TMR_STS_SHIFT;
			pm->sts &= (uint16_t)~clr;   /* write 1 to clear */
			break;
		}
		case 2: case 3: {
			unsigned sh = 8 * (off - 2);
			pm->en = (uint16_t)((pm->en & ~(0xFFu << sh)) | (unsigned)b << sh);
			break;
		}
		case 4: case 5: {
			unsigned sh = 8 * (off - 4);
			cnt = (uint16_t)((cnt & ~(0xFFu << sh)) | (unsigned)b << sh);
			cnt_written = true;
			break;
		}
		default:
			break;   /* the timer is read-only; the gap is unused */
		}
	}
	if (cnt_written)
		write_cnt(pm, cnt);
	update(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = 0;
	pm->tmr_sts_epoch = now_tick(pm) >> TMR_STS_SHIFT;
	update(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct timer_queue *tq, struct irq_line sci,
		  void (*on_poweroff)(void *), void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pm->tq = tq;
	pm->sci = sci;
	pm->on_poweroff = on_poweroff;
	pm->opaque = opaque;
	vtimer_init(&pm->timer, timer_cb, pm);
	acpi_pm_reset(pm);
}

int acpi_pm_register(struct acpi_pm *pm, struct io_bus *pio)
{
	return io_bus_register(pio, ACPI_PM_BASE, ACPI_PM_SIZE, pm_io, pm, "acpi-pm");
}
