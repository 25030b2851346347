/* usermode: what a Unix-like kernel asks of ring 3 with paging on.
 * User #PF error codes and CR2 (read, write, fetch; not present,
 * supervisor, read-only; PDE-level U/S and R/W), CR0.WP for kernel writes,
 * A/D bits set by user accesses, user mappings changed under INVLPG, a
 * kernel access not leaking a supervisor page to user mode; user code and
 * data at virtual address 0 (and a user null dereference faulting when page
 * 0 is unmapped); TLS through a GDT selector loaded by user code (`mov
 * $0x33,%gs`, %gs:0 as i386 glibc does) and re-based by a system call; an
 * LDT used from ring 3 (data, LFS, far call to LDT code, #GP/#NP); signal
 * delivery by rewriting the iret frame (synchronously from int 0x80 and
 * asynchronously from the timer interrupt) with sigreturn; timer
 * preemption of a user busy loop; and user compute kernels (CRC-32, shell
 * sort) checked against the same code run in ring 0. */
#include "guest.h"

#define SYS_RAISE     1    /* EBX = signal number: deliver it now */
#define SYS_SIGRETURN 2
#define SYS_SET_TLS   3    /* EBX = new base of GDT entry 6 */

#define SEL_TLS  0x33      /* GDT entry 6, RPL3 (glibc's i386 TLS selector) */
#define SEL_LDTD 0x38      /* GDT entry 7: the LDT */

static uint8_t sup_page[4096] ALIGNED(4096);    /* P|W, no U */
static uint8_t ro_page[4096] ALIGNED(4096);     /* P|U, no W */
static uint8_t np_page[4096] ALIGNED(4096);     /* not present */
static uint8_t ad_page[4096] ALIGNED(4096);     /* P|W|U with A and D clear */
static uint8_t zero_frame[4096] ALIGNED(4096);  /* mapped at linear 0 */
static uint8_t pde_frame[4096] ALIGNED(4096);   /* mapped at 8 MiB and 12 MiB */
#define VA_PDE_NOU 0x00800000u                  /* PDE without U over a U PTE */
#define VA_PDE_NOW 0x00C00000u                  /* PDE without W over a W PTE */

static uint32_t tls_a[4] ALIGNED(16), tls_b[4] ALIGNED(16);
static uint64_t ldt[4] ALIGNED(8);
static uint32_t ldt_data[4] ALIGNED(16);

volatile uint32_t u_tls0, u_tls1, u_ldt_val, u_lfs_val, u_ldt_cs, u_sig_regs_ok;
volatile uint32_t lfs_ptr[2];

__asm__(
	"	.text\n"
	/* a load and a store at the address given, at whatever CPL runs them */
	"	.globl u_read, u_read_at, u_write, u_write_at\n"
	"u_read:\n"
	"	movl 4(%esp), %ecx\n"
	"u_read_at:\n"
	"	movl (%ecx), %eax\n"
	"u_read_end:\n"
	"	ret\n"
	"u_write:\n"
	"	movl 4(%esp), %ecx\n"
	"u_write_at:\n"
	"	movl $0x5a5a5a5a, (%ecx)\n"
	"u_write_end:\n"
	"	ret\n"
	/* call *arg: an instruction fetch there; resumed at u_fetch_resume */
	"	.globl u_fetch, u_fetch_resume\n"
	"u_fetch:\n"
	"	movl 4(%esp), %eax\n"
	"	call *%eax\n"
	"u_fetch_resume:\n"
	"	addl $4, %esp\n"
	"	ret\n"
	/* position-independent user code copied to linear 0: data at 0x800,
	 * stack at the top of the same page */
	"	.globl zp_code, zp_code_end, zp_label\n"
	"zp_code:\n"
	"	movl 0x800, %eax\n"
	"	addl 0x804, %eax\n"
	"	movl %eax, 0x808\n"
	"	pushl $0x5a5a\n"
	"	popl %ecx\n"
	"	movl %ecx, 0x80c\n"
	"	call 1f\n"
	"zp_label:\n"
	"1:	popl %edx\n"
	"	movl %edx, 0x810\n"
	"	movl %esp, 0x814\n"
	"	movl %eax, %ebx\n"
	"	xorl %eax, %eax\n"
	"	int $0x80\n"
	"zp_code_end:\n"
	/* TLS: glibc-style selector load and %gs-relative accesses */
	"	.globl u_tls\n"
	"u_tls:\n"
	"	movl $0x33, %eax\n"
	"	movw %ax, %gs\n"
	"	movl %gs:0, %eax\n"
	"	movl %eax, u_tls0\n"
	"	movl %gs:4, %eax\n"
	"	movl %eax, u_tls1\n"
	"	movl $0x77, %gs:8\n"
	"	ret\n"
	/* LDT from ring 3 */
	"	.globl u_ldt, u_ldt_far, u_lfs\n"
	"u_ldt:\n"
	"	movl $0x07, %eax\n"
	"	movw %ax, %fs\n"
	"	movl %fs:4, %eax\n"
	"	movl %eax, u_ldt_val\n"
	"	ret\n"
	"u_lfs:\n"
	"	lfs lfs_ptr, %ecx\n"
	"	movl %fs:(%ecx), %eax\n"
	"	movl %eax, u_lfs_val\n"
	"	ret\n"
	"u_ldt_far:\n"
	"	lcall $0x1f, $u_ldt_target\n"
	"	ret\n"
	"u_ldt_target:\n"
	"	movw %cs, u_ldt_cs\n"
	"	lret\n"
	"	.globl u_load_fs, u_load_fs_at\n"
	"u_load_fs:\n"
	"	movl 4(%esp), %eax\n"
	"u_load_fs_at:\n"
	"	movw %ax, %fs\n"
	"u_load_fs_end:\n"
	"	ret\n"
	/* a synchronous signal: registers must survive handler + sigreturn */
	"	.globl u_raise, sigtramp\n"
	"u_raise:\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	pushl %ebp\n"
	"	movl 20(%esp), %ebx\n"
	"	movl $0xc0c0c0c0, %ecx\n"
	"	movl $0xd0d0d0d0, %edx\n"
	"	movl $0x5e5e5e5e, %esi\n"
	"	movl $0xd1d1d1d1, %edi\n"
	"	movl $0xb0b0b0b0, %ebp\n"
	"	movl $1, %eax\n"
	"	int $0x80\n"
	"	movl $0, u_sig_regs_ok\n"
	"	cmpl 20(%esp), %ebx\n     jne 1f\n"
	"	cmpl $0xc0c0c0c0, %ecx\n  jne 1f\n"
	"	cmpl $0xd0d0d0d0, %edx\n  jne 1f\n"
	"	cmpl $0x5e5e5e5e, %esi\n  jne 1f\n"
	"	cmpl $0xd1d1d1d1, %edi\n  jne 1f\n"
	"	cmpl $0xb0b0b0b0, %ebp\n  jne 1f\n"
	"	movl $1, u_sig_regs_ok\n"
	"1:	popl %ebp\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	ret\n"
	"sigtramp:\n"
	"	movl $2, %eax\n"
	"	int $0x80\n"
	"	ud2\n"
	"	.pushsection .fixup_table, \"a\"\n"
	"	.balign 4\n"
	"	.long u_read_at, u_read_end\n"
	"	.long u_write_at, u_write_end\n"
	"	.long u_load_fs_at, u_load_fs_end\n"
	"	.popsection\n");
uint32_t u_read(uint32_t), u_write(uint32_t), u_fetch(uint32_t), u_tls(uint32_t), u_ldt(uint32_t);
uint32_t u_lfs(uint32_t), u_ldt_far(uint32_t), u_load_fs(uint32_t), u_raise(uint32_t);
extern char u_read_at[], u_write_at[], u_fetch_resume[], u_load_fs_at[], sigtramp[];
extern char zp_code[], zp_code_end[], zp_label[];

/* ---------------------------------------------------------------- faults */

static void expect_pf(const char *what, user_fn_t fn, int user, uint32_t addr, const char *at, uint32_t err)
{
	fault_reset();
	if (user)
		run_user(fn, addr, 0x2);
	else
		fn(addr);
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, 14, "%s: #PF", what);
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.cr2, addr, "%s: CR2", what);
	CHECK_EQ(last_fault.eip, (uint32_t)at, "%s: saved EIP is the access", what);
}

static void expect_ok(const char *what, user_fn_t fn, int user, uint32_t addr)
{
	fault_reset();
	if (user)
		run_user(fn, addr, 0x2);
	else
		fn(addr);
	CHECK_EQ(last_fault.count, 0, "%s: no fault", what);
}

static void expect_seg_fault(const char *what, uint32_t sel, uint32_t vec, uint32_t err)
{
	fault_reset();
	run_user(u_load_fs, sel, 0x2);
	CHECK_EQ(last_fault.vector, vec, "%s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK(last_fault.eip == (uint32_t)u_load_fs_at, "%s: at the load", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "%s: in ring 3", what);
}

static void set_pte(void *va, uint32_t flags)
{
	*pte_ptr((uint32_t)va, 0) = ((uint32_t)va & ~0xFFFu) | flags;
	invlpg((uint32_t)va);
}

/* ---------------------------------------------------------------- signals */

static struct regs sig_saved;
static volatile uint32_t sig_count, sig_signo, sig_cs, sig_nested;

static void u_sig_handler(uint32_t signo)
{
	sig_count++;
	sig_signo = signo;
	sig_cs = read_cs();
}

/* Signal delivery as a Unix kernel does it: save the interrupted user
 * context, rewrite the frame so that IRET enters the handler on the user
 * stack with the trampoline as its return address. */
static void deliver_signal(struct regs *r, uint32_t signo)
{
	if (sig_nested++)
		return;
	sig_saved = *r;
	uint32_t *f = (uint32_t *)(((r->user_esp - 256) & ~15u) - 4);
	f[0] = (uint32_t)sigtramp;
	f[1] = signo;
	r->user_esp = (uint32_t)f;
	r->eip = (uint32_t)u_sig_handler;
	r->eflags &= ~0x400u;  /* DF clear on handler entry (i386 ABI) */
}

static void sigreturn(struct regs *r)
{
	*r = sig_saved;
	sig_nested = 0;
}

static void k_syscall(struct regs *r)
{
	switch (r->eax) {
	case SYS_RAISE:
		deliver_signal(r, r->ebx);
		break;
	case SYS_SIGRETURN:
		sigreturn(r);
		break;
	case SYS_SET_TLS:
		gdt_set(6, r->ebx, 0xFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_DB);
		r->eax = 0;
		break;
	default:
		r->eax = 0xffffffff;
		break;
	}
}

static uint32_t u_set_tls(uint32_t base)
{
	uint32_t r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(SYS_SET_TLS), "b"(base) : "memory");
	u_tls(0);
	return r;
}

/* ---------------------------------------------------------------- timer */

static volatile uint32_t ticks, ticks_user, stop_loop, loop_count, loop_at_signal;

static void irq0(struct regs *r)
{
	ticks++;
	if (regs_from_user(r))
		ticks_user++;
	if (ticks == 5 && regs_from_user(r)) {
		loop_at_signal = loop_count;
		deliver_signal(r, 14);
	}
	if (ticks >= 20)
		stop_loop = 1;
	pic_eoi(0);
}

static uint32_t u_spin(uint32_t arg)
{
	(void)arg;
	while (!stop_loop)
		loop_count++;
	return loop_count;
}

/* ---------------------------------------------------------------- compute */

#define CRC_LEN (64 * 1024)
#define SORT_N 4096
static uint8_t crc_buf[CRC_LEN];
static uint32_t sort_buf[SORT_N];
static volatile uint32_t sort_ok, sort_sum_before, sort_sum_after, sort_first, sort_last;

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static uint32_t crc32_fill_and_sum(uint32_t seed)
{
	uint32_t s = seed;
	for (uint32_t i = 0; i < CRC_LEN; i++)
		crc_buf[i] = (uint8_t)lcg(&s);
	uint32_t crc = 0xffffffffu;
	for (uint32_t i = 0; i < CRC_LEN; i++) {
		crc ^= crc_buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t shell_sort(uint32_t seed)
{
	uint32_t s = seed, before = 0, after = 0;
	for (uint32_t i = 0; i < SORT_N; i++) {
		sort_buf[i] = lcg(&s);
		before += sort_buf[i];
	}
	for (uint32_t gap = SORT_N / 2; gap > 0; gap /= 2)
		for (uint32_t i = gap; i < SORT_N; i++) {
			uint32_t v = sort_buf[i], j = i;
			while (j >= gap && sort_buf[j - gap] > v) {
				sort_buf[j] = sort_buf[j - gap];
				j -= gap;
			}
			sort_buf[j] = v;
		}
	uint32_t ok = 1;
	for (uint32_t i = 0; i < SORT_N; i++) {
		after += sort_buf[i];
		if (i && sort_buf[i - 1] > sort_buf[i])
			ok = 0;
	}
	sort_ok = ok;
	sort_sum_before = before;
	sort_sum_after = after;
	sort_first = sort_buf[0];
	sort_last = sort_buf[SORT_N - 1];
	return ok;
}

/* ---------------------------------------------------------------- main */

void main(void)
{
	printf("usermode: ring 3 with paging: faults, WP, page 0, TLS, LDT, signals, preemption\n");
	set_syscall_handler(k_syscall);
	paging_identity_init();
	paging_enable();

	/* user #PF error codes (SDM Vol. 3A 4.7) */
	set_pte(sup_page, PTE_P | PTE_W);
	set_pte(ro_page, PTE_P | PTE_U);
	set_pte(np_page, 0);
	uint32_t sup = (uint32_t)sup_page, ro = (uint32_t)ro_page, np = (uint32_t)np_page;
	expect_ok("kernel read of a supervisor page", u_read, 0, sup);
	expect_pf("user read of a supervisor page", u_read, 1, sup, u_read_at, PF_U | PF_P);
	expect_pf("user write to a supervisor page", u_write, 1, sup + 8, u_write_at, PF_U | PF_W | PF_P);
	expect_ok("user read of a read-only user page", u_read, 1, ro);
	expect_pf("user write to a read-only user page", u_write, 1, ro + 12, u_write_at, PF_U | PF_W | PF_P);
	expect_pf("user read of a not-present page", u_read, 1, np + 16, u_read_at, PF_U);
	expect_pf("user write to a not-present page", u_write, 1, np + 20, u_write_at, PF_U | PF_W);
	expect_pf("kernel read of a not-present page", u_read, 0, np + 24, u_read_at, 0);

	/* instruction fetches from ring 3 (no I/D bit without NX) */
	fault_reset();
	fault_catch((uint32_t)u_fetch_resume);
	run_user(u_fetch, sup, 0x2);
	CHECK_EQ(last_fault.vector, 14, "user fetch from a supervisor page: #PF");
	CHECK_EQ(last_fault.error, PF_U | PF_P, "user fetch from a supervisor page: error code 5");
	CHECK_EQ(last_fault.cr2, sup, "user fetch from a supervisor page: CR2 = target");
	CHECK_EQ(last_fault.eip, sup, "user fetch from a supervisor page: EIP = target");
	fault_reset();
	fault_catch((uint32_t)u_fetch_resume);
	run_user(u_fetch, np, 0x2);
	CHECK_EQ(last_fault.error, PF_U, "user fetch from a not-present page: error code 4");
	CHECK_EQ(last_fault.cr2, np, "user fetch from a not-present page: CR2 = target");

	/* CR0.WP: kernel writes to read-only pages */
	expect_pf("kernel write to a read-only user page with WP=1", u_write, 0, ro + 4, u_write_at, PF_W | PF_P);
	set_pte(sup_page, PTE_P);
	expect_pf("kernel write to a read-only supervisor page with WP=1", u_write, 0, sup + 4, u_write_at,
		  PF_W | PF_P);
	write_cr0(read_cr0() & ~CR0_WP);
	expect_ok("kernel write to a read-only user page with WP=0", u_write, 0, ro + 4);
	CHECK_EQ(*(volatile uint32_t *)(ro + 4), 0x5a5a5a5a, "kernel write with WP=0 landed");
	expect_pf("user write to a read-only page with WP=0 still faults", u_write, 1, ro + 4, u_write_at,
		  PF_U | PF_W | PF_P);
	write_cr0(read_cr0() | CR0_WP);
	set_pte(sup_page, PTE_P | PTE_W);

	/* U/S and R/W in the PDE over a permissive PTE */
	*pde_ptr(VA_PDE_NOU) = 0;
	*pde_ptr(VA_PDE_NOW) = 0;
	map_4k(VA_PDE_NOU, (uint32_t)pde_frame, PTE_P | PTE_W | PTE_U);
	map_4k(VA_PDE_NOW, (uint32_t)pde_frame, PTE_P | PTE_W | PTE_U);
	*pde_ptr(VA_PDE_NOU) &= ~PTE_U;
	*pde_ptr(VA_PDE_NOW) &= ~PTE_W;
	reload_cr3();
	expect_ok("kernel read through a PDE without U", u_read, 0, VA_PDE_NOU);
	expect_pf("user read through a PDE without U", u_read, 1, VA_PDE_NOU + 4, u_read_at, PF_U | PF_P);
	expect_ok("user read through a PDE without W", u_read, 1, VA_PDE_NOW);
	expect_pf("user write through a PDE without W", u_write, 1, VA_PDE_NOW + 8, u_write_at, PF_U | PF_W | PF_P);
	expect_pf("kernel write through a PDE without W (WP=1)", u_write, 0, VA_PDE_NOW + 8, u_write_at, PF_W | PF_P);

	/* A and D set by user accesses */
	uint32_t *ad_pte = pte_ptr((uint32_t)ad_page, 0);
	*ad_pte &= ~(uint32_t)(PTE_A | PTE_D);
	invlpg((uint32_t)ad_page);
	run_user(u_read, (uint32_t)ad_page, 0x2);
	CHECK((*ad_pte & (PTE_A | PTE_D)) == PTE_A, "user read sets A, not D");
	run_user(u_write, (uint32_t)ad_page, 0x2);
	CHECK((*ad_pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "user write sets D");

	/* a page the user just used becomes supervisor-only under INVLPG */
	expect_ok("user read of a user page", u_read, 1, (uint32_t)ad_page);
	set_pte(ad_page, PTE_P | PTE_W);
	expect_pf("same page after U cleared and INVLPG", u_read, 1, (uint32_t)ad_page, u_read_at, PF_U | PF_P);
	set_pte(ad_page, PTE_P | PTE_W | PTE_U);
	expect_ok("same page after U set again and INVLPG", u_read, 1, (uint32_t)ad_page);

	/* page 0: unmapped (null dereference), then user code and data there */
	set_pte(0, 0);
	expect_pf("user null-pointer read with page 0 unmapped", u_read, 1, 0, u_read_at, PF_U);
	*pte_ptr(0, 0) = (uint32_t)zero_frame | PTE_P | PTE_W | PTE_U;
	invlpg(0);
	uint32_t n = (uint32_t)(zp_code_end - zp_code);
	memcpy(zero_frame, zp_code, n);
	*(uint32_t *)(zero_frame + 0x800) = 40000;
	*(uint32_t *)(zero_frame + 0x804) = 2024;
	fault_reset();
	uint32_t r = user_enter(0, 0x1000, 0x2);
	CHECK_EQ(last_fault.count, 0, "user code at linear 0 runs without faults");
	CHECK_EQ(r, 42024, "user code at linear 0: sum of data at 0x800 and 0x804");
	CHECK_EQ(*(uint32_t *)(zero_frame + 0x808), 42024, "user store to 0x808 lands in the frame mapped at 0");
	CHECK_EQ(*(uint32_t *)(zero_frame + 0x80c), 0x5a5a, "user stack at 0x1000 (page 0) works");
	CHECK_EQ(*(uint32_t *)(zero_frame + 0x810), (uint32_t)(zp_label - zp_code),
		 "call/pop at linear 0 gives the small EIP");
	CHECK_EQ(*(uint32_t *)(zero_frame + 0x814), 0x1000, "ESP back at 0x1000");
	set_pte(0, PTE_P | PTE_W | PTE_U);

	/* TLS through a GDT selector loaded in ring 3 */
	tls_a[0] = (uint32_t)tls_a;
	tls_a[1] = 0x7157a;
	tls_b[0] = (uint32_t)tls_b;
	tls_b[1] = 0x7157b;
	gdt_set(6, (uint32_t)tls_a, 0xFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_DB);
	run_user(u_tls, 0, 0x2);
	CHECK(u_tls0 == (uint32_t)tls_a, "mov $0x33,%%gs in ring 3: %%gs:0 reads the TLS self-pointer");
	CHECK_EQ(u_tls1, 0x7157a, "%%gs:4 reads the TLS block");
	CHECK_EQ(tls_a[2], 0x77, "%%gs:8 store lands in the TLS block");
	r = run_user(u_set_tls, (uint32_t)tls_b, 0x2);
	CHECK_EQ(r, 0, "set_thread_area-style system call");
	CHECK(u_tls0 == (uint32_t)tls_b, "after re-basing entry 6, a reload of %%gs sees the new base");
	CHECK_EQ(u_tls1, 0x7157b, "new TLS block read through %%gs:4");
	CHECK_EQ(tls_b[2], 0x77, "store through the new %%gs base");

	/* an LDT from ring 3 */
	ldt_data[1] = 0x1d7da7a;
	ldt_data[2] = 0xf5f5f5f5;
	ldt[0] = make_desc((uint32_t)ldt_data, 0xFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_DB);
	ldt[1] = make_desc(0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	ldt[2] = make_desc(0, 0xFFFFF, SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	ldt[3] = make_desc(0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(7, (uint32_t)ldt, sizeof(ldt) - 1, SEG_P | SEG_DPL(0) | SYS_LDT, 0);
	__asm__ volatile("lldt %w0" : : "r"(SEL_LDTD));
	run_user(u_ldt, 0, 0x2);
	CHECK_EQ(u_ldt_val, 0x1d7da7a, "ring 3 loads FS = 0x07 (LDT) and reads %%fs:4");
	lfs_ptr[0] = 8;
	lfs_ptr[1] = 0x07;
	run_user(u_lfs, 0, 0x2);
	CHECK_EQ(u_lfs_val, 0xf5f5f5f5, "lfs from ring 3 with an LDT selector");
	run_user(u_ldt_far, 0, 0x2);
	CHECK_EQ(u_ldt_cs, 0x1f, "lcall to LDT code from ring 3 runs with CS = 0x1f");
	expect_seg_fault("ring 3 loads a DPL0 LDT segment -> #GP(0x0c)", 0x0f, 13, 0x0c);
	expect_seg_fault("ring 3 loads a not-present LDT segment -> #NP(0x14)", 0x17, 11, 0x14);
	__asm__ volatile("lldt %w0" : : "r"(0));

	/* a synchronous signal through a rewritten iret frame */
	sig_count = 0;
	run_user(u_raise, 11, 0x2);
	CHECK_EQ(sig_count, 1, "int 0x80 raise: the user handler ran once");
	CHECK_EQ(sig_signo, 11, "int 0x80 raise: handler got the signal number");
	CHECK_EQ(sig_cs, SEL_UCODE, "int 0x80 raise: handler ran in ring 3");
	CHECK(u_sig_regs_ok, "sigreturn: EBX ECX EDX ESI EDI EBP restored after the handler");

	/* the PIT preempts a user busy loop; tick 5 delivers a signal */
	set_irq_handler(0, irq0);
	pit_set_rate(1000);
	pic_unmask(0);
	sig_count = 0;
	r = run_user(u_spin, 0, 0x202);
	pic_mask(0);
	CHECK(ticks >= 20, "timer interrupts preempt a user busy loop until it is told to stop");
	CHECK_EQ(ticks_user, ticks, "every tick arrived while ring 3 ran");
	CHECK_EQ(sig_count, 1, "signal from the timer interrupt ran its handler once");
	CHECK_EQ(sig_signo, 14, "signal from the timer interrupt: signal number 14");
	CHECK(r == loop_count && loop_count > loop_at_signal, "the loop went on after the handler");

	/* compute kernels in ring 3 with the timer running, checked in ring 0 */
	ticks = ticks_user = 0;
	stop_loop = 1;
	pic_unmask(0);
	uint32_t crc_user = run_user(crc32_fill_and_sum, 12345, 0x202);
	uint32_t sort_user = run_user(shell_sort, 777, 0x202);
	uint32_t first_u = sort_first, last_u = sort_last, sum_u = sort_sum_after;
	pic_mask(0);
	uint32_t crc_kernel = crc32_fill_and_sum(12345);
	shell_sort(777);
	CHECK_EQ(crc_user, crc_kernel, "CRC-32 of 64 KiB in ring 3 = the same code in ring 0");
	printf("crc32 of the pattern: %08x\n", crc_user);
	CHECK(sort_user, "shell sort of 4096 words in ring 3: sorted");
	CHECK_EQ(sum_u, sort_sum_before, "shell sort in ring 3: same sum");
	CHECK(first_u == sort_first && last_u == sort_last, "shell sort in ring 3: same ends as in ring 0");
	printf("sorted: first %08x last %08x\n", first_u, last_u);
	paging_disable();
}
