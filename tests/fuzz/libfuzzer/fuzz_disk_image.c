/* Disk and CD image validation (devices/disk_image.c): the input gives
 * the options (read-only, disk or CD), the kind of path (a regular file
 * of any size, made sparse, with a name from the input; a directory;
 * /dev/null; a FIFO; a missing file; an empty name; a symlink to a
 * file; a file another user holds open, read-only or not), then sector
 * and byte accesses.  Invariants: a regular file opens exactly when
 * disk_image_check_size_opts accepts its size; the image lock lets two
 * readers share a file and a writer have it alone; a failure
 * leaves one line starting with the option's label and no descriptor; an
 * opened image has size / 512 sectors; accesses inside it succeed, the
 * others fail with -ERANGE (a write to a read-only image with -EROFS). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "devices/disk_image.h"
#include "fuzz_common.h"

static char dir[64];

static int next_fd(void)
{
	int fd = dup(0);
	close(fd);
	return fd;
}

static void one_line(const char *err, const char *label)
{
	FZ_ASSERT(err[0], "failure without a message");
	FZ_ASSERT(!strncmp(err, label, strlen(label)), "message does not start with %s: %s", label, err);
	for (const char *p = err; *p; p++)
		FZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f, "control character %#x in the message: %s",
			  (unsigned char)*p, err);
}

static char fifo[96];

static void cleanup(void)
{
	unlink(fifo);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		strcpy(dir, "/tmp/btvm-fuzz-disk.XXXXXX");
		FZ_ASSERT(mkdtemp(dir), "mkdtemp");
		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		FZ_ASSERT(mkfifo(fifo, 0600) == 0, "mkfifo");
		atexit(cleanup);
	}
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	uint64_t bytes = fz_uN(&in, 8);
	if (!(flags & 0x80))
		bytes &= 0xFFFFF;   /* mostly sizes near real ones */
	struct disk_image_opts o = { flags & 1, flags & 2 ? CD_BLOCK_SIZE : DISK_SECTOR_SIZE,
				     flags & 2 ? "--cdrom" : "--disk", "--disk-ro" };
	/* a file name from the input: any byte but '/' and NUL */
	char name[40], path[160], file[160];
	unsigned nlen = fz_u8(&in) % sizeof(name);
	for (unsigned i = 0; i < nlen; i++) {
		uint8_t c = fz_u8(&in);
		name[i] = (char)(c == '/' || c == 0 ? '_' : c);
	}
	name[nlen] = 0;
	snprintf(file, sizeof(file), "%s/f%s", dir, name);
	int fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	FZ_ASSERT(fd >= 0, "create %s: %s", file, strerror(errno));
	bool sized = ftruncate(fd, (off_t)(bytes > INT64_MAX ? INT64_MAX : bytes)) == 0;
	close(fd);
	unsigned kind = (flags >> 2) & 7;
	bool regular = false;
	switch (kind) {
	case 0:
	case 1:   /* 1: another btvm has the image open already */
		snprintf(path, sizeof(path), "%s", file);
		regular = sized;
		break;
	case 2:
		snprintf(path, sizeof(path), "%s", dir);
		break;
	case 3:
		snprintf(path, sizeof(path), "/dev/null");
		break;
	case 4:
		snprintf(path, sizeof(path), "%s", fifo);
		break;
	case 5:
		snprintf(path, sizeof(path), "%s/missing%s", dir, name);
		break;
	case 6:
		path[0] = 0;
		break;
	case 7:
		snprintf(path, sizeof(path), "%s/link", dir);
		FZ_ASSERT(symlink(file, path) == 0, "symlink");
		regular = sized;
		break;
	}
	char err[512] = "", cerr[512] = "";
	struct disk_image other = { .fd = -1 };
	struct disk_image_opts other_o = o;
	other_o.read_only = flags & 0x40;
	bool held = false;
	if (kind == 1 && regular)
		held = disk_image_open_opts(&other, path, &other_o, cerr, sizeof(cerr)) == 0;
	int fd_before = next_fd();
	struct disk_image d;
	int rc = disk_image_open_opts(&d, path, &o, err, sizeof(err));
	if (held) {
		/* the lock: a writer excludes everyone, readers only writers */
		bool may = o.read_only && other_o.read_only;
		FZ_ASSERT(may ? rc == 0 : rc < 0 && strstr(err, "is in use"), "second open (%s after %s): %d %s",
			  o.read_only ? "ro" : "rw", other_o.read_only ? "ro" : "rw", rc, err);
		regular = rc == 0;   /* the size rule is not the question here */
	}
	if (regular && !held) {
		int crc = disk_image_check_size_opts(bytes, path, &o, cerr, sizeof(cerr));
		FZ_ASSERT(rc == crc, "open %d but size check %d for %llu bytes (%s)", rc, crc,
			  (unsigned long long)bytes, rc ? err : cerr);
	}
	if (rc < 0) {
		one_line(err, o.label);
		FZ_ASSERT(d.fd == -1 && next_fd() == fd_before, "a descriptor survives a failed open");
	} else {
		FZ_ASSERT(regular, "a %u path opened", kind);
		FZ_ASSERT(d.sectors == bytes / DISK_SECTOR_SIZE, "%llu sectors for %llu bytes",
			  (unsigned long long)d.sectors, (unsigned long long)bytes);
		static uint8_t buf[8 * 2048];
		while (fz_more(&in)) {
			uint8_t op = fz_u8(&in);
			uint64_t lba = op & 0x80 ? fz_uN(&in, 8) : fz_u8(&in);
			unsigned count = fz_u8(&in) % 9;
			bool inside = lba <= d.sectors && count <= d.sectors - lba;
			int r;
			switch (op & 3) {
			case 0:
				r = disk_image_read(&d, lba, buf, count);
				FZ_ASSERT(inside ? r == 0 : r == -ERANGE, "read %llu+%u of %llu: %d",
					  (unsigned long long)lba, count, (unsigned long long)d.sectors, r);
				break;
			case 1:
				r = disk_image_write(&d, lba, buf, count);
				FZ_ASSERT(!inside ? r == -ERANGE : o.read_only ? r == -EROFS : r == 0,
					  "write %llu+%u of %llu: %d", (unsigned long long)lba, count,
					  (unsigned long long)d.sectors, r);
				break;
			case 2: {
				uint64_t off = op & 0x80 ? lba : lba * 97, n = (uint64_t)count * 1000 % sizeof(buf);
				uint64_t total = d.sectors * DISK_SECTOR_SIZE;
				r = disk_image_read_bytes(&d, off, buf, n);
				FZ_ASSERT(off <= total && n <= total - off ? r == 0 : r == -ERANGE,
					  "read_bytes %llu+%llu of %llu: %d", (unsigned long long)off,
					  (unsigned long long)n, (unsigned long long)total, r);
				break;
			}
			case 3:
				d.write_cache = op & 4;
				FZ_ASSERT(disk_image_flush(&d) == 0, "flush");
				break;
			}
		}
		disk_image_close(&d);
		FZ_ASSERT(next_fd() == fd_before, "a descriptor survives disk_image_close");
	}
	disk_image_close(&other);
	unlink(file);
	if (kind == 7)
		unlink(path);
	return 0;
}
