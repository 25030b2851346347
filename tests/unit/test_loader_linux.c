/* Linux boot protocol loader: synthetic bzImages, the zero page, the entry
 * state, initrd placement and every error path.  Images are built and the
 * zero page is read at raw offsets from boot.rst / zero-page.rst, not
 * through loader/linux.h, so that a wrong structure layout shows here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/fw_cfg.h"
#include "loader/e820.h"
#include "loader/linux.h"
#include "loader/loader.h"

#define MiB (1u << 20)
#define ZP 0x10000u          /* where btvm puts the zero page (loader/linux.c) */

struct env {
	uint8_t *ram;
	struct phys_mem mem;
	struct e820_map map;
	char dir[64];
	char err[512];
	struct boot_state bs;
	struct load_request req;
	uint8_t img[0x4000];
	size_t img_len;
};

static void set_ram(struct env *e, uint64_t size)
{
	free(e->ram);
	e->ram = malloc(size);
	assert_non_null(e->ram);
	memset(e->ram, 0xAA, size);
	e->mem = (struct phys_mem){ e->ram, size };
	e820_build(&e->map, size);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A protocol 2.15 bzImage: 4 setup sectors, then PM_SIZE bytes of
 * protected-mode kernel (a byte pattern).  Relocatable, aligned to 4 MiB,
 * runs at 0x400000 with init_size 3 MiB: busy [0x400000, 0x700000). */
#define SETUP_SECTS 4u
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PM_SIZE 0x2000u
static void make_bzimage(struct env *e)
{
	uint8_t *b = e->img;
	memset(b, 0, sizeof(e->img));
	b[0x1F1] = SETUP_SECTS;
	wr32(b + 0x1F4, PM_SIZE / 16);      /* syssize */
	wr16(b + 0x1FE, 0xAA55);
	b[0x200] = 0xEB;
	b[0x201] = 0x26C - 0x202;           /* header through kernel_info_offset */
	memcpy(b + 0x202, "HdrS", 4);
	wr16(b + 0x206, 0x020F);
	b[0x210] = 0;                       /* type_of_loader: the loader fills it */
	b[0x211] = 0x01 | 0x40;             /* LOADED_HIGH | KEEP_SEGMENTS (must be cleared) */
	wr32(b + 0x214, 0x100000);          /* code32_start */
	wr32(b + 0x22C, 0x7FFFFFFF);        /* initrd_addr_max */
	wr32(b + 0x230, 0x400000);          /* kernel_alignment */
	b[0x234] = 1;                       /* relocatable */
	wr32(b + 0x238, 255);               /* cmdline_size */
	wr32(b + 0x250, 0x12345678);        /* setup_data: must not reach the kernel */
	wr32(b + 0x258, 0x400000);          /* pref_address */
	wr32(b + 0x260, 0x300000);          /* init_size */
	for (unsigned i = 0; i < PM_SIZE; i++)
		b[SETUP_SIZE + i] = (uint8_t)(i * 7 + 3);
	e->img_len = SETUP_SIZE + PM_SIZE;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	strcpy(e->dir, "/tmp/btvm-test-linux-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	set_ram(e, 16 * MiB);
	make_bzimage(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	DIR *d = opendir(e->dir);
	if (d) {
		struct dirent *de;
		char p[600];
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(e->dir);
	free(e->ram);
	free(e);
	return 0;
}

static const char *write_file(struct env *e, const char *name, const void *data, size_t len)
{
	static char paths[4][600];
	static unsigned next;
	char *p = paths[next++ % 4];
	snprintf(p, 600, "%s/%s", e->dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static int load(struct env *e)
{
	e->req.kernel_path = write_file(e, "bzImage", e->img, e->img_len);
	return loader_load(&e->req, &e->mem, &e->map, &e->bs, e->err, sizeof(e->err));
}

static void expect_error(struct env *e, const char *needle)
{
	assert_int_equal(load(e), -1);
	assert_true(e->err[0] != '\0');
	assert_null(strchr(e->err, '\n'));
	if (!strstr(e->err, needle))
		fail_msg("error '%s' does not mention '%s'", e->err, needle);
}

/* ---- A good load ---- */

static void test_entry_state(void **state)
{
	struct env *e = *state;
	assert_int_equal(load(e), 0);
	assert_string_equal(e->bs.kind, "linux-bzimage");
	/* boot.rst "32-bit Boot Protocol" */
	assert_int_equal(e->bs.eip, 0x100000);
	assert_int_equal(e->bs.esi, ZP);
	assert_int_equal(e->bs.ebx, 0);
	assert_int_equal(e->bs.edi, 0);
	assert_int_equal(e->bs.ebp, 0);
	assert_int_equal(e->bs.cs_sel, 0x10);
	assert_int_equal(e->bs.ds_sel, 0x18);
	assert_int_equal(e->bs.load_start, 0x100000);
	assert_int_equal(e->bs.load_end, 0x100000 + PM_SIZE);
	/* The GDT holds flat 4 GiB descriptors at 0x10 (code) and 0x18 (data). */
	assert_true(e->bs.gdt_limit >= 0x1F);
	assert_true(e->bs.gdt_base + e->bs.gdt_limit < 0x9FC00);
	const uint8_t *gdt = e->ram + e->bs.gdt_base;
	for (unsigned sel = 0x10; sel <= 0x18; sel += 8) {
		uint64_t d = rd64(gdt + sel);
		uint32_t base = (uint32_t)((d >> 16) & 0xFFFFFF) | (uint32_t)((d >> 56) & 0xFF) << 24;
		uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 48) & 0xF) << 16;
		unsigned access = (unsigned)(d >> 40) & 0xFF, flags = (unsigned)(d >> 52) & 0xF;
		assert_int_equal(base, 0);
		assert_int_equal(limit, 0xFFFFF);
		assert_int_equal(flags & 0xC, 0xC);          /* G = 1, D/B = 1 */
		assert_int_equal(access & 0x90, 0x90);       /* present, code/data */
		assert_int_equal(access & 0x60, 0);          /* DPL 0 */
		if (sel == 0x10)
			assert_int_equal(access & 0x0A, 0x0A); /* code, readable */
		else
			assert_int_equal(access & 0x0A, 0x02); /* data, writable */
	}
	/* The protected-mode kernel is at 0x100000, byte for byte. */
	assert_memory_equal(e->ram + 0x100000, e->img + SETUP_SIZE, PM_SIZE);
}

static void test_zero_page(void **state)
{
	struct env *e = *state;
	e->req.cmdline = "console=ttyS0 quiet";
	assert_int_equal(load(e), 0);
	const uint8_t *zp = e->ram + ZP;
	/* The setup header is copied: boot flag, magic, version, sizes. */
	assert_int_equal(rd16(zp + 0x1FE), 0xAA55);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(rd16(zp + 0x206), 0x020F);
	assert_int_equal(zp[0x1F1], SETUP_SECTS);
	assert_int_equal(rd32(zp + 0x1F4), PM_SIZE / 16);
	assert_int_equal(rd32(zp + 0x238), 255);
	assert_int_equal(rd32(zp + 0x260), 0x300000);
	/* What the loader fills in. */
	assert_int_equal(zp[0x210], 0xFF);                   /* type_of_loader */
	assert_int_equal(zp[0x211], 0x01 | 0x80);            /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(rd16(zp + 0x224), 0xFE00);          /* heap_end_ptr */
	assert_int_equal(rd32(zp + 0x214), 0x100000);        /* code32_start */
	assert_int_equal(rd64(zp + 0x250), 0);               /* setup_data */
	assert_int_equal(rd32(zp + 0x218), 0);               /* no initrd */
	assert_int_equal(rd32(zp + 0x21C), 0);
	uint32_t cl = rd32(zp + 0x228);
	assert_true(cl >= ZP + 0x1000 && cl < 0x9FC00);
	assert_string_equal((const char *)e->ram + cl, "console=ttyS0 quiet");
	/* Anything the loader does not set is zero (the page was 0xAA). */
	assert_int_equal(zp[0x1EF], 0);                      /* sentinel */
	assert_int_equal(zp[0x0F], 0);                       /* orig_video_isVGA */
	assert_int_equal(zp[0x0E], 0);                       /* orig_video_lines */
	assert_int_equal(zp[0x07], 0);                       /* orig_video_cols */
	assert_int_equal(rd64(zp + 0x070), 0);               /* acpi_rsdp_addr */
	assert_int_equal(zp[0xFFF], 0);
	/* The E820 table: count at 0x1E8, 20-byte entries from 0x2D0. */
	assert_int_equal(zp[0x1E8], e->map.n);
	for (unsigned i = 0; i < e->map.n; i++) {
		const uint8_t *en = zp + 0x2D0 + 20 * i;
		assert_int_equal(rd64(en), e->map.e[i].addr);
		assert_int_equal(rd64(en + 8), e->map.e[i].size);
		assert_int_equal(rd32(en + 16), e->map.e[i].type);
	}
	assert_int_equal(rd32(zp + 0x1E0), (16 * MiB - 0x100000) >> 10); /* alt_mem_k */
	/* The zero page, GDT and command line are RAM and outside the kernel. */
	assert_true(e820_is_ram(&e->map, ZP, 0x1000));
	assert_true(e820_is_ram(&e->map, cl, strlen("console=ttyS0 quiet") + 1));
}

static void test_no_cmdline_is_empty_string(void **state)
{
	struct env *e = *state;
	assert_int_equal(load(e), 0);
	uint32_t cl = rd32(e->ram + ZP + 0x228);
	assert_true(cl != 0);
	assert_int_equal(e->ram[cl], 0);
}

static void test_cmdline_at_limit(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x238, 16);
	e->req.cmdline = "0123456789abcdef";     /* exactly cmdline_size */
	assert_int_equal(load(e), 0);
	assert_string_equal((const char *)e->ram + rd32(e->ram + ZP + 0x228), "0123456789abcdef");
	e->req.cmdline = "0123456789abcdefg";    /* one more */
	expect_error(e, "cmdline_size");
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct env *e = *state;
	e->img[0x1F1] = 0;
	assert_int_equal(load(e), 0);
	assert_memory_equal(e->ram + 0x100000, e->img + SETUP_SIZE, PM_SIZE);
}

static void test_linux_before_multiboot(void **state)
{
	struct env *e = *state;
	/* A valid multiboot header inside the setup code must not win. */
	wr32(e->img + 0x400, 0x1BADB002);
	wr32(e->img + 0x404, 0);
	wr32(e->img + 0x408, (uint32_t)-0x1BADB002);
	assert_int_equal(load(e), 0);
	assert_string_equal(e->bs.kind, "linux-bzimage");
}

/* ---- initrd ---- */

static void test_initrd_high_and_aligned(void **state)
{
	struct env *e = *state;
	static uint8_t rd[0x1801];
	for (unsigned i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i ^ 0x5A);
	e->req.initrd_path = write_file(e, "initrd", rd, sizeof(rd));
	assert_int_equal(load(e), 0);
	uint32_t a = rd32(e->ram + ZP + 0x218), n = rd32(e->ram + ZP + 0x21C);
	assert_int_equal(n, sizeof(rd));
	assert_int_equal(a & 0xFFF, 0);
	/* As high as possible: the last page-aligned start that fits in RAM. */
	assert_int_equal(a, (16 * MiB - sizeof(rd)) & ~0xFFFu);
	assert_memory_equal(e->ram + a, rd, sizeof(rd));
}

static void test_initrd_below_addr_max_and_beside_kernel(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x22C, 0x7FFFFF);          /* initrd_addr_max: 8 MiB - 1 */
	static uint8_t rd[2 * MiB];
	memset(rd, 0x3C, sizeof(rd));
	/* 1 MiB fits between the run range's end (7 MiB) and 8 MiB. */
	e->req.initrd_path = write_file(e, "initrd1", rd, MiB);
	assert_int_equal(load(e), 0);
	assert_int_equal(rd32(e->ram + ZP + 0x218), 7 * MiB);
	/* 2 MiB does not: it goes below the run range [4 MiB, 7 MiB). */
	e->req.initrd_path = write_file(e, "initrd2", rd, sizeof(rd));
	assert_int_equal(load(e), 0);
	uint32_t a = rd32(e->ram + ZP + 0x218);
	assert_int_equal(a, 2 * MiB);
	assert_true(a >= 0x100000 + PM_SIZE);
	assert_memory_equal(e->ram + a, rd, sizeof(rd));
}

static void test_initrd_too_big_for_window(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x22C, 0x7FFFFF);
	static uint8_t rd[4 * MiB];
	e->req.initrd_path = write_file(e, "initrd", rd, sizeof(rd));
	expect_error(e, "does not fit");
	assert_non_null(strstr(e->err, "initrd"));
}

static void test_initrd_missing_or_empty(void **state)
{
	struct env *e = *state;
	e->req.initrd_path = "/nonexistent/initrd.gz";
	expect_error(e, "initrd");
	e->req.initrd_path = write_file(e, "empty", "", 0);
	expect_error(e, "empty");
}

/* ---- Malformed kernels ---- */

static void test_bad_boot_flag(void **state)
{
	struct env *e = *state;
	wr16(e->img + 0x1FE, 0x1234);
	expect_error(e, "boot flag");
}

static void test_protocol_too_old(void **state)
{
	struct env *e = *state;
	wr16(e->img + 0x206, 0x0205);
	expect_error(e, "2.05 is too old");
}

static void test_setup_sects_past_eof(void **state)
{
	struct env *e = *state;
	e->img[0x1F1] = 60;                      /* 61 * 512 > file size */
	expect_error(e, "setup_sects");
}

static void test_truncated_protected_mode_part(void **state)
{
	struct env *e = *state;
	e->img_len -= 0x100;
	expect_error(e, "syssize");
}

/* syssize counts paragraphs rounded up: up to 15 bytes short is the
 * whole kernel (QEMU and GRUB load such files), 16 is not. */
static void test_syssize_rounded_up(void **state)
{
	struct env *e = *state;
	e->img_len -= 15;
	assert_int_equal(load(e), 0);
	assert_int_equal(e->bs.load_end, 0x100000 + PM_SIZE - 15);
	assert_memory_equal(e->ram + 0x100000, e->img + SETUP_SIZE, PM_SIZE - 15);
	e->img_len -= 1;
	expect_error(e, "syssize");
	/* and a file longer than syssize says is loaded whole */
	e->img_len += 16;
	wr32(e->img + 0x1F4, PM_SIZE / 16 - 4);
	assert_int_equal(load(e), 0);
	assert_int_equal(e->bs.load_end, 0x100000 + PM_SIZE);
	wr32(e->img + 0x1F4, 0);
	expect_error(e, "syssize");
}

static void test_truncated_header(void **state)
{
	struct env *e = *state;
	e->img_len = 0x220;
	expect_error(e, "truncated");
}

static void test_short_header_for_version(void **state)
{
	struct env *e = *state;
	e->img[0x201] = 0x23C - 0x202;           /* ends before init_size, at 2.15 */
	expect_error(e, "0x264");
}

static void test_not_loaded_high(void **state)
{
	struct env *e = *state;
	e->img[0x211] = 0;
	expect_error(e, "LOADED_HIGH");
}

static void test_code32_start_elsewhere(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x214, 0x200000);
	expect_error(e, "code32_start");
}

static void test_alignment_not_power_of_two(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x230, 0x300000);
	expect_error(e, "power of two");
}

static void test_init_size_beyond_ram(void **state)
{
	struct env *e = *state;
	wr32(e->img + 0x260, 13 * MiB);          /* 4 MiB + 13 MiB > 16 MiB */
	expect_error(e, "init_size");
	/* Not relocatable: the run address is pref_address. */
	wr32(e->img + 0x260, 0x300000);
	e->img[0x234] = 0;
	wr32(e->img + 0x258, 15 * MiB);
	expect_error(e, "init_size");
}

static void test_module_refused(void **state)
{
	struct env *e = *state;
	e->req.modules[0].path = "/bin/sh";
	e->req.n_modules = 1;
	expect_error(e, "--module");
}

/* ---- fw_cfg: what QEMU's -kernel gives for the same kernel ---- */

static const struct fw_cfg_item *item(struct fw_cfg *c, uint16_t key)
{
	return &c->items[0][key];
}

static uint32_t item32(struct fw_cfg *c, uint16_t key)
{
	assert_int_equal(item(c, key)->len, 4);
	return rd32(item(c, key)->data);
}

static void test_fw_cfg_items(void **state)
{
	struct env *e = *state;
	static uint8_t rd[0x1801];
	for (unsigned i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i ^ 0xA5);
	e->req.initrd_path = write_file(e, "initrd", rd, sizeof(rd));
	e->req.cmdline = "console=ttyS0";
	assert_int_equal(load(e), 0);
	static struct fw_cfg c;
	fw_cfg_init(&c, &e->mem, NULL, NULL);
	assert_int_equal(linux_fw_cfg_items(&e->req, &e->mem, &c, e->err, sizeof(e->err)), 0);

	/* setup: the file's setup sectors with the header the kernel got */
	assert_int_equal(item32(&c, FW_CFG_SETUP_ADDR), ZP);
	assert_int_equal(item32(&c, FW_CFG_SETUP_SIZE), SETUP_SIZE);
	const struct fw_cfg_item *setup_data = item(&c, FW_CFG_SETUP_DATA);
	assert_int_equal(setup_data->len, SETUP_SIZE);
	assert_memory_equal(setup_data->data, e->img, 0x1F1);
	assert_memory_equal(setup_data->data + 0x1F1, e->ram + ZP + 0x1F1, 0x26C - 0x1F1);
	assert_int_equal(setup_data->data[0x210], 0xFF);                  /* type_of_loader */
	assert_int_equal(rd32(setup_data->data + 0x228), 0x20000);        /* cmd_line_ptr */
	assert_memory_equal(setup_data->data + 0x26C, e->img + 0x26C, SETUP_SIZE - 0x26C);
	/* the protected-mode kernel, as in the file */
	assert_int_equal(item32(&c, FW_CFG_KERNEL_ADDR), 0x100000);
	assert_int_equal(item32(&c, FW_CFG_KERNEL_SIZE), PM_SIZE);
	assert_int_equal(item(&c, FW_CFG_KERNEL_DATA)->len, PM_SIZE);
	assert_memory_equal(item(&c, FW_CFG_KERNEL_DATA)->data, e->img + SETUP_SIZE, PM_SIZE);
	/* the command line with its NUL */
	assert_int_equal(item32(&c, FW_CFG_CMDLINE_ADDR), 0x20000);
	assert_int_equal(item32(&c, FW_CFG_CMDLINE_SIZE), 14);
	assert_memory_equal(item(&c, FW_CFG_CMDLINE_DATA)->data, "console=ttyS0", 14);
	/* the initrd where the loader put it */
	assert_int_equal(item32(&c, FW_CFG_INITRD_ADDR), rd32(e->ram + ZP + 0x218));
	assert_int_equal(item32(&c, FW_CFG_INITRD_SIZE), sizeof(rd));
	assert_memory_equal(item(&c, FW_CFG_INITRD_DATA)->data, rd, sizeof(rd));
	fw_cfg_destroy(&c);
}

static void test_fw_cfg_items_without_initrd_or_linux(void **state)
{
	struct env *e = *state;
	assert_int_equal(load(e), 0);
	static struct fw_cfg c;
	fw_cfg_init(&c, &e->mem, NULL, NULL);
	assert_int_equal(linux_fw_cfg_items(&e->req, &e->mem, &c, e->err, sizeof(e->err)), 0);
	assert_int_equal(item32(&c, FW_CFG_CMDLINE_SIZE), 1);   /* "" as QEMU gives it */
	assert_int_equal(item(&c, FW_CFG_CMDLINE_DATA)->data[0], 0);
	assert_null(item(&c, FW_CFG_INITRD_ADDR)->data);
	assert_null(item(&c, FW_CFG_INITRD_DATA)->data);
	fw_cfg_destroy(&c);
	/* not a Linux kernel (or --flat): no items */
	fw_cfg_init(&c, &e->mem, NULL, NULL);
	e->req.kernel_path = write_file(e, "other", "\x7f" "ELF and more", 13);
	assert_int_equal(linux_fw_cfg_items(&e->req, &e->mem, &c, e->err, sizeof(e->err)), 0);
	e->req.kernel_path = write_file(e, "bzImage", e->img, e->img_len);
	e->req.flat = true;
	assert_int_equal(linux_fw_cfg_items(&e->req, &e->mem, &c, e->err, sizeof(e->err)), 0);
	assert_null(item(&c, FW_CFG_KERNEL_DATA)->data);
	assert_null(item(&c, FW_CFG_SETUP_DATA)->data);
	fw_cfg_destroy(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_entry_state),
		T(test_zero_page),
		T(test_no_cmdline_is_empty_string),
		T(test_cmdline_at_limit),
		T(test_setup_sects_zero_means_four),
		T(test_linux_before_multiboot),
		T(test_initrd_high_and_aligned),
		T(test_initrd_below_addr_max_and_beside_kernel),
		T(test_initrd_too_big_for_window),
		T(test_initrd_missing_or_empty),
		T(test_bad_boot_flag),
		T(test_protocol_too_old),
		T(test_setup_sects_past_eof),
		T(test_truncated_protected_mode_part),
		T(test_syssize_rounded_up),
		T(test_truncated_header),
		T(test_short_header_for_version),
		T(test_not_loaded_high),
		T(test_code32_start_elsewhere),
		T(test_alignment_not_power_of_two),
		T(test_init_size_beyond_ram),
		T(test_module_refused),
		T(test_fw_cfg_items),
		T(test_fw_cfg_items_without_initrd_or_linux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
