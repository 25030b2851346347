/* btvm nanobenchmarks: the loop of the compute benchmark, shared by the
 * guest kernel and the native program: "ordinary" code as issue 3 means it,
 * ALU work, loads and stores to a 1 KiB table, a call/ret and a
 * data-dependent branch every iteration (about 24 instructions).
 *   uint32_t ops_compute_loop(uint32_t n, uint32_t *table);  (cdecl)
 * Returns the final state, which depends on every iteration (the result is
 * checked against the same loop run natively). */
	.text
	.globl ops_compute_loop
	.type ops_compute_loop, @function
ops_compute_loop:
	push %ebx
	push %esi
	push %edi
	push %ebp
	mov 20(%esp), %ecx
	mov 24(%esp), %esi
	mov $0x12345678, %eax
	xor %edi, %edi
1:	call compute_mix
	add %eax, %edi
	mov %edi, %ebx
	shr $3, %ebx
	and $255, %ebx
	xor %edi, (%esi,%ebx,4)
	lea (%eax,%edi,2), %ebp
	test $1, %ebp
	jz 2f
	add %ebp, %eax
2:	dec %ecx
	jnz 1b
	xor %edi, %eax
	pop %ebp
	pop %edi
	pop %esi
	pop %ebx
	ret
	.size ops_compute_loop, . - ops_compute_loop

/* EAX = state, ESI = table; clobbers EBX, EDX */
	.type compute_mix, @function
compute_mix:
	mov %eax, %edx
	and $255, %edx
	mov (%esi,%edx,4), %ebx
	add %eax, %ebx
	rol $5, %ebx
	xor %ebx, %eax
	mov %ebx, (%esi,%edx,4)
	imul $0x2545F491, %eax, %eax
	mov %eax, %edx
	shr $15, %edx
	xor %edx, %eax
	ret
	.size compute_mix, . - compute_mix

	.section .note.GNU-stack, "", @progbits
