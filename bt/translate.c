/* The translator: one guest basic block (32-bit, ring 0) into 64-bit host
 * code.  Conversions, one function each:
 *
 *  copy       an instruction that means the same in 64-bit mode is copied
 *             with its operands fixed: memory operands get a GS override
 *             (GS base = the view of the CPL) and the 0x67 address-size
 *             prefix (so the effective address wraps at 4 GiB as in 32-bit
 *             mode) -- or, under the register scheme (a host without
 *             FSGSBASE, bt/views.c), become `lea r13d,[ea]` and [r9 + r13]
 *             with R9 = the view base ([r9 + reg] for a bare [reg]); ESP as a
 *             register or base becomes R12D (REX.R/B); an absolute disp32
 *             (ModRM mod=00 rm=101, RIP-relative in 64-bit mode) becomes the
 *             SIB no-base form; a segment with a non-zero base is folded in
 *             with `lea r13d,[ea]; lea r13d,[r13+base]` and the access made
 *             through [r13]; inc/dec r32 (0x40-0x4F, REX in 64-bit mode)
 *             become FF /0, FF /1.
 *  push/pop   `mov gs:[r12d-4],x ; lea r12d,[r12-4]` (store first, so that a
 *             fault leaves the guest state precise), and the reverse
 *             (register scheme: `lea r14d,[r12-4] ; mov [r9+r14],x ; ...`).
 *  leave      `mov r13d,gs:[ebp] ; lea r12d,[rbp+4] ; mov ebp,r13d`.
 *  call/ret   direct call pushes the return EIP and leaves the block; ret
 *             and indirect jumps/calls leave with the target in r13d.
 *  jcc        `jcc taken ; exit(fallthrough) ; taken: exit(target)`;
 *             jecxz/loop use their 0x67 forms, which test ECX.
 *  emulate    everything sensitive, privileged, or different in 64-bit
 *             mode is a callout to bt_co_emulate (bt/emulate.c).
 *  fpu        with CR0.TS or CR0.EM set, x87/SSE instructions become a
 *             callout that raises #NM (the cache is flushed on CR0 writes).
 *
 * Flags: nothing the translator inserts changes the host arithmetic flags
 * (mov and lea only), so the guest's flags live in host RFLAGS.
 * Every guest instruction's host offset is recorded (side table) so that a
 * fault inside translated code maps back to a precise guest EIP. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "bt/bt.h"
#include "monitor/vm.h"

/* host register numbers */
enum { H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
       H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15 };

struct emit {
	uint8_t *p, *end;
	bool overflow;
	bool single;        /* a one-instruction (TM_SINGLE) translation */
	bool vreg;          /* guest memory is [r9 + ea], not gs:[ea32] (bt/views.c) */
};

static void b1(struct emit *e, uint8_t v)
{
	if (e->p < e->end)
		*e->p++ = v;
	else
		e->overflow = true;
}
static void b4(struct emit *e, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b1(e, (uint8_t)(v >> (8 * i)));
}
static void b8(struct emit *e, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b1(e, (uint8_t)(v >> (8 * i)));
}

/* A direct exit: the chainable stub (tc_stub_bytes). */
static void emit_exit(struct emit *e, uint32_t eip)
{
	uint8_t stub[TC_STUB_LEN];
	tc_stub_bytes(stub, eip);
	for (int i = 0; i < TC_STUB_LEN; i++)
		b1(e, stub[i]);
}

/* The safepoint every block starts with: mov r13b, [rip -> poll page].
 * A kick makes the page inaccessible, so the next block entry faults and
 * returns to the dispatcher with the guest state exact (nothing of the
 * block has run).  No flags are touched. */
static void emit_poll(struct emit *e, const uint8_t *poll)
{
	int32_t rel = (int32_t)(poll - (e->p + 7));
	b1(e, 0x44); b1(e, 0x8A); b1(e, 0x2D); b4(e, (uint32_t)rel);
}

/* An indirect exit with the target EIP in r13d: probe the lookup table
 * inline and jump to the block on a hit, to the dispatcher on a miss —
 * without touching the guest's flags (no pushfq/popfq: mov, movzx, lea,
 * not, xchg and jrcxz only; R8 is translator scratch):
 *   movzx r14d,r13w ; lea r14,[r14+r14] ; mov r8,[r15+LOOKUP]
 *   lea r14,[r8+r14*8]                  ; &table[eip & 0xffff]
 *   mov r8d,[r14] ; not r8d ; lea r8d,[r13+r8+1]   ; r8 = eip - entry.eip
 *   xchg rcx,r8 ; jrcxz hit ; xchg rcx,r8
 *   mov [r15+EIP],r13d ; jmp [r15+EXIT_FN]           ; miss
 *   hit: xchg rcx,r8 ; jmp [r14+8] */
static void emit_exit_r13_slow(struct emit *e);
static void emit_exit_r13(struct emit *e)
{
	_Static_assert(TC_IBL_BITS == 16, "movzx r14d,r13w indexes 16 bits");
	b1(e, 0x45); b1(e, 0x0F); b1(e, 0xB7); b1(e, 0xF5);                      /* movzx r14d,r13w */
	b1(e, 0x4F); b1(e, 0x8D); b1(e, 0x34); b1(e, 0x36);                      /* lea r14,[r14+r14] */
	b1(e, 0x4D); b1(e, 0x8B); b1(e, 0x47); b1(e, CPU_OFF_LOOKUP);            /* mov r8,[r15+LOOKUP] */
	b1(e, 0x4F); b1(e, 0x8D); b1(e, 0x34); b1(e, 0xF0);                      /* lea r14,[r8+r14*8] */
	b1(e, 0x45); b1(e, 0x8B); b1(e, 0x06);                                   /* mov r8d,[r14] */
	b1(e, 0x41); b1(e, 0xF7); b1(e, 0xD0);                                   /* not r8d */
	b1(e, 0x47); b1(e, 0x8D); b1(e, 0x44); b1(e, 0x05); b1(e, 0x01);         /* lea r8d,[r13+r8+1] */
	b1(e, 0x4C); b1(e, 0x87); b1(e, 0xC1);                                   /* xchg rcx,r8 */
	b1(e, 0xE3); b1(e, 3 + 8);                                               /* jrcxz hit */
	b1(e, 0x4C); b1(e, 0x87); b1(e, 0xC1);                                   /* xchg rcx,r8 */
	emit_exit_r13_slow(e);                                                   /* 8 bytes */
	b1(e, 0x4C); b1(e, 0x87); b1(e, 0xC1);                                   /* hit: xchg rcx,r8 */
	b1(e, 0x41); b1(e, 0xFF); b1(e, 0x66); b1(e, 8);                         /* jmp [r14+8] */
}

/* mov [r15+CPU_OFF_EIP], r13d ; jmp [r15+CPU_OFF_EXIT_FN] */
static void emit_exit_r13_slow(struct emit *e)
{
	b1(e, 0x45); b1(e, 0x89); b1(e, 0x6F); b1(e, CPU_OFF_EIP);
	b1(e, 0x41); b1(e, 0xFF); b1(e, 0x67); b1(e, CPU_OFF_EXIT_FN);
}

/* mov r13d, arg ; mov r14, fn ; call [r15+CPU_OFF_CALLOUT] */
static void emit_callout(struct emit *e, int (*fn)(struct bt_cpu *, uint32_t), uint32_t arg)
{
	b1(e, 0x41); b1(e, 0xBD); b4(e, arg);
	b1(e, 0x49); b1(e, 0xBE); b8(e, (uint64_t)(uintptr_t)fn);
	b1(e, 0x41); b1(e, 0xFF); b1(e, 0x57); b1(e, CPU_OFF_CALLOUT);
}

/* lea r12d, [r12 + d] */
static void emit_adjust_esp(struct emit *e, int32_t d)
{
	if (d >= -128 && d <= 127) {
		b1(e, 0x45); b1(e, 0x8D); b1(e, 0x64); b1(e, 0x24); b1(e, (uint8_t)d);
	} else {
		b1(e, 0x45); b1(e, 0x8D); b1(e, 0xA4); b1(e, 0x24); b4(e, (uint32_t)d);
	}
}

/* The register scheme's stack address: lea r14d, [r12 + d8] (wraps at
 * 4 GiB as ESP does; r14, not r13, which may hold the value pushed). */
static void emit_stack_addr_r14(struct emit *e, int8_t d)
{
	b1(e, 0x45); b1(e, 0x8D); b1(e, 0x74); b1(e, 0x24); b1(e, (uint8_t)d);
}

/* mov dword gs:[r12d + d8], host reg h
 * (register scheme: lea r14d,[r12+d8] ; mov [r9+r14], h) */
static void emit_store_stack_reg(struct emit *e, int h, int8_t d)
{
	if (e->vreg) {
		emit_stack_addr_r14(e, d);
		b1(e, (uint8_t)(0x43 | (h >= 8 ? 4 : 0)));
		b1(e, 0x89); b1(e, (uint8_t)(0x04 | ((h & 7) << 3))); b1(e, 0x31);
		return;
	}
	b1(e, 0x65); b1(e, 0x67);
	b1(e, (uint8_t)(0x41 | (h >= 8 ? 4 : 0)));
	b1(e, 0x89); b1(e, (uint8_t)(0x44 | ((h & 7) << 3))); b1(e, 0x24); b1(e, (uint8_t)d);
}

/* mov dword gs:[r12d + d8], imm32 (register scheme: via r14 as above) */
static void emit_store_stack_imm(struct emit *e, uint32_t imm, int8_t d)
{
	if (e->vreg) {
		emit_stack_addr_r14(e, d);
		b1(e, 0x43); b1(e, 0xC7); b1(e, 0x04); b1(e, 0x31); b4(e, imm);
		return;
	}
	b1(e, 0x65); b1(e, 0x67); b1(e, 0x41);
	b1(e, 0xC7); b1(e, 0x44); b1(e, 0x24); b1(e, (uint8_t)d); b4(e, imm);
}

/* mov host reg h, dword gs:[r12d]  (register scheme: [r9 + r12], R12's
 * upper half being zero: every write to it is a 32-bit one) */
static void emit_load_stack(struct emit *e, int h)
{
	if (e->vreg) {
		b1(e, (uint8_t)(0x43 | (h >= 8 ? 4 : 0)));
		b1(e, 0x8B); b1(e, (uint8_t)(0x04 | ((h & 7) << 3))); b1(e, 0x21);
		return;
	}
	b1(e, 0x65); b1(e, 0x67);
	b1(e, (uint8_t)(0x41 | (h >= 8 ? 4 : 0)));
	b1(e, 0x8B); b1(e, (uint8_t)(0x04 | ((h & 7) << 3))); b1(e, 0x24);
}

/* Host register holding guest GPR n (0..7, guest encoding). */
static int host_reg(int n) { return n == R_ESP ? H_R12 : n; }

static bool is_gpr_esp(ZydisRegister r) { return r == ZYDIS_REGISTER_ESP || r == ZYDIS_REGISTER_SP; }
static bool is_high8(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH || r == ZYDIS_REGISTER_BH;
}

static int seg_index(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return S_ES;
	case ZYDIS_REGISTER_CS: return S_CS;
	case ZYDIS_REGISTER_SS: return S_SS;
	case ZYDIS_REGISTER_FS: return S_FS;
	case ZYDIS_REGISTER_GS: return S_GS;
	default: return S_DS;
	}
}

/* The memory operand of an instruction that has one (ModRM or moffs). */
static const ZydisDecodedOperand *mem_operand(const struct insn *in)
{
	for (unsigned i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    in->ops[i].visibility != ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
		    in->ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM)
			return &in->ops[i];
	for (unsigned i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && in->ops[i].mem.type == ZYDIS_MEMOP_TYPE_AGEN)
			return &in->ops[i];
	return NULL;
}

/* movzx/movsx ESP (or SP), AH..BH: the destination cannot be R12 next to a
 * high-byte source, so the result goes to ESI (saved in r14) and is moved
 * to R12 after.  Register operands only: nothing here can fault. */
static bool hi8_reg_esp(struct emit *e, const struct insn *in, const uint8_t *bytes,
			unsigned npfx, unsigned opc_end, uint8_t mod, uint8_t rm)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	if (mod != 3 || (zi->mnemonic != ZYDIS_MNEMONIC_MOVZX && zi->mnemonic != ZYDIS_MNEMONIC_MOVSX) ||
	    zi->raw.modrm.reg != 4)
		return false;
	bool o16 = zi->operand_width == 16;
	b1(e, 0x49); b1(e, 0x89); b1(e, 0xF6);                  /* mov r14,rsi */
	for (unsigned i = 0; i < npfx; i++)
		b1(e, bytes[i]);                                 /* 0x66 (segment prefixes: no effect) */
	for (unsigned i = npfx; i < opc_end; i++)
		b1(e, bytes[i]);
	b1(e, (uint8_t)(0xC0 | (6 << 3) | rm));                /* movzx/movsx esi, high8 */
	if (o16)
		b1(e, 0x66);
	b1(e, 0x41); b1(e, 0x89); b1(e, 0xF4);                  /* mov r12d,esi (r12w,si) */
	b1(e, 0x4C); b1(e, 0x89); b1(e, 0xF6);                  /* mov rsi,r14 */
	return !e->overflow;
}

/* Copies one instruction with its operands fixed (see the top comment).
 * new_opcode/new_opc_len replace the opcode bytes when non-NULL, reg_override
 * (host register) replaces ModRM.reg when >= 0, disp_adjust is added to the
 * memory displacement.  Returns false when the instruction cannot be
 * expressed (a high-byte register next to a REX prefix). */
static bool emit_fixed(struct bt *bt, struct emit *e, const struct insn *in,
		       const uint8_t *new_opcode, int new_opc_len, int reg_override, int32_t disp_adjust)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	const uint8_t *bytes = in->bytes;
	unsigned npfx = zi->raw.prefix_count;
	bool has_modrm = zi->attributes & ZYDIS_ATTRIB_HAS_MODRM;
	bool has_sib = zi->attributes & ZYDIS_ATTRIB_HAS_SIB;
	unsigned opc_end = has_modrm ? zi->raw.modrm.offset
			 : zi->raw.disp.size ? zi->raw.disp.offset
			 : zi->raw.imm[0].size ? zi->raw.imm[0].offset : zi->length;
	const ZydisDecodedOperand *mem = mem_operand(in);
	bool is_lea = zi->mnemonic == ZYDIS_MNEMONIC_LEA;
	bool is_mem = mem && (!has_modrm || zi->raw.modrm.mod != 3);

	uint8_t rex = 0;
	bool high8 = false;
	for (unsigned i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		if (is_high8(op->reg.value))
			high8 = true;
		if (!is_gpr_esp(op->reg.value))
			continue;
		if (op->encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG)
			rex |= 0x44;
		else if (op->encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM || op->encoding == ZYDIS_OPERAND_ENCODING_OPCODE)
			rex |= 0x41;
	}
	if (reg_override >= 8)
		rex |= 0x44;

	/* segment base folding: CS/DS/ES/SS bases are constants of the block
	 * (a change flushes the cache); FS and GS bases, which change at
	 * every kernel entry and exit (per-CPU data, user TLS), are added at
	 * run time from the CPU state, so no block depends on them. */
	uint32_t seg_base = 0;
	int runtime_seg = -1;
	if (is_mem && !is_lea) {
		int si = seg_index(mem->mem.segment);
		if (si == S_FS || si == S_GS)
			runtime_seg = si;
		else
			seg_base = bt->cpu.seg[si].base;
	}
	bool addr16 = zi->address_width == 16;
	bool fold = seg_base != 0 || runtime_seg >= 0 || (is_mem && addr16);

	uint8_t mod = 0, rm = 0, reg = 0, sib = 0;
	int32_t disp = 0;
	unsigned disp_size = 0;
	if (has_modrm) {
		mod = zi->raw.modrm.mod;
		rm = zi->raw.modrm.rm;
		reg = zi->raw.modrm.reg;
		if (reg_override >= 0)
			reg = (uint8_t)(reg_override & 7);
	}
	if (has_sib)
		sib = bytes[zi->raw.sib.offset];
	if (zi->raw.disp.size) {
		disp = (int32_t)zi->raw.disp.value;
		disp_size = zi->raw.disp.size / 8;
	}
	/* memory base ESP → R12 (REX.B); only through a SIB byte */
	bool base_esp = has_modrm && mod != 3 && rm == 4 && (sib & 7) == 4;
	/* Register scheme: the access goes through [r9 + r13] after `lea
	 * r13d,[ea]` (which wraps at 4 GiB as the guest's address does),
	 * except a bare [reg] or [esp]: the host register holds the address
	 * zero-extended (every write to a guest register is a 32-bit or
	 * narrower one), so [r9 + reg] needs no lea. */
	bool vreg_mem = e->vreg && is_mem && !is_lea;
	bool vreg_bare = vreg_mem && !fold && !high8 && has_modrm && mod == 0 && disp_adjust == 0 &&
			 ((rm != 4 && rm != 5) || (rm == 4 && (sib & 0x3F) == 0x24));
	if (vreg_mem && !vreg_bare)
		fold = true;
	/* A high-byte register (AH..BH) cannot be encoded next to a REX
	 * prefix, which R12 (ESP) and R13 (a folded address) need.  Such an
	 * instruction goes through ESI instead (hi8_via_esi below). */
	bool via_esi = high8 && (rex || (is_mem && (base_esp || fold)));
	if (via_esi && is_mem && !is_lea)
		fold = true;       /* the address into r13 first, then into ESI */
	else if (via_esi)
		return hi8_reg_esp(e, in, bytes, npfx, opc_end, mod, rm);
	if (base_esp && !fold)
		rex |= 0x41;
	if (rex && high8 && !via_esi)
		return false;

	/* legacy prefixes, minus segment overrides and 0x67: emitted right
	 * before the instruction itself (not before the address computation
	 * into r13, which 0x66 would turn into a 16-bit lea) */
#define EMIT_PREFIXES() do { \
		for (unsigned i_ = 0; i_ < npfx; i_++) { \
			uint8_t p_ = bytes[i_]; \
			if (p_ == 0x26 || p_ == 0x2E || p_ == 0x36 || p_ == 0x3E || p_ == 0x64 || \
			    p_ == 0x65 || p_ == 0x67) \
				continue; \
			b1(e, p_); \
		} \
	} while (0)

	if (vreg_bare) {
		/* [r9 + reg]: SIB base r9 (REX.B), index the guest register
		 * (ESP: r12, REX.X) */
		EMIT_PREFIXES();
		b1(e, (uint8_t)(0x41 | (rex & 0x04) | (rm == 4 ? 0x02 : 0)));
		if (new_opcode)
			for (int i = 0; i < new_opc_len; i++) b1(e, new_opcode[i]);
		else
			for (unsigned i = npfx; i < opc_end; i++)
				b1(e, i == npfx && bytes[i] == 0x82 ? 0x80 : bytes[i]); /* 0x82: alias of 0x80 */
		b1(e, (uint8_t)((reg << 3) | 4));
		b1(e, (uint8_t)((rm << 3) | 1));
		for (unsigned i = has_sib ? zi->raw.sib.offset + 1u : zi->raw.modrm.offset + 1u; i < zi->length; i++)
			b1(e, bytes[i]);
		return !e->overflow;
	}
	if (is_mem && addr16) {
		/* 16-bit address: r13d = (base16 + index16 + disp) & 0xffff, from
		 * the operand Zydis decoded; then the segment base and the access
		 * through gs:[r13] as below.  movzx and lea only: no flags. */
		static const uint8_t reg16_id[] = { [ZYDIS_REGISTER_BX - ZYDIS_REGISTER_AX] = 3,
			[ZYDIS_REGISTER_BP - ZYDIS_REGISTER_AX] = 5, [ZYDIS_REGISTER_SI - ZYDIS_REGISTER_AX] = 6,
			[ZYDIS_REGISTER_DI - ZYDIS_REGISTER_AX] = 7 };
		ZydisRegister base = mem->mem.base, index = mem->mem.index;
		int32_t d16 = (int32_t)mem->mem.disp.value + disp_adjust;
		b1(e, 0x41); b1(e, 0xBD); b4(e, 0);                            /* mov r13d,0 */
		if (base != ZYDIS_REGISTER_NONE) {                             /* movzx r13d,base16 */
			b1(e, 0x44); b1(e, 0x0F); b1(e, 0xB7);
			b1(e, (uint8_t)(0xC0 | (5 << 3) | reg16_id[base - ZYDIS_REGISTER_AX]));
		}
		if (index != ZYDIS_REGISTER_NONE) {                            /* movzx r14d,index16 */
			b1(e, 0x44); b1(e, 0x0F); b1(e, 0xB7);
			b1(e, (uint8_t)(0xC0 | (6 << 3) | reg16_id[index - ZYDIS_REGISTER_AX]));
			b1(e, 0x47); b1(e, 0x8D); b1(e, 0xAC); b1(e, 0x35); b4(e, (uint32_t)d16); /* lea r13d,[r13+r14+d] */
		} else {
			b1(e, 0x45); b1(e, 0x8D); b1(e, 0xAD); b4(e, (uint32_t)d16);          /* lea r13d,[r13+d] */
		}
		b1(e, 0x45); b1(e, 0x0F); b1(e, 0xB7); b1(e, 0xED);           /* movzx r13d,r13w */
		if (is_lea) {
			/* lea r16/r32, [addr16]: the address is the result (its
			 * 0x66 prefix, if any, is emitted below with the mov) */
			int dst = 0;
			for (unsigned i = 0; i < zi->operand_count; i++)
				if (in->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER)
					dst = host_reg(ZydisRegisterGetId(in->ops[i].reg.value));
			if (zi->operand_width == 16)
				b1(e, 0x66);
			b1(e, (uint8_t)(0x44 | (dst >= 8 ? 1 : 0)));
			b1(e, 0x89);
			b1(e, (uint8_t)(0xC0 | (5 << 3) | (dst & 7)));        /* mov dst,r13d */
			return !e->overflow;
		}
		if (rex & 0x01)
			rex &= (uint8_t)~0x01; /* no ESP base in 16-bit addressing */
		goto through_r13;
	}
	if (is_mem && fold) {
		/* lea r13d, [ea]  (0x67, REX.R for r13, REX.B for an ESP base) */
		b1(e, 0x67);
		b1(e, (uint8_t)(0x44 | (base_esp ? 1 : 0)));
		b1(e, 0x8D);
		if (!has_modrm) {
			/* moffs: absolute disp32 */
			b1(e, 0x2C); b1(e, 0x25); b4(e, (uint32_t)(disp + disp_adjust));
		} else if (mod == 0 && rm == 5) {
			b1(e, (uint8_t)(0x04 | (5 << 3))); b1(e, 0x25); b4(e, (uint32_t)(disp + disp_adjust));
		} else {
			int32_t d = disp + disp_adjust;
			uint8_t m = mod;
			bool nobase = mod == 0 && has_sib && (sib & 7) == 5; /* SIB no-base: disp32 */
			if (!nobase && m == 0 && d != 0)
				m = 2;
			if (m == 1 && (d < -128 || d > 127))
				m = 2;
			b1(e, (uint8_t)((m << 6) | (5 << 3) | rm));
			if (has_sib)
				b1(e, sib);
			if (m == 1)
				b1(e, (uint8_t)d);
			else if (m == 2 || (m == 0 && has_sib && (sib & 7) == 5))
				b4(e, (uint32_t)d);
		}
	through_r13:
		/* lea r13d, [r13 + base] */
		if (seg_base)
			b1(e, 0x45), b1(e, 0x8D), b1(e, 0xAD), b4(e, seg_base);
		if (runtime_seg >= 0) {
			/* mov r14d, [r15 + seg[FS/GS].base] ; lea r13d, [r13 + r14] */
			b1(e, 0x45); b1(e, 0x8B); b1(e, 0xB7);
			b4(e, (uint32_t)(offsetof(struct bt_cpu, seg) + (size_t)runtime_seg * sizeof(struct seg) +
					 offsetof(struct seg, base)));
			b1(e, 0x47); b1(e, 0x8D); b1(e, 0x6C); b1(e, 0x35); b1(e, 0x00); /* mod=01 disp8 0 */
		}
		if (via_esi) {
			/* marker (for the fault handler), mov r14,rsi ; mov esi,r13d
			 * (register scheme: lea rsi,[r9+r13], the host address) */
			b1(e, 0x0F); b1(e, 0x1F); b1(e, 0x80); b4(e, BT_HI8_MARK);
			b1(e, 0x49); b1(e, 0x89); b1(e, 0xF6);
			if (e->vreg) {
				b1(e, 0x4B); b1(e, 0x8D); b1(e, 0x34); b1(e, 0x29);
			} else {
				b1(e, 0x44); b1(e, 0x89); b1(e, 0xEE);
			}
		}
		/* the instruction itself through gs:[r13d] (gs:[esi]); register
		 * scheme: [r9 + r13] ([rsi]) */
		EMIT_PREFIXES();
		if (e->vreg) {
			if (!via_esi)
				b1(e, (uint8_t)(0x43 | (rex & 0x04)));
		} else {
			b1(e, 0x65); b1(e, 0x67);
			rex |= 0x41;
			if (!via_esi)
				b1(e, rex);
		}
		if (new_opcode)
			for (int i = 0; i < new_opc_len; i++) b1(e, new_opcode[i]);
		else if (!has_modrm) {
			/* moffs forms A0-A3 → 8A/8B/88/89 with ModRM */
			static const uint8_t conv[4] = { 0x8A, 0x8B, 0x88, 0x89 };
			b1(e, conv[bytes[npfx] - 0xA0]);
			reg = 0; /* AL/EAX */
		} else
			for (unsigned i = npfx; i < opc_end; i++)
				b1(e, i == npfx && bytes[i] == 0x82 ? 0x80 : bytes[i]); /* 0x82: alias of 0x80 */
		if (via_esi)
			b1(e, (uint8_t)(0x06 | (reg << 3))); /* mod=00 rm=110 (esi) */
		else if (e->vreg)
			b1(e, (uint8_t)(0x04 | (reg << 3))), b1(e, 0x29); /* SIB: base r9, index r13 */
		else
			b1(e, (uint8_t)(0x45 | (reg << 3))), b1(e, 0x00); /* mod=01 rm=101 (r13), disp8 0 */
		unsigned tail = has_modrm ? (zi->raw.disp.size ? zi->raw.disp.offset + disp_size
				: has_sib ? zi->raw.sib.offset + 1u : zi->raw.modrm.offset + 1u)
			      : zi->raw.disp.offset + disp_size;
		for (unsigned i = tail; i < zi->length; i++)
			b1(e, bytes[i]);
		if (via_esi) {
			b1(e, 0x4C); b1(e, 0x89); b1(e, 0xF6);      /* mov rsi,r14 */
		}
		return !e->overflow;
	}

	EMIT_PREFIXES();
	if (is_mem && !is_lea)
		b1(e, 0x65);
	if (is_mem)
		b1(e, 0x67);

	/* inc/dec r32 short forms */
	uint8_t op0 = bytes[npfx];
	if (!new_opcode && !has_modrm && op0 >= 0x40 && op0 <= 0x4F) {
		int r = op0 & 7;
		if (r == R_ESP)
			rex |= 0x41;
		if (rex)
			b1(e, rex);
		b1(e, 0xFF);
		b1(e, (uint8_t)(0xC0 | ((op0 >= 0x48 ? 1 : 0) << 3) | r));
		return !e->overflow;
	}
	if (rex)
		b1(e, rex);
	if (new_opcode)
		for (int i = 0; i < new_opc_len; i++) b1(e, new_opcode[i]);
	else
		for (unsigned i = npfx; i < opc_end; i++)
			b1(e, i == npfx && bytes[i] == 0x82 ? 0x80 : bytes[i]); /* 0x82: alias of 0x80 */

	if (!has_modrm) {
		for (unsigned i = opc_end; i < zi->length; i++)
			b1(e, bytes[i]);
		return !e->overflow;
	}
	int32_t d = disp + (is_mem ? disp_adjust : 0);
	if (mod != 3 && rm == 5 && mod == 0) {
		/* absolute disp32: SIB form with no base and no index */
		b1(e, (uint8_t)(0x04 | (reg << 3)));
		b1(e, 0x25);
		b4(e, (uint32_t)d);
	} else {
		uint8_t m = mod;
		if (mod != 3 && disp_adjust) {
			if (m == 0 && !(has_sib && (sib & 7) == 5))
				m = 2;
			else if (m == 1 && (d < -128 || d > 127))
				m = 2;
		}
		b1(e, (uint8_t)((m << 6) | (reg << 3) | rm));
		if (has_sib)
			b1(e, sib);
		if (m == 1)
			b1(e, (uint8_t)d);
		else if (m == 2 || (m == 0 && has_sib && (sib & 7) == 5))
			b4(e, (uint32_t)d);
	}
	unsigned tail = zi->raw.disp.size ? zi->raw.disp.offset + disp_size
		      : has_sib ? zi->raw.sib.offset + 1u : zi->raw.modrm.offset + 1u;
	for (unsigned i = tail; i < zi->length; i++)
		b1(e, bytes[i]);
	return !e->overflow;
}

/* mov r13d, r/m32 of `in` (its ModRM operand), for push r/m, jmp/call r/m. */
static bool emit_load_rm_r13(struct bt *bt, struct emit *e, const struct insn *in, int32_t disp_adjust)
{
	static const uint8_t mov_load[1] = { 0x8B };
	if (in->zi.raw.modrm.mod == 3) {
		/* register operand: mov r13d, reg */
		int src = host_reg(in->zi.raw.modrm.rm);
		b1(e, (uint8_t)(0x44 | (src >= 8 ? 1 : 0)));
		b1(e, 0x8B);
		b1(e, (uint8_t)(0xC0 | (5 << 3) | (src & 7)));
		return !e->overflow;
	}
	return emit_fixed(bt, e, in, mov_load, 1, H_R13, disp_adjust);
}

/* A callout to the C emulator with the instruction decoded once, here. */
static void emit_emulate_insn(struct bt *bt, struct emit *e, const struct insn *in)
{
	int idx = tcache_keep_insn(&bt->tc, in);
	if (idx < 0)
		emit_callout(e, bt_co_emulate_at, in->eip); /* cannot happen: room is reserved */
	else
		emit_callout(e, bt_co_emulate, (uint32_t)idx);
}
#define emit_emulate(e, eip, ends) emit_emulate_insn(bt, (e), in)

/* ---- privilege transfers that stay in translated code: INT n, IRET,
 * SYSENTER, SYSEXIT.  The emulator does the transfer with every check of
 * the SDM (gate type and DPL, the TSS stack, IRET's RPL and segment
 * checks: exceptions.c, emulate.c, gates.c); then, instead of leaving for
 * the dispatcher (an FXSAVE/FXRSTOR pair each way and a block lookup),
 * the callout selects the view and the inline lookup table of the new CPL
 * and returns into the block, whose last bytes jump to cpu->eip through
 * that table (a miss exits to the dispatcher as any indirect branch
 * does).  Whatever the dispatcher must see first makes it leave as
 * before. ---- */
static bool xfer_insn(const struct insn *in)
{
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
		return true;
	default:
		return false;
	}
}

static int co_xfer(struct bt_cpu *c, uint32_t idx)
{
	struct bt *bt = bt_of(c);
	struct tcache *tc = &bt->tc;
	uint64_t gen = tc->generation, inval = tc->invalidations;
	if (bt_co_emulate(c, idx) == 0) {
		/* did not transfer: on to the next instruction */
		const struct insn *in = &tc->emul[idx];
		c->eip = in->eip + in->len;
		return 0;
	}
	/* Back to the dispatcher for: an exception to deliver, a shutdown or
	 * error; translations dropped under this block (a task switch, a new
	 * segment base); a single step (TF), an interrupt shadow or a
	 * one-instruction translation next; an interrupt the new IF lets in;
	 * a stop; ring 3 that --user-exec direct may run (not a page it
	 * refused or gave up on: those stay translated). */
	if (bt->exit != BX_DISPATCH || tc->generation != gen || tc->invalidations != inval ||
	    (c->eflags & EFLAGS_TF) || c->irq_shadow || bt->single_next || bt->smc_step ||
	    bt->mmio_step || bt->vm->stop ||
	    ((c->eflags & EFLAGS_IF) && (bt->want_irq_window || c->irq_pend)) ||
	    (bt->dx && c->cpl == 3 && !bt_direct_page_refused(bt, c->eip)))
		return 1;
	c->lookup = (uint64_t)(uintptr_t)tc->ibl[c->cpl != 0];
	bt_select_view(bt);
	bt->st.fast_xfers++;
	return 0;
}

/* The transfer's callout, then `mov r13d,[r15+EIP]` and the inline lookup. */
static void emit_xfer(struct bt *bt, struct emit *e, const struct insn *in)
{
	int idx = tcache_keep_insn(&bt->tc, in);
	if (idx < 0) {
		emit_callout(e, bt_co_emulate_at, in->eip); /* cannot happen: room is reserved */
		emit_exit(e, in->eip + in->len);
		return;
	}
	emit_callout(e, co_xfer, (uint32_t)idx);
	b1(e, 0x45); b1(e, 0x8B); b1(e, 0x6F); b1(e, CPU_OFF_EIP);  /* mov r13d,[r15+EIP] */
	emit_exit_r13(e);
}


/* ---- inline sensitive instructions (CPL 0): the virtual IF and the other
 * virtual flags live in cpu->vif / cpu->vflags while translated code runs
 * (split from cpu->eflags on entry, merged back on every exit). ---- */

static uint8_t *emit_jcc32(struct emit *e, uint8_t cc)
{
	b1(e, 0x0F); b1(e, (uint8_t)(0x80 | cc)); b4(e, 0);
	return e->p - 4;
}
static uint8_t *emit_jmp32(struct emit *e)
{
	b1(e, 0xE9); b4(e, 0);
	return e->p - 4;
}
static void patch32(struct emit *e, uint8_t *at)
{
	if (e->overflow)
		return;
	int32_t rel = (int32_t)(e->p - (at + 4));
	memcpy(at, &rel, 4);
}
/* mov dword [r15+CPU_OFF_EIP], eip ; jmp [r15+CPU_OFF_EXIT_FN]: an exit
 * that is never chained (the dispatcher must look at the state). */
static void emit_exit_unchained(struct emit *e, uint32_t eip)
{
	b1(e, 0x41); b1(e, 0xC7); b1(e, 0x47); b1(e, CPU_OFF_EIP); b4(e, eip);
	b1(e, 0x41); b1(e, 0xFF); b1(e, 0x67); b1(e, CPU_OFF_EXIT_FN);
}

/* cli: mov dword [r15+VIF], 0 */
static void emit_cli(struct emit *e)
{
	b1(e, 0x41); b1(e, 0xC7); b1(e, 0x47); b1(e, CPU_OFF_VIF); b4(e, 0);
}

/* sti: if no interrupt is waiting, set VIF inline (the one-instruction
 * shadow cannot matter then); otherwise the emulator does it, with the
 * shadow, through the dispatcher. */
static void emit_sti(struct bt *bt, struct emit *e, const struct insn *in, uint32_t next)
{
	b1(e, 0x9C);                                                  /* pushfq */
	b1(e, 0x41); b1(e, 0x83); b1(e, 0x7F); b1(e, CPU_OFF_IRQ_PEND); b1(e, 0); /* cmp [pend],0 */
	uint8_t *slow = emit_jcc32(e, 0x5);                           /* jnz slow */
	b1(e, 0x9D);                                                  /* popfq */
	b1(e, 0x41); b1(e, 0xC7); b1(e, 0x47); b1(e, CPU_OFF_VIF); b4(e, 0x200);
	uint8_t *done = emit_jmp32(e);
	patch32(e, slow);
	b1(e, 0x9D);
	emit_emulate_insn(bt, e, in);
	emit_exit_unchained(e, next);
	patch32(e, done);
}

/* pushfd: host arithmetic flags + DF, the virtual bits, bit 1. */
static void emit_pushf(struct emit *e)
{
	b1(e, 0x9C);                                                  /* pushfq */
	b1(e, 0x4C); b1(e, 0x8B); b1(e, 0x2C); b1(e, 0x24);           /* mov r13,[rsp] */
	b1(e, 0x41); b1(e, 0x81); b1(e, 0xE5); b4(e, EFLAGS_HOST_MASK); /* and r13d,mask */
	b1(e, 0x45); b1(e, 0x0B); b1(e, 0x6F); b1(e, CPU_OFF_VFLAGS); /* or r13d,[vflags] */
	b1(e, 0x45); b1(e, 0x0B); b1(e, 0x6F); b1(e, CPU_OFF_VIF);    /* or r13d,[vif] */
	b1(e, 0x41); b1(e, 0x83); b1(e, 0xCD); b1(e, 0x02);           /* or r13d,2 */
	emit_store_stack_reg(e, H_R13, -4);
	emit_adjust_esp(e, -4);
	b1(e, 0x9D);                                                  /* popfq */
}

/* popfd: inline when only the arithmetic flags, DF and IF change (the
 * common case: restoring a saved IF); anything else goes to the emulator.
 * Setting IF with an interrupt waiting leaves for the dispatcher right
 * after the popf (POPF has no interrupt shadow). */
static void emit_popf(struct bt *bt, struct emit *e, const struct insn *in, uint32_t next)
{
	emit_load_stack(e, H_R13);                                    /* r13d = [esp] */
	b1(e, 0x45); b1(e, 0x89); b1(e, 0xEE);                        /* mov r14d,r13d */
	b1(e, 0x41); b1(e, 0x81); b1(e, 0xE6); b4(e, EFLAGS_VIRT_MASK);/* and r14d,virt */
	b1(e, 0x45); b1(e, 0x3B); b1(e, 0x77); b1(e, CPU_OFF_VFLAGS); /* cmp r14d,[vflags] */
	uint8_t *slow = emit_jcc32(e, 0x5);                           /* jne slow */
	b1(e, 0x45); b1(e, 0x89); b1(e, 0xEE);                        /* mov r14d,r13d */
	b1(e, 0x41); b1(e, 0x81); b1(e, 0xE6); b4(e, EFLAGS_IF);      /* and r14d,IF */
	b1(e, 0x45); b1(e, 0x89); b1(e, 0x77); b1(e, CPU_OFF_VIF);    /* mov [vif],r14d */
	b1(e, 0x45); b1(e, 0x85); b1(e, 0xF6);                        /* test r14d,r14d */
	uint8_t *ok = emit_jcc32(e, 0x4);                             /* jz ok */
	b1(e, 0x41); b1(e, 0x83); b1(e, 0x7F); b1(e, CPU_OFF_IRQ_PEND); b1(e, 0);
	uint8_t *pend = emit_jcc32(e, 0x5);                           /* jnz pend */
	patch32(e, ok);
	emit_adjust_esp(e, 4);
	b1(e, 0x41); b1(e, 0x81); b1(e, 0xE5); b4(e, EFLAGS_HOST_MASK);
	b1(e, 0x41); b1(e, 0x55);                                     /* push r13 */
	b1(e, 0x9D);                                                  /* popfq */
	uint8_t *done = emit_jmp32(e);
	patch32(e, pend);
	emit_adjust_esp(e, 4);
	b1(e, 0x41); b1(e, 0x81); b1(e, 0xE5); b4(e, EFLAGS_HOST_MASK);
	b1(e, 0x41); b1(e, 0x55);
	b1(e, 0x9D);
	emit_exit_unchained(e, next);
	patch32(e, slow);
	emit_emulate_insn(bt, e, in);
	uint8_t *done2 = emit_jmp32(e);
	patch32(e, done);
	patch32(e, done2);
}

static uint32_t rel_target(const struct insn *in, uint32_t eip)
{
	return eip + in->len + (uint32_t)in->zi.raw.imm[0].value.s;
}

/* Translates the instruction at eip; returns false when the block must end
 * after it. */
/* EDI (h = H_RDI; or ESI) += size, or -= size when DF=1, without touching
 * the arithmetic flags (they hold SCAS's result): DF comes out of RFLAGS
 * with PEXT (BMI2), and EDI + size*(1 - 2*DF) = EDI + (~(2*size*DF)) +
 * size + 1.  Clobbers r13, r14. */
static void emit_index_step(struct emit *e, unsigned size, int h)
{
	static const uint8_t sib_scale[9] = { [1] = 0x6D, [2] = 0xAD, [4] = 0xED };
	b1(e, 0x9C);                                         /* pushfq */
	b1(e, 0x41); b1(e, 0x5D);                            /* pop r13 */
	b1(e, 0x41); b1(e, 0xBE); b4(e, EFLAGS_DF);           /* mov r14d, DF mask */
	b1(e, 0xC4); b1(e, 0x42); b1(e, 0x12); b1(e, 0xF5); b1(e, 0xEE); /* pext r13d, r13d, r14d */
	b1(e, 0x46); b1(e, 0x8D); b1(e, 0x34); b1(e, sib_scale[size]); b4(e, 0); /* lea r14d, [r13*2size] */
	b1(e, 0x41); b1(e, 0xF7); b1(e, 0xD6);               /* not r14d */
	b1(e, 0x42); b1(e, 0x8D); b1(e, (uint8_t)(0x44 | (h << 3))); b1(e, (uint8_t)(0x30 | h));
	b1(e, (uint8_t)(size + 1));                          /* lea edi, [rdi+r14+size+1] */
}

/* LODS, STOS, SCAS without REP, 32-bit addresses, through segments with
 * base 0 (the DS/ES bases are constants of the block): translated instead
 * of a callout each (Linux's i386 string functions run millions of them).
 * LODS is the host's own, GS-overridden (DS:ESI can be overridden); STOS
 * and SCAS use ES:EDI, which cannot, so they become a store / compare
 * through gs:[edi] and a flag-free EDI step.  The register scheme has no
 * segment to override: LODS too becomes a load from [r9 + rsi] and an ESI
 * step (ESI and EDI hold zero-extended addresses).  Faults leave ESI/EDI
 * as they were, as on the CPU. */
static bool emit_string_inline(struct bt *bt, struct emit *e, const struct insn *in)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	if (!bt->host_bmi2 || zi->address_width != 32 ||
	    (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE |
			       ZYDIS_ATTRIB_HAS_LOCK)))
		return false;
	unsigned size = zi->operand_width / 8;
	uint8_t o16 = size == 2;
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD: {
		const ZydisDecodedOperand *src = mem_operand(in);
		int si = src ? seg_index(src->mem.segment) : S_DS;
		if (si == S_FS || si == S_GS || bt->cpu.seg[si].base)
			return false;
		if (o16)
			b1(e, 0x66);
		if (e->vreg) {
			/* mov al/ax/eax, [r9+rsi] */
			b1(e, 0x41); b1(e, size == 1 ? 0x8A : 0x8B); b1(e, 0x04); b1(e, 0x31);
			emit_index_step(e, size, H_RSI);
			return !e->overflow;
		}
		b1(e, 0x65); b1(e, 0x67); b1(e, size == 1 ? 0xAC : 0xAD);
		return !e->overflow;
	}
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD: {
		if (bt->cpu.seg[S_ES].base)
			return false;
		bool stos = zi->mnemonic == ZYDIS_MNEMONIC_STOSB || zi->mnemonic == ZYDIS_MNEMONIC_STOSW ||
			    zi->mnemonic == ZYDIS_MNEMONIC_STOSD;
		if (o16)
			b1(e, 0x66);
		/* mov gs:[edi], al/ax/eax  or  cmp al/ax/eax, gs:[edi]
		 * (register scheme: [r9 + rdi]) */
		if (e->vreg)
			b1(e, 0x41);
		else
			b1(e, 0x65), b1(e, 0x67);
		b1(e, stos ? (size == 1 ? 0x88 : 0x89) : (size == 1 ? 0x3A : 0x3B));
		if (e->vreg)
			b1(e, 0x04), b1(e, 0x39);
		else
			b1(e, 0x07);
		emit_index_step(e, size, H_RDI);
		return !e->overflow;
	}
	default:
		return false;
	}
}

static bool translate_one(struct bt *bt, struct emit *e, const struct insn *in, uint32_t eip, bool last)
{
	uint32_t next = eip + in->len;
	struct tcache *tc = &bt->tc;

	if (insn_fpu_fault(in, bt->cpu.cr0) >= 0) {
		emit_emulate(e, eip, true);  /* raises #NM or #UD as CR0 says */
		return false;
	}
	if (in->cls == IC_COPY && bt->n_mmio_eips && bt_mmio_eip_known(bt, eip) && mem_operand(in)) {
		/* adaptive translation: this one touched MMIO before (mmio.c) */
		int idx = tcache_keep_insn(tc, in);
		if (idx >= 0) {
			emit_callout(e, bt_co_mmio, (uint32_t)idx);
			if (last)
				emit_exit(e, next);
			return true;
		}
	}
	if (bt->cpu.cpl == 0) {
		bool op32 = in->zi.operand_width == 32;
		switch (in->zi.mnemonic) {
		case ZYDIS_MNEMONIC_CLI:
			emit_cli(e);
			goto inline_done;
		case ZYDIS_MNEMONIC_STI:
			if (last)  /* the next block's entry polls: emulate, with the STI shadow */
				break;
			emit_sti(bt, e, in, next);
			goto inline_done;
		case ZYDIS_MNEMONIC_PUSHFD:
			if (!op32)
				break;
			emit_pushf(e);
			goto inline_done;
		case ZYDIS_MNEMONIC_POPFD:
			if (!op32)
				break;
			emit_popf(bt, e, in, next);
			goto inline_done;
		default:
			break;
		}
	}
	switch (in->cls) {
	case IC_COPY:
		if (!emit_fixed(bt, e, in, NULL, 0, -1, 0)) {
			emit_emulate(e, eip, true);
			return false;
		}
		tc->copied_insns++;
		if (last)
			emit_exit(e, next);
		return true;
	case IC_PUSH: {
		const ZydisDecodedOperand *op = &in->ops[0];
		if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			emit_store_stack_imm(e, (uint32_t)op->imm.value.s, -4);
		} else if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegister r = op->reg.value;
			if (ZydisRegisterGetClass(r) != ZYDIS_REGCLASS_GPR32) {
				emit_emulate(e, eip, true);
				return false;
			}
			emit_store_stack_reg(e, host_reg(ZydisRegisterGetId(r)), -4);
		} else {
			if (!emit_load_rm_r13(bt, e, in, 0)) {
				emit_emulate(e, eip, true);
				return false;
			}
			emit_store_stack_reg(e, H_R13, -4);
		}
		emit_adjust_esp(e, -4);
		if (last)
			emit_exit(e, next);
		return true;
	}
	case IC_POP: {
		const ZydisDecodedOperand *op = &in->ops[0];
		if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegister r = op->reg.value;
			if (ZydisRegisterGetClass(r) != ZYDIS_REGCLASS_GPR32) {
				emit_emulate(e, eip, true);
				return false;
			}
			int g = ZydisRegisterGetId(r);
			emit_load_stack(e, host_reg(g));
			if (g != R_ESP)
				emit_adjust_esp(e, 4); /* pop esp: ESP = the value read */
		} else {
			/* pop r/m32: the address is computed with ESP already
			 * incremented (SDM POP); store first, then move ESP. */
			static const uint8_t mov_store[1] = { 0x89 };
			/* the value in R8: R13 may carry a folded address */
			emit_load_stack(e, H_R8);
			int32_t adj = 0;
			if (in->zi.raw.modrm.mod != 3 && in->zi.raw.modrm.rm == 4 &&
			    (in->bytes[in->zi.raw.sib.offset] & 7) == 4)
				adj = 4;
			if (in->zi.raw.modrm.mod == 3) {
				int dst = host_reg(in->zi.raw.modrm.rm);
				b1(e, (uint8_t)(0x44 | (dst >= 8 ? 1 : 0)));
				b1(e, 0x89);
				b1(e, (uint8_t)(0xC0 | (0 << 3) | (dst & 7)));  /* mov dst, r8d */
			} else if (!emit_fixed(bt, e, in, mov_store, 1, H_R8, adj)) {
				emit_emulate(e, eip, true);
				return false;
			}
			emit_adjust_esp(e, 4);
		}
		if (last)
			emit_exit(e, next);
		return true;
	}
	case IC_LEAVE:
		/* mov r13d, gs:[ebp] ; lea r12d, [rbp+4] ; mov ebp, r13d
		 * (register scheme: mov r13d, [r9+rbp]) */
		if (e->vreg) {
			b1(e, 0x45); b1(e, 0x8B); b1(e, 0x2C); b1(e, 0x29);
		} else {
			b1(e, 0x65); b1(e, 0x67); b1(e, 0x44); b1(e, 0x8B); b1(e, 0x6D); b1(e, 0x00);
		}
		b1(e, 0x44); b1(e, 0x8D); b1(e, 0x65); b1(e, 0x04);
		b1(e, 0x44); b1(e, 0x89); b1(e, 0xED);
		if (last)
			emit_exit(e, next);
		return true;
	case IC_JMP_REL:
		emit_exit(e, rel_target(in, eip));
		return false;
	case IC_CALL_REL:
		emit_store_stack_imm(e, next, -4);
		emit_adjust_esp(e, -4);
		emit_exit(e, rel_target(in, eip));
		return false;
	case IC_JMP_IND:
		if (!emit_load_rm_r13(bt, e, in, 0)) {
			emit_emulate(e, eip, true);
			return false;
		}
		emit_exit_r13(e);
		return false;
	case IC_CALL_IND:
		if (!emit_load_rm_r13(bt, e, in, 0)) {
			emit_emulate(e, eip, true);
			return false;
		}
		emit_store_stack_imm(e, next, -4);
		emit_adjust_esp(e, -4);
		emit_exit_r13(e);
		return false;
	case IC_RET: {
		int32_t extra = in->zi.operand_count_visible ? (int32_t)(uint16_t)in->ops[0].imm.value.u : 0;
		emit_load_stack(e, H_R13);
		emit_adjust_esp(e, 4 + extra);
		emit_exit_r13(e);
		return false;
	}
	case IC_JCC: {
		uint32_t target = rel_target(in, eip);
		uint8_t op0 = in->bytes[in->zi.raw.prefix_count];
		uint8_t op1 = in->bytes[in->zi.raw.prefix_count + 1];
		if (op0 >= 0xE0 && op0 <= 0xE3) {
			/* loop, loope, loopne, jecxz: their 0x67 forms use ECX; rel8 over a short jmp */
			b1(e, 0x67); b1(e, op0); b1(e, 0x02);   /* → taken (+2) */
			b1(e, 0xEB); b1(e, 12);                  /* → not taken */
			emit_exit(e, target);                   /* 12 bytes */
			emit_exit(e, next);
			return false;
		}
		uint8_t cc = op0 == 0x0F ? (uint8_t)(op1 & 0x0F) : (uint8_t)(op0 & 0x0F);
		b1(e, 0x0F); b1(e, (uint8_t)(0x80 | cc)); b4(e, 12);  /* jcc → taken */
		emit_exit(e, next);
		emit_exit(e, target);
		return false;
	}
	case IC_EMULATE:
		if (emit_string_inline(bt, e, in)) {
			if (last)
				emit_exit(e, next);
			return !last;
		}
		if (!e->single && xfer_insn(in)) {
			emit_xfer(bt, e, in);
			return false;
		}
		emit_emulate(e, eip, true);
		/* Instructions that do not change control flow or the
		 * translation assumptions continue in the block. */
		if (!in->ends_block || last) {
			emit_exit(e, next);
			return false;
		}
		emit_exit(e, next);
		return false;
	case IC_INVALID:
	default:
		emit_emulate(e, eip, true);
		return false;
	}
inline_done:
	if (last)
		emit_exit(e, next);
	return !last;
}

/* Fetches up to `want` bytes of guest code at linear eip, page by page,
 * stopping (without raising anything) at a page that does not translate or
 * lies outside RAM.  frames[0]/[1] get the frames of the first and last
 * byte fetched. */
static size_t fetch(struct bt *bt, uint32_t eip, uint8_t *buf, size_t want, uint32_t frames[2])
{
	size_t n = 0;
	const struct phys_mem *pm = &bt->vm->mem.phys;
	while (n < want) {
		uint32_t lin = eip + (uint32_t)n, pa;
		enum bt_exit_reason saved = bt->exit;
		int vec = bt->exc_vector;
		uint32_t err = bt->exc_error, cr2 = bt->cpu.cr2;
		bool has = bt->exc_has_error;
		if (!bt_lin_to_phys(bt, lin, PW_FETCH, &pa) || pa >= pm->size) {
			/* not a fault yet: only if execution gets there */
			bt->exit = saved;
			bt->exc_vector = vec;
			bt->exc_error = err;
			bt->exc_has_error = has;
			bt->cpu.cr2 = cr2;
			break;
		}
		size_t chunk = 4096 - (lin & 0xfff);
		if (chunk > want - n)
			chunk = want - n;
		if (pa + chunk > pm->size)
			chunk = pm->size - pa;
		memcpy(buf + n, pm->base + pa, chunk);
		if (n == 0)
			frames[0] = pa >> 12;
		frames[1] = (uint32_t)((pa + chunk - 1) >> 12);
		n += chunk;
	}
	return n;
}

/* For the emulator: the bytes of the instruction at eip; 0 with the fetch
 * fault raised (#PF) or an error set when not even one byte is there. */
size_t bt_fetch(struct bt *bt, uint32_t eip, uint8_t *buf, size_t want)
{
	uint32_t frames[2];
	size_t n = fetch(bt, eip, buf, want, frames);
	if (n == 0) {
		uint32_t pa;
		if (bt_lin_to_phys(bt, eip, PW_FETCH, &pa))
			bt_unsupported(bt, "instruction fetch at %#x (physical %#x), outside RAM: not "
				       "supported by bt yet", eip, pa);
	}
	return n;
}

/* Is lin mapped through a global entry (G with CR4.PGE)?  Such a
 * translation survives CR3 loads, and so do blocks translated from it. */
static bool lin_global(struct bt *bt, uint32_t lin)
{
	const struct bt_cpu *c = &bt->cpu;
	if (!(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PGE))
		return false;
	struct pw_request rq = { c->cr0, c->cr3, c->cr4, lin, PW_READ, false, false, (c->efer & EFER_NXE) != 0, true };
	struct pw_result r;
	pw_walk(&bt->vm->mem.phys, &rq, &r);
	return r.ok && r.global;
}

struct bt_block *bt_translate(struct bt *bt, uint32_t eip, uint32_t mode)
{
	struct tcache *tc = &bt->tc;
	unsigned max_insns = (mode & TM_SINGLE) ? 1 : TC_MAX_INSNS;
	struct bt_block *b = tcache_alloc(tc, 64 * 1024, max_insns);
	if (!b) {
		tcache_flush(tc);
		b = tcache_alloc(tc, 64 * 1024, max_insns);
	}
	b->eip = eip;
	b->mode = mode;
	struct emit e = { b->code, b->code + 64 * 1024, false, (mode & TM_SINGLE) != 0, bt->views == BT_VIEWS_REG };
	emit_poll(&e, tc->poll);
	uint32_t pc = eip;
	b->page0 = b->page1 = UINT32_MAX;
	for (unsigned i = 0; i < max_insns; i++) {
		uint8_t buf[16];
		uint32_t frames[2];
		size_t got = fetch(bt, pc, buf, 15, frames);
		struct insn in;
		bool need_more = false;
		bool ok = got && decoder_decode(&bt->dec, buf, got, &in, &need_more);
		if (!ok && (got == 0 || need_more)) {
			/* The fetch itself faults (or runs out of RAM) at pc or in
			 * the instruction's tail: at the block start that is the
			 * guest's fault now; later, the block ends before it. */
			if (i > 0) {
				emit_exit(&e, pc);
				break;
			}
			uint32_t pa;
			uint32_t bad = pc + (uint32_t)got;
			if (bt_lin_to_phys(bt, bad, PW_FETCH, &pa))
				bt_unsupported(bt, "instruction fetch at %#x (physical %#x), outside RAM: not "
					       "supported by bt yet", bad, pa);
			return NULL; /* nothing committed: the block is reused */
		}
		b->host_off[i] = (uint16_t)(e.p - b->code);
		b->n_insns = (uint16_t)(i + 1);
		if (b->page0 == UINT32_MAX)
			b->page0 = frames[0];
		if (!ok) {
			/* undecodable: #UD when (and only if) execution gets here */
			b->insn_len[i] = 1;
			b->page1 = frames[0];
			emit_callout(&e, bt_co_emulate_at, pc);
			pc += 1;
			break;
		}
		b->insn_len[i] = in.len;
		in.eip = pc;
		{
			uint32_t last_frames[2];
			uint8_t tmp[16];
			fetch(bt, pc + in.len - 1, tmp, 1, last_frames);
			b->page1 = last_frames[0];
		}
		bool last = i + 1 == max_insns || ((pc + in.len) & 0xfff) == 0 ||
			    (((pc + in.len) ^ pc) & ~0xfffu) != 0;
		bool cont = translate_one(bt, &e, &in, pc, last);
		pc += in.len;
		if (!cont)
			break;
	}
	b->host_off[b->n_insns] = (uint16_t)(e.p - b->code);
	b->guest_len = pc - eip;
	b->lpage0 = eip >> 12;
	b->lpage1 = (pc - 1) >> 12;
	b->global = lin_global(bt, b->lpage0 << 12) && lin_global(bt, b->lpage1 << 12);
	tcache_commit(tc, b, (size_t)(e.p - b->code));
	if (!bt->smc_step) {
		bt_views_protect_code(bt, (uint64_t)b->page0 << 12);
		bt_views_protect_code(bt, (uint64_t)b->page1 << 12);
	}
	return b;
}
