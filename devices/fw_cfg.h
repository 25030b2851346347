/* QEMU's firmware configuration device (fw_cfg) as on QEMU's x86 PC,
 * following QEMU's docs/specs/fw_cfg.rst ("fw_cfg.rst" below) and the
 * behaviour of QEMU's hw/nvram/fw_cfg.c where the document is silent.
 *
 * Ports (fw_cfg.rst "Register Locations", x86):
 *   0x510  selector, 16-bit little-endian writes.  The key's bit 14 (the
 *          old write channel) is ignored and bit 15 picks the
 *          architecture-specific items.  A key past the last slot selects
 *          nothing: every read then returns 0.
 *   0x511  data, 8-bit reads: the selected item's next byte, 0 past its
 *          end ("Data Register").  QEMU decodes 0x510 and 0x511 as one
 *          2-byte region, so a byte read of 0x510 reads data too; byte
 *          writes to either are ignored (writes were removed in QEMU 2.4),
 *          and reads of any other width return 0 without side effects.
 *   0x514  DMA address, 8 bytes, big-endian ("Guest-side DMA Interface"):
 *          reads return "QEMU CFG"; a 32-bit write at 0x514 sets the high
 *          half, a 32-bit write at 0x518 the low half and starts the
 *          operation on the FWCfgDmaAccess structure at that address.
 *
 * DMA: control (bit 0 error, 1 read, 2 skip, 3 select with the key in
 * bits 31:16, 4 write), length and address, all big-endian.  Select
 * happens first; then read copies `length` bytes from the current offset
 * to guest RAM (zeros past the item's end, or for no item), skip advances
 * the offset, write fails (every item here is read-only, as QEMU's are to
 * the guest); control is then written back as 0, or with the error bit
 * when the structure or the buffer is not guest RAM.  Port reads and DMA
 * share the selector and the offset.
 *
 * Items: the caller adds them (monitor/fw_cfg_pc.c fills the PC's).  Keys
 * below FW_CFG_FILE_FIRST are fixed; "files" get keys from 0x20 up and an
 * entry in the file directory (key 0x19: a big-endian count, then one
 * 64-byte big-endian {size, select, reserved, name[56]} per file), kept
 * sorted by name as QEMU's current machine types do (so a file's key can
 * change while files are added; guests look files up by name).  The
 * directory item always has room for FW_CFG_FILE_SLOTS entries, as
 * QEMU's does. */
#ifndef BTVM_DEVICES_FW_CFG_H
#define BTVM_DEVICES_FW_CFG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/phys_mem.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514

/* Selector keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h and
 * hw/i386/fw_cfg.h). */
enum {
	FW_CFG_SIGNATURE = 0x00,
	FW_CFG_ID = 0x01,
	FW_CFG_UUID = 0x02,
	FW_CFG_RAM_SIZE = 0x03,
	FW_CFG_NOGRAPHIC = 0x04,
	FW_CFG_NB_CPUS = 0x05,
	FW_CFG_MACHINE_ID = 0x06,
	FW_CFG_KERNEL_ADDR = 0x07,
	FW_CFG_KERNEL_SIZE = 0x08,
	FW_CFG_KERNEL_CMDLINE = 0x09,
	FW_CFG_INITRD_ADDR = 0x0a,
	FW_CFG_INITRD_SIZE = 0x0b,
	FW_CFG_BOOT_DEVICE = 0x0c,
	FW_CFG_NUMA = 0x0d,
	FW_CFG_BOOT_MENU = 0x0e,
	FW_CFG_MAX_CPUS = 0x0f,
	FW_CFG_KERNEL_ENTRY = 0x10,
	FW_CFG_KERNEL_DATA = 0x11,
	FW_CFG_INITRD_DATA = 0x12,
	FW_CFG_CMDLINE_ADDR = 0x13,
	FW_CFG_CMDLINE_SIZE = 0x14,
	FW_CFG_CMDLINE_DATA = 0x15,
	FW_CFG_SETUP_ADDR = 0x16,
	FW_CFG_SETUP_SIZE = 0x17,
	FW_CFG_SETUP_DATA = 0x18,
	FW_CFG_FILE_DIR = 0x19,
	FW_CFG_FILE_FIRST = 0x20,
	FW_CFG_WRITE_CHANNEL = 0x4000,
	FW_CFG_ARCH_LOCAL = 0x8000,
	FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0,
	FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1,
	FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2,
	FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4,
};

#define FW_CFG_ENTRY_MASK 0x3FFFu             /* without the write-channel and arch bits */
#define FW_CFG_FILE_SLOTS 0x20u               /* QEMU's default number of files */
#define FW_CFG_MAX_ENTRY (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_MAX_FILE_PATH 56u              /* with the NUL */
#define FW_CFG_FILE_ENTRY_SIZE 64u
#define FW_CFG_DIR_SIZE (4u + FW_CFG_FILE_ENTRY_SIZE * FW_CFG_FILE_SLOTS)

/* FW_CFG_ID bits and DMA control bits (fw_cfg.rst). */
#define FW_CFG_VERSION 0x01u
#define FW_CFG_VERSION_DMA 0x02u
#define FW_CFG_DMA_CTL_ERROR 0x01u
#define FW_CFG_DMA_CTL_READ 0x02u
#define FW_CFG_DMA_CTL_SKIP 0x04u
#define FW_CFG_DMA_CTL_SELECT 0x08u
#define FW_CFG_DMA_CTL_WRITE 0x10u
#define FW_CFG_DMA_SIGNATURE "QEMU CFG"

struct fw_cfg_item {
	const uint8_t *data;      /* NULL: no item (reads 0) */
	uint32_t len;
	void *owned;              /* a copy made by fw_cfg, freed by fw_cfg_destroy */
};

struct fw_cfg {
	struct fw_cfg_item items[2][FW_CFG_MAX_ENTRY];   /* [arch][key & mask] */
	uint8_t dir[FW_CFG_DIR_SIZE];                     /* the FW_CFG_FILE_DIR item */
	char names[FW_CFG_FILE_SLOTS][FW_CFG_MAX_FILE_PATH]; /* file i has key FILE_FIRST + i */
	unsigned nfiles;
	uint16_t cur;             /* selected key, FW_CFG_INVALID for none */
	uint32_t offset;          /* in the selected item */
	uint64_t dma_addr;
	const struct phys_mem *mem;
	/* Called after DMA wrote guest RAM (bt drops translations there). */
	void (*written)(void *opaque, uint64_t pa, uint64_t len);
	void *opaque;
};
#define FW_CFG_INVALID 0xFFFFu

/* An empty device: signature "QEMU", ID with the DMA bit, an empty file
 * directory, the signature selected (QEMU's reset state).  mem is where DMA
 * goes; written may be NULL. */
void fw_cfg_init(struct fw_cfg *c, const struct phys_mem *mem,
		 void (*written)(void *opaque, uint64_t pa, uint64_t len), void *opaque);
void fw_cfg_destroy(struct fw_cfg *c);
/* Claims 0x510-0x511 and 0x514-0x51B.  0, or -1 when taken. */
int fw_cfg_register(struct fw_cfg *c, struct io_bus *pio);

/* Items.  Each returns 0, or -1 for a key that is out of range or already
 * used, a name that is empty, too long or already there, or a full
 * directory.  The _ref forms keep a pointer to data, which must outlive
 * the device (large blobs: the kernel, the initrd); the others copy. */
int fw_cfg_add_bytes(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_bytes_ref(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len);
/* data lies in the malloc'd block, which the device frees (also on -1). */
int fw_cfg_add_bytes_owned(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len, void *block);
int fw_cfg_add_i16(struct fw_cfg *c, uint16_t key, uint16_t v);   /* little-endian */
int fw_cfg_add_i32(struct fw_cfg *c, uint16_t key, uint32_t v);
int fw_cfg_add_i64(struct fw_cfg *c, uint16_t key, uint64_t v);
int fw_cfg_add_file(struct fw_cfg *c, const char *name, const void *data, uint32_t len);
int fw_cfg_add_file_ref(struct fw_cfg *c, const char *name, const void *data, uint32_t len);
/* The key of a file, or 0 when there is none by that name. */
uint16_t fw_cfg_file_key(const struct fw_cfg *c, const char *name);
#endif
