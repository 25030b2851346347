/* The supervisor view (K-view) of guest memory for the bt backend: the
 * host window [BTVM_KVIEW_BASE, +4 GiB) in which guest linear address v
 * lives at BTVM_KVIEW_BASE + v.  With paging off (this first stage) the
 * view maps guest RAM identity (linear = physical) with one mmap of the
 * RAM memfd; everything above RAM stays PROT_NONE so that a stray access
 * faults.  Pages that hold translated code are write-protected so that a
 * guest write to them is seen (self-modifying code). */
#ifndef BTVM_SHADOW_KVIEW_H
#define BTVM_SHADOW_KVIEW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "monitor/guest_mem.h"

struct kview {
	struct guest_mem *gm;
	uint8_t *base;           /* BTVM_KVIEW_BASE */
	uint8_t *code_pages;     /* one byte per RAM page: 1 = write-protected */
	uint64_t npages;
	uint64_t protects, unprotects;
};

int kview_init(struct kview *kv, struct guest_mem *gm, char *err, size_t errlen);
void kview_destroy(struct kview *kv);
/* Write-protects the RAM page holding physical address pa (idempotent). */
void kview_protect_code(struct kview *kv, uint64_t pa);
/* Makes the page writable again; returns true if it was protected. */
bool kview_unprotect(struct kview *kv, uint64_t pa);
static inline bool kview_contains(const struct kview *kv, const void *host)
{
	return (const uint8_t *)host >= kv->base && (const uint8_t *)host < kv->base + BTVM_WINDOW_SIZE;
}
#endif
