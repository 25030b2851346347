/* vga: the VGA in text mode 3, as a kernel written for a PC drives it
 * (registers: IBM VGA/XGA Technical Reference Manual; FreeVGA).
 *   - the text buffer at 0xB8000 with 8/16/32-bit stores and loads, a
 *     screen scrolled by memmove (REP MOVSD) and cleared with REP STOSW;
 *   - the cursor moved through CRTC 0x0E/0x0F (byte and word writes) and
 *     read back, the start address, CR11's write protection of CR00-CR07;
 *   - the 0x3B4/0x3B5 aliases selected by Misc Output bit 0;
 *   - the attribute controller's index/data flip-flop and its reset by
 *     reading Input Status 1, sequencer and graphics registers with their
 *     reserved bits, the DAC's indices and 6-bit data;
 *   - Input Status 1's retrace bit changing under a polling loop.
 * Only values the guest wrote (and the mode 3 values every VGA BIOS sets)
 * are printed: QEMU's BIOS leaves its own banner and cursor on the screen.
 * The final screen is the guest's alone: run-guest.sh compares btvm's
 * --display file: capture with expected/vga.screen.
 *
 * With "hold" on the command line (btvm --append hold) the guest does not
 * exit: after its checks it counts on the status line for ever, moving
 * the cursor along, for watching --display curses or a --display file:
 * being rewritten (tests/display/check_display.sh); --timeout ends it. */
#include "guest.h"

#define TEXT ((volatile uint16_t *)0xB8000)
#define COLS 80
#define ROWS 25
#define CELL(r, c) TEXT[(r) * COLS + (c)]

static uint8_t crtc_read(uint8_t i)
{
	outb(0x3D4, i);
	return inb(0x3D5);
}

static void crtc_write(uint8_t i, uint8_t v)
{
	outb(0x3D4, i);
	outb(0x3D5, v);
}

static uint8_t attr_read(uint8_t i)
{
	inb(0x3DA);            /* flip-flop to "index" */
	outb(0x3C0, i);
	uint8_t v = inb(0x3C1);
	inb(0x3DA);
	outb(0x3C0, 0x20);     /* palette address source: the display runs */
	return v;
}

static void attr_write(uint8_t i, uint8_t v)
{
	inb(0x3DA);
	outb(0x3C0, i);
	outb(0x3C0, v);
	outb(0x3C0, 0x20);
}

static void put_str(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	for (; *s && col < COLS; s++, col++)
		CELL(row, col) = (uint16_t)((uint8_t)*s | attr << 8);
}

static void put_2digits(unsigned row, unsigned col, unsigned v, uint8_t attr)
{
	char s[3] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10), 0 };
	put_str(row, col, s, attr);
}

static void clear_row(unsigned row)
{
	volatile uint16_t *p = &CELL(row, 0);
	uint32_t n = COLS;
	__asm__ volatile("rep stosw" : "+D"(p), "+c"(n) : "a"(0x0720) : "memory");
}

/* Scroll rows 1..24 up by one: 24 * 160 bytes with REP MOVSD. */
static void scroll_up(void)
{
	volatile uint16_t *d = &CELL(0, 0), *s = &CELL(1, 0);
	uint32_t n = (ROWS - 1) * COLS * 2 / 4;
	__asm__ volatile("cld; rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	clear_row(ROWS - 1);
}

static uint32_t drawn_hash;

static uint32_t screen_hash(void)
{
	uint32_t h = 2166136261u;   /* FNV-1a over the 4000 bytes, byte loads */
	const volatile uint8_t *p = (const volatile uint8_t *)0xB8000;
	for (unsigned i = 0; i < ROWS * COLS * 2; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void print_row(unsigned row)
{
	char s[COLS + 1];
	unsigned n = 0;
	for (unsigned c = 0; c < COLS; c++)
		s[c] = (char)(CELL(row, c) & 0xFF);
	for (n = COLS; n > 0 && s[n - 1] == ' '; n--)
		;
	s[n] = 0;
	printf("row %u: \"%s\"\n", row, s);
}

static void test_memory(void)
{
	volatile uint8_t *b = (volatile uint8_t *)0xB8000;
	volatile uint32_t *l = (volatile uint32_t *)0xB8000;
	for (unsigned r = 0; r < ROWS; r++)
		clear_row(r);
	CHECK_EQ(CELL(12, 40), 0x0720, "REP STOSW filled the screen with blank cells");
	b[0] = 'A';
	b[1] = 0x1E;
	CHECK_EQ(TEXT[0], 0x1E41, "two byte stores read back as one cell");
	TEXT[1] = 0x2F42;
	CHECK_EQ(b[2] | b[3] << 8, 0x2F42, "a word store reads back as two bytes");
	l[1] = 0x4E444C43;   /* cells 2, 3: 'C' on 0x4C, 'D' on 0x4E */
	CHECK_EQ(TEXT[2], 0x4C43, "a dword store is two cells (first)");
	CHECK_EQ(TEXT[3], 0x4E44, "a dword store is two cells (second)");
	CHECK_EQ(l[0], 0x2F421E41, "a dword load spans two cells");
	/* the last cell of the 32 KiB window */
	volatile uint16_t *last = (volatile uint16_t *)(0xB8000 + 0x8000 - 2);
	*last = 0x075A;
	CHECK_EQ(*last, 0x075A, "the last cell of the 32 KiB window at 0xBFFFE keeps its value");
	*last = 0x0720;
}

/* 30 numbered lines on a 25-row screen: the first five scroll away. */
static void test_scroll(void)
{
	for (unsigned r = 0; r < ROWS; r++)
		clear_row(r);
	unsigned row = 0;
	for (unsigned i = 0; i < 30; i++) {
		if (row == ROWS - 1) {
			scroll_up();
			row = ROWS - 2;
		}
		uint8_t attr = (uint8_t)((i % 7 + 1) << 4 | (15 - i % 8));
		put_str(row, 0, "line", attr);
		put_2digits(row, 5, i, attr);
		put_str(row, 8, i % 3 ? "scrolled by REP MOVSD" : "written by word stores", 0x07);
		put_str(row, 40 + i % 20, "*", 0x0C);
		row++;
	}
	print_row(0);
	print_row(23);
	CHECK_EQ(CELL(0, 5), (uint16_t)('0' | ((6 % 7 + 1) << 4 | (15 - 6 % 8)) << 8),
		 "row 0 holds line 06 with its attribute after 6 scrolls");
	CHECK_EQ(CELL(23, 6), (uint16_t)('9' | ((29 % 7 + 1) << 4 | (15 - 29 % 8)) << 8),
		 "row 23 holds line 29");
	put_str(24, 0, "btvm vga guest test: the cursor is here ->", 0x70);
	CHECK_EQ(CELL(24, 0), 0x7062, "row 24: the status line in black on grey");
	/* code page 437: box drawing, shades, block, pound, sharp s */
	put_str(24, 60, "\xC9\xCD\xBB \xB0\xB1\xB2\xDB \x9C\xE1", 0x4E);
	drawn_hash = screen_hash();
	printf("screen hash %08x\n", drawn_hash);
}

static void test_crtc(void)
{
	/* cursor after the status line: row 24, column 43 */
	unsigned pos = 24 * COLS + 43;
	crtc_write(0x0E, (uint8_t)(pos >> 8));
	crtc_write(0x0F, (uint8_t)pos);
	unsigned got = (unsigned)crtc_read(0x0E) << 8 | crtc_read(0x0F);
	printf("cursor at row %u column %u\n", got / COLS, got % COLS);
	CHECK_EQ(got, pos, "CRTC 0x0E/0x0F read back the cursor location");
	outw(0x3D4, 0x0F | 0x12 << 8);   /* index and data in one OUT */
	CHECK_EQ(crtc_read(0x0F), 0x12, "a word OUT to 0x3D4 writes index and data");
	CHECK_EQ(inb(0x3D4), 0x0F, "the CRTC index reads back");
	crtc_write(0x0F, (uint8_t)pos);

	crtc_write(0x0C, 0x12);
	crtc_write(0x0D, 0x34);
	CHECK_EQ(crtc_read(0x0C) << 8 | crtc_read(0x0D), 0x1234, "start address CR0C/CR0D reads back");
	crtc_write(0x0C, 0);
	crtc_write(0x0D, 0);
	crtc_write(0x0A, 0x0E);          /* cursor lines 14-15, on */
	crtc_write(0x0B, 0x0F);
	CHECK_EQ(crtc_read(0x0A), 0x0E, "cursor start CR0A reads back");

	CHECK_EQ(crtc_read(0x01), 0x4F, "mode 3: CR01 horizontal display end is 79 (80 columns)");
	CHECK_EQ(crtc_read(0x11) & 0x80, 0x80, "mode 3: CR11 protects CR00-CR07");
	uint8_t cr11 = crtc_read(0x11), cr02 = crtc_read(0x02);
	crtc_write(0x11, cr11 & 0x7F);
	crtc_write(0x02, 0x51);
	crtc_write(0x11, cr11);
	crtc_write(0x02, 0x52);
	CHECK_EQ(crtc_read(0x02), 0x51, "CR02 ignores a write while CR11 bit 7 is set");
	crtc_write(0x11, cr11 & 0x7F);
	crtc_write(0x02, cr02);
	crtc_write(0x11, cr11);
}

static void test_mono_alias(void)
{
	uint8_t misc = inb(0x3CC);
	CHECK_EQ(misc, 0x67, "mode 3: Misc Output reads 0x67 (colour I/O at 0x3Dx)");
	crtc_write(0x0E, 0x07);
	outb(0x3C2, misc & 0xFE);
	CHECK_EQ(inb(0x3CC), misc & 0xFE, "Misc Output write at 0x3C2 reads back at 0x3CC");
	outb(0x3B4, 0x0E);
	CHECK_EQ(inb(0x3B5), 0x07, "I/O address select 0: the CRTC answers at 0x3B4/0x3B5");
	CHECK_EQ(inb(0x3D5), 0xFF, "... and 0x3D5 is not decoded");
	outb(0x3B4, 0x0E);
	outb(0x3B5, 0x03);
	outb(0x3C2, misc);
	CHECK_EQ(crtc_read(0x0E), 0x03, "a write through 0x3B5 reached the same CRTC");
	CHECK_EQ(inb(0x3B5), 0xFF, "I/O address select 1: 0x3B5 is not decoded");
	crtc_write(0x0E, (24 * COLS + 43) >> 8);
}

static void test_attribute(void)
{
	CHECK_EQ(attr_read(0x30), 0x0C, "mode 3: AR10 mode control is 0x0C (blink, line graphics)");
	CHECK_EQ(attr_read(0x32), 0x0F, "mode 3: AR12 enables the four colour planes");
	inb(0x3DA);
	outb(0x3C0, 0x31);               /* index: overscan */
	outb(0x3C0, 0x2A);               /* data */
	CHECK_EQ(inb(0x3C1), 0x2A, "AR11 overscan reads back through 0x3C1");
	CHECK_EQ(inb(0x3C0), 0x31, "after index and data the flip-flop is back on index");
	outb(0x3C0, 0x31);               /* index again, flip-flop now on data */
	inb(0x3DA);                      /* reset: the next write is an index */
	outb(0x3C0, 0x33);               /* AR13 horizontal panning */
	outb(0x3C0, 0x08);
	CHECK_EQ(attr_read(0x31), 0x2A, "reading Input Status 1 reset the flip-flop (AR11 kept)");
	CHECK_EQ(attr_read(0x33), 0x08, "... and the write after it was an index (AR13 = 8)");
	attr_write(0x31, 0x00);
	CHECK_EQ(attr_read(0x34) & 0x0F, 0, "AR14 colour select is 0");
	/* a palette register, written with the palette address source clear */
	inb(0x3DA);
	outb(0x3C0, 0x05);
	uint8_t pal5 = inb(0x3C1);
	outb(0x3C0, 0x3F);
	CHECK_EQ(inb(0x3C1), 0x3F, "AR05 palette register takes a 6-bit value");
	outb(0x3C0, 0x05);
	outb(0x3C0, pal5);
	outb(0x3C0, 0x20);
}

static void test_seq_gc(void)
{
	outb(0x3C4, 0x04);
	CHECK_EQ(inb(0x3C5), 0x02, "mode 3: SR04 memory mode is 0x02 (odd/even)");
	outb(0x3C4, 0x03);
	outb(0x3C5, 0xFF);
	CHECK_EQ(inb(0x3C5), 0x3F, "SR03 character map select keeps 6 bits");
	outb(0x3C5, 0x00);
	CHECK_EQ(inb(0x3C4), 0x03, "the sequencer index reads back");
	outb(0x3CE, 0x06);
	CHECK_EQ(inb(0x3CF), 0x0E, "mode 3: GR06 maps the text buffer at 0xB8000 (0x0E)");
	outw(0x3CE, 0x08 | 0x5A << 8);
	CHECK_EQ(inb(0x3CF), 0x5A, "GR08 bit mask reads back after a word OUT");
	outw(0x3CE, 0x08 | 0xFF << 8);
	outb(0x3CE, 0x00);
	outb(0x3CF, 0xFF);
	CHECK_EQ(inb(0x3CF), 0x0F, "GR00 set/reset keeps 4 bits");
	outb(0x3CF, 0x00);
}

static void test_dac(void)
{
	static const uint8_t rgb[6] = { 0x01, 0x12, 0x23, 0x34, 0x05, 0x3F };
	outb(0x3C8, 0x40);
	CHECK_EQ(inb(0x3C7) & 3, 0, "DAC state: write mode after a write index");
	for (unsigned i = 0; i < 6; i++)
		outb(0x3C9, rgb[i]);
	CHECK_EQ(inb(0x3C8), 0x42, "the DAC write index moved on by one per red-green-blue");
	outb(0x3C7, 0x40);
	CHECK_EQ(inb(0x3C7) & 3, 3, "DAC state: read mode after a read index");
	unsigned same = 0;
	for (unsigned i = 0; i < 6; i++)
		same += inb(0x3C9) == rgb[i];
	CHECK_EQ(same, 6, "DAC entries 0x40-0x41 read back");
}

static void test_retrace(void)
{
	unsigned on = 0, off = 0;
	for (unsigned i = 0; i < 1000000 && !(on && off); i++) {
		if (inb(0x3DA) & 0x08)
			on++;
		else
			off++;
	}
	CHECK(on && off, "Input Status 1 bit 3 (vertical retrace) changes under a polling loop");
	unsigned n = 0;
	while (!(inb(0x3DA) & 0x08) && n < 1000000)
		n++;
	while ((inb(0x3DA) & 0x08) && n < 1000000)
		n++;
	CHECK(n < 1000000, "a wait for the start and the end of vertical retrace ends");
}

static int cmdline_has(const char *word)
{
	if (!boot_info || !(boot_info->flags & (1u << 2)))
		return 0;
	const char *c = (const char *)(uintptr_t)boot_info->cmdline;
	for (; *c; c++) {
		unsigned i = 0;
		while (word[i] && c[i] == word[i])
			i++;
		if (!word[i] && (c[i] == 0 || c[i] == ' ') && (c == (const char *)(uintptr_t)boot_info->cmdline || c[-1] == ' '))
			return 1;
	}
	return 0;
}

/* "hold": a counter after the status line, the cursor after it. */
static void NORETURN hold(void)
{
	test_summary();
	printf("holding: the screen stays until btvm stops (--timeout)\n");
	for (uint32_t n = 0;; n++) {
		char digits[11];
		unsigned k = 0;
		uint32_t v = n;
		do {
			digits[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		char s[12];
		for (unsigned i = 0; i < k; i++)
			s[i] = digits[k - 1 - i];
		s[k] = 0;
		put_str(24, 44, s, 0x0A);
		unsigned pos = 24 * COLS + 44 + k;
		crtc_write(0x0E, (uint8_t)(pos >> 8));
		crtc_write(0x0F, (uint8_t)pos);
		for (unsigned i = 0; i < 200000; i++)
			inb(0x3DA);
	}
}

void main(void)
{
	printf("vga: text mode 3 registers and the 0xB8000 text buffer\n");
	test_memory();
	test_scroll();
	test_crtc();
	test_mono_alias();
	test_attribute();
	test_seq_gc();
	test_dac();
	test_retrace();
	CHECK_EQ(screen_hash(), drawn_hash, "the register tests left the text buffer as drawn");
	if (cmdline_has("hold"))
		hold();
}
