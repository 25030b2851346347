/* --disk and --disk-ro parsing (the image itself is opened and checked by
 * devices/disk_image.c: test_disk_image.c and tests/cli). */
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
	assert_null(cfg.disk_path);
	assert_false(cfg.disk_read_only);

	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--disk", "d.img", "k.elf"), 0);
	assert_string_equal(cfg.disk_path, "d.img");
	assert_false(cfg.disk_read_only);

	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--disk-ro", "d,ro.img", "k.elf"), 0);
	assert_string_equal(cfg.disk_path, "d,ro.img");
	assert_true(cfg.disk_read_only);
}

static void disk_errors(void **state)
{
	(void)state;
	struct vm_config cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 7, "btvm", "run", "--disk", "a.img", "--disk", "b.img", "k.elf"), -1);
	assert_string_equal(err, "--disk: only one disk image (the primary master); 'a.img' and 'b.img' given");
	assert_int_equal(parse(&cfg, err, 7, "btvm", "run", "--disk", "a.img", "--disk-ro", "b.img", "k.elf"), -1);
	assert_non_null(strstr(err, "only one disk image"));
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--disk-ro", "", "k.elf"), -1);
	assert_string_equal(err, "--disk-ro: empty file name");
	assert_int_equal(parse(&cfg, err, 3, "btvm", "run", "--disk"), -1);
	assert_non_null(strstr(err, "needs a value"));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disk_options),
		cmocka_unit_test(disk_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
