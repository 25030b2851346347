/* One ATA channel (the PC's primary IDE channel: command block 0x1F0-0x1F7,
 * control block 0x3F6, IRQ14) with at most a device 0 (master) disk; device
 * 1 (slave) is always absent.  PIO only, no DMA.
 *
 * Model (ATA/ATAPI-6, T13/1410D; ata.c, ata_cmd.c and ata_identify.c name the
 * clauses they follow):
 *  - both device positions latch every command-block register write, as two
 *    real devices on one cable do; the DEV bit selects which one answers;
 *  - an absent device 1 reads 00h from Status, Alternate Status and Error
 *    (what device 0 answers for it) and ignores commands, so a driver's
 *    probe finds nothing there, as on QEMU's PIIX IDE;
 *  - commands complete synchronously: the disk access happens inside the
 *    port write, so BSY is never seen outside a software reset; DRQ, DRDY,
 *    DSC, ERR and the interrupt follow the PIO data-in, data-out and
 *    non-data command protocols of clause 9;
 *  - INTRQ is the selected device's pending interrupt unless nIEN is set;
 *    reading Status (not Alternate Status) or writing Command clears it.
 * Not thread-safe: call everything from the vCPU thread. */
#ifndef BTVM_DEVICES_ATA_H
#define BTVM_DEVICES_ATA_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/disk_image.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

#define ATA_PRIMARY_CMD 0x1F0
#define ATA_PRIMARY_CTL 0x3F6
#define ATA_PRIMARY_IRQ 14
#define ATA_MAX_MULT 16            /* sectors per DRQ block, READ/WRITE MULTIPLE */

/* Status register (clause 7, "Status register") */
#define ATA_SR_BSY  0x80
#define ATA_SR_DRDY 0x40
#define ATA_SR_DF   0x20
#define ATA_SR_DSC  0x10
#define ATA_SR_DRQ  0x08
#define ATA_SR_ERR  0x01
/* Error register */
#define ATA_ER_UNC  0x40
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04
/* Device Control register */
#define ATA_DC_NIEN 0x02
#define ATA_DC_SRST 0x04
#define ATA_DC_HOB  0x80

enum ata_xfer { ATA_XFER_NONE, ATA_XFER_IN, ATA_XFER_OUT };

struct ata_drive {
	struct disk_image *img;        /* NULL: no device at this position */
	/* command block registers; hob_* hold the previous contents (the
	 * 48-bit Address feature set takes the high bytes from them) */
	uint8_t feature, nsector, lba_lo, lba_mid, lba_hi, device;
	uint8_t hob_feature, hob_nsector, hob_lba_lo, hob_lba_mid, hob_lba_hi;
	uint8_t status, error;
	bool intrq;                    /* interrupt pending */

	/* the PIO transfer in progress */
	enum ata_xfer xfer;
	bool from_disk;                /* data-in from the image (else IDENTIFY) */
	uint8_t cmd;
	bool lba48, chs;
	uint64_t lba;                  /* first sector of the current DRQ block */
	uint32_t left;                 /* sectors left, the current block included */
	unsigned block;                /* sectors per DRQ block */
	unsigned pos, len;             /* bytes of the current block done / in it */
	uint8_t buf[ATA_MAX_MULT * DISK_SECTOR_SIZE];

	/* settings */
	unsigned mult;                 /* SET MULTIPLE MODE; 0 = disabled */
	uint32_t cyls;                 /* current CHS translation */
	uint16_t heads, spt;
	bool look_ahead;
};

struct ata_channel {
	struct ata_drive drive[2];
	unsigned sel;                  /* DEV bit of the last Device register write */
	uint8_t devctl;
	struct irq_line irq;
	int irq_level;
};

/* master may be NULL (an empty channel).  The channel starts as after
 * power-on. */
void ata_init(struct ata_channel *c, struct irq_line irq, struct disk_image *master);
/* Hardware reset (RESET-): every setting back to its power-on value. */
void ata_reset(struct ata_channel *c);
/* Claims 8 ports at cmd_base and 1 at ctl_port.  0, or -1 if taken. */
int ata_register(struct ata_channel *c, struct io_bus *pio, uint16_t cmd_base, uint16_t ctl_port);
/* The IDENTIFY DEVICE data the drive would return now (256 words). */
void ata_identify(const struct ata_drive *d, uint16_t id[256]);
#endif
