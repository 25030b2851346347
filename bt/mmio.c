/* MMIO from translated code.
 *
 * Guest-physical addresses with no RAM behind them (the local APIC at
 * 0xFEE00000, the IOAPIC at 0xFEC00000, or nothing at all) are never mapped
 * in the views, so the first access from translated code faults.  The fault
 * handler records the guest EIP and the dispatcher calls bt_mmio_step(),
 * which runs that one instruction in C: its memory operand goes through
 * bt_read/bt_write, which send non-RAM addresses to the MMIO bus (an
 * address no device claims reads as all ones, as on a PC).
 *
 * Adaptive translation: an instruction found to touch MMIO is remembered
 * (by linear EIP) and its page's translations are dropped; from then on the
 * translator emits a callout to bt_co_mmio for it instead of copying it, so
 * an APIC EOI costs a callout, not a host fault (about 3 us here).
 *
 * What the executor covers is what drivers and kernels use on device
 * registers (and, under CR4.SMAP, on user pages: bt_backend.c): MOV in
 * every form, MOVZX/MOVSX, XCHG, XADD, CMPXCHG, the two-operand ALU
 * instructions (ADD OR ADC SBB AND SUB XOR CMP TEST), INC DEC NOT NEG, the
 * shifts and rotates, BT BTS BTR BTC (a register bit offset may address
 * another unit than the operand's, SDM BT), BSF BSR, SETcc, CMOVcc, PUSH
 * and POP of a memory operand, and the string instructions (through the C
 * emulator).  The flags come from the host CPU running the same
 * instruction on registers.  Anything else on an MMIO address (MUL/DIV
 * and IMUL with a memory source, CMPXCHG8B, x87/SSE operands, ...) is a
 * clear "not emulated" error naming the instruction. */
#include <stdio.h>
#include <string.h>
#include "bt/bt.h"
#include "monitor/vm.h"

enum { CONT = 0, LEAVE = 1 };

#define ARITH_FLAGS (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* ---- the set of instructions known to touch MMIO (open addressing) */

static uint32_t eip_hash(uint32_t eip) { return (eip * 0x9E3779B1u) >> (32 - BT_MMIO_EIP_BITS); }

bool bt_mmio_eip_known(const struct bt *bt, uint32_t eip)
{
	uint32_t n = 1u << BT_MMIO_EIP_BITS;
	for (uint32_t i = 0, h = eip_hash(eip); i < n; i++, h = (h + 1) & (n - 1)) {
		if (!bt->mmio_eips[h].used)
			return false;
		if (bt->mmio_eips[h].eip == eip)
			return true;
	}
	return false;
}

static void remember_eip(struct bt *bt, uint32_t eip)
{
	uint32_t n = 1u << BT_MMIO_EIP_BITS;
	if (bt->n_mmio_eips >= n / 2)
		return; /* full enough: further ones keep faulting, still correct */
	for (uint32_t i = 0, h = eip_hash(eip); i < n; i++, h = (h + 1) & (n - 1)) {
		if (bt->mmio_eips[h].used && bt->mmio_eips[h].eip == eip)
			return;
		if (!bt->mmio_eips[h].used) {
			bt->mmio_eips[h].used = true;
			bt->mmio_eips[h].eip = eip;
			bt->n_mmio_eips++;
			return;
		}
	}
}

/* ---- the ALU on the host CPU, so that the flags are the CPU's own */

#define ALU2(insn, sfx, type)                                                          \
	do {                                                                           \
		type x_ = (type)a;                                                     \
		__asm__("add $-128, %%rsp\n\tpush %[f]\n\tpopfq\n\t" insn sfx " %[b], %[a]\n\tpushfq\n\tpop %[f]\n\tsub $-128, %%rsp" \
			: [a] "+r"(x_), [f] "+r"(fl) : [b] "r"((type)b) : "cc");        \
		a = x_;                                                                \
	} while (0)
#define ALU1(insn, sfx, type)                                                          \
	do {                                                                           \
		type x_ = (type)a;                                                     \
		__asm__("add $-128, %%rsp\n\tpush %[f]\n\tpopfq\n\t" insn sfx " %[a]\n\tpushfq\n\tpop %[f]\n\tsub $-128, %%rsp"    \
			: [a] "+r"(x_), [f] "+r"(fl) : : "cc");                          \
		a = x_;                                                                \
	} while (0)
#define BY_SIZE(M, insn)                                                               \
	do {                                                                           \
		if (size == 1) M(insn, "b", uint8_t);                                  \
		else if (size == 2) M(insn, "w", uint16_t);                            \
		else M(insn, "l", uint32_t);                                           \
	} while (0)

/* a OP b with the guest's flags in and out; false for an unknown op. */
static bool alu(ZydisMnemonic m, unsigned size, uint32_t *pa, uint32_t b, uint32_t *flags)
{
	uint32_t a = *pa;
	/* only the arithmetic flags go in (never DF: C runs with DF = 0); the
	 * asm steps over the red zone before it pushes */
	uint64_t fl = (*flags & ARITH_FLAGS) | 2;
	switch (m) {
	case ZYDIS_MNEMONIC_ADD: BY_SIZE(ALU2, "add"); break;
	case ZYDIS_MNEMONIC_OR:  BY_SIZE(ALU2, "or"); break;
	case ZYDIS_MNEMONIC_ADC: BY_SIZE(ALU2, "adc"); break;
	case ZYDIS_MNEMONIC_SBB: BY_SIZE(ALU2, "sbb"); break;
	case ZYDIS_MNEMONIC_AND: BY_SIZE(ALU2, "and"); break;
	case ZYDIS_MNEMONIC_SUB: BY_SIZE(ALU2, "sub"); break;
	case ZYDIS_MNEMONIC_XOR: BY_SIZE(ALU2, "xor"); break;
	case ZYDIS_MNEMONIC_CMP: BY_SIZE(ALU2, "cmp"); break;
	case ZYDIS_MNEMONIC_TEST: BY_SIZE(ALU2, "test"); break;
	case ZYDIS_MNEMONIC_INC: BY_SIZE(ALU1, "inc"); break;
	case ZYDIS_MNEMONIC_DEC: BY_SIZE(ALU1, "dec"); break;
	case ZYDIS_MNEMONIC_NOT: BY_SIZE(ALU1, "not"); break;
	case ZYDIS_MNEMONIC_NEG: BY_SIZE(ALU1, "neg"); break;
	default: return false;
	}
	*pa = a;
	*flags = (*flags & ~ARITH_FLAGS) | ((uint32_t)fl & ARITH_FLAGS);
	return true;
}

/* Shifts and rotates: count in CL (masked by the host as by the guest:
 * 5 bits; RCL/RCR of 8/16 bits reduce it further themselves). */
#define SHIFT(insn, sfx, type)                                                         \
	do {                                                                           \
		type x_ = (type)a;                                                     \
		__asm__("add $-128, %%rsp\n\tpush %[f]\n\tpopfq\n\t" insn sfx " %%cl, %[a]\n\tpushfq\n\tpop %[f]\n\tsub $-128, %%rsp" \
			: [a] "+r"(x_), [f] "+r"(fl) : "c"((uint8_t)b) : "cc");         \
		a = x_;                                                                \
	} while (0)
/* BT BTS BTR BTC BSF BSR have no 8-bit form */
#define BY_SIZE_16_32(M, insn)                                                         \
	do {                                                                           \
		if (size == 2) M(insn, "w", uint16_t);                                 \
		else M(insn, "l", uint32_t);                                           \
	} while (0)

/* The shifts, rotates, bit tests and scans, as alu(). */
static bool alu_more(ZydisMnemonic m, unsigned size, uint32_t *pa, uint32_t b, uint32_t *flags)
{
	uint32_t a = *pa;
	uint64_t fl = (*flags & ARITH_FLAGS) | 2;
	switch (m) {
	case ZYDIS_MNEMONIC_SHL: BY_SIZE(SHIFT, "shl"); break;
	case ZYDIS_MNEMONIC_SHR: BY_SIZE(SHIFT, "shr"); break;
	case ZYDIS_MNEMONIC_SAR: BY_SIZE(SHIFT, "sar"); break;
	case ZYDIS_MNEMONIC_ROL: BY_SIZE(SHIFT, "rol"); break;
	case ZYDIS_MNEMONIC_ROR: BY_SIZE(SHIFT, "ror"); break;
	case ZYDIS_MNEMONIC_RCL: BY_SIZE(SHIFT, "rcl"); break;
	case ZYDIS_MNEMONIC_RCR: BY_SIZE(SHIFT, "rcr"); break;
	case ZYDIS_MNEMONIC_BT:  BY_SIZE_16_32(ALU2, "bt"); break;
	case ZYDIS_MNEMONIC_BTS: BY_SIZE_16_32(ALU2, "bts"); break;
	case ZYDIS_MNEMONIC_BTR: BY_SIZE_16_32(ALU2, "btr"); break;
	case ZYDIS_MNEMONIC_BTC: BY_SIZE_16_32(ALU2, "btc"); break;
	case ZYDIS_MNEMONIC_BSF: BY_SIZE_16_32(ALU2, "bsf"); break;
	case ZYDIS_MNEMONIC_BSR: BY_SIZE_16_32(ALU2, "bsr"); break;
	default: return false;
	}
	*pa = a;
	*flags = (*flags & ~ARITH_FLAGS) | ((uint32_t)fl & ARITH_FLAGS);
	return true;
}

/* The condition of Jcc/SETcc/CMOVcc number cc (SDM Vol. 1 appendix B). */
static bool cond(unsigned cc, uint32_t f)
{
	bool cf = f & EFLAGS_CF, zf = f & EFLAGS_ZF, sf = f & EFLAGS_SF, of = f & EFLAGS_OF, pf = f & EFLAGS_PF;
	bool r;
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

/* The condition code of a SETcc or CMOVcc (0F 9x / 0F 4x), -1 otherwise. */
static int cc_of(const struct insn *in)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	if (zi->opcode_map != ZYDIS_OPCODE_MAP_0F)
		return -1;
	if ((zi->opcode & 0xf0) == 0x90 || (zi->opcode & 0xf0) == 0x40)
		return zi->opcode & 0x0f;
	return -1;
}

static bool writes_result(ZydisMnemonic m)
{
	return m != ZYDIS_MNEMONIC_CMP && m != ZYDIS_MNEMONIC_TEST && m != ZYDIS_MNEMONIC_BT;
}

static uint32_t sign_extend(uint32_t v, unsigned size)
{
	return size == 1 ? (uint32_t)(int32_t)(int8_t)v : size == 2 ? (uint32_t)(int32_t)(int16_t)v : v;
}

/* ---- one instruction */

/* The memory operand and the other explicit operand, if any. */
static const ZydisDecodedOperand *explicit_ops(const struct insn *in, const ZydisDecodedOperand **other)
{
	const ZydisDecodedOperand *mem = NULL;
	*other = NULL;
	for (unsigned i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.type == ZYDIS_MEMOP_TYPE_MEM && !mem)
			mem = op;
		else if (!*other)
			*other = op;
	}
	return mem;
}

static uint32_t other_value(struct bt_cpu *c, const ZydisDecodedOperand *op, unsigned size)
{
	if (!op)
		return 0;
	if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return (uint32_t)op->imm.value.u & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
	return bt_reg_get(c, op->reg.value);
}

/* Runs `in` at in->eip with its memory operand through bt_read/bt_write.
 * CONT when done (EIP advanced), LEAVE with bt->exit set otherwise
 * (a guest fault, or BX_ERROR for an instruction the executor lacks). */
static int execute(struct bt *bt, const struct insn *in)
{
	struct bt_cpu *c = &bt->cpu;
	ZydisMnemonic m = in->zi.mnemonic;
	uint32_t eip = in->eip, next = eip + in->len;
	c->eip = eip; /* faults are at this instruction */
	const ZydisDecodedOperand *other;
	const ZydisDecodedOperand *mem = explicit_ops(in, &other);
	if (!mem || in->zi.attributes & ZYDIS_ATTRIB_HAS_REP || in->zi.attributes & ZYDIS_ATTRIB_HAS_REPNE)
	{
		/* string instructions and the like: the C emulator, whose
		 * accesses go through bt_read/bt_write as well */
		int r = bt_co_emulate_at(c, eip);
		if (r == CONT)
			c->eip = next;
		return r;
	}
	unsigned size = mem->size / 8;
	if (size != 1 && size != 2 && size != 4) {
		bt_unsupported(bt, "%s at %#x accesses MMIO with a %u-byte operand: not emulated by bt yet",
			       ZydisMnemonicGetString(m), eip, size);
		return LEAVE;
	}
	uint32_t lin = bt_op_lin(c, mem);
	bool mem_is_dest = &in->ops[0] == mem;
	uint32_t v = 0;
	switch (m) {
	case ZYDIS_MNEMONIC_MOV:
		if (mem_is_dest) {
			v = other_value(c, other, size);
			if (!bt_write(bt, lin, &v, size))
				return LEAVE;
		} else {
			if (!bt_read(bt, lin, &v, size))
				return LEAVE;
			bt_reg_set(c, other->reg.value, v);
		}
		break;
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX:
		if (!bt_read(bt, lin, &v, size))
			return LEAVE;
		bt_reg_set(c, other->reg.value, m == ZYDIS_MNEMONIC_MOVSX ? sign_extend(v, size) : v);
		break;
	case ZYDIS_MNEMONIC_XCHG: {
		uint32_t r = other_value(c, other, size);
		if (!bt_read(bt, lin, &v, size) || !bt_write(bt, lin, &r, size))
			return LEAVE;
		bt_reg_set(c, other->reg.value, v);
		break;
	}
	case ZYDIS_MNEMONIC_XADD: {
		/* SDM XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP */
		uint32_t r = other_value(c, other, size);
		if (!bt_read(bt, lin, &v, size))
			return LEAVE;
		uint32_t sum = v;
		alu(ZYDIS_MNEMONIC_ADD, size, &sum, r, &c->eflags);
		if (!bt_write(bt, lin, &sum, size))
			return LEAVE;
		bt_reg_set(c, other->reg.value, v);
		break;
	}
	case ZYDIS_MNEMONIC_CMPXCHG: {
		/* SDM CMPXCHG: flags of CMP accumulator, DEST; equal: DEST =
		 * SRC; else the accumulator = DEST, and DEST is written back
		 * with its own value (the processor always writes) */
		ZydisRegister acc = size == 1 ? ZYDIS_REGISTER_AL : size == 2 ? ZYDIS_REGISTER_AX : ZYDIS_REGISTER_EAX;
		uint32_t r = other_value(c, other, size), a = bt_reg_get(c, acc);
		if (!bt_read(bt, lin, &v, size))
			return LEAVE;
		alu(ZYDIS_MNEMONIC_CMP, size, &a, v, &c->eflags);
		bool eq = c->eflags & EFLAGS_ZF;
		uint32_t w = eq ? r : v;
		if (!bt_write(bt, lin, &w, size))
			return LEAVE;
		if (!eq)
			bt_reg_set(c, acc, v);
		break;
	}
	case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC: {
		/* SDM BT: an immediate bit offset is taken modulo the operand
		 * size; a register one is signed and addresses the operand-
		 * sized unit at EA + size * (offset SAR log2(bits)), possibly
		 * outside the addressed one */
		uint32_t off = other_value(c, other, size), bits = size * 8;
		uint32_t at = lin;
		if (other && other->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			int32_t so = size == 2 ? (int16_t)off : (int32_t)off;
			at = lin + (uint32_t)(so >> (size == 2 ? 4 : 5)) * size;
		}
		off &= bits - 1;
		if (!bt_read(bt, at, &v, size))
			return LEAVE;
		uint32_t a = v;
		alu_more(m, size, &a, off, &c->eflags);
		if (m != ZYDIS_MNEMONIC_BT && !bt_write(bt, at, &a, size))
			return LEAVE;
		break;
	}
	case ZYDIS_MNEMONIC_PUSH: {
		/* PUSH m: the value, then the stack (32-bit stack, flat SS
		 * base added) */
		uint32_t esp = c->regs[R_ESP] - size;
		if (!bt_read(bt, lin, &v, size) || !bt_write(bt, c->seg[S_SS].base + esp, &v, size))
			return LEAVE;
		c->regs[R_ESP] = esp;
		break;
	}
	case ZYDIS_MNEMONIC_POP: {
		/* POP m: ESP is incremented before the destination's address
		 * is computed (SDM POP) */
		uint32_t esp0 = c->regs[R_ESP];
		if (!bt_read(bt, c->seg[S_SS].base + esp0, &v, size))
			return LEAVE;
		c->regs[R_ESP] = esp0 + size;
		if (!bt_write(bt, bt_op_lin(c, mem), &v, size)) {
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
		break;
	}
	default: {
		int cc = cc_of(in);
		if (cc >= 0 && mem_is_dest) {
			/* SETcc m8 */
			v = cond((unsigned)cc, c->eflags);
			if (!bt_write(bt, lin, &v, 1))
				return LEAVE;
			break;
		}
		if (!bt_read(bt, lin, &v, size))
			return LEAVE;
		if (cc >= 0) {
			/* CMOVcc r, m: the source is read whatever the condition */
			if (cond((unsigned)cc, c->eflags))
				bt_reg_set(c, other->reg.value, v);
			break;
		}
		uint32_t a = v, b = 0;
		bool unary = !other;
		if (!unary) {
			uint32_t o = other_value(c, other, size);
			if (other->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && other->size / 8 < size)
				o = sign_extend(o, other->size / 8) & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
			if (mem_is_dest)
				b = o;
			else
				a = o, b = v;
		}
		if (!alu(m, size, &a, b, &c->eflags) && !alu_more(m, size, &a, unary ? 1 : b, &c->eflags)) {
			bt_unsupported(bt, "%s at %#x accesses MMIO (linear %#x): not emulated by bt yet",
				       ZydisMnemonicGetString(m), eip, lin);
			return LEAVE;
		}
		if (writes_result(m)) {
			if (mem_is_dest || unary) {
				if (!bt_write(bt, lin, &a, size))
					return LEAVE;
			} else {
				bt_reg_set(c, other->reg.value, a);
			}
		}
		break;
	}
	}
	c->eip = next;
	return CONT;
}

/* After a device access: the next timer deadline may be earlier, and an
 * interrupt the access raised (or an EOI unmasked) must be seen. */
static int after_access(struct bt *bt)
{
	struct vm *vm = bt->vm;
	bt_rearm_host_timer(vm);
	bt->cpu.irq_pend = bt_intr_pending(bt);
	if (vm->stop || ((bt->cpu.eflags & EFLAGS_IF) && bt->cpu.irq_pend) || bt_nmi_deliverable(bt)) {
		bt->exit = BX_DISPATCH;
		return LEAVE;
	}
	return CONT;
}

void bt_mmio_fault(struct bt *bt, uint32_t eip)
{
	bt->mmio_step = true;
	remember_eip(bt, eip);
	/* the page's blocks go; the next translation makes it a callout */
	tcache_invalidate_lin(&bt->tc, eip >> 12);
	bt->st.mmio_faults++;
}

int bt_mmio_step(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	uint8_t buf[16];
	size_t got = bt_fetch(bt, c->eip, buf, 15);
	if (got == 0)
		return LEAVE;
	struct insn in;
	bool need_more;
	if (!decoder_decode(&bt->dec, buf, got, &in, &need_more)) {
		bt_raise(bt, 6, false, 0);
		return LEAVE;
	}
	in.eip = c->eip;
	bt->exit = BX_DISPATCH;
	if (execute(bt, &in) != CONT)
		return LEAVE;
	return after_access(bt);
}

int bt_co_mmio(struct bt_cpu *c, uint32_t idx)
{
	struct bt *bt = bt_of(c);
	bt->st.mmio_callouts++;
	const struct insn *in = &bt->tc.emul[idx];
	if (execute(bt, in) != CONT)
		return LEAVE;
	/* translated code continues after the callout: EIP is implied */
	return after_access(bt);
}
