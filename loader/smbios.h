/* SMBIOS tables for the one-CPU PC, as a PC BIOS leaves them: written into
 * guest RAM at boot, and given to fw_cfg as QEMU does (etc/smbios/
 * smbios-anchor, etc/smbios/smbios-tables; monitor/fw_cfg_pc.c).
 * Section numbers: DMTF DSP0134, SMBIOS Reference Specification 2.8.
 *   SMBIOS_ANCHOR_ADDR  the 31-byte "_SM_" entry point (5.2.1), on a
 *                       16-byte boundary in 0xF0000-0xFFFFF where an OS
 *                       searches for it; SMBIOS 2.8, the 32-bit form QEMU
 *                       gives its pc machine
 *   SMBIOS_TABLES_ADDR  the structure table:
 *     type 0   BIOS information (7.1): vendor "btvm", the BIOS area at
 *              segment 0xF000, 64 KiB, "characteristics not supported"
 *     type 1   system information (7.2): "btvm" "btvm PC", UUID 0
 *     type 3   system enclosure (7.4): "other"
 *     type 4   processor (7.5): central, enabled, the CPUID signature and
 *              features of the MP table's processor entry, 1 core
 *     type 16  physical memory array (7.17): system memory, the RAM size
 *     type 17  memory device (7.18): one "DIMM 0" of the RAM size
 *     type 19  memory array mapped address (7.20): one per E820 RAM range
 *     type 32  system boot information (7.33): no errors
 *     type 127 end of table (7.44)
 *   (QEMU gives types 1, 3, 4, 16, 17, 19, 32 and 127 and leaves type 0
 *   to its firmware; btvm is the firmware here.)
 * The anchor's structure table address is SMBIOS_TABLES_ADDR in both
 * places (QEMU leaves it 0 in fw_cfg for its firmware to fill in; a
 * firmware that moves the tables rewrites it either way).  The area is
 * reserved in the E820 map (loader/e820.c). */
#ifndef BTVM_LOADER_SMBIOS_H
#define BTVM_LOADER_SMBIOS_H
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"
#include "loader/e820.h"

#define SMBIOS_ANCHOR_ADDR 0xF1000u
#define SMBIOS_TABLES_ADDR 0xF1020u
#define SMBIOS_ANCHOR_LEN 31u
#define SMBIOS_TABLES_MAX 0x800u

#define SMBIOS_FW_CFG_ANCHOR "etc/smbios/smbios-anchor"
#define SMBIOS_FW_CFG_TABLES "etc/smbios/smbios-tables"

struct smbios_image {
	uint8_t anchor[SMBIOS_ANCHOR_LEN];
	uint8_t tables[SMBIOS_TABLES_MAX];
	size_t tables_len;
};

/* Builds the entry point and the structures for ram_size bytes of RAM laid
 * out as map says. */
void smbios_build(struct smbios_image *img, uint64_t ram_size, const struct e820_map *map);
/* Writes them at SMBIOS_ANCHOR_ADDR and SMBIOS_TABLES_ADDR.  0, or -1 with
 * one line in err when that is not guest RAM. */
int smbios_write(struct phys_mem *mem, const struct smbios_image *img, char *err, size_t errlen);
#endif
