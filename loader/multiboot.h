/* Multiboot v1 (specification 0.6.96): header search, ELF32 and a.out-kludge
 * kernels, modules and the multiboot information structure. */
#ifndef BTVM_LOADER_MULTIBOOT_H
#define BTVM_LOADER_MULTIBOOT_H
#include <stddef.h>
#include <stdint.h>
#include "loader/loader.h"

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH 8192u

/* Multiboot header flags. */
#define MB_HDR_PAGE_ALIGN (1u << 0)   /* modules page-aligned (always done) */
#define MB_HDR_MEMORY_INFO (1u << 1)  /* mem_* and mmap_* (always provided) */
#define MB_HDR_VIDEO_MODE (1u << 2)   /* accepted and ignored: no graphics */
#define MB_HDR_AOUT_KLUDGE (1u << 16) /* load addresses in the header */
#define MB_HDR_SUPPORTED_LOW (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO | MB_HDR_VIDEO_MODE)

/* Multiboot information flags. */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MEM_MAP (1u << 6)
#define MB_INFO_BOOT_LOADER_NAME (1u << 9)

/* Byte offsets in the multiboot information structure. */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_BOOT_DEVICE 12
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE 116u                 /* through the framebuffer fields */
#define MB_MOD_SIZE 16u               /* mod_start, mod_end, string, reserved */
#define MB_MMAP_ENTRY_SIZE 24u        /* size (= 20), base_addr, length, type */

#define MULTIBOOT_INFO_PREFERRED 0x9000u  /* where the info structure goes when free */
#define MULTIBOOT_LOW_LIMIT 0x9F000u      /* low-memory placements stay below this */

/* Looks for the header in the first 8192 bytes (4-byte aligned, 12 bytes
 * wholly inside the file and the search area).  Returns 1 with *off set for
 * the first valid header; 0 when there is no magic; -1 with *off set to the
 * first magic found when no magic has a valid checksum. */
int multiboot_find_header(const uint8_t *img, uint64_t size, uint32_t *off);

/* Loads a multiboot kernel whose header is at hdr_off of img (size bytes),
 * then the modules and the information structure.  See multiboot.c. */
int multiboot_load(const struct load_request *req, const uint8_t *img, uint64_t size,
		   uint32_t hdr_off, struct phys_mem *mem, const struct e820_map *map,
		   struct boot_state *out, char *err, size_t errlen);
#endif
