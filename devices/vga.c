/* VGA registers (devices/vga.h).  Register numbers, reserved bits and the
 * mode 3 values come from the IBM VGA/XGA Technical Reference Manual
 * ("Video Subsystem": CRT controller, sequencer, graphics controller,
 * attribute controller, DAC) and FreeVGA's register descriptions. */
#include "devices/vga.h"
#include <string.h>

/* Writable bits of each register; the rest are reserved and read 0. */
static const uint8_t sr_mask[VGA_SR_COUNT] = {
	0x03, /* SR00 reset: SR, AR */
	0x3D, /* SR01 clocking mode: bit 1 reserved, bits 7-6 reserved */
	0x0F, /* SR02 map mask */
	0x3F, /* SR03 character map select */
	0x0E, /* SR04 memory mode: Chain 4, Odd/Even disable, Extended Memory */
};
static const uint8_t gr_mask[VGA_GR_COUNT] = {
	0x0F, 0x0F, 0x0F, /* set/reset, enable set/reset, colour compare */
	0x1F,             /* GR03 data rotate: function select, rotate count */
	0x03,             /* GR04 read map select */
	0x7B,             /* GR05 graphics mode: bit 2 and bit 7 reserved */
	0x0F,             /* GR06 miscellaneous: memory map, chain odd/even, graphics */
	0x0F,             /* GR07 colour don't care */
	0xFF,             /* GR08 bit mask */
};

/* Mode 3 (IBM VGA BIOS mode table, 80x25, 720x400, 9x16 cells). */
static const uint8_t mode3_cr[VGA_CR_COUNT] = {
	0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, /* CR00-CR07 horizontal/vertical timing, overflow */
	0x00, 0x4F,                                     /* CR08 preset row scan, CR09 16 scan lines per row */
	0x0E, 0x0F,                                     /* cursor on lines 14-15 (what the BIOS's INT 10h
							   AH=01h 0x0607 scales to on 16-line cells) */
	0x00, 0x00, 0x00, 0x00,                         /* start address 0, cursor at 0 */
	0x9C, 0x8E, 0x8F, 0x28,                         /* CR10-CR13: CR11 bit 7 protects CR00-CR07;
							   CR12 399 visible lines; 40 words per row */
	0x1F, 0x96, 0xB9, 0xA3, 0xFF,                   /* CR14-CR18: underline, blanking, mode, no split */
};
static const uint8_t mode3_sr[VGA_SR_COUNT] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_gr[VGA_GR_COUNT] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x0F, 0xFF };
static const uint8_t mode3_ar[VGA_AR_COUNT] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, /* palette: CGA colours in the EGA 64 */
	0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
	0x0C, 0x00, 0x0F, 0x08, 0x00,                   /* AR10 mode (blink, line graphics), overscan,
							   plane enable, 9-dot panning, colour select */
};

void vga_reset(struct vga *v)
{
	memset(v, 0, sizeof(*v));
	v->misc = 0x67;     /* colour I/O at 0x3Dx, RAM enabled, 28 MHz clock, 400 lines */
	memcpy(v->cr, mode3_cr, sizeof(v->cr));
	memcpy(v->sr, mode3_sr, sizeof(v->sr));
	memcpy(v->gr, mode3_gr, sizeof(v->gr));
	memcpy(v->ar, mode3_ar, sizeof(v->ar));
	v->ar_index = 0x20; /* palette address source: the display runs */
	v->pel_mask = 0xFF;
	/* DAC entries 0-63: the EGA palette, entry = rgbRGB (lower case the
	 * one-third intensities): each colour is 2/3 * primary + 1/3 * secondary
	 * of the 6-bit range (0x2A and 0x15). */
	for (unsigned i = 0; i < 64; i++) {
		v->palette[i][0] = (uint8_t)(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
		v->palette[i][1] = (uint8_t)(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
		v->palette[i][2] = (uint8_t)((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
	}
}

void vga_init(struct vga *v)
{
	vga_reset(v);
}

bool vga_text_clear(const struct phys_mem *mem)
{
	uint8_t *p = phys_ptr(mem, VGA_TEXT_BASE, VGA_TEXT_SIZE);
	if (!p)
		return false;
	for (unsigned i = 0; i < VGA_TEXT_SIZE; i += 2) {
		p[i] = ' ';
		p[i + 1] = 0x07;
	}
	return true;
}

static void cr_write(struct vga *v, uint8_t val)
{
	uint8_t i = v->cr_index;
	if (i >= VGA_CR_COUNT)
		return; /* beyond CR18: nothing there */
	/* CR11 bit 7 (Protect): CR00-CR07 ignore writes, except the line
	 * compare bit 8 in CR07 bit 4. */
	if ((v->cr[VGA_CR_V_SYNC_END] & 0x80) && i <= VGA_CR_OVERFLOW) {
		if (i == VGA_CR_OVERFLOW)
			v->cr[i] = (uint8_t)((v->cr[i] & ~0x10) | (val & 0x10));
		return;
	}
	v->cr[i] = val;
}

/* The attribute controller's one write port: index and data alternate. */
static void ar_write(struct vga *v, uint8_t val)
{
	if (!v->ar_flip_flop) {
		v->ar_index = val & 0x3F; /* bit 5: palette address source */
	} else {
		unsigned i = v->ar_index & 0x1F;
		if (i < 0x10)
			v->ar[i] = val & 0x3F;           /* palette: 6-bit EGA colours */
		else if (i == VGA_AR_MODE)
			v->ar[i] = val & 0xEF;           /* bit 4 reserved */
		else if (i == 0x11)
			v->ar[i] = val;                  /* overscan colour */
		else if (i == 0x12)
			v->ar[i] = val & 0x3F;           /* colour plane enable, video status mux */
		else if (i < VGA_AR_COUNT)
			v->ar[i] = val & 0x0F;           /* horizontal panning, colour select */
	}
	v->ar_flip_flop = !v->ar_flip_flop;
}

static void dac_data_write(struct vga *v, uint8_t val)
{
	v->dac_latch[v->dac_sub] = val & 0x3F;
	if (++v->dac_sub == 3) {
		memcpy(v->palette[v->dac_write_index], v->dac_latch, 3);
		v->dac_sub = 0;
		v->dac_write_index++;
	}
}

static uint8_t dac_data_read(struct vga *v)
{
	uint8_t val = v->palette[v->dac_read_index][v->dac_sub];
	if (++v->dac_sub == 3) {
		v->dac_sub = 0;
		v->dac_read_index++;
	}
	return val;
}

/* The CRTC and Input Status 1 answer at 0x3Dx or at 0x3Bx (Misc Output
 * bit 0); the other set is not decoded. */
static bool port_decoded(const struct vga *v, uint16_t port)
{
	if (port >= 0x3B0 && port <= 0x3BF)
		return !(v->misc & VGA_MISC_COLOR);
	if (port >= 0x3D0 && port <= 0x3DF)
		return v->misc & VGA_MISC_COLOR;
	return true;
}

static void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
	if (!port_decoded(v, port))
		return;
	switch (port) {
	case 0x3B4: case 0x3D4: v->cr_index = val; break;
	case 0x3B5: case 0x3D5: cr_write(v, val); break;
	case 0x3BA: case 0x3DA: v->fcr = val & 0x0B; break;
	case 0x3C0: ar_write(v, val); break;
	case 0x3C2: v->misc = val & 0xEF; break;           /* bit 4 reserved */
	case 0x3C4: v->sr_index = val & 0x07; break;
	case 0x3C5:
		if (v->sr_index < VGA_SR_COUNT)
			v->sr[v->sr_index] = val & sr_mask[v->sr_index];
		break;
	case 0x3C6: v->pel_mask = val; break;
	case 0x3C7:
		v->dac_read_index = val;
		v->dac_sub = 0;
		v->dac_state = 3;
		break;
	case 0x3C8:
		v->dac_write_index = val;
		v->dac_sub = 0;
		v->dac_state = 0;
		break;
	case 0x3C9: dac_data_write(v, val); break;
	case 0x3CE: v->gr_index = val & 0x0F; break;
	case 0x3CF:
		if (v->gr_index < VGA_GR_COUNT)
			v->gr[v->gr_index] = val & gr_mask[v->gr_index];
		break;
	default: break; /* 0x3C1 (AR data is written through 0x3C0), 0x3C3, ... */
	}
}

static uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	if (!port_decoded(v, port))
		return 0xFF;
	switch (port) {
	case 0x3B4: case 0x3D4: return v->cr_index;
	case 0x3B5: case 0x3D5: return v->cr_index < VGA_CR_COUNT ? v->cr[v->cr_index] : 0;
	case 0x3BA: case 0x3DA:
		/* Input Status 1: bit 3 vertical retrace and bit 0 display
		 * disabled flip on each read; reading resets the attribute
		 * controller's flip-flop to "index". */
		v->st01 ^= 0x09;
		v->ar_flip_flop = false;
		return v->st01;
	case 0x3C0: return v->ar_index;
	case 0x3C1: return (v->ar_index & 0x1F) < VGA_AR_COUNT ? v->ar[v->ar_index & 0x1F] : 0;
	case 0x3C2: return 0x00; /* Input Status 0: no interrupt pending, switch sense 0 */
	case 0x3C4: return v->sr_index;
	case 0x3C5: return v->sr_index < VGA_SR_COUNT ? v->sr[v->sr_index] : 0;
	case 0x3C6: return v->pel_mask;
	case 0x3C7: return v->dac_state;
	case 0x3C8: return v->dac_write_index;
	case 0x3C9: return dac_data_read(v);
	case 0x3CA: return v->fcr;
	case 0x3CC: return v->misc;
	case 0x3CE: return v->gr_index;
	case 0x3CF: return v->gr_index < VGA_GR_COUNT ? v->gr[v->gr_index] : 0;
	default: return 0x00;
	}
}

static uint16_t range_len(uint16_t base)
{
	return base == 0x3C0 ? 16 : (base == 0x3B4 || base == 0x3D4) ? 2 : 1;
}

/* A wider access is byte accesses to consecutive ports (an ISA card sees
 * it so); bytes past this range float. */
static void vga_io(struct vga *v, uint16_t base, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	for (unsigned i = 0; i < len; i++) {
		uint64_t o = off + i;
		if (o >= range_len(base)) {
			if (!is_write)
				data[i] = 0xFF;
			continue;
		}
		uint16_t port = (uint16_t)(base + o);
		if (is_write)
			vga_port_write(v, port, data[i]);
		else
			data[i] = vga_port_read(v, port);
	}
}

/* One bus handler per range, so each knows its base port. */
#define VGA_RANGE(b) \
	static void vga_io_##b(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) \
	{ \
		vga_io(opaque, b, off, data, len, is_write); \
	}
VGA_RANGE(0x3B4)
VGA_RANGE(0x3BA)
VGA_RANGE(0x3C0)
VGA_RANGE(0x3D4)
VGA_RANGE(0x3DA)

int vga_register(struct vga *v, struct io_bus *pio)
{
	static const struct {
		uint16_t base;
		io_handler_fn fn;
	} r[] = {
		{ 0x3B4, vga_io_0x3B4 }, { 0x3BA, vga_io_0x3BA }, { 0x3C0, vga_io_0x3C0 },
		{ 0x3D4, vga_io_0x3D4 }, { 0x3DA, vga_io_0x3DA },
	};
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (io_bus_register(pio, r[i].base, range_len(r[i].base), r[i].fn, v, "vga") < 0)
			return -1;
	return 0;
}
