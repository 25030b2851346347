/* btvm: command-line entry.  `btvm run` builds a VM (memory, platform,
 * loaded kernel, backend) and runs it; `btvm probe` reports what the
 * host allows (monitor/host_probe.c) and what its KVM can run.  Every error is one line on stderr, "btvm: ...". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "loader/bios_data.h"
#include "monitor/crash_report.h"
#include "monitor/display.h"
#include "monitor/host_probe.h"
#include "monitor/host_tsc.h"
#include "monitor/kvm_probe.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("btvm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

/* `btvm probe` (or --accel bt): the host capability table, or with
 * --needs a list of them, one line and 0 (all present) or 4 (one is
 * missing: the line says which and why). */
static int cmd_probe_host(struct vm_config *cfg)
{
	if (!cfg->probe_needs) {
		host_probe_print(stdout);
		return 0;
	}
	unsigned needs;
	const char *bad = NULL;
	if (host_cap_parse(cfg->probe_needs, &needs, &bad) < 0)
		return fail(BTVM_EXIT_USAGE, "--needs: '%s' is not a host capability (compat-mode, i386-syscall, "
			    "sysenter, fsgsbase, cpuid-faulting, kvm)", bad);
	for (unsigned i = 0; i < HOST_CAP_COUNT; i++)
		if ((needs & (1u << i)) && !host_has(i)) {
			printf("host: no %s: %s\n", host_cap_name(i), host_cap_why(i));
			return 4;
		}
	printf("host: has %s\n", cfg->probe_needs);
	return 0;
}

static int cmd_probe(struct vm_config *cfg)
{
	if (cfg->accel != ACCEL_KVM)
		return cmd_probe_host(cfg);
	unsigned needs = KVM_CAN_ALL;
	if (cfg->probe_needs && kvm_probe_parse_needs(cfg->probe_needs, &needs) < 0)
		return fail(BTVM_EXIT_USAGE, "--needs: '%s' is not a list of iret, paging, tsc (or none)", cfg->probe_needs);
	const char *line;
	enum kvm_probe_result r = kvm_probe_for(needs, &line);
	puts(line);
	return (int)r;
}

/* The IDE drives' images (--disk, --cdrom, --drive), before the guest
 * runs: a bad one is one line and status 2, and no file is changed. */
static int open_drives(const struct vm_config *cfg, struct disk_image *img, char *err, size_t errlen)
{
	struct stat st[BTVM_IDE_DRIVES];
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++) {
		const struct drive_config *d = &cfg->drives[i];
		if (!d->present || !d->path)
			continue;
		struct disk_image_opts o = { d->read_only, d->cdrom ? CD_BLOCK_SIZE : DISK_SECTOR_SIZE,
					     d->label, d->ro_hint };
		if (disk_image_open_opts(&img[i], d->path, &o, err, errlen) < 0) {
			/* the lock refused it: say when the holder is another of
			 * our own drives rather than another process */
			struct stat me;
			for (unsigned j = 0; j < i && stat(d->path, &me) == 0; j++)
				if (img[j].fd >= 0 && st[j].st_dev == me.st_dev && st[j].st_ino == me.st_ino) {
					snprintf(err, errlen, "%s %s: is also %s's image (a writable image backs one drive only)",
						 d->label, d->path, cfg->drives[j].label);
					break;
				}
			return -1;
		}
		if (fstat(img[i].fd, &st[i]) < 0)
			st[i].st_ino = 0;
	}
	return 0;
}

/* What the guest wrote goes to the files (fdatasync) before btvm exits. */
static void close_drives(const struct vm_config *cfg, struct disk_image *img)
{
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++) {
		if (img[i].fd >= 0 && disk_image_flush(&img[i]) < 0)
			fprintf(stderr, "btvm: %s %s: writing the image back failed\n", cfg->drives[i].label,
				cfg->drives[i].path);
		disk_image_close(&img[i]);
	}
}

static int cmd_run(struct vm_config *cfg)
{
	char err[512];
	static struct vm vm; /* large; one per process */
	/* The TSC calibration's first sample: loading the guest counts
	 * towards its interval (host_tsc.h). */
	host_tsc_start();
	vm.cfg = cfg;
	vm.serial_fd = -1;
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++)
		vm.drive_img[i].fd = -1;
	vm.timeout_deadline = VTIME_NEVER;
	host_probe_early();  /* before the guest windows take the low 4 GiB */
	crash_report_install();
	vm.backend = cfg->accel == ACCEL_BT ? &bt_backend : &kvm_backend;
	if (guest_mem_create(&vm.mem, cfg->mem_bytes, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	e820_build(&vm.e820, cfg->mem_bytes);
	bios_data_write(&vm.mem.phys, &vm.e820);   /* before the kernel, which may overwrite it */

	struct boot_state bs;
	if (loader_load(&cfg->load, &vm.mem.phys, &vm.e820, &bs, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_USAGE, "%s", err);
	if (open_drives(cfg, vm.drive_img, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_USAGE, "%s", err);
	if (platform_create(&vm, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	/* Before the backend: bt turns CPUID faulting on for btvm itself. */
	vm.cpu_model = (struct cpu_model){
		.apic = vm.has_apic,
		.tsc_hz = host_tsc_hz(NULL),
		.invariant_tsc = host_tsc_invariant(),
		.tsc_adjust = true,  /* bt implements it; the KVM backend checks KVM does */
	};
	if (vm.backend->create(&vm, &bs, err, sizeof(err)) < 0) {
		vm.backend->destroy(&vm);
		return fail(BTVM_EXIT_HOST_LIMIT, "%s", err);
	}
	if (kick_setup(&vm, err, sizeof(err)) < 0 || console_setup(&vm, err, sizeof(err)) < 0) {
		vm.backend->destroy(&vm);
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	}
	/* --display: the file opened, or the terminal taken, before the sandbox */
	if (display_setup(&vm, err, sizeof(err)) < 0) {
		vm.backend->destroy(&vm);
		console_restore();
		return fail(BTVM_EXIT_USAGE, "%s", err);
	}
	if (cfg->timeout_sec > 0)
		vm.timeout_deadline = host_monotonic_ns() + (uint64_t)(cfg->timeout_sec * 1e9);
	/* Everything is set up (memory, files, devices, backend, threads,
	 * host timer): from here on only the run phase's system calls. */
	crash_report_prepare();
	if (!cfg->no_sandbox && sandbox_enter(&vm, err, sizeof(err)) < 0) {
		display_tty_restore();
		console_restore();
		return fail(BTVM_EXIT_HOST_LIMIT, "%s", err);
	}

	int status = vm_run(&vm);
	display_finish(&vm);
	console_restore();
	if (vm.stop_reason[0])
		fprintf(stderr, "btvm: %s\n", vm.stop_reason);
	if (cfg->stats)
		stats_print(&vm, stderr);
	vm.backend->destroy(&vm);
	guest_mem_destroy(&vm.mem);
	close_drives(cfg, vm.drive_img);
	return status;
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	enum cli_command cmd;
	char err[512];
	if (cli_parse(argc, argv, &cmd, &cfg, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_USAGE, "%s", err);
	if (host_mask_error())
		return fail(BTVM_EXIT_USAGE, "%s: '%s' is not a host capability (compat-mode, i386-syscall, "
			    "sysenter, fsgsbase, cpuid-faulting, kvm, or all)", HOST_MASK_ENV, host_mask_error());
	switch (cmd) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("btvm %s\n", BTVM_VERSION);
		return 0;
	case CLI_PROBE:
		return cmd_probe(&cfg);
	case CLI_RUN:
		return cmd_run(&cfg);
	}
	return BTVM_EXIT_INTERNAL;
}
