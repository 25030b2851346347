/* sysenter: the fast system call pair as Linux i386 uses it (SDM Vol. 2B
 * SYSENTER, SYSEXIT): IA32_SYSENTER_CS/ESP/EIP, user -> kernel through a
 * vDSO-style wrapper (push ecx; push edx; push ebp; mov esp,ebp;
 * sysenter), back with SYSEXIT (EIP = EDX, ESP = ECX), the forced flat
 * segments, the #GP(0) cases, and `sti; sysexit` with a PIT interrupt
 * pending: the STI shadow covers SYSEXIT, so the interrupt arrives in ring
 * 3 at the first user instruction, never between the two.
 *
 * Not tested: IA32_SYSENTER_CS = 1..3.  The SDM raises #GP(0) when bits
 * 15:2 are 0 (bt does); QEMU's TCG only when the whole MSR is 0, and then
 * enters ring 0 with CS 0. */
#include "guest.h"

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

/* Linux's i386 GDT layout: __KERNEL_CS 0x60, __KERNEL_DS 0x68, __USER_CS
 * 0x73, __USER_DS 0x7b (entries 12-15), which SYSENTER/SYSEXIT imply when
 * IA32_SYSENTER_CS = 0x60. */
#define LX_KCODE 0x60
#define LX_KDATA 0x68
#define LX_UCODE 0x73
#define LX_UDATA 0x7b

#define SYS_INFO     0   /* records the kernel-side state */
#define SYS_INC      1   /* returns ++counter */
#define SYS_ARGS     2   /* records EBX ECX EDX ESI EDI and the 6th argument (the user's EBP) */
#define SYS_WAIT_IRQ 3   /* waits (IF=0) until IRQ0 is pending at the PIC */

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static uint8_t sysenter_stack[8192] ALIGNED(16);
#define SYSENTER_STACK_TOP ((uint32_t)(sysenter_stack + sizeof(sysenter_stack)))

struct sys_frame { uint32_t eax, ebx, ecx, edx, esi, edi, user_esp; };
uint32_t k_sysenter(struct sys_frame *f);

/* Kernel side, like entry_SYSENTER_32: EBP holds the user ESP (the
 * wrapper put it there); save the registers, call C, return with SYSEXIT
 * to the wrapper's landing pad, with `sti` just before it unless
 * k_exit_plain is set.  User side, like __kernel_vsyscall. */
__asm__(
	"	.text\n"
	"	.globl sysenter_entry\n"
	"sysenter_entry:\n"
	"	movl %esp, k_entry_esp\n"
	"	pushl %ebp\n"
	"	pushl %edi\n"
	"	pushl %esi\n"
	"	pushl %edx\n"
	"	pushl %ecx\n"
	"	pushl %ebx\n"
	"	pushl %eax\n"
	"	pushl %esp\n"
	"	call k_sysenter\n"
	"	addl $8, %esp\n"
	"	popl %ebx\n"
	"	popl %ecx\n"
	"	popl %edx\n"
	"	popl %esi\n"
	"	popl %edi\n"
	"	popl %ecx\n"                      /* user ESP */
	"	movl $vdso_landing, %edx\n"
	"	cmpl $2, k_exit_plain\n"
	"	je k_exit_split\n"
	"	cmpl $0, k_exit_plain\n"
	"	jne 1f\n"
	"	sti\n"
	"	.globl k_sysexit_after_sti\n"
	"k_sysexit_after_sti:\n"
	"	sysexit\n"
	"1:	sysexit\n"
	/* the same pair with sti as the last byte of a page: it ends its
	 * translated block, and sysexit starts the next one */
	"k_exit_split:\n"
	"	jmp k_split_sti\n"
	"	.balign 4096\n"
	"	.skip 4095, 0x90\n"
	"k_split_sti:\n"
	"	sti\n"
	"	.globl k_sysexit_split\n"
	"k_sysexit_split:\n"
	"	sysexit\n"
	"\n"
	"	.globl vdso_vsyscall\n"
	"vdso_vsyscall:\n"
	"	pushl %ecx\n"
	"	pushl %edx\n"
	"	pushl %ebp\n"
	"	movl %esp, %ebp\n"
	"	sysenter\n"
	"	.globl vdso_landing\n"
	"vdso_landing:\n"
	"	popl %ebp\n"
	"	popl %edx\n"
	"	popl %ecx\n"
	"	ret\n");
extern char sysenter_entry[], vdso_landing[], k_sysexit_after_sti[], k_sysexit_split[];

volatile uint32_t k_entry_esp, k_exit_plain;
static volatile uint32_t k_entries, k_cs, k_ss, k_eflags, k_count, k_args[6];

uint32_t k_sysenter(struct sys_frame *f)
{
	k_entries++;
	k_cs = read_cs();
	k_ss = read_ss();
	k_eflags = read_eflags();
	switch (f->eax) {
	case SYS_INFO:
		return 0x5157e4;
	case SYS_INC:
		return ++k_count;
	case SYS_ARGS:
		k_args[0] = f->ebx;
		k_args[1] = f->ecx;
		k_args[2] = f->edx;
		k_args[3] = f->esi;
		k_args[4] = f->edi;
		k_args[5] = *(volatile uint32_t *)f->user_esp;  /* the EBP the wrapper pushed */
		return 0;
	case SYS_WAIT_IRQ:
		while (!(pic_read_irr() & 1))
			;
		return 0;
	default:
		return 0xffffffff;
	}
}

/* User side: a system call through the wrapper; *regs_ok tells whether
 * ECX, EDX and EBP came back unchanged. */
static inline uint32_t vsys(uint32_t nr, uint32_t b, uint32_t c, uint32_t d, uint32_t bp, uint32_t *regs_ok)
{
	uint32_t ret, c2 = c, d2 = d, bp2;
	__asm__ volatile("pushl %%ebp\n\t"
			 "movl %%esi, %%ebp\n\t"
			 "call vdso_vsyscall\n\t"
			 "movl %%ebp, %%edi\n\t"
			 "popl %%ebp"
			 : "=a"(ret), "+c"(c2), "+d"(d2), "=D"(bp2)
			 : "a"(nr), "b"(b), "S"(bp)
			 : "memory", "cc");
	*regs_ok = c2 == c && d2 == d && bp2 == bp;
	return ret;
}

static volatile uint32_t u_ret, u_regs_ok, u_cs, u_ss, u_eflags, u_bad, u_done;

static uint32_t user_info(uint32_t arg)
{
	(void)arg;
	uint32_t ok;
	u_ret = vsys(SYS_INFO, 0, 0, 0, 0, &ok);
	u_regs_ok = ok;
	u_cs = read_cs();
	u_ss = read_ss();
	u_eflags = read_eflags();
	return 0;
}

static uint32_t user_args(uint32_t arg)
{
	(void)arg;
	uint32_t ok;
	u_ret = vsys(SYS_ARGS, 0x11111111, 0x22222222, 0x33333333, 0x600df00d, &ok);
	u_regs_ok = ok;
	return 0;
}

static uint32_t user_loop(uint32_t n)
{
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ok;
		uint32_t r = vsys(SYS_INC, i, ~i, i * 3, i ^ 0x5a5a, &ok);
		if (r != i + 1 || !ok)
			bad++;
	}
	u_bad = bad;
	return 0;
}

static uint32_t user_wait_irq(uint32_t arg)
{
	(void)arg;
	uint32_t ok;
	vsys(SYS_WAIT_IRQ, 0, 0, 0, 0, &ok);
	u_regs_ok = ok;
	u_eflags = read_eflags();
	u_done = 1;
	return 0;
}

/* Each returns the address of its faulting instruction. */
#define USER_FAULT(name, setup, insn) \
	static uint32_t name(uint32_t arg) \
	{ \
		(void)arg; \
		uint32_t at; \
		__asm__ volatile(setup "\n\t" \
				 "movl $1f, %0\n" \
				 "1: " insn "\n" \
				 "2:\n\t" ASM_FIXUP("1b", "2b") \
				 : "=&r"(at) : : "eax", "ecx", "edx", "memory", "cc"); \
		return at; \
	}
USER_FAULT(u_sysenter, "", "sysenter")
USER_FAULT(u_sysexit, "", "sysexit")
USER_FAULT(u_wrmsr, "movl $0x174, %%ecx; xorl %%edx, %%edx; movl $0x60, %%eax", "wrmsr")

static void user_gp(const char *what, user_fn_t fn)
{
	fault_reset();
	uint32_t at = run_user(fn, 0, 0x2);
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, 13, "%s: #GP", what);
	CHECK_EQ(last_fault.error, 0, "%s: error code 0", what);
	CHECK_EQ(last_fault.eip, at, "%s: saved EIP is the instruction", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "%s: raised in ring 3", what);
}

static volatile uint32_t irq_count, irq_first_cs, irq_first_eip, irq_at_sysexit;

static void irq0(struct regs *r)
{
	if (irq_count++ == 0) {
		irq_first_cs = r->cs;
		irq_first_eip = r->eip;
	}
	if ((r->cs & 3) == 0 && (r->eip == (uint32_t)k_sysexit_after_sti || r->eip == (uint32_t)k_sysexit_split))
		irq_at_sysexit++;
	pic_eoi(0);
}

static void set_msrs(uint32_t cs)
{
	wrmsr(MSR_SYSENTER_CS, cs);
	wrmsr(MSR_SYSENTER_ESP, SYSENTER_STACK_TOP);
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

void main(void)
{
	printf("sysenter: SYSENTER/SYSEXIT, vDSO-style wrapper, STI shadow\n");
	gdt_set(12, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(13, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(14, 0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(15, 0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);

	set_msrs(LX_KCODE);
	CHECK_EQ(rdmsr(MSR_SYSENTER_CS), LX_KCODE, "rdmsr IA32_SYSENTER_CS reads back 0x60");
	CHECK(rdmsr(MSR_SYSENTER_ESP) == SYSENTER_STACK_TOP, "rdmsr IA32_SYSENTER_ESP reads back");
	CHECK(rdmsr(MSR_SYSENTER_EIP) == (uint32_t)sysenter_entry, "rdmsr IA32_SYSENTER_EIP reads back");

	/* One call from ring 3 with IF=1 (every IRQ masked), SYSEXIT without sti. */
	k_exit_plain = 1;
	run_user(user_info, 0, 0x202);
	CHECK_EQ(k_entries, 1, "sysenter from ring 3 reaches IA32_SYSENTER_EIP");
	CHECK_EQ(k_cs, LX_KCODE, "kernel CS = IA32_SYSENTER_CS (0x60)");
	CHECK_EQ(k_ss, LX_KDATA, "kernel SS = IA32_SYSENTER_CS + 8 (0x68)");
	CHECK(k_entry_esp == SYSENTER_STACK_TOP, "kernel ESP = IA32_SYSENTER_ESP");
	CHECK_EQ(k_eflags & EFLAGS_IF, 0, "sysenter clears IF");
	CHECK_EQ(u_ret, 0x5157e4, "sysexit returns to EDX with the kernel's EAX");
	CHECK(u_regs_ok, "wrapper: ECX, EDX and EBP preserved");
	CHECK_EQ(u_cs, LX_UCODE, "user CS after sysexit = IA32_SYSENTER_CS + 16 | 3 (0x73)");
	CHECK_EQ(u_ss, LX_UDATA, "user SS after sysexit = IA32_SYSENTER_CS + 24 | 3 (0x7b)");
	CHECK_EQ(u_eflags & EFLAGS_IF, 0, "sysexit leaves EFLAGS alone (IF still 0)");

	/* Linux's path: sti; sysexit. */
	k_exit_plain = 0;
	run_user(user_info, 0, 0x202);
	CHECK_EQ(u_eflags & EFLAGS_IF, EFLAGS_IF, "sti; sysexit returns with IF=1");

	/* Arguments in EBX ECX EDX ESI EDI, the sixth through the user stack. */
	run_user(user_args, 0, 0x202);
	CHECK_EQ(k_args[0], 0x11111111, "EBX reaches the kernel");
	CHECK_EQ(k_args[1], 0x22222222, "ECX reaches the kernel");
	CHECK_EQ(k_args[2], 0x33333333, "EDX reaches the kernel");
	CHECK_EQ(k_args[3], 0x600df00d, "ESI reaches the kernel");
	CHECK_EQ(k_args[5], 0x600df00d, "sixth argument (user EBP) read through the user ESP in EBP");
	CHECK(u_regs_ok, "wrapper: registers preserved across the call with arguments");

	/* SYSENTER/SYSEXIT do not read the GDT: entries 6-9 are empty, yet
	 * CS/SS 0x30/0x38 and 0x43/0x4b work (flat caches). */
	gdt[6] = gdt[7] = gdt[8] = gdt[9] = 0;
	set_msrs(0x30);
	k_exit_plain = 1;
	run_user(user_info, 0, 0x202);
	CHECK_EQ(k_cs, 0x30, "descriptor not read: kernel CS = 0x30 over an empty GDT entry");
	CHECK_EQ(k_ss, 0x38, "descriptor not read: kernel SS = 0x38");
	CHECK_EQ(u_cs, 0x43, "descriptor not read: user CS = 0x43");
	CHECK_EQ(u_ss, 0x4b, "descriptor not read: user SS = 0x4b");
	CHECK_EQ(u_ret, 0x5157e4, "descriptor not read: the call completes");
	set_msrs(LX_KCODE);

	/* 1000 round trips through the wrapper with the PIT interrupting ring 3. */
	set_irq_handler(0, irq0);
	pit_set_rate(1000);
	pic_unmask(0);
	k_exit_plain = 0;
	k_count = 0;
	run_user(user_loop, 1000, 0x202);
	CHECK_EQ(k_count, 1000, "1000 round trips: kernel counter 1000");
	CHECK_EQ(u_bad, 0, "1000 round trips: every result and register right in ring 3");
	CHECK_EQ(irq_at_sysexit, 0, "no interrupt taken between sti and sysexit");

	/* The kernel waits with IF=0 until IRQ0 is pending, then sti; sysexit:
	 * the interrupt comes at the wrapper's landing pad, in ring 3. */
	irq_count = 0;
	u_done = 0;
	run_user(user_wait_irq, 0, 0x2);
	CHECK(irq_count >= 1, "pending IRQ0 delivered after sti; sysexit");
	CHECK_EQ(irq_first_cs, LX_UCODE, "STI shadow: the interrupt is taken in ring 3");
	CHECK(irq_first_eip == (uint32_t)vdso_landing, "STI shadow: at the first instruction after sysexit");
	CHECK_EQ(irq_at_sysexit, 0, "STI shadow: never between sti and sysexit");
	CHECK(u_done && u_regs_ok, "user code goes on after the interrupt");
	CHECK_EQ(u_eflags & EFLAGS_IF, EFLAGS_IF, "user runs with IF=1 after sti; sysexit");

	/* again with sti on the last byte of a page and sysexit on the next */
	CHECK_EQ((uint32_t)k_sysexit_split & 0xfff, 0, "split pair: sysexit starts a page");
	k_exit_plain = 2;
	k_count = 0;
	run_user(user_loop, 200, 0x202);
	CHECK_EQ(k_count, 200, "split pair: 200 round trips");
	CHECK_EQ(u_bad, 0, "split pair: every result and register right in ring 3");
	irq_count = 0;
	u_done = 0;
	run_user(user_wait_irq, 0, 0x2);
	CHECK_EQ(irq_first_cs, LX_UCODE, "split pair: the pending interrupt is taken in ring 3");
	CHECK(irq_first_eip == (uint32_t)vdso_landing, "split pair: at the first instruction after sysexit");
	CHECK_EQ(irq_at_sysexit, 0, "split pair: never between sti and sysexit");
	CHECK(u_done && u_regs_ok, "split pair: user code goes on after the interrupt");
	k_exit_plain = 0;
	pic_mask(0);
	cli();

	/* #GP(0) cases. */
	wrmsr(MSR_SYSENTER_CS, 0);
	user_gp("sysenter with IA32_SYSENTER_CS = 0 -> #GP(0)", u_sysenter);
	wrmsr(MSR_SYSENTER_CS, LX_KCODE);
	user_gp("sysexit at CPL3 -> #GP(0)", u_sysexit);
	user_gp("wrmsr at CPL3 -> #GP(0)", u_wrmsr);

	wrmsr(MSR_SYSENTER_CS, 0);
	fault_reset();
	uint32_t at;
	__asm__ volatile("movl $1f, %0\n\t"
			 "movl $2f, %%edx\n\t"
			 "movl %%esp, %%ecx\n"
			 "1: sysexit\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : : "ecx", "edx", "memory");
	CHECK_EQ(last_fault.vector, 13, "sysexit at CPL0 with IA32_SYSENTER_CS = 0 -> #GP");
	CHECK_EQ(last_fault.error, 0, "sysexit at CPL0 with IA32_SYSENTER_CS = 0: error code 0");
	CHECK_EQ(last_fault.eip, at, "sysexit at CPL0 with IA32_SYSENTER_CS = 0: saved EIP is the instruction");
	wrmsr(MSR_SYSENTER_CS, LX_KCODE);
}
