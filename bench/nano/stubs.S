/* btvm nanobenchmarks: minimal trap handlers, installed in the IDT by
 * nano.c in place of the kit's stubs for the benchmarks that time a bare
 * trap round trip (no register save, no C). */
#include "guest_asm.h"

	.text
/* int 0x80 from ring 3.  EAX = SYS_EXIT goes to the kit's own stub (so
 * run_user() can return); anything else returns at once. */
	.globl bench_syscall_entry
	.balign 16
bench_syscall_entry:
	testl %eax, %eax
	jz 1f
	iret
1:	jmp isr_stubs + VEC_SYSCALL * ISR_STUB_SIZE

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

	.section .note.GNU-stack, "", @progbits
