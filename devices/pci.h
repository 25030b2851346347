/* PCI configuration space through configuration mechanism #1 (PCI Local
 * Bus Specification 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xCF8 (dword
 * accesses only; bit 31 enables, bits 23:16 bus, 15:11 device, 10:8
 * function, 7:2 register) and CONFIG_DATA at 0xCFC-0xCFF (byte, word or
 * dword; the byte offset inside the dword comes from the port).
 *
 * Only bus 0 exists (no PCI-to-PCI bridges).  A function is 256 bytes of
 * configuration space with a mask of guest-writable bits and a mask of
 * write-one-to-clear bits (status); everything else is read-only, so
 * BAR sizing works the way the spec describes (write all ones, read back
 * the size mask) from the BAR's writable bits alone.  Reads of a function
 * that does not exist, of another bus, or with the enable bit clear return
 * all ones (a master abort); such writes are dropped. */
#ifndef BTVM_DEVICES_PCI_H
#define BTVM_DEVICES_PCI_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_ADDR_ENABLE    0x80000000u

/* Type 0 header offsets (PCI 3.0, 6.1) */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_LATENCY_TIMER  0x0D
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_CMD_IO         0x0001
#define PCI_CMD_MEMORY     0x0002
#define PCI_CMD_MASTER     0x0004
#define PCI_HEADER_MULTIFUNCTION 0x80

struct pci_function {
	uint8_t cfg[256];
	uint8_t wmask[256];   /* 1 = the guest may write this bit */
	uint8_t w1cmask[256]; /* 1 = writing one clears this bit */
};

struct pci_host {
	uint32_t config_address;
	struct pci_function *fn[32][8];   /* bus 0: device, function */
	uint64_t aborts;                  /* accesses nobody claimed (for tests/stats) */
};

void pci_host_init(struct pci_host *h);
/* Claims 0xCF8-0xCFB and 0xCFC-0xCFF.  0, or -1 if taken. */
int pci_host_register(struct pci_host *h, struct io_bus *pio);
/* Puts f at 00:dev.fn.  0, or -1 if the slot is taken or out of range. */
int pci_add_function(struct pci_host *h, unsigned dev, unsigned fn, struct pci_function *f);

/* A function with its identity filled in and nothing writable but the
 * interrupt line register (the spec's scratch byte for system software). */
void pci_function_init(struct pci_function *f, uint16_t vendor, uint16_t device,
		       uint32_t class_code /* base, sub, prog-if */, uint8_t revision,
		       uint8_t header_type);

/* Little-endian field helpers on cfg (or wmask / w1cmask). */
void pci_put8(uint8_t *space, unsigned off, uint8_t v);
void pci_put16(uint8_t *space, unsigned off, uint16_t v);
void pci_put32(uint8_t *space, unsigned off, uint32_t v);
uint32_t pci_get(const uint8_t *space, unsigned off, unsigned len);

/* Configuration access as the CPU would make it through the ports (for the
 * ports and for tests): reg is the byte offset, len 1, 2 or 4 within one
 * dword. */
uint32_t pci_config_read(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
			 unsigned reg, unsigned len);
void pci_config_write(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		      unsigned reg, unsigned len, uint32_t v);
#endif
