/* paging: 32-bit non-PAE paging: 4 KiB and 4 MiB (PSE) pages, #PF error
 * codes and CR2, CR0.WP, U/S from ring 3, accessed/dirty bits, INVLPG, CR3
 * reload, global pages.  Only architecturally guaranteed TLB behaviour is
 * asserted: a stale translation may or may not be used, so nothing checks
 * that it is; after INVLPG / CR3 reload / CR4.PGE toggle the new one is. */
#include "guest.h"

#define VA_4K   0x40000000u    /* 4 KiB test pages (one page table) */
#define VA_4M   0x80000000u    /* 4 MiB alias of PA_4M */
#define VA_NONE 0x50000000u    /* nothing mapped in this 4 MiB */
#define PA_4M   0x00800000u    /* identity-mapped by a 4 MiB page as well */

/* volatile: the test reaches the same memory through aliases the compiler
 * cannot see, and the CPU writes the A/D bits behind its back. */
static volatile uint32_t frames[3][1024] ALIGNED(4096);
#define FRAME(i) ((uint32_t)&frames[(i)][0])

static volatile uint32_t *vp(uint32_t va) { return (volatile uint32_t *)va; }

static uint32_t read_at(uint32_t va, uint32_t *at)
{
	uint32_t v = 0xFFFFFFFF;
	__asm__ volatile("movl $1f, %0\n"
			 "1: movl (%2), %1\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(*at), "+r"(v) : "r"(va) : "memory");
	return v;
}

static void write_at(uint32_t va, uint32_t v, uint32_t *at)
{
	__asm__ volatile("movl $1f, %0\n"
			 "1: movl %2, (%1)\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(*at) : "r"(va), "r"(v) : "memory");
}

/* movb (%esp,%reg), %ah: bt cannot encode AH next to ESP (R12) and goes
 * through ESI; a fault there must still report the guest's own ESI. */
static uint32_t read_ah_via_esp(uint32_t va, uint32_t *at)
{
	uint32_t esi = 0x5A5A1234, eax = 0;
	__asm__ volatile("movl $1f, %0\n"
			 "subl %%esp, %3\n"
			 "1: movb (%%esp,%3,1), %%ah\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(*at), "+S"(esi), "+a"(eax), "+r"(va) : : "memory");
	return esi;
}

static void expect_pf(const char *what, uint32_t at, uint32_t cr2, uint32_t err)
{
	CHECK(last_fault.count == 1 && last_fault.vector == 14, "%s: one #PF", what);
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.cr2, cr2, "%s: CR2 is the faulting address", what);
	CHECK_EQ(last_fault.eip, at, "%s: saved EIP is the faulting instruction", what);
}

static void test_basic(void)
{
	paging_identity_init();
	frames[0][0] = 0xA0A0A0A0;
	frames[1][0] = 0xB1B1B1B1;
	frames[2][0] = 0xC2C2C2C2;
	paging_enable();
	CHECK((read_cr0() & (CR0_PG | CR0_WP)) == (CR0_PG | CR0_WP) && (read_cr4() & CR4_PSE),
	      "paging on: CR0.PG, CR0.WP, CR4.PSE set; code runs from the identity map");
	CHECK_EQ(read_cr3(), (uint32_t)page_dir, "CR3 holds the page directory");

	map_4k(VA_4K, FRAME(0), PTE_P | PTE_W);
	invlpg(VA_4K);
	CHECK_EQ(*vp(VA_4K), 0xA0A0A0A0, "4 KiB page: alias reads the frame");
	*vp(VA_4K + 8) = 0x12345678;
	CHECK_EQ(frames[0][2], 0x12345678, "4 KiB page: write through the alias lands in the frame");

	map_4m(VA_4M, PA_4M, PTE_P | PTE_W);
	invlpg(VA_4M);
	*vp(VA_4M + 0x123450) = 0xCAFEF00D;
	*vp(VA_4M + 0x3FFFFC) = 0x0BADBEEF;
	CHECK_EQ(*vp(PA_4M + 0x123450), 0xCAFEF00D, "4 MiB page: offset 0x123450 maps to PA + 0x123450");
	CHECK_EQ(*vp(PA_4M + 0x3FFFFC), 0x0BADBEEF, "4 MiB page: last dword maps to the end of the 4 MiB frame");
}

static void test_not_present(void)
{
	uint32_t at, v;
	fault_reset();
	v = read_at(VA_NONE + 0x10, &at);
	expect_pf("read, PDE not present", at, VA_NONE + 0x10, 0);
	CHECK_EQ(v, 0xFFFFFFFF, "read, PDE not present: destination not written");

	fault_reset();
	uint32_t esi = read_ah_via_esp(VA_NONE + 0x30, &at);
	expect_pf("read AH through [ESP+reg], PDE not present", at, VA_NONE + 0x30, 0);
	CHECK_EQ(esi, 0x5A5A1234, "read AH through [ESP+reg]: ESI intact in the fault frame");

	fault_reset();
	write_at(VA_NONE + 0x2004, 1, &at);
	expect_pf("write, PDE not present", at, VA_NONE + 0x2004, PF_W);

	*pte_ptr(VA_4K + 0x1000, 1) = 0;
	invlpg(VA_4K + 0x1000);
	fault_reset();
	read_at(VA_4K + 0x1ABC, &at);
	expect_pf("read, PTE not present", at, VA_4K + 0x1ABC, 0);

	/* Instruction fetch from a not-present page: EIP = CR2 = target; no I/D
	 * bit (it needs NX with PAE, or SMEP). */
	uint32_t resume;
	fault_reset();
	__asm__ volatile("movl $1f, %0\n\t"
			 "movl %0, %%eax\n\t"
			 "pushl %%eax\n\t"
			 "call fault_catch\n\t"
			 "addl $4, %%esp\n\t"
			 "jmp *%1\n"
			 "1:"
			 : "=&r"(resume) : "r"(VA_NONE + 0x40) : "eax", "ecx", "edx", "memory", "cc");
	CHECK(last_fault.count == 1 && last_fault.vector == 14, "instruction fetch, not present: one #PF");
	CHECK_EQ(last_fault.error, 0, "instruction fetch, not present: error code 0 (no I/D without NX/SMEP)");
	CHECK_EQ(last_fault.cr2, VA_NONE + 0x40, "instruction fetch, not present: CR2 is the target");
	CHECK_EQ(last_fault.eip, VA_NONE + 0x40, "instruction fetch, not present: saved EIP is the target");
}

static void test_wp(void)
{
	uint32_t at;
	map_4k(VA_4K, FRAME(0), PTE_P);         /* read-only, supervisor */
	invlpg(VA_4K);
	frames[0][1] = 0x11111111;
	CHECK_EQ(*vp(VA_4K + 4), 0x11111111, "read-only page is readable");
	fault_reset();
	write_at(VA_4K + 4, 0x22222222, &at);
	expect_pf("ring-0 write to a read-only page, CR0.WP=1", at, VA_4K + 4, PF_P | PF_W);
	CHECK_EQ(frames[0][1], 0x11111111, "ring-0 write to a read-only page, CR0.WP=1: memory unchanged");

	write_cr0(read_cr0() & ~CR0_WP);
	fault_reset();
	write_at(VA_4K + 4, 0x33333333, &at);
	CHECK_EQ(last_fault.count, 0, "ring-0 write to a read-only page, CR0.WP=0: no fault");
	CHECK_EQ(frames[0][1], 0x33333333, "ring-0 write to a read-only page, CR0.WP=0: write lands");
	write_cr0(read_cr0() | CR0_WP);

	map_4k(VA_4K, FRAME(0), PTE_P | PTE_U); /* read-only, user */
	invlpg(VA_4K);
	fault_reset();
	write_at(VA_4K + 4, 0x44444444, &at);
	expect_pf("ring-0 write to a read-only user page, CR0.WP=1", at, VA_4K + 4, PF_P | PF_W);
}

/* ---- ring 3 ---- */
static uint32_t user_read(uint32_t va)
{
	uint32_t at;
	read_at(va, &at);
	return at;
}

static uint32_t user_write(uint32_t va)
{
	uint32_t at;
	write_at(va, 0x55555555, &at);
	return at;
}

static void test_user(void)
{
	uint32_t at;
	map_4k(VA_4K, FRAME(0), PTE_P | PTE_W);            /* supervisor */
	map_4k(VA_4K + 0x2000, FRAME(1), PTE_P | PTE_U);   /* user, read-only */
	map_4k(VA_4K + 0x3000, FRAME(2), PTE_P | PTE_W | PTE_U);
	invlpg(VA_4K);
	invlpg(VA_4K + 0x2000);
	invlpg(VA_4K + 0x3000);

	fault_reset();
	at = run_user(user_read, VA_4K + 0x10, 0x2);
	expect_pf("ring-3 read of a supervisor page", at, VA_4K + 0x10, PF_P | PF_U);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "ring-3 read of a supervisor page: saved CS = 0x1b");

	fault_reset();
	at = run_user(user_write, VA_4K + 0x14, 0x2);
	expect_pf("ring-3 write to a supervisor page", at, VA_4K + 0x14, PF_P | PF_W | PF_U);

	fault_reset();
	at = run_user(user_write, VA_4K + 0x2018, 0x2);
	expect_pf("ring-3 write to a read-only user page", at, VA_4K + 0x2018, PF_P | PF_W | PF_U);

	write_cr0(read_cr0() & ~CR0_WP);
	fault_reset();
	at = run_user(user_write, VA_4K + 0x2018, 0x2);
	write_cr0(read_cr0() | CR0_WP);
	expect_pf("ring-3 write to a read-only user page, CR0.WP=0", at, VA_4K + 0x2018, PF_P | PF_W | PF_U);

	fault_reset();
	at = run_user(user_read, VA_4K + 0x2020, 0x2);
	CHECK(last_fault.count == 0, "ring-3 read of a user read-only page: no fault");
	fault_reset();
	run_user(user_write, VA_4K + 0x3020, 0x2);
	CHECK(last_fault.count == 0 && frames[2][8] == 0x55555555, "ring-3 write to a user writable page lands");

	fault_reset();
	at = run_user(user_read, VA_NONE + 0x30, 0x2);
	expect_pf("ring-3 read of a not-present page", at, VA_NONE + 0x30, PF_U);

	/* U/S must be set at both levels: PDE U=0 over a U=1 PTE. */
	volatile uint32_t *pde = pde_ptr(VA_4K);
	*pde &= ~PTE_U;
	reload_cr3();
	fault_reset();
	at = run_user(user_read, VA_4K + 0x3024, 0x2);
	*pde |= PTE_U;
	reload_cr3();
	expect_pf("ring-3 read, PDE U=0 over a user PTE", at, VA_4K + 0x3024, PF_P | PF_U);
}

static void test_accessed_dirty(void)
{
	volatile uint32_t *pte = pte_ptr(VA_4K, 0), *pde = pde_ptr(VA_4K);
	map_4k(VA_4K, FRAME(0), PTE_P | PTE_W);
	*pde &= ~(uint32_t)PTE_A;
	reload_cr3();
	(void)*vp(VA_4K);
	CHECK(*pte & PTE_A, "read sets the PTE accessed bit");
	CHECK(!(*pte & PTE_D), "read leaves the PTE dirty bit clear");
	CHECK(*pde & PTE_A, "read sets the PDE accessed bit");
	*vp(VA_4K) = 1;
	CHECK(*pte & PTE_D, "write sets the PTE dirty bit");

	map_4m(VA_4M, PA_4M, PTE_P | PTE_W);
	invlpg(VA_4M);
	(void)*vp(VA_4M + 0x1000);
	volatile uint32_t *pde4m = pde_ptr(VA_4M);
	uint32_t after_read = *pde4m;
	*vp(VA_4M + 0x1000) = 2;
	uint32_t after_write = *pde4m;
	CHECK((after_read & (PTE_A | PTE_D)) == PTE_A, "4 MiB page: read sets A, not D");
	CHECK((after_write & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "4 MiB page: write sets D");
}

static void test_tlb(void)
{
	volatile uint32_t *pte = pte_ptr(VA_4K, 0);
	frames[0][0] = 0xA0A0A0A0;
	frames[1][0] = 0xB1B1B1B1;
	frames[2][0] = 0xC2C2C2C2;

	map_4k(VA_4K, FRAME(0), PTE_P | PTE_W);
	invlpg(VA_4K);
	CHECK_EQ(*vp(VA_4K), 0xA0A0A0A0, "TLB: VA maps frame A");
	*pte = FRAME(1) | PTE_P | PTE_W;        /* stale entry may still be used here */
	invlpg(VA_4K);
	CHECK_EQ(*vp(VA_4K), 0xB1B1B1B1, "after PTE change + invlpg the new frame is seen");
	*pte = FRAME(2) | PTE_P | PTE_W;
	reload_cr3();
	CHECK_EQ(*vp(VA_4K), 0xC2C2C2C2, "after PTE change + CR3 reload the new frame is seen");

	*pte = 0;
	invlpg(VA_4K);
	uint32_t at;
	fault_reset();
	read_at(VA_4K, &at);
	CHECK(last_fault.count == 1 && last_fault.vector == 14 && last_fault.cr2 == VA_4K,
	      "after clearing P + invlpg the access faults");

	/* Global pages. */
	write_cr4(read_cr4() | CR4_PGE);
	CHECK(read_cr4() & CR4_PGE, "CR4.PGE set");
	*pte = FRAME(0) | PTE_P | PTE_W | PTE_G;
	invlpg(VA_4K);
	CHECK_EQ(*vp(VA_4K), 0xA0A0A0A0, "global page maps frame A");
	reload_cr3();
	CHECK_EQ(*vp(VA_4K), 0xA0A0A0A0, "global page still maps frame A after a CR3 reload");
	*pte = FRAME(1) | PTE_P | PTE_W | PTE_G;
	write_cr4(read_cr4() & ~CR4_PGE);
	write_cr4(read_cr4() | CR4_PGE);
	CHECK_EQ(*vp(VA_4K), 0xB1B1B1B1, "global PTE change seen after toggling CR4.PGE");
	*pte = FRAME(2) | PTE_P | PTE_W | PTE_G;
	invlpg(VA_4K);
	CHECK_EQ(*vp(VA_4K), 0xC2C2C2C2, "global PTE change seen after invlpg");
	*pte = FRAME(0) | PTE_P | PTE_W;        /* non-global with PGE on */
	invlpg(VA_4K);
	(void)*vp(VA_4K);
	*pte = FRAME(1) | PTE_P | PTE_W;
	reload_cr3();
	CHECK_EQ(*vp(VA_4K), 0xB1B1B1B1, "non-global PTE change seen after CR3 reload with CR4.PGE=1");
	write_cr4(read_cr4() & ~CR4_PGE);
}

static void test_disable(void)
{
	frames[0][3] = 0x600DF00D;
	paging_disable();
	CHECK(!(read_cr0() & CR0_PG), "paging off again: CR0.PG clear");
	CHECK_EQ(frames[0][3], 0x600DF00D, "physical memory reads as before");
}

void main(void)
{
	printf("paging: 32-bit paging, 4 KiB and 4 MiB pages\n");
	test_basic();
	test_not_present();
	test_wp();
	test_user();
	test_accessed_dirty();
	test_tlb();
	test_disable();
}
