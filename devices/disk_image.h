/* The file behind the ATA disk: a raw image (a regular file or a block
 * device) read and written whole sectors at a time with pread/pwrite.
 *
 * Opening checks everything a user can get wrong before the guest runs and
 * reports it in one line: the file must exist, be a regular file or a block
 * device, hold a non-zero whole number of 512-byte sectors and no more than
 * the 2^48 sectors LBA48 can address.  The image is locked (an OFD lock,
 * the kind QEMU takes too, so the two see each other): exclusive when
 * writable, shared when read-only, so two btvms never write one image at
 * the same time.  Nothing is ever written at open time. */
#ifndef BTVM_DEVICES_DISK_IMAGE_H
#define BTVM_DEVICES_DISK_IMAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512u
/* LBA48: 48-bit sector addresses (ATA/ATAPI-6 §6.2.1, 48-bit Address
 * feature set). */
#define DISK_MAX_SECTORS (1ull << 48)

struct disk_image {
	int fd;                 /* -1 when closed */
	uint64_t sectors;
	bool read_only;
	bool write_cache;       /* false: every write is followed by fdatasync */
};

/* 0, or -1 with one line (naming path) in err.  The file is unchanged. */
int disk_image_open(struct disk_image *d, const char *path, bool read_only,
		    char *err, size_t errlen);
void disk_image_close(struct disk_image *d);
/* The size rule alone (non-zero, whole sectors, at most 2^48 of them):
 * 0, or -1 with one line in err. */
int disk_image_check_size(uint64_t bytes, const char *path, bool read_only, char *err, size_t errlen);
/* count sectors from lba.  0, or a negative errno (short transfers and
 * ranges past the end are -EIO / -ERANGE). */
int disk_image_read(struct disk_image *d, uint64_t lba, void *buf, unsigned count);
int disk_image_write(struct disk_image *d, uint64_t lba, const void *buf, unsigned count);
/* fdatasync: what FLUSH CACHE means for a file. 0 or a negative errno. */
int disk_image_flush(struct disk_image *d);
#endif
