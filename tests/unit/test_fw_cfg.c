/* QEMU's fw_cfg device: items, bad selectors, the file directory and DMA,
 * through the port bus as a guest sees them (QEMU docs/specs/fw_cfg.rst). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "devices/fw_cfg.h"

#define RAM_SIZE 0x10000u
#define ACC 0x1000u      /* where the tests put their FWCfgDmaAccess */
#define BUF 0x2000u      /* and their DMA buffer */

static struct fx {
	struct io_bus bus;
	struct fw_cfg c;
	uint8_t ram[RAM_SIZE];
	struct phys_mem mem;
	uint64_t wr_pa[8], wr_len[8];
	unsigned nwr;
} *f;

static void written_rec(void *opaque, uint64_t pa, uint64_t len)
{
	struct fx *x = opaque;
	if (x->nwr < 8) {
		x->wr_pa[x->nwr] = pa;
		x->wr_len[x->nwr] = len;
	}
	x->nwr++;
}

static int setup(void **state)
{
	(void)state;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	io_bus_init(&f->bus, "pio");
	f->mem = (struct phys_mem){ f->ram, RAM_SIZE };
	fw_cfg_init(&f->c, &f->mem, written_rec, f);
	assert_int_equal(fw_cfg_register(&f->c, &f->bus), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fw_cfg_destroy(&f->c);
	free(f);
	return 0;
}

static void sel(uint16_t key)
{
	uint8_t d[2] = { (uint8_t)key, (uint8_t)(key >> 8) };
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL, d, 2, true));
}

static uint8_t rd(void)
{
	uint8_t d = 0xAA;
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL + 1, &d, 1, false));
	return d;
}

static void rd_n(uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = rd();
}

static uint32_t rd_le32(void)
{
	uint8_t b[4];
	rd_n(b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t rd_be32(void)
{
	uint8_t b[4];
	rd_n(b, 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes the 64-bit big-endian DMA address as a guest does: the high half
 * at 0x514 (only when non-zero, as Linux does), the low half at 0x518. */
static void dma_kick(uint64_t addr)
{
	uint8_t d[4];
	if (addr >> 32) {
		put_be32(d, (uint32_t)(addr >> 32));
		assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA, d, 4, true));
	}
	put_be32(d, (uint32_t)addr);
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA + 4, d, 4, true));
}

/* FWCfgDmaAccess at ACC; returns the control word written back. */
static uint32_t dma(uint32_t control, uint32_t length, uint64_t address)
{
	uint8_t *a = f->ram + ACC;
	put_be32(a, control);
	put_be32(a + 4, length);
	put_be32(a + 8, (uint32_t)(address >> 32));
	put_be32(a + 12, (uint32_t)address);
	dma_kick(ACC);
	return get_be32(a);
}

static void test_signature_and_id(void **state)
{
	(void)state;
	uint8_t b[8];
	rd_n(b, 4);    /* the signature is selected at reset */
	assert_memory_equal(b, "QEMU", 4);
	sel(FW_CFG_SIGNATURE);
	rd_n(b, 5);
	assert_memory_equal(b, "QEMU\0", 5);   /* past the end: 0 */
	sel(FW_CFG_ID);
	assert_int_equal(rd_le32(), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	/* bit 14 (the old write channel) is ignored when selecting */
	sel(FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	rd_n(b, 4);
	assert_memory_equal(b, "QEMU", 4);
	/* a byte read of 0x510 reads data too (one 2-byte region) */
	sel(FW_CFG_SIGNATURE);
	uint8_t d = 0;
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL, &d, 1, false));
	assert_int_equal(d, 'Q');
	assert_int_equal(rd(), 'E');
}

static void test_bad_selectors_read_zero(void **state)
{
	(void)state;
	static const uint16_t bad[] = {
		FW_CFG_MACHINE_ID,                  /* in range, no item */
		FW_CFG_MAX_ENTRY,                   /* past the last slot */
		0x3FFF, 0xFFFF,
		FW_CFG_ARCH_LOCAL | FW_CFG_SIGNATURE,   /* arch items are separate */
		FW_CFG_FILE_FIRST,                  /* no file yet */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sel(bad[i]);
		for (int k = 0; k < 6; k++)
			assert_int_equal(rd(), 0);
	}
}

static void test_integers_and_arch_items(void **state)
{
	(void)state;
	assert_int_equal(fw_cfg_add_i16(&f->c, FW_CFG_NB_CPUS, 1), 0);
	assert_int_equal(fw_cfg_add_i64(&f->c, FW_CFG_RAM_SIZE, 128ull << 20), 0);
	assert_int_equal(fw_cfg_add_i32(&f->c, FW_CFG_IRQ0_OVERRIDE, 1), 0);
	sel(FW_CFG_NB_CPUS);
	assert_int_equal(rd(), 1);
	assert_int_equal(rd(), 0);
	assert_int_equal(rd(), 0);   /* a 2-byte item */
	sel(FW_CFG_RAM_SIZE);
	assert_int_equal(rd_le32(), 128u << 20);
	assert_int_equal(rd_le32(), 0);
	sel(FW_CFG_IRQ0_OVERRIDE);
	assert_int_equal(rd_le32(), 1);
	sel(FW_CFG_IRQ0_OVERRIDE & FW_CFG_ENTRY_MASK);   /* the generic key 2 is FW_CFG_UUID: none */
	assert_int_equal(rd_le32(), 0);
	/* keys are used once and must be in range */
	assert_int_equal(fw_cfg_add_i16(&f->c, FW_CFG_NB_CPUS, 2), -1);
	assert_int_equal(fw_cfg_add_i16(&f->c, FW_CFG_MAX_ENTRY, 2), -1);
	assert_int_equal(fw_cfg_add_i16(&f->c, FW_CFG_ARCH_LOCAL | 0x3FFF, 2), -1);
	/* an owned block is freed with the device (ASan checks), also when
	 * the key is refused */
	uint8_t *block = malloc(8);
	assert_non_null(block);
	memcpy(block, "xxKERNEL", 8);
	assert_int_equal(fw_cfg_add_bytes_owned(&f->c, FW_CFG_SETUP_DATA, block + 2, 6, block), 0);
	assert_int_equal(fw_cfg_add_bytes_owned(&f->c, FW_CFG_SETUP_DATA, "abc", 3, malloc(3)), -1);
	sel(FW_CFG_SETUP_DATA);
	assert_int_equal(rd(), 'K');
	/* a referenced blob is read in place */
	static const uint8_t blob[3] = { 7, 8, 9 };
	assert_int_equal(fw_cfg_add_bytes_ref(&f->c, FW_CFG_KERNEL_DATA, blob, 3), 0);
	sel(FW_CFG_KERNEL_DATA);
	assert_int_equal(rd(), 7);
	assert_int_equal(rd(), 8);
	assert_int_equal(rd(), 9);
	assert_int_equal(rd(), 0);
}

static void test_writes_ignored(void **state)
{
	(void)state;
	sel(FW_CFG_SIGNATURE);
	assert_int_equal(rd(), 'Q');
	uint8_t d[4] = { 0x55, 0, 0, 0 };
	/* byte writes to the data (or selector) port: ignored, offset kept */
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL + 1, d, 1, true));
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL, d, 1, true));
	assert_int_equal(rd(), 'E');
	/* a 32-bit write does not select; a 16-bit read returns 0 and does not advance */
	d[0] = FW_CFG_ID;
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL, d, 4, true));
	memset(d, 0xAA, sizeof(d));
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_SEL + 1, d, 2, false));
	assert_int_equal(d[0], 0);
	assert_int_equal(d[1], 0);
	assert_int_equal(rd(), 'M');
	/* DMA register: byte and 16-bit writes are not operations */
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA + 7, d, 1, true));
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA + 6, d, 2, true));
	assert_int_equal(rd(), 'U');
	assert_int_equal(f->nwr, 0);
}

static void test_file_directory(void **state)
{
	(void)state;
	static const uint8_t e820[20] = { 1 };
	assert_int_equal(fw_cfg_add_file(&f->c, "etc/e820", e820, sizeof(e820)), 0);
	assert_int_equal(fw_cfg_add_file(&f->c, "bootorder", "", 0), 0);
	assert_int_equal(fw_cfg_add_file(&f->c, "etc/acpi/rsdp", "RSD PTR ", 8), 0);
	/* sorted by name, keys from 0x20 in that order */
	assert_int_equal(fw_cfg_file_key(&f->c, "bootorder"), 0x20);
	assert_int_equal(fw_cfg_file_key(&f->c, "etc/acpi/rsdp"), 0x21);
	assert_int_equal(fw_cfg_file_key(&f->c, "etc/e820"), 0x22);
	assert_int_equal(fw_cfg_file_key(&f->c, "etc/e82"), 0);
	/* the directory as the guest reads it: big-endian */
	sel(FW_CFG_FILE_DIR);
	assert_int_equal(rd_be32(), 3);
	static const struct { uint32_t size; uint16_t key; const char *name; } want[] = {
		{ 0, 0x20, "bootorder" }, { 8, 0x21, "etc/acpi/rsdp" }, { 20, 0x22, "etc/e820" },
	};
	for (int i = 0; i < 3; i++) {
		uint8_t e[64];
		rd_n(e, 64);
		assert_int_equal(get_be32(e), want[i].size);
		assert_int_equal(e[4] << 8 | e[5], want[i].key);
		assert_int_equal(e[6] | e[7], 0);
		assert_string_equal((char *)e + 8, want[i].name);
	}
	uint8_t e[64];
	rd_n(e, 64);   /* the unused slots are zero */
	for (int i = 0; i < 64; i++)
		assert_int_equal(e[i], 0);
	/* the files' data under their (moved) keys */
	sel(0x22);
	assert_int_equal(rd(), 1);
	sel(0x21);
	uint8_t b[8];
	rd_n(b, 8);
	assert_memory_equal(b, "RSD PTR ", 8);
	sel(0x20);
	assert_int_equal(rd(), 0);   /* an empty file */
	/* refused: duplicates, bad names, a full directory */
	assert_int_equal(fw_cfg_add_file(&f->c, "etc/e820", e820, 1), -1);
	assert_int_equal(fw_cfg_add_file(&f->c, "", e820, 1), -1);
	char longname[FW_CFG_MAX_FILE_PATH + 1];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[FW_CFG_MAX_FILE_PATH] = '\0';
	assert_int_equal(fw_cfg_add_file(&f->c, longname, e820, 1), -1);
	longname[FW_CFG_MAX_FILE_PATH - 1] = '\0';   /* 55 characters fit */
	assert_int_equal(fw_cfg_add_file_ref(&f->c, longname, e820, 1), 0);
	for (unsigned i = 4; i < FW_CFG_FILE_SLOTS; i++) {
		char n[16];
		snprintf(n, sizeof(n), "opt/%02u", i);
		assert_int_equal(fw_cfg_add_file(&f->c, n, e820, 2), 0);
	}
	assert_int_equal(fw_cfg_add_file(&f->c, "zzz", e820, 1), -1);
	sel(FW_CFG_FILE_DIR);
	assert_int_equal(rd_be32(), FW_CFG_FILE_SLOTS);
	assert_int_equal(fw_cfg_file_key(&f->c, "etc/e820"), 0x22);
	assert_int_equal(fw_cfg_file_key(&f->c, "opt/31"), FW_CFG_FILE_FIRST + 0x1F - 1);
}

static void test_dma_signature(void **state)
{
	(void)state;
	uint8_t d[4];
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA, d, 4, false));
	assert_memory_equal(d, "QEMU", 4);
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA + 4, d, 4, false));
	assert_memory_equal(d, " CFG", 4);
	assert_true(io_bus_access(&f->bus, FW_CFG_PORT_DMA + 5, d, 1, false));
	assert_int_equal(d[0], 'C');
}

static void test_dma_read(void **state)
{
	(void)state;
	memset(f->ram + BUF, 0xEE, 16);
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 6, BUF), 0);
	/* "QEMU" and then zeros past the item's end */
	assert_memory_equal(f->ram + BUF, "QEMU\0\0", 6);
	assert_int_equal(f->ram[BUF + 6], 0xEE);
	/* the buffer and the control word were reported written */
	assert_int_equal(f->nwr, 3);
	assert_int_equal(f->wr_pa[0], BUF);
	assert_int_equal(f->wr_len[0], 4);
	assert_int_equal(f->wr_pa[1], BUF + 4);
	assert_int_equal(f->wr_len[1], 2);
	assert_int_equal(f->wr_pa[2], ACC);
	assert_int_equal(f->wr_len[2], 4);
	/* DMA and the port share the offset: continue from where DMA stopped */
	assert_int_equal(dma(FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 1, BUF), 0);
	assert_int_equal(f->ram[BUF], FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	assert_int_equal(rd(), 0);
	/* a read without select continues too */
	sel(FW_CFG_SIGNATURE);
	assert_int_equal(rd(), 'Q');
	assert_int_equal(dma(FW_CFG_DMA_CTL_READ, 2, BUF), 0);
	assert_memory_equal(f->ram + BUF, "EM", 2);
	/* a bad selector reads zeros, without an error */
	memset(f->ram + BUF, 0xEE, 4);
	assert_int_equal(dma(0x3FFFu << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF), 0);
	assert_memory_equal(f->ram + BUF, "\0\0\0\0", 4);
}

static void test_dma_skip_select_write(void **state)
{
	(void)state;
	/* skip 2 bytes of the signature, then read the rest by port */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, BUF), 0);
	assert_int_equal(rd(), 'M');
	/* skipping past the end is no error: the offset stops at the end */
	assert_int_equal(dma(FW_CFG_DMA_CTL_SKIP, 100, BUF), 0);
	assert_int_equal(rd(), 0);
	/* select only: nothing moves, the port reads the new item */
	memset(f->ram + BUF, 0xEE, 4);
	assert_int_equal(dma(FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT, 4, BUF), 0);
	assert_int_equal(f->ram[BUF], 0xEE);
	assert_int_equal(rd(), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	/* no operation bits at all: control 0, nothing done */
	assert_int_equal(dma(0, 4, BUF), 0);
	assert_int_equal(rd(), 0);
	/* writes fail: every item is read-only (also past the end, and for no item) */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(0x3FFFu << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	/* a zero-length write is nothing to do */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 0, BUF), 0);
	/* read wins over write and skip when several bits are set */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ |
			     FW_CFG_DMA_CTL_WRITE | FW_CFG_DMA_CTL_SKIP, 4, BUF), 0);
	assert_memory_equal(f->ram + BUF, "QEMU", 4);
}

static void test_dma_bad_addresses(void **state)
{
	(void)state;
	/* a buffer outside RAM: the error bit, nothing written */
	unsigned before = f->nwr;
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 2, RAM_SIZE),
			 FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(rd(), 'M');   /* the error ends the transfer, but the offset moved, as in QEMU */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4,
			     RAM_SIZE - 2), FW_CFG_DMA_CTL_ERROR);   /* straddles the end */
	assert_int_equal(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4,
			     1ull << 32 | BUF), FW_CFG_DMA_CTL_ERROR);  /* above 4 GiB */
	assert_int_equal(dma(0x3FFFu << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, RAM_SIZE),
			 FW_CFG_DMA_CTL_ERROR);   /* zeros for no item cannot land either */
	assert_int_equal(f->nwr, before + 4);   /* only the control words */
	/* the structure itself outside RAM: nothing happens, except that the
	 * error bit lands in a control word that is in RAM (QEMU does so) */
	sel(FW_CFG_SIGNATURE);
	before = f->nwr;
	memset(f->ram + RAM_SIZE - 8, 0, 8);
	dma_kick(RAM_SIZE - 8);
	assert_int_equal(get_be32(f->ram + RAM_SIZE - 8), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(f->nwr, before + 1);
	dma_kick(1ull << 32 | ACC);
	assert_int_equal(f->nwr, before + 1);
	assert_int_equal(rd(), 'Q');
	/* the address register is 0 again after an operation: a low-half write
	 * alone uses low RAM, not the high half of the operation before */
	assert_int_equal(dma(FW_CFG_DMA_CTL_READ, 1, BUF), 0);
	assert_int_equal(f->ram[BUF], 'E');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_selectors_read_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_integers_and_arch_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_skip_select_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_bad_addresses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
