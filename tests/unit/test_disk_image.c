/* The raw disk image: validation at open, locking, sector I/O. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "devices/disk_image.h"

static char dir[64];
static char path[128];
static char err[512];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/btvm-disk-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[160];
	const char *names[] = { "disk.img", "fifo" };
	for (unsigned i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static void make_file(const char *p, size_t bytes, uint8_t fill)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < bytes; i++)
		fputc(fill + (int)(i / 512), f);
	assert_int_equal(fclose(f), 0);
}

static void test_open_ok_and_io(void **state)
{
	(void)state;
	make_file(path, 8 * 512, 0x10);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, path, false, err, sizeof(err)), 0);
	assert_int_equal(d.sectors, 8);
	assert_false(d.read_only);
	assert_true(d.write_cache);

	uint8_t buf[1024];
	assert_int_equal(disk_image_read(&d, 3, buf, 2), 0);
	assert_int_equal(buf[0], 0x13);
	assert_int_equal(buf[511], 0x13);
	assert_int_equal(buf[512], 0x14);

	memset(buf, 0xAB, sizeof(buf));
	assert_int_equal(disk_image_write(&d, 7, buf, 1), 0);
	assert_int_equal(disk_image_flush(&d), 0);
	uint8_t back[512];
	assert_int_equal(disk_image_read(&d, 7, back, 1), 0);
	assert_memory_equal(back, buf, 512);

	/* Ranges past the end are refused before any I/O. */
	assert_int_equal(disk_image_read(&d, 8, buf, 1), -ERANGE);
	assert_int_equal(disk_image_read(&d, 7, buf, 2), -ERANGE);
	assert_int_equal(disk_image_write(&d, UINT64_MAX, buf, 1), -ERANGE);
	assert_int_equal(disk_image_read(&d, 0, buf, 0), 0);

	/* Write cache off: every write is synced (the path runs; what the
	 * disk does with it cannot be seen from here). */
	d.write_cache = false;
	assert_int_equal(disk_image_write(&d, 0, buf, 1), 0);

	/* A file that shrank under us: a short read is an I/O error. */
	assert_int_equal(truncate(path, 4 * 512), 0);
	assert_int_equal(disk_image_read(&d, 6, buf, 1), -EIO);
	disk_image_close(&d);
	assert_int_equal(d.fd, -1);
	disk_image_close(&d);   /* twice is harmless */
}

static void test_read_only(void **state)
{
	(void)state;
	make_file(path, 2 * 512, 0x20);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, path, true, err, sizeof(err)), 0);
	assert_true(d.read_only);
	uint8_t buf[512];
	memset(buf, 0, sizeof(buf));
	assert_int_equal(disk_image_write(&d, 0, buf, 1), -EROFS);
	assert_int_equal(disk_image_flush(&d), 0);
	assert_int_equal(disk_image_read(&d, 1, buf, 1), 0);
	assert_int_equal(buf[0], 0x21);
	disk_image_close(&d);
}

/* One writer excludes everyone; readers share. */
static void test_locking(void **state)
{
	(void)state;
	make_file(path, 512, 0);
	struct disk_image a, b, c;
	assert_int_equal(disk_image_open(&a, path, false, err, sizeof(err)), 0);
	assert_int_equal(disk_image_open(&b, path, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use by another process"));
	assert_int_equal(disk_image_open(&b, path, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use"));
	disk_image_close(&a);

	assert_int_equal(disk_image_open(&a, path, true, err, sizeof(err)), 0);
	assert_int_equal(disk_image_open(&b, path, true, err, sizeof(err)), 0);
	assert_int_equal(disk_image_open(&c, path, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use"));
	disk_image_close(&a);
	disk_image_close(&b);
	assert_int_equal(disk_image_open(&c, path, false, err, sizeof(err)), 0);
	disk_image_close(&c);
}

static void expect_open_error(const char *p, bool ro, const char *what)
{
	struct disk_image d;
	err[0] = 0;
	assert_int_equal(disk_image_open(&d, p, ro, err, sizeof(err)), -1);
	assert_int_equal(d.fd, -1);
	if (!strstr(err, what))
		fail_msg("error '%s' does not say '%s'", err, what);
	assert_true(!strncmp(err, ro ? "--disk-ro " : "--disk ", ro ? 10 : 7));
	assert_null(strchr(err, '\n'));
}

static void test_bad_files(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof(p), "%s/missing.img", dir);
	expect_open_error(p, false, "No such file");
	expect_open_error(dir, false, "is a directory");
	expect_open_error(dir, true, "not a regular file or a block device");
	expect_open_error("", false, "empty file name");

	make_file(path, 0, 0);
	expect_open_error(path, false, "is empty");
	make_file(path, 1000, 0x33);
	expect_open_error(path, false, "not a multiple of 512");
	/* The file is not touched by a failed open. */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1000);

	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_open_error(p, true, "not a regular file");   /* and it did not block */
	expect_open_error(p, false, "not a regular file");
	expect_open_error("/dev/null", false, "not a regular file or a block device");

	if (geteuid() != 0) {   /* root may write anything */
		make_file(path, 512, 0);
		assert_int_equal(chmod(path, 0444), 0);
		expect_open_error(path, false, "use --disk-ro");
		struct disk_image d;
		assert_int_equal(disk_image_open(&d, path, true, err, sizeof(err)), 0);
		disk_image_close(&d);
	}
}

static void test_size_rule(void **state)
{
	(void)state;
	assert_int_equal(disk_image_check_size(512, "x", false, err, sizeof(err)), 0);
	assert_int_equal(disk_image_check_size(DISK_MAX_SECTORS * 512, "x", false, err, sizeof(err)), 0);
	assert_int_equal(disk_image_check_size((DISK_MAX_SECTORS + 1) * 512, "x", false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2^48 sectors"));
	assert_int_equal(disk_image_check_size(0, "x", false, err, sizeof(err)), -1);
	assert_int_equal(disk_image_check_size(513, "x", false, err, sizeof(err)), -1);
	assert_string_equal(err, "--disk x: size 513 is not a multiple of 512 bytes (whole sectors)");
	assert_int_equal(disk_image_check_size(0, "y", true, err, sizeof(err)), -1);
	assert_string_equal(err, "--disk-ro y: is empty (a disk image holds at least one 512-byte sector)");
}

/* A CD image: 2048-byte blocks, the label and hint the caller gives, and
 * byte-granular reads. */
static void test_cd_image(void **state)
{
	(void)state;
	struct disk_image_opts o = { true, CD_BLOCK_SIZE, "--cdrom", "readonly=on" };
	assert_int_equal(disk_image_check_size_opts(2048, "c.iso", &o, err, sizeof(err)), 0);
	assert_int_equal(disk_image_check_size_opts(CD_MAX_BLOCKS * 2048, "c.iso", &o, err, sizeof(err)), 0);
	assert_int_equal(disk_image_check_size_opts((CD_MAX_BLOCKS + 1) * 2048, "c.iso", &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2^32 2048-byte blocks"));
	assert_int_equal(disk_image_check_size_opts(1024, "c.iso", &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--cdrom c.iso: size 1024 is not a multiple of 2048 bytes (whole CD blocks)");
	assert_int_equal(disk_image_check_size_opts(0, "c.iso", &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--cdrom c.iso: is empty (a CD image holds at least one 2048-byte block)");

	make_file(path, 3 * 512, 0x20);       /* whole sectors, not whole CD blocks */
	struct disk_image d;
	assert_int_equal(disk_image_open_opts(&d, path, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a multiple of 2048"));
	assert_true(!strncmp(err, "--cdrom ", 8));
	make_file(path, 2 * 2048, 0x20);
	assert_int_equal(disk_image_open_opts(&d, path, &o, err, sizeof(err)), 0);
	assert_int_equal(d.sectors, 8);
	assert_true(d.read_only);
	uint8_t b[6];
	assert_int_equal(disk_image_read_bytes(&d, 510, b, 4), 0);   /* across a sector boundary */
	assert_int_equal(b[0], 0x20);
	assert_int_equal(b[1], 0x20);
	assert_int_equal(b[2], 0x21);
	assert_int_equal(b[3], 0x21);
	assert_int_equal(disk_image_read_bytes(&d, 4096 - 2, b, 2), 0);
	assert_int_equal(disk_image_read_bytes(&d, 4096 - 2, b, 3), -ERANGE);
	assert_int_equal(disk_image_read_bytes(&d, UINT64_MAX, b, 1), -ERANGE);
	disk_image_close(&d);
	assert_int_equal(disk_image_read_bytes(&d, 0, b, 1), -EBADF);

	/* --drive names its index and its own read-only spelling. */
	struct disk_image_opts w = { false, DISK_SECTOR_SIZE, "--drive index=1", "readonly=on" };
	assert_int_equal(disk_image_open_opts(&d, dir, &w, err, sizeof(err)), -1);
	assert_string_equal(strchr(err, ':'), ": is a directory, not a disk image");
	assert_true(!strncmp(err, "--drive index=1 ", 16));
	if (geteuid() != 0) {
		make_file(path, 512, 0);
		assert_int_equal(chmod(path, 0444), 0);
		assert_int_equal(disk_image_open_opts(&d, path, &w, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "use readonly=on for read-only access"));
	}
}

/* Found by fuzz-disk_image: a file name with a newline or an escape made
 * the error two lines (or a terminal sequence); it is one line, each
 * control character shown as '?'. */
static void test_control_characters_in_name(void **state)
{
	(void)state;
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/a\nb\x1b[2Jc", dir);
	FILE *f = fopen(bad, "wb");
	assert_non_null(f);
	fputs("odd", f);     /* 3 bytes: not whole sectors */
	fclose(f);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, bad, false, err, sizeof(err)), -1);
	unlink(bad);
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, 0x1b));
	assert_non_null(strstr(err, "/a?b?[2Jc: size 3 is not a multiple of 512 bytes"));
	assert_int_equal(disk_image_open(&d, "/nonexistent/x\ty", true, err, sizeof(err)), -1);
	assert_string_equal(err, "--disk-ro /nonexistent/x?y: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_ok_and_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cd_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_characters_in_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
