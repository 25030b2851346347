/* The bt backend's private state, shared by its files. */
#ifndef BTVM_BT_BT_H
#define BTVM_BT_BT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "bt/cpu.h"
#include "bt/tcache.h"
#include "decoder/decoder.h"
#include "shadow/kview.h"
#include "shadow/pagewalk.h"

struct vm;
struct bt_direct;

enum bt_exit_reason {
	BX_NONE,
	BX_DISPATCH,    /* just continue at cpu.eip */
	BX_HLT,
	BX_EXCEPTION,   /* deliver exc_vector (+ exc_error) at cpu.eip */
	BX_SHUTDOWN,    /* triple fault */
	BX_ERROR,       /* something bt cannot do (msg) */
};

struct bt_stats {
	uint64_t callouts, exits, dispatches, exceptions, interrupts;
	uint64_t by_mnemonic[ZYDIS_MNEMONIC_MAX_VALUE + 1]; /* emulation callouts per instruction */
	uint64_t smc_faults, host_faults, shadow_fills;
	uint64_t mmio_faults, mmio_callouts;
	uint64_t translate_ns;    /* time spent in bt_translate */
	uint64_t cr3_invalidations, invlpg_invalidations, smc_invalidations; /* blocks dropped */
	uint64_t fast_xfers;      /* translate.c: INT/IRET/SYSENTER/SYSEXIT that stayed in translated code */
};

/* Host system calls and host signals bt takes on the guest's behalf, by
 * cause (--stats: "host:" lines).  The view maps, unmaps and protections
 * are counted in each struct kview (shadow/kview.c); direct execution
 * (bt/direct.c) counts its own. */
struct bt_host_counts {
	uint64_t sys_set_gs;      /* arch_prctl(ARCH_SET_GS): a view switch without FSGSBASE */
	uint64_t sys_poll;        /* mprotect of the safepoint page: a kick (PROT_NONE) and its undo */
	uint64_t sig_kick;        /* the kick signal while bt ran */
	uint64_t sig_poll;        /* SIGSEGV at a block's safepoint (after a kick) */
	uint64_t sig_fill;        /* SIGSEGV filled from the guest's tables, access retried */
	uint64_t sig_guest_pf;    /* SIGSEGV that became the guest's #PF */
	uint64_t sig_smc;         /* SIGSEGV on write-protected code: translations dropped */
	uint64_t sig_mmio;        /* SIGSEGV on a page with no RAM: the instruction runs in C */
	uint64_t sig_guest_exc;   /* SIGFPE/SIGILL that became a guest exception (#DE, #MF, #UD) */
	uint64_t sig_other;       /* anything else (an error) */
};

/* How translated code reaches guest memory (views.c, chosen at start-up
 * per host; docs/design.md "Views: GS or a base register"). */
enum bt_views_mode {
	BT_VIEWS_GS,      /* gs:[ea32]; GS base = the view of the CPL: WRGSBASE at each CPL change */
	BT_VIEWS_REG,     /* [r9 + ea]; R9 = cpu->view_base: a CPL change is a store, no system call */
};

#define BT_MMIO_EIP_BITS 10      /* instructions remembered as touching MMIO (mmio.c) */
struct bt_mmio_eip {
	uint32_t eip;
	bool used;
};

/* exceptions.c: the translations C code used last (guest memory accessed
 * from C: string instructions, pushed frames, descriptor reads), a TLB
 * flushed with the views (views.c) on CR3 loads, INVLPG and mode changes. */
#define BT_TLB_SIZE 64
struct bt_tlb_entry {
	uint32_t lpn, ppn;
	bool valid, user, write_ok;  /* walked for a CPL-3 access; a write was allowed (D set) */
	bool us, xd;                 /* a user page (U/S=1 throughout); XD with EFER.NXE */
};

struct bt {
	struct bt_cpu cpu;       /* first: callouts get &cpu and find bt */
	struct vm *vm;
	struct tcache tc;
	struct kview kv;         /* supervisor view (CPL 0-2) */
	struct kview uv;         /* user view (CPL 3) */
	struct guest_decoder dec;
	enum bt_exit_reason exit;
	int exc_vector;
	uint32_t exc_error;
	bool exc_has_error;
	int exc_depth;           /* 0 normal, 1 delivering, 2 double fault */
	char msg[512];
	bool unsupported;        /* the BX_ERROR is a missing feature, not a failure */
	volatile int kicked;
	bool want_irq_window;
	bool single_next;        /* translate the next block one instruction long */
	bool smc_step;           /* run the instruction that wrote to its own code page
				    alone, without re-protecting the page (no livelock) */
	uint64_t gs_base;        /* the view selected last (the GS base under BT_VIEWS_GS; ~0: none) */
	struct bt_tlb_entry tlb[BT_TLB_SIZE];
	bool host_bmi2;          /* translate.c may emit PEXT (string instructions inline) */
	bool poll_hit;           /* the last block left at its safepoint, before its first instruction */
	bool implicit_sv;        /* exceptions.c: a descriptor-table/TSS access in progress */
	bool mmio_step;          /* run the instruction at cpu.eip in C: it faulted on MMIO */
	bool nmi_blocked;        /* an NMI handler runs: no NMI until the next IRET (SDM Vol. 3A 6.7.1) */
	struct bt_mmio_eip mmio_eips[1u << BT_MMIO_EIP_BITS];
	uint32_t n_mmio_eips;
	struct bt_stats st;
	struct bt_direct *dx;    /* --user-exec direct (bt/direct.c), else NULL */
	uint64_t run_ns;         /* time spent in bt_run (for the direct-execution share) */
	enum bt_views_mode views;
	bool host_fsgsbase;      /* WRGSBASE works in user space (else arch_prctl) */
	struct bt_host_counts hc;
	/* The guest EIPs of the last blocks the dispatcher entered (slot
	 * st.dispatches % 8), for the crash report; chained entries bypass
	 * the dispatcher and are not recorded. */
	uint32_t recent_eip[8];
	char direct_note[320];   /* why ring 3 is translated, said at its first run */
};

static inline struct bt *bt_of(struct bt_cpu *cpu) { return (struct bt *)cpu; }

/* May a supervisor data access reach user pages under CR4.SMAP?  Only an
 * explicit one with EFLAGS.AC = 1 (SDM Vol. 3A 4.6); never the implicit
 * accesses to descriptor tables and the TSS. */
static inline bool bt_smap_ac(const struct bt *bt)
{
	return (bt->cpu.eflags & EFLAGS_AC) && !bt->implicit_sv;
}

/* views.c: both views at once */
void bt_views_reset(struct bt *bt, bool paging);
void bt_views_unmap_page(struct bt *bt, uint32_t lin);
void bt_views_flush_nonglobal(struct bt *bt);  /* CR3 load with CR4.PGE */
void bt_tlb_flush(struct bt *bt);              /* exceptions.c */
void bt_code_written(struct bt *bt, uint32_t pa); /* exceptions.c: C wrote guest RAM at pa */
void bt_views_protect_code(struct bt *bt, uint64_t pa);
bool bt_views_unprotect(struct bt *bt, uint64_t pa);
void bt_select_view(struct bt *bt);  /* the view (GS base or R9) for the current CPL */
void bt_views_init(struct bt *bt);   /* the scheme for this host (bt_create) */
const char *bt_views_name(enum bt_views_mode m);

/* mmio.c: device memory from translated code */
bool bt_mmio_eip_known(const struct bt *bt, uint32_t eip);
void bt_mmio_fault(struct bt *bt, uint32_t eip);  /* from the fault handler */
int bt_mmio_step(struct bt *bt);                  /* from the dispatcher: 0 done, 1 leave */
int bt_co_mmio(struct bt_cpu *cpu, uint32_t idx); /* callout for tc.emul[idx] */

/* emulate.c: operand helpers shared with mmio.c */
uint32_t bt_reg_get(struct bt_cpu *c, ZydisRegister r);
void bt_reg_set(struct bt_cpu *c, ZydisRegister r, uint32_t v);
uint32_t bt_op_lin(struct bt_cpu *c, const ZydisDecodedOperand *op);
void bt_rearm_host_timer(struct vm *vm);

/* fpu_state.c: FXSAVE FXRSTOR FNSAVE FRSTOR FNSTENV FLDENV (from a callout) */
int bt_fpu_state(struct bt *bt, const struct insn *in, uint32_t eip);

/* bt_backend.c */
bool bt_intr_pending(struct bt *bt);              /* an external interrupt is waiting */
bool bt_nmi_deliverable(struct bt *bt);           /* an NMI is waiting and not blocked */

/* translate.c */
/* A high-byte register next to ESP or a folded address is accessed through
 * ESI, with the guest's ESI saved in r14: the translation starts with
 * `nopl BT_HI8_MARK(%rax)` (0F 1F 80 imm32) so that a fault inside it can
 * put the guest ESI back (bt_backend.c, on_fault). */
#define BT_HI8_MARK 0x38494842u
/* NULL when the fetch at eip faults (bt->exit = BX_EXCEPTION) or fails. */
struct bt_block *bt_translate(struct bt *bt, uint32_t eip, uint32_t mode);
size_t bt_fetch(struct bt *bt, uint32_t eip, uint8_t *buf, size_t want);

/* emulate.c: instructions done in C (IC_EMULATE).  Returns 0 to continue
 * the translated code, 1 to return to the dispatcher. */
int bt_co_emulate(struct bt_cpu *cpu, uint32_t idx);     /* tc.emul[idx] */
int bt_co_emulate_at(struct bt_cpu *cpu, uint32_t eip);  /* decodes at eip */

/* exceptions.c */
void bt_raise(struct bt *bt, int vector, bool has_error, uint32_t error);
int bt_deliver(struct bt *bt, int vector, bool has_error, uint32_t error, bool is_int_insn, uint32_t next_eip);
int bt_load_seg(struct bt *bt, int sreg, uint16_t sel, bool *fault, uint32_t *err);
int bt_load_cs(struct bt *bt, uint16_t sel);
void bt_deliver_event(struct bt *bt, int vector, bool has_err, uint32_t err, bool software, uint32_t next_eip);
void bt_deliver_pending(struct bt *bt);
bool bt_read_desc(struct bt *bt, uint16_t sel, uint8_t d[8]);
void bt_desc_to_seg(const uint8_t d[8], uint16_t sel, struct seg *s);
void bt_set_accessed(struct bt *bt, uint16_t sel, uint8_t d[8]);
void bt_set_seg(struct bt *bt, int sreg, const struct seg *s);  /* flushes on a new base */
void bt_null_inaccessible_segs(struct bt *bt);

/* gates.c: privilege transfers outside the IDT.  Each returns 0 with the
 * new state in cpu (cpu->eip the target), or -1 with bt->exit saying why
 * (a fault at cpu->eip, which the caller set to the instruction). */
int bt_sysenter(struct bt *bt);
int bt_sysexit(struct bt *bt);
/* far JMP/CALL to sel:off, with operand size osz (2 or 4); next = EIP of
 * the following instruction (the return address of a CALL). */
int bt_far_jmp_call(struct bt *bt, uint16_t sel, uint32_t off, unsigned osz, bool call, uint32_t next);
/* far RET [imm16] (imm bytes of parameters released). */
int bt_far_ret(struct bt *bt, unsigned osz, uint32_t imm);

/* task.c: hardware task switches (SDM Vol. 3A 7.3). */
enum bt_task_reason { TS_JMP, TS_CALL, TS_IRET, TS_INT };
/* Switches to the task of TSS selector sel.  back: the EIP the outgoing
 * task resumes at.  TS_INT pushes err (when has_err) on the new task's
 * stack; ext is the EXT bit of error codes for faults before the switch.
 * Returns 0, or -1 with bt->exit set; faults after the commit point are
 * raised in the new task's context (cpu->eip = its EIP). */
int bt_task_switch(struct bt *bt, uint16_t sel, enum bt_task_reason why, uint32_t back,
		   bool has_err, uint32_t err, uint32_t ext);
/* IRET with EFLAGS.NT=1: back to the task in the current TSS's link field. */
int bt_task_return(struct bt *bt, uint32_t back);

/* memory access from C by linear address (false: bt->exit says why) */
bool bt_lin_to_phys(struct bt *bt, uint32_t lin, enum pw_access acc, uint32_t *pa);
bool bt_read(struct bt *bt, uint32_t lin, void *dst, unsigned len);
/* The same for descriptor tables and the TSS: supervisor rights at any CPL. */
bool bt_read_sys(struct bt *bt, uint32_t lin, void *dst, unsigned len);
bool bt_write_sys(struct bt *bt, uint32_t lin, const void *src, unsigned len);
bool bt_write(struct bt *bt, uint32_t lin, const void *src, unsigned len);
void bt_set_error(struct bt *bt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The guest needs something this stage of bt does not do (exit status 6). */
void bt_unsupported(struct bt *bt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* direct.c: guest CPL-3 code on the CPU, in a compatibility-mode segment
 * of the host LDT (--user-exec direct; docs/design.md "Direct execution").
 * Its view, the direct view, is the host's low 4 GiB: guest linear v at host v. */
int bt_direct_init(struct bt *bt, char *err, size_t errlen);  /* from bt_create */
void bt_direct_destroy(struct bt *bt);
/* From the dispatcher at CPL 3: runs guest code directly until a signal
 * brings it back.  Returns 0 when it ran (bt->exit says what next, with
 * bt->single_next set when the instruction at cpu.eip must be translated),
 * 1 when this stretch must be translated instead (a fall-back, counted). */
int bt_direct_run(struct bt *bt);
/* views.c keeps the direct view in step with the others. */
void bt_direct_reset(struct bt *bt, bool forget_scans); /* CR3 load, paging change */
void bt_direct_unmap_page(struct bt *bt, uint32_t lin);
void bt_direct_frame_written(struct bt *bt, uint32_t frame); /* code protection dropped */
void bt_direct_protect_frame(struct bt *bt, uint32_t frame); /* frame now holds translations */
void bt_direct_print_stats(struct bt *bt, FILE *f);
bool bt_direct_page_refused(const struct bt *bt, uint32_t lin); /* the scan keeps it translated */
/* direct_scan.c: the classes of instructions on a guest code page whose
 * direct execution would not be exact (the file lists them).  prev: the
 * preceding page (its last 64 bytes are read) or NULL; next: the
 * following page (its first 15 bytes are read), or NULL when unknown:
 * DXS_PARTIAL then says the last instruction was cut off, and the classes
 * it may have, judged by its opcode alone, are << DXS_TAIL_SHIFT. */
enum {
	DXS_SEGMENT = 1,    /* segment register reads, CS/SS loads, far transfers, IRET */
	DXS_SYSTEM = 2,     /* 0F 00-03, SYSENTER/SYSEXIT/SYSCALL/SYSRET, RDPMC, RDPID */
	DXS_RDTSC = 4,
	DXS_CPUID = 8,
	DXS_PARTIAL = 16,
	DXS_SEGLOAD = 32,   /* DS/ES/FS/GS loads: run, fixed up at exits (direct.c) */
	DXS_TAIL_SHIFT = 8,
};
unsigned bt_direct_scan_page(const uint8_t *page, const uint8_t *prev, const uint8_t *next);

/* ldt.c: guest descriptors into the host LDT (modify_ldt) */
#define BT_LDT_ENTRIES 8192
struct user_desc;
struct bt_ldt {
	struct bt_ldt_slot {
		unsigned int entry_number, base_addr, limit;
		unsigned int bits;      /* the user_desc bit fields, compared as a whole */
	} desc[BT_LDT_ENTRIES];
	bool valid[BT_LDT_ENTRIES];
	uint64_t writes;
};
int bt_ldt_desc(const struct seg *s, unsigned idx, struct user_desc *u);
int bt_ldt_install(struct bt_ldt *l, const struct seg *s, unsigned idx);

/* direct_entry.S */
struct bt_dx_entry {
	uint16_t cs, ss, ds, es, fs, gs;
	uint32_t rflags;
};
void bt_direct_enter(struct bt_cpu *cpu, const struct bt_dx_entry *e);
void bt_direct_exit_tramp(void);
extern uint8_t bt_dx_fsgsbase;  /* direct.c: the world switch uses RD/WRFSBASE */
void bt_direct_sigstub(int sig, void *si, void *uc);

/* runtime.S */
void bt_enter(struct bt_cpu *cpu, const void *code);
void bt_exit(void);
void bt_exit_chain(void);
void bt_callout(void);
void bt_fault_exit(void);
#endif
