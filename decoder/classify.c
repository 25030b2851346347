/* Classification of decoded guest instructions (32-bit protected mode,
 * ring 0).  Everything that is sensitive in the Popek-Goldberg sense —
 * privileged or not — is IC_EMULATE; so is everything that behaves
 * differently in 64-bit mode (SDM Vol. 2, Appendix A "opcodes invalid in
 * 64-bit mode": push/pop of segment registers, BCD, pusha/popa, bound,
 * arpl, les/lds, into, far call/jmp ptr16:32, salc, 0x82) or that uses
 * implicit segments we cannot override (string instructions use ES:EDI). */
#include "decoder/decoder.h"
#include <stdio.h>
#include <string.h>

void decoder_init(struct guest_decoder *d)
{
	ZydisDecoderInit(&d->d32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
}

const char *insn_class_name(enum insn_class c)
{
	static const char *const n[] = { "copy", "jcc", "jmp", "call", "jmp-ind", "call-ind",
					 "ret", "push", "pop", "leave", "emulate", "invalid" };
	return c <= IC_INVALID ? n[c] : "?";
}

static bool uses_segment_or_sysreg(const struct insn *in)
{
	for (unsigned i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegisterClass rc = ZydisRegisterGetClass(op->reg.value);
			if (rc == ZYDIS_REGCLASS_SEGMENT || rc == ZYDIS_REGCLASS_CONTROL ||
			    rc == ZYDIS_REGCLASS_DEBUG || rc == ZYDIS_REGCLASS_TEST ||
			    rc == ZYDIS_REGCLASS_TABLE)
				return true;
		}
	}
	return false;
}

static bool is_fpu(const ZydisDecodedInstruction *zi)
{
	if (zi->mnemonic == ZYDIS_MNEMONIC_FWAIT)
		return true;
	switch (zi->meta.isa_ext) {
	case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX: case ZYDIS_ISA_EXT_SSE:
	case ZYDIS_ISA_EXT_SSE2: case ZYDIS_ISA_EXT_SSE3: case ZYDIS_ISA_EXT_SSSE3:
	case ZYDIS_ISA_EXT_SSE4: case ZYDIS_ISA_EXT_SSE4A:
		return true;
	default:
		return false;
	}
}

static enum insn_class classify(struct insn *in)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	/* 16-bit addressing (0x67 in 32-bit code) has another ModRM meaning:
	 * the translator computes such an address into a scratch register for
	 * the ALU/data instructions it copies; everything else goes to C. */
	bool addr16 = zi->address_width != 32;
	if (uses_segment_or_sysreg(in))
		return IC_EMULATE;
	bool op32 = zi->operand_width == 32;
	if (addr16) {
		/* only the copy path understands 16-bit addresses */
		switch (zi->mnemonic) {
		case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JL:
		case ZYDIS_MNEMONIC_JLE: case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JNBE:
		case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JNLE: case ZYDIS_MNEMONIC_JNO:
		case ZYDIS_MNEMONIC_JNP: case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JNZ:
		case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JS:
		case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_CALL:
		case ZYDIS_MNEMONIC_RET: case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_POP:
		case ZYDIS_MNEMONIC_LEAVE: case ZYDIS_MNEMONIC_JECXZ: case ZYDIS_MNEMONIC_JCXZ:
		case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
			return IC_EMULATE;
		default:
			break;
		}
	}
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JL:
	case ZYDIS_MNEMONIC_JLE: case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JNBE:
	case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JNLE: case ZYDIS_MNEMONIC_JNO:
	case ZYDIS_MNEMONIC_JNP: case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JNZ:
	case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JS:
	case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JECXZ: case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
		return op32 ? IC_JCC : IC_EMULATE;  /* 0x66 jcc truncates EIP */
	case ZYDIS_MNEMONIC_JCXZ:
		return IC_EMULATE;
	case ZYDIS_MNEMONIC_JMP:
		if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR || !op32)
			return IC_EMULATE;
		return in->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? IC_JMP_REL : IC_JMP_IND;
	case ZYDIS_MNEMONIC_CALL:
		if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR || !op32)
			return IC_EMULATE;
		return in->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? IC_CALL_REL : IC_CALL_IND;
	case ZYDIS_MNEMONIC_RET:
		if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR || !op32)
			return IC_EMULATE;
		return IC_RET;
	case ZYDIS_MNEMONIC_PUSH:
		return op32 ? IC_PUSH : IC_EMULATE;
	case ZYDIS_MNEMONIC_POP:
		return op32 ? IC_POP : IC_EMULATE;
	case ZYDIS_MNEMONIC_LEAVE:
		return op32 ? IC_LEAVE : IC_EMULATE;
	/* sensitive or privileged */
	case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI: case ZYDIS_MNEMONIC_PUSHFD:
	case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_POPF:
	case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_INT:
	case ZYDIS_MNEMONIC_INT3: case ZYDIS_MNEMONIC_INTO: case ZYDIS_MNEMONIC_INT1:
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT: case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_LTR: case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT:
	case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR: case ZYDIS_MNEMONIC_SMSW:
	case ZYDIS_MNEMONIC_LMSW: case ZYDIS_MNEMONIC_CLTS: case ZYDIS_MNEMONIC_LAR:
	case ZYDIS_MNEMONIC_LSL: case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW:
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_INVD: case ZYDIS_MNEMONIC_WBINVD:
	case ZYDIS_MNEMONIC_CPUID: case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR:
	case ZYDIS_MNEMONIC_RDTSC: case ZYDIS_MNEMONIC_RDTSCP: case ZYDIS_MNEMONIC_RDPMC:
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT: case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1:
	case ZYDIS_MNEMONIC_STAC: case ZYDIS_MNEMONIC_CLAC: /* EFLAGS.AC is virtual */
	/* host-mode instructions: run natively they would reach the host
	 * (SYSCALL is a real host system call from 64-bit code) */
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET: case ZYDIS_MNEMONIC_SWAPGS:
	case ZYDIS_MNEMONIC_RDFSBASE: case ZYDIS_MNEMONIC_RDGSBASE: case ZYDIS_MNEMONIC_WRFSBASE:
	case ZYDIS_MNEMONIC_WRGSBASE: case ZYDIS_MNEMONIC_XLAT:
	/* invalid or different in 64-bit mode */
	case ZYDIS_MNEMONIC_PUSHAD: case ZYDIS_MNEMONIC_POPAD: case ZYDIS_MNEMONIC_PUSHA:
	case ZYDIS_MNEMONIC_POPA: case ZYDIS_MNEMONIC_DAA: case ZYDIS_MNEMONIC_DAS:
	case ZYDIS_MNEMONIC_AAA: case ZYDIS_MNEMONIC_AAS: case ZYDIS_MNEMONIC_AAM:
	case ZYDIS_MNEMONIC_AAD: case ZYDIS_MNEMONIC_BOUND: case ZYDIS_MNEMONIC_ARPL:
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS: case ZYDIS_MNEMONIC_SALC:
	case ZYDIS_MNEMONIC_ENTER:
	/* implicit ES:EDI or memory we cannot re-segment */
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_MASKMOVQ: case ZYDIS_MNEMONIC_MASKMOVDQU:
	/* x87 environment/state images hold FPU CS:EIP as 32-bit pointers */
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FLDENV: case ZYDIS_MNEMONIC_FNSAVE:
	case ZYDIS_MNEMONIC_FRSTOR: case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXRSTOR:
		return IC_EMULATE;
	default:
		break;
	}
	/* Safety of copying: a copied instruction must reach memory only
	 * through operands the translator re-segments (ModRM or moffs, with a
	 * segment that an override prefix can replace).  An implicit memory
	 * operand (XLAT, MASKMOV*, MOVDIR64B, ...) or one fixed to ES by the
	 * hardware would use a raw host address: emulate those (SDM Vol. 1
	 * 3.7.4: ES for string destinations cannot be overridden). */
	for (unsigned i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		if (op->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
			continue;
		if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			return IC_EMULATE;
		if (op->mem.segment == ZYDIS_REGISTER_ES && !(zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_ES))
			return IC_EMULATE;
	}
	/* String-operation SSE forms with SIB-less CMPSD (SSE2 cmpsd) are
	 * ZYDIS_MNEMONIC_CMPSD too; they carry a ModRM, so copy them. */
	/* 0x82 (an alias of 0x80, invalid in 64-bit mode) is re-encoded as
	 * 0x80 by the translator. */
	if (addr16 && !(zi->attributes & ZYDIS_ATTRIB_HAS_MODRM))
		return IC_EMULATE; /* moffs16 */
	/* inc/dec r32 (0x40-0x4F) are REX prefixes in 64-bit mode: the
	 * rewriter re-encodes them as FF /0, /1. */
	return IC_COPY;
}

bool decoder_decode(const struct guest_decoder *d, const uint8_t *buf, size_t avail,
		    struct insn *out, bool *need_more)
{
	*need_more = false;
	memset(&out->zi, 0, sizeof(out->zi));
	ZyanStatus st = ZydisDecoderDecodeFull(&d->d32, buf, avail, &out->zi, out->ops);
	if (!ZYAN_SUCCESS(st)) {
		out->cls = IC_INVALID;
		out->len = 0;
		*need_more = st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15;
		return false;
	}
	out->len = out->zi.length;
	memcpy(out->bytes, buf, out->len);
	out->cls = classify(out);
	out->is_fpu = is_fpu(&out->zi);
	switch (out->cls) {
	case IC_COPY: case IC_PUSH: case IC_POP: case IC_LEAVE:
		out->ends_block = false;
		break;
	default:
		out->ends_block = true;
	}
	return true;
}

void decoder_format(const struct insn *in, uint32_t eip, char *buf, size_t len)
{
	ZydisFormatter f;
	ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
	if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&f, &in->zi, in->ops, in->zi.operand_count_visible,
							   buf, len, eip, ZYAN_NULL)))
		snprintf(buf, len, "(undecodable)");
}

int insn_fpu_fault(const struct insn *in, uint32_t cr0)
{
	const uint32_t MP = 2, EM = 4, TS = 8;
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_FWAIT)
		return (cr0 & TS) && (cr0 & MP) ? 7 : -1;
	if (!in->is_fpu)
		return -1;
	bool x87 = in->zi.meta.isa_ext == ZYDIS_ISA_EXT_X87;
	if (cr0 & EM)
		return x87 ? 7 : 6;
	if (cr0 & TS)
		return 7;
	return -1;
}
