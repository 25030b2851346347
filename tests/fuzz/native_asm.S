/* Native runner: enter a sequence with the case's registers and EFLAGS,
 * and the tail it ends in.  32-bit, non-PIE (absolute addresses). */
	.intel_syntax noprefix
	.text

/* int fz_enter(void): runs the code at FZ_CODE with fz_in; returns 0 when
 * the sequence reached the tail (fz_out holds the state).  A fault is
 * caught by the signal handler, which siglongjmps past this frame. */
	.globl fz_enter
	.type fz_enter, @function
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

/* Reached through the tail (jmp dword [fz_tail_ptr]).  Saves every
 * register and EFLAGS without changing the scratch area: the dword below
 * ESP that pushfd overwrites is put back. */
	.globl fz_tail
	.type fz_tail, @function
fz_tail:
	mov [fz_out + 0], eax
	mov [fz_out + 4], ecx
	mov [fz_out + 8], edx
	mov [fz_out + 12], ebx
	mov [fz_out + 16], esp
	mov [fz_out + 20], ebp
	mov [fz_out + 24], esi
	mov [fz_out + 28], edi
	mov eax, [esp - 4]
	mov [fz_below], eax
	pushfd
	pop eax
	mov [fz_out + 32], eax
	mov eax, [fz_below]
	mov [esp - 4], eax
	cld
	mov esp, [fz_host_esp]
	pop edi
	pop esi
	pop ebx
	pop ebp
	xor eax, eax
	ret

/* The fault handler's entry (sa_sigaction): the kernel enters a signal
 * handler with DF clear, as the ABI wants at every call; qemu-user (7.2)
 * enters it with the guest's EFLAGS, DF too.  A sequence that faults
 * after std then ran the handler and siglongjmp with DF=1, and glibc's
 * string code wrote its copies backwards over the stack ("stack smashing
 * detected").  AC is cleared too (no unaligned access may trap in C
 * code).  The stack is left as it came: fz_on_fault gets the same
 * arguments. */
	.globl fz_fault_entry
	.type fz_fault_entry, @function
fz_fault_entry:
	cld
	pushfd
	and dword ptr [esp], ~0x40000
	popfd
	jmp fz_on_fault

	.data
	.globl fz_in, fz_out, fz_tail_ptr
fz_in:		.space 36
fz_out:		.space 36
fz_host_esp:	.long 0
fz_below:	.long 0
fz_code_ptr:	.long 0x01010000
fz_tail_ptr:	.long fz_tail

	.section .note.GNU-stack,"",@progbits
