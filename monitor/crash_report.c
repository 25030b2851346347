/* crash_report.h.  The unwinder is libunwind's local one, started from the
 * signal's ucontext (UNW_INIT_SIGNAL_FRAME) so that the first frame is the
 * faulting instruction itself. Frames are named by module and offset
 * (dladdr: the loader's in-memory tables, no system call), not by symbol:
 * btvm's own functions are mostly static and not in the dynamic symbol
 * table, and reading the ELF symbol table would need open(2), which the
 * sandbox refuses. */
#define UNW_LOCAL_ONLY
#include "monitor/crash_report.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/audit.h>
#include <libunwind.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "monitor/host_probe.h"
#include "monitor/sandbox.h"

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

void crash_report_prepare(void)
{
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
	if (dladdr((void *)pc, &info) && info.dli_fbase)
		k = snprintf(buf, len, "  #%-2d %s+%#lx\n", n, base_name(info.dli_fname),
			     (unsigned long)(pc - (uintptr_t)info.dli_fbase));
	else
		k = snprintf(buf, len, "  #%-2d %#lx (no module: generated code or a wild jump)\n", n, (unsigned long)pc);
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
		char g[256];
		g[0] = 0;
		guest_fn(g, sizeof(g));
		if (g[0]) {
			snprintf(buf, sizeof(buf), "btvm: guest: %s\n", g);
			put(buf);
		}
	}
	sandbox_quiet_refusals();
	put("btvm: backtrace of the monitor (addr2line -f -i -e MODULE OFFSET names each frame):\n");
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

static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	crash_report(sig, si, ctx, "in the monitor");
	signal(sig, SIG_DFL);
	raise(sig);
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
