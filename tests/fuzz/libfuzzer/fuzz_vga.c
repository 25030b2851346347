/* The VGA's registers (0x3B4-0x3B5, 0x3BA, 0x3C0-0x3CF, 0x3D4-0x3D5,
 * 0x3DA) and, as a special op, what the renderer reads of the screen from
 * a RAM that holds the text buffer.  Invariants:
 * the DAC sub-index counts 0-2; the screen the renderer computes fits its
 * arrays and its cursor lies on the screen. */
#include "devices/vga.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0x3D4, 0x3D5, 0x3DA, 0x3C0, 0x3C1, 0x3C2, 0x3C4, 0x3C5,
				    0x3C7, 0x3C8, 0x3C9, 0x3CE, 0x3CF, 0x3B4, 0x3B5, 0x3C0 };
static const unsigned widths[4] = { 1, 1, 2, 1 };
#define RAM 0xC0000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct vga v;
	static uint8_t ram[RAM];
	static struct phys_mem mem = { ram, RAM };
	static struct vga_screen s;
	io_bus_init(&bus, "pio");
	vga_init(&v);
	FZ_ASSERT(vga_register(&v, &bus) == 0, "register");
	FZ_ASSERT(vga_text_clear(&mem), "clear");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE: {
			uint16_t port = op.where == 15 ? (uint16_t)(0x3B0 + fz_u8(&in) % 0x30) : ports[op.where];
			fz_access(&bus, port, op.width, op.kind == FZ_WRITE, op.value);
			break;
		}
		case FZ_CLOCK:
			/* a cell of the text buffer */
			ram[VGA_TEXT_BASE + ((op.value * 31) & (VGA_TEXT_SIZE - 1))] = (uint8_t)op.value;
			break;
		case FZ_SPECIAL:
			if (op.value == 0xFF) {
				vga_reset(&v);
				break;
			}
			/* the renderer, sometimes with RAM that ends inside the buffer */
			mem.size = op.value & 1 ? VGA_TEXT_BASE + (op.value << 7) : RAM;
			vga_screen_read(&v, &mem, &s);
			mem.size = RAM;
			FZ_ASSERT(s.cols <= VGA_SCREEN_MAX_COLS && s.rows <= VGA_SCREEN_MAX_ROWS, "screen %ux%u", s.cols,
				  s.rows);
			FZ_ASSERT(!s.cursor_on || (s.cursor_row < s.rows && s.cursor_col < s.cols),
				  "cursor at %u,%u on %ux%u", s.cursor_row, s.cursor_col, s.cols, s.rows);
			break;
		}
		FZ_ASSERT(v.dac_sub < 3, "DAC sub-index %u", v.dac_sub);
	}
	return 0;
}
