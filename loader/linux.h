/* Linux x86 boot protocol: bzImage loading with the 32-bit entry
 * (Documentation/arch/x86/boot.rst, "32-bit Boot Protocol").  The policy
 * (validation, memory layout, entry state) is described at the top of
 * loader/linux.c; this header holds the protocol's data structures. */
#ifndef BTVM_LOADER_LINUX_H
#define BTVM_LOADER_LINUX_H
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include "loader/loader.h"

/* The structures below are little-endian on the wire and read/written with
 * memcpy, so the host must be little-endian too (it is x86-64). */
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the boot protocol structures are little-endian");

#define LINUX_HDRS_MAGIC 0x53726448u      /* "HdrS" at 0x202 */
#define LINUX_BOOT_FLAG 0xAA55u           /* at 0x1FE */
#define LINUX_MIN_PROTOCOL 0x0206u        /* cmdline_size appears in 2.06 */

/* loadflags */
#define LINUX_LOADED_HIGH 0x01u           /* protected-mode code at 0x100000 */
#define LINUX_KEEP_SEGMENTS 0x40u         /* obsolete; never set by btvm */
#define LINUX_CAN_USE_HEAP 0x80u          /* heap_end_ptr is valid */

#define LINUX_TYPE_OF_LOADER_UNDEFINED 0xFFu  /* boot.rst: "0xFF: undefined" */

/* Where btvm puts the zero page (the setup header's copy), the command
 * line and the protected-mode kernel (loader/linux.c; the addresses QEMU's
 * -kernel uses for protocol 2.02+ and reports through fw_cfg). */
#define LINUX_SETUP_ADDR 0x10000u
#define LINUX_CMDLINE_ADDR 0x20000u
#define LINUX_KERNEL_ADDR 0x100000u

/* Selectors the 32-bit boot protocol requires at entry. */
#define LINUX_BOOT_CS 0x10u
#define LINUX_BOOT_DS 0x18u

/* The setup header, as found at 0x1F1 in the image and copied to the same
 * offset in the zero page (boot.rst "The Real-Mode Kernel Header"). */
struct linux_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;               /* protected-mode size in 16-byte units (2.04+) */
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;                  /* 0xEB, then the header length - 2 */
	uint32_t header;                /* "HdrS" */
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;       /* highest byte an initrd may occupy (2.03+) */
	uint32_t kernel_alignment;      /* 2.05+ */
	uint8_t relocatable_kernel;     /* 2.05+ */
	uint8_t min_alignment;          /* 2.10+ */
	uint16_t xloadflags;            /* 2.12+ */
	uint32_t cmdline_size;          /* 2.06+: longest command line, without the NUL */
	uint32_t hardware_subarch;      /* 2.07+ */
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;        /* 2.08+ */
	uint32_t payload_length;
	uint64_t setup_data;            /* 2.09+ */
	uint64_t pref_address;          /* 2.10+ */
	uint32_t init_size;             /* 2.10+: bytes the kernel needs from its run address */
	uint32_t handover_offset;       /* 2.11+ */
	uint32_t kernel_info_offset;    /* 2.15+ */
} __attribute__((packed));

#define LINUX_HDR_OFF(f) (0x1F1 + offsetof(struct linux_setup_header, f))
static_assert(LINUX_HDR_OFF(setup_sects) == 0x1F1, "setup_sects");
static_assert(LINUX_HDR_OFF(syssize) == 0x1F4, "syssize");
static_assert(LINUX_HDR_OFF(boot_flag) == 0x1FE, "boot_flag");
static_assert(LINUX_HDR_OFF(jump) == 0x200, "jump");
static_assert(LINUX_HDR_OFF(header) == 0x202, "header");
static_assert(LINUX_HDR_OFF(version) == 0x206, "version");
static_assert(LINUX_HDR_OFF(kernel_version) == 0x20E, "kernel_version");
static_assert(LINUX_HDR_OFF(type_of_loader) == 0x210, "type_of_loader");
static_assert(LINUX_HDR_OFF(loadflags) == 0x211, "loadflags");
static_assert(LINUX_HDR_OFF(code32_start) == 0x214, "code32_start");
static_assert(LINUX_HDR_OFF(ramdisk_image) == 0x218, "ramdisk_image");
static_assert(LINUX_HDR_OFF(ramdisk_size) == 0x21C, "ramdisk_size");
static_assert(LINUX_HDR_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
static_assert(LINUX_HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
static_assert(LINUX_HDR_OFF(initrd_addr_max) == 0x22C, "initrd_addr_max");
static_assert(LINUX_HDR_OFF(kernel_alignment) == 0x230, "kernel_alignment");
static_assert(LINUX_HDR_OFF(relocatable_kernel) == 0x234, "relocatable_kernel");
static_assert(LINUX_HDR_OFF(xloadflags) == 0x236, "xloadflags");
static_assert(LINUX_HDR_OFF(cmdline_size) == 0x238, "cmdline_size");
static_assert(LINUX_HDR_OFF(hardware_subarch) == 0x23C, "hardware_subarch");
static_assert(LINUX_HDR_OFF(setup_data) == 0x250, "setup_data");
static_assert(LINUX_HDR_OFF(pref_address) == 0x258, "pref_address");
static_assert(LINUX_HDR_OFF(init_size) == 0x260, "init_size");
static_assert(LINUX_HDR_OFF(kernel_info_offset) == 0x268, "kernel_info_offset");
static_assert(sizeof(struct linux_setup_header) == 0x26C - 0x1F1, "setup header size");

/* boot.rst "Details of Header Fields": the header ends at 0x202 plus the
 * byte at 0x201 (the jump's displacement).  Fields through cmdline_size
 * (0x23C) must be there for protocol 2.06, through init_size (0x264) for
 * 2.10 and later. */
#define LINUX_HDR_MIN_END_206 0x23Cu
#define LINUX_HDR_MIN_END_210 0x264u

/* The zero page's screen_info (only the fields btvm sets are named). */
struct linux_screen_info {
	uint8_t orig_x, orig_y;
	uint16_t ext_mem_k;
	uint16_t orig_video_page;
	uint8_t orig_video_mode;
	uint8_t orig_video_cols;
	uint8_t flags;
	uint8_t unused2;
	uint16_t orig_video_ega_bx;
	uint16_t unused3;
	uint8_t orig_video_lines;
	uint8_t orig_video_isVGA;
	uint16_t orig_video_points;
	uint8_t rest[0x40 - 0x12];      /* VESA framebuffer fields */
} __attribute__((packed));
static_assert(offsetof(struct linux_screen_info, orig_video_cols) == 0x07, "orig_video_cols");
static_assert(offsetof(struct linux_screen_info, orig_video_lines) == 0x0E, "orig_video_lines");
static_assert(offsetof(struct linux_screen_info, orig_video_isVGA) == 0x0F, "orig_video_isVGA");
static_assert(sizeof(struct linux_screen_info) == 0x40, "screen_info size");

/* One entry of the zero page's E820 table (boot.rst / zero-page.rst). */
struct linux_e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));
static_assert(sizeof(struct linux_e820_entry) == 20, "boot_e820_entry size");

#define LINUX_E820_MAX 128              /* E820_MAX_ENTRIES_ZEROPAGE */

/* struct boot_params, "the zero page" (Documentation/arch/x86/zero-page.rst). */
struct linux_boot_params {
	struct linux_screen_info screen_info;           /* 0x000 */
	uint8_t apm_bios_info[0x14];                    /* 0x040 */
	uint8_t pad2[4];                                /* 0x054 */
	uint64_t tboot_addr;                            /* 0x058 */
	uint8_t ist_info[0x10];                         /* 0x060 */
	uint64_t acpi_rsdp_addr;                        /* 0x070 */
	uint8_t pad3[8];                                /* 0x078 */
	uint8_t hd0_info[16];                           /* 0x080 */
	uint8_t hd1_info[16];                           /* 0x090 */
	uint8_t sys_desc_table[0x10];                   /* 0x0A0 */
	uint8_t olpc_ofw_header[0x10];                  /* 0x0B0 */
	uint32_t ext_ramdisk_image;                     /* 0x0C0 */
	uint32_t ext_ramdisk_size;                      /* 0x0C4 */
	uint32_t ext_cmd_line_ptr;                      /* 0x0C8 */
	uint8_t pad4[0x13C - 0xCC];                     /* 0x0CC */
	uint32_t cc_blob_address;                       /* 0x13C */
	uint8_t edid_info[0x80];                        /* 0x140 */
	uint8_t efi_info[0x20];                         /* 0x1C0 */
	uint32_t alt_mem_k;                             /* 0x1E0 */
	uint32_t scratch;                               /* 0x1E4 */
	uint8_t e820_entries;                           /* 0x1E8 */
	uint8_t eddbuf_entries;                         /* 0x1E9 */
	uint8_t edd_mbr_sig_buf_entries;                /* 0x1EA */
	uint8_t kbd_status;                             /* 0x1EB */
	uint8_t secure_boot;                            /* 0x1EC */
	uint8_t pad5[2];                                /* 0x1ED */
	uint8_t sentinel;                               /* 0x1EF */
	uint8_t pad6[1];                                /* 0x1F0 */
	struct linux_setup_header hdr;                  /* 0x1F1 */
	uint8_t pad7[0x290 - 0x26C];                    /* 0x26C */
	uint32_t edd_mbr_sig_buffer[16];                /* 0x290 */
	struct linux_e820_entry e820_table[LINUX_E820_MAX]; /* 0x2D0 */
	uint8_t pad8[48];                               /* 0xCD0 */
	uint8_t eddbuf[0x1EC];                          /* 0xD00 */
	uint8_t pad9[276];                              /* 0xEEC */
} __attribute__((packed));
static_assert(offsetof(struct linux_boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
static_assert(offsetof(struct linux_boot_params, alt_mem_k) == 0x1E0, "alt_mem_k");
static_assert(offsetof(struct linux_boot_params, scratch) == 0x1E4, "scratch");
static_assert(offsetof(struct linux_boot_params, e820_entries) == 0x1E8, "e820_entries");
static_assert(offsetof(struct linux_boot_params, sentinel) == 0x1EF, "sentinel");
static_assert(offsetof(struct linux_boot_params, hdr) == 0x1F1, "hdr");
static_assert(offsetof(struct linux_boot_params, edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig_buffer");
static_assert(offsetof(struct linux_boot_params, e820_table) == 0x2D0, "e820_table");
static_assert(offsetof(struct linux_boot_params, eddbuf) == 0xD00, "eddbuf");
static_assert(sizeof(struct linux_boot_params) == 4096, "the zero page is 4 KiB");

/* True when the image carries "HdrS" at 0x202: a Linux kernel with the
 * boot protocol header (2.00+), whether or not it is loadable. */
bool linux_is_bzimage(const uint8_t *img, uint64_t size);

/* Loads the bzImage img (size bytes, read from req->kernel_path), the
 * --initrd and the --append command line; fills out with the 32-bit entry
 * state.  Returns 0, or -1 with one line in err. */
int linux_load(const struct load_request *req, const uint8_t *img, uint64_t size, struct phys_mem *mem,
	       const struct e820_map *map, struct boot_state *out, char *err, size_t errlen);

/* loader/linux_fw_cfg.c: after a successful load, when req is a Linux
 * kernel, adds the items QEMU's -kernel provides (SETUP_*, KERNEL_*,
 * CMDLINE_*, INITRD_*) to c; nothing for other kernels.  0, or -1 with one
 * line in err. */
struct fw_cfg;
int linux_fw_cfg_items(const struct load_request *req, const struct phys_mem *mem, struct fw_cfg *c,
		       char *err, size_t errlen);
#endif
