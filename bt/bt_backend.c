/* The bt backend: guest ring-0 code runs as translated blocks in the
 * monitor's own thread.  The dispatcher looks up (or translates) the block
 * at the guest EIP, enters it (bt_enter), and acts on why it came back;
 * faults inside translated code arrive as host signals, are mapped back to
 * the guest instruction through the block's side table, and become guest
 * exceptions, self-modifying-code invalidations, or a clear error.
 *
 * This stage runs guests with paging off at CPL 0; it says so, in one
 * line, when a guest goes beyond that (paging, ring 3, task switches). */
#include <asm/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "bt/bt.h"
#include "monitor/crash_report.h"
#include "monitor/vm.h"

_Static_assert(offsetof(struct bt_cpu, regs) == CPU_OFF_REGS, "regs");
_Static_assert(offsetof(struct bt_cpu, eip) == CPU_OFF_EIP, "eip");
_Static_assert(offsetof(struct bt_cpu, eflags) == CPU_OFF_EFLAGS, "eflags");
_Static_assert(offsetof(struct bt_cpu, host_rsp) == CPU_OFF_HOST_RSP, "host_rsp");
_Static_assert(offsetof(struct bt_cpu, exit_fn) == CPU_OFF_EXIT_FN, "exit_fn");
_Static_assert(offsetof(struct bt_cpu, callout_fn) == CPU_OFF_CALLOUT, "callout");
_Static_assert(offsetof(struct bt_cpu, arg) == CPU_OFF_ARG, "arg");
_Static_assert(offsetof(struct bt_cpu, fn) == CPU_OFF_FN, "fn");
_Static_assert(offsetof(struct bt_cpu, lookup) == CPU_OFF_LOOKUP, "lookup");
_Static_assert(offsetof(struct bt_cpu, last_stub) == CPU_OFF_LAST_STUB, "last_stub");
_Static_assert(offsetof(struct bt_cpu, exit_chain_fn) == CPU_OFF_EXIT_CHAIN, "exit_chain");
_Static_assert(offsetof(struct bt, cpu) == 0, "cpu first");
_Static_assert(offsetof(struct bt_cpu, fx_guest) == CPU_OFF_FX_GUEST, "fx_guest");
_Static_assert(offsetof(struct bt_cpu, vif) == CPU_OFF_VIF, "vif");
_Static_assert(offsetof(struct bt_cpu, vflags) == CPU_OFF_VFLAGS, "vflags");
_Static_assert(offsetof(struct bt_cpu, irq_pend) == CPU_OFF_IRQ_PEND, "irq_pend");
_Static_assert(offsetof(struct bt_cpu, view_base) == CPU_OFF_VIEW, "view_base");
_Static_assert(EFLAGS_VIRT_MASK == EFLAGS_VIRT_MASK_ASM, "virt mask");
_Static_assert(offsetof(struct bt_cpu, fx_host) == CPU_OFF_FX_HOST, "fx_host");
_Static_assert(offsetof(struct bt_cpu, xmm_save) == CPU_OFF_XMM_SAVE, "xmm_save");

static struct bt *current_bt; /* for the signal handlers (one vCPU) */

static struct bt *bt_state(struct vm *vm) { return vm->backend_state; }

/* ---------------------------------------------------------------- faults */

static const int host_regs_map[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_R12, REG_RBP, REG_RSI, REG_RDI };

static void fatal_host_fault(int sig, siginfo_t *si, ucontext_t *uc)
{
	crash_report(sig, si, uc, "outside translated code");
	crash_report_exit();
}

/* The guest's part of a crash report (crash_report.h). */
static void crash_guest_state(char *buf, size_t len)
{
	struct bt *bt = current_bt;
	if (!bt)
		return;
	const struct bt_cpu *c = &bt->cpu;
	int n = snprintf(buf, len, "--accel bt, EIP %#x CPL %d CR0 %#x CR3 %#x CR4 %#x EFLAGS %#x%s", c->eip, c->cpl,
			 c->cr0, c->cr3, c->cr4, c->eflags, bt->dx ? ", direct execution on" : "");
	uint64_t d = bt->st.dispatches;
	if (n < 0 || !d)
		return;
	size_t at = (size_t)n;
	at += (size_t)snprintf(buf + at, at < len ? len - at : 0,
			       "\nlast blocks entered from the dispatcher (of %llu; chained ones are not seen), oldest first:",
			       (unsigned long long)d);
	for (uint64_t i = d > 8 ? d - 8 : 0; i < d && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, " %#x", bt->recent_eip[i % 8]);
}

/* The kick handler's hook: make the safepoint page inaccessible so that
 * translated code, which may be chained in a loop, comes back at its next
 * block entry. */
static void bt_kick_hook(void)
{
	struct bt *bt = current_bt;
	if (bt) {
		mprotect(bt->tc.poll, 4096, PROT_NONE);
		bt->hc.sig_kick++;
		bt->hc.sys_poll++;
	}
}

static void poll_restore(struct bt *bt)
{
	mprotect(bt->tc.poll, 4096, PROT_READ | PROT_WRITE);
	bt->hc.sys_poll++;
}

/* True when the translation of one guest instruction, from start up to the
 * faulting host PC, contains the BT_HI8_MARK no-op (bt.h). */
static bool hi8_marker_before(const uint8_t *start, const uint8_t *pc)
{
	for (const uint8_t *p = start; p + 7 <= pc; p++) {
		uint32_t m;
		memcpy(&m, p + 3, 4);
		if (p[0] == 0x0F && p[1] == 0x1F && p[2] == 0x80 && m == BT_HI8_MARK)
			return true;
	}
	return false;
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	struct bt *bt = current_bt;
	greg_t *g = uc->uc_mcontext.gregs;
	struct bt_block *b = bt ? tcache_find_pc(&bt->tc, (void *)g[REG_RIP]) : NULL;
	if (!b) {
		fatal_host_fault(sig, si, uc);
		return;
	}
	struct bt_cpu *c = &bt->cpu;
	/* The guest instruction whose translation faulted. */
	uint32_t off = (uint32_t)((uint8_t *)g[REG_RIP] - b->code), eip = b->eip;
	unsigned idx = 0;
	for (; idx < b->n_insns && b->host_off[idx + 1] <= off; idx++)
		eip += b->insn_len[idx];
	for (int r = 0; r < 8; r++)
		c->regs[r] = (uint32_t)g[host_regs_map[r]];
	if (idx < b->n_insns && hi8_marker_before(b->code + b->host_off[idx], b->code + off))
		c->regs[R_ESI] = (uint32_t)g[REG_R14]; /* translate.c: guest ESI saved in r14 */
	c->eflags = (c->eflags & ~(EFLAGS_HOST_MASK | EFLAGS_IF)) | ((uint32_t)g[REG_EFL] & EFLAGS_HOST_MASK) | c->vif;
	c->eip = eip;
	bt->st.host_faults++;
	bt->exit = BX_DISPATCH;

	switch (sig) {
	case SIGSEGV: {
		uint8_t *a = si->si_addr;
		if (a >= bt->tc.poll && a < bt->tc.poll + 4096) {
			poll_restore(bt); /* a kick: back to the dispatcher */
			bt->poll_hit = true; /* nothing of the block ran */
			bt->hc.sig_poll++;
			break;
		}
		bool user_view = kview_contains(&bt->uv, a);
		struct kview *view = user_view ? &bt->uv : &bt->kv;
		if (!user_view && !kview_contains(&bt->kv, a)) {
			bt->hc.sig_other++;
			bt_set_error(bt, "internal error: translated code at guest EIP %#x touched host "
				     "address %p outside the guest view", eip, (void *)a);
			break;
		}
		uint32_t lin = (uint32_t)(a - view->base);
		bool write = (g[REG_ERR] & 2) != 0;
		if (!view->paging) {
			uint64_t pa = lin;
			if (pa < bt->vm->mem.phys.size && bt_views_unprotect(bt, pa)) {
				/* A write to a page with translations: drop them and
				 * run the instruction again from a fresh translation. */
				bt->st.smc_invalidations += tcache_invalidate_page(&bt->tc, (uint32_t)(pa >> 12));
				bt->st.smc_faults++;
				bt->hc.sig_smc++;
				bt->smc_step = true; /* else retranslation re-protects: a livelock */
				break;
			}
			if (pa >= bt->vm->mem.phys.size) {
				bt->hc.sig_mmio++;
				bt_mmio_fault(bt, eip);
				break;
			}
			bt->hc.sig_other++;
			bt_set_error(bt, "internal error: host fault at guest EIP %#x on RAM at physical "
				     "address %#llx, which the view maps", eip, (unsigned long long)pa);
			break;
		}
		/* Paging: a virtual-TLB miss, a first write (D bit), a write to
		 * code, or the guest's own #PF. */
		struct pw_request rq = { c->cr0, c->cr3, c->cr4, lin, write ? PW_WRITE : PW_READ,
					 user_view, true, (c->efer & EFER_NXE) != 0, bt_smap_ac(bt) };
		struct pw_result r;
		pw_walk(&bt->vm->mem.phys, &rq, &r);
		if (!r.ok) {
			if (r.bad_table) {
				bt->hc.sig_other++;
				bt_set_error(bt, "a guest page table for linear address %#x lies outside RAM, or "
					     "its page above 4 GiB (PDE at %#llx, PTE at %#llx, page at %#llx)", lin,
					     (unsigned long long)r.pde_pa, (unsigned long long)r.pte_pa,
					     (unsigned long long)r.page_pa);
				break;
			}
			c->cr2 = lin;
			bt_raise(bt, 14, true, r.error_code);
			bt->hc.sig_guest_pf++;
			break;
		}
		uint32_t frame = r.page_pa >> 12;
		if (!user_view && r.user_ok && (c->cr4 & CR4_SMAP)) {
			/* SMAP: the K-view never maps user pages, so that
			 * every supervisor access to one comes here; EFLAGS.AC
			 * let this one through: it runs in C, and as a callout
			 * from now on (mmio.c), where bt_read/bt_write check
			 * SMAP per access (docs/design.md, "SMEP and SMAP"). */
			bt_mmio_fault(bt, eip);
			break;
		}
		if (r.page_pa >= bt->vm->mem.phys.size) {
			bt->hc.sig_mmio++;
			bt_mmio_fault(bt, eip);
			break;
		}
		if (write && kview_is_code(view, frame)) {
			bt_views_unprotect(bt, r.page_pa);
			bt->st.smc_invalidations += tcache_invalidate_page(&bt->tc, frame);
			bt->st.smc_faults++;
			bt->hc.sig_smc++;
			bt->smc_step = true; /* else retranslation re-protects: a livelock */
			kview_map_page(view, lin, frame, r.writable && r.dirty, r.global && (c->cr4 & CR4_PGE));
			break; /* re-dispatch: the current block may be gone */
		}
		kview_map_page(view, lin, frame, r.writable && (r.dirty || write), r.global && (c->cr4 & CR4_PGE));
		bt->st.shadow_fills++;
		bt->hc.sig_fill++;
		return; /* retry the access where it faulted */
	}
	case SIGFPE:
		if (si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF)
			bt_raise(bt, 0, false, 0);          /* #DE */
		else
			bt_raise(bt, (c->cr0 & CR0_NE) ? 16 : 16, false, 0); /* #MF (x87) */
		bt->hc.sig_guest_exc++;
		break;
	case SIGILL:
		bt_raise(bt, 6, false, 0);
		bt->hc.sig_guest_exc++;
		break;
	default:
		bt->hc.sig_other++;
		bt_set_error(bt, "host signal %d in translated code at guest EIP %#x", sig, eip);
		break;
	}
	g[REG_RIP] = (greg_t)(uintptr_t)bt_fault_exit;
	g[REG_R15] = (greg_t)(uintptr_t)c;
}

static int install_fault_handlers(char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	const int sigs[] = { SIGSEGV, SIGFPE, SIGILL, SIGBUS, SIGTRAP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			snprintf(err, errlen, "bt: cannot install fault handlers: %s", strerror(errno));
			return -1;
		}
	return 0;
}

/* ---------------------------------------------------------------- backend */

static void flat_seg(struct seg *s, uint16_t sel, uint16_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

static int bt_create(struct vm *vm, const struct boot_state *bs, char *err, size_t errlen)
{
	struct bt *bt = calloc(1, sizeof(*bt));
	if (!bt) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vm->backend_state = bt;
	bt->vm = vm;
	__builtin_cpu_init();
	bt->host_bmi2 = __builtin_cpu_supports("bmi2"); /* PEXT for inline STOS/SCAS (translate.c) */
	current_bt = bt;
	crash_report_set_guest(crash_guest_state);
	decoder_init(&bt->dec);
	if (tcache_init(&bt->tc, err, errlen) < 0 ||
	    kview_init(&bt->kv, &vm->mem, BTVM_KVIEW_BASE, err, errlen) < 0 ||
	    kview_init(&bt->uv, &vm->mem, BTVM_UTVIEW_BASE, err, errlen) < 0 ||
	    install_fault_handlers(err, errlen) < 0)
		return -1;
	/* --user-exec direct (bt/direct.c), the default where the host can */
	enum user_exec ux = vm->cfg ? vm->cfg->user_exec : USER_EXEC_BT;
	if (ux != USER_EXEC_BT && bt_direct_init(bt, err, errlen) < 0) {
		if (ux == USER_EXEC_DIRECT)
			return -1;
		/* said once the guest first runs ring-3 code: a run that ends
		 * before (a bad option, a kernel that never enters user mode)
		 * stays free of it */
		snprintf(bt->direct_note, sizeof(bt->direct_note), "%s", err);
		bt_direct_destroy(bt);
		err[0] = 0;
	}
	/* How translated code reaches the views (views.c): through GS, whose
	 * base is then the view of the current CPL (gs:[ea32]), or through R9. */
	bt_views_init(bt);
	if (bt->views != BT_VIEWS_REG) {
		if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)BTVM_KVIEW_BASE) < 0) {
			snprintf(err, errlen, "bt: cannot set the GS base: %s", strerror(errno));
			return -1;
		}
		bt->gs_base = BTVM_KVIEW_BASE;
	}
	struct bt_cpu *c = &bt->cpu;
	c->exit_fn = (uint64_t)(uintptr_t)bt_exit;
	c->exit_chain_fn = (uint64_t)(uintptr_t)bt_exit_chain;
	kick_hook = bt_kick_hook;
	c->callout_fn = (uint64_t)(uintptr_t)bt_callout;
	c->regs[R_EAX] = bs->eax;
	c->regs[R_EBX] = bs->ebx;
	c->regs[R_ECX] = bs->ecx;
	c->regs[R_EDX] = bs->edx;
	c->regs[R_ESI] = bs->esi;
	c->regs[R_EDI] = bs->edi;
	c->regs[R_EBP] = bs->ebp;
	c->regs[R_ESP] = bs->esp;
	c->eip = bs->eip;
	c->eflags = 2;
	c->cr0 = CR0_PE | CR0_ET;
	/* Multiboot 0.6.96 §3.2 machine state, as the KVM backend sets it. */
	flat_seg(&c->seg[S_CS], 0x08, 0xc09b);
	flat_seg(&c->seg[S_DS], 0x10, 0xc093);
	c->seg[S_ES] = c->seg[S_SS] = c->seg[S_FS] = c->seg[S_GS] = c->seg[S_DS];
	if (bs->cs_sel) { /* the Linux 32-bit boot protocol's selectors and GDT (loader.h) */
		c->seg[S_CS].sel = bs->cs_sel;
		c->seg[S_ES].sel = c->seg[S_SS].sel = c->seg[S_DS].sel = bs->ds_sel;
		c->seg[S_FS].sel = c->seg[S_GS].sel = bs->ds_sel;
		c->gdtr.base = bs->gdt_base;
		c->gdtr.limit = bs->gdt_limit;
	}
	c->tr.attr = 0x8b;
	c->tr.limit = 0x67;
	c->dr[6] = 0xffff0ff0;  /* reset values (SDM Vol. 3B 17.2) */
	c->dr[7] = 0x400;
	c->msr_pat = 0x0007040600070406ull;
	c->cpl = 0;
	/* x87/SSE at reset (SDM Vol. 3A 9.1.1): FCW 0x037F, MXCSR 0x1F80,
	 * empty stack; FINIT semantics are what the guest sees first. */
	memset(c->fx_guest, 0, sizeof(c->fx_guest));
	c->fx_guest[0] = 0x7f; c->fx_guest[1] = 0x03;
	c->fx_guest[24] = 0x80; c->fx_guest[25] = 0x1f;
	c->fx_guest[28] = 0xff; c->fx_guest[29] = 0xff; /* MXCSR_MASK */
	return 0;
}

/* After C ran part of the guest (a translation that faulted on the fetch,
 * an MMIO step): the exception it raised, if any, goes through the IDT. */
static void deliver_if_exception(struct bt *bt)
{
	if (bt->exit == BX_EXCEPTION) {
		bt->st.exceptions++;
		bt_deliver_pending(bt);
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool bt_intr_pending(struct bt *bt)
{
	return vm_intr_pending(bt->vm);
}

bool bt_nmi_deliverable(struct bt *bt)
{
	return !bt->nmi_blocked && vm_nmi_pending(bt->vm);
}

static bool bt_irq_window_open(struct vm *vm)
{
	struct bt *bt = bt_state(vm);
	return (bt->cpu.eflags & EFLAGS_IF) && !bt->cpu.irq_shadow;
}

static int bt_inject_irq(struct vm *vm, int vector)
{
	struct bt *bt = bt_state(vm);
	bt->st.interrupts++;
	bt_deliver_event(bt, vector, false, 0, false, 0);
	return 0;
}

static void bt_request_irq_window(struct vm *vm, bool on)
{
	struct bt *bt = bt_state(vm);
	bt->want_irq_window = on;
	bt->cpu.irq_pend = on; /* inline sti/popf leave when this is set */
}

static void fill_exit_error(struct bt *bt, struct vcpu_exit *ex)
{
	ex->kind = bt->unsupported ? VCPU_EXIT_HOST_LIMIT : VCPU_EXIT_ERROR;
	snprintf(ex->msg, sizeof(ex->msg), "%s%s", bt->unsupported ? "bt: " : "", bt->msg);
}

static int bt_run(struct vm *vm, struct vcpu_exit *ex)
{
	struct bt *bt = bt_state(vm);
	struct bt_cpu *c = &bt->cpu;
	sigset_t kick, old;
	sigemptyset(&kick);
	sigaddset(&kick, BTVM_KICK_SIGNAL);
	/* Timers and console input may interrupt translated code: the kick
	 * handler only sets a flag, checked between blocks. */
	pthread_sigmask(SIG_UNBLOCK, &kick, &old);
	uint8_t *prev_stub = NULL;   /* direct exit stub that just left, to chain */
	uint64_t prev_gen = 0;
	uint32_t prev_mode = 0;
	uint64_t run_t0 = mono_ns(); /* direct.c: the share of direct execution */
	for (;;) {
		if (kick_pending()) {
			poll_restore(bt);
			ex->kind = VCPU_EXIT_KICK;
			break;
		}
		if (vm->stop) {
			ex->kind = VCPU_EXIT_KICK;
			break;
		}
		/* An NMI (local APIC: ICR, LINT0/1, IOAPIC), whatever IF says,
		 * unless an NMI handler runs (blocked until IRET, SDM Vol. 3A
		 * 6.7.1) or a MOV SS/STI shadow holds it off. */
		if (!c->irq_shadow && bt_nmi_deliverable(bt) && vm_nmi_ack(vm)) {
			vm->stats.nmis_injected++;
			bt->nmi_blocked = true;
			prev_stub = NULL;
			bt->exit = BX_DISPATCH;
			bt_deliver_event(bt, 2, false, 0, false, 0);
			if (bt->exit == BX_SHUTDOWN)
				goto shutdown;
			if (bt->exit == BX_ERROR)
				goto error;
			continue;
		}
		/* An interrupt the run loop asked for, or one the guest's own
		 * device access raised or unmasked (an EOI, see do_io and
		 * mmio.c): the run loop delivers it once the guest can take it. */
		if ((bt->want_irq_window || (c->irq_pend && vm_intr_pending(vm))) && bt_irq_window_open(vm)) {
			ex->kind = VCPU_EXIT_IRQ_WINDOW;
			break;
		}
		if (bt->mmio_step) {
			/* the instruction at EIP touched MMIO: run it in C */
			bt->mmio_step = false;
			prev_stub = NULL;
			if (bt_mmio_step(bt))
				deliver_if_exception(bt);
			if (bt->exit == BX_SHUTDOWN)
				goto shutdown;
			if (bt->exit == BX_ERROR)
				goto error;
			continue;
		}
		if (c->cpl == 3 && bt->direct_note[0]) {
			fprintf(stderr, "btvm: note: guest user code is translated: %s\n", bt->direct_note);
			bt->direct_note[0] = 0;
		}
		/* --user-exec direct (bt/direct.c): CPL-3 code on the CPU unless
		 * this stretch or instruction must be translated */
		if (bt->dx && c->cpl == 3 && !bt->single_next && !bt->smc_step && !c->irq_shadow &&
		    !(c->eflags & EFLAGS_TF) && bt_direct_run(bt) == 0) {
			prev_stub = NULL;
			deliver_if_exception(bt); /* a segment fix-up that faulted */
			if (bt->exit == BX_SHUTDOWN)
				goto shutdown;
			if (bt->exit == BX_ERROR)
				goto error;
			continue;
		}
		bool tf = c->eflags & EFLAGS_TF;
		bool smc = bt->smc_step;
		uint32_t mode = ((tf || bt->single_next || smc) ? TM_SINGLE : 0) | (c->cpl ? TM_CPL3 : 0);
		bool shadow = c->irq_shadow;
		bt->single_next = false;
		struct bt_block *b = smc ? NULL : tcache_lookup(&bt->tc, c->eip, mode);
		if (!b) {
			bt->exit = BX_DISPATCH;
			uint64_t t0 = mono_ns();
			b = bt_translate(bt, c->eip, mode);
			bt->st.translate_ns += mono_ns() - t0;
			if (!b) {
				prev_stub = NULL;
				deliver_if_exception(bt);
				if (bt->exit == BX_SHUTDOWN)
					goto shutdown;
				if (bt->exit == BX_ERROR)
					goto error;
				continue;
			}
		}
		/* Chain the stub that led here straight to this block, unless
		 * either end is a one-instruction (single-step) translation or
		 * the cache was flushed in between. */
		/* direct.c: a CPL-3 block returns to the dispatcher, which tries
		 * direct execution again — unless its page is refused for good
		 * (then the translated code there chains as usual) */
		bool direct_cpl3 = bt->dx && (mode & TM_CPL3) && !bt_direct_page_refused(bt, b->eip);
		if (prev_stub && !(mode & TM_SINGLE) && prev_mode == mode && prev_gen == bt->tc.generation &&
		    !direct_cpl3)
			tcache_chain(&bt->tc, prev_stub, b);
		prev_stub = NULL;
		if (!direct_cpl3)
			tcache_ibl_add(&bt->tc, b);
		c->lookup = (uint64_t)(uintptr_t)bt->tc.ibl[c->cpl != 0]; /* the table of this mode's blocks (TM_CPL3 for CPL 1-3) */
		bt->exit = BX_DISPATCH;
		bt->recent_eip[bt->st.dispatches++ % 8] = b->eip;
		c->last_stub = 0;
		bt_select_view(bt);
		uint32_t smc_pages[2] = { b->page0, b->page1 };
		bt_enter(c, b->code);
		if (smc) {
			/* The one-instruction block that wrote to its own code page
			 * ran on an unprotected page: drop it (nothing would catch
			 * the next write there) and translate normally again. */
			bt->smc_step = false;
			tcache_invalidate_page(&bt->tc, smc_pages[0]);
			if (smc_pages[1] != smc_pages[0])
				tcache_invalidate_page(&bt->tc, smc_pages[1]);
			c->last_stub = 0;
		}
		if (bt->exit == BX_DISPATCH && c->last_stub && !tf) {
			prev_stub = (uint8_t *)(uintptr_t)c->last_stub - TC_STUB_LEN;
			prev_gen = bt->tc.generation;
			/* a stub inside a single-instruction block is never chained */
			struct bt_block *src = tcache_find_pc(&bt->tc, prev_stub);
			if (!src || (src->mode & TM_SINGLE))
				prev_stub = NULL;
			prev_mode = src ? src->mode : 0;
		}
		if (shadow && !bt->poll_hit)
			c->irq_shadow = false; /* the shadowed instruction ran */
		else if (shadow)
			bt->single_next = true; /* a kick at the block entry: it is still to run */
		bt->poll_hit = false;
		switch (bt->exit) {
		case BX_DISPATCH:
		case BX_NONE:
			if (tf) {
				/* single-step trap after one instruction (SDM 17.3.1.4) */
				c->dr[6] |= 0x4000;
				bt_deliver_event(bt, 1, false, 0, false, 0);
				if (bt->exit == BX_SHUTDOWN)
					goto shutdown;
				if (bt->exit == BX_ERROR)
					goto error;
			}
			continue;
		case BX_HLT:
			ex->kind = VCPU_EXIT_HLT;
			goto out;
		case BX_EXCEPTION:
			deliver_if_exception(bt);
			if (bt->exit == BX_SHUTDOWN)
				goto shutdown;
			if (bt->exit == BX_ERROR)
				goto error;
			continue;
		case BX_SHUTDOWN:
			goto shutdown;
		case BX_ERROR:
			goto error;
		}
	}
	goto out;
shutdown:
	ex->kind = VCPU_EXIT_SHUTDOWN;
	goto out;
error:
	fill_exit_error(bt, ex);
out:
	bt->run_ns += mono_ns() - run_t0; /* direct.c */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static void bt_dump_state(struct vm *vm, FILE *f)
{
	struct bt *bt = bt_state(vm);
	if (!bt)
		return;
	struct bt_cpu *c = &bt->cpu;
	struct guest_state_view g = {
		c->eip, c->eflags, c->regs[R_EAX], c->regs[R_EBX], c->regs[R_ECX], c->regs[R_EDX],
		c->regs[R_ESI], c->regs[R_EDI], c->regs[R_EBP], c->regs[R_ESP], c->seg[S_CS].sel,
		c->seg[S_SS].sel, c->cr0, c->cr2, c->cr3, c->cr4, c->gdtr.base, c->idtr.base,
		c->gdtr.limit, c->idtr.limit,
	};
	guest_state_print(f, &g);
}

static void bt_print_stats(struct vm *vm, FILE *f)
{
	struct bt *bt = bt_state(vm);
	struct tcache *tc = &bt->tc;
	fprintf(f, "  bt: %llu blocks / %llu guest instructions translated (%llu copied as is, %.1f%%), "
		   "%zu KiB of host code in the cache now\n",
		(unsigned long long)tc->translated_blocks, (unsigned long long)tc->translated_insns,
		(unsigned long long)tc->copied_insns,
		tc->translated_insns ? 100.0 * (double)tc->copied_insns / (double)tc->translated_insns : 0.0,
		(size_t)(tc->code_top - tc->code) / 1024);
	fprintf(f, "  bt: translation took %.1f ms: %.2f M guest instructions per second, %.1f us per block\n",
		(double)bt->st.translate_ns / 1e6,
		bt->st.translate_ns ? (double)tc->translated_insns * 1e3 / (double)bt->st.translate_ns : 0.0,
		tc->translated_blocks ? (double)bt->st.translate_ns / 1e3 / (double)tc->translated_blocks : 0.0);
	fprintf(f, "  bt: %llu block chains made\n", (unsigned long long)tc->chains);
	fprintf(f, "  bt: %llu dispatches, %llu emulation callouts, %llu guest exceptions, %llu interrupts, "
		   "%llu host faults (%llu self-modifying-code), %llu cache flushes, %llu blocks invalidated\n",
		(unsigned long long)bt->st.dispatches, (unsigned long long)bt->st.callouts,
		(unsigned long long)bt->st.exceptions, (unsigned long long)bt->st.interrupts,
		(unsigned long long)bt->st.host_faults, (unsigned long long)bt->st.smc_faults,
		(unsigned long long)tc->flushes, (unsigned long long)tc->invalidations);
	/* the five instructions emulated most often */
	uint64_t shown[5] = { 0 };
	int top[5] = { -1, -1, -1, -1, -1 };
	for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; m++) {
		uint64_t n = bt->st.by_mnemonic[m];
		for (int k = 0; k < 5; k++)
			if (n > shown[k]) {
				memmove(&shown[k + 1], &shown[k], (4 - (size_t)k) * sizeof(shown[0]));
				memmove(&top[k + 1], &top[k], (4 - (size_t)k) * sizeof(top[0]));
				shown[k] = n;
				top[k] = m;
				break;
			}
	}
	fprintf(f, "  bt: callouts by instruction:");
	for (int k = 0; k < 5 && top[k] >= 0; k++)
		fprintf(f, " %s %llu", ZydisMnemonicGetString((ZydisMnemonic)top[k]), (unsigned long long)shown[k]);
	fprintf(f, "\n");
	fprintf(f, "  bt: %llu INT/IRET/SYSENTER/SYSEXIT stayed in translated code (no dispatcher)\n",
		(unsigned long long)bt->st.fast_xfers);
	fprintf(f, "  bt: blocks dropped by CR3 loads %llu, INVLPG %llu, writes to code %llu\n",
		(unsigned long long)bt->st.cr3_invalidations, (unsigned long long)bt->st.invlpg_invalidations,
		(unsigned long long)bt->st.smc_invalidations);
	fprintf(f, "  bt: MMIO: %llu host faults, %llu callouts (%u instructions retranslated as callouts)\n",
		(unsigned long long)bt->st.mmio_faults, (unsigned long long)bt->st.mmio_callouts,
		bt->n_mmio_eips);
	fprintf(f, "  shadow: %llu fills, %llu view resets (CR3/paging changes), %u pages mapped now\n",
		(unsigned long long)bt->st.shadow_fills, (unsigned long long)bt->kv.resets, bt->kv.n_mapped);
	const struct bt_host_counts *h = &bt->hc;
	uint64_t maps = bt->kv.sys_map + bt->uv.sys_map, unmaps = bt->kv.sys_unmap + bt->uv.sys_unmap;
	uint64_t prots = bt->kv.sys_protect + bt->uv.sys_protect;
	fprintf(f, "  bt: guest views reached through %s\n",
		bt->views == BT_VIEWS_REG ? "R9 (register scheme: a view switch is a store)"
		: bt->host_fsgsbase ? "GS (GS scheme: a view switch is WRGSBASE)"
				    : "GS (GS scheme: a view switch is arch_prctl)");
	fprintf(f, "  host: system calls for the guest: %llu (view switches (arch_prctl) %llu, view maps %llu, "
		   "view unmaps %llu, view write-protections %llu, safepoint page mprotect %llu)\n",
		(unsigned long long)(h->sys_set_gs + maps + unmaps + prots + h->sys_poll),
		(unsigned long long)h->sys_set_gs, (unsigned long long)maps, (unsigned long long)unmaps,
		(unsigned long long)prots, (unsigned long long)h->sys_poll);
	fprintf(f, "  host: signals for the guest: %llu (kicks %llu, safepoint faults %llu, view fills %llu, "
		   "guest #PF %llu, writes to code %llu, MMIO %llu, guest #DE/#MF/#UD %llu, other %llu)\n",
		(unsigned long long)(h->sig_kick + h->sig_poll + h->sig_fill + h->sig_guest_pf + h->sig_smc +
				     h->sig_mmio + h->sig_guest_exc + h->sig_other),
		(unsigned long long)h->sig_kick, (unsigned long long)h->sig_poll, (unsigned long long)h->sig_fill,
		(unsigned long long)h->sig_guest_pf, (unsigned long long)h->sig_smc,
		(unsigned long long)h->sig_mmio, (unsigned long long)h->sig_guest_exc,
		(unsigned long long)h->sig_other);
	bt_direct_print_stats(bt, f); /* direct.c */
}

static void bt_destroy(struct vm *vm)
{
	struct bt *bt = bt_state(vm);
	if (!bt)
		return;
	bt_direct_destroy(bt); /* direct.c */
	tcache_destroy(&bt->tc);
	kview_destroy(&bt->kv);
	kview_destroy(&bt->uv);
	current_bt = NULL;
	kick_hook = NULL;
	free(bt);
	vm->backend_state = NULL;
}

/* DMA into guest RAM (fw_cfg): as a write from C, page by page. */
static void bt_phys_written(struct vm *vm, uint64_t pa, uint64_t len)
{
	struct bt *bt = bt_state(vm);
	if (!bt || !len)
		return;
	for (uint64_t p = pa & ~0xfffull; p < pa + len && p < vm->mem.phys.size; p += 4096)
		bt_code_written(bt, (uint32_t)p);
}

const struct cpu_backend bt_backend = {
	.name = "bt",
	.create = bt_create,
	.run = bt_run,
	.irq_window_open = bt_irq_window_open,
	.inject_irq = bt_inject_irq,
	.request_irq_window = bt_request_irq_window,
	.dump_state = bt_dump_state,
	.print_stats = bt_print_stats,
	.destroy = bt_destroy,
	.sandbox_spec = bt_sandbox_spec,
	.phys_written = bt_phys_written,
};
