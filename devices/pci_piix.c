/* i440FX host bridge and PIIX3 ISA and IDE functions: configuration space
 * contents and writable bits. */
#include "devices/pci_piix.h"

#define INTEL 0x8086

static void host_bridge(struct pci_function *f)
{
	/* 82441FX: class 060000, revision 02h (as QEMU's i440FX).  PCICMD
	 * resets to 0006h (memory, bus master); status reports medium
	 * DEVSEL timing and fast back-to-back (0280h). */
	pci_function_init(f, INTEL, 0x1237, 0x060000, 0x02, 0x00);
	pci_put16(f->cfg, PCI_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	pci_put16(f->cfg, PCI_STATUS, 0x0280);
	pci_put16(f->wmask, PCI_COMMAND, 0x0146);  /* MSE, BME, PERR, SERR */
	pci_put8(f->wmask, PCI_LATENCY_TIMER, 0xF8);
}

static void isa_bridge(struct pci_function *f)
{
	/* PIIX3 function 0: PCICMD bits 0-2 hardwired to one (it always
	 * decodes and masters for ISA); header type 80h: functions 1+
	 * exist.  PIRQx route control (60h-63h) resets to 80h, routing
	 * disabled; the bytes are kept, no routing is modelled. */
	pci_function_init(f, INTEL, 0x7000, 0x060100, 0x00, PCI_HEADER_MULTIFUNCTION);
	pci_put16(f->cfg, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER);
	pci_put16(f->cfg, PCI_STATUS, 0x0200);
	pci_put16(f->wmask, PCI_COMMAND, 0x0148);  /* SCE, PERR, SERR */
	for (unsigned r = 0x60; r <= 0x63; r++) {
		pci_put8(f->cfg, r, 0x80);
		pci_put8(f->wmask, r, 0x8F);
	}
}

static void ide(struct pci_function *f)
{
	/* PIIX3 function 1: programming interface 80h = bus-master capable,
	 * primary and secondary fixed in compatibility mode (bits 0-3
	 * clear), which is what makes Linux's ata_piix use 0x1F0/0x3F6 and
	 * IRQ14.  PCICMD: only IOSE (bit 0) and BME (bit 2) are writable. */
	pci_function_init(f, INTEL, 0x7010, 0x010180, 0x00, 0x00);
	pci_put16(f->cfg, PCI_COMMAND, PCI_CMD_IO);
	pci_put16(f->wmask, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MASTER);
	pci_put16(f->cfg, PCI_STATUS, 0x0280);
	pci_put8(f->wmask, PCI_LATENCY_TIMER, 0xF0);
	/* BMIBA (BAR4): 16 bytes of I/O.  Bit 0 hardwired to one (I/O
	 * space), bits 3:1 and 31:16 zero, 15:4 the base: writing all
	 * ones reads back FFF1h, a 16-byte I/O BAR. */
	pci_put32(f->cfg, PIIX_IDE_BMIBA, 0x00000001);
	pci_put32(f->wmask, PIIX_IDE_BMIBA, 0x0000FFF0);
	/* IDETIM: bit 15 enables the channel's legacy decode, on for both
	 * channels as a BIOS leaves them (SeaBIOS under QEMU does).  Reserved
	 * bits 11:10 stay zero. */
	pci_put16(f->cfg, PIIX_IDE_IDETIM_PRI, 0x8000);
	pci_put16(f->cfg, PIIX_IDE_IDETIM_SEC, 0x8000);
	pci_put16(f->wmask, PIIX_IDE_IDETIM_PRI, 0xF3FF);
	pci_put16(f->wmask, PIIX_IDE_IDETIM_SEC, 0xF3FF);
	pci_put8(f->wmask, PIIX_IDE_SIDETIM, 0xFF);
	/* No INTx pin: compatibility-mode channels use IRQ14/15 directly. */
}

void pci_piix_init(struct pci_piix *p)
{
	host_bridge(&p->host);
	isa_bridge(&p->isa);
	ide(&p->ide);
}

int pci_piix_attach(struct pci_piix *p, struct pci_host *h)
{
	int rc = 0;
	rc |= pci_add_function(h, 0, 0, &p->host);
	rc |= pci_add_function(h, 1, 0, &p->isa);
	rc |= pci_add_function(h, PIIX_IDE_DEV, PIIX_IDE_FN, &p->ide);
	return rc ? -1 : 0;
}
