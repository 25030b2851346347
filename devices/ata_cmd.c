/* ATA command execution for a disk: address decoding, the PIO data-in,
 * data-out and non-data protocols (ATA/ATAPI-6 clause 9), and the commands
 * of clause 8 this disk implements; signatures and EXECUTE DEVICE
 * DIAGNOSTIC for every kind of device.  A packet device's commands are
 * atapi.c's.  Everything completes synchronously. */
#include <errno.h>
#include <string.h>
#include "devices/ata_internal.h"

/* Command opcodes (clause 8 and Annex B) */
enum {
	CMD_NOP = 0x00, CMD_RECALIBRATE = 0x10, CMD_READ = 0x20, CMD_READ_NR = 0x21,
	CMD_READ_EXT = 0x24, CMD_READ_MULT_EXT = 0x29, CMD_WRITE = 0x30, CMD_WRITE_NR = 0x31,
	CMD_WRITE_EXT = 0x34, CMD_WRITE_MULT_EXT = 0x39, CMD_VERIFY = 0x40, CMD_VERIFY_NR = 0x41,
	CMD_VERIFY_EXT = 0x42, CMD_SEEK = 0x70, CMD_INIT_PARAMS = 0x91,
	CMD_READ_MULT = 0xC4, CMD_WRITE_MULT = 0xC5, CMD_SET_MULT = 0xC6,
	CMD_STANDBY_IMM = 0xE0, CMD_IDLE_IMM = 0xE1, CMD_STANDBY = 0xE2, CMD_IDLE = 0xE3,
	CMD_CHECK_POWER = 0xE5, CMD_FLUSH = 0xE7, CMD_FLUSH_EXT = 0xEA, CMD_SET_FEATURES = 0xEF,
	/* ATA-3 era power-management opcodes, still accepted by disks */
	CMD_STANDBY_IMM_OLD = 0x94, CMD_IDLE_IMM_OLD = 0x95, CMD_STANDBY_OLD = 0x96,
	CMD_IDLE_OLD = 0x97, CMD_CHECK_POWER_OLD = 0x98,
};

/* ------------------------------------------------------------------ addressing */

void ata_set_signature(struct ata_drive *d)
{
	/* clause 9.12, signatures: after a reset or EXECUTE DEVICE
	 * DIAGNOSTIC an ATA device puts 01h/01h/00h/00h in sector count, LBA
	 * low/mid/high, a PACKET device 01h/01h/14h/EBh.  An absent device
	 * reads FFh/FFh in LBA mid/high (QEMU), so drivers classify it as
	 * nothing. */
	d->nsector = 1;
	d->lba_lo = 1;
	d->lba_mid = d->kind == ATA_DISK ? 0 : d->kind == ATA_CDROM ? 0x14 : 0xFF;
	d->lba_hi = d->kind == ATA_DISK ? 0 : d->kind == ATA_CDROM ? 0xEB : 0xFF;
	d->device &= 0xF0;   /* head number 0 */
}

/* clause 9.12: a PACKET device leaves DRDY clear after a reset (it is
 * set by the first command); an ATA device is ready.  An absent device 0
 * answering for a device 1 shows DRDY|DSC, as QEMU's does. */
uint8_t ata_reset_status(const struct ata_channel *c, const struct ata_drive *d)
{
	if (d->kind == ATA_CDROM || !ata_answers(c, d))
		return 0;
	return ATA_SR_DRDY | ATA_SR_DSC;
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
	if (d->device & ATA_DEV_LBA) {
		*lba = (uint64_t)(d->device & 0x0F) << 24 | (uint64_t)d->lba_hi << 16 |
		       (uint64_t)d->lba_mid << 8 | d->lba_lo;
		*limit = ata_lba28_capacity(d);
		return true;
	}
	/* CHS: cylinder in LBA mid/high, head in the device register, sector
	 * (1-based) in LBA low. */
	uint32_t cyl = (uint32_t)d->lba_hi << 8 | d->lba_mid;
	unsigned head = d->device & 0x0F, sec = d->lba_lo;
	if (sec == 0 || sec > d->spt || head >= d->heads || cyl >= d->cyls)
		return false;
	*lba = ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
	*limit = ata_chs_capacity(d) < d->img->sectors ? ata_chs_capacity(d) : d->img->sectors;
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

void ata_stop_transfer(struct ata_drive *d)
{
	d->xfer = ATA_XFER_NONE;
	d->pos = d->len = 0;
	d->status &= (uint8_t)~ATA_SR_DRQ;
}

void ata_finish_ok(struct ata_channel *c, struct ata_drive *d)
{
	ata_stop_transfer(d);
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
	ata_raise_irq(c, d);
}

void ata_finish_error(struct ata_channel *c, struct ata_drive *d, uint8_t error)
{
	ata_stop_transfer(d);
	d->status = ATA_SR_DRDY | ATA_SR_ERR;
	d->error = error;
	ata_raise_irq(c, d);
}

/* A failed image access: out of range is IDNF; anything the host reports
 * is an uncorrectable data error at that sector. */
static void media_error(struct ata_channel *c, struct ata_drive *d, int rc)
{
	store_address(d, d->lba, d->lba48, d->chs);
	ata_finish_error(c, d, rc == -ERANGE ? ATA_ER_IDNF : ATA_ER_UNC);
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
	ata_raise_irq(c, d);
}

void ata_pio_in_done(struct ata_channel *c, struct ata_drive *d)
{
	unsigned n = d->len / DISK_SECTOR_SIZE;
	d->left -= n;
	d->lba += n;
	if (d->left) {
		pio_in_block(c, d);
		return;
	}
	ata_stop_transfer(d);
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

void ata_pio_out_done(struct ata_channel *c, struct ata_drive *d)
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
		ata_raise_irq(c, d);
		return;
	}
	ata_finish_ok(c, d);
}

/* ------------------------------------------------------------------ commands */

static void start_rw(struct ata_channel *c, struct ata_drive *d, bool write, bool lba48, bool multiple)
{
	if (multiple && !d->mult) {
		/* READ/WRITE MULTIPLE before SET MULTIPLE MODE: aborted */
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	if (write && d->img->read_only) {
		/* The image is read-only (--disk-ro, readonly=on).  A fixed disk has no
		 * write-protect status (WP belongs to the removable-media
		 * feature set, where it shares bit 6 with UNC), so the
		 * command is aborted. */
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	uint64_t lba;
	uint32_t count;
	d->lba48 = lba48;
	d->chs = !lba48 && !(d->device & ATA_DEV_LBA);
	if (!decode_range(d, lba48, &lba, &count)) {
		ata_finish_error(c, d, ATA_ER_IDNF);
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
	d->chs = !lba48 && !(d->device & ATA_DEV_LBA);
	if (!decode_range(d, lba48, &lba, &count)) {
		ata_finish_error(c, d, ATA_ER_IDNF);
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
	ata_finish_ok(c, d);
}

static void cmd_identify(struct ata_channel *c, struct ata_drive *d)
{
	uint16_t id[256];
	ata_identify(c, d, id);
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
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	d->mult = n;
	ata_finish_ok(c, d);
}

/* INITIALIZE DEVICE PARAMETERS: the CHS translation to use, heads from the
 * device register (+1), sectors per track from the sector count. */
static void cmd_init_params(struct ata_channel *c, struct ata_drive *d)
{
	unsigned spt = d->nsector, heads = (d->device & 0x0F) + 1u;
	if (spt == 0) {
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	uint64_t cyls = d->img->sectors / ((uint64_t)heads * spt);
	if (cyls > 65535)
		cyls = 65535;
	if (cyls == 0) {
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	d->heads = (uint16_t)heads;
	d->spt = (uint16_t)spt;
	d->cyls = (uint32_t)cyls;
	ata_finish_ok(c, d);
}

static void cmd_set_features(struct ata_channel *c, struct ata_drive *d)
{
	switch (d->feature) {
	case 0x03: {    /* set transfer mode, from the sector count */
		unsigned mode = d->nsector;
		if (mode == 0x00 || mode == 0x01 ||            /* PIO default (IORDY on/off) */
		    (mode >= 0x08 && mode <= 0x0C)) {          /* PIO flow control mode 0-4 */
			ata_finish_ok(c, d);
			return;
		}
		break;  /* DMA modes: none supported */
	}
	case 0x02:      /* enable write cache */
		d->img->write_cache = true;
		ata_finish_ok(c, d);
		return;
	case 0x82: {    /* disable write cache: what is cached is written first */
		int rc = disk_image_flush(d->img);
		d->img->write_cache = false;
		if (rc)
			ata_finish_error(c, d, ATA_ER_ABRT);
		else
			ata_finish_ok(c, d);
		return;
	}
	case 0xAA:      /* read look-ahead on / off: nothing to do for a file */
	case 0x55:
		d->look_ahead = d->feature == 0xAA;
		ata_finish_ok(c, d);
		return;
	case 0x66:      /* reverting to power-on defaults off / on */
	case 0xCC:
		ata_finish_ok(c, d);
		return;
	}
	ata_finish_error(c, d, ATA_ER_ABRT);
}

static void cmd_flush(struct ata_channel *c, struct ata_drive *d)
{
	if (disk_image_flush(d->img))
		ata_finish_error(c, d, ATA_ER_ABRT);
	else
		ata_finish_ok(c, d);
}

/* EXECUTE DEVICE DIAGNOSTIC (clause 8.11, protocol 9.10): both devices
 * run it whichever is selected; device 0 reports the result: error
 * register 01h = device 0 passed, device 1 passed or absent; signatures
 * in both; device 0 selected, and it asserts INTRQ. */
void ata_exec_diagnostic(struct ata_channel *c)
{
	for (unsigned i = 0; i < 2; i++) {
		struct ata_drive *d = &c->drive[i];
		ata_stop_transfer(d);
		d->device = ATA_DEV_OBS | (i ? ATA_DEV_DEV : 0);
		ata_set_signature(d);
		d->error = 0x01;
		d->status = ata_reset_status(c, d);
		d->intrq = false;
	}
	c->sel = 0;
	ata_update_irq(c);   /* the command write released INTRQ ... */
	ata_raise_irq(c, &c->drive[0]);   /* ... and completion asserts it */
}

void ata_exec_command(struct ata_channel *c, uint8_t cmd)
{
	struct ata_drive *d = &c->drive[c->sel];
	/* Nothing answers for an absent device 1 (QEMU ignores commands to
	 * it, EXECUTE DEVICE DIAGNOSTIC included). */
	if (!ata_answers(c, d))
		return;
	if (d->kind == ATA_CDROM) {
		atapi_exec_command(c, d, cmd);
		return;
	}
	/* A command written while BSY or DRQ is set is not accepted (the
	 * host must not do it). */
	if (d->status & (ATA_SR_BSY | ATA_SR_DRQ))
		return;
	if (cmd == ATA_CMD_DIAGNOSTIC) {
		ata_exec_diagnostic(c);
		return;
	}
	d->intrq = false;   /* writing the Command register clears INTRQ */
	ata_update_irq(c);
	d->cmd = cmd;
	d->error = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
	if (d->kind == ATA_ABSENT) {
		/* an absent device 0 answering for device 1: nothing to run */
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}

	switch (cmd) {
	case ATA_CMD_IDENTIFY:
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
			ata_finish_ok(c, d);
		else
			ata_finish_error(c, d, ATA_ER_IDNF);
		return;
	}
	case CMD_STANDBY_IMM: case CMD_IDLE_IMM: case CMD_STANDBY: case CMD_IDLE:
	case CMD_STANDBY_IMM_OLD: case CMD_IDLE_IMM_OLD: case CMD_STANDBY_OLD: case CMD_IDLE_OLD:
		ata_finish_ok(c, d);    /* a file has no spindle: always active */
		return;
	case CMD_CHECK_POWER: case CMD_CHECK_POWER_OLD:
		d->nsector = 0xFF;  /* active or idle */
		ata_finish_ok(c, d);
		return;
	case CMD_NOP:           /* NOP always ends in ABRT (clause 8, NOP) */
		break;
	default:
		if ((cmd & 0xF0) == CMD_RECALIBRATE) {  /* 10h-1Fh */
			ata_finish_ok(c, d);
			return;
		}
		break;
	}
	ata_finish_error(c, d, ATA_ER_ABRT);
}

