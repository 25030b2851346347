/* The BIOS data area (BDA, 0x400-0x4FF) and the extended BIOS data area
 * (EBDA) as a PC BIOS leaves them, for kernels that read them instead of
 * calling the BIOS: the MP specification's search for the floating pointer
 * (MP 1.4, 4.0: the first KiB of the EBDA, whose segment is the word at
 * 0x40E; else the last KiB of base memory, whose size in KiB is the word
 * at 0x413; then 0xF0000-0xFFFFF) and serial console drivers that take
 * COM1's port from 0x400.  Field offsets: the IBM PC/AT Technical
 * Reference's BIOS data area, as in Ralf Brown's memory map (MEM 0040h).
 *   0x400  COM1-COM4 base ports: 0x3F8, 0, 0, 0
 *   0x408  LPT1-LPT3 base ports: 0 (no parallel port)
 *   0x40E  EBDA segment: the end of the E820 RAM range at 0 (0x9FC0)
 *   0x410  equipment word: bit 1 x87 present, bit 2 PS/2 pointing device
 *          (the i8042's auxiliary port), bits 9-11 one serial port: 0x0206,
 *          what SeaBIOS leaves on QEMU's pc machine with one serial port
 *   0x413  base memory in KiB: the RAM range at 0 (639)
 *   EBDA   byte 0: its size in KiB (1); the rest zero
 * Everything else stays zero (no BIOS timer ticks, keyboard buffer, disk
 * count or video state: there is no BIOS to keep them).  The EBDA is the
 * reserved E820 range [0x9FC00, 0xA0000) (loader/e820.c).  Written before
 * the kernel is loaded, so a kernel loaded over low memory (--flat at 0)
 * overwrites it, as one a boot loader loads would. */
#ifndef BTVM_LOADER_BIOS_DATA_H
#define BTVM_LOADER_BIOS_DATA_H
#include <stdint.h>
#include "devices/phys_mem.h"
#include "loader/e820.h"

#define BDA_COM_PORTS 0x400u
#define BDA_LPT_PORTS 0x408u
#define BDA_EBDA_SEGMENT 0x40Eu
#define BDA_EQUIPMENT 0x410u
#define BDA_BASE_MEM_KIB 0x413u
#define BDA_EQUIPMENT_PC 0x0206u
#define BDA_COM1_PORT 0x3F8u

/* Fills the BDA and the EBDA from the map (the RAM range at address 0 ends
 * where the EBDA starts).  Nothing is written without such a range. */
void bios_data_write(struct phys_mem *mem, const struct e820_map *map);
#endif
