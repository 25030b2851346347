/* Guest RAM and the host address-space windows (docs/design.md, "Host
 * address space").  RAM is one memfd; the physical alias maps all of it
 * linearly.  The direct view, K-view and U-view windows are reserved
 * PROT_NONE at start-up (MAP_FIXED_NOREPLACE) so that nothing of the VMM
 * lands there; the shadow MMU maps guest pages into them. */
#ifndef BTVM_MONITOR_GUEST_MEM_H
#define BTVM_MONITOR_GUEST_MEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"

/* Host layout.  The low window [vm.mmap_min_addr, 4 GiB) is the direct
 * view of --user-exec direct (bt/direct.c): guest linear v at host v. */
#define BTVM_KVIEW_BASE    0x100000000ull  /* K: [4 GiB, 8 GiB) */
#define BTVM_PHYS_BASE     0x200000000ull  /* P: [8 GiB, 8 GiB + RAM) */
#define BTVM_UTVIEW_BASE   0x400000000ull  /* [16 GiB, 20 GiB): user view for translated CPL-3 code */
#define BTVM_WINDOW_SIZE   0x100000000ull

struct guest_mem {
	int fd;                 /* the memfd backing RAM */
	struct phys_mem phys;   /* alias at BTVM_PHYS_BASE */
	uint64_t uview_lo;      /* first host address of the low window (vm.mmap_min_addr) */
	bool windows_reserved;
};

/* The host windows, for whoever must know where guest memory can be
 * (the sandbox's allow-list): base and size, size 0 when not reserved. */
enum guest_window {
	GUEST_WIN_ULOW,     /* [uview_lo, 4 GiB): the direct view (bt/direct.c) */
	GUEST_WIN_KVIEW,    /* bt's supervisor view */
	GUEST_WIN_PHYS,     /* the RAM alias (size = RAM) */
	GUEST_WIN_UTVIEW,   /* bt's user view for translated CPL-3 code */
	GUEST_WIN_COUNT,
};
struct guest_window_range {
	uint64_t base, size;
};
struct guest_window_range guest_mem_window(const struct guest_mem *gm, enum guest_window w);

/* Returns 0, or -1 with a one-line reason in err. */
int guest_mem_create(struct guest_mem *gm, uint64_t size, char *err, size_t errlen);
void guest_mem_destroy(struct guest_mem *gm);
#endif
