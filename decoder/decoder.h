/* Decoding of guest code with Zydis, and the classification the
 * translator works from.  One decoder per guest code size (32-bit now;
 * 16-bit for real mode later). */
#ifndef BTVM_DECODER_DECODER_H
#define BTVM_DECODER_DECODER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

/* How the translator treats an instruction. */
enum insn_class {
	IC_COPY,        /* runs as is in 64-bit mode after operand fix-ups */
	IC_JCC,         /* conditional relative branch (incl. jecxz, loop*) */
	IC_JMP_REL,     /* direct jump */
	IC_CALL_REL,    /* direct call */
	IC_JMP_IND,     /* jmp r/m32 */
	IC_CALL_IND,    /* call r/m32 */
	IC_RET,         /* ret / ret imm16 */
	IC_PUSH,        /* push r32 / imm / r/m32 (32-bit operand size) */
	IC_POP,         /* pop r32 / r/m32 (32-bit operand size) */
	IC_LEAVE,       /* leave (32-bit) */
	IC_EMULATE,     /* privileged, sensitive, segment-dependent, invalid in
			   64-bit mode, string/stack forms not inlined: done in C */
	IC_INVALID,     /* undecodable: #UD */
};

struct insn {
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	enum insn_class cls;
	uint8_t len;
	uint8_t bytes[16];
	bool ends_block;    /* control transfer or state change that must
			       return to the dispatcher */
	bool is_fpu;        /* x87/MMX/SSE: subject to CR0.TS/EM (#NM) */
	uint32_t eip;       /* where it was decoded (set by the translator) */
};

struct guest_decoder {
	ZydisDecoder d32;
};

void decoder_init(struct guest_decoder *d);
/* Decodes one instruction from buf (avail bytes).  Returns false when the
 * bytes are not a valid instruction (cls = IC_INVALID) or are cut short
 * (then *need_more is set). */
bool decoder_decode(const struct guest_decoder *d, const uint8_t *buf, size_t avail,
		    struct insn *out, bool *need_more);
const char *insn_class_name(enum insn_class c);
/* The exception an FPU/MMX/SSE instruction raises under CR0 (SDM Vol. 3A
 * 2.5 and Table 12-? "Action taken for combinations of EM, MP, TS"):
 * 7 (#NM), 6 (#UD), or -1 for none. */
int insn_fpu_fault(const struct insn *in, uint32_t cr0);
/* Format for messages: "mov eax, [ebx+4]". */
void decoder_format(const struct insn *in, uint32_t eip, char *buf, size_t len);
#endif
