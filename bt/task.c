/* Hardware task switches (SDM Vol. 3A 7.3 "Task switching"): through a
 * task gate in the IDT (Linux i386 sends #DF to its own TSS this way), a
 * far CALL/JMP to a TSS or a task gate, and IRET with EFLAGS.NT=1 back to
 * the task in the link field.  32-bit TSSs only (Figure 7-2); a 16-bit TSS
 * or a switch to a virtual-8086 task is a clear "not supported". */
#include "bt/bt.h"

/* 32-bit TSS fields (SDM Vol. 3A Figure 7-2) */
enum {
	TSS_LINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24,
	TSS_EAX = 0x28,   /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes apart */
	TSS_ES = 0x48,    /* ES CS SS DS FS GS, 4 bytes apart */
	TSS_LDT = 0x60,
	TSS32_LIMIT_MIN = 0x67,
};

static int fault(struct bt *bt, int vector, uint32_t err)
{
	bt_raise(bt, vector, true, err);
	return -1;
}

static bool is_null(uint16_t sel) { return (sel & 0xfffc) == 0; }

/* Sets or clears the busy bit (type bit 1) of the TSS descriptor sel. */
static bool set_busy(struct bt *bt, uint16_t sel, bool busy)
{
	uint32_t at = bt->cpu.gdtr.base + (sel & ~7u) + 5;
	uint8_t a;
	if (!bt_read_sys(bt, at, &a, 1))
		return false;
	a = busy ? (uint8_t)(a | 2) : (uint8_t)(a & ~2);
	return bt_write_sys(bt, at, &a, 1);
}

/* A segment register of the incoming task, with the checks the CPU makes
 * when it loads the TSS's selectors (SDM Vol. 3A 7.3 step 12 and Table
 * 7-1's #TS conditions): #TS(sel) for a bad descriptor, #NP/#SS(sel) for a
 * segment that is not present. */
static int load_task_seg(struct bt *bt, int sreg, uint16_t sel)
{
	struct bt_cpu *c = &bt->cpu;
	int cpl = c->cpl;
	if (is_null(sel)) {
		if (sreg == S_CS || sreg == S_SS)
			return fault(bt, 10, sel & 0xfffc);
		struct seg s = { .sel = sel };
		bt_set_seg(bt, sreg, &s);
		return 0;
	}
	uint8_t d[8];
	uint32_t err = sel & 0xfffc;
	if (!bt_read_desc(bt, sel, d) || !(d[5] & 0x10))
		return fault(bt, 10, err);
	unsigned type = d[5] & 0x1f, dpl = (d[5] >> 5) & 3, rpl = sel & 3;
	bool code = type & 8, conforming = code && (type & 4), rw = type & 2;
	switch (sreg) {
	case S_CS:
		if (!code || (!conforming && dpl != rpl) || (conforming && dpl > rpl))
			return fault(bt, 10, err);
		break;
	case S_SS:
		if (code || !rw || dpl != (unsigned)cpl || rpl != (unsigned)cpl)
			return fault(bt, 10, err);
		break;
	default:
		if ((code && !rw) || ((!code || !conforming) && (dpl < (unsigned)cpl || dpl < rpl)))
			return fault(bt, 10, err);
		break;
	}
	if (!(d[5] & 0x80))
		return fault(bt, sreg == S_SS ? 12 : 11, err);
	if (sreg == S_CS && !(d[6] & 0x40)) {
		bt_unsupported(bt, "task switch to a 16-bit code segment (%#x): 16-bit code is not "
			       "supported by bt yet", sel);
		return -1;
	}
	bt_set_accessed(bt, sel, d);
	struct seg s;
	bt_desc_to_seg(d, sel, &s);
	bt_set_seg(bt, sreg, &s);
	return 0;
}

/* LDTR of the incoming task: null, or an LDT descriptor in the GDT. */
static int load_task_ldt(struct bt *bt, uint16_t sel)
{
	struct bt_cpu *c = &bt->cpu;
	if (is_null(sel) && !(sel & 4)) {
		c->ldtr = (struct seg){ .sel = sel };
		return 0;
	}
	uint8_t d[8];
	if ((sel & 4) || (sel & ~7u) + 7 > c->gdtr.limit || !bt_read_sys(bt, c->gdtr.base + (sel & ~7u), d, 8))
		return fault(bt, 10, sel & 0xfffc);
	if ((d[5] & 0x1f) != 0x02 || !(d[5] & 0x80))
		return fault(bt, 10, sel & 0xfffc);
	bt_desc_to_seg(d, sel, &c->ldtr);
	return 0;
}

int bt_task_switch(struct bt *bt, uint16_t sel, enum bt_task_reason why, uint32_t back,
		   bool has_err, uint32_t err, uint32_t ext)
{
	struct bt_cpu *c = &bt->cpu;
	/* Checks on the new TSS descriptor, in the old task's context: it is
	 * in the GDT, a TSS, present, busy exactly when IRET returns to it
	 * (SDM Vol. 2 CALL/JMP/INT "TASK-GATE", IRET "TASK-RETURN"). */
	int bad = why == TS_IRET ? 10 : 13;
	uint8_t d[8];
	if ((sel & 4) || !bt_read_desc(bt, sel, d))
		return fault(bt, bad, (sel & 0xfffc) | ext);
	unsigned type = d[5] & 0x1f;
	bool busy = type & 2;
	if ((type & 0x15) != 0x01 || busy != (why == TS_IRET))
		return fault(bt, bad, (sel & 0xfffc) | ext);
	if (!(d[5] & 0x80))
		return fault(bt, 11, (sel & 0xfffc) | ext);
	if (!(type & 8) || (c->tr.attr & 0x0f) != 0x0b) {
		bt_unsupported(bt, "task switch to TSS %#x from TSS %#x: 16-bit TSSs are not supported by bt yet",
			       sel, c->tr.sel);
		return -1;
	}
	struct seg nt;
	bt_desc_to_seg(d, sel, &nt);
	if (nt.limit < TSS32_LIMIT_MIN)
		return fault(bt, 10, (sel & 0xfffc) | ext);
	if (c->tr.limit < TSS_LDT - 1)
		return fault(bt, 10, (c->tr.sel & 0xfffc) | ext);
	uint32_t t[TSS_LDT / 4 + 1];
	if (!bt_read_sys(bt, nt.base, t, sizeof(t)))
		return -1;
	if (t[TSS_EFLAGS / 4] & EFLAGS_VM) {
		bt_unsupported(bt, "task switch to TSS %#x, a virtual-8086 task: V86 mode is not supported by "
			       "bt yet", sel);
		return -1;
	}

	/* Save the outgoing task (step 7): EIP, EFLAGS (NT cleared when IRET
	 * leaves it), the general registers and the selectors. */
	uint32_t fl = c->eflags & ~EFLAGS_RF;
	if (why == TS_IRET)
		fl &= ~EFLAGS_NT;
	uint32_t save[18];
	save[0] = back;
	save[1] = fl;
	for (int r = 0; r < 8; r++)
		save[2 + r] = c->regs[r];
	for (int s = 0; s < 6; s++)
		save[10 + s] = c->seg[s].sel;
	if (!bt_write_sys(bt, c->tr.base + TSS_EIP, save, 16 * 4))
		return -1;
	/* Busy bits (steps 5 and 9) and the back link (step 8). */
	if ((why == TS_JMP || why == TS_IRET) && !set_busy(bt, c->tr.sel, false))
		return -1;
	uint32_t nfl = t[TSS_EFLAGS / 4];
	if (why == TS_CALL || why == TS_INT) {
		uint16_t link = c->tr.sel;
		if (!bt_write_sys(bt, nt.base + TSS_LINK, &link, 2))
			return -1;
		nfl |= EFLAGS_NT;
	}
	if (why != TS_IRET) {
		if (!set_busy(bt, sel, true))
			return -1;
		nt.attr |= 2;
	}

	/* Commit: TR, CR0.TS, CR3 (with paging), then the new task's state.
	 * From here on a fault belongs to the new task (step 12). */
	c->tr = nt;
	if (!(c->cr0 & CR0_TS)) {
		c->cr0 |= CR0_TS;
		tcache_flush(&bt->tc);  /* FPU instructions translate differently */
	}
	if (c->cr0 & CR0_PG) {
		c->cr3 = t[TSS_CR3 / 4];
		bt_views_reset(bt, true);
		tcache_flush(&bt->tc);
	}
	c->eip = t[TSS_EIP / 4];
	c->eflags = (nfl & 0x3f7fd5u) | 2;
	for (int r = 0; r < 8; r++)
		c->regs[r] = t[TSS_EAX / 4 + r];
	c->dr[7] &= ~0x55u;  /* local breakpoint enables end with the task (SDM Vol. 3B 17.2.4) */
	uint16_t segs[6];
	for (int s = 0; s < 6; s++) {
		segs[s] = (uint16_t)t[TSS_ES / 4 + s];
		struct seg unusable = { .sel = segs[s] };
		bt_set_seg(bt, s, &unusable);
	}
	c->cpl = segs[S_CS] & 3;
	if (load_task_ldt(bt, (uint16_t)t[TSS_LDT / 4]) < 0)
		return -1;
	static const int order[6] = { S_CS, S_SS, S_ES, S_DS, S_FS, S_GS };
	for (int i = 0; i < 6; i++)
		if (load_task_seg(bt, order[i], segs[order[i]]) < 0)
			return -1;
	if (has_err) {
		/* an exception's error code goes on the new task's stack
		 * (SDM Vol. 3A 6.12.2) */
		uint32_t esp = c->regs[R_ESP] - 4;
		if (!bt_write(bt, c->seg[S_SS].base + esp, &err, 4))
			return -1;
		c->regs[R_ESP] = esp;
	}
	if (c->eip > c->seg[S_CS].limit)
		return fault(bt, 13, 0);
	return 0;
}

int bt_task_return(struct bt *bt, uint32_t back)
{
	uint16_t link;
	if (!bt_read_sys(bt, bt->cpu.tr.base + TSS_LINK, &link, 2))
		return -1;
	return bt_task_switch(bt, link, TS_IRET, back, false, 0, 0);
}
