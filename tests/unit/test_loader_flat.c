/* Flat binaries (--flat): the whole file at flat_addr, entered there. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/e820.h"
#include "loader/loader.h"

#define MiB (1u << 20)

struct env {
	uint8_t *ram;
	struct phys_mem mem;
	struct e820_map map;
	char dir[64];
	char err[512];
	struct boot_state bs;
	struct load_request req;
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

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	strcpy(e->dir, "/tmp/btvm-test-flat-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	set_ram(e, 16 * MiB);
	e->req.flat = true;
	e->req.flat_addr = 0x100000;
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
	static char p[600];
	snprintf(p, sizeof(p), "%s/%s", e->dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static uint8_t *pattern(size_t n)
{
	uint8_t *b = malloc(n);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + (i >> 8));
	return b;
}

static int load(struct env *e, const char *path)
{
	e->req.kernel_path = path;
	memset(&e->bs, 0x55, sizeof(e->bs));
	return loader_load(&e->req, &e->mem, &e->map, &e->bs, e->err, sizeof(e->err));
}

static void expect_fail(struct env *e, const char *path, const char *phrase)
{
	int rc = load(e, path);
	if (rc != -1 || !strstr(e->err, phrase))
		print_error("rc=%d err='%s' wanted '%s'\n", rc, e->err, phrase);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(e->err, phrase));
	assert_null(strchr(e->err, '\n'));
}

static void test_flat_default_address(void **state)
{
	struct env *e = *state;
	uint8_t *b = pattern(0x2345);
	const char *p = write_file(e, "guest.bin", b, 0x2345);
	assert_int_equal(load(e, p), 0);
	assert_string_equal(e->bs.kind, "flat");
	assert_int_equal(e->bs.eip, 0x100000);
	assert_int_equal(e->bs.eax, 0);
	assert_int_equal(e->bs.ebx, 0);
	assert_int_equal(e->bs.ecx, 0);
	assert_int_equal(e->bs.edx, 0);
	assert_int_equal(e->bs.esi, 0);
	assert_int_equal(e->bs.edi, 0);
	assert_int_equal(e->bs.ebp, 0);
	assert_int_equal(e->bs.esp, 0);
	assert_int_equal(e->bs.load_start, 0x100000);
	assert_int_equal(e->bs.load_end, 0x102345);
	assert_memory_equal(e->ram + 0x100000, b, 0x2345);
	assert_int_equal(e->ram[0x102345], 0xAA);
	assert_int_equal(e->ram[0xFFFFF], 0xAA);
	free(b);
}

static void test_flat_low_address(void **state)
{
	struct env *e = *state;
	e->req.flat_addr = 0x7C00;
	uint8_t *b = pattern(512);
	const char *p = write_file(e, "boot.bin", b, 512);
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.eip, 0x7C00);
	assert_memory_equal(e->ram + 0x7C00, b, 512);
	free(b);
}

/* --flat is explicit: a file with a multiboot header (or a bzImage
 * signature) is still loaded byte for byte. */
static void test_flat_ignores_headers(void **state)
{
	struct env *e = *state;
	uint8_t *b = pattern(0x1000);
	uint32_t mb[3] = { 0x1BADB002u, 0x3, (uint32_t)-(0x1BADB002u + 3) };
	memcpy(b + 0x10, mb, sizeof(mb));
	memcpy(b + 0x202, "HdrS", 4);
	const char *p = write_file(e, "mb.bin", b, 0x1000);
	assert_int_equal(load(e, p), 0);
	assert_string_equal(e->bs.kind, "flat");
	assert_memory_equal(e->ram + 0x100000, b, 0x1000);
	free(b);
}

static void test_flat_fills_ram_exactly(void **state)
{
	struct env *e = *state;
	set_ram(e, 2 * MiB);
	uint8_t *b = pattern(MiB);
	const char *p = write_file(e, "exact.bin", b, MiB);
	assert_int_equal(load(e, p), 0);
	assert_int_equal(e->bs.load_end, 2 * MiB);
	assert_memory_equal(e->ram + MiB, b, MiB);
	free(b);
}

static void test_flat_bigger_than_ram(void **state)
{
	struct env *e = *state;
	set_ram(e, 2 * MiB);
	uint8_t *b = pattern(3 * MiB);
	const char *p = write_file(e, "huge.bin", b, 3 * MiB);
	free(b);
	expect_fail(e, p, "is too large (3145728 bytes; guest RAM is only 2097152 bytes)");
	assert_non_null(strstr(e->err, "huge.bin"));
}

static void test_flat_does_not_fit_at_address(void **state)
{
	struct env *e = *state;
	set_ram(e, 2 * MiB);
	uint8_t *b = pattern(MiB + 1);
	const char *p = write_file(e, "big.bin", b, MiB + 1);
	free(b);
	char want[800];
	snprintf(want, sizeof(want),
		 "%s: flat image (0x100001 bytes at 0x100000) does not fit in guest RAM: it ends beyond guest RAM (RAM is 0x200000 bytes)",
		 p);
	assert_int_equal(load(e, p), -1);
	assert_string_equal(e->err, want);
}

static void test_flat_in_hole(void **state)
{
	struct env *e = *state;
	e->req.flat_addr = 0x9F000;
	uint8_t *b = pattern(0x2000);
	const char *p = write_file(e, "hole.bin", b, 0x2000);
	free(b);
	expect_fail(e, p, "overlaps the 640K-1M hole");
}

static void test_flat_near_4g(void **state)
{
	struct env *e = *state;
	e->req.flat_addr = 0xFFFFF000;
	uint8_t *b = pattern(0x2000);
	const char *p = write_file(e, "wrap.bin", b, 0x2000);
	free(b);
	expect_fail(e, p, "extends beyond 4 GiB");
}

static void test_flat_rejects_modules(void **state)
{
	struct env *e = *state;
	uint8_t b[16] = { 0 };
	char k[600];
	strcpy(k, write_file(e, "k.bin", b, sizeof(b)));
	e->req.modules[0] = (struct loader_module){ k, NULL };
	e->req.n_modules = 1;
	expect_fail(e, k, "takes no modules or initrd");
	e->req.n_modules = 0;
	e->req.initrd_path = k;
	expect_fail(e, k, "takes no modules or initrd");
	e->req.initrd_path = NULL;
	e->req.cmdline = "console=ttyS0";
	expect_fail(e, k, "takes no command line (--append)");
	e->req.cmdline = "";
	assert_int_equal(load(e, k), 0);
}

static void test_flat_missing_and_empty(void **state)
{
	struct env *e = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/missing.bin", e->dir);
	expect_fail(e, p, "cannot open '");
	assert_non_null(strstr(e->err, "missing.bin': No such file or directory"));
	expect_fail(e, write_file(e, "empty.bin", "", 0), "is empty");
	expect_fail(e, e->dir, "is a directory");
	expect_fail(e, "/dev/null", "'/dev/null' is not a regular file");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_flat_default_address),
		T(test_flat_low_address),
		T(test_flat_ignores_headers),
		T(test_flat_fills_ram_exactly),
		T(test_flat_bigger_than_ram),
		T(test_flat_does_not_fit_at_address),
		T(test_flat_in_hole),
		T(test_flat_near_4g),
		T(test_flat_rejects_modules),
		T(test_flat_missing_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
