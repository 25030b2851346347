/* The guest page-table walker of the shadow MMU: given the guest control
 * registers and a linear address, it walks the guest's page tables in
 * guest-physical memory as the CPU does, checks the access rights, sets the
 * Accessed/Dirty bits, and says what a shadow (host) mapping of that page
 * may allow.  Pure: no host state, no globals; it touches guest memory only
 * to read the entries it uses and to set their A/D bits.
 *
 * 32-bit paging (SDM Vol. 3A 4.3), with 4 MiB pages (CR4.PSE) and global
 * pages (CR4.PGE), and PAE paging (4.4, CR4.PAE=1) with 2 MiB pages.
 *
 * Rules implemented (Intel SDM Vol. 3A, chapter 4):
 *
 * 4.3  The PDE is at (CR3 & 0xFFFFF000) | lin[31:22] * 4; with CR4.PSE=1
 *      and PDE.PS=1 it maps a 4 MiB page at PDE[31:22] (physical address
 *      PDE[31:22] | lin[21:0]); with CR4.PSE=0 the PS bit is ignored and
 *      the PDE always references a page table.  The PTE is at
 *      (PDE & 0xFFFFF000) | lin[21:12] * 4 and maps PTE[31:12] | lin[11:0].
 *      The only reserved bits of 32-bit paging are PDE bits 21:13 of a
 *      4 MiB page when PSE-36 is not supported (bits 21:(M-19) with it).
 *      CHOICE: btvm's CPU model (bt/emulate.c CPUID.01H:EDX) does not
 *      advertise PSE-36, so bits 21:13 of a 4 MiB PDE are reserved: a
 *      non-zero value gives a reserved-bit #PF (error code P|RSVD|W/R|U/S),
 *      exactly what such a CPU does; they are never truncated into an
 *      address.  PAT (PTE bit 7, 4 MiB PDE bit 12) is advertised, so those
 *      bits are ignored (caching is not modelled), not reserved.
 * 4.6  Access rights, combined over the PDE and PTE:
 *      supervisor (user=false): reads and fetches anywhere; writes anywhere
 *      when CR0.WP=0, only where R/W=1 in both entries when CR0.WP=1.
 *      user (user=true): U/S=1 in both entries for any access; writes also
 *      need R/W=1 in both.
 *      Instruction fetches: with PAE and EFER.NXE (rq->nxe), XD=1 in the
 *      PDE or PTE forbids fetches at any CPL; with CR4.SMEP (bit 20) a
 *      supervisor fetch from a user page (U/S=1 in both entries) faults.
 *      Data: with CR4.SMAP (bit 21) a supervisor read or write of a user
 *      page faults unless rq->smap_ac (an explicit access with EFLAGS.AC=1;
 *      implicit accesses to descriptor tables and the TSS are always
 *      checked).  Otherwise a fetch is checked like a read.
 * 4.7  Error code: bit 0 P = 0 when a P=0 entry ended the walk, 1 for a
 *      protection or reserved-bit fault; bit 1 W/R = the access is a write;
 *      bit 2 U/S = user access; bit 3 RSVD = a reserved bit was set (only
 *      checked in a present entry, so RSVD implies P); bit 4 I/D = 1 for
 *      every fault of a fetch when CR4.SMEP=1 or CR4.PAE=1 and EFER.NXE=1
 *      (not-present and reserved-bit faults included), else 0.  CR2 = lin.
 * 4.8  A is set in every entry used by a translation, D in the entry that
 *      maps the page (PTE, or PDE with PS=1) on a write; both are sticky.
 *      CHOICE on failing walks: the SDM ties A to an entry being used by a
 *      translation, and real processors differ on whether a PDE's A is set
 *      when the walk later faults (the PTE's A/D are set only when the
 *      access succeeds); KVM's and Xen's walkers set nothing on a fault.
 *      pw_walk likewise writes no A/D bit at all unless the access is
 *      allowed, which is behaviour some real CPU shows, so no guest can
 *      depend on the other.
 *      The update is a compare-and-swap of the whole 32-bit entry against
 *      the value the walk used; if the entry changed in between (another
 *      vCPU, or a recursive mapping where the PTE is the PDE itself) the
 *      walk starts again, so A/D are never set on an entry the walk did not
 *      see.
 *
 * 4.4  PAE paging (CR4.PAE=1), with the CPU model's MAXPHYADDR of 36:
 *      - the PDPTE is at (CR3 & 0xFFFFFFE0) | lin[31:30] * 8.  CHOICE: a
 *        real CPU loads the four PDPTEs into registers on a CR3 load (and
 *        a CR0/CR4 write that enables PAE paging) and gives #GP there for
 *        reserved bits; pw_walk reads the PDPTE at walk time instead (the
 *        brief allows either).  A guest sees a difference only if it
 *        rewrites its PDPT without reloading CR3, which the SDM (4.4.1)
 *        leaves to the "cached" values; btvm's virtual TLB only walks on a
 *        miss, and CR3 loads empty it, so a guest that follows the rules
 *        sees the same thing.  A P=0 PDPTE gives #PF (P=0) and reserved
 *        bits 2:1, 8:5 or 63:36 in a present one give #PF with RSVD.
 *        PDPTEs have no R/W, U/S, A or D.
 *      - the PDE is at PDPTE[35:12] | lin[29:21] * 8; PS=1 (honoured
 *        whatever CR4.PSE says) maps a 2 MiB page at PDE[35:21]; bits
 *        20:13 of such a PDE are reserved (bit 12 is PAT, ignored).
 *      - the PTE is at PDE[35:12] | lin[20:12] * 8 and maps PTE[35:12].
 *      - bits 62:36 of every PDE/PTE are reserved (above MAXPHYADDR), and
 *        bit 63 (XD) too when EFER.NXE=0.  #PF with RSVD.  A PDPTE has no
 *        XD: its bit 63 is always reserved.
 *      Rights, A/D and G as above over the PDE and PTE; entries are
 *      64-bit and the A/D update is a compare-and-swap of the whole entry.
 *      CHOICE: a translation to a page at or above 4 GiB (possible with 36
 *      bits) is valid, but btvm has nothing there (RAM and MMIO lie below
 *      4 GiB) and pa is 32-bit: pw_walk reports it as bad_table with
 *      page_pa set (>= 4 GiB) so a caller never uses a truncated address.
 *
 * CR0.PG is not looked at: call pw_walk with paging on.
 */
#ifndef BTVM_SHADOW_PAGEWALK_H
#define BTVM_SHADOW_PAGEWALK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/phys_mem.h"

enum pw_access { PW_READ = 0, PW_WRITE = 1, PW_FETCH = 2 };

/* #PF error code bits (SDM Vol. 3A 4.7, figure 4-12). */
#define PW_PF_P    0x01u
#define PW_PF_W    0x02u
#define PW_PF_U    0x04u
#define PW_PF_RSVD 0x08u
#define PW_PF_ID   0x10u

/* Paging-structure entry bits (32-bit paging; the same low bits in PAE). */
#define PW_E_P   0x001u
#define PW_E_RW  0x002u
#define PW_E_US  0x004u
#define PW_E_PWT 0x008u
#define PW_E_PCD 0x010u
#define PW_E_A   0x020u
#define PW_E_D   0x040u
#define PW_E_PS  0x080u  /* PDE; in a PTE this bit is PAT */
#define PW_E_G   0x100u

struct pw_request {
	uint32_t cr0, cr3, cr4;  /* guest control registers (CR0.WP, CR4.PSE, CR4.PAE, CR4.PGE matter) */
	uint32_t lin;            /* guest linear address */
	enum pw_access access;
	bool user;               /* CPL 3 access (or an implicit supervisor access: false) */
	bool set_ad;             /* set Accessed/Dirty bits in the guest tables as the CPU does */
	bool nxe;                /* IA32_EFER.NXE: PAE bit 63 is XD, not reserved (SDM Vol. 3A 4.4, 4.6) */
	bool smap_ac;            /* a supervisor data access that CR4.SMAP lets reach user pages:
				    explicit (not a descriptor-table/TSS access) with EFLAGS.AC = 1 */
};

/* Besides the documented "valid when ok" fields: on a protection fault
 * (error_code P=1, RSVD=0) the translation exists, so pa, page_pa, size,
 * writable, user_ok, global and dirty are filled too (a caller can still
 * map the page for the accesses it allows).  pdpte_pa, pde_pa and pte_pa always hold
 * the entries the walk reached (0 for one it did not reach), also on a
 * fault and with bad_table (then one of them may be the address outside
 * RAM).  With bad_table, error_code holds only W/R and U/S of the access
 * (P=0), for a caller that chooses to deliver a #PF. */
struct pw_result {
	bool ok;                 /* translation succeeded and the access is allowed */
	uint32_t pa;             /* physical address of lin (valid when ok) */
	uint64_t page_pa;        /* physical base of the mapped page (4 KiB aligned; for a 4 MiB or 2 MiB page, of the 4 KiB frame containing lin) */
	uint32_t size;           /* 4096, 4 MiB (0x400000) or, with PAE, 2 MiB (0x200000) */
	bool writable;           /* may the access type map writable?  combined R/W of PDE and PTE, honouring CR0.WP for supervisor */
	bool user_ok;            /* combined U/S == user */
	bool global;             /* G bit (CR4.PGE) of the final entry */
	bool dirty;              /* D of the final entry after the walk (so a shadow can map read-only until the first write) */
	bool xd;                 /* PAE with NXE: XD set in the PDE or PTE (no fetch from the page) */
	uint64_t pde_pa, pte_pa; /* physical addresses of the entries used (pte_pa = 0 for a 4 MiB or 2 MiB page) */
	uint32_t pdpte_pa;       /* PAE: the PDPTE used (0 for 32-bit paging) */
	/* when !ok: the #PF error code (SDM Vol. 3A 4.7: P, W/R, U/S, RSVD, I/D) and CR2 (= lin) */
	uint32_t error_code;
	bool bad_table;          /* a table or entry lies outside guest RAM (the lead decides what to do) */
};

/* Walks the guest's page tables in guest-physical memory `mem`: 2-level
 * 32-bit paging (SDM Vol. 3A 4.3) or, with CR4.PAE=1, 3-level PAE paging
 * (4.4), see the rules above.  The mapped page
 * itself may lie outside RAM (MMIO): that is a valid translation, the
 * caller checks pa; only a page directory or page table entry outside RAM
 * gives bad_table. */
void pw_walk(const struct phys_mem *mem, const struct pw_request *rq, struct pw_result *out);

/* Decodes a PTE/PDE for messages: "P RW US A D G PS frame=0x...".  A clear
 * flag prints as dashes of the same width, so columns line up, e.g.
 * "P RW -- A - - -- frame=0x00123000".  For a PTE the PS column shows PAT
 * (bit 7).  frame is bits 31:12 (a PTE, or a PDE that references a page
 * table) or bits 31:22 (a PDE with PS=1); a 4 MiB PDE with any of bits
 * 21:13 set gets " rsvd=0x..." (those bits, shifted down by 13). */
void pw_format_entry(uint32_t e, bool pde, char *buf, size_t len);
#endif
