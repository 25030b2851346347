/* Two device positions on one channel and two channels side by side: an
 * absent device 0 next to a device 1, a disk and a CD on one cable,
 * device selection (which device's registers and status answer), the
 * per-device interrupt and per-channel nIEN, the signatures after a reset
 * and EXECUTE DEVICE DIAGNOSTIC. */
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

enum { R_DATA, R_ERR, R_NSECT, R_LBAL, R_LBAM, R_LBAH, R_DEV, R_STATUS };
#define R_CMD R_STATUS

static const uint16_t cmd_base[2] = { 0x1F0, 0x170 }, ctl_port[2] = { 0x3F6, 0x376 };

static struct fx {
	char dir[64], path[3][128];
	struct disk_image img[3];
	struct ata_channel ata[2];
	struct io_bus bus;
	int level[2], edges[2];
} f;

static void irq_rec(void *opaque, int irq, int level)
{
	struct fx *x = opaque;
	assert_true(irq == 14 || irq == 15);
	int ch = irq - 14;
	if (level && !x->level[ch])
		x->edges[ch]++;
	x->level[ch] = level;
}

/* Image i: every byte of sector n is (n + 16 * i). */
static void make_image(unsigned i, unsigned bytes)
{
	char dir[64];
	memcpy(dir, f.dir, sizeof(dir));
	snprintf(f.path[i], sizeof(f.path[i]), "%s/img%u", dir, i);
	FILE *fp = fopen(f.path[i], "wb");
	assert_non_null(fp);
	for (unsigned b = 0; b < bytes; b++)
		fputc((int)((b / 512 + 16 * i) & 0xFF), fp);
	assert_int_equal(fclose(fp), 0);
	struct disk_image_opts o = { false, i == 2 ? CD_BLOCK_SIZE : DISK_SECTOR_SIZE, "--drive", "readonly=on" };
	o.read_only = i == 2;
	char err[256];
	assert_int_equal(disk_image_open_opts(&f.img[i], f.path[i], &o, err, sizeof(err)), 0);
}

/* Primary: only a slave disk (image 0).  Secondary: a CD master (image 2)
 * and a disk slave (image 1). */
static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/btvm-ata-channel.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	make_image(0, 64 * 512);
	make_image(1, 64 * 512);
	make_image(2, 4 * 2048);
	io_bus_init(&f.bus, "pio");
	for (unsigned ch = 0; ch < 2; ch++) {
		ata_init(&f.ata[ch], (struct irq_line){ irq_rec, &f, 14 + (int)ch }, ch);
		assert_int_equal(ata_register(&f.ata[ch], &f.bus, cmd_base[ch], ctl_port[ch]), 0);
	}
	ata_attach(&f.ata[0], 1, ATA_DISK, &f.img[0]);
	ata_attach(&f.ata[1], 0, ATA_CDROM, &f.img[2]);
	ata_attach(&f.ata[1], 1, ATA_DISK, &f.img[1]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		disk_image_close(&f.img[i]);
		unlink(f.path[i]);
	}
	rmdir(f.dir);
	return 0;
}

static uint8_t rd(unsigned ch, unsigned reg)
{
	uint8_t d[1];
	assert_true(io_bus_access(&f.bus, cmd_base[ch] + reg, d, 1, false));
	return d[0];
}

static void wr(unsigned ch, unsigned reg, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, cmd_base[ch] + reg, &v, 1, true));
}

static uint8_t alt(unsigned ch)
{
	uint8_t d[1];
	assert_true(io_bus_access(&f.bus, ctl_port[ch], d, 1, false));
	return d[0];
}

static void ctl(unsigned ch, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, ctl_port[ch], &v, 1, true));
}

static uint16_t data_in16(unsigned ch)
{
	uint8_t d[2];
	assert_true(io_bus_access(&f.bus, cmd_base[ch], d, 2, false));
	return (uint16_t)io_data_get(d, 2);
}

static void read_id(unsigned ch, uint8_t cmd, uint16_t id[256])
{
	wr(ch, R_CMD, cmd);
	assert_int_equal(rd(ch, R_STATUS), 0x58);
	for (unsigned i = 0; i < 256; i++)
		id[i] = data_in16(ch);
}

static void test_absent_master(void **state)
{
	(void)state;
	/* device 0 is absent, device 1 a disk: device 0 answers as QEMU's */
	assert_int_equal(rd(0, R_DEV), 0xA0);
	assert_int_equal(rd(0, R_STATUS), 0x50);
	assert_int_equal(alt(0), 0x50);
	assert_int_equal(rd(0, R_ERR), 0x01);
	assert_int_equal(rd(0, R_LBAM), 0xFF);       /* no-device signature */
	assert_int_equal(rd(0, R_LBAH), 0xFF);
	int e = f.edges[0];
	wr(0, R_CMD, 0xEC);                          /* IDENTIFY: aborted, with an interrupt */
	assert_int_equal(f.edges[0], e + 1);
	assert_int_equal(rd(0, R_STATUS), 0x41);
	assert_int_equal(rd(0, R_ERR), 0x04);
	wr(0, R_CMD, 0xA1);
	assert_int_equal(rd(0, R_STATUS), 0x41);
	wr(0, R_NSECT, 1);
	wr(0, R_CMD, 0x20);
	assert_int_equal(rd(0, R_STATUS), 0x41);
	assert_int_equal(data_in16(0), 0);
	/* EXECUTE DEVICE DIAGNOSTIC: device 0 reports 01h */
	wr(0, R_CMD, 0x90);
	assert_int_equal(rd(0, R_STATUS), 0x50);
	assert_int_equal(rd(0, R_ERR), 0x01);

	/* device 1 is the disk */
	wr(0, R_DEV, 0xB0);
	assert_int_equal(rd(0, R_STATUS), 0x50);
	assert_int_equal(rd(0, R_LBAM), 0x00);
	uint16_t id[256];
	read_id(0, 0xEC, id);
	assert_int_equal(id[0], 0x0040);
	assert_int_equal(id[14], '2' << 8 | ' ');    /* BTVM00002 */
	assert_int_equal(id[93], 0x4B00);            /* device 1 */
	wr(0, R_DEV, 0xF0);
	wr(0, R_NSECT, 1);
	wr(0, R_LBAL, 9);
	wr(0, R_LBAM, 0);
	wr(0, R_LBAH, 0);
	wr(0, R_CMD, 0x20);
	assert_int_equal(rd(0, R_STATUS), 0x58);
	assert_int_equal(data_in16(0), 0x0909);      /* image 0, sector 9 */
	for (unsigned i = 1; i < 256; i++)
		data_in16(0);
	assert_int_equal(alt(0), 0x50);

	/* after a software reset: device 0 selected, both signatures */
	ctl(0, 0x04);
	ctl(0, 0x00);
	assert_int_equal(rd(0, R_DEV), 0xA0);
	assert_int_equal(rd(0, R_LBAM), 0xFF);
	wr(0, R_DEV, 0xB0);
	assert_int_equal(rd(0, R_LBAM), 0x00);
	assert_int_equal(rd(0, R_NSECT), 0x01);
	assert_int_equal(rd(0, R_STATUS), 0x50);
}

static void test_cd_and_disk_on_one_cable(void **state)
{
	(void)state;
	/* after power-on: the CD's signature with DRDY clear, the disk's */
	assert_int_equal(rd(1, R_STATUS), 0x00);
	assert_int_equal(rd(1, R_LBAM), 0x14);
	assert_int_equal(rd(1, R_LBAH), 0xEB);
	wr(1, R_DEV, 0xB0);
	assert_int_equal(rd(1, R_STATUS), 0x50);
	assert_int_equal(rd(1, R_LBAM), 0x00);
	/* both identify, each the way its kind does */
	uint16_t id[256];
	read_id(1, 0xEC, id);
	assert_int_equal(id[0], 0x0040);
	assert_int_equal(id[14], '4' << 8 | ' ');    /* BTVM00004: secondary slave */
	wr(1, R_CMD, 0xA1);
	assert_int_equal(rd(1, R_STATUS), 0x41);     /* a disk aborts IDENTIFY PACKET */
	wr(1, R_DEV, 0xA0);
	read_id(1, 0xA1, id);
	assert_int_equal(id[0], 0x85C0);
	assert_int_equal(id[93] & 0x0030, 0x0030);   /* device 0 saw device 1 */

	/* the interrupt belongs to the device that raised it: selecting the
	 * other one releases INTRQ, selecting it again shows it */
	wr(1, R_DEV, 0xB0);
	int e = f.edges[1];
	wr(1, R_CMD, 0xE7);                          /* FLUSH CACHE on the disk */
	assert_int_equal(f.edges[1], e + 1);
	assert_int_equal(f.level[1], 1);
	wr(1, R_DEV, 0xA0);
	assert_int_equal(f.level[1], 0);
	assert_int_equal(rd(1, R_STATUS), 0x50);     /* the CD's status; the disk's interrupt stays */
	wr(1, R_DEV, 0xB0);
	assert_int_equal(f.level[1], 1);
	assert_int_equal(rd(1, R_STATUS), 0x50);
	assert_int_equal(f.level[1], 0);
	/* a command block write lands in both devices' registers */
	wr(1, R_LBAL, 0x5A);
	wr(1, R_DEV, 0xA0);
	assert_int_equal(rd(1, R_LBAL), 0x5A);

	/* EXECUTE DEVICE DIAGNOSTIC: both signatures, device 0 selected */
	wr(1, R_DEV, 0xB0);
	wr(1, R_CMD, 0x90);
	assert_int_equal(rd(1, R_DEV), 0xA0);
	assert_int_equal(rd(1, R_ERR), 0x01);
	assert_int_equal(rd(1, R_STATUS), 0x00);
	assert_int_equal(rd(1, R_LBAH), 0xEB);
	wr(1, R_DEV, 0xB0);
	assert_int_equal(rd(1, R_LBAH), 0x00);
	assert_int_equal(rd(1, R_ERR), 0x01);
}

static void test_two_channels(void **state)
{
	(void)state;
	/* IRQ14 and IRQ15 are separate lines, nIEN is per channel */
	ctl(0, 0x02);
	wr(0, R_DEV, 0xB0);
	wr(1, R_DEV, 0xB0);
	int e0 = f.edges[0], e1 = f.edges[1];
	wr(0, R_CMD, 0xE7);
	wr(1, R_CMD, 0xE7);
	assert_int_equal(f.edges[0], e0);            /* masked by the primary's nIEN */
	assert_int_equal(f.edges[1], e1 + 1);
	assert_int_equal(f.level[0], 0);
	ctl(0, 0x00);
	assert_int_equal(f.level[0], 1);             /* still pending: it shows now */
	rd(0, R_STATUS);
	rd(1, R_STATUS);
	assert_int_equal(f.level[0] | f.level[1], 0);
	/* a software reset on one channel leaves the other alone */
	wr(1, R_LBAL, 0x33);
	ctl(0, 0x04);
	assert_int_equal(alt(0) & 0x80, 0x80);
	assert_int_equal(alt(1) & 0x80, 0);
	ctl(0, 0x00);
	assert_int_equal(rd(1, R_LBAL), 0x33);
	assert_int_equal(rd(1, R_DEV), 0xB0);
	/* the same sector number reaches each channel's own image */
	wr(1, R_DEV, 0xF0);
	wr(1, R_NSECT, 1);
	wr(1, R_LBAL, 3);
	wr(1, R_LBAM, 0);
	wr(1, R_LBAH, 0);
	wr(1, R_CMD, 0x20);
	assert_int_equal(data_in16(1), 0x1313);      /* image 1, sector 3 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_absent_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cd_and_disk_on_one_cable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_channels, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
