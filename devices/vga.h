/* VGA, text mode: the registers of an IBM VGA (IBM VGA/XGA Technical
 * Reference Manual, "Video Subsystem"; FreeVGA's register pages) kept and
 * read back, in the state a PC BIOS leaves after setting mode 3 (80x25
 * colour text), and the text buffer at 0xB8000 as plain guest RAM.
 *
 * Ports (byte-wide; a word access is two byte accesses, low byte first,
 * so `outw(0x3D4, index | value << 8)` works as on ISA):
 *   0x3B4/0x3B5 or 0x3D4/0x3D5  CRTC index/data (CR00-CR18; CR00-CR07
 *                               write-protected while CR11 bit 7 is set,
 *                               except CR07 bit 4)
 *   0x3BA or 0x3DA  read: Input Status 1 (resets the attribute flip-flop);
 *                   write: Feature Control
 *   (the 0x3Bx or the 0x3Dx set answers, chosen by Misc Output bit 0, I/O
 *   Address Select; the other set floats: reads 0xFF, writes ignored)
 *   0x3C0       attribute controller index/data, alternating on a flip-flop
 *   0x3C1       attribute data read
 *   0x3C2       write: Misc Output; read: Input Status 0
 *   0x3C4/0x3C5 sequencer index/data (SR00-SR04)
 *   0x3C6       DAC pixel mask
 *   0x3C7       write: DAC read index; read: DAC state (0 write mode, 3 read mode)
 *   0x3C8       DAC write index
 *   0x3C9       DAC data: red, green, blue in turn, 6 bits each
 *   0x3CA       read: Feature Control
 *   0x3CC       read: Misc Output
 *   0x3CE/0x3CF graphics controller index/data (GR00-GR08)
 * Reserved bits read as 0 (the masks follow the IBM register descriptions).
 *
 * Memory: guest RAM backs 0xA0000-0xBFFFF as it backs every page below
 * the RAM size, under bt (ordinary view pages, full speed) and KVM (the
 * one RAM slot).  In text mode with Memory Map Select 3 (GR06) the
 * 32 KiB window 0xB8000-0xBFFFF holds character/attribute pairs, which is
 * exactly what RAM does, so there is nothing to emulate: no MMIO exits,
 * no planes.  The renderer (vga_text.c) reads that RAM.  Graphics modes,
 * planar writes and fonts are not modelled (docs/design.md).
 *
 * Input Status 1 bit 3 (vertical retrace) and bit 0 (display disabled)
 * flip on every read, so a loop waiting for retrace to start or end
 * finishes after one or two reads whatever the clock. */
#ifndef BTVM_DEVICES_VGA_H
#define BTVM_DEVICES_VGA_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/phys_mem.h"

#define VGA_TEXT_BASE 0xB8000u
#define VGA_TEXT_SIZE 0x8000u     /* 32 KiB: 16384 character/attribute cells */

#define VGA_CR_COUNT 0x19         /* CR00-CR18 */
#define VGA_SR_COUNT 5            /* SR00-SR04 */
#define VGA_GR_COUNT 9            /* GR00-GR08 */
#define VGA_AR_COUNT 0x15         /* AR00-AR14 */

/* CRTC registers the renderer and the tests name */
enum {
	VGA_CR_H_DISP_END = 0x01,
	VGA_CR_OVERFLOW = 0x07,
	VGA_CR_MAX_SCAN = 0x09,
	VGA_CR_CURSOR_START = 0x0A,   /* bit 5: cursor off; bits 4-0: first line */
	VGA_CR_CURSOR_END = 0x0B,
	VGA_CR_START_HI = 0x0C,
	VGA_CR_START_LO = 0x0D,
	VGA_CR_CURSOR_HI = 0x0E,
	VGA_CR_CURSOR_LO = 0x0F,
	VGA_CR_V_SYNC_END = 0x11,     /* bit 7: protect CR00-CR07 */
	VGA_CR_V_DISP_END = 0x12,
	VGA_CR_OFFSET = 0x13,
	VGA_CR_LINE_COMPARE = 0x18,
};
enum { VGA_AR_MODE = 0x10, VGA_AR_COLOR_SELECT = 0x14 };
enum { VGA_GR_MISC = 0x06 };
#define VGA_MISC_COLOR 0x01       /* I/O Address Select: 0x3Dx (1) or 0x3Bx (0) */

struct vga {
	uint8_t misc;                 /* Misc Output */
	uint8_t fcr;                  /* Feature Control */
	uint8_t st01;                 /* Input Status 1 as last read */
	uint8_t cr_index, cr[VGA_CR_COUNT];
	uint8_t sr_index, sr[VGA_SR_COUNT];
	uint8_t gr_index, gr[VGA_GR_COUNT];
	uint8_t ar_index, ar[VGA_AR_COUNT];
	bool ar_flip_flop;            /* true: the next 0x3C0 write is data */
	uint8_t pel_mask;
	uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
	uint8_t dac_latch[3];
	uint8_t palette[256][3];      /* 6-bit red, green, blue */
};

/* init performs vga_reset. */
void vga_init(struct vga *v);
/* The registers as the BIOS leaves them after setting mode 3: 80x25
 * colour text, 9x16 cells, cursor at 0,0 on lines 14-15, start address 0,
 * the EGA-compatible first 64 DAC entries. */
void vga_reset(struct vga *v);
/* Fills the 32 KiB text buffer with blank cells (0x0720: space, light
 * grey on black), as the BIOS mode set does.  False when RAM does not
 * reach that far. */
bool vga_text_clear(const struct phys_mem *mem);
/* Claims 0x3B4-0x3B5, 0x3BA, 0x3C0-0x3CF, 0x3D4-0x3D5, 0x3DA.  0 or -1. */
int vga_register(struct vga *v, struct io_bus *pio);

/* ---- the text screen, for renderers (vga_text.c) ---- */
#define VGA_SCREEN_MAX_COLS 132
#define VGA_SCREEN_MAX_ROWS 60

struct vga_screen {
	bool text;                    /* false: a graphics mode, cells empty */
	unsigned cols, rows;
	uint16_t cell[VGA_SCREEN_MAX_ROWS][VGA_SCREEN_MAX_COLS]; /* char | attr << 8 */
	bool cursor_on;               /* enabled and on the screen */
	unsigned cursor_row, cursor_col;
	bool blink;                   /* AR10 bit 3: attribute bit 7 blinks (else bright background) */
	uint8_t rgb[16][3];           /* the 16 attribute colours through the palette and DAC, 6-bit */
};

/* Reads what the screen shows now: geometry from the CRTC (CR01, CR12 and
 * CR07 overflow bits, CR09 character height), cells from the start address
 * (CR0C/CR0D) with CR13 words per row and the CR18 line compare split,
 * the cursor (CR0A/CR0B/CR0E/CR0F).  Cells outside RAM read as 0. */
void vga_screen_read(const struct vga *v, const struct phys_mem *mem, struct vga_screen *s);
#endif
