/* breakout: a hostile guest user program leaves compatibility mode and
 * calls the host (docs/security.md).  Not a QEMU-compared test: under
 * btvm's direct execution the far jump really runs on the CPU, and the
 * host sandbox must stop the VM (tests/sandbox/check_sandbox.sh runs it).
 *
 * The ring-3 code hides `ljmp $0x33, $bo_target64` in a MOV's
 * displacement and immediate, reached by a jump into it, so that the
 * direct-execution scan (bt/direct_scan.c, a linear sweep) sees a MOV and
 * lets the page run natively.  0x33 in the host GDT is x86-64 Linux's
 * 64-bit user code segment: bo_target64 then runs as 64-bit code and
 * makes `openat(AT_FDCWD, "/tmp/btvm-breakout-check", O_WRONLY|O_CREAT)`
 * with SYSCALL (itself hidden in an immediate).  On the guest (QEMU,
 * --user-exec bt) the far jump names the guest's GDT entry 6, which is
 * null here: #GP(0x30), and the guest stays inside.
 *
 * With "sysenter" on the command line the ring-3 code runs a SYSENTER
 * hidden the same way instead.  The host's compatibility-mode SYSENTER
 * entry makes it an i386 system call on the host's own code segment:
 * the sandbox stops it (without the sandbox, direct execution's own
 * filter traps it and btvm stops).  On the guest, SYSENTER with
 * IA32_SYSENTER_CS = 0 is #GP(0). */
#include "guest.h"

uint32_t bo_escape(uint32_t), bo_sysenter(uint32_t);

__asm__(
	"	.section .text.zuser, \"ax\"\n"
	"	.balign 4096\n"
	"	.globl bo_escape\n"
	"bo_escape:\n"
	"	jmp 1f + 2\n"
	"1:	.byte 0xc7, 0x80, 0xea\n"      /* as swept: movl $imm32, disp32(%eax) */
	"	.long bo_target64\n"          /* from 1f + 2: EA <offset> 33 00 = ljmp $0x33 */
	"	.byte 0x33, 0x00, 0x90\n"
	"3:	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"  /* the guest's #GP resumes at 3 */
	"	.balign 4\n"
	"	.long 1b + 2, 3b\n"
	"	.popsection\n"
	"bo_target64:\n"                       /* 64-bit code from here */
	"	.byte 0x48, 0xc7, 0xc0, 0x01, 0x01, 0x00, 0x00\n"  /* mov $257, %rax (openat) */
	"	.byte 0x48, 0xc7, 0xc7, 0x9c, 0xff, 0xff, 0xff\n"  /* mov $-100, %rdi (AT_FDCWD) */
	"	.byte 0x48, 0xc7, 0xc6\n"
	"	.long bo_path\n"                                  /* mov $bo_path, %rsi */
	"	.byte 0x48, 0xc7, 0xc2, 0x41, 0x00, 0x00, 0x00\n"  /* mov $0x41, %rdx (O_WRONLY|O_CREAT) */
	"	.byte 0x49, 0xc7, 0xc2, 0xa4, 0x01, 0x00, 0x00\n"  /* mov $0644, %r10 */
	"	jmp 2f + 1\n"
	"2:	.byte 0xb8, 0x0f, 0x05, 0xeb, 0xfe\n"              /* from 2f + 1: syscall; jmp . */
	"	.globl bo_sysenter\n"
	"bo_sysenter:\n"
	"	pushl %ebp\n"
	"	movl %esp, %ebp\n"             /* as the vDSO does: the host reads EBP */
	"	movl $20, %eax\n"              /* i386 getpid */
	"	jmp 4f + 1\n"
	"4:	.byte 0xb8, 0x0f, 0x34, 0x90, 0x90\n"  /* from 4f + 1: sysenter; nop; nop */
	"5:	popl %ebp\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long 4b + 1, 5b\n"
	"	.popsection\n"
	"bo_path:\n"
	"	.asciz \"/tmp/btvm-breakout-check\"\n"
	"	.balign 4096, 0xcc\n"
	"	.text\n");

static int has_word(const char *s, const char *w)
{
	for (; s && *s; s++) {
		const char *a = s, *b = w;
		while (*b && *a == *b)
			a++, b++;
		if (!*b && (!*a || *a == ' '))
			return 1;
	}
	return 0;
}

void main(void)
{
	const char *cmd = (boot_info && (boot_info->flags & (1u << 2))) ? (const char *)boot_info->cmdline : "";
	if (has_word(cmd, "sysenter")) {
		printf("breakout: ring 3 runs a SYSENTER hidden in an immediate\n");
		fault_reset();
		run_user(bo_sysenter, 0, 0x202);
		CHECK_EQ(last_fault.count, 1, "SYSENTER faulted in the guest");
		CHECK_EQ(last_fault.vector, 13, "#GP");
		CHECK_EQ(last_fault.error, 0, "error code 0: IA32_SYSENTER_CS is 0");
		return;
	}
	printf("breakout: ring 3 far-jumps to selector 0x33 hidden in an immediate, then calls the host\n");
	fault_reset();
	run_user(bo_escape, 0, 0x202);
	CHECK_EQ(last_fault.count, 1, "the far jump faulted in the guest");
	CHECK_EQ(last_fault.vector, 13, "#GP");
	CHECK_EQ(last_fault.error, 0x30, "error code 0x30: the guest's GDT entry 6 is null");
}
