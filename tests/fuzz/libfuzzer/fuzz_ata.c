/* Both IDE channels through their command and control blocks: primary
 * master a writable 64-sector disk, primary slave a CD drive with no
 * medium, secondary master a CD (4 blocks), secondary slave a read-only
 * 8-sector disk; the images are memfds (the writable one restored before
 * every input).
 * Operations go to the current channel (a special op switches); the
 * clock op is a burst of (b & 0x7F) * 2 + 2 data-port words, written when
 * b & 0x80.
 * Invariants: each channel's IRQ is 0 or 1 and what the channel believes
 * it drives; a drive's PIO position stays inside its block and its block
 * inside the buffer; an ATAPI reply never points past the medium; BSY is
 * only ever set while SRST is. */
#include <sys/mman.h>
#include <unistd.h>
#include "devices/ata.h"
#include "fuzz_common.h"

static const unsigned widths[4] = { 1, 2, 2, 4 };

struct img {
	int fd;
	char path[64];
	uint64_t bytes;
	struct disk_image d;
};
static struct img imgs[3];

static void make_image(struct img *m, uint64_t bytes, unsigned block, bool ro)
{
	m->fd = memfd_create("fuzz-ata", 0);
	FZ_ASSERT(m->fd >= 0, "memfd");
	m->bytes = bytes;
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
	FZ_ASSERT(ftruncate(m->fd, (off_t)bytes) == 0, "ftruncate");
	struct disk_image_opts o = { ro, block, "--drive", "readonly=on" };
	char err[256];
	FZ_ASSERT(disk_image_open_opts(&m->d, m->path, &o, err, sizeof(err)) == 0, "%s", err);
}

/* Every image holds the same pattern: byte i of sector n is n + i % 64.
 * Made once (the harness's own loops are instrumented too: keep them out
 * of each run). */
static void fill(struct img *m)
{
	static uint8_t buf[64 * 512];
	static bool made;
	if (!made) {
		made = true;
		for (uint64_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i / 512 + (i & 0x3F));
	}
	FZ_ASSERT(pwrite(m->fd, buf, m->bytes, 0) == (ssize_t)m->bytes, "pwrite");
}

static void check_drive(const struct ata_channel *c, const struct ata_drive *d)
{
	FZ_ASSERT(d->pos <= d->len && d->len <= ATA_BUF_SIZE, "pos %u len %u", d->pos, d->len);
	FZ_ASSERT(!(d->status & ATA_SR_BSY) || (c->devctl & ATA_DC_SRST), "BSY without SRST (status %#x)",
		  d->status);
	if (d->kind == ATA_CDROM && d->img && d->atapi.from_medium)
		FZ_ASSERT(d->atapi.offset + d->atapi.left <= d->img->sectors * CD_BLOCK_SIZE + d->len,
			  "CD read past the medium: offset %#llx left %#llx",
			  (unsigned long long)d->atapi.offset, (unsigned long long)d->atapi.left);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct ata_channel ch[2];
	static struct fz_irqs irqs;
	static bool once;
	static const uint16_t cmd[2] = { ATA_PRIMARY_CMD, ATA_SECONDARY_CMD },
			      ctl[2] = { ATA_PRIMARY_CTL, ATA_SECONDARY_CTL };
	if (!once) {
		once = true;
		make_image(&imgs[0], 64 * 512, DISK_SECTOR_SIZE, false);
		make_image(&imgs[1], 4 * 2048, CD_BLOCK_SIZE, true);
		make_image(&imgs[2], 8 * 512, DISK_SECTOR_SIZE, true);
		for (int i = 1; i < 3; i++)
			fill(&imgs[i]);
	}
	fill(&imgs[0]);   /* the only writable one */
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	for (unsigned i = 0; i < 2; i++) {
		ata_init(&ch[i], (struct irq_line){ fz_irq_set, &irqs, 14 + (int)i }, i);
		FZ_ASSERT(ata_register(&ch[i], &bus, cmd[i], ctl[i]) == 0, "register");
	}
	ata_attach(&ch[0], 0, ATA_DISK, &imgs[0].d);
	ata_attach(&ch[0], 1, ATA_CDROM, NULL);
	ata_attach(&ch[1], 0, ATA_CDROM, &imgs[1].d);
	ata_attach(&ch[1], 1, ATA_DISK, &imgs[2].d);
	unsigned cur = 0;
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE: {
			/* the data port most of the time: blocks are 256+ words */
			uint64_t port = op.where < 8 ? cmd[cur] + op.where : op.where == 8 ? ctl[cur] : cmd[cur];
			fz_access(&bus, port, op.width, op.kind == FZ_WRITE, op.value);
			break;
		}
		case FZ_CLOCK: {
			/* a burst of data-port transfers: 2 to 256 words */
			unsigned n = (op.raw & 0x7Fu) * 2 + 2;
			bool wr = op.raw & 0x80;
			for (unsigned i = 0; i < n; i++)
				fz_access(&bus, cmd[cur], 2, wr, 0x1000u * i + n);
			break;
		}
		case FZ_SPECIAL:
			if (op.value == 0xFF)
				ata_reset(&ch[cur]);
			else
				cur = op.value & 1;
			break;
		}
		for (unsigned i = 0; i < 2; i++) {
			FZ_ASSERT(irqs.sets[14 + i] == 0 || irqs.level[14 + i] == ch[i].irq_level,
				  "IRQ%u at %d, the channel says %d", 14 + i, irqs.level[14 + i], ch[i].irq_level);
			FZ_ASSERT(ch[i].sel <= 1, "sel %u", ch[i].sel);
			for (unsigned u = 0; u < 2; u++)
				check_drive(&ch[i], &ch[i].drive[u]);
		}
	}
	return 0;
}
