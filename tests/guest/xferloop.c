/* xferloop: N ring 3 -> ring 0 -> ring 3 round trips of each kind, with
 * paging on: `int 0x80` to an interrupt gate and `iret` back, `sysenter`
 * and `sti; sysexit` back, each side touching its own stack (so that
 * an access through the wrong guest view after a switch would fault or
 * read the wrong word).  N comes from the command line ("n=N", default
 * 1000), so that a run with a large N can be compared with one with a
 * small N: tests/guest/check-xfer-syscalls.sh checks with btvm --stats
 * that the host system calls btvm makes do not grow with N (no host
 * system call per guest privilege switch; bt/views.c). */
#include "guest.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define STR(x) #x
#define XSTR(x) STR(x)

uint32_t xl_loop(uint32_t n);
extern char xl_int_entry[], xl_sysenter_entry[];

__asm__(
	"	.text\n"
	/* interrupt gate: EAX = EBX + ECX through the kernel stack;
	 * EAX = 0 (SYS_EXIT) goes to the kit's stub */
	"xl_int_entry:\n"
	"	testl %eax, %eax\n"
	"	jz 1f\n"
	"	pushl %ebx\n"
	"	movl (%esp), %eax\n"
	"	addl %ecx, %eax\n"
	"	addl $4, %esp\n"
	"	iret\n"
	"1:	jmp isr_stubs + " XSTR(VEC_SYSCALL) " * " XSTR(ISR_STUB_SIZE) "\n"
	/* SYSENTER: EAX = 2 * EBX through the kernel stack, STI; SYSEXIT */
	"xl_sysenter_entry:\n"
	"	pushl %ebx\n"
	"	movl (%esp), %eax\n"
	"	addl %eax, (%esp)\n"
	"	popl %eax\n"
	"	sti\n"
	"	sysexit\n"
	/* ring 3: n turns; EAX = the sum of the results */
	"xl_loop:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	movl 16(%esp), %esi\n"
	"	xorl %edi, %edi\n"
	"2:	movl $1, %eax\n"
	"	movl %esi, %ebx\n"
	"	movl $7, %ecx\n"
	"	int $0x80\n"
	"	pushl %eax\n"
	"	addl %eax, %edi\n"
	"	popl %eax\n"
	"	movl %esi, %ebx\n"
	"	movl %esp, %ecx\n"
	"	movl $3f, %edx\n"
	"	sysenter\n"
	"3:	addl %eax, %edi\n"
	"	decl %esi\n"
	"	jnz 2b\n"
	"	movl %edi, %eax\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n");

static inline void wrmsr(uint32_t msr, uint32_t lo)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0u) : "memory");
}

static uint8_t sysenter_stack[4096] ALIGNED(16);

/* "n=N" among the words of the multiboot command line, else dflt */
static uint32_t cmdline_n(uint32_t dflt)
{
	if (!boot_info || !(boot_info->flags & (1u << 2)) || !boot_info->cmdline)
		return dflt;
	const char *p = (const char *)boot_info->cmdline;
	while (*p) {
		while (*p == ' ')
			p++;
		if (p[0] == 'n' && p[1] == '=') {
			uint32_t n = 0;
			for (p += 2; *p >= '0' && *p <= '9'; p++)
				n = n * 10 + (uint32_t)(*p - '0');
			return n ? n : dflt;
		}
		while (*p && *p != ' ')
			p++;
	}
	return dflt;
}

void main(void)
{
	uint32_t n = cmdline_n(1000);
	printf("xferloop: int 0x80/iret and sysenter/sysexit round trips, paging on\n");
	paging_identity_init();
	paging_enable();
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, (uint32_t)(sysenter_stack + sizeof(sysenter_stack)));
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)xl_sysenter_entry);
	idt_set_gate(VEC_SYSCALL, (uint32_t)xl_int_entry, SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	uint32_t want = 0;
	for (uint32_t i = n; i; i--)
		want += (i + 7) + 2 * i;
	CHECK_EQ(run_user(xl_loop, n, 0x202), want, "n turns of int 0x80 and SYSENTER: the sum");
	idt_set_gate(VEC_SYSCALL, isr_stub_addr(VEC_SYSCALL), SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	wrmsr(MSR_SYSENTER_CS, 0);
	paging_disable();
}
