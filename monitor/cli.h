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

/* The four IDE positions: index 0-3 = primary master, primary slave,
 * secondary master, secondary slave (QEMU's if=ide numbering). */
#define BTVM_IDE_DRIVES 4
struct drive_config {
	bool present;
	bool cdrom;                     /* an ATAPI CD-ROM, else an ATA disk */
	bool read_only;                 /* always for a CD */
	const char *path;               /* NULL: a CD drive without a medium */
	char label[24];                 /* how error lines name it: "--disk", "--drive index=1" */
	const char *ro_hint;            /* what asks for read-only access: "--disk-ro", "readonly=on" */
};
enum serial_kind { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE };
enum display_kind { DISPLAY_NONE, DISPLAY_CURSES, DISPLAY_FILE };

struct vm_config {
	enum accel_kind accel;
	bool accel_given;
	uint64_t mem_bytes;
	struct load_request load;       /* kernel, cmdline, modules, initrd, flat */
	/* --disk, --disk-ro (index 0), --cdrom (index 2), --drive (monitor/cli_drive.c) */
	struct drive_config drives[BTVM_IDE_DRIVES];
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

/* monitor/cli_drive.c.  --drive SPEC (QEMU's -drive spelling; SPEC is
 * modified in place: ",," in a value becomes ","), --disk/--disk-ro FILE,
 * --cdrom FILE.  0, or -1 with one line in err (a bad key or value, or a
 * position already taken). */
int cli_drive_option(struct vm_config *cfg, char *spec, char *err, size_t errlen);
int cli_disk_option(struct vm_config *cfg, const char *file, bool read_only, char *err, size_t errlen);
int cli_cdrom_option(struct vm_config *cfg, const char *file, char *err, size_t errlen);
/* "primary master", ... for index 0-3. */
const char *cli_drive_position(unsigned index);
#endif
