/* 82093AA IOAPIC with a recording local-APIC stand-in.  Section numbers:
 * 82093AA datasheet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/ioapic.h"

static struct io_bus BUS;
static struct ioapic IO;
static struct msg { uint8_t vector, dest; unsigned mode; bool logical, level; } MSG[16];
static int N_MSG;
static bool ACCEPT;

static bool sink(void *o, uint8_t vector, unsigned mode, bool logical, uint8_t dest, bool level)
{
	(void)o;
	if (N_MSG < 16)
		MSG[N_MSG] = (struct msg){ vector, dest, mode, logical, level };
	N_MSG++;
	return ACCEPT;
}

static uint32_t rd(uint32_t reg)
{
	uint8_t d[4];
	io_data_put(d, 4, reg);
	io_bus_access(&BUS, IOAPIC_BASE, d, 4, true);
	io_bus_access(&BUS, IOAPIC_BASE + 0x10, d, 4, false);
	return io_data_get(d, 4);
}

static void wr(uint32_t reg, uint32_t v)
{
	uint8_t d[4];
	io_data_put(d, 4, reg);
	io_bus_access(&BUS, IOAPIC_BASE, d, 4, true);
	io_data_put(d, 4, v);
	io_bus_access(&BUS, IOAPIC_BASE + 0x10, d, 4, true);
}

static int setup(void **state)
{
	(void)state;
	io_bus_init(&BUS, "mmio");
	N_MSG = 0;
	ACCEPT = true;
	ioapic_init(&IO, sink, NULL);
	assert_int_equal(ioapic_register(&IO, &BUS), 0);
	return 0;
}

static void test_registers(void **state)
{
	(void)state;
	assert_int_equal(rd(IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(rd(IOAPIC_REG_ID), 0);
	wr(IOAPIC_REG_ID, 0x0F000000);
	assert_int_equal(rd(IOAPIC_REG_ID), 0x0F000000);
	assert_int_equal(rd(IOAPIC_REG_ARB), 0x0F000000);
	wr(IOAPIC_REG_VER, 0);                         /* read-only */
	assert_int_equal(rd(IOAPIC_REG_VER), 0x00170011);
	for (unsigned p = 0; p < IOAPIC_PINS; p++) {
		assert_int_equal(rd(0x10 + 2 * p), 0x10000);
		assert_int_equal(rd(0x11 + 2 * p), 0);
	}
	/* Delivery status (12) and Remote IRR (14) are read-only. */
	wr(0x10 + 2 * 5, 0xFFFFFFFF);
	assert_int_equal(rd(0x10 + 2 * 5), 0x1AFFF);
	wr(0x11 + 2 * 5, 0xFFFFFFFF);
	assert_int_equal(rd(0x11 + 2 * 5), 0xFF000000);
	assert_int_equal(rd(0x40), 0);                 /* unimplemented index */
	/* IOREGSEL reads back; a byte write selects too. */
	uint8_t b = IOAPIC_REG_VER;
	io_bus_access(&BUS, IOAPIC_BASE, &b, 1, true);
	uint8_t d[4];
	io_bus_access(&BUS, IOAPIC_BASE + 0x10, d, 4, false);
	assert_int_equal(io_data_get(d, 4), 0x00170011);
	/* A 1-byte IOWIN access and an unknown offset: 0, counted. */
	io_bus_access(&BUS, IOAPIC_BASE + 0x10, d, 1, false);
	assert_int_equal(d[0], 0);
	io_bus_access(&BUS, IOAPIC_BASE + 0x20, d, 4, false);
	assert_int_equal(io_data_get(d, 4), 0);
	assert_int_equal(IO.bad_accesses, 2);
}

static void test_edge(void **state)
{
	(void)state;
	ioapic_set_irq(&IO, 2, 1);                     /* masked: lost */
	ioapic_set_irq(&IO, 2, 0);
	assert_int_equal(N_MSG, 0);
	assert_int_equal(IO.edges_lost, 1);
	wr(0x11 + 4, 0x03000000);
	wr(0x10 + 4, 0x0930);                          /* lowest priority, logical, vector 0x30 */
	ioapic_set_irq(&IO, 2, 1);
	ioapic_set_irq(&IO, 2, 1);                     /* no new edge */
	assert_int_equal(N_MSG, 1);
	assert_int_equal(MSG[0].vector, 0x30);
	assert_int_equal(MSG[0].mode, 1);
	assert_true(MSG[0].logical);
	assert_int_equal(MSG[0].dest, 3);
	assert_false(MSG[0].level);
	ioapic_set_irq(&IO, 2, 0);
	ioapic_set_irq(&IO, 2, 1);
	assert_int_equal(N_MSG, 2);
	assert_int_equal(rd(0x10 + 4) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* Active low: the falling edge asserts. */
	wr(0x10 + 2 * 7, 0x2031);
	ioapic_set_irq(&IO, 7, 1);
	assert_int_equal(N_MSG, 2);
	ioapic_set_irq(&IO, 7, 0);
	assert_int_equal(N_MSG, 3);
	assert_int_equal(MSG[2].vector, 0x31);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	wr(0x10 + 2 * 9, 0x8041);                      /* level, high, vector 0x41 */
	ioapic_set_irq(&IO, 9, 1);
	assert_int_equal(N_MSG, 1);
	assert_true(MSG[0].level);
	assert_true(rd(0x10 + 2 * 9) & IOAPIC_RTE_REMOTE_IRR);
	ioapic_set_irq(&IO, 9, 1);
	assert_int_equal(N_MSG, 1);                    /* Remote IRR holds it */
	ioapic_eoi(&IO, 0x42);                         /* another vector */
	assert_int_equal(N_MSG, 1);
	ioapic_eoi(&IO, 0x41);                         /* still high: again */
	assert_int_equal(N_MSG, 2);
	assert_true(rd(0x10 + 2 * 9) & IOAPIC_RTE_REMOTE_IRR);
	ioapic_set_irq(&IO, 9, 0);
	ioapic_eoi(&IO, 0x41);
	assert_int_equal(N_MSG, 2);
	assert_false(rd(0x10 + 2 * 9) & IOAPIC_RTE_REMOTE_IRR);
	/* Masked while asserted, then unmasked: sent at the unmask. */
	wr(0x10 + 2 * 9, 0x18041);
	ioapic_set_irq(&IO, 9, 1);
	assert_int_equal(N_MSG, 2);
	wr(0x10 + 2 * 9, 0x8041);
	assert_int_equal(N_MSG, 3);
	/* Not accepted by any APIC: Remote IRR stays clear. */
	ioapic_set_irq(&IO, 9, 0);
	ioapic_eoi(&IO, 0x41);
	ACCEPT = false;
	ioapic_set_irq(&IO, 9, 1);
	assert_int_equal(N_MSG, 4);
	assert_false(rd(0x10 + 2 * 9) & IOAPIC_RTE_REMOTE_IRR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registers, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level_remote_irr, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
