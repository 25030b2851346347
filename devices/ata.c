/* ATA channel with one PIO disk.  The references are ATA/ATAPI-6 (T13
 * project 1410D): clause 7 for the registers, clause 8 for the commands,
 * clause 9 for the protocols; where a driver depends on a detail the spec
 * leaves open, QEMU's hw/ide/core.c behaviour is what stock drivers (Linux
 * ata_piix) are known to work with, and the comment says so. */
#include "devices/ata.h"
#include <errno.h>
#include <string.h>

enum {
	REG_DATA, REG_FEATURE_ERROR, REG_NSECTOR, REG_LBA_LO, REG_LBA_MID, REG_LBA_HI,
	REG_DEVICE, REG_CMD_STATUS,
};

#define DEV_LBA 0x40
#define DEV_DEV 0x10
#define DEV_OBS 0xA0   /* bits 7 and 5: obsolete, read back as one */

/* Command opcodes (clause 8 and Annex B) */
enum {
	CMD_NOP = 0x00, CMD_RECALIBRATE = 0x10, CMD_READ = 0x20, CMD_READ_NR = 0x21,
	CMD_READ_EXT = 0x24, CMD_READ_MULT_EXT = 0x29, CMD_WRITE = 0x30, CMD_WRITE_NR = 0x31,
	CMD_WRITE_EXT = 0x34, CMD_WRITE_MULT_EXT = 0x39, CMD_VERIFY = 0x40, CMD_VERIFY_NR = 0x41,
	CMD_VERIFY_EXT = 0x42, CMD_SEEK = 0x70, CMD_DIAGNOSTIC = 0x90, CMD_INIT_PARAMS = 0x91,
	CMD_READ_MULT = 0xC4, CMD_WRITE_MULT = 0xC5, CMD_SET_MULT = 0xC6,
	CMD_STANDBY_IMM = 0xE0, CMD_IDLE_IMM = 0xE1, CMD_STANDBY = 0xE2, CMD_IDLE = 0xE3,
	CMD_CHECK_POWER = 0xE5, CMD_FLUSH = 0xE7, CMD_FLUSH_EXT = 0xEA, CMD_IDENTIFY = 0xEC,
	CMD_SET_FEATURES = 0xEF,
	/* ATA-3 era power-management opcodes, still accepted by disks */
	CMD_STANDBY_IMM_OLD = 0x94, CMD_IDLE_IMM_OLD = 0x95, CMD_STANDBY_OLD = 0x96,
	CMD_IDLE_OLD = 0x97, CMD_CHECK_POWER_OLD = 0x98,
};

#define LBA28_LIMIT 0x0FFFFFFFull    /* words 60-61 saturate here */

static const char MODEL[] = "btvm ATA disk";
static const char SERIAL[] = "BTVM00001";
static const char FIRMWARE[] = "1.0";

/* ------------------------------------------------------------------ interrupts */

/* INTRQ is driven by the selected device only, and released while nIEN is
 * one (clause 7, Device Control register). */
static void update_irq(struct ata_channel *c)
{
	int level = c->drive[c->sel].intrq && !(c->devctl & ATA_DC_NIEN);
	if (level != c->irq_level) {
		c->irq_level = level;
		irq_set(&c->irq, level);
	}
}

static void raise_irq(struct ata_channel *c, struct ata_drive *d)
{
	d->intrq = true;
	update_irq(c);
}

/* ------------------------------------------------------------------ geometry */

static uint64_t lba28_capacity(const struct ata_drive *d)
{
	return d->img->sectors < LBA28_LIMIT ? d->img->sectors : LBA28_LIMIT;
}

/* The default translation of IDENTIFY words 1, 3 and 6: 16 heads and 63
 * sectors per track, at most 16383 cylinders (the values ATA-6 prescribes
 * for devices over 8.4 GB, and what BIOSes and QEMU use for smaller ones). */
static void default_geometry(struct ata_drive *d)
{
	uint64_t cyls = d->img ? d->img->sectors / (16 * 63) : 0;
	d->heads = 16;
	d->spt = 63;
	d->cyls = cyls < 1 ? 1 : cyls > 16383 ? 16383 : (uint32_t)cyls;
}

static uint64_t chs_capacity(const struct ata_drive *d)
{
	return (uint64_t)d->cyls * d->heads * d->spt;
}

/* ------------------------------------------------------------------ IDENTIFY */

/* ATA strings: two characters a word, the first in the high byte, padded
 * with spaces (clause 8, IDENTIFY DEVICE, words 10-19, 23-26, 27-46). */
static void put_string(uint16_t *w, const char *s, unsigned nwords)
{
	size_t n = strlen(s);
	for (unsigned i = 0; i < nwords; i++) {
		uint8_t hi = 2 * i < n ? (uint8_t)s[2 * i] : ' ';
		uint8_t lo = 2 * i + 1 < n ? (uint8_t)s[2 * i + 1] : ' ';
		w[i] = (uint16_t)(hi << 8 | lo);
	}
}

void ata_identify(const struct ata_drive *d, uint16_t id[256])
{
	memset(id, 0, 256 * sizeof(id[0]));
	if (!d->img)
		return;
	uint64_t total = d->img->sectors, lba28 = lba28_capacity(d);
	uint32_t defcyls = (uint32_t)(total / (16 * 63));
	defcyls = defcyls < 1 ? 1 : defcyls > 16383 ? 16383 : defcyls;
	uint64_t cur_chs = chs_capacity(d);
	if (cur_chs > 0xFFFFFFFFull)
		cur_chs = 0xFFFFFFFFull;

	id[0] = 0x0040;                 /* ATA device, not removable */
	id[1] = (uint16_t)defcyls;      /* default CHS translation */
	id[3] = 16;
	id[6] = 63;
	put_string(&id[10], SERIAL, 10);
	put_string(&id[23], FIRMWARE, 4);
	put_string(&id[27], MODEL, 20);
	id[47] = 0x8000 | ATA_MAX_MULT; /* READ/WRITE MULTIPLE: up to 16 a block */
	id[48] = 0x0001;                /* 32-bit data port I/O (ATA-1's word 48; Linux reads it) */
	id[49] = (1 << 11) | (1 << 9);  /* IORDY, LBA; bit 8 (DMA) clear: PIO only */
	id[50] = 0x4000;
	id[51] = 0x0200;                /* obsolete PIO timing mode: 2 */
	id[53] = 0x0003;                /* words 54-58 and 64-70 valid; 88 not (no UDMA) */
	id[54] = (uint16_t)d->cyls;     /* current CHS translation */
	id[55] = d->heads;
	id[56] = d->spt;
	id[57] = (uint16_t)cur_chs;
	id[58] = (uint16_t)(cur_chs >> 16);
	if (d->mult)
		id[59] = 0x0100 | (uint16_t)d->mult;
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	id[64] = 0x0003;                /* PIO modes 3 and 4 */
	id[67] = 120;                   /* minimum PIO cycle (ns), without and */
	id[68] = 120;                   /* with IORDY flow control: PIO mode 4 */
	id[80] = 0x0070;                /* ATA/ATAPI-4, -5, -6 */
	/* 82/85: NOP, look-ahead, write cache, power management supported/enabled.
	 * 83/86: FLUSH CACHE EXT, FLUSH CACHE, 48-bit Address (bits 15:14 of 83
	 * and 84 are 01b: the words are valid). */
	id[82] = (1 << 14) | (1 << 6) | (1 << 5) | (1 << 3);
	id[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10);
	id[84] = 0x4000;
	id[85] = (1 << 14) | (d->look_ahead ? 1 << 6 : 0) | (d->img->write_cache ? 1 << 5 : 0) | (1 << 3);
	id[86] = (1 << 13) | (1 << 12) | (1 << 10);
	id[87] = 0x4000;
	id[88] = 0x0000;                /* no Ultra DMA mode */
	/* Hardware reset result (device 0): valid, device number by jumper,
	 * passed diagnostics; it does not answer for device 1 (bit 6). */
	id[93] = 0x4000 | 0x0008 | 0x0002 | 0x0001;
	id[100] = (uint16_t)total;
	id[101] = (uint16_t)(total >> 16);
	id[102] = (uint16_t)(total >> 32);
	id[103] = (uint16_t)(total >> 48);
	/* Integrity word: signature A5h, and a checksum that makes the 512
	 * bytes sum to zero. */
	uint8_t sum = 0xA5;
	for (unsigned i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xFF) + (id[i] >> 8));
	id[255] = (uint16_t)((uint8_t)(0x100 - sum) << 8 | 0xA5);
}

/* ------------------------------------------------------------------ addressing */

static void set_signature(struct ata_drive *d)
{
	/* clause 9, signatures: an ATA device puts 01h/01h/00h/00h in sector
	 * count, LBA low/mid/high after a reset or EXECUTE DEVICE DIAGNOSTIC.
	 * An absent device 1 reads FFh/FFh in LBA mid/high (QEMU), so drivers
	 * classify it as nothing. */
	d->nsector = 1;
	d->lba_lo = 1;
	d->lba_mid = d->img ? 0 : 0xFF;
	d->lba_hi = d->img ? 0 : 0xFF;
	d->device &= 0xF0;   /* head number 0 */
}

/* The command's starting sector from the registers, and the number of
 * sectors its addressing mode reaches.  false (IDNF) for a CHS address
 * outside the current translation. */
static bool decode_address(const struct ata_drive *d, bool lba48, uint64_t *lba, uint64_t *limit)
{
	if (lba48) {
		*lba = (uint64_t)d->hob_lba_hi << 40 | (uint64_t)d->hob_lba_mid << 32 |
		       (uint64_t)d->hob_lba_lo << 24 | (uint64_t)d->lba_hi << 16 |
		       (uint64_t)d->lba_mid << 8 | d->lba_lo;
		*limit = d->img->sectors;
		return true;
	}
	if (d->device & DEV_LBA) {
		*lba = (uint64_t)(d->device & 0x0F) << 24 | (uint64_t)d->lba_hi << 16 |
		       (uint64_t)d->lba_mid << 8 | d->lba_lo;
		*limit = lba28_capacity(d);
		return true;
	}
	/* CHS: cylinder in LBA mid/high, head in the device register, sector
	 * (1-based) in LBA low. */
	uint32_t cyl = (uint32_t)d->lba_hi << 8 | d->lba_mid;
	unsigned head = d->device & 0x0F, sec = d->lba_lo;
	if (sec == 0 || sec > d->spt || head >= d->heads || cyl >= d->cyls)
		return false;
	*lba = ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
	*limit = chs_capacity(d) < d->img->sectors ? chs_capacity(d) : d->img->sectors;
	return true;
}

/* The command's sectors: address and count (0 means 256, or 65536 for the
 * 48-bit commands).  false (IDNF) when any of them is out of reach. */
static bool decode_range(const struct ata_drive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
	uint64_t limit;
	if (!decode_address(d, lba48, lba, &limit))
		return false;
	if (lba48)
		*count = (uint32_t)d->hob_nsector << 8 | d->nsector;
	else
		*count = d->nsector;
	if (*count == 0)
		*count = lba48 ? 65536 : 256;
	return *lba <= limit && *count <= limit - *lba;
}

/* Put a sector address back in the registers: after an error, the failing
 * sector; after a block, the last sector transferred (ATA-6 leaves success
 * outputs mostly unspecified; drivers read them only after errors). */
static void store_address(struct ata_drive *d, uint64_t lba, bool lba48, bool chs)
{
	if (lba48) {
		d->lba_lo = (uint8_t)lba;
		d->lba_mid = (uint8_t)(lba >> 8);
		d->lba_hi = (uint8_t)(lba >> 16);
		d->hob_lba_lo = (uint8_t)(lba >> 24);
		d->hob_lba_mid = (uint8_t)(lba >> 32);
		d->hob_lba_hi = (uint8_t)(lba >> 40);
	} else if (!chs) {
		d->lba_lo = (uint8_t)lba;
		d->lba_mid = (uint8_t)(lba >> 8);
		d->lba_hi = (uint8_t)(lba >> 16);
		d->device = (uint8_t)((d->device & 0xF0) | ((lba >> 24) & 0x0F));
	} else {
		uint64_t per_cyl = (uint64_t)d->heads * d->spt;
		uint32_t cyl = (uint32_t)(lba / per_cyl);
		uint32_t r = (uint32_t)(lba % per_cyl);
		d->lba_hi = (uint8_t)(cyl >> 8);
		d->lba_mid = (uint8_t)cyl;
		d->device = (uint8_t)((d->device & 0xF0) | ((r / d->spt) & 0x0F));
		d->lba_lo = (uint8_t)(r % d->spt + 1);
	}
}

static void store_count(struct ata_drive *d, uint32_t left)
{
	d->nsector = (uint8_t)left;
	if (d->lba48)
		d->hob_nsector = (uint8_t)(left >> 8);
}

/* ------------------------------------------------------------------ completion */

static void stop_transfer(struct ata_drive *d)
{
	d->xfer = ATA_XFER_NONE;
	d->pos = d->len = 0;
	d->status &= (uint8_t)~ATA_SR_DRQ;
}

static void finish_ok(struct ata_channel *c, struct ata_drive *d)
{
	stop_transfer(d);
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
	raise_irq(c, d);
}

static void finish_error(struct ata_channel *c, struct ata_drive *d, uint8_t error)
{
	stop_transfer(d);
	d->status = ATA_SR_DRDY | ATA_SR_ERR;
	d->error = error;
	raise_irq(c, d);
}

/* A failed image access: out of range is IDNF; anything the host reports
 * is an uncorrectable data error at that sector. */
static void media_error(struct ata_channel *c, struct ata_drive *d, int rc)
{
	store_address(d, d->lba, d->lba48, d->chs);
	finish_error(c, d, rc == -ERANGE ? ATA_ER_IDNF : ATA_ER_UNC);
}

/* ------------------------------------------------------------------ PIO data-in / data-out */

/* PIO data-in (clause 9): the device fills a DRQ block, sets DRQ and
 * interrupts; after the host reads the last block, no interrupt follows. */
static void pio_in_block(struct ata_channel *c, struct ata_drive *d)
{
	unsigned n = d->left < d->block ? d->left : d->block;
	if (d->from_disk) {
		int rc = disk_image_read(d->img, d->lba, d->buf, n);
		if (rc) {
			media_error(c, d, rc);
			return;
		}
		store_address(d, d->lba + n - 1, d->lba48, d->chs);
		store_count(d, d->left - n);
	}
	d->xfer = ATA_XFER_IN;
	d->pos = 0;
	d->len = n * DISK_SECTOR_SIZE;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	raise_irq(c, d);
}

static void pio_in_done(struct ata_channel *c, struct ata_drive *d)
{
	unsigned n = d->len / DISK_SECTOR_SIZE;
	d->left -= n;
	d->lba += n;
	if (d->left) {
		pio_in_block(c, d);
		return;
	}
	stop_transfer(d);
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
}

/* PIO data-out (clause 9): DRQ without an interrupt for the first block;
 * after each block the device writes it and interrupts, with DRQ again
 * for the next block or with the final status. */
static void pio_out_block(struct ata_drive *d)
{
	unsigned n = d->left < d->block ? d->left : d->block;
	d->xfer = ATA_XFER_OUT;
	d->pos = 0;
	d->len = n * DISK_SECTOR_SIZE;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

static void pio_out_done(struct ata_channel *c, struct ata_drive *d)
{
	unsigned n = d->len / DISK_SECTOR_SIZE;
	int rc = disk_image_write(d->img, d->lba, d->buf, n);
	if (rc) {
		media_error(c, d, rc);
		return;
	}
	store_address(d, d->lba + n - 1, d->lba48, d->chs);
	d->left -= n;
	d->lba += n;
	store_count(d, d->left);
	if (d->left) {
		pio_out_block(d);
		raise_irq(c, d);
		return;
	}
	finish_ok(c, d);
}

/* ------------------------------------------------------------------ commands */

static void start_rw(struct ata_channel *c, struct ata_drive *d, bool write, bool lba48, bool multiple)
{
	if (multiple && !d->mult) {
		/* READ/WRITE MULTIPLE before SET MULTIPLE MODE: aborted */
		finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	if (write && d->img->read_only) {
		/* The image is read-only (--disk-ro).  A fixed disk has no
		 * write-protect status (WP belongs to the removable-media
		 * feature set, where it shares bit 6 with UNC), so the
		 * command is aborted. */
		finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	uint64_t lba;
	uint32_t count;
	d->lba48 = lba48;
	d->chs = !lba48 && !(d->device & DEV_LBA);
	if (!decode_range(d, lba48, &lba, &count)) {
		finish_error(c, d, ATA_ER_IDNF);
		return;
	}
	d->lba = lba;
	d->left = count;
	d->block = multiple ? d->mult : 1;
	d->from_disk = true;
	if (write)
		pio_out_block(d);
	else
		pio_in_block(c, d);
}

static void cmd_verify(struct ata_channel *c, struct ata_drive *d, bool lba48)
{
	uint64_t lba;
	uint32_t count;
	d->lba48 = lba48;
	d->chs = !lba48 && !(d->device & DEV_LBA);
	if (!decode_range(d, lba48, &lba, &count)) {
		finish_error(c, d, ATA_ER_IDNF);
		return;
	}
	/* Nothing to verify on a file but that it can be read: read it. */
	for (uint32_t done = 0; done < count;) {
		unsigned n = count - done > ATA_MAX_MULT ? ATA_MAX_MULT : count - done;
		int rc = disk_image_read(d->img, lba + done, d->buf, n);
		if (rc) {
			d->lba = lba + done;
			media_error(c, d, rc);
			return;
		}
		done += n;
	}
	store_count(d, 0);
	finish_ok(c, d);
}

static void cmd_identify(struct ata_channel *c, struct ata_drive *d)
{
	uint16_t id[256];
	ata_identify(d, id);
	for (unsigned i = 0; i < 256; i++) {
		d->buf[2 * i] = (uint8_t)id[i];
		d->buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
	d->from_disk = false;
	d->left = 1;
	d->block = 1;
	pio_in_block(c, d);
}

/* SET MULTIPLE MODE: a power of two up to word 47's maximum; 0 disables
 * the multiple commands (as QEMU; ATA-6 leaves 0 to the device). */
static void cmd_set_multiple(struct ata_channel *c, struct ata_drive *d)
{
	unsigned n = d->nsector;
	if (n > ATA_MAX_MULT || (n & (n - 1))) {
		finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	d->mult = n;
	finish_ok(c, d);
}

/* INITIALIZE DEVICE PARAMETERS: the CHS translation to use, heads from the
 * device register (+1), sectors per track from the sector count. */
static void cmd_init_params(struct ata_channel *c, struct ata_drive *d)
{
	unsigned spt = d->nsector, heads = (d->device & 0x0F) + 1u;
	if (spt == 0) {
		finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	uint64_t cyls = d->img->sectors / ((uint64_t)heads * spt);
	if (cyls > 65535)
		cyls = 65535;
	if (cyls == 0) {
		finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	d->heads = (uint16_t)heads;
	d->spt = (uint16_t)spt;
	d->cyls = (uint32_t)cyls;
	finish_ok(c, d);
}

static void cmd_set_features(struct ata_channel *c, struct ata_drive *d)
{
	switch (d->feature) {
	case 0x03: {    /* set transfer mode, from the sector count */
		unsigned mode = d->nsector;
		if (mode == 0x00 || mode == 0x01 ||            /* PIO default (IORDY on/off) */
		    (mode >= 0x08 && mode <= 0x0C)) {          /* PIO flow control mode 0-4 */
			finish_ok(c, d);
			return;
		}
		break;  /* DMA modes: none supported */
	}
	case 0x02:      /* enable write cache */
		d->img->write_cache = true;
		finish_ok(c, d);
		return;
	case 0x82: {    /* disable write cache: what is cached is written first */
		int rc = disk_image_flush(d->img);
		d->img->write_cache = false;
		if (rc)
			finish_error(c, d, ATA_ER_ABRT);
		else
			finish_ok(c, d);
		return;
	}
	case 0xAA:      /* read look-ahead on / off: nothing to do for a file */
	case 0x55:
		d->look_ahead = d->feature == 0xAA;
		finish_ok(c, d);
		return;
	case 0x66:      /* reverting to power-on defaults off / on */
	case 0xCC:
		finish_ok(c, d);
		return;
	}
	finish_error(c, d, ATA_ER_ABRT);
}

static void cmd_flush(struct ata_channel *c, struct ata_drive *d)
{
	if (disk_image_flush(d->img))
		finish_error(c, d, ATA_ER_ABRT);
	else
		finish_ok(c, d);
}

/* EXECUTE DEVICE DIAGNOSTIC: both devices run it whichever is selected;
 * device 0 reports the result: error register 01h = device 0 passed,
 * device 1 passed or absent; signatures in both; device 0 selected. */
static void cmd_diagnostic(struct ata_channel *c)
{
	for (unsigned i = 0; i < 2; i++) {
		struct ata_drive *d = &c->drive[i];
		stop_transfer(d);
		d->device = DEV_OBS | (i ? DEV_DEV : 0);
		set_signature(d);
		d->error = 0x01;
		d->status = d->img ? ATA_SR_DRDY | ATA_SR_DSC : 0;
		d->intrq = false;
	}
	c->sel = 0;
	raise_irq(c, &c->drive[0]);
}

static void exec_command(struct ata_channel *c, uint8_t cmd)
{
	struct ata_drive *d = &c->drive[c->sel];
	if (cmd == CMD_DIAGNOSTIC && c->drive[0].img && !(d->status & ATA_SR_BSY)) {
		cmd_diagnostic(c);
		return;
	}
	/* Nothing answers for an absent device; a command written while BSY
	 * or DRQ is set is not accepted (the host must not do it). */
	if (!d->img || (d->status & (ATA_SR_BSY | ATA_SR_DRQ)))
		return;
	d->intrq = false;   /* writing the Command register clears INTRQ */
	update_irq(c);
	d->cmd = cmd;
	d->error = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC;

	switch (cmd) {
	case CMD_IDENTIFY:
		cmd_identify(c, d);
		return;
	case CMD_READ: case CMD_READ_NR:
		start_rw(c, d, false, false, false);
		return;
	case CMD_READ_EXT:
		start_rw(c, d, false, true, false);
		return;
	case CMD_READ_MULT:
		start_rw(c, d, false, false, true);
		return;
	case CMD_READ_MULT_EXT:
		start_rw(c, d, false, true, true);
		return;
	case CMD_WRITE: case CMD_WRITE_NR:
		start_rw(c, d, true, false, false);
		return;
	case CMD_WRITE_EXT:
		start_rw(c, d, true, true, false);
		return;
	case CMD_WRITE_MULT:
		start_rw(c, d, true, false, true);
		return;
	case CMD_WRITE_MULT_EXT:
		start_rw(c, d, true, true, true);
		return;
	case CMD_VERIFY: case CMD_VERIFY_NR:
		cmd_verify(c, d, false);
		return;
	case CMD_VERIFY_EXT:
		cmd_verify(c, d, true);
		return;
	case CMD_SET_MULT:
		cmd_set_multiple(c, d);
		return;
	case CMD_INIT_PARAMS:
		cmd_init_params(c, d);
		return;
	case CMD_SET_FEATURES:
		cmd_set_features(c, d);
		return;
	case CMD_FLUSH: case CMD_FLUSH_EXT:
		cmd_flush(c, d);
		return;
	case CMD_SEEK: {
		uint64_t lba, limit;   /* SEEK has no count: the address alone */
		if (decode_address(d, false, &lba, &limit) && lba < limit)
			finish_ok(c, d);
		else
			finish_error(c, d, ATA_ER_IDNF);
		return;
	}
	case CMD_STANDBY_IMM: case CMD_IDLE_IMM: case CMD_STANDBY: case CMD_IDLE:
	case CMD_STANDBY_IMM_OLD: case CMD_IDLE_IMM_OLD: case CMD_STANDBY_OLD: case CMD_IDLE_OLD:
		finish_ok(c, d);    /* a file has no spindle: always active */
		return;
	case CMD_CHECK_POWER: case CMD_CHECK_POWER_OLD:
		d->nsector = 0xFF;  /* active or idle */
		finish_ok(c, d);
		return;
	case CMD_NOP:           /* NOP always ends in ABRT (clause 8, NOP) */
		break;
	default:
		if ((cmd & 0xF0) == CMD_RECALIBRATE) {  /* 10h-1Fh */
			finish_ok(c, d);
			return;
		}
		break;
	}
	finish_error(c, d, ATA_ER_ABRT);
}

/* ------------------------------------------------------------------ resets */

static void drive_soft_reset(struct ata_drive *d, unsigned unit)
{
	stop_transfer(d);
	d->feature = d->hob_feature = 0;
	d->hob_nsector = d->hob_lba_lo = d->hob_lba_mid = d->hob_lba_hi = 0;
	d->device = DEV_OBS | (unit ? DEV_DEV : 0);
	set_signature(d);
	d->error = 0x01;    /* diagnostic code: passed */
	d->status = d->img ? ATA_SR_DRDY | ATA_SR_DSC : 0;
	d->intrq = false;
}

void ata_reset(struct ata_channel *c)
{
	c->devctl = 0;
	c->sel = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_drive *d = &c->drive[i];
		/* Multiple mode on with the largest block, as a BIOS leaves
		 * it (and QEMU's default): drivers that take word 59 as they
		 * find it (Linux) then get one interrupt per 16 sectors. */
		d->mult = ATA_MAX_MULT;
		d->look_ahead = true;
		if (d->img)
			d->img->write_cache = true;
		default_geometry(d);
		drive_soft_reset(d, i);
	}
	update_irq(c);
}

void ata_init(struct ata_channel *c, struct irq_line irq, struct disk_image *master)
{
	memset(c, 0, sizeof(*c));
	c->irq = irq;
	c->drive[0].img = master;
	ata_reset(c);
}

/* Device Control (clause 7): SRST 0->1 puts both devices in reset (BSY);
 * 1->0 ends it with the reset signature and diagnostic code (the software
 * reset protocol of clause 9).  The multiple count, CHS translation and
 * write cache setting are kept across a software reset; only a hardware
 * reset (ata_reset) restores the power-on values. */
static void write_devctl(struct ata_channel *c, uint8_t v)
{
	bool was = c->devctl & ATA_DC_SRST, now = v & ATA_DC_SRST;
	c->devctl = v;
	if (!was && now) {
		for (unsigned i = 0; i < 2; i++) {
			struct ata_drive *d = &c->drive[i];
			stop_transfer(d);
			d->status = d->img ? ATA_SR_BSY | ATA_SR_DSC : 0;
			d->intrq = false;
		}
	} else if (was && !now) {
		for (unsigned i = 0; i < 2; i++)
			drive_soft_reset(&c->drive[i], i);
		c->sel = 0;
	}
	update_irq(c);
}

/* ------------------------------------------------------------------ port access */

static uint8_t read_reg(struct ata_channel *c, unsigned reg)
{
	struct ata_drive *d = &c->drive[c->sel];
	bool hob = c->devctl & ATA_DC_HOB;
	bool any = c->drive[0].img || c->drive[1].img;
	if (!any)
		return 0;   /* an empty channel reads 0 (QEMU) */
	switch (reg) {
	case REG_FEATURE_ERROR:
		return d->img ? d->error : 0;
	case REG_NSECTOR:
		return hob ? d->hob_nsector : d->nsector;
	case REG_LBA_LO:
		return hob ? d->hob_lba_lo : d->lba_lo;
	case REG_LBA_MID:
		return hob ? d->hob_lba_mid : d->lba_mid;
	case REG_LBA_HI:
		return hob ? d->hob_lba_hi : d->lba_hi;
	case REG_DEVICE:
		return d->device;
	case REG_CMD_STATUS:
		/* Reading Status acknowledges the interrupt. */
		d->intrq = false;
		update_irq(c);
		return d->img ? d->status : 0;
	}
	return 0xFF;
}

static void write_reg(struct ata_channel *c, unsigned reg, uint8_t v)
{
	if (reg == REG_CMD_STATUS) {
		c->devctl &= (uint8_t)~ATA_DC_HOB;
		exec_command(c, v);
		return;
	}
	/* The host must not write the command block while BSY or DRQ is set;
	 * such writes are dropped (as QEMU does). */
	if (c->drive[c->sel].status & (ATA_SR_BSY | ATA_SR_DRQ))
		return;
	/* Any command block write clears HOB (clause 7, Device Control). */
	c->devctl &= (uint8_t)~ATA_DC_HOB;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_drive *d = &c->drive[i];
		switch (reg) {
		case REG_FEATURE_ERROR: d->hob_feature = d->feature; d->feature = v; break;
		case REG_NSECTOR: d->hob_nsector = d->nsector; d->nsector = v; break;
		case REG_LBA_LO: d->hob_lba_lo = d->lba_lo; d->lba_lo = v; break;
		case REG_LBA_MID: d->hob_lba_mid = d->lba_mid; d->lba_mid = v; break;
		case REG_LBA_HI: d->hob_lba_hi = d->lba_hi; d->lba_hi = v; break;
		case REG_DEVICE:
			d->device = (uint8_t)((v & ~DEV_DEV) | DEV_OBS | (i ? DEV_DEV : 0));
			break;
		}
	}
	if (reg == REG_DEVICE) {
		c->sel = (v & DEV_DEV) ? 1 : 0;
		update_irq(c);
	}
}

/* The data register: 16- or 32-bit accesses move the PIO data; 8-bit
 * transfers are a CFA option this device lacks (reads FFh, writes
 * dropped).  Outside a transfer, reads give 0 and writes are dropped. */
static void data_access(struct ata_channel *c, uint8_t *data, unsigned len, bool is_write)
{
	struct ata_drive *d = &c->drive[c->sel];
	bool ok = d->img && (d->status & ATA_SR_DRQ) && len >= 2 &&
		  d->xfer == (is_write ? ATA_XFER_OUT : ATA_XFER_IN);
	if (!ok) {
		if (!is_write)
			memset(data, len == 1 ? 0xFF : 0, len);
		return;
	}
	unsigned n = d->len - d->pos < len ? d->len - d->pos : len;
	if (is_write) {
		memcpy(d->buf + d->pos, data, n);
	} else {
		memcpy(data, d->buf + d->pos, n);
		memset(data + n, 0, len - n);
	}
	d->pos += n;
	if (d->pos < d->len)
		return;
	if (is_write)
		pio_out_done(c, d);
	else
		pio_in_done(c, d);
}

static void cmd_block_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct ata_channel *c = opaque;
	if (offset == REG_DATA && len > 1) {
		data_access(c, data, len, is_write);
		return;
	}
	/* Byte registers; a wider access touches consecutive registers. */
	for (unsigned i = 0; i < len; i++) {
		uint64_t reg = offset + i;
		if (reg == REG_DATA || reg > REG_CMD_STATUS) {
			if (!is_write)
				data[i] = 0xFF;
			continue;
		}
		if (is_write)
			write_reg(c, (unsigned)reg, data[i]);
		else
			data[i] = read_reg(c, (unsigned)reg);
	}
}

static void ctl_block_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct ata_channel *c = opaque;
	(void)offset;
	if (is_write) {
		write_devctl(c, data[0]);
		return;
	}
	/* Alternate Status: the status without acknowledging the interrupt. */
	const struct ata_drive *d = &c->drive[c->sel];
	data[0] = d->img ? d->status : 0;
	for (unsigned i = 1; i < len; i++)
		data[i] = 0xFF;
}

int ata_register(struct ata_channel *c, struct io_bus *pio, uint16_t cmd_base, uint16_t ctl_port)
{
	if (io_bus_register(pio, cmd_base, 8, cmd_block_io, c, "ata-cmd"))
		return -1;
	return io_bus_register(pio, ctl_port, 1, ctl_block_io, c, "ata-ctl");
}
