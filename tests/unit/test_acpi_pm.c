/* ACPI PM1 registers and PM timer on a manual clock (ACPI 6.x 4.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/acpi_pm.h"

static struct timer_queue TQ;
static struct io_bus BUS;
static struct acpi_pm PM;
static int SCI, POWEROFF;

static void sci_set(void *o, int irq, int level)
{
	(void)o;
	assert_int_equal(irq, 9);
	SCI = level;
}
static void poweroff(void *o) { (void)o; POWEROFF++; }

static uint32_t in(uint16_t port, unsigned len)
{
	uint8_t d[4] = { 0 };
	io_bus_access(&BUS, port, d, len, false);
	return io_data_get(d, len);
}
static void out(uint16_t port, unsigned len, uint32_t v)
{
	uint8_t d[4];
	io_data_put(d, len, v);
	io_bus_access(&BUS, port, d, len, true);
}

static int setup(void **state)
{
	(void)state;
	timerq_init_manual(&TQ, 0);
	io_bus_init(&BUS, "pio");
	SCI = POWEROFF = 0;
	acpi_pm_init(&PM, &TQ, (struct irq_line){ sci_set, NULL, 9 }, poweroff, NULL);
	assert_int_equal(acpi_pm_register(&PM, &BUS), 0);
	return 0;
}

static void test_timer(void **state)
{
	(void)state;
	assert_int_equal(in(ACPI_PM_TMR_BLK, 4), 0);
	timerq_advance(&TQ, 1000000000);                  /* one second */
	assert_int_equal(in(ACPI_PM_TMR_BLK, 4), ACPI_PM_TIMER_HZ);
	assert_int_equal(in(ACPI_PM_TMR_BLK + 2, 1), (ACPI_PM_TIMER_HZ >> 16) & 0xFF);
	timerq_advance(&TQ, 4000000000ull);               /* wraps at 2^24 */
	assert_int_equal(in(ACPI_PM_TMR_BLK, 4), (5ull * ACPI_PM_TIMER_HZ) & 0xFFFFFF);
	out(ACPI_PM_TMR_BLK, 4, 0);                       /* read-only */
	assert_int_equal(in(ACPI_PM_TMR_BLK, 4), (5ull * ACPI_PM_TIMER_HZ) & 0xFFFFFF);
}

static void test_tmr_sts_sci(void **state)
{
	(void)state;
	assert_int_equal(in(ACPI_PM1_EVT_BLK, 2) & ACPI_PM1_TMR_STS, 0);
	out(ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_TMR_EN);
	assert_int_equal(in(ACPI_PM1_EVT_BLK + 2, 2), ACPI_PM1_TMR_EN);
	/* Bit 23 first changes at tick 2^23 (about 2.34 s). */
	uint64_t ns = (uint64_t)(((unsigned __int128)(1u << 23) * 1000000000u + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
	timerq_advance(&TQ, ns - 1);
	assert_int_equal(SCI, 0);
	timerq_advance(&TQ, 1);
	assert_int_equal(SCI, 1);
	assert_true(in(ACPI_PM1_EVT_BLK, 2) & ACPI_PM1_TMR_STS);
	out(ACPI_PM1_EVT_BLK, 2, ACPI_PM1_TMR_STS);      /* write 1 to clear */
	assert_int_equal(SCI, 0);
	assert_int_equal(in(ACPI_PM1_EVT_BLK, 2) & ACPI_PM1_TMR_STS, 0);
	timerq_advance(&TQ, ns);
	assert_int_equal(SCI, 1);
	out(ACPI_PM1_EVT_BLK + 2, 2, 0);                  /* TMR_EN off: SCI drops */
	assert_int_equal(SCI, 0);
}

static void test_sleep(void **state)
{
	(void)state;
	assert_int_equal(in(ACPI_PM1_CNT_BLK, 2), ACPI_PM1_CNT_SCI_EN);
	out(ACPI_PM1_CNT_BLK, 2, 5u << 10);               /* SLP_TYP only */
	assert_int_equal(POWEROFF, 0);
	assert_int_equal(in(ACPI_PM1_CNT_BLK, 2), (5u << 10) | ACPI_PM1_CNT_SCI_EN);
	out(ACPI_PM1_CNT_BLK, 2, (5u << 10) | ACPI_PM1_CNT_SLP_EN);  /* not S5 */
	assert_int_equal(POWEROFF, 0);
	assert_int_equal(PM.sleeps_ignored, 1);
	out(ACPI_PM1_CNT_BLK + 1, 1, (ACPI_PM_SLP_TYP_S5 << 2) | 0x20);  /* S5 via the high byte */
	assert_int_equal(POWEROFF, 1);
	assert_int_equal(in(ACPI_PM1_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_EN, 0);
	assert_int_equal(in(ACPI_PM_BASE + 6, 2), 0xFFFF);  /* gap */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_timer, setup),
		cmocka_unit_test_setup(test_tmr_sts_sci, setup),
		cmocka_unit_test_setup(test_sleep, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
