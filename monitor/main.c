/* btvm: command-line entry.  `btvm run` builds a VM (memory, platform,
 * loaded kernel, backend) and runs it; `btvm probe` reports what the
 * host allows (monitor/host_probe.c) and what its KVM can run.  Every error is one line on stderr, "btvm: ...". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/crash_report.h"
#include "monitor/host_probe.h"
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
		return fail(BTVM_EXIT_USAGE, "--needs: '%s' is not a list of iret, paging (or none)", cfg->probe_needs);
	const char *line;
	enum kvm_probe_result r = kvm_probe_for(needs, &line);
	puts(line);
	return (int)r;
}

static int cmd_run(struct vm_config *cfg)
{
	char err[512];
	static struct vm vm; /* large; one per process */
	vm.cfg = cfg;
	vm.serial_fd = -1;
	vm.disk.fd = -1;
	vm.timeout_deadline = VTIME_NEVER;
	host_probe_early();  /* before the guest windows take the low 4 GiB */
	crash_report_install();
	vm.backend = cfg->accel == ACCEL_BT ? &bt_backend : &kvm_backend;
	if (guest_mem_create(&vm.mem, cfg->mem_bytes, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	e820_build(&vm.e820, cfg->mem_bytes);

	struct boot_state bs;
	if (loader_load(&cfg->load, &vm.mem.phys, &vm.e820, &bs, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_USAGE, "%s", err);
	if (cfg->disk_path && disk_image_open(&vm.disk, cfg->disk_path, cfg->disk_read_only,
					      err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_USAGE, "%s", err);
	if (platform_create(&vm, err, sizeof(err)) < 0)
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	if (vm.backend->create(&vm, &bs, err, sizeof(err)) < 0) {
		vm.backend->destroy(&vm);
		return fail(BTVM_EXIT_HOST_LIMIT, "%s", err);
	}
	if (kick_setup(&vm, err, sizeof(err)) < 0 || console_setup(&vm, err, sizeof(err)) < 0) {
		vm.backend->destroy(&vm);
		return fail(BTVM_EXIT_INTERNAL, "%s", err);
	}
	if (cfg->timeout_sec > 0)
		vm.timeout_deadline = host_monotonic_ns() + (uint64_t)(cfg->timeout_sec * 1e9);
	/* Everything is set up (memory, files, devices, backend, threads,
	 * host timer): from here on only the run phase's system calls. */
	crash_report_prepare();
	if (!cfg->no_sandbox && sandbox_enter(&vm, err, sizeof(err)) < 0) {
		console_restore();
		return fail(BTVM_EXIT_HOST_LIMIT, "%s", err);
	}

	int status = vm_run(&vm);
	console_restore();
	if (vm.stop_reason[0])
		fprintf(stderr, "btvm: %s\n", vm.stop_reason);
	if (cfg->stats)
		stats_print(&vm, stderr);
	vm.backend->destroy(&vm);
	guest_mem_destroy(&vm.mem);
	if (vm.disk.fd >= 0 && disk_image_flush(&vm.disk) < 0)
		fprintf(stderr, "btvm: --disk %s: writing the image back failed\n", cfg->disk_path);
	disk_image_close(&vm.disk);
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
