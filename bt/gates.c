/* Privilege transfers outside the IDT, done in C on the saved guest state:
 * SYSENTER/SYSEXIT (SDM Vol. 2B "SYSENTER", "SYSEXIT"), far CALL/JMP to a
 * code segment, through a call gate, a task gate or to a TSS (SDM Vol. 2A
 * "CALL", "JMP"; Vol. 3A 5.8 "Privilege level checking when transferring
 * program control between code segments"), and far RET, also to an outer
 * level (SDM Vol. 2B "RET").  A CPL change needs nothing more here: the
 * dispatcher picks the K-view or U-view and the translation mode from
 * cpu->cpl before it enters the next block. */
#include "bt/bt.h"

static int fault(struct bt *bt, int vector, uint32_t err)
{
	bt_raise(bt, vector, true, err);
	return -1;
}

static bool is_null(uint16_t sel) { return (sel & 0xfffc) == 0; }

static void flat(struct seg *s, uint16_t sel, uint16_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

/* Access rights of the flat segments SYSENTER/SYSEXIT force (G=1, D/B=1,
 * P=1, S=1): code type 11 (execute/read, accessed), data type 3
 * (read/write, accessed), DPL 0 or 3. */
#define ATTR_CODE(dpl) ((uint16_t)(0xc09b | (dpl) << 5))
#define ATTR_DATA(dpl) ((uint16_t)(0xc093 | (dpl) << 5))

/* SYSENTER (SDM Vol. 2B): the fast system call into ring 0.  The new CS
 * and SS are not read from the GDT: their caches are forced flat. */
int bt_sysenter(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	uint16_t cs = (uint16_t)(c->msr_sysenter_cs & 0xfffc);
	if (cs == 0)  /* IA32_SYSENTER_CS[15:2] = 0 */
		return fault(bt, 13, 0);
	struct seg s;
	flat(&s, cs, ATTR_CODE(0));
	bt_set_seg(bt, S_CS, &s);
	flat(&s, (uint16_t)(cs + 8), ATTR_DATA(0));
	bt_set_seg(bt, S_SS, &s);
	c->cpl = 0;
	c->eflags &= ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
	c->regs[R_ESP] = (uint32_t)c->msr_sysenter_esp;
	c->eip = (uint32_t)c->msr_sysenter_eip;
	return 0;
}

/* SYSEXIT (SDM Vol. 2B), 32-bit form: back to ring 3 at EDX with ESP =
 * ECX; CS = SYSENTER_CS + 16, SS = SYSENTER_CS + 24, both RPL 3 and
 * forced flat.  EFLAGS are not changed (Linux does `sti; sysexit`, and the
 * STI shadow covers SYSEXIT: the dispatcher runs it as a one-instruction
 * block with the shadow still set). */
int bt_sysexit(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	if (c->cpl != 0 || (c->msr_sysenter_cs & 0xfffc) == 0)
		return fault(bt, 13, 0);
	uint16_t base = (uint16_t)c->msr_sysenter_cs;
	struct seg s;
	flat(&s, (uint16_t)((base + 16) | 3), ATTR_CODE(3));
	bt_set_seg(bt, S_CS, &s);
	flat(&s, (uint16_t)((base + 24) | 3), ATTR_DATA(3));
	bt_set_seg(bt, S_SS, &s);
	c->cpl = 3;
	c->regs[R_ESP] = c->regs[R_ECX];
	c->eip = c->regs[R_EDX];
	return 0;
}

/* The code segment cd (selector csel) as CS at privilege cpl, with eip
 * inside its limit (#GP(0) otherwise, SDM CALL/JMP/RET). */
static int code_seg(struct bt *bt, const uint8_t cd[8], uint16_t csel, int cpl, uint32_t eip,
		    struct seg *out)
{
	if (!(cd[6] & 0x40)) {
		bt_unsupported(bt, "code segment %#x is 16-bit: 16-bit code is not supported by bt yet", csel);
		return -1;
	}
	bt_desc_to_seg(cd, (uint16_t)((csel & ~3u) | (unsigned)cpl), out);
	if (eip > out->limit)
		return fault(bt, 13, 0);
	return 0;
}

/* Writes a frame of n dwords (lowest address first) below esp in the
 * stack segment ss at privilege cpl; false when a write faults (#PF in
 * bt->exit).  The CPU state is not changed. */
static bool write_frame(struct bt *bt, const struct seg *ss, uint32_t esp, int cpl, const uint32_t *w,
			unsigned n)
{
	struct bt_cpu *c = &bt->cpu;
	int old_cpl = c->cpl;
	c->cpl = cpl; /* the new level's U/S view of the pages */
	bool ok = bt_write(bt, ss->base + esp - 4 * n, w, 4 * n);
	c->cpl = old_cpl;
	return ok;
}

/* Far CALL/JMP through a call gate (SDM Vol. 2A CALL, CALL-GATE,
 * MORE-PRIVILEGE and SAME-PRIVILEGE; JMP, CALL-GATE). */
static int via_call_gate(struct bt *bt, uint16_t sel, const uint8_t g[8], bool call, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	int cpl = c->cpl;
	unsigned gdpl = (g[5] >> 5) & 3, rpl = sel & 3;
	if (gdpl < (unsigned)cpl || rpl > gdpl)
		return fault(bt, 13, sel & ~3u);
	if (!(g[5] & 0x80))
		return fault(bt, 11, sel & ~3u);
	if ((g[5] & 0x0f) == 0x04) {
		bt_unsupported(bt, "far %s through the 16-bit call gate %#x: not supported by bt yet",
			       call ? "CALL" : "JMP", sel);
		return -1;
	}
	uint16_t csel = (uint16_t)(g[2] | g[3] << 8);
	uint32_t goff = (uint32_t)g[0] | (uint32_t)g[1] << 8 | (uint32_t)g[6] << 16 | (uint32_t)g[7] << 24;
	unsigned pcount = g[4] & 0x1f;
	uint8_t cd[8];
	if (is_null(csel))
		return fault(bt, 13, 0);
	if (!bt_read_desc(bt, csel, cd))
		return fault(bt, 13, csel & ~3u);
	unsigned cdpl = (cd[5] >> 5) & 3;
	bool conforming = cd[5] & 4;
	if ((cd[5] & 0x18) != 0x18 || cdpl > (unsigned)cpl)
		return fault(bt, 13, csel & ~3u);
	if (!call && !conforming && cdpl != (unsigned)cpl)  /* JMP never changes the CPL */
		return fault(bt, 13, csel & ~3u);
	if (!(cd[5] & 0x80))
		return fault(bt, 11, csel & ~3u);

	struct seg ncs;
	if (!call || conforming || cdpl == (unsigned)cpl) {
		/* SAME-PRIVILEGE: the gate's selector and offset replace CS:EIP;
		 * a CALL pushes the return address at the gate's size. */
		if (code_seg(bt, cd, csel, cpl, goff, &ncs) < 0)
			return -1;
		if (call) {
			const uint32_t frame[2] = { next, c->seg[S_CS].sel };
			if (!write_frame(bt, &c->seg[S_SS], c->regs[R_ESP], cpl, frame, 2))
				return -1;
			c->regs[R_ESP] -= 8;
		}
		bt_set_accessed(bt, csel, cd);
		bt_set_seg(bt, S_CS, &ncs);
		c->eip = goff;
		return 0;
	}

	/* MORE-PRIVILEGE: the inner stack comes from the TSS (SSn:ESPn at
	 * 8n+8:8n+4 of a 32-bit TSS, SDM Vol. 3A 7.2.1), is checked, and gets
	 * the caller's SS:ESP, `param count` dwords copied from the caller's
	 * stack, and the return CS:EIP (SDM Vol. 3A 5.8.5, Figure 5-13). */
	int ncpl = (int)cdpl;
	uint16_t tsel = c->tr.sel & 0xfffc;
	if ((c->tr.attr & 0x0f) != 0x0b && (c->tr.attr & 0x0f) != 0x09) {
		bt_unsupported(bt, "call gate %#x to an inner level with a 16-bit TSS: not supported by bt yet", sel);
		return -1;
	}
	uint32_t off_esp = 4 + 8u * (unsigned)ncpl, new_esp = 0;
	uint16_t new_ss = 0;
	if (off_esp + 5 > c->tr.limit)
		return fault(bt, 10, tsel);
	if (!bt_read_sys(bt, c->tr.base + off_esp, &new_esp, 4) || !bt_read_sys(bt, c->tr.base + off_esp + 4, &new_ss, 2))
		return -1;
	uint8_t sd[8];
	if (is_null(new_ss))
		return fault(bt, 10, new_ss & 0xfffc);
	if (!bt_read_desc(bt, new_ss, sd) || (new_ss & 3) != (unsigned)ncpl)
		return fault(bt, 10, new_ss & ~3u);
	if (((sd[5] >> 5) & 3) != (unsigned)ncpl || (sd[5] & 0x1a) != 0x12)
		return fault(bt, 10, new_ss & ~3u);
	if (!(sd[5] & 0x80))
		return fault(bt, 12, new_ss & ~3u);
	if (code_seg(bt, cd, csel, ncpl, goff, &ncs) < 0)
		return -1;
	uint32_t frame[4 + 31];
	unsigned n = 0;
	frame[n++] = next;
	frame[n++] = c->seg[S_CS].sel;
	const struct seg *oss = &c->seg[S_SS];
	uint32_t old_esp = c->regs[R_ESP];
	if (pcount && !bt_read(bt, oss->base + old_esp, &frame[n], 4 * pcount))
		return -1;  /* read at the caller's level: a #PF there is the caller's */
	n += pcount;
	frame[n++] = old_esp;
	frame[n++] = oss->sel;
	struct seg nss;
	bt_desc_to_seg(sd, new_ss, &nss);
	if (!write_frame(bt, &nss, new_esp, ncpl, frame, n))
		return -1;
	/* commit */
	bt_set_accessed(bt, new_ss, sd);
	bt_set_accessed(bt, csel, cd);
	c->cpl = ncpl;
	bt_set_seg(bt, S_SS, &nss);
	c->regs[R_ESP] = new_esp - 4 * n;
	bt_set_seg(bt, S_CS, &ncs);
	c->eip = goff;
	return 0;
}

int bt_far_jmp_call(struct bt *bt, uint16_t sel, uint32_t off, unsigned osz, bool call, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	if (is_null(sel))
		return fault(bt, 13, 0);
	uint8_t d[8];
	if (!bt_read_desc(bt, sel, d))
		return fault(bt, 13, sel & ~3u);
	if (osz == 2)
		off &= 0xffff;
	if (d[5] & 0x10) {
		/* A code segment: no privilege change (bt_load_cs checks). */
		if ((d[5] & 0x08) == 0)
			return fault(bt, 13, sel & ~3u);
		struct seg saved = c->seg[S_CS];
		if (bt_load_cs(bt, sel) < 0)
			return -1;
		if (off > c->seg[S_CS].limit) {
			c->seg[S_CS] = saved;
			return fault(bt, 13, 0);
		}
		if (call) {
			uint32_t esp = c->regs[R_ESP];
			bool ok;
			if (osz == 2) {
				uint16_t w[2] = { (uint16_t)next, saved.sel };
				ok = bt_write(bt, c->seg[S_SS].base + esp - 4, w, 4);
			} else {
				const uint32_t w[2] = { next, saved.sel };
				ok = write_frame(bt, &c->seg[S_SS], esp, c->cpl, w, 2);
			}
			if (!ok) {
				c->seg[S_CS] = saved;
				return -1;
			}
			c->regs[R_ESP] = esp - 2 * osz;
		}
		c->eip = off;
		return 0;
	}
	unsigned dpl = (d[5] >> 5) & 3, rpl = sel & 3;
	switch (d[5] & 0x0f) {
	case 0x04: case 0x0c:
		return via_call_gate(bt, sel, d, call, next);
	case 0x05: {
		/* task gate: its DPL against CPL and RPL, then the TSS it names */
		if (dpl < (unsigned)c->cpl || dpl < rpl)
			return fault(bt, 13, sel & ~3u);
		if (!(d[5] & 0x80))
			return fault(bt, 11, sel & ~3u);
		uint16_t tsel = (uint16_t)(d[2] | d[3] << 8);
		return bt_task_switch(bt, tsel, call ? TS_CALL : TS_JMP, next, false, 0, 0);
	}
	case 0x01: case 0x09:
		/* an available TSS */
		if (dpl < (unsigned)c->cpl || dpl < rpl)
			return fault(bt, 13, sel & ~3u);
		if (!(d[5] & 0x80))
			return fault(bt, 11, sel & ~3u);
		return bt_task_switch(bt, sel, call ? TS_CALL : TS_JMP, next, false, 0, 0);
	default:
		/* data, LDT, busy TSS, interrupt/trap gates */
		return fault(bt, 13, sel & ~3u);
	}
}

int bt_far_ret(struct bt *bt, unsigned osz, uint32_t imm)
{
	struct bt_cpu *c = &bt->cpu;
	const struct seg *ss = &c->seg[S_SS];
	uint32_t esp = c->regs[R_ESP], off = 0, sel = 0;
	if (!bt_read(bt, ss->base + esp, &off, osz) || !bt_read(bt, ss->base + esp + osz, &sel, osz))
		return -1;
	sel &= 0xffff;
	if (osz == 2)
		off &= 0xffff;
	if (is_null((uint16_t)sel))
		return fault(bt, 13, 0);
	uint8_t cd[8];
	if (!bt_read_desc(bt, (uint16_t)sel, cd))
		return fault(bt, 13, sel & ~3u);
	unsigned rpl = sel & 3, dpl = (cd[5] >> 5) & 3;
	bool conforming = cd[5] & 4;
	if ((cd[5] & 0x18) != 0x18 || rpl < (unsigned)c->cpl || (conforming && dpl > rpl) ||
	    (!conforming && dpl != rpl))
		return fault(bt, 13, sel & ~3u);
	if (!(cd[5] & 0x80))
		return fault(bt, 11, sel & ~3u);
	struct seg ncs;
	if (rpl == (unsigned)c->cpl) {
		/* RETURN-TO-SAME-PRIVILEGE-LEVEL */
		if (code_seg(bt, cd, (uint16_t)sel, c->cpl, off, &ncs) < 0)
			return -1;
		bt_set_accessed(bt, (uint16_t)sel, cd);
		bt_set_seg(bt, S_CS, &ncs);
		c->regs[R_ESP] = esp + 2 * osz + imm;
		c->eip = off;
		return 0;
	}
	/* RETURN-TO-OUTER-PRIVILEGE-LEVEL: above the return address and the
	 * imm16 bytes of parameters lie the outer SS:ESP; imm16 is released
	 * from both stacks. */
	uint32_t new_esp = 0, new_ss = 0, at = esp + 2 * osz + imm;
	if (!bt_read(bt, ss->base + at, &new_esp, osz) || !bt_read(bt, ss->base + at + osz, &new_ss, osz))
		return -1;
	new_ss &= 0xffff;
	if (is_null((uint16_t)new_ss))
		return fault(bt, 13, 0);
	uint8_t sd[8];
	if (!bt_read_desc(bt, (uint16_t)new_ss, sd))
		return fault(bt, 13, new_ss & ~3u);
	if ((new_ss & 3) != rpl || (sd[5] & 0x1a) != 0x12 || ((sd[5] >> 5) & 3) != rpl)
		return fault(bt, 13, new_ss & ~3u);
	if (!(sd[5] & 0x80))
		return fault(bt, 12, new_ss & ~3u);
	if (code_seg(bt, cd, (uint16_t)sel, (int)rpl, off, &ncs) < 0)
		return -1;
	struct seg nss;
	bt_desc_to_seg(sd, (uint16_t)new_ss, &nss);
	bt_set_accessed(bt, (uint16_t)sel, cd);
	bt_set_accessed(bt, (uint16_t)new_ss, sd);
	c->cpl = (int)rpl;
	bt_set_seg(bt, S_CS, &ncs);
	bt_set_seg(bt, S_SS, &nss);
	if (osz == 2)
		new_esp &= 0xffff;
	c->regs[R_ESP] = new_esp + imm;
	c->eip = off;
	bt_null_inaccessible_segs(bt);
	return 0;
}
