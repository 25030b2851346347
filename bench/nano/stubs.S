/* btvm nanobenchmarks: minimal trap handlers, installed in the IDT by
 * nano.c in place of the kit's stubs for the benchmarks that time a bare
 * trap round trip (no register save, no C). */
#include "guest_asm.h"

	.text
/* int 0x80 from ring 3 (ops_int80_loop, bench/common/user.S): EAX =
 * EBX + ECX, a few register operations, and IRET.  EAX = SYS_EXIT goes to
 * the kit's own stub (so run_user() can return). */
	.globl bench_syscall_entry
	.balign 16
bench_syscall_entry:
	testl %eax, %eax
	jz 1f
	movl %ebx, %eax
	addl %ecx, %eax
	iret
1:	jmp isr_stubs + VEC_SYSCALL * ISR_STUB_SIZE

/* int 0x81 from ring 3 (bench_userexit_loop below), a DPL-3 gate of the
 * userexit benchmark: EAX = EBX + ECX and IRET, like the syscall handler
 * but with no way out to the kit's stub. */
	.globl bench_userexit_entry
	.balign 16
bench_userexit_entry:
	movl %ebx, %eax
	addl %ecx, %eax
	iret

/* SYSENTER from ring 3 (bench_sysenter_loop below), with IA32_SYSENTER_CS =
 * SEL_KCODE, so SS = SEL_KDATA and SYSEXIT returns to SEL_UCODE/SEL_UDATA
 * (SDM Vol. 2B SYSENTER, SYSEXIT: CS+8, CS+16, CS+24).  EAX = EBX + 1,
 * then, as Linux returns, STI (SYSENTER cleared IF; SYSEXIT leaves EFLAGS
 * alone) and SYSEXIT to EDX with ESP = ECX, as the user loop set them. */
	.globl bench_sysenter_entry
	.balign 16
bench_sysenter_entry:
	movl %ebx, %eax
	addl $1, %eax
	sti
	sysexit

/* uint32_t bench_sysenter_loop(uint32_t n): ring 3, n SYSENTER/SYSEXIT
 * round trips with EBX = the remaining count; returns the sum of the EAX
 * values, n(n+1)/2 + n.  (On the kernel's pages, not the direct-execution
 * page of user.S: SYSENTER is one of the instructions that keep a page
 * translated under --user-exec direct.) */
	.globl bench_sysenter_loop
	.type bench_sysenter_loop, @function
bench_sysenter_loop:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 16(%esp), %esi
	xorl %edi, %edi
2:	movl %esi, %ebx
	movl %esp, %ecx
	movl $3f, %edx
	sysenter
3:	addl %eax, %edi
	decl %esi
	jnz 2b
	movl %edi, %eax
	popl %edi
	popl %esi
	popl %ebx
	ret
	.size bench_sysenter_loop, . - bench_sysenter_loop

/* #DE from the `divl %reg` of the divzero benchmark (2 bytes, F7 /6 with a
 * register operand): skip it and count. */
	.globl bench_divzero_entry
	.balign 16
bench_divzero_entry:
	addl $2, (%esp)
	incl bench_divzero_count
	iret

/* IRQ0 (PIT): EOI to the master PIC, count, return. */
	.globl bench_irq0_entry
	.balign 16
bench_irq0_entry:
	pushl %eax
	movb $0x20, %al
	outb %al, $0x20
	incl bench_irq_count
	popl %eax
	iret

/* uint32_t bench_userexit_loop(uint32_t n): ring 3, n round trips of
 * `int $0x81` with EBX = the remaining count, ECX = 1; returns the sum of
 * the EAX values, n(n+1)/2 + n.  On a 4 KiB page of its own, holding
 * nothing the direct-execution scan refuses, so that `btvm --user-exec
 * direct` runs the loop on the CPU: there `int $0x81` is a host #GP (the
 * host IDT has no DPL-3 gate 0x81), a SIGSEGV, and so every iteration
 * leaves the CPU for the monitor and enters it again.  Unlike the SIGSYS
 * of `int 0x80`, a #GP does not count towards the demotion of a page
 * whose direct runs are all short (bt/direct.c, DX_DEMOTE_AFTER), so the
 * loop keeps running directly and times the exit round trip. */
	.section .text.user, "ax"
	.balign 4096, 0xcc
	.globl bench_userexit_loop
	.type bench_userexit_loop, @function
bench_userexit_loop:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 16(%esp), %esi
	xorl %edi, %edi
1:	movl $1, %eax
	movl %esi, %ebx
	movl $1, %ecx
	int $0x81
	addl %eax, %edi
	decl %esi
	jnz 1b
	movl %edi, %eax
	popl %edi
	popl %esi
	popl %ebx
	ret
	.size bench_userexit_loop, . - bench_userexit_loop
	.balign 4096, 0xcc

	.section .note.GNU-stack, "", @progbits
