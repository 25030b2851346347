/* The file behind an IDE drive: a raw image (a regular file or a block
 * device) read and written whole sectors at a time with pread/pwrite.
 *
 * Opening checks everything a user can get wrong before the guest runs and
 * reports it in one line: the file must exist, be a regular file or a block
 * device, hold a non-zero whole number of the medium's blocks (512-byte
 * sectors for a disk, 2048-byte blocks for a CD) and no more than its
 * addressing reaches (2^48 sectors with LBA48; 2^32 blocks, what READ
 * CAPACITY can report, for a CD).  The image is locked (an OFD lock,
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
/* A CD's logical block (MMC: 2048-byte user data blocks), and the most a
 * 32-bit LBA (READ CAPACITY, READ(12)) addresses. */
#define CD_BLOCK_SIZE 2048u
#define CD_MAX_BLOCKS (1ull << 32)

struct disk_image {
	int fd;                 /* -1 when closed */
	uint64_t sectors;
	bool read_only;
	bool write_cache;       /* false: every write is followed by fdatasync */
};

/* How an image is opened and named in error lines. */
struct disk_image_opts {
	bool read_only;
	unsigned block_size;    /* DISK_SECTOR_SIZE (a disk) or CD_BLOCK_SIZE (a CD) */
	const char *label;      /* how the user gave it: "--disk", "--drive index=1" */
	const char *ro_hint;    /* how to ask for read-only access: "--disk-ro", "readonly=on" */
};

/* 0, or -1 with one line ("LABEL PATH: what") in err.  The file is
 * unchanged. */
int disk_image_open_opts(struct disk_image *d, const char *path, const struct disk_image_opts *o,
			 char *err, size_t errlen);
/* --disk PATH (read_only: --disk-ro PATH): a disk image. */
int disk_image_open(struct disk_image *d, const char *path, bool read_only,
		    char *err, size_t errlen);
void disk_image_close(struct disk_image *d);
/* The size rule alone (non-zero, whole blocks, not more than the medium
 * addresses): 0, or -1 with one line in err. */
int disk_image_check_size_opts(uint64_t bytes, const char *path, const struct disk_image_opts *o,
			       char *err, size_t errlen);
int disk_image_check_size(uint64_t bytes, const char *path, bool read_only, char *err, size_t errlen);
/* count sectors from lba.  0, or a negative errno (short transfers and
 * ranges past the end are -EIO / -ERANGE). */
int disk_image_read(struct disk_image *d, uint64_t lba, void *buf, unsigned count);
int disk_image_write(struct disk_image *d, uint64_t lba, const void *buf, unsigned count);
/* len bytes from byte offset (a CD's data streams through the ATAPI byte
 * count limit, not whole sectors).  0, or a negative errno as above. */
int disk_image_read_bytes(struct disk_image *d, uint64_t offset, void *buf, size_t len);
/* fdatasync: what FLUSH CACHE means for a file. 0 or a negative errno. */
int disk_image_flush(struct disk_image *d);
#endif
