#include "bt/tcache.h"
#include "bt/cpu.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static unsigned hash_of(uint32_t eip, uint32_t mode)
{
	return ((eip * 0x9E3779B1u) ^ mode) >> (32 - TC_HASH_BITS);
}

int tcache_init(struct tcache *tc, char *err, size_t errlen)
{
	memset(tc, 0, sizeof(*tc));
	/* One page for the safepoint poll, then the code: RIP-relative reach. */
	uint8_t *m = mmap(NULL, TC_CODE_BYTES + 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "cannot allocate the translation cache: %s", strerror(errno));
		return -1;
	}
	mprotect(m, 4096, PROT_READ | PROT_WRITE);
	tc->poll = m;
	tc->code = m + 4096;
	tc->code_end = tc->code + TC_CODE_BYTES;
	tc->links = calloc((size_t)TC_MAX_BLOCKS * 4, sizeof(*tc->links));
	tc->emul = calloc(TC_MAX_EMUL, sizeof(*tc->emul));
	tc->ibl_used = calloc(TC_MAX_BLOCKS, sizeof(*tc->ibl_used));
	tc->hash_used = calloc(TC_MAX_BLOCKS, sizeof(*tc->hash_used));
	tc->nonglobal = calloc(TC_MAX_BLOCKS, sizeof(*tc->nonglobal));
	tc->lpage_used = calloc((1u << 20) / 8, 1);
	if (!tc->ibl_used || !tc->hash_used || !tc->nonglobal || !tc->lpage_used) {
		snprintf(err, errlen, "out of memory for the translation cache");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		tc->ibl[i] = calloc(1u << TC_IBL_BITS, sizeof(struct tc_ibl_entry));
		if (!tc->ibl[i]) {
			snprintf(err, errlen, "out of memory for the translation cache");
			return -1;
		}
		/* eip 1 never starts a block we look up with eip&mask = 0 ... an
		 * entry with code == NULL must never match: use an odd eip that
		 * cannot equal its own index */
		for (uint32_t j = 0; j < (1u << TC_IBL_BITS); j++)
			tc->ibl[i][j].eip = j ^ 0x80000001u;
	}
	tc->code_top = tc->code;
	tc->blocks = calloc(TC_MAX_BLOCKS, sizeof(*tc->blocks));
	tc->off_pool = calloc((size_t)TC_MAX_BLOCKS * 8, sizeof(uint16_t));
	tc->len_pool = calloc((size_t)TC_MAX_BLOCKS * 8, 1);
	if (!tc->blocks || !tc->off_pool || !tc->len_pool || !tc->links || !tc->emul) {
		snprintf(err, errlen, "out of memory for the translation cache");
		return -1;
	}
	return 0;
}

void tcache_destroy(struct tcache *tc)
{
	if (tc->poll)
		munmap(tc->poll, TC_CODE_BYTES + 4096);
	free(tc->links);
	free(tc->emul);
	free(tc->ibl[0]);
	free(tc->ibl[1]);
	free(tc->ibl_used);
	free(tc->hash_used);
	free(tc->nonglobal);
	free(tc->lpage_used);
	free(tc->blocks);
	free(tc->off_pool);
	free(tc->len_pool);
	memset(tc, 0, sizeof(*tc));
}

void tcache_flush(struct tcache *tc)
{
	/* Clear only what was used since the last flush (a flush per CR3
	 * load must not cost megabytes of memset). */
	for (uint32_t i = 0; i < tc->n_blocks; i++)
		tc->hash[tc->hash_used[i]] = NULL;
	tc->n_blocks = 0;
	tc->n_nonglobal = 0;
	memset(tc->lpage_used, 0, (1u << 20) / 8);
	tc->n_links = 0;
	tc->n_emul = 0;
	for (uint32_t k = 0; k < tc->n_ibl_used; k++) {
		uint32_t t = tc->ibl_used[k] >> 16, j = tc->ibl_used[k] & 0xffff;
		tc->ibl[t][j].eip = j ^ 0x80000001u;
		tc->ibl[t][j].code = NULL;
	}
	tc->n_ibl_used = 0;
	tc->pool_top = 0;
	tc->code_top = tc->code;
	tc->flushes++;
	tc->generation++;
}

struct bt_block *tcache_lookup(struct tcache *tc, uint32_t eip, uint32_t mode)
{
	for (struct bt_block *b = tc->hash[hash_of(eip, mode)]; b; b = b->next)
		if (b->eip == eip && b->mode == mode)
			return b;
	return NULL;
}

struct bt_block *tcache_alloc(struct tcache *tc, size_t max_code, unsigned max_insns)
{
	if (tc->n_blocks == TC_MAX_BLOCKS || (size_t)(tc->code_end - tc->code_top) < max_code ||
	    tc->n_emul + max_insns > TC_MAX_EMUL ||
	    tc->pool_top + max_insns + 1 > TC_MAX_BLOCKS * 8u)
		return NULL;
	struct bt_block *b = &tc->blocks[tc->n_blocks];
	memset(b, 0, sizeof(*b));
	b->code = tc->code_top;
	b->host_off = &tc->off_pool[tc->pool_top];
	b->insn_len = &tc->len_pool[tc->pool_top];
	return b;
}

void tcache_commit(struct tcache *tc, struct bt_block *b, size_t code_len)
{
	b->code_len = (uint32_t)code_len;
	tc->code_top += (code_len + 15) & ~(size_t)15;
	tc->pool_top += b->n_insns + 1u;
	tc->n_blocks++;
	b->valid = true;
	unsigned h = hash_of(b->eip, b->mode);
	tc->hash_used[tc->n_blocks - 1] = h;
	if (!b->global)
		tc->nonglobal[tc->n_nonglobal++] = tc->n_blocks - 1;
	tc->lpage_used[b->lpage0 >> 3] |= (uint8_t)(1u << (b->lpage0 & 7));
	tc->lpage_used[b->lpage1 >> 3] |= (uint8_t)(1u << (b->lpage1 & 7));
	b->next = tc->hash[h];
	tc->hash[h] = b;
	tc->translated_blocks++;
	tc->translated_insns += b->n_insns;
}

struct bt_block *tcache_find_pc(struct tcache *tc, const void *pc)
{
	const uint8_t *p = pc;
	if (p < tc->code || p >= tc->code_top)
		return NULL;
	/* Blocks are allocated at increasing addresses: binary search. */
	uint32_t lo = 0, hi = tc->n_blocks;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (tc->blocks[mid].code + tc->blocks[mid].code_len <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < tc->n_blocks && p >= tc->blocks[lo].code && p < tc->blocks[lo].code + tc->blocks[lo].code_len)
		return &tc->blocks[lo];
	return NULL;
}

static void unlink_block(struct tcache *tc, struct bt_block *b)
{
	unsigned h = hash_of(b->eip, b->mode);
	for (struct bt_block **pp = &tc->hash[h]; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	b->valid = false;
	/* undo the chains into it: those stubs exit again */
	for (struct tc_link *l = b->incoming; l; l = l->next)
		tc_stub_bytes(l->stub, b->eip);
	b->incoming = NULL;
	for (int t = 0; t < 2; t++) {
		struct tc_ibl_entry *ie = &tc->ibl[t][b->eip & ((1u << TC_IBL_BITS) - 1)];
		if (ie->code == b->code) {
			ie->eip = (b->eip & ((1u << TC_IBL_BITS) - 1)) ^ 0x80000001u;
			ie->code = NULL;
		}
	}
	tc->invalidations++;
}

void tcache_drop(struct tcache *tc, struct bt_block *b)
{
	if (b->valid)
		unlink_block(tc, b);
}

/* O(blocks in the cache), not O(hash buckets). */
unsigned tcache_invalidate_page(struct tcache *tc, uint32_t pg)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < tc->n_blocks; i++) {
		struct bt_block *b = &tc->blocks[i];
		if (b->valid && (b->page0 == pg || b->page1 == pg)) {
			unlink_block(tc, b);
			n++;
		}
	}
	return n;
}

unsigned tcache_invalidate_lin(struct tcache *tc, uint32_t lpn)
{
	unsigned n = 0;
	if (!(tc->lpage_used[(lpn & 0xfffff) >> 3] & (1u << (lpn & 7))))
		return 0; /* nothing was ever translated from that page (INVLPG of data) */
	for (uint32_t i = 0; i < tc->n_blocks; i++) {
		struct bt_block *b = &tc->blocks[i];
		if (b->valid && (b->lpage0 == lpn || b->lpage1 == lpn)) {
			unlink_block(tc, b);
			n++;
		}
	}
	return n;
}

/* Only the blocks listed as non-global since the last call: a CR3 load
 * costs what the last address space translated, not the whole cache. */
unsigned tcache_invalidate_nonglobal(struct tcache *tc)
{
	unsigned n = 0;
	for (uint32_t k = 0; k < tc->n_nonglobal; k++) {
		struct bt_block *b = &tc->blocks[tc->nonglobal[k]];
		if (b->valid && !b->global) {
			unlink_block(tc, b);
			n++;
		}
	}
	tc->n_nonglobal = 0;
	return n;
}

void tc_stub_bytes(uint8_t out[TC_STUB_LEN], uint32_t eip)
{
	const uint8_t head[4] = { 0x41, 0xC7, 0x47, CPU_OFF_EIP };
	const uint8_t tail[4] = { 0x41, 0xFF, 0x57, CPU_OFF_EXIT_CHAIN };
	memcpy(out, head, 4);
	memcpy(out + 4, &eip, 4);
	memcpy(out + 8, tail, 4);
}

void tcache_chain(struct tcache *tc, uint8_t *stub, struct bt_block *b)
{
	if (tc->n_links == TC_MAX_BLOCKS * 4u || !b->valid)
		return;
	int32_t rel = (int32_t)(b->code - (stub + 5));
	stub[0] = 0xE9;
	memcpy(stub + 1, &rel, 4);
	struct tc_link *l = &tc->links[tc->n_links++];
	l->stub = stub;
	l->next = b->incoming;
	b->incoming = l;
	tc->chains++;
}

int tcache_keep_insn(struct tcache *tc, const struct insn *in)
{
	if (tc->n_emul == TC_MAX_EMUL)
		return -1;
	tc->emul[tc->n_emul] = *in;
	return (int)tc->n_emul++;
}

void tcache_ibl_add(struct tcache *tc, struct bt_block *b)
{
	if (b->mode & 1u) /* TM_SINGLE blocks are not reached inline */
		return;
	uint32_t t = (b->mode >> 1) & 1, j = b->eip & ((1u << TC_IBL_BITS) - 1);
	struct tc_ibl_entry *ie = &tc->ibl[t][j];
	if (ie->code == b->code)
		return;
	if (!ie->code) {
		if (tc->n_ibl_used == TC_MAX_BLOCKS)
			return; /* full until the next flush: misses go to the dispatcher */
		tc->ibl_used[tc->n_ibl_used++] = t << 16 | j;
	}
	ie->eip = b->eip;
	ie->code = b->code;
}
