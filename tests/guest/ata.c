/* ata: PCI configuration mechanism #1 and the primary ATA channel's PIO
 * disk (no paging).  Needs the disk made by ata-disk.sh (run-guest.sh
 * --disk): 2^28 + 2048 sectors, marked sectors at known LBAs.
 *
 * PCI: CONFIG_ADDRESS read-back; bus 0 scan printing the functions both
 * QEMU's `-M pc` and btvm must have (host bridge, PIIX3 ISA bridge, the
 * IDE controller found by class 0101); byte/word/dword data-port offsets;
 * all ones for absent functions, another bus and the enable bit clear;
 * read-only IDs; the IDE command register; BAR4 sizing.
 *
 * ATA: absent slave reads 00h; software reset (the ATA signature);
 * EXECUTE DEVICE DIAGNOSTIC; IDENTIFY through IRQ14 at the PIC (model,
 * serial, firmware, capacities); SET FEATURES, SET MULTIPLE MODE; writes
 * and read-backs with LBA28 and LBA48, single and multiple sector
 * commands, 16- and 32-bit data-port accesses; the generator's sectors
 * through LBA28, LBA48 and CHS; READ VERIFY; FLUSH CACHE (EXT);
 * out-of-range reads fail (IDNF here, ABRT under QEMU: both are
 * accepted); unknown commands abort; nIEN masks IRQ14.
 *
 * Output prints only what QEMU and btvm must agree on: QEMU runs the disk
 * with this model, serial and firmware string (run-guest.sh). */
#include "guest.h"

/* ------------------------------------------------------------------ PCI */

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC);
}

static uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xCF8, cfg_addr(bus, dev, fn, reg));
	return inl(0xCFC);
}

static void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
	outl(0xCF8, cfg_addr(bus, dev, fn, reg));
	outl(0xCFC, v);
}

static void pci_write16(unsigned dev, unsigned fn, unsigned reg, uint16_t v)
{
	outl(0xCF8, cfg_addr(0, dev, fn, reg));
	outw((uint16_t)(0xCFC + (reg & 2)), v);
}

static unsigned ide_dev, ide_fn;

static void test_pci(void)
{
	outl(0xCF8, 0x80000000u);
	CHECK_EQ(inl(0xCF8), 0x80000000u, "CONFIG_ADDRESS reads back 0x80000000");

	int found_host = 0, found_isa = 0, found_ide = 0;
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id0 = pci_read32(0, dev, 0, 0);
		if (id0 == 0xFFFFFFFFu)
			continue;
		unsigned nfn = (pci_read32(0, dev, 0, 0x0C) >> 16) & 0x80 ? 8 : 1;
		for (unsigned fn = 0; fn < nfn; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0);
			if (id == 0xFFFFFFFFu)
				continue;
			uint32_t class = pci_read32(0, dev, fn, 8) >> 8;
			unsigned sub = class >> 8;
			if (sub != 0x0600 && sub != 0x0601 && sub != 0x0101)
				continue;   /* QEMU has more (ACPI function, ...) */
			printf("pci 00:%02x.%u %04x:%04x class %06x\n", dev, fn, id & 0xFFFF, id >> 16, class);
			if (sub == 0x0600)
				found_host++;
			else if (sub == 0x0601)
				found_isa++;
			else {
				found_ide++;
				ide_dev = dev;
				ide_fn = fn;
			}
		}
	}
	CHECK(found_host == 1 && found_isa == 1 && found_ide == 1,
	      "bus 0: one host bridge, one ISA bridge, one IDE controller");

	/* Sub-dword accesses take the byte offset from the port. */
	outl(0xCF8, cfg_addr(0, 0, 0, 0));
	uint16_t ven = inw(0xCFC), devid = inw(0xCFE);
	uint8_t b2 = inb(0xCFE), b3 = inb(0xCFF);
	CHECK(ven == 0x8086 && devid == 0x1237 && b2 == 0x37 && b3 == 0x12,
	      "host bridge IDs by word (0xcfc, 0xcfe) and byte (0xcfe, 0xcff)");

	CHECK_EQ(pci_read32(0, 31, 0, 0), 0xFFFFFFFFu, "absent device 00:1f.0 reads all ones");
	CHECK_EQ(pci_read32(1, 0, 0, 0), 0xFFFFFFFFu, "bus 1 (no bridge) reads all ones");
	outl(0xCF8, 0x00000000u);
	CHECK_EQ(inl(0xCFC), 0xFFFFFFFFu, "CONFIG_DATA with the enable bit clear reads all ones");

	if (!found_ide)
		return;
	uint32_t id = pci_read32(0, ide_dev, ide_fn, 0);
	pci_write32(0, ide_dev, ide_fn, 0, 0x12345678u);
	CHECK_EQ(pci_read32(0, ide_dev, ide_fn, 0), id, "IDE vendor/device IDs are read-only");

	uint32_t class = pci_read32(0, ide_dev, ide_fn, 8) >> 8;
	CHECK_EQ(class & 0x05, 0, "IDE prog-if: both channels in compatibility mode");
	CHECK_EQ(pci_read32(0, ide_dev, ide_fn, 0x40) & 0x8000, 0x8000, "IDETIM: primary channel decode enabled");

	uint16_t cmd = (uint16_t)pci_read32(0, ide_dev, ide_fn, 4);
	CHECK(cmd & 1, "IDE command register: I/O space enabled");
	pci_write16(ide_dev, ide_fn, 4, (uint16_t)(cmd | 4));
	uint16_t with_bm = (uint16_t)pci_read32(0, ide_dev, ide_fn, 4);
	pci_write16(ide_dev, ide_fn, 4, cmd);
	CHECK(with_bm & 4, "IDE command register: bus master bit writable");
	CHECK_EQ((uint16_t)pci_read32(0, ide_dev, ide_fn, 4), cmd, "IDE command register restored");

	uint32_t bar = pci_read32(0, ide_dev, ide_fn, 0x20);
	pci_write32(0, ide_dev, ide_fn, 0x20, 0xFFFFFFFFu);
	uint32_t mask = pci_read32(0, ide_dev, ide_fn, 0x20);
	pci_write32(0, ide_dev, ide_fn, 0x20, bar);
	uint32_t size = (~(mask & 0xFFFCu) + 1) & 0xFFFFu;   /* 16-bit I/O decode */
	CHECK(mask & 1, "BAR4 is an I/O BAR");
	CHECK_EQ(size, 16, "BAR4 sizes to 16 bytes (bus-master IDE registers)");
	CHECK_EQ(pci_read32(0, ide_dev, ide_fn, 0x20), bar, "BAR4 restored");
}

/* ------------------------------------------------------------------ ATA */

#define ATA_DATA 0x1F0
#define ATA_ERR 0x1F1
#define ATA_FEAT 0x1F1
#define ATA_NSECT 0x1F2
#define ATA_LBAL 0x1F3
#define ATA_LBAM 0x1F4
#define ATA_LBAH 0x1F5
#define ATA_DEV 0x1F6
#define ATA_STATUS 0x1F7
#define ATA_CMD 0x1F7
#define ATA_CTL 0x3F6
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define ER_IDNF 0x10
#define ER_ABRT 0x04

#define DISK_SECTORS ((1u << 28) + 2048u)

static volatile unsigned irq14_count, ticks;
static volatile uint8_t irq14_status;
static volatile uint32_t irq14_vector;

static void irq14(struct regs *r)
{
	irq14_status = inb(ATA_STATUS);   /* acknowledges the device's interrupt */
	irq14_vector = r->vector;
	irq14_count++;
	pic_eoi(14);
}

static void irq0(struct regs *r)
{
	(void)r;
	ticks++;
	pic_eoi(0);
}

/* Waits for the next IRQ14 (2 s of PIT ticks at most).  Returns the status
 * the handler read, or 0xFF on a timeout. */
static uint8_t wait_irq(unsigned before)
{
	unsigned t0 = ticks;
	while (irq14_count == before && ticks - t0 < 200)
		sti_hlt();
	cli();
	return irq14_count == before ? 0xFF : irq14_status;
}

/* Polls Alternate Status until BSY is clear (bounded). */
static uint8_t wait_not_busy(void)
{
	uint8_t st = 0xFF;
	for (unsigned i = 0; i < 10000000u; i++) {
		st = inb(ATA_CTL);
		if (!(st & ST_BSY))
			break;
	}
	return st;
}

static uint8_t wait_drq(void)
{
	uint8_t st = 0xFF;
	for (unsigned i = 0; i < 10000000u; i++) {
		st = inb(ATA_CTL);
		if (!(st & ST_BSY) && (st & (ST_DRQ | ST_ERR)))
			break;
	}
	return st;
}

static void set_lba28(uint32_t lba, unsigned count)
{
	outb(ATA_DEV, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
	outb(ATA_NSECT, (uint8_t)count);
	outb(ATA_LBAL, (uint8_t)lba);
	outb(ATA_LBAM, (uint8_t)(lba >> 8));
	outb(ATA_LBAH, (uint8_t)(lba >> 16));
}

/* LBA48: the high bytes first (they become the "previous content"). */
static void set_lba48(uint32_t lba, unsigned count)
{
	outb(ATA_DEV, 0xE0);
	outb(ATA_NSECT, (uint8_t)(count >> 8));
	outb(ATA_LBAL, (uint8_t)(lba >> 24));
	outb(ATA_LBAM, 0);                    /* LBA 39:32 */
	outb(ATA_LBAH, 0);                    /* LBA 47:40 */
	outb(ATA_NSECT, (uint8_t)count);
	outb(ATA_LBAL, (uint8_t)lba);
	outb(ATA_LBAM, (uint8_t)(lba >> 8));
	outb(ATA_LBAH, (uint8_t)(lba >> 16));
}

static void insw_block(void *buf, unsigned words)
{
	__asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(ATA_DATA) : "memory");
}

static void insl_block(void *buf, unsigned dwords)
{
	__asm__ volatile("cld; rep insl" : "+D"(buf), "+c"(dwords) : "d"(ATA_DATA) : "memory");
}

static void outsw_block(const void *buf, unsigned words)
{
	__asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(ATA_DATA) : "memory");
}

static void outsl_block(const void *buf, unsigned dwords)
{
	__asm__ volatile("cld; rep outsl" : "+S"(buf), "+c"(dwords) : "d"(ATA_DATA) : "memory");
}

static uint8_t buf[16 * 512], back[16 * 512];

/* The test's own pattern: sector at lba, byte i. */
static void fill_pattern(uint8_t *p, uint32_t lba, unsigned nsect)
{
	for (unsigned s = 0; s < nsect; s++)
		for (unsigned i = 0; i < 512; i++)
			p[s * 512 + i] = (uint8_t)((lba + s) * 7 + i * 13 + (i >> 8));
}

/* The generator's sector: "btvm disk lba 0x%012x ok\n" sixteen times. */
static int generator_sector_ok(const uint8_t *p, uint32_t lba)
{
	static const char hex[] = "0123456789abcdef";
	char line[32];
	memcpy(line, "btvm disk lba 0x", 16);
	for (unsigned i = 0; i < 12; i++)
		line[16 + i] = i < 4 ? '0' : hex[(lba >> (4 * (11 - i))) & 0xF];
	memcpy(line + 28, " ok\n", 4);
	for (unsigned k = 0; k < 16; k++)
		if (memcmp(p + 32 * k, line, 32))
			return 0;
	return 1;
}

/* A non-data command through the interrupt: returns the status read by
 * the IRQ14 handler. */
static uint8_t nondata(uint8_t cmd)
{
	unsigned before = irq14_count;
	outb(ATA_CMD, cmd);
	return wait_irq(before);
}

/* PIO data-in: one interrupt per DRQ block of `block` sectors; the data is
 * read with insw (or insl when use32).  Returns 1 when every block came
 * with DRQ and no ERR and DRQ is clear at the end. */
static int pio_read(uint8_t cmd, uint8_t *dst, unsigned nsect, unsigned block, int use32)
{
	int ok = 1;
	outb(ATA_CMD, cmd);
	for (unsigned done = 0; done < nsect;) {
		unsigned n = nsect - done < block ? nsect - done : block;
		uint8_t st = wait_irq(irq14_count);   /* IF=0 here: nothing counted yet */
		if (st == 0xFF || (st & (ST_ERR | ST_DRQ)) != ST_DRQ)
			return 0;
		if (use32)
			insl_block(dst + done * 512, n * 128);
		else
			insw_block(dst + done * 512, n * 256);
		done += n;
	}
	uint8_t st = inb(ATA_CTL);
	if (st & (ST_DRQ | ST_ERR | ST_BSY))
		ok = 0;
	return ok;
}

/* PIO data-out: DRQ for the first block without an interrupt, then one
 * interrupt after each block. */
static int pio_write(uint8_t cmd, const uint8_t *src, unsigned nsect, unsigned block, int use32)
{
	outb(ATA_CMD, cmd);
	uint8_t st = wait_drq();
	for (unsigned done = 0; done < nsect;) {
		if ((st & (ST_ERR | ST_DRQ)) != ST_DRQ)
			return 0;
		unsigned n = nsect - done < block ? nsect - done : block;
		unsigned before = irq14_count;
		if (use32)
			outsl_block(src + done * 512, n * 128);
		else
			outsw_block(src + done * 512, n * 256);
		done += n;
		st = wait_irq(before);
		if (st == 0xFF)
			return 0;
	}
	return (st & (ST_ERR | ST_DRQ | ST_BSY)) == 0;
}

static void print_string(const char *what, const uint16_t *w, unsigned nwords)
{
	char s[48];
	unsigned n = 0;
	for (unsigned i = 0; i < nwords; i++) {
		s[n++] = (char)(w[i] >> 8);
		s[n++] = (char)w[i];
	}
	while (n && s[n - 1] == ' ')
		n--;
	s[n] = 0;
	printf("%s: \"%s\"\n", what, s);
}

static void test_reset_and_slave(void)
{
	outb(ATA_CTL, 0x02);          /* nIEN while we poll */
	outb(ATA_DEV, 0xB0);          /* device 1: absent */
	uint8_t st = inb(ATA_STATUS), alt = inb(ATA_CTL), err = inb(ATA_ERR);
	CHECK(st == 0 && alt == 0 && err == 0, "absent device 1: status, alternate status, error read 00h");
	outb(ATA_DEV, 0xA0);

	/* Software reset.  BSY while SRST is set is not checked here: QEMU
	 * resets the devices in a bottom half that may clear BSY before the
	 * guest reads it (the unit test checks btvm's BSY). */
	outb(ATA_CTL, 0x06);          /* SRST + nIEN */
	outb(ATA_CTL, 0x02);
	st = wait_not_busy();
	CHECK_EQ(st & (ST_BSY | ST_DRDY | ST_DRQ | ST_ERR), ST_DRDY, "after reset: DRDY, no BSY/DRQ/ERR");
	uint8_t sig[5] = { inb(ATA_NSECT), inb(ATA_LBAL), inb(ATA_LBAM), inb(ATA_LBAH), inb(ATA_ERR) };
	CHECK(sig[0] == 1 && sig[1] == 1 && sig[2] == 0 && sig[3] == 0,
	      "after reset: ATA signature 01h 01h 00h 00h");
	CHECK_EQ(sig[4], 0x01, "after reset: diagnostic code 01h in the error register");
	CHECK_EQ(inb(ATA_DEV) & 0x10, 0, "after reset: device 0 selected");
	inb(ATA_STATUS);
}

static void test_identify(void)
{
	outb(ATA_CTL, 0x00);          /* interrupts on */
	outb(ATA_DEV, 0xA0);
	static uint16_t id[256];
	unsigned before = irq14_count;
	outb(ATA_CMD, 0xEC);
	uint8_t st = wait_irq(before);
	CHECK(st != 0xFF, "IDENTIFY DEVICE raises IRQ14");
	CHECK_EQ(irq14_vector, VEC_IRQ0 + 14, "IRQ14 arrives on vector 0x2e (slave PIC)");
	CHECK_EQ(st & (ST_BSY | ST_DRQ | ST_ERR), ST_DRQ, "IDENTIFY: DRQ, no ERR");
	insw_block(id, 256);
	CHECK_EQ(inb(ATA_CTL) & ST_DRQ, 0, "IDENTIFY: DRQ clear after 256 words");
	print_string("model", &id[27], 20);
	print_string("serial", &id[10], 10);
	print_string("firmware", &id[23], 4);
	printf("lba28 sectors: %u\n", (unsigned)(id[60] | (uint32_t)id[61] << 16));
	printf("lba48 sectors: %u (high 0x%x)\n", (unsigned)(id[100] | (uint32_t)id[101] << 16),
	       (unsigned)(id[102] | (uint32_t)id[103] << 16));
	printf("default chs: %u/%u/%u\n", id[1], id[3], id[6]);
	printf("max sectors per multiple block: %u\n", id[47] & 0xFF);
	CHECK(id[49] & (1 << 9), "word 49: LBA supported");
	CHECK_EQ(id[83] & 0xC400, 0x4400, "word 83: valid, 48-bit Address feature set");
	CHECK_EQ(id[83] & 0x3000, 0x3000, "word 83: FLUSH CACHE and FLUSH CACHE EXT");
	CHECK_EQ(id[0] & 0x8000, 0, "word 0: ATA device");
}

static void test_settings(void)
{
	outb(ATA_FEAT, 0x03);         /* set transfer mode */
	outb(ATA_NSECT, 0x0C);        /* PIO flow control mode 4 */
	uint8_t st = nondata(0xEF);
	CHECK_EQ(st & (ST_ERR | ST_BSY | ST_DRQ), 0, "SET FEATURES: PIO mode 4 accepted");

	outb(ATA_NSECT, 3);
	st = nondata(0xC6);
	CHECK(st != 0xFF && (st & ST_ERR) && (inb(ATA_ERR) & ER_ABRT), "SET MULTIPLE MODE 3 (not a power of two) aborted");
	outb(ATA_NSECT, 0);
	st = nondata(0xC6);
	CHECK_EQ(st & ST_ERR, 0, "SET MULTIPLE MODE 0 (disable) accepted");
	set_lba28(100, 1);
	st = nondata(0xC4);
	CHECK(st != 0xFF && (st & ST_ERR) && (inb(ATA_ERR) & ER_ABRT), "READ MULTIPLE with multiple mode off aborted");
	outb(ATA_NSECT, 4);
	st = nondata(0xC6);
	CHECK_EQ(st & ST_ERR, 0, "SET MULTIPLE MODE 4 accepted");

	outb(ATA_DEV, 0xAF);          /* 16 heads */
	outb(ATA_NSECT, 63);
	st = nondata(0x91);
	CHECK_EQ(st & ST_ERR, 0, "INITIALIZE DEVICE PARAMETERS 16 heads, 63 sectors accepted");
	st = nondata(0x90);
	CHECK_EQ(st & (ST_ERR | ST_BSY | ST_DRQ), 0, "EXECUTE DEVICE DIAGNOSTIC completes with an interrupt");
	CHECK_EQ(inb(ATA_ERR), 0x01, "EXECUTE DEVICE DIAGNOSTIC: code 01h (device 0 passed, device 1 absent)");
}

static void test_rw(void)
{
	/* LBA28, WRITE MULTIPLE (two blocks of 4, 16- then 32-bit), read back
	 * with READ SECTORS (one per block) and READ MULTIPLE. */
	fill_pattern(buf, 100, 8);
	set_lba28(100, 8);
	CHECK(pio_write(0xC5, buf, 8, 4, 0), "WRITE MULTIPLE lba 100, 8 sectors in blocks of 4");
	memset(back, 0, sizeof(back));
	set_lba28(100, 8);
	CHECK(pio_read(0x20, back, 8, 1, 1), "READ SECTORS lba 100, 8 sectors (insl)");
	CHECK(!memcmp(buf, back, 8 * 512), "READ SECTORS returns what WRITE MULTIPLE wrote");
	memset(back, 0, sizeof(back));
	set_lba28(100, 8);
	CHECK(pio_read(0xC4, back, 8, 4, 0), "READ MULTIPLE lba 100, 8 sectors in blocks of 4");
	CHECK(!memcmp(buf, back, 8 * 512), "READ MULTIPLE returns the same data");

	/* LBA28 WRITE SECTORS with 32-bit writes, read back with 16-bit. */
	fill_pattern(buf, 200, 3);
	set_lba28(200, 3);
	CHECK(pio_write(0x30, buf, 3, 1, 1), "WRITE SECTORS lba 200, 3 sectors (outsl)");
	memset(back, 0, sizeof(back));
	set_lba28(200, 3);
	CHECK(pio_read(0x20, back, 3, 1, 0), "READ SECTORS lba 200, 3 sectors (insw)");
	CHECK(!memcmp(buf, back, 3 * 512), "lba 200..202 read back");

	/* LBA48 above the 28-bit limit. */
	uint32_t hi = (1u << 28) + 16;
	fill_pattern(buf, hi, 5);
	set_lba48(hi, 5);
	CHECK(pio_write(0x34, buf, 5, 1, 0), "WRITE SECTORS EXT lba 0x10000010, 5 sectors");
	memset(back, 0, sizeof(back));
	set_lba48(hi, 5);
	CHECK(pio_read(0x29, back, 5, 4, 1), "READ MULTIPLE EXT lba 0x10000010, blocks of 4 then 1");
	CHECK(!memcmp(buf, back, 5 * 512), "LBA48 sectors read back");
	fill_pattern(buf, hi + 8, 2);
	set_lba48(hi + 8, 2);
	CHECK(pio_write(0x39, buf, 2, 4, 1), "WRITE MULTIPLE EXT lba 0x10000018, 2 sectors in one block");
	memset(back, 0, sizeof(back));
	set_lba48(hi + 8, 2);
	CHECK(pio_read(0x24, back, 2, 1, 0), "READ SECTORS EXT lba 0x10000018, 2 sectors");
	CHECK(!memcmp(buf, back, 2 * 512), "WRITE MULTIPLE EXT data read back");
	/* LBA28 and LBA48 address different sectors: lba 16 is untouched. */
	set_lba28(16, 1);
	CHECK(pio_read(0x20, back, 1, 1, 0), "READ SECTORS lba 16");
	int zero = 1;
	for (unsigned i = 0; i < 512; i++)
		zero &= back[i] == 0;
	CHECK(zero, "lba 16 still zeros (the LBA48 writes went above 2^28)");
}

static void test_generator_sectors(void)
{
	set_lba28(0, 1);
	CHECK(pio_read(0x20, back, 1, 1, 0) && generator_sector_ok(back, 0), "generator's lba 0 via READ SECTORS");
	uint32_t top28 = (1u << 28) - 2;
	set_lba28(top28, 1);
	CHECK(pio_read(0x20, back, 1, 1, 1) && generator_sector_ok(back, top28),
	      "generator's lba 0x0ffffffe via LBA28 (bits 27:24 in the device register)");
	set_lba48(1u << 28, 1);
	CHECK(pio_read(0x24, back, 1, 1, 0) && generator_sector_ok(back, 1u << 28),
	      "generator's lba 0x10000000 via READ SECTORS EXT");
	set_lba48(DISK_SECTORS - 1, 1);
	CHECK(pio_read(0x24, back, 1, 1, 0) && generator_sector_ok(back, DISK_SECTORS - 1),
	      "generator's last sector 0x100007ff via READ SECTORS EXT");
	/* CHS: lba 1000 = cylinder 0, head 15, sector 56 with 16 heads and 63
	 * sectors per track. */
	outb(ATA_DEV, 0xAF);
	outb(ATA_NSECT, 1);
	outb(ATA_LBAL, 56);
	outb(ATA_LBAM, 0);
	outb(ATA_LBAH, 0);
	CHECK(pio_read(0x20, back, 1, 1, 0) && generator_sector_ok(back, 1000),
	      "generator's lba 1000 via CHS 0/15/56");
}

static void test_other_commands(void)
{
	set_lba28((1u << 28) - 16, 15);
	uint8_t st = nondata(0x40);
	CHECK_EQ(st & (ST_ERR | ST_DRQ | ST_BSY), 0, "READ VERIFY SECTORS 15 sectors below the LBA28 limit");
	st = nondata(0xE7);
	CHECK_EQ(st & (ST_ERR | ST_DRQ | ST_BSY), 0, "FLUSH CACHE");
	st = nondata(0xEA);
	CHECK_EQ(st & (ST_ERR | ST_DRQ | ST_BSY), 0, "FLUSH CACHE EXT");

	set_lba48(DISK_SECTORS, 1);
	st = nondata(0x24);
	uint8_t err = inb(ATA_ERR);
	CHECK(st != 0xFF && (st & (ST_ERR | ST_DRQ)) == ST_ERR && (err & (ER_IDNF | ER_ABRT)),
	      "READ SECTORS EXT past the last sector: ERR (IDNF or ABRT), no data");
	st = nondata(0x6F);
	CHECK(st != 0xFF && (st & ST_ERR) && (inb(ATA_ERR) & ER_ABRT), "unknown command 6Fh aborted");

	/* nIEN: a command completes without IRQ14. */
	outb(ATA_CTL, 0x02);
	unsigned before = irq14_count;
	outb(ATA_CMD, 0xE7);
	st = wait_not_busy();
	CHECK_EQ(st & (ST_ERR | ST_DRQ | ST_BSY), 0, "FLUSH CACHE with nIEN set completes");
	CHECK(irq14_count == before && !(pic_read_irr() & (1u << 14)), "nIEN set: no IRQ14");
	inb(ATA_STATUS);
	outb(ATA_CTL, 0x00);
}

void main(void)
{
	printf("ata: PCI configuration mechanism #1 and the primary ATA disk\n");
	test_pci();

	set_irq_handler(14, irq14);
	set_irq_handler(0, irq0);
	pit_set_rate(100);
	pic_unmask(0);
	pic_unmask(14);

	test_reset_and_slave();
	test_identify();
	test_settings();
	test_rw();
	test_generator_sectors();
	test_other_commands();
	pic_set_mask(0xFFFF);
}
