/* ACPI tables.  Section numbers: ACPI Specification 6.x, chapter 5
 * (tables) and 20 (AML grammar). */
#include "loader/acpi_tables.h"
#include <stdio.h>
#include <stdlib.h>
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "loader/acpi_linker.h"
#include "loader/e820.h"
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

/* ---- AML (chapter 20), written by hand with a few helpers ---------------
 * The DSDT's body is built in place after its header; the content is fixed
 * (it does not depend on the VM's configuration), so running out of the
 * table area is a bug in this file, not an error a user can cause. */
_Static_assert(PCI_MEM_WINDOW >= BTVM_MAX_RAM, "the PCI memory window overlaps RAM");

struct aml {
	uint8_t *p;
	size_t n, cap;
};

static void aml_byte(struct aml *a, uint8_t b)
{
	if (a->n >= a->cap) {
		fprintf(stderr, "btvm: internal error: the DSDT does not fit its %zu bytes\n", a->cap);
		abort();
	}
	a->p[a->n++] = b;
}

static void aml_bytes(struct aml *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aml_byte(a, b[i]);
}

/* A NameSeg (20.2.2): four characters, '_'-padded by the caller. */
static void aml_nameseg(struct aml *a, const char *seg)
{
	aml_bytes(a, (const uint8_t *)seg, 4);
}

/* An integer (20.2.3): ZeroOp, OneOp or the shortest Byte/Word/DWordConst. */
static void aml_int(struct aml *a, uint32_t v)
{
	if (v <= 1) {
		aml_byte(a, (uint8_t)v);            /* ZeroOp 0x00, OneOp 0x01 */
	} else if (v <= 0xFF) {
		aml_byte(a, 0x0A);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xFFFF) {
		aml_byte(a, 0x0B);
		aml_byte(a, (uint8_t)v);
		aml_byte(a, (uint8_t)(v >> 8));
	} else {
		aml_byte(a, 0x0C);
		for (int i = 0; i < 4; i++)
			aml_byte(a, (uint8_t)(v >> (8 * i)));
	}
}

/* The start of something with a PkgLength (20.2.4) right here: returns the
 * mark aml_end takes. */
static size_t aml_begin(struct aml *a)
{
	return a->n;
}

/* Inserts the PkgLength of everything written since mark, in the fewest
 * bytes: it counts itself, 1 byte up to 63, 2 up to 4095, 3 up to 2^20-1. */
static void aml_end(struct aml *a, size_t mark)
{
	size_t content = a->n - mark, nb = 1;
	if (content + 1 > 0x3F)
		nb = content + 2 <= 0xFFF ? 2 : content + 3 <= 0xFFFFF ? 3 : 4;
	size_t len = content + nb;
	for (size_t i = 0; i < nb; i++)
		aml_byte(a, 0);                     /* room (and the bounds check) */
	memmove(a->p + mark + nb, a->p + mark, content);
	if (nb == 1) {
		a->p[mark] = (uint8_t)len;
	} else {
		a->p[mark] = (uint8_t)((nb - 1) << 6 | (len & 0xF));
		for (size_t i = 1; i < nb; i++)
			a->p[mark + i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	}
}

/* Name(seg, integer) (DefName 0x08, 20.2.5.1). */
static void aml_name_int(struct aml *a, const char *seg, uint32_t v)
{
	aml_byte(a, 0x08);
	aml_nameseg(a, seg);
	aml_int(a, v);
}

/* An EISA ID such as "PNP0A03" compressed into the 32-bit integer _HID
 * takes (6.1.5): three letters in 5 bits each, then four hex digits, the
 * bytes in that order in memory. */
static uint32_t eisa_id(const char *id)
{
	uint32_t v = 0;
	for (int i = 0; i < 3; i++)
		v = v << 5 | (uint32_t)((id[i] - 0x40) & 0x1F);
	for (int i = 3; i < 7; i++)
		v = v << 4 | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
	return (v >> 24 & 0xFF) | (v >> 8 & 0xFF00) | (v << 8 & 0xFF0000) | (v << 24 & 0xFF000000u);
}

/* Address space resource descriptors (6.4.3.5), flags: _MIF and _MAF set
 * (a fixed window), positive decode, a producer (a bridge's window). */
#define RES_MEM 0
#define RES_IO 1
#define RES_BUS 2
#define RES_FIXED_PRODUCER 0x0C

static void res_word(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	uint8_t d[16] = { 0x88, 13, 0, type, RES_FIXED_PRODUCER, type_flags };
	tb_put16(d, 8, min);
	tb_put16(d, 10, max);
	tb_put16(d, 14, (uint16_t)(max - min + 1));   /* translation (12) 0 */
	aml_bytes(a, d, sizeof(d));
}

static void res_dword_mem(struct aml *a, uint8_t type_flags, uint32_t min, uint32_t max)
{
	uint8_t d[26] = { 0x87, 23, 0, RES_MEM, RES_FIXED_PRODUCER, type_flags };
	tb_put32(d, 10, min);
	tb_put32(d, 14, max);
	tb_put32(d, 22, max - min + 1);               /* translation (18) 0 */
	aml_bytes(a, d, sizeof(d));
}

/* \_SB.PCI0._CRS: Name(_CRS, ResourceTemplate() { ... }), a Buffer
 * (BufferOp 0x11, PkgLength, BufferSize) of resource descriptors. */
static void pci0_crs(struct aml *a)
{
	aml_byte(a, 0x08);
	aml_nameseg(a, "_CRS");
	aml_byte(a, 0x11);
	size_t m = aml_begin(a);
	size_t size_at = a->n;
	aml_int(a, 0xFF);                           /* BufferSize, set below */
	size_t body = a->n;
	/* Bus numbers 0-255 (only bus 0 has functions). */
	res_word(a, RES_BUS, 0, 0x00, 0xFF);
	/* The configuration ports, consumed by the bridge itself: IO
	 * descriptor (6.4.2.5), 16-bit decode, 0xCF8, alignment 1, 8 ports. */
	static const uint8_t cfg_io[] = { 0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08 };
	aml_bytes(a, cfg_io, sizeof(cfg_io));
	/* I/O windows: all of I/O space but the configuration ports
	 * (type flags: _RNG = 3, ISA and non-ISA ranges). */
	res_word(a, RES_IO, 0x03, 0x0000, PCI_IO_WINDOW_LOW_END);
	res_word(a, RES_IO, 0x03, PCI_IO_WINDOW_HIGH, 0xFFFF);
	/* Memory windows (type flags: _RW = 1; _MEM = 1 cacheable for the
	 * VGA window, 0 non-cacheable for the PCI hole). */
	res_dword_mem(a, 0x03, PCI_VGA_WINDOW, PCI_VGA_WINDOW_END);
	res_dword_mem(a, 0x01, PCI_MEM_WINDOW, PCI_MEM_WINDOW_END);
	/* End tag (6.4.2.9), checksum 0: "the resource data is correct". */
	aml_byte(a, 0x79);
	aml_byte(a, 0x00);
	if (a->n - body > 0xFF) {
		fprintf(stderr, "btvm: internal error: _CRS longer than its ByteConst size\n");
		abort();
	}
	a->p[size_at + 1] = (uint8_t)(a->n - body);
	aml_end(a, m);
}

/* \_SB.PCI0._PRT (6.2.13): for each of the 32 slots and each pin INTA-D,
 * Package { slot << 16 | 0xFFFF, pin, 0, GSI } with GSI 16 + ((slot +
 * pin) & 3), the IOAPIC pins above the ISA ones (a static package for 128
 * entries would not fit; this method builds it, as QEMU's does):
 *   Method (_PRT, 0) {
 *     Local0 = Package (0x80) {}
 *     Local1 = 0
 *     While (Local1 < 0x80) {
 *       Local2 = Package (4) { 0, 0, 0, 0 }
 *       Local3 = Local1 >> 2                       // the slot
 *       Local2[0] = (Local3 << 16) | 0xFFFF
 *       Local2[1] = Local1 & 3                     // the pin
 *       Local2[3] = ((Local3 + Local1) & 3) + 16   // source 0: a GSI
 *       Local0[Local1] = Local2
 *       Local1++
 *     }
 *     Return (Local0)
 *   }
 * No function btvm has uses an INTx pin today (the PIIX3 IDE in
 * compatibility mode interrupts on IRQ 14 and 15), so nothing asks. */
static void pci0_prt(struct aml *a)
{
	enum { LOCAL0 = 0x60, LOCAL1, LOCAL2, LOCAL3, LOCAL4 };
	enum { STORE = 0x70, ADD = 0x72, INCREMENT = 0x75, SHL = 0x79, SHR = 0x7A, AND = 0x7B,
	       OR = 0x7D, INDEX = 0x88, LLESS = 0x95, WHILE = 0xA2, RETURN = 0xA4, PACKAGE = 0x12 };
	aml_byte(a, 0x14);                          /* MethodOp */
	size_t m = aml_begin(a);
	aml_nameseg(a, "_PRT");
	aml_byte(a, 0x00);                          /* no arguments, not serialized */
	/* Local0 = Package (0x80) {} */
	aml_byte(a, STORE);
	aml_byte(a, PACKAGE);
	size_t p = aml_begin(a);
	aml_byte(a, 0x80);
	aml_end(a, p);
	aml_byte(a, LOCAL0);
	/* Local1 = 0 */
	aml_byte(a, STORE);
	aml_int(a, 0);
	aml_byte(a, LOCAL1);
	aml_byte(a, WHILE);
	size_t w = aml_begin(a);
	aml_byte(a, LLESS);
	aml_byte(a, LOCAL1);
	aml_int(a, 0x80);
	{
		/* Local2 = Package (4) { 0, 0, 0, 0 } */
		aml_byte(a, STORE);
		aml_byte(a, PACKAGE);
		p = aml_begin(a);
		aml_byte(a, 4);
		for (int i = 0; i < 4; i++)
			aml_int(a, 0);
		aml_end(a, p);
		aml_byte(a, LOCAL2);
		/* ShiftRight (Local1, 2, Local3) */
		static const uint8_t slot[] = { SHR, LOCAL1, 0x0A, 2, LOCAL3 };
		aml_bytes(a, slot, sizeof(slot));
		/* Or (ShiftLeft (Local3, 16, Zero), 0xFFFF, Index (Local2, Zero, Zero)) */
		static const uint8_t addr[] = { OR, SHL, LOCAL3, 0x0A, 16, 0x00, 0x0B, 0xFF, 0xFF,
						INDEX, LOCAL2, 0x00, 0x00 };
		aml_bytes(a, addr, sizeof(addr));
		/* And (Local1, 3, Index (Local2, One, Zero)) */
		static const uint8_t pin[] = { AND, LOCAL1, 0x0A, 3, INDEX, LOCAL2, 0x01, 0x00 };
		aml_bytes(a, pin, sizeof(pin));
		/* Add (And (Add (Local3, Local1, Zero), 3, Zero), 16, Index (Local2, 3, Zero)) */
		static const uint8_t gsi[] = { ADD, AND, ADD, LOCAL3, LOCAL1, 0x00, 0x0A, 3, 0x00,
					       0x0A, PCI_PRT_GSI_BASE, INDEX, LOCAL2, 0x0A, 3, 0x00 };
		aml_bytes(a, gsi, sizeof(gsi));
		/* Store (Local2, Index (Local0, Local1, Zero)); Increment (Local1) */
		static const uint8_t put[] = { STORE, LOCAL2, INDEX, LOCAL0, LOCAL1, 0x00, INCREMENT, LOCAL1 };
		aml_bytes(a, put, sizeof(put));
	}
	aml_end(a, w);
	aml_byte(a, RETURN);
	aml_byte(a, LOCAL0);
	aml_end(a, m);
}

/* DSDT (5.2.11.1), revision 1 (32-bit integers):
 *   Name (\_S5, Package (4) { S5, S5, 0, 0 })     SLP_TYPa/b (7.4.2)
 *   Device (\_SB.PCI0) {                          the host bridge (6.1, 6.2)
 *     Name (_HID, EisaId ("PNP0A03"))             a PCI root bus
 *     Name (_ADR, 0)
 *     Name (_UID, 0)
 *     Name (_BBN, 0)                              its bus number
 *     Name (_CRS, ResourceTemplate () { ... })    bus range and windows
 *     Method (_PRT, 0) { ... }                    INTx routing
 *   } */
static size_t build_dsdt(uint8_t *t, size_t cap)
{
	struct aml a = { t, HDR_LEN, cap };
	static const uint8_t s5[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12 };
	aml_bytes(&a, s5, sizeof(s5));
	size_t m = aml_begin(&a);
	aml_byte(&a, 4);
	aml_int(&a, ACPI_PM_SLP_TYP_S5);
	aml_int(&a, ACPI_PM_SLP_TYP_S5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a, m);

	/* DeviceOp (0x5B 0x82), PkgLength, \_SB_.PCI0 (RootChar,
	 * DualNamePrefix 0x2E, two NameSegs). */
	aml_byte(&a, 0x5B);
	aml_byte(&a, 0x82);
	m = aml_begin(&a);
	aml_byte(&a, 0x5C);
	aml_byte(&a, 0x2E);
	aml_nameseg(&a, "_SB_");
	aml_nameseg(&a, "PCI0");
	aml_name_int(&a, "_HID", eisa_id("PNP0A03"));
	aml_name_int(&a, "_ADR", 0);
	aml_name_int(&a, "_UID", 0);
	aml_name_int(&a, "_BBN", 0);
	pci0_crs(&a);
	pci0_prt(&a);
	aml_end(&a, m);

	header(t, "DSDT", (uint32_t)a.n, 1, "BTVMDSDT");
	return a.n;
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
	build_dsdt(at(&b, ACPI_DSDT_ADDR), ACPI_TABLES_END - ACPI_DSDT_ADDR);
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
