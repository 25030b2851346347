/* The ATAPI CD-ROM on a manual bus: the ATA commands a packet device takes,
 * the PACKET protocol (packet DRQ, DRQ blocks and the byte count limit,
 * interrupt reason, ending status) and every packet command with its
 * error paths, against a temporary ISO-like image. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "devices/ata.h"

#define BLOCKS 64u                      /* 2048-byte blocks in the image */
#define CMD 0x170
#define CTL 0x376

enum { R_DATA, R_ERR, R_NSECT, R_LBAL, R_LBAM, R_LBAH, R_DEV, R_STATUS };
#define R_FEAT R_ERR
#define R_CMD R_STATUS

static struct fx {
	char dir[64], path[128];
	struct disk_image img;
	struct ata_channel ata;
	struct io_bus bus;
	int level, edges;
} f;

static void irq_rec(void *opaque, int irq, int level)
{
	struct fx *x = opaque;
	assert_int_equal(irq, 15);
	if (level && !x->level)
		x->edges++;
	x->level = level;
}

/* Block n: "CD block NNNN" then (n + i) & 0xff. */
static void pattern(uint8_t *p, uint32_t n)
{
	for (unsigned i = 0; i < 2048; i++)
		p[i] = (uint8_t)(n + i);
	snprintf((char *)p, 16, "CD block %04u", n);
}

static void attach(bool medium)
{
	io_bus_init(&f.bus, "pio");
	ata_init(&f.ata, (struct irq_line){ irq_rec, &f, 15 }, 1);
	if (medium) {
		char err[256];
		struct disk_image_opts o = { true, CD_BLOCK_SIZE, "--cdrom", "--cdrom" };
		assert_int_equal(disk_image_open_opts(&f.img, f.path, &o, err, sizeof(err)), 0);
	}
	ata_attach(&f.ata, 0, ATA_CDROM, medium ? &f.img : NULL);
	assert_int_equal(ata_register(&f.ata, &f.bus, CMD, CTL), 0);
}

static int setup_common(bool medium)
{
	memset(&f, 0, sizeof(f));
	f.img.fd = -1;
	strcpy(f.dir, "/tmp/btvm-atapi-test.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/cd.iso", f.dir);
	FILE *fp = fopen(f.path, "wb");
	assert_non_null(fp);
	uint8_t b[2048];
	for (unsigned n = 0; n < BLOCKS; n++) {
		pattern(b, n);
		assert_int_equal(fwrite(b, 1, sizeof(b), fp), sizeof(b));
	}
	assert_int_equal(fclose(fp), 0);
	attach(medium);
	return 0;
}

static int setup(void **state) { (void)state; return setup_common(true); }
static int setup_empty(void **state) { (void)state; return setup_common(false); }

static int teardown(void **state)
{
	(void)state;
	disk_image_close(&f.img);
	unlink(f.path);
	rmdir(f.dir);
	return 0;
}

static uint8_t rd(unsigned reg)
{
	uint8_t d[1];
	assert_true(io_bus_access(&f.bus, CMD + reg, d, 1, false));
	return d[0];
}

static void wr(unsigned reg, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, CMD + reg, &v, 1, true));
}

static uint8_t alt(void)
{
	uint8_t d[1];
	assert_true(io_bus_access(&f.bus, CTL, d, 1, false));
	return d[0];
}

static void ctl(uint8_t v)
{
	assert_true(io_bus_access(&f.bus, CTL, &v, 1, true));
}

static uint16_t data_in16(void)
{
	uint8_t d[2];
	assert_true(io_bus_access(&f.bus, CMD, d, 2, false));
	return (uint16_t)io_data_get(d, 2);
}

static void data_out16(uint16_t v)
{
	uint8_t d[2];
	io_data_put(d, 2, v);
	assert_true(io_bus_access(&f.bus, CMD, d, 2, true));
}

/* ------------------------------------------------------------------ the protocol */

struct result {
	uint8_t status, error;          /* the final status (read, which acknowledges) */
	unsigned got, blocks;           /* bytes read, DRQ blocks */
	unsigned block_len[64];         /* the byte count of each block */
};

static uint8_t data[1 << 20];

/* Sends a packet command with a byte count limit and reads every DRQ
 * block, checking the protocol at each step (ATA/ATAPI-6 9.8): the packet
 * DRQ with C/D=1 I/O=0 and no interrupt; each data block with C/D=0
 * I/O=1, its byte count within the limit, one interrupt; the end with
 * C/D=1 I/O=1 and one interrupt. */
static struct result packet_bcl(const uint8_t cdb[12], uint16_t bcl)
{
	struct result r = { 0 };
	wr(R_FEAT, 0);
	wr(R_LBAM, (uint8_t)bcl);
	wr(R_LBAH, (uint8_t)(bcl >> 8));
	int e = f.edges;
	wr(R_CMD, 0xA0);
	assert_int_equal(alt(), 0x58);              /* DRDY DSC DRQ */
	assert_int_equal(rd(R_NSECT), 0x01);        /* C/D=1, I/O=0 */
	assert_int_equal(f.edges, e);               /* no interrupt for the packet */
	for (unsigned i = 0; i < 12; i += 2)
		data_out16((uint16_t)(cdb[i] | cdb[i + 1] << 8));
	while (alt() & 0x08) {
		assert_int_equal(f.edges, e + 1);
		e = f.edges;
		assert_int_equal(f.level, 1);
		assert_int_equal(rd(R_STATUS), 0x58);   /* acknowledges */
		assert_int_equal(rd(R_NSECT), 0x02);    /* C/D=0, I/O=1 */
		unsigned n = rd(R_LBAM) | rd(R_LBAH) << 8;
		unsigned limit = bcl == 0xFFFF ? 0xFFFE : bcl;
		assert_true(n > 0 && n <= limit);
		assert_true(r.blocks < 64);
		r.block_len[r.blocks++] = n;
		for (unsigned i = 0; i < n; i += 2) {
			uint16_t w = data_in16();
			if (r.got + 2 <= sizeof(data)) {
				data[r.got] = (uint8_t)w;
				data[r.got + 1] = (uint8_t)(w >> 8);
			}
			r.got += i + 1 < n ? 2 : 1;
		}
	}
	assert_int_equal(f.edges, e + 1);           /* the ending interrupt */
	r.error = rd(R_ERR);
	assert_int_equal(rd(R_NSECT) & 0x03, 0x03); /* C/D=1, I/O=1 */
	r.status = rd(R_STATUS);
	assert_int_equal(f.level, 0);
	return r;
}

static struct result packet(const uint8_t cdb[12])
{
	return packet_bcl(cdb, 0xFFFE);
}

static void expect_good(const uint8_t cdb[12])
{
	struct result r = packet(cdb);
	assert_int_equal(r.status, 0x50);
	assert_int_equal(r.error, 0);
}

/* The next REQUEST SENSE: key, ASC, ASCQ packed as 0xKKAAQQ. */
static uint32_t sense(void)
{
	const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
	struct result r = packet(rs);
	assert_int_equal(r.status, 0x50);
	assert_int_equal(r.got, 18);
	assert_int_equal(data[0], 0x70);
	assert_int_equal(data[7], 10);
	return (uint32_t)(data[2] & 0x0F) << 16 | (uint32_t)data[12] << 8 | data[13];
}

/* CHECK CONDITION: ERR, the sense key in Error bits 7:4, then the sense. */
static void expect_sense(const uint8_t cdb[12], uint32_t want)
{
	struct result r = packet(cdb);
	assert_int_equal(r.status, 0x41);            /* DRDY ERR */
	assert_int_equal(r.error, (want >> 16) << 4);
	assert_int_equal(r.got, 0);
	assert_int_equal(sense(), want);
}

/* ------------------------------------------------------------------ ATA level */

static void read_identify_packet(uint16_t id[256])
{
	int e = f.edges;
	wr(R_CMD, 0xA1);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x58);
	for (unsigned i = 0; i < 256; i++)
		id[i] = data_in16();
	assert_int_equal(alt(), 0x50);
	assert_int_equal(f.edges, e + 1);
}

static void test_power_on_and_identify(void **state)
{
	(void)state;
	/* after a reset a packet device shows its signature with DRDY clear */
	assert_int_equal(alt(), 0x00);
	assert_int_equal(rd(R_ERR), 0x01);
	assert_int_equal(rd(R_NSECT), 1);
	assert_int_equal(rd(R_LBAL), 1);
	assert_int_equal(rd(R_LBAM), 0x14);
	assert_int_equal(rd(R_LBAH), 0xEB);
	assert_int_equal(rd(R_DEV), 0xA0);

	/* IDENTIFY DEVICE and READ SECTORS: aborted, the signature put back */
	wr(R_LBAM, 0x55);
	int e = f.edges;
	wr(R_CMD, 0xEC);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(rd(R_ERR), 0x04);
	assert_int_equal(rd(R_LBAM), 0x14);
	assert_int_equal(rd(R_LBAH), 0xEB);
	wr(R_LBAH, 0x00);
	wr(R_CMD, 0x20);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(rd(R_LBAH), 0xEB);
	/* disk commands are aborted */
	wr(R_CMD, 0xC4);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(rd(R_ERR), 0x04);
	wr(R_CMD, 0xE5);
	assert_int_equal(rd(R_STATUS), 0x41);

	uint16_t id[256];
	read_identify_packet(id);
	assert_int_equal(id[0], 0x85C0);        /* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
	char model[41];
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[40] = 0;
	assert_string_equal(model, "btvm ATAPI CD-ROM                       ");
	assert_int_equal(id[10], 'B' << 8 | 'T');
	assert_int_equal(id[14], '3' << 8 | ' ');   /* BTVM00003: secondary master */
	assert_int_equal(id[49] & 0x0300, 0x0200);  /* LBA, no DMA */
	assert_int_equal(id[82] & 0x0010, 0x0010);  /* PACKET feature set */
	assert_int_equal(id[93], 0x400B);           /* device 0, no device 1 */
	uint8_t sum = 0;
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xFF) + (id[i] >> 8));
	assert_int_equal(sum, 0);

	/* SET FEATURES: PIO modes yes, DMA no; FLUSH CACHE: nothing to do */
	wr(R_FEAT, 0x03);
	wr(R_NSECT, 0x0C);
	wr(R_CMD, 0xEF);
	assert_int_equal(rd(R_STATUS), 0x50);
	wr(R_NSECT, 0x42);
	wr(R_CMD, 0xEF);
	assert_int_equal(rd(R_STATUS), 0x41);
	wr(R_CMD, 0xE7);
	assert_int_equal(rd(R_STATUS), 0x50);
	/* NOP: aborted (ATA-6 8.18) */
	wr(R_CMD, 0x00);
	assert_int_equal(rd(R_STATUS), 0x41);
}

static void test_resets(void **state)
{
	(void)state;
	/* a packet in flight ... */
	wr(R_FEAT, 0);
	wr(R_CMD, 0xA0);
	assert_int_equal(alt(), 0x58);
	/* ... DEVICE RESET is accepted during DRQ: signature, DRDY clear, no
	 * interrupt */
	int e = f.edges;
	wr(R_CMD, 0x08);
	assert_int_equal(f.edges, e);
	assert_int_equal(alt(), 0x00);
	assert_int_equal(rd(R_LBAM), 0x14);
	assert_int_equal(rd(R_LBAH), 0xEB);
	assert_int_equal(data_in16(), 0);       /* no transfer */

	/* software reset: BSY while SRST, then the signature and status 0 */
	const uint8_t tur[12] = { 0 };
	expect_good(tur);
	ctl(0x04);
	assert_int_equal(alt() & 0x80, 0x80);
	ctl(0x00);
	assert_int_equal(alt(), 0x00);
	assert_int_equal(rd(R_ERR), 0x01);
	assert_int_equal(rd(R_LBAM), 0x14);

	/* EXECUTE DEVICE DIAGNOSTIC: the signature, code 01h, an interrupt */
	e = f.edges;
	wr(R_CMD, 0x90);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_ERR), 0x01);
	assert_int_equal(rd(R_STATUS), 0x00);
	assert_int_equal(rd(R_LBAH), 0xEB);
}

static void test_packet_protocol(void **state)
{
	(void)state;
	/* PACKET with DMA or overlap asked for: aborted */
	wr(R_FEAT, 0x01);
	wr(R_CMD, 0xA0);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(rd(R_ERR), 0x04);
	wr(R_FEAT, 0x02);
	wr(R_CMD, 0xA0);
	assert_int_equal(rd(R_STATUS), 0x41);

	/* a data command with a zero byte count limit: aborted at the ATA
	 * level, with an interrupt; a non-data one runs */
	const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	wr(R_FEAT, 0);
	wr(R_LBAM, 0);
	wr(R_LBAH, 0);
	wr(R_CMD, 0xA0);
	int e = f.edges;
	for (unsigned i = 0; i < 12; i += 2)
		data_out16((uint16_t)(inq[i] | inq[i + 1] << 8));
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(rd(R_ERR), 0x04);
	const uint8_t tur[12] = { 0 };
	struct result r = packet_bcl(tur, 0);
	assert_int_equal(r.status, 0x50);

	/* 32-bit accesses move the packet and the data too */
	wr(R_LBAM, 0xFE);
	wr(R_LBAH, 0xFF);
	wr(R_CMD, 0xA0);
	for (unsigned i = 0; i < 12; i += 4) {
		uint8_t d[4] = { inq[i], inq[i + 1], inq[i + 2], inq[i + 3] };
		assert_true(io_bus_access(&f.bus, CMD, d, 4, true));
	}
	assert_int_equal(rd(R_STATUS), 0x58);
	assert_int_equal(rd(R_LBAM), 36);
	uint8_t d[4];
	assert_true(io_bus_access(&f.bus, CMD, d, 4, false));
	assert_int_equal(d[0], 0x05);
	assert_int_equal(d[1], 0x80);
	for (unsigned i = 4; i < 36; i += 4)
		assert_true(io_bus_access(&f.bus, CMD, d, 4, false));
	assert_int_equal(rd(R_STATUS), 0x50);
	assert_int_equal(rd(R_NSECT), 0x03);

	/* writing data during a data-in block is ignored; a command write
	 * during DRQ too */
	wr(R_LBAM, 0xFE);
	wr(R_LBAH, 0xFF);
	wr(R_CMD, 0xA0);
	for (unsigned i = 0; i < 12; i += 2)
		data_out16((uint16_t)(inq[i] | inq[i + 1] << 8));
	data_out16(0x1234);
	wr(R_CMD, 0xEC);
	assert_int_equal(rd(R_STATUS), 0x58);
	assert_int_equal(data_in16(), 0x8005);
	/* odd byte count limits: blocks even but the last */
	ctl(0x04);
	ctl(0x00);
	r = packet_bcl(inq, 7);
	assert_int_equal(r.blocks, 6);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(r.block_len[i], 6);
	assert_int_equal(r.block_len[5], 6);
	assert_int_equal(r.got, 36);
	const uint8_t inq5[12] = { 0x12, 0, 0, 0, 5 };
	r = packet_bcl(inq5, 9);               /* 5 bytes fit: one odd block */
	assert_int_equal(r.blocks, 1);
	assert_int_equal(r.block_len[0], 5);
	assert_int_equal(r.got, 5);
	r = packet_bcl(inq, 0xFFFF);           /* FFFFh means FFFEh */
	assert_int_equal(r.blocks, 1);

	/* nIEN: the blocks and the end come without an interrupt */
	ctl(0x02);
	e = f.edges;
	wr(R_CMD, 0xA0);
	for (unsigned i = 0; i < 12; i += 2)
		data_out16((uint16_t)(inq[i] | inq[i + 1] << 8));
	assert_int_equal(alt(), 0x58);
	for (unsigned i = 0; i < 18; i++)
		data_in16();
	assert_int_equal(alt(), 0x50);
	assert_int_equal(f.edges, e);
	assert_int_equal(f.level, 0);
	ctl(0x00);                             /* the pending end interrupt shows */
	assert_int_equal(f.level, 1);
	rd(R_STATUS);
}

static void test_inquiry_and_sense(void **state)
{
	(void)state;
	assert_int_equal(sense(), 0);
	const uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
	struct result r = packet(inq);
	assert_int_equal(r.status, 0x50);
	assert_int_equal(r.got, 36);
	static const uint8_t head[8] = { 0x05, 0x80, 0x00, 0x21, 31, 0, 0, 0 };
	assert_memory_equal(data, head, 8);
	assert_memory_equal(data + 8, "BTVM    ATAPI CD-ROM    1.0 ", 28);
	const uint8_t inq2[12] = { 0x12, 0, 0, 0, 2 };     /* the allocation length cuts */
	r = packet(inq2);
	assert_int_equal(r.got, 2);
	/* vital product data: supported pages, serial number */
	const uint8_t vpd0[12] = { 0x12, 1, 0x00, 0, 64 };
	r = packet(vpd0);
	static const uint8_t pages[6] = { 0x05, 0x00, 0x00, 2, 0x00, 0x80 };
	assert_int_equal(r.got, 6);
	assert_memory_equal(data, pages, 6);
	const uint8_t vpd80[12] = { 0x12, 1, 0x80, 0, 64 };
	r = packet(vpd80);
	assert_int_equal(r.got, 24);
	assert_memory_equal(data + 4, "BTVM00003           ", 20);
	const uint8_t vpd83[12] = { 0x12, 1, 0x83, 0, 64 };
	expect_sense(vpd83, 0x052400);
	const uint8_t page_no_evpd[12] = { 0x12, 0, 0x80, 0, 64 };
	expect_sense(page_no_evpd, 0x052400);

	/* an unknown command: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE;
	 * its sense goes to the next REQUEST SENSE only */
	const uint8_t bad[12] = { 0xFF };
	expect_sense(bad, 0x052000);
	assert_int_equal(sense(), 0);
	const uint8_t mode_select[12] = { 0x55 };
	expect_sense(mode_select, 0x052000);
	struct result r2 = packet(bad);
	assert_int_equal(r2.status, 0x41);
	const uint8_t tur[12] = { 0 };
	expect_good(tur);                        /* any other command clears it */
	assert_int_equal(sense(), 0);
	const uint8_t rs_short[12] = { 0x03, 0, 0, 0, 8 };
	r = packet(rs_short);
	assert_int_equal(r.got, 8);
}

static void test_capacity_and_read(void **state)
{
	(void)state;
	const uint8_t cap[12] = { 0x25 };
	struct result r = packet(cap);
	static const uint8_t want[8] = { 0, 0, 0, BLOCKS - 1, 0, 0, 0x08, 0 };
	assert_int_equal(r.got, 8);
	assert_memory_equal(data, want, 8);

	uint8_t blk[2048];
	/* READ(10): 3 blocks from 5, in blocks of the limit */
	const uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 3 };
	r = packet_bcl(rd10, 0xF000);
	assert_int_equal(r.status, 0x50);
	assert_int_equal(r.got, 3 * 2048);
	assert_int_equal(r.blocks, 1);
	for (unsigned i = 0; i < 3; i++) {
		pattern(blk, 5 + i);
		assert_memory_equal(data + i * 2048, blk, 2048);
	}
	r = packet_bcl(rd10, 1000);             /* blocks across the 2048-byte boundaries */
	assert_int_equal(r.got, 3 * 2048);
	assert_int_equal(r.blocks, 7);
	assert_int_equal(r.block_len[6], 3 * 2048 - 6 * 1000);
	pattern(blk, 7);
	assert_memory_equal(data + 2 * 2048, blk, 2048);
	/* READ(12): the last block */
	const uint8_t rd12[12] = { 0xA8, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 0, 1 };
	r = packet(rd12);
	assert_int_equal(r.got, 2048);
	pattern(blk, BLOCKS - 1);
	assert_memory_equal(data, blk, 2048);
	/* the whole medium in one command */
	const uint8_t all[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, BLOCKS };
	r = packet(all);
	assert_int_equal(r.got, BLOCKS * 2048);
	pattern(blk, 40);
	assert_memory_equal(data + 40 * 2048, blk, 2048);
	/* nothing to read: good status without data */
	const uint8_t none[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 0 };
	r = packet(none);
	assert_int_equal(r.status, 0x50);
	assert_int_equal(r.got, 0);
	/* past the end: LOGICAL BLOCK ADDRESS OUT OF RANGE, no data */
	const uint8_t past[12] = { 0x28, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 2 };
	expect_sense(past, 0x052100);
	const uint8_t far12[12] = { 0xA8, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1 };
	expect_sense(far12, 0x052100);
	/* SEEK */
	const uint8_t seek[12] = { 0x2B, 0, 0, 0, 0, BLOCKS - 1 };
	expect_good(seek);
	const uint8_t seek_past[12] = { 0x2B, 0, 0, 0, 0, BLOCKS };
	expect_sense(seek_past, 0x052100);
}

static void test_host_read_error(void **state)
{
	(void)state;
	/* the image shrinks under btvm: a MEDIUM ERROR, not garbage */
	assert_int_equal(truncate(f.path, 2048), 0);
	const uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 1 };
	expect_sense(rd10, 0x031100);
}

static void test_toc(void **state)
{
	(void)state;
	/* format 0, LBA: header, track 1 at 0, lead-out at the end */
	const uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
	struct result r = packet(toc);
	static const uint8_t lba[20] = { 0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0,
					 0, 0x16, 0xAA, 0, 0, 0, 0, BLOCKS };
	assert_int_equal(r.got, 20);
	assert_memory_equal(data, lba, 20);
	/* MSF: the 2-second pregap: 00:02:00 and 64 + 150 frames = 00:02:64 */
	const uint8_t toc_msf[12] = { 0x43, 2, 0, 0, 0, 0, 0, 0, 100 };
	r = packet(toc_msf);
	static const uint8_t msf[20] = { 0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 2, 0,
					 0, 0x16, 0xAA, 0, 0, 0, 2, 64 };
	assert_memory_equal(data, msf, 20);
	/* from the lead-out only */
	const uint8_t toc_aa[12] = { 0x43, 0, 0, 0, 0, 0, 0xAA, 0, 100 };
	r = packet(toc_aa);
	assert_int_equal(r.got, 12);
	assert_int_equal(data[1], 10);
	assert_int_equal(data[6], 0xAA);
	/* a track that does not exist */
	const uint8_t toc_2[12] = { 0x43, 0, 0, 0, 0, 0, 2, 0, 100 };
	expect_sense(toc_2, 0x052400);
	/* session information, in byte 2 (MMC) and byte 9 (SFF-8020i) */
	const uint8_t sess[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 100 };
	r = packet(sess);
	static const uint8_t s1[12] = { 0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0 };
	assert_int_equal(r.got, 12);
	assert_memory_equal(data, s1, 12);
	const uint8_t sess_old[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0x40 };
	r = packet(sess_old);
	assert_memory_equal(data, s1, 12);
	/* the raw TOC (format 2): not supported */
	const uint8_t raw[12] = { 0x43, 0, 2, 0, 0, 0, 0, 0, 100 };
	expect_sense(raw, 0x052400);
	/* the allocation length cuts */
	const uint8_t toc4[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 4 };
	r = packet(toc4);
	assert_int_equal(r.got, 4);
	assert_int_equal(data[1], 18);
	/* disc information: one finalized session */
	const uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
	r = packet(di);
	assert_int_equal(r.got, 34);
	assert_int_equal(data[1], 32);
	assert_int_equal(data[2], 0x0E);
	const uint8_t di_bd[12] = { 0x51, 1, 0, 0, 0, 0, 0, 0, 34 };
	expect_sense(di_bd, 0x052400);
}

static void test_mode_sense(void **state)
{
	(void)state;
	const uint8_t caps[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 100 };
	struct result r = packet(caps);
	assert_int_equal(r.got, 30);
	assert_int_equal(data[1], 28);             /* mode data length */
	assert_int_equal(data[2], 0x01);           /* a 120 mm data CD */
	assert_int_equal(data[8], 0x2A);
	assert_int_equal(data[9], 20);
	assert_int_equal(data[8 + 6] & 0x0B, 0x09);     /* lock, eject; not locked */
	assert_int_equal(data[8 + 8] << 8 | data[8 + 9], 704);
	const uint8_t err_page[12] = { 0x5A, 0, 0x01, 0, 0, 0, 0, 0, 100 };
	r = packet(err_page);
	static const uint8_t ep[16] = { 0, 14, 0x01, 0, 0, 0, 0, 0, 0x01, 6, 0, 5, 0, 0, 0, 0 };
	assert_int_equal(r.got, 16);
	assert_memory_equal(data, ep, 16);
	const uint8_t all[12] = { 0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 100 };
	r = packet(all);
	assert_int_equal(r.got, 38);
	assert_int_equal(data[8], 0x01);
	assert_int_equal(data[16], 0x2A);
	const uint8_t changeable[12] = { 0x5A, 0, 0x40 | 0x2A, 0, 0, 0, 0, 0, 100 };
	r = packet(changeable);
	assert_int_equal(r.got, 30);
	assert_int_equal(data[10] | data[14] | data[16], 0);
	const uint8_t saved[12] = { 0x5A, 0, 0xC0 | 0x2A, 0, 0, 0, 0, 0, 100 };
	expect_sense(saved, 0x053900);
	const uint8_t audio[12] = { 0x5A, 0, 0x0E, 0, 0, 0, 0, 0, 100 };
	expect_sense(audio, 0x052400);
	/* the lock state shows in the capabilities page */
	const uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 };
	expect_good(lock);
	r = packet(caps);
	assert_int_equal(data[8 + 6] & 0x02, 0x02);
	const uint8_t unlock[12] = { 0x1E, 0, 0, 0, 0 };
	expect_good(unlock);
}

static void test_tray_and_media_change(void **state)
{
	(void)state;
	const uint8_t tur[12] = { 0 };
	const uint8_t eject[12] = { 0x1B, 0, 0, 0, 0x02 };
	const uint8_t load[12] = { 0x1B, 0, 0, 0, 0x03 };
	const uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 };
	const uint8_t unlock[12] = { 0x1E, 0, 0, 0, 0 };
	const uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	const uint8_t start[12] = { 0x1B, 0, 0, 0, 0x01 };
	expect_good(start);                        /* no LoEj: nothing moves */
	/* a locked tray does not open */
	expect_good(lock);
	expect_sense(eject, 0x055302);
	expect_good(tur);
	expect_good(unlock);
	/* open: no medium, tray open; MediaRemoval once */
	expect_good(eject);
	expect_sense(tur, 0x023A02);
	struct result r = packet(gesn);
	assert_int_equal(r.got, 8);
	assert_int_equal(data[2], 4);
	assert_int_equal(data[4], 3);              /* MediaRemoval */
	assert_int_equal(data[5], 0x01);           /* tray open, no medium */
	r = packet(gesn);
	assert_int_equal(data[4], 0);
	const uint8_t cap[12] = { 0x25 };
	expect_sense(cap, 0x023A02);
	const uint8_t mech[12] = { 0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	r = packet(mech);
	assert_int_equal(r.got, 8);
	assert_int_equal(data[1] & 0x10, 0x10);    /* door open */
	/* closed again: the medium is reported changed once */
	expect_good(load);
	r = packet(gesn);
	assert_int_equal(data[4], 2);              /* NewMedia */
	assert_int_equal(data[5], 0x02);           /* medium present */
	expect_sense(tur, 0x062800);
	expect_good(tur);
	/* GESN: asynchronous mode is not supported; other classes: NEA */
	const uint8_t gesn_async[12] = { 0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8 };
	expect_sense(gesn_async, 0x052400);
	const uint8_t gesn_power[12] = { 0x4A, 1, 0, 0, 0x04, 0, 0, 0, 8 };
	r = packet(gesn_power);
	assert_int_equal(r.got, 4);
	assert_int_equal(data[2], 0x80);
	/* power conditions alone: nothing moves */
	const uint8_t standby[12] = { 0x1B, 0, 0, 0, 0x32 };
	expect_good(standby);
	expect_good(tur);
	const uint8_t speed[12] = { 0xBB, 0, 0xFF, 0xFF };
	expect_good(speed);
}

static void test_get_configuration(void **state)
{
	(void)state;
	const uint8_t all[12] = { 0x46, 0, 0, 0, 0, 0, 0, 1, 0 };
	struct result r = packet(all);
	/* header 8, profile list 8, core 12, morphing 8, removable 8,
	 * random readable 12, CD read 8 */
	assert_int_equal(r.got, 64);
	assert_int_equal(data[3], 60);
	assert_int_equal(data[6] << 8 | data[7], 0x0008);     /* current: CD-ROM */
	static const uint8_t plist[8] = { 0, 0, 0x03, 4, 0, 0x08, 0x01, 0 };
	assert_memory_equal(data + 8, plist, 8);
	assert_int_equal(data[16 + 1], 0x01);                  /* core */
	assert_int_equal(data[16 + 7], 2);                     /* ATAPI */
	assert_int_equal(data[44 + 1], 0x10);                  /* random readable, current */
	assert_int_equal(data[44 + 2] & 1, 1);
	/* RT 2: the one feature asked for */
	const uint8_t one[12] = { 0x46, 2, 0, 0x1E, 0, 0, 0, 1, 0 };
	r = packet(one);
	assert_int_equal(r.got, 16);
	assert_int_equal(data[9], 0x1E);
	const uint8_t mrw[12] = { 0x46, 2, 0, 0x28, 0, 0, 0, 1, 0 };
	r = packet(mrw);
	assert_int_equal(r.got, 8);                            /* not a feature here */
	assert_int_equal(data[3], 4);
	const uint8_t bad_rt[12] = { 0x46, 3, 0, 0, 0, 0, 0, 1, 0 };
	expect_sense(bad_rt, 0x052400);
	/* RT 1 without a medium: the medium features are not current */
	const uint8_t eject[12] = { 0x1B, 0, 0, 0, 0x02 };
	expect_good(eject);
	const uint8_t current[12] = { 0x46, 1, 0, 0, 0, 0, 0, 1, 0 };
	r = packet(current);
	assert_int_equal(data[6] << 8 | data[7], 0);
	assert_int_equal(r.got, 8 + 8 + 12 + 8 + 8);
}

static void test_no_medium(void **state)
{
	(void)state;
	const uint8_t tur[12] = { 0 };
	expect_sense(tur, 0x023A01);               /* MEDIUM NOT PRESENT - TRAY CLOSED */
	const uint8_t rd10[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
	expect_sense(rd10, 0x023A01);
	const uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
	expect_sense(toc, 0x023A01);
	/* what needs no medium still works */
	const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	struct result r = packet(inq);
	assert_int_equal(r.got, 36);
	const uint8_t caps[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 100 };
	r = packet(caps);
	assert_int_equal(data[2], 0x70);           /* no disc */

	/* a medium goes in: NOT READY once, then UNIT ATTENTION, as QEMU's
	 * ide-cd; INQUIRY and REQUEST SENSE are allowed meanwhile */
	char err[256];
	struct disk_image_opts o = { true, CD_BLOCK_SIZE, "--cdrom", "--cdrom" };
	assert_int_equal(disk_image_open_opts(&f.img, f.path, &o, err, sizeof(err)), 0);
	atapi_change_medium(&f.ata, 0, &f.img);
	r = packet(inq);
	assert_int_equal(r.status, 0x50);
	expect_sense(tur, 0x023A00);
	r = packet(inq);
	assert_int_equal(r.status, 0x50);
	expect_sense(tur, 0x062800);
	expect_good(tur);
	const uint8_t cap[12] = { 0x25 };
	r = packet(cap);
	assert_int_equal(data[3], BLOCKS - 1);
	/* and out again */
	atapi_change_medium(&f.ata, 0, NULL);
	expect_sense(tur, 0x023A01);
	const uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	r = packet(gesn);
	assert_int_equal(data[4], 3);
	assert_int_equal(data[5], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on_and_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packet_protocol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inquiry_and_sense, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_read_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_toc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_sense, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tray_and_media_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_medium, setup_empty, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
