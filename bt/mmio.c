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
 * What the executor covers is what drivers use on device registers: MOV
 * in every form, MOVZX/MOVSX, XCHG, the two-operand ALU instructions
 * (ADD OR ADC SBB AND SUB XOR CMP TEST), INC DEC NOT NEG, and the string
 * instructions (through the C emulator).  Anything else on an MMIO address
 * is a clear "not emulated" error naming the instruction. */
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

static bool writes_result(ZydisMnemonic m) { return m != ZYDIS_MNEMONIC_CMP && m != ZYDIS_MNEMONIC_TEST; }

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
	default: {
		if (!bt_read(bt, lin, &v, size))
			return LEAVE;
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
		if (!alu(m, size, &a, b, &c->eflags)) {
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
	if (vm->stop || ((bt->cpu.eflags & EFLAGS_IF) && bt->cpu.irq_pend)) {
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
