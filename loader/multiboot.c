/* Multiboot v1 loader (specification 0.6.96).
 *
 * Kernel image
 *   - Header flags bit 16 set: the a.out kludge.  The file is loaded from
 *     offset hdr_off - (header_addr - load_addr) to physical load_addr,
 *     (load_end_addr - load_addr) bytes, or to the end of the file when
 *     load_end_addr is 0; [load_end, bss_end_addr) is zeroed (none when
 *     bss_end_addr is 0).  This is used even when the file is an ELF, as the
 *     specification, GRUB and QEMU do.
 *   - Otherwise the file must be an ELF32 i386 ET_EXEC.  Every PT_LOAD goes
 *     to its p_paddr (as GRUB and QEMU do); the part past p_filesz is zeroed.
 *     e_entry is translated from the segment's virtual to its physical
 *     address when it falls inside a segment's [p_vaddr, p_vaddr + p_memsz)
 *     (executable segments first); an e_entry inside a segment's physical
 *     range is also accepted as is.  Anything else is an error.
 *   - Header flags: bit 0 (page-align modules: always done), bit 1 (memory
 *     information: always provided), bit 2 (video mode: btvm has no
 *     graphics, so the request is accepted and ignored, as QEMU does; the
 *     framebuffer/VBE info flags stay clear).  Any other bit of 0-15 makes
 *     the load fail, as the specification requires.  Bits 17-31 are
 *     optional and ignored.
 *
 * Modules ( --module FILE[,ARGS] in order, then --initrd as the last one)
 *   are placed page-aligned in free RAM, the first one at the first free
 *   page after the kernel's end, each next one after the previous.  Each
 *   module's string is "PATH ARGS" (just "PATH" without ARGS).
 *
 * Information structure: one block holding, in this order, the 116-byte
 *   multiboot_info (padded to 128), the memory map (the e820 map, each entry
 *   with size = 20), the module list and the strings (command line, module
 *   strings, "btvm").  It is placed page-aligned at 0x9000 when that is free,
 *   else at the first free place in low memory [0x1000, 0x9F000), else in
 *   free high RAM; it never overlaps the kernel or the modules.
 *   flags = MEMORY | CMDLINE | MODS | MEM_MAP | BOOT_LOADER_NAME;
 *   mem_lower = KiB of RAM from 0 (639 with the e820 layout), mem_upper =
 *   KiB of contiguous RAM from 1 MiB.  No boot device is reported.
 *
 * Command line: "KERNEL-BASENAME ARGS" where ARGS is --append (just the
 *   basename without --append).  GRUB passes the kernel path as typed plus
 *   its arguments and QEMU the -kernel file name plus -append; the basename
 *   keeps host directory names out of the guest while kernels that skip
 *   argv[0] still work.
 *
 * Registers: EAX = 0x2BADB002, EBX = info address, EIP = entry, others 0.
 *   The specification leaves ESP undefined; btvm reserves the 4 KiB page
 *   just below the information block as a courtesy stack and sets ESP to
 *   its top (= EBX), so a kernel that pushes before setting up its own
 *   stack writes to free RAM rather than to address 0xFFFFFFFC. */
#include "loader/multiboot.h"
#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader/elf32.h"

#define PAGE 4096ull
#define WHY 200

static const char *const BOOT_LOADER_NAME = "btvm";

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int multiboot_find_header(const uint8_t *img, uint64_t size, uint32_t *off)
{
	uint64_t limit = size < MULTIBOOT_SEARCH ? size : MULTIBOOT_SEARCH;
	bool bad = false;
	for (uint64_t o = 0; o + 12 <= limit; o += 4) {
		uint32_t magic = rd32(img + o);
		if (magic != MULTIBOOT_HEADER_MAGIC)
			continue;
		uint32_t flags = rd32(img + o + 4), sum = rd32(img + o + 8);
		if ((uint32_t)(magic + flags + sum) == 0) {
			*off = (uint32_t)o;
			return 1;
		}
		if (!bad) {
			bad = true;
			*off = (uint32_t)o;
		}
	}
	return bad ? -1 : 0;
}

/* ---- Occupied guest-physical ranges and free-space search ---- */

#define OCC_MAX (ELF32_MAX_PHNUM + LOADER_MAX_MODULES + 4)
struct range {
	uint64_t start, end;
};
struct occ {
	struct range r[OCC_MAX];
	unsigned n;
};

static void occ_add(struct occ *o, uint64_t start, uint64_t end)
{
	if (end > start && o->n < OCC_MAX)
		o->r[o->n++] = (struct range){ start, end };
}

/* 1 if [s, e) (or the point s when empty) touches an occupied range;
 * *next is then that range's end. */
static int occ_hit(const struct occ *o, uint64_t s, uint64_t e, uint64_t *next)
{
	for (unsigned i = 0; i < o->n; i++) {
		const struct range *r = &o->r[i];
		bool hit = s == e ? (r->start <= s && s < r->end) : (r->start < e && s < r->end);
		if (hit) {
			*next = r->end;
			return 1;
		}
	}
	return 0;
}

/* Lowest align-aligned address a >= lo with [a, a+size) free RAM below hi. */
static int find_free(const struct phys_mem *mem, const struct e820_map *map, const struct occ *o,
		     uint64_t size, uint64_t align, uint64_t lo, uint64_t hi, uint64_t *out)
{
	bool found = false;
	uint64_t best = 0;
	if (hi > mem->size)
		hi = mem->size;
	for (unsigned i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (e->type != E820_RAM)
			continue;
		uint64_t end = e->addr + e->size < hi ? e->addr + e->size : hi;
		uint64_t a = align_up(e->addr > lo ? e->addr : lo, align);
		while (a <= end && size <= end - a) {
			uint64_t next;
			if (!occ_hit(o, a, a + size, &next)) {
				if (!found || a < best)
					best = a;
				found = true;
				break;
			}
			a = align_up(next, align);
		}
	}
	if (found)
		*out = best;
	return found ? 0 : -1;
}

/* Bytes of contiguous RAM starting at from (per the e820 map, within mem). */
static uint64_t contiguous_ram(const struct phys_mem *mem, const struct e820_map *map, uint64_t from)
{
	uint64_t cur = from;
	for (bool progress = true; progress;) {
		progress = false;
		for (unsigned i = 0; i < map->n; i++) {
			const struct e820_entry *e = &map->e[i];
			if (e->type == E820_RAM && e->addr <= cur && cur < e->addr + e->size) {
				cur = e->addr + e->size;
				progress = true;
			}
		}
	}
	if (cur > mem->size)
		cur = mem->size;
	return cur > from ? cur - from : 0;
}

/* ---- Kernel image ---- */

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

static int load_elf(const struct load_request *req, const uint8_t *img, uint64_t size,
		    struct phys_mem *mem, const struct e820_map *map, struct occ *occ,
		    struct boot_state *out, char *err, size_t errlen)
{
	const char *path = req->kernel_path;
	char why[WHY];
	if (!elf_has_magic(img, size)) {
		ldr_err(err, errlen,
			"%s: not an ELF file, and the multiboot header has no load addresses "
			"(flags bit 16, the a.out kludge, is clear)", path);
		return -1;
	}
	struct elf32_ehdr eh;
	if (elf32_parse_ehdr(img, size, &eh, why, sizeof(why)) < 0) {
		ldr_err(err, errlen, "%s: %s", path, why);
		return -1;
	}

	struct elf32_phdr seg[ELF32_MAX_PHNUM];
	unsigned idx[ELF32_MAX_PHNUM], n = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf32_phdr ph;
		elf32_get_phdr(img, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || (ph.p_memsz == 0 && ph.p_filesz == 0))
			continue;
		if (ph.p_filesz > ph.p_memsz) {
			ldr_err(err, errlen, "%s: ELF program header %u has p_filesz 0x%x > p_memsz 0x%x",
				path, i, ph.p_filesz, ph.p_memsz);
			return -1;
		}
		if (ph.p_filesz && (uint64_t)ph.p_offset + ph.p_filesz > size) {
			ldr_err(err, errlen,
				"%s: ELF program header %u ends beyond the end of the file "
				"(offset 0x%x + size 0x%x > file size 0x%llx)",
				path, i, ph.p_offset, ph.p_filesz, (unsigned long long)size);
			return -1;
		}
		if (ldr_check_ram(mem, map, ph.p_paddr, ph.p_memsz, why, sizeof(why)) < 0) {
			ldr_err(err, errlen, "%s: ELF program header %u (physical 0x%x-0x%llx) %s",
				path, i, ph.p_paddr, (unsigned long long)ph.p_paddr + ph.p_memsz - 1, why);
			return -1;
		}
		seg[n] = ph;
		idx[n] = i;
		n++;
	}
	if (n == 0) {
		ldr_err(err, errlen, "%s: ELF file has no loadable segment (no PT_LOAD with data)", path);
		return -1;
	}
	for (unsigned a = 0; a < n; a++) {
		for (unsigned b = a + 1; b < n; b++) {
			uint64_t as = seg[a].p_paddr, ae = as + seg[a].p_memsz;
			uint64_t bs = seg[b].p_paddr, be = bs + seg[b].p_memsz;
			if (as < be && bs < ae) {
				ldr_err(err, errlen,
					"%s: ELF program headers %u and %u overlap "
					"(physical 0x%llx-0x%llx and 0x%llx-0x%llx)",
					path, idx[a], idx[b], (unsigned long long)as, (unsigned long long)ae - 1,
					(unsigned long long)bs, (unsigned long long)be - 1);
				return -1;
			}
		}
	}

	/* Entry: virtual address inside a segment (executable ones first), then
	 * a physical address inside a segment. */
	bool have_entry = false;
	uint32_t entry = 0;
	for (int pass = 0; pass < 3 && !have_entry; pass++) {
		for (unsigned k = 0; k < n && !have_entry; k++) {
			const struct elf32_phdr *s = &seg[k];
			if (pass == 0 && !(s->p_flags & PF_X))
				continue;
			uint64_t base = pass < 2 ? s->p_vaddr : s->p_paddr;
			if (eh.e_entry >= base && eh.e_entry < base + s->p_memsz) {
				entry = (uint32_t)(eh.e_entry - base + s->p_paddr);
				have_entry = true;
			}
		}
	}
	if (!have_entry) {
		ldr_err(err, errlen, "%s: ELF entry point 0x%x is not inside any loaded segment",
			path, eh.e_entry);
		return -1;
	}

	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned k = 0; k < n; k++) {
		const struct elf32_phdr *s = &seg[k];
		uint8_t *dst = phys_ptr(mem, s->p_paddr, s->p_memsz);
		memcpy(dst, img + s->p_offset, s->p_filesz);
		memset(dst + s->p_filesz, 0, s->p_memsz - s->p_filesz);
		occ_add(occ, s->p_paddr, (uint64_t)s->p_paddr + s->p_memsz);
		if (s->p_paddr < lo)
			lo = s->p_paddr;
		if ((uint64_t)s->p_paddr + s->p_memsz > hi)
			hi = (uint64_t)s->p_paddr + s->p_memsz;
	}
	out->eip = entry;
	out->kind = "multiboot-elf";
	out->load_start = (uint32_t)lo;
	out->load_end = (uint32_t)hi;
	return 0;
}

static int load_aout(const struct load_request *req, const uint8_t *img, uint64_t size,
		     uint32_t hdr_off, const struct mb_header *h, struct phys_mem *mem,
		     const struct e820_map *map, struct occ *occ, struct boot_state *out,
		     char *err, size_t errlen)
{
	const char *path = req->kernel_path;
	char why[WHY];
	if (h->load_addr > h->header_addr) {
		ldr_err(err, errlen, "%s: a.out kludge: load_addr 0x%x is above header_addr 0x%x",
			path, h->load_addr, h->header_addr);
		return -1;
	}
	uint32_t skip = h->header_addr - h->load_addr;
	if (skip > hdr_off) {
		ldr_err(err, errlen,
			"%s: a.out kludge: header_addr - load_addr (0x%x) is larger than the header's "
			"file offset 0x%x, so the load would start before the file", path, skip, hdr_off);
		return -1;
	}
	uint64_t file_off = hdr_off - skip;
	uint64_t load_size;
	if (h->load_end_addr == 0) {
		load_size = size - file_off;
	} else {
		if (h->load_end_addr <= h->load_addr) {
			ldr_err(err, errlen, "%s: a.out kludge: load_end_addr 0x%x is not above load_addr 0x%x",
				path, h->load_end_addr, h->load_addr);
			return -1;
		}
		load_size = h->load_end_addr - h->load_addr;
		if (file_off + load_size > size) {
			ldr_err(err, errlen,
				"%s: a.out kludge: load range needs 0x%llx bytes from file offset 0x%llx, "
				"beyond the end of the file (file size 0x%llx)",
				path, (unsigned long long)load_size, (unsigned long long)file_off,
				(unsigned long long)size);
			return -1;
		}
	}
	uint64_t load_end = (uint64_t)h->load_addr + load_size;
	uint64_t mem_end = load_end;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < load_end) {
			ldr_err(err, errlen, "%s: a.out kludge: bss_end_addr 0x%x is below the load end 0x%llx",
				path, h->bss_end_addr, (unsigned long long)load_end);
			return -1;
		}
		mem_end = h->bss_end_addr;
	}
	if (ldr_check_ram(mem, map, h->load_addr, mem_end - h->load_addr, why, sizeof(why)) < 0) {
		ldr_err(err, errlen, "%s: a.out kludge: image at physical 0x%x-0x%llx %s",
			path, h->load_addr, (unsigned long long)mem_end - 1, why);
		return -1;
	}
	if (h->entry_addr < h->load_addr || h->entry_addr >= load_end) {
		ldr_err(err, errlen,
			"%s: a.out kludge: entry_addr 0x%x is outside the loaded range 0x%x-0x%llx",
			path, h->entry_addr, h->load_addr, (unsigned long long)load_end - 1);
		return -1;
	}
	uint8_t *dst = phys_ptr(mem, h->load_addr, mem_end - h->load_addr);
	memcpy(dst, img + file_off, load_size);
	memset(dst + load_size, 0, mem_end - load_end);
	occ_add(occ, h->load_addr, mem_end);
	out->eip = h->entry_addr;
	out->kind = "multiboot-aout";
	out->load_start = h->load_addr;
	out->load_end = (uint32_t)mem_end;
	return 0;
}

/* ---- Modules ---- */

struct mod_rec {
	uint32_t start, end;
	const char *path, *args;
};

static int load_modules(const struct load_request *req, struct phys_mem *mem,
			const struct e820_map *map, struct occ *occ, uint64_t hint,
			struct mod_rec *mods, unsigned *nmods, char *err, size_t errlen)
{
	unsigned total = req->n_modules + (req->initrd_path ? 1 : 0);
	*nmods = 0;
	for (unsigned i = 0; i < total; i++) {
		bool initrd = i == req->n_modules;
		const char *path = initrd ? req->initrd_path : req->modules[i].path;
		const char *args = initrd ? NULL : req->modules[i].args;
		char what[32], msg[512];
		if (initrd)
			snprintf(what, sizeof(what), "initrd");
		else
			snprintf(what, sizeof(what), "module %u", i + 1);

		struct ldr_file f;
		if (ldr_open(&f, path, ldr_file_limit(mem), true, msg, sizeof(msg)) < 0) {
			ldr_err(err, errlen, "%s: %s", what, msg);
			return -1;
		}
		uint64_t addr;
		if (find_free(mem, map, occ, f.size, PAGE, hint, 1ull << 32, &addr) < 0 &&
		    find_free(mem, map, occ, f.size, PAGE, PAGE, 1ull << 32, &addr) < 0) {
			ldr_err(err, errlen, "%s: not enough free guest RAM for '%s' (%llu bytes)",
				what, path, (unsigned long long)f.size);
			ldr_close(&f);
			return -1;
		}
		if (f.size) {
			int rc = ldr_read_all(&f, phys_ptr(mem, addr, f.size), msg, sizeof(msg));
			if (rc < 0) {
				ldr_err(err, errlen, "%s: %s", what, msg);
				ldr_close(&f);
				return -1;
			}
		}
		ldr_close(&f);
		occ_add(occ, addr, addr + f.size);
		mods[i] = (struct mod_rec){ (uint32_t)addr, (uint32_t)(addr + f.size), path, args };
		*nmods = i + 1;
		hint = align_up(addr + f.size, PAGE);
	}
	return 0;
}

/* ---- Information structure ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int build_info(const struct load_request *req, struct phys_mem *mem,
		      const struct e820_map *map, const struct occ *occ,
		      const struct mod_rec *mods, unsigned nmods, uint32_t *info_out,
		      char *err, size_t errlen)
{
	const char *kname = base_name(req->kernel_path);
	const char *append = req->cmdline && *req->cmdline ? req->cmdline : NULL;

	/* Layout relative to the block's start. */
	const uint64_t o_mmap = 128;
	const uint64_t o_mods = o_mmap + (uint64_t)map->n * MB_MMAP_ENTRY_SIZE;
	const uint64_t o_str = o_mods + (uint64_t)nmods * MB_MOD_SIZE;
	uint64_t strbytes = strlen(kname) + 1 + (append ? strlen(append) + 1 : 0);
	for (unsigned i = 0; i < nmods; i++)
		strbytes += strlen(mods[i].path) + 1 +
			    (mods[i].args && *mods[i].args ? strlen(mods[i].args) + 1 : 0);
	strbytes += strlen(BOOT_LOADER_NAME) + 1;
	const uint64_t total = o_str + strbytes;

	/* The block plus one page of stack below it. */
	uint64_t region;
	if (find_free(mem, map, occ, PAGE + total, PAGE, MULTIBOOT_INFO_PREFERRED - PAGE,
		      MULTIBOOT_LOW_LIMIT, &region) < 0 &&
	    find_free(mem, map, occ, PAGE + total, PAGE, PAGE, MULTIBOOT_LOW_LIMIT, &region) < 0 &&
	    find_free(mem, map, occ, PAGE + total, PAGE, BTVM_HIGH_RAM_START, 1ull << 32, &region) < 0) {
		ldr_err(err, errlen, "%s: no free guest RAM for the multiboot information (%llu bytes)",
			req->kernel_path, (unsigned long long)total);
		return -1;
	}
	const uint64_t base = region + PAGE;

	uint8_t *b = calloc(1, total);
	if (!b) {
		ldr_err(err, errlen, "%s: out of memory building the multiboot information", req->kernel_path);
		return -1;
	}
	uint64_t sp = o_str;
#define PUT_STR(s) do { size_t l_ = strlen(s); memcpy(b + sp, (s), l_); sp += l_; } while (0)

	/* Command line. */
	uint32_t cmdline_pa = (uint32_t)(base + sp);
	PUT_STR(kname);
	if (append) {
		b[sp++] = ' ';
		PUT_STR(append);
	}
	b[sp++] = '\0';

	/* Modules. */
	for (unsigned i = 0; i < nmods; i++) {
		uint8_t *m = b + o_mods + (uint64_t)i * MB_MOD_SIZE;
		wr32(m + 0, mods[i].start);
		wr32(m + 4, mods[i].end);
		wr32(m + 8, (uint32_t)(base + sp));
		wr32(m + 12, 0);
		PUT_STR(mods[i].path);
		if (mods[i].args && *mods[i].args) {
			b[sp++] = ' ';
			PUT_STR(mods[i].args);
		}
		b[sp++] = '\0';
	}

	/* Boot loader name. */
	uint32_t name_pa = (uint32_t)(base + sp);
	PUT_STR(BOOT_LOADER_NAME);
	b[sp++] = '\0';
#undef PUT_STR

	/* Memory map. */
	for (unsigned i = 0; i < map->n; i++) {
		uint8_t *e = b + o_mmap + (uint64_t)i * MB_MMAP_ENTRY_SIZE;
		wr32(e + 0, MB_MMAP_ENTRY_SIZE - 4);
		wr64(e + 4, map->e[i].addr);
		wr64(e + 12, map->e[i].size);
		wr32(e + 20, map->e[i].type);
	}

	uint64_t lower = contiguous_ram(mem, map, 0);
	if (lower > 640 * 1024)
		lower = 640 * 1024;
	uint64_t upper = contiguous_ram(mem, map, BTVM_HIGH_RAM_START);
	wr32(b + MBI_FLAGS, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MEM_MAP |
				    MB_INFO_BOOT_LOADER_NAME);
	wr32(b + MBI_MEM_LOWER, (uint32_t)(lower / 1024));
	wr32(b + MBI_MEM_UPPER, (uint32_t)(upper / 1024));
	wr32(b + MBI_CMDLINE, cmdline_pa);
	wr32(b + MBI_MODS_COUNT, nmods);
	wr32(b + MBI_MODS_ADDR, (uint32_t)(base + o_mods));
	wr32(b + MBI_MMAP_LENGTH, map->n * MB_MMAP_ENTRY_SIZE);
	wr32(b + MBI_MMAP_ADDR, (uint32_t)(base + o_mmap));
	wr32(b + MBI_BOOT_LOADER_NAME, name_pa);

	uint8_t *stack = phys_ptr(mem, region, PAGE);
	bool ok = stack && phys_write(mem, base, b, total);
	free(b);
	if (ok)
		memset(stack, 0, PAGE);
	if (!ok) {
		ldr_err(err, errlen, "%s: internal error writing the multiboot information", req->kernel_path);
		return -1;
	}
	*info_out = (uint32_t)base;
	return 0;
}

int multiboot_load(const struct load_request *req, const uint8_t *img, uint64_t size,
		   uint32_t hdr_off, struct phys_mem *mem, const struct e820_map *map,
		   struct boot_state *out, char *err, size_t errlen)
{
	const char *path = req->kernel_path;
	struct mb_header h = { 0 };
	h.magic = rd32(img + hdr_off);
	h.flags = rd32(img + hdr_off + 4);
	h.checksum = rd32(img + hdr_off + 8);

	uint32_t unsupported = h.flags & 0xFFFFu & ~MB_HDR_SUPPORTED_LOW;
	if (unsupported) {
		ldr_err(err, errlen,
			"%s: multiboot header requires unsupported features (flags 0x%08x; bits 0x%04x are not supported)",
			path, h.flags, unsupported);
		return -1;
	}

	struct occ occ = { .n = 0 };
	int rc;
	if (h.flags & MB_HDR_AOUT_KLUDGE) {
		if ((uint64_t)hdr_off + 32 > size) {
			ldr_err(err, errlen,
				"%s: multiboot header at offset 0x%x is truncated (the a.out kludge "
				"fields, flags bit 16, need 32 bytes)", path, hdr_off);
			return -1;
		}
		h.header_addr = rd32(img + hdr_off + 12);
		h.load_addr = rd32(img + hdr_off + 16);
		h.load_end_addr = rd32(img + hdr_off + 20);
		h.bss_end_addr = rd32(img + hdr_off + 24);
		h.entry_addr = rd32(img + hdr_off + 28);
		rc = load_aout(req, img, size, hdr_off, &h, mem, map, &occ, out, err, errlen);
	} else {
		rc = load_elf(req, img, size, mem, map, &occ, out, err, errlen);
	}
	if (rc < 0)
		return -1;

	struct mod_rec mods[LOADER_MAX_MODULES + 1];
	unsigned nmods = 0;
	if (load_modules(req, mem, map, &occ, align_up(out->load_end, PAGE), mods, &nmods,
			 err, errlen) < 0)
		return -1;

	uint32_t info;
	if (build_info(req, mem, map, &occ, mods, nmods, &info, err, errlen) < 0)
		return -1;

	out->eax = MULTIBOOT_BOOTLOADER_MAGIC;
	out->ebx = info;
	out->ecx = out->edx = out->esi = out->edi = out->ebp = 0;
	out->esp = info;
	return 0;
}
