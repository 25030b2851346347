/* ACPI tables.  Section numbers: ACPI Specification 6.x, chapter 5
 * (tables) and 20 (AML grammar). */
#include "loader/acpi_tables.h"
#include <stdio.h>
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "loader/table_bytes.h"

#define HDR_LEN 36
#define OEM_ID "BTVM  "              /* 6 bytes */
#define CREATOR_ID "BTVM"

/* 5.2.6: the common description header; the checksum is set last. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev, const char *table_id)
{
	tb_putstr(t, 0, sig, 4);
	tb_put32(t, 4, len);
	tb_put8(t, 8, rev);
	tb_putstr(t, 10, OEM_ID, 6);
	tb_putstr(t, 16, table_id, 8);
	tb_put32(t, 24, 1);              /* OEM revision */
	tb_putstr(t, 28, CREATOR_ID, 4);
	tb_put32(t, 32, 1);              /* creator revision */
}

static int put(struct phys_mem *mem, uint32_t addr, uint8_t *t, size_t len, char *err, size_t errlen)
{
	if (!phys_write(mem, addr, t, len)) {
		snprintf(err, errlen, "ACPI table area %#x-%#zx is not in guest RAM", addr, addr + len);
		return -1;
	}
	return 0;
}

/* AML for a small integer (20.2.3): ZeroOp, OneOp or BytePrefix n. */
static size_t aml_int(uint8_t *p, size_t off, uint8_t v)
{
	if (v <= 1) {
		p[off] = v;   /* ZeroOp 0x00, OneOp 0x01 */
		return off + 1;
	}
	p[off] = 0x0A;
	p[off + 1] = v;
	return off + 2;
}

/* DSDT (5.2.11.1), revision 1 (32-bit integers), AML body:
 *   08              NameOp
 *   5C 5F 53 35 5F  "\_S5_" (RootChar, NameSeg)
 *   12              PackageOp
 *   nn              PkgLength (one byte: counts itself, NumElements and
 *                   the elements)
 *   04              NumElements
 *   xx xx 00 00     SLP_TYPa, SLP_TYPb, two reserved (7.4.2)
 * With SLP_TYP 0 the whole body is 08 5C 5F 53 35 5F 12 06 04 00 00 00 00. */
static size_t build_dsdt(uint8_t *t)
{
	size_t off = HDR_LEN;
	static const uint8_t name[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12 };
	for (size_t i = 0; i < sizeof(name); i++)
		t[off++] = name[i];
	size_t pkglen_at = off++;
	t[off++] = 4;
	off = aml_int(t, off, ACPI_PM_SLP_TYP_S5);
	off = aml_int(t, off, ACPI_PM_SLP_TYP_S5);
	off = aml_int(t, off, 0);
	off = aml_int(t, off, 0);
	t[pkglen_at] = (uint8_t)(off - pkglen_at);
	header(t, "DSDT", (uint32_t)off, 1, "BTVMDSDT");
	tb_checksum(t, off, 9);
	return off;
}

/* FADT (5.2.9, Table 5.9), first 116 bytes (the revision-1 layout). */
static size_t build_fadt(uint8_t *t)
{
	header(t, "FACP", ACPI_FADT_LEN, 1, "BTVMFACP");
	tb_put32(t, 36, ACPI_FACS_ADDR);         /* FIRMWARE_CTRL */
	tb_put32(t, 40, ACPI_DSDT_ADDR);         /* DSDT */
	tb_put16(t, 46, ACPI_SCI_IRQ);           /* SCI_INT */
	tb_put32(t, 48, 0);                      /* SMI_CMD: none, always ACPI mode */
	tb_put32(t, 56, ACPI_PM1_EVT_BLK);       /* PM1a_EVT_BLK */
	tb_put32(t, 64, ACPI_PM1_CNT_BLK);       /* PM1a_CNT_BLK */
	tb_put32(t, 76, ACPI_PM_TMR_BLK);        /* PM_TMR_BLK */
	tb_put8(t, 88, 4);                       /* PM1_EVT_LEN */
	tb_put8(t, 89, 2);                       /* PM1_CNT_LEN */
	tb_put8(t, 91, 4);                       /* PM_TMR_LEN */
	tb_put16(t, 96, 101);                    /* P_LVL2_LAT > 100: no C2 */
	tb_put16(t, 98, 1001);                   /* P_LVL3_LAT > 1000: no C3 */
	/* Flags (Table 5.10): WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and
	 * SLP_BUTTON (5) = no fixed-feature buttons; TMR_VAL_EXT (8) = 0:
	 * the PM timer is 24 bits. */
	tb_put32(t, 112, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5);
	tb_checksum(t, ACPI_FADT_LEN, 9);
	return ACPI_FADT_LEN;
}

/* MADT (5.2.12). */
static size_t build_madt(uint8_t *t)
{
	size_t off = HDR_LEN;
	tb_put32(t, off, LAPIC_BASE);            /* Local Interrupt Controller Address */
	tb_put32(t, off + 4, 1);                 /* PCAT_COMPAT: 8259s present */
	off += 8;
	/* 5.2.12.2: processor local APIC: UID 0, APIC ID 0, enabled. */
	t[off] = 0, t[off + 1] = 8, t[off + 2] = 0, t[off + 3] = 0;
	tb_put32(t, off + 4, 1);
	off += 8;
	/* 5.2.12.3: I/O APIC: ID 0, address, GSI base 0. */
	t[off] = 1, t[off + 1] = 12, t[off + 2] = 0, t[off + 3] = 0;
	tb_put32(t, off + 4, IOAPIC_BASE);
	tb_put32(t, off + 8, 0);
	off += 12;
	/* 5.2.12.5: interrupt source overrides (bus 0 = ISA).  Flags (Table
	 * 5.26): polarity bits 1:0, trigger bits 3:2; 0 = bus default,
	 * 0xD = active high, level. */
	static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[] = {
		{ 0, 2, 0x0000 },
		{ ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0x000D },
	};
	for (size_t i = 0; i < sizeof(iso) / sizeof(iso[0]); i++) {
		t[off] = 2, t[off + 1] = 10, t[off + 2] = 0, t[off + 3] = iso[i].irq;
		tb_put32(t, off + 4, iso[i].gsi);
		tb_put16(t, off + 8, iso[i].flags);
		off += 10;
	}
	/* 5.2.12.7: local APIC NMI: all processors (0xFF), flags 0, LINT1. */
	t[off] = 4, t[off + 1] = 6, t[off + 2] = 0xFF;
	tb_put16(t, off + 3, 0);
	t[off + 5] = 1;
	off += 6;
	header(t, "APIC", (uint32_t)off, 1, "BTVMAPIC");
	tb_checksum(t, off, 9);
	return off;
}

int acpi_tables_write(struct phys_mem *mem, char *err, size_t errlen)
{
	uint8_t t[ACPI_TABLES_END - ACPI_RSDP_ADDR];
	size_t n;

	/* 5.2.5.3: RSDP revision 0 (ACPI 1.0 form, 20 bytes). */
	memset(t, 0, sizeof(t));
	tb_putstr(t, 0, "RSD PTR ", 8);
	tb_putstr(t, 9, OEM_ID, 6);
	tb_put8(t, 15, 0);
	tb_put32(t, 16, ACPI_RSDT_ADDR);
	tb_checksum(t, 20, 8);
	if (put(mem, ACPI_RSDP_ADDR, t, 20, err, errlen))
		return -1;

	/* 5.2.7: RSDT with the FADT and the MADT. */
	memset(t, 0, sizeof(t));
	header(t, "RSDT", HDR_LEN + 8, 1, "BTVMRSDT");
	tb_put32(t, HDR_LEN, ACPI_FADT_ADDR);
	tb_put32(t, HDR_LEN + 4, ACPI_MADT_ADDR);
	tb_checksum(t, HDR_LEN + 8, 9);
	if (put(mem, ACPI_RSDT_ADDR, t, HDR_LEN + 8, err, errlen))
		return -1;

	memset(t, 0, sizeof(t));
	n = build_fadt(t);
	if (put(mem, ACPI_FADT_ADDR, t, n, err, errlen))
		return -1;

	/* 5.2.10: FACS, 64 bytes, no checksum; nothing else to fill in (no
	 * waking vector: S5 is the only sleep state). */
	memset(t, 0, sizeof(t));
	tb_putstr(t, 0, "FACS", 4);
	tb_put32(t, 4, 64);
	if (put(mem, ACPI_FACS_ADDR, t, 64, err, errlen))
		return -1;

	memset(t, 0, sizeof(t));
	n = build_madt(t);
	if (put(mem, ACPI_MADT_ADDR, t, n, err, errlen))
		return -1;

	memset(t, 0, sizeof(t));
	n = build_dsdt(t);
	return put(mem, ACPI_DSDT_ADDR, t, n, err, errlen);
}
