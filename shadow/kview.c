#include "shadow/kview.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int kview_init(struct kview *kv, struct guest_mem *gm, char *err, size_t errlen)
{
	memset(kv, 0, sizeof(*kv));
	kv->gm = gm;
	kv->base = (uint8_t *)BTVM_KVIEW_BASE;
	kv->npages = gm->phys.size >> 12;
	kv->code_pages = calloc(kv->npages, 1);
	if (!kv->code_pages) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	void *p = mmap(kv->base, gm->phys.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, gm->fd, 0);
	if (p != kv->base) {
		snprintf(err, errlen, "cannot map guest RAM into the K-view: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void kview_destroy(struct kview *kv)
{
	if (kv->base && kv->gm)
		mmap(kv->base, kv->gm->phys.size, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	free(kv->code_pages);
	kv->code_pages = NULL;
}

void kview_protect_code(struct kview *kv, uint64_t pa)
{
	uint64_t pg = pa >> 12;
	if (pg >= kv->npages || kv->code_pages[pg])
		return;
	if (mprotect(kv->base + (pg << 12), 4096, PROT_READ) == 0) {
		kv->code_pages[pg] = 1;
		kv->protects++;
	}
}

bool kview_unprotect(struct kview *kv, uint64_t pa)
{
	uint64_t pg = pa >> 12;
	if (pg >= kv->npages || !kv->code_pages[pg])
		return false;
	mprotect(kv->base + (pg << 12), 4096, PROT_READ | PROT_WRITE);
	kv->code_pages[pg] = 0;
	kv->unprotects++;
	return true;
}
