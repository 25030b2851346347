/* The fw_cfg items of btvm's PC (monitor/fw_cfg_pc.c), read through the
 * port bus as a guest reads them: each fixed item, the files and their
 * contents, the ACPI files only with the APIC, and DMA writes reported to
 * the backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loader/smbios.h"
#include "monitor/vm.h"

#define RAM (2u << 20)    /* what is backed; the VM says 128 MiB */

static struct vm vm;
static struct vm_config cfg;
static uint64_t written_pa, written_len;
static unsigned written_calls;

static void phys_written(struct vm *v, uint64_t pa, uint64_t len)
{
	assert_ptr_equal(v, &vm);
	written_pa = pa, written_len = len;
	written_calls++;
}
static const struct cpu_backend fake_backend = { .name = "fake", .phys_written = phys_written };

static int setup_vm(bool apic)
{
	memset(&vm, 0, sizeof(vm));
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_bytes = 128ull << 20;
	cfg.load.flat = true;     /* no Linux kernel items */
	vm.cfg = &cfg;
	vm.has_apic = apic;
	vm.mem.phys = (struct phys_mem){ calloc(1, RAM), RAM };
	if (!vm.mem.phys.base)
		return -1;
	e820_build(&vm.e820, cfg.mem_bytes);
	io_bus_init(&vm.pio, "pio");
	vm.backend = &fake_backend;
	vm.backend_state = &vm;
	char err[256];
	if (fw_cfg_pc_setup(&vm, err, sizeof(err)) < 0)
		fail_msg("fw_cfg_pc_setup: %s", err);
	written_calls = 0;
	return 0;
}
static int setup_apic(void **state) { (void)state; return setup_vm(true); }
static int setup_no_apic(void **state) { (void)state; return setup_vm(false); }
static int teardown(void **state)
{
	(void)state;
	fw_cfg_destroy(&vm.fw_cfg);
	free(vm.mem.phys.base);
	return 0;
}

static void sel(uint16_t key)
{
	uint8_t d[2] = { (uint8_t)key, (uint8_t)(key >> 8) };
	assert_true(io_bus_access(&vm.pio, 0x510, d, 2, true));
}
static uint8_t rd(void)
{
	uint8_t d;
	assert_true(io_bus_access(&vm.pio, 0x511, &d, 1, false));
	return d;
}
static uint64_t rd_le(unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)rd() << (8 * i);
	return v;
}
static uint32_t rd_be32(void)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | rd();
	return v;
}

struct file { uint32_t size; uint16_t key; char name[57]; };
static unsigned read_dir(struct file *f, unsigned max)
{
	sel(FW_CFG_FILE_DIR);
	unsigned n = rd_be32();
	assert_true(n <= max);
	for (unsigned i = 0; i < n; i++) {
		f[i].size = rd_be32();
		f[i].key = (uint16_t)(rd() << 8);
		f[i].key |= rd();
		rd(), rd();
		for (int k = 0; k < 56; k++)
			f[i].name[k] = (char)rd();
		f[i].name[56] = '\0';
	}
	return n;
}
static const struct file *find(const struct file *f, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static void test_fixed_items(void **state)
{
	(void)state;
	sel(FW_CFG_SIGNATURE);
	assert_int_equal(rd_le(4), 0x554D4551);            /* "QEMU" */
	sel(FW_CFG_ID);
	assert_int_equal(rd_le(4), 3);
	sel(FW_CFG_NB_CPUS);
	assert_int_equal(rd_le(2), 1);
	assert_int_equal(rd(), 0);                          /* an i16, as QEMU's */
	sel(FW_CFG_MAX_CPUS);
	assert_int_equal(rd_le(2), 1);
	sel(FW_CFG_RAM_SIZE);
	assert_int_equal(rd_le(8), 128ull << 20);
	sel(FW_CFG_UUID);
	assert_int_equal(rd_le(8) | rd_le(8), 0);
	sel(FW_CFG_BOOT_MENU);
	assert_int_equal(rd_le(2), 0);
	sel(FW_CFG_NUMA);
	assert_int_equal(rd_le(8) | rd_le(8), 0);
	sel(FW_CFG_IRQ0_OVERRIDE);
	assert_int_equal(rd_le(4), 1);
	/* no kernel items for a non-Linux kernel (QEMU's are multiboot's own) */
	static const uint16_t none[] = { FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, FW_CFG_CMDLINE_SIZE,
					 FW_CFG_SETUP_SIZE, FW_CFG_INITRD_SIZE, FW_CFG_NOGRAPHIC, FW_CFG_HPET };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		sel(none[i]);
		assert_int_equal(rd_le(4), 0);
	}
}

static void test_files(void **state)
{
	(void)state;
	struct file f[FW_CFG_FILE_SLOTS];
	unsigned n = read_dir(f, FW_CFG_FILE_SLOTS);
	static const char *const names[] = {
		"bootorder", "etc/acpi/rsdp", "etc/acpi/tables", "etc/boot-fail-wait", "etc/e820",
		"etc/smbios/smbios-anchor", "etc/smbios/smbios-tables", "etc/table-loader",
	};
	assert_int_equal(n, sizeof(names) / sizeof(names[0]));
	for (unsigned i = 0; i < n; i++) {
		assert_string_equal(f[i].name, names[i]);       /* sorted */
		assert_int_equal(f[i].key, FW_CFG_FILE_FIRST + i);
	}
	assert_int_equal(find(f, n, "bootorder")->size, 0);
	sel(find(f, n, "etc/boot-fail-wait")->key);
	assert_int_equal(rd_le(4), 0xFFFFFFFF);
	/* etc/e820: the VM's map, 20-byte little-endian entries */
	const struct file *e = find(f, n, "etc/e820");
	assert_int_equal(e->size, 20 * vm.e820.n);
	sel(e->key);
	for (unsigned i = 0; i < vm.e820.n; i++) {
		assert_int_equal(rd_le(8), vm.e820.e[i].addr);
		assert_int_equal(rd_le(8), vm.e820.e[i].size);
		assert_int_equal(rd_le(4), vm.e820.e[i].type);
	}
	/* SMBIOS: the same bytes as in the F segment */
	const struct file *a = find(f, n, "etc/smbios/smbios-anchor");
	assert_int_equal(a->size, SMBIOS_ANCHOR_LEN);
	sel(a->key);
	for (unsigned i = 0; i < SMBIOS_ANCHOR_LEN; i++)
		assert_int_equal(rd(), vm.mem.phys.base[SMBIOS_ANCHOR_ADDR + i]);
	const struct file *t = find(f, n, "etc/smbios/smbios-tables");
	sel(t->key);
	for (unsigned i = 0; i < t->size; i++)
		assert_int_equal(rd(), vm.mem.phys.base[SMBIOS_TABLES_ADDR + i]);
	/* ACPI: the RSDP and the loader script's size */
	sel(find(f, n, "etc/acpi/rsdp")->key);
	assert_int_equal(rd_le(8), 0x2052545020445352ull);  /* "RSD PTR " */
	assert_int_equal(find(f, n, "etc/table-loader")->size % 128, 0);
}

static void test_no_apic_no_acpi_files(void **state)
{
	(void)state;
	struct file f[FW_CFG_FILE_SLOTS];
	unsigned n = read_dir(f, FW_CFG_FILE_SLOTS);
	assert_int_equal(n, 5);
	assert_null(find(f, n, "etc/acpi/rsdp"));
	assert_null(find(f, n, "etc/acpi/tables"));
	assert_null(find(f, n, "etc/table-loader"));
	assert_non_null(find(f, n, "etc/smbios/smbios-anchor"));
}

static void test_dma_tells_the_backend(void **state)
{
	(void)state;
	uint8_t *m = vm.mem.phys.base;
	/* FWCfgDmaAccess at 0x1000: select the signature, read 4 bytes to 0x2000 */
	static const uint8_t acc[16] = { 0x00, 0x00, 0x00, 0x0A, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x20, 0x00 };
	memcpy(m + 0x1000, acc, sizeof(acc));
	uint8_t addr[4] = { 0x00, 0x00, 0x10, 0x00 };      /* big-endian 0x1000 */
	assert_true(io_bus_access(&vm.pio, 0x518, addr, 4, true));
	assert_memory_equal(m + 0x2000, "QEMU", 4);
	assert_memory_equal(m + 0x1000, "\0\0\0\0", 4);    /* control: done */
	assert_int_equal(written_calls, 2);                 /* the buffer, then the control word */
	assert_int_equal(written_pa, 0x1000);
	assert_int_equal(written_len, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_items, setup_apic, teardown),
		cmocka_unit_test_setup_teardown(test_files, setup_apic, teardown),
		cmocka_unit_test_setup_teardown(test_no_apic_no_acpi_files, setup_no_apic, teardown),
		cmocka_unit_test_setup_teardown(test_dma_tells_the_backend, setup_apic, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
