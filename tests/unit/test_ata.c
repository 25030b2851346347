/* The ATA channel on a manual bus: registers, protocols, addressing,
 * errors, reset and interrupt line, against a temporary image file. */
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

#define SECTORS 4096u
#define CMD 0x1F0
#define CTL 0x3F6

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
	assert_int_equal(irq, 14);
	if (level && !x->level)
		x->edges++;
	x->level = level;
}

/* Sector n: its number in the first 4 bytes, then (n + i) & 0xff. */
static void pattern(uint8_t *p, uint32_t n)
{
	for (unsigned i = 0; i < 512; i++)
		p[i] = (uint8_t)(n + i);
	memcpy(p, &n, 4);
}

static void write_image(const char *path, unsigned sectors)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	uint8_t s[512];
	for (unsigned n = 0; n < sectors; n++) {
		pattern(s, n);
		assert_int_equal(fwrite(s, 1, 512, fp), 512);
	}
	assert_int_equal(fclose(fp), 0);
}

static void attach(bool ro)
{
	char err[256];
	assert_int_equal(disk_image_open(&f.img, f.path, ro, err, sizeof(err)), 0);
	io_bus_init(&f.bus, "pio");
	ata_init(&f.ata, (struct irq_line){ irq_rec, &f, 14 }, 0);
	ata_attach(&f.ata, 0, ATA_DISK, &f.img);
	assert_int_equal(ata_register(&f.ata, &f.bus, CMD, CTL), 0);
}

static int setup_common(bool ro)
{
	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/btvm-ata-test.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/disk.img", f.dir);
	write_image(f.path, SECTORS);
	attach(ro);
	return 0;
}

static int setup(void **state) { (void)state; return setup_common(false); }
static int setup_ro(void **state) { (void)state; return setup_common(true); }

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

static uint32_t data_in(unsigned len)
{
	uint8_t d[4];
	assert_true(io_bus_access(&f.bus, CMD, d, len, false));
	return io_data_get(d, len);
}

static void data_out(unsigned len, uint32_t v)
{
	uint8_t d[4];
	io_data_put(d, len, v);
	assert_true(io_bus_access(&f.bus, CMD, d, len, true));
}

static void read_block(uint8_t *dst, unsigned bytes, unsigned width)
{
	for (unsigned i = 0; i < bytes; i += width) {
		uint32_t v = data_in(width);
		memcpy(dst + i, &v, width);
	}
}

static void write_block(const uint8_t *src, unsigned bytes, unsigned width)
{
	for (unsigned i = 0; i < bytes; i += width) {
		uint32_t v = 0;
		memcpy(&v, src + i, width);
		data_out(width, v);
	}
}

static void lba28(uint32_t lba, uint8_t count)
{
	wr(R_DEV, (uint8_t)(0xE0 | ((lba >> 24) & 0xF)));
	wr(R_NSECT, count);
	wr(R_LBAL, (uint8_t)lba);
	wr(R_LBAM, (uint8_t)(lba >> 8));
	wr(R_LBAH, (uint8_t)(lba >> 16));
}

static void lba48(uint64_t lba, uint16_t count)
{
	wr(R_DEV, 0x40);
	wr(R_NSECT, (uint8_t)(count >> 8));
	wr(R_LBAL, (uint8_t)(lba >> 24));
	wr(R_LBAM, (uint8_t)(lba >> 32));
	wr(R_LBAH, (uint8_t)(lba >> 40));
	wr(R_NSECT, (uint8_t)count);
	wr(R_LBAL, (uint8_t)lba);
	wr(R_LBAM, (uint8_t)(lba >> 8));
	wr(R_LBAH, (uint8_t)(lba >> 16));
}

static void file_sector(uint32_t n, uint8_t *out)
{
	int fd = open(f.path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, out, 512, (off_t)n * 512), 512);
	close(fd);
}

/* A command that must end at once with ERR and the given error bits. */
static void expect_error(uint8_t cmd, uint8_t error)
{
	int e = f.edges;
	wr(R_CMD, cmd);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(alt(), 0x41);           /* DRDY | ERR, no DRQ */
	assert_int_equal(rd(R_ERR), error);
	assert_int_equal(rd(R_STATUS), 0x41);
	assert_int_equal(f.level, 0);
}

static void expect_ok(uint8_t cmd)
{
	int e = f.edges;
	wr(R_CMD, cmd);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x50);    /* DRDY | DSC */
	assert_int_equal(rd(R_ERR), 0);
}

/* ------------------------------------------------------------------ */

static void test_power_on(void **state)
{
	(void)state;
	assert_int_equal(rd(R_STATUS), 0x50);
	assert_int_equal(alt(), 0x50);
	assert_int_equal(rd(R_ERR), 0x01);
	assert_int_equal(rd(R_NSECT), 1);
	assert_int_equal(rd(R_LBAL), 1);
	assert_int_equal(rd(R_LBAM), 0);
	assert_int_equal(rd(R_LBAH), 0);
	assert_int_equal(rd(R_DEV), 0xA0);
	assert_int_equal(f.level, 0);
	assert_int_equal(data_in(2), 0);        /* no transfer: reads 0 */
	assert_int_equal(data_in(1), 0xFF);     /* no 8-bit transfers */
}

static void test_absent_slave(void **state)
{
	(void)state;
	wr(R_DEV, 0xB0);
	assert_int_equal(rd(R_DEV), 0xB0);
	assert_int_equal(rd(R_STATUS), 0);
	assert_int_equal(alt(), 0);
	assert_int_equal(rd(R_ERR), 0);
	/* registers still latch writes (both positions see the bus) ... */
	wr(R_NSECT, 0x55);
	wr(R_LBAL, 0xAA);
	assert_int_equal(rd(R_NSECT), 0x55);
	assert_int_equal(rd(R_LBAL), 0xAA);
	/* ... but no command runs and no interrupt comes */
	wr(R_CMD, 0xEC);
	assert_int_equal(rd(R_STATUS), 0);
	assert_int_equal(f.edges, 0);
	assert_int_equal(data_in(2), 0);
	/* after a reset the absent device's signature is FFh FFh */
	ctl(0x04);
	ctl(0x00);
	wr(R_DEV, 0xB0);
	assert_int_equal(rd(R_LBAM), 0xFF);
	assert_int_equal(rd(R_LBAH), 0xFF);
	/* the master kept the values written while the slave was selected */
	wr(R_DEV, 0xA0);
	assert_int_equal(rd(R_STATUS), 0x50);
}

static void test_empty_channel(void **state)
{
	(void)state;
	struct ata_channel c;
	struct io_bus bus;
	io_bus_init(&bus, "pio");
	ata_init(&c, (struct irq_line){ irq_rec, &f, 14 }, 1);
	assert_int_equal(ata_register(&c, &bus, CMD, CTL), 0);
	assert_int_equal(ata_register(&c, &bus, CMD, CTL), -1);   /* taken */
	uint8_t d[4];
	for (unsigned r = 1; r < 8; r++) {
		assert_true(io_bus_access(&bus, CMD + r, d, 1, false));
		assert_int_equal(d[0], 0);
	}
	d[0] = 0xEC;
	assert_true(io_bus_access(&bus, CMD + 7, d, 1, true));
	assert_true(io_bus_access(&bus, CTL, d, 1, false));
	assert_int_equal(d[0], 0);
	assert_int_equal(f.edges, 0);
}

static uint16_t identify_word(const uint8_t *b, unsigned w)
{
	return (uint16_t)(b[2 * w] | b[2 * w + 1] << 8);
}

static void read_identify(uint8_t *b)
{
	int e = f.edges;
	wr(R_DEV, 0xA0);
	wr(R_CMD, 0xEC);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(f.level, 1);
	assert_int_equal(alt(), 0x58);          /* DRDY DSC DRQ */
	assert_int_equal(f.level, 1);           /* alternate status does not acknowledge */
	assert_int_equal(rd(R_STATUS), 0x58);
	assert_int_equal(f.level, 0);           /* status does */
	read_block(b, 512, 2);
	assert_int_equal(alt(), 0x50);
	assert_int_equal(f.edges, e + 1);       /* no interrupt after the last data-in block */
}

static void test_identify(void **state)
{
	(void)state;
	uint8_t b[512];
	read_identify(b);
	char model[41];
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)b[54 + 2 * i + 1];
		model[2 * i + 1] = (char)b[54 + 2 * i];
	}
	model[40] = 0;
	assert_string_equal(model, "btvm ATA disk                           ");
	assert_int_equal(identify_word(b, 10), 'B' << 8 | 'T');
	assert_int_equal(identify_word(b, 23), '1' << 8 | '.');
	assert_int_equal(identify_word(b, 0), 0x0040);
	assert_int_equal(identify_word(b, 47), 0x8010);
	assert_int_equal(identify_word(b, 49) & 0x0300, 0x0200);   /* LBA, no DMA */
	assert_int_equal(identify_word(b, 59), 0x0110);            /* multiple: 16 */
	assert_int_equal(identify_word(b, 60), SECTORS);
	assert_int_equal(identify_word(b, 61), 0);
	assert_int_equal(identify_word(b, 63), 0);
	assert_int_equal(identify_word(b, 88), 0);
	assert_int_equal(identify_word(b, 83), 0x7400);
	assert_int_equal(identify_word(b, 86), 0x3400);
	assert_int_equal(identify_word(b, 85) & 0x20, 0x20);       /* write cache on */
	assert_int_equal(identify_word(b, 100), SECTORS);
	assert_int_equal(identify_word(b, 101) | identify_word(b, 102) | identify_word(b, 103), 0);
	/* 4096 sectors: 4 cylinders of 16 x 63 by default */
	assert_int_equal(identify_word(b, 1), 4);
	assert_int_equal(identify_word(b, 3), 16);
	assert_int_equal(identify_word(b, 6), 63);
	assert_int_equal(identify_word(b, 57) | identify_word(b, 58) << 16, 4 * 16 * 63);
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + b[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(b[510], 0xA5);

	/* SET MULTIPLE MODE shows in word 59; write cache off in word 85 */
	wr(R_NSECT, 8);
	expect_ok(0xC6);
	wr(R_FEAT, 0x82);
	expect_ok(0xEF);
	read_identify(b);
	assert_int_equal(identify_word(b, 59), 0x0108);
	assert_int_equal(identify_word(b, 85) & 0x20, 0);
	assert_false(f.img.write_cache);
	wr(R_FEAT, 0x02);
	expect_ok(0xEF);
	assert_true(f.img.write_cache);
}

static void test_read_sectors(void **state)
{
	(void)state;
	lba28(10, 3);
	int e = f.edges;
	wr(R_CMD, 0x20);
	uint8_t b[512], want[512];
	for (unsigned s = 0; s < 3; s++) {
		assert_int_equal(f.edges, e + 1 + (int)s);   /* one interrupt per block */
		assert_int_equal(rd(R_STATUS), 0x58);
		read_block(b, 512, s == 1 ? 4 : 2);          /* 16- and 32-bit */
		pattern(want, 10 + s);
		assert_memory_equal(b, want, 512);
	}
	assert_int_equal(f.edges, e + 3);
	assert_int_equal(alt(), 0x50);
	/* registers: count 0 left, address of the last sector */
	assert_int_equal(rd(R_NSECT), 0);
	assert_int_equal(rd(R_LBAL), 12);
	assert_int_equal(rd(R_DEV), 0xE0);
	/* reads past the transfer give 0 and do not disturb anything */
	assert_int_equal(data_in(2), 0);
	assert_int_equal(alt(), 0x50);
}

static void test_read_count_zero_is_256(void **state)
{
	(void)state;
	lba28(100, 0);
	int e = f.edges;
	wr(R_CMD, 0x20);
	uint8_t b[512], want[512];
	for (unsigned s = 0; s < 256; s++) {
		assert_int_equal(rd(R_STATUS) & 0x08, 0x08);
		read_block(b, 512, 4);
		pattern(want, 100 + s);
		assert_memory_equal(b, want, 512);
	}
	assert_int_equal(f.edges, e + 256);
	assert_int_equal(alt(), 0x50);
}

static void test_write_sectors(void **state)
{
	(void)state;
	uint8_t b[2][512], got[512];
	memset(b[0], 0x11, 512);
	memset(b[1], 0x22, 512);
	lba28(20, 2);
	int e = f.edges;
	wr(R_CMD, 0x30);
	assert_int_equal(f.edges, e);            /* first DRQ block: no interrupt */
	assert_int_equal(alt(), 0x58);
	/* the command block is locked while DRQ is set */
	wr(R_NSECT, 99);
	wr(R_CMD, 0xEC);
	assert_int_equal(alt(), 0x58);
	write_block(b[0], 512, 2);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x58);    /* DRQ for the next block */
	file_sector(20, got);
	assert_memory_equal(got, b[0], 512);
	write_block(b[1], 512, 4);
	assert_int_equal(f.edges, e + 2);
	assert_int_equal(rd(R_STATUS), 0x50);
	file_sector(21, got);
	assert_memory_equal(got, b[1], 512);
	uint8_t want[512];
	file_sector(22, got);
	pattern(want, 22);
	assert_memory_equal(got, want, 512);      /* nothing beyond */
	assert_int_equal(rd(R_LBAL), 21);
	assert_int_equal(rd(R_NSECT), 0);
	/* data-port reads during a data-out transfer give nothing */
	lba28(30, 1);
	wr(R_CMD, 0x30);
	assert_int_equal(data_in(2), 0);
	assert_int_equal(alt(), 0x58);
	write_block(b[1], 512, 2);
	assert_int_equal(rd(R_STATUS), 0x50);
}

static void test_multiple(void **state)
{
	(void)state;
	wr(R_NSECT, 0);
	expect_ok(0xC6);                          /* multiple mode off */
	lba28(0, 1);
	expect_error(0xC4, ATA_ER_ABRT);
	expect_error(0xC5, ATA_ER_ABRT);
	expect_error(0x29, ATA_ER_ABRT);
	expect_error(0x39, ATA_ER_ABRT);
	wr(R_NSECT, 3);
	expect_error(0xC6, ATA_ER_ABRT);          /* not a power of two */
	wr(R_NSECT, 32);
	expect_error(0xC6, ATA_ER_ABRT);          /* above word 47 */
	wr(R_NSECT, 4);
	expect_ok(0xC6);

	/* WRITE MULTIPLE 10 sectors: blocks of 4, 4, 2 */
	static uint8_t out[10 * 512], in[10 * 512];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	lba28(200, 10);
	int e = f.edges;
	wr(R_CMD, 0xC5);
	assert_int_equal(f.edges, e);
	write_block(out, 4 * 512, 2);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x58);
	write_block(out + 4 * 512, 4 * 512, 4);
	assert_int_equal(f.edges, e + 2);
	assert_int_equal(rd(R_STATUS), 0x58);
	write_block(out + 8 * 512, 2 * 512, 2);
	assert_int_equal(f.edges, e + 3);
	assert_int_equal(rd(R_STATUS), 0x50);

	/* READ MULTIPLE the same: interrupts for blocks of 4, 4, 2 */
	lba28(200, 10);
	e = f.edges;
	wr(R_CMD, 0xC4);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(in, 4 * 512, 4);
	assert_int_equal(f.edges, e + 2);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(in + 4 * 512, 4 * 512, 2);
	assert_int_equal(f.edges, e + 3);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(in + 8 * 512, 2 * 512, 2);
	assert_int_equal(f.edges, e + 3);
	assert_int_equal(alt(), 0x50);
	assert_memory_equal(in, out, sizeof(out));

	/* disabled again with 0 */
	wr(R_NSECT, 0);
	expect_ok(0xC6);
	expect_error(0xC4, ATA_ER_ABRT);
}

static void test_lba48(void **state)
{
	(void)state;
	/* READ SECTORS EXT at 4000, 2 sectors: the address's high bytes come
	 * from the previous register contents. */
	lba48(4000, 2);
	wr(R_CMD, 0x24);
	uint8_t b[512], want[512];
	for (unsigned s = 0; s < 2; s++) {
		assert_int_equal(rd(R_STATUS), 0x58);
		read_block(b, 512, 2);
		pattern(want, 4000 + s);
		assert_memory_equal(b, want, 512);
	}
	assert_int_equal(alt(), 0x50);

	/* WRITE SECTORS EXT; WRITE MULTIPLE EXT; READ MULTIPLE EXT */
	memset(b, 0x5A, sizeof(b));
	lba48(SECTORS - 1, 1);
	wr(R_CMD, 0x34);
	write_block(b, 512, 2);
	assert_int_equal(rd(R_STATUS), 0x50);
	uint8_t got[512];
	file_sector(SECTORS - 1, got);
	assert_memory_equal(got, b, 512);
	wr(R_NSECT, 2);
	expect_ok(0xC6);
	static uint8_t two[1024];
	memset(two, 0x5A, sizeof(two));
	lba48(50, 3);
	wr(R_CMD, 0x39);
	write_block(two, 1024, 2);
	assert_int_equal(rd(R_STATUS), 0x58);
	write_block(b, 512, 2);
	assert_int_equal(rd(R_STATUS), 0x50);
	file_sector(52, got);
	assert_memory_equal(got, b, 512);
	lba48(50, 3);
	wr(R_CMD, 0x29);
	static uint8_t in[3 * 512];
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(in, 1024, 4);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(in + 1024, 512, 4);
	assert_int_equal(alt(), 0x50);
	assert_memory_equal(in + 1024, b, 512);

	/* out of range: the high bytes matter (LBA 2^24 * 256 + 10) */
	lba48((1ull << 32) + 10, 1);
	expect_error(0x24, ATA_ER_IDNF);
	/* straddling the end */
	lba48(SECTORS - 1, 2);
	expect_error(0x24, ATA_ER_IDNF);
	lba48(SECTORS, 1);
	expect_error(0x34, ATA_ER_IDNF);
	/* count 0 = 65536 sectors: more than the disk */
	lba48(0, 0);
	expect_error(0x24, ATA_ER_IDNF);
	/* VERIFY EXT in range and past the end */
	lba48(SECTORS - 8, 8);
	expect_ok(0x42);
	lba48(SECTORS - 8, 9);
	expect_error(0x42, ATA_ER_IDNF);
}

static void test_lba28_range(void **state)
{
	(void)state;
	lba28(SECTORS, 1);
	expect_error(0x20, ATA_ER_IDNF);
	lba28(SECTORS - 2, 3);
	expect_error(0x30, ATA_ER_IDNF);          /* refused before any data */
	lba28(0x0FFFFFFF, 1);
	expect_error(0x20, ATA_ER_IDNF);
	lba28(SECTORS - 3, 3);
	expect_ok(0x40);                          /* READ VERIFY */
	lba28(SECTORS - 3, 4);
	expect_error(0x41, ATA_ER_IDNF);
	lba28(SECTORS - 1, 0);
	expect_ok(0x70);                          /* SEEK: the address alone */
	lba28(SECTORS, 0);
	expect_error(0x70, ATA_ER_IDNF);
}

static void test_chs(void **state)
{
	(void)state;
	uint8_t b[512], want[512];
	/* default 16 heads x 63 sectors: C/H/S 1/2/3 = (1*16+2)*63+2 = 1136 */
	wr(R_DEV, 0xA2);
	wr(R_NSECT, 1);
	wr(R_LBAL, 3);
	wr(R_LBAM, 1);
	wr(R_LBAH, 0);
	wr(R_CMD, 0x20);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(b, 512, 2);
	pattern(want, 1136);
	assert_memory_equal(b, want, 512);
	/* the registers hold the last sector in CHS form */
	assert_int_equal(rd(R_LBAL), 3);
	assert_int_equal(rd(R_LBAM), 1);
	assert_int_equal(rd(R_DEV) & 0x0F, 2);

	/* sector 0, head 16.., sector > 63, cylinder >= 4: IDNF */
	wr(R_LBAL, 0);
	expect_error(0x20, ATA_ER_IDNF);
	wr(R_LBAL, 64);
	expect_error(0x20, ATA_ER_IDNF);
	wr(R_LBAL, 1);
	wr(R_LBAM, 4);
	expect_error(0x20, ATA_ER_IDNF);

	/* INITIALIZE DEVICE PARAMETERS: 4 heads, 32 sectors per track */
	wr(R_DEV, 0xA3);
	wr(R_NSECT, 32);
	expect_ok(0x91);
	/* C/H/S 2/3/5 = (2*4+3)*32+4 = 356 */
	wr(R_DEV, 0xA3);
	wr(R_NSECT, 1);
	wr(R_LBAL, 5);
	wr(R_LBAM, 2);
	wr(R_LBAH, 0);
	wr(R_CMD, 0x20);
	assert_int_equal(rd(R_STATUS), 0x58);
	read_block(b, 512, 2);
	pattern(want, 356);
	assert_memory_equal(b, want, 512);
	/* head 3 is the last now; head 4 is out */
	wr(R_DEV, 0xA4);
	wr(R_NSECT, 1);
	wr(R_LBAL, 1);
	expect_error(0x20, ATA_ER_IDNF);
	uint8_t id[512];
	read_identify(id);
	assert_int_equal(identify_word(id, 54), SECTORS / (4 * 32));
	assert_int_equal(identify_word(id, 55), 4);
	assert_int_equal(identify_word(id, 56), 32);
	assert_int_equal(identify_word(id, 1), 4);   /* the default is unchanged */
	wr(R_NSECT, 0);
	expect_error(0x91, ATA_ER_ABRT);             /* 0 sectors per track */
}

static void test_hob(void **state)
{
	(void)state;
	wr(R_LBAL, 0x12);
	wr(R_LBAL, 0x34);
	wr(R_NSECT, 0x56);
	wr(R_NSECT, 0x78);
	assert_int_equal(rd(R_LBAL), 0x34);
	ctl(ATA_DC_HOB);
	assert_int_equal(rd(R_LBAL), 0x12);
	assert_int_equal(rd(R_NSECT), 0x56);
	assert_int_equal(rd(R_STATUS), 0x50);        /* status ignores HOB */
	wr(R_LBAM, 1);                               /* any write clears HOB */
	assert_int_equal(rd(R_LBAL), 0x34);
}

static void test_srst(void **state)
{
	(void)state;
	lba28(5, 2);
	wr(R_CMD, 0x20);                             /* a transfer in progress */
	assert_int_equal(f.level, 1);
	ctl(ATA_DC_SRST);
	assert_int_equal(alt() & 0x80, 0x80);        /* BSY during reset */
	assert_int_equal(f.level, 0);                /* interrupt withdrawn */
	wr(R_CMD, 0xEC);                             /* ignored while BSY */
	ctl(0);
	assert_int_equal(alt(), 0x50);
	assert_int_equal(rd(R_ERR), 0x01);
	assert_int_equal(rd(R_NSECT), 1);
	assert_int_equal(rd(R_LBAL), 1);
	assert_int_equal(rd(R_LBAM), 0);
	assert_int_equal(rd(R_LBAH), 0);
	assert_int_equal(rd(R_DEV), 0xA0);
	assert_int_equal(data_in(2), 0);             /* the transfer is gone */
	assert_int_equal(f.level, 0);
	/* the multiple count survives a software reset; a hardware reset
	 * brings back the power-on 16 */
	wr(R_NSECT, 0);
	expect_ok(0xC6);
	ctl(ATA_DC_SRST);
	ctl(0);
	lba28(0, 4);
	expect_error(0xC4, ATA_ER_ABRT);
	ata_reset(&f.ata);
	lba28(0, 32);
	int e = f.edges;
	wr(R_CMD, 0xC4);
	assert_int_equal(f.edges, e + 1);
	assert_int_equal(rd(R_STATUS), 0x58);
	static uint8_t b[16 * 512];
	read_block(b, sizeof(b), 4);                 /* one block of 16 */
	assert_int_equal(f.edges, e + 2);
}

static void test_nien(void **state)
{
	(void)state;
	ctl(ATA_DC_NIEN);
	lba28(0, 1);
	wr(R_CMD, 0x40);                             /* READ VERIFY */
	assert_int_equal(f.edges, 0);
	assert_int_equal(f.level, 0);
	/* the interrupt is pending: clearing nIEN asserts INTRQ */
	ctl(0);
	assert_int_equal(f.edges, 1);
	assert_int_equal(f.level, 1);
	ctl(ATA_DC_NIEN);
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(R_STATUS), 0x50);        /* acknowledged */
	ctl(0);
	assert_int_equal(f.level, 0);
	/* selecting the other device releases the line too */
	lba28(0, 1);
	wr(R_CMD, 0x40);
	assert_int_equal(f.level, 1);
	wr(R_DEV, 0xB0);
	assert_int_equal(f.level, 0);
	wr(R_DEV, 0xA0);
	assert_int_equal(f.level, 1);                /* edge 3: still pending */
	assert_int_equal(f.edges, 3);
	wr(R_CMD, 0xE7);                             /* a command write clears it, the new one sets it */
	assert_int_equal(f.edges, 4);
	assert_int_equal(rd(R_STATUS), 0x50);
}

static void test_features_and_misc(void **state)
{
	(void)state;
	wr(R_FEAT, 0x03);
	wr(R_NSECT, 0x0C);                           /* PIO 4 */
	expect_ok(0xEF);
	wr(R_NSECT, 0x00);                           /* PIO default */
	expect_ok(0xEF);
	wr(R_NSECT, 0x0D);                           /* PIO 5: none */
	expect_error(0xEF, ATA_ER_ABRT);
	wr(R_NSECT, 0x22);                           /* multiword DMA 2 */
	expect_error(0xEF, ATA_ER_ABRT);
	wr(R_NSECT, 0x45);                           /* UDMA 5 */
	expect_error(0xEF, ATA_ER_ABRT);
	wr(R_FEAT, 0x55);
	expect_ok(0xEF);
	wr(R_FEAT, 0x77);                            /* unknown subcommand */
	expect_error(0xEF, ATA_ER_ABRT);

	expect_ok(0xE7);                             /* FLUSH CACHE */
	expect_ok(0xEA);                             /* FLUSH CACHE EXT */
	expect_ok(0xE0);                             /* STANDBY IMMEDIATE */
	expect_ok(0x10);                             /* RECALIBRATE */
	wr(R_NSECT, 0);
	expect_ok(0xE5);                             /* CHECK POWER MODE */
	assert_int_equal(rd(R_NSECT), 0xFF);
	expect_error(0x00, ATA_ER_ABRT);             /* NOP */
	expect_error(0xC8, ATA_ER_ABRT);             /* READ DMA: no DMA */
	expect_error(0xA1, ATA_ER_ABRT);             /* IDENTIFY PACKET DEVICE */
	expect_error(0x6F, ATA_ER_ABRT);

	/* EXECUTE DEVICE DIAGNOSTIC while an interrupt is still pending: a
	 * new edge for the new completion */
	lba28(0, 1);
	wr(R_CMD, 0x40);
	assert_int_equal(f.level, 1);
	int e0 = f.edges;
	wr(R_CMD, 0x90);
	assert_int_equal(f.edges, e0 + 1);
	assert_int_equal(rd(R_STATUS), 0x50);
	/* EXECUTE DEVICE DIAGNOSTIC with the absent device 1 selected: like
	 * every command to it, ignored (as QEMU does) */
	wr(R_DEV, 0xB0);
	int e = f.edges;
	wr(R_LBAL, 0x77);
	wr(R_CMD, 0x90);
	assert_int_equal(f.edges, e);
	assert_int_equal(rd(R_DEV), 0xB0);
	assert_int_equal(rd(R_STATUS), 0);
	assert_int_equal(rd(R_LBAL), 0x77);
	wr(R_DEV, 0xA0);

	/* a wider access to the register block reaches consecutive registers */
	uint8_t d[2] = { 0x11, 0x22 };
	assert_true(io_bus_access(&f.bus, CMD + 2, d, 2, true));
	assert_int_equal(rd(R_NSECT), 0x11);
	assert_int_equal(rd(R_LBAL), 0x22);
	/* byte accesses to the data register do not move data */
	lba28(7, 1);
	wr(R_CMD, 0x20);
	assert_int_equal(data_in(1), 0xFF);
	uint8_t b[512], want[512];
	read_block(b, 512, 2);
	pattern(want, 7);
	assert_memory_equal(b, want, 512);
}

static void test_host_error(void **state)
{
	(void)state;
	/* The file shrinks under the guest: an uncorrectable error at the
	 * sector, not a crash. */
	assert_int_equal(truncate(f.path, 100 * 512), 0);
	lba28(200, 1);
	expect_error(0x20, ATA_ER_UNC);
	assert_int_equal(rd(R_LBAL), 200);
}

static void test_read_only(void **state)
{
	(void)state;
	uint8_t before[512], after[512];
	file_sector(3, before);
	lba28(3, 1);
	expect_error(0x30, ATA_ER_ABRT);
	lba48(3, 1);
	expect_error(0x34, ATA_ER_ABRT);
	wr(R_NSECT, 1);
	expect_ok(0xC6);
	lba28(3, 1);
	expect_error(0xC5, ATA_ER_ABRT);
	expect_ok(0xE7);                             /* flush: nothing to do */
	file_sector(3, after);
	assert_memory_equal(before, after, 512);
	lba28(3, 1);
	wr(R_CMD, 0x20);
	assert_int_equal(rd(R_STATUS), 0x58);
	uint8_t b[512];
	read_block(b, 512, 4);
	assert_memory_equal(b, before, 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_slave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_sectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_count_zero_is_256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_sectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba48, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba28_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nien, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_and_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
