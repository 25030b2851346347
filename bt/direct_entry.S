/* World switch for direct execution of guest CPL-3 code (bt/direct.c).
 *
 * In: bt_direct_enter saves the monitor's callee-saved registers and RSP,
 * swaps the FPU image to the guest's, loads the guest's data segments
 * (host LDT selectors, bt/ldt.c) and IRETQs to the guest's CS:EIP / SS:ESP
 * in a 32-bit code segment: compatibility mode (SDM Vol. 3A 5.2.1, IRET in
 * IA-32e mode; 6.14.3 for the 64-bit IRET frame).
 *
 * Out: only through signals.  bt_direct_sigstub is the handler of every
 * signal guest code can raise.  While bt_dx_active is set (from before the
 * guest's segments are loaded until the trampoline has put the host's
 * back) the FS base may be the guest's: the stub puts the host FS base
 * (glibc's TLS) back before any C runs.  When the interrupted CS is an LDT
 * selector (TI = 1; the monitor itself only runs with the GDT's 0x33), the
 * signal came from guest code: it records DS/ES/FS/GS (the kernel does not
 * save them in a 64-bit signal frame).  bt_direct_signal (C) saves the guest registers from
 * the frame and points the frame at bt_direct_exit_tramp on the monitor
 * stack; rt_sigreturn lands there in 64-bit mode with the guest's FPU
 * state live, which the trampoline saves before returning from
 * bt_direct_enter. */
#include "bt/cpu.h"

/* struct bt_dx_entry (bt.h) */
#define E_CS 0
#define E_SS 2
#define E_DS 4
#define E_ES 6
#define E_FS 8
#define E_GS 10
#define E_RFLAGS 12

/* offsetof(ucontext_t, uc_mcontext.gregs[REG_CSGSFS]), checked in direct.c */
#define UC_CSGSFS 184

/* arch_prctl, for hosts without FSGSBASE in user space (bt_dx_fsgsbase = 0):
 * raw system calls, since no TLS may be used while the FS base is the
 * guest's.  <asm/prctl.h>, <asm/unistd_64.h> */
#define NR_arch_prctl 158
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* FS base := bt_dx_host_fs with arch_prctl.  Clobbers RAX, RCX, R11;
 * keeps RDI, RSI, RDX (the signal handler's arguments).  ARCH_SET_FS also
 * loads a null FS selector. */
.macro set_host_fs_syscall
	push %rdi
	push %rsi
	push %rdx
	mov $NR_arch_prctl, %eax
	mov $ARCH_SET_FS, %edi
	mov bt_dx_host_fs(%rip), %rsi
	syscall
	pop %rdx
	pop %rsi
	pop %rdi
.endm

	.text
	.globl bt_direct_enter
	.type bt_direct_enter, @function
/* void bt_direct_enter(struct bt_cpu *cpu, const struct bt_dx_entry *e) */
bt_direct_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi
	mov %rsp, bt_dx_host_rsp(%rip)
	fxsave64 CPU_OFF_FX_HOST(%rdi)
	fxrstor64 CPU_OFF_FX_GUEST(%rdi)
	/* the IRETQ frame: SS, RSP, RFLAGS, CS, RIP */
	movzwl E_SS(%rsi), %eax
	push %rax
	mov CPU_OFF_REGS+16(%rdi), %eax
	push %rax
	mov E_RFLAGS(%rsi), %eax
	push %rax
	movzwl E_CS(%rsi), %eax
	push %rax
	mov CPU_OFF_EIP(%rdi), %eax
	push %rax
	/* from here the FS base is the guest's: no TLS, no C (a signal in
	 * this window finds bt_dx_active set and keeps it that way) */
	movb $1, bt_dx_active(%rip)
	movb $0, bt_dx_fs_is_host(%rip)
	movw E_DS(%rsi), %ds
	movw E_ES(%rsi), %es
	movw E_FS(%rsi), %fs
	movw E_GS(%rsi), %gs
	mov CPU_OFF_REGS+0(%rdi), %eax
	mov CPU_OFF_REGS+4(%rdi), %ecx
	mov CPU_OFF_REGS+8(%rdi), %edx
	mov CPU_OFF_REGS+12(%rdi), %ebx
	mov CPU_OFF_REGS+20(%rdi), %ebp
	mov CPU_OFF_REGS+24(%rdi), %esi
	mov CPU_OFF_REGS+28(%rdi), %edi
	iretq
	.size bt_direct_enter, .-bt_direct_enter

	.globl bt_direct_exit_tramp
	.type bt_direct_exit_tramp, @function
bt_direct_exit_tramp:
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %gs
	/* Without FSGSBASE the signal stub already put the host's FS base
	 * back with arch_prctl (and a null selector): nothing to do. */
	cmpb $0, bt_dx_fs_is_host(%rip)
	jne 1f
	mov %eax, %fs
	/* a null selector load may clear the base (Intel): TLS again */
	mov bt_dx_host_fs(%rip), %rax
	wrfsbase %rax
1:	movb $0, bt_dx_active(%rip)
	pop %rdi
	fxsave64 CPU_OFF_FX_GUEST(%rdi)
	fxrstor64 CPU_OFF_FX_HOST(%rdi)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size bt_direct_exit_tramp, .-bt_direct_exit_tramp

	.globl bt_direct_sigstub
	.type bt_direct_sigstub, @function
/* void bt_direct_sigstub(int sig, siginfo_t *si, void *uc) */
bt_direct_sigstub:
	cmpb $0, bt_dx_active(%rip)
	je 2f                        /* the monitor's own signal */
	testb $4, UC_CSGSFS(%rdx)
	jz 3f
	/* guest code in a host LDT segment */
	mov %ds, bt_dx_seen_sel+0(%rip)
	mov %es, bt_dx_seen_sel+2(%rip)
	mov %fs, bt_dx_seen_sel+4(%rip)
	mov %gs, bt_dx_seen_sel+6(%rip)
	cmpb $0, bt_dx_fsgsbase(%rip)
	je 4f
	mov bt_dx_host_fs(%rip), %rax
	wrfsbase %rax
2:	jmp bt_direct_signal@PLT
4:	set_host_fs_syscall
	movb $1, bt_dx_fs_is_host(%rip)
	jmp bt_direct_signal@PLT
	/* a GDT CS while direct execution is on: the world switch in or out
	 * (monitor code, the guest's FS base may be loaded), or guest code
	 * that left compatibility mode.  The handler runs on the host's FS
	 * base; the interrupted code gets its own back. */
3:	cmpb $0, bt_dx_fsgsbase(%rip)
	je 5f
	push %rbx
	rdfsbase %rbx
	mov bt_dx_host_fs(%rip), %rax
	wrfsbase %rax
	call bt_direct_signal@PLT
	wrfsbase %rbx
	pop %rbx
	ret
	/* Without FSGSBASE: the interrupted FS selector and base (ARCH_GET_FS)
	 * are kept; a non-null selector is loaded again afterwards (which
	 * reloads its base from the LDT), else the base is set back. */
5:	push %rbx
	push %rbp
	sub $8, %rsp
	mov %fs, %ebx
	push %rdi
	push %rsi
	push %rdx
	mov $NR_arch_prctl, %eax
	mov $ARCH_GET_FS, %edi
	lea 24(%rsp), %rsi
	syscall
	pop %rdx
	pop %rsi
	pop %rdi
	mov (%rsp), %rbp
	set_host_fs_syscall
	call bt_direct_signal@PLT
	test $0xfffc, %bx
	jz 6f
	mov %ebx, %fs
	jmp 7f
6:	mov $NR_arch_prctl, %eax
	mov $ARCH_SET_FS, %edi
	mov %rbp, %rsi
	syscall
7:	add $8, %rsp
	pop %rbp
	pop %rbx
	ret
	.size bt_direct_sigstub, .-bt_direct_sigstub

	.section .note.GNU-stack,"",@progbits
