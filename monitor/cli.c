#include "monitor/cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader/e820.h"
#include "monitor/sandbox.h"

#define DEFAULT_MEM (128ull << 20)

void cli_usage(FILE *f)
{
	fputs(
"usage: btvm run [options] KERNEL     run a 32-bit x86 guest\n"
"       btvm probe [--needs CAP,...]  report what this host allows btvm (a table;\n"
"                                     with --needs: 0 when it has each CAP, else 4)\n"
"       btvm probe --accel kvm [--needs iret,paging,tsc]\n"
"                                     report what this host's KVM can run\n"
"       btvm --help | --version\n"
"\n"
"run options:\n"
"  --accel bt|kvm        execution backend (default bt; bt = binary translation,\n"
"                        kvm = hardware assistance through /dev/kvm)\n"
"  --mem SIZE            guest RAM, e.g. 128M, 1G (2M..3G; default 128M)\n"
"  --append STR          kernel command line\n"
"  --initrd FILE         initial ramdisk (a multiboot module for multiboot kernels)\n"
"  --module FILE[,ARGS]  multiboot module with its string (repeatable, at most 16)\n"
"  --flat[=ADDR]         load KERNEL as a raw binary at ADDR (default 0x100000)\n"
"  --disk FILE           raw disk image: the primary ATA master (IDE, PIO)\n"
"  --disk-ro FILE        the same, read-only: guest writes fail, the file is\n"
"                        opened read-only\n"
"  --cdrom FILE          raw CD image (ISO, 2048-byte blocks): an ATAPI CD-ROM,\n"
"                        the secondary master (as QEMU's -cdrom)\n"
"  --drive file=FILE,if=ide,index=N[,media=disk|cdrom][,readonly=on][,format=raw]\n"
"                        an IDE drive, QEMU's spelling (repeatable): index 0-3 =\n"
"                        primary master, primary slave, secondary master,\n"
"                        secondary slave (default: the first free); media=cdrom\n"
"                        without file= is an empty CD drive\n"
"  --serial stdio|none|file:PATH\n"
"                        where COM1 goes (default stdio; stdin feeds COM1 input\n"
"                        when it is a terminal, a pipe, a file or a socket)\n"
"  --display none|curses|file:PATH\n"
"                        the VGA text screen (default none): curses draws it on\n"
"                        this terminal (COM1 must then go elsewhere: --serial\n"
"                        none or file:PATH); file:PATH writes it as text to PATH\n"
"                        every second and when the guest stops\n"
"  --user-exec direct|bt how bt runs guest CPL-3 code (default direct: on the\n"
"                        CPU in a compatibility-mode segment, translating the\n"
"                        pages where that would not be exact; translated when\n"
"                        the host cannot, with a note; bt: always translated)\n"
"  --serial-out2-gate    COM1 interrupts reach the PIC only while the guest sets\n"
"                        OUT2 in the modem control register, as on PC hardware\n"
"                        (default: QEMU's rule, interrupts whatever OUT2 is)\n"
"  --stats               print exit, I/O and interrupt counters at the end\n"
"  --no-apic             a PC without local APIC and IOAPIC (8259 PIC only; no\n"
"                        MP or ACPI tables)\n"
"  --timeout SEC         stop the guest after SEC seconds (exit status 124)\n"
"  --no-sandbox          run without the host sandbox (the seccomp allow-list\n"
"                        that is on by default; see docs/security.md), for\n"
"                        debugging only\n"
"\n"
"exit status: the guest's isa-debug-exit status (v<<1)|1 when it writes v to\n"
"port 0xf4; 0 when it powers off or resets; 2 bad usage or input; 4 the guest\n"
"crashed (triple fault, halted for ever); 6 the host cannot run this guest;\n"
"8 internal error (if btvm itself faulted: a crash report on stderr); 10 the\n"
"sandbox stopped a host system call (or guest code run directly reached a host\n"
"code segment); 124 --timeout reached.\n", f);
}

int cli_parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > 0xffffffffull || *s == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

enum { OPT_ACCEL = 256, OPT_MEM, OPT_INITRD, OPT_APPEND, OPT_MODULE, OPT_DISK, OPT_DISK_RO, OPT_DRIVE, OPT_CDROM,
       OPT_SERIAL, OPT_STATS, OPT_TIMEOUT, OPT_FLAT, OPT_HELP, OPT_VERSION, OPT_NEEDS,
       OPT_NO_APIC, OPT_NO_SANDBOX, OPT_SANDBOX_SELFTEST, OPT_USER_EXEC, OPT_DISPLAY, OPT_SERIAL_OUT2_GATE };

static const struct option run_opts[] = {
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "disk-ro", required_argument, NULL, OPT_DISK_RO },
	{ "drive", required_argument, NULL, OPT_DRIVE },
	{ "cdrom", required_argument, NULL, OPT_CDROM },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "display", required_argument, NULL, OPT_DISPLAY },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "no-apic", no_argument, NULL, OPT_NO_APIC },
	{ "serial-out2-gate", no_argument, NULL, OPT_SERIAL_OUT2_GATE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "flat", optional_argument, NULL, OPT_FLAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "needs", required_argument, NULL, OPT_NEEDS },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "user-exec", required_argument, NULL, OPT_USER_EXEC },
	{ "sandbox-selftest", required_argument, NULL, OPT_SANDBOX_SELFTEST },
	{ NULL, 0, NULL, 0 },
};

static int parse_option(int c, char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_ACCEL:
		if (!strcmp(arg, "bt"))
			cfg->accel = ACCEL_BT;
		else if (!strcmp(arg, "kvm"))
			cfg->accel = ACCEL_KVM;
		else {
			snprintf(err, errlen, "--accel: unknown accelerator '%s' (choose bt or kvm)", arg);
			return -1;
		}
		cfg->accel_given = true;
		return 0;
	case OPT_MEM:
		if (cli_parse_size(arg, &cfg->mem_bytes) < 0) {
			snprintf(err, errlen, "--mem: '%s' is not a size (examples: 64M, 1G)", arg);
			return -1;
		}
		if (cfg->mem_bytes < BTVM_MIN_RAM || cfg->mem_bytes > BTVM_MAX_RAM) {
			snprintf(err, errlen, "--mem: %s is out of range (2M..3G)", arg);
			return -1;
		}
		if (cfg->mem_bytes & 0xfff) {
			snprintf(err, errlen, "--mem: %s is not a whole number of 4 KiB pages", arg);
			return -1;
		}
		return 0;
	case OPT_INITRD:
		cfg->load.initrd_path = arg;
		return 0;
	case OPT_APPEND:
		cfg->load.cmdline = arg;
		return 0;
	case OPT_MODULE: {
		if (cfg->load.n_modules == LOADER_MAX_MODULES) {
			snprintf(err, errlen, "--module: at most %d modules", LOADER_MAX_MODULES);
			return -1;
		}
		/* FILE[,ARGS]: split at the first comma. The strings live in argv. */
		char *comma = strchr(arg, ',');
		struct loader_module *m = &cfg->load.modules[cfg->load.n_modules++];
		if (comma) {
			*comma = '\0';
			m->args = comma + 1;
		}
		m->path = arg;
		if (!*m->path) {
			snprintf(err, errlen, "--module: empty file name");
			return -1;
		}
		return 0;
	}
	case OPT_DISK:
	case OPT_DISK_RO:
		return cli_disk_option(cfg, arg, c == OPT_DISK_RO, err, errlen);
	case OPT_CDROM:
		return cli_cdrom_option(cfg, arg, err, errlen);
	case OPT_DRIVE:
		return cli_drive_option(cfg, arg, err, errlen);
	case OPT_SERIAL:
		if (!strcmp(arg, "stdio"))
			cfg->serial = SERIAL_STDIO;
		else if (!strcmp(arg, "none"))
			cfg->serial = SERIAL_NONE;
		else if (!strncmp(arg, "file:", 5) && arg[5]) {
			cfg->serial = SERIAL_FILE;
			cfg->serial_path = arg + 5;
		} else {
			snprintf(err, errlen, "--serial: '%s' is not stdio, none or file:PATH", arg);
			return -1;
		}
		return 0;
	case OPT_DISPLAY:
		/* QEMU's -display none and -display curses; file:PATH is btvm's */
		if (!strcmp(arg, "none"))
			cfg->display = DISPLAY_NONE;
		else if (!strcmp(arg, "curses"))
			cfg->display = DISPLAY_CURSES;
		else if (!strncmp(arg, "file:", 5) && arg[5]) {
			cfg->display = DISPLAY_FILE;
			cfg->display_path = arg + 5;
		} else {
			snprintf(err, errlen, "--display: '%s' is not none, curses or file:PATH", arg);
			return -1;
		}
		return 0;
	case OPT_STATS:
		cfg->stats = true;
		return 0;
	case OPT_NO_APIC:
		cfg->no_apic = true;
		return 0;
	case OPT_SERIAL_OUT2_GATE:
		cfg->serial_out2_gate = true;
		return 0;
	case OPT_TIMEOUT: {
		char *end;
		errno = 0;
		double t = strtod(arg, &end);
		if (errno || end == arg || *end || !(t > 0) || t > 1e7) {
			snprintf(err, errlen, "--timeout: '%s' is not a positive number of seconds", arg);
			return -1;
		}
		cfg->timeout_sec = t;
		return 0;
	}
	case OPT_NEEDS:
		cfg->probe_needs = arg;
		return 0;
	case OPT_NO_SANDBOX:
		cfg->no_sandbox = true;
		return 0;
	case OPT_USER_EXEC:
		if (!strcmp(arg, "bt"))
			cfg->user_exec = USER_EXEC_BT;
		else if (!strcmp(arg, "direct"))
			cfg->user_exec = USER_EXEC_DIRECT;
		else {
			snprintf(err, errlen, "--user-exec: unknown policy '%s' (choose bt or direct)", arg);
			return -1;
		}
		return 0;
	case OPT_SANDBOX_SELFTEST:
		/* hidden from --help: a test hook (docs/security.md) */
		if (sandbox_selftest_parse(arg, err, errlen) < 0)
			return -1;
		if (cfg->n_sandbox_selftest == sizeof(cfg->sandbox_selftest) / sizeof(cfg->sandbox_selftest[0])) {
			snprintf(err, errlen, "--sandbox-selftest: at most %zu",
				 sizeof(cfg->sandbox_selftest) / sizeof(cfg->sandbox_selftest[0]));
			return -1;
		}
		cfg->sandbox_selftest[cfg->n_sandbox_selftest++] = arg;
		return 0;
	case OPT_FLAT:
		cfg->load.flat = true;
		if (arg && parse_u32(arg, &cfg->load.flat_addr) < 0) {
			snprintf(err, errlen, "--flat: '%s' is not a 32-bit address", arg);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "internal error: option %d", c);
	return -1;
}

int cli_parse(int argc, char **argv, enum cli_command *cmd, struct vm_config *cfg,
	      char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->accel = ACCEL_BT;
	cfg->mem_bytes = DEFAULT_MEM;
	cfg->serial = SERIAL_STDIO;
	cfg->load.flat_addr = 0x100000;

	if (argc < 2) {
		snprintf(err, errlen, "no command given (try 'btvm --help')");
		return -1;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		*cmd = CLI_HELP;
		return 0;
	}
	if (!strcmp(verb, "--version") || !strcmp(verb, "-V")) {
		*cmd = CLI_VERSION;
		return 0;
	}
	if (!strcmp(verb, "run"))
		*cmd = CLI_RUN;
	else if (!strcmp(verb, "probe"))
		*cmd = CLI_PROBE;
	else {
		snprintf(err, errlen, "unknown command '%s' (try 'btvm --help')", verb);
		return -1;
	}

	/* The options start after the verb, which takes the program name's
	 * place; optind = 0 makes glibc start afresh (with optind = 2, an
	 * earlier parse stopped inside "-ab" left getopt reading the rest of
	 * that word).  getopt's optind counts from argv + 1. */
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, ":", run_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			*cmd = CLI_HELP;
			return 0;
		}
		if (c == '?' && optopt) {   /* inside a word of short options */
			snprintf(err, errlen, "unknown option '-%c' (try 'btvm --help')", optopt);
			return -1;
		}
		if (c == '?') {
			snprintf(err, errlen, "unknown option '%s' (try 'btvm --help')", argv[optind]);
			return -1;
		}
		if (c == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind]);
			return -1;
		}
		if (parse_option(c, optarg, cfg, err, errlen) < 0)
			return -1;
	}
	int ind = optind + 1;
	if (cfg->probe_needs && *cmd != CLI_PROBE) {
		snprintf(err, errlen, "--needs goes with 'btvm probe'");
		return -1;
	}
	if ((cfg->n_sandbox_selftest || cfg->no_sandbox) && *cmd != CLI_RUN) {
		snprintf(err, errlen, "--no-sandbox and --sandbox-selftest go with 'btvm run'");
		return -1;
	}
	if (cfg->display != DISPLAY_NONE && *cmd != CLI_RUN) {
		snprintf(err, errlen, "--display goes with 'btvm run'");
		return -1;
	}
	/* Both would draw on the terminal: the screen would be garbled. */
	if (cfg->display == DISPLAY_CURSES && cfg->serial == SERIAL_STDIO) {
		snprintf(err, errlen, "--display curses takes the terminal, where COM1 is too (--serial stdio, "
			 "the default): add --serial none or --serial file:PATH");
		return -1;
	}
	if (cfg->user_exec != USER_EXEC_AUTO && (*cmd != CLI_RUN || cfg->accel != ACCEL_BT)) {
		snprintf(err, errlen, "--user-exec goes with 'btvm run --accel bt'");
		return -1;
	}
	if (*cmd == CLI_PROBE) {
		if (ind != argc) {
			snprintf(err, errlen, "probe takes no file argument");
			return -1;
		}
		return 0;
	}
	if (ind == argc) {
		snprintf(err, errlen, "run: no kernel given (usage: btvm run [options] KERNEL)");
		return -1;
	}
	if (argc - ind > 1) {
		snprintf(err, errlen, "run: more than one kernel given ('%s', '%s')", argv[ind], argv[ind + 1]);
		return -1;
	}
	cfg->load.kernel_path = argv[ind];
	return 0;
}
