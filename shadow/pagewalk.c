/* Guest page-table walker, 32-bit and PAE paging: see shadow/pagewalk.h for the
 * SDM rules and the choices. */
#include "shadow/pagewalk.h"
#include <stdio.h>
#include <string.h>

#define CR0_WP  0x00010000u
#define CR4_PSE 0x00000010u
#define CR4_PAE 0x00000020u
#define CR4_PGE 0x00000080u
#define CR4_SMEP 0x00100000u
#define CR4_SMAP 0x00200000u
#define PAE_XD  0x8000000000000000ull

#define PDE_4M_RSVD 0x003fe000u  /* bits 21:13: reserved without PSE-36 */
#define FRAME_4K    0xfffff000u
#define FRAME_4M    0xffc00000u

/* PAE (SDM Vol. 3A 4.4, tables 4-8 to 4-11) with MAXPHYADDR = 36: bits
 * 63:36 of every entry are reserved, bit 63 (XD) of a PDE or PTE only
 * while EFER.NXE = 0 (`rsvd` in walk_once_pae). */
#define PAE_ADDR        0x0000000ffffff000ull  /* bits 35:12 */
#define PAE_ADDR_2M     0x0000000fffe00000ull  /* bits 35:21 */
#define PAE_HIGH_RSVD   0xfffffff000000000ull  /* bits 63:36 */
#define PAE_PDE_2M_RSVD 0x00000000001fe000ull  /* bits 20:13 of a 2 MiB PDE */
#define PAE_PDPTE_RSVD  (PAE_HIGH_RSVD | 0x1e6ull)  /* bits 63:36, 8:5, 2:1 */

/* A walk that keeps losing the compare-and-swap of its A/D update to
 * another writer gives up after this many attempts (cannot happen with one
 * vCPU: the only loser there is a recursive mapping, which wins the second
 * time). */
#define PW_MAX_ATTEMPTS 8

/* Entries are 4-byte aligned in guest-physical memory; the host base of RAM
 * is page aligned in btvm (mmap) and at least 8 in tests (calloc), but do
 * not rely on it for atomicity. */
static inline bool aligned4(const void *p)
{
	return ((uintptr_t)p & 3u) == 0;
}

static uint32_t entry_load(const void *p)
{
	uint32_t v;
	if (aligned4(p))
		return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
	memcpy(&v, p, 4);
	return v;
}

/* Replaces the entry with `nv` only if it still holds `old`. */
static bool entry_update(void *p, uint32_t old, uint32_t nv)
{
	if (aligned4(p))
		return __atomic_compare_exchange_n((uint32_t *)p, &old, nv, false,
						   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	uint32_t cur;
	memcpy(&cur, p, 4);
	if (cur != old)
		return false;
	memcpy(p, &nv, 4);
	return true;
}

enum walk_status { WALK_DONE, WALK_RETRY };


/* SDM 4.6: the rights of the entries used, combined ("both" = the AND of
 * the PDE and the final entry; U/S and R/W are the same bits in 32-bit and
 * PAE entries), the flags the result reports, and whether the access is
 * allowed; when not, the #PF error code for a protection fault. */
static bool rights(const struct pw_request *rq, uint64_t both, uint64_t final, bool write, uint32_t acc,
		   bool xd, struct pw_result *out)
{
	out->user_ok = both & PW_E_US;
	out->writable = (both & PW_E_RW) || (!rq->user && !(rq->cr0 & CR0_WP));
	out->global = (rq->cr4 & CR4_PGE) && (final & PW_E_G);
	out->dirty = final & PW_E_D;
	out->xd = xd;
	bool allowed = (rq->user ? out->user_ok : true) && !(write && !out->writable);
	if (rq->access == PW_FETCH) {
		/* SDM 4.6: XD forbids fetches at any CPL; SMEP forbids
		 * supervisor fetches from user pages. */
		if (xd || (!rq->user && out->user_ok && (rq->cr4 & CR4_SMEP)))
			allowed = false;
	} else if (!rq->user && out->user_ok && (rq->cr4 & CR4_SMAP) && !rq->smap_ac) {
		/* SDM 4.6: SMAP, supervisor data access to a user page */
		allowed = false;
	}
	if (!allowed)
		out->error_code = PW_PF_P | acc;
	return allowed;
}

/* The W/R, U/S and I/D bits of every #PF error code of this access (SDM
 * 4.7: I/D for a fetch when SMEP is on, or PAE paging with NXE). */
static uint32_t access_bits(const struct pw_request *rq)
{
	uint32_t acc = (rq->access == PW_WRITE ? PW_PF_W : 0) | (rq->user ? PW_PF_U : 0);
	if (rq->access == PW_FETCH && ((rq->cr4 & CR4_SMEP) || ((rq->cr4 & CR4_PAE) && rq->nxe)))
		acc |= PW_PF_ID;
	return acc;
}

static enum walk_status walk_once(const struct phys_mem *mem, const struct pw_request *rq,
				  struct pw_result *out)
{
	const bool write = rq->access == PW_WRITE;
	const uint32_t acc = access_bits(rq);

	memset(out, 0, sizeof(*out));

	/* SDM 4.3: the page directory. */
	out->pde_pa = (rq->cr3 & FRAME_4K) | ((rq->lin >> 22) << 2);
	void *pdep = phys_ptr(mem, out->pde_pa, 4);
	if (!pdep) {
		out->bad_table = true;
		out->error_code = acc;
		return WALK_DONE;
	}
	const uint32_t pde = entry_load(pdep);
	if (!(pde & PW_E_P)) {
		out->error_code = acc;
		return WALK_DONE;
	}

	uint32_t pte = 0, final;
	void *ptep = NULL;
	if ((rq->cr4 & CR4_PSE) && (pde & PW_E_PS)) {
		/* 4 MiB page (SDM 4.3, table 4-4). */
		if (pde & PDE_4M_RSVD) {
			out->error_code = PW_PF_P | PW_PF_RSVD | acc;
			return WALK_DONE;
		}
		final = pde;
		out->size = 0x400000u;
		out->page_pa = (pde & FRAME_4M) | (rq->lin & 0x003ff000u);
	} else {
		/* PDE references a page table (table 4-5); PS ignored without PSE. */
		out->pte_pa = (pde & FRAME_4K) | (((rq->lin >> 12) & 0x3ffu) << 2);
		ptep = phys_ptr(mem, out->pte_pa, 4);
		if (!ptep) {
			out->bad_table = true;
			out->error_code = acc;
			return WALK_DONE;
		}
		pte = entry_load(ptep);
		if (!(pte & PW_E_P)) {
			out->error_code = acc;
			return WALK_DONE;
		}
		final = pte;
		out->size = 4096;
		out->page_pa = pte & FRAME_4K;
	}
	out->pa = out->page_pa | (rq->lin & 0xfffu);

	/* SDM 4.6: rights combined over every entry used (for a 4 MiB page
	 * the PDE is the only one: final == pde). */
	if (!rights(rq, pde & final, final, write, acc, false, out))
		return WALK_DONE;

	/* SDM 4.8: A in every entry used, D in the final entry on a write,
	 * only now that the access is allowed. */
	if (rq->set_ad) {
		uint32_t npde = pde | PW_E_A;
		if (!ptep && write)
			npde |= PW_E_D;
		if (npde != pde && !entry_update(pdep, pde, npde))
			return WALK_RETRY;
		if (ptep) {
			uint32_t npte = pte | PW_E_A | (write ? PW_E_D : 0);
			if (npte != pte && !entry_update(ptep, pte, npte))
				return WALK_RETRY;
		}
		if (write)
			out->dirty = true;
	}
	out->ok = true;
	return WALK_DONE;
}

/* ---- PAE paging (SDM Vol. 3A 4.4) ---- */

static inline bool aligned8(const void *p)
{
	return ((uintptr_t)p & 7u) == 0;
}

static uint64_t entry_load64(const void *p)
{
	uint64_t v;
	if (aligned8(p))
		return __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE);
	memcpy(&v, p, 8);
	return v;
}

/* Replaces the whole 64-bit entry with `nv` only if it still holds `old`
 * (a guest that rewrites either half in between makes the walk restart). */
static bool entry_update64(void *p, uint64_t old, uint64_t nv)
{
	if (aligned8(p))
		return __atomic_compare_exchange_n((uint64_t *)p, &old, nv, false,
						   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	uint64_t cur;
	memcpy(&cur, p, 8);
	if (cur != old)
		return false;
	memcpy(p, &nv, 8);
	return true;
}

/* Where an entry of the next level lies: bits M-1:12 of the entry. */
static uint64_t pae_frame(uint64_t e)
{
	return e & PAE_ADDR;
}

static enum walk_status walk_once_pae(const struct phys_mem *mem, const struct pw_request *rq,
				      struct pw_result *out)
{
	const bool write = rq->access == PW_WRITE;
	const uint32_t acc = access_bits(rq);
	/* bit 63 of a PDE/PTE is XD with EFER.NXE, reserved without */
	const uint64_t rsvd = rq->nxe ? PAE_HIGH_RSVD & ~PAE_XD : PAE_HIGH_RSVD;

	memset(out, 0, sizeof(*out));

	/* SDM 4.4.1: the PDPTE selected by lin[31:30] in the 32-byte aligned
	 * table at CR3[31:5] (read at walk time, see pagewalk.h). */
	out->pdpte_pa = (rq->cr3 & 0xffffffe0u) | ((rq->lin >> 30) << 3);
	const void *pdptep = phys_ptr(mem, out->pdpte_pa, 8);
	if (!pdptep) {
		out->bad_table = true;
		out->error_code = acc;
		return WALK_DONE;
	}
	const uint64_t pdpte = entry_load64(pdptep);
	if (!(pdpte & PW_E_P)) {
		out->error_code = acc;
		return WALK_DONE;
	}
	if (pdpte & PAE_PDPTE_RSVD) {
		out->error_code = PW_PF_P | PW_PF_RSVD | acc;
		return WALK_DONE;
	}

	/* SDM 4.4.2, table 4-9/4-10: the PDE selected by lin[29:21]. */
	out->pde_pa = pae_frame(pdpte) | (((rq->lin >> 21) & 0x1ffu) << 3);
	void *pdep = phys_ptr(mem, out->pde_pa, 8);
	if (!pdep) {
		out->bad_table = true;
		out->error_code = acc;
		return WALK_DONE;
	}
	const uint64_t pde = entry_load64(pdep);
	if (!(pde & PW_E_P)) {
		out->error_code = acc;
		return WALK_DONE;
	}

	uint64_t pte = 0, final, page;
	void *ptep = NULL;
	if (pde & PW_E_PS) {
		/* 2 MiB page (table 4-9): PS is honoured whatever CR4.PSE says. */
		if (pde & (rsvd | PAE_PDE_2M_RSVD)) {
			out->error_code = PW_PF_P | PW_PF_RSVD | acc;
			return WALK_DONE;
		}
		final = pde;
		out->size = 0x200000u;
		page = (pde & PAE_ADDR_2M) | (rq->lin & 0x001ff000u);
	} else {
		if (pde & rsvd) {
			out->error_code = PW_PF_P | PW_PF_RSVD | acc;
			return WALK_DONE;
		}
		/* Table 4-10/4-11: the PTE selected by lin[20:12]. */
		out->pte_pa = pae_frame(pde) | (((rq->lin >> 12) & 0x1ffu) << 3);
		ptep = phys_ptr(mem, out->pte_pa, 8);
		if (!ptep) {
			out->bad_table = true;
			out->error_code = acc;
			return WALK_DONE;
		}
		pte = entry_load64(ptep);
		if (!(pte & PW_E_P)) {
			out->error_code = acc;
			return WALK_DONE;
		}
		if (pte & rsvd) {
			out->error_code = PW_PF_P | PW_PF_RSVD | acc;
			return WALK_DONE;
		}
		final = pte;
		out->size = 4096;
		page = pte & PAE_ADDR;
	}
	out->page_pa = page;
	if (page > 0xfffff000u) {
		/* A page above 4 GiB: a valid translation to nothing btvm
		 * has (RAM and MMIO are below 4 GiB), see pagewalk.h. */
		out->bad_table = true;
		out->error_code = acc;
		return WALK_DONE;
	}
	out->pa = (uint32_t)page | (rq->lin & 0xfffu);

	/* SDM 4.6: rights combined over the PDE and the PTE (PDPTEs carry
	 * no R/W, U/S or XD in PAE paging); XD in either forbids fetches. */
	if (!rights(rq, pde & final, final, write, acc, rq->nxe && ((pde | final) & PAE_XD), out))
		return WALK_DONE;

	/* SDM 4.8: A in the PDE and PTE (a PDPTE has none), D in the final
	 * entry on a write; only once the access is allowed, as for 32-bit. */
	if (rq->set_ad) {
		uint64_t npde = pde | PW_E_A;
		if (!ptep && write)
			npde |= PW_E_D;
		if (npde != pde && !entry_update64(pdep, pde, npde))
			return WALK_RETRY;
		if (ptep) {
			uint64_t npte = pte | PW_E_A | (write ? PW_E_D : 0);
			if (npte != pte && !entry_update64(ptep, pte, npte))
				return WALK_RETRY;
		}
		if (write)
			out->dirty = true;
	}
	out->ok = true;
	return WALK_DONE;
}

void pw_walk(const struct phys_mem *mem, const struct pw_request *rq, struct pw_result *out)
{
	const bool pae = rq->cr4 & CR4_PAE;
	for (int i = 0; i < PW_MAX_ATTEMPTS; i++)
		if ((pae ? walk_once_pae(mem, rq, out) : walk_once(mem, rq, out)) == WALK_DONE)
			return;
	/* The entries kept changing under the walk: report it as a table
	 * problem (the caller retries the access or stops). */
	out->ok = false;
	out->bad_table = true;
}

void pw_format_entry(uint32_t e, bool pde, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	const bool big = pde && (e & PW_E_PS);
	const uint32_t frame = big ? (e & FRAME_4M) : (e & FRAME_4K);
	const char *ps = pde ? ((e & PW_E_PS) ? "PS" : "--") : ((e & PW_E_PS) ? "PAT" : "---");
	int n = snprintf(buf, len, "%s %s %s %s %s %s %s frame=0x%08x",
			 (e & PW_E_P) ? "P" : "-",
			 (e & PW_E_RW) ? "RW" : "--",
			 (e & PW_E_US) ? "US" : "--",
			 (e & PW_E_A) ? "A" : "-",
			 (e & PW_E_D) ? "D" : "-",
			 (e & PW_E_G) ? "G" : "-",
			 ps, frame);
	if (big && (e & PDE_4M_RSVD) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " rsvd=0x%x", (e & PDE_4M_RSVD) >> 13);
}
