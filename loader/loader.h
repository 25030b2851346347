/* Kernel loader: reads the kernel file (and modules), detects its type and
 * places it in guest RAM, returning the CPU state for the kernel's entry.
 *
 * Detection (loader.c):
 *   --flat                         -> flat binary, whatever the file holds
 *   "HdrS" at offset 0x202         -> Linux boot protocol (loader/linux.c);
 *                                     checked before multiboot, as QEMU does
 *   valid multiboot v1 header      -> multiboot (ELF32, or the a.out kludge
 *                                     when header flags bit 16 is set)
 *   multiboot magic, bad checksum  -> error
 *   anything else                  -> error naming what the file looks like
 *                                     (ELF64, ...)
 * Multiboot details (info placement, command line, stack) are described at
 * the top of loader/multiboot.c, Linux ones at the top of loader/linux.c. */
#ifndef BTVM_LOADER_LOADER_H
#define BTVM_LOADER_LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"
#include "loader/e820.h"

#define LOADER_MAX_MODULES 16
struct loader_module {
	const char *path;
	const char *args;               /* may be NULL */
};

struct load_request {
	const char *kernel_path;
	const char *cmdline;            /* --append, may be NULL */
	struct loader_module modules[LOADER_MAX_MODULES];
	unsigned n_modules;
	const char *initrd_path;        /* --initrd; for multiboot it becomes one more module; may be NULL */
	bool flat;                      /* --flat: load as a flat binary */
	uint32_t flat_addr;             /* load and entry address for --flat (default 0x100000) */
};

/* CPU state at kernel entry: 32-bit protected mode, flat 4 GiB segments,
 * paging off, interrupts off. */
struct boot_state {
	uint32_t eip, eax, ebx, ecx, edx, esi, edi, ebp, esp;
	const char *kind;               /* "multiboot-elf", "multiboot-aout", "flat", "linux-bzimage" */
	uint32_t load_start, load_end;  /* physical range occupied by the kernel image */
	/* Segment state.  All zero: the multiboot convention (CS 0x08, the
	 * data segments 0x10, GDTR base 0 limit 0: the kernel loads its own).
	 * The Linux 32-bit boot protocol needs CS 0x10, DS/ES/SS 0x18 and a
	 * loaded GDT holding those descriptors: then cs_sel is non-zero, ds_sel
	 * goes to DS, ES, FS, GS and SS, and GDTR = gdt_base/gdt_limit.  The
	 * segment caches are flat 4 GiB either way, matching the GDT. */
	uint16_t cs_sel, ds_sel;
	uint32_t gdt_base;
	uint16_t gdt_limit;
};

/* Returns 0, or -1 with err set to ONE line (no trailing newline, no "btvm:"
 * prefix) that names the file and says what is wrong.  Nothing is written to
 * any file; guest memory may be partly written on failure. */
int loader_load(const struct load_request *req, struct phys_mem *mem, const struct e820_map *map,
		struct boot_state *out, char *err, size_t errlen);

/* ---- Shared by the loader's own .c files; not part of the monitor's API. ---- */

/* Largest file the loader reads (kernel or module); also capped at RAM size. */
#define LOADER_MAX_FILE (512ull << 20)

/* An open, fstat-checked regular file. */
struct ldr_file {
	const char *path;
	int fd;
	uint64_t size;
};

/* Formats one line into err (control characters become '?'). */
void ldr_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Opens path read-only and checks it is a regular file of 1..limit bytes
 * (0..limit when allow_empty).  -1 with a message on failure. */
int ldr_open(struct ldr_file *f, const char *path, uint64_t limit, bool allow_empty,
	     char *err, size_t errlen);
/* Reads the whole file (f->size bytes from offset 0) into dst. */
int ldr_read_all(struct ldr_file *f, void *dst, char *err, size_t errlen);
void ldr_close(struct ldr_file *f);
/* 0 when [addr, addr+len) is guest RAM (in the e820 map as RAM and inside
 * mem); else -1 with a phrase in why such as "ends beyond guest RAM (...)". */
int ldr_check_ram(const struct phys_mem *mem, const struct e820_map *map, uint64_t addr,
		  uint64_t len, char *why, size_t whylen);
/* The file size limit for this guest: min(LOADER_MAX_FILE, RAM size). */
uint64_t ldr_file_limit(const struct phys_mem *mem);

/* loader/flat.c: the whole (open) file at req->flat_addr. */
int flat_load(const struct load_request *req, struct ldr_file *f, struct phys_mem *mem,
	      const struct e820_map *map, struct boot_state *out, char *err, size_t errlen);
#endif
