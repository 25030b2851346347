/* Guest CPU state for the bt backend.  Translated code keeps the guest
 * registers in host registers while it runs (EAX..EDI in the same host
 * registers, ESP in R12D, R15 = this struct) and stores them here at every
 * exit; bt/runtime.S reaches the fields by the offsets below, which
 * static assertions in bt/bt_backend.c check against the C layout. */
#ifndef BTVM_BT_CPU_H
#define BTVM_BT_CPU_H

#define CPU_OFF_REGS      0    /* uint32_t regs[8]: EAX ECX EDX EBX ESP EBP ESI EDI */
#define CPU_OFF_EIP       32
#define CPU_OFF_EFLAGS    36   /* arithmetic flags + DF as the host saw them */
#define CPU_OFF_HOST_RSP  40
#define CPU_OFF_EXIT_FN   48   /* address of bt_exit (translated code jumps through it) */
#define CPU_OFF_CALLOUT   56   /* address of bt_callout */
#define CPU_OFF_ARG       64   /* uint64_t: callout argument */
#define CPU_OFF_FN        72   /* uint64_t: callout C function */
#define CPU_OFF_LOOKUP    80   /* address of the indirect-branch lookup table */
#define CPU_OFF_LAST_STUB 88   /* return address of the direct exit stub that left, or 0 */
#define CPU_OFF_EXIT_CHAIN 96  /* address of bt_exit_chain (direct exits call it) */
#define CPU_OFF_VIF       104  /* uint32: guest EFLAGS.IF (0 or 0x200) while translated code runs */
#define CPU_OFF_VFLAGS    108  /* uint32: guest TF|IOPL|NT|AC|ID while translated code runs */
#define CPU_OFF_IRQ_PEND  112  /* uint32: non-zero when the PIC has an interrupt for the guest */
#define CPU_OFF_VIEW      120  /* uint64: host base of the current CPL's view (R9 in translated
				  code that addresses guest memory through a register, bt/views.c) */
#define CPU_OFF_FX_GUEST  128  /* 512-byte FXSAVE image of the guest's x87/SSE state */
#define CPU_OFF_FX_HOST   640  /* ... and of the monitor's, while the guest runs */
#define CPU_OFF_XMM_SAVE  1152 /* the guest's XMM0-7 across a callout */

#define EFLAGS_VIRT_MASK_ASM 0x247100

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS };

/* A segment register with its descriptor cache (SDM Vol. 3A 3.4.3). */
struct seg {
	uint16_t sel;
	uint32_t base, limit;   /* limit in bytes, already scaled by G */
	uint16_t attr;          /* access byte | flags nibble << 8 */
};

struct dtr {
	uint32_t base;
	uint16_t limit;
};

#define EFLAGS_CF 0x0001u
#define EFLAGS_PF 0x0004u
#define EFLAGS_AF 0x0010u
#define EFLAGS_ZF 0x0040u
#define EFLAGS_SF 0x0080u
#define EFLAGS_TF 0x0100u
#define EFLAGS_IF 0x0200u
#define EFLAGS_DF 0x0400u
#define EFLAGS_OF 0x0800u
#define EFLAGS_IOPL 0x3000u
#define EFLAGS_NT 0x4000u
#define EFLAGS_RF 0x10000u
#define EFLAGS_VM 0x20000u
#define EFLAGS_AC 0x40000u
#define EFLAGS_ID 0x200000u
/* The virtual flags inline pushf/popf compare and keep (besides IF). */
#define EFLAGS_VIRT_MASK (EFLAGS_TF | EFLAGS_IOPL | EFLAGS_NT | EFLAGS_AC | EFLAGS_ID)
/* The flags the host computes for the guest; the others are virtual. */
#define EFLAGS_HOST_MASK (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF | EFLAGS_DF)

struct bt_cpu {
	/* --- reached from assembly: keep in sync with CPU_OFF_* --- */
	uint32_t regs[8];
	uint32_t eip;
	uint32_t eflags;        /* full guest EFLAGS; host bits valid at exits */
	uint64_t host_rsp;
	uint64_t exit_fn;
	uint64_t callout_fn;
	uint64_t arg;
	uint64_t fn;
	uint64_t lookup;
	uint64_t last_stub;
	uint64_t exit_chain_fn;
	uint32_t vif;
	uint32_t vflags;
	uint32_t irq_pend;
	uint32_t pad;
	uint64_t view_base;
	/* The guest's x87/SSE registers live in the host FPU while translated
	 * code runs, and here while the monitor's C code (which uses SSE and
	 * expects its own MXCSR and control word) runs. */
	uint8_t fx_guest[512] __attribute__((aligned(16)));
	uint8_t fx_host[512] __attribute__((aligned(16)));
	/* A callout saves only XMM0-7, which is all 32-bit guest code can
	 * use and all the C code may clobber (it uses no x87; SysV makes the
	 * XMM registers caller-saved).  C runs with the guest's MXCSR there,
	 * which only the monitor's rare floating-point statistics would see. */
	uint8_t xmm_save[128] __attribute__((aligned(16)));
	/* --- C only --- */
	struct seg seg[6];
	struct dtr gdtr, idtr;
	struct seg ldtr, tr;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip;
	uint64_t msr_pat, msr_misc_enable;
	uint64_t tsc_offset;     /* guest TSC = host TSC + tsc_offset */
	uint64_t msr_tsc_adjust; /* IA32_TSC_ADJUST (MSR 3BH) */
	uint64_t efer;           /* IA32_EFER (MSR C0000080H): only NXE can be set (no long mode) */
	uint64_t msr_tsc_aux;    /* IA32_TSC_AUX (MSR C0000103H): ECX of RDTSCP, bits 31:0 */
	int cpl;
	bool irq_shadow;        /* after STI / MOV SS: one instruction first */
	bool halted;
};

#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_AM 0x40000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u
#define CR4_UMIP 0x800u      /* SDM Vol. 3A 2.5: SGDT SIDT SLDT SMSW STR #GP at CPL > 0 */
#define CR4_SMEP 0x100000u   /* 4.6: no supervisor fetch from user pages */
#define CR4_SMAP 0x200000u   /* 4.6: no supervisor data access to user pages unless EFLAGS.AC */
#define EFER_NXE 0x800u      /* IA32_EFER bit 11: execute-disable (PAE bit 63 = XD) */
#endif
#endif
