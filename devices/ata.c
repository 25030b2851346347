/* ATA channel with one PIO disk: the register file, device selection,
 * Device Control (SRST, nIEN, HOB), the data port and the interrupt line.
 * The references are ATA/ATAPI-6 (T13 project 1410D): clause 7 for the
 * registers, clause 8 for the commands (ata_cmd.c), clause 9 for the
 * protocols; where a driver depends on a detail the spec leaves open,
 * QEMU's hw/ide/core.c behaviour is what stock drivers (Linux ata_piix)
 * are known to work with, and the comment says so. */
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

static void drive_soft_reset(struct ata_drive *d, unsigned unit)
{
	ata_stop_transfer(d);
	d->feature = d->hob_feature = 0;
	d->hob_nsector = d->hob_lba_lo = d->hob_lba_mid = d->hob_lba_hi = 0;
	d->device = ATA_DEV_OBS | (unit ? ATA_DEV_DEV : 0);
	ata_set_signature(d);
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
		ata_default_geometry(d);
		drive_soft_reset(d, i);
	}
	ata_update_irq(c);
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
			ata_stop_transfer(d);
			d->status = d->img ? ATA_SR_BSY | ATA_SR_DSC : 0;
			d->intrq = false;
		}
	} else if (was && !now) {
		for (unsigned i = 0; i < 2; i++)
			drive_soft_reset(&c->drive[i], i);
		c->sel = 0;
	}
	ata_update_irq(c);
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
		ata_update_irq(c);
		return d->img ? d->status : 0;
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
		ata_pio_out_done(c, d);
	else
		ata_pio_in_done(c, d);
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
