/* --display: showing the VGA's text screen (devices/vga.h) on the host.
 *   none         nothing (the default; COM1 stays the console)
 *   curses       drawn on this terminal with ANSI escapes, 20 times a
 *                second when it changed (display_ansi.c, display_tty.c)
 *   file:PATH    written to PATH as UTF-8 text, once a second when it
 *                changed and when the guest stops (display_text.c)
 * Rendering runs on the vCPU thread from a timer of the device timer
 * queue, i.e. from the run loop between guest runs: the guest's text
 * buffer is RAM, so drawing it costs the guest nothing but the kick that
 * brings the run loop round (docs/design.md, "VGA"). */
#ifndef BTVM_MONITOR_DISPLAY_H
#define BTVM_MONITOR_DISPLAY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/vga.h"

struct vm;
struct sandbox_spec;

/* Before the sandbox: opens the file or takes the terminal (stdout must be
 * one), and arms the refresh timer.  0, or -1 with one line in err (a
 * usage error: exit status 2). */
int display_setup(struct vm *vm, char *err, size_t errlen);
/* The run phase's needs: writes (and for file:, pwrite64/ftruncate) on
 * the display's descriptor, the terminal's TCSETS/TCGETS for curses. */
void display_sandbox_spec(struct sandbox_spec *s);
/* After the run: the last frame (file:), the terminal given back. */
void display_finish(struct vm *vm);

/* ---- display_text.c: the screen as plain text ---- */
/* Code page 437 (the VGA ROM font's character set) as UTF-8; 0x00 is a
 * space.  Returns the length (1-3). */
unsigned cp437_utf8(uint8_t c, char out[3]);
/* Rows of characters, trailing spaces trimmed, one '\n' each, then
 * "cursor: row R column C" or "cursor: off"; in a graphics mode one line
 * saying so.  Returns the length (never more than len - 1; NUL ended). */
#define DISPLAY_TEXT_MAX (VGA_SCREEN_MAX_ROWS * (VGA_SCREEN_MAX_COLS * 3 + 1) + 64)
size_t display_text_format(const struct vga_screen *s, char *buf, size_t len);

/* ---- display_ansi.c: the screen as ANSI escapes ---- */
struct ansi_frame {
	bool valid;                 /* false: clear and draw everything */
	bool text;
	unsigned cols, rows;
	uint16_t cell[VGA_SCREEN_MAX_ROWS][VGA_SCREEN_MAX_COLS];
	uint8_t colour[16];         /* attribute colour -> nearest CGA colour */
	bool blink;
	bool cursor_on;             /* the terminal's cursor as last placed */
	unsigned cursor_row, cursor_col;
};
/* Escapes that turn the terminal showing *prev into screen s, for a
 * terminal of term_rows x term_cols (cells beyond are not drawn); updates
 * *prev.  Returns the length written to buf: 0 when nothing changed (or
 * when it did not fit in len: the frame is then marked invalid, so the
 * next call redraws). */
#define DISPLAY_ANSI_MAX (VGA_SCREEN_MAX_ROWS * VGA_SCREEN_MAX_COLS * 32 + 256)
size_t display_ansi_render(const struct vga_screen *s, struct ansi_frame *prev, unsigned term_rows,
			   unsigned term_cols, char *buf, size_t len);
/* Nearest of the 16 CGA colours to a 6-bit RGB. */
unsigned display_nearest_cga(const uint8_t rgb[3]);

/* ---- display_tty.c: the terminal ---- */
/* Takes stdout's terminal: alternate screen, echo off; returns its size.
 * 0, or -1 with a line in err. */
int display_tty_take(unsigned *rows, unsigned *cols, char *err, size_t errlen);
/* Writes all of buf to stdout. */
void display_tty_write(const char *buf, size_t len);
/* Gives the terminal back (async-signal-safe; idempotent): the sandbox's
 * SIGSYS handler and the fatal-signal handlers call it too. */
void display_tty_restore(void);
#endif
