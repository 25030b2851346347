/* MP configuration table.  Section numbers: Intel MultiProcessor
 * Specification, version 1.4 (order 242016-006), chapter 4. */
#include "loader/mptable.h"
#include <stdio.h>
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "loader/table_bytes.h"

#define ISA_BUS_ID 0
#define IOAPIC_ID 0
#define BSP_APIC_ID 0

/* Entry types (4.3) and interrupt types (Table 4-10). */
enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINT = 3, MP_LOCALINT = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };
/* I/O interrupt flags (Table 4-10): PO bits 1:0, EL bits 3:2; 0 =
 * conforms to the bus, 1 = active high / edge, 3 = active low / level. */
#define MP_FLAGS_CONFORM 0x0000
#define MP_FLAGS_HIGH_LEVEL 0x000D

static size_t ioint(uint8_t *p, size_t off, uint16_t flags, uint8_t irq, uint8_t pin)
{
	tb_put8(p, off, MP_IOINT);
	tb_put8(p, off + 1, MP_INT);
	tb_put16(p, off + 2, flags);
	tb_put8(p, off + 4, ISA_BUS_ID);
	tb_put8(p, off + 5, irq);
	tb_put8(p, off + 6, IOAPIC_ID);
	tb_put8(p, off + 7, pin);
	return off + 8;
}

static size_t localint(uint8_t *p, size_t off, uint8_t type, uint8_t dest_apic, uint8_t lint)
{
	tb_put8(p, off, MP_LOCALINT);
	tb_put8(p, off + 1, type);
	tb_put16(p, off + 2, MP_FLAGS_CONFORM);
	tb_put8(p, off + 4, ISA_BUS_ID);
	tb_put8(p, off + 5, 0);
	tb_put8(p, off + 6, dest_apic);
	tb_put8(p, off + 7, lint);
	return off + 8;
}

int mptable_write(struct phys_mem *mem, char *err, size_t errlen)
{
	uint8_t t[MPTABLE_MAX_SIZE] = { 0 };
	unsigned entries = 0;

	/* 4.2: configuration table header, 44 bytes. */
	tb_putstr(t, 0, "PCMP", 4);
	tb_put8(t, 6, 4);                        /* spec revision 1.4 */
	tb_putstr(t, 8, "BTVM    ", 8);          /* OEM ID */
	tb_putstr(t, 16, "btvm PC     ", 12);    /* product ID */
	tb_put32(t, 36, LAPIC_BASE);             /* address of the local APICs */
	size_t off = 44;

	/* 4.3.1: processor entry, 20 bytes: enabled (bit 0), BSP (bit 1). */
	tb_put8(t, off, MP_PROCESSOR);
	tb_put8(t, off + 1, BSP_APIC_ID);
	tb_put8(t, off + 2, LAPIC_VERSION & 0xFF);
	tb_put8(t, off + 3, 0x03);
	tb_put32(t, off + 4, MPTABLE_CPU_SIGNATURE);
	tb_put32(t, off + 8, MPTABLE_CPU_FEATURES);
	off += 20, entries++;

	/* 4.3.2: bus entry, 8 bytes. */
	tb_put8(t, off, MP_BUS);
	tb_put8(t, off + 1, ISA_BUS_ID);
	tb_putstr(t, off + 2, "ISA   ", 6);
	off += 8, entries++;

	/* 4.3.3: I/O APIC entry, 8 bytes: enabled. */
	tb_put8(t, off, MP_IOAPIC);
	tb_put8(t, off + 1, IOAPIC_ID);
	tb_put8(t, off + 2, IOAPIC_VERSION);
	tb_put8(t, off + 3, 0x01);
	tb_put32(t, off + 4, IOAPIC_BASE);
	off += 8, entries++;

	/* 4.3.4: I/O interrupt assignments for the ISA IRQs. */
	for (uint8_t irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;   /* the cascade; INTIN2 is IRQ0's */
		uint8_t pin = irq == 0 ? 2 : irq;
		uint16_t flags = irq == ACPI_SCI_IRQ ? MP_FLAGS_HIGH_LEVEL : MP_FLAGS_CONFORM;
		off = ioint(t, off, flags, irq, pin);
		entries++;
	}

	/* 4.3.5: local interrupts: the 8259 on LINT0 (ExtINT) of the BSP,
	 * NMI on LINT1 of every local APIC (0xFF). */
	off = localint(t, off, MP_EXTINT, BSP_APIC_ID, 0);
	off = localint(t, off, MP_NMI, 0xFF, 1);
	entries += 2;

	tb_put16(t, 4, (uint16_t)off);           /* base table length */
	tb_put16(t, 34, (uint16_t)entries);
	tb_checksum(t, off, 7);

	/* 4.1: floating pointer structure, 16 bytes. */
	uint8_t fp[16] = { 0 };
	tb_putstr(fp, 0, "_MP_", 4);
	tb_put32(fp, 4, MPTABLE_CFG_ADDR);
	tb_put8(fp, 8, 1);                       /* length in 16-byte units */
	tb_put8(fp, 9, 4);                       /* spec revision 1.4 */
	tb_put8(fp, 11, 0);                      /* feature 1: a table is present */
	tb_put8(fp, 12, 0);                      /* feature 2: IMCRP = 0, virtual wire */
	tb_checksum(fp, sizeof(fp), 10);

	if (!phys_write(mem, MPTABLE_FP_ADDR, fp, sizeof(fp)) ||
	    !phys_write(mem, MPTABLE_CFG_ADDR, t, off)) {
		snprintf(err, errlen, "MP table area %#x-%#x is not in guest RAM", MPTABLE_FP_ADDR,
			 (unsigned)(MPTABLE_CFG_ADDR + off));
		return -1;
	}
	return 0;
}
