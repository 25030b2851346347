/* What the ATA channel's files share (ata.c: registers, resets and the
 * interrupt line; ata_cmd.c: command execution and the PIO protocols;
 * ata_identify.c: IDENTIFY data and geometry; atapi.c, atapi_cmd.c: the
 * packet device).  Not for devices outside the channel: use ata.h. */
#ifndef BTVM_DEVICES_ATA_INTERNAL_H
#define BTVM_DEVICES_ATA_INTERNAL_H
#include "devices/ata.h"

/* Device register bits (clause 7, Device register) */
#define ATA_DEV_LBA 0x40
#define ATA_DEV_DEV 0x10
#define ATA_DEV_OBS 0xA0   /* bits 7 and 5: obsolete, read back as one */

#define ATA_LBA28_LIMIT 0x0FFFFFFFull   /* IDENTIFY words 60-61 saturate here */

/* Command opcodes both kinds of device know (clause 8 and Annex B) */
#define ATA_CMD_DEVICE_RESET 0x08
#define ATA_CMD_DIAGNOSTIC 0x90
#define ATA_CMD_PACKET 0xA0
#define ATA_CMD_IDENTIFY_PACKET 0xA1
#define ATA_CMD_IDENTIFY 0xEC

/* ata.c */
void ata_update_irq(struct ata_channel *c);
static inline void ata_raise_irq(struct ata_channel *c, struct ata_drive *d)
{
	d->intrq = true;
	ata_update_irq(c);
}
/* The device at this position takes part in the protocol: present, or an
 * absent device 0 next to a device 1 (see ata.h). */
static inline bool ata_answers(const struct ata_channel *c, const struct ata_drive *d)
{
	return d->kind != ATA_ABSENT || (d->unit == 0 && c->drive[1].kind != ATA_ABSENT);
}

/* ata_cmd.c */
void ata_exec_command(struct ata_channel *c, uint8_t cmd);
void ata_set_signature(struct ata_drive *d);
void ata_stop_transfer(struct ata_drive *d);
/* Non-data completion (clause 9.9): DRDY|DSC, or DRDY|ERR, and INTRQ. */
void ata_finish_ok(struct ata_channel *c, struct ata_drive *d);
void ata_finish_error(struct ata_channel *c, struct ata_drive *d, uint8_t error);
void ata_exec_diagnostic(struct ata_channel *c);
/* The host has moved the whole current DRQ block. */
void ata_pio_in_done(struct ata_channel *c, struct ata_drive *d);
void ata_pio_out_done(struct ata_channel *c, struct ata_drive *d);
/* The status a device shows after a reset or EXECUTE DEVICE DIAGNOSTIC. */
uint8_t ata_reset_status(const struct ata_channel *c, const struct ata_drive *d);

/* ata_identify.c */
void ata_default_geometry(struct ata_drive *d);
uint64_t ata_lba28_capacity(const struct ata_drive *d);
uint64_t ata_chs_capacity(const struct ata_drive *d);

/* atapi.c: a packet device's side of the ATA protocol */
void atapi_exec_command(struct ata_channel *c, struct ata_drive *d, uint8_t cmd);
void atapi_pio_in_done(struct ata_channel *c, struct ata_drive *d);
void atapi_pio_out_done(struct ata_channel *c, struct ata_drive *d);
/* Hardware reset: tray closed and unlocked, no sense, no pending change. */
void atapi_power_on(struct ata_drive *d);
#endif
