/* Loader entry point: file access, detection and dispatch.  See loader.h. */
#include "loader/loader.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loader/elf32.h"
#include "loader/linux.h"
#include "loader/multiboot.h"

void ldr_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line, whatever a file name contains. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

uint64_t ldr_file_limit(const struct phys_mem *mem)
{
	return mem->size < LOADER_MAX_FILE ? mem->size : LOADER_MAX_FILE;
}

int ldr_open(struct ldr_file *f, const char *path, uint64_t limit, bool allow_empty,
	     char *err, size_t errlen)
{
	f->path = path;
	f->fd = -1;
	f->size = 0;
	if (!path || !*path) {
		ldr_err(err, errlen, "empty file name");
		return -1;
	}
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ldr_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ldr_err(err, errlen, "cannot stat '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		ldr_err(err, errlen, "'%s' is a directory, not a regular file", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		ldr_err(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0 && !allow_empty) {
		ldr_err(err, errlen, "'%s' is empty", path);
		close(fd);
		return -1;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (size > LOADER_MAX_FILE) {
		ldr_err(err, errlen, "'%s' is too large (%llu bytes; the loader reads at most %llu MiB)",
			path, (unsigned long long)size, LOADER_MAX_FILE >> 20);
		close(fd);
		return -1;
	}
	if (size > limit) {
		ldr_err(err, errlen, "'%s' is too large (%llu bytes; guest RAM is only %llu bytes)",
			path, (unsigned long long)size, (unsigned long long)limit);
		close(fd);
		return -1;
	}
	f->fd = fd;
	f->size = size;
	return 0;
}

int ldr_read_all(struct ldr_file *f, void *dst, char *err, size_t errlen)
{
	uint8_t *p = dst;
	uint64_t done = 0;
	while (done < f->size) {
		size_t chunk = f->size - done > (1u << 30) ? (1u << 30) : (size_t)(f->size - done);
		ssize_t n = pread(f->fd, p + done, chunk, (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ldr_err(err, errlen, "cannot read '%s': %s", f->path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			ldr_err(err, errlen, "cannot read '%s': file shrank to %llu bytes while being read",
				f->path, (unsigned long long)done);
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

void ldr_close(struct ldr_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int ldr_check_ram(const struct phys_mem *mem, const struct e820_map *map, uint64_t addr,
		  uint64_t len, char *why, size_t whylen)
{
	uint64_t end = addr + len;
	if (end < addr || end > (1ull << 32)) {
		snprintf(why, whylen, "extends beyond 4 GiB");
		return -1;
	}
	if (e820_is_ram(map, addr, len) && phys_ptr(mem, addr, len))
		return 0;
	if (end > mem->size) {
		snprintf(why, whylen, "ends beyond guest RAM (RAM is 0x%llx bytes)",
			 (unsigned long long)mem->size);
		return -1;
	}
	if (addr < BTVM_HIGH_RAM_START && end > BTVM_LOW_RAM_END) {
		snprintf(why, whylen, "overlaps the 640K-1M hole (0x%llx-0xfffff is not RAM)",
			 BTVM_LOW_RAM_END);
		return -1;
	}
	snprintf(why, whylen, "is not inside guest RAM");
	return -1;
}

int loader_load(const struct load_request *req, struct phys_mem *mem, const struct e820_map *map,
		struct boot_state *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!req->kernel_path || !*req->kernel_path) {
		ldr_err(err, errlen, "no kernel file given");
		return -1;
	}
	if (req->n_modules > LOADER_MAX_MODULES) {
		ldr_err(err, errlen, "too many modules (%u; at most %d)", req->n_modules, LOADER_MAX_MODULES);
		return -1;
	}

	struct ldr_file f;
	if (ldr_open(&f, req->kernel_path, ldr_file_limit(mem), false, err, errlen) < 0)
		return -1;

	/* --flat is an explicit request: the file is loaded as raw bytes even
	 * if it happens to contain something that looks like a header. */
	if (req->flat) {
		int rc = flat_load(req, &f, mem, map, out, err, errlen);
		ldr_close(&f);
		return rc;
	}

	uint8_t *img = malloc(f.size);
	if (!img) {
		ldr_err(err, errlen, "%s: out of memory reading %llu bytes", req->kernel_path,
			(unsigned long long)f.size);
		ldr_close(&f);
		return -1;
	}
	int rc = ldr_read_all(&f, img, err, errlen);
	ldr_close(&f);
	if (rc < 0) {
		free(img);
		return -1;
	}

	/* "HdrS" first: it is at a fixed offset and unmistakable, while a
	 * multiboot header is searched for (QEMU's order too). */
	if (linux_is_bzimage(img, f.size)) {
		rc = linux_load(req, img, f.size, mem, map, out, err, errlen);
		free(img);
		return rc;
	}
	uint32_t hdr_off = 0;
	int found = multiboot_find_header(img, f.size, &hdr_off);
	if (found > 0) {
		rc = multiboot_load(req, img, f.size, hdr_off, mem, map, out, err, errlen);
	} else if (found < 0) {
		ldr_err(err, errlen,
			"%s: multiboot header at offset 0x%x has a bad checksum "
			"(magic + flags + checksum must be 0 mod 2^32)",
			req->kernel_path, hdr_off);
		rc = -1;
	} else if (elf_class(img, f.size) == 2) {
		ldr_err(err, errlen,
			"%s: 64-bit ELF kernel (ELFCLASS64) without a multiboot header; btvm runs 32-bit guests",
			req->kernel_path);
		rc = -1;
	} else {
		ldr_err(err, errlen,
			"%s: no multiboot header in the first %u bytes (use --flat to load a raw binary)",
			req->kernel_path, MULTIBOOT_SEARCH);
		rc = -1;
	}
	free(img);
	return rc;
}
