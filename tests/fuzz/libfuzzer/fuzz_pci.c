/* PCI configuration mechanism #1 (0xCF8, 0xCFC-0xCFF) with the i440FX
 * and PIIX3 functions of btvm's PC.  Invariants: a bit the function does
 * not make writable (wmask) or write-one-to-clear (w1cmask) never
 * changes; a w1c bit never goes from 0 to 1; a function that is not
 * there reads all ones. */
#include "devices/pci.h"
#include "devices/pci_piix.h"
#include "fuzz_common.h"

static const uint16_t ports[16] = { 0xCF8, 0xCFC, 0xCFD, 0xCFE, 0xCFF, 0xCF8, 0xCFC, 0xCFC,
				    0xCF9, 0xCFA, 0xCFB, 0xCF8, 0xCFC, 0xCFE, 0xCF7, 0xD00 };
static const unsigned widths[4] = { 4, 1, 2, 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct pci_host host;
	static struct pci_piix piix;
	static struct pci_function before[3];
	io_bus_init(&bus, "pio");
	pci_host_init(&host);
	pci_piix_init(&piix);
	FZ_ASSERT(pci_host_register(&host, &bus) == 0 && pci_piix_attach(&piix, &host) == 0, "register");
	struct pci_function *fns[3] = { &piix.host, &piix.isa, &piix.ide };
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		for (int i = 0; i < 3; i++)
			before[i] = *fns[i];
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			fz_access(&bus, ports[op.where], op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK:
		case FZ_SPECIAL: {
			/* an address on bus 0, device 0-3: where the functions are */
			uint32_t a = PCI_ADDR_ENABLE | (uint32_t)(op.value & 0x1F) << 8 | (fz_u8(&in) & 0xFCu);
			fz_access(&bus, PCI_CONFIG_ADDRESS, 4, true, a);
			uint32_t v = (uint32_t)fz_access(&bus, PCI_CONFIG_DATA, 4, false, 0);
			unsigned dev = (a >> 11) & 0x1F, fn = (a >> 8) & 7;
			if (!host.fn[dev][fn])
				FZ_ASSERT(v == 0xFFFFFFFFu, "absent 00:%02x.%u reads %#x", dev, fn, v);
			break;
		}
		}
		for (int i = 0; i < 3; i++) {
			if (!memcmp(before[i].cfg, fns[i]->cfg, 256))
				continue;   /* the usual case: the check's own loop costs */
			for (int b = 0; b < 256; b++) {
				uint8_t old = before[i].cfg[b], now = fns[i]->cfg[b];
				uint8_t ro = (uint8_t)~(fns[i]->wmask[b] | fns[i]->w1cmask[b]);
				FZ_ASSERT((old & ro) == (now & ro), "function %d byte %#x: read-only bits %#x -> %#x", i,
					  b, old, now);
				uint8_t w1c = fns[i]->w1cmask[b] & (uint8_t)~fns[i]->wmask[b];
				FZ_ASSERT(!(~old & now & w1c), "function %d byte %#x: a w1c bit was set", i, b);
			}
		}
	}
	return 0;
}
