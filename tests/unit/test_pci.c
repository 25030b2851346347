/* PCI configuration mechanism #1 through the ports, and the i440FX/PIIX3
 * functions' configuration spaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/pci.h"
#include "devices/pci_piix.h"

static struct fx {
	struct io_bus bus;
	struct pci_host host;
	struct pci_piix piix;
} f;

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	io_bus_init(&f.bus, "pio");
	pci_host_init(&f.host);
	pci_piix_init(&f.piix);
	assert_int_equal(pci_host_register(&f.host, &f.bus), 0);
	assert_int_equal(pci_piix_attach(&f.piix, &f.host), 0);
	return 0;
}

static uint32_t in(uint16_t port, unsigned len)
{
	uint8_t d[4];
	assert_true(io_bus_access(&f.bus, port, d, len, false));
	return io_data_get(d, len);
}

static void out(uint16_t port, unsigned len, uint32_t v)
{
	uint8_t d[4];
	io_data_put(d, len, v);
	assert_true(io_bus_access(&f.bus, port, d, len, true));
}

static uint32_t addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg;
}

static uint32_t cfg_read(unsigned dev, unsigned fn, unsigned reg, unsigned len)
{
	out(0xCF8, 4, addr(0, dev, fn, reg & 0xFC));
	return in((uint16_t)(0xCFC + (reg & 3)), len);
}

static void cfg_write(unsigned dev, unsigned fn, unsigned reg, unsigned len, uint32_t v)
{
	out(0xCF8, 4, addr(0, dev, fn, reg & 0xFC));
	out((uint16_t)(0xCFC + (reg & 3)), len, v);
}

static void test_config_address(void **state)
{
	(void)state;
	out(0xCF8, 4, 0xFFFFFFFFu);
	assert_int_equal(in(0xCF8, 4), 0x80FFFFFCu);   /* reserved bits read 0 */
	out(0xCF8, 4, 0x80000000u);
	assert_int_equal(in(0xCF8, 4), 0x80000000u);
	/* byte and word accesses are not CONFIG_ADDRESS (Linux writes 0xCFB) */
	out(0xCFB, 1, 0x01);
	out(0xCF8, 2, 0x1234);
	assert_int_equal(in(0xCF8, 4), 0x80000000u);
	assert_int_equal(in(0xCF8, 1), 0xFF);
	assert_int_equal(in(0xCFA, 2), 0xFFFF);
}

static void test_identities(void **state)
{
	(void)state;
	assert_int_equal(cfg_read(0, 0, 0, 4), 0x12378086u);
	assert_int_equal(cfg_read(0, 0, 8, 4), 0x06000002u);
	assert_int_equal(cfg_read(1, 0, 0, 4), 0x70008086u);
	assert_int_equal(cfg_read(1, 0, 8, 4) >> 8, 0x060100u);
	assert_int_equal(cfg_read(1, 0, PCI_HEADER_TYPE, 1), 0x80);   /* multi-function */
	assert_int_equal(cfg_read(1, 1, 0, 4), 0x70108086u);
	assert_int_equal(cfg_read(1, 1, 8, 4) >> 8, 0x010180u);
	assert_int_equal(cfg_read(1, 1, PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(cfg_read(0, 0, PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(cfg_read(1, 1, PCI_COMMAND, 2), PCI_CMD_IO);
	assert_int_equal(cfg_read(1, 1, 0x40, 2), 0x8000);            /* primary decode on */
	assert_int_equal(cfg_read(1, 1, 0x42, 2), 0x8000);            /* secondary decode on */
	assert_int_equal(cfg_read(1, 1, PCI_INTERRUPT_PIN, 1), 0);
}

static void test_sub_dword_offsets(void **state)
{
	(void)state;
	out(0xCF8, 4, addr(0, 0, 0, 0));
	assert_int_equal(in(0xCFC, 2), 0x8086);
	assert_int_equal(in(0xCFE, 2), 0x1237);
	assert_int_equal(in(0xCFD, 1), 0x80);
	assert_int_equal(in(0xCFF, 1), 0x12);
	assert_int_equal(in(0xCFD, 2), 0x3780);          /* bytes 1-2 of the dword */
	/* a word at 0xCFF: its second byte is past CONFIG_DATA */
	assert_int_equal(in(0xCFF, 2), 0xFF12);
	assert_int_equal(in(0xCFD, 4), 0xFF123780u);
}

static void test_absent(void **state)
{
	(void)state;
	out(0xCF8, 4, addr(0, 2, 0, 0));
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFFu);
	assert_int_equal(in(0xCFE, 2), 0xFFFF);
	out(0xCF8, 4, addr(0, 0, 1, 0));                  /* host bridge has function 0 only */
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFFu);
	out(0xCF8, 4, addr(0, 1, 2, 0));
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFFu);
	out(0xCF8, 4, addr(1, 0, 0, 0));                  /* no bus 1 */
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFFu);
	out(0xCFC, 4, 0);                                 /* dropped */
	uint64_t aborts = f.host.aborts;
	assert_true(aborts >= 5);
	/* enable bit clear: no configuration cycle at all */
	out(0xCF8, 4, 0x00000000u | (1u << 11));          /* 00:01.0 without bit 31 */
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFFu);
	out(0xCFC, 2, 0x0000);
	assert_int_equal(f.host.aborts, aborts);
	assert_int_equal(cfg_read(1, 0, PCI_COMMAND, 2), 0x0007);
}

static void test_read_only_fields(void **state)
{
	(void)state;
	for (unsigned dev = 0; dev < 2; dev++)
		for (unsigned fn = 0; fn < 2; fn++) {
			uint32_t id = cfg_read(dev, fn, 0, 4), cls = cfg_read(dev, fn, 8, 4);
			cfg_write(dev, fn, 0, 4, 0);
			cfg_write(dev, fn, 8, 4, 0xFFFFFFFFu);
			cfg_write(dev, fn, PCI_HEADER_TYPE, 1, 0x7F);
			assert_int_equal(cfg_read(dev, fn, 0, 4), id);
			assert_int_equal(cfg_read(dev, fn, 8, 4), cls);
		}
	assert_int_equal(cfg_read(1, 0, PCI_HEADER_TYPE, 1), 0x80);
}

static void test_command_and_status(void **state)
{
	(void)state;
	/* IDE: IOSE and BME only */
	cfg_write(1, 1, PCI_COMMAND, 2, 0xFFFF);
	assert_int_equal(cfg_read(1, 1, PCI_COMMAND, 2), 0x0005);
	cfg_write(1, 1, PCI_COMMAND, 2, 0x0000);
	assert_int_equal(cfg_read(1, 1, PCI_COMMAND, 2), 0x0000);
	/* ISA bridge: bits 0-2 hardwired on */
	cfg_write(1, 0, PCI_COMMAND, 2, 0x0000);
	assert_int_equal(cfg_read(1, 0, PCI_COMMAND, 2), 0x0007);
	/* host bridge */
	cfg_write(0, 0, PCI_COMMAND, 2, 0x0000);
	assert_int_equal(cfg_read(0, 0, PCI_COMMAND, 2), 0x0000);
	cfg_write(0, 0, PCI_COMMAND, 2, 0x0006);
	assert_int_equal(cfg_read(0, 0, PCI_COMMAND, 2), 0x0006);

	/* Status: writing one clears an error bit, zero keeps it, and the
	 * capability bits are read-only. */
	f.piix.ide.cfg[PCI_STATUS + 1] |= 0x20;          /* received master abort */
	cfg_write(1, 1, PCI_STATUS, 2, 0x0000);
	assert_int_equal(cfg_read(1, 1, PCI_STATUS, 2), 0x2280);
	cfg_write(1, 1, PCI_STATUS, 2, 0xFFFF);
	assert_int_equal(cfg_read(1, 1, PCI_STATUS, 2), 0x0280);
	/* a dword write at 04h: command and status together */
	f.piix.ide.cfg[PCI_STATUS + 1] |= 0x20;
	cfg_write(1, 1, PCI_COMMAND, 4, 0x20000001u);
	assert_int_equal(cfg_read(1, 1, PCI_COMMAND, 4), 0x02800001u);
}

static void test_bar4_sizing(void **state)
{
	(void)state;
	assert_int_equal(cfg_read(1, 1, PIIX_IDE_BMIBA, 4), 0x00000001u);   /* unassigned */
	cfg_write(1, 1, PIIX_IDE_BMIBA, 4, 0xFFFFFFFFu);
	uint32_t mask = cfg_read(1, 1, PIIX_IDE_BMIBA, 4);
	assert_int_equal(mask, 0x0000FFF1u);
	assert_int_equal((~(mask & 0xFFFCu) + 1) & 0xFFFFu, 16);          /* 16 bytes of I/O */
	cfg_write(1, 1, PIIX_IDE_BMIBA, 4, 0x0000C040u);
	assert_int_equal(cfg_read(1, 1, PIIX_IDE_BMIBA, 4), 0x0000C041u);
	cfg_write(1, 1, PIIX_IDE_BMIBA, 4, 0x1234567Fu);
	assert_int_equal(cfg_read(1, 1, PIIX_IDE_BMIBA, 4), 0x00005671u);
	/* byte writes reach the BAR's bytes */
	cfg_write(1, 1, PIIX_IDE_BMIBA + 1, 1, 0xD0);
	assert_int_equal(cfg_read(1, 1, PIIX_IDE_BMIBA, 4), 0x0000D071u);
	/* the other BARs do not exist: all-ones reads back 0 */
	for (unsigned bar = 0; bar < 6; bar++) {
		if (bar == 4)
			continue;
		cfg_write(1, 1, PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFFu);
		assert_int_equal(cfg_read(1, 1, PCI_BAR0 + 4 * bar, 4), 0);
		cfg_write(0, 0, PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFFu);
		assert_int_equal(cfg_read(0, 0, PCI_BAR0 + 4 * bar, 4), 0);
	}
}

static void test_piix_registers(void **state)
{
	(void)state;
	cfg_write(1, 1, 0x40, 4, 0xFFFFFFFFu);
	assert_int_equal(cfg_read(1, 1, 0x40, 4), 0xF3FFF3FFu);            /* IDETIM reserved bits */
	cfg_write(1, 1, 0x40, 2, 0x8000);
	assert_int_equal(cfg_read(1, 1, 0x40, 2), 0x8000);
	cfg_write(1, 1, PIIX_IDE_SIDETIM, 1, 0xA5);
	assert_int_equal(cfg_read(1, 1, PIIX_IDE_SIDETIM, 1), 0xA5);
	cfg_write(1, 1, PCI_LATENCY_TIMER, 1, 0xFF);
	assert_int_equal(cfg_read(1, 1, PCI_LATENCY_TIMER, 1), 0xF0);
	cfg_write(1, 1, PCI_INTERRUPT_LINE, 1, 14);
	assert_int_equal(cfg_read(1, 1, PCI_INTERRUPT_LINE, 1), 14);
	assert_int_equal(cfg_read(1, 0, 0x60, 4), 0x80808080u);            /* PIRQ routing off */
	cfg_write(1, 0, 0x60, 1, 0x0B);
	assert_int_equal(cfg_read(1, 0, 0x60, 1), 0x0B);
	/* undefined registers read 0 and stay 0 */
	cfg_write(1, 1, 0x80, 4, 0xFFFFFFFFu);
	assert_int_equal(cfg_read(1, 1, 0x80, 4), 0);
}

static void test_slots(void **state)
{
	(void)state;
	struct pci_function extra;
	pci_function_init(&extra, 0x1234, 0x5678, 0xFF0000, 1, 0);
	assert_int_equal(pci_add_function(&f.host, 1, 1, &extra), -1);   /* taken */
	assert_int_equal(pci_add_function(&f.host, 32, 0, &extra), -1);
	assert_int_equal(pci_add_function(&f.host, 3, 8, &extra), -1);
	assert_int_equal(pci_add_function(&f.host, 3, 0, &extra), 0);
	assert_int_equal(cfg_read(3, 0, 0, 4), 0x56781234u);
	assert_int_equal(cfg_read(3, 0, 8, 4), 0xFF000001u);
	struct pci_host h2;
	pci_host_init(&h2);
	assert_int_equal(pci_host_register(&h2, &f.bus), -1);             /* ports taken */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_address, setup),
		cmocka_unit_test_setup(test_identities, setup),
		cmocka_unit_test_setup(test_sub_dword_offsets, setup),
		cmocka_unit_test_setup(test_absent, setup),
		cmocka_unit_test_setup(test_read_only_fields, setup),
		cmocka_unit_test_setup(test_command_and_status, setup),
		cmocka_unit_test_setup(test_bar4_sizing, setup),
		cmocka_unit_test_setup(test_piix_registers, setup),
		cmocka_unit_test_setup(test_slots, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
