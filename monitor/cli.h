/* Command-line parsing for `btvm run` and `btvm probe` (getopt_long).
 * Parsing only validates and records; nothing is opened here except what
 * must be checked to exist. */
#ifndef BTVM_MONITOR_CLI_H
#define BTVM_MONITOR_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "loader/loader.h"

enum accel_kind { ACCEL_BT, ACCEL_KVM };
enum serial_kind { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE };
enum display_kind { DISPLAY_NONE, DISPLAY_CURSES, DISPLAY_FILE };

struct vm_config {
	enum accel_kind accel;
	bool accel_given;
	uint64_t mem_bytes;
	struct load_request load;       /* kernel, cmdline, modules, initrd, flat */
	const char *disk_path;          /* --disk or --disk-ro */
	bool disk_read_only;
	enum serial_kind serial;
	const char *serial_path;
	enum display_kind display;      /* --display: the VGA text screen (monitor/display.c) */
	const char *display_path;       /* --display file:PATH */
	bool stats;
	bool no_apic;                   /* --no-apic: 8259 PIC only, no MP/ACPI tables */
	bool serial_out2_gate;          /* --serial-out2-gate: COM1's IRQ needs MCR.OUT2 (PC hardware) */
	double timeout_sec;             /* 0 = none */
	const char *probe_needs;        /* probe --needs LIST */
	enum user_exec {
		USER_EXEC_AUTO,             /* direct where the host can, else translated */
		USER_EXEC_BT,               /* --user-exec bt: guest CPL-3 code translated */
		USER_EXEC_DIRECT,           /* --user-exec direct: on the CPU (bt/direct.c), or an error */
	} user_exec;
	bool no_sandbox;                /* --no-sandbox: run without the seccomp allow-list */
	/* --sandbox-selftest=KIND[:PATH], repeatable, made in order (docs/security.md) */
	const char *sandbox_selftest[8];
	unsigned n_sandbox_selftest;
};

enum cli_command { CLI_RUN, CLI_PROBE, CLI_HELP, CLI_VERSION };

/* Returns 0 and fills cmd/cfg, or -1 with one line in err. */
int cli_parse(int argc, char **argv, enum cli_command *cmd, struct vm_config *cfg,
	      char *err, size_t errlen);
/* Parses "128M", "1G", "65536K", "4096" (bytes). -1 on junk or overflow. */
int cli_parse_size(const char *s, uint64_t *out);
void cli_usage(FILE *f);
#endif
