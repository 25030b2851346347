/* ring3: CPL3 with flat DPL3 segments (no paging): IRET to ring 3, int 0x80
 * through a DPL3 gate with the TSS.esp0 stack switch, IRET back, privileged
 * instructions and DPL0 gates from ring 3. */
#include "guest.h"

#define SYS_ADD     1     /* EAX = EBX + ECX */
#define SYS_SET_FS  2     /* returns with FS = SEL_KDATA in the frame */

static volatile uint32_t k_calls, k_cs, k_ss, k_cpl_cs, k_cur_ss, k_frame_at_esp0, k_esp_match, k_eflags;
static volatile uint32_t u_cs, u_ss, u_ds, u_cs_after, u_fs_after;

static void syscall_handler(struct regs *r)
{
	k_calls++;
	k_cs = r->cs;
	k_ss = r->user_ss;
	k_cpl_cs = read_cs();
	k_cur_ss = read_ss();
	/* The CPU switched to SS0:ESP0 and pushed SS, ESP, EFLAGS, CS, EIP. */
	k_frame_at_esp0 = (uint32_t)&r->eip == tss.esp0 - 20;
	k_esp_match = r->user_esp == r->edx;
	k_eflags = r->eflags;
	if (r->eax == SYS_ADD)
		r->eax = r->ebx + r->ecx;
	else if (r->eax == SYS_SET_FS)
		r->fs = SEL_KDATA;
}

static uint32_t user_main(uint32_t arg)
{
	u_cs = read_cs();
	u_ss = read_ss();
	u_ds = read_ds();
	uint32_t ret;
	__asm__ volatile("movl %%esp, %%edx\n\t"
			 "int $0x80"
			 : "=a"(ret) : "a"(SYS_ADD), "b"(arg), "c"(100) : "edx", "memory");
	u_cs_after = read_cs();
	return ret * 2;
}

static uint32_t user_fs(uint32_t arg)
{
	uint16_t fs;
	__asm__ volatile("movw %%ax, %%fs\n\t"
			 "movl %%esp, %%edx\n\t"
			 "int $0x80\n\t"
			 "movw %%fs, %0"
			 : "=r"(fs) : "a"(SYS_SET_FS), "b"(arg) : "edx", "memory");
	return fs;
}

/* Each returns the address of its faulting (or trapping) instruction. */
#define USER_FAULT(name, setup, insn) \
	static uint32_t name(uint32_t arg) \
	{ \
		(void)arg; \
		uint32_t at; \
		__asm__ volatile(setup "\n\t" \
				 "movl $1f, %0\n" \
				 "1: " insn "\n" \
				 "2:\n\t" ASM_FIXUP("1b", "2b") \
				 : "=&r"(at) : : "eax", "edx", "memory", "cc"); \
		return at; \
	}
USER_FAULT(u_cli, "", "cli")
USER_FAULT(u_sti, "", "sti")
USER_FAULT(u_hlt, "", "hlt")
USER_FAULT(u_in, "", "inb $0x80, %%al")
USER_FAULT(u_out, "", "outb %%al, $0x80")
USER_FAULT(u_in_dx, "movw $0x3f8, %%dx", "inb %%dx, %%al")
USER_FAULT(u_mov_cr0, "", "movl %%cr0, %%eax")
USER_FAULT(u_int41, "", "int $0x41")
USER_FAULT(u_int3, "", "int3")
USER_FAULT(u_into, "movl $0x7fffffff, %%eax; addl $1, %%eax", "into")
USER_FAULT(u_load_kds, "movw $0x10, %%ax", "movw %%ax, %%ds")
USER_FAULT(u_ud2, "", "ud2")

static void user_fault(const char *what, user_fn_t fn, uint32_t vec, uint32_t err, uint32_t eflags)
{
	fault_reset();
	uint32_t at = run_user(fn, 0, eflags);
	CHECK_EQ(last_fault.count, 1, "%s: one exception", what);
	CHECK_EQ(last_fault.vector, vec, "%s: vector %u (%s)", what, vec, exception_name(vec));
	CHECK_EQ(last_fault.error, err, "%s: error code 0x%x", what, err);
	CHECK_EQ(last_fault.eip, at, "%s: saved EIP is the faulting instruction", what);
	CHECK_EQ(last_fault.cs, SEL_UCODE, "%s: saved CS is the ring-3 code selector", what);
}

static void user_ok(const char *what, user_fn_t fn, uint32_t eflags)
{
	fault_reset();
	run_user(fn, 0, eflags);
	CHECK_EQ(last_fault.count, 0, "%s: no exception", what);
}

void main(void)
{
	printf("ring3: CPL3 with flat segments, no paging\n");
	set_syscall_handler(syscall_handler);

	uint32_t r = run_user(user_main, 20, 0x2);
	CHECK_EQ(u_cs, SEL_UCODE, "iret to ring 3: CS = 0x1b (CPL3)");
	CHECK_EQ(u_ss, SEL_UDATA, "iret to ring 3: SS = 0x23");
	CHECK_EQ(u_ds, SEL_UDATA, "ring 3: DS = 0x23");
	CHECK_EQ(k_calls, 1, "int 0x80 through the DPL3 gate reaches ring 0");
	CHECK_EQ(k_cpl_cs, SEL_KCODE, "int 0x80 handler runs with CS = 0x08");
	CHECK_EQ(k_cur_ss, SEL_KDATA, "int 0x80 handler runs on SS = TSS.ss0");
	CHECK(k_frame_at_esp0, "int 0x80 frame (SS, ESP, EFLAGS, CS, EIP) is at TSS.esp0 - 20");
	CHECK_EQ(k_cs, SEL_UCODE, "int 0x80 frame: CS = 0x1b");
	CHECK_EQ(k_ss, SEL_UDATA, "int 0x80 frame: SS = 0x23");
	CHECK(k_esp_match, "int 0x80 frame: ESP = the user ESP at the int");
	CHECK_EQ(k_eflags & (EFLAGS_IF | EFLAGS_IOPL3), 0, "int 0x80 frame: EFLAGS IF=0 IOPL=0 as given to run_user");
	CHECK_EQ(u_cs_after, SEL_UCODE, "iret from the handler returns to ring 3");
	CHECK_EQ(r, 240, "syscall result (20 + 100) * 2 returned from ring 3");
	CHECK_EQ(read_cs(), SEL_KCODE, "back in ring 0 after run_user");
	CHECK_EQ(read_ds(), SEL_KDATA, "DS restored after run_user");

	r = run_user(user_fs, SEL_UDATA, 0x2);
	CHECK_EQ(r, 0, "iret to ring 3 nulls FS holding a DPL0 data selector");

	user_fault("cli at CPL3 IOPL0 -> #GP(0)", u_cli, 13, 0, 0x2);
	user_fault("sti at CPL3 IOPL0 -> #GP(0)", u_sti, 13, 0, 0x2);
	user_fault("hlt at CPL3 -> #GP(0)", u_hlt, 13, 0, 0x2);
	user_fault("in imm8 at CPL3 IOPL0 -> #GP(0)", u_in, 13, 0, 0x2);
	user_fault("out imm8 at CPL3 IOPL0 -> #GP(0)", u_out, 13, 0, 0x2);
	user_fault("in dx at CPL3 IOPL0 (no I/O bitmap) -> #GP(0)", u_in_dx, 13, 0, 0x2);
	user_fault("mov from cr0 at CPL3 -> #GP(0)", u_mov_cr0, 13, 0, 0x2);
	user_fault("int $0x41 through a DPL0 gate -> #GP(0x41*8+2)", u_int41, 13, 0x41 * 8 + 2, 0x2);
	user_fault("int3 through the DPL0 #BP gate -> #GP(3*8+2)", u_int3, 13, 3 * 8 + 2, 0x2);
	user_fault("into through the DPL0 #OF gate -> #GP(4*8+2)", u_into, 13, 4 * 8 + 2, 0x2);
	user_fault("mov ds, DPL0 data selector at CPL3 -> #GP(0x10)", u_load_kds, 13, SEL_KDATA, 0x2);
	user_fault("ud2 at CPL3 -> #UD", u_ud2, 6, 0, 0x2);

	user_ok("cli at CPL3 with IOPL3", u_cli, 0x2 | EFLAGS_IOPL3);
	user_ok("in/out imm8 at CPL3 with IOPL3", u_out, 0x2 | EFLAGS_IOPL3);

	idt_set_dpl(3, 3);
	fault_reset();
	uint32_t at = run_user(u_int3, 0, 0x2);
	idt_set_dpl(3, 0);
	CHECK_EQ(last_fault.vector, 3, "int3 through a DPL3 gate from ring 3: #BP");
	CHECK_EQ(last_fault.eip, at + 1, "int3 through a DPL3 gate: saved EIP after int3");
	CHECK_EQ(last_fault.cs, SEL_UCODE, "int3 through a DPL3 gate: saved CS = 0x1b");
}
