/* Multiboot v1 loader: ELF32 and a.out-kludge kernels, modules, the
 * multiboot information structure, and every error path.  Images are built
 * in memory and written to a private temporary directory. */
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

#include "loader/e820.h"
#include "loader/loader.h"

#define MiB (1u << 20)

struct env {
	uint8_t *ram;
	struct phys_mem mem;
	struct e820_map map;
	char dir[64];
	char path[512];
	char err[512];
	struct boot_state bs;
	struct load_request req;
};

static void set_ram(struct env *e, uint64_t size)
{
	free(e->ram);
	e->ram = malloc(size);
	assert_non_null(e->ram);
	memset(e->ram, 0xAA, size);  /* so that zeroing is visible */
	e->mem = (struct phys_mem){ e->ram, size };
	e820_build(&e->map, size);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	strcpy(e->dir, "/tmp/btvm-test-loader-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	set_ram(e, 16 * MiB);
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
			if (rmdir(p) != 0)
				unlink(p);
		}
		closedir(d);
	}
	rmdir(e->dir);
	free(e->ram);
	free(e);
	return 0;
}

/* Writes a file into the temp dir; returns its path (valid until the next call). */
static const char *write_file(struct env *e, const char *name, const void *data, size_t len)
{
	static char paths[8][600];
	static unsigned next;
	char *p = paths[next++ % 8];
	snprintf(p, 600, "%s/%s", e->dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
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

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* ---- Image builders ---- */

#define MB_MAGIC 0x1BADB002u
#define PT_LOAD_ 1u
#define PF_X_ 1u
#define PF_W_ 2u
#define PF_R_ 4u

static void put_mbhdr(uint8_t *b, uint32_t off, uint32_t flags)
{
	wr32(b + off, MB_MAGIC);
	wr32(b + off + 4, flags);
	wr32(b + off + 8, (uint32_t)-(MB_MAGIC + flags));
}

static void put_aout(uint8_t *b, uint32_t off, uint32_t header_addr, uint32_t load_addr,
		     uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	wr32(b + off + 12, header_addr);
	wr32(b + off + 16, load_addr);
	wr32(b + off + 20, load_end);
	wr32(b + off + 24, bss_end);
	wr32(b + off + 28, entry);
}

static void put_ehdr(uint8_t *b, uint16_t machine, uint16_t type, uint32_t entry, uint16_t phnum)
{
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = 1;  /* ELFCLASS32 */
	b[5] = 1;  /* little-endian */
	b[6] = 1;  /* EV_CURRENT */
	wr16(b + 16, type);
	wr16(b + 18, machine);
	wr32(b + 20, 1);
	wr32(b + 24, entry);
	wr32(b + 28, 52);  /* e_phoff */
	wr16(b + 40, 52);
	wr16(b + 42, 32);
	wr16(b + 44, phnum);
}

struct seg {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags;
};

static void put_phdr(uint8_t *b, unsigned i, struct seg s)
{
	uint8_t *p = b + 52 + 32 * i;
	wr32(p + 0, s.type);
	wr32(p + 4, s.offset);
	wr32(p + 8, s.vaddr);
	wr32(p + 12, s.paddr);
	wr32(p + 16, s.filesz);
	wr32(p + 20, s.memsz);
	wr32(p + 24, s.flags);
	wr32(p + 28, 0x1000);
}

#define IMG_SIZE 0x3000u
#define MB_OFF 0x200u

/* A good two-segment kernel: text at 0x100000 (file 0x1000, 4 KiB) and a
 * higher-half data+bss segment at physical 0x101000 (file 0x2000, 2 KiB of
 * data, 8 KiB in memory).  Data bytes are (offset & 0xff) ^ 0x5A. */
static void good_elf(uint8_t *b)
{
	memset(b, 0, IMG_SIZE);
	for (unsigned i = 0x1000; i < IMG_SIZE; i++)
		b[i] = (uint8_t)((i & 0xff) ^ 0x5A);
	put_ehdr(b, 3, 2, 0x100010, 2);
	put_phdr(b, 0, (struct seg){ PT_LOAD_, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000, PF_R_ | PF_X_ });
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0xC0101000, 0x101000, 0x800, 0x2000, PF_R_ | PF_W_ });
	put_mbhdr(b, MB_OFF, 0x3);
}

static int load(struct env *e, const char *path)
{
	e->req.kernel_path = path;
	if (!e->req.flat_addr)
		e->req.flat_addr = 0x100000;
	memset(e->err, 'Z', sizeof(e->err));
	e->err[sizeof(e->err) - 1] = '\0';
	return loader_load(&e->req, &e->mem, &e->map, &e->bs, e->err, sizeof(e->err));
}

/* Loads path and expects failure with a one-line message containing phrase. */
static void expect_fail(struct env *e, const char *path, const char *phrase)
{
	int rc = load(e, path);
	if (rc != -1 || !strstr(e->err, phrase))
		print_error("rc=%d err='%s' wanted '%s'\n", rc, e->err, phrase);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(e->err, phrase));
	assert_null(strchr(e->err, '\n'));
	assert_true(strlen(e->err) > 0);
	assert_true(strncmp(e->err, "btvm:", 5) != 0);
}

static const uint8_t *pa(struct env *e, uint32_t addr)
{
	return e->ram + addr;
}

/* ---- Good loads ---- */

static void test_elf_loads_at_paddr(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	const char *p = write_file(e, "kernel.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_string_equal(e->bs.kind, "multiboot-elf");
	assert_int_equal(e->bs.eip, 0x100010);
	assert_int_equal(e->bs.eax, 0x2BADB002);
	assert_int_equal(e->bs.ebx, 0x9000);
	assert_int_equal(e->bs.esp, 0x9000);
	assert_int_equal(e->bs.ecx, 0);
	assert_int_equal(e->bs.edx, 0);
	assert_int_equal(e->bs.esi, 0);
	assert_int_equal(e->bs.edi, 0);
	assert_int_equal(e->bs.ebp, 0);
	assert_int_equal(e->bs.load_start, 0x100000);
	assert_int_equal(e->bs.load_end, 0x103000);
	assert_memory_equal(pa(e, 0x100000), b + 0x1000, 0x1000);
	assert_memory_equal(pa(e, 0x101000), b + 0x2000, 0x800);
	for (uint32_t a = 0x101800; a < 0x103000; a++)
		assert_int_equal(*pa(e, a), 0);          /* bss zeroed */
	assert_int_equal(*pa(e, 0x103000), 0xAA);        /* nothing past it */
	for (uint32_t a = 0x8000; a < 0x9000; a++)
		assert_int_equal(*pa(e, a), 0);          /* the stack page */
}

static void test_elf_higher_half_entry_translated(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_ehdr(b, 3, 2, 0xC0100020, 2);
	put_phdr(b, 0, (struct seg){ PT_LOAD_, 0x1000, 0xC0100000, 0x100000, 0x1000, 0x1000, PF_R_ | PF_X_ });
	const char *p = write_file(e, "hh.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.eip, 0x100020);
}

static void test_elf_physical_entry_accepted(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_ehdr(b, 3, 2, 0x100040, 2);
	put_phdr(b, 0, (struct seg){ PT_LOAD_, 0x1000, 0xC0100000, 0x100000, 0x1000, 0x1000, PF_R_ | PF_X_ });
	const char *p = write_file(e, "phys-entry.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.eip, 0x100040);
}

/* A bss-only segment (p_filesz 0) needs no file bytes, wherever p_offset points. */
static void test_elf_bss_only_segment(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x80000000, 0x200000, 0x200000, 0, 0x3000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "bss.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.load_start, 0x100000);
	assert_int_equal(e->bs.load_end, 0x203000);
	for (uint32_t a = 0x200000; a < 0x203000; a++)
		assert_int_equal(*pa(e, a), 0);
}

static void test_video_flag_ignored(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_mbhdr(b, MB_OFF, 0x7 | 0x80000000u);  /* bit 2 and an optional high bit */
	const char *p = write_file(e, "video.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(rd32(pa(e, 0x9000)) & (3u << 11), 0);  /* no VBE/framebuffer info */
}

static void test_multiboot_info(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	const char *k = write_file(e, "kernel.elf", b, sizeof(b));
	char kpath[600];
	strcpy(kpath, k);

	/* Module 1: 5000 bytes with args; module 2: 4096 bytes, no args; initrd: 10 bytes. */
	static uint8_t m1[5000], m2[4096];
	for (unsigned i = 0; i < sizeof(m1); i++)
		m1[i] = (uint8_t)(i * 7);
	for (unsigned i = 0; i < sizeof(m2); i++)
		m2[i] = (uint8_t)(i * 13 + 1);
	char p1[600], p2[600], p3[600];
	strcpy(p1, write_file(e, "mod1.bin", m1, sizeof(m1)));
	strcpy(p2, write_file(e, "mod2.bin", m2, sizeof(m2)));
	strcpy(p3, write_file(e, "initrd.img", "0123456789", 10));
	e->req.modules[0] = (struct loader_module){ p1, "arg1 arg2" };
	e->req.modules[1] = (struct loader_module){ p2, NULL };
	e->req.n_modules = 2;
	e->req.initrd_path = p3;
	e->req.cmdline = "console=ttyS0 quiet";

	assert_int_equal(load(e, kpath), 0);
	assert_int_equal(e->bs.eax, 0x2BADB002);
	uint32_t info = e->bs.ebx;
	assert_int_equal(info, 0x9000);
	const uint8_t *mbi = pa(e, info);
	assert_int_equal(rd32(mbi + 0), 0x24D);  /* MEMORY|CMDLINE|MODS|MEM_MAP|BOOT_LOADER_NAME */
	assert_int_equal(rd32(mbi + 4), 639);
	assert_int_equal(rd32(mbi + 8), (16 * MiB - MiB) / 1024);
	assert_string_equal((const char *)pa(e, rd32(mbi + 16)), "kernel.elf console=ttyS0 quiet");
	assert_string_equal((const char *)pa(e, rd32(mbi + 64)), "btvm");

	/* Memory map == e820 map. */
	assert_int_equal(rd32(mbi + 44), e->map.n * 24);
	const uint8_t *mm = pa(e, rd32(mbi + 48));
	for (unsigned i = 0; i < e->map.n; i++) {
		const uint8_t *ent = mm + 24 * i;
		assert_int_equal(rd32(ent), 20);
		assert_int_equal(rd64(ent + 4), e->map.e[i].addr);
		assert_int_equal(rd64(ent + 12), e->map.e[i].size);
		assert_int_equal(rd32(ent + 20), e->map.e[i].type);
	}

	/* Modules: page-aligned, right after the kernel (ends at 0x103000), in order. */
	assert_int_equal(rd32(mbi + 20), 3);
	const uint8_t *mods = pa(e, rd32(mbi + 24));
	uint32_t exp_start[3] = { 0x103000, 0x105000, 0x106000 };
	uint32_t exp_len[3] = { 5000, 4096, 10 };
	const char *exp_str[3];
	char s1[700];
	snprintf(s1, sizeof(s1), "%s arg1 arg2", p1);
	exp_str[0] = s1;
	exp_str[1] = p2;
	exp_str[2] = p3;
	const uint8_t *exp_data[3] = { m1, m2, (const uint8_t *)"0123456789" };
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *m = mods + 16 * i;
		assert_int_equal(rd32(m + 0), exp_start[i]);
		assert_int_equal(rd32(m + 0) & 0xfff, 0);
		assert_int_equal(rd32(m + 4), exp_start[i] + exp_len[i]);
		assert_string_equal((const char *)pa(e, rd32(m + 8)), exp_str[i]);
		assert_int_equal(rd32(m + 12), 0);
		assert_memory_equal(pa(e, exp_start[i]), exp_data[i], exp_len[i]);
	}
}

static void test_cmdline_without_append(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	const char *p = write_file(e, "plain.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	const uint8_t *mbi = pa(e, e->bs.ebx);
	assert_string_equal((const char *)pa(e, rd32(mbi + 16)), "plain.elf");
	assert_int_equal(rd32(mbi + 20), 0);  /* no modules */
}

static void test_mem_upper_other_size(void **state)
{
	struct env *e = *state;
	set_ram(e, 64 * MiB);
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	const char *p = write_file(e, "k.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	const uint8_t *mbi = pa(e, e->bs.ebx);
	assert_int_equal(rd32(mbi + 4), 639);
	assert_int_equal(rd32(mbi + 8), 63 * 1024);
}

static void test_info_moves_away_from_low_kernel(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	/* One segment at 0x8000-0x9fff: covers the preferred info page and its stack page. */
	put_ehdr(b, 3, 2, 0x8000, 1);
	put_phdr(b, 0, (struct seg){ PT_LOAD_, 0x1000, 0x8000, 0x8000, 0x1000, 0x2000, PF_R_ | PF_X_ });
	const char *p = write_file(e, "low.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.load_start, 0x8000);
	assert_int_equal(e->bs.load_end, 0xA000);
	assert_int_equal(e->bs.ebx, 0xB000);
	assert_int_equal(e->bs.esp, 0xB000);
	assert_memory_equal(pa(e, 0x8000), b + 0x1000, 0x1000);
	assert_int_equal(rd32(pa(e, 0xB000)), 0x24D);
}

/* a.out kludge: header at file 0x40, header_addr 0x200040, load_addr
 * 0x200000 (file offset 0), 0x1000 bytes loaded, bss to 0x203000. */
static void test_aout_kludge_loads(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x1800];
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i ^ 0x33);
	put_mbhdr(b, 0x40, 0x10003);
	put_aout(b, 0x40, 0x200040, 0x200000, 0x201000, 0x203000, 0x200080);
	const char *p = write_file(e, "aout.bin", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_string_equal(e->bs.kind, "multiboot-aout");
	assert_int_equal(e->bs.eip, 0x200080);
	assert_int_equal(e->bs.eax, 0x2BADB002);
	assert_int_equal(e->bs.ebx, 0x9000);
	assert_int_equal(e->bs.load_start, 0x200000);
	assert_int_equal(e->bs.load_end, 0x203000);
	assert_memory_equal(pa(e, 0x200000), b, 0x1000);
	for (uint32_t a = 0x201000; a < 0x203000; a++)
		assert_int_equal(*pa(e, a), 0);
	assert_int_equal(*pa(e, 0x203000), 0xAA);
}

/* load_end_addr 0 = to the end of the file; load_addr below header_addr
 * skips the first bytes of the file; no bss. */
static void test_aout_kludge_whole_file(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x1000];
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 3);
	put_mbhdr(b, 0x100, 0x10000);
	put_aout(b, 0x100, 0x300020, 0x300000, 0, 0, 0x300000);  /* file offset 0xe0 */
	const char *p = write_file(e, "aout-whole.bin", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.load_start, 0x300000);
	assert_int_equal(e->bs.load_end, 0x300000 + 0x1000 - 0xe0);
	assert_memory_equal(pa(e, 0x300000), b + 0xe0, 0x1000 - 0xe0);
	assert_int_equal(*pa(e, 0x300000 + 0x1000 - 0xe0), 0xAA);
}

/* The a.out kludge wins over the ELF headers, as the spec says. */
static void test_aout_kludge_in_elf(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_mbhdr(b, MB_OFF, 0x10002);
	put_aout(b, MB_OFF, 0x400000 + MB_OFF, 0x400000, 0, 0x404000, 0x400000 + 0x1000);
	const char *p = write_file(e, "elf-kludge.elf", b, sizeof(b));
	assert_int_equal(load(e, p), 0);
	assert_string_equal(e->bs.kind, "multiboot-aout");
	assert_int_equal(e->bs.eip, 0x401000);
	assert_memory_equal(pa(e, 0x400000), b, IMG_SIZE);
	assert_int_equal(*pa(e, 0x100000), 0xAA);  /* ELF segments not used */
}

/* ---- File errors ---- */

static void test_missing_file(void **state)
{
	struct env *e = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/nope.elf", e->dir);
	expect_fail(e, p, "cannot open '");
	assert_non_null(strstr(e->err, "nope.elf': No such file or directory"));
}

static void test_empty_file(void **state)
{
	struct env *e = *state;
	const char *p = write_file(e, "empty.elf", "", 0);
	expect_fail(e, p, "is empty");
	assert_non_null(strstr(e->err, "empty.elf"));
}

static void test_directory(void **state)
{
	struct env *e = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/adir", e->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	expect_fail(e, p, "is a directory");
}

static void test_file_bigger_than_ram(void **state)
{
	struct env *e = *state;
	set_ram(e, 2 * MiB);
	uint8_t *b = calloc(1, 3 * MiB);
	assert_non_null(b);
	good_elf(b);
	const char *p = write_file(e, "huge.elf", b, 3 * MiB);
	free(b);
	expect_fail(e, p, "is too large (3145728 bytes; guest RAM is only 2097152 bytes)");
}

static void test_newline_in_name_stays_one_line(void **state)
{
	struct env *e = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/bad\nname", e->dir);
	expect_fail(e, p, "cannot open '");
	assert_non_null(strstr(e->err, "bad?name"));
}

/* ---- Detection errors ---- */

static void test_no_multiboot_header(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x4000];
	memset(b, 0x90, sizeof(b));
	put_mbhdr(b, 8192, 0x3);  /* just past the search area */
	const char *p = write_file(e, "raw.bin", b, sizeof(b));
	int rc = load(e, p);
	assert_int_equal(rc, -1);
	char want[700];
	snprintf(want, sizeof(want), "%s: no multiboot header in the first 8192 bytes (use --flat to load a raw binary)", p);
	assert_string_equal(e->err, want);
}

static void test_bad_checksum(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr32(b + MB_OFF + 8, rd32(b + MB_OFF + 8) + 1);
	const char *p = write_file(e, "badsum.elf", b, sizeof(b));
	expect_fail(e, p, "multiboot header at offset 0x200 has a bad checksum");
}

static void test_unsupported_flags(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_mbhdr(b, MB_OFF, 0x3 | 0x8);
	const char *p = write_file(e, "flags.elf", b, sizeof(b));
	expect_fail(e, p, "multiboot header requires unsupported features (flags 0x0000000b");
}

static void test_bzimage(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x2000];
	memset(b, 0, sizeof(b));
	memcpy(b + 0x202, "HdrS", 4);
	const char *p = write_file(e, "bzImage", b, sizeof(b));
	/* "HdrS" sends it to the Linux loader (test_loader_linux.c), which
	 * finds no boot flag. */
	expect_fail(e, p, "Linux kernel with a bad boot flag at 0x1FE");
}

static void test_elf64_without_header(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x1000];
	memset(b, 0, sizeof(b));
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	const char *p = write_file(e, "k64.elf", b, sizeof(b));
	expect_fail(e, p, "64-bit ELF");
	assert_non_null(strstr(e->err, "32-bit guests"));
}

static void test_elf64_with_header(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	b[4] = 2;
	const char *p = write_file(e, "mb64.elf", b, sizeof(b));
	expect_fail(e, p, "64-bit ELF");
	assert_non_null(strstr(e->err, "32-bit guests"));
}

static void test_not_elf_without_kludge(void **state)
{
	struct env *e = *state;
	static uint8_t b[0x1000];
	memset(b, 0, sizeof(b));
	put_mbhdr(b, 0, 0x3);
	const char *p = write_file(e, "notelf.bin", b, sizeof(b));
	expect_fail(e, p, "not an ELF file");
}

/* ---- ELF errors ---- */

static void test_truncated_elf_header(void **state)
{
	struct env *e = *state;
	uint8_t b[40];
	memset(b, 0, sizeof(b));
	memcpy(b, "\x7f" "ELF\x01\x01\x01", 7);
	put_mbhdr(b, 16, 0x3);
	const char *p = write_file(e, "trunc.elf", b, sizeof(b));
	expect_fail(e, p, "truncated ELF header (file is 40 bytes");
}

static void test_wrong_machine(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr16(b + 18, 62);
	const char *p = write_file(e, "x86_64.elf", b, sizeof(b));
	expect_fail(e, p, "ELF machine is 62 (x86-64), not EM_386");
}

static void test_wrong_type(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr16(b + 16, 3);
	const char *p = write_file(e, "pie.elf", b, sizeof(b));
	expect_fail(e, p, "(ET_DYN), a kernel must be an executable (ET_EXEC)");
}

static void test_big_endian(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	b[5] = 2;
	const char *p = write_file(e, "be.elf", b, sizeof(b));
	expect_fail(e, p, "not little-endian");
}

static void test_segment_beyond_file(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0x101000, 0x101000, 0x4000, 0x4000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "beyond-file.elf", b, sizeof(b));
	int rc = load(e, p);
	assert_int_equal(rc, -1);
	char want[700];
	snprintf(want, sizeof(want),
		 "%s: ELF program header 1 ends beyond the end of the file (offset 0x2000 + size 0x4000 > file size 0x3000)", p);
	assert_string_equal(e->err, want);
}

static void test_segment_offset_overflow(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0xFFFFF000, 0x101000, 0x101000, 0x2000, 0x2000, PF_R_ });
	const char *p = write_file(e, "offset-wrap.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program header 1 ends beyond the end of the file");
}

static void test_filesz_gt_memsz(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0x101000, 0x101000, 0x1000, 0x800, PF_R_ | PF_W_ });
	const char *p = write_file(e, "filesz.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program header 1 has p_filesz 0x1000 > p_memsz 0x800");
}

static void test_segment_beyond_ram(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0xF00000, 0xF00000, 0x800, 0x200000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "beyond-ram.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program header 1 (physical 0xf00000-0x10fffff) ends beyond guest RAM");
}

static void test_segment_wraps_4g(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0xFFFFF000, 0xFFFFF000, 0x800, 0x2000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "wrap.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program header 1 (physical 0xfffff000-0x100000fff) extends beyond 4 GiB");
}

static void test_segment_in_hole(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0x9F000, 0x9F000, 0x800, 0x2000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "hole.elf", b, sizeof(b));
	expect_fail(e, p, "overlaps the 640K-1M hole");
}

static void test_overlapping_segments(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x2000, 0x100800, 0x100800, 0x800, 0x2000, PF_R_ | PF_W_ });
	const char *p = write_file(e, "overlap.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program headers 0 and 1 overlap (physical 0x100000-0x100fff and 0x100800-0x1027ff)");
}

static void test_entry_outside(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_ehdr(b, 3, 2, 0x500000, 2);
	const char *p = write_file(e, "entry.elf", b, sizeof(b));
	expect_fail(e, p, "ELF entry point 0x500000 is not inside any loaded segment");
}

static void test_absurd_phnum(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr16(b + 44, 0xFFFF);
	const char *p = write_file(e, "phnum.elf", b, sizeof(b));
	expect_fail(e, p, "absurd e_phnum 65535");
}

static void test_absurd_phentsize(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr16(b + 42, 8);
	const char *p = write_file(e, "phentsize.elf", b, sizeof(b));
	expect_fail(e, p, "absurd e_phentsize 8");
}

static void test_phdr_table_beyond_file(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	wr32(b + 28, IMG_SIZE - 32);  /* e_phoff: two entries do not fit */
	const char *p = write_file(e, "phoff.elf", b, sizeof(b));
	expect_fail(e, p, "ELF program header table ends beyond the end of the file");
}

static void test_no_pt_load(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	put_phdr(b, 0, (struct seg){ 4 /* PT_NOTE */, 0x1000, 0, 0, 0x10, 0x10, PF_R_ });
	put_phdr(b, 1, (struct seg){ PT_LOAD_, 0x1000, 0x100000, 0x100000, 0, 0, PF_R_ });
	const char *p = write_file(e, "noload.elf", b, sizeof(b));
	expect_fail(e, p, "no loadable segment");
}

/* ---- a.out kludge errors ---- */

static void aout_case(struct env *e, const char *name, uint32_t header_addr, uint32_t load_addr,
		      uint32_t load_end, uint32_t bss_end, uint32_t entry, const char *phrase)
{
	static uint8_t b[0x1800];
	memset(b, 0x11, sizeof(b));
	put_mbhdr(b, 0x40, 0x10000);
	put_aout(b, 0x40, header_addr, load_addr, load_end, bss_end, entry);
	const char *p = write_file(e, name, b, sizeof(b));
	expect_fail(e, p, phrase);
}

static void test_aout_errors(void **state)
{
	struct env *e = *state;
	aout_case(e, "aout-end-below.bin", 0x200040, 0x200000, 0x1FF000, 0, 0x200000,
		  "a.out kludge: load_end_addr 0x1ff000 is not above load_addr 0x200000");
	aout_case(e, "aout-load-above-header.bin", 0x200040, 0x200100, 0, 0, 0x200100,
		  "a.out kludge: load_addr 0x200100 is above header_addr 0x200040");
	aout_case(e, "aout-before-file.bin", 0x200040, 0x1FF000, 0, 0, 0x1FF000,
		  "is larger than the header's file offset 0x40");
	aout_case(e, "aout-past-eof.bin", 0x200040, 0x200000, 0x202000, 0, 0x200000,
		  "beyond the end of the file (file size 0x1800)");
	aout_case(e, "aout-bss-below.bin", 0x200040, 0x200000, 0x201000, 0x200800, 0x200000,
		  "a.out kludge: bss_end_addr 0x200800 is below the load end 0x201000");
	aout_case(e, "aout-entry.bin", 0x200040, 0x200000, 0x201000, 0x202000, 0x201800,
		  "a.out kludge: entry_addr 0x201800 is outside the loaded range 0x200000-0x200fff");
	aout_case(e, "aout-hole.bin", 0x9F040, 0x9F000, 0, 0, 0x9F000, "overlaps the 640K-1M hole");
	aout_case(e, "aout-beyond-ram.bin", 0x2000040, 0x2000000, 0, 0, 0x2000000, "ends beyond guest RAM");

	uint8_t t[0x30];
	memset(t, 0, sizeof(t));
	put_mbhdr(t, 0x20, 0x10000);
	expect_fail(e, write_file(e, "aout-short.bin", t, sizeof(t)), "is truncated");
}

/* ---- Module errors ---- */

static void test_module_missing(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	char k[600], m[600];
	strcpy(k, write_file(e, "kernel.elf", b, sizeof(b)));
	strcpy(m, write_file(e, "ok.mod", "x", 1));
	e->req.modules[0] = (struct loader_module){ m, NULL };
	e->req.modules[1] = (struct loader_module){ "/nonexistent/btvm/mod.bin", "a b" };
	e->req.n_modules = 2;
	expect_fail(e, k, "module 2: cannot open '/nonexistent/btvm/mod.bin': No such file or directory");
}

static void test_initrd_missing(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	e->req.initrd_path = "/nonexistent/btvm/initrd";
	expect_fail(e, write_file(e, "kernel.elf", b, sizeof(b)),
		    "initrd: cannot open '/nonexistent/btvm/initrd': No such file or directory");
}

static void test_module_does_not_fit(void **state)
{
	struct env *e = *state;
	set_ram(e, 2 * MiB);
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	char k[600];
	strcpy(k, write_file(e, "kernel.elf", b, sizeof(b)));
	uint8_t *big = calloc(1, 0x180000);
	assert_non_null(big);
	e->req.modules[0] = (struct loader_module){ write_file(e, "big.mod", big, 0x180000), NULL };
	e->req.n_modules = 1;
	free(big);
	expect_fail(e, k, "module 1: not enough free guest RAM for");
}

static void test_empty_module_allowed(void **state)
{
	struct env *e = *state;
	static uint8_t b[IMG_SIZE];
	good_elf(b);
	char k[600];
	strcpy(k, write_file(e, "kernel.elf", b, sizeof(b)));
	e->req.modules[0] = (struct loader_module){ write_file(e, "empty.mod", "", 0), "" };
	e->req.n_modules = 1;
	assert_int_equal(load(e, k), 0);
	const uint8_t *mods = pa(e, rd32(pa(e, e->bs.ebx) + 24));
	assert_int_equal(rd32(mods), 0x103000);
	assert_int_equal(rd32(mods + 4), 0x103000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_elf_loads_at_paddr),
		T(test_elf_higher_half_entry_translated),
		T(test_elf_physical_entry_accepted),
		T(test_elf_bss_only_segment),
		T(test_video_flag_ignored),
		T(test_multiboot_info),
		T(test_cmdline_without_append),
		T(test_mem_upper_other_size),
		T(test_info_moves_away_from_low_kernel),
		T(test_aout_kludge_loads),
		T(test_aout_kludge_whole_file),
		T(test_aout_kludge_in_elf),
		T(test_missing_file),
		T(test_empty_file),
		T(test_directory),
		T(test_file_bigger_than_ram),
		T(test_newline_in_name_stays_one_line),
		T(test_no_multiboot_header),
		T(test_bad_checksum),
		T(test_unsupported_flags),
		T(test_bzimage),
		T(test_elf64_without_header),
		T(test_elf64_with_header),
		T(test_not_elf_without_kludge),
		T(test_truncated_elf_header),
		T(test_wrong_machine),
		T(test_wrong_type),
		T(test_big_endian),
		T(test_segment_beyond_file),
		T(test_segment_offset_overflow),
		T(test_filesz_gt_memsz),
		T(test_segment_beyond_ram),
		T(test_segment_wraps_4g),
		T(test_segment_in_hole),
		T(test_overlapping_segments),
		T(test_entry_outside),
		T(test_absurd_phnum),
		T(test_absurd_phentsize),
		T(test_phdr_table_beyond_file),
		T(test_no_pt_load),
		T(test_aout_errors),
		T(test_module_missing),
		T(test_initrd_missing),
		T(test_module_does_not_fit),
		T(test_empty_module_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
