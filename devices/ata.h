/* One ATA channel (the PC has two: primary, command block 0x1F0-0x1F7,
 * control block 0x3F6, IRQ14; secondary, 0x170-0x177, 0x376, IRQ15) with a
 * device 0 (master) and a device 1 (slave), each absent, an ATA disk or an
 * ATAPI CD-ROM (devices/atapi.c).  PIO only, no DMA.
 *
 * Model (ATA/ATAPI-6, T13/1410D; ata.c, ata_cmd.c, ata_identify.c and
 * atapi*.c name the clauses they follow):
 *  - both device positions latch every command-block register write, as two
 *    real devices on one cable do; the DEV bit selects which one answers;
 *  - an absent device 1 reads 00h from Status, Alternate Status and Error
 *    (what device 0 answers for it) and ignores commands, so a driver's
 *    probe finds nothing there, as on QEMU's PIIX IDE;
 *  - an absent device 0 next to a device 1 answers as QEMU's does: its
 *    register file reads back, Status is DRDY|DSC, every command but
 *    EXECUTE DEVICE DIAGNOSTIC is aborted (ATA-6 leaves device-1-only
 *    configurations to the host adapter);
 *  - a channel with no device reads 00h everywhere;
 *  - commands complete synchronously: the disk access happens inside the
 *    port write, so BSY is never seen outside a software reset; DRQ, DRDY,
 *    DSC, ERR and the interrupt follow the PIO data-in, data-out,
 *    non-data and PACKET protocols of clause 9;
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
#define ATA_SECONDARY_CMD 0x170
#define ATA_SECONDARY_CTL 0x376
#define ATA_SECONDARY_IRQ 15
#define ATA_MAX_MULT 16            /* sectors per DRQ block, READ/WRITE MULTIPLE */
/* The data buffer: a READ MULTIPLE block, or an ATAPI DRQ block (at most
 * the largest even byte count limit, FFFEh). */
#define ATA_BUF_SIZE 65536

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
enum ata_kind { ATA_ABSENT, ATA_DISK, ATA_CDROM };

/* An ATAPI CD-ROM's state beyond the ATA registers (devices/atapi*.c). */
struct atapi_state {
	uint8_t packet[12];            /* the command packet (SFF-8020i: 12 bytes) */
	uint16_t bcl;                  /* byte count limit given with PACKET */
	uint64_t left;                 /* bytes of the reply not yet in a DRQ block */
	uint64_t offset;               /* reading the medium: image offset of the next byte */
	bool from_medium;              /* the reply is medium data (READ), else in buf */
	/* sense data of the last command (SPC: sense key, ASC, ASCQ) */
	uint8_t sense_key, asc, ascq;
	bool tray_open;                /* START STOP UNIT ejected the medium */
	bool locked;                   /* PREVENT ALLOW MEDIUM REMOVAL */
	/* a medium went in: the next commands report it (NOT READY, then
	 * UNIT ATTENTION, as QEMU's ide-cd does; atapi.c) */
	uint8_t changed;
	uint8_t media_event;           /* GET EVENT STATUS NOTIFICATION's event code, 0: none */
};

struct ata_drive {
	enum ata_kind kind;
	unsigned unit;                 /* 0 master, 1 slave */
	/* the image; NULL: no device, or a CD drive without a medium */
	struct disk_image *img;
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
	uint8_t buf[ATA_BUF_SIZE];

	/* settings */
	unsigned mult;                 /* SET MULTIPLE MODE; 0 = disabled */
	uint32_t cyls;                 /* current CHS translation */
	uint16_t heads, spt;
	bool look_ahead;
	struct atapi_state atapi;
	char serial[21];               /* IDENTIFY words 10-19 */
};

struct ata_channel {
	struct ata_drive drive[2];
	unsigned sel;                  /* DEV bit of the last Device register write */
	uint8_t devctl;
	struct irq_line irq;
	int irq_level;
};

/* An empty channel, as after power-on.  index (0 primary, 1 secondary)
 * numbers its devices' serial numbers: BTVM0000n, n = 2 * index + unit + 1. */
void ata_init(struct ata_channel *c, struct irq_line irq, unsigned index);
/* Puts a device at unit (0 or 1): ATA_DISK with an image, ATA_CDROM with
 * an image or NULL (no medium), ATA_ABSENT.  Then a hardware reset. */
void ata_attach(struct ata_channel *c, unsigned unit, enum ata_kind kind, struct disk_image *img);
/* Hardware reset (RESET-): every setting back to its power-on value. */
void ata_reset(struct ata_channel *c);
/* Claims 8 ports at cmd_base and 1 at ctl_port.  0, or -1 if taken. */
int ata_register(struct ata_channel *c, struct io_bus *pio, uint16_t cmd_base, uint16_t ctl_port);
/* The IDENTIFY DEVICE (disk) or IDENTIFY PACKET DEVICE (CD) data the
 * drive would return now (256 words). */
void ata_identify(const struct ata_channel *c, const struct ata_drive *d, uint16_t id[256]);
void atapi_identify(const struct ata_channel *c, const struct ata_drive *d, uint16_t id[256]);
/* A CD drive's medium changes (NULL: none).  The guest sees it as an
 * inserted medium: the next commands report NOT READY, then UNIT
 * ATTENTION (MEDIUM MAY HAVE CHANGED). */
void atapi_change_medium(struct ata_channel *c, unsigned unit, struct disk_image *img);
#endif
