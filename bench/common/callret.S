/* btvm nanobenchmarks: the recursive function of the callret benchmark,
 * shared by the guest kernel and the native program.
 * In: ECX = depth (>= 1).  Makes `depth` nested calls in all, then returns
 * through all of them.  Clobbers ECX and the flags. */
	.text
	.globl ops_callret_rec
	.type ops_callret_rec, @function
ops_callret_rec:
	decl %ecx
	jz 1f
	call ops_callret_rec
1:	ret
	.size ops_callret_rec, . - ops_callret_rec

	.section .note.GNU-stack, "", @progbits
