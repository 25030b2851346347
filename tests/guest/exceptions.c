/* exceptions: CPU exceptions without paging.  For each: the vector, the
 * error code where the CPU pushes one, and the saved EIP (the faulting
 * instruction for faults, the next instruction for traps). */
#include "guest.h"

#define GDT_NP_DATA   6   /* data segment, not present */
#define GDT_XO_CODE   7   /* execute-only code segment */
#define SEL_NP_DATA   (GDT_NP_DATA << 3)
#define SEL_XO_CODE   (GDT_XO_CODE << 3)
#define SEL_PAST_GDT  (GDT_ENTRIES << 3)

static void expect(const char *what, uint32_t vec, uint32_t eip, int trap)
{
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "%s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.eip, eip, "%s: saved EIP %s", what,
		 trap ? "is the next instruction" : "is the faulting instruction");
}

static void expect_err(const char *what, uint32_t vec, uint32_t err, uint32_t eip)
{
	expect(what, vec, eip, 0);
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
}

static void expect_none(const char *what)
{
	CHECK_EQ(last_fault.count, 0, "%s: no exception", what);
}

/* ---------------------------------------------------------------- #DE */
static void test_de(void)
{
	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $1f, %0\n\t"
			 "movl $1, %%eax\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "xorl %%ecx, %%ecx\n"
			 "1: divl %%ecx\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : : "eax", "ecx", "edx", "cc");
	expect("#DE div by zero", 0, at, 0);

	fault_reset();
	__asm__ volatile("movl $1f, %0\n\t"
			 "movl $0x80000000, %%eax\n\t"
			 "movl $0xffffffff, %%edx\n\t"
			 "movl $-1, %%ecx\n"
			 "1: idivl %%ecx\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : : "eax", "ecx", "edx", "cc");
	expect("#DE idiv INT_MIN/-1 overflow", 0, at, 0);

	uint32_t q;
	fault_reset();
	__asm__ volatile("movl $100, %%eax\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "movl $7, %%ecx\n"
			 "1: divl %%ecx\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=a"(q) : : "ecx", "edx", "cc");
	expect_none("div 100/7");
	CHECK_EQ(q, 14, "div 100/7 = 14");
}

/* ---------------------------------------------------------------- #DB */
static volatile uint32_t db_count, db_eip, db_dr6;
static void db_handler(struct regs *r)
{
	db_count++;
	db_eip = r->eip;
	db_dr6 = read_dr6();
	r->eflags &= ~EFLAGS_TF;
}

static void test_db(void)
{
	uint32_t after_one;
	set_handler(1, db_handler);
	write_dr6(0);
	db_count = 0;
	__asm__ volatile("movl $2f, %0\n\t"
			 "pushfl\n\t"
			 "orl $0x100, (%%esp)\n\t"
			 "popfl\n"
			 "1: nop\n"
			 "2: nop\n"
			 "3: nop\n"
			 : "=&r"(after_one) : : "memory", "cc");
	set_handler(1, NULL);
	CHECK_EQ(db_count, 1, "#DB single-step: one trap");
	CHECK_EQ(db_eip, after_one, "#DB single-step: trap after the instruction following POPF");
	CHECK(db_dr6 & 0x4000, "#DB single-step: DR6.BS set");
	CHECK(!(read_eflags() & EFLAGS_TF), "#DB single-step: TF clear after the handler cleared it");
}

/* ---------------------------------------------------------------- #BP #OF */
static void test_bp(void)
{
	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $2f, %0\n"
			 "1: int3\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at));
	expect("#BP int3", 3, at, 1);

	fault_reset();
	__asm__ volatile("movl $2f, %0\n"
			 "1: .byte 0xcd, 0x03\n"      /* int $3, two-byte form */
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at));
	expect("#BP int $3 (CD 03)", 3, at, 1);
}

static void test_of(void)
{
	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $2f, %0\n\t"
			 "movl $0x7fffffff, %%eax\n\t"
			 "addl $1, %%eax\n"
			 "1: into\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : : "eax", "cc");
	expect("#OF into with OF=1", 4, at, 1);

	fault_reset();
	__asm__ volatile("movl $1, %%eax\n\t"
			 "addl $1, %%eax\n"
			 "1: into\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : : : "eax", "cc");
	expect_none("into with OF=0");
}

/* ---------------------------------------------------------------- #BR */
static int32_t bounds[2] = { 10, 20 };

static uint32_t do_bound(int32_t v)
{
	uint32_t at;
	__asm__ volatile("movl $1f, %0\n"
			 "1: bound %1, (%2)\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : "r"(v), "r"(bounds) : "memory");
	return at;
}

static void test_br(void)
{
	uint32_t at;
	fault_reset();
	at = do_bound(5);
	expect("#BR bound below the lower bound", 5, at, 0);
	fault_reset();
	at = do_bound(21);
	expect("#BR bound above the upper bound", 5, at, 0);
	fault_reset();
	do_bound(10);
	do_bound(15);
	do_bound(20);
	expect_none("bound within [10,20] (10, 15, 20)");
}

/* ---------------------------------------------------------------- #UD */
static void test_ud(void)
{
	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: ud2\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at));
	expect("#UD ud2", 6, at, 0);

	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: .byte 0xf0, 0x01, 0xc0\n"  /* lock add %eax, %eax */
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : : "eax", "cc");
	expect("#UD LOCK prefix on a register-destination add", 6, at, 0);
}

/* ---------------------------------------------------------------- #NM #MF */
static void fnop_at(uint32_t *at)
{
	__asm__ volatile("movl $1f, %0\n"
			 "1: fnop\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(*at));
}

static void fwait_at(uint32_t *at)
{
	__asm__ volatile("movl $1f, %0\n"
			 "1: fwait\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(*at));
}

static void test_nm(void)
{
	uint32_t at, cr0 = read_cr0();

	write_cr0(cr0 | CR0_TS);
	fault_reset();
	fnop_at(&at);
	expect("#NM fnop with CR0.TS=1", 7, at, 0);

	fault_reset();
	fwait_at(&at);
	expect("#NM fwait with CR0.TS=1 and CR0.MP=1", 7, at, 0);

	write_cr0((cr0 | CR0_TS) & ~CR0_MP);
	fault_reset();
	fwait_at(&at);
	expect_none("fwait with CR0.TS=1 and CR0.MP=0");

	write_cr0(cr0 | CR0_TS);
	__asm__ volatile("clts");
	CHECK(!(read_cr0() & CR0_TS), "clts clears CR0.TS");
	fault_reset();
	fnop_at(&at);
	expect_none("fnop after clts");

	write_cr0(cr0 | CR0_EM);
	fault_reset();
	fnop_at(&at);
	expect("#NM fnop with CR0.EM=1", 7, at, 0);
	write_cr0(cr0);
}

static void test_mf(void)
{
	uint32_t at;
	uint16_t cw = 0x037B;                 /* default 0x037F with ZM (bit 2) unmasked */
	fault_reset();
	__asm__ volatile("fninit\n\t"
			 "fldcw %1\n\t"
			 "fld1\n\t"
			 "fldz\n\t"
			 "fdivrp %%st, %%st(1)\n\t"   /* 1 / 0: pending unmasked #Z */
			 "movl $1f, %0\n"
			 "1: fwait\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 "fninit\n\t"
			 : "=&r"(at) : "m"(cw) : "memory");
	expect("#MF unmasked x87 divide-by-zero, reported at the next fwait (CR0.NE=1)", 16, at, 0);
}

/* ---------------------------------------------------------------- segment loads */
static uint32_t load_ds(uint16_t sel)
{
	uint32_t at;
	__asm__ volatile("movl $1f, %0\n"
			 "1: movw %w1, %%ds\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 "movw %w2, %%ds\n\t"
			 : "=&r"(at) : "r"(sel), "r"(SEL_KDATA) : "memory");
	return at;
}

static uint32_t load_ss(uint16_t sel)
{
	uint32_t at;
	__asm__ volatile("movl $1f, %0\n"
			 "1: movw %w1, %%ss\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 "movw %w2, %%ss\n\t"
			 : "=&r"(at) : "r"(sel), "r"(SEL_KDATA) : "memory");
	return at;
}

static void test_segments(void)
{
	uint32_t at;
	gdt_set(GDT_NP_DATA, 0, 0xFFFFF, SEG_DPL(0) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(GDT_XO_CODE, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_ACC, SEG_G | SEG_DB);

	fault_reset();
	at = load_ds(SEL_PAST_GDT | 3);
	expect_err("#GP mov ds, selector past the GDT limit", 13, SEL_PAST_GDT, at);

	fault_reset();
	at = load_ds(SEL_TSS);
	expect_err("#GP mov ds, TSS selector", 13, SEL_TSS, at);

	fault_reset();
	at = load_ds(SEL_XO_CODE);
	expect_err("#GP mov ds, execute-only code selector", 13, SEL_XO_CODE, at);

	fault_reset();
	at = load_ds(SEL_NP_DATA);
	expect_err("#NP mov ds, not-present data selector", 11, SEL_NP_DATA, at);

	fault_reset();
	load_ds(SEL_NULL);
	load_ds(SEL_KCODE);                   /* readable code is fine in DS */
	load_ds(SEL_UDATA);                   /* DPL3 data from CPL0 is fine in DS */
	expect_none("mov ds, null / readable code / DPL3 data selectors");

	fault_reset();
	at = load_ss(SEL_NULL);
	expect_err("#GP mov ss, null selector", 13, 0, at);

	fault_reset();
	at = load_ss(SEL_KDATA | 3);
	expect_err("#GP mov ss, selector RPL 3 at CPL 0", 13, SEL_KDATA, at);

	fault_reset();
	at = load_ss(SEL_UDATA & ~3);
	expect_err("#GP mov ss, DPL 3 data at CPL 0", 13, SEL_UDATA & ~3, at);

	fault_reset();
	at = load_ss(SEL_KCODE);
	expect_err("#GP mov ss, code selector", 13, SEL_KCODE, at);

	fault_reset();
	at = load_ss(SEL_NP_DATA);
	expect_err("#SS mov ss, not-present data selector", 12, SEL_NP_DATA, at);

	CHECK_EQ(read_ds(), SEL_KDATA, "DS restored");
	CHECK_EQ(read_ss(), SEL_KDATA, "SS restored");
}

/* ---------------------------------------------------------------- int n */
static void test_int_n(void)
{
	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $2f, %0\n"
			 "1: int $0x41\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at));
	expect("int $0x41 through a present gate", 0x41, at, 1);

	idt_set_present(0x41, 0);
	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: int $0x41\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at));
	idt_set_present(0x41, 1);
	expect_err("#NP int $0x41 through a not-present gate", 11, 0x41 * 8 + 2, at);
}

void main(void)
{
	printf("exceptions: CPU exceptions, no paging\n");
	test_de();
	test_db();
	test_bp();
	test_of();
	test_br();
	test_ud();
	test_nm();
	test_mf();
	test_segments();
	test_int_n();
}
