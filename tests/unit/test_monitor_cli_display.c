/* --display parsing (monitor/cli.c); opening the file and taking the
 * terminal are checked through the binary (tests/cli, check-display.sh). */
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

static void display_options(void **state)
{
	(void)state;
	struct vm_config cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 3, "btvm", "run", "k.elf"), 0);
	assert_int_equal(cfg.display, DISPLAY_NONE);
	assert_null(cfg.display_path);
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "none", "k.elf"), 0);
	assert_int_equal(cfg.display, DISPLAY_NONE);
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "file:/tmp/s:1.txt", "k.elf"), 0);
	assert_int_equal(cfg.display, DISPLAY_FILE);
	assert_string_equal(cfg.display_path, "/tmp/s:1.txt");
	/* curses with COM1 somewhere else than the terminal, in either order */
	assert_int_equal(parse(&cfg, err, 7, "btvm", "run", "--display", "curses", "--serial", "none", "k.elf"), 0);
	assert_int_equal(cfg.display, DISPLAY_CURSES);
	assert_int_equal(parse(&cfg, err, 6, "btvm", "run", "--serial", "file:c.txt", "--display=curses", "k.elf"),
			 0);
	assert_int_equal(cfg.display, DISPLAY_CURSES);
	/* the last one wins, as for --serial */
	assert_int_equal(parse(&cfg, err, 7, "btvm", "run", "--display", "file:a", "--display", "none", "k.elf"), 0);
	assert_int_equal(cfg.display, DISPLAY_NONE);
}

static void display_errors(void **state)
{
	(void)state;
	struct vm_config cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "sdl", "k.elf"), -1);
	assert_string_equal(err, "--display: 'sdl' is not none, curses or file:PATH");
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "file:", "k.elf"), -1);
	assert_string_equal(err, "--display: 'file:' is not none, curses or file:PATH");
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "", "k.elf"), -1);
	assert_int_equal(parse(&cfg, err, 5, "btvm", "run", "--display", "curses", "k.elf"), -1);
	assert_non_null(strstr(err, "--display curses takes the terminal"));
	assert_non_null(strstr(err, "--serial none or --serial file:PATH"));
	assert_int_equal(parse(&cfg, err, 7, "btvm", "run", "--serial", "stdio", "--display", "curses", "k.elf"), -1);
	assert_int_equal(parse(&cfg, err, 4, "btvm", "probe", "--display", "file:x"), -1);
	assert_string_equal(err, "--display goes with 'btvm run'");
	assert_int_equal(parse(&cfg, err, 3, "btvm", "run", "--display"), -1);
	assert_non_null(strstr(err, "needs a value"));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(display_options),
		cmocka_unit_test(display_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
