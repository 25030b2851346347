/* ide: the four IDE positions, as a kernel written on QEMU's pc machine
 * finds and uses them (no paging).  The drives come from ide-drives.sh
 * (all four: disks at 0, 1, 3, a CD at 2) or, for the test ide+sparse,
 * ide+sparse-drives.sh (a disk on the primary slave only, an empty CD
 * drive as the secondary master); the guest finds out which itself.
 *
 * Detection: a software reset of each channel, then each device's status
 * and signature (ATA 00h/00h, ATAPI 14h/EBh, nothing FFh/FFh) and IDENTIFY
 * (an absent device 1 ignores it; an absent device 0 next to a device 1
 * aborts it).  Disks: IDENTIFY, the generator's sector 0 naming the drive,
 * a write and read-back, the end of the disk.  The CD: IDENTIFY DEVICE
 * aborted with the signature, IDENTIFY PACKET DEVICE, and the packet
 * commands with their phases (interrupt reason, byte count, interrupts):
 * TEST UNIT READY, INQUIRY, READ CAPACITY, READ(10) and READ(12) of
 * known blocks, the byte count limit splitting a read, READ TOC (LBA and
 * MSF), MODE SENSE pages 01h and 2Ah, PREVENT/ALLOW, GET CONFIGURATION,
 * REQUEST SENSE after a bad opcode and a read past the end, a zero byte
 * count limit; without a medium, NOT READY.  Device selection: writes
 * while DRQ is set are dropped, each device keeps its own status.
 * Interrupts: IRQ14 and IRQ15, nIEN per channel.
 *
 * Printed: only what QEMU and btvm must agree on.  QEMU runs the drives
 * with btvm's model and firmware strings (run-guest.sh); serial numbers,
 * INQUIRY vendor and product, and the mode page bytes where btvm's
 * device differs from QEMU's DVD-ROM are checked, not printed. */
#include "guest.h"

enum { R_DATA, R_ERR, R_NSECT, R_LBAL, R_LBAM, R_LBAH, R_DEV, R_STATUS };
#define R_FEAT R_ERR
#define R_CMD R_STATUS
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DRQ 0x08
#define ST_ERR 0x01

static const uint16_t cmd_port[2] = { 0x1F0, 0x170 }, ctl_port[2] = { 0x3F6, 0x376 };
static const char *const position[4] = {
	"primary master", "primary slave", "secondary master", "secondary slave",
};
enum kind { NOTHING, DISK, CDROM };
static enum kind kind[4];
static uint32_t disk_sectors[4];

static uint8_t rd(unsigned ch, unsigned reg) { return inb((uint16_t)(cmd_port[ch] + reg)); }
static void wr(unsigned ch, unsigned reg, uint8_t v) { outb((uint16_t)(cmd_port[ch] + reg), v); }
static uint8_t alt(unsigned ch) { return inb(ctl_port[ch]); }
static void ctl(unsigned ch, uint8_t v) { outb(ctl_port[ch], v); }

/* ------------------------------------------------------------------ interrupts */

static volatile unsigned irq_count[2], ticks;
static volatile uint8_t irq_status[2];
static volatile uint32_t irq_vector[2];

static void irq14(struct regs *r)
{
	irq_status[0] = rd(0, R_STATUS);     /* acknowledges the device's interrupt */
	irq_vector[0] = r->vector;
	irq_count[0]++;
	pic_eoi(14);
}

static void irq15(struct regs *r)
{
	irq_status[1] = rd(1, R_STATUS);
	irq_vector[1] = r->vector;
	irq_count[1]++;
	pic_eoi(15);
}

static void irq0(struct regs *r)
{
	(void)r;
	ticks++;
	pic_eoi(0);
}

/* The next interrupt of the channel (at most `limit` PIT ticks of 10 ms):
 * the status its handler read, or 0xFF. */
static uint8_t wait_irq_for(unsigned ch, unsigned before, unsigned limit)
{
	unsigned t0 = ticks;
	while (irq_count[ch] == before && ticks - t0 < limit)
		sti_hlt();
	cli();
	return irq_count[ch] == before ? 0xFF : irq_status[ch];
}

static uint8_t wait_irq(unsigned ch, unsigned before) { return wait_irq_for(ch, before, 200); }

static uint8_t wait_not_busy(unsigned ch)
{
	uint8_t st = 0xFF;
	for (unsigned i = 0; i < 10000000u; i++) {
		st = alt(ch);
		if (!(st & ST_BSY))
			break;
	}
	return st;
}

static uint8_t wait_drq_or_err(unsigned ch)
{
	uint8_t st = 0xFF;
	for (unsigned i = 0; i < 10000000u; i++) {
		st = alt(ch);
		if (!(st & ST_BSY) && (st & (ST_DRQ | ST_ERR)))
			break;
	}
	return st;
}

/* Device selection, then the 400 ns the host waits (four status reads). */
static void select_unit(unsigned ch, unsigned unit, uint8_t bits)
{
	wr(ch, R_DEV, (uint8_t)(bits | (unit ? 0x10 : 0)));
	for (unsigned i = 0; i < 4; i++)
		alt(ch);
}

static void insw_n(unsigned ch, void *buf, unsigned words)
{
	__asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(cmd_port[ch]) : "memory");
}

static void outsw_n(unsigned ch, const void *buf, unsigned words)
{
	__asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(cmd_port[ch]) : "memory");
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
	printf("  %s: \"%s\"\n", what, s);
}

static int printable(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7E)
			return 0;
	return 1;
}

/* The generators' marked sectors: `text` padded with dots to 31
 * characters and a newline, `n` times. */
static int marked(const uint8_t *p, const char *text, unsigned n)
{
	char line[32];
	unsigned l = 0;
	while (text[l] && l < 31) {
		line[l] = text[l];
		l++;
	}
	while (l < 31)
		line[l++] = '.';
	line[31] = '\n';
	for (unsigned k = 0; k < n; k++)
		if (memcmp(p + 32 * k, line, 32))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ detection */

/* A software reset of the channel with its interrupt masked, device 0
 * selected first (writes are dropped while a device is busy). */
static void reset_channel(unsigned ch)
{
	ctl(ch, 0x02);
	select_unit(ch, 0, 0xA0);
	ctl(ch, 0x06);
	ctl(ch, 0x02);
	wait_not_busy(ch);
}

static void detect(unsigned ch)
{
	reset_channel(ch);
	for (unsigned unit = 0; unit < 2; unit++) {
		unsigned idx = 2 * ch + unit;
		select_unit(ch, unit, 0xA0);
		uint8_t st = alt(ch), err = rd(ch, R_ERR);
		uint8_t sig[4] = { rd(ch, R_NSECT), rd(ch, R_LBAL), rd(ch, R_LBAM), rd(ch, R_LBAH) };
		printf("%s after reset: status %02x, error %02x, signature %02x %02x %02x %02x\n", position[idx],
		       st, err, sig[0], sig[1], sig[2], sig[3]);
		if (sig[2] == 0x14 && sig[3] == 0xEB)
			kind[idx] = CDROM;
		else if (sig[2] == 0 && sig[3] == 0 && (st & ST_DRDY))
			kind[idx] = DISK;
		else
			kind[idx] = NOTHING;
	}
	ctl(ch, 0x00);
}

/* IDENTIFY to a position that has no device: device 1 ignores it (no
 * interrupt, status 00h); device 0 next to a device 1 aborts it. */
static void identify_nothing(unsigned idx)
{
	unsigned ch = idx / 2;
	select_unit(ch, idx % 2, 0xA0);
	unsigned before = irq_count[ch];
	wr(ch, R_CMD, 0xEC);
	uint8_t st = wait_irq_for(ch, before, 20);
	if (st == 0xFF)
		printf("  IDENTIFY: no interrupt, status %02x\n", alt(ch));
	else
		printf("  IDENTIFY: interrupt, status %02x, error %02x\n", st, rd(ch, R_ERR));
	CHECK(!(alt(ch) & ST_DRQ), "%s: no data to read", position[idx]);
}

/* ------------------------------------------------------------------ disks */

static uint8_t buf[8192], back[8192];

static void set_lba28(unsigned idx, uint32_t lba, unsigned count)
{
	unsigned ch = idx / 2;
	select_unit(ch, idx % 2, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
	wr(ch, R_NSECT, (uint8_t)count);
	wr(ch, R_LBAL, (uint8_t)lba);
	wr(ch, R_LBAM, (uint8_t)(lba >> 8));
	wr(ch, R_LBAH, (uint8_t)(lba >> 16));
}

/* READ SECTORS: one interrupt per sector; 1 when all came without ERR. */
static int disk_read(unsigned idx, uint32_t lba, unsigned n, uint8_t *dst)
{
	unsigned ch = idx / 2;
	set_lba28(idx, lba, n);
	wr(ch, R_CMD, 0x20);
	for (unsigned s = 0; s < n; s++) {
		uint8_t st = wait_irq(ch, irq_count[ch]);
		if (st == 0xFF || (st & (ST_ERR | ST_DRQ)) != ST_DRQ)
			return 0;
		insw_n(ch, dst + 512 * s, 256);
	}
	return !(alt(ch) & (ST_BSY | ST_DRQ | ST_ERR));
}

/* WRITE SECTORS: DRQ for the first sector, an interrupt after each. */
static int disk_write(unsigned idx, uint32_t lba, unsigned n, const uint8_t *src)
{
	unsigned ch = idx / 2;
	set_lba28(idx, lba, n);
	wr(ch, R_CMD, 0x30);
	uint8_t st = wait_drq_or_err(ch);
	for (unsigned s = 0; s < n; s++) {
		if ((st & (ST_ERR | ST_DRQ)) != ST_DRQ)
			return 0;
		unsigned before = irq_count[ch];
		outsw_n(ch, src + 512 * s, 256);
		st = wait_irq(ch, before);
		if (st == 0xFF)
			return 0;
	}
	return !(st & (ST_BSY | ST_DRQ | ST_ERR));
}

static void test_disk(unsigned idx)
{
	unsigned ch = idx / 2;
	static uint16_t id[256];
	select_unit(ch, idx % 2, 0xA0);
	unsigned before = irq_count[ch];
	wr(ch, R_CMD, 0xEC);
	uint8_t st = wait_irq(ch, before);
	CHECK_EQ(st & (ST_BSY | ST_DRQ | ST_ERR), ST_DRQ, "%s: IDENTIFY DEVICE interrupts with DRQ", position[idx]);
	CHECK_EQ(irq_vector[ch], VEC_IRQ0 + 14 + ch, "%s: on IRQ%u", position[idx], 14 + ch);
	insw_n(ch, id, 256);
	print_string("model", &id[27], 20);
	print_string("firmware", &id[23], 4);
	disk_sectors[idx] = id[60] | (uint32_t)id[61] << 16;
	printf("  word 0 %04x, lba28 sectors %u\n", id[0], (unsigned)disk_sectors[idx]);
	CHECK(printable((const uint8_t *)&id[10], 20) && id[10] != 0x2020, "%s: a serial number", position[idx]);

	char name[24] = "btvm ide drive ";
	name[15] = (char)('0' + idx);
	name[16] = 0;
	CHECK(disk_read(idx, 0, 1, buf) && marked(buf, name, 16), "%s: sector 0 names drive %u", position[idx], idx);
	for (unsigned i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(idx * 31 + i * 7);
	CHECK(disk_write(idx, 7, 2, buf), "%s: WRITE SECTORS 7-8", position[idx]);
	memset(back, 0, 1024);
	CHECK(disk_read(idx, 7, 2, back) && !memcmp(buf, back, 1024), "%s: sectors 7-8 read back", position[idx]);
	CHECK(disk_read(idx, disk_sectors[idx] - 1, 1, back), "%s: the last sector reads", position[idx]);
	set_lba28(idx, disk_sectors[idx], 1);
	before = irq_count[ch];
	wr(ch, R_CMD, 0x20);
	st = wait_irq(ch, before);
	CHECK(st != 0xFF && (st & (ST_ERR | ST_DRQ)) == ST_ERR, "%s: a read past the end fails", position[idx]);
}

/* ------------------------------------------------------------------ the CD */

struct reply {
	uint8_t status, error, reason;      /* at the end */
	unsigned got, blocks, block_len[8];
};

static uint8_t cd[8192];

/* A packet command through its phases (ATA/ATAPI-6 9.8), checked on the
 * way: the packet DRQ with reason C/D and no interrupt; each DRQ block
 * with reason I/O and an interrupt; the end with an interrupt. */
static int packet(unsigned idx, const uint8_t cdb[12], uint16_t bcl, struct reply *r)
{
	unsigned ch = idx / 2;
	memset(r, 0, sizeof(*r));
	select_unit(ch, idx % 2, 0xA0);
	wr(ch, R_FEAT, 0);
	wr(ch, R_LBAM, (uint8_t)bcl);
	wr(ch, R_LBAH, (uint8_t)(bcl >> 8));
	unsigned before = irq_count[ch];
	wr(ch, R_CMD, 0xA0);
	uint8_t st = wait_drq_or_err(ch);
	if ((st & (ST_DRQ | ST_ERR)) != ST_DRQ || rd(ch, R_NSECT) != 0x01 || irq_count[ch] != before)
		return 0;
	outsw_n(ch, cdb, 6);
	for (;;) {
		st = wait_irq(ch, before);
		if (st == 0xFF)
			return 0;
		before = irq_count[ch];
		if (!(st & ST_DRQ))
			break;
		if ((rd(ch, R_NSECT) & 3) != 0x02 || r->blocks == 8)
			return 0;
		unsigned n = rd(ch, R_LBAM) | rd(ch, R_LBAH) << 8;
		r->block_len[r->blocks++] = n;
		for (unsigned i = 0; i < n; i += 2) {
			uint16_t w = inw(cmd_port[ch]);
			if (r->got + 2 <= sizeof(cd)) {
				cd[r->got] = (uint8_t)w;
				cd[r->got + 1] = (uint8_t)(w >> 8);
			}
			r->got += i + 1 < n ? 2 : 1;
		}
	}
	r->status = st;
	r->error = rd(ch, R_ERR);
	r->reason = rd(ch, R_NSECT) & 3;
	return 1;
}

static int good(unsigned idx, const uint8_t cdb[12], struct reply *r)
{
	return packet(idx, cdb, 0xFFFE, r) && r->status == 0x50 && r->reason == 3;
}

/* CHECK CONDITION, then REQUEST SENSE: prints the sense key and ASC. */
static void check_condition(unsigned idx, const char *what, const uint8_t cdb[12])
{
	struct reply r;
	int ok = packet(idx, cdb, 0xFFFE, &r);
	printf("  %s: status %02x, error %02x, reason %u, %u bytes\n", what, r.status, r.error, r.reason, r.got);
	CHECK(ok, "%s: completes", what);
	static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
	ok = good(idx, rs, &r);
	CHECK(ok && r.got == 18 && (cd[0] & 0x7F) == 0x70 && cd[7] == 10, "REQUEST SENSE after %s: fixed format", what);
	printf("  sense: key %x, asc %02x\n", cd[2] & 0x0F, cd[12]);
}

static void print_bytes(const char *what, const uint8_t *p, unsigned n)
{
	printf("  %s:", what);
	for (unsigned i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

static void test_cd_medium(unsigned idx)
{
	struct reply r;
	static const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	CHECK(good(idx, inq, &r) && r.got == 36, "INQUIRY: 36 bytes");
	printf("  inquiry: type %02x, rmb %02x, version %02x, format %02x, length %u, revision \"%c%c%c%c\"\n",
	       cd[0], cd[1], cd[2], cd[3], cd[4], cd[32], cd[33], cd[34], cd[35]);
	CHECK(printable(cd + 8, 24), "INQUIRY: vendor and product are ASCII");

	static const uint8_t cap[12] = { 0x25 };
	CHECK(good(idx, cap, &r) && r.got == 8, "READ CAPACITY: 8 bytes");
	printf("  capacity: last block %u, block size %u\n",
	       (unsigned)(cd[0] << 24 | cd[1] << 16 | cd[2] << 8 | cd[3]),
	       (unsigned)(cd[4] << 24 | cd[5] << 16 | cd[6] << 8 | cd[7]));

	static const uint8_t rd16[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 1 };
	CHECK(good(idx, rd16, &r) && r.got == 2048 && r.blocks == 1 && marked(cd, "btvm ide cd block 000016", 64),
	      "READ(10) block 16: one DRQ block, the generator's block");
	/* blocks 1-2 with a byte count limit of 3000: 3000 + 1096 bytes */
	static const uint8_t rd12b[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 2 };
	int ok = packet(idx, rd12b, 3000, &r) && r.status == 0x50;
	printf("  READ(10) blocks 1-2, limit 3000: %u DRQ blocks of %u and %u bytes\n", r.blocks, r.block_len[0],
	       r.block_len[1]);
	CHECK(ok && r.got == 4096 && marked(cd, "btvm ide cd block 000001", 64) &&
	      marked(cd + 2048, "btvm ide cd block 000002", 64), "READ(10) blocks 1-2 through the limit");
	static const uint8_t rd_last[12] = { 0xA8, 0, 0, 0, 0x01, 0x2B, 0, 0, 0, 1 };
	CHECK(good(idx, rd_last, &r) && r.got == 2048 && marked(cd, "btvm ide cd block 000299", 64),
	      "READ(12) the last block");
	static const uint8_t rd_none[12] = { 0x28, 0, 0, 0, 0, 5 };
	CHECK(good(idx, rd_none, &r) && r.got == 0, "READ(10) of no blocks: good status, no data");

	static const uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
	CHECK(good(idx, toc, &r) && r.got == 20, "READ TOC format 0 (LBA): 20 bytes");
	print_bytes("toc", cd, 20);
	static const uint8_t toc_msf[12] = { 0x43, 2, 0, 0, 0, 0, 0, 0, 100 };
	CHECK(good(idx, toc_msf, &r) && r.got == 20, "READ TOC format 0 (MSF): 20 bytes");
	print_bytes("toc msf", cd, 20);

	static const uint8_t ms01[12] = { 0x5A, 0, 0x01, 0, 0, 0, 0, 0, 100 };
	CHECK(good(idx, ms01, &r) && r.got == 16 && cd[1] == 14, "MODE SENSE(10) page 01h: 16 bytes");
	print_bytes("page 01", cd + 8, 8);
	static const uint8_t ms2a[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 100 };
	CHECK(good(idx, ms2a, &r) && r.got == 30 && cd[1] == 28, "MODE SENSE(10) page 2Ah: 30 bytes");
	printf("  page 2a: code %02x, length %u, audio %02x, mechanism %02x, max speed %u, buffer %u\n",
	       cd[8], cd[9], cd[12], cd[14], cd[16] << 8 | cd[17], cd[20] << 8 | cd[21]);

	static const uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 }, unlock[12] = { 0x1E };
	CHECK(good(idx, lock, &r), "PREVENT ALLOW MEDIUM REMOVAL: prevent");
	CHECK(good(idx, unlock, &r), "PREVENT ALLOW MEDIUM REMOVAL: allow");
	static const uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 8 };
	CHECK(good(idx, gc, &r) && r.got == 8, "GET CONFIGURATION: the 8-byte header");
	printf("  current profile %04x\n", cd[6] << 8 | cd[7]);

	static const uint8_t bad[12] = { 0xFF };
	check_condition(idx, "opcode ffh", bad);
	static const uint8_t past[12] = { 0x28, 0, 0, 0, 0x01, 0x2B, 0, 0, 2 };
	check_condition(idx, "READ(10) past the end", past);
	static const uint8_t tur[12] = { 0 };
	CHECK(good(idx, tur, &r), "TEST UNIT READY after the errors");
}

static void test_cd(unsigned idx)
{
	unsigned ch = idx / 2;
	select_unit(ch, idx % 2, 0xA0);
	unsigned before = irq_count[ch];
	wr(ch, R_LBAM, 0);
	wr(ch, R_CMD, 0xEC);
	uint8_t st = wait_irq(ch, before);
	printf("  IDENTIFY DEVICE: status %02x, error %02x, signature %02x %02x\n", st, rd(ch, R_ERR),
	       rd(ch, R_LBAM), rd(ch, R_LBAH));
	static uint16_t id[256];
	before = irq_count[ch];
	wr(ch, R_CMD, 0xA1);
	st = wait_irq(ch, before);
	CHECK_EQ(st & (ST_BSY | ST_DRQ | ST_ERR), ST_DRQ, "IDENTIFY PACKET DEVICE interrupts with DRQ");
	CHECK_EQ(irq_vector[ch], VEC_IRQ0 + 14 + ch, "on IRQ%u", 14 + ch);
	insw_n(ch, id, 256);
	printf("  word 0 %04x\n", id[0]);
	print_string("model", &id[27], 20);
	print_string("firmware", &id[23], 4);

	/* the phases of a command without data */
	struct reply r;
	static const uint8_t tur[12] = { 0 };
	int ok = packet(idx, tur, 0, &r);
	CHECK(ok, "TEST UNIT READY: packet DRQ with reason C/D and no interrupt, then an interrupt");
	printf("  TEST UNIT READY: status %02x, error %02x, reason %u\n", r.status, r.error, r.reason);
	if (r.status == 0x50) {
		test_cd_medium(idx);
	} else {
		check_condition(idx, "TEST UNIT READY", tur);
		static const uint8_t cap[12] = { 0x25 };
		check_condition(idx, "READ CAPACITY", cap);
		static const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
		CHECK(good(idx, inq, &r) && r.got == 36 && cd[0] == 0x05, "INQUIRY without a medium");
		static const uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 8 };
		CHECK(good(idx, gc, &r) && r.got == 8, "GET CONFIGURATION without a medium");
		printf("  current profile %04x\n", cd[6] << 8 | cd[7]);
	}

	/* a data command with a zero byte count limit: aborted at the ATA
	 * level (polled: QEMU raises no interrupt for it) */
	ctl(ch, 0x02);
	wr(ch, R_FEAT, 0);
	wr(ch, R_LBAM, 0);
	wr(ch, R_LBAH, 0);
	wr(ch, R_CMD, 0xA0);
	wait_drq_or_err(ch);
	static const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	outsw_n(ch, inq, 6);
	st = wait_not_busy(ch);
	printf("  INQUIRY with a zero byte count limit: status %02x, error %02x\n", st, rd(ch, R_ERR));
	rd(ch, R_STATUS);
	ctl(ch, 0x00);
}

/* ------------------------------------------------------------------ selection and interrupts */

/* Each device keeps its own status, whichever is selected (device 0
 * here may be a disk, a CD or an absent device 0 answering for device
 * 1); and with device 0 in the middle of a data-in command, a write
 * selecting device 1 is dropped (the host must not write the command
 * block while DRQ is set). */
static void test_selection(unsigned ch)
{
	unsigned m = 2 * ch, s = m + 1;
	if (kind[s] != DISK)
		return;
	const char *name = ch ? "secondary" : "primary";
	ctl(ch, 0x02);
	select_unit(ch, 1, 0xA0);
	wr(ch, R_CMD, 0xE7);                 /* FLUSH CACHE: good status */
	wait_not_busy(ch);
	select_unit(ch, 0, 0xA0);
	wr(ch, R_CMD, 0x6F);                 /* unknown: aborted */
	wait_not_busy(ch);
	uint8_t st0 = alt(ch);
	select_unit(ch, 1, 0xA0);
	uint8_t st1 = alt(ch);
	select_unit(ch, 0, 0xA0);
	printf("%s: device 0 after an unknown command %02x, device 1 after FLUSH CACHE %02x, device 0 again %02x\n",
	       name, st0, st1, alt(ch));
	if (kind[m] == DISK) {
		set_lba28(m, 0, 1);
		wr(ch, R_CMD, 0x20);
		uint8_t st = wait_drq_or_err(ch);
		wr(ch, R_DEV, 0xB0);
		printf("%s: DRQ %02x; selecting device 1 during DRQ: device register %02x, status %02x\n",
		       name, st, rd(ch, R_DEV), alt(ch));
		insw_n(ch, buf, 256);
		CHECK(marked(buf, "btvm ide drive 0", 16), "%s: device 0's data after the dropped write", name);
	}
	rd(ch, R_STATUS);
	ctl(ch, 0x00);
}

/* nIEN belongs to its channel: with the primary's set, a primary command
 * completes without IRQ14 while a secondary one raises IRQ15. */
static void test_channel_interrupts(void)
{
	int disk0 = -1, any1 = -1;
	for (unsigned u = 0; u < 2; u++) {
		if (disk0 < 0 && kind[u] == DISK)
			disk0 = (int)u;
		if (any1 < 0 && kind[2 + u] != NOTHING)
			any1 = (int)(2 + u);
	}
	if (disk0 < 0 || any1 < 0)
		return;
	ctl(0, 0x02);
	select_unit(0, (unsigned)disk0 % 2, 0xA0);
	select_unit(1, (unsigned)any1 % 2, 0xA0);
	unsigned b0 = irq_count[0], b1 = irq_count[1];
	wr(0, R_CMD, 0xE7);                  /* FLUSH CACHE */
	wr(1, R_CMD, kind[any1] == DISK ? 0xE7 : 0xEC);
	uint8_t st1 = wait_irq(1, b1);
	wait_not_busy(0);
	CHECK(st1 != 0xFF && irq_vector[1] == VEC_IRQ0 + 15, "secondary with nIEN clear: IRQ15");
	CHECK(irq_count[0] == b0 && !(pic_read_irr() & (1u << 14)), "primary with nIEN set: no IRQ14");
	rd(0, R_STATUS);
	ctl(0, 0x00);
}

void main(void)
{
	printf("ide: four IDE positions, ATA disks and an ATAPI CD-ROM\n");
	set_irq_handler(14, irq14);
	set_irq_handler(15, irq15);
	set_irq_handler(0, irq0);
	pit_set_rate(100);
	pic_unmask(0);
	pic_unmask(14);
	pic_unmask(15);

	detect(0);
	detect(1);
	for (unsigned idx = 0; idx < 4; idx++) {
		static const char *const what[] = { "nothing", "ATA disk", "ATAPI device" };
		printf("%s: %s\n", position[idx], what[kind[idx]]);
		switch (kind[idx]) {
		case DISK:
			test_disk(idx);
			break;
		case CDROM:
			test_cd(idx);
			break;
		case NOTHING:
			identify_nothing(idx);
			break;
		}
	}
	test_selection(0);
	test_selection(1);
	test_channel_interrupts();
	pic_set_mask(0xFFFF);
}
