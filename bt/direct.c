/* Direct execution of guest CPL-3 code (--user-exec direct).
 *
 * Guest user code runs on the CPU in compatibility mode (SDM Vol. 3A
 * 5.2.1): its CS, SS and data segments are copies of the guest's
 * descriptor caches in the host LDT (bt/ldt.c), and its memory is the
 * direct view — the host's low 4 GiB, guest linear v at host linear v, so
 * that segment bases and offsets need no relocation and wrap at 4 GiB as
 * on the guest.  The view is a virtual TLB like shadow/kview.c's: a page is
 * mapped only when the guest's tables give it to user mode, read-only
 * until its entry is dirty, and filled on the host fault.
 *
 * Exactness comes first.  Code pages are mapped executable only after
 * bt/direct_scan.c's decoding scan finds nothing on them whose native
 * execution would differ from the guest's (reads of segment registers:
 * the host selectors have TI = 1; CS/SS loads and far transfers;
 * descriptor-table and system instructions; SYSENTER, whose host entry
 * loses EIP and EBP; RDTSC while the guest TSC is offset; CPUID when the
 * host has no CPUID faulting).  Scans are per frame and kept while the
 * frame is write-protected in the other views (the code protection of
 * translated code), so a write anywhere drops the scan.  A page the scan
 * refuses runs translated, chained like any translated code.
 *
 * DS/ES/FS/GS loads run natively: a guest GDT selector either faults in
 * the host GDT (the translator then runs the instruction) or names one of
 * its DPL-3 entries — i386 glibc's TLS selector 0x33 is the host's 64-bit
 * user code segment — and the exit that follows (an access through the
 * host descriptor, base 0, faults on low memory) puts the guest's own
 * descriptor in the register (fix_segments, counted in --stats).
 *
 * Every exit is a signal (bt/direct_entry.S).  A #PF the guest's tables
 * allow is a fill; anything else — #GP of a privileged or I/O instruction,
 * INT n, INT3, INTO, #UD, #DE, x87 errors, CPUID (faulting), the SIGSYS of
 * `int 0x80` (the seccomp filter traps every i386 system call), a #PF the
 * guest must see — puts EIP back on the instruction and has the translator
 * run that one instruction: its emulation is already exact, so the guest
 * sees the same exception, I/O or privilege check as under --user-exec bt.
 * A page whose direct runs keep ending within 20 us (system-call loops) is
 * translated for a few milliseconds: a signal costs more than that.
 *
 * Falls back to translation (counted in --stats): guest EFLAGS with IF = 0,
 * IOPL != 0, TF, NT or VM; a guest LDT (its selectors would name host LDT
 * entries that mirror the GDT); conforming or 16-bit code; guest pages
 * below vm.mmap_min_addr; MMIO. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "bt/bt.h"
#include "monitor/host_probe.h"
#include "monitor/vm.h"

_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_CSGSFS]) == 184, "UC_CSGSFS in direct_entry.S");
_Static_assert(offsetof(struct bt_dx_entry, rflags) == 12, "E_RFLAGS in direct_entry.S");

#define LIN_PAGES (1u << 20)
#define DV_MAX_MAPPED 20000           /* below vm.max_map_count with the other views */
#define DV_M 1u                        /* mapped (readable) */
#define DV_W 2u                        /* mapped writable */
#define DV_X 4u                        /* mapped executable (scanned clean, never writable) */
#define DV_REFUSED 8u                  /* code page the scan refuses (stays translated) */
#define DV_DEMOTED 16u                 /* code page whose direct runs were all short (translated) */
/* A direct run costs two world switches, one of them a host signal (about
 * 5 us on the nested host of docs/design.md).  Code that leaves after less
 * than DX_SHORT_NS, DX_DEMOTE_AFTER times in a row from one entry page, is
 * translated from there for a while (the next DX_EPOCH_NS boundary, or
 * until the page leaves the view): a loop of system calls, whose page
 * enters the kernel through the vDSO's SYSENTER page at every turn, ran 3x
 * slower directly; a compute loop on a page that once had short runs must
 * get its chance again. */
#define DX_SHORT_NS 20000
#define DX_DEMOTE_AFTER 16
#define DX_EPOCH_NS 5000000
#define FR_SCANNED 0x80u               /* frame_state: scanned; the low bits are its DXS_ classes */

enum dx_fallback {
	FB_FLAGS,       /* IF=0, IOPL, TF, NT, VM */
	FB_SEGMENT,     /* a segment the host LDT cannot mirror */
	FB_GUEST_LDT,
	FB_SCAN,        /* the code page holds a sensitive instruction */
	FB_PAGE,        /* code page not user-executable, outside RAM or below mmap_min_addr */
	FB_SHORT,       /* the page's direct runs were too short to pay for the switches */
	FB_CONTROL,     /* CR0.TS/EM, AC without CR0.AM, DR7 breakpoints */
	FB_COUNT,
};
static const char *const fb_name[FB_COUNT] = {
	"eflags", "segments", "guest LDT", "sensitive code page", "code page not mappable",
	"short runs", "CR0.TS/EM, AC, DR7",
};

enum dx_trap {
	TR_FILL, TR_FETCH, TR_PF, TR_GP, TR_CPUID, TR_UD, TR_DE_MF, TR_BP_OF, TR_SYS, TR_KICK, TR_OTHER, TR_COUNT,
};
static const char *const tr_name[TR_COUNT] = {
	"page fill", "code page", "#PF", "#GP", "CPUID", "#UD", "#DE/#MF", "INT3/INTO", "int 0x80", "kick", "other",
};

struct bt_direct {
	uint8_t *lin_state;         /* per linear page: DV_M | DV_W | DV_X; 0 = not mapped */
	uint32_t *lin_frame;        /* per linear page: frame + 1 */
	uint8_t *short_runs;        /* per linear page: direct runs from it in a row shorter than DX_SHORT_NS */
	uint8_t *demoted_at;        /* per linear page: the epoch (DX_EPOCH_NS, mod 256) it was demoted in */
	uint64_t epoch_ns;          /* start of this epoch */
	uint8_t epoch;
	uint8_t *frame_state;       /* per RAM frame: FR_SCANNED | DXS_ classes, 0 = not scanned */
	uint32_t *list;             /* linear pages mapped since the last reset */
	uint32_t n_list;
	uint64_t low;               /* first host address the view may map (mmap_min_addr) */
	struct bt_ldt ldt;
	struct sigaction old[_NSIG];
	bool handlers;
	/* statistics */
	uint64_t entries, ns, scans, scans_refused, seg_fixups, collisions, demotions;
	bool cpuid_faulting;        /* ARCH_SET_CPUID: CPUID in guest code faults */
	uint64_t traps[TR_COUNT], fallbacks[FB_COUNT];
};

/* The exit the signal handler recorded (one vCPU). */
static struct {
	int sig, code;
	uint64_t trapno, err, addr, rip, rsp, efl;
	uint32_t regs[8];
	uint16_t cs, ss;
} dx_exit;

/* Read by direct_entry.S */
uint64_t bt_dx_host_rsp, bt_dx_host_fs;
volatile uint8_t bt_dx_active;        /* between the world switch in and the trampoline */
uint8_t bt_dx_fsgsbase;                /* the world switch may use RD/WRFSBASE (else arch_prctl) */
volatile uint8_t bt_dx_fs_is_host;     /* without FSGSBASE: the stub put the host FS back */
uint16_t bt_dx_seen_sel[4];           /* DS ES FS GS at the signal */

static const int gregs_of[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };
static struct bt_direct *dx_current;
static uint16_t dx_host_cs;           /* the monitor's code segment (0x33) */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- the view */

static void dv_unmap(struct bt_direct *d, uint32_t lpn)
{
	uint8_t st = d->lin_state[lpn];
	if (!st)
		return;
	d->lin_state[lpn] = 0;
	d->lin_frame[lpn] = 0;
	d->short_runs[lpn] = 0;
	if (st & DV_M)
		mmap((void *)((uint64_t)lpn << 12), 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* Empties the view.  The scans stay when the other views keep their code
 * protections (a CR3 load with CR4.PGE, kview_flush_nonglobal): a scanned
 * frame is write-protected everywhere, so any write to it still reaches
 * bt_direct_frame_written.  Scans are per frame, so a process's code is
 * scanned once, not at every switch to it. */
void bt_direct_reset(struct bt *bt, bool forget_scans)
{
	struct bt_direct *d = bt->dx;
	if (!d)
		return;
	for (uint32_t i = 0; i < d->n_list; i++)
		dv_unmap(d, d->list[i]);
	d->n_list = 0;
	if (forget_scans && d->frame_state)
		memset(d->frame_state, 0, bt->kv.npages);
}

void bt_direct_unmap_page(struct bt *bt, uint32_t lin)
{
	if (bt->dx)
		dv_unmap(bt->dx, lin >> 12);
}

/* The frame's code protection is gone (a write reached it): its scan says
 * nothing any more, and no page mapping it may stay executable (nor stay
 * refused on the strength of the old scan). */
void bt_direct_frame_written(struct bt *bt, uint32_t frame)
{
	struct bt_direct *d = bt->dx;
	if (!d || frame >= bt->kv.npages || !d->frame_state[frame])
		return;
	d->frame_state[frame] = 0;
	for (uint32_t i = 0; i < d->n_list; i++) {
		uint32_t lpn = d->list[i];
		if (d->lin_frame[lpn] == frame + 1 && (d->lin_state[lpn] & (DV_X | DV_REFUSED)))
			dv_unmap(d, lpn);
	}
}

/* Translations now live in the frame: no direct mapping of it may stay
 * writable (a write must be seen as self-modifying code). */
void bt_direct_protect_frame(struct bt *bt, uint32_t frame)
{
	struct bt_direct *d = bt->dx;
	if (!d)
		return;
	for (uint32_t i = 0; i < d->n_list; i++) {
		uint32_t lpn = d->list[i];
		if (d->lin_frame[lpn] == frame + 1 && (d->lin_state[lpn] & DV_W))
			dv_unmap(d, lpn);
	}
}

/* Room in the list for one more page: at the limit, empty the view (stay
 * within vm.max_map_count; it refills on demand). */
static void dv_list_add(struct bt *bt, uint32_t lpn)
{
	struct bt_direct *d = bt->dx;
	if (d->lin_state[lpn])
		return;
	if (d->n_list >= DV_MAX_MAPPED)
		bt_direct_reset(bt, false);
	d->list[d->n_list++] = lpn;
}

static bool dv_map(struct bt *bt, uint32_t lpn, uint32_t frame, unsigned state)
{
	struct bt_direct *d = bt->dx;
	if (((uint64_t)lpn << 12) < d->low || frame >= bt->kv.npages)
		return false;
	int prot = PROT_READ | ((state & DV_W) ? PROT_WRITE : 0) | ((state & DV_X) ? PROT_EXEC : 0);
	void *want = (void *)((uint64_t)lpn << 12);
	uint8_t keep = d->lin_frame[lpn] == frame + 1 ? (d->lin_state[lpn] & DV_REFUSED) : 0;
	if (d->lin_state[lpn] && !keep)
		dv_unmap(d, lpn);
	dv_list_add(bt, lpn);
	if (mmap(want, 4096, prot, MAP_SHARED | MAP_FIXED, bt->vm->mem.fd, (off_t)frame << 12) != want) {
		d->lin_state[lpn] = 0;     /* left in the list: harmless */
		d->lin_frame[lpn] = 0;
		return false;
	}
	d->lin_state[lpn] = (uint8_t)(state | DV_M | keep); /* DV_M: a read-only data page is mapped too */
	d->lin_frame[lpn] = frame + 1;
	return true;
}

bool bt_direct_page_refused(const struct bt *bt, uint32_t lin)
{
	return bt->dx->lin_state[lin >> 12] & (DV_REFUSED | DV_DEMOTED);
}

/* Guest translation of lin for a CPL-3 access; false when the guest would
 * fault (the translated instruction will raise the #PF) or the page is
 * not RAM. */
static bool dv_walk(struct bt *bt, uint32_t lin, enum pw_access acc, uint32_t *frame, bool *writable)
{
	struct bt_cpu *c = &bt->cpu;
	uint64_t pa;
	if (!(c->cr0 & CR0_PG)) {
		pa = lin & ~0xfffu;
		*writable = true;
	} else {
		struct pw_request rq = { c->cr0, c->cr3, c->cr4, lin, acc, true, true };
		struct pw_result r;
		pw_walk(&bt->vm->mem.phys, &rq, &r);
		if (!r.ok)
			return false;
		pa = r.page_pa;
		*writable = r.writable && (r.dirty || acc == PW_WRITE);
	}
	if (pa >= bt->vm->mem.phys.size)
		return false;
	*frame = (uint32_t)(pa >> 12);
	return true;
}

/* The classes of the scan that keep a page translated now: segment and
 * system instructions always; RDTSC while the guest's TSC is not the
 * host's or CR4.TSD makes it fault; CPUID without CPUID faulting. */
static unsigned dv_refused_classes(struct bt *bt)
{
	unsigned r = DXS_SEGMENT | DXS_SYSTEM;
	if (bt->cpu.tsc_offset || (bt->cpu.cr4 & 4u /* CR4.TSD */))
		r |= DXS_RDTSC;
	if (!bt->dx->cpuid_faulting)
		r |= DXS_CPUID;
	return r;
}

/* Makes the code page holding lin executable in the view; a fall-back
 * reason when it may not run directly. */
static int dv_make_exec(struct bt *bt, uint32_t lin)
{
	struct bt_direct *d = bt->dx;
	uint32_t lpn = lin >> 12, frame;
	bool w;
	if (d->lin_state[lpn] & DV_DEMOTED) {
		if (d->demoted_at[lpn] == d->epoch)
			return FB_SHORT;
		d->lin_state[lpn] &= (uint8_t)~DV_DEMOTED;  /* another chance */
	}
	if (d->lin_state[lpn] & DV_X)
		return -1;
	if (d->lin_state[lpn] & DV_REFUSED)
		return FB_SCAN;
	if (!dv_walk(bt, lin, PW_FETCH, &frame, &w))
		return FB_PAGE;
	if (((uint64_t)lpn << 12) < d->low)
		return FB_PAGE;
	unsigned cls = d->frame_state[frame];
	if (!cls) {
		const uint8_t *page = bt->vm->mem.phys.base + ((uint64_t)frame << 12);
		const uint8_t *next = NULL, *prev = NULL;
		uint32_t nframe;
		if (lpn + 1 < LIN_PAGES && dv_walk(bt, (lin | 0xfff) + 1, PW_FETCH, &nframe, &w))
			next = bt->vm->mem.phys.base + ((uint64_t)nframe << 12);
		if (lpn > 0 && dv_walk(bt, (lin & ~0xfffu) - 1, PW_FETCH, &nframe, &w))
			prev = bt->vm->mem.phys.base + ((uint64_t)nframe << 12);
		unsigned found = bt_direct_scan_page(page, prev, next);
		d->scans++;
		/* An instruction cut off by an unknown next page may be anything
		 * its opcode allows: the page is judged with those classes, but
		 * that is not a result to keep unless the rest of the page is
		 * refused anyway. */
		cls = (found & 0xff) | ((found >> DXS_TAIL_SHIFT) & 0xff) | FR_SCANNED;
		d->scans_refused += (cls & dv_refused_classes(bt)) != 0;
		/* the result holds while the frame is write-protected: a write
		 * to it drops the scan (bt_direct_frame_written) */
		if (!(found & DXS_PARTIAL) || (found & (DXS_SEGMENT | DXS_SYSTEM))) {
			if (found & DXS_PARTIAL)
				cls = (found & 0xff & ~DXS_PARTIAL) | FR_SCANNED;
			d->frame_state[frame] = (uint8_t)cls;
			if (!kview_is_code(&bt->kv, frame))
				bt_views_protect_code(bt, (uint64_t)frame << 12);
		}
	}
	unsigned bad = cls & dv_refused_classes(bt);
	if (bad) {
		if ((bad & (DXS_SEGMENT | DXS_SYSTEM)) && d->frame_state[frame]) {
			/* for good (until the page or its frame changes): the
			 * dispatcher's next try costs one load */
			if (d->lin_state[lpn] && d->lin_frame[lpn] != frame + 1)
				dv_unmap(d, lpn);
			dv_list_add(bt, lpn);
			d->lin_state[lpn] |= DV_REFUSED;
			d->lin_frame[lpn] = frame + 1;
		}
		return FB_SCAN;
	}
	return dv_map(bt, lpn, frame, DV_X) ? -1 : FB_PAGE;
}

/* A data access at lin faulted: map it when the guest allows it. */
static bool dv_fill(struct bt *bt, uint32_t lin, bool write)
{
	struct bt_direct *d = bt->dx;
	uint32_t lpn = lin >> 12, frame;
	bool w;
	if (!dv_walk(bt, lin, write ? PW_WRITE : PW_READ, &frame, &w))
		return false;
	if (write && !w)
		return false;
	if (kview_is_code(&bt->kv, frame) || (d->lin_state[lpn] & DV_X))
		w = false;                        /* code: writes go through the translator's SMC path */
	if (write && !w)
		return false;
	if (d->lin_state[lpn] && (d->lin_state[lpn] & DV_W) == (w ? DV_W : 0) && d->lin_frame[lpn] == frame + 1)
		return false;                     /* already so: the fault was something else */
	return dv_map(bt, lpn, frame, w ? DV_W : 0);
}

/* ---------------------------------------------------------------- signals */

void bt_direct_signal(int sig, siginfo_t *si, void *ctx);
void bt_direct_signal(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	struct bt_direct *d = dx_current;
	uint16_t cs = (uint16_t)g[REG_CSGSFS];
	if (d && bt_dx_active && !(cs & 4) && (cs != dx_host_cs || (uint64_t)g[REG_RIP] < (1ull << 32))) {
		/* Guest code runs on a host code segment instead of its own: a
		 * far transfer the scan did not see (hidden in other
		 * instructions) to a host GDT selector — 0x33 on x86-64 Linux
		 * is 64-bit code — or a hidden SYSENTER, after which the host's
		 * compat entry returns on its own 0x23 (RIP in the host's
		 * vDSO).  The monitor's own code in the world switch runs on
		 * the host CS above 4 GiB.  Nothing of the guest's
		 * can be trusted any more: stop.  A host system call from there
		 * (SIGSYS) goes to the sandbox, which names it.  docs/security.md */
		struct sigaction *o = &d->old[SIGSYS];
		if (sig == SIGSYS && (o->sa_flags & SA_SIGINFO) && o->sa_sigaction) {
			o->sa_sigaction(sig, si, ctx);
			return;
		}
		char msg[240];
		int n = snprintf(msg, sizeof(msg),
				 "btvm: guest user code escaped its segments to host code segment %#llx (RIP %#llx, "
				 "signal %d): a far transfer or SYSENTER hidden from the code scan; the VM is stopped\n",
				 (unsigned long long)(g[REG_CSGSFS] & 0xffff), (unsigned long long)g[REG_RIP], sig);
		if (n > 0 && write(2, msg, (size_t)n) < 0)
			_exit(10);
		_exit(10);
	}
	if (!(g[REG_CSGSFS] & 4) || !d) {
		/* the monitor's own signal: whoever handled it before */
		struct sigaction *o = d ? &d->old[sig] : NULL;
		if (o && (o->sa_flags & SA_SIGINFO) && o->sa_sigaction)
			o->sa_sigaction(sig, si, ctx);
		else if (o && o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN)
			o->sa_handler(sig);
		else if (!o || o->sa_handler == SIG_DFL) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		return;
	}
	dx_exit.sig = sig;
	dx_exit.code = si->si_code;
	dx_exit.trapno = (uint64_t)g[REG_TRAPNO];
	dx_exit.err = (uint64_t)g[REG_ERR];
	dx_exit.addr = (uint64_t)(uintptr_t)si->si_addr;
	dx_exit.rip = (uint64_t)g[REG_RIP];
	dx_exit.efl = (uint64_t)g[REG_EFL];
	dx_exit.cs = (uint16_t)g[REG_CSGSFS];
	dx_exit.ss = (uint16_t)((uint64_t)g[REG_CSGSFS] >> 48);
	for (int r = 0; r < 8; r++)
		dx_exit.regs[r] = (uint32_t)g[gregs_of[r]];
	if (sig == BTVM_KICK_SIGNAL) {
		/* the kick's own handler too (kick.c): it only sets flags */
		struct sigaction *o = &d->old[sig];
		if (o->sa_flags & SA_SIGINFO)
			o->sa_sigaction(sig, si, ctx);
		else if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN)
			o->sa_handler(sig);
	}
	/* back to the monitor: 64-bit code on its own stack */
	g[REG_RIP] = (greg_t)(uintptr_t)bt_direct_exit_tramp;
	g[REG_RSP] = (greg_t)bt_dx_host_rsp;
	g[REG_EFL] = 0x202;
	g[REG_CSGSFS] = (greg_t)(0x33ull | (0x2bull << 48));
}

static const int dx_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, BTVM_KICK_SIGNAL };

/* After the monitor's own handlers (the fault handlers, the kick, the
 * sandbox's SIGSYS) are in place: put the stub in front of them, on the
 * alternate stack (guest ESP is guest memory, and RSP's upper half is
 * not to be trusted after compatibility-mode code). */
static int install_handlers(struct bt_direct *d)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))bt_direct_sigstub;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(dx_signals) / sizeof(dx_signals[0]); i++) {
		int s = dx_signals[i];
		if (sigaction(s, NULL, &d->old[s]) < 0 || sigaction(s, &sa, NULL) < 0)
			return -1;
	}
	d->handlers = true;
	return 0;
}

/* i386 system calls (`int 0x80` from guest code) must never reach the
 * host kernel: SECCOMP_RET_TRAP turns them into SIGSYS.  The host sandbox
 * (monitor/sandbox.c) traps them too; this filter also covers --no-sandbox. */
static int trap_i386_syscalls(char *err, size_t errlen)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		snprintf(err, errlen, "--user-exec direct: cannot trap i386 system calls (seccomp): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- set-up */

int bt_direct_init(struct bt *bt, char *err, size_t errlen)
{
	/* Compatibility mode is the one thing direct execution cannot do
	 * without (host_probe.c tries a far jump to an LDT code segment).
	 * FSGSBASE only makes the world switch cheaper: without it the
	 * signal stub sets the host's FS base with arch_prctl. */
	if (!host_has(HOST_COMPAT_MODE)) {
		snprintf(err, errlen, "this host cannot run compatibility-mode code (%s)", host_cap_why(HOST_COMPAT_MODE));
		return -1;
	}
	struct bt_direct *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bt->dx = d;
	d->lin_state = calloc(LIN_PAGES, 1);
	d->lin_frame = calloc(LIN_PAGES, sizeof(*d->lin_frame));
	d->short_runs = calloc(LIN_PAGES, 1);
	d->demoted_at = calloc(LIN_PAGES, 1);
	d->frame_state = calloc(bt->kv.npages, 1);
	d->list = calloc(DV_MAX_MAPPED + 1, sizeof(*d->list));
	if (!d->lin_state || !d->lin_frame || !d->short_runs || !d->demoted_at || !d->frame_state || !d->list) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct guest_window_range w = guest_mem_window(&bt->vm->mem, GUEST_WIN_ULOW);
	if (!w.size) {
		snprintf(err, errlen, "--user-exec direct: the low 4 GiB are not reserved");
		return -1;
	}
	d->low = w.base;
	bt_dx_fsgsbase = host_has(HOST_FSGSBASE);
	if (bt_dx_fsgsbase)
		__asm__ volatile("rdfsbase %0" : "=r"(bt_dx_host_fs));
	else if (syscall(SYS_arch_prctl, ARCH_GET_FS, &bt_dx_host_fs) < 0) {
		snprintf(err, errlen, "--user-exec direct: cannot read the FS base: %s", strerror(errno));
		return -1;
	}
	__asm__ volatile("mov %%cs, %0" : "=r"(dx_host_cs));
	/* The alternate signal stack: set now, before the sandbox. */
	stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0 };
	if (!ss.ss_sp || sigaltstack(&ss, NULL) < 0) {
		snprintf(err, errlen, "--user-exec direct: no alternate signal stack: %s", strerror(errno));
		return -1;
	}
	if (trap_i386_syscalls(err, errlen) < 0)
		return -1;
	/* CPUID faulting (SDM Vol. 3A 2.2 and the IA32_MISC_FEATURES_ENABLES
	 * MSR; Linux's ARCH_SET_CPUID): guest CPUID then faults and is
	 * emulated, so pages with CPUID may run directly.  Without it the
	 * scan keeps them translated.  The monitor itself executes no CPUID
	 * after this (its feature checks ran at start-up). */
	d->cpuid_faulting = host_has(HOST_CPUID_FAULTING) && syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) == 0;
	dx_current = d;
	return 0;
}

void bt_direct_destroy(struct bt *bt)
{
	struct bt_direct *d = bt->dx;
	if (!d)
		return;
	if (d->handlers)
		for (size_t i = 0; i < sizeof(dx_signals) / sizeof(dx_signals[0]); i++)
			sigaction(dx_signals[i], &d->old[dx_signals[i]], NULL);
	bt_direct_reset(bt, true);
	free(d->lin_state);
	free(d->lin_frame);
	free(d->short_runs);
	free(d->demoted_at);
	free(d->frame_state);
	free(d->list);
	free(d);
	dx_current = NULL;
	bt->dx = NULL;
}

/* ---------------------------------------------------------------- running */

#define SEG_CODE 0x08u
#define SEG_CONF 0x04u
#define SEG_DB 0x4000u  /* struct seg attr: access byte | descriptor byte 6 high nibble << 8 */

/* Host selectors for the guest's segments, or a fall-back reason. */
static int load_segments(struct bt *bt, struct bt_dx_entry *e)
{
	struct bt_cpu *c = &bt->cpu;
	struct bt_direct *d = bt->dx;
	if (c->ldtr.sel & ~3u)
		return FB_GUEST_LDT;
	const struct seg *cs = &c->seg[S_CS], *ss = &c->seg[S_SS];
	if (!(cs->attr & SEG_CODE) || (cs->attr & SEG_CONF) || !(cs->attr & SEG_DB) || !(ss->attr & SEG_DB))
		return FB_SEGMENT;
	uint16_t *out[6] = { &e->es, &e->cs, &e->ss, &e->ds, &e->fs, &e->gs };
	for (int s = 0; s < 6; s++) {
		const struct seg *g = &c->seg[s];
		unsigned idx = g->sel >> 3;
		if (g->sel & 4)
			return FB_SEGMENT;
		if (idx == 0) {
			if (s == S_CS || s == S_SS)
				return FB_SEGMENT;
			*out[s] = 0;       /* null: a use faults (#GP), as on the guest */
			continue;
		}
		/* two registers with one selector but different caches */
		for (int t = 0; t < s; t++)
			if ((c->seg[t].sel >> 3) == idx && (c->seg[t].base != g->base || c->seg[t].limit != g->limit ||
							    c->seg[t].attr != g->attr))
				return FB_SEGMENT;
		if (bt_ldt_install(&d->ldt, g, idx) < 0)
			return FB_SEGMENT;
		*out[s] = (uint16_t)((idx << 3) | 4 | ((s == S_CS || s == S_SS) ? 3 : (g->sel & 3)));
	}
	return -1;
}

/* Guest code loaded a segment register natively: an instruction the scan
 * did not see (bytes it took for data, or a jump into the middle of an
 * instruction).  A selector with TI = 1 named our mirror of the guest
 * GDT entry of the same index; one with TI = 0 named the host GDT, whose
 * DPL-3 entries (4, 5, 6 and 15 on x86-64 Linux: 32- and 64-bit user code,
 * user data, the CPU-number segment) load without a fault — the collision
 * the guest's TLS selector 0x33 (GDT entry 6) meets.  Either way the guest
 * meant its own GDT entry: load that through the translator's segment
 * load, with its checks, so the registers hold what they would on the
 * guest from here on.  Accesses made in between went through the host
 * descriptor (base 0; most such accesses fault, which brings the code
 * here).  False when the load faults (the guest's exception is pending). */
static bool fix_segments(struct bt *bt, const uint16_t *seen, const uint16_t *loaded)
{
	struct bt_direct *d = bt->dx;
	for (int s = 0; s < 6; s++) {
		if (seen[s] == loaded[s])
			continue;
		if (s == S_CS || s == S_SS) {
			bt_set_error(bt, "--user-exec direct: guest code at EIP %#x changed %s to host selector %#x natively",
				     bt->cpu.eip, s == S_CS ? "CS" : "SS", seen[s]);
			bt->exit = BX_ERROR;
			return false;
		}
		uint16_t sel = (uint16_t)(seen[s] & ~4u);
		d->seg_fixups++;
		d->collisions += !(seen[s] & 4) && (seen[s] >> 3);
		bool fault = false;
		uint32_t err = 0;
		bt->exit = BX_DISPATCH;
		if (bt_load_seg(bt, s, sel, &fault, &err) < 0 || fault)
			return false;
	}
	return true;
}

static uint32_t fetch_byte(struct bt *bt, uint32_t lin)
{
	uint8_t b = 0;
	if (bt_fetch(bt, lin, &b, 1) != 1)
		return 0x100;
	return b;
}

/* The instruction before a trap's EIP: INT3 (CC), INT n (CD n), INTO (CE). */
static uint32_t trap_insn_start(struct bt *bt, uint32_t next, int vector)
{
	if (vector == 3 && fetch_byte(bt, next - 1) == 0xCC)
		return next - 1;
	if (vector == 4 && fetch_byte(bt, next - 1) == 0xCE)
		return next - 1;
	if (fetch_byte(bt, next - 2) == 0xCD && fetch_byte(bt, next - 1) == (uint32_t)vector)
		return next - 2;
	return next;
}

int bt_direct_run(struct bt *bt)
{
	struct bt_direct *d = bt->dx;
	struct bt_cpu *c = &bt->cpu;
	const uint32_t bad_flags = EFLAGS_IOPL | EFLAGS_TF | EFLAGS_NT | EFLAGS_VM;
	if (!(c->eflags & EFLAGS_IF) || (c->eflags & bad_flags)) {
		d->fallbacks[FB_FLAGS]++;
		return 1;
	}
	/* What the host CPU would not do as the guest's: #NM for x87/SSE
	 * under the guest's CR0.TS or EM (a lazy-FPU kernel); alignment
	 * checks (the host has CR0.AM set, the guest may not); the guest's
	 * code and data breakpoints (DR7 L0-3/G0-3; SDM Vol. 3B 17.2.4) */
	if ((c->cr0 & (CR0_TS | CR0_EM)) || ((c->eflags & EFLAGS_AC) && !(c->cr0 & CR0_AM)) ||
	    (c->dr[7] & 0xff)) {
		d->fallbacks[FB_CONTROL]++;
		return 1;
	}
	struct bt_dx_entry e;
	int why = load_segments(bt, &e);
	if (why < 0)
		why = dv_make_exec(bt, c->eip);
	if (why >= 0) {
		d->fallbacks[why]++;
		return 1;
	}
	if (!d->handlers && install_handlers(d) < 0) {
		bt_set_error(bt, "--user-exec direct: cannot install the signal handlers: %s", strerror(errno));
		bt->exit = BX_ERROR;
		return 0;
	}
	/* RFLAGS: the guest's arithmetic flags, DF, AC and ID; IF = 1 so the
	 * host can interrupt it; IOPL 0 so CLI/STI/IN/OUT fault. */
	const uint32_t pass = EFLAGS_HOST_MASK | EFLAGS_AC | EFLAGS_ID;
	e.rflags = (c->eflags & pass) | EFLAGS_IF | 2;
	d->entries++;
	uint32_t entry_lpn = c->eip >> 12;
	uint64_t t0 = mono_ns();
	bt_direct_enter(c, &e);
	uint64_t t1 = mono_ns(), dt = t1 - t0;
	d->ns += dt;
	if (t1 - d->epoch_ns >= DX_EPOCH_NS) {
		d->epoch_ns = t1;
		d->epoch++;
	}
	/* the exits of a system-call loop: `int 0x80` (SIGSYS) or a call
	 * into the vDSO's refused page (an instruction fetch fault); faults
	 * and fills are as dear translated */
	bool call_exit = dx_exit.sig == SIGSYS ||
			 (dx_exit.sig == SIGSEGV && dx_exit.trapno == 14 && (dx_exit.err & PW_PF_ID));
	if (dx_exit.sig == BTVM_KICK_SIGNAL || dt >= DX_SHORT_NS)
		d->short_runs[entry_lpn] = 0;
	else if (call_exit && ++d->short_runs[entry_lpn] >= DX_DEMOTE_AFTER && d->lin_state[entry_lpn]) {
		d->lin_state[entry_lpn] |= DV_DEMOTED;  /* in the list: mapped executable */
		d->demoted_at[entry_lpn] = d->epoch;
		d->short_runs[entry_lpn] = 0;
		d->demotions++;
	}
	bt->gs_base = ~0ull;  /* the guest's GS was loaded: bt_select_view sets the view again */

	/* guest state from the frame */
	for (int r = 0; r < 8; r++)
		c->regs[r] = dx_exit.regs[r];
	c->eip = (uint32_t)dx_exit.rip;
	c->eflags = (c->eflags & ~pass) | ((uint32_t)dx_exit.efl & pass);
	uint16_t seen[6] = { bt_dx_seen_sel[1], dx_exit.cs, dx_exit.ss, bt_dx_seen_sel[0], bt_dx_seen_sel[2],
			     bt_dx_seen_sel[3] };
	uint16_t loaded[6] = { e.es, e.cs, e.ss, e.ds, e.fs, e.gs };
	if (memcmp(seen, loaded, sizeof(seen)) && !fix_segments(bt, seen, loaded))
		return 0;
	bt->exit = BX_DISPATCH;
	int sig = dx_exit.sig;
	if (sig == BTVM_KICK_SIGNAL) {
		d->traps[TR_KICK]++;
		return 0;
	}
	if (sig == SIGSEGV && dx_exit.trapno == 14) {
		uint32_t lin = (uint32_t)dx_exit.addr;
		bool fetch = dx_exit.err & PW_PF_ID, write = dx_exit.err & PW_PF_W;
		if (fetch) {
			/* a jump to (or an instruction running into) a page not
			 * scanned yet: the dispatcher decides at its next entry
			 * when EIP is there; else the translator runs the
			 * instruction that crosses into it */
			d->traps[TR_FETCH]++;
			if ((lin >> 12) != (c->eip >> 12) && dv_make_exec(bt, lin) >= 0)
				bt->single_next = true;
			return 0;
		}
		if (dv_fill(bt, lin, write)) {
			d->traps[TR_FILL]++;
			return 0;
		}
		d->traps[TR_PF]++;
		bt->single_next = true;   /* the translator raises the guest's #PF, or does the SMC write */
		return 0;
	}
	switch (sig) {
	case SIGSYS:
		/* int 0x80: EIP is after the CD 80 (seccomp reports the call
		 * with the registers as they were: SECCOMP_RET_TRAP) */
		d->traps[TR_SYS]++;
		uint32_t at = trap_insn_start(bt, c->eip, 0x80);
		if (at == c->eip) {
			/* not after an `int 0x80`, yet from the guest's own code
			 * segment: no host entry is known to do that (a hidden
			 * SYSENTER comes back on the host's 0x23, handled in
			 * bt_direct_signal); whatever it was, EIP cannot be
			 * trusted: say so rather than go on with it. */
			bt_set_error(bt, "--user-exec direct: guest user code made a system call that was not an "
				     "int 0x80 (at %#x); its state cannot be recovered", c->eip);
			bt->exit = BX_ERROR;
			return 0;
		}
		c->eip = at;
		break;
	case SIGTRAP:
		if (dx_exit.trapno == 1 && !(c->eflags & EFLAGS_TF) && (dx_exit.efl & EFLAGS_TF)) {
			/* POPF set TF: the trap after the next instruction (SDM Vol. 3B 17.3.1.4) */
			c->eflags |= EFLAGS_TF;
			c->dr[6] |= 0x4000;
			d->traps[TR_OTHER]++;
			bt_deliver_event(bt, 1, false, 0, false, 0);
			return 0;
		}
		d->traps[TR_BP_OF]++;
		c->eip = trap_insn_start(bt, c->eip, dx_exit.trapno == 1 ? 1 : 3);
		break;
	case SIGSEGV:
		if (dx_exit.trapno == 4) {
			d->traps[TR_BP_OF]++;
			c->eip = trap_insn_start(bt, c->eip, 4);
		} else if (dx_exit.trapno == 13) {
			bool cpuid = fetch_byte(bt, c->eip) == 0x0F && fetch_byte(bt, c->eip + 1) == 0xA2;
			d->traps[cpuid ? TR_CPUID : TR_GP]++;  /* CPUID faulting, or a privileged instruction */
		} else {
			d->traps[TR_OTHER]++;
		}
		break;
	case SIGILL:
		d->traps[TR_UD]++;
		break;
	case SIGFPE:
		d->traps[TR_DE_MF]++;
		break;
	default:
		d->traps[TR_OTHER]++;
		break;
	}
	/* the translator runs the instruction at EIP: exact by construction */
	bt->single_next = true;
	return 0;
}

void bt_direct_print_stats(struct bt *bt, FILE *f)
{
	struct bt_direct *d = bt->dx;
	if (!d)
		return;
	fprintf(f, "  direct: %llu entries, %.1f ms in direct execution (%.1f%% of the time in bt), "
		   "%llu code pages scanned (%llu refused), %llu host LDT writes, CPUID faulting %s\n",
		(unsigned long long)d->entries, (double)d->ns / 1e6,
		bt->run_ns ? 100.0 * (double)d->ns / (double)bt->run_ns : 0.0,
		(unsigned long long)d->scans, (unsigned long long)d->scans_refused,
		(unsigned long long)d->ldt.writes, d->cpuid_faulting ? "on" : "off (pages with CPUID translated)");
	fprintf(f, "  direct: segment loads the scan missed, fixed up at exits: %llu (host GDT collisions %llu); "
		   "pages translated after %d short runs: %llu\n",
		(unsigned long long)d->seg_fixups, (unsigned long long)d->collisions, DX_DEMOTE_AFTER,
		(unsigned long long)d->demotions);
	fprintf(f, "  direct: exits by kind:");
	for (int i = 0; i < TR_COUNT; i++)
		fprintf(f, " %s %llu%s", tr_name[i], (unsigned long long)d->traps[i], i + 1 < TR_COUNT ? "," : "\n");
	fprintf(f, "  direct: fall-backs to translation:");
	for (int i = 0; i < FB_COUNT; i++)
		fprintf(f, " %s %llu%s", fb_name[i], (unsigned long long)d->fallbacks[i], i + 1 < FB_COUNT ? "," : "\n");
}
