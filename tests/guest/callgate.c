/* callgate: far CALL/JMP through call gates and far RET (SDM Vol. 3A 5.8,
 * Vol. 2A CALL/JMP, Vol. 2B RET): ring 3 -> ring 0 and ring 3 -> ring 1
 * with the inner stack from the TSS and `param count` dwords copied,
 * `lret $n` back to the outer level (parameters released on both stacks,
 * data segments the outer level may not use nulled), a gate in the LDT,
 * same-privilege CALL and JMP through a gate, a conforming target (CPL
 * unchanged), and the faults: #GP/#NP for the gate and its code segment,
 * #TS/#SS for the inner stack, #GP for RET to an inner level and for a bad
 * outer SS.  No paging.
 *
 * Not tested, because QEMU's TCG is not the SDM there (bt follows the SDM):
 * the RPL of CS after a gate to conforming code (SDM: CS.RPL := CPL; QEMU
 * sets the segment's DPL), and a not-present inner SS (SDM: #SS(NewSS);
 * QEMU raises #TS). */
#include "guest.h"

/* GDT entries this test uses (selectors = index * 8) */
#define SEL_R1CODE   0x30   /* 6: flat code DPL1 */
#define SEL_R1DATA   0x38   /* 7: flat data DPL1 */
#define SEL_G_INNER  0x40   /* 8: DPL3 gate -> 0x08:k_inner, 3 params */
#define SEL_G_R1     0x48   /* 9: DPL3 gate -> 0x31:r1_entry, 2 params */
#define SEL_G_SAME   0x50   /* 10: DPL0 gate -> 0x08:k_same, 2 params (ignored) */
#define SEL_G_X      0x58   /* 11: changed per case */
#define SEL_NPCODE   0x60   /* 12: code DPL0, not present */
#define SEL_CONF     0x68   /* 13: conforming code DPL0 */
#define SEL_LDT      0x70   /* 14: LDT: entry 0 a DPL3 gate -> 0x08:k_inner */
#define SEL_LDT_GATE 0x07   /* LDT entry 0, RPL3 */

#define GATE_CALL32 0x0C

static uint64_t make_gate(uint16_t sel, uint32_t off, unsigned dpl, unsigned params, int present)
{
	uint64_t lo = (off & 0xFFFFu) | (uint32_t)sel << 16;
	uint64_t hi = (params & 0x1Fu) | (uint32_t)GATE_CALL32 << 8 | (dpl & 3u) << 13 |
		      (present ? 1u << 15 : 0) | (off & 0xFFFF0000u);
	return hi << 32 | lo;
}

static uint64_t ldt[2] ALIGNED(8);
static uint8_t r1_stack[4096] ALIGNED(16);

/* far pointer for lcall/ljmp *u_farptr: offset (ignored by gates), selector */
volatile uint32_t u_farptr[2];
volatile uint32_t u_esp_before, u_esp_after, k_esp_before;
volatile uint32_t ki_esp, ki_frame[7], r1_esp, r1_frame[6], ks_esp, ks_frame[2], kb_saved_ss;
volatile uint32_t conf_esp;
volatile uint16_t ki_cs, ki_ss, r1_cs, r1_ss, ks_cs, conf_cs, u_fs_after;

__asm__(
	"	.text\n"
	/* ring 3: push three parameters, call through u_farptr, return the
	 * kernel's EAX */
	"	.globl u_call_inner, u_call_inner_ret\n"
	"u_call_inner:\n"
	"	pushl $3\n"
	"	pushl $2\n"
	"	pushl $1\n"
	"	movl %esp, u_esp_before\n"
	"	lcall *u_farptr\n"
	"u_call_inner_ret:\n"
	"	movl %esp, u_esp_after\n"
	"	movw %fs, u_fs_after\n"
	"	ret\n"
	/* ring 0 through the gate: record, check CPL 0 with a privileged
	 * read, leave a DPL0 selector in FS, sum the parameters, lret $12 */
	"k_inner:\n"
	"	movl %esp, ki_esp\n"
	"	movw %cs, ki_cs\n"
	"	movw %ss, ki_ss\n"
	"	movl 0(%esp), %eax\n  movl %eax, ki_frame+0\n"
	"	movl 4(%esp), %eax\n  movl %eax, ki_frame+4\n"
	"	movl 8(%esp), %eax\n  movl %eax, ki_frame+8\n"
	"	movl 12(%esp), %eax\n movl %eax, ki_frame+12\n"
	"	movl 16(%esp), %eax\n movl %eax, ki_frame+16\n"
	"	movl 20(%esp), %eax\n movl %eax, ki_frame+20\n"
	"	movl 24(%esp), %eax\n movl %eax, ki_frame+24\n"
	"	movl %cr0, %ecx\n"
	"	movw $0x10, %cx\n"
	"	movw %cx, %fs\n"
	"	movl 8(%esp), %eax\n"
	"	addl 12(%esp), %eax\n"
	"	addl 16(%esp), %eax\n"
	"	lret $12\n"
	/* ring 3 -> ring 1 with two parameters */
	"	.globl u_call_r1, u_call_r1_ret\n"
	"u_call_r1:\n"
	"	pushl $0x20\n"
	"	pushl $0x10\n"
	"	movl %esp, u_esp_before\n"
	"	lcall *u_farptr\n"
	"u_call_r1_ret:\n"
	"	movl %esp, u_esp_after\n"
	"	ret\n"
	"r1_entry:\n"
	"	movl %esp, r1_esp\n"
	"	movw %cs, r1_cs\n"
	"	movw %ss, r1_ss\n"
	"	movl 0(%esp), %eax\n  movl %eax, r1_frame+0\n"
	"	movl 4(%esp), %eax\n  movl %eax, r1_frame+4\n"
	"	movl 8(%esp), %eax\n  movl %eax, r1_frame+8\n"
	"	movl 12(%esp), %eax\n movl %eax, r1_frame+12\n"
	"	movl 16(%esp), %eax\n movl %eax, r1_frame+16\n"
	"	movl 20(%esp), %eax\n movl %eax, r1_frame+20\n"
	"	movl 8(%esp), %eax\n"
	"	addl 12(%esp), %eax\n"
	"	lret $8\n"
	/* ring 0 -> ring 0 through a gate: nothing copied, 8 bytes pushed */
	"	.globl k_call_same, k_call_same_ret\n"
	"k_call_same:\n"
	"	movl %esp, k_esp_before\n"
	"	lcall *u_farptr\n"
	"k_call_same_ret:\n"
	"	ret\n"
	"k_same:\n"
	"	movl %esp, ks_esp\n"
	"	movw %cs, ks_cs\n"
	"	movl 0(%esp), %eax\n movl %eax, ks_frame+0\n"
	"	movl 4(%esp), %eax\n movl %eax, ks_frame+4\n"
	"	movl $0x5a3e, %eax\n"
	"	lret\n"
	/* JMP through a gate: nothing pushed; the target returns for the caller */
	"	.globl k_jmp_gate\n"
	"k_jmp_gate:\n"
	"	movl %esp, k_esp_before\n"
	"	ljmp *u_farptr\n"
	"k_jmp_target:\n"
	"	movl %esp, ks_esp\n"
	"	movw %cs, ks_cs\n"
	"	movl $0x7e57, %eax\n"
	"	ret\n"
	/* ring 3 -> conforming DPL0 code: CPL stays 3, no stack switch */
	"	.globl u_call_conf\n"
	"u_call_conf:\n"
	"	movl %esp, u_esp_before\n"
	"	lcall *u_farptr\n"
	"	ret\n"
	"conf_target:\n"
	"	movw %cs, conf_cs\n"
	"	movl %esp, conf_esp\n"
	"	lret\n"
	/* ring 3 -> ring 0 whose lret finds SEL_KDATA as the outer SS:
	 * #GP(0x10); the fix-up restores the frame and retries */
	"	.globl u_call_badret, k_badret_lret\n"
	"u_call_badret:\n"
	"	pushl $7\n"
	"	lcall *u_farptr\n"
	"	ret\n"
	"k_badret:\n"
	"	movl 16(%esp), %eax\n"
	"	movl %eax, kb_saved_ss\n"
	"	movl $0x10, 16(%esp)\n"
	"k_badret_lret:\n"
	"	lret $4\n"
	"k_badret_fix:\n"
	"	movl kb_saved_ss, %eax\n"
	"	movl %eax, 16(%esp)\n"
	"	jmp k_badret_lret\n"
	/* ring 1 reaches kernel code through an indirect call: `cli` there
	 * is #GP(0) at CPL1 with IOPL0, even when that code was run (and
	 * translated) at CPL0 before; the fix-up skips it */
	"	.globl u_call_r1_ind, k_cli_fn, k_cli_at\n"
	"u_call_r1_ind:\n"
	"	lcall *u_farptr\n"
	"	ret\n"
	"r1_indirect:\n"
	"	movl $k_cli_fn, %eax\n"
	"	call *%eax\n"
	"	movw %cs, r1_cs\n"
	"	lret\n"
	"k_cli_fn:\n"
	"k_cli_at:\n"
	"	cli\n"
	"k_cli_end:\n"
	"	ret\n"
	/* lcall / ljmp / lret that are expected to fault */
	"	.globl u_lcall, u_lcall_at, u_ljmp, u_ljmp_at, u_lret_inner, u_lret_inner_at\n"
	"u_lcall:\n"
	"u_lcall_at:\n"
	"	lcall *u_farptr\n"
	"u_lcall_end:\n"
	"	ret\n"
	"u_ljmp:\n"
	"u_ljmp_at:\n"
	"	ljmp *u_farptr\n"
	"u_ljmp_end:\n"
	"	ret\n"
	"u_lret_inner:\n"
	"	pushl $0x08\n"
	"	pushl $u_lret_inner_end\n"
	"u_lret_inner_at:\n"
	"	lret\n"
	"u_lret_inner_end:\n"
	"	addl $8, %esp\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long k_badret_lret, k_badret_fix\n"
	"	.long u_lcall_at, u_lcall_end\n"
	"	.long u_ljmp_at, u_ljmp_end\n"
	"	.long u_lret_inner_at, u_lret_inner_end\n"
	"	.long k_cli_at, k_cli_end\n"
	"	.popsection\n");
uint32_t u_call_inner(uint32_t), u_call_r1(uint32_t), k_call_same(uint32_t), k_jmp_gate(uint32_t);
uint32_t u_call_conf(uint32_t), u_call_badret(uint32_t), u_lcall(uint32_t), u_ljmp(uint32_t);
uint32_t u_lret_inner(uint32_t), u_call_r1_ind(uint32_t), k_cli_fn(uint32_t);
extern char k_inner[], r1_entry[], k_same[], k_jmp_target[], conf_target[], k_badret[];
extern char u_call_inner_ret[], u_call_r1_ret[], k_call_same_ret[], k_badret_lret[];
extern char u_lcall_at[], u_ljmp_at[], u_lret_inner_at[], r1_indirect[], k_cli_at[];

static void far_to(uint16_t sel)
{
	u_farptr[0] = 0x12345678;  /* a gate ignores the offset */
	u_farptr[1] = sel;
}

static void set_gate_x(uint16_t sel, uint32_t off, unsigned dpl, unsigned params, int present)
{
	gdt[SEL_G_X >> 3] = make_gate(sel, off, dpl, params, present);
}

/* Runs fn (at CPL3 when user, else CPL0) and checks one fault at `at`. */
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
	CHECK_EQ(last_fault.cs, user ? SEL_UCODE : SEL_KCODE, "%s: raised at CPL%d", what, user ? 3 : 0);
}

void main(void)
{
	printf("callgate: call gates, inner stacks, far ret to an outer level\n");
	gdt_set(6, 0, 0xFFFFF, SEG_P | SEG_DPL(1) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(7, 0, 0xFFFFF, SEG_P | SEG_DPL(1) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	gdt[8] = make_gate(SEL_KCODE, (uint32_t)k_inner, 3, 3, 1);
	gdt[9] = make_gate(SEL_R1CODE | 1, (uint32_t)r1_entry, 3, 2, 1);
	gdt[10] = make_gate(SEL_KCODE, (uint32_t)k_same, 0, 2, 1);
	gdt_set(12, 0, 0xFFFFF, SEG_DPL(0) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(13, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_CONF | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	ldt[0] = make_gate(SEL_KCODE, (uint32_t)k_inner, 3, 3, 1);
	gdt_set(14, (uint32_t)ldt, sizeof(ldt) - 1, SEG_P | SEG_DPL(0) | SYS_LDT, 0);
	__asm__ volatile("lldt %w0" : : "r"(SEL_LDT));
	tss.ss1 = SEL_R1DATA | 1;
	tss.esp1 = (uint32_t)(r1_stack + sizeof(r1_stack));

	/* ring 3 -> ring 0 with three parameters */
	far_to(SEL_G_INNER | 3);
	uint32_t r = run_user(u_call_inner, 0, 0x2);
	CHECK_EQ(ki_cs, SEL_KCODE, "call gate 3->0: CS = the gate's selector with RPL 0");
	CHECK_EQ(ki_ss, SEL_KDATA, "call gate 3->0: SS = TSS.ss0");
	CHECK(ki_esp == tss.esp0 - 28, "call gate 3->0: ESP = TSS.esp0 - 28 (SS, ESP, 3 params, CS, EIP)");
	CHECK(ki_frame[0] == (uint32_t)u_call_inner_ret, "call gate 3->0: return EIP after the lcall");
	CHECK_EQ(ki_frame[1], SEL_UCODE, "call gate 3->0: return CS = 0x1b");
	CHECK(ki_frame[2] == 1 && ki_frame[3] == 2 && ki_frame[4] == 3, "call gate 3->0: 3 parameters copied in order");
	CHECK(ki_frame[5] == u_esp_before, "call gate 3->0: outer ESP saved");
	CHECK_EQ(ki_frame[6], SEL_UDATA, "call gate 3->0: outer SS saved");
	CHECK_EQ(r, 6, "lret $12 to ring 3 with the result in EAX");
	CHECK(u_esp_after == u_esp_before + 12, "lret $12: parameters released from the outer stack");
	CHECK_EQ(u_fs_after, 0, "lret to ring 3 nulls FS holding a DPL0 selector");

	/* the same gate in the LDT */
	ki_cs = 0;
	far_to(SEL_LDT_GATE);
	r = run_user(u_call_inner, 0, 0x2);
	CHECK_EQ(ki_cs, SEL_KCODE, "call gate in the LDT (selector 0x07) reaches ring 0");
	CHECK_EQ(r, 6, "call gate in the LDT: result back in ring 3");

	/* ring 3 -> ring 1 with two parameters, stack from TSS.ss1:esp1 */
	far_to(SEL_G_R1 | 3);
	r = run_user(u_call_r1, 0, 0x2);
	CHECK_EQ(r1_cs, SEL_R1CODE | 1, "call gate 3->1: CS = 0x31");
	CHECK_EQ(r1_ss, SEL_R1DATA | 1, "call gate 3->1: SS = TSS.ss1 (0x39)");
	CHECK(r1_esp == tss.esp1 - 24, "call gate 3->1: ESP = TSS.esp1 - 24");
	CHECK(r1_frame[0] == (uint32_t)u_call_r1_ret, "call gate 3->1: return EIP");
	CHECK_EQ(r1_frame[1], SEL_UCODE, "call gate 3->1: return CS");
	CHECK(r1_frame[2] == 0x10 && r1_frame[3] == 0x20, "call gate 3->1: 2 parameters copied");
	CHECK(r1_frame[4] == u_esp_before && r1_frame[5] == SEL_UDATA, "call gate 3->1: outer SS:ESP saved");
	CHECK_EQ(r, 0x30, "lret $8 from ring 1 to ring 3 with the result");
	CHECK(u_esp_after == u_esp_before + 8, "lret $8: parameters released from the outer stack");

	/* ring 1 calls indirectly into code run at CPL0 before */
	k_cli_fn(0);
	set_gate_x(SEL_R1CODE | 1, (uint32_t)r1_indirect, 3, 0, 1);
	far_to(SEL_G_X | 3);
	r1_cs = 0;
	fault_reset();
	run_user(u_call_r1_ind, 0, 0x2);
	CHECK_EQ(last_fault.count, 1, "cli at CPL1 (IOPL0), reached by an indirect call: one exception");
	CHECK_EQ(last_fault.vector, 13, "cli at CPL1 reached by an indirect call: #GP");
	CHECK_EQ(last_fault.error, 0, "cli at CPL1 reached by an indirect call: error code 0");
	CHECK(last_fault.eip == (uint32_t)k_cli_at, "cli at CPL1 reached by an indirect call: at the cli");
	CHECK_EQ(last_fault.cs, SEL_R1CODE | 1, "cli at CPL1 reached by an indirect call: saved CS = 0x31");
	CHECK_EQ(r1_cs, SEL_R1CODE | 1, "ring 1 goes on after the fault");

	/* ring 0 -> ring 0 through a DPL0 gate: no stack switch, no copy */
	far_to(SEL_G_SAME);
	r = k_call_same(0);
	CHECK_EQ(ks_cs, SEL_KCODE, "same-privilege call gate: CS = 0x08");
	CHECK(ks_esp == k_esp_before - 8, "same-privilege call gate: only CS:EIP pushed (param count ignored)");
	CHECK(ks_frame[0] == (uint32_t)k_call_same_ret && ks_frame[1] == SEL_KCODE,
	      "same-privilege call gate: return CS:EIP");
	CHECK_EQ(r, 0x5a3e, "same-privilege lret");

	/* JMP through a gate at the same privilege */
	set_gate_x(SEL_KCODE, (uint32_t)k_jmp_target, 0, 0, 1);
	far_to(SEL_G_X);
	ks_cs = 0;
	r = k_jmp_gate(0);
	CHECK_EQ(ks_cs, SEL_KCODE, "ljmp through a call gate reaches the target");
	CHECK(ks_esp == k_esp_before, "ljmp through a call gate pushes nothing");
	CHECK_EQ(r, 0x7e57, "ljmp through a call gate: target ran");

	/* a conforming DPL0 target keeps CPL 3 */
	set_gate_x(SEL_CONF, (uint32_t)conf_target, 3, 0, 1);
	far_to(SEL_G_X | 3);
	run_user(u_call_conf, 0, 0x2);
	CHECK_EQ(conf_cs & ~3, SEL_CONF, "gate to conforming code: CS = the conforming segment");
	CHECK(conf_esp == u_esp_before - 8, "gate to conforming code: same stack, CS:EIP pushed");

	/* faults on the gate and its target */
	far_to(SEL_G_SAME | 3);
	expect_fault("lcall from ring 3 through a DPL0 gate -> #GP(gate)", u_lcall, 1, u_lcall_at, 13, SEL_G_SAME);
	expect_fault("lcall at CPL0 with gate RPL 3 > gate DPL 0 -> #GP(gate)", u_lcall, 0, u_lcall_at, 13, SEL_G_SAME);
	set_gate_x(SEL_KCODE, (uint32_t)k_inner, 3, 0, 0);
	far_to(SEL_G_X | 3);
	expect_fault("lcall through a not-present gate -> #NP(gate)", u_lcall, 1, u_lcall_at, 11, SEL_G_X);
	set_gate_x(0, (uint32_t)k_inner, 3, 0, 1);
	expect_fault("gate to a null selector -> #GP(0)", u_lcall, 1, u_lcall_at, 13, 0);
	set_gate_x(SEL_KDATA, (uint32_t)k_inner, 3, 0, 1);
	expect_fault("gate to a data segment -> #GP(0x10)", u_lcall, 1, u_lcall_at, 13, SEL_KDATA);
	set_gate_x(SEL_NPCODE, (uint32_t)k_inner, 3, 0, 1);
	expect_fault("gate to a not-present code segment -> #NP(0x60)", u_lcall, 1, u_lcall_at, 11, SEL_NPCODE);
	set_gate_x(SEL_UCODE, (uint32_t)k_inner, 0, 0, 1);
	far_to(SEL_G_X);
	expect_fault("gate at CPL0 to DPL3 code (DPL > CPL) -> #GP(0x18)", u_lcall, 0, u_lcall_at, 13, SEL_UCODE & ~3);
	far_to(SEL_G_INNER | 3);
	expect_fault("ljmp through a gate to ring 0 from ring 3 -> #GP(0x08)", u_ljmp, 1, u_ljmp_at, 13, SEL_KCODE);
	far_to(SEL_KCODE);
	expect_fault("lcall from ring 3 straight to DPL0 code -> #GP(0x08)", u_lcall, 1, u_lcall_at, 13, SEL_KCODE);
	far_to(SEL_UDATA);
	expect_fault("lcall to a data segment -> #GP(0x20)", u_lcall, 1, u_lcall_at, 13, SEL_UDATA & ~3);

	/* the inner stack from the TSS */
	far_to(SEL_G_R1 | 3);
	tss.ss1 = 0;
	expect_fault("TSS.ss1 null -> #TS(0)", u_lcall, 1, u_lcall_at, 10, 0);
	tss.ss1 = SEL_R1DATA;
	expect_fault("TSS.ss1 with RPL 0 for ring 1 -> #TS(0x38)", u_lcall, 1, u_lcall_at, 10, SEL_R1DATA);
	tss.ss1 = SEL_KDATA | 1;
	expect_fault("TSS.ss1 a DPL0 data segment -> #TS(0x10)", u_lcall, 1, u_lcall_at, 10, SEL_KDATA);
	tss.ss1 = SEL_R1CODE | 1;
	expect_fault("TSS.ss1 a code segment -> #TS(0x30)", u_lcall, 1, u_lcall_at, 10, SEL_R1CODE);
	tss.ss1 = SEL_R1DATA | 1;

	/* far ret faults */
	expect_fault("lret from ring 3 to RPL 0 -> #GP(0x08)", u_lret_inner, 1, u_lret_inner_at, 13, SEL_KCODE);
	set_gate_x(SEL_KCODE, (uint32_t)k_badret, 3, 1, 1);
	far_to(SEL_G_X | 3);
	fault_reset();
	run_user(u_call_badret, 0, 0x2);
	CHECK_EQ(last_fault.count, 1, "lret to ring 3 with a DPL0 outer SS: one exception");
	CHECK_EQ(last_fault.vector, 13, "lret to ring 3 with a DPL0 outer SS: #GP");
	CHECK_EQ(last_fault.error, SEL_KDATA, "lret to ring 3 with a DPL0 outer SS: error code 0x10");
	CHECK(last_fault.eip == (uint32_t)k_badret_lret, "lret to ring 3 with a DPL0 outer SS: at the lret, in ring 0");
	CHECK_EQ(last_fault.cs, SEL_KCODE, "lret to ring 3 with a DPL0 outer SS: saved CS = 0x08");
	__asm__ volatile("lldt %w0" : : "r"(0));
}
