/* escape: a hostile guest tries the ways out of 32-bit protected mode that
 * would reach the host if its code ran on the CPU in the btvm process
 * (docs/security.md), from ring 0 and from ring 3, and prints what the
 * architecture says happens (Intel SDM references per case):
 *  - a far JMP to a code descriptor with the L bit set, at selector 0x33
 *    (what x86-64 Linux's 64-bit user CS is): outside IA-32e mode the L bit
 *    is reserved and ignored (Vol. 3A 3.4.5), so with D=1 it is an
 *    ordinary 32-bit segment: `dec eax` (0x48, a REX.W prefix in 64-bit
 *    mode) still decrements EAX.  From ring 0 the RPL-3 selector is #GP
 *    (JMP, Vol. 2A: RPL > CPL or DPL != CPL for a non-conforming segment);
 *  - SYSCALL: #UD (SYSCALL, Vol. 2B: not recognised outside 64-bit mode on
 *    Intel; IA32_EFER.SCE = 0 as well);
 *  - SYSENTER with IA32_SYSENTER_CS = 0: #GP(0) (SYSENTER, Vol. 2B);
 *  - INT 0x80 with no gate: a not-present gate is #NP(0x80*8+2), a gate
 *    beyond the IDT limit #GP(0x80*8+2), a DPL-0 gate from ring 3
 *    #GP(0x80*8+2) (INT n, Vol. 2A; error code format Vol. 3A 6.13);
 *  - INT 0x80 through the guest's own DPL-3 gate reaches the guest's
 *    handler, not the host.
 * Needs only flat segments, no paging; the ring-3 cases need IRET. */
#include "guest.h"

#define SEG_L      0x2                  /* flags nibble: 64-bit code (IA-32e only) */
#define SEL_L_USER 0x33                 /* index 6, RPL 3: DPL 3, L=1, D=1 */
#define SEL_L_KERN 0x38                 /* index 7, RPL 0: DPL 0, L=1, D=1 */
#define INT80_ERR  (0x80 * 8 + 2)       /* IDT bit set, EXT clear */
#define MSR_SYSENTER_CS 0x174
#define SYS_ECHO   1                    /* int 0x80, EAX = 1: returns EBX + 1 */

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ------------------------------------------------------------ ring 0 */

/* JMP far to the L=1 DPL-0 segment, run `dec eax` there, JMP back.
 * Returns EAX after `mov $1, %eax; dec %eax` and the CS seen there. */
static uint32_t kern_l_segment(uint32_t *cs_there)
{
	uint32_t eax, cs;
	__asm__ volatile("ljmp %[sel], $1f\n"
			 "1:\tmovl %%cs, %[cs]\n\t"
			 "movl $1, %%eax\n\t"
			 ".byte 0x48\n\t"          /* dec eax here; REX.W in 64-bit mode */
			 "nop\n\t"
			 "ljmp %[back], $2f\n"
			 "2:"
			 : "=&a"(eax), [cs] "=&r"(cs)
			 : [sel] "i"(SEL_L_KERN), [back] "i"(SEL_KCODE)
			 : "memory");
	*cs_there = cs & 0xffff;
	return eax;
}

/* Each returns the address of its faulting instruction. */
#define KERN_FAULT(name, insn) \
	static uint32_t name(void) \
	{ \
		uint32_t at; \
		__asm__ volatile("movl $1f, %0\n" \
				 "1: " insn "\n" \
				 "2:\n\t" ASM_FIXUP("1b", "2b") \
				 : "=&r"(at) : : "eax", "ecx", "edx", "memory", "cc"); \
		return at; \
	}
KERN_FAULT(k_ljmp_user_l, "ljmp $0x33, $2f")
KERN_FAULT(k_syscall, "syscall")
KERN_FAULT(k_sysenter, "sysenter")
KERN_FAULT(k_int80, "int $0x80")

static void kern_fault(const char *what, uint32_t (*fn)(void), uint32_t vec, uint32_t err)
{
	fault_reset();
	uint32_t at = fn();
	CHECK_EQ(last_fault.count, 1, "ring 0: %s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "ring 0: %s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "ring 0: %s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, at, "ring 0: %s: saved EIP is the instruction", what);
	CHECK_EQ(last_fault.cs, SEL_KCODE, "ring 0: %s: saved CS = 0x08", what);
}

/* ------------------------------------------------------------ ring 3 */

static volatile uint32_t u_eax, u_cs_there, u_cs_back;

static uint32_t user_l_segment(uint32_t arg)
{
	(void)arg;
	uint32_t eax, cs, back;
	__asm__ volatile("ljmp %[sel], $1f\n"
			 "1:\tmovl %%cs, %[cs]\n\t"
			 "movl $1, %%eax\n\t"
			 ".byte 0x48\n\t"
			 "nop\n\t"
			 "ljmp %[ucs], $2f\n"
			 "2:\tmovl %%cs, %[back]"
			 : "=&a"(eax), [cs] "=&r"(cs), [back] "=&r"(back)
			 : [sel] "i"(SEL_L_USER), [ucs] "i"(SEL_UCODE)
			 : "memory");
	u_eax = eax;
	u_cs_there = cs & 0xffff;
	u_cs_back = back & 0xffff;
	return 0;
}

#define USER_FAULT(name, insn) \
	static uint32_t name(uint32_t arg) \
	{ \
		(void)arg; \
		uint32_t at; \
		__asm__ volatile("movl $1f, %0\n" \
				 "1: " insn "\n" \
				 "2:\n\t" ASM_FIXUP("1b", "2b") \
				 : "=&r"(at) : : "eax", "ecx", "edx", "memory", "cc"); \
		return at; \
	}
USER_FAULT(u_syscall, "syscall")
USER_FAULT(u_sysenter, "sysenter")

static void user_fault(const char *what, user_fn_t fn, uint32_t vec, uint32_t err)
{
	fault_reset();
	uint32_t at = run_user(fn, 0, 0x2);
	CHECK_EQ(last_fault.count, 1, "ring 3: %s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "ring 3: %s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "ring 3: %s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, at, "ring 3: %s: saved EIP is the instruction", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "ring 3: %s: saved CS = 0x1b", what);
}

/* int $0x80 from ring 3 when the gate is unusable: the handler records
 * the fault, puts the gate back (present, DPL 3, full IDT limit) so that
 * the kit's own int 0x80 (leaving ring 3) works again, and skips the
 * two-byte int. */
static struct dtr full_idt;

static void restore_gate_and_skip(struct regs *r)
{
	fault_record(r);
	idt_set_present(VEC_SYSCALL, 1);
	idt_set_dpl(VEC_SYSCALL, 3);
	__asm__ volatile("lidt %0" : : "m"(full_idt));
	r->eip += 2;
}

static volatile uint32_t u_int_at;

static uint32_t user_int80(uint32_t arg)
{
	uint32_t ret, at;
	__asm__ volatile("movl $1f, %1\n"
			 "1: int $0x80"
			 : "=a"(ret), "=&r"(at) : "a"(SYS_ECHO), "b"(arg) : "memory");
	u_int_at = at;
	return ret;
}

static volatile uint32_t echo_calls;

static void echo_handler(struct regs *r)
{
	if (r->eax == SYS_ECHO) {
		echo_calls++;
		r->eax = r->ebx + 1;
	}
}

static void user_int80_case(const char *what, unsigned vec, uint32_t err, void (*break_gate)(void))
{
	fault_reset();
	echo_calls = 0;
	set_handler(vec, restore_gate_and_skip);
	break_gate();
	uint32_t ret = run_user(user_int80, 41, 0x2);
	set_handler(vec, NULL);
	CHECK_EQ(last_fault.count, 1, "ring 3: int $0x80 %s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "ring 3: int $0x80 %s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "ring 3: int $0x80 %s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, u_int_at, "ring 3: int $0x80 %s: saved EIP is the int", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "ring 3: int $0x80 %s: saved CS = 0x1b", what);
	CHECK_EQ(echo_calls, 0, "ring 3: int $0x80 %s: the guest's handler did not run", what);
	(void)ret;
}

static void gate_not_present(void) { idt_set_present(VEC_SYSCALL, 0); }
static void gate_dpl0(void) { idt_set_dpl(VEC_SYSCALL, 0); }
static void idt_too_short(void)
{
	struct dtr d = full_idt;
	d.limit = VEC_SYSCALL * 8 - 1;   /* vectors 0..0x7f */
	__asm__ volatile("lidt %0" : : "m"(d));
}

void main(void)
{
	printf("escape: ways out of 32-bit mode, from ring 0 and ring 3\n");
	full_idt = idt_dtr();
	gdt_set(6, 0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB | SEG_L);
	gdt_set(7, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB | SEG_L);
	wrmsr(MSR_SYSENTER_CS, 0);
	set_syscall_handler(echo_handler);

	/* ring 0 */
	uint32_t cs_there;
	uint32_t eax = kern_l_segment(&cs_there);
	CHECK_EQ(cs_there, SEL_L_KERN, "ring 0: ljmp to an L=1 D=1 code segment (0x38) loads CS = 0x38");
	CHECK_EQ(eax, 0, "ring 0: code there is 32-bit: 0x48 is dec eax (L is ignored outside IA-32e mode)");
	CHECK_EQ(read_cs(), SEL_KCODE, "ring 0: ljmp back to 0x08");
	kern_fault("ljmp $0x33 (RPL 3 > CPL 0) -> #GP(0x30)", k_ljmp_user_l, 13, 0x30);
	kern_fault("syscall -> #UD", k_syscall, 6, 0);

	idt_set_present(VEC_SYSCALL, 0);
	kern_fault("int $0x80, gate not present -> #NP(0x402)", k_int80, 11, INT80_ERR);
	idt_set_present(VEC_SYSCALL, 1);
	idt_too_short();
	kern_fault("int $0x80 beyond the IDT limit -> #GP(0x402)", k_int80, 13, INT80_ERR);
	__asm__ volatile("lidt %0" : : "m"(full_idt));

	/* ring 3 */
	run_user(user_l_segment, 0, 0x2);
	CHECK_EQ(u_cs_there, SEL_L_USER, "ring 3: ljmp $0x33 (L=1 D=1, DPL 3) loads CS = 0x33");
	CHECK_EQ(u_eax, 0, "ring 3: code at CS 0x33 is 32-bit: 0x48 is dec eax");
	CHECK_EQ(u_cs_back, SEL_UCODE, "ring 3: ljmp back to 0x1b");
	user_fault("syscall -> #UD", u_syscall, 6, 0);

	echo_calls = 0;
	uint32_t r = run_user(user_int80, 41, 0x2);
	CHECK_EQ(r, 42, "ring 3: int $0x80 through the guest's DPL-3 gate reaches the guest's handler");
	CHECK_EQ(echo_calls, 1, "ring 3: the guest's int $0x80 handler ran once");
	user_int80_case("gate not present -> #NP(0x402)", 11, INT80_ERR, gate_not_present);
	user_int80_case("through a DPL-0 gate -> #GP(0x402)", 13, INT80_ERR, gate_dpl0);
	user_int80_case("beyond the IDT limit -> #GP(0x402)", 13, INT80_ERR, idt_too_short);

	/* SYSENTER last: bt does not run it yet (docs/usage.md). */
	kern_fault("sysenter with SYSENTER_CS = 0 -> #GP(0)", k_sysenter, 13, 0);
	user_fault("sysenter with SYSENTER_CS = 0 -> #GP(0)", u_sysenter, 13, 0);
}
