/* What the ATA channel's files share (ata.c: registers, resets and the
 * interrupt line; ata_cmd.c: command execution and the PIO protocols;
 * ata_identify.c: IDENTIFY DEVICE data and geometry).  Not for devices
 * outside the channel: use ata.h. */
#ifndef BTVM_DEVICES_ATA_INTERNAL_H
#define BTVM_DEVICES_ATA_INTERNAL_H
#include "devices/ata.h"

/* Device register bits (clause 7, Device register) */
#define ATA_DEV_LBA 0x40
#define ATA_DEV_DEV 0x10
#define ATA_DEV_OBS 0xA0   /* bits 7 and 5: obsolete, read back as one */

#define ATA_LBA28_LIMIT 0x0FFFFFFFull   /* IDENTIFY words 60-61 saturate here */

/* ata.c */
void ata_update_irq(struct ata_channel *c);
static inline void ata_raise_irq(struct ata_channel *c, struct ata_drive *d)
{
	d->intrq = true;
	ata_update_irq(c);
}

/* ata_cmd.c */
void ata_exec_command(struct ata_channel *c, uint8_t cmd);
void ata_set_signature(struct ata_drive *d);
void ata_stop_transfer(struct ata_drive *d);
/* The host has moved the whole current DRQ block. */
void ata_pio_in_done(struct ata_channel *c, struct ata_drive *d);
void ata_pio_out_done(struct ata_channel *c, struct ata_drive *d);

/* ata_identify.c */
void ata_default_geometry(struct ata_drive *d);
uint64_t ata_lba28_capacity(const struct ata_drive *d);
uint64_t ata_chs_capacity(const struct ata_drive *d);
#endif
