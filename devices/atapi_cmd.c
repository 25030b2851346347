/* The CD-ROM's packet commands (SFF-8020i r2.6 clause 10, MMC-5 clause 6,
 * SPC-3 for INQUIRY and REQUEST SENSE): what each returns and when it
 * reports CHECK CONDITION.  The transfer itself is atapi.c's.
 *
 * Sense data (SPC-3 4.5): the sense of the last command, kept for the
 * REQUEST SENSE that follows it and cleared by any other command.  A
 * medium change is reported as QEMU's ide-cd does: NOT READY / MEDIUM NOT
 * PRESENT to the first command that is not allowed under a unit attention
 * condition, then UNIT ATTENTION / NOT READY TO READY CHANGE to the next
 * (MMC-5 4.1.6.1 names the commands allowed under a unit attention). */
#include <string.h>
#include "devices/atapi_internal.h"

static const char VENDOR[] = "BTVM";
static const char PRODUCT[] = "ATAPI CD-ROM";
static const char REVISION[] = "1.0";

/* Profiles and features (MMC-5 5.3, 5.2) */
#define PROFILE_CD_ROM 0x0008

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* Space-padded ASCII fields (SPC-3 6.4.2). */
static void put_ascii(uint8_t *p, const char *s, size_t n)
{
	size_t l = strlen(s);
	for (size_t i = 0; i < n; i++)
		p[i] = i < l ? (uint8_t)s[i] : ' ';
}

/* An LBA as MSF (MMC-5 4.2.3.5: the 150 frames of the pregap before LBA 0). */
static void put_msf(uint8_t *p, uint64_t lba)
{
	uint64_t f = lba + 150;
	p[0] = 0;
	p[1] = (uint8_t)(f / (75 * 60));
	p[2] = (uint8_t)(f / 75 % 60);
	p[3] = (uint8_t)(f % 75);
}

static void put_address(uint8_t *p, uint64_t lba, bool msf)
{
	if (msf)
		put_msf(p, lba);
	else
		put32(p, (uint32_t)lba);
}

static void invalid_field(struct ata_channel *c, struct ata_drive *d)
{
	atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
}

/* ------------------------------------------------------------------ the commands */

static void cmd_test_unit_ready(struct ata_channel *c, struct ata_drive *d)
{
	atapi_ok(c, d);   /* the not-ready cases were dealt with before */
}

/* REQUEST SENSE (SPC-3 6.27): fixed-format sense data, 18 bytes; VALID
 * clear (no INFORMATION field).  Reporting it clears it. */
static void cmd_request_sense(struct ata_channel *c, struct ata_drive *d)
{
	uint8_t *b = d->buf;
	memset(b, 0, 18);
	b[0] = 0x70;                    /* current error, fixed format */
	b[2] = d->atapi.sense_key;
	b[7] = 10;                      /* additional sense length */
	b[12] = d->atapi.asc;
	b[13] = d->atapi.ascq;
	d->atapi.sense_key = d->atapi.asc = d->atapi.ascq = 0;
	atapi_reply(c, d, 18, d->atapi.packet[4]);
}

/* INQUIRY (SPC-3 6.4; SFF-8020i 10.8.3 for the ATAPI fields): peripheral
 * type 05h (CD/DVD), removable; version 0 and response data format 1 with
 * ATAPI version 2 in byte 3, as SFF-8020i devices answer.  Vital product
 * data: the supported pages (00h) and the unit serial number (80h). */
static void cmd_inquiry(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	uint8_t *b = d->buf;
	uint32_t alloc = be16(p + 3);
	if (p[1] & 0x01) {
		memset(b, 0, 4);
		b[0] = 0x05;
		b[1] = p[2];
		switch (p[2]) {
		case 0x00:
			b[3] = 2;
			b[4] = 0x00;
			b[5] = 0x80;
			break;
		case 0x80:
			b[3] = 20;
			put_ascii(b + 4, d->serial, 20);
			break;
		default:
			invalid_field(c, d);
			return;
		}
		atapi_reply(c, d, 4u + b[3], alloc);
		return;
	}
	if (p[2]) {     /* a page code without EVPD */
		invalid_field(c, d);
		return;
	}
	memset(b, 0, 36);
	b[0] = 0x05;
	b[1] = 0x80;                    /* RMB */
	b[2] = 0x00;
	b[3] = 0x21;
	b[4] = 36 - 5;                  /* additional length */
	put_ascii(b + 8, VENDOR, 8);
	put_ascii(b + 16, PRODUCT, 16);
	put_ascii(b + 32, REVISION, 4);
	atapi_reply(c, d, 36, alloc);
}

/* START STOP UNIT (MMC-5 6.40): with LoEj, Start=0 opens the tray (unless
 * medium removal is prevented), Start=1 closes it; a medium found on
 * closing is reported as a change.  Power conditions: nothing to do. */
static void cmd_start_stop_unit(struct ata_channel *c, struct ata_drive *d)
{
	uint8_t f = d->atapi.packet[4];
	bool start = f & 0x01, loej = f & 0x02;
	if ((f & 0xF0) || !loej) {
		atapi_ok(c, d);
		return;
	}
	if (!start) {
		if (d->atapi.locked) {
			atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED, 0x02);
			return;
		}
		if (!d->atapi.tray_open && d->img)
			d->atapi.media_event = 3;    /* MediaRemoval */
		d->atapi.tray_open = true;
		d->atapi.changed = 0;
	} else if (d->atapi.tray_open) {
		d->atapi.tray_open = false;
		if (d->img) {
			d->atapi.changed = 2;        /* UNIT ATTENTION next */
			d->atapi.media_event = 2;    /* NewMedia */
		}
	}
	atapi_ok(c, d);
}

/* PREVENT ALLOW MEDIUM REMOVAL (MMC-5 6.9): the Prevent bit locks the tray. */
static void cmd_prevent_allow(struct ata_channel *c, struct ata_drive *d)
{
	d->atapi.locked = d->atapi.packet[4] & 0x01;
	atapi_ok(c, d);
}

/* READ CAPACITY (MMC-5 6.23): the last LBA and the block size. */
static void cmd_read_capacity(struct ata_channel *c, struct ata_drive *d)
{
	uint64_t last = atapi_blocks(d) - 1;
	put32(d->buf, last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)last);
	put32(d->buf + 4, CD_BLOCK_SIZE);
	atapi_reply(c, d, 8, 8);
}

/* READ(10), READ(12) (MMC-5 6.15, 6.16): 2048-byte blocks from the
 * medium; a range past its end is LOGICAL BLOCK ADDRESS OUT OF RANGE and
 * transfers nothing; a transfer length of zero is no error. */
static void cmd_read(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	uint64_t lba = be32(p + 2);
	uint64_t count = p[0] == 0x28 ? be16(p + 7) : be32(p + 6);
	uint64_t blocks = atapi_blocks(d);
	if (count == 0) {
		atapi_ok(c, d);
		return;
	}
	if (lba >= blocks || count > blocks - lba) {
		atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	atapi_read_medium(c, d, lba * CD_BLOCK_SIZE, count * CD_BLOCK_SIZE);
}

/* SEEK(10) (SFF-8020i 10.8.22): only the address is checked. */
static void cmd_seek(struct ata_channel *c, struct ata_drive *d)
{
	if (be32(d->atapi.packet + 2) >= atapi_blocks(d)) {
		atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	atapi_ok(c, d);
}

/* READ TOC/PMA/ATIP (MMC-5 6.26): one data track from LBA 0 and the
 * lead-out after the last block, as an ISO image is.  Format 0 (the TOC,
 * from track 1 or the lead-out AAh) and 1 (session information), LBA or
 * MSF.  The format is in byte 2 (MMC) or, from SFF-8020i drives, in byte
 * 9 bits 7:6. */
static void cmd_read_toc(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	bool msf = p[1] & 0x02;
	unsigned format = p[2] & 0x0F;
	if (!format)
		format = p[9] >> 6;
	unsigned track = p[6];
	uint8_t *b = d->buf;
	uint32_t len = 4;
	b[2] = 1;                       /* first track (format 0) / session (format 1) */
	b[3] = 1;                       /* last */
	switch (format) {
	case 0:
		if (track > 1 && track != 0xAA) {
			invalid_field(c, d);
			return;
		}
		if (track <= 1) {
			uint8_t *t = b + len;
			t[0] = 0;
			t[1] = 0x14;            /* ADR 1 (Q sub-channel position), control 4 (data track) */
			t[2] = 1;
			t[3] = 0;
			put_address(t + 4, 0, msf);
			len += 8;
		}
		{
			uint8_t *t = b + len;
			t[0] = 0;
			t[1] = 0x16;            /* the lead-out, as QEMU describes it */
			t[2] = 0xAA;
			t[3] = 0;
			put_address(t + 4, atapi_blocks(d), msf);
			len += 8;
		}
		break;
	case 1: {
		uint8_t *t = b + len;       /* the first track of the last (only) session */
		t[0] = 0;
		t[1] = 0x14;
		t[2] = 1;
		t[3] = 0;
		put_address(t + 4, 0, msf);
		len += 8;
		break;
	}
	default:
		invalid_field(c, d);
		return;
	}
	put16(b, len - 2);              /* TOC data length */
	atapi_reply(c, d, len, be16(p + 7));
}

/* GET CONFIGURATION (MMC-5 6.6): the CD-ROM profile and the features a
 * read-only CD drive has: Profile List, Core (ATAPI), Morphing, Removable
 * Medium (tray), Random Readable and CD Read, which are current only
 * with a medium.  RT 0: every feature from the starting one; 1: only the
 * current ones; 2: the starting feature alone. */
static uint32_t put_feature(uint8_t *b, uint16_t code, bool current, const uint8_t *data, uint8_t len)
{
	put16(b, code);
	b[2] = (uint8_t)(0x02 | (current ? 0x01 : 0));   /* version 0, persistent */
	if (code == 0x0010 || code == 0x001E)
		b[2] = current ? 0x01 : 0x00;                 /* not persistent */
	b[3] = len;
	memcpy(b + 4, data, len);
	return 4u + len;
}

static void cmd_get_configuration(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	unsigned rt = p[1] & 0x03;
	uint16_t start = be16(p + 2);
	bool medium = atapi_medium_present(d);
	if (rt == 3) {
		invalid_field(c, d);
		return;
	}
	uint8_t profiles[4] = { PROFILE_CD_ROM >> 8, PROFILE_CD_ROM & 0xFF, medium ? 1 : 0, 0 };
	uint8_t core[8] = { 0, 0, 0, 2 };                  /* physical interface: ATAPI */
	uint8_t morphing[4] = { 0x02 };                    /* OCEvent: GET EVENT STATUS NOTIFICATION */
	uint8_t removable[4] = { 0x29 };                   /* tray, eject, lock */
	uint8_t random[8] = { 0, 0, CD_BLOCK_SIZE >> 8, 0, 0, 1, 0, 0 };   /* 2048-byte blocks, blocking 1 */
	uint8_t cd_read[4] = { 0 };
	struct { uint16_t code; bool current; const uint8_t *data; uint8_t len; } f[] = {
		{ 0x0000, true, profiles, sizeof(profiles) },
		{ 0x0001, true, core, sizeof(core) },
		{ 0x0002, true, morphing, sizeof(morphing) },
		{ 0x0003, true, removable, sizeof(removable) },
		{ 0x0010, medium, random, sizeof(random) },
		{ 0x001E, medium, cd_read, sizeof(cd_read) },
	};
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	put16(b + 6, medium ? PROFILE_CD_ROM : 0);   /* current profile */
	uint32_t len = 8;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if ((rt == 2 && f[i].code != start) || f[i].code < start || (rt == 1 && !f[i].current))
			continue;
		len += put_feature(b + len, f[i].code, f[i].current, f[i].data, f[i].len);
	}
	put32(b, len - 4);              /* data length */
	atapi_reply(c, d, len, be16(p + 7));
}

/* GET EVENT STATUS NOTIFICATION (MMC-5 6.7): polled only; the media class
 * (4): the pending event (NewMedia, MediaRemoval), reported once, and
 * whether a medium is present and the tray open. */
static void cmd_get_event_status(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	if (!(p[1] & 0x01)) {           /* asynchronous operation: not supported */
		invalid_field(c, d);
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	b[3] = 1 << 4;                  /* supported classes: media */
	uint32_t len;
	if (p[4] & (1 << 4)) {
		b[2] = 4;                   /* notification class: media */
		put16(b, 4);
		b[4] = d->atapi.media_event;
		b[5] = (uint8_t)((d->atapi.tray_open ? 0x01 : 0) | (atapi_medium_present(d) ? 0x02 : 0));
		d->atapi.media_event = 0;
		len = 8;
	} else {
		b[2] = 0x80;                /* NEA: no event of a requested class */
		len = 4;
	}
	atapi_reply(c, d, len, be16(p + 7));
}

/* READ DISC INFORMATION (MMC-5 6.22): a finalized disc, one complete
 * session with track 1. */
static void cmd_read_disc_info(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	if (p[1] & 0x07) {              /* data types 1 and 2 are for BD */
		invalid_field(c, d);
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 34);
	put16(b, 32);                   /* disc information length */
	b[2] = 0x0E;                    /* last session complete, disc finalized */
	b[3] = 1;                       /* first track */
	b[4] = 1;                       /* sessions */
	b[5] = 1;                       /* first track of the last session */
	b[6] = 1;                       /* last track of the last session */
	b[7] = 0x20;                    /* unrestricted use */
	b[8] = 0x00;                    /* CD-DA or CD-ROM disc */
	atapi_reply(c, d, 34, be16(p + 7));
}

/* MODE SENSE(10) (SPC-3 6.10; SFF-8020i 10.8.11): the read error recovery
 * page (01h) and the capabilities and mechanical status page (2Ah, what
 * Linux's sr driver asks at probe), or both (3Fh).  Nothing is
 * changeable (page control 1 gives zero masks), saved values are not
 * kept.  The header's medium type is SFF-8020i's: 01h a 120 mm data CD,
 * 70h no disc, 71h tray open. */
static uint32_t page_error_recovery(uint8_t *b, bool changeable)
{
	memset(b, 0, 8);
	b[0] = 0x01;
	b[1] = 6;
	if (!changeable)
		b[3] = 5;                   /* read retry count */
	return 8;
}

static uint32_t page_capabilities(const struct ata_drive *d, uint8_t *b, bool changeable)
{
	memset(b, 0, 22);
	b[0] = 0x2A;
	b[1] = 20;
	if (changeable)
		return 22;
	b[2] = 0x07;                    /* reads CD-R, CD-RW, method 2 */
	b[3] = 0x00;                    /* writes nothing */
	b[4] = 0x71;                    /* audio play, mode 2 form 1 and 2, multi-session */
	b[5] = 0x60;                    /* ISRC, UPC */
	b[6] = (uint8_t)(0x29 | (d->atapi.locked ? 0x02 : 0));   /* tray, eject, lock (state) */
	put16(b + 8, 704);              /* maximum read speed, kB/s: 4x (176 a speed) */
	put16(b + 10, 2);               /* volume levels */
	put16(b + 12, 512);             /* buffer size, KiB */
	put16(b + 14, 704);             /* current read speed */
	return 22;
}

static void cmd_mode_sense(struct ata_channel *c, struct ata_drive *d)
{
	const uint8_t *p = d->atapi.packet;
	unsigned pc = p[2] >> 6, page = p[2] & 0x3F;
	if (pc == 3) {
		atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED, 0);
		return;
	}
	bool changeable = pc == 1;
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	b[2] = d->atapi.tray_open ? 0x71 : d->img ? 0x01 : 0x70;
	uint32_t len = 8;
	if (page == 0x01 || page == 0x3F)
		len += page_error_recovery(b + len, changeable);
	if (page == 0x2A || page == 0x3F)
		len += page_capabilities(d, b + len, changeable);
	if (len == 8) {
		invalid_field(c, d);
		return;
	}
	put16(b, len - 2);              /* mode data length */
	atapi_reply(c, d, len, be16(p + 7));
}

/* MECHANISM STATUS (MMC-5 6.11): no changer; the door state. */
static void cmd_mechanism_status(struct ata_channel *c, struct ata_drive *d)
{
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	b[1] = d->atapi.tray_open ? 0x10 : 0;
	atapi_reply(c, d, 8, be16(d->atapi.packet + 8));
}

/* SET CD SPEED (MMC-5 6.37): accepted, nothing changes. */
static void cmd_set_speed(struct ata_channel *c, struct ata_drive *d)
{
	atapi_ok(c, d);
}

/* ------------------------------------------------------------------ dispatch */

enum {
	ALLOW_UA = 1,      /* runs under a unit attention condition (MMC-5 4.1.6.1) */
	NEEDS_MEDIUM = 2,  /* NOT READY without a medium (MMC-5 4.1.8) */
};

static const struct {
	void (*run)(struct ata_channel *c, struct ata_drive *d);
	uint8_t flags;
} commands[256] = {
	[0x00] = { cmd_test_unit_ready, NEEDS_MEDIUM },
	[0x03] = { cmd_request_sense, ALLOW_UA },
	[0x12] = { cmd_inquiry, ALLOW_UA },
	[0x1B] = { cmd_start_stop_unit, 0 },
	[0x1E] = { cmd_prevent_allow, 0 },
	[0x25] = { cmd_read_capacity, NEEDS_MEDIUM },
	[0x28] = { cmd_read, NEEDS_MEDIUM },
	[0x2B] = { cmd_seek, NEEDS_MEDIUM },
	[0x43] = { cmd_read_toc, NEEDS_MEDIUM },
	[0x46] = { cmd_get_configuration, ALLOW_UA },
	[0x4A] = { cmd_get_event_status, ALLOW_UA },
	[0x51] = { cmd_read_disc_info, NEEDS_MEDIUM },
	[0x5A] = { cmd_mode_sense, 0 },
	[0xA8] = { cmd_read, NEEDS_MEDIUM },
	[0xBB] = { cmd_set_speed, 0 },
	[0xBD] = { cmd_mechanism_status, 0 },
};

void atapi_run_packet(struct ata_channel *c, struct ata_drive *d)
{
	uint8_t op = d->atapi.packet[0];
	/* Any command but REQUEST SENSE ends the previous one's sense data. */
	if (op != 0x03)
		d->atapi.sense_key = d->atapi.asc = d->atapi.ascq = 0;
	if (!commands[op].run) {
		atapi_check(c, d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		return;
	}
	if (!(commands[op].flags & ALLOW_UA) && d->atapi.changed && atapi_medium_present(d)) {
		if (d->atapi.changed == 1) {
			d->atapi.changed = 2;
			atapi_check(c, d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
		} else {
			d->atapi.changed = 0;
			atapi_check(c, d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
		}
		return;
	}
	if ((commands[op].flags & NEEDS_MEDIUM) && !atapi_medium_present(d)) {
		/* MMC-5 Table F.1: 3Ah/01h tray closed, 3Ah/02h tray open */
		atapi_check(c, d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->atapi.tray_open ? 0x02 : 0x01);
		return;
	}
	commands[op].run(c, d);
}
