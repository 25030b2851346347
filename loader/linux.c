/* Linux x86 boot protocol loader with the 32-bit entry
 * (Documentation/arch/x86/boot.rst, cited as "boot.rst" below).
 *
 * Validation: each failure is one line naming the file.
 *   - The file holds the whole setup header: it ends at 0x202 plus the byte
 *     at 0x201, at least 0x23C (cmdline_size, protocol 2.06) and at least
 *     0x264 (init_size) from protocol 2.10 on.
 *   - boot_flag 0xAA55 at 0x1FE; protocol version 2.06 or later.
 *   - setup_sects (0 means 4, boot.rst "setup_sects"): the protected-mode
 *     kernel starts at (setup_sects + 1) * 512, inside the file.
 *   - syssize is the protected-mode size in 16-byte paragraphs, rounded
 *     up: the file may hold up to 15 bytes less than syssize * 16 (build
 *     tools of 2.6.22-2.6.29 wrote (size + 15) / 16 and no padding), and
 *     any number more.  QEMU's -kernel (x86_load_linux) and GRUB's linux
 *     command do not look at syssize at all: both load the whole rest of
 *     the file, as btvm does.  btvm still refuses a file 16 bytes or more
 *     shorter than syssize says, or with syssize 0: no build tool writes
 *     that, so the file was cut short (a partial download or copy), and
 *     the kernel would crash decompressing it.
 *   - loadflags LOADED_HIGH: a zImage must run at 0x10000 from real mode.
 *   - code32_start is 0x100000, where the protected-mode kernel goes.
 *   - A relocatable kernel's kernel_alignment is a power of two.
 *   - 2.10+: the kernel decompresses itself to, and runs at, its run
 *     address: max(align_up(0x100000, kernel_alignment), pref_address) when
 *     relocatable, pref_address (= LOAD_PHYSICAL_ADDR) otherwise (this is
 *     what arch/x86/boot/compressed/head_32.S computes), and needs init_size
 *     bytes of RAM from there.
 *   - --append is at most cmdline_size bytes; --initrd fits below
 *     initrd_addr_max; --module is refused (multiboot only).
 *
 * Memory layout: boot.rst "Memory Layout" with X = 0x10000 (the address
 * QEMU also uses for protocol 2.02+ kernels):
 *   0x10000   the zero page (struct linux_boot_params, 4 KiB)
 *   0x11000   the boot GDT: null, null, 0x10 code, 0x18 data, flat 4 GiB
 *             (X+0x1000..X+0x8000 would hold the real-mode code, which the
 *             32-bit entry does not run, so it is free)
 *   0x20000   the command line (X + 0x10000), NUL-terminated; heap_end_ptr
 *             = 0xFE00 ends the real-mode heap right below it, as the
 *             layout's "Stack/heap" does
 *   0x100000  the protected-mode kernel (the file after the setup sectors)
 *   initrd    page-aligned and as high as possible: its last byte at or
 *             below initrd_addr_max, inside RAM below 4 GiB, above 1 MiB,
 *             clear of the kernel's loaded and run-time ranges.
 *   ESP is set to 0x10000 as a courtesy stack below the zero page; the
 *   protocol leaves it undefined (the kernel's first act is to set it).
 *
 * Zero page: zeroed (so sentinel, at 0x1EF, is 0: the kernel then trusts
 * every field), the setup header copied from the image (0x1F1 up to
 * 0x202 + byte at 0x201, boot.rst "32-bit Boot Protocol"), then
 * type_of_loader 0xFF ("undefined"), loadflags |= CAN_USE_HEAP with
 * KEEP_SEGMENTS cleared, heap_end_ptr, cmd_line_ptr, ramdisk_image and
 * ramdisk_size (0 without --initrd), setup_data 0, hardware_subarch 0 (a
 * normal PC), code32_start 0x100000; the E820 table (0x2D0, count at 0x1E8)
 * from the VM's map; alt_mem_k = KiB of RAM above 1 MiB.  screen_info is
 * left zero: orig_video_isVGA 0 and 0 lines/columns make the kernel's vgacon
 * stand down without touching VGA ports (btvm has no VGA), so the kernel
 * uses the dummy console and whatever console= names.
 *
 * Entry state (boot.rst "32-bit Boot Protocol"): protected mode, paging
 * off, interrupts off, a GDT holding flat 4 GiB __BOOT_CS (0x10,
 * execute/read) and __BOOT_DS (0x18, read/write), CS = 0x10, DS = ES = SS
 * (and FS = GS) = 0x18, ESI = the zero page, EBP = EDI = EBX = 0, EIP =
 * code32_start. */
#include "loader/linux.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ull
#define WHY 200

#define LNX_ZERO_PAGE LINUX_SETUP_ADDR
#define LNX_GDT 0x11000u
#define LNX_CMDLINE LINUX_CMDLINE_ADDR
#define LNX_KERNEL LINUX_KERNEL_ADDR
/* boot.rst "heap_end_ptr": the end of the setup stack/heap relative to the
 * start of the real-mode code (X), minus 0x200. */
#define LNX_HEAP_END_PTR (LNX_CMDLINE - LNX_ZERO_PAGE - 0x200u)

/* Flat 4 GiB descriptors: base 0, limit 0xFFFFF pages, G=1, D/B=1, P=1,
 * DPL 0, S=1 (SDM Vol. 3A 3.4.5); type 0xB = execute/read accessed, 0x3 =
 * read/write accessed. */
#define GDT_FLAT_CODE 0x00CF9B000000FFFFull
#define GDT_FLAT_DATA 0x00CF93000000FFFFull
#define LNX_GDT_ENTRIES 4

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

bool linux_is_bzimage(const uint8_t *img, uint64_t size)
{
	uint32_t magic;
	if (size < 0x206)
		return false;
	memcpy(&magic, img + 0x202, 4);
	return magic == LINUX_HDRS_MAGIC;
}

struct range {
	uint64_t start, end;
};

/* Where the initrd goes: the highest page-aligned address at or above
 * 1 MiB with [addr, addr+size) inside one RAM entry, ending at or below
 * max_end, and not overlapping any of the n busy ranges.  0 if none. */
static uint64_t place_initrd(const struct e820_map *map, uint64_t size, uint64_t max_end,
			     const struct range *busy, unsigned n)
{
	uint64_t best = 0;
	for (unsigned i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (e->type != E820_RAM)
			continue;
		uint64_t lo = e->addr < LNX_KERNEL ? LNX_KERNEL : e->addr;
		uint64_t top = e->addr + e->size < max_end ? e->addr + e->size : max_end;
		while (top > lo && top - lo >= size) {
			uint64_t addr = (top - size) & ~(PAGE - 1);
			if (addr < lo)
				break;
			const struct range *hit = NULL;
			for (unsigned k = 0; k < n; k++)
				if (addr < busy[k].end && busy[k].start < addr + size)
					hit = &busy[k];
			if (!hit) {
				if (addr > best)
					best = addr;
				break;
			}
			top = hit->start; /* try below what is in the way */
		}
	}
	return best;
}

static int load_initrd(const struct load_request *req, const struct linux_setup_header *h,
		       struct phys_mem *mem, const struct e820_map *map, const struct range *busy,
		       unsigned n, uint32_t *addr_out, uint32_t *size_out, char *err, size_t errlen)
{
	struct ldr_file f;
	char msg[512];
	if (ldr_open(&f, req->initrd_path, ldr_file_limit(mem), false, msg, sizeof(msg)) < 0) {
		ldr_err(err, errlen, "initrd: %s", msg);
		return -1;
	}
	/* initrd_addr_max is the highest address the initrd may occupy. */
	uint64_t max_end = (uint64_t)h->initrd_addr_max + 1;
	if (max_end > (1ull << 32))
		max_end = 1ull << 32;
	uint64_t addr = place_initrd(map, f.size, max_end, busy, n);
	if (!addr) {
		bool ram_limits = mem->size < max_end;
		ldr_err(err, errlen,
			"initrd: '%s' (%llu bytes) does not fit between 1 MiB and 0x%llx (%s) beside the "
			"kernel's 0x%llx-0x%llx%s",
			req->initrd_path, (unsigned long long)f.size,
			(unsigned long long)(ram_limits ? mem->size : max_end),
			ram_limits ? "the end of guest RAM" : "the kernel's initrd_addr_max + 1",
			(unsigned long long)busy[0].start, (unsigned long long)busy[n - 1].end,
			ram_limits ? "; use a larger --mem" : "");
		ldr_close(&f);
		return -1;
	}
	int rc = ldr_read_all(&f, phys_ptr(mem, addr, f.size), msg, sizeof(msg));
	if (rc < 0)
		ldr_err(err, errlen, "initrd: %s", msg);
	ldr_close(&f);
	*addr_out = (uint32_t)addr;
	*size_out = (uint32_t)f.size;
	return rc;
}

int linux_load(const struct load_request *req, const uint8_t *img, uint64_t size, struct phys_mem *mem,
	       const struct e820_map *map, struct boot_state *out, char *err, size_t errlen)
{
	const char *path = req->kernel_path;
	char why[WHY];

	if (req->n_modules) {
		ldr_err(err, errlen,
			"%s: --module is for multiboot kernels; a Linux kernel takes one --initrd", path);
		return -1;
	}

	/* The header's length is the jump's displacement (boot.rst); btvm
	 * copies no more than the fields it knows. */
	uint64_t hdr_end = 0x202u + img[0x201];
	if (hdr_end > sizeof(struct linux_setup_header) + 0x1F1)
		hdr_end = sizeof(struct linux_setup_header) + 0x1F1;
	if (size < hdr_end) {
		ldr_err(err, errlen,
			"%s: truncated Linux kernel: %llu bytes, too short for its setup header (0x1F1-0x%llx)",
			path, (unsigned long long)size, (unsigned long long)hdr_end);
		return -1;
	}

	struct linux_boot_params *bp = phys_ptr(mem, LNX_ZERO_PAGE, sizeof(*bp));
	if (!bp || ldr_check_ram(mem, map, LNX_ZERO_PAGE, LNX_GDT + 8 * LNX_GDT_ENTRIES - LNX_ZERO_PAGE,
				 why, sizeof(why)) < 0) {
		ldr_err(err, errlen, "%s: the zero page at 0x%x is not guest RAM", path, LNX_ZERO_PAGE);
		return -1;
	}
	memset(bp, 0, sizeof(*bp));
	memcpy((uint8_t *)bp + 0x1F1, img + 0x1F1, hdr_end - 0x1F1);
	struct linux_setup_header *h = &bp->hdr;

	if (h->boot_flag != LINUX_BOOT_FLAG) {
		ldr_err(err, errlen, "%s: Linux kernel with a bad boot flag at 0x1FE (0x%04x, not 0xAA55)",
			path, h->boot_flag);
		return -1;
	}
	if (h->version < LINUX_MIN_PROTOCOL) {
		ldr_err(err, errlen,
			"%s: Linux boot protocol %u.%02u is too old (btvm needs 2.06 or later: kernel 2.6.22+)",
			path, h->version >> 8, h->version & 0xff);
		return -1;
	}
	uint64_t need_end = h->version >= 0x020A ? LINUX_HDR_MIN_END_210 : LINUX_HDR_MIN_END_206;
	if (hdr_end < need_end) {
		ldr_err(err, errlen,
			"%s: Linux setup header ends at 0x%llx (0x202 + the byte at 0x201), but boot protocol "
			"%u.%02u has fields up to 0x%llx",
			path, (unsigned long long)hdr_end, h->version >> 8, h->version & 0xff,
			(unsigned long long)need_end);
		return -1;
	}

	unsigned setup_sects = h->setup_sects ? h->setup_sects : 4;
	uint64_t setup_size = (setup_sects + 1ull) * 512;
	if (setup_size >= size) {
		ldr_err(err, errlen,
			"%s: truncated Linux kernel: setup_sects = %u puts the protected-mode kernel at "
			"offset 0x%llx, but the file has only %llu bytes",
			path, setup_sects, (unsigned long long)setup_size, (unsigned long long)size);
		return -1;
	}
	uint64_t pm_size = size - setup_size;
	if (h->syssize == 0 || (pm_size + 15) / 16 < h->syssize) {
		ldr_err(err, errlen,
			"%s: truncated Linux kernel: the setup header says the protected-mode kernel is "
			"%llu bytes (syssize %u paragraphs), the file has %llu after the setup code",
			path, (unsigned long long)h->syssize * 16, h->syssize, (unsigned long long)pm_size);
		return -1;
	}
	if (!(h->loadflags & LINUX_LOADED_HIGH)) {
		ldr_err(err, errlen,
			"%s: Linux zImage (loadflags LOADED_HIGH clear): it must be loaded at 0x10000 and "
			"entered in real mode, which btvm does not do; use a bzImage",
			path);
		return -1;
	}
	if (h->code32_start != LNX_KERNEL) {
		ldr_err(err, errlen,
			"%s: Linux kernel with code32_start 0x%x: btvm loads the protected-mode kernel at "
			"0x100000 and enters it there",
			path, h->code32_start);
		return -1;
	}
	if (h->relocatable_kernel &&
	    (h->kernel_alignment == 0 || (h->kernel_alignment & (h->kernel_alignment - 1)))) {
		ldr_err(err, errlen, "%s: relocatable Linux kernel with kernel_alignment 0x%x, not a power of two",
			path, h->kernel_alignment);
		return -1;
	}

	/* The protected-mode kernel, loaded as it is in the file. */
	if (ldr_check_ram(mem, map, LNX_KERNEL, pm_size, why, sizeof(why)) < 0) {
		ldr_err(err, errlen, "%s: the protected-mode kernel (%llu bytes at 0x100000) %s",
			path, (unsigned long long)pm_size, why);
		return -1;
	}
	struct range busy[2];
	unsigned nbusy = 0;
	busy[nbusy++] = (struct range){ LNX_KERNEL, LNX_KERNEL + pm_size };
	if (h->version >= 0x020A) {
		uint64_t run = h->pref_address;
		if (h->relocatable_kernel) {
			uint64_t aligned = align_up(LNX_KERNEL, h->kernel_alignment);
			if (aligned > run)
				run = aligned;
		}
		if (h->init_size == 0) {
			ldr_err(err, errlen, "%s: Linux boot protocol %u.%02u kernel with init_size 0", path,
				h->version >> 8, h->version & 0xff);
			return -1;
		}
		if (ldr_check_ram(mem, map, run, h->init_size, why, sizeof(why)) < 0) {
			ldr_err(err, errlen,
				"%s: the kernel needs 0x%x bytes of RAM (init_size) from 0x%llx to decompress "
				"and run, and that range %s; use a larger --mem",
				path, h->init_size, (unsigned long long)run, why);
			return -1;
		}
		struct range r = { run, run + h->init_size };
		/* Keep busy[] sorted and disjoint for the initrd search and message. */
		if (r.start < busy[0].end && busy[0].start < r.end) {
			if (r.start < busy[0].start)
				busy[0].start = r.start;
			if (r.end > busy[0].end)
				busy[0].end = r.end;
		} else if (r.start < busy[0].start) {
			busy[1] = busy[0];
			busy[0] = r;
			nbusy = 2;
		} else {
			busy[nbusy++] = r;
		}
	}

	/* The command line. */
	const char *cmdline = req->cmdline ? req->cmdline : "";
	size_t cmdlen = strlen(cmdline);
	if (cmdlen > h->cmdline_size) {
		ldr_err(err, errlen, "--append: the command line is %zu bytes; this kernel takes at most %u (cmdline_size)",
			cmdlen, h->cmdline_size);
		return -1;
	}
	if (ldr_check_ram(mem, map, LNX_CMDLINE, cmdlen + 1, why, sizeof(why)) < 0) {
		ldr_err(err, errlen, "--append: the command line (%zu bytes at 0x%x) %s", cmdlen, LNX_CMDLINE, why);
		return -1;
	}

	uint32_t initrd_addr = 0, initrd_size = 0;
	if (req->initrd_path &&
	    load_initrd(req, h, mem, map, busy, nbusy, &initrd_addr, &initrd_size, err, errlen) < 0)
		return -1;

	/* Everything is checked: write guest memory. */
	memcpy(phys_ptr(mem, LNX_KERNEL, pm_size), img + setup_size, pm_size);
	memcpy(phys_ptr(mem, LNX_CMDLINE, cmdlen + 1), cmdline, cmdlen + 1);
	uint64_t gdt[LNX_GDT_ENTRIES] = { 0, 0, GDT_FLAT_CODE, GDT_FLAT_DATA };
	static_assert(LINUX_BOOT_CS == 2 * 8 && LINUX_BOOT_DS == 3 * 8, "GDT slots");
	memcpy(phys_ptr(mem, LNX_GDT, sizeof(gdt)), gdt, sizeof(gdt));

	h->type_of_loader = LINUX_TYPE_OF_LOADER_UNDEFINED;
	h->loadflags = (uint8_t)((h->loadflags | LINUX_CAN_USE_HEAP) & ~LINUX_KEEP_SEGMENTS);
	h->heap_end_ptr = LNX_HEAP_END_PTR;
	h->cmd_line_ptr = LNX_CMDLINE;
	h->ramdisk_image = initrd_addr;
	h->ramdisk_size = initrd_size;
	h->code32_start = LNX_KERNEL;
	if (hdr_end > LINUX_HDR_OFF(hardware_subarch))
		h->hardware_subarch = 0;
	if (hdr_end > LINUX_HDR_OFF(setup_data))
		h->setup_data = 0;

	unsigned n = map->n < LINUX_E820_MAX ? map->n : LINUX_E820_MAX;
	for (unsigned i = 0; i < n; i++)
		bp->e820_table[i] = (struct linux_e820_entry){ map->e[i].addr, map->e[i].size, map->e[i].type };
	bp->e820_entries = (uint8_t)n;
	for (unsigned i = 0; i < map->n; i++)
		if (map->e[i].type == E820_RAM && map->e[i].addr == LNX_KERNEL)
			bp->alt_mem_k = (uint32_t)(map->e[i].size >> 10);

	out->kind = "linux-bzimage";
	out->eip = LNX_KERNEL;
	out->esi = LNX_ZERO_PAGE;
	out->ebx = out->edi = out->ebp = 0;
	out->esp = LNX_ZERO_PAGE;
	out->load_start = LNX_KERNEL;
	out->load_end = (uint32_t)(LNX_KERNEL + pm_size);
	out->cs_sel = LINUX_BOOT_CS;
	out->ds_sel = LINUX_BOOT_DS;
	out->gdt_base = LNX_GDT;
	out->gdt_limit = 8 * LNX_GDT_ENTRIES - 1;
	return 0;
}
