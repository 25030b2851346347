/* The two guest views the translated code reaches through GS: the K-view
 * while the guest runs at CPL 0-2, the U-view at CPL 3 (where only pages
 * the guest's tables give to user mode get mapped, so a user access to a
 * supervisor page faults in the host and becomes the guest's #PF).  Every
 * change of the virtual TLB applies to both. */
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "bt/bt.h"
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

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* WRGSBASE when the kernel enabled it for user space (Linux >= 5.9 with
 * CR4.FSGSBASE; measured here), else arch_prctl. */
void bt_select_view(struct bt *bt)
{
	static int fsgsbase = -1;
	uint64_t base = (uint64_t)(uintptr_t)(bt->cpu.cpl == 3 ? bt->uv.base : bt->kv.base);
	if (base == bt->gs_base)
		return;
	if (fsgsbase < 0)
		fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	if (fsgsbase)
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
	else
		syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base);
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
	s->set_gs_base = !(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE); /* see bt_select_view */
	if (bt_of_vm_direct(vm)) {
		/* direct.c's view: the low 4 GiB, guest linear v at host v */
		sandbox_spec_add_remap(s, 0, BTVM_WINDOW_SIZE);
		s->direct_exec = true;
		s->set_fs_base = !bt_dx_fsgsbase; /* bt/direct_entry.S */
	}
}
