/* The PCI functions of an i440FX/PIIX3 PC (what QEMU's `-M pc` has on
 * bus 0, minus its ACPI function):
 *   00:00.0  8086:1237  82441FX host bridge (class 0600)
 *   00:01.0  8086:7000  82371SB PIIX3 PCI-to-ISA bridge (class 0601,
 *            multi-function)
 *   00:01.1  8086:7010  82371SB PIIX3 IDE (class 0101, prog-if 80h: both
 *            channels in compatibility mode at the legacy ports and IRQ
 *            14/15, bus-master capable)
 * Configuration registers hold what the BIOS would have left (the first
 * thing any guest sees here, as there is no firmware): I/O decoding on,
 * both IDE channels decoded (IDETIM bit 15), BAR4 (bus-master IDE, 16
 * bytes of I/O) unassigned.  Register semantics follow the 82371SB (PIIX3) and 82441FX
 * datasheets; the chipset functions behind them (PAM shadowing, PIRQ
 * routing, bus-master DMA) are not modelled. */
#ifndef BTVM_DEVICES_PCI_PIIX_H
#define BTVM_DEVICES_PCI_PIIX_H
#include "devices/pci.h"

#define PIIX_IDE_DEV 1
#define PIIX_IDE_FN 1
#define PIIX_IDE_BMIBA 0x20     /* BAR4 */
#define PIIX_IDE_IDETIM_PRI 0x40
#define PIIX_IDE_IDETIM_SEC 0x42
#define PIIX_IDE_SIDETIM 0x44

struct pci_piix {
	struct pci_function host, isa, ide;
};

void pci_piix_init(struct pci_piix *p);
/* Puts the three functions on bus 0.  0, or -1 if a slot is taken. */
int pci_piix_attach(struct pci_piix *p, struct pci_host *h);
#endif
