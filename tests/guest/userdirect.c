/* userdirect: ring-3 code that --user-exec direct runs on the CPU.  The
 * user functions live on a code page of their own with no instruction the
 * direct-execution scan refuses (bt/direct.c), so under btvm they run in a
 * compatibility-mode segment; QEMU and --user-exec bt must print the same.
 * Compute (checked against the same code in ring 0), int 0x80 round trips,
 * memory across pages (fills of the direct view), faults and traps from
 * ring 3 (#DE, #UD, #GP of CLI/IN/INT n/INT3/INTO through DPL0 gates, with
 * their EIP), timer interrupts preempting a user loop, and the same with
 * paging on (a user read of a supervisor page: #PF with CR2). */
#include "guest.h"

#define SYS_ADD 1

uint32_t ud_compute(uint32_t n), ud_syscalls(uint32_t n), ud_memory(uint32_t buf);
uint32_t ud_div0(uint32_t), ud_ud2(uint32_t), ud_cli(uint32_t), ud_in(uint32_t), ud_int41(uint32_t);
uint32_t ud_int3(uint32_t), ud_into(uint32_t), ud_read(uint32_t), ud_hidden_gs(uint32_t);

__asm__(
	"	.section .text.zuser, \"ax\"\n"
	"	.balign 4096\n"
	/* xorshift32, summed: n iterations */
	"	.globl ud_compute\n"
	"ud_compute:\n"
	"	pushl %ebx\n"
	"	movl 8(%esp), %ecx\n"
	"	movl $0x12345678, %eax\n"
	"	xorl %edx, %edx\n"
	"1:	movl %eax, %ebx\n"
	"	shll $13, %ebx\n"
	"	xorl %ebx, %eax\n"
	"	movl %eax, %ebx\n"
	"	shrl $17, %ebx\n"
	"	xorl %ebx, %eax\n"
	"	movl %eax, %ebx\n"
	"	shll $5, %ebx\n"
	"	xorl %ebx, %eax\n"
	"	addl %eax, %edx\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movl %edx, %eax\n"
	"	popl %ebx\n"
	"	ret\n"
	/* writes i to word i of a 64 KiB buffer, then sums it back */
	"	.globl ud_memory\n"
	"ud_memory:\n"
	"	movl 4(%esp), %edx\n"
	"	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"3:	movl %ecx, (%edx,%ecx,4)\n"
	"	addl $1, %ecx\n"
	"	cmpl $16384, %ecx\n"
	"	jb 3b\n"
	"	xorl %ecx, %ecx\n"
	"4:	addl (%edx,%ecx,4), %eax\n"
	"	addl $1, %ecx\n"
	"	cmpl $16384, %ecx\n"
	"	jb 4b\n"
	"	ret\n"
	/* TLS through GDT entry 6 (0x33, glibc's i386 TLS selector) loaded
	 * by a MOV the scan cannot see: its bytes 8E E8 sit inside a MOV's
	 * immediate, reached by a jump into it (overlapping instructions).
	 * Natively 0x33 names the host GDT's 64-bit user code segment, base
	 * 0: the %gs:0 read faults on page 0 and btvm puts the guest's own
	 * descriptor in GS (bt/direct.c, fix_segments).  Returns %gs:0. */
	"	.globl ud_hidden_gs\n"
	"ud_hidden_gs:\n"
	"	movl 4(%esp), %eax\n"
	"	jmp 7f + 1\n"
	"7:	movl $0x90e88e90, %ecx\n"   /* B9 | 90 8E E8 90: nop; mov %eax,%gs; nop */
	"	movl %gs:0, %eax\n"
	"	ret\n"
	/* each returns the address of its faulting or trapping instruction */
	".macro UFAULT name, setup, insn\n"
	"	.globl \\name\n"
	"\\name:\n"
	"	pushl %esi\n"
	"	movl $5f, %esi\n"
	"	\\setup\n"
	"5:	\\insn\n"
	"6:	movl %esi, %eax\n"
	"	popl %esi\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long 5b, 6b\n"
	"	.popsection\n"
	".endm\n"
	"	UFAULT ud_div0, \"xorl %ecx, %ecx; movl $7, %eax; xorl %edx, %edx\", \"divl %ecx\"\n"
	"	UFAULT ud_ud2, \"nop\", \"ud2\"\n"
	"	UFAULT ud_cli, \"nop\", \"cli\"\n"
	"	UFAULT ud_in, \"nop\", \"inb $0x80, %al\"\n"
	"	UFAULT ud_int41, \"nop\", \"int $0x41\"\n"
	"	UFAULT ud_int3, \"nop\", \"int3\"\n"
	"	UFAULT ud_into, \"movl $0x7fffffff, %eax; addl $1, %eax\", \"into\"\n"
	"	UFAULT ud_read, \"movl 8(%esp), %ecx\", \"movl (%ecx), %eax\"\n"
	"	.balign 4096, 0xcc\n"   /* int3 filler: GAS would jump over a NOP one */
	/* on a page of its own: btvm translates a page whose direct runs are
	 * all short (one system call each), and the rest must stay direct */
	/* n system calls EAX = EBX + ECX, summed */
	"	.globl ud_syscalls\n"
	"ud_syscalls:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	movl 16(%esp), %esi\n"
	"	xorl %edi, %edi\n"
	"2:	movl $1, %eax\n"
	"	movl %esi, %ebx\n"
	"	movl $1, %ecx\n"
	"	int $0x80\n"
	"	addl %eax, %edi\n"
	"	decl %esi\n"
	"	jnz 2b\n"
	"	movl %edi, %eax\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n"
	"	.balign 4096, 0xcc\n"
	"	.text\n");

static uint32_t buf[16384] ALIGNED(4096);
static uint32_t tls[4] ALIGNED(16) = { 0x7115d00d, 1, 2, 3 };
static uint8_t sup_page[4096] ALIGNED(4096);
static volatile uint32_t ticks, k_calls;

static void syscall_handler(struct regs *r)
{
	k_calls++;
	if (r->eax == SYS_ADD)
		r->eax = r->ebx + r->ecx;
}

static void on_tick(struct regs *r)
{
	(void)r;
	ticks++;
	pic_eoi(0);
}

static void user_fault(const char *what, user_fn_t fn, uint32_t vec, uint32_t err)
{
	fault_reset();
	uint32_t at = run_user(fn, 0, 0x202);
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "%s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, at, "%s: saved EIP is the instruction", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "%s: saved CS is the ring-3 code selector", what);
}

static void round(const char *mode)
{
	uint32_t want = ud_compute(200000);
	CHECK_EQ(run_user(ud_compute, 200000, 0x202), want, "%s: user compute loop = the same code in ring 0", mode);
	k_calls = 0;
	CHECK_EQ(run_user(ud_syscalls, 1000, 0x202), 501500, "%s: 1000 int 0x80 round trips from ring 3", mode);
	CHECK_EQ(k_calls, 1000, "%s: each reached the ring-0 handler", mode);
	CHECK_EQ(run_user(ud_memory, (uint32_t)buf, 0x202), 16384u * 16383u / 2, "%s: 64 KiB written and read back from ring 3", mode);
	CHECK_EQ(buf[12345], 12345, "%s: ring 0 sees what ring 3 wrote", mode);
	CHECK_EQ(run_user(ud_hidden_gs, 0x33, 0x202), tls[0], "%s: user code loads GS (0x33) hidden in an immediate: %%gs:0 is the TLS", mode);
	user_fault("div by 0 -> #DE", ud_div0, 0, 0);
	user_fault("ud2 -> #UD", ud_ud2, 6, 0);
	user_fault("cli at IOPL0 -> #GP(0)", ud_cli, 13, 0);
	user_fault("in at IOPL0 -> #GP(0)", ud_in, 13, 0);
	user_fault("int $0x41 through a DPL0 gate -> #GP(0x20a)", ud_int41, 13, 0x41 * 8 + 2);
	user_fault("int3 through a DPL0 gate -> #GP(0x1a)", ud_int3, 13, 3 * 8 + 2);
	user_fault("into through a DPL0 gate -> #GP(0x22)", ud_into, 13, 4 * 8 + 2);

	/* timer interrupts while ring 3 computes */
	ticks = 0;
	set_irq_handler(0, on_tick);
	pit_set_rate(1000);
	pic_unmask(0);
	uint32_t n = 4000000, got = 0;
	while (ticks < 3)
		got = run_user(ud_compute, n, 0x202);
	pic_mask(0);
	CHECK(ticks >= 3, "%s: timer interrupts reach the guest while ring 3 runs", mode);
	CHECK_EQ(got, ud_compute(n), "%s: user state survives the interrupts", mode);
}

void main(void)
{
	printf("userdirect: ring-3 code on a page of its own (direct execution under btvm)\n");
	set_syscall_handler(syscall_handler);
	gdt_set(6, (uint32_t)tls, 0xFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_DB);
	round("flat");

	paging_identity_init();
	map_4k((uint32_t)sup_page, (uint32_t)sup_page, PTE_P | PTE_W);
	paging_enable();
	round("paging");
	fault_reset();
	run_user(ud_read, (uint32_t)sup_page, 0x202);
	CHECK_EQ(last_fault.vector, 14, "paging: user read of a supervisor page: #PF");
	CHECK_EQ(last_fault.error, PF_P | PF_U, "paging: error code P|U");
	CHECK_EQ(last_fault.cr2, (uint32_t)sup_page, "paging: CR2 = the address");
	paging_disable();
}
