/* Segments, descriptors and event delivery for the bt backend, done in C
 * from the guest's own tables (SDM Vol. 3A ch. 3 "Protected-mode memory
 * management", ch. 6 "Interrupt and exception handling"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bt/bt.h"
#include "monitor/vm.h"

void bt_set_error(struct bt *bt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(bt->msg, sizeof(bt->msg), fmt, ap);
	va_end(ap);
	bt->exit = BX_ERROR;
	bt->unsupported = false;
}

void bt_unsupported(struct bt *bt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(bt->msg, sizeof(bt->msg), fmt, ap);
	va_end(ap);
	bt->exit = BX_ERROR;
	bt->unsupported = true;
}

/* Linear → physical for an access made from C (the emulator, event
 * delivery): identity with paging off, otherwise a walk of the guest
 * tables that sets A/D as the CPU would.  On a translation fault raises
 * #PF (CR2 = lin) and returns false; a table outside RAM is an error. */
/* A write from C (a pushed frame, a string instruction) to a frame with
 * translations drops them, as a guest write through the view would. */
void bt_code_written(struct bt *bt, uint32_t pa)
{
	uint64_t pg = pa >> 12;
	/* Most writes (pushed frames, string stores) hit frames without
	 * translations: only the direct view may care then. */
	if (pg < bt->kv.npages && !bt->kv.code_pages[pg] && !bt->uv.code_pages[pg]) {
		if (bt->dx)
			bt_direct_frame_written(bt, (uint32_t)pg);
		return;
	}
	if (bt_views_unprotect(bt, pa))
		bt->st.smc_invalidations += tcache_invalidate_page(&bt->tc, pa >> 12);
}

void bt_tlb_flush(struct bt *bt)
{
	for (unsigned i = 0; i < BT_TLB_SIZE; i++)
		bt->tlb[i].valid = false;
}

/* The C TLB's answer for lin, or false (a miss, or paging off).  An entry
 * filled by one kind of access answers another only where the walk would
 * say the same: a fetch needs a page without XD and, under SMEP, a
 * supervisor page for a supervisor fetch; a supervisor data access to a
 * user page under SMAP needs EFLAGS.AC and an explicit access (SDM Vol.
 * 3A 4.6).  Otherwise the walk decides (and raises the #PF). */
static inline bool tlb_hit(struct bt *bt, uint32_t lin, enum pw_access acc, uint32_t *pa)
{
	const struct bt_cpu *c = &bt->cpu;
	bool user = c->cpl == 3 && !bt->implicit_sv;
	const struct bt_tlb_entry *t = &bt->tlb[(lin >> 12) & (BT_TLB_SIZE - 1)];
	if (!t->valid || t->lpn != lin >> 12 || t->user != user || (acc == PW_WRITE && !t->write_ok))
		return false;
	if (acc == PW_FETCH ? t->xd || (!user && t->us && (c->cr4 & CR4_SMEP))
			    : !user && t->us && (c->cr4 & CR4_SMAP) && !bt_smap_ac(bt))
		return false;
	*pa = t->ppn << 12 | (lin & 0xfff);
	return true;
}

bool bt_lin_to_phys(struct bt *bt, uint32_t lin, enum pw_access acc, uint32_t *pa)
{
	struct bt_cpu *c = &bt->cpu;
	if (!(c->cr0 & CR0_PG)) {
		*pa = lin;
		return true;
	}
	if (tlb_hit(bt, lin, acc, pa))
		return true;
	bool user = c->cpl == 3 && !bt->implicit_sv;
	struct bt_tlb_entry *t = &bt->tlb[(lin >> 12) & (BT_TLB_SIZE - 1)];
	struct pw_request rq = { c->cr0, c->cr3, c->cr4, lin, acc, user, true, (c->efer & EFER_NXE) != 0,
				 bt_smap_ac(bt) };
	struct pw_result r;
	pw_walk(&bt->vm->mem.phys, &rq, &r);
	if (r.ok) {
		*pa = r.pa;
		/* a later write may use the entry only once one was allowed
		 * (and the walk set D) */
		*t = (struct bt_tlb_entry){ lin >> 12, r.pa >> 12, true, user, acc == PW_WRITE, r.user_ok, r.xd };
		return true;
	}
	if (r.bad_table) {
		bt_set_error(bt, "a guest page table for linear address %#x lies outside RAM, or "
			     "its page above 4 GiB (PDE at %#llx, PTE at %#llx, page at %#llx)", lin,
			     (unsigned long long)r.pde_pa, (unsigned long long)r.pte_pa,
			     (unsigned long long)r.page_pa);
		return false;
	}
	c->cr2 = lin;
	bt_raise(bt, 14, true, r.error_code);
	return false;
}

/* Guest memory from C, by linear address, page by page. */
static __attribute__((noinline)) bool access_lin_pages(struct bt *bt, uint32_t lin, uint8_t *p, unsigned len,
						       bool write)
{
	while (len) {
		unsigned chunk = 4096 - (lin & 0xfff);
		if (chunk > len)
			chunk = len;
		uint32_t pa;
		if (!bt_lin_to_phys(bt, lin, write ? PW_WRITE : PW_READ, &pa))
			return false;
		bool ok = write ? phys_write(&bt->vm->mem.phys, pa, p, chunk)
				: phys_read(&bt->vm->mem.phys, pa, p, chunk);
		if (!ok) {
			/* no RAM: a device register (or nothing, which reads
			 * as all ones), in accesses of at most 4 bytes */
			struct vm *vm = bt->vm;
			for (unsigned o = 0; o < chunk;) {
				unsigned n = chunk - o >= 4 && !((pa + o) & 3) ? 4 : 1;
				io_bus_access(&vm->mmio, pa + o, p + o, n, write);
				if (write)
					vm->stats.mmio_writes++;
				else
					vm->stats.mmio_reads++;
				o += n;
			}
		}
		if (write)
			bt_code_written(bt, pa);
		lin += chunk;
		p += chunk;
		len -= chunk;
	}
	return true;
}

/* The common case first, without a call: event delivery, IRET and the
 * emulator's pushes, pops and descriptor reads are a few bytes within one
 * page of RAM whose translation the TLB has (so the walk that filled it
 * already set A, and D for a write). */
static inline bool access_lin(struct bt *bt, uint32_t lin, void *buf, unsigned len, bool write)
{
	uint8_t *p = buf;
	uint32_t fpa = lin;
	if ((lin & 0xfff) + len <= 4096 &&
	    (!(bt->cpu.cr0 & CR0_PG) || tlb_hit(bt, lin, write ? PW_WRITE : PW_READ, &fpa))) {
		uint8_t *h = phys_ptr(&bt->vm->mem.phys, fpa, len);
		if (h) {
			uint8_t *to = write ? h : p, *from = write ? p : h;
			switch (len) {         /* constant sizes: no call to memcpy */
			case 1: *to = *from; break;
			case 2: memcpy(to, from, 2); break;
			case 4: memcpy(to, from, 4); break;
			case 8: memcpy(to, from, 8); break;
			default: memcpy(to, from, len); break;
			}
			if (write)
				bt_code_written(bt, fpa);
			return true;
		}
	}
	return access_lin_pages(bt, lin, p, len, write);
}

/* Implicit supervisor-mode accesses (SDM Vol. 3A 4.6): the GDT, LDT, IDT
 * and TSS are reached with supervisor rights whatever the CPL. */
bool bt_read_sys(struct bt *bt, uint32_t lin, void *dst, unsigned len)
{
	bt->implicit_sv = true;
	bool ok = access_lin(bt, lin, dst, len, false);
	bt->implicit_sv = false;
	return ok;
}

bool bt_write_sys(struct bt *bt, uint32_t lin, const void *src, unsigned len)
{
	bt->implicit_sv = true;
	bool ok = access_lin(bt, lin, (void *)src, len, true);
	bt->implicit_sv = false;
	return ok;
}

bool bt_read(struct bt *bt, uint32_t lin, void *dst, unsigned len)
{
	return access_lin(bt, lin, dst, len, false);
}

bool bt_write(struct bt *bt, uint32_t lin, const void *src, unsigned len)
{
	return access_lin(bt, lin, (void *)src, len, true);
}

void bt_raise(struct bt *bt, int vector, bool has_error, uint32_t error)
{
	bt->exit = BX_EXCEPTION;
	bt->exc_vector = vector;
	bt->exc_has_error = has_error;
	bt->exc_error = error;
}

/* Reads the 8-byte descriptor for selector sel. false: beyond the table
 * (or the read itself faulted: then bt->exit says so). */
bool bt_read_desc(struct bt *bt, uint16_t sel, uint8_t d[8])
{
	uint32_t base, limit;
	if (sel & 4) {
		if (!(bt->cpu.ldtr.attr & 0x80) || bt->cpu.ldtr.sel < 4)
			return false;
		base = bt->cpu.ldtr.base;
		limit = bt->cpu.ldtr.limit;
	} else {
		base = bt->cpu.gdtr.base;
		limit = bt->cpu.gdtr.limit;
	}
	uint32_t off = sel & ~7u;
	if (off + 7 > limit)
		return false;
	return bt_read_sys(bt, base + off, d, 8);
}

void bt_desc_to_seg(const uint8_t d[8], uint16_t sel, struct seg *s)
{
	s->sel = sel;
	s->base = (uint32_t)d[2] | (uint32_t)d[3] << 8 | (uint32_t)d[4] << 16 | (uint32_t)d[7] << 24;
	uint32_t limit = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)(d[6] & 0xf) << 16;
	if (d[6] & 0x80)
		limit = limit << 12 | 0xfff;
	s->limit = limit;
	s->attr = (uint16_t)(d[5] | (d[6] & 0xf0) << 8);
}

void bt_set_accessed(struct bt *bt, uint16_t sel, uint8_t d[8])
{
	if (d[5] & 1)
		return;
	d[5] |= 1;
	uint32_t base = (sel & 4) ? bt->cpu.ldtr.base : bt->cpu.gdtr.base;
	bt_write_sys(bt, base + (sel & ~7u) + 5, &d[5], 1);
}

/* Loads a data or stack segment register (MOV/POP sreg, LxS) with the
 * checks of SDM Vol. 2 "MOV—Move to/from segment registers".  On a fault
 * returns -1 with *fault_vector and *err set. */
int bt_load_seg(struct bt *bt, int sreg, uint16_t sel, bool *fault, uint32_t *err)
{
	struct bt_cpu *c = &bt->cpu;
	struct seg *s = &c->seg[sreg];
	*fault = false;
	int cpl = c->cpl;
	if ((sel & ~3u) == 0 && !(sel & 4)) {
		if (sreg == S_SS) {
			*fault = true;
			*err = 0;
			bt_raise(bt, 13, true, 0);
			return -1;
		}
		s->sel = sel;
		s->base = 0;
		s->limit = 0;
		s->attr = 0; /* unusable */
		return 0;
	}
	uint8_t d[8];
	if (!bt_read_desc(bt, sel, d)) {
		bt_raise(bt, 13, true, sel & ~3u);
		*fault = true;
		return -1;
	}
	uint8_t type = d[5] & 0x1f, dpl = (d[5] >> 5) & 3, rpl = sel & 3;
	bool is_code = (type & 0x18) == 0x18, is_data = (type & 0x18) == 0x10;
	if (sreg == S_SS) {
		if (rpl != cpl || dpl != cpl || !is_data || !(type & 2)) {
			bt_raise(bt, 13, true, sel & ~3u);
			*fault = true;
			return -1;
		}
		if (!(d[5] & 0x80)) {
			bt_raise(bt, 12, true, sel & ~3u);
			*fault = true;
			return -1;
		}
	} else {
		bool conforming = is_code && (type & 4);
		if (!(is_data || (is_code && (type & 2))) ||
		    (!conforming && (rpl > dpl || cpl > dpl))) {
			bt_raise(bt, 13, true, sel & ~3u);
			*fault = true;
			return -1;
		}
		if (!(d[5] & 0x80)) {
			bt_raise(bt, 11, true, sel & ~3u);
			*fault = true;
			return -1;
		}
	}
	bt_set_accessed(bt, sel, d);
	uint32_t old_base = s->base;
	bt_desc_to_seg(d, sel, s);
	/* Blocks fold the CS/DS/ES/SS bases in (a change is rare: flush);
	 * FS and GS bases are read at run time (translate.c). */
	if (s->base != old_base && sreg != S_FS && sreg != S_GS)
		tcache_flush(&bt->tc);
	return 0;
}

/* CS for a far transfer at the same privilege (CPL 0 in this stage). */
int bt_load_cs(struct bt *bt, uint16_t sel)
{
	uint8_t d[8];
	if ((sel & ~3u) == 0 && !(sel & 4)) {
		bt_raise(bt, 13, true, 0);
		return -1;
	}
	if (!bt_read_desc(bt, sel, d)) {
		bt_raise(bt, 13, true, sel & ~3u);
		return -1;
	}
	uint8_t type = d[5] & 0x1f, dpl = (d[5] >> 5) & 3, rpl = sel & 3;
	if ((type & 0x18) != 0x18) {
		bt_raise(bt, 13, true, sel & ~3u);
		return -1;
	}
	bool conforming = type & 4;
	int cpl = bt->cpu.cpl;
	/* A direct far transfer never changes the privilege level: that takes
	 * a call gate (SDM Vol. 3A 5.8.1, 5.8.4); IRET and RET to an outer
	 * level set the CPL first and check from there. */
	if ((conforming && dpl > cpl) || (!conforming && (dpl != cpl || rpl > cpl))) {
		bt_raise(bt, 13, true, sel & ~3u);
		return -1;
	}
	if (!(d[5] & 0x80)) {
		bt_raise(bt, 11, true, sel & ~3u);
		return -1;
	}
	if (!(d[6] & 0x40)) {
		bt_unsupported(bt, "CS %#x is a 16-bit code segment: 16-bit code is not supported by bt yet", sel);
		return -1;
	}
	bt_set_accessed(bt, sel, d);
	uint32_t old_base = bt->cpu.seg[S_CS].base;
	bt_desc_to_seg(d, (uint16_t)((sel & ~3u) | (unsigned)cpl), &bt->cpu.seg[S_CS]);
	if (bt->cpu.seg[S_CS].base != old_base)
		tcache_flush(&bt->tc);
	return 0;
}

/* Sets a segment register's cache; translations fold segment bases in, so
 * a new base drops them. */
void bt_set_seg(struct bt *bt, int sreg, const struct seg *s)
{
	struct seg *d = &bt->cpu.seg[sreg];
	bool flush = d->base != s->base;
	*d = *s;
	if (flush)
		tcache_flush(&bt->tc);
}

/* After a return to an outer level, data segment registers the new CPL
 * may not use are nulled (SDM Vol. 2 IRET and RET,
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
void bt_null_inaccessible_segs(struct bt *bt)
{
	static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
	struct bt_cpu *c = &bt->cpu;
	for (unsigned i = 0; i < 4; i++) {
		const struct seg *s = &c->seg[segs[i]];
		uint8_t type = s->attr & 0x1f, dpl = (s->attr >> 5) & 3;
		bool conforming_code = (type & 0x1c) == 0x1c;
		if ((s->attr & 0x80) && !conforming_code && dpl < c->cpl) {
			static const struct seg null_seg;
			bt_set_seg(bt, segs[i], &null_seg);
		}
	}
}

static bool push32(struct bt *bt, uint32_t v)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t esp = c->regs[R_ESP] - 4;
	if (!bt_write(bt, c->seg[S_SS].base + esp, &v, 4))
		return false;
	c->regs[R_ESP] = esp;
	return true;
}

/* Vectors with an error code (SDM Vol. 3A Table 6-1). */
static bool has_error_code(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* Delivers an event through the guest IDT at the same privilege (CPL 0).
 * software: INT n/INT3/INTO (gate DPL checked, EIP = next_eip).  Returns 0,
 * or -1 when delivery itself faulted (then bt->exit says what follows). */
int bt_deliver(struct bt *bt, int vector, bool has_error, uint32_t error, bool software, uint32_t next_eip)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t ext = software ? 0 : 1;
	uint8_t g[8];
	if ((uint32_t)vector * 8 + 7 > c->idtr.limit || !bt_read_sys(bt, c->idtr.base + (uint32_t)vector * 8, g, 8)) {
		bt_raise(bt, 13, true, (uint32_t)vector * 8 + 2 + ext);
		return -1;
	}
	uint8_t type = g[5] & 0x1f, dpl = (g[5] >> 5) & 3;
	if (type != 0x0e && type != 0x0f && type != 0x06 && type != 0x07 && type != 0x05) {
		bt_raise(bt, 13, true, (uint32_t)vector * 8 + 2 + ext);
		return -1;
	}
	if (software && dpl < c->cpl) {
		bt_raise(bt, 13, true, (uint32_t)vector * 8 + 2);
		return -1;
	}
	if (!(g[5] & 0x80)) {
		bt_raise(bt, 11, true, (uint32_t)vector * 8 + 2 + ext);
		return -1;
	}
	if (type == 0x05) {
		/* A task gate: switch to the task its TSS selector names (SDM
		 * Vol. 3A 6.11.3, 7.3); the old task's TSS records the EIP an
		 * IRET of the handler task returns to. */
		uint16_t tsel = (uint16_t)(g[2] | g[3] << 8);
		uint32_t back = software ? next_eip : c->eip;
		if (bt_task_switch(bt, tsel, TS_INT, back, has_error, error, ext) < 0)
			return -1;
		c->halted = false;
		return 0;
	}
	if (type == 0x06 || type == 0x07) {
		bt_unsupported(bt, "interrupt %d goes through a 16-bit gate: not supported by bt yet", vector);
		return -1;
	}
	uint16_t sel = (uint16_t)(g[2] | g[3] << 8);
	uint32_t offset = (uint32_t)g[0] | (uint32_t)g[1] << 8 | (uint32_t)g[6] << 16 | (uint32_t)g[7] << 24;
	uint8_t d[8];
	if ((sel & ~3u) == 0 || !bt_read_desc(bt, sel, d) || (d[5] & 0x18) != 0x18) {
		bt_raise(bt, 13, true, (sel & ~3u) + ext);
		return -1;
	}
	uint8_t cdpl = (d[5] >> 5) & 3;
	if (cdpl > c->cpl) {
		bt_raise(bt, 13, true, (sel & ~3u) + ext);
		return -1;
	}
	if (!(d[5] & 0x80)) {
		bt_raise(bt, 11, true, (sel & ~3u) + ext);
		return -1;
	}
	bool conforming = d[5] & 4;
	uint32_t ret_eip = software ? next_eip : c->eip;
	uint32_t esp0 = c->regs[R_ESP];
	int old_cpl = c->cpl;
	struct seg old_ss = c->seg[S_SS];
	uint16_t old_cs = c->seg[S_CS].sel;
	if (!conforming && cdpl < c->cpl) {
		/* Inter-privilege: the new stack comes from the TSS (SDM Vol. 3A
		 * 6.12.1, 7.2.1: ESPn at 4+8n, SSn at 8+8n of a 32-bit TSS). */
		uint32_t tsel = c->tr.sel & ~3u, off_esp = 4 + 8u * cdpl;
		uint32_t new_esp = 0;
		uint16_t new_ss = 0;
		if (!(c->tr.attr & 0x80) || off_esp + 5 > c->tr.limit) {
			bt_raise(bt, 10, true, tsel + ext);
			return -1;
		}
		if (!bt_read_sys(bt, c->tr.base + off_esp, &new_esp, 4) ||
		    !bt_read_sys(bt, c->tr.base + off_esp + 4, &new_ss, 2))
			return -1;
		uint8_t sd[8];
		if ((new_ss & ~3u) == 0 || !bt_read_desc(bt, new_ss, sd)) {
			bt_raise(bt, 10, true, (new_ss & ~3u) + ext);
			return -1;
		}
		if ((new_ss & 3) != cdpl || ((sd[5] >> 5) & 3) != cdpl || (sd[5] & 0x1a) != 0x12) {
			bt_raise(bt, 10, true, (new_ss & ~3u) + ext);
			return -1;
		}
		if (!(sd[5] & 0x80)) {
			bt_raise(bt, 12, true, (new_ss & ~3u) + ext);
			return -1;
		}
		c->cpl = cdpl;
		bt_desc_to_seg(sd, new_ss, &c->seg[S_SS]);
		c->regs[R_ESP] = new_esp;
		if (!push32(bt, old_ss.sel) || !push32(bt, esp0)) {
			c->cpl = old_cpl;
			c->seg[S_SS] = old_ss;
			c->regs[R_ESP] = esp0;
			return -1;
		}
	} else if (cdpl != c->cpl && !conforming) {
		bt_raise(bt, 13, true, (sel & ~3u) + ext);
		return -1;
	}
	if (!push32(bt, c->eflags) || !push32(bt, old_cs) || !push32(bt, ret_eip) ||
	    (has_error && !push32(bt, error))) {
		c->cpl = old_cpl;
		c->seg[S_SS] = old_ss;
		c->regs[R_ESP] = esp0;
		return -1; /* #PF (a double fault follows) or an error, in bt->exit */
	}
	bt_desc_to_seg(d, (uint16_t)((sel & ~3u) | (unsigned)c->cpl), &c->seg[S_CS]);
	c->eip = offset;
	c->eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
	if (type == 0x0e)
		c->eflags &= ~EFLAGS_IF;
	c->halted = false;
	return 0;
}

static bool contributory(int v) { return v == 0 || (v >= 10 && v <= 13); }

/* Delivers an event and whatever its delivery raises, with the double-fault
 * rules of SDM Vol. 3A Table 6-5: a contributory fault while delivering a
 * contributory one, or a contributory/#PF fault while delivering #PF, is a
 * #DF; any fault while delivering #DF is a shutdown; otherwise the new
 * fault is delivered in its turn. */
void bt_deliver_event(struct bt *bt, int vector, bool has_err, uint32_t err, bool software, uint32_t next_eip)
{
	has_err = has_err && has_error_code(vector);
	for (int tries = 0; tries < 4; tries++) {
		bt->exit = BX_DISPATCH;
		if (bt_deliver(bt, vector, has_err, err, software, next_eip) == 0)
			return;
		if (bt->exit != BX_EXCEPTION)
			return; /* an error bt cannot handle */
		int nv = bt->exc_vector;
		if (vector == 8) {
			bt->exit = BX_SHUTDOWN;
			return;
		}
		if ((contributory(vector) && contributory(nv)) ||
		    (vector == 14 && (nv == 14 || contributory(nv)))) {
			vector = 8;
			has_err = true;
			err = 0;
		} else {
			vector = nv;
			has_err = bt->exc_has_error && has_error_code(nv);
			err = bt->exc_error;
		}
		software = false;
	}
	bt->exit = BX_SHUTDOWN;
}

void bt_deliver_pending(struct bt *bt)
{
	bt_deliver_event(bt, bt->exc_vector, bt->exc_has_error, bt->exc_error, false, 0);
}
