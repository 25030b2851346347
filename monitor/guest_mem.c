#include "monitor/guest_mem.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* MAP_FIXED_NOREPLACE: fail instead of clobbering an existing mapping
 * (Linux >= 4.17). */
static void *reserve(uint64_t addr, uint64_t len)
{
	void *p = mmap((void *)addr, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (p != (void *)addr) { /* old kernels ignore the flag */
		munmap(p, len);
		return NULL;
	}
	return p;
}

static uint64_t mmap_min_addr(void)
{
	uint64_t v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	if (f) {
		unsigned long long x;
		if (fscanf(f, "%llu", &x) == 1)
			v = x;
		fclose(f);
	}
	long pg = sysconf(_SC_PAGESIZE);
	return (v + (uint64_t)pg - 1) & ~((uint64_t)pg - 1);
}

int guest_mem_create(struct guest_mem *gm, uint64_t size, char *err, size_t errlen)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	gm->fd = memfd_create("btvm-ram", MFD_CLOEXEC);
	if (gm->fd < 0) {
		snprintf(err, errlen, "cannot create guest RAM (memfd_create): %s", strerror(errno));
		return -1;
	}
	if (ftruncate(gm->fd, (off_t)size) < 0) {
		snprintf(err, errlen, "cannot size guest RAM to %llu bytes: %s",
			 (unsigned long long)size, strerror(errno));
		goto fail;
	}
	/* Reserve the direct view (low 4 GiB), K-view and U-view windows. */
	gm->uview_lo = mmap_min_addr();
	if (!reserve(gm->uview_lo, BTVM_WINDOW_SIZE - gm->uview_lo) ||
	    !reserve(BTVM_KVIEW_BASE, BTVM_WINDOW_SIZE) || !reserve(BTVM_UTVIEW_BASE, BTVM_WINDOW_SIZE)) {
		snprintf(err, errlen, "cannot reserve the guest address windows below 20 GiB "
			 "(something is already mapped there; is btvm built as PIE?)");
		goto fail;
	}
	gm->windows_reserved = true;
	void *p = mmap((void *)BTVM_PHYS_BASE, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED_NOREPLACE, gm->fd, 0);
	if (p != (void *)BTVM_PHYS_BASE) {
		snprintf(err, errlen, "cannot map %llu MiB of guest RAM: %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		if (p != MAP_FAILED)
			munmap(p, size);
		goto fail;
	}
	gm->phys.base = p;
	gm->phys.size = size;
	return 0;
fail:
	guest_mem_destroy(gm);
	return -1;
}

struct guest_window_range guest_mem_window(const struct guest_mem *gm, enum guest_window w)
{
	struct guest_window_range r = { 0, 0 };
	switch (w) {
	case GUEST_WIN_ULOW:
		if (gm->windows_reserved)
			r = (struct guest_window_range){ gm->uview_lo, BTVM_WINDOW_SIZE - gm->uview_lo };
		break;
	case GUEST_WIN_KVIEW:
		if (gm->windows_reserved)
			r = (struct guest_window_range){ BTVM_KVIEW_BASE, BTVM_WINDOW_SIZE };
		break;
	case GUEST_WIN_PHYS:
		if (gm->phys.base)
			r = (struct guest_window_range){ (uint64_t)(uintptr_t)gm->phys.base, gm->phys.size };
		break;
	case GUEST_WIN_UTVIEW:
		if (gm->windows_reserved)
			r = (struct guest_window_range){ BTVM_UTVIEW_BASE, BTVM_WINDOW_SIZE };
		break;
	case GUEST_WIN_COUNT:
		break;
	}
	return r;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->phys.base)
		munmap(gm->phys.base, gm->phys.size);
	if (gm->windows_reserved) {
		munmap((void *)gm->uview_lo, BTVM_WINDOW_SIZE - gm->uview_lo);
		munmap((void *)BTVM_KVIEW_BASE, BTVM_WINDOW_SIZE);
		munmap((void *)BTVM_UTVIEW_BASE, BTVM_WINDOW_SIZE);
	}
	if (gm->fd >= 0)
		close(gm->fd);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}
