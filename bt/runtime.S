/* World switch between the monitor (C) and translated guest code.
 * Translated code runs on the monitor's stack with the guest registers in
 * host registers: EAX..EDI in RAX..RDI (low halves), ESP in R12D, the CPU
 * struct in R15, R13/R14 scratch, R9 = the host base of the guest view of
 * the current CPL (cpu->view_base: reloaded at every entry, since C code
 * clobbers R9), which blocks translated for the register scheme add to
 * every guest address; blocks of the GS scheme use GS (its base is the
 * view).  See bt/cpu.h for the offsets and bt/views.c for the schemes. */
#include "bt/cpu.h"

#define HOST_MASK 0xcd5   /* CF PF AF ZF SF DF OF */

	.text
	.macro SAVE_GUEST
	mov %eax, CPU_OFF_REGS+0(%r15)
	mov %ecx, CPU_OFF_REGS+4(%r15)
	mov %edx, CPU_OFF_REGS+8(%r15)
	mov %ebx, CPU_OFF_REGS+12(%r15)
	mov %r12d, CPU_OFF_REGS+16(%r15)
	mov %ebp, CPU_OFF_REGS+20(%r15)
	mov %esi, CPU_OFF_REGS+24(%r15)
	mov %edi, CPU_OFF_REGS+28(%r15)
	.endm

	.macro LOAD_GUEST
	mov CPU_OFF_REGS+0(%r15), %eax
	mov CPU_OFF_REGS+4(%r15), %ecx
	mov CPU_OFF_REGS+8(%r15), %edx
	mov CPU_OFF_REGS+12(%r15), %ebx
	mov CPU_OFF_REGS+16(%r15), %r12d
	mov CPU_OFF_REGS+20(%r15), %ebp
	mov CPU_OFF_REGS+24(%r15), %esi
	mov CPU_OFF_REGS+28(%r15), %edi
	mov CPU_OFF_VIEW(%r15), %r9
	.endm

	/* r13 = host RFLAGS image: merge its arithmetic bits and the inline
	 * virtual IF into cpu->eflags (C's view of the flags) */
	.macro MERGE_FLAGS
	and $HOST_MASK, %r13d
	mov CPU_OFF_EFLAGS(%r15), %r14d
	and $~(HOST_MASK | 0x200), %r14d
	or %r13d, %r14d
	or CPU_OFF_VIF(%r15), %r14d
	mov %r14d, CPU_OFF_EFLAGS(%r15)
	.endm

	/* cpu->eflags → the fields inline cli/sti/pushf/popf use (eax, r13 scratch) */
	.macro SPLIT_FLAGS
	mov CPU_OFF_EFLAGS(%r15), %eax
	mov %eax, %r13d
	and $0x200, %eax
	mov %eax, CPU_OFF_VIF(%r15)
	and $EFLAGS_VIRT_MASK_ASM, %r13d
	mov %r13d, CPU_OFF_VFLAGS(%r15)
	.endm

	.macro SAVE_XMM
	movdqa %xmm0, CPU_OFF_XMM_SAVE+0(%r15)
	movdqa %xmm1, CPU_OFF_XMM_SAVE+16(%r15)
	movdqa %xmm2, CPU_OFF_XMM_SAVE+32(%r15)
	movdqa %xmm3, CPU_OFF_XMM_SAVE+48(%r15)
	movdqa %xmm4, CPU_OFF_XMM_SAVE+64(%r15)
	movdqa %xmm5, CPU_OFF_XMM_SAVE+80(%r15)
	movdqa %xmm6, CPU_OFF_XMM_SAVE+96(%r15)
	movdqa %xmm7, CPU_OFF_XMM_SAVE+112(%r15)
	.endm

	.macro LOAD_XMM
	movdqa CPU_OFF_XMM_SAVE+0(%r15), %xmm0
	movdqa CPU_OFF_XMM_SAVE+16(%r15), %xmm1
	movdqa CPU_OFF_XMM_SAVE+32(%r15), %xmm2
	movdqa CPU_OFF_XMM_SAVE+48(%r15), %xmm3
	movdqa CPU_OFF_XMM_SAVE+64(%r15), %xmm4
	movdqa CPU_OFF_XMM_SAVE+80(%r15), %xmm5
	movdqa CPU_OFF_XMM_SAVE+96(%r15), %xmm6
	movdqa CPU_OFF_XMM_SAVE+112(%r15), %xmm7
	.endm

	.macro RETURN_TO_MONITOR
	mov CPU_OFF_HOST_RSP(%r15), %rsp
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.endm

/* void bt_enter(struct bt_cpu *cpu, const void *code) */
	.globl bt_enter
	.type bt_enter, @function
bt_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp                 /* 16-byte aligned from here on */
	mov %rdi, %r15
	mov %rsp, CPU_OFF_HOST_RSP(%r15)
	fxsave64 CPU_OFF_FX_HOST(%r15)
	fxrstor64 CPU_OFF_FX_GUEST(%r15)
	mov %rsi, %r14
	SPLIT_FLAGS
	mov CPU_OFF_EFLAGS(%r15), %eax
	and $HOST_MASK, %eax
	or $2, %eax
	push %rax
	LOAD_GUEST
	popfq
	jmp *%r14
	.size bt_enter, .-bt_enter

/* Direct exits `call *CPU_OFF_EXIT_CHAIN(%r15)` so that the dispatcher
 * learns which stub left (to chain it to the target block); indirect exits
 * `jmp *CPU_OFF_EXIT_FN(%r15)`.  cpu->eip is already stored.  Neither pop
 * nor mov changes the guest flags still live in RFLAGS. */
	.globl bt_exit_chain
	.type bt_exit_chain, @function
bt_exit_chain:
	popq CPU_OFF_LAST_STUB(%r15)
	jmp 1f
	.size bt_exit_chain, .-bt_exit_chain

	.globl bt_exit
	.type bt_exit, @function
bt_exit:
	movq $0, CPU_OFF_LAST_STUB(%r15)
1:	pushfq
	SAVE_GUEST
	pop %r13
	MERGE_FLAGS
	cld
	fxsave64 CPU_OFF_FX_GUEST(%r15)
	fxrstor64 CPU_OFF_FX_HOST(%r15)
	RETURN_TO_MONITOR
	.size bt_exit, .-bt_exit

/* Reached by `call *CPU_OFF_CALLOUT(%r15)` with r13d = argument, r14 = C
 * function int fn(struct bt_cpu *, uint32_t arg).  A zero return resumes
 * the translated code after the call with the (possibly changed) guest
 * registers; non-zero returns to the monitor (cpu->eip set by fn). */
	.globl bt_callout
	.type bt_callout, @function
bt_callout:
	pushfq                       /* rsp is 16-byte aligned again */
	SAVE_GUEST
	mov %r14, %rbx               /* rbx, r12 are callee-saved: keep fn and arg */
	mov %r13d, %r12d
	mov (%rsp), %r13
	MERGE_FLAGS
	cld
	SAVE_XMM                     /* x87 state and MXCSR stay live: C uses neither */
	mov %r15, %rdi
	mov %r12d, %esi
	call *%rbx
	test %eax, %eax
	jnz 1f
	LOAD_XMM
	SPLIT_FLAGS
	mov CPU_OFF_EFLAGS(%r15), %eax
	and $HOST_MASK, %eax
	or $2, %eax
	mov %rax, (%rsp)
	LOAD_GUEST
	popfq
	ret
	/* leaving for the monitor: the guest's FPU image is the live x87/SSE
	 * state with XMM0-7 as they were before the call */
1:	fxsave64 CPU_OFF_FX_GUEST(%r15)
	LOAD_XMM
	movdqa %xmm0, CPU_OFF_FX_GUEST+160(%r15)
	movdqa %xmm1, CPU_OFF_FX_GUEST+176(%r15)
	movdqa %xmm2, CPU_OFF_FX_GUEST+192(%r15)
	movdqa %xmm3, CPU_OFF_FX_GUEST+208(%r15)
	movdqa %xmm4, CPU_OFF_FX_GUEST+224(%r15)
	movdqa %xmm5, CPU_OFF_FX_GUEST+240(%r15)
	movdqa %xmm6, CPU_OFF_FX_GUEST+256(%r15)
	movdqa %xmm7, CPU_OFF_FX_GUEST+272(%r15)
	fxrstor64 CPU_OFF_FX_HOST(%r15)
	RETURN_TO_MONITOR
	.size bt_callout, .-bt_callout

/* The signal handler points RIP here (with R15 = cpu) after saving the
 * guest state from the signal frame. */
	.globl bt_fault_exit
	.type bt_fault_exit, @function
bt_fault_exit:
	cld
	fxsave64 CPU_OFF_FX_GUEST(%r15)
	fxrstor64 CPU_OFF_FX_HOST(%r15)
	RETURN_TO_MONITOR
	.size bt_fault_exit, .-bt_fault_exit

	.section .note.GNU-stack,"",@progbits
