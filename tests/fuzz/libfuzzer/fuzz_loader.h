/* The loaders with a whole file as input: the input is written to a memfd
 * and loaded through loader_load() by its /proc/self/fd path, as btvm run
 * loads a kernel, into 32 MiB of guest RAM (malloc'd to its exact size,
 * so AddressSanitizer sees any write past it).  Multiboot kernels get a
 * module with arguments and a command line, bzImages an initrd and a
 * command line.  Invariants: success leaves a boot state inside RAM and
 * no error text; failure leaves exactly one non-empty line; no
 * descriptor leaks either way. */
#ifndef BTVM_FUZZ_LOADER_H
#define BTVM_FUZZ_LOADER_H
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "loader/e820.h"
#include "loader/loader.h"
#include "fuzz_common.h"

#define FZ_RAM (32u << 20)

enum fz_loader { FZ_MULTIBOOT, FZ_LINUX, FZ_FLAT };

static int fz_memfd(const char *name, const void *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	FZ_ASSERT(fd >= 0, "memfd");
	FZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t)size, "write");
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static int fz_next_fd(void)
{
	int fd = dup(0);
	close(fd);
	return fd;
}

static void fz_load(const uint8_t *data, size_t size, enum fz_loader kind)
{
	static uint8_t *ram;
	static struct phys_mem mem;
	static struct e820_map map;
	static char aux_path[64];
	if (!ram) {
		ram = malloc(FZ_RAM);
		FZ_ASSERT(ram, "RAM");
		mem = (struct phys_mem){ ram, FZ_RAM };
		e820_build(&map, FZ_RAM);
		static const char aux[] = "a module or an initrd: a few bytes of it\n";
		(void)fz_memfd("fuzz-aux", aux, sizeof(aux), aux_path, sizeof(aux_path));
	}
	int fd_before = fz_next_fd();
	char path[64];
	int fd = fz_memfd("fuzz-kernel", data, size, path, sizeof(path));

	struct load_request req;
	memset(&req, 0, sizeof(req));
	req.kernel_path = path;
	req.cmdline = kind == FZ_FLAT ? NULL : "console=ttyS0 root=/dev/sda1 some=thing";
	req.flat_addr = 0x100000;
	switch (kind) {
	case FZ_MULTIBOOT:
		req.modules[0] = (struct loader_module){ aux_path, "module args" };
		req.modules[1] = (struct loader_module){ aux_path, NULL };
		req.n_modules = 2;
		break;
	case FZ_LINUX:
		req.initrd_path = aux_path;
		break;
	case FZ_FLAT: {
		/* the load address from the size: ordinary, 0, the end of RAM, 4 GiB */
		static const uint32_t at[4] = { 0x100000, 0, FZ_RAM - 0x1000, 0xFFFFF000u };
		req.flat = true;
		req.flat_addr = at[size % 4];
		break;
	}
	}
	struct boot_state bs;
	char err[512];
	int rc = loader_load(&req, &mem, &map, &bs, err, sizeof(err));
	if (rc == 0) {
		FZ_ASSERT(err[0] == 0, "success with an error text: %s", err);
		FZ_ASSERT(bs.kind != NULL, "success without a kind");
		FZ_ASSERT(bs.load_start <= bs.load_end && bs.load_end <= FZ_RAM, "image at %#x-%#x", bs.load_start,
			  bs.load_end);
	} else {
		FZ_ASSERT(rc == -1, "rc %d", rc);
		FZ_ASSERT(err[0] != 0, "failure without a message");
		FZ_ASSERT(strchr(err, '\n') == NULL, "a message of more than one line: %s", err);
	}
	close(fd);
	FZ_ASSERT(fz_next_fd() == fd_before, "a descriptor leaked (%s)", rc ? err : "success");
}
#endif
