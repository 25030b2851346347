/* btvm nanobenchmarks: the ring-3 loops of the syscall and usercompute
 * benchmarks, shared by the guest kernel (run at CPL 3, paging on) and the
 * native program (an i386 process), so both columns time the same code.
 *
 * They sit on 4 KiB pages of their own (.text.user, aligned and padded
 * with INT3): under `btvm --user-exec direct` a guest code page runs on
 * the CPU only when a scan finds none of the instructions it refuses
 * (docs/design.md, "Direct execution") -- RDTSC, SYSENTER and the segment
 * loads of the kernel's own code would keep these loops translated if
 * they shared its pages.  Plain cdecl; EBX, ESI, EDI, EBP preserved. */
	.section .text.user, "ax"
	.balign 4096

/* uint32_t ops_int80_loop(uint32_t n, uint32_t nr)
 * n round trips of `int $0x80` with EAX = nr, EBX = the remaining count,
 * ECX = 1; returns the sum of the EAX values that came back.  The guest's
 * handler (bench/nano/stubs.S) returns EBX + ECX, so the sum is
 * n(n+1)/2 + n; natively nr is a real Linux system call. */
	.globl ops_int80_loop
	.type ops_int80_loop, @function
ops_int80_loop:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 16(%esp), %esi
	xorl %edi, %edi
1:	movl 20(%esp), %eax
	movl %esi, %ebx
	movl $1, %ecx
	int $0x80
	addl %eax, %edi
	decl %esi
	jnz 1b
	movl %edi, %eax
	popl %edi
	popl %esi
	popl %ebx
	ret
	.size ops_int80_loop, . - ops_int80_loop

/* The compute loop on a page of its own: btvm translates for a while a
 * page whose direct runs all end within microseconds (the int 0x80 loop's
 * page: one system call per run), and that must not be this one. */
	.balign 4096, 0xcc

/* uint32_t ops_usercompute_loop(uint32_t n, uint32_t *buf)
 * n iterations of a xorshift32 step (Marsaglia's 13/17/5) whose
 * state picks a word of the 64 KiB buffer, which is read, summed and
 * written back xored with the sum: 15 instructions, one load and one
 * store to a pseudo-random place in 16 pages.  Returns sum ^ state; the
 * buffer's contents take part, so the result depends on every iteration
 * and on the buffer it started from. */
	.globl ops_usercompute_loop
	.type ops_usercompute_loop, @function
ops_usercompute_loop:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 16(%esp), %ecx
	movl 20(%esp), %esi
	movl $0x12345678, %eax
	xorl %edi, %edi
2:	movl %eax, %edx
	shll $13, %edx
	xorl %edx, %eax
	movl %eax, %edx
	shrl $17, %edx
	xorl %edx, %eax
	movl %eax, %edx
	shll $5, %edx
	xorl %edx, %eax
	movl %eax, %edx
	andl $0xfffc, %edx
	addl (%esi,%edx), %edi
	xorl %edi, (%esi,%edx)
	decl %ecx
	jnz 2b
	xorl %edi, %eax
	popl %edi
	popl %esi
	popl %ebx
	ret
	.size ops_usercompute_loop, . - ops_usercompute_loop

	.balign 4096, 0xcc

	.section .note.GNU-stack, "", @progbits
