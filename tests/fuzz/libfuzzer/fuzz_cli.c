/* btvm's command line (monitor/cli.c cli_parse, cli_drive.c): the input
 * split at NUL bytes is argv[1..] (at most 48 words), each word its own
 * allocation freed after the call, so a pointer kept from one parse to
 * the next (getopt's state) is a use after free AddressSanitizer sees.
 * Invariants: the result is 0 or -1; a failure has a message; a success
 * leaves a configuration inside its documented ranges whose strings
 * all point into argv; and a plain `btvm run k` parsed next still
 * succeeds (no state survives from one parse to the next). */
#include "monitor/cli.h"
#include "monitor/host_probe.h"
#include "fuzz_common.h"

/* sandbox_selftest.c's run half needs the host probe; parsing never does */
bool host_has(enum host_cap cap)
{
	(void)cap;
	return false;
}

const char *host_cap_why(enum host_cap cap)
{
	(void)cap;
	return "fuzzing";
}

#define MAXARG 48

static size_t lens[MAXARG + 2];

/* Inside one of the words as they were given (the parser may cut a word
 * in place: --module FILE,ARGS, --drive's ",,"). */
static bool in_argv(const char *s, char **argv, int argc)
{
	if (!s)
		return true;
	for (int i = 0; i < argc; i++)
		if (s >= argv[i] && s <= argv[i] + lens[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAXARG + 2];
	int argc = 0;
	argv[argc++] = strdup("btvm");
	size_t at = 0;
	while (at <= size && argc <= MAXARG) {
		size_t end = at;
		while (end < size && data[end])
			end++;
		if (end == size && at == size && argc > 1)
			break;
		char *w = malloc(end - at + 1);
		memcpy(w, data + at, end - at);
		w[end - at] = 0;
		argv[argc++] = w;
		at = end + 1;
	}
	argv[argc] = NULL;
	char *copy[MAXARG + 2];
	memcpy(copy, argv, sizeof(copy));   /* getopt_long permutes argv */
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);

	struct vm_config cfg;
	enum cli_command cmd;
	char err[512];
	err[0] = 0;
	int rc = cli_parse(argc, argv, &cmd, &cfg, err, sizeof(err));
	FZ_ASSERT(rc == 0 || rc == -1, "rc %d", rc);
	if (rc < 0) {
		FZ_ASSERT(err[0], "failure without a message");
	} else if (cmd == CLI_RUN || cmd == CLI_PROBE) {
		FZ_ASSERT(cfg.mem_bytes >= 2u << 20 && cfg.mem_bytes <= 3ull << 30 && !(cfg.mem_bytes & 0xFFF),
			  "--mem %#llx", (unsigned long long)cfg.mem_bytes);
		FZ_ASSERT(cfg.load.n_modules <= LOADER_MAX_MODULES, "%u modules", cfg.load.n_modules);
		FZ_ASSERT(cfg.n_sandbox_selftest <= 8, "%u self-tests", cfg.n_sandbox_selftest);
		FZ_ASSERT(cmd != CLI_RUN || cfg.load.kernel_path, "run without a kernel");
		FZ_ASSERT(in_argv(cfg.load.kernel_path, copy, argc) && in_argv(cfg.load.cmdline, copy, argc) &&
				  in_argv(cfg.load.initrd_path, copy, argc) && in_argv(cfg.serial_path, copy, argc) &&
				  in_argv(cfg.display_path, copy, argc) && in_argv(cfg.probe_needs, copy, argc),
			  "a string outside argv");
		for (unsigned i = 0; i < cfg.load.n_modules; i++)
			FZ_ASSERT(in_argv(cfg.load.modules[i].path, copy, argc) &&
					  in_argv(cfg.load.modules[i].args, copy, argc),
				  "module %u outside argv", i);
		for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++) {
			const struct drive_config *d = &cfg.drives[i];
			FZ_ASSERT(memchr(d->label, 0, sizeof(d->label)), "drive %u label not terminated", i);
			FZ_ASSERT(!d->present || in_argv(d->path, copy, argc), "drive %u path outside argv", i);
			FZ_ASSERT(!d->cdrom || d->read_only, "a writable CD at %u", i);
		}
	}
	for (int i = 0; i < argc; i++)
		free(copy[i]);
	/* nothing of this parse may leak into the next one */
	char w0[] = "btvm", w1[] = "run", w2[] = "k";
	char *good[] = { w0, w1, w2, NULL };
	FZ_ASSERT(cli_parse(3, good, &cmd, &cfg, err, sizeof(err)) == 0 && cmd == CLI_RUN &&
			  cfg.load.kernel_path == w2,
		  "'btvm run k' after that input: %s", err);
	return 0;
}
