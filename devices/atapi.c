/* An ATAPI CD-ROM's side of the ATA protocol: the ATA commands a PACKET
 * device takes (ATA/ATAPI-6 clause 6.3: PACKET, IDENTIFY PACKET DEVICE,
 * DEVICE RESET, EXECUTE DEVICE DIAGNOSTIC, ...), the PACKET command
 * (clause 8.21) and its PIO protocol (clause 9.8): the 12-byte command
 * packet, the DRQ data blocks sized by the byte count limit, the
 * interrupt reason in the Sector Count register, and the ending status.
 * The packet commands themselves are atapi_cmd.c's.
 *
 * What the host sees, step by step (9.8, PIO data-in):
 *   PACKET written: DRQ, C/D=1 I/O=0 ("send the packet"), no interrupt
 *     (IDENTIFY PACKET word 0 bits 6:5 = 10b: DRQ within 50 us);
 *   12 bytes written: the command runs;
 *   each data block: byte count in LBA mid/high, DRQ, C/D=0 I/O=1, INTRQ;
 *   the end: DRQ clear, C/D=1 I/O=1, INTRQ; ERR with the sense key in the
 *     Error register's high nibble for CHECK CONDITION.
 * The values (DRDY|DSC with every phase, byte counts, reason codes) are
 * those of QEMU's ide-cd, which stock drivers are known to work with. */
#include <errno.h>
#include <string.h>
#include "devices/atapi_internal.h"

enum {
	CMD_READ_SECTORS = 0x20, CMD_FLUSH = 0xE7, CMD_SET_FEATURES = 0xEF,
};

void atapi_power_on(struct ata_drive *d)
{
	memset(&d->atapi, 0, sizeof(d->atapi));
}

static void set_reason(struct ata_drive *d, uint8_t reason)
{
	/* bits 7:3 are the tag (none here: no overlapped commands) */
	d->nsector = (uint8_t)((d->nsector & 0xF8) | reason);
}

/* ------------------------------------------------------------------ ending a command */

void atapi_ok(struct ata_channel *c, struct ata_drive *d)
{
	ata_stop_transfer(d);
	d->error = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
	set_reason(d, ATAPI_IR_IO | ATAPI_IR_COD);
	ata_raise_irq(c, d);
}

void atapi_check(struct ata_channel *c, struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	ata_stop_transfer(d);
	d->atapi.sense_key = key;
	d->atapi.asc = asc;
	d->atapi.ascq = ascq;
	/* 8.21.6 error outputs: the sense key in Error bits 7:4 */
	d->error = (uint8_t)(key << 4);
	d->status = ATA_SR_DRDY | ATA_SR_ERR;
	set_reason(d, ATAPI_IR_IO | ATAPI_IR_COD);
	ata_raise_irq(c, d);
}

/* ------------------------------------------------------------------ data-in */

/* The byte count limit (8.21.4): FFFFh means FFFEh; a block shorter than
 * what is left must be even.  Returns the next DRQ block's size. */
static uint32_t block_size(const struct ata_drive *d)
{
	uint32_t limit = d->atapi.bcl == 0xFFFF ? 0xFFFE : d->atapi.bcl;
	if (d->atapi.left <= limit)
		return (uint32_t)d->atapi.left;
	return limit & ~1u;
}

static void send_block(struct ata_channel *c, struct ata_drive *d)
{
	uint32_t n = block_size(d);
	if (d->atapi.from_medium) {
		int rc = disk_image_read_bytes(d->img, d->atapi.offset, d->buf, n);
		if (rc) {
			/* the image shrank or the host failed the read */
			atapi_check(c, d, rc == -ERANGE ? SENSE_ILLEGAL_REQUEST : SENSE_MEDIUM_ERROR,
				    rc == -ERANGE ? ASC_LBA_OUT_OF_RANGE : ASC_UNRECOVERED_READ, 0);
			return;
		}
		d->atapi.offset += n;
	}
	d->atapi.left -= n;
	d->lba_mid = (uint8_t)n;
	d->lba_hi = (uint8_t)(n >> 8);
	set_reason(d, ATAPI_IR_IO);
	d->xfer = ATA_XFER_IN;
	d->pos = 0;
	d->len = n;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ata_raise_irq(c, d);
}

/* Data commands need a byte count limit to size their blocks: with zero
 * the device aborts the command at the ATA level (ATA8-ACS 7.18.6.49,
 * as QEMU does). */
static bool start_data(struct ata_channel *c, struct ata_drive *d, uint64_t bytes)
{
	if (bytes && d->atapi.bcl == 0) {
		ata_finish_error(c, d, ATA_ER_ABRT);
		return false;
	}
	d->atapi.left = bytes;
	if (!bytes) {
		atapi_ok(c, d);
		return false;
	}
	return true;
}

void atapi_reply(struct ata_channel *c, struct ata_drive *d, uint32_t len, uint32_t alloc)
{
	if (len > alloc)
		len = alloc;
	d->atapi.from_medium = false;
	if (start_data(c, d, len))
		send_block(c, d);
}

void atapi_read_medium(struct ata_channel *c, struct ata_drive *d, uint64_t offset, uint64_t bytes)
{
	d->atapi.from_medium = true;
	d->atapi.offset = offset;
	if (start_data(c, d, bytes))
		send_block(c, d);
}

void atapi_pio_in_done(struct ata_channel *c, struct ata_drive *d)
{
	if (d->cmd != ATA_CMD_PACKET) {
		/* IDENTIFY PACKET DEVICE: PIO data-in (9.7), no interrupt
		 * after the last block */
		ata_stop_transfer(d);
		d->status = ATA_SR_DRDY | ATA_SR_DSC;
		return;
	}
	if (!d->atapi.left) {
		atapi_ok(c, d);
		return;
	}
	/* a reply longer than one block: the rest moves to the front */
	if (!d->atapi.from_medium)
		memmove(d->buf, d->buf + d->len, d->atapi.left);
	send_block(c, d);
}

/* ------------------------------------------------------------------ PACKET */

/* PACKET (8.21): Features bit 0 asks for DMA, bit 1 for an overlapped
 * command; this device does neither (IDENTIFY PACKET word 49) and aborts
 * them.  The byte count limit is latched from LBA mid/high. */
static void cmd_packet(struct ata_channel *c, struct ata_drive *d)
{
	if (d->feature & 0x03) {
		ata_finish_error(c, d, ATA_ER_ABRT);
		return;
	}
	d->atapi.bcl = (uint16_t)(d->lba_hi << 8 | d->lba_mid);
	d->nsector = ATAPI_IR_COD;          /* tag 0, C/D=1, I/O=0 */
	d->xfer = ATA_XFER_OUT;
	d->pos = 0;
	d->len = sizeof(d->atapi.packet);
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

void atapi_pio_out_done(struct ata_channel *c, struct ata_drive *d)
{
	memcpy(d->atapi.packet, d->buf, sizeof(d->atapi.packet));
	ata_stop_transfer(d);
	atapi_run_packet(c, d);
}

static void cmd_identify_packet(struct ata_channel *c, struct ata_drive *d)
{
	uint16_t id[256];
	atapi_identify(c, d, id);
	for (unsigned i = 0; i < 256; i++) {
		d->buf[2 * i] = (uint8_t)id[i];
		d->buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
	/* PIO data-in of one 512-byte block (9.7); not a packet transfer */
	d->atapi.left = 0;
	d->atapi.from_medium = false;
	d->xfer = ATA_XFER_IN;
	d->pos = 0;
	d->len = 512;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ata_raise_irq(c, d);
}

/* DEVICE RESET (8.10, protocol 9.4): accepted even while BSY or DRQ is
 * set; stops the command, puts the signature, and leaves DRDY clear; no
 * interrupt. */
static void cmd_device_reset(struct ata_channel *c, struct ata_drive *d)
{
	ata_stop_transfer(d);
	d->intrq = false;
	d->feature = 0;
	ata_set_signature(d);
	d->error = 0x01;
	d->status = 0;
	d->atapi.sense_key = d->atapi.asc = d->atapi.ascq = 0;
	ata_update_irq(c);
}

static void cmd_set_features(struct ata_channel *c, struct ata_drive *d)
{
	switch (d->feature) {
	case 0x03: {    /* set transfer mode: PIO default or flow control 0-4 */
		unsigned mode = d->nsector;
		if (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0C)) {
			ata_finish_ok(c, d);
			return;
		}
		break;
	}
	case 0x66: case 0xCC:   /* reverting to power-on defaults */
		ata_finish_ok(c, d);
		return;
	}
	ata_finish_error(c, d, ATA_ER_ABRT);
}

void atapi_exec_command(struct ata_channel *c, struct ata_drive *d, uint8_t cmd)
{
	if (cmd == ATA_CMD_DEVICE_RESET) {
		cmd_device_reset(c, d);
		return;
	}
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
	switch (cmd) {
	case ATA_CMD_PACKET:
		cmd_packet(c, d);
		return;
	case ATA_CMD_IDENTIFY_PACKET:
		cmd_identify_packet(c, d);
		return;
	case CMD_SET_FEATURES:
		cmd_set_features(c, d);
		return;
	case CMD_FLUSH:     /* nothing cached for a read-only medium */
		ata_finish_ok(c, d);
		return;
	case ATA_CMD_IDENTIFY:
	case CMD_READ_SECTORS:
		/* 8.15.5 / 8.27.5: a PACKET device aborts them and puts its
		 * signature, which is how a driver tells it from a disk. */
		ata_set_signature(d);
		break;
	}
	ata_finish_error(c, d, ATA_ER_ABRT);
}

/* ------------------------------------------------------------------ media */

void atapi_change_medium(struct ata_channel *c, unsigned unit, struct disk_image *img)
{
	struct ata_drive *d = &c->drive[unit & 1];
	if (d->kind != ATA_CDROM)
		return;
	d->img = img;
	d->atapi.tray_open = false;
	/* What QEMU's ide-cd reports after a medium change: NOT READY
	 * (MEDIUM NOT PRESENT) to the next command, then UNIT ATTENTION (NOT
	 * READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED); and the NewMedia
	 * event for GET EVENT STATUS NOTIFICATION (MMC-5 6.6). */
	d->atapi.changed = img ? 1 : 0;
	d->atapi.media_event = img ? 2 : 3;   /* NewMedia / MediaRemoval */
}
