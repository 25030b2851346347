/* The supervisor view (K-view) of guest memory for the bt backend: the
 * host window [BTVM_KVIEW_BASE, +4 GiB) in which guest linear address v
 * lives at BTVM_KVIEW_BASE + v, so that translated code reaches guest
 * memory as gs:[v] with GS base = the window.
 *
 * Paging off: the window maps guest RAM identity (linear = physical) with
 * one mmap of the RAM memfd; everything above RAM stays PROT_NONE.
 *
 * Paging on: a virtual TLB.  The window starts empty; a host fault on
 * page v walks the guest page tables (shadow/pagewalk.c) and maps the
 * frame there (kview_map_page) — read-only until the guest's entry is
 * dirty, so the first write is seen and sets D — or becomes a guest #PF.
 * INVLPG unmaps one page, a CR3 write or any paging-mode change empties
 * the window (kview_reset).  Not-present to present changes need nothing:
 * the next access faults and walks again.
 *
 * Both modes: frames that hold translated code are write-protected in
 * every linear page that maps them (a reverse map per frame), so a guest
 * write to code is seen (self-modifying code). */
#ifndef BTVM_SHADOW_KVIEW_H
#define BTVM_SHADOW_KVIEW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "monitor/guest_mem.h"

#define KVIEW_RMAP 4              /* linear aliases remembered per frame */
#define KVIEW_MAX_MAPPED 30000    /* below vm.max_map_count (65530) with margin */

struct kview_rmap {
	uint32_t lin[KVIEW_RMAP];     /* linear page numbers mapping the frame */
	uint8_t n;
	bool overflow;                /* more aliases than remembered */
};

struct kview {
	struct guest_mem *gm;
	uint8_t *base;                /* BTVM_KVIEW_BASE */
	bool paging;
	uint8_t *code_pages;          /* per RAM frame: 1 = holds translated code */
	uint64_t npages;              /* RAM frames */
	uint32_t *lin_frame;          /* paging: per linear page, frame + 1 (0 = unmapped) */
	uint8_t *lin_writable;        /* paging: per linear page, mapped writable */
	uint8_t *lin_global;          /* paging: per linear page, mapped from a global entry (G, CR4.PGE) */
	struct kview_rmap *rmap;      /* paging: per frame */
	uint32_t n_mapped;
	uint32_t *mapped_list;        /* paging: linear pages mapped since the last reset */
	uint32_t n_list;
	uint32_t *sort_tmp;           /* scratch for kview_flush_nonglobal */
	uint64_t protects, unprotects, fills, resets;
	/* host system calls at run time (bt's --stats): mmap of a frame or of
	 * RAM, mmap(PROT_NONE) over pages or the window, mprotect */
	uint64_t sys_map, sys_unmap, sys_protect;
};

/* base: BTVM_KVIEW_BASE for the supervisor view, BTVM_UTVIEW_BASE for the
 * user view (only pages the guest lets CPL 3 touch are mapped there). */
int kview_init(struct kview *kv, struct guest_mem *gm, uint64_t base, char *err, size_t errlen);
void kview_destroy(struct kview *kv);
/* Empties the view and sets its mode; paging off maps RAM identity again.
 * Forgets every code protection (the caller flushes the translations). */
void kview_reset(struct kview *kv, bool paging);
/* Paging on: map linear page lin to RAM frame `frame`; global: the guest's
 * entry has G set and CR4.PGE is on (the page survives kview_flush_nonglobal). */
void kview_map_page(struct kview *kv, uint32_t lin, uint32_t frame, bool writable, bool global);
/* Paging on, a CR3 load with CR4.PGE = 1: unmap every page that did not
 * come from a global entry, keep the others (SDM Vol. 3A 4.10.4.1: MOV to
 * CR3 invalidates non-global TLB entries only).  Code protections stay. */
void kview_flush_nonglobal(struct kview *kv);
/* Paging on: unmap linear page lin (INVLPG). */
void kview_unmap_page(struct kview *kv, uint32_t lin);
/* Write-protects RAM frame `frame` in every linear page that maps it. */
void kview_protect_code(struct kview *kv, uint64_t pa);
/* Forgets the protection of the frame holding pa; true if it had one.
 * Paging off: the identity page is writable again at once; paging on: the
 * next write to an alias faults and is mapped writable. */
bool kview_unprotect(struct kview *kv, uint64_t pa);
static inline bool kview_is_code(const struct kview *kv, uint32_t frame)
{
	return frame < kv->npages && kv->code_pages[frame];
}
static inline bool kview_contains(const struct kview *kv, const void *host)
{
	return (const uint8_t *)host >= kv->base && (const uint8_t *)host < kv->base + BTVM_WINDOW_SIZE;
}
#endif
