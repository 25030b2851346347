/* btvm guest test kit: 32-bit (non-PAE) paging helpers. */
#include "guest.h"

#define PT_POOL 16
uint32_t page_dir[1024] ALIGNED(4096);
static uint32_t pt_pool[PT_POOL][1024] ALIGNED(4096);
static unsigned pt_used;

static uint32_t *pt_alloc(void)
{
	if (pt_used >= PT_POOL)
		guest_panic("paging: page-table pool exhausted");
	uint32_t *pt = pt_pool[pt_used++];
	memset(pt, 0, 4096);
	return pt;
}

uint32_t *pte_ptr(uint32_t va, int alloc)
{
	uint32_t *pde = pde_ptr(va);
	if (*pde & PTE_P) {
		if (*pde & PTE_PS)
			return NULL;
	} else {
		if (!alloc)
			return NULL;
		*pde = (uint32_t)pt_alloc() | PTE_P | PTE_W | PTE_U;
	}
	uint32_t *pt = (uint32_t *)(*pde & ~0xFFFu);
	return &pt[(va >> 12) & 0x3FF];
}

void map_4k(uint32_t va, uint32_t pa, uint32_t flags)
{
	uint32_t *pte = pte_ptr(va, 1);
	if (!pte)
		guest_panic("map_4k: %08x is inside a 4 MiB page", va);
	*pte = (pa & ~0xFFFu) | (flags & 0xFFFu);
}

void map_4m(uint32_t va, uint32_t pa, uint32_t flags)
{
	*pde_ptr(va) = (pa & 0xFFC00000u) | (flags & 0xFFFu) | PTE_PS;
}

void paging_identity_init(void)
{
	memset(page_dir, 0, sizeof(page_dir));
	pt_used = 0;
	for (uint32_t va = 0; va < (4u << 20); va += 4096)
		map_4k(va, va, PTE_P | PTE_W | PTE_U);
	for (uint32_t va = 4u << 20; va < (64u << 20); va += 4u << 20)
		map_4m(va, va, PTE_P | PTE_W | PTE_U);
}

void paging_enable(void)
{
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((uint32_t)page_dir);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

void paging_disable(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
}
