/* btvm nanobenchmarks: one multiboot kernel, built with the guest test kit
 * (tests/guest/lib), that times the operations of Adams & Agesen's
 * nanobenchmark table (ASPLOS 2006) and a few more.  See bench/README.md.
 *
 * Command line words (an unknown first word is the kernel's own name, which
 * btvm and QEMU pass and GRUB 2 does not):
 *   NAME...      benchmarks to run, in that order (none, or "all": every one)
 *   ms=N         target time of each benchmark's timed run (default 100)
 *   clock=tsc    time with the TSC (default)
 *   clock=pit    time with PIT channel 2 (for Bochs, whose TSC is not time)
 * Output (COM1), per benchmark:
 *   # NAME: what one iteration is
 *   BENCH NAME ns_per_iter=X.XX iters=N
 * then "BENCH-END ok" (or "BENCH-END failed") and exit through port 0xF4
 * with status 0 (1 when a benchmark failed its sanity check).  Lines that
 * start with '#' are for people.
 *
 * Time: the TSC, calibrated against PIT channel 2 (gate and output through
 * port 0x61, polled; no interrupts needed), or PIT channel 2 itself. */
#include "guest.h"
#include "ops.h"

#define CALIB_COUNT 29830u              /* PIT ticks: 25 ms */
#define CALIB_ROUNDS 3
#define IRQ_HZ 4000u                    /* PIT channel 0 rate for "irq" */

/* Virtual addresses used by the paging benchmarks (outside the kit's
 * 0..64 MiB identity map). */
#define PTEMOD_VA 0x40000000u
#define PF_VA0 0x40010000u
#define PF_VA1 0x40011000u
#define CTX_VA 0x40400000u              /* own 4 MiB region: own page table per directory */

static uint32_t tsc_khz;
static uint32_t target_ms = 100;

/* The benchmark clock: the TSC (default), or with "clock=pit" PIT channel
 * 2 as a free-running 16-bit counter (mode 2, period 65536 ticks = 54.9
 * ms), extended to 64 bits by reading it at least once a period.  The PIT
 * clock is for emulators whose TSC is not time: Bochs counts executed
 * instructions in its TSC, but keeps its PIT on the host's clock
 * ("clock: sync=realtime").  Runs are cut into chunks of at most ~20 ms so
 * that no reading is more than a period after the previous one. */
static int use_pit;
static uint32_t clock_khz;              /* clock ticks per ms */
static uint64_t target_ticks;
static volatile uint64_t pit_ext;       /* written from ring 3 too (IOPL3) */
static volatile uint16_t pit_last;

static uint16_t pit_read2(void)
{
	outb(0x43, 0x80);                       /* latch channel 2 */
	uint8_t lo = inb(0x42);
	uint8_t hi = inb(0x42);
	return (uint16_t)(lo | (hi << 8));
}

static void pit_clock_start(void)
{
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));     /* gate 2 on, speaker off */
	outb(0x43, 0xB4);                       /* ch2, lo/hi, mode 2, binary */
	outb(0x42, 0);
	outb(0x42, 0);                          /* 0 = 65536 */
	pit_last = pit_read2();
	pit_ext = 0;
}

static inline uint64_t now(void)
{
	if (!use_pit)
		return ops_rdtsc();
	uint16_t c = pit_read2();
	pit_ext += (uint16_t)(pit_last - c);    /* counts down */
	pit_last = c;
	return pit_ext;
}

volatile uint32_t bench_divzero_count, bench_irq_count;
extern char bench_syscall_entry[], bench_sysenter_entry[], bench_divzero_entry[], bench_irq0_entry[],
	bench_userexit_entry[];
uint32_t bench_sysenter_loop(uint32_t n);       /* stubs.S, ring 3 */
uint32_t bench_userexit_loop(uint32_t n);       /* stubs.S, ring 3, a page of its own */

static uint8_t frames[4][4096] ALIGNED(4096);   /* data pages for the paging benchmarks */
static uint32_t dir_b[1024] ALIGNED(4096);      /* ctxsw: the second address space */
static uint32_t pt_b[1024] ALIGNED(4096);

#define GATE_INT(dpl) (SEG_P | SEG_DPL(dpl) | SYS_INTGATE32)

/* ---------------------------------------------------------------- time */
static uint32_t calibrate_once(void)
{
	uint8_t p61 = inb(0x61);
	outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01));    /* gate 2 on, speaker off */
	outb(0x43, 0xB0);                               /* ch2, lo/hi, mode 0, binary */
	outb(0x42, (uint8_t)CALIB_COUNT);
	outb(0x42, (uint8_t)(CALIB_COUNT >> 8));
	uint64_t t0 = ops_rdtsc(), t1;
	/* OUT2 goes high at the terminal count.  Bounded (by the TSC at up
	 * to 10 GHz, and by a count of polls) for a PIT that never gets there. */
	for (uint32_t polls = 0;; polls++) {
		t1 = ops_rdtsc();
		if ((inb(0x61) & 0x20) || t1 - t0 > 10000000000ull || polls > 50000000u)
			break;
	}
	outb(0x61, p61);
	return (uint32_t)((t1 - t0) * PIT_HZ / ((uint64_t)CALIB_COUNT * 1000u));
}

static uint32_t calibrate_tsc_khz(void)
{
	uint32_t v[CALIB_ROUNDS];
	for (unsigned i = 0; i < CALIB_ROUNDS; i++)
		v[i] = calibrate_once();
	for (unsigned i = 1; i < CALIB_ROUNDS; i++)     /* median */
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[CALIB_ROUNDS / 2];
}

/* Hundredths of a nanosecond for `t` clock ticks. */
static uint64_t ticks_to_ns100(uint64_t t)
{
	if (use_pit) {
		uint64_t q = t / PIT_HZ, r = t % PIT_HZ;
		return q * 100000000000ull + r * 100000000000ull / PIT_HZ;
	}
	uint64_t q = t / tsc_khz, r = t % tsc_khz;
	return q * 100000000u + r * 100000000u / tsc_khz;
}

/* Bounded wait helpers: a benchmark that never sees its event must fail,
 * not hang the run. */
static uint64_t deadline_after_ms(uint32_t ms)
{
	return now() + (uint64_t)clock_khz * ms;
}

/* ---------------------------------------------------------------- ring 3 */
/* IF=1, as user code runs (every IRQ is masked at the PIC outside the irq
 * benchmark, so none arrives; and btvm --user-exec direct runs ring 3 on
 * the CPU only with IF=1); IOPL3 when ring 3 has to read the PIT clock. */
static uint32_t user_eflags(void)
{
	return (use_pit ? EFLAGS_IOPL3 : 0) | EFLAGS_IF | 0x2;
}

/* The sum ops_int80_loop and bench_sysenter_loop get back from the
 * handlers (EBX + 1 for EBX = n..1), mod 2^32. */
static uint32_t user_call_sum(uint32_t n)
{
	return (uint32_t)((uint64_t)n * (n + 1) / 2 + n);
}

static volatile uint64_t user_cycles;
static volatile uint32_t user_result;

static uint32_t user_syscall(uint32_t n)
{
	uint64_t t0 = now();
	uint32_t r = ops_int80_loop(n, 1);
	uint64_t t1 = now();
	user_cycles = t1 - t0;
	user_result = r;
	return 0;
}

static uint32_t user_sysenter(uint32_t n)
{
	uint64_t t0 = now();
	uint32_t r = bench_sysenter_loop(n);
	uint64_t t1 = now();
	user_cycles = t1 - t0;
	user_result = r;
	return 0;
}

static uint32_t user_userexit(uint32_t n)
{
	uint64_t t0 = now();
	uint32_t r = bench_userexit_loop(n);
	uint64_t t1 = now();
	user_cycles = t1 - t0;
	user_result = r;
	return 0;
}

static uint32_t userbuf[OPS_USERBUF_WORDS] ALIGNED(4096);
static uint32_t user_usercompute(uint32_t n)
{
	uint64_t t0 = now();
	uint32_t r = ops_usercompute_loop(n, userbuf);
	uint64_t t1 = now();
	user_cycles = t1 - t0;
	user_result = r;
	return 0;
}

static uint32_t user_pgfault(uint32_t n)
{
	uint32_t sum = 0;
	uint64_t t0 = now();
	for (uint32_t i = 0; i < n; i++)
		sum += *(volatile uint32_t *)(PF_VA0 + ((i & 1) << 12));
	uint64_t t1 = now();
	user_cycles = t1 - t0;
	user_result = sum;
	return 0;
}

/* ---------------------------------------------------------------- benchmarks */
struct bench {
	const char *name;
	const char *needs;              /* of the host's KVM: none, iret, paging */
	const char *what;               /* one iteration */
	uint32_t granule;               /* iteration counts are multiples of it */
	uint32_t period_us;             /* >0: an iteration waits this long for an event */
	void (*setup)(void);
	uint64_t (*run)(uint32_t n);    /* TSC cycles for n iterations */
	const char *(*check)(uint32_t n);       /* after the timed run: NULL or what went wrong */
	void (*teardown)(void);
};

/* syscall: ring 3, paging on, int 0x80 through a DPL-3 interrupt gate to
 * a handler of three instructions and IRET back. */
static void paging_on(void);
static void paging_off(void);
static void syscall_setup(void)
{
	paging_on();
	idt_set_gate(VEC_SYSCALL, (uint32_t)bench_syscall_entry, SEL_KCODE, GATE_INT(3));
}
static void syscall_teardown(void)
{
	idt_set_gate(VEC_SYSCALL, isr_stub_addr(VEC_SYSCALL), SEL_KCODE, GATE_INT(3));
	paging_off();
}
static uint64_t syscall_run(uint32_t n)
{
	user_result = 0;
	run_user(user_syscall, n, user_eflags());
	return user_cycles;
}
static const char *syscall_check(uint32_t n)
{
	return user_result == user_call_sum(n) ? NULL : "int 0x80 did not return EBX + ECX to ring 3 every time";
}

/* sysenter: ring 3, paging on, SYSENTER to a handler of three instructions (STI last, as Linux)
 * and SYSEXIT back (SDM Vol. 2B SYSENTER, SYSEXIT; the MSRs as Linux sets
 * them, with the kit's GDT in the order SYSENTER implies). */
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
static uint8_t sysenter_stack[4096] ALIGNED(16);
static inline void wrmsr(uint32_t msr, uint32_t lo)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0u) : "memory");
}
static void sysenter_setup(void)
{
	paging_on();
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, (uint32_t)(sysenter_stack + sizeof(sysenter_stack)));
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)bench_sysenter_entry);
}
static void sysenter_teardown(void)
{
	wrmsr(MSR_SYSENTER_CS, 0);
	paging_off();
}
static uint64_t sysenter_run(uint32_t n)
{
	user_result = 0;
	run_user(user_sysenter, n, user_eflags());
	return user_cycles;
}
static const char *sysenter_check(uint32_t n)
{
	return user_result == user_call_sum(n) ? NULL : "SYSENTER did not return EBX + 1 to ring 3 every time";
}

/* userexit: ring 3, paging on, `int $0x81` through a DPL-3 interrupt gate
 * to a handler of three instructions and IRET back -- the syscall
 * benchmark on another vector, from a page of its own.  Under btvm
 * --user-exec direct every iteration is a world switch out of the CPU
 * and back (stubs.S): this times direct execution's exit round trip. */
#define VEC_USEREXIT 0x81
static void userexit_setup(void)
{
	paging_on();
	idt_set_gate(VEC_USEREXIT, (uint32_t)bench_userexit_entry, SEL_KCODE, GATE_INT(3));
}
static void userexit_teardown(void)
{
	idt_set_gate(VEC_USEREXIT, isr_stub_addr(VEC_USEREXIT), SEL_KCODE, GATE_INT(0));
	paging_off();
}
static uint64_t userexit_run(uint32_t n)
{
	user_result = 0;
	run_user(user_userexit, n, user_eflags());
	return user_cycles;
}
static const char *userexit_check(uint32_t n)
{
	return user_result == user_call_sum(n) ? NULL : "int 0x81 did not return EBX + ECX to ring 3 every time";
}

/* usercompute: ring 3, paging on, the xorshift/load/store loop over a
 * 64 KiB buffer (bench/common/user.S).  Each run starts from a zeroed
 * buffer; the check runs the same loop at CPL 0 on a zeroed buffer and
 * compares the results. */
static uint64_t usercompute_run(uint32_t n)
{
	memset(userbuf, 0, sizeof(userbuf));
	run_user(user_usercompute, n, user_eflags());
	return user_cycles;
}
static const char *usercompute_check(uint32_t n)
{
	uint32_t got = user_result;
	memset(userbuf, 0, sizeof(userbuf));
	return ops_usercompute_loop(n, userbuf) == got ? NULL : "ring 3 computed something else than the same loop at CPL0";
}

/* in */
static uint64_t in_run(uint32_t n)
{
	uint64_t t0 = now();
	for (uint32_t i = n / OPS_UNROLL; i; i--)
		__asm__ volatile(OPS_REPEAT8("inb $0x61, %%al\n\t") : : : "eax", "memory");
	return now() - t0;
}

/* paging set-up shared by cr3, ptemod, pgfault, ctxsw */
static void paging_on(void)
{
	paging_identity_init();
	paging_enable();
}
static void paging_off(void)
{
	paging_disable();
}

/* cr3 */
static uint64_t cr3_run(uint32_t n)
{
	uint32_t v = read_cr3();
	uint64_t t0 = now();
	for (uint32_t i = n / OPS_UNROLL; i; i--)
		__asm__ volatile(OPS_REPEAT8("mov %0, %%cr3\n\t") : : "r"(v) : "memory");
	return now() - t0;
}

/* ptemod: rewrite one PTE (alternating between two frames), INVLPG, read
 * through the new translation. */
static uint32_t *ptemod_pte;
static volatile uint32_t sink;
static void ptemod_setup(void)
{
	paging_on();
	*(volatile uint32_t *)frames[0] = 0x1111;
	*(volatile uint32_t *)frames[1] = 0x2222;
	ptemod_pte = pte_ptr(PTEMOD_VA, 1);
	*ptemod_pte = (uint32_t)frames[0] | PTE_P | PTE_W;
	invlpg(PTEMOD_VA);
}
static uint64_t ptemod_run(uint32_t n)
{
	uint32_t f0 = (uint32_t)frames[0] | PTE_P | PTE_W, f1 = (uint32_t)frames[1] | PTE_P | PTE_W;
	uint32_t sum = 0;
	volatile uint32_t *pte = ptemod_pte;
	uint64_t t0 = now();
	for (uint32_t i = n / 2; i; i--) {
		*pte = f1;
		invlpg(PTEMOD_VA);
		sum += *(volatile uint32_t *)PTEMOD_VA;
		*pte = f0;
		invlpg(PTEMOD_VA);
		sum += *(volatile uint32_t *)PTEMOD_VA;
	}
	uint64_t t1 = now();
	sink = sum;
	return t1 - t0;
}
static const char *ptemod_check(uint32_t n)
{
	return sink == (n / 2) * (0x1111u + 0x2222u) ? NULL : "reads did not follow the modified PTE";
}

/* pgfault: ring 3 alternately reads two pages; the #PF handler maps the
 * faulting one and unmaps the other, so every read faults. */
static volatile uint32_t pf_count;
static uint32_t *pf_pte[2];
static void pf_handler(struct regs *r)
{
	uint32_t cr2 = read_cr2();
	unsigned which = cr2 == PF_VA1;
	if ((cr2 != PF_VA0 && cr2 != PF_VA1) || r->error != PF_U)
		guest_panic("pgfault: unexpected #PF error 0x%x at %08x cr2 %08x", r->error, r->eip, cr2);
	*pf_pte[which] = (uint32_t)frames[2 + which] | PTE_P | PTE_W | PTE_U;
	*pf_pte[!which] = 0;
	invlpg(which ? PF_VA0 : PF_VA1);
	pf_count++;
}
static void pgfault_setup(void)
{
	paging_on();
	*(volatile uint32_t *)frames[2] = 3;
	*(volatile uint32_t *)frames[3] = 4;
	pf_pte[0] = pte_ptr(PF_VA0, 1);
	pf_pte[1] = pte_ptr(PF_VA1, 1);
	set_handler(14, pf_handler);
}
static uint64_t pgfault_run(uint32_t n)
{
	*pf_pte[0] = 0;
	*pf_pte[1] = 0;
	invlpg(PF_VA0);
	invlpg(PF_VA1);
	pf_count = 0;
	run_user(user_pgfault, n, user_eflags());
	return user_cycles;
}
static const char *pgfault_check(uint32_t n)
{
	if (pf_count != n)
		return "not every read faulted once";
	return user_result == (n / 2) * 7 ? NULL : "reads after the fault saw the wrong page";
}
static void pgfault_teardown(void)
{
	set_handler(14, NULL);
	paging_off();
}

/* divzero */
static void divzero_setup(void)
{
	idt_set_gate(0, (uint32_t)bench_divzero_entry, SEL_KCODE, GATE_INT(0));
}
static void divzero_teardown(void)
{
	idt_set_gate(0, isr_stub_addr(0), SEL_KCODE, GATE_INT(0));
}
static uint64_t divzero_run(uint32_t n)
{
	uint32_t a = 1, d = 0;
	bench_divzero_count = 0;
	uint64_t t0 = now();
	for (uint32_t i = n; i; i--)
		__asm__ volatile("divl %2" : "+a"(a), "+d"(d) : "r"(0u) : "memory", "cc");
	return now() - t0;
}
static const char *divzero_check(uint32_t n)
{
	return bench_divzero_count == n ? NULL : "not every divide raised #DE";
}

/* callret */
static uint64_t callret_run(uint32_t n)
{
	uint64_t t0 = now();
	ops_callret_loop(n);
	return now() - t0;
}

/* compute */
static uint32_t compute_table[256];
static volatile uint32_t compute_sink;
static uint64_t compute_run(uint32_t n)
{
	uint64_t t0 = now();
	compute_sink = ops_compute_loop(n, compute_table);
	return now() - t0;
}

/* clisti */
static uint64_t clisti_run(uint32_t n)
{
	uint64_t t0 = now();
	for (uint32_t i = n / OPS_UNROLL; i; i--)
		__asm__ volatile(OPS_REPEAT8("cli\n\tsti\n\t") : : : "memory");
	uint64_t t1 = now();
	cli();
	return t1 - t0;
}

/* pushfpopf */
static uint64_t pushfpopf_run(uint32_t n)
{
	uint64_t t0 = now();
	ops_pushfpopf_loop(n);
	return now() - t0;
}

/* irq: with IRQ0 pending in the PIC (IF=0), time from STI until the
 * handler (EOI + IRET) has run and we are back. */
static int irq_failed;
static void irq_setup(void)
{
	idt_set_gate(VEC_IRQ0, (uint32_t)bench_irq0_entry, SEL_KCODE, GATE_INT(0));
	pit_set_rate(IRQ_HZ);
	pic_set_mask(0xFFFF);
	pic_unmask(0);
	outb(PIC1_CMD, 0x0A);                   /* OCW3: reads of port 0x20 give the IRR */
	irq_failed = 0;
}
static uint64_t irq_run(uint32_t n)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < n && !irq_failed; i++) {
		uint32_t c0 = bench_irq_count;
		uint64_t limit = deadline_after_ms(1000);
		while (!(inb(PIC1_CMD) & 1))
			if (now() > limit) {
				irq_failed = 1;         /* no IRQ0 in the IRR within 1 s */
				break;
			}
		if (irq_failed)
			break;
		uint64_t t0 = now();
		sti();
		while (bench_irq_count == c0)
			if (now() - t0 > (uint64_t)clock_khz * 1000) {
				irq_failed = 2;         /* pending but not delivered within 1 s */
				break;
			}
		cli();
		total += now() - t0;
	}
	return total;
}
static const char *irq_check(uint32_t n)
{
	(void)n;
	if (irq_failed == 1)
		return "IRQ0 never became pending in the PIC's IRR";
	if (irq_failed == 2)
		return "a pending IRQ0 was not delivered after STI";
	return NULL;
}
static void irq_teardown(void)
{
	cli();
	pic_set_mask(0xFFFF);
	outb(0x43, 0x30);                       /* channel 0 mode 0, count 0: no more periodic ticks */
	outb(0x40, 0);
	outb(0x40, 0);
	idt_set_gate(VEC_IRQ0, isr_stub_addr(VEC_IRQ0), SEL_KCODE, GATE_INT(0));
}

/* ctxsw: two page directories that differ in the mapping of CTX_VA;
 * every iteration switches CR3 to the other and reads CTX_VA. */
static uint32_t ctx_dir_a, ctx_dir_b;
static void ctxsw_setup(void)
{
	paging_on();
	*(volatile uint32_t *)frames[0] = 0xA;
	*(volatile uint32_t *)frames[1] = 0xB;
	map_4k(CTX_VA, (uint32_t)frames[0], PTE_P | PTE_W);
	memcpy(dir_b, page_dir, sizeof(dir_b));
	memset(pt_b, 0, sizeof(pt_b));
	pt_b[(CTX_VA >> 12) & 0x3FF] = (uint32_t)frames[1] | PTE_P | PTE_W;
	dir_b[CTX_VA >> 22] = (uint32_t)pt_b | PTE_P | PTE_W | PTE_U;
	ctx_dir_a = (uint32_t)page_dir;
	ctx_dir_b = (uint32_t)dir_b;
	write_cr3(ctx_dir_a);
}
static uint64_t ctxsw_run(uint32_t n)
{
	uint32_t sum = 0;
	uint64_t t0 = now();
	for (uint32_t i = n / 2; i; i--) {
		write_cr3(ctx_dir_b);
		sum += *(volatile uint32_t *)CTX_VA;
		write_cr3(ctx_dir_a);
		sum += *(volatile uint32_t *)CTX_VA;
	}
	uint64_t t1 = now();
	sink = sum;
	return t1 - t0;
}
static const char *ctxsw_check(uint32_t n)
{
	return sink == (n / 2) * (0xAu + 0xBu) ? NULL : "reads did not follow the address space switch";
}
static void ctxsw_teardown(void)
{
	write_cr3((uint32_t)page_dir);
	paging_off();
}

static const struct bench benches[] = {
	{ "syscall", "iret,paging", "int 0x80 from ring 3 (paging on) to a 3-instruction handler and IRET back", 1, 0,
	  syscall_setup, syscall_run, syscall_check, syscall_teardown },
	{ "sysenter", "iret,paging", "SYSENTER from ring 3 (paging on) to a 3-instruction handler (STI last) and SYSEXIT back", 1, 0,
	  sysenter_setup, sysenter_run, sysenter_check, sysenter_teardown },
	{ "userexit", "iret,paging", "int 0x81 from ring 3 (paging on, a page of its own) to a 3-instruction handler and IRET back", 1, 0,
	  userexit_setup, userexit_run, userexit_check, userexit_teardown },
	{ "in", "none", "inb from port 0x61 (system control port B) at CPL0", OPS_UNROLL, 0,
	  NULL, in_run, NULL, NULL },
	{ "cr3", "paging", "mov to CR3 (same page directory) with paging on", OPS_UNROLL, 0,
	  paging_on, cr3_run, NULL, paging_off },
	{ "ptemod", "paging", "write a PTE (other frame), INVLPG, read through it", 2, 0,
	  ptemod_setup, ptemod_run, ptemod_check, paging_off },
	{ "pgfault", "iret,paging", "ring-3 read of a not-present page, #PF mapped by the kernel, IRET", 2, 0,
	  pgfault_setup, pgfault_run, pgfault_check, pgfault_teardown },
	{ "divzero", "iret", "divl by zero at CPL0, #DE to a bare handler that skips it, IRET", 1, 0,
	  divzero_setup, divzero_run, divzero_check, divzero_teardown },
	{ "callret", "none", "one call/ret pair (recursion 16 deep) at CPL0", CALLRET_DEPTH, 0,
	  NULL, callret_run, NULL, NULL },
	{ "compute", "none", "24 instructions of ALU, table loads/stores, a call/ret and a branch at CPL0", 1, 0,
	  NULL, compute_run, NULL, NULL },
	{ "usercompute", "iret,paging", "ring 3 (paging on): a xorshift step, a load and a store in a 64 KiB buffer (15 instructions)", 1, 0,
	  paging_on, usercompute_run, usercompute_check, paging_off },
	{ "clisti", "none", "cli; sti at CPL0", OPS_UNROLL, 0,
	  NULL, clisti_run, NULL, NULL },
	{ "pushfpopf", "none", "pushf; popf at CPL0", OPS_UNROLL, 0,
	  NULL, pushfpopf_run, NULL, NULL },
	{ "irq", "iret", "pending PIT IRQ0: STI until the handler (EOI, IRET) has returned", 1, 1000000u / IRQ_HZ,
	  irq_setup, irq_run, irq_check, irq_teardown },
	{ "ctxsw", "paging", "switch CR3 between two address spaces and read a page", 2, 0,
	  ctxsw_setup, ctxsw_run, ctxsw_check, ctxsw_teardown },
};
#define NBENCH ARRAY_SIZE(benches)

/* ---------------------------------------------------------------- driver */
static uint32_t round_up(uint32_t n, uint32_t g)
{
	return (n + g - 1) / g * g;
}

/* Grows a run until it takes 1/8 of the target (TSC) or 10 ms (PIT);
 * that is also the warm-up.  Then times enough iterations for the target:
 * in one run (TSC) or in runs of that size (PIT, see now()). */
static int run_bench(const struct bench *b)
{
	uint32_t n, chunk;
	uint64_t t = 0, chunk_goal = use_pit ? (uint64_t)clock_khz * 10 : target_ticks / 8;
	const char *err = NULL;

	printf("# %s: %s\n", b->name, b->what);
	if (b->setup)
		b->setup();
	if (b->period_us) {
		b->run(round_up(8, b->granule));
		uint64_t want = (uint64_t)target_ms * 1000u / b->period_us;
		n = round_up(want < 16 ? 16 : (uint32_t)want, b->granule);
		chunk = use_pit ? round_up(10000u / b->period_us, b->granule) : n;
	} else {
		chunk = round_up(64, b->granule);
		for (;;) {
			t = b->run(chunk);
			if (t >= chunk_goal || chunk >= (1u << 28))
				break;
			chunk *= use_pit ? 2 : 4;
		}
		uint64_t want = t ? target_ticks * chunk / t : chunk;
		if (want > (1u << 30))
			want = 1u << 30;
		n = round_up(want < chunk ? chunk : (uint32_t)want, b->granule);
		if (!use_pit)
			chunk = n;
	}
	n = round_up(n, chunk);
	uint32_t done = 0;
	t = 0;
	while (done < n && !err) {
		t += b->run(chunk);
		if (b->check)
			err = b->check(chunk);
		done += chunk;
	}
	if (b->teardown)
		b->teardown();
	if (err) {
		printf("BENCH-FAIL %s %s\n", b->name, err);
		return 0;
	}
	uint64_t ns100 = (ticks_to_ns100(t) + n / 2) / n;
	printf("BENCH %s ns_per_iter=%u.%02u iters=%u\n", b->name,
	       (uint32_t)(ns100 / 100), (uint32_t)(ns100 % 100), n);
	return 1;
}

static const struct bench *find_bench(const char *w, size_t len)
{
	for (unsigned i = 0; i < NBENCH; i++)
		if (strlen(benches[i].name) == len && memcmp(benches[i].name, w, len) == 0)
			return &benches[i];
	return NULL;
}

static void NORETURN bench_exit(uint32_t status)
{
	cli();
	for (unsigned i = 0; i < 1000000; i++)  /* UART empty (bounded) */
		if (inb(COM1 + 5) & 0x40)
			break;
	outl(0xF4, status);                     /* QEMU isa-debug-exit, btvm: ends here */
	/* Bochs has no isa-debug-exit; its shutdown port ends the simulation. */
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (uint8_t)*s);
	for (;;)
		hlt();
}

void main(void)
{
	const char *cmd = "";
	if (boot_info && (boot_info->flags & (1u << 2)) && boot_info->cmdline)
		cmd = (const char *)boot_info->cmdline;
	printf("# btvm nanobenchmarks; command line: %s\n", cmd);

	/* Words: benchmark names, "all", "ms=N", "clock=tsc|pit".  Loaders
	 * pass the kernel's name first (btvm, QEMU) or not (GRUB 2): an
	 * unknown first word is that name and is ignored. */
	const struct bench *list[32];
	unsigned nlist = 0, bad = 0, nword = 0;
	for (const char *p = cmd; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t len = (size_t)(p - w);
		if (!len)
			continue;
		nword++;
		const struct bench *b;
		if (len > 3 && memcmp(w, "ms=", 3) == 0) {
			uint32_t v = 0;
			for (size_t i = 3; i < len && w[i] >= '0' && w[i] <= '9'; i++)
				v = v * 10 + (uint32_t)(w[i] - '0');
			if (v)
				target_ms = v;
		} else if (len == 9 && memcmp(w, "clock=pit", 9) == 0) {
			use_pit = 1;
		} else if (len == 9 && memcmp(w, "clock=tsc", 9) == 0) {
			use_pit = 0;
		} else if (len == 3 && memcmp(w, "all", 3) == 0) {
			for (unsigned i = 0; i < NBENCH && nlist < ARRAY_SIZE(list); i++)
				list[nlist++] = &benches[i];
		} else if ((b = find_bench(w, len)) != NULL) {
			if (nlist < ARRAY_SIZE(list))
				list[nlist++] = b;
		} else if (nword > 1) {
			printf("BENCH-ERROR unknown word on the command line: ");
			for (size_t i = 0; i < len; i++)
				serial_putc(w[i]);
			serial_putc('\n');
			bad = 1;
		}
	}
	if (!nlist && !bad)
		for (unsigned i = 0; i < NBENCH; i++)
			list[nlist++] = &benches[i];

	tsc_khz = calibrate_tsc_khz();
	if (!tsc_khz) {
		printf("BENCH-ERROR the TSC does not advance against PIT channel 2\n");
		printf("BENCH-END failed\n");
		bench_exit(1);
	}
	printf("# tsc_khz=%u (PIT channel 2, median of %u x 25 ms) target_ms=%u clock=%s\n",
	       tsc_khz, CALIB_ROUNDS, target_ms, use_pit ? "pit" : "tsc");
	if (use_pit) {
		clock_khz = PIT_HZ / 1000;
		pit_clock_start();
	} else {
		clock_khz = tsc_khz;
	}
	target_ticks = (uint64_t)clock_khz * target_ms;

	for (unsigned i = 0; i < nlist; i++)
		if (!run_bench(list[i]))
			bad = 1;
	printf("BENCH-END %s\n", bad ? "failed" : "ok");
	bench_exit(bad);
}
