/* The loaders with a whole file as input: the input is written to a memfd
 * and loaded through loader_load() by its /proc/self/fd path, as btvm run
 * loads a kernel, into 32 MiB of guest RAM (malloc'd to its exact size,
 * so AddressSanitizer sees any write past it).  Multiboot kernels get a
 * module with arguments, one without, and a command line; bzImages an initrd and a
 * command line.  Invariants: success leaves a boot state inside RAM and
 * no error text, and what the loader documents about placement holds (a
 * multiboot kernel: the information structure with its stack page, the
 * memory map, the page-aligned modules (the initrd is one more) and the
 * strings inside RAM, clear of the kernel's segments and of each other,
 * ESP = EBX; a bzImage: the zero page points at the
 * initrd, inside RAM, above the kernel and below initrd_addr_max, and at
 * the command line); failure leaves exactly one non-empty line; no
 * descriptor leaks either way. */
#ifndef BTVM_FUZZ_LOADER_H
#define BTVM_FUZZ_LOADER_H
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "loader/e820.h"
#include "loader/linux.h"
#include "loader/loader.h"
#include "loader/multiboot.h"
#include "fuzz_common.h"

#define FZ_RAM (32u << 20)

enum fz_loader { FZ_MULTIBOOT, FZ_LINUX, FZ_FLAT };

static const char fz_aux[] = "a module or an initrd: a few bytes of it\n";

static uint32_t fz_rd32(const uint8_t *ram, uint64_t pa)
{
	FZ_ASSERT(pa + 4 <= FZ_RAM, "a pointer to %#llx outside RAM", (unsigned long long)pa);
	return (uint32_t)ram[pa] | (uint32_t)ram[pa + 1] << 8 | (uint32_t)ram[pa + 2] << 16 |
	       (uint32_t)ram[pa + 3] << 24;
}

static bool fz_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

static void fz_string_in_ram(const uint8_t *ram, uint32_t pa, const char *what)
{
	FZ_ASSERT(pa < FZ_RAM && memchr(ram + pa, 0, FZ_RAM - pa), "%s at %#x is not a string in RAM", what, pa);
}

/* The kernel's pieces: an ELF kernel's PT_LOAD segments (read from the
 * file as the loader does: the range [load_start, load_end) also covers
 * the gaps between them, where the loader may put things), else the one
 * range of an a.out-kludge kernel. */
struct fz_ranges {
	uint64_t lo[32], hi[32];
	unsigned n;
};

static void fz_kernel_ranges(const uint8_t *img, size_t size, const struct boot_state *bs, struct fz_ranges *r)
{
	r->n = 0;
	if (strcmp(bs->kind, "multiboot-elf")) {
		r->lo[0] = bs->load_start, r->hi[0] = bs->load_end, r->n = 1;
		return;
	}
	uint32_t phoff;
	uint16_t phentsize, phnum;
	memcpy(&phoff, img + 0x1C, 4);
	memcpy(&phentsize, img + 0x2A, 2);
	memcpy(&phnum, img + 0x2C, 2);
	for (unsigned i = 0; i < phnum && r->n < 32; i++) {
		uint64_t at = (uint64_t)phoff + (uint64_t)i * phentsize;
		uint32_t ph[8];
		if (at + sizeof(ph) > size)
			break;
		memcpy(ph, img + at, sizeof(ph));
		if (ph[0] == 1 /* PT_LOAD */ && ph[5] /* p_memsz */)
			r->lo[r->n] = ph[3], r->hi[r->n] = (uint64_t)ph[3] + ph[5], r->n++;
	}
}

static void fz_clear_of_kernel(const struct fz_ranges *k, uint64_t lo, uint64_t hi, const char *what)
{
	for (unsigned i = 0; i < k->n; i++)
		FZ_ASSERT(!fz_overlap(lo, hi, k->lo[i], k->hi[i]), "%s at %#llx-%#llx overlaps the kernel's %#llx-%#llx",
			  what, (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)k->lo[i],
			  (unsigned long long)k->hi[i]);
}

static void fz_check_multiboot(const uint8_t *ram, const struct boot_state *bs, uint32_t want_mods,
			       const uint8_t *img, size_t size)
{
	struct fz_ranges k;
	fz_kernel_ranges(img, size, bs, &k);
	uint32_t info = bs->ebx;
	FZ_ASSERT(bs->eax == MULTIBOOT_BOOTLOADER_MAGIC && bs->esp == info, "EAX %#x EBX %#x ESP %#x", bs->eax,
		  info, bs->esp);
	FZ_ASSERT(info >= 4096 && (uint64_t)info + MBI_SIZE <= FZ_RAM, "info at %#x", info);
	/* the block and the courtesy stack page below it */
	fz_clear_of_kernel(&k, info - 4096, info + MBI_SIZE, "the information block and its stack page");
	uint32_t flags = fz_rd32(ram, info + MBI_FLAGS);
	FZ_ASSERT((flags & (MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MEM_MAP)) ==
			  (MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MEM_MAP),
		  "info flags %#x", flags);
	fz_string_in_ram(ram, fz_rd32(ram, info + MBI_CMDLINE), "the command line");
	uint32_t mmap = fz_rd32(ram, info + MBI_MMAP_ADDR), mmap_len = fz_rd32(ram, info + MBI_MMAP_LENGTH);
	FZ_ASSERT((uint64_t)mmap + mmap_len <= FZ_RAM && mmap_len, "memory map %#x+%#x", mmap, mmap_len);
	fz_clear_of_kernel(&k, mmap, (uint64_t)mmap + mmap_len, "the memory map");
	uint32_t n = fz_rd32(ram, info + MBI_MODS_COUNT), mods = fz_rd32(ram, info + MBI_MODS_ADDR);
	FZ_ASSERT(n == want_mods, "%u modules, %u given", n, want_mods);
	fz_clear_of_kernel(&k, mods, (uint64_t)mods + n * MB_MOD_SIZE, "the module list");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t start = fz_rd32(ram, mods + i * MB_MOD_SIZE), end = fz_rd32(ram, mods + i * MB_MOD_SIZE + 4);
		FZ_ASSERT(!(start & 0xFFF) && end - start == sizeof(fz_aux) && end <= FZ_RAM, "module %u at %#x-%#x", i,
			  start, end);
		fz_clear_of_kernel(&k, start, end, "a module");
		FZ_ASSERT(!fz_overlap(start, end, info - 4096, info + MBI_SIZE), "module %u at %#x-%#x overlaps the info at %#x",
			  i, start, end, info);
		for (uint32_t j = 0; j < i; j++) {
			uint32_t s2 = fz_rd32(ram, mods + j * MB_MOD_SIZE), e2 = fz_rd32(ram, mods + j * MB_MOD_SIZE + 4);
			FZ_ASSERT(!fz_overlap(start, end, s2, e2), "modules %u and %u overlap", j, i);
		}
		FZ_ASSERT(!memcmp(ram + start, fz_aux, sizeof(fz_aux)), "module %u's bytes", i);
		fz_string_in_ram(ram, fz_rd32(ram, mods + i * MB_MOD_SIZE + 8), "a module string");
	}
}

static void fz_check_linux(const uint8_t *ram, const struct boot_state *bs)
{
	uint32_t zp = bs->esi;
	FZ_ASSERT(zp == LINUX_SETUP_ADDR && bs->eip == LINUX_KERNEL_ADDR, "ESI %#x EIP %#x", zp, bs->eip);
	uint32_t img = fz_rd32(ram, zp + LINUX_HDR_OFF(ramdisk_image));
	uint32_t size = fz_rd32(ram, zp + LINUX_HDR_OFF(ramdisk_size));
	uint32_t max = fz_rd32(ram, zp + LINUX_HDR_OFF(initrd_addr_max));
	uint32_t cmd = fz_rd32(ram, zp + LINUX_HDR_OFF(cmd_line_ptr));
	FZ_ASSERT(size == sizeof(fz_aux) && (uint64_t)img + size <= FZ_RAM && img >= bs->load_end &&
			  (uint64_t)img + size - 1 <= max,
		  "initrd at %#x+%#x (kernel ends at %#x, initrd_addr_max %#x)", img, size, bs->load_end, max);
	FZ_ASSERT(!memcmp(ram + img, fz_aux, sizeof(fz_aux)), "the initrd's bytes");
	FZ_ASSERT(cmd == LINUX_CMDLINE_ADDR, "cmd_line_ptr %#x", cmd);
	fz_string_in_ram(ram, cmd, "the command line");
}

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
		(void)fz_memfd("fuzz-aux", fz_aux, sizeof(fz_aux), aux_path, sizeof(aux_path));
	}
	int fd_before = fz_next_fd();
	char path[64];
	int fd = fz_memfd("fuzz-kernel", data, size, path, sizeof(path));

	struct load_request req;
	memset(&req, 0, sizeof(req));
	req.kernel_path = path;
	req.cmdline = kind == FZ_FLAT ? NULL : "console=ttyS0 quiet";
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
		if (!strncmp(bs.kind, "multiboot", 9))
			fz_check_multiboot(ram, &bs, req.n_modules + (req.initrd_path != NULL), /* the initrd is one more */
					   data, size);
		else if (!strcmp(bs.kind, "linux-bzimage"))
			fz_check_linux(ram, &bs);
	} else {
		FZ_ASSERT(rc == -1, "rc %d", rc);
		FZ_ASSERT(err[0] != 0, "failure without a message");
		FZ_ASSERT(strchr(err, '\n') == NULL, "a message of more than one line: %s", err);
	}
	close(fd);
	FZ_ASSERT(fz_next_fd() == fd_before, "a descriptor leaked (%s)", rc ? err : "success");
}
#endif
