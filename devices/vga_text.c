/* What the VGA's text screen shows (devices/vga.h, vga_screen_read): the
 * CRT controller's view of display memory, read from the guest RAM at
 * 0xB8000.  Register meanings: IBM VGA/XGA Technical Reference Manual, CRT
 * controller and attribute controller registers; FreeVGA, "CRTC
 * Registers" (display end, maximum scan line, offset, start address,
 * cursor, line compare) and "Attribute Controller Registers". */
#include "devices/vga.h"
#include <string.h>

#define TEXT_CELLS (VGA_TEXT_SIZE / 2)  /* the CPU's 32 KiB window, in cells */

static unsigned vertical_display_end(const struct vga *v)
{
	/* CR12 bits 7-0, CR07 bit 1 -> bit 8, CR07 bit 6 -> bit 9 */
	const uint8_t ov = v->cr[VGA_CR_OVERFLOW];
	return v->cr[VGA_CR_V_DISP_END] | ((ov & 0x02u) << 7) | ((ov & 0x40u) << 3);
}

static unsigned line_compare(const struct vga *v)
{
	/* CR18 bits 7-0, CR07 bit 4 -> bit 8, CR09 bit 6 -> bit 9 */
	return v->cr[VGA_CR_LINE_COMPARE] | ((v->cr[VGA_CR_OVERFLOW] & 0x10u) << 4) |
	       ((v->cr[VGA_CR_MAX_SCAN] & 0x40u) << 3);
}

/* Attribute colour n (0-15) -> DAC entry -> 6-bit RGB.  The palette
 * register gives DAC index bits 5-0; AR10 bit 7 takes bits 5-4 from
 * colour select bits 1-0 instead; colour select bits 3-2 give bits 7-6;
 * the pixel mask ANDs the index (FreeVGA, "Attribute Controller" and
 * "DAC Operation"). */
static void attribute_colours(const struct vga *v, struct vga_screen *s)
{
	const uint8_t mode = v->ar[VGA_AR_MODE], sel = v->ar[VGA_AR_COLOR_SELECT];
	for (unsigned n = 0; n < 16; n++) {
		unsigned idx = v->ar[n] & 0x3F;
		if (mode & 0x80)
			idx = (idx & 0x0F) | ((sel & 0x03u) << 4);
		idx |= (sel & 0x0Cu) << 4;
		idx &= v->pel_mask;
		memcpy(s->rgb[n], v->palette[idx], 3);
	}
}

static void read_cursor(const struct vga *v, struct vga_screen *s, unsigned start, unsigned pitch,
			unsigned cell_height)
{
	const unsigned cstart = v->cr[VGA_CR_CURSOR_START], cend = v->cr[VGA_CR_CURSOR_END] & 0x1F;
	const unsigned loc = (unsigned)v->cr[VGA_CR_CURSOR_HI] << 8 | v->cr[VGA_CR_CURSOR_LO];
	s->cursor_on = false;
	/* Bit 5 of CR0A turns the cursor off; a start line below the end line
	 * or the cell shows none either. */
	if ((cstart & 0x20) || (cstart & 0x1F) > cend || (cstart & 0x1F) >= cell_height || loc < start)
		return;
	unsigned rel = loc - start;
	unsigned row = pitch ? rel / pitch : 0, col = pitch ? rel % pitch : rel;
	if (row >= s->rows || col >= s->cols)
		return;
	s->cursor_on = true;
	s->cursor_row = row;
	s->cursor_col = col;
}

void vga_screen_read(const struct vga *v, const struct phys_mem *mem, struct vga_screen *s)
{
	memset(s, 0, sizeof(*s));
	attribute_colours(v, s);
	s->blink = v->ar[VGA_AR_MODE] & 0x08;
	/* GR06 bit 0 and AR10 bit 0 select graphics. */
	if ((v->gr[VGA_GR_MISC] & 0x01) || (v->ar[VGA_AR_MODE] & 0x01))
		return;
	s->text = true;

	unsigned cell_height = (v->cr[VGA_CR_MAX_SCAN] & 0x1Fu) + 1;
	unsigned scan_lines = vertical_display_end(v) + 1;
	if (v->cr[VGA_CR_MAX_SCAN] & 0x80)
		scan_lines /= 2; /* double scanning: each line shown twice */
	s->cols = v->cr[VGA_CR_H_DISP_END] + 1u;
	s->rows = scan_lines / cell_height;
	if (s->cols > VGA_SCREEN_MAX_COLS)
		s->cols = VGA_SCREEN_MAX_COLS;
	if (s->rows > VGA_SCREEN_MAX_ROWS)
		s->rows = VGA_SCREEN_MAX_ROWS;

	/* Word mode: CR13 counts words of two cells per row.  Addresses wrap
	 * in the 16 Ki cells the CPU can reach at 0xB8000 (Memory Map 3). */
	const unsigned pitch = v->cr[VGA_CR_OFFSET] * 2u;
	const unsigned start = (unsigned)v->cr[VGA_CR_START_HI] << 8 | v->cr[VGA_CR_START_LO];
	const unsigned split = line_compare(v);
	const uint8_t *ram = phys_ptr(mem, VGA_TEXT_BASE, VGA_TEXT_SIZE);
	unsigned addr = start;
	for (unsigned r = 0; r < s->rows; r++) {
		for (unsigned c = 0; c < s->cols && ram; c++) {
			unsigned a = ((addr + c) % TEXT_CELLS) * 2;
			s->cell[r][c] = (uint16_t)(ram[a] | ram[a + 1] << 8);
		}
		addr += pitch;
		/* Line compare: the row on which the scan line counter reaches
		 * it ends the top part; the next row restarts at address 0. */
		unsigned first = r * cell_height, next = first + cell_height;
		if (first < split && next >= split)
			addr = 0;
	}
	read_cursor(v, s, start, pitch, cell_height);
}
