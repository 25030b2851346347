/* The display's renderers (monitor/display_text.c, display_ansi.c) on
 * screens read from a VGA (devices/vga.h) over a RAM buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "devices/vga.h"
#include "monitor/display.h"

static uint8_t RAM[0xC0000];
static struct phys_mem MEM = { RAM, sizeof(RAM) };
static struct vga VGA;
static struct vga_screen SCR;
static struct ansi_frame FRAME;
static char OUT[DISPLAY_ANSI_MAX];

static void put(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	for (unsigned i = 0; s[i]; i++) {
		unsigned a = 0xB8000 + (row * 80 + col + i) * 2;
		RAM[a] = (uint8_t)s[i];
		RAM[a + 1] = attr;
	}
}

static void set_crtc(uint8_t i, uint8_t v) { VGA.cr[i] = v; }

static int setup(void **state)
{
	(void)state;
	memset(RAM, 0, sizeof(RAM));
	vga_init(&VGA);
	assert_true(vga_text_clear(&MEM));
	memset(&FRAME, 0, sizeof(FRAME));
	return 0;
}

static void cp437(void **state)
{
	(void)state;
	char u[3];
	assert_int_equal(cp437_utf8('A', u), 1);
	assert_int_equal(u[0], 'A');
	assert_int_equal(cp437_utf8(0, u), 1);
	assert_int_equal(u[0], ' ');
	assert_int_equal(cp437_utf8(0x1B, u), 3);            /* ESC is an arrow glyph, never a control */
	assert_memory_equal(u, "\xe2\x86\x90", 3);           /* U+2190 */
	assert_int_equal(cp437_utf8(0x9C, u), 2);
	assert_memory_equal(u, "\xc2\xa3", 2);               /* U+00A3 pound */
	assert_int_equal(cp437_utf8(0xC9, u), 3);
	assert_memory_equal(u, "\xe2\x95\x94", 3);           /* U+2554 box */
	assert_int_equal(cp437_utf8(0xFF, u), 2);
	assert_memory_equal(u, "\xc2\xa0", 2);               /* no-break space */
	/* no byte becomes a C0 or C1 control or DEL */
	for (unsigned c = 0; c < 256; c++) {
		unsigned n = cp437_utf8((uint8_t)c, u);
		unsigned char b0 = (unsigned char)u[0];
		assert_true(b0 >= 0x20 && b0 != 0x7F);
		if (n == 2)
			assert_false(b0 == 0xC2 && (unsigned char)u[1] < 0xA0);
	}
}

static void text_format(void **state)
{
	(void)state;
	put(0, 0, "hello  ", 0x07);
	put(3, 78, "\xB0\xDB", 0x1F);
	RAM[0xB8000 + (5 * 80 + 10) * 2] = 0;               /* NUL shows as a space */
	put(5, 11, "x", 0x07);
	set_crtc(0x0E, (5 * 80 + 12) >> 8);
	set_crtc(0x0F, (5 * 80 + 12) & 0xFF);
	vga_screen_read(&VGA, &MEM, &SCR);
	static char buf[DISPLAY_TEXT_MAX];
	size_t n = display_text_format(&SCR, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	const char *want = "hello\n\n\n"
			   "                                                                              \xe2\x96\x91\xe2\x96\x88\n"
			   "\n"
			   "           x\n";
	assert_memory_equal(buf, want, strlen(want));
	unsigned lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 26);
	assert_non_null(strstr(buf, "\n\ncursor: row 5 column 12\n"));
	/* cursor off */
	set_crtc(0x0A, 0x20);
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_text_format(&SCR, buf, sizeof(buf));
	assert_string_equal(buf + n - strlen("cursor: off\n"), "cursor: off\n");
	/* too small a buffer: cut, still a string */
	n = display_text_format(&SCR, buf, 4);
	assert_true(n <= 3);
	assert_int_equal(buf[n], '\0');
	/* graphics */
	VGA.gr[6] |= 1;
	vga_screen_read(&VGA, &MEM, &SCR);
	display_text_format(&SCR, buf, sizeof(buf));
	assert_string_equal(buf, "(the VGA is in a graphics mode: not shown)\n");
}

static void ansi_diff(void **state)
{
	(void)state;
	put(2, 4, "ab", 0x1E);          /* yellow on blue */
	vga_screen_read(&VGA, &MEM, &SCR);
	size_t n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_non_null(strstr(OUT, "\033[2J"));
	assert_non_null(strstr(OUT, "\033[0;93;44mab"));   /* 14 yellow = bright ANSI 3, 1 blue = ANSI 4 */
	assert_non_null(strstr(OUT, "\033[1;1H\033[?25h"));
	/* nothing changed: nothing to send */
	assert_int_equal(display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT)), 0);
	/* one cell: its position, colour, character, and the cursor back */
	put(7, 9, "Z", 0xC7);           /* blink bit with blink on: grey on red, blinking */
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_string_equal(OUT, "\033[8;10H\033[0;37;41;5mZ\033[0m\033[1;1H\033[?25h");
	/* the cursor alone */
	set_crtc(0x0F, 81);
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_string_equal(OUT, "\033[2;2H\033[?25h");
	/* blink off: bit 7 is a bright background (AR10 bit 3) -> full redraw */
	VGA.ar[0x10] &= ~0x08;
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_non_null(strstr(OUT, "\033[2J"));
	assert_non_null(strstr(OUT, "\033[0;37;101mZ"));
	/* a guest ESC byte is drawn as a glyph, never sent as ESC */
	put(9, 0, "\x1b[2J", 0x07);
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_non_null(strstr(OUT, "\xe2\x86\x90[2J"));
}

static void ansi_small_terminal_and_palette(void **state)
{
	(void)state;
	put(24, 0, "last", 0x07);
	put(0, 79, "R", 0x07);
	vga_screen_read(&VGA, &MEM, &SCR);
	size_t n = display_ansi_render(&SCR, &FRAME, 24, 79, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_null(strstr(OUT, "last"));
	assert_null(strstr(OUT, "R"));
	assert_null(strstr(OUT, "\033[25;"));
	/* a DAC change the palette shows: colour 1 made bright red */
	VGA.palette[1][0] = 0x3F;
	VGA.palette[1][1] = 0x10;
	VGA.palette[1][2] = 0x10;
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_int_equal(display_nearest_cga(SCR.rgb[1]), 12);
	/* too small a buffer: nothing sent, and a full redraw next time */
	assert_int_equal(display_ansi_render(&SCR, &FRAME, 25, 80, OUT, 16), 0);
	assert_false(FRAME.valid);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_non_null(strstr(OUT, "\033[2J"));
	/* graphics mode: one line, once */
	VGA.ar[0x10] |= 1;
	vga_screen_read(&VGA, &MEM, &SCR);
	n = display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT));
	OUT[n] = 0;
	assert_non_null(strstr(OUT, "graphics mode"));
	assert_int_equal(display_ansi_render(&SCR, &FRAME, 25, 80, OUT, sizeof(OUT)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(cp437, setup),
		cmocka_unit_test_setup(text_format, setup),
		cmocka_unit_test_setup(ansi_diff, setup),
		cmocka_unit_test_setup(ansi_small_terminal_and_palette, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
