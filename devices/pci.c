/* PCI configuration mechanism #1 and bus 0's configuration spaces. */
#include "devices/pci.h"
#include <string.h>

void pci_put8(uint8_t *space, unsigned off, uint8_t v)
{
	space[off & 0xFF] = v;
}

void pci_put16(uint8_t *space, unsigned off, uint16_t v)
{
	pci_put8(space, off, (uint8_t)v);
	pci_put8(space, off + 1, (uint8_t)(v >> 8));
}

void pci_put32(uint8_t *space, unsigned off, uint32_t v)
{
	pci_put16(space, off, (uint16_t)v);
	pci_put16(space, off + 2, (uint16_t)(v >> 16));
}

uint32_t pci_get(const uint8_t *space, unsigned off, unsigned len)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < len && i < 4; i++)
		v |= (uint32_t)space[(off + i) & 0xFF] << (8 * i);
	return v;
}

void pci_function_init(struct pci_function *f, uint16_t vendor, uint16_t device,
		       uint32_t class_code, uint8_t revision, uint8_t header_type)
{
	memset(f, 0, sizeof(*f));
	pci_put16(f->cfg, PCI_VENDOR_ID, vendor);
	pci_put16(f->cfg, PCI_DEVICE_ID, device);
	pci_put8(f->cfg, PCI_REVISION_ID, revision);
	pci_put8(f->cfg, PCI_CLASS_PROG, (uint8_t)class_code);
	pci_put16(f->cfg, PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
	pci_put8(f->cfg, PCI_HEADER_TYPE, header_type);
	pci_put8(f->wmask, PCI_INTERRUPT_LINE, 0xFF);
	/* Status bits 15:11 and 8 (parity, SERR, aborts, data parity) are
	 * write-one-to-clear (PCI 3.0, 6.2.3). */
	pci_put16(f->w1cmask, PCI_STATUS, 0xF900);
}

void pci_host_init(struct pci_host *h)
{
	memset(h, 0, sizeof(*h));
}

int pci_add_function(struct pci_host *h, unsigned dev, unsigned fn, struct pci_function *f)
{
	if (dev >= 32 || fn >= 8 || h->fn[dev][fn] || !f)
		return -1;
	h->fn[dev][fn] = f;
	return 0;
}

static struct pci_function *lookup(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn)
{
	if (bus != 0 || dev >= 32 || fn >= 8)
		return NULL;
	return h->fn[dev][fn];
}

uint32_t pci_config_read(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
			 unsigned reg, unsigned len)
{
	struct pci_function *f = lookup(h, bus, dev, fn);
	if (!f) {
		h->aborts++;
		return len >= 4 ? 0xFFFFFFFFu : (1u << (8 * len)) - 1;
	}
	return pci_get(f->cfg, reg, len);
}

void pci_config_write(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
		      unsigned reg, unsigned len, uint32_t v)
{
	struct pci_function *f = lookup(h, bus, dev, fn);
	if (!f) {
		h->aborts++;
		return;
	}
	for (unsigned i = 0; i < len && i < 4; i++) {
		unsigned off = (reg + i) & 0xFF;
		uint8_t b = (uint8_t)(v >> (8 * i));
		uint8_t w = f->wmask[off], c = f->w1cmask[off];
		f->cfg[off] = (uint8_t)((f->cfg[off] & ~w) | (b & w));
		f->cfg[off] &= (uint8_t)~(b & c);
	}
}

/* CONFIG_ADDRESS responds to dword accesses only; byte and word accesses
 * to 0xCF8-0xCFB are ordinary I/O cycles nothing here claims (Linux's
 * pci_check_type1 relies on this: it writes a byte to 0xCFB first).
 * Reserved bits 30:24 and 1:0 read as zero. */
static void address_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_host *h = opaque;
	if (offset != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xFF, len);
		return;
	}
	if (is_write)
		h->config_address = io_data_get(data, 4) & 0x80FFFFFCu;
	else
		io_data_put(data, 4, h->config_address);
}

/* CONFIG_DATA: byte i of the access at port 0xCFC + offset is register
 * (CONFIG_ADDRESS & 0xFC) + offset + i; bytes past 0xCFF are not ours. */
static void data_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_host *h = opaque;
	uint32_t a = h->config_address;
	unsigned bus = (a >> 16) & 0xFF, dev = (a >> 11) & 0x1F, fn = (a >> 8) & 7;
	unsigned inside = offset < 4 ? (unsigned)(4 - offset) : 0;
	unsigned n = len < inside ? len : inside;
	unsigned reg = (a & 0xFC) + (unsigned)offset;
	if (is_write) {
		if (n && (a & PCI_ADDR_ENABLE))
			pci_config_write(h, bus, dev, fn, reg, n, io_data_get(data, n));
		return;
	}
	memset(data, 0xFF, len);
	if (n && (a & PCI_ADDR_ENABLE))
		io_data_put(data, n, pci_config_read(h, bus, dev, fn, reg, n));
}

int pci_host_register(struct pci_host *h, struct io_bus *pio)
{
	if (io_bus_register(pio, PCI_CONFIG_ADDRESS, 4, address_io, h, "pci-config-address"))
		return -1;
	return io_bus_register(pio, PCI_CONFIG_DATA, 4, data_io, h, "pci-config-data");
}
