/* QEMU's fw_cfg (0x510-0x511, 0x514-0x51B) with items like btvm's PC
 * (fixed keys, files, a large by-reference blob) and DMA into a 64 KiB
 * fake RAM.  A special op writes an FWCfgDmaAccess structure (control,
 * length, address from the input) into RAM and starts it.  Invariants:
 * DMA changes RAM only where it reports it wrote (the `written` callback:
 * the buffer and the control word), every reported range lies in RAM,
 * the control word comes back 0 or with only the error bit, and the
 * selected offset never runs past what the item allows. */
#include "devices/fw_cfg.h"
#include "fuzz_common.h"

#define RAM 0x10000u
static const uint16_t ports[16] = { 0x510, 0x511, 0x514, 0x518, 0x510, 0x511, 0x511, 0x511,
				    0x515, 0x516, 0x517, 0x519, 0x51A, 0x51B, 0x512, 0x513 };
static const unsigned widths[4] = { 1, 2, 4, 1 };

static uint8_t ram[RAM], before[RAM], touched[RAM];
static bool any_touched;
static struct phys_mem mem = { ram, RAM };
static uint8_t blob[70000];

static void written(void *opaque, uint64_t pa, uint64_t len)
{
	(void)opaque;
	FZ_ASSERT(pa <= RAM && len <= RAM - pa, "written outside RAM: %#llx+%#llx", (unsigned long long)pa,
		  (unsigned long long)len);
	memset(touched + pa, 1, len);   /* cleared when checked */
	any_touched = true;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct fw_cfg c;
	static bool once;
	if (!once) {
		once = true;
		for (size_t i = 0; i < sizeof(blob); i++)
			blob[i] = (uint8_t)(i * 7 + 1);
	}
	memset(ram, 0x5A, sizeof(ram));
	memset(touched, 0, sizeof(touched));
	any_touched = false;
	io_bus_init(&bus, "pio");
	fw_cfg_init(&c, &mem, written, NULL);
	FZ_ASSERT(fw_cfg_register(&c, &bus) == 0, "register");
	FZ_ASSERT(fw_cfg_add_i64(&c, FW_CFG_RAM_SIZE, RAM) == 0 && fw_cfg_add_i16(&c, FW_CFG_NB_CPUS, 1) == 0 &&
			  fw_cfg_add_i32(&c, FW_CFG_ARCH_LOCAL + 2, 1) == 0 &&
			  fw_cfg_add_bytes_ref(&c, FW_CFG_KERNEL_DATA, blob, sizeof(blob)) == 0 &&
			  fw_cfg_add_file(&c, "etc/e820", blob, 40) == 0 && fw_cfg_add_file(&c, "bootorder", "", 0) == 0 &&
			  fw_cfg_add_file(&c, "etc/acpi/tables", blob + 100, 4000) == 0,
		  "items");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		/* only a 32-bit write to 0x518 starts DMA: check RAM around those */
		bool dma = op.kind >= FZ_CLOCK || (op.kind == FZ_WRITE && ports[op.where] == 0x518 && op.width == 4);
		if (dma)
			memcpy(before, ram, sizeof(ram));
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			fz_access(&bus, ports[op.where], op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
		case FZ_SPECIAL: {
			uint32_t at = fz_u16(&in) & ~3u, control = fz_u32(&in), len = fz_u32(&in);
			uint32_t addr = fz_u32(&in);
			if (op.value & 1)
				len &= 0x1FFFF;   /* mostly lengths that fit */
			if (op.value & 2)
				addr &= 0xFFFF;
			if (at + 16 <= RAM) {
				be32(ram + at, control);
				be32(ram + at + 4, len);
				be32(ram + at + 8, op.value & 4 ? 1 : 0);
				be32(ram + at + 12, addr);
				memcpy(before, ram, sizeof(ram));
			}
			fz_access(&bus, 0x514, 4, true, 0);
			uint8_t lo[4];
			be32(lo, at);
			fz_access(&bus, 0x518, 4, true, (uint32_t)lo[0] | lo[1] << 8 | lo[2] << 16 | (uint32_t)lo[3] << 24);
			if (at + 16 <= RAM) {
				uint32_t back = (uint32_t)ram[at] << 24 | ram[at + 1] << 16 | ram[at + 2] << 8 | ram[at + 3];
				FZ_ASSERT(back == 0 || back == FW_CFG_DMA_CTL_ERROR, "control word back as %#x", back);
			}
			break;
		}
		}
		for (unsigned b = 0; dma && b < RAM; b += 256) {
			if (!memcmp(ram + b, before + b, 256))
				continue;
			for (unsigned i = b; i < b + 256; i++)
				FZ_ASSERT(ram[i] == before[i] || touched[i], "RAM %#x changed without a written() report",
					  i);
		}
		if (any_touched) {
			memset(touched, 0, sizeof(touched));
			any_touched = false;
		}
		FZ_ASSERT(c.cur == FW_CFG_INVALID || (c.cur & FW_CFG_ENTRY_MASK) < FW_CFG_MAX_ENTRY, "cur %#x", c.cur);
	}
	fw_cfg_destroy(&c);
	return 0;
}
