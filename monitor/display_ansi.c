/* The VGA text screen as ANSI/ECMA-48 escapes (--display curses): only
 * the cells that changed since the last frame are sent, each run of them
 * after one cursor position (CUP) and colour (SGR) change.  A cell's
 * attribute byte is foreground (bits 3-0) and background (bits 6-4) plus
 * bit 7: blink when AR10 bit 3 is set, else background intensity (IBM VGA
 * Technical Reference, attribute controller).  The 16 attribute colours
 * go through the palette registers and the DAC (vga_screen_read) and are
 * drawn as the nearest of the 16 CGA colours, which terminals have. */
#include <stdio.h>
#include <string.h>
#include "monitor/display.h"

/* The CGA colours in 6-bit DAC units: the default palette's values. */
static const uint8_t cga_rgb[16][3] = {
	{ 0x00, 0x00, 0x00 }, { 0x00, 0x00, 0x2A }, { 0x00, 0x2A, 0x00 }, { 0x00, 0x2A, 0x2A },
	{ 0x2A, 0x00, 0x00 }, { 0x2A, 0x00, 0x2A }, { 0x2A, 0x15, 0x00 }, { 0x2A, 0x2A, 0x2A },
	{ 0x15, 0x15, 0x15 }, { 0x15, 0x15, 0x3F }, { 0x15, 0x3F, 0x15 }, { 0x15, 0x3F, 0x3F },
	{ 0x3F, 0x15, 0x15 }, { 0x3F, 0x15, 0x3F }, { 0x3F, 0x3F, 0x15 }, { 0x3F, 0x3F, 0x3F },
};
/* CGA order (blue = 1, red = 4) to ANSI order (red = 1, blue = 4). */
static const uint8_t cga_to_ansi[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };

unsigned display_nearest_cga(const uint8_t rgb[3])
{
	unsigned best = 0, best_d = ~0u;
	for (unsigned i = 0; i < 16; i++) {
		unsigned d = 0;
		for (unsigned k = 0; k < 3; k++) {
			int e = (int)rgb[k] - cga_rgb[i][k];
			d += (unsigned)(e * e);
		}
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	return best;
}

struct out {
	char *buf;
	size_t len, at;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->at + n > o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->at, s, n);
	o->at += n;
}

/* SGR for an attribute byte: 30-37/90-97 foreground, 40-47/100-107
 * background, 5 blink. */
static void put_sgr(struct out *o, const struct ansi_frame *f, uint8_t attr)
{
	unsigned fg = f->colour[attr & 0x0F];
	unsigned bg = f->colour[f->blink ? (attr >> 4) & 0x07 : attr >> 4];
	bool blink = f->blink && (attr & 0x80);
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "\033[0;%u;%u%sm", (fg & 8 ? 90 : 30) + cga_to_ansi[fg & 7],
			 (bg & 8 ? 100 : 40) + cga_to_ansi[bg & 7], blink ? ";5" : "");
	if (n > 0)
		put(o, tmp, (size_t)n);
}

static void put_cup(struct out *o, unsigned row, unsigned col)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "\033[%u;%uH", row + 1, col + 1);
	if (n > 0)
		put(o, tmp, (size_t)n);
}

size_t display_ansi_render(const struct vga_screen *s, struct ansi_frame *prev, unsigned term_rows,
			   unsigned term_cols, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	struct ansi_frame *f = prev;
	uint8_t colour[16];
	for (unsigned i = 0; i < 16; i++)
		colour[i] = (uint8_t)display_nearest_cga(s->rgb[i]);
	bool redraw = !f->valid || f->text != s->text || f->rows != s->rows || f->cols != s->cols ||
		      f->blink != s->blink || memcmp(f->colour, colour, sizeof(colour));
	if (redraw) {
		put(&o, "\033[0m\033[2J", 8);
		f->valid = true;
		f->text = s->text;
		f->rows = s->rows;
		f->cols = s->cols;
		f->blink = s->blink;
		memcpy(f->colour, colour, sizeof(colour));
	}
	if (!s->text) {
		static const char msg[] = "\033[1;1H(the VGA is in a graphics mode: not shown)\033[?25l";
		if (redraw)
			put(&o, msg, sizeof(msg) - 1);
		goto done;
	}
	int last_attr = -1;
	unsigned next_r = ~0u, next_c = ~0u; /* where the terminal's cursor is after the last cell */
	for (unsigned r = 0; r < s->rows && r < term_rows; r++) {
		for (unsigned c = 0; c < s->cols && c < term_cols; c++) {
			uint16_t cell = s->cell[r][c];
			if (!redraw && f->cell[r][c] == cell)
				continue;
			if (r != next_r || c != next_c)
				put_cup(&o, r, c);
			if ((cell >> 8) != last_attr) {
				put_sgr(&o, f, (uint8_t)(cell >> 8));
				last_attr = cell >> 8;
			}
			char u[3];
			put(&o, u, cp437_utf8((uint8_t)cell, u));
			f->cell[r][c] = cell;
			next_r = r;
			next_c = c + 1;
		}
	}
	if (last_attr >= 0)
		put(&o, "\033[0m", 4);
	bool cursor_on = s->cursor_on && s->cursor_row < term_rows && s->cursor_col < term_cols;
	/* The terminal's cursor goes back to the guest's after drawing, and
	 * when the guest moved it. */
	if (o.at || redraw || cursor_on != f->cursor_on || f->cursor_row != s->cursor_row ||
	    f->cursor_col != s->cursor_col) {
		if (cursor_on) {
			put_cup(&o, s->cursor_row, s->cursor_col);
			put(&o, "\033[?25h", 6);
		} else {
			put(&o, "\033[?25l", 6);
		}
		f->cursor_on = cursor_on;
		f->cursor_row = s->cursor_row;
		f->cursor_col = s->cursor_col;
	}
done:
	if (o.full) {
		f->valid = false; /* part of it was lost: all of it next time */
		return 0;
	}
	return o.at;
}
