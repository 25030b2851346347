/* ATA channel with two device positions: the register file, device
 * selection, Device Control (SRST, nIEN, HOB), the data port and the
 * interrupt line.
 * The references are ATA/ATAPI-6 (T13 project 1410D): clause 7 for the
 * registers, clause 8 for the commands (ata_cmd.c), clause 9 for the
 * protocols; where a driver depends on a detail the spec leaves open,
 * QEMU's hw/ide/core.c behaviour is what stock drivers (Linux ata_piix)
 * are known to work with, and the comment says so. */
#include <stdio.h>
#include <string.h>
#include "devices/ata_internal.h"

enum {
	REG_DATA, REG_FEATURE_ERROR, REG_NSECTOR, REG_LBA_LO, REG_LBA_MID, REG_LBA_HI,
	REG_DEVICE, REG_CMD_STATUS,
};

/* ------------------------------------------------------------------ interrupts */

/* INTRQ is driven by the selected device only, and released while nIEN is
 * one (clause 7, Device Control register). */
void ata_update_irq(struct ata_channel *c)
{
	int level = c->drive[c->sel].intrq && !(c->devctl & ATA_DC_NIEN);
	if (level != c->irq_level) {
		c->irq_level = level;
		irq_set(&c->irq, level);
	}
}

/* ------------------------------------------------------------------ resets */

static void drive_soft_reset(struct ata_channel *c, struct ata_drive *d)
{
	ata_stop_transfer(d);
	d->feature = d->hob_feature = 0;
	d->hob_nsector = d->hob_lba_lo = d->hob_lba_mid = d->hob_lba_hi = 0;
	d->device = ATA_DEV_OBS | (d->unit ? ATA_DEV_DEV : 0);
	ata_set_signature(d);
	d->error = 0x01;    /* diagnostic code: passed */
	d->status = ata_reset_status(c, d);
	d->intrq = false;
	/* A packet device forgets its sense data; the medium, the tray and
	 * its lock stay as they are (only RESET- touches those). */
	d->atapi.sense_key = d->atapi.asc = d->atapi.ascq = 0;
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
		d->mult = d->kind == ATA_DISK ? ATA_MAX_MULT : 0;
		d->look_ahead = true;
		if (d->kind == ATA_DISK)
			d->img->write_cache = true;
		ata_default_geometry(d);
		atapi_power_on(d);
		drive_soft_reset(c, d);
	}
	ata_update_irq(c);
}

void ata_init(struct ata_channel *c, struct irq_line irq, unsigned index)
{
	memset(c, 0, sizeof(*c));
	c->irq = irq;
	for (unsigned i = 0; i < 2; i++) {
		c->drive[i].unit = i;
		snprintf(c->drive[i].serial, sizeof(c->drive[i].serial), "BTVM%05u", 2 * index + i + 1);
	}
	ata_reset(c);
}

void ata_attach(struct ata_channel *c, unsigned unit, enum ata_kind kind, struct disk_image *img)
{
	struct ata_drive *d = &c->drive[unit & 1];
	if (kind == ATA_DISK && !img)
		kind = ATA_ABSENT;      /* a disk is its image */
	d->kind = kind;
	d->img = kind == ATA_ABSENT ? NULL : img;
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
			ata_stop_transfer(d);
			d->status = ata_answers(c, d) ? ATA_SR_BSY | (d->kind == ATA_CDROM ? 0 : ATA_SR_DSC) : 0;
			d->intrq = false;
		}
	} else if (was && !now) {
		for (unsigned i = 0; i < 2; i++)
			drive_soft_reset(c, &c->drive[i]);
		c->sel = 0;
	}
	ata_update_irq(c);
}

/* ------------------------------------------------------------------ port access */

static bool channel_empty(const struct ata_channel *c)
{
	return c->drive[0].kind == ATA_ABSENT && c->drive[1].kind == ATA_ABSENT;
}

static uint8_t read_reg(struct ata_channel *c, unsigned reg)
{
	struct ata_drive *d = &c->drive[c->sel];
	bool hob = c->devctl & ATA_DC_HOB;
	if (channel_empty(c))
		return 0;   /* an empty channel reads 0 (QEMU) */
	bool answers = ata_answers(c, d);
	switch (reg) {
	case REG_FEATURE_ERROR:
		return answers ? d->error : 0;
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
		ata_update_irq(c);
		return answers ? d->status : 0;
	}
	return 0xFF;
}

static void write_reg(struct ata_channel *c, unsigned reg, uint8_t v)
{
	if (reg == REG_CMD_STATUS) {
		c->devctl &= (uint8_t)~ATA_DC_HOB;
		ata_exec_command(c, v);
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
			d->device = (uint8_t)((v & ~ATA_DEV_DEV) | ATA_DEV_OBS | (i ? ATA_DEV_DEV : 0));
			break;
		}
	}
	if (reg == REG_DEVICE) {
		c->sel = (v & ATA_DEV_DEV) ? 1 : 0;
		ata_update_irq(c);
	}
}

/* The data register: 16- or 32-bit accesses move the PIO data; 8-bit
 * transfers are a CFA option this device lacks (reads FFh, writes
 * dropped).  Outside a transfer, reads give 0 and writes are dropped. */
static void data_access(struct ata_channel *c, uint8_t *data, unsigned len, bool is_write)
{
	struct ata_drive *d = &c->drive[c->sel];
	bool ok = d->kind != ATA_ABSENT && (d->status & ATA_SR_DRQ) && len >= 2 &&
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
	if (d->kind == ATA_CDROM) {
		if (is_write)
			atapi_pio_out_done(c, d);
		else
			atapi_pio_in_done(c, d);
	} else if (is_write) {
		ata_pio_out_done(c, d);
	} else {
		ata_pio_in_done(c, d);
	}
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
	data[0] = !channel_empty(c) && ata_answers(c, d) ? d->status : 0;
	for (unsigned i = 1; i < len; i++)
		data[i] = 0xFF;
}

int ata_register(struct ata_channel *c, struct io_bus *pio, uint16_t cmd_base, uint16_t ctl_port)
{
	if (io_bus_register(pio, cmd_base, 8, cmd_block_io, c, "ata-cmd"))
		return -1;
	return io_bus_register(pio, ctl_port, 1, ctl_block_io, c, "ata-ctl");
}
