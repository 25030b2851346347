/* Minimal ACPI tables for the one-CPU PC, written into guest RAM at boot
 * when the APIC is present.  Section numbers: ACPI 6.x, chapter 5.
 *   ACPI_RSDP_ADDR  RSDP revision 0 (5.2.5.3) in the BIOS area, where an
 *                   OS looks for "RSD PTR " on 16-byte boundaries between
 *                   0xE0000 and 0xFFFFF (5.2.5.1)
 *   then            RSDT (5.2.7) -> FADT and MADT
 *                   FADT (5.2.9, the 116-byte revision-1 layout: 32-bit
 *                   addresses only) -> FACS (5.2.10) and DSDT;
 *                   PM1a event/control blocks and the PM timer at the
 *                   ports of devices/acpi_pm.h, SCI on IRQ 9, no SMI_CMD
 *                   (always in ACPI mode)
 *                   MADT (5.2.12): local APIC 0, IOAPIC 0 at 0xFEC00000
 *                   (GSI base 0), interrupt source overrides IRQ0 -> GSI 2
 *                   and IRQ9 -> GSI 9 level/active high (the SCI), local
 *                   APIC NMI on LINT1; PCAT_COMPAT (there are 8259s)
 *                   DSDT: Name(\_S5, Package(4){S5, S5, 0, 0}), so an
 *                   OS can power off (7.4.2), and the PCI root bridge
 *                   \_SB.PCI0 (PNP0A03, bus 0) with its windows in _CRS
 *                   (below) and a _PRT routing slot S pin P (0 = INTA) to
 *                   GSI PCI_PRT_GSI_BASE + ((S + P) & 3); the AML is
 *                   written by small helpers in acpi_tables.c
 * The area is reserved in the E820 map (loader/e820.c).
 *
 * The same tables also go to QEMU's fw_cfg (monitor/fw_cfg_pc.c) in the
 * form QEMU gives them to its firmware: etc/acpi/rsdp (the RSDP),
 * etc/acpi/tables (the RSDT to the DSDT, laid out as in memory, every
 * pointer an offset into this file) and etc/table-loader (the linker/
 * loader script, loader/acpi_linker.h, that places both files and turns
 * the offsets into addresses). */
#ifndef BTVM_LOADER_ACPI_TABLES_H
#define BTVM_LOADER_ACPI_TABLES_H
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"

#define ACPI_RSDP_ADDR 0xF0000u
#define ACPI_RSDT_ADDR 0xF0040u
#define ACPI_FADT_ADDR 0xF0080u
#define ACPI_FACS_ADDR 0xF0100u   /* 64-byte aligned (5.2.10) */
#define ACPI_MADT_ADDR 0xF0140u
#define ACPI_DSDT_ADDR 0xF0200u
#define ACPI_TABLES_END 0xF0800u   /* the MP table follows (loader/mptable.h) */
#define ACPI_FADT_LEN 116u
#define ACPI_RSDP_LEN 20u
#define ACPI_TABLES_LEN (ACPI_TABLES_END - ACPI_RSDT_ADDR)

/* What the DSDT's \_SB.PCI0._CRS gives the PCI bus: buses 0-255; I/O
 * 0-0xCF7 and 0xD00-0xFFFF (all but the configuration ports, which the
 * bridge consumes); memory 0xA0000-0xBFFFF (VGA) and the hole from the
 * highest RAM btvm gives a guest (BTVM_MAX_RAM, 3 GiB) up to the IOAPIC.
 * Nothing on bus 0 claims memory today; an OS places BARs (the PIIX3 IDE's
 * bus-master BAR4, 16 bytes of I/O) inside these windows. */
#define PCI_IO_WINDOW_LOW_END 0x0CF7u
#define PCI_IO_WINDOW_HIGH 0x0D00u
#define PCI_VGA_WINDOW 0x000A0000u
#define PCI_VGA_WINDOW_END 0x000BFFFFu
#define PCI_MEM_WINDOW 0xC0000000u
#define PCI_MEM_WINDOW_END 0xFEBFFFFFu
#define PCI_PRT_GSI_BASE 16u

#define ACPI_FW_CFG_RSDP "etc/acpi/rsdp"
#define ACPI_FW_CFG_TABLES "etc/acpi/tables"
#define ACPI_FW_CFG_LOADER "etc/table-loader"

struct acpi_image {
	uint8_t rsdp[ACPI_RSDP_LEN];
	uint8_t tables[ACPI_TABLES_LEN];   /* the RSDT first, as from ACPI_RSDT_ADDR */
	size_t tables_len;                 /* up to the end of the last table */
};
struct acpi_linker;

/* Builds the RSDP and the tables with every pointer relative to
 * tables_base, the address tables[0] will have (ACPI_RSDT_ADDR in memory,
 * 0 for fw_cfg).  With a linker, also its script: ALLOCATE for both fw_cfg
 * files, ADD_POINTER for each pointer, ADD_CHECKSUM for each table after
 * its pointers. */
void acpi_tables_build(struct acpi_image *img, uint32_t tables_base, struct acpi_linker *linker);

/* Writes the RSDP at ACPI_RSDP_ADDR and the tables from ACPI_RSDT_ADDR.
 * 0, or -1 with one line in err when the table area is not in RAM. */
int acpi_tables_write(struct phys_mem *mem, char *err, size_t errlen);
#endif
