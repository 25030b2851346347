/* taskswitch: hardware task switches (SDM Vol. 3A 7.3) as Linux i386 uses
 * them for #DF (IDT vector 8 is a task gate to a separate TSS: the handler
 * task reads the faulting task's state from its TSS, repairs it and IRETs
 * with NT=1 back into it), first without paging (a #GP whose gate is not
 * present) and then with paging on (a kernel stack overflow: #PF while
 * delivering #PF), plus CALL to a TSS and through a task gate (back link,
 * NT, busy bits, every register restored), JMP to a TSS and back (busy
 * bits move, no link), CR0.TS, and the faults: #GP for a busy TSS or a DPL
 * below CPL, #NP for a not-present gate or TSS, #TS for a TSS limit below
 * 0x67 and for IRET to a task that is not busy. */
#include "guest.h"

#define SEL_TSS_DF  0x30   /* 6: #DF handler task */
#define SEL_TSS2    0x38   /* 7: CALL target (returns with IRET) */
#define SEL_TSS3    0x40   /* 8: JMP target (jumps back) */
#define SEL_TGATE2  0x48   /* 9: task gate -> SEL_TSS2, DPL0 */
#define SEL_TSS_X   0x50   /* 10: changed per case */
#define SEL_TGATE_X 0x58   /* 11: changed per case */

#define TYPE_TASKGATE 0x05
#define TYPE_TSS_BUSY 0x0B

static struct tss32 tss_df, tss2, tss3 ALIGNED(128);
static uint8_t df_stack[4096] ALIGNED(16), t2_stack[4096] ALIGNED(16), t3_stack[4096] ALIGNED(16);
static uint8_t guard_page[4096] ALIGNED(4096);

static uint64_t task_gate(uint16_t tss_sel, unsigned dpl, int present)
{
	uint64_t hi = (uint32_t)TYPE_TASKGATE << 8 | (dpl & 3u) << 13 | (present ? 1u << 15 : 0);
	return hi << 32 | (uint64_t)tss_sel << 16;
}

static unsigned gdt_type(uint16_t sel)
{
	return (unsigned)(gdt[sel >> 3] >> 40) & 0x1f;
}

static uint16_t str(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

static void task_init(struct tss32 *t, void (*entry)(void), uint8_t *stack, uint32_t size)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)entry;
	t->eflags = 0x2;
	t->esp = (uint32_t)(stack + size);
	t->cs = SEL_KCODE;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
	t->ss0 = SEL_KDATA;
	t->esp0 = t->esp;
	t->cr3 = (uint32_t)page_dir;
	t->iomap_base = sizeof(*t);
}

volatile uint32_t u_farptr[2];
volatile uint32_t esp_before, esp_after, df_err, df_count, df_resume, df_good_esp;
volatile uint32_t t2_count, t3_count, fault_saved_esp, u_cs_after, u_ss_after;
static volatile uint32_t df_tr, df_link, df_eflags, df_cr0, df_old_type, df_new_type;
static volatile uint32_t df_saved_eip, df_saved_eax, df_saved_esp, df_saved_cs, df_saved_ds, df_cr2, df_cr3;
static volatile uint32_t t2_tr, t2_link, t2_eflags, t2_old_type, t2_cs, t2_ss, t2_caller_cs;
static volatile uint32_t t3_tr, t3_link, t3_eflags, t3_old_type, t3_new_type;

void df_body(void);
void df_body(void)
{
	df_count++;
	df_tr = str();
	df_link = tss_df.link & 0xffff;
	df_eflags = read_eflags();
	df_cr0 = read_cr0();
	df_cr2 = read_cr2();
	df_cr3 = read_cr3();
	df_old_type = gdt_type(SEL_TSS);
	df_new_type = gdt_type(SEL_TSS_DF);
	df_saved_eip = tss.eip;
	df_saved_eax = tss.eax;
	df_saved_esp = tss.esp;
	df_saved_cs = tss.cs & 0xffff;
	df_saved_ds = tss.ds & 0xffff;
	/* repair the faulting task, as Linux's doublefault code does for the
	 * cases it can return from */
	tss.eip = df_resume;
	if (df_good_esp)
		tss.esp = df_good_esp;
}

void t2_body(void);
void t2_body(void)
{
	t2_count++;
	t2_tr = str();
	t2_link = tss2.link & 0xffff;
	t2_eflags = read_eflags();
	t2_old_type = gdt_type(SEL_TSS);
	t2_cs = read_cs();
	t2_ss = read_ss();
	t2_caller_cs = tss.cs & 0xffff;
}

void t3_body(void);
void t3_body(void)
{
	t3_count++;
	t3_tr = str();
	t3_link = tss3.link & 0xffff;
	t3_eflags = read_eflags();
	t3_old_type = gdt_type(SEL_TSS);
	t3_new_type = gdt_type(SEL_TSS3);
}

__asm__(
	"	.text\n"
	/* the handler tasks: each IRET (NT=1) leaves the task's EIP just
	 * after it, so the next switch into the task starts over */
	"	.globl df_entry\n"
	"df_entry:\n"
	"	popl df_err\n"
	"	call df_body\n"
	"	iret\n"
	"	jmp df_entry\n"
	"	.globl t2_entry\n"
	"t2_entry:\n"
	"	call t2_body\n"
	"	iret\n"
	"	jmp t2_entry\n"
	"	.globl t3_entry\n"
	"t3_entry:\n"
	"	call t3_body\n"
	"	ljmp $0x28, $0\n"
	"	jmp t3_entry\n"
	/* #GP with the #GP gate not present: #NP on delivery -> #DF */
	"	.globl df_gp, df_gp_at, df_gp_resume\n"
	"df_gp:\n"
	"	pushl %ebx\n"
	"	movl $0xdf0ea5, %eax\n"
	"	movl $0x1000, %ebx\n"
	"df_gp_at:\n"
	"	movw %bx, %ds\n"
	"	ud2\n"
	"df_gp_resume:\n"
	"	popl %ebx\n"
	"	ret\n"
	/* stack overflow into an unmapped page: #PF while delivering #PF */
	"	.globl df_stack_overflow, df_so_at, df_so_resume\n"
	"df_stack_overflow:\n"
	"	pushl %ebp\n"
	"	movl %esp, df_good_esp\n"
	"	movl $guard_page + 4096, %esp\n"
	"	movl $0xdf0ea5, %eax\n"
	"df_so_at:\n"
	"	pushl $0\n"
	"	ud2\n"
	"df_so_resume:\n"
	"	popl %ebp\n"
	"	ret\n"
	/* CALL to a task with known registers; returns 1 when every register,
	 * ESP and FS came back */
	"	.globl task_call\n"
	"task_call:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	pushl %ebp\n"
	"	movw $0x23, %ax\n"
	"	movw %ax, %fs\n"
	"	movl $0x11111111, %ebx\n"
	"	movl $0x22222222, %ecx\n"
	"	movl $0x33333333, %edx\n"
	"	movl $0x44444444, %esi\n"
	"	movl $0x55555555, %edi\n"
	"	movl $0x66666666, %ebp\n"
	"	movl $0x77777777, %eax\n"
	"	movl %esp, esp_before\n"
	"	lcall *u_farptr\n"
	"	movl %esp, esp_after\n"
	"	cmpl $0x77777777, %eax\n  jne 1f\n"
	"	cmpl $0x11111111, %ebx\n  jne 1f\n"
	"	cmpl $0x22222222, %ecx\n  jne 1f\n"
	"	cmpl $0x33333333, %edx\n  jne 1f\n"
	"	cmpl $0x44444444, %esi\n  jne 1f\n"
	"	cmpl $0x55555555, %edi\n  jne 1f\n"
	"	cmpl $0x66666666, %ebp\n  jne 1f\n"
	"	movw %fs, %ax\n"
	"	cmpw $0x23, %ax\n  jne 1f\n"
	"	movl $1, %eax\n"
	"	jmp 2f\n"
	"1:	xorl %eax, %eax\n"
	"2:	movw $0x10, %cx\n"
	"	movw %cx, %fs\n"
	"	popl %ebp\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n"
	"	.globl task_jmp\n"
	"task_jmp:\n"
	"	pushl %ebx\n"
	"	movl $0x12345678, %ebx\n"
	"	ljmp *u_farptr\n"
	"	movl %ebx, %eax\n"
	"	popl %ebx\n"
	"	ret\n"
	/* ring 3 calls a ring-0 task through a DPL3 task gate */
	"	.globl u_task_call\n"
	"u_task_call:\n"
	"	lcall *u_farptr\n"
	"	movw %cs, u_cs_after\n"
	"	movw %ss, u_ss_after\n"
	"	movl $0x7a5c, %eax\n"
	"	ret\n"
	/* far transfers expected to fault */
	"	.globl x_lcall, x_lcall_at, x_ljmp, x_ljmp_at\n"
	"x_lcall:\n"
	"x_lcall_at:\n"
	"	lcall *u_farptr\n"
	"x_lcall_end:\n"
	"	ret\n"
	"x_ljmp:\n"
	"x_ljmp_at:\n"
	"	ljmp *u_farptr\n"
	"x_ljmp_end:\n"
	"	ret\n"
	/* IRET with NT=1 to the task in the kit TSS's link field */
	"	.globl x_iret_nt, x_iret_nt_at, x_iret_nt_end\n"
	"x_iret_nt:\n"
	"	movl %esp, fault_saved_esp\n"
	"	pushfl\n"
	"	orl $0x4000, (%esp)\n"
	"	popfl\n"
	"	pushfl\n"
	"	pushl %cs\n"
	"	pushl $x_iret_nt_end\n"
	"x_iret_nt_at:\n"
	"	iret\n"
	"x_iret_nt_end:\n"
	"	movl fault_saved_esp, %esp\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long x_lcall_at, x_lcall_end\n"
	"	.long x_ljmp_at, x_ljmp_end\n"
	"	.popsection\n");
void df_entry(void), t2_entry(void), t3_entry(void);
uint32_t df_gp(uint32_t), df_stack_overflow(uint32_t), task_call(uint32_t), task_jmp(uint32_t);
uint32_t x_lcall(uint32_t), x_ljmp(uint32_t), x_iret_nt(uint32_t), u_task_call(uint32_t);
extern char df_gp_at[], df_gp_resume[], df_so_at[], df_so_resume[], x_lcall_at[], x_ljmp_at[];
extern char x_iret_nt_at[], x_iret_nt_end[];

static void far_to(uint16_t sel)
{
	u_farptr[0] = 0;
	u_farptr[1] = sel;
}

static void expect_fault(const char *what, user_fn_t fn, int user, const char *at, uint32_t vec, uint32_t err)
{
	fault_reset();
	if (user)
		run_user(fn, 0, 0x2);
	else
		fn(0);
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "%s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, (uint32_t)at, "%s: saved EIP is the instruction", what);
}

/* #TS from IRET with NT=1: clear NT in the frame and resume after it */
static volatile uint32_t ts_count, ts_err, ts_eip;
static void ts_handler(struct regs *r)
{
	ts_count++;
	ts_err = r->error;
	ts_eip = r->eip;
	r->eflags &= ~0x4000u;
	r->eip = (uint32_t)x_iret_nt_end;
}

static void check_df(const char *what, const char *at, uint32_t count)
{
	CHECK_EQ(df_count, count, "%s: the #DF task ran", what);
	CHECK_EQ(df_tr, SEL_TSS_DF, "%s: TR = the #DF TSS in the handler task", what);
	CHECK_EQ(df_link, SEL_TSS, "%s: back link = the interrupted task's TSS", what);
	CHECK_EQ(df_eflags & 0x4000, 0x4000, "%s: NT set in the handler task", what);
	CHECK_EQ(df_cr0 & CR0_TS, CR0_TS, "%s: CR0.TS set by the task switch", what);
	CHECK_EQ(df_old_type, TYPE_TSS_BUSY, "%s: the interrupted task's TSS stays busy", what);
	CHECK_EQ(df_new_type, TYPE_TSS_BUSY, "%s: the #DF TSS is busy", what);
	CHECK_EQ(df_err, 0, "%s: error code 0 on the handler task's stack", what);
	CHECK(df_saved_eip == (uint32_t)at, "%s: saved EIP = the faulting instruction", what);
	CHECK_EQ(df_saved_eax, 0xdf0ea5, "%s: saved EAX", what);
	CHECK_EQ(df_saved_cs, SEL_KCODE, "%s: saved CS", what);
	CHECK_EQ(df_saved_ds, SEL_KDATA, "%s: saved DS", what);
	CHECK_EQ(str(), SEL_TSS, "%s: IRET back: TR = 0x28", what);
	CHECK_EQ(gdt_type(SEL_TSS_DF), 0x09, "%s: IRET back: the #DF TSS is available again", what);
	CHECK_EQ(read_eflags() & 0x4000, 0, "%s: IRET back: NT clear", what);
}

void main(void)
{
	printf("taskswitch: task gates, CALL/JMP to a TSS, IRET with NT\n");
	task_init(&tss_df, df_entry, df_stack, sizeof(df_stack));
	task_init(&tss2, t2_entry, t2_stack, sizeof(t2_stack));
	task_init(&tss3, t3_entry, t3_stack, sizeof(t3_stack));
	gdt_set(6, (uint32_t)&tss_df, sizeof(tss_df) - 1, SEG_P | SEG_DPL(0) | SYS_TSS32, 0);
	gdt_set(7, (uint32_t)&tss2, sizeof(tss2) - 1, SEG_P | SEG_DPL(0) | SYS_TSS32, 0);
	gdt_set(8, (uint32_t)&tss3, sizeof(tss3) - 1, SEG_P | SEG_DPL(0) | SYS_TSS32, 0);
	gdt[9] = task_gate(SEL_TSS2, 0, 1);
	idt_set_gate(8, 0, SEL_TSS_DF, SEG_P | SEG_DPL(0) | TYPE_TASKGATE);

	/* #DF through the task gate, paging off */
	idt_set_present(13, 0);
	df_resume = (uint32_t)df_gp_resume;
	df_gp(0);
	idt_set_present(13, 1);
	check_df("#DF (#NP delivering #GP)", df_gp_at, 1);
	__asm__ volatile("clts");

	/* again: the handler task resumes after its IRET */
	idt_set_present(13, 0);
	df_gp(0);
	idt_set_present(13, 1);
	CHECK_EQ(df_count, 2, "second #DF enters the handler task again");
	CHECK_EQ(str(), SEL_TSS, "second #DF: back in the first task");
	__asm__ volatile("clts");

	/* CALL to a TSS: link, NT, busy, every register restored by IRET */
	far_to(SEL_TSS2);
	uint32_t ok = task_call(0);
	CHECK_EQ(t2_count, 1, "lcall to a TSS runs the task");
	CHECK_EQ(t2_tr, SEL_TSS2, "lcall to a TSS: TR = 0x38");
	CHECK_EQ(t2_link, SEL_TSS, "lcall to a TSS: back link = 0x28");
	CHECK_EQ(t2_eflags & 0x4000, 0x4000, "lcall to a TSS: NT set in the new task");
	CHECK_EQ(t2_old_type, TYPE_TSS_BUSY, "lcall to a TSS: the calling task stays busy");
	CHECK(t2_cs == SEL_KCODE && t2_ss == SEL_KDATA, "lcall to a TSS: CS/SS from the new TSS");
	CHECK(ok, "IRET back: EAX..EDI, EBP and FS restored from the TSS");
	CHECK(esp_after == esp_before, "IRET back: ESP restored, nothing pushed");
	CHECK_EQ(gdt_type(SEL_TSS2), 0x09, "IRET back: the called TSS is available again");
	CHECK_EQ(read_cr0() & CR0_TS, CR0_TS, "CR0.TS set after the task switches");
	__asm__ volatile("clts");

	/* CALL through a task gate in the GDT */
	far_to(SEL_TGATE2);
	ok = task_call(0);
	CHECK_EQ(t2_count, 2, "lcall through a task gate runs the task again");
	CHECK_EQ(t2_tr, SEL_TSS2, "lcall through a task gate: TR = the gate's TSS");
	CHECK(ok, "lcall through a task gate: registers restored");

	/* JMP to a TSS and back */
	far_to(SEL_TSS3);
	uint32_t v = task_jmp(0);
	CHECK_EQ(t3_count, 1, "ljmp to a TSS runs the task");
	CHECK_EQ(t3_tr, SEL_TSS3, "ljmp to a TSS: TR = 0x40");
	CHECK_EQ(t3_eflags & 0x4000, 0, "ljmp to a TSS: NT not set");
	CHECK_EQ(t3_link, 0, "ljmp to a TSS: no back link written");
	CHECK_EQ(t3_old_type, 0x09, "ljmp to a TSS: the old TSS is no longer busy");
	CHECK_EQ(t3_new_type, TYPE_TSS_BUSY, "ljmp to a TSS: the new TSS is busy");
	CHECK_EQ(v, 0x12345678, "ljmp back to the first TSS resumes after the ljmp");
	CHECK_EQ(str(), SEL_TSS, "ljmp back: TR = 0x28");
	CHECK_EQ(gdt_type(SEL_TSS3), 0x09, "ljmp back: the other TSS is available");
	__asm__ volatile("clts");

	/* from ring 3 through a DPL3 task gate, and IRET back to ring 3 */
	gdt[SEL_TGATE_X >> 3] = task_gate(SEL_TSS2, 3, 1);
	far_to(SEL_TGATE_X | 3);
	fault_reset();
	v = run_user(u_task_call, 0, 0x2);
	CHECK_EQ(last_fault.count, 0, "lcall from ring 3 through a DPL3 task gate: no fault");
	CHECK_EQ(t2_count, 3, "lcall from ring 3 through a DPL3 task gate runs the ring-0 task");
	CHECK_EQ(t2_cs, SEL_KCODE, "the called task runs with its own CS 0x08");
	CHECK_EQ(t2_caller_cs, SEL_UCODE, "the calling task's TSS holds CS 0x1b");
	CHECK(u_cs_after == SEL_UCODE && u_ss_after == SEL_UDATA, "IRET back resumes ring 3 with CS/SS from the TSS");
	CHECK_EQ(v, 0x7a5c, "ring 3 code goes on after the task returns");
	__asm__ volatile("clts");

	/* faults */
	far_to(SEL_TSS);
	expect_fault("lcall to the busy current TSS -> #GP(0x28)", x_lcall, 0, x_lcall_at, 13, SEL_TSS);
	far_to(SEL_TSS2);
	expect_fault("lcall from ring 3 to a DPL0 TSS -> #GP(0x38)", x_lcall, 1, x_lcall_at, 13, SEL_TSS2);
	far_to(SEL_TGATE2 | 3);
	expect_fault("lcall from ring 3 through a DPL0 task gate -> #GP(0x48)", x_lcall, 1, x_lcall_at, 13, SEL_TGATE2);
	gdt[SEL_TGATE_X >> 3] = task_gate(SEL_TSS2, 0, 0);
	far_to(SEL_TGATE_X);
	expect_fault("ljmp through a not-present task gate -> #NP(0x58)", x_ljmp, 0, x_ljmp_at, 11, SEL_TGATE_X);
	gdt_set(SEL_TSS_X >> 3, (uint32_t)&tss2, sizeof(tss2) - 1, SEG_DPL(0) | SYS_TSS32, 0);
	far_to(SEL_TSS_X);
	expect_fault("ljmp to a not-present TSS -> #NP(0x50)", x_ljmp, 0, x_ljmp_at, 11, SEL_TSS_X);
	gdt_set(SEL_TSS_X >> 3, (uint32_t)&tss2, 0x60, SEG_P | SEG_DPL(0) | SYS_TSS32, 0);
	expect_fault("ljmp to a TSS with limit 0x60 -> #TS(0x50)", x_ljmp, 0, x_ljmp_at, 10, SEL_TSS_X);
	CHECK_EQ(str(), SEL_TSS, "after the faults: still in the first task");
	CHECK_EQ(gdt_type(SEL_TSS), TYPE_TSS_BUSY, "after the faults: its TSS still busy");

	set_handler(10, ts_handler);
	tss.link = SEL_TSS2;
	x_iret_nt(0);
	tss.link = 0;
	set_handler(10, NULL);
	CHECK_EQ(ts_count, 1, "iret with NT=1 to an available TSS -> #TS");
	CHECK_EQ(ts_err, SEL_TSS2, "iret with NT=1 to an available TSS: error code 0x38");
	CHECK(ts_eip == (uint32_t)x_iret_nt_at, "iret with NT=1 to an available TSS: saved EIP is the iret");

	/* #DF from a kernel stack overflow with paging on; the handler task
	 * loads CR3 from its TSS */
	paging_identity_init();
	*pte_ptr((uint32_t)guard_page, 0) = 0;
	tss.cr3 = (uint32_t)page_dir;  /* IRET back loads the first task's CR3 */
	paging_enable();
	invlpg((uint32_t)guard_page);
	df_resume = (uint32_t)df_so_resume;
	df_stack_overflow(0);
	df_good_esp = 0;
	check_df("#DF (#PF delivering #PF)", df_so_at, 3);
	CHECK(df_cr2 == (uint32_t)guard_page + 4092, "#DF from a stack overflow: CR2 = the unmapped stack slot");
	CHECK(df_cr3 == (uint32_t)page_dir, "#DF handler task runs with CR3 from its TSS");
	CHECK(df_saved_esp == (uint32_t)guard_page + 4096, "#DF from a stack overflow: saved ESP = the overflowed stack");
	paging_disable();
	__asm__ volatile("clts");
}
