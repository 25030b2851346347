/* IDENTIFY DEVICE data (ATA/ATAPI-6 clause 8.15, Table 27 "IDENTIFY
 * DEVICE information") and the CHS translation it reports; IDENTIFY PACKET
 * DEVICE data (clause 8.16, Table 29) for the CD-ROM. */
#include <string.h>
#include "devices/ata_internal.h"

static const char MODEL[] = "btvm ATA disk";
static const char CD_MODEL[] = "btvm ATAPI CD-ROM";
static const char FIRMWARE[] = "1.0";

/* ------------------------------------------------------------------ geometry */

uint64_t ata_lba28_capacity(const struct ata_drive *d)
{
	return d->img->sectors < ATA_LBA28_LIMIT ? d->img->sectors : ATA_LBA28_LIMIT;
}

/* The default translation of IDENTIFY words 1, 3 and 6: 16 heads and 63
 * sectors per track, at most 16383 cylinders (the values ATA-6 prescribes
 * for devices over 8.4 GB, and what BIOSes and QEMU use for smaller ones). */
void ata_default_geometry(struct ata_drive *d)
{
	uint64_t cyls = d->kind == ATA_DISK ? d->img->sectors / (16 * 63) : 0;
	d->heads = 16;
	d->spt = 63;
	d->cyls = cyls < 1 ? 1 : cyls > 16383 ? 16383 : (uint32_t)cyls;
}

uint64_t ata_chs_capacity(const struct ata_drive *d)
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

/* Word 93, hardware reset result (clause 8.15.58): the device number by
 * jumper (01b), diagnostics passed; device 0 also reports whether it saw
 * device 1 (PDIAG- and DASP-), device 1 that it asserted PDIAG-. */
static uint16_t reset_result(const struct ata_channel *c, const struct ata_drive *d)
{
	if (d->unit == 1)
		return 0x4000 | 0x0800 | 0x0200 | 0x0100;
	uint16_t w = 0x4000 | 0x0008 | 0x0002 | 0x0001;
	if (c->drive[1].kind != ATA_ABSENT)
		w |= 0x0020 | 0x0010;
	return w;
}

/* Integrity word 255: signature A5h and a checksum that makes the 512
 * bytes sum to zero (clause 8.15.67). */
static void put_checksum(uint16_t id[256])
{
	uint8_t sum = 0xA5;
	for (unsigned i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xFF) + (id[i] >> 8));
	id[255] = (uint16_t)((uint8_t)(0x100 - sum) << 8 | 0xA5);
}

void ata_identify(const struct ata_channel *c, const struct ata_drive *d, uint16_t id[256])
{
	memset(id, 0, 256 * sizeof(id[0]));
	if (d->kind != ATA_DISK)
		return;
	uint64_t total = d->img->sectors, lba28 = ata_lba28_capacity(d);
	uint32_t defcyls = (uint32_t)(total / (16 * 63));
	defcyls = defcyls < 1 ? 1 : defcyls > 16383 ? 16383 : defcyls;
	uint64_t cur_chs = ata_chs_capacity(d);
	if (cur_chs > 0xFFFFFFFFull)
		cur_chs = 0xFFFFFFFFull;

	id[0] = 0x0040;                 /* ATA device, not removable */
	id[1] = (uint16_t)defcyls;      /* default CHS translation */
	id[3] = 16;
	id[6] = 63;
	put_string(&id[10], d->serial, 10);
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
	id[93] = reset_result(c, d);
	id[100] = (uint16_t)total;
	id[101] = (uint16_t)(total >> 16);
	id[102] = (uint16_t)(total >> 32);
	id[103] = (uint16_t)(total >> 48);
	put_checksum(id);
}

/* ------------------------------------------------------------------ IDENTIFY PACKET */

void atapi_identify(const struct ata_channel *c, const struct ata_drive *d, uint16_t id[256])
{
	memset(id, 0, 256 * sizeof(id[0]));
	if (d->kind != ATA_CDROM)
		return;
	/* Word 0: ATAPI device (10b), command packet set CD-ROM (05h),
	 * removable, DRQ within 50 us of PACKET (10b: no interrupt before
	 * the packet), 12-byte packets (00b) -- SFF-8020i 7.1.4. */
	id[0] = 0x8000 | 0x0500 | 0x0080 | 0x0040;
	put_string(&id[10], d->serial, 10);
	put_string(&id[23], FIRMWARE, 4);
	put_string(&id[27], CD_MODEL, 20);
	id[49] = (1 << 11) | (1 << 9);  /* IORDY, LBA; bit 8 (DMA) clear: PIO only */
	id[53] = 0x0002;                /* words 64-70 valid */
	id[64] = 0x0003;                /* PIO modes 3 and 4 */
	id[67] = 120;                   /* minimum PIO cycle (ns): PIO mode 4 */
	id[68] = 120;
	id[80] = 0x0070;                /* ATA/ATAPI-4, -5, -6 */
	/* 82/85: NOP, DEVICE RESET, PACKET supported and enabled (NOP and
	 * DEVICE RESET are mandatory for PACKET devices, clause 6.3). */
	id[82] = (1 << 14) | (1 << 9) | (1 << 4);
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = (1 << 14) | (1 << 9) | (1 << 4);
	id[87] = 0x4000;
	id[93] = reset_result(c, d);
	put_checksum(id);
}

