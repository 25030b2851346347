/* fwcfg: QEMU's firmware configuration device (QEMU docs/specs/fw_cfg.rst)
 * as a kernel written on QEMU's pc machine uses it: the signature and
 * feature bitmap, the CPU count and RAM size, bad selectors, the file
 * directory, etc/e820 through DMA, the DMA operations (read, skip, select,
 * write, errors), the ACPI tables placed by running etc/table-loader as a
 * firmware does, and the SMBIOS files.  Only what QEMU and btvm share is
 * printed: QEMU's -kernel has items of its own for a multiboot kernel, and
 * its file list, table sizes and E820 layout differ. */
#include "guest.h"

#define FW_SEL 0x510
#define FW_DATA 0x511
#define FW_DMA 0x514

enum { SIGNATURE = 0x00, ID = 0x01, RAM_SIZE = 0x03, NB_CPUS = 0x05, MAX_CPUS = 0x0f,
       FILE_DIR = 0x19, FILE_FIRST = 0x20, IRQ0_OVERRIDE = 0x8002 };
enum { CTL_ERROR = 1, CTL_READ = 2, CTL_SKIP = 4, CTL_SELECT = 8, CTL_WRITE = 16 };

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fw_select(uint16_t key) { outw(FW_SEL, key); }

static void fw_read(void *buf, uint32_t n)
{
	uint8_t *p = buf;
	for (uint32_t i = 0; i < n; i++)
		p[i] = inb(FW_DATA);
}

static uint32_t fw_read_le(unsigned n)
{
	uint8_t b[4] = { 0 };
	fw_read(b, n);
	return le32(b);
}

/* One DMA operation: the FWCfgDmaAccess (big-endian) and the low half of
 * the address register at 0x518; returns the control word written back. */
static struct { uint32_t control, length, addr_hi, addr_lo; } volatile dma_acc ALIGNED(16);

static uint32_t fw_dma(uint32_t control, uint32_t length, uint32_t addr)
{
	dma_acc.control = bswap32(control);
	dma_acc.length = bswap32(length);
	dma_acc.addr_hi = 0;
	dma_acc.addr_lo = bswap32(addr);
	barrier();
	outl(FW_DMA + 4, bswap32((uint32_t)&dma_acc));
	barrier();
	return bswap32(dma_acc.control);
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static int str_cmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

/* ---------------------------------------------------------------- files */
struct file {
	uint32_t size;
	uint16_t key;
	char name[57];
};
static struct file files[64];
static uint32_t nfiles;

static void read_directory(void)
{
	fw_select(FILE_DIR);
	uint8_t b[4];
	fw_read(b, 4);
	nfiles = be32(b);
	if (nfiles > ARRAY_SIZE(files))
		guest_panic("file directory: %u files", nfiles);
	for (uint32_t i = 0; i < nfiles; i++) {
		uint8_t e[64];
		fw_read(e, 64);
		files[i].size = be32(e);
		files[i].key = (uint16_t)(e[4] << 8 | e[5]);
		memcpy(files[i].name, e + 8, 56);
		files[i].name[56] = '\0';
	}
}

static const struct file *find(const char *name)
{
	for (uint32_t i = 0; i < nfiles; i++)
		if (!str_cmp(files[i].name, name))
			return &files[i];
	return NULL;
}

static void test_basics(void)
{
	char sig[5] = { 0 };
	fw_select(SIGNATURE);
	fw_read(sig, 4);
	CHECK(!memcmp(sig, "QEMU", 4), "signature \"QEMU\" through ports 0x510/0x511");
	CHECK_EQ(inb(FW_DATA), 0, "a read past the signature's end returns 0");
	fw_select(ID);
	uint32_t id = fw_read_le(4);
	CHECK_EQ(id & 3, 3, "feature bitmap: traditional interface and DMA");
	CHECK(inl(FW_DMA) == 0x554D4551 && inl(FW_DMA + 4) == 0x47464320,
	      "DMA address register reads \"QEMU CFG\"");
	fw_select(0x4000 | SIGNATURE);
	fw_read(sig, 4);
	CHECK(!memcmp(sig, "QEMU", 4), "selector bit 14 is ignored");
	fw_select(SIGNATURE);
	outb(FW_DATA, 0x55);    /* data writes are ignored */
	fw_read(sig, 4);
	CHECK(!memcmp(sig, "QEMU", 4), "a data write neither changes nor advances the item");

	fw_select(NB_CPUS);
	uint32_t cpus = fw_read_le(2);
	printf("CPU count (FW_CFG_NB_CPUS): %u\n", cpus);
	CHECK_EQ(cpus, 1, "one CPU");
	fw_select(MAX_CPUS);
	CHECK_EQ(fw_read_le(2), 1, "FW_CFG_MAX_CPUS is 1");
	fw_select(RAM_SIZE);
	uint32_t lo = fw_read_le(4), hi = fw_read_le(4);
	printf("RAM size (FW_CFG_RAM_SIZE): %u MiB\n", lo >> 20);
	CHECK(lo == 128u << 20 && hi == 0, "RAM size is 128 MiB");
	fw_select(IRQ0_OVERRIDE);
	CHECK_EQ(fw_read_le(4), 1, "IRQ0 override (0x8002) is 1");

	static const uint16_t bad[] = { 0x3FFF, 0x1234, 0x7FFF, 0xBFFF };
	int zeros = 1;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		fw_select(bad[i]);
		for (int k = 0; k < 8; k++)
			zeros &= inb(FW_DATA) == 0;
	}
	CHECK(zeros, "selectors past the last item read 0");
}

static void test_directory(void)
{
	read_directory();
	CHECK(nfiles > 0, "the file directory has files");
	int sorted = 1, keys = 1;
	for (uint32_t i = 0; i < nfiles; i++) {
		keys &= files[i].key == FILE_FIRST + i;
		if (i)
			sorted &= str_cmp(files[i - 1].name, files[i].name) < 0;
	}
	CHECK(keys, "file keys run from 0x20 in directory order");
	CHECK(sorted, "files are sorted by name");
	static const char *const want[] = {
		"bootorder", "etc/acpi/rsdp", "etc/acpi/tables", "etc/boot-fail-wait", "etc/e820",
		"etc/smbios/smbios-anchor", "etc/smbios/smbios-tables", "etc/table-loader",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(find(want[i]), "file %s", want[i]);
	/* the directory by DMA is the same as by port */
	static uint8_t d[4 + 64];
	CHECK_EQ(fw_dma(FILE_DIR << 16 | CTL_SELECT | CTL_READ, sizeof(d), (uint32_t)d), 0,
		 "DMA read of the directory");
	CHECK(be32(d) == nfiles && !str_cmp((char *)d + 12, files[0].name),
	      "the directory by DMA matches the directory by port");
}

static uint8_t e820[20 * 32];

static void test_e820_dma(void)
{
	const struct file *f = find("etc/e820");
	if (!f || f->size > sizeof(e820) || f->size % 20)
		guest_panic("etc/e820: size %u", f ? f->size : 0);
	memset(e820, 0xEE, sizeof(e820));
	CHECK_EQ(fw_dma((uint32_t)f->key << 16 | CTL_SELECT | CTL_READ, f->size, (uint32_t)e820), 0,
		 "etc/e820 by DMA (select + read): control cleared");
	uint32_t ram_end = 0, covers_1m = 0;
	for (uint32_t o = 0; o < f->size; o += 20) {
		uint32_t addr = le32(e820 + o), len = le32(e820 + o + 8), type = le32(e820 + o + 16);
		if (type != 1 || le32(e820 + o + 4) || le32(e820 + o + 12))
			continue;
		if (addr + len > ram_end)
			ram_end = addr + len;
		if (addr <= 0x100000 && addr + len >= 128u << 20)
			covers_1m = 1;
	}
	printf("etc/e820: RAM ends at %u MiB\n", ram_end >> 20);
	CHECK(covers_1m, "etc/e820: [1 MiB, 128 MiB) is RAM");
	/* port reads continue where DMA stopped: past the end, 0 */
	CHECK_EQ(inb(FW_DATA), 0, "the port continues at the DMA's offset (past the end)");
	/* the same bytes by port */
	static uint8_t byport[20];
	fw_select(f->key);
	fw_read(byport, 20);
	CHECK(!memcmp(byport, e820, 20), "etc/e820 by port matches DMA");
}

static void test_dma_ops(void)
{
	static uint8_t buf[16] ALIGNED(16);
	/* read past the end: zeros */
	memset(buf, 0xEE, sizeof(buf));
	CHECK_EQ(fw_dma(SIGNATURE << 16 | CTL_SELECT | CTL_READ, 8, (uint32_t)buf), 0, "DMA read past the end");
	CHECK(!memcmp(buf, "QEMU\0\0\0\0", 8) && buf[8] == 0xEE, "  gives the item, then zeros");
	/* skip, then the port goes on */
	const struct file *f = find("etc/boot-fail-wait");
	CHECK_EQ(fw_dma((uint32_t)(f ? f->key : 0) << 16 | CTL_SELECT | CTL_SKIP, 2, 0), 0, "DMA skip");
	uint8_t b0 = inb(FW_DATA), b1 = inb(FW_DATA), b2 = inb(FW_DATA);
	CHECK(b0 == 0xFF && b1 == 0xFF && b2 == 0, "  the port reads the last 2 bytes of etc/boot-fail-wait (-1)");
	/* select only */
	memset(buf, 0xEE, sizeof(buf));
	CHECK_EQ(fw_dma(ID << 16 | CTL_SELECT, 4, (uint32_t)buf), 0, "DMA select without transfer");
	CHECK(buf[0] == 0xEE && (inb(FW_DATA) & 3) == 3, "  nothing written; the port reads the feature bitmap");
	/* a read from no item: zeros, no error */
	memset(buf, 0xEE, sizeof(buf));
	CHECK_EQ(fw_dma(0x3FFFu << 16 | CTL_SELECT | CTL_READ, 4, (uint32_t)buf), 0, "DMA read of a bad selector");
	CHECK(!memcmp(buf, "\0\0\0\0", 4), "  gives zeros");
	/* items are read-only: a write fails */
	CHECK_EQ(fw_dma(SIGNATURE << 16 | CTL_SELECT | CTL_WRITE, 4, (uint32_t)buf) & CTL_ERROR, CTL_ERROR,
		 "DMA write to the signature sets the error bit");
	/* a buffer that is not RAM */
	CHECK_EQ(fw_dma(SIGNATURE << 16 | CTL_SELECT | CTL_READ, 4, 0x10000000) & CTL_ERROR, CTL_ERROR,
		 "DMA read to 256 MiB (no RAM there) sets the error bit");
	/* DMA over code that has run: the new code runs (QEMU's TCG and
	 * btvm's bt drop their translations of it) */
	static uint8_t code[8] ALIGNED(16) = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3 };  /* mov eax, 1; ret */
	uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)code;
	uint32_t first = fn();
	fw_dma(ID << 16 | CTL_SELECT | CTL_READ, 4, (uint32_t)code + 1);   /* imm32 := 3 */
	uint32_t second = fn();
	CHECK(first == 1 && second == 3, "code overwritten by DMA runs anew (mov eax,1 -> mov eax,3)");
	/* the address register is 0 again afterwards: a low-half write alone works */
	memset(buf, 0xEE, sizeof(buf));
	CHECK_EQ(fw_dma(SIGNATURE << 16 | CTL_SELECT | CTL_READ, 4, (uint32_t)buf), 0, "DMA after an error");
	CHECK(!memcmp(buf, "QEMU", 4), "  reads the signature");
}

/* ---------------------------------------------------------------- ACPI */
/* The linker/loader (QEMU hw/acpi/bios-linker-loader.c): 128-byte
 * commands.  The files are read into static buffers, which stand for the
 * memory a firmware allocates. */
static uint8_t acpi_tables[132 * 1024] ALIGNED(64);
static uint8_t acpi_rsdp[64] ALIGNED(16);
static uint8_t loader[8192];

struct placed {
	const char *name;
	uint8_t *mem;
	uint32_t cap, size;
	int allocated;
};
static struct placed placed[2] = {
	{ "etc/acpi/rsdp", acpi_rsdp, sizeof(acpi_rsdp), 0, 0 },
	{ "etc/acpi/tables", acpi_tables, sizeof(acpi_tables), 0, 0 },
};

static struct placed *placed_file(const uint8_t *name)
{
	for (int i = 0; i < 2; i++)
		if (!str_cmp((const char *)name, placed[i].name))
			return &placed[i];
	return NULL;
}

static int run_loader(void)
{
	const struct file *lf = find("etc/table-loader");
	if (!lf || lf->size > sizeof(loader) || lf->size % 128)
		return 0;
	fw_dma((uint32_t)lf->key << 16 | CTL_SELECT | CTL_READ, lf->size, (uint32_t)loader);
	for (uint32_t o = 0; o < lf->size; o += 128) {
		const uint8_t *e = loader + o;
		uint32_t cmd = le32(e);
		struct placed *p = cmd ? placed_file(e + 4) : NULL, *src;
		if (cmd == 0)
			continue;   /* padding */
		if (!p)
			return 0;
		uint8_t *at;
		uint32_t off;
		switch (cmd) {
		case 1: { /* ALLOCATE */
			const struct file *f = find(p->name);
			uint32_t align = le32(e + 60);
			if (!f || f->size > p->cap || p->allocated || ((uint32_t)p->mem & (align - 1)))
				return 0;
			fw_dma((uint32_t)f->key << 16 | CTL_SELECT | CTL_READ, f->size, (uint32_t)p->mem);
			p->size = f->size;
			p->allocated = 1;
			break;
		}
		case 2: /* ADD_POINTER: dest += address of src */
			src = placed_file(e + 60);
			off = le32(e + 116);
			if (!src || !p->allocated || !src->allocated || e[120] != 4 || off + 4 > p->size)
				return 0;
			at = p->mem + off;
			uint32_t v = le32(at) + (uint32_t)src->mem;
			memcpy(at, &v, 4);
			break;
		case 3: /* ADD_CHECKSUM */
			off = le32(e + 60);
			if (!p->allocated || off >= p->size || le32(e + 64) + le32(e + 68) > p->size)
				return 0;
			p->mem[off] = (uint8_t)(p->mem[off] - sum8(p->mem + le32(e + 64), le32(e + 68)));
			break;
		default:
			return 0;
		}
	}
	return placed[0].allocated && placed[1].allocated;
}

static const uint8_t *acpi_table(uint32_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)addr;
	if (memcmp(t, sig, 4) || sum8(t, le32(t + 4)))
		return NULL;
	return t;
}

static void test_acpi(void)
{
	CHECK(run_loader(), "etc/table-loader runs: ALLOCATE, ADD_POINTER, ADD_CHECKSUM only");
	const uint8_t *rsdp = acpi_rsdp;
	CHECK(!memcmp(rsdp, "RSD PTR ", 8) && !sum8(rsdp, 20), "RSDP signature and checksum");
	CHECK_EQ(rsdp[15], 0, "RSDP revision 0 (ACPI 1.0: RSDT only)");
	const uint8_t *rsdt = acpi_table(le32(rsdp + 16), "RSDT");
	CHECK(rsdt, "RSDP -> RSDT, checksum valid");
	if (!rsdt)
		return;
	const uint8_t *fadt = NULL, *madt = NULL;
	for (uint32_t o = 36; o + 4 <= le32(rsdt + 4); o += 4) {
		const uint8_t *t = (const uint8_t *)le32(rsdt + o);
		if (!memcmp(t, "FACP", 4))
			fadt = acpi_table((uint32_t)t, "FACP");
		if (!memcmp(t, "APIC", 4))
			madt = acpi_table((uint32_t)t, "APIC");
	}
	CHECK(fadt, "RSDT lists the FADT (FACP), checksum valid");
	CHECK(madt, "RSDT lists the MADT (APIC), checksum valid");
	if (fadt) {
		const uint8_t *dsdt = acpi_table(le32(fadt + 40), "DSDT");
		CHECK(dsdt, "FADT -> DSDT, checksum valid");
		int s5 = 0;
		for (uint32_t i = 36; dsdt && i + 4 <= le32(dsdt + 4); i++)
			s5 |= !memcmp(dsdt + i, "_S5_", 4);
		CHECK(s5, "the DSDT names \\_S5_ (soft-off)");
		CHECK(!memcmp((const uint8_t *)le32(fadt + 36), "FACS", 4), "FADT -> FACS");
		printf("FADT: SCI IRQ %u, PM1a event 0x%x, PM1a control 0x%x, PM timer 0x%x\n",
		       fadt[46] | fadt[47] << 8, le32(fadt + 56), le32(fadt + 64), le32(fadt + 76));
	}
	if (madt) {
		unsigned cpus = 0, ioapics = 0, irq0_gsi = 0;
		uint32_t ioapic_addr = 0;
		for (uint32_t o = 44; o + 2 <= le32(madt + 4) && madt[o + 1]; o += madt[o + 1]) {
			const uint8_t *s = madt + o;
			if (s[0] == 0 && (le32(s + 4) & 1))
				cpus++;
			if (s[0] == 1)
				ioapics++, ioapic_addr = le32(s + 4);
			if (s[0] == 2 && s[2] == 0 && s[3] == 0)
				irq0_gsi = le32(s + 4);
		}
		printf("MADT: %u enabled CPU, %u I/O APIC at 0x%x, IRQ0 -> GSI %u\n", cpus, ioapics,
		       ioapic_addr, irq0_gsi);
		CHECK(cpus == 1 && ioapics == 1 && ioapic_addr == 0xFEC00000 && irq0_gsi == 2,
		      "MADT: one CPU, the I/O APIC, the IRQ0 override");
	}
}

/* ---------------------------------------------------------------- SMBIOS */
static uint8_t smbios_anchor[32];
static uint8_t smbios[4096];

static void test_smbios(void)
{
	const struct file *a = find("etc/smbios/smbios-anchor"), *t = find("etc/smbios/smbios-tables");
	if (!a || !t || a->size > sizeof(smbios_anchor) || t->size > sizeof(smbios))
		guest_panic("SMBIOS files");
	fw_select(a->key);
	fw_read(smbios_anchor, a->size);
	fw_dma((uint32_t)t->key << 16 | CTL_SELECT | CTL_READ, t->size, (uint32_t)smbios);
	const uint8_t *ep = smbios_anchor;
	CHECK(a->size == 31 && !memcmp(ep, "_SM_", 4) && ep[5] == 31, "smbios-anchor: a 31-byte \"_SM_\" entry point");
	/* (its checksums and table address are the firmware's to set once it
	 * has placed the tables: QEMU leaves them to SeaBIOS) */
	CHECK(!memcmp(ep + 0x10, "_DMI_", 5), "  with the \"_DMI_\" intermediate anchor");
	printf("SMBIOS %u.%u\n", ep[6], ep[7]);
	CHECK_EQ(ep[5 + 0x11] | ep[0x17] << 8, t->size, "  table length = size of smbios-tables");
	unsigned count = 0, maxsize = 0;
	int seen[128] = { 0 }, ok = 1;
	uint32_t mapped_end_kib = 0, o = 0;
	const uint8_t *cpu = NULL, *dimm = NULL;
	while (o + 4 <= t->size && ok) {
		const uint8_t *s = smbios + o;
		uint32_t e = o + s[1];
		while (e + 1 < t->size && (smbios[e] || smbios[e + 1]))
			e++;
		e += 2;
		if (e > t->size || s[1] < 4)
			ok = 0;
		if (e - o > maxsize)
			maxsize = e - o;
		seen[s[0] & 127] = 1;
		if (s[0] == 4)
			cpu = s;
		if (s[0] == 17)
			dimm = s;
		if (s[0] == 19 && le32(s + 8) + 1 > mapped_end_kib)
			mapped_end_kib = le32(s + 8) + 1;
		count++;
		o = e;
		if (s[0] == 127)
			break;
	}
	CHECK(ok && o == t->size, "the structures fill smbios-tables, ending with type 127");
	CHECK_EQ(count, ep[0x1C] | ep[0x1D] << 8, "  their count is the anchor's");
	CHECK_EQ(maxsize, ep[8] | ep[9] << 8, "  the largest is the anchor's maximum structure size");
	static const uint8_t types[] = { 1, 3, 4, 16, 17, 19, 32, 127 };
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++)
		CHECK(seen[types[i]], "type %u present", types[i]);
	CHECK(cpu && cpu[0x18] == 0x41 && cpu[0x23] == 1, "type 4: a populated, enabled CPU with one core");
	CHECK(dimm && (dimm[0x0C] | dimm[0x0D] << 8) == 128, "type 17: 128 MiB");
	printf("type 19: memory mapped up to %u MiB\n", mapped_end_kib >> 10);
}

void main(void)
{
	printf("fwcfg: QEMU's fw_cfg interface\n");
	test_basics();
	test_directory();
	test_e820_dma();
	test_dma_ops();
	test_acpi();
	test_smbios();
}
