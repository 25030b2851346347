/* The host sandbox: one libseccomp allow-list for the run phase (see
 * sandbox.h; docs/security.md explains each rule).
 *
 * The filter has three architectures.  x86_64 gets the allow-list below;
 * i386 (int $0x80 or sysenter from compatibility-mode code, or int $0x80
 * from 64-bit code) and x32 (syscall with bit 30 set in RAX) get no rule
 * at all, so every call through them traps: libseccomp applies a rule to
 * every architecture of its filter, hence the two filters merged.
 *
 * Default action SCMP_ACT_TRAP: the kernel sends SIGSYS (si_syscall,
 * si_arch) to the thread that made the call; the handler prints one
 * line with a name from a table built before the filter went on, and
 * ends the process with BTVM_EXIT_SANDBOX.  The handler uses only
 * write(2), tcsetattr (through console_restore and display_tty_restore)
 * and _exit(2), all
 * async-signal-safe (POSIX.1-2017 2.4.3) and all allowed by the filter. */
#include "monitor/sandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>
#include "monitor/crash_report.h"
#include "monitor/display.h"
#include "monitor/vm.h"

#define X32_SYSCALL_BIT 0x40000000u
#define NAME_SLOTS 600  /* x86_64 and i386 stay below 512; x32 has 512..547 */
#define NAME_LEN 32

enum { ARCH_X86_64, ARCH_I386, ARCH_X32, N_ARCH };

static char names[N_ARCH][NAME_SLOTS][NAME_LEN];
static bool active;

bool sandbox_active(void) { return active; }

/* ---------------------------------------------------------------- names */

void sandbox_names_init(void)
{
	static const uint32_t arch_token[N_ARCH] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };
	for (int a = 0; a < N_ARCH; a++)
		for (int nr = 0; nr < NAME_SLOTS; nr++) {
			int q = a == ARCH_X32 ? (int)(X32_SYSCALL_BIT | (unsigned)nr) : nr;
			char *n = seccomp_syscall_resolve_num_arch(arch_token[a], q);
			if (n) {
				snprintf(names[a][nr], NAME_LEN, "%s", n);
				free(n);
			} else {
				names[a][nr][0] = '\0';
			}
		}
}

/* x32 calls arrive with AUDIT_ARCH_X86_64 and bit 30 set in the number. */
static int arch_index(uint32_t arch, int *nr)
{
	if (arch == AUDIT_ARCH_I386)
		return ARCH_I386;
	if (arch == AUDIT_ARCH_X86_64 && (*nr & (int)X32_SYSCALL_BIT)) {
		*nr &= ~(int)X32_SYSCALL_BIT;
		return ARCH_X32;
	}
	if (arch == AUDIT_ARCH_X86_64)
		return ARCH_X86_64;
	return -1;
}

const char *sandbox_syscall_name(uint32_t arch, int nr)
{
	int a = arch_index(arch, &nr);
	if (a < 0 || nr < 0 || nr >= NAME_SLOTS || !names[a][nr][0])
		return "?";
	return names[a][nr];
}

/* Async-signal-safe string building for the SIGSYS handler. */
static size_t put_str(char *buf, size_t len, size_t at, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at < len ? at : len - 1] = '\0';
	return at;
}

static size_t put_uint(char *buf, size_t len, size_t at, unsigned long v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && at + 1 < len)
		buf[at++] = tmp[--n];
	buf[at < len ? at : len - 1] = '\0';
	return at;
}

size_t sandbox_format_blocked(char *buf, size_t len, uint32_t arch, int nr)
{
	int plain = nr;
	int a = arch_index(arch, &plain);
	size_t at = put_str(buf, len, 0, "btvm: sandbox: blocked host system call ");
	at = put_str(buf, len, at, sandbox_syscall_name(arch, nr));
	at = put_str(buf, len, at, " (");
	if (a == ARCH_I386)
		at = put_str(buf, len, at, "i386 ");
	else if (a == ARCH_X32)
		at = put_str(buf, len, at, "x32 ");
	else if (a < 0)
		at = put_str(buf, len, at, "unknown architecture ");
	at = put_str(buf, len, at, "nr ");
	at = put_uint(buf, len, at, (unsigned long)(unsigned)plain);
	at = put_str(buf, len, at, ")\n");
	return at;
}

static volatile sig_atomic_t quiet_refusals;
static volatile sig_atomic_t quiet_last = -1;

int sandbox_quiet_last(void)
{
	return quiet_last;
}

void sandbox_quiet_refusals(void)
{
	quiet_refusals = 1;
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	if (quiet_refusals) {
		/* the crash report is being written: the call fails (ENOSYS)
		 * instead of ending btvm before the report does */
		((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
		quiet_last = si->si_syscall;
		return;
	}
	char line[160];
	size_t n = sandbox_format_blocked(line, sizeof(line), si->si_arch, si->si_syscall);
	console_restore();
	display_tty_restore();
	if (write(STDERR_FILENO, line, n) < 0)
		n = 0;
	_exit(BTVM_EXIT_SANDBOX);
}

/* ---------------------------------------------------------------- spec */

void sandbox_spec_init(struct sandbox_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->memfd = -1;
	s->tty_fd = -1;
	s->display_fd = -1;
	s->kvm_vcpu_fd = -1;
}

void sandbox_spec_add_reserved(struct sandbox_spec *s, uint64_t base, uint64_t size)
{
	if (size && s->n_reserved < SANDBOX_MAX_RANGES)
		s->reserved[s->n_reserved++] = (struct sandbox_range){ base, size };
}

void sandbox_spec_add_remap(struct sandbox_spec *s, uint64_t base, uint64_t size)
{
	if (size && s->n_remap < SANDBOX_MAX_RANGES)
		s->remap[s->n_remap++] = (struct sandbox_range){ base, size };
}

void sandbox_spec_add_fd(int *fds, unsigned *n, int fd)
{
	if (fd < 0 || *n >= SANDBOX_MAX_FDS)
		return;
	for (unsigned i = 0; i < *n; i++)
		if (fds[i] == fd)
			return;
	fds[(*n)++] = fd;
}

void sandbox_spec_add_drive(struct sandbox_spec *s, int fd, bool writable)
{
	if (fd < 0 || s->n_drives >= SANDBOX_MAX_DRIVES)
		return;
	s->drive_fds[s->n_drives] = fd;
	s->drive_writable[s->n_drives++] = writable;
}

void sandbox_spec_from_vm(struct vm *vm, struct sandbox_spec *s)
{
	sandbox_spec_init(s);
	for (int w = 0; w < GUEST_WIN_COUNT; w++) {
		struct guest_window_range r = guest_mem_window(&vm->mem, (enum guest_window)w);
		sandbox_spec_add_reserved(s, r.base, r.size);
		if (r.size && r.base + r.size > s->alloc_floor)
			s->alloc_floor = r.base + r.size;
	}
	s->memfd = vm->mem.fd;
	/* COM1 output (stdout or --serial file:), and btvm's own lines. */
	sandbox_spec_add_fd(s->write_fds, &s->n_write, STDERR_FILENO);
	sandbox_spec_add_fd(s->write_fds, &s->n_write, vm->serial_fd);
	if (vm->cfg->serial == SERIAL_STDIO) {
		/* The console reader thread (monitor/console.c) reads stdin;
		 * on a terminal console_restore() resets its termios. */
		sandbox_spec_add_fd(s->read_fds, &s->n_read, STDIN_FILENO);
		if (isatty(STDIN_FILENO))
			s->tty_fd = STDIN_FILENO;
	}
	/* The crash report's unwinder checks memory through a pipe of its
	 * own (monitor/crash_report.c). */
	const int *ufds;
	for (unsigned i = 0, n = crash_report_unwinder_fds(&ufds); i < n; i++) {
		sandbox_spec_add_fd(s->read_fds, &s->n_read, ufds[i]);
		sandbox_spec_add_fd(s->write_fds, &s->n_write, ufds[i]);
	}
	/* The IDE drives read and write their images (devices/ata_cmd.c,
	 * devices/atapi.c); a read-only image (--disk-ro, readonly=on, a CD)
	 * is never written. */
	for (unsigned i = 0; i < BTVM_IDE_DRIVES; i++)
		sandbox_spec_add_drive(s, vm->drive_img[i].fd, !vm->drive_img[i].read_only);
	/* --display: the screen file, or stdout's terminal (monitor/display.c). */
	display_sandbox_spec(s);
	if (vm->backend->sandbox_spec)
		vm->backend->sandbox_spec(vm, s);
}

/* [lo, hi) lies in the union of the reserved windows (the kernel shows
 * adjacent windows with the same protection as one mapping). */
static bool covered(const struct sandbox_spec *s, uint64_t lo, uint64_t hi)
{
	while (lo < hi) {
		bool step = false;
		for (unsigned i = 0; i < s->n_reserved && !step; i++)
			if (lo >= s->reserved[i].base && lo < s->reserved[i].base + s->reserved[i].size) {
				lo = s->reserved[i].base + s->reserved[i].size;
				step = true;
			}
		if (!step)
			return false;
	}
	return true;
}

/* Every mapping below alloc_floor must lie in a reserved window: the
 * allocator rules (address >= alloc_floor) then cover all of btvm's own
 * memory, and the window rules cover only guest memory. */
static int check_layout(const struct sandbox_spec *s, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f) {
		snprintf(err, errlen, "sandbox: cannot read /proc/self/maps: %s", strerror(errno));
		return -1;
	}
	char line[512];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		if (sscanf(line, "%llx-%llx", &lo, &hi) != 2 || lo >= s->alloc_floor)
			continue;
		if (!covered(s, lo, hi)) {
			snprintf(err, errlen, "sandbox: host mapping %#llx-%#llx lies below %#llx outside the guest "
				 "windows; the allow-list assumes it cannot (is btvm built as PIE?)",
				 lo, hi, (unsigned long long)s->alloc_floor);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

/* ---------------------------------------------------------------- rules */

#define MAP_KIND_MASK (0x0f /* MAP_TYPE */ | MAP_ANONYMOUS | MAP_FIXED | MAP_FIXED_NOREPLACE)
#define NOEXEC SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)

struct rules {
	scmp_filter_ctx ctx;
	int rc;
	const char *what;
};

/* Adds one rule; the first failure is kept for the error message. */
static void allow(struct rules *r, const char *what, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	if (r->rc)
		return;
	r->rc = seccomp_rule_add_array(r->ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (r->rc)
		r->what = what;
}
#define ALLOW(r, name, ...)                                                              \
	do {                                                                             \
		const struct scmp_arg_cmp c_[] = { __VA_ARGS__ };                        \
		allow((r), #name, SCMP_SYS(name), sizeof(c_) / sizeof(c_[0]), c_);      \
	} while (0)
#define ALLOW0(r, name) allow((r), #name, SCMP_SYS(name), 0, NULL)

/* A window W (size a power of two, aligned to it) is remapped one 4 KiB
 * page at a time (shadow/kview.c: fills, INVLPG, code protection) or as
 * a whole from its base (view resets, the identity map with paging off).
 * "One page inside W" is (addr & ~(size-1)) == base with len == 4096;
 * mmap and mprotect reject unaligned addresses, so the page cannot reach
 * past W's end. */
static void allow_remap_window(struct rules *r, const struct sandbox_spec *s, struct sandbox_range w)
{
	const uint64_t in_mask = ~(w.size - 1);
	const uint64_t shared = MAP_SHARED | MAP_FIXED, anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	if (s->memfd >= 0) {
		ALLOW(r, mmap, SCMP_A0(SCMP_CMP_MASKED_EQ, in_mask, w.base), SCMP_A1(SCMP_CMP_EQ, 4096), NOEXEC,
		      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, shared), SCMP_A4(SCMP_CMP_EQ, (uint64_t)s->memfd));
		ALLOW(r, mmap, SCMP_A0(SCMP_CMP_EQ, w.base), SCMP_A1(SCMP_CMP_LE, w.size), NOEXEC,
		      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, shared), SCMP_A4(SCMP_CMP_EQ, (uint64_t)s->memfd));
	}
	ALLOW(r, mmap, SCMP_A0(SCMP_CMP_MASKED_EQ, in_mask, w.base), SCMP_A1(SCMP_CMP_EQ, 4096),
	      SCMP_A2(SCMP_CMP_EQ, PROT_NONE), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, anon));
	ALLOW(r, mmap, SCMP_A0(SCMP_CMP_EQ, w.base), SCMP_A1(SCMP_CMP_LE, w.size),
	      SCMP_A2(SCMP_CMP_EQ, PROT_NONE), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, anon));
	/* Runs of 2^k pages aligned to their size (kview_flush_nonglobal): an
	 * aligned block no bigger than W that starts inside W ends inside it. */
	for (uint64_t len = 8192; len < w.size; len <<= 1)
		ALLOW(r, mmap, SCMP_A0(SCMP_CMP_MASKED_EQ, in_mask | (len - 1), w.base), /* inside, aligned */
		      SCMP_A1(SCMP_CMP_EQ, len), SCMP_A2(SCMP_CMP_EQ, PROT_NONE),
		      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, anon));
	ALLOW(r, mprotect, SCMP_A0(SCMP_CMP_MASKED_EQ, in_mask, w.base), SCMP_A1(SCMP_CMP_EQ, 4096), NOEXEC);
	ALLOW(r, mprotect, SCMP_A0(SCMP_CMP_EQ, w.base), SCMP_A1(SCMP_CMP_LE, w.size), NOEXEC);
}

static void add_rules(struct rules *r, const struct sandbox_spec *s)
{
	/* Memory of btvm itself: malloc/free (glibc maps and unmaps chunks
	 * above the mmap threshold, trims with madvise, grows the heap with
	 * brk), thread stacks freed with madvise at thread exit, and bt's
	 * safepoint page (mprotect from the kick handler).  Never PROT_EXEC:
	 * no new host code after set-up. */
	const uint64_t anon_private = MAP_PRIVATE | MAP_ANONYMOUS;
	ALLOW(r, mmap, SCMP_A0(SCMP_CMP_EQ, 0), NOEXEC, SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, anon_private));
	ALLOW(r, mmap, SCMP_A0(SCMP_CMP_GE, s->alloc_floor), NOEXEC,
	      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, anon_private));
	ALLOW(r, munmap, SCMP_A0(SCMP_CMP_GE, s->alloc_floor));
	ALLOW(r, mprotect, SCMP_A0(SCMP_CMP_GE, s->alloc_floor), NOEXEC);
	ALLOW(r, madvise, SCMP_A0(SCMP_CMP_GE, s->alloc_floor));
	ALLOW0(r, brk);

	/* Guest memory: the backend's remapped views; each reserved window
	 * is unmapped whole at exit (guest_mem_destroy). */
	for (unsigned i = 0; i < s->n_remap; i++)
		allow_remap_window(r, s, s->remap[i]);
	for (unsigned i = 0; i < s->n_reserved; i++)
		ALLOW(r, munmap, SCMP_A0(SCMP_CMP_EQ, s->reserved[i].base), SCMP_A1(SCMP_CMP_EQ, s->reserved[i].size));

	/* Console and btvm's own messages. */
	for (unsigned i = 0; i < s->n_read; i++)
		ALLOW(r, read, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->read_fds[i]));
	for (unsigned i = 0; i < s->n_write; i++)
		ALLOW(r, write, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->write_fds[i]));
	/* console_restore(): glibc's tcsetattr is TCSETS and then TCGETS (it
	 * reads the settings back to check them).  Not TIOCSTI & co., which
	 * would let a guest type commands into the user's shell. */
	if (s->tty_fd >= 0) {
		ALLOW(r, ioctl, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->tty_fd), SCMP_A1(SCMP_CMP_EQ, TCSETS));
		ALLOW(r, ioctl, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->tty_fd), SCMP_A1(SCMP_CMP_EQ, TCGETS));
	}

	for (unsigned i = 0; i < s->n_drives; i++) {
		uint64_t fd = (uint64_t)s->drive_fds[i];
		ALLOW(r, pread64, SCMP_A0(SCMP_CMP_EQ, fd));
		if (s->drive_writable[i]) {
			ALLOW(r, pwrite64, SCMP_A0(SCMP_CMP_EQ, fd));
			ALLOW(r, fdatasync, SCMP_A0(SCMP_CMP_EQ, fd));
		}
	}
	/* --display file:PATH rewrites the file in place: writes at offset
	 * 0, then cut to length.  Nothing else on that descriptor. */
	if (s->display_fd >= 0) {
		ALLOW(r, pwrite64, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->display_fd));
		ALLOW(r, ftruncate, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->display_fd));
	}

	/* KVM: the vCPU only; the VM and /dev/kvm fds get nothing. */
	if (s->kvm_vcpu_fd >= 0) {
		static const unsigned long kvm_ioctls[] = { KVM_RUN, KVM_INTERRUPT, KVM_GET_REGS, KVM_GET_SREGS };
		for (size_t i = 0; i < sizeof(kvm_ioctls) / sizeof(kvm_ioctls[0]); i++)
			ALLOW(r, ioctl, SCMP_A0(SCMP_CMP_EQ, (uint64_t)s->kvm_vcpu_fd),
			      SCMP_A1(SCMP_CMP_EQ, kvm_ioctls[i]));
	}

	if (s->set_gs_base)
		ALLOW(r, arch_prctl, SCMP_A0(SCMP_CMP_EQ, ARCH_SET_GS));
	if (s->set_fs_base) {
		ALLOW(r, arch_prctl, SCMP_A0(SCMP_CMP_EQ, ARCH_SET_FS));
		ALLOW(r, arch_prctl, SCMP_A0(SCMP_CMP_EQ, ARCH_GET_FS));
	}

	/* Direct execution of guest user code (bt/direct.c): its view is the
	 * low 4 GiB (a remap window, added by the backend) where a scanned
	 * code page is mapped PROT_READ|PROT_EXEC — exactly that, one page of
	 * the RAM memfd, never writable; and its segments are host LDT
	 * entries written with modify_ldt(0x11, desc, 16) (the kernel forces
	 * DPL 3 and refuses call gates and 64-bit code there).  The guest's
	 * own i386 system calls trap (the i386 filter below). */
	if (s->direct_exec && s->memfd >= 0) {
		ALLOW(r, mmap, SCMP_A0(SCMP_CMP_MASKED_EQ, ~0xffffffffull, 0), SCMP_A1(SCMP_CMP_EQ, 4096),
		      SCMP_A2(SCMP_CMP_EQ, PROT_READ | PROT_EXEC),
		      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_KIND_MASK, MAP_SHARED | MAP_FIXED),
		      SCMP_A4(SCMP_CMP_EQ, (uint64_t)s->memfd));
		ALLOW(r, modify_ldt, SCMP_A0(SCMP_CMP_EQ, 0x11), SCMP_A2(SCMP_CMP_EQ, 16));
	}

	/* Time, kicks and sleeping (monitor/kick.c, run_loop.c): the host
	 * timer, the kick signal, HLT's ppoll with no file descriptors;
	 * clock_gettime and gettimeofday when the vDSO falls back to the
	 * kernel. */
	ALLOW0(r, timer_settime);
	ALLOW0(r, clock_gettime);
	ALLOW0(r, gettimeofday);
	ALLOW(r, ppoll, SCMP_A1(SCMP_CMP_EQ, 0));
	ALLOW0(r, rt_sigtimedwait);
	ALLOW0(r, rt_sigprocmask);
	ALLOW0(r, rt_sigreturn);
	/* The crash report's unwinder (libunwind, crash_report.c) checks that
	 * a stack word it is about to read is mapped with mincore(2) over at
	 * most two pages; residency of two pages of btvm's own memory is all
	 * that can tell. */
	ALLOW(r, mincore, SCMP_A1(SCMP_CMP_LE, 2 * 4096));
	ALLOW0(r, restart_syscall);
	/* signal(sig, SIG_DFL) + raise() on fatal paths (bt's fatal host
	 * fault, console's SIGINT/SIGTERM/SIGHUP); pthread_kill of the vCPU
	 * thread by the console reader.  Only to this process. */
	ALLOW0(r, rt_sigaction);
	ALLOW0(r, getpid);
	ALLOW0(r, gettid);
	ALLOW(r, tgkill, SCMP_A0(SCMP_CMP_EQ, (uint64_t)getpid()));
	/* pthread mutex/condvar between the console reader and the vCPU. */
	ALLOW0(r, futex);
	/* The console reader is created before the filter, but pthread_create
	 * returns before the new thread has run: its first steps in glibc's
	 * start_thread (rseq and robust-futex registration, with every
	 * signal blocked) may come after.  Both only concern that thread. */
	ALLOW0(r, rseq);
	ALLOW0(r, set_robust_list);
	/* Exit: fds closed by the teardown, the reader thread's exit. */
	ALLOW0(r, close);
	ALLOW0(r, exit);
	ALLOW0(r, exit_group);
}

int sandbox_install(const struct sandbox_spec *s, char *err, size_t errlen)
{
	for (unsigned i = 0; i < s->n_remap; i++) {
		uint64_t sz = s->remap[i].size;
		if (sz < 4096 || (sz & (sz - 1)) || (s->remap[i].base & (sz - 1))) {
			snprintf(err, errlen, "sandbox: internal error: window %#llx+%#llx is not a power of two aligned to its size",
				 (unsigned long long)s->remap[i].base, (unsigned long long)sz);
			return -1;
		}
	}
	if (check_layout(s, err, errlen) < 0)
		return -1;
	sandbox_names_init();

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "sandbox: cannot install the SIGSYS handler: %s", strerror(errno));
		return -1;
	}

	struct rules r = { seccomp_init(SCMP_ACT_TRAP), 0, NULL };
	scmp_filter_ctx compat = seccomp_init(SCMP_ACT_TRAP);
	int rc = -ENOMEM;
	const char *step = "seccomp_init";
	if (!r.ctx || !compat)
		goto out;
	add_rules(&r, s);
	if ((rc = r.rc) != 0) {
		step = r.what;
		goto out;
	}
	/* i386 and x32: no rules, every call traps. */
	step = "adding the i386 and x32 architectures";
	if ((rc = seccomp_arch_remove(compat, SCMP_ARCH_NATIVE)) != 0 ||
	    (rc = seccomp_arch_add(compat, SCMP_ARCH_X86)) != 0 ||
	    (rc = seccomp_arch_add(compat, SCMP_ARCH_X32)) != 0)
		goto out;
	step = "merging the filters";
	if ((rc = seccomp_merge(r.ctx, compat)) != 0)
		goto out;
	compat = NULL; /* merged: freed with r.ctx */
	step = "setting the filter attributes";
	if ((rc = seccomp_attr_set(r.ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_attr_set(r.ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (rc = seccomp_attr_set(r.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP)) != 0)
		goto out;
	/* For reading the filter as libseccomp compiled it (docs/security.md). */
	if (getenv("BTVM_SANDBOX_PFC"))
		seccomp_export_pfc(r.ctx, STDERR_FILENO);
	step = "loading the filter";
	rc = seccomp_load(r.ctx);
out:
	if (compat)
		seccomp_release(compat);
	if (r.ctx)
		seccomp_release(r.ctx);
	if (rc) {
		snprintf(err, errlen, "sandbox: cannot install the seccomp filter (%s: %s); "
			 "--no-sandbox runs without it", step, strerror(rc < 0 ? -rc : rc));
		return -1;
	}
	active = true;
	return 0;
}

int sandbox_enter(struct vm *vm, char *err, size_t errlen)
{
	struct sandbox_spec s;
	sandbox_spec_from_vm(vm, &s);
	return sandbox_install(&s, err, errlen);
}
