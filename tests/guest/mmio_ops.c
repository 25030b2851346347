/* Instructions on device registers (issue 13): BT/BTS/BTR/BTC with
 * immediate and register bit offsets (one that addresses another register
 * than the operand's, SDM BT), XCHG, XADD, CMPXCHG, the read-modify-write
 * ALU forms, shifts, BSF, SETcc, CMOVcc, MOVZX/MOVSX, PUSH/POP of a memory
 * operand.  Registers whose reads and writes have no side effects: the
 * local APIC's TPR and LVT entries (SDM Vol. 3A 11.4.1, 11.5.1, only their
 * defined bits), the IOAPIC's IOREGSEL and a redirection entry (82093AA
 * 3.1).  Every sequence runs twice: bt runs an instruction found on MMIO
 * in C once, then as a callout from its translation. */
#include "guest.h"

#define LAPIC 0xFEE00000u
#define IOAPIC 0xFEC00000u
#define TPR ((volatile uint32_t *)(LAPIC + 0x080))
#define LVT_TIMER ((volatile uint32_t *)(LAPIC + 0x320))
#define LVT_THERMAL ((volatile uint32_t *)(LAPIC + 0x330))
#define LVT_PERF ((volatile uint32_t *)(LAPIC + 0x340))
#define IOREGSEL ((volatile uint32_t *)IOAPIC)
#define IOWIN ((volatile uint32_t *)(IOAPIC + 0x10))

static void bit_tests(int pass)
{
	uint8_t cf;
	*LVT_THERMAL = 0x10000;
	__asm__ volatile("btl $16, %1; setc %0" : "=q"(cf) : "m"(*LVT_THERMAL) : "cc");
	CHECK(cf == 1, "pass %d: BT imm: CF = the LVT mask bit (1)", pass);
	__asm__ volatile("btrl $16, %1; setc %0" : "=q"(cf), "+m"(*LVT_THERMAL) : : "cc");
	CHECK(cf == 1 && *LVT_THERMAL == 0, "pass %d: BTR imm: CF = 1, mask bit cleared", pass);
	__asm__ volatile("btsl $5, %1; setc %0" : "=q"(cf), "+m"(*LVT_THERMAL) : : "cc");
	CHECK(cf == 0 && *LVT_THERMAL == 0x20, "pass %d: BTS imm: CF = 0, vector bit 5 set", pass);
	__asm__ volatile("btcl $5, %1; setc %0" : "=q"(cf), "+m"(*LVT_THERMAL) : : "cc");
	CHECK(cf == 1 && *LVT_THERMAL == 0, "pass %d: BTC imm: CF = 1, bit 5 complemented", pass);
	__asm__ volatile("btcl $48, %1; setc %0" : "=q"(cf), "+m"(*LVT_THERMAL) : : "cc");
	CHECK(cf == 0 && *LVT_THERMAL == 0x10000, "pass %d: BTC imm 48 (modulo 32): bit 16 set again", pass);
	uint32_t off = 16;
	__asm__ volatile("btl %2, %1; setc %0" : "=q"(cf) : "m"(*LVT_THERMAL), "r"(off) : "cc");
	CHECK(cf == 1, "pass %d: BT reg 16: CF = 1", pass);
	/* a register offset of 131 on the timer LVT (0x320) is bit 3 of the
	 * dword 16 bytes on: the thermal LVT (0x330) */
	*LVT_TIMER = 0x10000;
	off = 128 + 3;
	__asm__ volatile("btsl %2, %1; setc %0" : "=q"(cf), "+m"(*LVT_TIMER) : "r"(off) : "cc", "memory");
	CHECK(cf == 0 && *LVT_THERMAL == 0x10008 && *LVT_TIMER == 0x10000,
	      "pass %d: BTS reg 131 on the timer LVT sets bit 3 of the thermal LVT", pass);
	/* -125 on the perf LVT (0x340): 16 bytes back, bit 3 */
	off = (uint32_t)-125;
	__asm__ volatile("btrl %2, %1; setc %0" : "=q"(cf), "+m"(*LVT_PERF) : "r"(off) : "cc", "memory");
	CHECK(cf == 1 && *LVT_THERMAL == 0x10000, "pass %d: BTR reg -125 on the perf LVT clears it again", pass);
	off = (uint32_t)-128 + 16;
	__asm__ volatile("btcl %2, %1; setc %0" : "=q"(cf), "+m"(*LVT_PERF) : "r"(off) : "cc", "memory");
	CHECK(cf == 1 && *LVT_THERMAL == 0, "pass %d: BTC reg -112 on the perf LVT: the thermal mask bit", pass);
	*LVT_THERMAL = 0x10000;
	/* a 16-bit BT with a register offset: words, offset signed 16 bits */
	uint16_t off16 = 16 + 0;
	__asm__ volatile("btw %2, %1; setc %0" : "=q"(cf) : "m"(*(volatile uint16_t *)LVT_THERMAL), "r"(off16) : "cc");
	(void)cf; /* (a 16-bit access to the APIC reads 0 on QEMU and btvm: not printed) */
}

static void exchanges(int pass)
{
	uint32_t v = 0x10021;
	__asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*LVT_THERMAL) : : "memory");
	CHECK(v == 0x10000 && *LVT_THERMAL == 0x10021, "pass %d: XCHG with the thermal LVT", pass);
	*LVT_THERMAL = 0x10000;
	*TPR = 0x10;
	v = 0x20;
	__asm__ volatile("xaddl %0, %1" : "+r"(v), "+m"(*TPR) : : "cc", "memory");
	CHECK(v == 0x10 && *TPR == 0x30, "pass %d: XADD on TPR: old value out, sum in", pass);
	uint32_t a = 0x30, n = 0x40;
	uint8_t zf;
	__asm__ volatile("lock cmpxchgl %3, %1; setz %0" : "=q"(zf), "+m"(*TPR), "+a"(a) : "r"(n) : "cc", "memory");
	CHECK(zf == 1 && *TPR == 0x40 && a == 0x30, "pass %d: CMPXCHG on TPR, equal: ZF = 1, stored", pass);
	a = 0x30;
	n = 0x50;
	__asm__ volatile("cmpxchgl %3, %1; setz %0" : "=q"(zf), "+m"(*TPR), "+a"(a) : "r"(n) : "cc", "memory");
	CHECK(zf == 0 && *TPR == 0x40 && a == 0x40, "pass %d: CMPXCHG on TPR, not equal: ZF = 0, EAX loaded", pass);
}

static void alu(int pass)
{
	uint32_t flags;
	*TPR = 0x40;
	__asm__ volatile("orl $0x5, %0" : "+m"(*TPR) : : "cc", "memory");
	CHECK_EQ(*TPR, 0x45, "pass %d: OR imm to TPR", pass);
	__asm__ volatile("lock andl $0xf0, %0" : "+m"(*TPR) : : "cc", "memory");
	CHECK_EQ(*TPR, 0x40, "pass %d: LOCK AND imm to TPR", pass);
	__asm__ volatile("addl $0x11, %0" : "+m"(*TPR) : : "cc", "memory");
	__asm__ volatile("incl %0" : "+m"(*TPR) : : "cc", "memory");
	CHECK_EQ(*TPR, 0x52, "pass %d: ADD, INC on TPR", pass);
	__asm__ volatile("subl $0x52, %1; pushfl; popl %0" : "=r"(flags), "+m"(*TPR) : : "cc", "memory");
	CHECK(*TPR == 0 && (flags & EFLAGS_ZF) && !(flags & EFLAGS_CF), "pass %d: SUB to 0: ZF = 1, CF = 0", pass);
	*TPR = 0x21;
	__asm__ volatile("shll $2, %0" : "+m"(*TPR) : : "cc", "memory");
	CHECK_EQ(*TPR, 0x84, "pass %d: SHL imm on TPR", pass);
	uint8_t cnt = 3;
	__asm__ volatile("shrl %%cl, %0" : "+m"(*TPR) : "c"(cnt) : "cc", "memory");
	CHECK_EQ(*TPR, 0x10, "pass %d: SHR CL on TPR", pass);
	__asm__ volatile("rorl $1, %0" : "+m"(*TPR) : : "cc", "memory");
	CHECK_EQ(*TPR, 0x08, "pass %d: ROR 1 on TPR", pass);
	uint32_t r = 0x1234;
	__asm__ volatile("bsfl %1, %0" : "+r"(r) : "m"(*TPR) : "cc");
	CHECK_EQ(r, 3, "pass %d: BSF of TPR", pass);
	__asm__ volatile("testl $0x8, %1; pushfl; popl %0" : "=r"(flags) : "m"(*TPR) : "cc");
	CHECK(!(flags & EFLAGS_ZF), "pass %d: TEST on TPR", pass);
	r = 0;
	__asm__ volatile("cmpl %1, %1; cmovzl %2, %0" : "+r"(r) : "r"(0), "m"(*TPR) : "cc");
	CHECK_EQ(r, 0x08, "pass %d: CMOVZ from TPR", pass);
	r = 7;
	__asm__ volatile("cmpl $1, %1; cmovzl %2, %0" : "+r"(r) : "r"(0), "m"(*TPR) : "cc");
	CHECK_EQ(r, 7, "pass %d: CMOVZ from TPR, condition false: unchanged", pass);
	/* PUSH and POP of a memory operand */
	uint32_t got;
	__asm__ volatile("pushl %1; popl %0" : "=r"(got) : "m"(*TPR) : "memory");
	CHECK_EQ(got, 0x08, "pass %d: PUSH TPR", pass);
	__asm__ volatile("pushl $0x20; popl %0" : "=m"(*TPR) : : "memory");
	CHECK_EQ(*TPR, 0x20, "pass %d: POP into TPR", pass);
	*TPR = 0;
}

static void bytes(int pass)
{
	/* IOREGSEL takes any width (8 bits kept) on QEMU and btvm */
	*(volatile uint8_t *)IOREGSEL = 0x90;
	uint32_t z, s;
	__asm__ volatile("movzbl %1, %0" : "=r"(z) : "m"(*(volatile uint8_t *)IOREGSEL));
	__asm__ volatile("movsbl %1, %0" : "=r"(s) : "m"(*(volatile uint8_t *)IOREGSEL));
	CHECK(z == 0x90 && s == 0xffffff90u, "pass %d: MOVZX/MOVSX of IOREGSEL", pass);
	__asm__ volatile("cmpl %1, %1; setz %0" : "=m"(*(volatile uint8_t *)IOREGSEL) : "r"(0) : "cc", "memory");
	CHECK_EQ(*IOREGSEL & 0xff, 1, "pass %d: SETZ into IOREGSEL", pass);
	__asm__ volatile("cmpl $1, %1; setz %0" : "=m"(*(volatile uint8_t *)IOREGSEL) : "r"(0) : "cc", "memory");
	CHECK_EQ(*IOREGSEL & 0xff, 0, "pass %d: SETZ (false) into IOREGSEL", pass);
	/* a redirection entry through IOWIN: bit tests on its vector bits */
	*IOREGSEL = 0x10 + 2 * 6;
	*IOWIN = 0x10000;
	uint8_t cf;
	__asm__ volatile("btsl $3, %1; setc %0" : "=q"(cf), "+m"(*IOWIN) : : "cc", "memory");
	CHECK(cf == 0 && *IOWIN == 0x10008, "pass %d: BTS on an IOAPIC redirection entry", pass);
	__asm__ volatile("btl $16, %1; setc %0" : "=q"(cf) : "m"(*IOWIN) : "cc");
	CHECK(cf == 1, "pass %d: BT of its mask bit", pass);
	*IOWIN = 0x10000;
}

void main(void)
{
	printf("mmio_ops: bit tests, exchanges, ALU, SETcc/CMOVcc, PUSH/POP on device registers\n");
	for (int pass = 1; pass <= 2; pass++) {
		bit_tests(pass);
		exchanges(pass);
		alu(pass);
		bytes(pass);
	}
}
