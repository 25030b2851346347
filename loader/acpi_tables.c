/* ACPI tables.  Section numbers: ACPI Specification 6.x, chapter 5
 * (tables) and 20 (AML grammar). */
#include "loader/acpi_tables.h"
#include <stdio.h>
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "loader/acpi_linker.h"
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
	return off;
}

/* FADT (5.2.9, Table 5.9), first 116 bytes (the revision-1 layout). */
static size_t build_fadt(uint8_t *t)
{
	header(t, "FACP", ACPI_FADT_LEN, 1, "BTVMFACP");
	/* FIRMWARE_CTRL (36) and DSDT (40): pointers, set by the builder */
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
	return off;
}

/* The tables, from ACPI_RSDT_ADDR, with every pointer relative to base
 * (the address tables[0] will have); each pointer field and checksum is
 * also recorded in the linker script when there is one. */
struct builder {
	struct acpi_image *img;
	uint32_t base;
	struct acpi_linker *l;
};

static uint8_t *at(struct builder *b, uint32_t addr)
{
	return b->img->tables + (addr - ACPI_RSDT_ADDR);
}

/* A 32-bit pointer at field (an address in the memory layout) to target. */
static void pointer(struct builder *b, uint32_t field, uint32_t target)
{
	tb_put32(at(b, field), 0, b->base + (target - ACPI_RSDT_ADDR));
	if (b->l)
		acpi_linker_add_pointer(b->l, ACPI_FW_CFG_TABLES, ACPI_FW_CFG_TABLES, field - ACPI_RSDT_ADDR, 4);
}

/* The table at addr is complete: record its checksum (5.2.6, offset 9). */
static void checksummed(struct builder *b, uint32_t addr)
{
	uint8_t *t = at(b, addr);
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
	tb_checksum(t, len, 9);
	if (b->l)
		acpi_linker_add_checksum(b->l, ACPI_FW_CFG_TABLES, addr - ACPI_RSDT_ADDR + 9,
					 addr - ACPI_RSDT_ADDR, len);
	if (addr - ACPI_RSDT_ADDR + len > b->img->tables_len)
		b->img->tables_len = addr - ACPI_RSDT_ADDR + len;
}

void acpi_tables_build(struct acpi_image *img, uint32_t tables_base, struct acpi_linker *linker)
{
	memset(img, 0, sizeof(*img));
	struct builder b = { img, tables_base, linker };
	if (linker) {
		/* ALLOCATE first (QEMU's order): the RSDP where an OS searches
		 * for it (5.2.5.1), the tables anywhere, 64-byte aligned so the
		 * FACS offset stays aligned (5.2.10). */
		acpi_linker_alloc(linker, ACPI_FW_CFG_RSDP, 16, ACPI_LINKER_ZONE_FSEG);
		acpi_linker_alloc(linker, ACPI_FW_CFG_TABLES, 64, ACPI_LINKER_ZONE_HIGH);
	}

	/* 5.2.7: RSDT with the FADT and the MADT. */
	header(at(&b, ACPI_RSDT_ADDR), "RSDT", HDR_LEN + 8, 1, "BTVMRSDT");
	pointer(&b, ACPI_RSDT_ADDR + HDR_LEN, ACPI_FADT_ADDR);
	pointer(&b, ACPI_RSDT_ADDR + HDR_LEN + 4, ACPI_MADT_ADDR);
	checksummed(&b, ACPI_RSDT_ADDR);

	build_fadt(at(&b, ACPI_FADT_ADDR));
	pointer(&b, ACPI_FADT_ADDR + 36, ACPI_FACS_ADDR);   /* FIRMWARE_CTRL */
	pointer(&b, ACPI_FADT_ADDR + 40, ACPI_DSDT_ADDR);   /* DSDT */
	checksummed(&b, ACPI_FADT_ADDR);

	/* 5.2.10: FACS, 64 bytes, no checksum; nothing else to fill in (no
	 * waking vector: S5 is the only sleep state). */
	tb_putstr(at(&b, ACPI_FACS_ADDR), 0, "FACS", 4);
	tb_put32(at(&b, ACPI_FACS_ADDR), 4, 64);

	build_madt(at(&b, ACPI_MADT_ADDR));
	checksummed(&b, ACPI_MADT_ADDR);
	build_dsdt(at(&b, ACPI_DSDT_ADDR));
	checksummed(&b, ACPI_DSDT_ADDR);

	/* 5.2.5.3: RSDP revision 0 (ACPI 1.0 form, 20 bytes). */
	tb_putstr(img->rsdp, 0, "RSD PTR ", 8);
	tb_putstr(img->rsdp, 9, OEM_ID, 6);
	tb_put8(img->rsdp, 15, 0);
	tb_put32(img->rsdp, 16, tables_base);   /* the RSDT is first */
	tb_checksum(img->rsdp, ACPI_RSDP_LEN, 8);
	if (linker) {
		acpi_linker_add_pointer(linker, ACPI_FW_CFG_RSDP, ACPI_FW_CFG_TABLES, 16, 4);
		acpi_linker_add_checksum(linker, ACPI_FW_CFG_RSDP, 8, 0, ACPI_RSDP_LEN);
	}
}

int acpi_tables_write(struct phys_mem *mem, char *err, size_t errlen)
{
	static struct acpi_image img;   /* one VM per process; keeps the stack small */
	acpi_tables_build(&img, ACPI_RSDT_ADDR, NULL);
	if (!phys_write(mem, ACPI_RSDP_ADDR, img.rsdp, ACPI_RSDP_LEN) ||
	    !phys_write(mem, ACPI_RSDT_ADDR, img.tables, img.tables_len)) {
		snprintf(err, errlen, "ACPI table area %#x-%#zx is not in guest RAM", ACPI_RSDP_ADDR,
			 ACPI_RSDT_ADDR + img.tables_len);
		return -1;
	}
	return 0;
}
