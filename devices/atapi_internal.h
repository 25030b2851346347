/* What atapi.c (the PACKET protocol) and atapi_cmd.c (the packet commands)
 * share.  References: ATA/ATAPI-6 (T13/1410D) clause 8.21 PACKET and 9.8
 * the PACKET protocol; SFF-8020i r2.6 (ATA Packet Interface for CD-ROMs);
 * MMC-5 (T10/1675D) and SPC-3 (T10/1416D) for the command set and sense
 * data. */
#ifndef BTVM_DEVICES_ATAPI_INTERNAL_H
#define BTVM_DEVICES_ATAPI_INTERNAL_H
#include "devices/ata_internal.h"

/* Interrupt reason (the Sector Count register during PACKET, 8.21.5) */
#define ATAPI_IR_COD 0x01   /* 1: command packet or status, 0: data */
#define ATAPI_IR_IO 0x02    /* 1: to the host */
#define ATAPI_IR_REL 0x04

/* Sense keys (SPC-3 Table 27) and the additional sense codes used here */
enum {
	SENSE_NONE = 0x0, SENSE_NOT_READY = 0x2, SENSE_MEDIUM_ERROR = 0x3,
	SENSE_ILLEGAL_REQUEST = 0x5, SENSE_UNIT_ATTENTION = 0x6,
};
enum {
	ASC_UNRECOVERED_READ = 0x11, ASC_INVALID_OPCODE = 0x20, ASC_LBA_OUT_OF_RANGE = 0x21,
	ASC_INVALID_FIELD_IN_CDB = 0x24, ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28,
	ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x39, ASC_MEDIUM_NOT_PRESENT = 0x3A,
	ASC_MEDIUM_REMOVAL_PREVENTED = 0x53,
};

/* atapi.c: ending a packet command */
/* Good status: no data, or after the last DRQ block. */
void atapi_ok(struct ata_channel *c, struct ata_drive *d);
/* CHECK CONDITION with this sense data. */
void atapi_check(struct ata_channel *c, struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq);
/* Sends the first len bytes of d->buf (at most alloc: the command's
 * allocation length) through DRQ blocks, then good status. */
void atapi_reply(struct ata_channel *c, struct ata_drive *d, uint32_t len, uint32_t alloc);
/* Sends bytes of the medium from offset, then good status. */
void atapi_read_medium(struct ata_channel *c, struct ata_drive *d, uint64_t offset, uint64_t bytes);
/* A medium is in and the tray closed. */
static inline bool atapi_medium_present(const struct ata_drive *d)
{
	return d->img && !d->atapi.tray_open;
}
/* The medium's 2048-byte blocks. */
static inline uint64_t atapi_blocks(const struct ata_drive *d)
{
	return atapi_medium_present(d) ? d->img->sectors / (CD_BLOCK_SIZE / DISK_SECTOR_SIZE) : 0;
}

/* atapi_cmd.c: runs the command in d->atapi.packet */
void atapi_run_packet(struct ata_channel *c, struct ata_drive *d);
#endif
