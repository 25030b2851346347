/* crash_report.h.  The unwinder is libunwind's local one, started from the
 * signal's ucontext (UNW_INIT_SIGNAL_FRAME) so that the first frame is the
 * faulting instruction itself.  Each frame is named by module and offset
 * (dladdr: the loader's in-memory tables, no system call) and by function
 * and offset: btvm's own functions from its ELF symbol table (.symtab:
 * most are static, so not in the dynamic symbol table), read from
 * /proc/self/exe into a sorted table by crash_report_prepare() before the
 * sandbox, which refuses open(2); a shared library's from dladdr. */
#define UNW_LOCAL_ONLY
#include "monitor/crash_report.h"
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/audit.h>
#include <libunwind.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "monitor/display.h"
#include "monitor/host_probe.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

static crash_guest_fn guest_fn;
static int in_report;

void crash_report_set_guest(crash_guest_fn fn)
{
	guest_fn = fn;
}

static int unwinder_fds[4];
static unsigned n_unwinder_fds;

unsigned crash_report_unwinder_fds(const int **fds)
{
	*fds = unwinder_fds;
	return n_unwinder_fds;
}

/* ---- btvm's own symbols: functions by address, sorted ---- */

struct crash_sym {
	uintptr_t addr;           /* where it runs (load bias applied) */
	uint64_t size;
	uint32_t name;            /* offset in sym_names */
};
static struct crash_sym *syms;
static size_t n_syms;
static char *sym_names;
static size_t sym_names_len;

static int sym_cmp(const void *a, const void *b)
{
	const struct crash_sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool read_at(int fd, uint64_t size, uint64_t off, uint64_t len, void *dst)
{
	return off <= size && len <= size - off && pread(fd, dst, len, (off_t)off) == (ssize_t)len;
}

/* The function holding pc in btvm itself: its name and pc's offset in it,
 * or NULL.  No system call, no allocation: a binary search. */
static const char *exe_symbol(uintptr_t pc, uintptr_t *off)
{
	size_t lo = 0, hi = n_syms;
	while (lo < hi) {              /* the first symbol above pc */
		size_t mid = lo + (hi - lo) / 2;
		if (syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct crash_sym *s = &syms[lo - 1];
	if (pc - s->addr >= (s->size ? s->size : 1))
		return NULL;
	*off = pc - s->addr;
	return sym_names + s->name;
}

static void drop_symbols(void)
{
	free(syms);
	free(sym_names);
	syms = NULL;
	sym_names = NULL;
	n_syms = sym_names_len = 0;
}

/* Reads .symtab and its string table from /proc/self/exe.  Any surprise
 * (no symbol table: a stripped binary; a file that is not the running
 * image) leaves the table empty: frames then carry module+offset only. */
static void load_symbols(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	Elf64_Phdr *ph = NULL;
	Elf64_Sym *st_syms = NULL;
	Dl_info self;
	if (fstat(fd, &st) < 0 || !read_at(fd, (uint64_t)st.st_size, 0, sizeof(eh), &eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_shnum ||
	    eh.e_shnum > 4096 || eh.e_phnum > 256 ||
	    !dladdr((void *)(uintptr_t)crash_report_prepare, &self) || !self.dli_fbase)
		goto out;
	uint64_t size = (uint64_t)st.st_size;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	ph = calloc(eh.e_phnum + 1u, sizeof(*ph));
	if (!sh || !ph || !read_at(fd, size, eh.e_shoff, eh.e_shnum * sizeof(*sh), sh) ||
	    !read_at(fd, size, eh.e_phoff, eh.e_phnum * sizeof(*ph), ph))
		goto out;
	/* The load bias: where the lowest PT_LOAD segment's page sits. */
	uint64_t low = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < low)
			low = ph[i].p_vaddr & ~(uint64_t)0xFFF;
	if (low == UINT64_MAX)
		goto out;
	uintptr_t bias = (uintptr_t)self.dli_fbase - (uintptr_t)low;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_link >= eh.e_shnum)
			continue;
		const Elf64_Shdr *strs = &sh[sh[i].sh_link];
		size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
		st_syms = malloc(n * sizeof(*st_syms) + 1);
		sym_names = malloc(strs->sh_size + 1);
		syms = calloc(n + 1, sizeof(*syms));
		if (!st_syms || !sym_names || !syms || !read_at(fd, size, sh[i].sh_offset, n * sizeof(*st_syms), st_syms) ||
		    !read_at(fd, size, strs->sh_offset, strs->sh_size, sym_names))
			goto out;
		sym_names[strs->sh_size] = 0;
		sym_names_len = strs->sh_size;
		for (size_t k = 0; k < n; k++)
			if (ELF64_ST_TYPE(st_syms[k].st_info) == STT_FUNC && st_syms[k].st_value &&
			    st_syms[k].st_shndx != SHN_UNDEF && st_syms[k].st_name < sym_names_len)
				syms[n_syms++] = (struct crash_sym){ bias + st_syms[k].st_value, st_syms[k].st_size,
								     st_syms[k].st_name };
		break;
	}
	qsort(syms, n_syms, sizeof(*syms), sym_cmp);
	/* the table must describe the image that runs */
	uintptr_t off;
	const char *me = exe_symbol((uintptr_t)crash_report_prepare, &off);
	if (!me || strcmp(me, "crash_report_prepare") || off)
		drop_symbols();
out:
	if (!n_syms)
		drop_symbols();
	free(st_syms);
	free(sh);
	free(ph);
	close(fd);
}

void crash_report_prepare(void)
{
	if (!n_syms)
		load_symbols();
	/* libunwind checks a word is mapped with mincore(2) and, as a last
	 * resort, by writing it into a pipe of its own (libunwind 1.6,
	 * x86_64/Ginit.c): the pipe's descriptors are the ones this first use
	 * opens; the sandbox lets the unwinder read and write them. */
	enum { SCAN = 256 };
	static bool open_before[SCAN];
	for (int fd = 0; fd < SCAN; fd++)
		open_before[fd] = fcntl(fd, F_GETFD) >= 0;
	unw_context_t ctx;
	unw_cursor_t cur;
	if (unw_getcontext(&ctx) == 0 && unw_init_local(&cur, &ctx) == 0)
		while (unw_step(&cur) > 0)
			;
	Dl_info info;
	(void)dladdr((void *)(uintptr_t)crash_report_prepare, &info);
	for (int fd = 0; fd < SCAN && n_unwinder_fds < 4; fd++)
		if (!open_before[fd] && fcntl(fd, F_GETFD) >= 0)
			unwinder_fds[n_unwinder_fds++] = fd;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : (path && *path ? path : "?");
}

static size_t frame_line(char *buf, size_t len, int n, uintptr_t pc)
{
	Dl_info info;
	int k;
	uintptr_t off = 0;
	const char *fn = exe_symbol(pc, &off);
	if (dladdr((void *)pc, &info) && info.dli_fbase) {
		if (!fn && info.dli_sname && info.dli_saddr) {   /* a shared library's exported function */
			fn = info.dli_sname;
			off = pc - (uintptr_t)info.dli_saddr;
		}
		unsigned long at = (unsigned long)(pc - (uintptr_t)info.dli_fbase);
		if (fn)
			k = snprintf(buf, len, "  #%-2d %s+%#lx %s+%#lx\n", n, base_name(info.dli_fname), at, fn,
				     (unsigned long)off);
		else
			k = snprintf(buf, len, "  #%-2d %s+%#lx\n", n, base_name(info.dli_fname), at);
	} else {
		k = snprintf(buf, len, "  #%-2d %#lx (no module: generated code or a wild jump)\n", n, (unsigned long)pc);
	}
	return k < 0 ? 0 : (size_t)k < len ? (size_t)k : len - 1;
}

int crash_backtrace(ucontext_t *uc, char *buf, size_t len)
{
	unw_cursor_t cur;
	size_t at = 0;
	int n = 0;
	buf[0] = 0;
	if (unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
		return 0;
	do {
		unw_word_t ip = 0;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || !ip)
			break;
		/* a return address points after the call: name the call */
		at += frame_line(buf + at, len - at, n, (uintptr_t)ip - (n ? 1 : 0));
		n++;
	} while (n < 32 && at + 80 < len && unw_step(&cur) > 0);
	return n;
}

static void put(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void crash_report(int sig, const siginfo_t *si, ucontext_t *uc, const char *what)
{
	static char buf[4096];
	if (in_report++) {   /* a fault while reporting: the first line only */
		put("btvm: internal error: a second fault while writing the crash report\n");
		return;
	}
	snprintf(buf, sizeof(buf),
		 "btvm: internal error: signal %d (%s) at host address %#llx (fault address %p) %s\n", sig,
		 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
		 (unsigned long long)uc->uc_mcontext.gregs[REG_RIP], si->si_addr, what);
	put(buf);
	snprintf(buf, sizeof(buf), "btvm: this is a bug in btvm %s; please report it with the command line and "
		 "everything below\n", BTVM_VERSION);
	put(buf);
	size_t at = (size_t)snprintf(buf, sizeof(buf), "btvm: host:");
	for (unsigned c = 0; c < HOST_CAP_COUNT && at < sizeof(buf); c++)
		if (c != HOST_KVM) /* its probe runs guests: not from a signal handler */
			at += (size_t)snprintf(buf + at, sizeof(buf) - at, " %s=%s", host_cap_name(c),
					       host_has(c) ? "yes" : "no");
	if (at < sizeof(buf) - 2)
		snprintf(buf + at, sizeof(buf) - at, "\n");
	put(buf);
	if (guest_fn) {
		char g[512];
		g[0] = 0;
		guest_fn(g, sizeof(g));
		for (char *line = g, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			snprintf(buf, sizeof(buf), "btvm: guest: %s\n", line);
			put(buf);
		}
	}
	sandbox_quiet_refusals();
	put(n_syms ? "btvm: backtrace of the monitor (MODULE+OFFSET FUNCTION+OFFSET; addr2line -f -i -e MODULE "
		     "OFFSET gives the source line):\n"
		   : "btvm: backtrace of the monitor (no symbol table; addr2line -f -i -e MODULE OFFSET names each "
		     "frame):\n");
	if (crash_backtrace(uc, buf, sizeof(buf)) == 0)
		put("  (the unwinder could not start)\n");
	else
		put(buf);
	if (sandbox_quiet_last() >= 0) {
		snprintf(buf, sizeof(buf), "  (the sandbox refused the unwinder's system call %s, nr %d)\n",
			 sandbox_syscall_name(AUDIT_ARCH_X86_64, sandbox_quiet_last()), sandbox_quiet_last());
		put(buf);
	}
}

void crash_report_exit(void)
{
	/* what the sandbox's SIGSYS handler does too: both are async-signal-safe */
	console_restore();
	display_tty_restore();
	_exit(BTVM_EXIT_INTERNAL);
}

static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	crash_report(sig, si, ctx, "in the monitor");
	crash_report_exit();
}

void crash_report_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
