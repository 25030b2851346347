/* The guest page-table walker (shadow/pagewalk.c), 32-bit and PAE paging, on a
 * calloc'd guest RAM with hand-built tables.  Named test_monitor_* so that
 * it links btvm_shadow (through the monitor library). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shadow/pagewalk.h"

#define RAM_SIZE (8u << 20)
#define PD 0x1000u   /* CR3 */
#define PT 0x2000u
#define PT2 0x3000u

#define P  PW_E_P
#define RW PW_E_RW
#define US PW_E_US
#define A  PW_E_A
#define D  PW_E_D
#define PS PW_E_PS
#define G  PW_E_G

#define CR0_PE 0x1u
#define CR0_WP 0x10000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u

struct fx {
	uint8_t *buf;
	struct phys_mem mem;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->buf = calloc(1, RAM_SIZE + 8);
	if (!f->buf)
		return -1;
	f->mem.base = f->buf;
	f->mem.size = RAM_SIZE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->buf);
	free(f);
	return 0;
}

static void put(struct fx *f, uint32_t pa, uint32_t v)
{
	assert_true(phys_write(&f->mem, pa, &v, 4));
}

static uint32_t get(struct fx *f, uint32_t pa)
{
	uint32_t v = 0;
	assert_true(phys_read(&f->mem, pa, &v, 4));
	return v;
}

static uint32_t pde_addr(uint32_t cr3, uint32_t lin) { return cr3 + (lin >> 22) * 4; }
static uint32_t pte_addr(uint32_t pt, uint32_t lin) { return pt + ((lin >> 12) & 0x3ff) * 4; }

/* Maps lin (4 KiB) with PDE flags pdef (table PT) and PTE flags ptef. */
static void map4k(struct fx *f, uint32_t lin, uint32_t pt, uint32_t pdef, uint32_t frame, uint32_t ptef)
{
	put(f, pde_addr(PD, lin), pt | pdef);
	put(f, pte_addr(pt, lin), frame | ptef);
}

static struct pw_result walk(struct fx *f, uint32_t cr0, uint32_t cr4, uint32_t lin,
			     enum pw_access acc, bool user, bool set_ad)
{
	struct pw_request rq = {
		.cr0 = cr0, .cr3 = PD, .cr4 = cr4, .lin = lin,
		.access = acc, .user = user, .set_ad = set_ad,
	};
	struct pw_result r;
	memset(&r, 0xa5, sizeof(r));  /* every field must be written */
	pw_walk(&f->mem, &rq, &r);
	return r;
}

#define CR0 (CR0_PE | CR0_PG)

static void translate_4k(void **state)
{
	struct fx *f = *state;
	map4k(f, 0x00403123, PT, P | RW | US, 0x5000, P | RW | US);
	struct pw_result r = walk(f, CR0, 0, 0x00403123, PW_READ, false, false);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x5123);
	assert_int_equal(r.page_pa, 0x5000);
	assert_int_equal(r.size, 4096);
	assert_true(r.writable);
	assert_true(r.user_ok);
	assert_false(r.global);
	assert_false(r.dirty);
	assert_int_equal(r.pde_pa, 0x1004);
	assert_int_equal(r.pte_pa, 0x200c);
	assert_false(r.bad_table);
	/* set_ad=false: the tables are not written, even on a write */
	r = walk(f, CR0, 0, 0x00403123, PW_WRITE, true, false);
	assert_true(r.ok);
	assert_false(r.dirty);
	assert_int_equal(get(f, 0x1004), PT | P | RW | US);
	assert_int_equal(get(f, 0x200c), 0x5000 | P | RW | US);
	/* a neighbouring page is not mapped */
	r = walk(f, CR0, 0, 0x00404000, PW_READ, false, false);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 0);
	assert_int_equal(r.pte_pa, 0x2010);
}

static void translate_4m_and_pse_off(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x009abcde;  /* PDE 2, offset 0x1abcde */
	put(f, PD + 2 * 4, 0x00400000 | P | RW | PS);
	struct pw_result r = walk(f, CR0, CR4_PSE, lin, PW_READ, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x005abcde);
	assert_int_equal(r.page_pa, 0x005ab000);
	assert_int_equal(r.size, 0x400000);
	assert_int_equal(r.pde_pa, 0x1008);
	assert_int_equal(r.pte_pa, 0);
	assert_true(r.writable);
	assert_false(r.user_ok);
	assert_false(r.dirty);
	assert_int_equal(get(f, 0x1008), 0x00400000 | P | RW | PS | A);
	/* a write sets D in the PDE, the final entry of a 4 MiB page */
	r = walk(f, CR0, CR4_PSE, lin, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_true(r.dirty);
	assert_int_equal(get(f, 0x1008), 0x00400000 | P | RW | PS | A | D);

	/* CR4.PSE=0: PS is ignored, 0x00400000 is a page table */
	put(f, 0x1008, 0x00400000 | P | RW | PS);
	put(f, 0x00400000 + 0x1ab * 4, 0x7000 | P | RW);
	r = walk(f, CR0, 0, lin, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x7cde);
	assert_int_equal(r.page_pa, 0x7000);
	assert_int_equal(r.size, 4096);
	assert_int_equal(r.pte_pa, 0x004006ac);
	assert_int_equal(get(f, 0x1008), 0x00400000 | P | RW | PS | A);  /* no D in a table pointer */
	assert_int_equal(get(f, 0x004006ac), 0x7000 | P | RW | A | D);
	/* ... and its PTE not present: a plain not-present fault */
	put(f, 0x004006ac, 0);
	r = walk(f, CR0, 0, lin, PW_READ, false, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 0);
}

static void pse36_bits_are_reserved(void **state)
{
	struct fx *f = *state;
	const uint32_t e = 0x00400000 | (1u << 13) | P | RW | US | PS;  /* "bit 32" of a PSE-36 address */
	put(f, PD + 4, e);
	struct pw_result r = walk(f, CR0, CR4_PSE, 0x00412345, PW_READ, false, true);
	assert_false(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD);
	r = walk(f, CR0, CR4_PSE, 0x00412345, PW_WRITE, true, true);
	assert_int_equal(r.error_code, 0xf);
	assert_int_equal(get(f, PD + 4), e);  /* no A */
	/* bit 21, the top of the reserved range */
	put(f, PD + 4, 0x00400000 | (1u << 21) | P | PS);
	r = walk(f, CR0, CR4_PSE, 0x00412345, PW_FETCH, false, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD);
	/* PAT (bit 12) is not reserved */
	put(f, PD + 4, 0x00400000 | (1u << 12) | P | PS);
	r = walk(f, CR0, CR4_PSE, 0x00412345, PW_READ, false, false);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x00412345);
	/* reserved bits are not checked in a not-present entry */
	put(f, PD + 4, 0x00400000 | (1u << 13) | PS);
	r = walk(f, CR0, CR4_PSE, 0x00412345, PW_WRITE, false, false);
	assert_int_equal(r.error_code, PW_PF_W);
}

static void not_present_error_codes(void **state)
{
	struct fx *f = *state;
	static const struct { enum pw_access acc; bool user; uint32_t ec; } c[] = {
		{ PW_READ, false, 0 }, { PW_WRITE, false, 2 }, { PW_READ, true, 4 }, { PW_WRITE, true, 6 },
		{ PW_FETCH, false, 0 }, { PW_FETCH, true, 4 },  /* no I/D without NX/SMEP */
	};
	const uint32_t lin = 0x00c05000;
	/* PDE not present (everything else set) */
	put(f, pde_addr(PD, lin), PT | RW | US | A);
	put(f, pte_addr(PT, lin), 0x9000 | P | RW | US);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pw_result r = walk(f, CR0 | CR0_WP, 0, lin, c[i].acc, c[i].user, true);
		assert_false(r.ok);
		assert_false(r.bad_table);
		assert_int_equal(r.error_code, c[i].ec);
		assert_int_equal(r.pde_pa, pde_addr(PD, lin));
		assert_int_equal(r.pte_pa, 0);
	}
	/* PDE present, PTE not present */
	map4k(f, lin, PT, P | RW | US, 0x9000, RW | US | A | D);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pw_result r = walk(f, CR0 | CR0_WP, 0, lin, c[i].acc, c[i].user, true);
		assert_false(r.ok);
		assert_int_equal(r.error_code, c[i].ec);
		assert_int_equal(r.pte_pa, pte_addr(PT, lin));
	}
	/* the failed walks set no A in the PDE */
	assert_int_equal(get(f, pde_addr(PD, lin)), PT | P | RW | US);
}

static void user_access_to_supervisor_page(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00001000;
	map4k(f, lin, PT, P | RW | US, 0x8000, P | RW);  /* PTE U/S=0 */
	struct pw_result r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, true, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 5);
	assert_false(r.user_ok);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, true, true);
	assert_int_equal(r.error_code, 7);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_FETCH, true, true);
	assert_int_equal(r.error_code, 5);
	/* no A/D on any of those */
	assert_int_equal(get(f, PD), PT | P | RW | US);
	assert_int_equal(get(f, PT + 4), 0x8000 | P | RW);
	/* the supervisor may read, write and fetch it */
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, false, false);
	assert_true(r.ok);
	assert_true(r.writable);
	assert_false(r.user_ok);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_FETCH, false, false);
	assert_true(r.ok);
	/* a supervisor access to a user page is allowed (no SMAP/SMEP) */
	put(f, PT + 4, 0x8000 | P | US);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, false, false);
	assert_true(r.ok);
	assert_true(r.user_ok);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_FETCH, false, false);
	assert_true(r.ok);
}

static void user_write_to_read_only(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00002abc;
	map4k(f, lin, PT, P | RW | US, 0x8000, P | US);
	struct pw_result r = walk(f, CR0, 0, lin, PW_WRITE, true, true);  /* WP=0 does not matter for user */
	assert_false(r.ok);
	assert_int_equal(r.error_code, 7);
	assert_false(r.writable);
	assert_true(r.user_ok);
	assert_int_equal(r.pa, 0x8abc);  /* the translation exists */
	r = walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.writable);
	assert_int_equal(r.pa, 0x8abc);
}

static void supervisor_write_to_read_only(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00003000;
	map4k(f, lin, PT, P | US, 0x8000, P | US);
	struct pw_result r = walk(f, CR0, 0, lin, PW_WRITE, false, true);  /* WP=0 */
	assert_true(r.ok);
	assert_true(r.writable);
	assert_true(r.dirty);
	assert_int_equal(get(f, PT + 12), 0x8000 | P | US | A | D);
	put(f, PT + 12, 0x8000 | P | US);
	put(f, PD, PT | P | US);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, false, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 3);
	assert_false(r.writable);
	assert_int_equal(get(f, PD), PT | P | US);
	assert_int_equal(get(f, PT + 12), 0x8000 | P | US);
	/* a supervisor read with WP=1 maps read-only */
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, false, false);
	assert_true(r.ok);
	assert_false(r.writable);
}

static void accessed_and_dirty(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00805000;  /* PDE 2, PTE 5 */
	map4k(f, lin, PT, P | RW | US, 0x9000, P | RW | US);
	struct pw_result r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.dirty);
	assert_int_equal(get(f, PD + 8), PT | P | RW | US | A);
	assert_int_equal(get(f, PT + 20), 0x9000 | P | RW | US | A);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_FETCH, true, true);
	assert_true(r.ok);
	assert_int_equal(get(f, PT + 20), 0x9000 | P | RW | US | A);  /* a fetch is no write */
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, true, true);
	assert_true(r.ok);
	assert_true(r.dirty);
	assert_int_equal(get(f, PD + 8), PT | P | RW | US | A);  /* D only in the final entry */
	assert_int_equal(get(f, PT + 20), 0x9000 | P | RW | US | A | D);
	/* D is sticky and reported on a later read */
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, true, true);
	assert_true(r.dirty);
	assert_int_equal(get(f, PT + 20), 0x9000 | P | RW | US | A | D);

	/* a write to a page that is read-only for the user: no A anywhere */
	const uint32_t lin2 = 0x00806000;
	put(f, PD + 8, PT | P | RW | US);
	put(f, PT + 24, 0xa000 | P | US);
	r = walk(f, CR0 | CR0_WP, 0, lin2, PW_WRITE, true, true);
	assert_false(r.ok);
	assert_int_equal(get(f, PD + 8), PT | P | RW | US);
	assert_int_equal(get(f, PT + 24), 0xa000 | P | US);
	/* the same page read: A in both, no D */
	r = walk(f, CR0 | CR0_WP, 0, lin2, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.dirty);
	assert_int_equal(get(f, PD + 8), PT | P | RW | US | A);
	assert_int_equal(get(f, PT + 24), 0xa000 | P | US | A);
}

static void combined_permissions(void **state)
{
	struct fx *f = *state;
	/* PDE R/W=0: the whole 4 MiB range read-only, whatever the PTEs say */
	const uint32_t lin = 0x01001000;  /* PDE 4, PTE 1 */
	map4k(f, lin, PT, P | US, 0x8000, P | RW | US);
	struct pw_result r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, false, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 3);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, true, true);
	assert_int_equal(r.error_code, 7);
	r = walk(f, CR0 | CR0_WP, 0, lin, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.writable);
	assert_true(r.user_ok);
	r = walk(f, CR0, 0, lin, PW_WRITE, false, true);  /* WP=0: the supervisor may */
	assert_true(r.ok);
	assert_true(r.writable);

	/* PDE U/S=0: the whole range supervisor-only */
	const uint32_t lin2 = 0x01402000;  /* PDE 5, PTE 2 */
	map4k(f, lin2, PT2, P | RW, 0x9000, P | RW | US);
	r = walk(f, CR0 | CR0_WP, 0, lin2, PW_READ, true, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, 5);
	assert_false(r.user_ok);
	assert_true(r.writable);
	r = walk(f, CR0 | CR0_WP, 0, lin2, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_false(r.user_ok);

	/* 4 MiB page: the PDE alone decides */
	put(f, PD + 6 * 4, 0x00c00000 | P | US | PS);
	r = walk(f, CR0 | CR0_WP, CR4_PSE, 0x01800010, PW_WRITE, true, true);
	assert_int_equal(r.error_code, 7);
	r = walk(f, CR0 | CR0_WP, CR4_PSE, 0x01800010, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.writable);
	assert_int_equal(r.pa, 0x00c00010);
	put(f, PD + 7 * 4, 0x00c00000 | P | RW | PS);
	r = walk(f, CR0 | CR0_WP, CR4_PSE, 0x01c00010, PW_READ, true, true);
	assert_int_equal(r.error_code, 5);
}

static void global_bit(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00007000;
	map4k(f, lin, PT, P | RW, 0x8000, P | RW | G);
	struct pw_result r = walk(f, CR0, 0, lin, PW_READ, false, false);
	assert_true(r.ok);
	assert_false(r.global);
	r = walk(f, CR0, CR4_PGE, lin, PW_READ, false, false);
	assert_true(r.global);
	/* G in the PDE of a page table is ignored: only the final entry counts */
	map4k(f, lin, PT, P | RW | G, 0x8000, P | RW);
	r = walk(f, CR0, CR4_PGE, lin, PW_READ, false, false);
	assert_true(r.ok);
	assert_false(r.global);
	/* 4 MiB page: the PDE is the final entry */
	put(f, PD + 4, 0x00400000 | P | RW | PS | G);
	r = walk(f, CR0, CR4_PSE | CR4_PGE, 0x00400000, PW_READ, false, false);
	assert_true(r.ok);
	assert_true(r.global);
	r = walk(f, CR0, CR4_PSE, 0x00400000, PW_READ, false, false);
	assert_false(r.global);
}

static void tables_outside_ram(void **state)
{
	struct fx *f = *state;
	/* the page directory beyond RAM */
	struct pw_request rq = { .cr0 = CR0, .cr3 = RAM_SIZE, .lin = 0x00400000,
				 .access = PW_WRITE, .user = true, .set_ad = true };
	struct pw_result r;
	pw_walk(&f->mem, &rq, &r);
	assert_false(r.ok);
	assert_true(r.bad_table);
	assert_int_equal(r.pde_pa, RAM_SIZE + 4);
	assert_int_equal(r.error_code, PW_PF_W | PW_PF_U);
	/* the last entry of a directory at the top of the address space */
	rq.cr3 = 0xfffff000;
	rq.lin = 0xffffffff;
	pw_walk(&f->mem, &rq, &r);
	assert_true(r.bad_table);
	assert_int_equal(r.pde_pa, 0xfffffffc);
	/* a page table beyond RAM */
	put(f, PD, 0xfee00000 | P | RW | US);
	r = walk(f, CR0, 0, 0x00003000, PW_READ, false, true);
	assert_false(r.ok);
	assert_true(r.bad_table);
	assert_int_equal(r.pte_pa, 0xfee0000c);
	assert_int_equal(get(f, PD), 0xfee00000 | P | RW | US);  /* no A */
	/* the last RAM page as a table is fine */
	put(f, PD, (RAM_SIZE - 4096) | P | RW | US);
	put(f, RAM_SIZE - 4, 0x1000 | P);
	r = walk(f, CR0, 0, 0x003ff000, PW_READ, false, true);
	assert_true(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.pte_pa, RAM_SIZE - 4);
	/* the mapped page itself outside RAM (MMIO) is a valid translation */
	put(f, PD, PT | P | RW);
	put(f, PT, 0xfee00000 | P | RW);
	r = walk(f, CR0, 0, 0x00000300, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.pa, 0xfee00300);
}

static void edge_addresses(void **state)
{
	struct fx *f = *state;
	map4k(f, 0xfffff000, PT, P | RW, 0x6000, P | RW);
	map4k(f, 0x00000000, PT2, P | RW, 0x7000, P | RW);
	struct pw_result r = walk(f, CR0, 0, 0xfffff000, PW_READ, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pde_pa, PD + 0xffc);
	assert_int_equal(r.pte_pa, PT + 0xffc);
	assert_int_equal(r.pa, 0x6000);
	r = walk(f, CR0, 0, 0xffffffff, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x6fff);
	assert_int_equal(r.page_pa, 0x6000);
	r = walk(f, CR0, 0, 0, PW_READ, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pde_pa, PD);
	assert_int_equal(r.pte_pa, PT2);
	assert_int_equal(r.pa, 0x7000);
	assert_int_equal(get(f, PD), PT2 | P | RW | A);
	assert_int_equal(get(f, PD + 0xffc), PT | P | RW | A);
	assert_int_equal(get(f, PT + 0xffc), 0x6000 | P | RW | A | D);
	/* 4 MiB page at the top of the address space */
	put(f, PD + 0xffc, 0x00400000 | P | RW | PS);
	r = walk(f, CR0, CR4_PSE, 0xffffffff, PW_READ, false, false);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x007fffff);
	assert_int_equal(r.page_pa, 0x007ff000);
	/* CR3's low 12 bits (PWT, PCD, ignored) do not move the directory */
	struct pw_request rq = { .cr0 = CR0, .cr3 = PD | 0xfff, .lin = 0, .access = PW_READ };
	pw_walk(&f->mem, &rq, &r);
	assert_true(r.ok);
	assert_int_equal(r.pde_pa, PD);
}

static void recursive_mapping(void **state)
{
	struct fx *f = *state;
	/* PDE 1023 points at the directory itself: lin 0xfffff000 maps the
	 * directory, and its PTE is that same PDE. */
	put(f, PD + 0xffc, PD | P | RW);
	struct pw_result r = walk(f, CR0, 0, 0xfffff010, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pde_pa, PD + 0xffc);
	assert_int_equal(r.pte_pa, PD + 0xffc);
	assert_int_equal(r.pa, PD + 0x10);
	assert_true(r.dirty);
	assert_int_equal(get(f, PD + 0xffc), PD | P | RW | A | D);
}

/* ---- PAE paging (SDM Vol. 3A 4.4) ---- */

#define PDPT  0x1020u  /* CR3 with PAE: 32-byte aligned */
#define PAE_PD 0x4000u
#define PAE_PT 0x5000u
#define XD    (1ull << 63)

static void put64(struct fx *f, uint32_t pa, uint64_t v)
{
	assert_true(phys_write(&f->mem, pa, &v, 8));
}

static uint64_t get64(struct fx *f, uint32_t pa)
{
	uint64_t v = 0;
	assert_true(phys_read(&f->mem, pa, &v, 8));
	return v;
}

static uint32_t pae_pdpte(uint32_t lin) { return PDPT + (lin >> 30) * 8; }
static uint32_t pae_pde(uint32_t pd, uint32_t lin) { return pd + ((lin >> 21) & 0x1ff) * 8; }
static uint32_t pae_pte(uint32_t pt, uint32_t lin) { return pt + ((lin >> 12) & 0x1ff) * 8; }

/* Maps lin (4 KiB) through PAE_PD and PAE_PT. */
static void pae_map4k(struct fx *f, uint32_t lin, uint64_t pdef, uint64_t pte)
{
	put64(f, pae_pdpte(lin), PAE_PD | P);
	put64(f, pae_pde(PAE_PD, lin), PAE_PT | pdef);
	put64(f, pae_pte(PAE_PT, lin), pte);
}

static struct pw_result pae_walk(struct fx *f, uint32_t cr0, uint32_t cr4, uint32_t lin,
				 enum pw_access acc, bool user, bool set_ad)
{
	struct pw_request rq = {
		.cr0 = cr0, .cr3 = PDPT, .cr4 = cr4 | CR4_PAE, .lin = lin,
		.access = acc, .user = user, .set_ad = set_ad,
	};
	struct pw_result r;
	memset(&r, 0xa5, sizeof(r));
	pw_walk(&f->mem, &rq, &r);
	return r;
}

static void pae_translate_4k(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0xc0a03123;  /* PDPTE 3, PDE 0x005, PTE 0x003 */
	pae_map4k(f, lin, P | RW | US, 0x7000 | P | RW | US);
	struct pw_result r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_true(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.pa, 0x7123);
	assert_int_equal(r.page_pa, 0x7000);
	assert_int_equal(r.size, 4096);
	assert_int_equal(r.pdpte_pa, PDPT + 24);
	assert_int_equal(r.pde_pa, PAE_PD + 5 * 8);
	assert_int_equal(r.pte_pa, PAE_PT + 3 * 8);
	assert_true(r.writable);
	assert_true(r.user_ok);
	assert_false(r.dirty);
	/* A in the PDE and PTE, none in the PDPTE (it has no A bit) */
	assert_int_equal(get64(f, pae_pdpte(lin)), PAE_PD | P);
	assert_int_equal(get64(f, pae_pde(PAE_PD, lin)), PAE_PT | P | RW | US | A);
	assert_int_equal(get64(f, pae_pte(PAE_PT, lin)), 0x7000 | P | RW | US | A);
	/* a write sets D and keeps the other bits of the 64-bit entry */
	r = pae_walk(f, CR0, 0, lin, PW_WRITE, true, true);
	assert_true(r.ok);
	assert_true(r.dirty);
	assert_int_equal(get64(f, pae_pte(PAE_PT, lin)), 0x7000 | P | RW | US | A | D);
	/* a 32-bit walk of the same CR3 reads other entries: PAE is what selects */
	struct pw_request rq = { .cr0 = CR0, .cr3 = PDPT, .lin = lin, .access = PW_READ };
	pw_walk(&f->mem, &rq, &r);
	assert_int_equal(r.pdpte_pa, 0);
	assert_int_equal(r.pde_pa, 0x1000 + (lin >> 22) * 4);
	/* neighbouring linear pages use neighbouring 8-byte entries */
	put64(f, pae_pte(PAE_PT, lin + 0x1000), 0x8000 | P);
	r = pae_walk(f, CR0, 0, lin + 0x1000, PW_READ, false, false);
	assert_true(r.ok);
	assert_int_equal(r.pte_pa, PAE_PT + 4 * 8);
	assert_int_equal(r.pa, 0x8123);
}

static void pae_2m_page(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x40654321;  /* PDPTE 1, PDE 3 */
	put64(f, pae_pdpte(lin), PAE_PD | P);
	/* PS is honoured without CR4.PSE; PAT (bit 12) is not reserved */
	put64(f, pae_pde(PAE_PD, lin), 0x00600000 | P | RW | PS | G | 0x1000);
	struct pw_result r = pae_walk(f, CR0, CR4_PGE, lin, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.size, 0x200000);
	assert_int_equal(r.pa, 0x00654321);
	assert_int_equal(r.page_pa, 0x00654000);
	assert_int_equal(r.pte_pa, 0);
	assert_true(r.global);
	assert_true(r.dirty);
	assert_int_equal(get64(f, pae_pde(PAE_PD, lin)), 0x00600000 | P | RW | PS | G | 0x1000 | A | D);
	/* G without CR4.PGE does not count */
	r = pae_walk(f, CR0, 0, lin, PW_READ, false, false);
	assert_true(r.ok);
	assert_false(r.global);
	/* bits 20:13 of a 2 MiB PDE are reserved */
	put64(f, pae_pde(PAE_PD, lin), 0x00602000 | P | RW | PS);
	r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_false(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_U);
	assert_int_equal(get64(f, pae_pde(PAE_PD, lin)), 0x00602000 | P | RW | PS);  /* no A */
	put64(f, pae_pde(PAE_PD, lin), 0x00700000 | P | RW | PS);
	r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_U);
}

static void pae_reserved_bits(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00201000;
	/* bit 63 (XD) is reserved: EFER.NXE cannot be set */
	pae_map4k(f, lin, P | RW, XD | 0x9000 | P | RW);
	struct pw_result r = pae_walk(f, CR0, 0, lin, PW_WRITE, false, true);
	assert_false(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_W);
	assert_int_equal(get64(f, pae_pde(PAE_PD, lin)), PAE_PT | P | RW);  /* no A */
	/* a fetch gets no I/D (no NXE, no SMEP) */
	r = pae_walk(f, CR0, 0, lin, PW_FETCH, true, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_U);
	/* bit 36 (MAXPHYADDR = 36) is reserved, bit 35 is an address bit */
	put64(f, pae_pte(PAE_PT, lin), (1ull << 36) | 0x9000 | P);
	r = pae_walk(f, CR0, 0, lin, PW_READ, false, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD);
	put64(f, pae_pte(PAE_PT, lin), (1ull << 35) | 0x9000 | P);
	r = pae_walk(f, CR0, 0, lin, PW_READ, false, true);
	assert_false(r.ok);
	assert_true(r.bad_table);  /* a page above 4 GiB: btvm has nothing there */
	assert_int_equal(r.page_pa, (1ull << 35) | 0x9000);
	assert_int_equal(r.error_code, 0);
	/* a reserved bit in a PDE that references a table */
	put64(f, pae_pte(PAE_PT, lin), 0x9000 | P);
	put64(f, pae_pde(PAE_PD, lin), XD | PAE_PT | P | RW);
	r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_U);
	assert_int_equal(r.pte_pa, 0);
	/* ... is not looked at when the entry is not present */
	put64(f, pae_pde(PAE_PD, lin), XD | PAE_PT);
	r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_int_equal(r.error_code, PW_PF_U);
	/* PDPTE: bits 2:1 and 8:5 are reserved (no R/W, U/S, A, D, PS, G) */
	put64(f, pae_pde(PAE_PD, lin), PAE_PT | P | RW);
	const uint64_t bad[] = { RW, US, A, D, PS, G, 1ull << 36, XD };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put64(f, pae_pdpte(lin), PAE_PD | P | bad[i]);
		r = pae_walk(f, CR0, 0, lin, PW_WRITE, false, true);
		assert_false(r.ok);
		assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD | PW_PF_W);
		assert_int_equal(r.pde_pa, 0);
	}
	/* PWT, PCD and the available bits 11:9 are not */
	put64(f, pae_pdpte(lin), PAE_PD | P | PW_E_PWT | PW_E_PCD | 0xe00);
	r = pae_walk(f, CR0, 0, lin, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x9000);
	/* a PDPTE with P=0: #PF, P=0 */
	put64(f, pae_pdpte(lin), PAE_PD);
	r = pae_walk(f, CR0, 0, lin, PW_WRITE, true, true);
	assert_false(r.ok);
	assert_false(r.bad_table);
	assert_int_equal(r.error_code, PW_PF_W | PW_PF_U);
	assert_int_equal(r.pdpte_pa, PDPT);
}

static void pae_permissions(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x80003000;
	/* rights combine over PDE and PTE */
	pae_map4k(f, lin, P | RW, 0xa000 | P | RW | US);
	struct pw_result r = pae_walk(f, CR0, 0, lin, PW_READ, true, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_U);
	assert_false(r.user_ok);
	assert_int_equal(r.pa, 0xa000);  /* a protection fault still translates */
	put64(f, pae_pde(PAE_PD, lin), PAE_PT | P | US);
	r = pae_walk(f, CR0, 0, lin, PW_WRITE, true, true);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_W | PW_PF_U);
	/* supervisor writes to a read-only page: allowed with WP=0 only */
	r = pae_walk(f, CR0, 0, lin, PW_WRITE, false, true);
	assert_true(r.ok);
	r = pae_walk(f, CR0 | CR0_WP, 0, lin, PW_WRITE, false, true);
	assert_false(r.ok);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_W);
	/* a user read is fine; G of the PTE with CR4.PGE */
	put64(f, pae_pte(PAE_PT, lin), 0xa000 | P | US | G);
	r = pae_walk(f, CR0, CR4_PGE, lin, PW_READ, true, false);
	assert_true(r.ok);
	assert_true(r.global);
	assert_false(r.writable);
}

static void pae_tables_outside_ram(void **state)
{
	struct fx *f = *state;
	/* CR3 bits 4:0 are ignored; the PDPT itself beyond RAM */
	struct pw_request rq = { .cr0 = CR0, .cr3 = RAM_SIZE | 0x1f, .cr4 = CR4_PAE,
				 .lin = 0xc0000000, .access = PW_READ, .set_ad = true };
	struct pw_result r;
	pw_walk(&f->mem, &rq, &r);
	assert_false(r.ok);
	assert_true(r.bad_table);
	assert_int_equal(r.pdpte_pa, RAM_SIZE + 24);
	/* a page directory above 4 GiB */
	const uint32_t lin = 0x00001000;
	put64(f, pae_pdpte(lin), (1ull << 32) | P);
	r = pae_walk(f, CR0, 0, lin, PW_READ, false, true);
	assert_true(r.bad_table);
	assert_int_equal(r.pde_pa, 1ull << 32);
	/* a page table beyond RAM; the PDE gets no A */
	put64(f, pae_pdpte(lin), PAE_PD | P);
	put64(f, pae_pde(PAE_PD, lin), 0xfee00000 | P | RW);
	r = pae_walk(f, CR0, 0, lin, PW_READ, false, true);
	assert_true(r.bad_table);
	assert_int_equal(r.pte_pa, 0xfee00008);
	assert_int_equal(get64(f, pae_pde(PAE_PD, lin)), 0xfee00000 | P | RW);
	/* a mapped page outside RAM but below 4 GiB (MMIO) is a translation */
	put64(f, pae_pde(PAE_PD, lin), PAE_PT | P | RW);
	put64(f, pae_pte(PAE_PT, lin), 0xfee00000 | P | RW);
	r = pae_walk(f, CR0, 0, lin | 0x30, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0xfee00030);
}

static void pae_recursive_and_unaligned(void **state)
{
	struct fx *f = *state;
	f->mem.base = f->buf + 4;  /* 4- but not 8-byte aligned: the memcpy path */
	/* PDE 511 of the last directory points at the directory itself */
	put64(f, pae_pdpte(0xffe00000), PAE_PD | P);
	put64(f, PAE_PD + 511 * 8, PAE_PD | P | RW);
	struct pw_result r = pae_walk(f, CR0, 0, 0xfffff010, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pde_pa, PAE_PD + 511 * 8);
	assert_int_equal(r.pte_pa, PAE_PD + 511 * 8);
	assert_int_equal(r.pa, PAE_PD + 0x10);
	assert_int_equal(get64(f, PAE_PD + 511 * 8), PAE_PD | P | RW | A | D);
}

static void unaligned_host_base(void **state)
{
	struct fx *f = *state;
	f->mem.base = f->buf + 1;  /* the non-atomic path */
	map4k(f, 0x5000, PT, P | RW, 0x8000, P | RW);
	struct pw_result r = walk(f, CR0, 0, 0x5000, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(r.pa, 0x8000);
	assert_int_equal(get(f, PD), PT | P | RW | A);
	assert_int_equal(get(f, PT + 0x14), 0x8000 | P | RW | A | D);
	put(f, PD + 0xffc, PD | P | RW);
	r = walk(f, CR0, 0, 0xfffff000, PW_WRITE, false, true);
	assert_true(r.ok);
	assert_int_equal(get(f, PD + 0xffc), PD | P | RW | A | D);
}

static void format_entry(void **state)
{
	(void)state;
	char b[80];
	pw_format_entry(0x00123000 | P | RW | A, false, b, sizeof(b));
	assert_string_equal(b, "P RW -- A - - --- frame=0x00123000");
	pw_format_entry(0xfffff000 | P | RW | US | A | D | G | PS, false, b, sizeof(b));
	assert_string_equal(b, "P RW US A D G PAT frame=0xfffff000");
	pw_format_entry(0x00400000 | P | US | PS | G | D | 0x1000 /* PAT */, true, b, sizeof(b));
	assert_string_equal(b, "P -- US - D G PS frame=0x00400000");
	pw_format_entry(0x00402000 | P | PS, true, b, sizeof(b));
	assert_string_equal(b, "P -- -- - - - PS frame=0x00400000 rsvd=0x1");
	pw_format_entry(0x00402000 | P, true, b, sizeof(b));
	assert_string_equal(b, "P -- -- - - - -- frame=0x00402000");
	pw_format_entry(0, true, b, sizeof(b));
	assert_string_equal(b, "- -- -- - - - -- frame=0x00000000");
	/* truncation stays terminated */
	pw_format_entry(0x00402000 | P | PS, true, b, 10);
	assert_string_equal(b, "P -- -- -");
	pw_format_entry(0x00402000 | P | PS, true, b, 1);
	assert_string_equal(b, "");
	pw_format_entry(0, false, NULL, 0);
}

/* EFER.NXE, SMEP and SMAP (SDM Vol. 3A 4.6, 4.7). */
static struct pw_result walk_ex(struct fx *f, uint32_t cr3, uint32_t cr4, uint32_t lin, enum pw_access acc,
				bool user, bool nxe, bool smap_ac)
{
	struct pw_request rq = {
		.cr0 = CR0 | CR0_WP, .cr3 = cr3, .cr4 = cr4, .lin = lin, .access = acc, .user = user,
		.set_ad = true, .nxe = nxe, .smap_ac = smap_ac,
	};
	struct pw_result r;
	memset(&r, 0xa5, sizeof(r));
	pw_walk(&f->mem, &rq, &r);
	return r;
}

#define SMEP_BIT 0x100000u
#define SMAP_BIT 0x200000u

static void nx_smep_smap(void **state)
{
	struct fx *f = *state;
	const uint32_t lin = 0x00201000;
	/* PAE with NXE: XD in the PTE forbids fetches only, at any CPL */
	pae_map4k(f, lin, P | RW | US, XD | 0x9000 | P | RW | US);
	struct pw_result r = walk_ex(f, PDPT, CR4_PAE, lin, PW_READ, true, true, false);
	assert_true(r.ok);
	assert_true(r.xd);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_FETCH, true, true, false);
	assert_false(r.ok);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_U | PW_PF_ID);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_FETCH, false, true, false);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_ID);
	/* XD in the PDE covers the PTE too */
	pae_map4k(f, lin, XD | P | RW | US, 0x9000 | P | RW | US);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_FETCH, false, true, false);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_ID);
	/* a not-present fetch has I/D with NXE, none without */
	pae_map4k(f, lin, P | RW | US, 0);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_FETCH, true, true, false);
	assert_int_equal(r.error_code, PW_PF_U | PW_PF_ID);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_FETCH, true, false, false);
	assert_int_equal(r.error_code, PW_PF_U);
	/* bits 62:36 stay reserved with NXE */
	pae_map4k(f, lin, P | RW | US, (1ull << 62) | 0x9000 | P | RW | US);
	r = walk_ex(f, PDPT, CR4_PAE, lin, PW_READ, false, true, false);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_RSVD);

	/* 32-bit paging: SMEP and SMAP on a user page */
	map4k(f, 0x00403000, PT, P | RW | US, 0x5000, P | RW | US);
	r = walk_ex(f, PD, SMEP_BIT, 0x00403000, PW_FETCH, false, false, false);
	assert_false(r.ok);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_ID);
	assert_true(walk_ex(f, PD, SMEP_BIT, 0x00403000, PW_FETCH, true, false, false).ok);
	assert_true(walk_ex(f, PD, SMEP_BIT, 0x00403000, PW_READ, false, false, false).ok);
	r = walk_ex(f, PD, SMAP_BIT, 0x00403000, PW_WRITE, false, false, false);
	assert_false(r.ok);
	assert_int_equal(r.error_code, PW_PF_P | PW_PF_W);
	assert_true(walk_ex(f, PD, SMAP_BIT, 0x00403000, PW_WRITE, false, false, true).ok);
	assert_true(walk_ex(f, PD, SMAP_BIT, 0x00403000, PW_FETCH, false, false, false).ok);
	assert_true(walk_ex(f, PD, SMAP_BIT, 0x00403000, PW_READ, true, false, false).ok);
	/* a supervisor page: neither applies */
	map4k(f, 0x00403000, PT, P | RW | US, 0x5000, P | RW);
	assert_true(walk_ex(f, PD, SMEP_BIT | SMAP_BIT, 0x00403000, PW_FETCH, false, false, false).ok);
	assert_true(walk_ex(f, PD, SMEP_BIT | SMAP_BIT, 0x00403000, PW_READ, false, false, false).ok);
	/* a not-present fetch under SMEP has I/D */
	r = walk_ex(f, PD, SMEP_BIT, 0x00404000, PW_FETCH, false, false, false);
	assert_int_equal(r.error_code, PW_PF_ID);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(translate_4k),
		T(translate_4m_and_pse_off),
		T(pse36_bits_are_reserved),
		T(not_present_error_codes),
		T(user_access_to_supervisor_page),
		T(user_write_to_read_only),
		T(supervisor_write_to_read_only),
		T(accessed_and_dirty),
		T(combined_permissions),
		T(global_bit),
		T(tables_outside_ram),
		T(edge_addresses),
		T(recursive_mapping),
		T(pae_translate_4k),
		T(pae_2m_page),
		T(pae_reserved_bits),
		T(pae_permissions),
		T(pae_tables_outside_ram),
		T(pae_recursive_and_unaligned),
		T(unaligned_host_base),
		T(format_entry),
		T(nx_smep_smap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
