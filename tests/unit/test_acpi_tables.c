/* The ACPI tables parsed back as an OS would (ACPI 6.x chapter 5): RSDP
 * search, checksums, RSDT -> FADT/MADT, FADT -> FACS/DSDT, the \_S5 AML and
 * the PCI root bridge \_SB.PCI0 (_HID, _BBN, the windows in _CRS, _PRT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loader/e820.h"
#include "devices/acpi_pm.h"
#include "loader/acpi_linker.h"
#include "loader/acpi_tables.h"

#define RAM (2u << 20)
static struct phys_mem M;
static uint32_t table_lo = 0xE0000, table_hi = 0x100000;   /* where tables may be */

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}
static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static int setup(void **state)
{
	(void)state;
	M.size = RAM;
	M.base = calloc(1, RAM);
	return M.base ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	free(M.base);
	return 0;
}

/* A table at pa: signature, length within the area, checksum 0. */
static const uint8_t *table(uint32_t pa, const char *sig)
{
	assert_true(pa >= table_lo && pa < table_hi);
	const uint8_t *t = M.base + pa;
	assert_memory_equal(t, sig, 4);
	assert_true(u32(t + 4) >= 36 && pa + u32(t + 4) <= table_hi);
	assert_int_equal(sum(t, u32(t + 4)), 0);
	return t;
}

/* A PkgLength (ACPI 20.2.4) at p: its value, and its size in *nb. */
static size_t pkglen(const uint8_t *p, size_t *nb)
{
	*nb = 1 + (p[0] >> 6);
	if (*nb == 1)
		return p[0] & 0x3F;
	size_t v = p[0] & 0xF;
	for (size_t i = 1; i < *nb; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* The object Name(seg, ...) in [p, p + n): a pointer to its value. */
static const uint8_t *named(const uint8_t *p, size_t n, const char *seg)
{
	for (size_t i = 0; i + 5 < n; i++)
		if (p[i] == 0x08 && !memcmp(p + i + 1, seg, 4))
			return p + i + 5;
	return NULL;
}

/* Device(\\_SB.PCI0) as an OS reads it: a PCI root bus (PNP0A03) numbered
 * 0, its _CRS with bus range, I/O and memory windows, and a _PRT method. */
static void check_pci0(const uint8_t *p, size_t n)
{
	assert_true(n > 16);
	assert_int_equal(p[0], 0x5B);                 /* DeviceOp */
	assert_int_equal(p[1], 0x82);
	size_t nb, len = pkglen(p + 2, &nb);
	assert_int_equal(2 + len, n);                   /* the rest of the table */
	const uint8_t *d = p + 2 + nb;
	size_t dn = len - nb;
	assert_memory_equal(d, "\\\x2E_SB_PCI0", 10);
	/* _HID: EisaId("PNP0A03") is the DWordConst 0x030AD041. */
	const uint8_t *hid = named(d, dn, "_HID");
	assert_non_null(hid);
	assert_int_equal(hid[0], 0x0C);
	assert_int_equal(u32(hid + 1), 0x030AD041u);
	const uint8_t *bbn = named(d, dn, "_BBN");
	assert_non_null(bbn);
	assert_int_equal(bbn[0], 0x00);                 /* ZeroOp */
	assert_non_null(named(d, dn, "_ADR"));
	/* _CRS: BufferOp PkgLength ByteConst(size) descriptors. */
	const uint8_t *crs = named(d, dn, "_CRS");
	assert_non_null(crs);
	assert_int_equal(crs[0], 0x11);
	size_t cnb;
	pkglen(crs + 1, &cnb);
	assert_int_equal(crs[1 + cnb], 0x0A);
	size_t size = crs[2 + cnb];
	const uint8_t *r = crs + 3 + cnb, *end = r + size;
	int bus = 0, cfg = 0, io_lo = 0, io_hi = 0, vga = 0, hole = 0, endtag = 0;
	while (r < end && !endtag) {
		if (r[0] == 0x88) {                     /* Word address space */
			assert_int_equal(u16(r + 1), 13);
			uint16_t min = u16(r + 8), max = u16(r + 10);
			assert_int_equal(u16(r + 14), max - min + 1);
			assert_int_equal(r[4] & 0x0D, 0x0C); /* fixed, a producer */
			if (r[3] == 2)
				bus = min == 0 && max == 0xFF;
			else if (r[3] == 1 && min == 0)
				io_lo = max == 0xCF7;
			else if (r[3] == 1)
				io_hi = min == 0xD00 && max == 0xFFFF;
			r += 16;
		} else if (r[0] == 0x87) {              /* DWord address space */
			assert_int_equal(u16(r + 1), 23);
			assert_int_equal(r[3], 0);           /* memory */
			uint32_t min = u32(r + 10), max = u32(r + 14);
			assert_int_equal(u32(r + 22), max - min + 1);
			if (min == 0xA0000)
				vga = max == 0xBFFFF;
			else
				hole = min >= BTVM_MAX_RAM && max < 0xFEC00000u && min < max;
			r += 26;
		} else if (r[0] == 0x47) {              /* IO */
			cfg = u16(r + 2) == 0xCF8 && u16(r + 4) == 0xCF8 && r[7] == 8;
			r += 8;
		} else {
			assert_int_equal(r[0], 0x79);        /* End tag */
			endtag = 1;
			r += 2;
		}
	}
	assert_true(bus && cfg && io_lo && io_hi && vga && hole && endtag);
	assert_true(r == end);
	/* Method(_PRT, 0): MethodOp PkgLength "_PRT" flags. */
	int prt = 0;
	for (size_t i = 0; i + 7 < dn && !prt; i++)
		if (d[i] == 0x14) {
			size_t mnb;
			pkglen(d + i + 1, &mnb);
			prt = !memcmp(d + i + 1 + mnb, "_PRT", 4) && d[i + 5 + mnb] == 0;
		}
	assert_true(prt);
}

/* What an OS checks, from the RSDP search on. */
static void check_tables(void)
{
	const uint8_t *rsdp = NULL;
	for (uint32_t a = 0xE0000; a < 0x100000 && !rsdp; a += 16)
		if (!memcmp(M.base + a, "RSD PTR ", 8) && sum(M.base + a, 20) == 0)
			rsdp = M.base + a;
	assert_non_null(rsdp);
	assert_int_equal(rsdp[15], 0);                   /* revision 0: RSDT only */
	const uint8_t *rsdt = table(u32(rsdp + 16), "RSDT");
	assert_int_equal(u32(rsdt + 4), 36 + 8);
	const uint8_t *fadt = NULL, *madt = NULL;
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *t = M.base + u32(rsdt + 36 + 4 * i);
		if (!memcmp(t, "FACP", 4))
			fadt = table(u32(rsdt + 36 + 4 * i), "FACP");
		else
			madt = table(u32(rsdt + 36 + 4 * i), "APIC");
	}
	assert_non_null(fadt);
	assert_non_null(madt);

	/* FADT (5.2.9). */
	assert_int_equal(u32(fadt + 4), 116);
	uint32_t facs = u32(fadt + 36);
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(M.base + facs, "FACS", 4);
	assert_int_equal(u32(M.base + facs + 4), 64);
	assert_int_equal(u16(fadt + 46), 9);
	assert_int_equal(u32(fadt + 48), 0);             /* no SMI_CMD */
	assert_int_equal(u32(fadt + 56), ACPI_PM1_EVT_BLK);
	assert_int_equal(u32(fadt + 64), ACPI_PM1_CNT_BLK);
	assert_int_equal(u32(fadt + 76), ACPI_PM_TMR_BLK);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[91], 4);
	assert_int_equal(u32(fadt + 112) & (1u << 8), 0); /* 24-bit timer */

	/* DSDT: Name(\_S5_, Package(4){0, 0, 0, 0}) first, then the PCI root
	 * bridge. */
	const uint8_t *dsdt = table(u32(fadt + 40), "DSDT");
	static const uint8_t aml[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };
	assert_memory_equal(dsdt + 36, aml, sizeof(aml));
	check_pci0(dsdt + 36 + sizeof(aml), u32(dsdt + 4) - 36 - sizeof(aml));

	/* MADT (5.2.12). */
	assert_int_equal(u32(madt + 36), 0xFEE00000);
	assert_int_equal(u32(madt + 40), 1);
	int lapic = 0, ioapic = 0, iso0 = 0, iso9 = 0, nmi = 0;
	for (uint32_t off = 44; off < u32(madt + 4);) {
		const uint8_t *s = madt + off;
		assert_true(s[1] >= 2 && off + s[1] <= u32(madt + 4));
		switch (s[0]) {
		case 0: lapic = s[3] == 0 && u32(s + 4) == 1 && s[1] == 8; break;
		case 1: ioapic = s[1] == 12 && s[2] == 0 && u32(s + 4) == 0xFEC00000 && u32(s + 8) == 0; break;
		case 2:
			assert_int_equal(s[1], 10);
			assert_int_equal(s[2], 0);
			if (s[3] == 0)
				iso0 = u32(s + 4) == 2 && u16(s + 8) == 0;
			if (s[3] == 9)
				iso9 = u32(s + 4) == 9 && u16(s + 8) == 0xD;
			break;
		case 4: nmi = s[1] == 6 && s[2] == 0xFF && s[5] == 1; break;
		default: fail_msg("unexpected MADT structure %d", s[0]);
		}
		off += s[1];
	}
	assert_true(lapic && ioapic && iso0 && iso9 && nmi);
}

static void test_tables(void **state)
{
	(void)state;
	char err[200];
	assert_int_equal(acpi_tables_write(&M, err, sizeof(err)), 0);
	check_tables();
}

/* The fw_cfg form, run through the linker/loader script as a firmware
 * (SeaBIOS's romfile_loader) does: ALLOCATE places each file (RSDP in the
 * F segment, the tables high in RAM), ADD_POINTER adds the place of the
 * source file, ADD_CHECKSUM fixes the sum; then the OS view must be the
 * same as with the tables btvm writes itself. */
#define FSEG_AT 0xF5000u
#define HIGH_AT 0x1F0000u
static struct placed {
	const char *name;
	const uint8_t *src;
	size_t len;
	uint32_t at;
	int allocated;
} files[2];

static struct placed *file_named(const uint8_t *name)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp((const char *)name, files[i].name))
			return &files[i];
	fail_msg("the script names an unknown file '%s'", (const char *)name);
	return NULL;
}

static void test_fw_cfg_form(void **state)
{
	(void)state;
	static struct acpi_image img;
	static struct acpi_linker l;
	acpi_linker_init(&l);
	acpi_tables_build(&img, 0, &l);
	assert_false(l.overflow);
	assert_true(img.tables_len > 0 && img.tables_len <= ACPI_TABLES_LEN);
	assert_int_equal(u32(img.rsdp + 16), 0);   /* an offset: the RSDT is first */
	files[0] = (struct placed){ ACPI_FW_CFG_RSDP, img.rsdp, ACPI_RSDP_LEN, 0, 0 };
	files[1] = (struct placed){ ACPI_FW_CFG_TABLES, img.tables, img.tables_len, 0, 0 };
	int pointers = 0, checksums = 0;
	for (unsigned i = 0; i < l.n; i++) {
		const uint8_t *e = l.buf + i * ACPI_LINKER_ENTRY_SIZE;
		struct placed *f = file_named(e + 4), *src;
		uint8_t *p;
		switch (u32(e)) {
		case ACPI_LINKER_ALLOCATE:
			assert_false(f->allocated);
			f->at = e[64] == ACPI_LINKER_ZONE_FSEG ? FSEG_AT : HIGH_AT;
			assert_int_equal(f->at % u32(e + 60), 0);
			assert_true(f == &files[0] ? e[64] == ACPI_LINKER_ZONE_FSEG : u32(e + 60) % 64 == 0);
			memcpy(M.base + f->at, f->src, f->len);
			f->allocated = 1;
			break;
		case ACPI_LINKER_ADD_POINTER:
			src = file_named(e + 60);
			assert_true(f->allocated && src->allocated);
			assert_int_equal(e[120], 4);
			assert_true(u32(e + 116) + 4 <= f->len);
			p = M.base + f->at + u32(e + 116);
			assert_true(u32(p) < src->len);   /* an offset into the source file */
			put32(p, u32(p) + src->at);
			pointers++;
			break;
		case ACPI_LINKER_ADD_CHECKSUM:
			assert_true(f->allocated);
			assert_true(u32(e + 64) + u32(e + 68) <= f->len && u32(e + 60) < f->len);
			p = M.base + f->at;
			p[u32(e + 60)] = (uint8_t)(p[u32(e + 60)] - sum(p + u32(e + 64), u32(e + 68)));
			checksums++;
			break;
		default:
			fail_msg("linker command %u", u32(e));
		}
	}
	assert_int_equal(pointers, 5);    /* RSDT: 2, FADT: 2, RSDP: 1 */
	assert_int_equal(checksums, 5);   /* RSDT, FADT, MADT, DSDT, RSDP */
	table_lo = FSEG_AT, table_hi = RAM;
	check_tables();
	table_lo = 0xE0000, table_hi = 0x100000;
}

/* The guest must not take the table area for free RAM: it lies in a
 * reserved E820 entry for every RAM size. */
static void test_e820_reserved(void **state)
{
	(void)state;
	uint64_t sizes[] = { BTVM_MIN_RAM, 128ull << 20, BTVM_MAX_RAM };
	for (unsigned i = 0; i < 3; i++) {
		struct e820_map m;
		e820_build(&m, sizes[i]);
		int covered = 0;
		for (unsigned j = 0; j < m.n; j++)
			if (m.e[j].type == E820_RESERVED && m.e[j].addr <= ACPI_RSDP_ADDR &&
			    m.e[j].addr + m.e[j].size >= ACPI_TABLES_END)
				covered = 1;
		assert_true(covered);
		assert_false(e820_is_ram(&m, ACPI_RSDP_ADDR, 1));
	}
}

static void test_no_ram(void **state)
{
	(void)state;
	struct phys_mem small = { M.base, 0x80000 };
	char err[200];
	assert_int_equal(acpi_tables_write(&small, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not in guest RAM"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_cfg_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ram, setup, teardown),
		cmocka_unit_test(test_e820_reserved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
