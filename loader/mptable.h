/* The Intel MultiProcessor Specification 1.4 tables for the one-CPU PC,
 * written into guest RAM at boot (when the APIC is present):
 *   MPTABLE_FP_ADDR   MP floating pointer structure (4.1, 16 bytes): in
 *                     the BIOS area 0xF0000-0xFFFFF on a 16-byte boundary,
 *                     where an OS searches for "_MP_" (4.0).
 *   MPTABLE_CFG_ADDR  MP configuration table (4.2): the BSP (APIC ID 0),
 *                     the ISA bus (ID 0), the IOAPIC (ID 0, version 0x11,
 *                     0xFEC00000), one I/O interrupt entry per ISA IRQ
 *                     (IRQ0 -> INTIN2, IRQ2 left out: it is the 8259
 *                     cascade and pin 2 is IRQ0's; IRQ9, the ACPI SCI,
 *                     level/active high; the others conform to the ISA
 *                     bus, i.e. edge/active high), and the local
 *                     interrupts LINT0 = ExtINT, LINT1 = NMI (virtual-wire
 *                     mode: feature byte 2 IMCRP = 0, 3.6.2.2).
 * The area is reserved in the E820 map (loader/e820.c). */
#ifndef BTVM_LOADER_MPTABLE_H
#define BTVM_LOADER_MPTABLE_H
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"

#define MPTABLE_FP_ADDR 0xF0800u
#define MPTABLE_CFG_ADDR 0xF0810u
#define MPTABLE_MAX_SIZE 0x400u   /* room reserved for the configuration table */

/* CPU signature and feature flags for the processor entry (4.3.1):
 * family 6, model 15, stepping 1 and CPUID.1:EDX as bt presents them. */
#define MPTABLE_CPU_SIGNATURE 0x000006F1u
/* CPUID.1:EDX of the model bt presents (bt/emulate.c), plus APIC (bit 9):
 * FPU PSE TSC MSR CX8 APIC SEP MTRR PGE CMOV PAT CLFSH MMX FXSR SSE SSE2.
 * The SMBIOS processor entry (loader/smbios.c) uses the same. */
#define MPTABLE_CPU_FEATURES (1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 9 | 1u << 11 | \
			      1u << 12 | 1u << 13 | 1u << 15 | 1u << 16 | 1u << 19 | 1u << 23 | 1u << 24 | \
			      1u << 25 | 1u << 26)

/* 0, or -1 with one line in err when the table area is not in RAM. */
int mptable_write(struct phys_mem *mem, char *err, size_t errlen);
#endif
