/* The fuzz guest: entry, GDT, exception stubs, and the enter/tail pair.
 *
 * The image is a flat binary loaded at 0x100000 (btvm --flat=0x100000);
 * it also carries a multiboot header with the a.out kludge (load_end_addr
 * 0 = the whole file) so that QEMU can load the same file with -kernel. */
	.intel_syntax noprefix

	.section .text.start, "ax"
	.globl _start
_start:
	jmp entry
	.balign 4
mb_header:
	.long 0x1badb002
	.long 0x00010000
	.long -(0x1badb002 + 0x00010000)
	.long mb_header        /* header_addr */
	.long 0x00100000       /* load_addr */
	.long 0                /* load_end_addr: the whole file */
	.long 0                /* bss_end_addr: none (bss is in the file) */
	.long _start           /* entry_addr */
entry:
	cli
	cld
	lgdt [gdt_desc]
	.byte 0xea             /* ljmp 0x08:1f */
	.long 1f
	.word 0x08
1:	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov esp, offset stack_top
	call guest_main
2:	cli
	hlt
	jmp 2b

	.text
/* int fz_enter(void): see native_asm.S.  Returns 0 through the tail, 1
 * through an exception stub. */
	.globl fz_enter
fz_enter:
	push ebp
	push ebx
	push esi
	push edi
	push dword ptr [fz_in + 32]
	popfd
	mov [fz_host_esp], esp
	mov eax, [fz_in + 0]
	mov ecx, [fz_in + 4]
	mov edx, [fz_in + 8]
	mov ebx, [fz_in + 12]
	mov ebp, [fz_in + 20]
	mov esi, [fz_in + 24]
	mov edi, [fz_in + 28]
	mov esp, [fz_in + 16]
	jmp dword ptr [fz_code_ptr]

	.globl fz_tail
fz_tail:
	mov [fz_out + 0], eax
	mov [fz_out + 4], ecx
	mov [fz_out + 8], edx
	mov [fz_out + 12], ebx
	mov [fz_out + 16], esp
	mov [fz_out + 20], ebp
	mov [fz_out + 24], esi
	mov [fz_out + 28], edi
	mov word ptr [fz_out + 36], fs
	mov word ptr [fz_out + 40], gs
	mov eax, cr0
	mov [fz_out + 44], eax
	mov eax, [esp - 4]
	mov [fz_below], eax
	pushfd
	pop eax
	mov [fz_out + 32], eax
	mov eax, [fz_below]
	mov [esp - 4], eax
	xor eax, eax
	jmp back

/* Exception stubs, 16 bytes each: record the vector, then the common
 * part.  The CPU has pushed EFLAGS, CS, EIP (and an error code) on the
 * sequence's stack; nothing else is pushed there. */
	.balign 16
	.globl fz_stubs
fz_stubs:
	.set v, 0
	.rept 256
	.balign 16
	mov dword ptr [fz_fault + 40], v
	.if (v == 8) || (v == 10) || (v == 11) || (v == 12) || (v == 13) || (v == 14) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
	jmp fz_common_err
	.else
	jmp fz_common
	.endif
	.set v, v + 1
	.endr

fz_common_err:
	mov [fz_fault + 0], eax
	mov eax, [esp]
	mov [fz_fault + 44], eax      /* error code */
	lea esp, [esp + 4]
	jmp 1f
fz_common:
	mov [fz_fault + 0], eax
1:	mov [fz_fault + 4], ecx
	mov [fz_fault + 8], edx
	mov [fz_fault + 12], ebx
	mov [fz_fault + 20], ebp
	mov [fz_fault + 24], esi
	mov [fz_fault + 28], edi
	mov word ptr [fz_fault + 48], fs
	mov word ptr [fz_fault + 52], gs
	mov eax, cr0
	mov [fz_fault + 56], eax
	lea eax, [esp + 12]
	mov [fz_fault + 16], eax
	mov eax, [esp + 8]
	mov [fz_fault + 32], eax      /* EFLAGS */
	mov eax, [esp]
	mov [fz_fault + 36], eax      /* EIP */
	mov eax, 1
back:
	mov esp, [fz_host_esp]
	mov cx, 0x10
	mov ds, cx
	mov es, cx
	mov ss, cx
	mov fs, cx
	mov gs, cx
	cld
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff   /* 0x08 code, flat */
	.quad 0x00cf93000000ffff   /* 0x10 data, flat */
	.quad 0x00cf93010000ffff   /* 0x18 data, base 0x00010000 */
	.quad 0xffcf93000000ffff   /* 0x20 data, base 0xff000000 (wraps) */
	.quad 0x0040930000000fff   /* 0x28 data, base 0, byte limit 0xfff */
	.quad 0x00cffb000000ffff   /* 0x30 code DPL3 */
	.quad 0x00cff3000000ffff   /* 0x38 data DPL3 */
gdt_end:
	.balign 4
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.globl fz_in, fz_out, fz_fault, fz_tail_ptr
fz_in:		.space 36
fz_out:		.space 48   /* regs[8], eflags, fs, gs, cr0 */
fz_fault:	.space 64   /* regs[8], eflags, eip, vector, error, fs, gs, cr0 */
fz_host_esp:	.long 0
fz_below:	.long 0
fz_code_ptr:	.long 0x01010000
fz_tail_ptr:	.long fz_tail

	.bss
	.balign 16
	.space 16384
stack_top:

	.section .note.GNU-stack,"",@progbits
