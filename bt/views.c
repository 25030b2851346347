/* The two guest views translated code reaches through GS or R9 (the
 * scheme, below): the K-view while the guest runs at CPL 0-2, the U-view
 * at CPL 3 (where only pages the guest's tables give to user mode get
 * mapped, so a user access to a supervisor page faults in the host and
 * becomes the guest's #PF).  Every change of the virtual TLB applies to
 * both. */
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bt/bt.h"
#include "monitor/host_probe.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

void bt_views_reset(struct bt *bt, bool paging)
{
	bt_tlb_flush(bt);
	kview_reset(&bt->kv, paging);
	kview_reset(&bt->uv, paging);
	bt_direct_reset(bt, true);  /* the code protections are gone: so are the scans */
}

void bt_views_flush_nonglobal(struct bt *bt)
{
	bt_tlb_flush(bt);
	kview_flush_nonglobal(&bt->kv);
	kview_flush_nonglobal(&bt->uv);
	bt_direct_reset(bt, false); /* no global pages (yet); the scans stay with the code protections */
}

void bt_views_unmap_page(struct bt *bt, uint32_t lin)
{
	bt->tlb[(lin >> 12) & (BT_TLB_SIZE - 1)].valid = false;
	kview_unmap_page(&bt->kv, lin);
	kview_unmap_page(&bt->uv, lin);
	bt_direct_unmap_page(bt, lin);
}

void bt_views_protect_code(struct bt *bt, uint64_t pa)
{
	kview_protect_code(&bt->kv, pa);
	kview_protect_code(&bt->uv, pa);
	bt_direct_protect_frame(bt, (uint32_t)(pa >> 12));
}

bool bt_views_unprotect(struct bt *bt, uint64_t pa)
{
	bool a = kview_unprotect(&bt->kv, pa);
	bool b = kview_unprotect(&bt->uv, pa);
	bt_direct_frame_written(bt, (uint32_t)(pa >> 12));
	return a || b;
}

/* The scheme for this host.  GS-relative addressing needs a new GS base
 * at every CPL change; with FSGSBASE in user space that is one WRGSBASE
 * (Linux >= 5.9 with CR4.FSGSBASE), without it arch_prctl(ARCH_SET_GS), a
 * host system call (10 us on host B of /work/shared/HOSTS.md: two per
 * guest system call).  There the view base lives in R9 instead, and a CPL
 * change is a store to cpu->view_base (runtime.S reloads R9 from it at
 * every entry into translated code, a callout's return included).
 * BTVM_BT_VIEWS=gs|reg overrides the choice (for measurements). */
const char *bt_views_name(enum bt_views_mode m)
{
	switch (m) {
	case BT_VIEWS_GS: return "gs";
	case BT_VIEWS_REG: return "reg";
	}
	return "?";
}

/* How bt_select_view sets a new view, from bt_views_init (a static, as the
 * cached FSGSBASE flag was before: read at every privilege change, it is
 * not a field of the half-megabyte struct bt).  The GS scheme stores
 * nothing else: measured with bench/cpu-time.sh, its round trip is the
 * old one's (docs/design.md, "Views: GS or R9"). */
static enum { SET_R9, SET_WRGSBASE, SET_ARCH_PRCTL } view_how;

void bt_views_init(struct bt *bt)
{
	bt->host_fsgsbase = host_has(HOST_FSGSBASE);
	bt->views = bt->host_fsgsbase ? BT_VIEWS_GS : BT_VIEWS_REG;
	const char *force = getenv("BTVM_BT_VIEWS");
	for (int m = BT_VIEWS_GS; force && m <= BT_VIEWS_REG; m++)
		if (!strcmp(force, bt_views_name((enum bt_views_mode)m)))
			bt->views = (enum bt_views_mode)m;
	view_how = bt->views == BT_VIEWS_REG ? SET_R9 : bt->host_fsgsbase ? SET_WRGSBASE : SET_ARCH_PRCTL;
	bt->gs_base = ~0ull;   /* not set yet */
	bt->cpu.view_base = (uint64_t)(uintptr_t)bt->kv.base;
}

/* bt->gs_base is the view selected last, whichever the scheme (direct.c
 * sets it to ~0 after a run, which loaded the guest's GS: the GS scheme
 * must set the base again). */
void bt_select_view(struct bt *bt)
{
	uint64_t base = (uint64_t)(uintptr_t)(bt->cpu.cpl == 3 ? bt->uv.base : bt->kv.base);
	if (base == bt->gs_base)
		return;
	if (view_how == SET_R9) {
		bt->cpu.view_base = base;  /* R9 from the next entry on */
	} else if (view_how == SET_WRGSBASE) {
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
	} else {
		syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base);
		bt->hc.sys_set_gs++;
	}
	bt->gs_base = base;
}

/* The host sandbox (monitor/sandbox.c): at run time bt remaps pages of
 * the two views it points GS at (shadow/kview.c) and nothing else of the
 * guest windows; its translation cache and safepoint page are ordinary
 * allocations above the windows. */
static bool bt_of_vm_direct(struct vm *vm)
{
	struct bt *bt = vm->backend_state;
	return bt && bt->dx;
}

void bt_sandbox_spec(struct vm *vm, struct sandbox_spec *s)
{
	struct guest_window_range k = guest_mem_window(&vm->mem, GUEST_WIN_KVIEW);
	struct guest_window_range u = guest_mem_window(&vm->mem, GUEST_WIN_UTVIEW);
	sandbox_spec_add_remap(s, k.base, k.size);
	sandbox_spec_add_remap(s, u.base, u.size);
	struct bt *bt = vm->backend_state;
	/* arch_prctl(ARCH_SET_GS) only for the GS scheme without FSGSBASE (bt_views_init) */
	s->set_gs_base = bt && bt->views == BT_VIEWS_GS && !bt->host_fsgsbase;
	if (bt_of_vm_direct(vm)) {
		/* direct.c's view: the low 4 GiB, guest linear v at host v */
		sandbox_spec_add_remap(s, 0, BTVM_WINDOW_SIZE);
		s->direct_exec = true;
		s->set_fs_base = !bt_dx_fsgsbase; /* bt/direct_entry.S */
	}
}
