/* btvm guest test kit: multiboot v1 header, entry, interrupt stubs and the
 * ring-3 entry/exit glue.  See guest.h for the C side. */
#include "guest_asm.h"

/* ---- multiboot v1 header: page-align modules + memory info, plain ELF ---- */
	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

/* ---- entry: EAX = 0x2BADB002, EBX = multiboot info, flat segments ---- */
	.section .text.boot, "ax"
	.globl _start
_start:
	cli
	cld
	movl %eax, %esi                 /* keep magic and info pointer */
	movl %ebx, %ebp
	movl $__bss_start, %edi         /* zero .bss (the stack lives there too) */
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $boot_stack_top, %esp
	pushl $2                        /* EFLAGS: IF=0, DF=0, TF=0, IOPL=0, AC=0 */
	popfl
	pushl %ebp
	pushl %esi
	call guest_start                /* never returns */
1:	cli
	hlt
	jmp 1b

/* ---- 256 interrupt stubs, 16 bytes apart starting at isr_stubs ----
 * Each pushes a dummy error code (unless the CPU pushes one) and the vector
 * number, then joins isr_common. */
	.text
	.altmacro
.macro ISR_STUB n
	.balign 16
	.if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushl $0
	.endif
	pushl $\n
	jmp isr_common
.endm

	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	ISR_STUB %vec
	.set vec, vec + 1
	.endr
	.balign 16
	.globl isr_stubs_end
isr_stubs_end:

/* Frame layout: struct regs in guest.h. */
isr_common:
	pushal
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	cld
	pushl %esp                      /* struct regs * */
	call isr_dispatch
	addl $4, %esp
	.globl isr_return
isr_return:
	popl %gs
	popl %fs
	popl %es
	popl %ds
	popal
	addl $8, %esp                   /* vector, error code */
	iret

/* ---- ring 3 ----
 * uint32_t user_enter(uint32_t eip, uint32_t esp, uint32_t eflags)
 * Saves the callee-saved registers, EFLAGS and ESP, then IRETs to
 * SEL_UCODE:eip with SEL_UDATA:esp.  Control comes back through
 * user_leave(value), called by the int 0x80 exit service on the TSS stack,
 * which makes user_enter return value. */
	.globl user_enter
user_enter:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushfl
	movl %esp, user_saved_esp
	movl 24(%esp), %eax             /* eip */
	movl 28(%esp), %ecx             /* esp */
	movl 32(%esp), %edx             /* eflags */
	pushl $SEL_UDATA                /* SS */
	pushl %ecx                      /* ESP */
	pushl %edx                      /* EFLAGS */
	pushl $SEL_UCODE                /* CS */
	pushl %eax                      /* EIP */
	movw $SEL_UDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	iret

	.globl user_leave
user_leave:
	movl 4(%esp), %eax
	movl user_saved_esp, %esp
	movw $SEL_KDATA, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	popfl
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* Ring-3 side: the user stack holds [fn][arg]; call fn(arg), then
 * int 0x80 with EAX = SYS_EXIT, EBX = fn's return value. */
	.globl user_trampoline
user_trampoline:
	popl %eax
	call *%eax
	movl %eax, %ebx
	movl $SYS_EXIT, %eax
	int $VEC_SYSCALL
	ud2

	.section .bss
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
	.balign 4
user_saved_esp:
	.skip 4

	.section .note.GNU-stack, "", @progbits
