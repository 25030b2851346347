/* CPU features kernels written on QEMU probe (issue 13): IA32_EFER with
 * NXE and the XD bit of PAE entries, RDTSCP with IA32_TSC_AUX, UMIP, SMEP,
 * SMAP with STAC/CLAC.  QEMU runs it as `-cpu qemu32,+nx,...`
 * (cpufeat.qemu-cpu), the features btvm's CPU model reports.
 * SDM Vol. 3A 2.5 (CR4), 4.4 (PAE), 4.6 (access rights), 4.7 (#PF error
 * code); Vol. 2 RDTSCP, STAC, CLAC, SGDT/SIDT/SLDT/SMSW/STR. */
#include <stdbool.h>
#include "guest.h"

#define MSR_EFER 0xC0000080u
#define MSR_TSC_AUX 0xC0000103u
#define EFER_NXE (1u << 11)
#define CR4_PAE (1u << 5)
#define CR4_UMIP (1u << 11)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define EFLAGS_AC (1u << 18)
#define XD_HI 0x80000000u           /* bit 63 of a PAE entry, in its high half */
#define WIN 0x40000000u             /* the test pages: PDPTE 1, PT entries 0..3 */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* ---- asm helpers: a fetch by `call *arg`, a read and a write of *arg,
 * resumable after a fault (fault_catch / fix-up table) */
__asm__(
	"	.text\n"
	"	.globl f_call, f_call_resume\n"
	"f_call:\n"
	"	movl 4(%esp), %eax\n"
	"	call *%eax\n"
	"f_call_resume:\n"
	"	ret\n"
	"f_call_fault:\n"
	"	addl $4, %esp\n"     /* the return address the call pushed */
	"	movl $0xdead, %eax\n"
	"	ret\n"
	"	.globl f_call_fault\n"
	"	.globl f_read, f_read_at\n"
	"f_read:\n"
	"	movl 4(%esp), %ecx\n"
	"	movl $0xdead, %eax\n"
	"f_read_at:\n"
	"	movl (%ecx), %eax\n"
	"f_read_end:\n"
	"	ret\n"
	"	.globl f_write, f_write_at\n"
	"f_write:\n"
	"	movl 4(%esp), %ecx\n"
	"f_write_at:\n"
	"	movl $0x5a5a5a5a, (%ecx)\n"
	"f_write_end:\n"
	"	ret\n"
	"	.pushsection .fixup_table, \"a\"\n\t.balign 4\n"
	"	.long f_read_at, f_read_end\n"
	"	.long f_write_at, f_write_end\n"
	"	.popsection\n");
uint32_t f_call(uint32_t), f_read(uint32_t), f_write(uint32_t);
extern char f_call_fault[], f_read_at[], f_write_at[];

/* ---------------------------------------------------------------- CPUID, EFER */

static void test_cpuid_efer(void)
{
	uint32_t r[4];
	cpuid(0x80000000u, 0, r);
	CHECK(r[0] >= 0x80000001u, "CPUID: extended leaf 80000001H exists");
	cpuid(0x80000001u, 0, r);
	CHECK(r[3] & (1u << 20), "CPUID.80000001H:EDX[20] NX");
	CHECK(r[3] & (1u << 27), "CPUID.80000001H:EDX[27] RDTSCP");
	CHECK(!(r[3] & (1u << 29)), "CPUID.80000001H:EDX[29] LM clear (a 32-bit CPU)");
	cpuid(7, 0, r);
	CHECK(r[1] & (1u << 7), "CPUID.7.0:EBX[7] SMEP");
	CHECK(r[1] & (1u << 20), "CPUID.7.0:EBX[20] SMAP");
	CHECK(r[2] & (1u << 2), "CPUID.7.0:ECX[2] UMIP");

	CHECK_EQ((uint32_t)rdmsr(MSR_EFER), 0, "IA32_EFER reads 0 at start");
	wrmsr(MSR_EFER, EFER_NXE);
	CHECK_EQ((uint32_t)rdmsr(MSR_EFER), EFER_NXE, "IA32_EFER.NXE written and read back");
	wrmsr(MSR_EFER, 0);
	CHECK_EQ((uint32_t)rdmsr(MSR_EFER), 0, "IA32_EFER.NXE cleared");
}

/* ---------------------------------------------------------------- RDTSCP */

static volatile uint32_t u_aux, u_lo_ok;

static uint32_t user_rdtscp(uint32_t arg)
{
	(void)arg;
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	u_aux = aux;
	return 0;
}

static void test_rdtscp(void)
{
	/* (QEMU 7.2's i386 target reads IA32_TSC_AUX as 0 with RDMSR, a
	 * QEMU bug: the value is checked through RDTSCP only) */
	wrmsr(MSR_TSC_AUX, 0x12345678u);
	uint64_t t0 = rdtsc();
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	uint64_t t1 = (uint64_t)hi << 32 | lo, t2 = rdtsc();
	CHECK_EQ(aux, 0x12345678u, "RDTSCP: ECX = IA32_TSC_AUX");
	CHECK(t0 <= t1 && t1 <= t2, "RDTSCP: EDX:EAX is the TSC (between two RDTSCs)");
	wrmsr(MSR_TSC_AUX, 7);
	run_user(user_rdtscp, 0, 0x2);
	CHECK_EQ(u_aux, 7, "RDTSCP at CPL 3: ECX = IA32_TSC_AUX");
}

/* ---------------------------------------------------------------- UMIP */

static volatile uint32_t u_faults[5], u_vec[5], u_err[5];

/* SGDT SIDT SLDT STR SMSW at CPL 3, each resumed after its fault */
static uint32_t user_umip(uint32_t arg)
{
	(void)arg;
	static uint8_t buf[8];
	uint32_t v;
	for (int i = 0; i < 5; i++) {
		uint32_t before = last_fault.count;
		switch (i) {
		case 0: __asm__ volatile("1: sgdt %0\n2:\n\t" ASM_FIXUP("1b", "2b") : "=m"(buf) : : "memory"); break;
		case 1: __asm__ volatile("1: sidt %0\n2:\n\t" ASM_FIXUP("1b", "2b") : "=m"(buf) : : "memory"); break;
		case 2: __asm__ volatile("1: sldt %0\n2:\n\t" ASM_FIXUP("1b", "2b") : "=r"(v) : : "memory"); break;
		case 3: __asm__ volatile("1: str %0\n2:\n\t" ASM_FIXUP("1b", "2b") : "=r"(v) : : "memory"); break;
		default: __asm__ volatile("1: smsw %0\n2:\n\t" ASM_FIXUP("1b", "2b") : "=r"(v) : : "memory"); break;
		}
		u_faults[i] = last_fault.count - before;
		u_vec[i] = last_fault.vector;
		u_err[i] = last_fault.error;
	}
	return 0;
}

static void test_umip(void)
{
	static const char *names[5] = { "SGDT", "SIDT", "SLDT", "STR", "SMSW" };
	fault_reset();
	run_user(user_umip, 0, 0x2);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(u_faults[i], 0, "%s at CPL 3 without CR4.UMIP: no fault", names[i]);
	write_cr4(read_cr4() | CR4_UMIP);
	struct dtr d;
	__asm__ volatile("sgdt %0" : "=m"(d));
	CHECK_EQ(d.limit, gdt_dtr().limit, "SGDT at CPL 0 with CR4.UMIP: the GDT limit");
	fault_reset();
	run_user(user_umip, 0, 0x2);
	for (int i = 0; i < 5; i++)
		CHECK(u_faults[i] == 1 && u_vec[i] == 13 && u_err[i] == 0, "%s at CPL 3 with CR4.UMIP: #GP(0)",
		      names[i]);
	write_cr4(read_cr4() & ~CR4_UMIP);
}

/* ---------------------------------------------------------------- STAC/CLAC without paging */

static volatile uint32_t u_ud;

static uint32_t user_stac(uint32_t arg)
{
	(void)arg;
	uint32_t before = last_fault.count;
	__asm__ volatile("1: stac\n2:\n\t" ASM_FIXUP("1b", "2b") ::: "memory");
	u_ud = last_fault.count - before == 1 && last_fault.vector == 6;
	return 0;
}

static void test_stac_clac_flags(void)
{
	__asm__ volatile("stac" ::: "memory");
	CHECK(read_eflags() & EFLAGS_AC, "STAC at CPL 0 (CR4.SMAP=0) sets EFLAGS.AC");
	__asm__ volatile("clac" ::: "memory");
	CHECK(!(read_eflags() & EFLAGS_AC), "CLAC at CPL 0 clears EFLAGS.AC");
	fault_reset();
	run_user(user_stac, 0, 0x2);
	CHECK(u_ud, "STAC at CPL 3: #UD");
}

/* ---------------------------------------------------------------- PAE: NX, SMEP, SMAP */

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd0[512] __attribute__((aligned(4096)));
static uint64_t pd1[512] __attribute__((aligned(4096)));
static uint64_t pt1[512] __attribute__((aligned(4096)));
static uint8_t code_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t data_page[1024] __attribute__((aligned(4096)));

static void set_pte(unsigned i, uint32_t pa, uint32_t flags, bool xd)
{
	pt1[i] = (uint64_t)(xd ? XD_HI : 0) << 32 | pa | flags;
	invlpg(WIN + i * 4096u);
}

/* identity 0..64 MiB in 2 MiB pages, user-accessible or not */
static void identity(uint32_t us)
{
	for (unsigned i = 0; i < 32; i++)
		pd0[i] = (uint64_t)(i << 21) | PTE_P | PTE_W | PTE_PS | us;
	reload_cr3();
}

static void pae_on(void)
{
	pdpt[0] = (uint32_t)pd0 | PTE_P;
	pdpt[1] = (uint32_t)pd1 | PTE_P;
	pd1[0] = (uint32_t)pt1 | PTE_P | PTE_W | PTE_U;
	for (unsigned i = 0; i < 32; i++)
		pd0[i] = (uint64_t)(i << 21) | PTE_P | PTE_W | PTE_PS | PTE_U;
	/* mov $42, %eax; ret */
	code_page[0] = 0xb8; code_page[1] = 42; code_page[2] = 0; code_page[3] = 0; code_page[4] = 0;
	code_page[5] = 0xc3;
	data_page[0] = 0x1234;
	set_pte(0, (uint32_t)code_page, PTE_P | PTE_W | PTE_U, false);
	set_pte(1, (uint32_t)code_page, PTE_P | PTE_W | PTE_U, true);
	set_pte(2, (uint32_t)data_page, PTE_P | PTE_W | PTE_U, false);
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((uint32_t)pdpt);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void pae_off(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(read_cr4() & ~(CR4_PAE | CR4_SMEP | CR4_SMAP));
	wrmsr(MSR_EFER, 0);
}

/* a fetch at target (CPL given), expecting a #PF with err */
static void expect_fetch_pf(const char *what, uint32_t target, int user, uint32_t err)
{
	fault_reset();
	fault_catch((uint32_t)f_call_fault);
	uint32_t r = user ? run_user(f_call, target, 0x2) : f_call(target);
	CHECK(last_fault.count == 1 && last_fault.vector == 14 && r == 0xdead, "%s: #PF", what);
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.cr2, target, "%s: CR2 = target", what);
	CHECK_EQ(last_fault.eip, target, "%s: EIP = target", what);
}

static void expect_data_pf(const char *what, bool write, uint32_t lin, uint32_t err)
{
	fault_reset();
	if (write)
		f_write(lin);
	else
		f_read(lin);
	CHECK(last_fault.count == 1 && last_fault.vector == 14, "%s: #PF", what);
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.cr2, lin, "%s: CR2", what);
	CHECK_EQ(last_fault.eip, (uint32_t)(write ? f_write_at : f_read_at), "%s: EIP at the access", what);
}

static void test_nx(void)
{
	pae_on();
	/* EFER.NXE = 0: bit 63 is reserved.  (QEMU reports error code 8,
	 * without P; the SDM, 4.7, says RSVD implies P: only RSVD is
	 * checked.) */
	fault_reset();
	f_read(WIN + 4096);
	CHECK(last_fault.count == 1 && last_fault.vector == 14 && (last_fault.error & (PF_RSVD | PF_W | PF_U | PF_I)) == PF_RSVD,
	      "NXE=0: reading a PAE page with bit 63 set is a reserved-bit #PF");
	CHECK_EQ(last_fault.cr2, WIN + 4096, "NXE=0: the reserved-bit #PF: CR2");
	wrmsr(MSR_EFER, EFER_NXE);
	reload_cr3();
	fault_reset();
	CHECK_EQ(f_read(WIN + 4096), 0x2ab8u, "NXE=1: an XD page reads");
	CHECK_EQ(last_fault.count, 0, "NXE=1: no fault reading an XD page");
	CHECK_EQ(f_call(WIN), 42, "NXE=1: code runs from the page without XD");
	expect_fetch_pf("CPL 0 fetch from an XD page", WIN + 4096, 0, PF_P | PF_I);
	expect_fetch_pf("CPL 3 fetch from an XD page", WIN + 4096, 1, PF_P | PF_U | PF_I);
	CHECK_EQ(run_user(f_call, WIN, 0x2), 42, "CPL 3: code runs from the page without XD");
	set_pte(3, 0, 0, false);
	expect_fetch_pf("CPL 0 fetch from a not-present page, NXE=1", WIN + 3 * 4096, 0, PF_I);
	/* XD in the PDE covers its pages */
	pd1[0] |= (uint64_t)XD_HI << 32;
	reload_cr3();
	expect_fetch_pf("CPL 0 fetch through an XD PDE", WIN, 0, PF_P | PF_I);
	pd1[0] &= ~((uint64_t)XD_HI << 32);
	reload_cr3();
	CHECK_EQ(f_call(WIN), 42, "XD cleared in the PDE: code runs again");
}

static void test_smep(void)
{
	identity(0); /* the kernel's own pages become supervisor pages */
	CHECK_EQ(f_call(WIN), 42, "SMEP off: CPL 0 runs code from a user page");
	write_cr4(read_cr4() | CR4_SMEP);
	expect_fetch_pf("SMEP: CPL 0 fetch from a user page", WIN, 0, PF_P | PF_I);
	fault_reset();
	CHECK_EQ(f_read(WIN + 2 * 4096), 0x1234, "SMEP: CPL 0 reads a user page");
	CHECK_EQ(last_fault.count, 0, "SMEP: no fault on the read");
	write_cr4(read_cr4() & ~CR4_SMEP);
	CHECK_EQ(f_call(WIN), 42, "SMEP cleared: CPL 0 runs code from a user page again");
}

static void test_smap(void)
{
	const uint32_t d = WIN + 2 * 4096;
	fault_reset();
	CHECK_EQ(f_read(d), 0x1234, "SMAP off: CPL 0 reads a user page");
	write_cr4(read_cr4() | CR4_SMAP);
	expect_data_pf("SMAP, AC=0: CPL 0 read of a user page", false, d, PF_P);
	expect_data_pf("SMAP, AC=0: CPL 0 write to a user page", true, d + 4, PF_P | PF_W);
	__asm__ volatile("stac" ::: "memory");
	fault_reset();
	CHECK_EQ(f_read(d), 0x1234, "SMAP, STAC: CPL 0 reads a user page");
	f_write(d + 8);
	CHECK(last_fault.count == 0 && data_page[2] == 0x5a5a5a5a, "SMAP, STAC: CPL 0 writes a user page");
	/* a string instruction, which bt runs in C */
	uint32_t dst = 0;
	uint32_t src = d, n = 4, *pdst = &dst;
	__asm__ volatile("rep movsb" : "+S"(src), "+D"(pdst), "+c"(n) : : "memory");
	CHECK_EQ(dst, 0x1234, "SMAP, STAC: REP MOVSB from a user page");
	__asm__ volatile("clac" ::: "memory");
	expect_data_pf("SMAP, CLAC: the same read faults again", false, d, PF_P);
	/* POPF sets AC as STAC does */
	write_eflags(read_eflags() | EFLAGS_AC);
	fault_reset();
	CHECK_EQ(f_read(d), 0x1234, "SMAP, AC set by POPF: CPL 0 reads a user page");
	write_eflags(read_eflags() & ~EFLAGS_AC);
	fault_reset();
	uint32_t src2 = d, n2 = 4, *pdst2 = &dst;
	__asm__ volatile("1: rep movsb\n2:\n\t" ASM_FIXUP("1b", "2b") : "+S"(src2), "+D"(pdst2), "+c"(n2) : : "memory");
	CHECK(last_fault.count == 1 && last_fault.vector == 14 && last_fault.error == PF_P,
	      "SMAP, AC=0: REP MOVSB from a user page is a #PF");
	CHECK_EQ(last_fault.cr2, d, "SMAP, AC=0: REP MOVSB: CR2");
	/* a supervisor page stays reachable */
	fault_reset();
	CHECK_EQ(f_read((uint32_t)&data_page[0]), 0x1234, "SMAP, AC=0: CPL 0 reads a supervisor page");
	CHECK_EQ(last_fault.count, 0, "SMAP, AC=0: no fault on a supervisor page");
	/* CPL 3 is not affected (user accesses) */
	CHECK_EQ(data_page[0], 0x1234, "SMAP: the data is intact");
}

void main(void)
{
	printf("cpufeat: EFER/NX, RDTSCP, UMIP, SMEP, SMAP\n");
	test_cpuid_efer();
	test_rdtscp();
	test_umip();
	test_stac_clac_flags();
	test_nx();
	test_smep();
	test_smap();
	pae_off();
}
