/* The VGA registers through the port bus, and the text screen as the
 * renderers read it (devices/vga.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/io_bus.h"
#include "devices/vga.h"

static struct io_bus BUS;
static struct vga VGA;
static uint8_t RAM[0xC0000];
static struct phys_mem MEM = { RAM, sizeof(RAM) };
static struct vga_screen SCR;

static void outb(uint16_t port, uint8_t v) { io_bus_access(&BUS, port, &v, 1, true); }
static void outw(uint16_t port, uint16_t v)
{
	uint8_t d[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	io_bus_access(&BUS, port, d, 2, true);
}
static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;
	io_bus_access(&BUS, port, &v, 1, false);
	return v;
}
static uint8_t crtc(uint8_t i) { outb(0x3D4, i); return inb(0x3D5); }
static void set_crtc(uint8_t i, uint8_t v) { outb(0x3D4, i); outb(0x3D5, v); }

static int setup(void **state)
{
	(void)state;
	io_bus_init(&BUS, "pio");
	vga_init(&VGA);
	assert_int_equal(vga_register(&VGA, &BUS), 0);
	memset(RAM, 0xAA, sizeof(RAM));
	assert_true(vga_text_clear(&MEM));
	return 0;
}

static void mode3_reset_state(void **state)
{
	(void)state;
	assert_int_equal(inb(0x3CC), 0x67);
	assert_int_equal(crtc(0x01), 0x4F);
	assert_int_equal(crtc(0x0A), 0x0E);
	assert_int_equal(crtc(0x0B), 0x0F);
	for (uint8_t i = 0x0C; i <= 0x0F; i++)
		assert_int_equal(crtc(i), 0);
	outb(0x3CE, 6);
	assert_int_equal(inb(0x3CF), 0x0E);
	outb(0x3C4, 4);
	assert_int_equal(inb(0x3C5), 0x02);
	inb(0x3DA);
	outb(0x3C0, 0x30);
	assert_int_equal(inb(0x3C1), 0x0C);
	/* text memory: blank cells, and nothing else touched */
	assert_int_equal(RAM[0xB8000], ' ');
	assert_int_equal(RAM[0xB8001], 0x07);
	assert_int_equal(RAM[0xBFFFE], ' ');
	assert_int_equal(RAM[0xB7FFF], 0xAA);
	assert_int_equal(RAM[0xC0000 - 1], 0x07);
	/* DAC entry 0x14 (brown) and 0x3F (white) of the EGA palette */
	outb(0x3C7, 0x14);
	assert_int_equal(inb(0x3C9), 0x2A);
	assert_int_equal(inb(0x3C9), 0x15);
	assert_int_equal(inb(0x3C9), 0x00);
	outb(0x3C7, 0x3F);
	assert_int_equal(inb(0x3C9), 0x3F);
}

static void crtc_cursor_and_protect(void **state)
{
	(void)state;
	outw(0x3D4, 0x0E | 0x01 << 8);   /* index and data in one word write */
	outw(0x3D4, 0x0F | 0x23 << 8);
	assert_int_equal(crtc(0x0E), 0x01);
	assert_int_equal(crtc(0x0F), 0x23);
	assert_int_equal(inb(0x3D4), 0x0F);
	/* CR11 bit 7 protects CR00-CR07, but CR07 bit 4 stays writable */
	set_crtc(0x02, 0x11);
	assert_int_equal(crtc(0x02), 0x50);
	set_crtc(0x07, 0x00);
	assert_int_equal(crtc(0x07), 0x0F);
	set_crtc(0x11, 0x0E);
	set_crtc(0x02, 0x11);
	assert_int_equal(crtc(0x02), 0x11);
	/* beyond CR18: nothing */
	set_crtc(0x40, 0x55);
	assert_int_equal(crtc(0x40), 0x00);
}

static void mono_alias(void **state)
{
	(void)state;
	set_crtc(0x0F, 0x42);
	assert_int_equal(inb(0x3B5), 0xFF);   /* colour: 0x3Bx not decoded */
	outb(0x3C2, 0x66);                      /* I/O address select = 0x3Bx */
	assert_int_equal(inb(0x3CC), 0x66);
	outb(0x3B4, 0x0F);
	assert_int_equal(inb(0x3B5), 0x42);
	assert_int_equal(inb(0x3D5), 0xFF);
	outb(0x3D5, 0x00);                      /* ignored */
	uint8_t a = inb(0x3BA), b = inb(0x3BA);
	assert_int_equal((a ^ b) & 0x08, 0x08);
	assert_int_equal(inb(0x3DA), 0xFF);
	outb(0x3C2, 0xFF);                      /* bit 4 reserved */
	assert_int_equal(inb(0x3CC), 0xEF);
	assert_int_equal(crtc(0x0F), 0x42);
}

static void attribute_flip_flop(void **state)
{
	(void)state;
	inb(0x3DA);
	outb(0x3C0, 0x31);       /* index: overscan, PAS set */
	outb(0x3C0, 0x15);       /* data */
	assert_int_equal(inb(0x3C1), 0x15);
	assert_int_equal(inb(0x3C0), 0x31);
	outb(0x3C0, 0x32);       /* index again: the flip-flop went back */
	inb(0x3DA);              /* ...and reading IS1 resets it anyway */
	outb(0x3C0, 0x33);       /* index: panning */
	outb(0x3C0, 0xFF);
	assert_int_equal(inb(0x3C1), 0x0F);
	outb(0x3C0, 0x01);       /* palette register 1, PAS clear */
	outb(0x3C0, 0xFF);
	assert_int_equal(inb(0x3C1), 0x3F);
	outb(0x3C0, 0x10);
	outb(0x3C0, 0xFF);
	assert_int_equal(inb(0x3C1), 0xEF);
}

static void sequencer_graphics_masks(void **state)
{
	(void)state;
	outb(0x3C4, 0xF9);
	assert_int_equal(inb(0x3C4), 0x01);
	outb(0x3C5, 0xFF);
	assert_int_equal(inb(0x3C5), 0x3D);
	outw(0x3CE, 0x08 | 0x5A << 8);
	assert_int_equal(inb(0x3CF), 0x5A);
	outw(0x3CE, 0x05 | 0xFF << 8);
	assert_int_equal(inb(0x3CF), 0x7B);
	outb(0x3CE, 0x0C);
	assert_int_equal(inb(0x3CF), 0x00);
}

static void dac_indices(void **state)
{
	(void)state;
	outb(0x3C8, 0x10);
	assert_int_equal(inb(0x3C7), 0);
	for (uint8_t i = 1; i <= 6; i++)
		outb(0x3C9, i | 0xC0);   /* 6-bit DAC */
	assert_int_equal(inb(0x3C8), 0x12);
	outb(0x3C7, 0x10);
	assert_int_equal(inb(0x3C7), 3);
	for (uint8_t i = 1; i <= 6; i++)
		assert_int_equal(inb(0x3C9), i);
	outb(0x3C6, 0x0F);
	assert_int_equal(inb(0x3C6), 0x0F);
}

static void retrace_toggles(void **state)
{
	(void)state;
	unsigned seen_on = 0, seen_off = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t s = inb(0x3DA);
		if (s & 0x08)
			seen_on++;
		else
			seen_off++;
		assert_int_equal(s & 0xF6, 0);
	}
	assert_int_equal(seen_on, 2);
	assert_int_equal(seen_off, 2);
}

static void word_access_past_range(void **state)
{
	(void)state;
	uint8_t d[2] = { 0, 0 };
	io_bus_access(&BUS, 0x3D5, d, 2, false);
	assert_int_equal(d[1], 0xFF);
}

static void put(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	for (unsigned i = 0; s[i]; i++) {
		unsigned a = 0xB8000 + (row * 80 + col + i) * 2;
		RAM[a] = (uint8_t)s[i];
		RAM[a + 1] = attr;
	}
}

static void screen_geometry_and_cells(void **state)
{
	(void)state;
	put(0, 0, "top", 0x1F);
	put(24, 77, "end", 0x70);
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_true(SCR.text);
	assert_int_equal(SCR.cols, 80);
	assert_int_equal(SCR.rows, 25);
	assert_int_equal(SCR.cell[0][0], 't' | 0x1F << 8);
	assert_int_equal(SCR.cell[24][79], 'd' | 0x70 << 8);
	assert_int_equal(SCR.cell[1][0], ' ' | 0x07 << 8);
	assert_true(SCR.cursor_on);
	assert_int_equal(SCR.cursor_row, 0);
	assert_int_equal(SCR.cursor_col, 0);
	assert_true(SCR.blink);            /* AR10 = 0x0C: blink on in mode 3 */
	/* colour 6 is brown (palette 0x14), 15 white */
	assert_memory_equal(SCR.rgb[6], ((uint8_t[]){ 0x2A, 0x15, 0x00 }), 3);
	assert_memory_equal(SCR.rgb[15], ((uint8_t[]){ 0x3F, 0x3F, 0x3F }), 3);
}

static void screen_start_cursor_split(void **state)
{
	(void)state;
	put(1, 0, "second", 0x07);
	set_crtc(0x0C, 0);
	set_crtc(0x0D, 80);               /* start at row 1 */
	set_crtc(0x0E, (80 + 3 * 80 + 5) >> 8);
	set_crtc(0x0F, (80 + 3 * 80 + 5) & 0xFF);
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_int_equal(SCR.cell[0][0] & 0xFF, 's');
	assert_int_equal(SCR.cursor_row, 3);
	assert_int_equal(SCR.cursor_col, 5);
	/* cursor before the start address, or switched off: none */
	set_crtc(0x0C, 0x02);
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_false(SCR.cursor_on);
	set_crtc(0x0C, 0);
	set_crtc(0x0A, 0x2E);
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_false(SCR.cursor_on);
	set_crtc(0x0A, 0x10);             /* start line 16 > end line 15 */
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_false(SCR.cursor_on);
	/* line compare 32 (two rows of 16 lines): row 2 restarts at 0 */
	set_crtc(0x0D, 0);
	put(0, 0, "zero", 0x07);
	set_crtc(0x18, 31);
	set_crtc(0x09, 0x0F);             /* clear bit 9 of line compare */
	set_crtc(0x11, 0x0E);
	set_crtc(0x07, 0x0F & ~0x10);     /* and bit 8 */
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_int_equal(SCR.cell[0][0] & 0xFF, 'z');
	assert_int_equal(SCR.cell[1][0] & 0xFF, 's');
	assert_int_equal(SCR.cell[2][0] & 0xFF, 'z');
	assert_int_equal(SCR.cell[3][0] & 0xFF, 's');
}

static void screen_80x50_and_graphics(void **state)
{
	(void)state;
	set_crtc(0x09, 0x47);             /* 8-line cells: 50 rows */
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_int_equal(SCR.rows, 50);
	inb(0x3DA);
	outb(0x3C0, 0x30);
	outb(0x3C0, 0x04);                /* blink off: bit 7 is a bright background */
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_false(SCR.blink);
	outw(0x3CE, 0x06 | 0x05 << 8);    /* graphics, 0xA0000 */
	vga_screen_read(&VGA, &MEM, &SCR);
	assert_false(SCR.text);
	assert_int_equal(SCR.rows, 0);
}

static void screen_without_ram(void **state)
{
	(void)state;
	struct phys_mem small = { RAM, 0xB9000 };
	assert_false(vga_text_clear(&small));
	vga_screen_read(&VGA, &small, &SCR);
	assert_true(SCR.text);
	assert_int_equal(SCR.cell[0][0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(mode3_reset_state, setup),
		cmocka_unit_test_setup(crtc_cursor_and_protect, setup),
		cmocka_unit_test_setup(mono_alias, setup),
		cmocka_unit_test_setup(attribute_flip_flop, setup),
		cmocka_unit_test_setup(sequencer_graphics_masks, setup),
		cmocka_unit_test_setup(dac_indices, setup),
		cmocka_unit_test_setup(retrace_toggles, setup),
		cmocka_unit_test_setup(word_access_past_range, setup),
		cmocka_unit_test_setup(screen_geometry_and_cells, setup),
		cmocka_unit_test_setup(screen_start_cursor_split, setup),
		cmocka_unit_test_setup(screen_80x50_and_graphics, setup),
		cmocka_unit_test_setup(screen_without_ram, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
