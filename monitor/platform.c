/* The PC platform: creates the devices, puts them on the buses and wires
 * their interrupt lines to the PIC.  Port map (docs/design.md):
 *   0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1  8259 PIC pair + ELCR
 *   0x40-0x43  8254 PIT          0x61  system control port B
 *   0x60, 0x64 i8042             0x70-0x71  RTC/CMOS
 *   0x80       POST port         0xF4-0xF7  isa-debug-exit
 *   0x3F8-0x3FF COM1 (IRQ4)      0x600-0x60B ACPI PM1a/PM timer
 *   0xCF8, 0xCFC PCI configuration mechanism #1 (bus 0: i440FX, PIIX3 ISA
 *              and IDE functions)
 *   0x1F0-0x1F7, 0x3F6  primary IDE channel (IRQ14): --disk, --drive index=0/1
 *   0x170-0x177, 0x376  secondary IDE channel (IRQ15): --cdrom, --drive index=2/3
 *   0x3B4-0x3B5, 0x3BA, 0x3C0-0x3CF, 0x3D4-0x3D5, 0x3DA  VGA (text buffer
 *              at 0xB8000 is RAM; devices/vga.h)
 *   0x510-0x511, 0x514-0x51B  QEMU's fw_cfg (monitor/fw_cfg_pc.c)
 * MMIO (unless --no-apic): IOAPIC 0xFEC00000, local APIC 0xFEE00000.
 *
 * Interrupt routing (unless --no-apic): every ISA IRQ line goes to the
 * 8259 pair and to the IOAPIC pin of the same number, except IRQ0 which
 * goes to pin 2 (the interrupt source override the MP and ACPI tables
 * describe; pin 0 is not connected).  The 8259's INTR drives LINT0 of the
 * local APIC, which is the CPU's only interrupt input; the IOAPIC sends
 * its messages to the local APIC, which returns level EOIs to it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "devices/port80.h"
#include "loader/acpi_tables.h"
#include "loader/mptable.h"
#include "monitor/vm.h"

void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
{
	if (vm->stop)
		return; /* the first reason wins */
	vm->stop = true;
	vm->exit_status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
}

static void on_debug_exit(void *opaque, int status)
{
	vm_request_stop(opaque, status, "%s", "");
}

static void on_reset_request(void *opaque)
{
	/* A reset asked for through the i8042 is how PC guests reboot: end
	 * the run cleanly (reboot/power-off end btvm with status 0). */
	vm_request_stop(opaque, BTVM_EXIT_OK, "guest requested a system reset through the i8042");
}

static void serial_tx(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;
	if (vm->serial_fd < 0)
		return;
	/* COM1 output is written at once: the guest's view of a 115200-baud
	 * line is not worth buffering bugs; the cost is one write() per byte,
	 * next to a VM exit per byte anyway. */
	for (;;) {
		ssize_t n = write(vm->serial_fd, &byte, 1);
		if (n == 1 || (n < 0 && errno != EINTR))
			return;
	}
}

static void on_acpi_poweroff(void *opaque)
{
	vm_request_stop(opaque, BTVM_EXIT_OK, "guest powered off (ACPI S5)");
}

/* An ISA IRQ line: to the 8259 and, with an APIC, to the IOAPIC.  IRQ2
 * is the 8259 cascade and has no IOAPIC pin of its own. */
static void isa_irq_set(void *opaque, int irq, int level)
{
	struct vm *vm = opaque;
	pic_set_irq(&vm->pic, irq, level);

	if (vm->has_apic && irq != 2)
		ioapic_set_irq(&vm->ioapic, irq == 0 ? 2 : irq, level);
}

#define IRQ(n) ((struct irq_line){ isa_irq_set, vm, (n) })

static void pic_intr_to_lint0(void *opaque, bool level)
{
	lapic_set_lint(opaque, 0, level);
}

static bool pic_pending_cb(void *opaque) { return pic_intr_pending(opaque); }
static int pic_ack_cb(void *opaque) { return pic_ack(opaque); }

static bool ioapic_to_lapic(void *opaque, uint8_t vector, unsigned mode, bool logical, uint8_t dest,
			    bool level)
{
	return lapic_deliver(opaque, vector, mode, logical, dest, level);
}

static void lapic_eoi_to_ioapic(void *opaque, int vector)
{
	ioapic_eoi(opaque, vector);
}

int vm_apic_base_read(struct vm *vm, uint64_t *value)
{
	if (!vm->has_apic)
		return -1;
	*value = lapic_msr_read(&vm->lapic);
	return 0;
}

int vm_apic_base_write(struct vm *vm, uint64_t value)
{
	if (!vm->has_apic)
		return -1;
	char why[256];
	switch (lapic_msr_write(&vm->lapic, value, why, sizeof(why))) {
	case LAPIC_MSR_OK:
		return 0;
	case LAPIC_MSR_GP:
		return -1;
	case LAPIC_MSR_UNSUPPORTED:
		vm_request_stop(vm, BTVM_EXIT_HOST_LIMIT, "%s", why);
		return 0;
	}
	return -1;
}

/* The local APIC, IOAPIC, ACPI PM block and the MP/ACPI tables. */
static int apic_create(struct vm *vm, char *err, size_t errlen)
{
	lapic_init(&vm->lapic, &vm->tq,
		   (struct lapic_extint){ pic_pending_cb, pic_ack_cb, &vm->pic },
		   lapic_eoi_to_ioapic, &vm->ioapic);
	ioapic_init(&vm->ioapic, ioapic_to_lapic, &vm->lapic);
	acpi_pm_init(&vm->acpi_pm, &vm->tq, IRQ(ACPI_SCI_IRQ), on_acpi_poweroff, vm);
	if (lapic_register(&vm->lapic, &vm->mmio) || ioapic_register(&vm->ioapic, &vm->mmio) ||
	    acpi_pm_register(&vm->acpi_pm, &vm->pio)) {
		snprintf(err, errlen, "internal error: overlapping APIC or ACPI device ranges");
		return -1;
	}
	if (mptable_write(&vm->mem.phys, err, errlen) < 0 || acpi_tables_write(&vm->mem.phys, err, errlen) < 0)
		return -1;
	return 0;
}

/* The two IDE channels and the drives of --disk, --cdrom and --drive
 * (index = 2 * channel + unit). */
static void ide_create(struct vm *vm)
{
	ata_init(&vm->ata[0], IRQ(ATA_PRIMARY_IRQ), 0);
	ata_init(&vm->ata[1], IRQ(ATA_SECONDARY_IRQ), 1);
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++) {
		const struct drive_config *d = &vm->cfg->drives[i];
		if (d->present)
			ata_attach(&vm->ata[i / 2], i % 2, d->cdrom ? ATA_CDROM : ATA_DISK,
				   vm->drive_img[i].fd >= 0 ? &vm->drive_img[i] : NULL);
	}
}

int platform_create(struct vm *vm, char *err, size_t errlen)
{
	io_bus_init(&vm->pio, "port I/O");
	io_bus_init(&vm->mmio, "MMIO");
	timerq_init(&vm->tq, NULL, NULL);
	vm->has_apic = !vm->cfg->no_apic;

	pic_init(&vm->pic, vm->has_apic ? pic_intr_to_lint0 : NULL, &vm->lapic);
	pit_init(&vm->pit, &vm->tq, IRQ(0));
	port61_init(&vm->port61, &vm->pit);
	rtc_init(&vm->rtc, &vm->tq, IRQ(8), NULL, NULL);
	rtc_set_mem_size(&vm->rtc, vm->cfg->mem_bytes);
	uart_init(&vm->com1, IRQ(4), serial_tx, vm);
	uart_set_out2_gate(&vm->com1, vm->cfg->serial_out2_gate);
	i8042_init(&vm->kbc, IRQ(1), IRQ(12), on_reset_request, vm);
	debug_exit_init(&vm->dbg_exit, on_debug_exit, vm);
	pci_host_init(&vm->pci);
	pci_piix_init(&vm->piix);
	ide_create(vm);
	vga_init(&vm->vga);
	vga_text_clear(&vm->mem.phys); /* the BIOS's blank mode 3 screen (RAM is >= 2 MiB) */

	int rc = 0;
	rc |= pic_register(&vm->pic, &vm->pio);
	rc |= pit_register(&vm->pit, &vm->pio);
	rc |= port61_register(&vm->port61, &vm->pio);
	rc |= rtc_register(&vm->rtc, &vm->pio);
	rc |= uart_register(&vm->com1, &vm->pio, 0x3f8);
	rc |= i8042_register(&vm->kbc, &vm->pio);
	rc |= debug_exit_register(&vm->dbg_exit, &vm->pio, 0xf4, 4);
	rc |= port80_register(&vm->pio);
	rc |= pci_host_register(&vm->pci, &vm->pio);
	rc |= pci_piix_attach(&vm->piix, &vm->pci);
	rc |= ata_register(&vm->ata[0], &vm->pio, ATA_PRIMARY_CMD, ATA_PRIMARY_CTL);
	rc |= ata_register(&vm->ata[1], &vm->pio, ATA_SECONDARY_CMD, ATA_SECONDARY_CTL);
	rc |= vga_register(&vm->vga, &vm->pio);
	if (rc) {
		snprintf(err, errlen, "internal error: overlapping device port ranges");
		return -1;
	}
	if (vm->has_apic && apic_create(vm, err, errlen) < 0)
		return -1;
	return fw_cfg_pc_setup(vm, err, errlen);
}
