/* The console's Ctrl-A escape state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "monitor/console_escape.h"

static enum console_action feed(struct console_escape *e, uint8_t b, uint8_t out[2], unsigned *n)
{
	return console_escape_feed(e, b, out, n);
}

static void test_plain_bytes_pass(void **state)
{
	(void)state;
	struct console_escape e = { 0 };
	uint8_t out[2];
	unsigned n;
	assert_int_equal(feed(&e, 'a', out, &n), CONSOLE_PASS);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'a');
	assert_int_equal(feed(&e, 0x03, out, &n), CONSOLE_PASS); /* Ctrl-C goes to the guest */
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0x03);
}

static void test_ctrl_a_x_quits(void **state)
{
	(void)state;
	struct console_escape e = { 0 };
	uint8_t out[2];
	unsigned n;
	assert_int_equal(feed(&e, 0x01, out, &n), CONSOLE_PASS);
	assert_int_equal(n, 0);
	assert_int_equal(feed(&e, 'x', out, &n), CONSOLE_QUIT);
	assert_int_equal(n, 0);
}

static void test_ctrl_a_twice_sends_one(void **state)
{
	(void)state;
	struct console_escape e = { 0 };
	uint8_t out[2];
	unsigned n;
	feed(&e, 0x01, out, &n);
	assert_int_equal(feed(&e, 0x01, out, &n), CONSOLE_PASS);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0x01);
	/* the state is back to normal: 'x' alone is just 'x' */
	assert_int_equal(feed(&e, 'x', out, &n), CONSOLE_PASS);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'x');
}

static void test_ctrl_a_other_passes_both(void **state)
{
	(void)state;
	struct console_escape e = { 0 };
	uint8_t out[2];
	unsigned n;
	feed(&e, 0x01, out, &n);
	assert_int_equal(feed(&e, 'b', out, &n), CONSOLE_PASS);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(out[1], 'b');
	feed(&e, 0x01, out, &n);
	assert_int_equal(feed(&e, 'h', out, &n), CONSOLE_HELP);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes_pass),
		cmocka_unit_test(test_ctrl_a_x_quits),
		cmocka_unit_test(test_ctrl_a_twice_sends_one),
		cmocka_unit_test(test_ctrl_a_other_passes_both),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
