#include "shadow/kview.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LIN_PAGES (1u << 20)

static void map_identity(struct kview *kv)
{
	mmap(kv->base, kv->gm->phys.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, kv->gm->fd, 0);
	kv->sys_map++;
}

static void unmap_all(struct kview *kv)
{
	mmap(kv->base, BTVM_WINDOW_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	kv->sys_unmap++;
}

int kview_init(struct kview *kv, struct guest_mem *gm, uint64_t base, char *err, size_t errlen)
{
	memset(kv, 0, sizeof(*kv));
	kv->gm = gm;
	kv->base = (uint8_t *)base;
	kv->npages = gm->phys.size >> 12;
	kv->code_pages = calloc(kv->npages, 1);
	kv->lin_frame = calloc(LIN_PAGES, sizeof(*kv->lin_frame));
	kv->lin_writable = calloc(LIN_PAGES, 1);
	kv->lin_global = calloc(LIN_PAGES, 1);
	kv->rmap = calloc(kv->npages, sizeof(*kv->rmap));
	kv->mapped_list = calloc(KVIEW_MAX_MAPPED, sizeof(*kv->mapped_list));
	kv->sort_tmp = calloc(KVIEW_MAX_MAPPED, sizeof(*kv->sort_tmp));
	if (!kv->code_pages || !kv->lin_frame || !kv->lin_writable || !kv->lin_global || !kv->rmap ||
	    !kv->mapped_list || !kv->sort_tmp) {
		snprintf(err, errlen, "out of memory for the shadow MMU");
		return -1;
	}
	void *p = mmap(kv->base, gm->phys.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, gm->fd, 0);
	if (p != kv->base) {
		snprintf(err, errlen, "cannot map guest RAM into a guest view: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void kview_destroy(struct kview *kv)
{
	if (kv->base && kv->gm)
		unmap_all(kv);
	free(kv->code_pages);
	free(kv->lin_frame);
	free(kv->lin_writable);
	free(kv->lin_global);
	free(kv->rmap);
	free(kv->mapped_list);
	free(kv->sort_tmp);
	memset(kv, 0, sizeof(*kv));
}

void kview_reset(struct kview *kv, bool paging)
{
	unmap_all(kv);
	memset(kv->code_pages, 0, kv->npages);
	if (kv->paging) {
		/* Only what was mapped since the last reset needs clearing: a
		 * CR3 load costs what the last address space used, not 4 GiB. */
		for (uint32_t i = 0; i < kv->n_list; i++) {
			uint32_t lpn = kv->mapped_list[i];
			if (kv->lin_frame[lpn])
				memset(&kv->rmap[kv->lin_frame[lpn] - 1], 0, sizeof(kv->rmap[0]));
			kv->lin_frame[lpn] = 0;
			kv->lin_writable[lpn] = 0;
			kv->lin_global[lpn] = 0;
		}
	}
	kv->n_list = 0;
	kv->n_mapped = 0;
	kv->paging = paging;
	kv->resets++;
	if (!paging)
		map_identity(kv);
}

static void rmap_add(struct kview *kv, uint32_t frame, uint32_t lpn)
{
	struct kview_rmap *r = &kv->rmap[frame];
	for (unsigned i = 0; i < r->n; i++)
		if (r->lin[i] == lpn)
			return;
	if (r->n < KVIEW_RMAP)
		r->lin[r->n++] = lpn;
	else
		r->overflow = true;
}

static void rmap_del(struct kview *kv, uint32_t frame, uint32_t lpn)
{
	struct kview_rmap *r = &kv->rmap[frame];
	for (unsigned i = 0; i < r->n; i++)
		if (r->lin[i] == lpn) {
			r->lin[i] = r->lin[--r->n];
			return;
		}
}

void kview_unmap_page(struct kview *kv, uint32_t lin)
{
	uint32_t lpn = lin >> 12;
	if (!kv->paging || !kv->lin_frame[lpn])
		return;
	rmap_del(kv, kv->lin_frame[lpn] - 1, lpn);
	kv->lin_frame[lpn] = 0;
	kv->lin_writable[lpn] = 0;
	kv->lin_global[lpn] = 0;
	kv->n_mapped--;
	mmap(kv->base + ((uint64_t)lpn << 12), 4096, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	kv->sys_unmap++;
}

void kview_map_page(struct kview *kv, uint32_t lin, uint32_t frame, bool writable, bool global)
{
	uint32_t lpn = lin >> 12;
	if (frame >= kv->npages)
		return;
	if (kv->lin_frame[lpn] && kv->lin_frame[lpn] - 1 != frame)
		kview_unmap_page(kv, lin);
	if (kv->n_mapped >= KVIEW_MAX_MAPPED || kv->n_list >= KVIEW_MAX_MAPPED) {
		/* Stay within the host's vm.max_map_count: drop everything, as
		 * a TLB would, and refill on demand.  Code protections are
		 * re-established from code_pages as pages are mapped again. */
		uint8_t *keep = malloc(kv->npages);
		if (keep)
			memcpy(keep, kv->code_pages, kv->npages);
		kview_reset(kv, true);
		if (keep) {
			memcpy(kv->code_pages, keep, kv->npages);
			free(keep);
		}
	}
	if (kv->code_pages[frame])
		writable = false;
	void *p = mmap(kv->base + ((uint64_t)lpn << 12), 4096, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		       MAP_SHARED | MAP_FIXED, kv->gm->fd, (off_t)frame << 12);
	kv->sys_map++;
	if (p == MAP_FAILED)
		return;
	if (!kv->lin_frame[lpn]) {
		kv->n_mapped++;
		rmap_add(kv, frame, lpn);
		if (kv->n_list < KVIEW_MAX_MAPPED)
			kv->mapped_list[kv->n_list++] = lpn;
	}
	kv->lin_frame[lpn] = frame + 1;
	kv->lin_writable[lpn] = writable;
	kv->lin_global[lpn] = global;
	kv->fills++;
}

/* Linear page numbers (20 bits) in increasing order: two 10-bit radix
 * passes.  Not qsort: glibc's asks the kernel for the RAM size (sysinfo),
 * which the host sandbox does not allow. */
static void sort_lpns(uint32_t *a, uint32_t *tmp, uint32_t n)
{
	for (int shift = 0; shift < 20; shift += 10) {
		uint32_t count[1025] = { 0 };
		for (uint32_t i = 0; i < n; i++)
			count[((a[i] >> shift) & 1023) + 1]++;
		for (int d = 0; d < 1024; d++)
			count[d + 1] += count[d];
		for (uint32_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift) & 1023]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* n pages from lpn on, as aligned power-of-two blocks (the host sandbox
 * allows no other multi-page remapping of a view: monitor/sandbox.c). */
static void unmap_run(struct kview *kv, uint32_t lpn, uint32_t n)
{
	while (n) {
		uint32_t size = 1;
		while (!(lpn & size) && size * 2 <= n)
			size *= 2;
		mmap(kv->base + ((uint64_t)lpn << 12), (uint64_t)size << 12, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		kv->sys_unmap++;
		lpn += size;
		n -= size;
	}
}

void kview_flush_nonglobal(struct kview *kv)
{
	if (!kv->paging)
		return;
	/* The mapped pages in address order; runs of non-global ones with no
	 * global page between them go with one mmap each. */
	sort_lpns(kv->mapped_list, kv->sort_tmp, kv->n_list);
	uint32_t keep = 0, run_first = 0, run_last = 0;
	bool in_run = false;
	for (uint32_t i = 0; i <= kv->n_list; i++) {
		uint32_t lpn = i < kv->n_list ? kv->mapped_list[i] : 0;
		bool end = i == kv->n_list;
		if (!end && (!kv->lin_frame[lpn] || (i > 0 && kv->mapped_list[i - 1] == lpn)))
			continue; /* unmapped since, or a duplicate */
		if (!end && !kv->lin_global[lpn]) {
			rmap_del(kv, kv->lin_frame[lpn] - 1, lpn);
			kv->lin_frame[lpn] = 0;
			kv->lin_writable[lpn] = 0;
			kv->n_mapped--;
			if (!in_run)
				run_first = lpn, in_run = true;
			run_last = lpn;
			continue;
		}
		if (in_run) {
			unmap_run(kv, run_first, run_last - run_first + 1);
			in_run = false;
		}
		if (!end)
			kv->mapped_list[keep++] = lpn;
	}
	kv->n_list = keep;
	kv->resets++;
}

void kview_protect_code(struct kview *kv, uint64_t pa)
{
	uint64_t pg = pa >> 12;
	if (pg >= kv->npages || kv->code_pages[pg])
		return;
	kv->code_pages[pg] = 1;
	kv->protects++;
	if (!kv->paging) {
		mprotect(kv->base + (pg << 12), 4096, PROT_READ);
		kv->sys_protect++;
		return;
	}
	struct kview_rmap *r = &kv->rmap[pg];
	if (r->overflow) {
		/* aliases we do not know: unmap them all by emptying the view */
		uint8_t *keep = malloc(kv->npages);
		if (keep)
			memcpy(keep, kv->code_pages, kv->npages);
		kview_reset(kv, true);
		if (keep) {
			memcpy(kv->code_pages, keep, kv->npages);
			free(keep);
		}
		return;
	}
	for (unsigned i = 0; i < r->n; i++) {
		mprotect(kv->base + ((uint64_t)r->lin[i] << 12), 4096, PROT_READ);
		kv->sys_protect++;
		kv->lin_writable[r->lin[i]] = 0;
	}
}

bool kview_unprotect(struct kview *kv, uint64_t pa)
{
	uint64_t pg = pa >> 12;
	if (pg >= kv->npages || !kv->code_pages[pg])
		return false;
	kv->code_pages[pg] = 0;
	kv->unprotects++;
	if (!kv->paging) {
		mprotect(kv->base + (pg << 12), 4096, PROT_READ | PROT_WRITE);
		kv->sys_protect++;
	}
	return true;
}
