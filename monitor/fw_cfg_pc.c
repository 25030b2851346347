/* QEMU's fw_cfg on btvm's PC, with the items QEMU's pc machine gives
 * (QEMU 7.2: hw/nvram/fw_cfg.c fw_cfg_common_realize, hw/i386/fw_cfg.c
 * fw_cfg_arch_create, x86_load_linux), for the PC btvm builds:
 *   FW_CFG_SIGNATURE "QEMU", FW_CFG_ID 3 (traditional + DMA)
 *   FW_CFG_UUID 16 zero bytes           FW_CFG_BOOT_MENU 0 (i16)
 *   FW_CFG_NB_CPUS 1, FW_CFG_MAX_CPUS 1 (i16: one CPU, APIC ID limit 1)
 *   FW_CFG_RAM_SIZE --mem (i64)         FW_CFG_NUMA: no nodes (2 x i64 0)
 *   FW_CFG_IRQ0_OVERRIDE 1 (0x8002, i32: the PIT is on IOAPIC pin 2)
 *   files: bootorder (empty: nothing to boot from), etc/boot-fail-wait
 *   (-1, i32), etc/e820 (btvm's map, 20-byte little-endian {address,
 *   length, type} entries), etc/smbios/smbios-anchor and -tables
 *   (loader/smbios.h), and with the APIC etc/acpi/rsdp, etc/acpi/tables
 *   and etc/table-loader (loader/acpi_tables.h)
 *   for a Linux kernel: SETUP_*, KERNEL_*, CMDLINE_*, INITRD_*
 *   (loader/linux_fw_cfg.c).
 * Differences from QEMU, each because btvm has no firmware in between:
 * etc/e820 is the map the guest gets (QEMU gives its firmware one RAM
 * range from 0 and the firmware carves out the EBDA and the BIOS area);
 * the SMBIOS anchor holds the tables' address (QEMU: 0) and type 0 is
 * there (QEMU: added by its firmware); files QEMU has for its firmware
 * and devices btvm lacks are not (bios-geometry, etc/system-states,
 * etc/tpm/log, genroms/..., FW_CFG_NOGRAPHIC and FW_CFG_HPET).  A multiboot
 * kernel gets none of the multiboot items QEMU's option ROM reads.
 * The SMBIOS tables are also written to the F segment here, once. */
#include <stdio.h>
#include <string.h>
#include "loader/acpi_linker.h"
#include "loader/acpi_tables.h"
#include "loader/linux.h"
#include "loader/smbios.h"
#include "monitor/vm.h"

/* DMA wrote guest RAM: bt must drop translations made from it. */
static void dma_written(void *opaque, uint64_t pa, uint64_t len)
{
	struct vm *vm = opaque;
	if (vm->backend && vm->backend->phys_written && vm->backend_state)
		vm->backend->phys_written(vm, pa, len);
}

static int add_tables(struct vm *vm, struct fw_cfg *c, char *err, size_t errlen)
{
	static struct smbios_image smbios;   /* one VM per process */
	smbios_build(&smbios, vm->cfg->mem_bytes, &vm->e820);
	if (smbios_write(&vm->mem.phys, &smbios, err, errlen) < 0)
		return -1;
	int rc = 0;
	rc |= fw_cfg_add_file(c, SMBIOS_FW_CFG_ANCHOR, smbios.anchor, SMBIOS_ANCHOR_LEN);
	rc |= fw_cfg_add_file(c, SMBIOS_FW_CFG_TABLES, smbios.tables, (uint32_t)smbios.tables_len);
	if (vm->has_apic) {
		static struct acpi_image acpi;
		static struct acpi_linker linker;
		acpi_linker_init(&linker);
		acpi_tables_build(&acpi, 0, &linker);
		rc |= linker.overflow ? -1 : 0;
		rc |= fw_cfg_add_file(c, ACPI_FW_CFG_RSDP, acpi.rsdp, ACPI_RSDP_LEN);
		rc |= fw_cfg_add_file(c, ACPI_FW_CFG_TABLES, acpi.tables, (uint32_t)acpi.tables_len);
		rc |= fw_cfg_add_file(c, ACPI_FW_CFG_LOADER, linker.buf, (uint32_t)acpi_linker_len(&linker));
	}
	if (rc)
		snprintf(err, errlen, "internal error: fw_cfg table files");
	return rc ? -1 : 0;
}

int fw_cfg_pc_setup(struct vm *vm, char *err, size_t errlen)
{
	struct fw_cfg *c = &vm->fw_cfg;
	fw_cfg_init(c, &vm->mem.phys, dma_written, vm);

	static const uint8_t zeros[16];
	int rc = 0;
	rc |= fw_cfg_add_bytes(c, FW_CFG_UUID, zeros, 16);
	rc |= fw_cfg_add_i16(c, FW_CFG_BOOT_MENU, 0);
	rc |= fw_cfg_add_i16(c, FW_CFG_NB_CPUS, 1);
	rc |= fw_cfg_add_i16(c, FW_CFG_MAX_CPUS, 1);
	rc |= fw_cfg_add_i64(c, FW_CFG_RAM_SIZE, vm->cfg->mem_bytes);
	rc |= fw_cfg_add_bytes(c, FW_CFG_NUMA, zeros, 16);   /* 0 nodes, CPU 0 in node 0 */
	rc |= fw_cfg_add_i32(c, FW_CFG_IRQ0_OVERRIDE, 1);

	static const uint8_t fail_wait[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
	rc |= fw_cfg_add_file(c, "etc/boot-fail-wait", fail_wait, 4);
	rc |= fw_cfg_add_file(c, "bootorder", "", 0);
	uint8_t e820[E820_MAX * 20] = { 0 };
	for (unsigned i = 0; i < vm->e820.n; i++) {
		uint8_t *e = e820 + 20 * i;
		for (int b = 0; b < 8; b++) {
			e[b] = (uint8_t)(vm->e820.e[i].addr >> (8 * b));
			e[8 + b] = (uint8_t)(vm->e820.e[i].size >> (8 * b));
		}
		for (int b = 0; b < 4; b++)
			e[16 + b] = (uint8_t)(vm->e820.e[i].type >> (8 * b));
	}
	rc |= fw_cfg_add_file(c, "etc/e820", e820, 20 * vm->e820.n);
	if (rc) {
		snprintf(err, errlen, "internal error: fw_cfg items");
		return -1;
	}
	if (add_tables(vm, c, err, errlen) < 0 ||
	    linux_fw_cfg_items(&vm->cfg->load, &vm->mem.phys, c, err, errlen) < 0)
		return -1;
	if (fw_cfg_register(c, &vm->pio) < 0) {
		snprintf(err, errlen, "internal error: fw_cfg ports 0x510-0x51b taken");
		return -1;
	}
	return 0;
}
