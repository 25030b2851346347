/* The x87/SSE state images: FXSAVE, FXRSTOR, FNSAVE, FRSTOR, FNSTENV,
 * FLDENV.  They run here, in C, because copied as is they would store the
 * host's FPU instruction and data pointers (host addresses) and, for
 * FXSAVE in 64-bit mode, XMM8-15 of the host into bytes 288-415.
 *
 * While a callout runs, the guest's x87 state and MXCSR are live in the
 * host FPU and its XMM0-7 are in cpu->xmm_save (bt/runtime.S), so each
 * instruction runs natively on a buffer here, the XMM part is taken from or
 * put into xmm_save, and the guest sees the 32-bit protected-mode image
 * (SDM Vol. 1 8.1.10 and 10.5.1, Table 10-2).  bt does not track the last
 * x87 instruction's guest CS:EIP and operand pointer: those fields read 0.
 *
 * FXSAVE writes bytes 0-287 only: outside 64-bit mode bytes 288-511 are
 * reserved and the processor leaves them (software, Linux included, keeps
 * its own data at 464-511). */
#include <string.h>
#include "bt/bt.h"
#include "monitor/vm.h"

enum { CONT = 0, LEAVE = 1 };

#define FX_GUEST_BYTES 288       /* legacy header, ST0-7, XMM0-7 */
#define MXCSR_MASK 0xffffu       /* what the image reports (bt_backend.c, fx_guest) */

static int gp0(struct bt *bt, uint32_t eip)
{
	bt->cpu.eip = eip;
	bt_raise(bt, 13, true, 0);
	return LEAVE;
}

static const ZydisDecodedOperand *mem_op(const struct insn *in)
{
	for (unsigned i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    in->ops[i].visibility != ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			return &in->ops[i];
	return NULL;
}

int bt_fpu_state(struct bt *bt, const struct insn *in, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	const ZydisDecodedOperand *op = mem_op(in);
	if (!op)
		return gp0(bt, eip); /* cannot happen: all six take m only */
	uint32_t lin = bt_op_lin(c, op);
	c->eip = eip; /* a fault on the image is at this instruction */
	if (in->zi.operand_width == 16 && in->zi.mnemonic != ZYDIS_MNEMONIC_FXSAVE &&
	    in->zi.mnemonic != ZYDIS_MNEMONIC_FXRSTOR) {
		bt_unsupported(bt, "%s with a 16-bit operand size at %#x (the 16-bit image): not "
			       "emulated by bt yet", ZydisMnemonicGetString(in->zi.mnemonic), eip);
		return LEAVE;
	}
	uint8_t img[512] __attribute__((aligned(16)));
	memset(img, 0, sizeof(img));
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_FXSAVE:
		if (lin & 15)
			return gp0(bt, eip); /* SDM: #GP(0) if not 16-byte aligned */
		__asm__ volatile("fxsave %0" : "=m"(img));
		memset(img + 8, 0, 16);              /* FIP, FCS, FDP, FDS */
		memcpy(img + 160, c->xmm_save, 128);  /* the guest's XMM0-7 */
		return bt_write(bt, lin, img, FX_GUEST_BYTES) ? CONT : LEAVE;
	case ZYDIS_MNEMONIC_FXRSTOR: {
		if (lin & 15)
			return gp0(bt, eip);
		if (!bt_read(bt, lin, img, FX_GUEST_BYTES))
			return LEAVE;
		uint32_t mxcsr;
		memcpy(&mxcsr, img + 24, 4);
		if (mxcsr & ~MXCSR_MASK)
			return gp0(bt, eip); /* reserved MXCSR bits */
		__asm__ volatile("fxrstor %0" : : "m"(img)
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
				   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		memcpy(c->xmm_save, img + 160, 128);  /* back to the guest on return */
		return CONT;
	}
	case ZYDIS_MNEMONIC_FNSAVE:
		__asm__ volatile("fnsave %0" : "=m"(img));  /* also re-initialises the FPU */
		memset(img + 12, 0, 16);
		return bt_write(bt, lin, img, 108) ? CONT : LEAVE;
	case ZYDIS_MNEMONIC_FRSTOR:
		if (!bt_read(bt, lin, img, 108))
			return LEAVE;
		__asm__ volatile("frstor %0" : : "m"(img));
		return CONT;
	case ZYDIS_MNEMONIC_FNSTENV:
		__asm__ volatile("fnstenv %0" : "=m"(img)); /* also masks all x87 exceptions */
		memset(img + 12, 0, 16);
		return bt_write(bt, lin, img, 28) ? CONT : LEAVE;
	case ZYDIS_MNEMONIC_FLDENV:
		if (!bt_read(bt, lin, img, 28))
			return LEAVE;
		__asm__ volatile("fldenv %0" : : "m"(img));
		return CONT;
	default:
		return gp0(bt, eip);
	}
}
