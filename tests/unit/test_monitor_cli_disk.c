/* --disk, --disk-ro, --cdrom and --drive parsing (the images themselves
 * are opened and checked by devices/disk_image.c: test_disk_image.c and
 * tests/cli). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "monitor/cli.h"

static int parse(struct vm_config *cfg, char *err, int argc, ...)
{
	static char *argv[16];
	static char store[16][128];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++) {
		strncpy(store[i], va_arg(ap, const char *), sizeof(store[i]) - 1);
		argv[i] = store[i];
	}
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	enum cli_command cmd;
	return cli_parse(argc, argv, &cmd, cfg, err, 256);
}

static void disk_options(void **state)
{
	(void)state;
	struct vm_config cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 3, "btvm", "run", "k.elf"), 0);
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++)
		assert_false(cfg.drives[i].present);

	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--disk", "d.img", "k.elf"), 0);
	assert_true(cfg.drives[0].present);
	assert_string_equal(cfg.drives[0].path, "d.img");
	assert_false(cfg.drives[0].read_only);
	assert_false(cfg.drives[0].cdrom);
	assert_string_equal(cfg.drives[0].label, "--disk");

	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--disk-ro", "d,ro.img", "k.elf"), 0);
	assert_string_equal(cfg.drives[0].path, "d,ro.img");
	assert_true(cfg.drives[0].read_only);
	assert_string_equal(cfg.drives[0].label, "--disk-ro");
	assert_string_equal(cfg.drives[0].ro_hint, "--disk-ro");

	/* --cdrom: QEMU's secondary master, read-only */
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--cdrom", "c.iso", "k.elf"), 0);
	assert_true(cfg.drives[2].present);
	assert_true(cfg.drives[2].cdrom);
	assert_true(cfg.drives[2].read_only);
	assert_string_equal(cfg.drives[2].path, "c.iso");
	assert_false(cfg.drives[0].present);
}

static void drive_options(void **state)
{
	(void)state;
	struct vm_config cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 11, "btvm", "run",
			       "--drive", "file=a.img,if=ide,index=1,format=raw",
			       "--drive", "file=b.img,index=3,readonly=on",
			       "--drive", "file=c.iso,if=ide,index=2,media=cdrom",
			       "--disk", "d.img", "k.elf"), 0);
	assert_string_equal(cfg.drives[0].path, "d.img");
	assert_string_equal(cfg.drives[1].path, "a.img");
	assert_false(cfg.drives[1].read_only);
	assert_false(cfg.drives[1].cdrom);
	assert_string_equal(cfg.drives[1].label, "--drive index=1");
	assert_string_equal(cfg.drives[1].ro_hint, "readonly=on");
	assert_string_equal(cfg.drives[2].path, "c.iso");
	assert_true(cfg.drives[2].cdrom);
	assert_true(cfg.drives[2].read_only);
	assert_string_equal(cfg.drives[3].path, "b.img");
	assert_true(cfg.drives[3].read_only);

	/* no index: the first free position; ",," is a comma in a value;
	 * media=cdrom without file= is an empty CD drive */
	assert_int_equal(parse(&cfg, err, 11, "btvm", "run", "--disk", "d.img",
			       "--drive", "file=x,,y.img", "--drive", "media=cdrom,if=ide",
			       "--drive", "file=z.img,readonly=off", "k.elf"), 0);
	assert_string_equal(cfg.drives[1].path, "x,y.img");
	assert_true(cfg.drives[2].present);
	assert_true(cfg.drives[2].cdrom);
	assert_null(cfg.drives[2].path);
	assert_string_equal(cfg.drives[3].path, "z.img");
	assert_false(cfg.drives[3].read_only);
	assert_string_equal(cli_drive_position(3), "secondary slave");
}

/* Each mistake: -1 and exactly this line. */
static void expect_error(const char *want, int argc, ...)
{
	static char store[16][128];
	char *argv[17];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++) {
		strncpy(store[i], va_arg(ap, const char *), sizeof(store[i]) - 1);
		argv[i] = store[i];
	}
	va_end(ap);
	argv[argc] = NULL;
	struct vm_config cfg;
	enum cli_command cmd;
	char err[256] = "";
	assert_int_equal(cli_parse(argc, argv, &cmd, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void disk_errors(void **state)
{
	(void)state;
	expect_error("--disk: index 0 (the primary master) is already taken by --disk a.img",
		     7, "btvm", "run", "--disk", "a.img", "--disk", "b.img", "k.elf");
	expect_error("--disk-ro: index 0 (the primary master) is already taken by --disk a.img",
		     7, "btvm", "run", "--disk", "a.img", "--disk-ro", "b.img", "k.elf");
	expect_error("--drive index=0: index 0 (the primary master) is already taken by --disk a.img",
		     7, "btvm", "run", "--disk", "a.img", "--drive", "file=b.img,index=0", "k.elf");
	expect_error("--disk: index 0 (the primary master) is already taken by --drive index=0 b.img",
		     7, "btvm", "run", "--drive", "file=b.img", "--disk", "a.img", "k.elf");
	expect_error("--drive index=2: index 2 (the secondary master) is already taken by --cdrom c.iso",
		     7, "btvm", "run", "--cdrom", "c.iso", "--drive", "file=b.img,index=2", "k.elf");
	expect_error("--cdrom: index 2 (the secondary master) is already taken by "
		     "--drive index=2 (a CD drive without a medium)",
		     7, "btvm", "run", "--drive", "media=cdrom,index=2", "--cdrom", "c.iso", "k.elf");
	expect_error("--drive index=1: index 1 (the primary slave) is already taken by --drive index=1 a.img",
		     7, "btvm", "run", "--drive", "file=a.img,index=1", "--drive", "file=b.img,index=1", "k.elf");
	expect_error("--disk-ro: empty file name", 5, "btvm", "run", "--disk-ro", "", "k.elf");
	expect_error("--cdrom: empty file name", 5, "btvm", "run", "--cdrom", "", "k.elf");
	expect_error("option '--disk' needs a value", 3, "btvm", "run", "--disk");
	expect_error("option '--drive' needs a value", 3, "btvm", "run", "--drive");
}

static void drive_errors(void **state)
{
	(void)state;
	expect_error("--drive: empty specification (example: --drive file=disk.img,if=ide,index=1)",
		     5, "btvm", "run", "--drive", "", "k.elf");
	expect_error("--drive: 'a.img' is not KEY=VALUE (keys: file, if, index, media, readonly, format)",
		     5, "btvm", "run", "--drive", "a.img,index=1", "k.elf");
	expect_error("--drive: unknown key 'cache' (keys: file, if, index, media, readonly, format)",
		     5, "btvm", "run", "--drive", "file=a.img,cache=none", "k.elf");
	expect_error("--drive: 'index' given twice", 5, "btvm", "run", "--drive", "file=a,index=1,index=2", "k.elf");
	expect_error("--drive: if=virtio is not supported (btvm's drives are IDE: if=ide)",
		     5, "btvm", "run", "--drive", "file=a.img,if=virtio", "k.elf");
	expect_error("--drive: format=qcow2 is not supported (raw images only: format=raw)",
		     5, "btvm", "run", "--drive", "file=a.img,format=qcow2", "k.elf");
	expect_error("--drive: media=floppy is neither disk nor cdrom",
		     5, "btvm", "run", "--drive", "file=a.img,media=floppy", "k.elf");
	expect_error("--drive: readonly=yes is neither on nor off",
		     5, "btvm", "run", "--drive", "file=a.img,readonly=yes", "k.elf");
	expect_error("--drive: readonly=off with media=cdrom (a CD is read-only)",
		     5, "btvm", "run", "--drive", "file=c.iso,media=cdrom,readonly=off", "k.elf");
	expect_error("--drive: file= is empty", 5, "btvm", "run", "--drive", "file=,index=1", "k.elf");
	expect_error("--drive: a disk needs file=FILE (only a CD drive may be empty)",
		     5, "btvm", "run", "--drive", "index=1", "k.elf");
	expect_error("--drive: index=4 is not 0-3 (primary master, primary slave, secondary master, secondary slave)",
		     5, "btvm", "run", "--drive", "file=a.img,index=4", "k.elf");
	expect_error("--drive: index=-1 is not 0-3 (primary master, primary slave, secondary master, secondary slave)",
		     5, "btvm", "run", "--drive", "file=a.img,index=-1", "k.elf");
	expect_error("--drive: index=1x is not 0-3 (primary master, primary slave, secondary master, secondary slave)",
		     5, "btvm", "run", "--drive", "file=a.img,index=1x", "k.elf");
	expect_error("--drive: all four IDE positions are taken",
		     13, "btvm", "run", "--drive", "file=a", "--drive", "file=b", "--drive", "media=cdrom",
		     "--drive", "file=d", "--drive", "file=e", "k.elf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disk_options),
		cmocka_unit_test(drive_options),
		cmocka_unit_test(disk_errors),
		cmocka_unit_test(drive_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
