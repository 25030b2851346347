/* xfer: ring 3 <-> ring 0 transfers back to back, with paging on, and the
 * cases where what follows an IRET is not the next user instruction.
 * Under btvm --accel bt, INT n, IRET, SYSENTER and SYSEXIT finish in
 * their callout and jump straight to the next translated block
 * (bt/translate.c, co_xfer) unless the dispatcher has to see the new
 * state first; this test holds that path to the CPU's behaviour:
 *  - 20000 int 0x80 round trips through a bare handler (interrupt gate),
 *    and through a DPL-3 trap gate, which leaves IF alone (SDM Vol. 3A
 *    6.12.1.2), interleaved with SYSENTER/SYSEXIT round trips;
 *  - an IRET to ring 3 that sets TF: the single-step trap comes after the
 *    first user instruction (SDM Vol. 3B 17.3.1.4), not after the IRET;
 *  - an IRET to ring 3 that sets IF with IRQ0 pending at the PIC: the
 *    interrupt arrives before the first user instruction (IRET has no
 *    interrupt shadow), with the return address as the saved EIP;
 *  - int 0x81 from ring 3 through its gate made DPL 0 in between: #GP
 *    with the gate's error code, then through the DPL-3 gate again. */
#include "guest.h"

#define VEC_TRAP3 0x81
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define STR(x) #x
#define XSTR(x) STR(x)
#define SYS_NOP 1       /* kit handler: nothing */
#define SYS_TF  2       /* kit handler: return with TF set */
#define SYS_IRQ 3       /* kit handler: return once IRQ0 is pending */

uint32_t x_loop(uint32_t n);
uint32_t x_call(uint32_t nr), x_gp(uint32_t);
extern char x_int_entry[], x_trap_entry[], x_sysenter_entry[];
extern char x_after1[], x_after2[], x_gp_at[];

__asm__(
	"	.text\n"
	/* interrupt gate: EAX = EBX + ECX; EAX = SYS_EXIT to the kit's stub */
	"x_int_entry:\n"
	"	testl %eax, %eax\n"
	"	jz 1f\n"
	"	movl %ebx, %eax\n"
	"	addl %ecx, %eax\n"
	"	iret\n"
	"1:	jmp isr_stubs + " XSTR(VEC_SYSCALL) " * " XSTR(ISR_STUB_SIZE) "\n"
	/* trap gate: EAX = EFLAGS as the handler sees them */
	"x_trap_entry:\n"
	"	pushfl\n"
	"	popl %eax\n"
	"	iret\n"
	/* SYSENTER (which clears IF): EAX = EBX * 2, then as Linux returns,
	 * STI and SYSEXIT (in the STI shadow) to EDX with ESP = ECX */
	"x_sysenter_entry:\n"
	"	leal (%ebx,%ebx), %eax\n"
	"	sti\n"
	"	sysexit\n"
	/* ring 3: n turns of int 0x80, int 0x81, SYSENTER; EAX = the sum of
	 * the int 0x80 and SYSENTER results, or 0xffffffff when a trap-gate
	 * handler saw IF = 0 */
	"x_loop:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	pushl %ebp\n"
	"	movl 20(%esp), %esi\n"
	"	xorl %edi, %edi\n"
	"2:	movl $1, %eax\n"
	"	movl %esi, %ebx\n"
	"	movl $7, %ecx\n"
	"	int $0x80\n"
	"	addl %eax, %edi\n"
	"	int $0x81\n"
	"	testl $0x200, %eax\n"
	"	jz 4f\n"
	"	movl %esi, %ebx\n"
	"	movl %esp, %ecx\n"
	"	movl $3f, %edx\n"
	"	sysenter\n"
	"3:	addl %eax, %edi\n"
	"	decl %esi\n"
	"	jnz 2b\n"
	"	movl %edi, %eax\n"
	"	jmp 5f\n"
	"4:	movl $0xffffffff, %eax\n"
	"5:	popl %ebp\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n"
	/* int 0x80 with EAX = the argument to the kit's handler, then two
	 * user instructions */
	"x_call:\n"
	"	movl 4(%esp), %eax\n"
	"	int $0x80\n"
	"	.globl x_after1\n"
	"x_after1:\n"
	"	addl $1, %eax\n"
	"	.globl x_after2\n"
	"x_after2:\n"
	"	addl $1, %eax\n"
	"	ret\n"
	"x_gp:\n"
	"	movl $1, %eax\n"
	"	.globl x_gp_at\n"
	"x_gp_at:\n"
	"	int $0x81\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long x_gp_at, x_gp_at + 2\n"
	"	.popsection\n");

static inline void wrmsr(uint32_t msr, uint32_t lo)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0u) : "memory");
}

static uint8_t sysenter_stack[4096] ALIGNED(16);
static volatile uint32_t db_count, db_eip, db_cs, irq_count, irq_eip, irq_cs;

static void kit_syscall(struct regs *r)
{
	if (r->eax == SYS_TF) {
		r->eflags |= EFLAGS_TF;
	} else if (r->eax == SYS_IRQ) {
		/* IF = 0 here (interrupt gate): wait for IRQ0 to be pending */
		pit_set_rate(1000);
		pic_unmask(0);
		for (uint32_t i = 0; i < 100000000u && !(pic_read_irr() & 1); i++)
			;
	}
}

static void on_db(struct regs *r)
{
	db_count++;
	db_eip = r->eip;
	db_cs = r->cs;
	r->eflags &= ~EFLAGS_TF;
}

static void on_irq0(struct regs *r)
{
	irq_count++;
	irq_eip = r->eip;
	irq_cs = r->cs;
	pic_mask(0);
	pic_eoi(0);
}

static uint32_t expected_sum(uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = n; i; i--)
		s += (i + 7) + 2 * i;
	return s;
}

void main(void)
{
	printf("xfer: ring 3 <-> ring 0 transfers back to back, paging on\n");
	paging_identity_init();
	paging_enable();
	set_syscall_handler(kit_syscall);
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, (uint32_t)(sysenter_stack + sizeof(sysenter_stack)));
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)x_sysenter_entry);
	idt_set_gate(VEC_TRAP3, (uint32_t)x_trap_entry, SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_TRAPGATE32);

	/* 1. back to back */
	idt_set_gate(VEC_SYSCALL, (uint32_t)x_int_entry, SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	uint32_t n = 20000;
	uint32_t got = run_user(x_loop, n, 0x202);
	CHECK(got != 0xffffffffu, "trap gate from ring 3: the handler runs with IF = 1");
	CHECK_EQ(got, expected_sum(n), "%u turns of int 0x80, int 0x81 (trap gate), SYSENTER/SYSEXIT", n);
	got = run_user(x_loop, 1000, 0x2);
	CHECK_EQ(got, 0xffffffffu, "trap gate from ring 3 with IF = 0: the handler sees IF = 0");

	/* 2. IRET sets TF.  (The same round trip without it first, so that
	 * a translator has the return block at hand.) */
	set_handler(1, on_db);
	idt_set_gate(VEC_SYSCALL, isr_stub_addr(VEC_SYSCALL), SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	db_count = 0;
	for (int i = 0; i < 3; i++)
		run_user(x_call, SYS_NOP, 0x202);
	CHECK_EQ(db_count, 0, "int 0x80 round trips without TF: no single-step trap");
	got = run_user(x_call, SYS_TF, 0x202);
	CHECK_EQ(db_count, 1, "IRET to ring 3 setting TF: one single-step trap");
	CHECK_EQ(db_eip, (uint32_t)x_after2, "... after the first user instruction");
	CHECK_EQ(db_cs, SEL_UCODE, "... from ring 3");
	CHECK_EQ(got, SYS_TF + 2, "... and both user instructions ran");
	set_handler(1, NULL);

	/* 3. IRET sets IF with IRQ0 pending */
	set_irq_handler(0, on_irq0);
	irq_count = 0;
	got = run_user(x_call, SYS_IRQ, 0x202);
	CHECK_EQ(irq_count, 1, "IRET to ring 3 setting IF with IRQ0 pending: one interrupt");
	CHECK_EQ(irq_eip, (uint32_t)x_after1, "... before the first user instruction");
	CHECK_EQ(irq_cs, SEL_UCODE, "... from ring 3");
	CHECK_EQ(got, SYS_IRQ + 2, "... and then both user instructions ran");
	outb(0x43, 0x30);                       /* channel 0 mode 0: no more ticks */
	outb(0x40, 0);
	outb(0x40, 0);
	set_irq_handler(0, NULL);

	/* 4. the trap gate's DPL changes between round trips */
	idt_set_gate(VEC_SYSCALL, (uint32_t)x_int_entry, SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	CHECK_EQ(run_user(x_loop, 100, 0x202), expected_sum(100), "100 turns, DPL-3 gates");
	idt_set_dpl(VEC_TRAP3, 0);
	fault_reset();
	run_user(x_gp, 0, 0x202);
	idt_set_dpl(VEC_TRAP3, 3);
	CHECK_EQ(last_fault.count, 1, "int 0x81 through its gate made DPL 0: one fault");
	CHECK_EQ(last_fault.vector, 13, "... #GP");
	CHECK_EQ(last_fault.error, VEC_TRAP3 * 8 + 2, "... error code: the IDT entry");
	CHECK_EQ(last_fault.eip, (uint32_t)x_gp_at, "... at the INT");
	CHECK_EQ(run_user(x_loop, 100, 0x202), expected_sum(100), "100 turns, DPL 3 again");

	idt_set_gate(VEC_SYSCALL, isr_stub_addr(VEC_SYSCALL), SEL_KCODE, SEG_P | SEG_DPL(3) | SYS_INTGATE32);
	idt_set_gate(VEC_TRAP3, isr_stub_addr(VEC_TRAP3), SEL_KCODE, SEG_P | SEG_DPL(0) | SYS_INTGATE32);
	wrmsr(MSR_SYSENTER_CS, 0);
	paging_disable();
}
