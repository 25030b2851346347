/* Raw disk image file: open and validate, lock, sector reads and writes. */
#include "devices/disk_image.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* One line: "LABEL PATH: what". */
static int fail(int fd, char *err, size_t errlen, const struct disk_image_opts *o, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int fail(int fd, char *err, size_t errlen, const struct disk_image_opts *o, const char *path,
		const char *fmt, ...)
{
	if (fd >= 0)
		close(fd);
	int n = snprintf(err, errlen, "%s %s: ", o->label, path);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One line, whatever the file name holds (as the loader's ldr_err). */
	for (char *p = err; errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

static struct disk_image_opts disk_opts(bool read_only)
{
	return (struct disk_image_opts){ read_only, DISK_SECTOR_SIZE, read_only ? "--disk-ro" : "--disk", "--disk-ro" };
}

int disk_image_check_size_opts(uint64_t bytes, const char *path, const struct disk_image_opts *o,
			       char *err, size_t errlen)
{
	bool cd = o->block_size == CD_BLOCK_SIZE;
	if (bytes == 0)
		return fail(-1, err, errlen, o, path, cd ? "is empty (a CD image holds at least one 2048-byte block)"
						       : "is empty (a disk image holds at least one 512-byte sector)");
	if (bytes % o->block_size)
		return fail(-1, err, errlen, o, path, "size %llu is not a multiple of %u bytes (%s)",
			    (unsigned long long)bytes, o->block_size, cd ? "whole CD blocks" : "whole sectors");
	if (cd && bytes / CD_BLOCK_SIZE > CD_MAX_BLOCKS)
		return fail(-1, err, errlen, o, path,
			    "is larger than the 2^32 2048-byte blocks (8 TiB) a CD's READ CAPACITY can report");
	if (bytes / DISK_SECTOR_SIZE > DISK_MAX_SECTORS)
		return fail(-1, err, errlen, o, path, "is larger than the 2^48 sectors (128 PiB) LBA48 can address");
	return 0;
}

int disk_image_check_size(uint64_t bytes, const char *path, bool read_only, char *err, size_t errlen)
{
	struct disk_image_opts o = disk_opts(read_only);
	return disk_image_check_size_opts(bytes, path, &o, err, errlen);
}

int disk_image_open(struct disk_image *d, const char *path, bool read_only,
		    char *err, size_t errlen)
{
	struct disk_image_opts o = disk_opts(read_only);
	return disk_image_open_opts(d, path, &o, err, errlen);
}

int disk_image_open_opts(struct disk_image *d, const char *path, const struct disk_image_opts *o,
			 char *err, size_t errlen)
{
	bool read_only = o->read_only;
	d->fd = -1;
	d->sectors = 0;
	d->read_only = read_only;
	d->write_cache = true;
	if (!path || !*path)
		return fail(-1, err, errlen, o, "''", "empty file name");

	/* O_NONBLOCK so that a FIFO given by mistake cannot block the open;
	 * it is rejected below and means nothing for files and disks. */
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == EISDIR)
			return fail(-1, err, errlen, o, path, "is a directory, not a %s image",
				    o->block_size == CD_BLOCK_SIZE ? "CD" : "disk");
		if (!read_only && (e == EACCES || e == EROFS || e == EPERM))
			return fail(-1, err, errlen, o, path, "cannot open for writing (%s); use %s for read-only access",
				    strerror(e), o->ro_hint);
		return fail(-1, err, errlen, o, path, "%s", strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(fd, err, errlen, o, path, "%s", strerror(errno));
	uint64_t bytes;
	if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return fail(fd, err, errlen, o, path, "cannot read the block device's size: %s", strerror(errno));
	} else {
		return fail(fd, err, errlen, o, path, "is not a regular file or a block device");
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return fail(fd, err, errlen, o, path, "%s", strerror(errno));

	if (disk_image_check_size_opts(bytes, path, o, err, errlen) < 0) {
		close(fd);
		return -1;
	}

	/* An open-file-description lock on the whole file: writers exclude
	 * everyone, readers only writers.  QEMU uses the same lock type, so
	 * it sees our lock and we see its. */
	struct flock lk = { .l_type = read_only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
		int e = errno;
		if (e == EAGAIN || e == EACCES)
			return fail(fd, err, errlen, o, path, "is in use by another process (it holds a lock on the image)");
		return fail(fd, err, errlen, o, path, "cannot lock the image: %s", strerror(e));
	}
	d->fd = fd;
	d->sectors = bytes / DISK_SECTOR_SIZE;
	return 0;
}

void disk_image_close(struct disk_image *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static int check_range(const struct disk_image *d, uint64_t lba, unsigned count)
{
	if (d->fd < 0)
		return -EBADF;
	if (lba > d->sectors || count > d->sectors - lba)
		return -ERANGE;
	return 0;
}

static int read_at(struct disk_image *d, uint64_t offset, void *buf, size_t want)
{
	size_t done = 0;
	off_t off = (off_t)offset;
	while (done < want) {
		ssize_t n = pread(d->fd, (char *)buf + done, want - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;  /* the file shrank under us */
		done += (size_t)n;
	}
	return 0;
}

int disk_image_read(struct disk_image *d, uint64_t lba, void *buf, unsigned count)
{
	int rc = check_range(d, lba, count);
	if (rc)
		return rc;
	return read_at(d, lba * DISK_SECTOR_SIZE, buf, (size_t)count * DISK_SECTOR_SIZE);
}

int disk_image_read_bytes(struct disk_image *d, uint64_t offset, void *buf, size_t len)
{
	if (d->fd < 0)
		return -EBADF;
	uint64_t size = d->sectors * DISK_SECTOR_SIZE;
	if (offset > size || len > size - offset)
		return -ERANGE;
	return read_at(d, offset, buf, len);
}

int disk_image_write(struct disk_image *d, uint64_t lba, const void *buf, unsigned count)
{
	int rc = check_range(d, lba, count);
	if (rc)
		return rc;
	if (d->read_only)
		return -EROFS;
	size_t want = (size_t)count * DISK_SECTOR_SIZE, done = 0;
	off_t off = (off_t)(lba * DISK_SECTOR_SIZE);
	while (done < want) {
		ssize_t n = pwrite(d->fd, (const char *)buf + done, want - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	if (!d->write_cache)
		return disk_image_flush(d);
	return 0;
}

int disk_image_flush(struct disk_image *d)
{
	if (d->fd < 0)
		return -EBADF;
	if (d->read_only)
		return 0;
	while (fdatasync(d->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}
