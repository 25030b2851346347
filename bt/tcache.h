/* The translation cache: one executable arena for host code, block
 * descriptors, a hash from guest EIP (+ translation mode) to block, and
 * per-block side tables from host code offsets back to guest EIPs.  When
 * the arena or the descriptor pool is full, everything is flushed at once
 * (counted in --stats). */
#ifndef BTVM_BT_TCACHE_H
#define BTVM_BT_TCACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decoder/decoder.h"

#define TC_CODE_BYTES   (32u << 20)
#define TC_MAX_BLOCKS   65536u
#define TC_HASH_BITS    16
#define TC_MAX_INSNS    64       /* guest instructions per block */
#define TC_MAX_EMUL     8192     /* pre-decoded instructions for emulation callouts */

/* Translation mode bits folded into the key: a block is only valid for
 * the state it was translated for. */
#define TM_SINGLE       1u       /* one instruction (TF, interrupt shadow) */
#define TM_CPL3         2u       /* translated for CPL 3 (no inline cli/sti/pushf/popf) */

/* A direct exit stub patched to jump straight into a block. */
struct tc_link {
	uint8_t *stub;
	struct tc_link *next;
};

#define TC_STUB_LEN 12
/* The unchained form of a direct exit to eip:
 *   mov dword [r15+CPU_OFF_EIP], eip ; call [r15+CPU_OFF_EXIT_CHAIN]
 * Chaining overwrites its first 5 bytes with `jmp rel32`. */
void tc_stub_bytes(uint8_t out[TC_STUB_LEN], uint32_t eip);

struct bt_block {
	uint32_t eip;               /* guest linear address of the first insn */
	uint32_t mode;
	uint32_t guest_len;         /* bytes of guest code covered */
	uint32_t page0, page1;      /* physical pages covered (page1 may equal page0) */
	uint32_t lpage0, lpage1;    /* the linear pages they were reached through */
	uint8_t *code;
	uint32_t code_len;
	uint16_t n_insns;
	uint16_t *host_off;         /* n_insns + 1 entries: host offset of each insn */
	uint8_t *insn_len;          /* n_insns entries: guest length of each insn */
	struct bt_block *next;      /* hash chain */
	struct tc_link *incoming;   /* stubs chained into this block */
	bool valid;
	bool global;                /* its code pages came from global entries (survives CR3 loads) */
};

/* The indirect-branch lookup table translated code probes inline (one per
 * translation mode that can be chained: CPL 0 and CPL 3). */
#define TC_IBL_BITS 16
struct tc_ibl_entry {
	uint32_t eip;
	uint32_t pad;
	const uint8_t *code;
};

struct tcache {
	struct tc_ibl_entry *ibl[2];
	uint32_t *ibl_used;          /* entries set since the last flush (mode << 16 | index) */
	uint32_t n_ibl_used;
	uint32_t *hash_used;         /* hash buckets used since the last flush */
	uint8_t *lpage_used;         /* bitmap: linear pages blocks were translated from since the last flush */
	uint32_t *nonglobal;         /* indices of the blocks that are not global (CR3 loads drop them) */
	uint32_t n_nonglobal;
	uint8_t *poll;              /* the safepoint page every block reads first */
	uint8_t *code, *code_end, *code_top;
	struct tc_link *links;
	uint32_t n_links;
	struct insn *emul;           /* decoded once at translation, used by every callout */
	uint32_t n_emul;
	struct bt_block *blocks;
	uint32_t n_blocks;
	uint16_t *off_pool;
	uint8_t *len_pool;
	uint32_t pool_top;
	struct bt_block *hash[1u << TC_HASH_BITS];
	uint64_t chains, flushes, translated_blocks, translated_insns, copied_insns, invalidations;
	uint64_t generation;        /* bumped by every flush */
};

int tcache_init(struct tcache *tc, char *err, size_t errlen);
void tcache_destroy(struct tcache *tc);
void tcache_flush(struct tcache *tc);
struct bt_block *tcache_lookup(struct tcache *tc, uint32_t eip, uint32_t mode);
/* Reserve a block and room for its code and side tables; NULL when full
 * (the caller flushes and tries again). */
struct bt_block *tcache_alloc(struct tcache *tc, size_t max_code, unsigned max_insns);
void tcache_commit(struct tcache *tc, struct bt_block *b, size_t code_len);
/* The block whose code contains host address pc, or NULL. */
struct bt_block *tcache_find_pc(struct tcache *tc, const void *pc);
/* Keep a decoded instruction for its emulation callout; returns its
 * index, or -1 when the pool is full (the translator flushes first). */
int tcache_keep_insn(struct tcache *tc, const struct insn *in);
/* Remember block b in the inline lookup table of its mode. */
void tcache_ibl_add(struct tcache *tc, struct bt_block *b);
/* Patch the direct exit stub that starts at `stub` to jump into b. */
void tcache_chain(struct tcache *tc, uint8_t *stub, struct bt_block *b);
/* Invalidate every block that covers physical page pg.  Returns how many. */
unsigned tcache_invalidate_page(struct tcache *tc, uint32_t pg);
/* Drop one block. */
void tcache_drop(struct tcache *tc, struct bt_block *b);
/* ... or linear page lpn (INVLPG). */
unsigned tcache_invalidate_lin(struct tcache *tc, uint32_t lpn);
/* CR3 load with CR4.PGE: drop the blocks that are not global. */
unsigned tcache_invalidate_nonglobal(struct tcache *tc);

#endif
