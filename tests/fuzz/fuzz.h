/* Differential fuzzer: what the generator, the native runner and the guest
 * share.  See tests/fuzz/README.md.
 *
 * A "pack" is a header followed by cases.  Each case is one instruction
 * sequence with its initial registers and EFLAGS; the scratch area's
 * initial contents are derived from the seed (fz_scratch_init), so both
 * runners build the same bytes without shipping them.
 *
 * Both runners place the scratch area at FZ_SCRATCH and the code at
 * FZ_CODE, so that every absolute address in a sequence (disp32 operands,
 * return addresses pushed by call) means the same thing on both sides. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>

#define FZ_SCRATCH       0x01000000u  /* 4 KiB of data, ESP in its upper part */
#define FZ_SCRATCH_SIZE  0x1000u
#define FZ_CODE          0x01010000u  /* the sequence, then the runner's tail */
#define FZ_CODE_SIZE     0x2000u
#define FZ_MAX_CODE      0x1f00u      /* room left for the tail */
#define FZ_GUEST_LOAD    0x00100000u  /* the guest image (--flat address) */
#define FZ_PACK_ADDR     0x00110000u  /* the pack, appended to the padded image */
#define FZ_PACK_MAX      (FZ_SCRATCH - FZ_PACK_ADDR)

#define FZ_PACK_MAGIC    0x4b505a46u  /* "FZPK" */

/* pack flags */
#define FZ_PACK_PRIV     1u   /* privileged families: compare against QEMU, not the CPU */

struct fz_pack {
	uint32_t magic;
	uint32_t count;
	uint32_t size;     /* bytes, this header included */
	uint32_t flags;
};

/* One case.  Followed by code[code_len] and undef[code_len + 1], padded to
 * 4 bytes; `size` covers all of it.  undef[off] is the set of status flags
 * (FZ_F_*) whose value the SDM leaves undefined when execution is at
 * instruction offset off (FZ_UNDEF_NOT_INSN when off is not the start of an
 * instruction); undef[code_len] is the set at the end. */
struct fz_case {
	uint32_t size;
	uint32_t seed;
	uint32_t regs[8];  /* EAX ECX EDX EBX ESP EBP ESI EDI */
	uint32_t eflags;
	uint32_t code_len;
	uint32_t flags;    /* FZ_PACK_PRIV when generated for the privileged mode */
	uint32_t reserved;
};

#define FZ_F_CF 0x01u
#define FZ_F_PF 0x02u
#define FZ_F_AF 0x04u
#define FZ_F_ZF 0x08u
#define FZ_F_SF 0x10u
#define FZ_F_OF 0x20u
#define FZ_F_ALL 0x3fu
#define FZ_UNDEF_NOT_INSN 0x80u

/* EFLAGS bits compared: CF PF AF ZF SF OF DF (and, in the privileged mode,
 * IF, IOPL, AC, ID). */
#define FZ_EFLAGS_CMP       0x00000cd5u
#define FZ_EFLAGS_CMP_PRIV  0x00243ed5u

/* What a runner observed.  When faulted, the registers are those at the
 * fault (ESP as it was before the CPU pushed the exception frame) and
 * fault_eip is the EIP the exception frame holds. */
struct fz_result {
	uint32_t regs[8];
	uint32_t eflags;
	uint32_t faulted;
	uint32_t vector;
	uint32_t fault_eip;
	uint32_t error;    /* privileged mode: the exception's error code */
	uint32_t fs, gs;   /* privileged mode: selectors */
	uint32_t cr0;      /* privileged mode */
};

static inline const uint8_t *fz_case_code(const struct fz_case *c)
{
	return (const uint8_t *)(c + 1);
}
static inline const uint8_t *fz_case_undef(const struct fz_case *c)
{
	return fz_case_code(c) + c->code_len;
}

/* FZ_F_* set → EFLAGS bits */
uint32_t fz_undef_eflags(uint32_t fset);

/* The initial scratch contents of a case (4 KiB). */
void fz_scratch_init(uint32_t seed, uint8_t *buf);

/* The canonical text of one case's result, handed to put() in pieces.
 * `scratch` is the final scratch area; after a fault the 16 bytes below
 * the faulting ESP are reset to their initial values first (the guest's
 * CPU pushes the exception frame there, the native side does not), so it
 * must be writable.  `init` is a 4 KiB buffer the function may use. */
typedef void (*fz_put_fn)(const char *s, void *ctx);
void fz_canon(const struct fz_case *c, const struct fz_result *r, uint8_t *scratch, uint8_t *init,
	      fz_put_fn put, void *ctx);

/* The tail every runner appends after the sequence: jmp dword [ptr]. */
static inline void fz_put_tail(uint8_t *at, uint32_t ptr_addr)
{
	at[0] = 0xff;
	at[1] = 0x25;
	at[2] = (uint8_t)ptr_addr;
	at[3] = (uint8_t)(ptr_addr >> 8);
	at[4] = (uint8_t)(ptr_addr >> 16);
	at[5] = (uint8_t)(ptr_addr >> 24);
}

#endif
