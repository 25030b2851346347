/* Guest instructions the translator does not copy (class IC_EMULATE) are
 * carried out here, in C, on the guest state saved by bt_callout: the
 * privileged and sensitive ones (Popek-Goldberg: cli/sti/pushf/popf, I/O,
 * control and segment registers, descriptor tables, int/iret, far
 * transfers), and the ones that mean something else in 64-bit mode (push/
 * pop of segment registers, pusha/popa, BCD, bound, enter, string
 * instructions with their implicit ES:EDI).  Each handler reads operands
 * through the guest's segments, and either completes (return 0: the
 * translated code goes on) or leaves for the dispatcher (return 1, with
 * cpu->eip and bt->exit saying where and why). */
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>
#include "bt/bt.h"
#include "monitor/vm.h"

enum { CONT = 0, LEAVE = 1 };

/* ---------------------------------------------------------------- registers */

static uint32_t *gpr32(struct bt_cpu *c, int id) { return &c->regs[id & 7]; }

static uint32_t reg_read(struct bt_cpu *c, ZydisRegister r)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
		return c->regs[ZydisRegisterGetId(r)];
	case ZYDIS_REGCLASS_GPR16:
		return c->regs[ZydisRegisterGetId(r)] & 0xffff;
	case ZYDIS_REGCLASS_GPR8: {
		int id = ZydisRegisterGetId(r);
		if (id < 4)
			return c->regs[id] & 0xff;
		return (c->regs[id - 4] >> 8) & 0xff;
	}
	case ZYDIS_REGCLASS_SEGMENT:
		return c->seg[ZydisRegisterGetId(r)].sel;
	default:
		return 0;
	}
}

static void reg_write(struct bt_cpu *c, ZydisRegister r, uint32_t v)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
		c->regs[ZydisRegisterGetId(r)] = v;
		break;
	case ZYDIS_REGCLASS_GPR16: {
		uint32_t *p = gpr32(c, ZydisRegisterGetId(r));
		*p = (*p & 0xffff0000u) | (v & 0xffff);
		break;
	}
	case ZYDIS_REGCLASS_GPR8: {
		int id = ZydisRegisterGetId(r);
		if (id < 4)
			c->regs[id] = (c->regs[id] & ~0xffu) | (v & 0xff);
		else
			c->regs[id - 4] = (c->regs[id - 4] & ~0xff00u) | (v & 0xff) << 8;
		break;
	}
	default:
		break;
	}
}

/* ---------------------------------------------------------------- operands */

static int seg_of(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return S_ES;
	case ZYDIS_REGISTER_CS: return S_CS;
	case ZYDIS_REGISTER_SS: return S_SS;
	case ZYDIS_REGISTER_FS: return S_FS;
	case ZYDIS_REGISTER_GS: return S_GS;
	default: return S_DS;
	}
}

/* Effective address (offset within the segment) of a memory operand. */
static uint32_t ea_of(struct bt_cpu *c, const ZydisDecodedOperand *op)
{
	uint32_t ea = (uint32_t)op->mem.disp.value;
	if (op->mem.base != ZYDIS_REGISTER_NONE)
		ea += reg_read(c, op->mem.base);
	if (op->mem.index != ZYDIS_REGISTER_NONE)
		ea += reg_read(c, op->mem.index) * op->mem.scale;
	if (ZydisRegisterGetClass(op->mem.base) == ZYDIS_REGCLASS_GPR16 ||
	    ZydisRegisterGetClass(op->mem.index) == ZYDIS_REGCLASS_GPR16)
		ea &= 0xffff;
	return ea;
}

static uint32_t lin_of(struct bt_cpu *c, const ZydisDecodedOperand *op)
{
	return c->seg[seg_of(op->mem.segment)].base + ea_of(c, op);
}

/* A guest memory access from C failed: bt_read/bt_write raised the
 * guest's #PF (or set an error for a page table outside RAM); non-RAM
 * addresses go to the MMIO bus there and do not fail. */
static int mem_fail(struct bt *bt, uint32_t lin)
{
	(void)bt;
	(void)lin;
	return LEAVE;
}

#define READ(lin, p, n)  do { if (!bt_read(bt, (lin), (p), (n))) return mem_fail(bt, (lin)); } while (0)
#define WRITE(lin, p, n) do { if (!bt_write(bt, (lin), (p), (n))) return mem_fail(bt, (lin)); } while (0)

static int op_read(struct bt *bt, const ZydisDecodedOperand *op, uint32_t *v)
{
	struct bt_cpu *c = &bt->cpu;
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		*v = reg_read(c, op->reg.value);
		return CONT;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		*v = (uint32_t)op->imm.value.u;
		return CONT;
	case ZYDIS_OPERAND_TYPE_MEMORY: {
		uint32_t lin = lin_of(c, op);
		*v = 0;
		READ(lin, v, op->size / 8 > 4 ? 4 : op->size / 8);
		return CONT;
	}
	default:
		*v = 0;
		return CONT;
	}
}

static int op_write(struct bt *bt, const ZydisDecodedOperand *op, uint32_t v)
{
	struct bt_cpu *c = &bt->cpu;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		reg_write(c, op->reg.value, v);
		return CONT;
	}
	uint32_t lin = lin_of(c, op);
	WRITE(lin, &v, op->size / 8 > 4 ? 4 : op->size / 8);
	return CONT;
}

static int push(struct bt *bt, uint32_t v, unsigned size)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t esp = c->regs[R_ESP] - size;
	WRITE(c->seg[S_SS].base + esp, &v, size);
	c->regs[R_ESP] = esp;
	return CONT;
}

static int pop(struct bt *bt, uint32_t *v, unsigned size)
{
	struct bt_cpu *c = &bt->cpu;
	*v = 0;
	READ(c->seg[S_SS].base + c->regs[R_ESP], v, size);
	c->regs[R_ESP] += size;
	return CONT;
}

/* ---------------------------------------------------------------- flags */

static unsigned parity(uint32_t v)
{
	return !__builtin_parity(v & 0xff);
}

/* Flags of a - b at width bits (CMPS/SCAS). */
static uint32_t flags_sub(uint32_t a, uint32_t b, unsigned bits)
{
	uint32_t mask = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
	uint32_t sign = 1u << (bits - 1);
	a &= mask;
	b &= mask;
	uint32_t r = (a - b) & mask;
	uint32_t f = 0;
	if (a < b) f |= EFLAGS_CF;
	if (parity(r)) f |= EFLAGS_PF;
	if ((a ^ b ^ r) & 0x10) f |= EFLAGS_AF;
	if (r == 0) f |= EFLAGS_ZF;
	if (r & sign) f |= EFLAGS_SF;
	if ((a ^ b) & (a ^ r) & sign) f |= EFLAGS_OF;
	return f;
}

#define ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

static void set_arith(struct bt_cpu *c, uint32_t f)
{
	c->eflags = (c->eflags & ~ARITH) | (f & ARITH);
}

/* ---------------------------------------------------------------- handlers */

/* A device access may arm a timer earlier than the host timer is set for
 * (the run loop arms it only between runs, and bt handles I/O without
 * leaving): move the host timer forward so the tick arrives in time. */
static void rearm_host_timer(struct vm *vm)
{
	uint64_t d = timerq_next_deadline(&vm->tq);
	if (vm->timeout_deadline < d)
		d = vm->timeout_deadline;
	if (d < vm->host_timer_armed)
		kick_arm(vm, d);
}

static int raise_at(struct bt *bt, uint32_t eip, int vector, bool has_err, uint32_t err)
{
	bt->cpu.eip = eip;
	bt_raise(bt, vector, has_err, err);
	return LEAVE;
}

static int leave_to(struct bt *bt, uint32_t eip)
{
	bt->cpu.eip = eip;
	bt->exit = BX_DISPATCH;
	return LEAVE;
}

/* After a segment register load (MOV, POP, LDS..LSS) that did not fault.
 * A new SS goes through the dispatcher (MOV/POP SS hold interrupts off for
 * one instruction, SDM Vol. 2B MOV; the next block is then translated one
 * instruction long), and so does any load that dropped the translations
 * (bt_load_seg flushes on a new CS/DS/ES/SS base, which blocks fold in).
 * Otherwise nothing a block assumes has changed (FS and GS bases are read
 * at run time) and it goes on: Linux's kernel entry and exit reload DS,
 * ES and FS with the bases they had. */
static int seg_loaded(struct bt *bt, int sreg, bool shadow, uint64_t gen, uint32_t next)
{
	if (sreg == S_SS) {
		if (shadow) {
			bt->cpu.irq_shadow = true;
			bt->single_next = true;
		}
		return leave_to(bt, next);
	}
	return bt->tc.generation == gen ? CONT : leave_to(bt, next);
}

static int do_io(struct bt *bt, const struct insn *in, uint32_t eip, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	struct vm *vm = bt->vm;
	const ZydisDecodedInstruction *zi = &in->zi;
	bool is_in = zi->mnemonic == ZYDIS_MNEMONIC_IN;
	const ZydisDecodedOperand *port_op = &in->ops[is_in ? 1 : 0];
	const ZydisDecodedOperand *val_op = &in->ops[is_in ? 0 : 1];
	uint16_t port = (uint16_t)(port_op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? port_op->imm.value.u
			: c->regs[R_EDX] & 0xffff);
	unsigned size = val_op->size / 8;
	uint8_t data[4] = { 0 };
	if (is_in) {
		console_pump(vm); /* a guest polling the UART sees input arrive */
		io_bus_access(&vm->pio, port, data, size, false);
		vm->stats.io_reads++;
		reg_write(c, val_op->reg.value, io_data_get(data, size));
	} else {
		io_data_put(data, size, reg_read(c, val_op->reg.value));
		io_bus_access(&vm->pio, port, data, size, true);
		vm->stats.io_writes++;
	}
	rearm_host_timer(vm);
	/* Stop, or an interrupt the access raised that the guest can take
	 * now: back to the dispatcher, since chained code would not look. */
	c->irq_pend = vm_intr_pending(vm);
	if (vm->stop || ((c->eflags & EFLAGS_IF) && c->irq_pend) || bt_nmi_deliverable(bt))
		return leave_to(bt, next);
	(void)eip;
	return CONT;
}

/* Guest memory for a string instruction's elements: the host address of
 * the last page used on each side, so that a REP MOVS walks the guest
 * tables once per page instead of once per element.  A write fill does
 * what access_lin does for a write (the walk sets D; translations on the
 * frame are dropped).  Elements that straddle a page, and MMIO, take the
 * general path. */
struct str_page {
	uint32_t lpn;
	uint8_t *host;
	bool valid, writable;
};

static bool str_access(struct bt *bt, struct str_page *sp, uint32_t lin, void *buf, unsigned size, bool write)
{
	uint32_t off = lin & 0xfff;
	if (off + size > 4096)
		return write ? bt_write(bt, lin, buf, size) : bt_read(bt, lin, buf, size);
	if (!sp->valid || sp->lpn != lin >> 12 || (write && !sp->writable)) {
		uint32_t pa;
		if (!bt_lin_to_phys(bt, lin, write ? PW_WRITE : PW_READ, &pa))
			return false;
		const struct phys_mem *pm = &bt->vm->mem.phys;
		if ((uint64_t)pa + 4096 - off > pm->size) {
			sp->valid = false; /* MMIO (or the end of RAM): the general path */
			return write ? bt_write(bt, lin, buf, size) : bt_read(bt, lin, buf, size);
		}
		if (write)
			bt_code_written(bt, pa);
		sp->lpn = lin >> 12;
		sp->host = pm->base + (pa & ~0xfffu);
		sp->valid = true;
		sp->writable = write;
	}
	if (write)
		memcpy(sp->host + off, buf, size);
	else
		memcpy(buf, sp->host + off, size);
	return true;
}

/* INS/OUTS/MOVS/STOS/LODS/CMPS/SCAS with their REP forms. */
static int do_string(struct bt *bt, const struct insn *in, uint32_t eip, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	struct vm *vm = bt->vm;
	const ZydisDecodedInstruction *zi = &in->zi;
	bool rep = zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE);
	bool repne = zi->attributes & ZYDIS_ATTRIB_HAS_REPNE;
	bool a16 = zi->address_width == 16;
	unsigned size;
	int src_seg = S_DS;
	for (unsigned i = 0; i < zi->operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && in->ops[i].mem.base != ZYDIS_REGISTER_EDI &&
		    in->ops[i].mem.base != ZYDIS_REGISTER_DI)
			src_seg = seg_of(in->ops[i].mem.segment);
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_LODSB:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_INSB:
	case ZYDIS_MNEMONIC_OUTSB:
		size = 1; break;
	case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_OUTSW:
		size = 2; break;
	default:
		size = 4; break;
	}
	int32_t step = (c->eflags & EFLAGS_DF) ? -(int32_t)size : (int32_t)size;
	uint32_t amask = a16 ? 0xffff : 0xffffffffu;
	uint32_t *esi = &c->regs[R_ESI], *edi = &c->regs[R_EDI], *ecx = &c->regs[R_ECX];
#define ADV(r) (*(r) = (*(r) & ~amask) | ((*(r) + (uint32_t)step) & amask))
	struct str_page sp_src = { 0 }, sp_dst = { 0 };
#define SREAD(lin, p, n)  do { if (!str_access(bt, &sp_src, (lin), (p), (n), false)) return mem_fail(bt, (lin)); } while (0)
#define DREAD(lin, p, n)  do { if (!str_access(bt, &sp_dst, (lin), (p), (n), false)) return mem_fail(bt, (lin)); } while (0)
#define DWRITE(lin, p, n) do { if (!str_access(bt, &sp_dst, (lin), (p), (n), true)) return mem_fail(bt, (lin)); } while (0)
	/* Bounded work per callout keeps interrupt latency bounded: a long
	 * REP leaves with EIP still on the instruction and resumes. */
	for (unsigned n = 0; n < 65536; n++) {
		if (rep && (*ecx & amask) == 0)
			return CONT;
		uint32_t s = c->seg[src_seg].base + (*esi & amask);
		uint32_t d = c->seg[S_ES].base + (*edi & amask);
		uint32_t a = 0, b = 0;
		uint8_t io[4] = { 0 };
		/* Whole runs inside the pages the last element used (forward,
		 * 32-bit addresses): REP STOS as a fill, REP MOVS as memmove
		 * when that equals the element-by-element copy (no destination
		 * inside the source range ahead of it). */
		if (rep && step > 0 && !a16 && n > 0 && sp_dst.valid && sp_dst.writable && sp_dst.lpn == d >> 12) {
			uint32_t cnt = *ecx, room = (4096 - (d & 0xfff)) / size;
			bool movs = zi->mnemonic == ZYDIS_MNEMONIC_MOVSB || zi->mnemonic == ZYDIS_MNEMONIC_MOVSW ||
				    zi->mnemonic == ZYDIS_MNEMONIC_MOVSD;
			bool stos = zi->mnemonic == ZYDIS_MNEMONIC_STOSB || zi->mnemonic == ZYDIS_MNEMONIC_STOSW ||
				    zi->mnemonic == ZYDIS_MNEMONIC_STOSD;
			if (movs && sp_src.valid && sp_src.lpn == s >> 12) {
				uint32_t sroom = (4096 - (s & 0xfff)) / size;
				room = room < sroom ? room : sroom;
			} else if (!stos) {
				room = 0;
			}
			if (cnt > room)
				cnt = room;
			if (cnt > 65536 - n)
				cnt = 65536 - n;
			uint8_t *dp = sp_dst.host + (d & 0xfff);
			size_t bytes = (size_t)cnt * size;
			if (cnt >= 2 && stos) {
				uint32_t v = c->regs[R_EAX];
				if (size == 1)
					memset(dp, (int)(v & 0xff), bytes);
				else
					for (size_t k = 0; k < bytes; k += size)
						memcpy(dp + k, &v, size);
			} else if (cnt >= 2 && movs) {
				uint8_t *spp = sp_src.host + (s & 0xfff);
				if (dp <= spp || dp >= spp + bytes)
					memmove(dp, spp, bytes);
				else
					cnt = 0; /* overlapping forward copy: element by element below */
				if (cnt)
					*esi += (uint32_t)bytes;
			} else {
				cnt = 0;
			}
			if (cnt >= 2) {
				*edi += (uint32_t)bytes;
				*ecx -= cnt;
				n += cnt - 1;
				if (vm->stop)
					return leave_to(bt, next);
				continue;
			}
		}
		switch (zi->mnemonic) {
		case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
			SREAD(s, &a, size);
			DWRITE(d, &a, size);
			ADV(esi);
			ADV(edi);
			break;
		case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
			a = c->regs[R_EAX];
			DWRITE(d, &a, size);
			ADV(edi);
			break;
		case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
			SREAD(s, &a, size);
			c->regs[R_EAX] = size == 4 ? a : (c->regs[R_EAX] & ~((1u << (8 * size)) - 1)) | a;
			ADV(esi);
			break;
		case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
			DREAD(d, &b, size);
			set_arith(c, flags_sub(c->regs[R_EAX], b, size * 8));
			ADV(edi);
			break;
		case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
			SREAD(s, &a, size);
			DREAD(d, &b, size);
			set_arith(c, flags_sub(a, b, size * 8));
			ADV(esi);
			ADV(edi);
			break;
		case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
			io_bus_access(&vm->pio, c->regs[R_EDX] & 0xffff, io, size, false);
			vm->stats.io_reads++;
			DWRITE(d, io, size);
			ADV(edi);
			break;
		case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
			SREAD(s, io, size);
			io_bus_access(&vm->pio, c->regs[R_EDX] & 0xffff, io, size, true);
			vm->stats.io_writes++;
			ADV(esi);
			break;
		default:
			bt_set_error(bt, "internal: string instruction not handled");
			return LEAVE;
		}
		if (!rep) {
			rearm_host_timer(vm);
			return CONT;
		}
		*ecx = (*ecx & ~amask) | ((*ecx - 1) & amask);
		bool cmp = zi->mnemonic == ZYDIS_MNEMONIC_SCASB || zi->mnemonic == ZYDIS_MNEMONIC_SCASW ||
			   zi->mnemonic == ZYDIS_MNEMONIC_SCASD || zi->mnemonic == ZYDIS_MNEMONIC_CMPSB ||
			   zi->mnemonic == ZYDIS_MNEMONIC_CMPSW || zi->mnemonic == ZYDIS_MNEMONIC_CMPSD;
		if (cmp && (((c->eflags & EFLAGS_ZF) != 0) == repne))
			return CONT;
		if (vm->stop)
			return leave_to(bt, next);
	}
	return leave_to(bt, eip); /* resume the REP later */
#undef ADV
#undef SREAD
#undef DREAD
#undef DWRITE
}

/* The CPU bt shows the guest (monitor/cpu_model.c, the KVM backend's too). */
static void do_cpuid(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	struct cpuid_regs r;
	cpu_model_cpuid(&bt->vm->cpu_model, c->regs[R_EAX], c->regs[R_ECX], &r);
	c->regs[R_EAX] = r.eax;
	c->regs[R_EBX] = r.ebx;
	c->regs[R_ECX] = r.ecx;
	c->regs[R_EDX] = r.edx;
}

/* The guest TSC is the host's plus tsc_offset.  Direct execution runs
 * RDTSC natively only while the offset is 0 (dv_refused_classes): when
 * that changes, pages it made executable are judged again. */
static void set_tsc_offset(struct bt *bt, uint64_t off)
{
	if ((off == 0) != (bt->cpu.tsc_offset == 0))
		bt_direct_reset(bt, false);
	bt->cpu.tsc_offset = off;
}

static int do_msr(struct bt *bt, bool write, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t idx = c->regs[R_ECX];
	uint64_t v = (uint64_t)c->regs[R_EDX] << 32 | c->regs[R_EAX];
	uint64_t *p = NULL;
	static uint64_t mtrr[32], mtrr_fixed[11], mtrr_def;
	switch (idx) {
	case 0x10: /* IA32_TIME_STAMP_COUNTER */
		if (write) {
			/* A write moves IA32_TSC_ADJUST by as much as the TSC
			 * (SDM Vol. 3B 17.17.3). */
			uint64_t off = v - __rdtsc();
			c->msr_tsc_adjust += off - c->tsc_offset;
			set_tsc_offset(bt, off);
		} else {
			v = __rdtsc() + c->tsc_offset;
		}
		goto done;
	case 0x3b: /* IA32_TSC_ADJUST (CPUID.7.0:EBX[1]): adding X to it adds X to the TSC */
		if (write) {
			set_tsc_offset(bt, c->tsc_offset + (v - c->msr_tsc_adjust));
			c->msr_tsc_adjust = v;
		} else {
			v = c->msr_tsc_adjust;
		}
		goto done;
	case 0x1b: /* IA32_APIC_BASE: the platform's local APIC (#GP without one) */
		if (write ? vm_apic_base_write(bt->vm, v) : vm_apic_base_read(bt->vm, &v))
			return raise_at(bt, eip, 13, true, 0);
		if (bt->vm->stop)
			return leave_to(bt, eip + 2);
		goto done;
	case 0xc0000080: /* IA32_EFER (SDM Vol. 4 table 2-2) */
		if (write) {
			/* Only NXE (CPUID.80000001H:EDX[20]) exists on this
			 * 32-bit CPU: SCE, LME and the rest are reserved, #GP
			 * (no SYSCALL, no long mode in CPUID); LMA is read-only 0. */
			if (v & ~(uint64_t)EFER_NXE)
				return raise_at(bt, eip, 13, true, 0);
			uint64_t old = c->efer;
			c->efer = v;
			if (((old ^ v) & EFER_NXE) && (c->cr0 & CR0_PG)) {
				/* XD changes meaning (SDM Vol. 3A 4.10.4.1 treats
				 * it as a paging-mode change): walk again */
				bt_views_reset(bt, true);
				tcache_flush(&bt->tc);
				return leave_to(bt, eip + 2);
			}
		} else {
			v = c->efer;
		}
		goto done;
	case 0xc0000103: /* IA32_TSC_AUX (CPUID.80000001H:EDX[27]): bits 31:0, the rest reserved */
		if (write && (v >> 32))
			return raise_at(bt, eip, 13, true, 0);
		p = &c->msr_tsc_aux;
		break;
	case 0x8b: /* IA32_BIOS_SIGN_ID: the microcode revision in bits 63:32
		    * (SDM Vol. 4, table 2-2).  Linux writes 0, runs CPUID and
		    * reads it (intel_get_microcode_revision); without it the
		    * kernel logged "unchecked MSR access error".  Revision 1,
		    * what QEMU reports; writes are dropped (nothing to load). */
		if (!write)
			v = 1ull << 32;
		goto done;
	case 0x174: p = &c->msr_sysenter_cs; break;
	case 0x175: p = &c->msr_sysenter_esp; break;
	case 0x176: p = &c->msr_sysenter_eip; break;
	case 0x1a0: p = &c->msr_misc_enable; break;
	case 0x10a: /* IA32_ARCH_CAPABILITIES, read-only (SDM Vol. 4, table 2-2) */
		if (write)
			return raise_at(bt, eip, 13, true, 0);
		/* RDCL_NO: guest user code never reaches supervisor pages
		 * even speculatively -- translated (or, later, direct) CPL-3
		 * code runs against the U-view, where only user pages are
		 * mapped (docs/design.md).  Without it a PAE Linux turns on
		 * page-table isolation: a CR3 load at every kernel entry and
		 * no global kernel pages, 7x slower under bt.  The other
		 * *_NO bits: the guest has no view of host microarchitectural
		 * buffers that a mitigation inside it could clear. */
		v = 1u << 0 /* RDCL_NO */ | 1u << 4 /* SSB_NO */ | 1u << 5 /* MDS_NO */ |
		    1u << 6 /* IF_PSCHANGE_MC_NO */ | 1u << 8 /* TAA_NO */ | 1u << 13 /* SBDR_SSDP_NO */ |
		    1u << 14 /* FBSDP_NO */ | 1u << 15 /* PSDP_NO */ | 1u << 26 /* GDS_NO */ |
		    1u << 27 /* RFDS_NO */;
		goto done;
	case 0x277: p = &c->msr_pat; break;
	case 0xfe:  /* MTRRcap: 8 variable ranges, fixed ranges, WC */
		if (write)
			return raise_at(bt, eip, 13, true, 0);
		v = 0x508;
		goto done;
	case 0x2ff: p = &mtrr_def; break;
	case 0x250: p = &mtrr_fixed[0]; break;
	case 0x258: p = &mtrr_fixed[1]; break;
	case 0x259: p = &mtrr_fixed[2]; break;
	default:
		if (idx >= 0x200 && idx < 0x210) {
			p = &mtrr[idx - 0x200];
			break;
		}
		if (idx >= 0x268 && idx <= 0x26f) {
			p = &mtrr_fixed[3 + idx - 0x268];
			break;
		}
		return raise_at(bt, eip, 13, true, 0);
	}
	if (write)
		*p = v;
	else
		v = *p;
done:
	if (!write) {
		c->regs[R_EAX] = (uint32_t)v;
		c->regs[R_EDX] = (uint32_t)(v >> 32);
	}
	return CONT;
}

static int do_mov_cr(struct bt *bt, const struct insn *in, uint32_t eip, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	const ZydisDecodedOperand *dst = &in->ops[0], *src = &in->ops[1];
	bool to_cr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL;
	ZydisRegister cr = to_cr ? dst->reg.value : src->reg.value;
	int n = cr - ZYDIS_REGISTER_CR0;
	if (!to_cr) {
		uint32_t v = n == 0 ? c->cr0 : n == 2 ? c->cr2 : n == 3 ? c->cr3 : n == 4 ? c->cr4 : 0;
		if (n != 0 && n != 2 && n != 3 && n != 4)
			return raise_at(bt, eip, 6, false, 0);
		reg_write(c, dst->reg.value, v);
		return CONT;
	}
	uint32_t v = reg_read(c, src->reg.value);
	switch (n) {
	case 0: {
		if ((v & CR0_PG) && !(v & CR0_PE))
			return raise_at(bt, eip, 13, true, 0);
		if (!(v & CR0_PE)) {
			bt_unsupported(bt, "the guest left protected mode (CR0.PE=0 at EIP %#x): real mode is "
				       "not supported by bt yet", eip);
			c->eip = eip;
			return LEAVE;
		}
		uint32_t old = c->cr0;
		c->cr0 = v | CR0_ET;
		if ((old ^ c->cr0) & (CR0_PG | CR0_WP)) {
			/* a new address space: empty the view, drop translations */
			bt_views_reset(bt, c->cr0 & CR0_PG);
			tcache_flush(&bt->tc);
			return leave_to(bt, next);
		}
		if ((old ^ c->cr0) & (CR0_TS | CR0_EM | CR0_MP)) {
			tcache_flush(&bt->tc); /* FPU instructions translate differently */
			return leave_to(bt, next);
		}
		return CONT;
	}
	case 2: c->cr2 = v; return CONT;
	case 3:
		c->cr3 = v;
		if (c->cr0 & CR0_PG) {
			/* CR3 load: flush the virtual TLB.  With CR4.PGE, global
			 * entries stay (SDM Vol. 3A 4.10.4.1), and so do the
			 * translations made from global pages: a kernel mapped
			 * global is not retranslated at every context switch. */
			if (c->cr4 & CR4_PGE) {
				bt_views_flush_nonglobal(bt);
				bt->st.cr3_invalidations += tcache_invalidate_nonglobal(&bt->tc);
			} else {
				bt_views_reset(bt, true);
				tcache_flush(&bt->tc);
			}
			return leave_to(bt, next);
		}
		return CONT;
	case 4: {
		/* VME PVI TSD DE PSE PAE PGE PCE OSFXSR OSXMMEXCPT UMIP SMEP
		 * SMAP; not MCE, which the CPUID model does not have (SDM: #GP
		 * on reserved bits) */
		if (v & ~(0x7bfu | CR4_UMIP | CR4_SMEP | CR4_SMAP))
			return raise_at(bt, eip, 13, true, 0);
		uint32_t old = c->cr4;
		c->cr4 = v;
		/* TSD decides whether RDTSC may run directly (as the TSC
		 * offset does, set_tsc_offset). */
		if ((old ^ v) & 4u /* CR4.TSD */)
			bt_direct_reset(bt, false);
		/* PSE, PAE, PGE or SMEP changing under paging: another walk
		 * (SDM Vol. 3A 4.10.4.1: such writes invalidate all TLB
		 * entries).  SMEP also decides which pages CPL-0 code may be
		 * translated from, and SMAP whether the K-view maps user pages
		 * (docs/design.md, "SMEP and SMAP"): both empty the views and
		 * the translations too. */
		if (((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP)) && (c->cr0 & CR0_PG)) {
			bt_views_reset(bt, true);
			tcache_flush(&bt->tc);
			return leave_to(bt, next);
		}
		return CONT;
	}
	default:
		return raise_at(bt, eip, 6, false, 0);
	}
}

/* Far JMP/CALL/RET and SYSENTER/SYSEXIT are in gates.c; they leave for
 * the dispatcher, which picks the view and translation mode of the new
 * CPL. */
static int do_far_jmp_call(struct bt *bt, const struct insn *in, uint32_t eip, uint32_t next, bool call)
{
	struct bt_cpu *c = &bt->cpu;
	const ZydisDecodedOperand *op = &in->ops[0];
	uint16_t sel;
	uint32_t off;
	unsigned osz = in->zi.operand_width / 8;
	if (op->type == ZYDIS_OPERAND_TYPE_POINTER) {
		sel = op->ptr.segment;
		off = op->ptr.offset;
	} else {
		uint32_t lin = lin_of(c, op);
		off = 0;
		sel = 0;
		READ(lin, &off, osz);
		READ(lin + osz, &sel, 2);
	}
	c->eip = eip;
	if (bt_far_jmp_call(bt, sel, off, osz, call, next) < 0)
		return LEAVE;
	return leave_to(bt, c->eip);
}

static int do_far_ret(struct bt *bt, const struct insn *in, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	unsigned osz = in->zi.operand_width / 8;
	uint32_t imm = in->zi.operand_count_visible ? (uint32_t)in->ops[0].imm.value.u & 0xffff : 0;
	c->eip = eip;
	if (bt_far_ret(bt, osz, imm) < 0)
		return LEAVE;
	return leave_to(bt, c->eip);
}

static int do_iret(struct bt *bt, const struct insn *in, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	unsigned osz = in->zi.operand_width / 8;
	uint32_t esp0 = c->regs[R_ESP], off, sel, fl;
	if (bt->nmi_blocked) {
		/* IRET ends NMI blocking (SDM Vol. 3A 6.7.1), even one that
		 * faults; a latched NMI is taken by the dispatcher, so leave
		 * for it (co_xfer too: single_next) */
		bt->nmi_blocked = false;
		if (vm_nmi_pending(bt->vm))
			bt->single_next = true;
	}
	if (c->eflags & EFLAGS_NT) {
		/* TASK-RETURN (SDM IRET): back to the task in the link field */
		c->eip = eip;
		if (bt_task_return(bt, eip + in->len) < 0)
			return LEAVE;
		return leave_to(bt, c->eip);
	}
	if (pop(bt, &off, osz) != CONT || pop(bt, &sel, osz) != CONT || pop(bt, &fl, osz) != CONT) {
		c->regs[R_ESP] = esp0;
		return LEAVE;
	}
	c->eip = eip;
	if (fl & EFLAGS_VM && c->cpl == 0 && osz == 4) {
		c->regs[R_ESP] = esp0;
		bt_unsupported(bt, "IRET to virtual-8086 mode: not supported by bt yet");
		return LEAVE;
	}
	unsigned rpl = sel & 3;
	if (rpl < (unsigned)c->cpl) {
		c->regs[R_ESP] = esp0;
		return raise_at(bt, eip, 13, true, sel & ~3u);
	}
	int old_cpl = c->cpl;
	struct seg old_cs = c->seg[S_CS], old_ss = c->seg[S_SS];
	uint32_t new_esp = 0, new_ss = 0;
	if (rpl > (unsigned)c->cpl) {
		if (pop(bt, &new_esp, osz) != CONT || pop(bt, &new_ss, osz) != CONT) {
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
		/* CS is checked as seen from the new privilege level */
		c->cpl = (int)rpl;
		if (bt_load_cs(bt, (uint16_t)sel) < 0) {
			c->cpl = old_cpl;
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
		bool fault;
		uint32_t err;
		if (bt_load_seg(bt, S_SS, (uint16_t)new_ss, &fault, &err) < 0) {
			c->cpl = old_cpl;
			c->seg[S_CS] = old_cs;
			c->seg[S_SS] = old_ss;
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
	} else if (bt_load_cs(bt, (uint16_t)sel) < 0) {
		c->regs[R_ESP] = esp0;
		return LEAVE;
	}
	/* EFLAGS as the old CPL may change them (SDM IRET): IOPL only at CPL 0,
	 * IF only when CPL <= IOPL; VM/VIP/VIF are not touched here. */
	uint32_t changeable = EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_TF |
			      EFLAGS_DF | EFLAGS_OF | EFLAGS_NT | EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
	if (old_cpl == 0)
		changeable |= EFLAGS_IOPL;
	if ((uint32_t)old_cpl <= ((c->eflags & EFLAGS_IOPL) >> 12))
		changeable |= EFLAGS_IF;
	if (osz == 2)
		changeable &= 0xffff;
	c->eflags = (c->eflags & ~changeable) | (fl & changeable) | 2;
	if (rpl > (unsigned)old_cpl) {
		c->regs[R_ESP] = osz == 2 ? (c->regs[R_ESP] & 0xffff0000u) | (new_esp & 0xffff) : new_esp;
		bt_null_inaccessible_segs(bt);
	}
	return leave_to(bt, osz == 2 ? off & 0xffff : off);
}

static int do_popf(struct bt *bt, const struct insn *in, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	unsigned osz = in->zi.operand_width / 8;
	uint32_t v;
	if (pop(bt, &v, osz) != CONT)
		return LEAVE;
	/* SDM POPF: at CPL 0 all flags but VM, VIP, VIF; above, IOPL stays and
	 * IF changes only when CPL <= IOPL (silently kept otherwise). */
	uint32_t changeable = 0x247fd5u; /* CF PF AF ZF SF TF IF DF OF IOPL NT AC ID */
	if (c->cpl > 0) {
		changeable &= ~EFLAGS_IOPL;
		if ((unsigned)c->cpl > ((c->eflags & EFLAGS_IOPL) >> 12))
			changeable &= ~EFLAGS_IF;
	}
	if (osz == 2)
		changeable &= 0xffff;
	uint32_t old = c->eflags;
	c->eflags = (c->eflags & ~changeable) | (v & changeable) | 2;
	c->eflags &= ~EFLAGS_RF;
	/* Enabling interrupts or single-stepping changes what the dispatcher
	 * must do next: return to it.  POPF has no interrupt shadow. */
	if (((c->eflags & ~old) & (EFLAGS_IF | EFLAGS_TF)) || ((old & ~c->eflags) & EFLAGS_TF))
		return leave_to(bt, next);
	return CONT;
}

static int do_lgdt_lidt(struct bt *bt, const struct insn *in, bool idt)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t lin = lin_of(c, &in->ops[0]);
	uint16_t limit;
	uint32_t base;
	READ(lin, &limit, 2);
	READ(lin + 2, &base, 4);
	if (in->zi.operand_width == 16)
		base &= 0xffffff;
	struct dtr *t = idt ? &c->idtr : &c->gdtr;
	t->base = base;
	t->limit = limit;
	return CONT;
}

static int do_sgdt_sidt(struct bt *bt, const struct insn *in, bool idt)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t lin = lin_of(c, &in->ops[0]);
	struct dtr *t = idt ? &c->idtr : &c->gdtr;
	WRITE(lin, &t->limit, 2);
	WRITE(lin + 2, &t->base, 4);
	return CONT;
}

/* LLDT/LTR: system descriptors from the GDT. */
static int do_lldt_ltr(struct bt *bt, const struct insn *in, uint32_t eip, bool tr)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t v;
	if (op_read(bt, &in->ops[0], &v) != CONT)
		return LEAVE;
	uint16_t sel = (uint16_t)v;
	if ((sel & ~3u) == 0) {
		if (tr)
			return raise_at(bt, eip, 13, true, 0);
		memset(&c->ldtr, 0, sizeof(c->ldtr));
		return CONT;
	}
	if (sel & 4)
		return raise_at(bt, eip, 13, true, sel & ~3u);
	uint8_t d[8];
	if ((sel & ~7u) + 7 > c->gdtr.limit || !bt_read_sys(bt, c->gdtr.base + (sel & ~7u), d, 8))
		return raise_at(bt, eip, 13, true, sel & ~3u);
	uint8_t type = d[5] & 0x1f;
	if (tr ? (type != 0x09 && type != 0x01) : type != 0x02)
		return raise_at(bt, eip, 13, true, sel & ~3u);
	if (!(d[5] & 0x80))
		return raise_at(bt, eip, 11, true, sel & ~3u);
	struct seg *s = tr ? &c->tr : &c->ldtr;
	s->sel = sel;
	s->base = (uint32_t)d[2] | (uint32_t)d[3] << 8 | (uint32_t)d[4] << 16 | (uint32_t)d[7] << 24;
	uint32_t limit = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)(d[6] & 0xf) << 16;
	s->limit = (d[6] & 0x80) ? limit << 12 | 0xfff : limit;
	s->attr = (uint16_t)(d[5] | (d[6] & 0xf0) << 8);
	if (tr) {
		d[5] |= 2; /* busy */
		s->attr |= 2;
		WRITE(c->gdtr.base + (sel & ~7u) + 5, &d[5], 1);
	}
	return CONT;
}

/* LAR/LSL/VERR/VERW (SDM Vol. 2): ZF=1 and a result when the descriptor is
 * visible at the current CPL and RPL; ZF=0 otherwise.  No faults. */
static int do_lar_lsl_verx(struct bt *bt, const struct insn *in)
{
	struct bt_cpu *c = &bt->cpu;
	ZydisMnemonic m = in->zi.mnemonic;
	const ZydisDecodedOperand *selop = (m == ZYDIS_MNEMONIC_VERR || m == ZYDIS_MNEMONIC_VERW) ? &in->ops[0] : &in->ops[1];
	uint32_t v;
	if (op_read(bt, selop, &v) != CONT)
		return LEAVE;
	uint16_t sel = (uint16_t)v;
	uint8_t d[8];
	bool ok = false;
	uint32_t result = 0;
	if ((sel & ~3u) != 0 || (sel & 4)) {
		uint32_t base = (sel & 4) ? c->ldtr.base : c->gdtr.base;
		uint32_t limit = (sel & 4) ? c->ldtr.limit : c->gdtr.limit;
		if ((!(sel & 4) || c->ldtr.sel) && (sel & ~7u) + 7 <= limit && bt_read(bt, base + (sel & ~7u), d, 8)) {
			uint8_t type = d[5] & 0x1f, dpl = (d[5] >> 5) & 3, rpl = sel & 3;
			bool s = type & 0x10, code = s && (type & 8), conforming = code && (type & 4);
			bool priv_ok = conforming || (dpl >= c->cpl && dpl >= rpl);
			switch (m) {
			case ZYDIS_MNEMONIC_LAR: {
				static const bool sys_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1,
								 [9] = 1, [11] = 1, [12] = 1 };
				ok = priv_ok && (s || sys_ok[type & 0xf]);
				result = ((uint32_t)d[5] << 8 | (uint32_t)(d[6] & 0xf0) << 16) & 0x00f0ff00u;
				break;
			}
			case ZYDIS_MNEMONIC_LSL: {
				static const bool sys_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };
				ok = priv_ok && (s || sys_ok[type & 0xf]);
				uint32_t lim = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)(d[6] & 0xf) << 16;
				result = (d[6] & 0x80) ? lim << 12 | 0xfff : lim;
				break;
			}
			case ZYDIS_MNEMONIC_VERR:
				ok = s && priv_ok && (!code || (type & 2));
				break;
			default: /* VERW */
				ok = s && !code && (type & 2) && dpl >= c->cpl && dpl >= rpl;
				break;
			}
		}
	}
	if (ok) {
		c->eflags |= EFLAGS_ZF;
		if (m == ZYDIS_MNEMONIC_LAR || m == ZYDIS_MNEMONIC_LSL) {
			if (in->ops[0].size == 16)
				result &= 0xffff;
			reg_write(c, in->ops[0].reg.value, result);
		}
	} else {
		c->eflags &= ~EFLAGS_ZF;
	}
	return CONT;
}

static int do_bcd(struct bt *bt, ZydisMnemonic m, const struct insn *in, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	uint8_t al = c->regs[R_EAX] & 0xff, ah = (c->regs[R_EAX] >> 8) & 0xff;
	uint32_t f = c->eflags;
	bool cf = f & EFLAGS_CF, af = f & EFLAGS_AF;
	uint8_t r;
	switch (m) {
	case ZYDIS_MNEMONIC_DAA: case ZYDIS_MNEMONIC_DAS: {
		uint8_t old = al;
		bool ncf = false, naf = false;
		bool add = m == ZYDIS_MNEMONIC_DAA;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || (add ? al > 0xf9 : al < 6);
			al = add ? (uint8_t)(al + 6) : (uint8_t)(al - 6);
			naf = true;
		}
		if (old > 0x99 || cf) {
			al = add ? (uint8_t)(al + 0x60) : (uint8_t)(al - 0x60);
			ncf = true;
		}
		r = al;
		f &= ~(EFLAGS_CF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF);
		if (ncf) f |= EFLAGS_CF;
		if (naf) f |= EFLAGS_AF;
		break;
	}
	case ZYDIS_MNEMONIC_AAA: case ZYDIS_MNEMONIC_AAS: {
		bool add = m == ZYDIS_MNEMONIC_AAA;
		uint16_t ax = c->regs[R_EAX] & 0xffff;
		if ((al & 0xf) > 9 || af) {
			/* SDM AAS: AX <- AX - 6, then AH <- AH - 1 (the borrow of
			 * the first step reaches AH too) */
			ax = add ? (uint16_t)(ax + 0x106) : (uint16_t)(ax - 6);
			if (!add)
				ax = (uint16_t)((ax & 0xff) | (uint16_t)(((ax >> 8) - 1) & 0xff) << 8);
			f |= EFLAGS_CF | EFLAGS_AF;
		} else {
			f &= ~(EFLAGS_CF | EFLAGS_AF);
		}
		ax &= 0xff0f;
		c->regs[R_EAX] = (c->regs[R_EAX] & 0xffff0000u) | ax;
		c->eflags = f;
		return CONT;
	}
	case ZYDIS_MNEMONIC_AAM: {
		uint8_t base = (uint8_t)in->ops[0].imm.value.u;
		if (base == 0)
			return raise_at(bt, eip, 0, false, 0);
		ah = al / base;
		al = al % base;
		r = al;
		c->regs[R_EAX] = (c->regs[R_EAX] & 0xffff0000u) | (uint32_t)ah << 8 | al;
		f &= ~(EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF);
		goto setzsp;
	}
	case ZYDIS_MNEMONIC_AAD: {
		uint8_t base = (uint8_t)in->ops[0].imm.value.u;
		al = (uint8_t)(al + ah * base);
		r = al;
		c->regs[R_EAX] = (c->regs[R_EAX] & 0xffff0000u) | al;
		f &= ~(EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF);
		goto setzsp;
	}
	default:
		return CONT;
	}
	c->regs[R_EAX] = (c->regs[R_EAX] & ~0xffu) | r;
setzsp:
	if (r == 0) f |= EFLAGS_ZF;
	if (r & 0x80) f |= EFLAGS_SF;
	if (parity(r)) f |= EFLAGS_PF;
	c->eflags = f;
	return CONT;
}

static int emulate(struct bt *bt, const struct insn *inp, uint32_t eip);

static int raise_at(struct bt *bt, uint32_t eip, int vector, bool has_err, uint32_t err);

/* May the current CPL do port I/O on [port, port+size)?  IOPL first, then
 * the TSS I/O permission bitmap (SDM Vol. 1 19.5.2). */
static bool io_allowed(struct bt *bt, uint16_t port, unsigned size)
{
	struct bt_cpu *c = &bt->cpu;
	if ((unsigned)c->cpl <= ((c->eflags & EFLAGS_IOPL) >> 12))
		return true;
	if (!(c->tr.attr & 0x80) || (c->tr.attr & 0x1f) != 0x0b || c->tr.limit < 0x67)
		return false;
	uint16_t base;
	if (!bt_read_sys(bt, c->tr.base + 0x66, &base, 2))
		return false;
	uint32_t byte = base + port / 8u;
	if (byte + 1 > c->tr.limit)
		return false;
	uint16_t bits;
	if (!bt_read_sys(bt, c->tr.base + byte, &bits, 2))
		return false;
	uint16_t mask = (uint16_t)(((1u << size) - 1) << (port & 7));
	return !(bits & mask);
}

/* CPL > 0: the privileged instructions raise #GP(0) (SDM Vol. 3A 5.9), and
 * the IOPL-sensitive ones too when CPL > IOPL.  -1: go on. */
static int cpl_check(struct bt *bt, const struct insn *in, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	unsigned iopl = (c->eflags & EFLAGS_IOPL) >> 12;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT:
	case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR: case ZYDIS_MNEMONIC_LMSW:
	case ZYDIS_MNEMONIC_CLTS: case ZYDIS_MNEMONIC_INVD: case ZYDIS_MNEMONIC_WBINVD:
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR:
		return raise_at(bt, eip, 13, true, 0);
	case ZYDIS_MNEMONIC_MOV:
		for (unsigned i = 0; i < 2; i++) {
			const ZydisDecodedOperand *op = &in->ops[i];
			if (op->type == ZYDIS_OPERAND_TYPE_REGISTER &&
			    (ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_CONTROL ||
			     ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_DEBUG))
				return raise_at(bt, eip, 13, true, 0);
		}
		return -1;
	case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI:
		return (unsigned)c->cpl > iopl ? raise_at(bt, eip, 13, true, 0) : -1;
	case ZYDIS_MNEMONIC_RDTSC: case ZYDIS_MNEMONIC_RDTSCP:
		return (c->cr4 & 4) ? raise_at(bt, eip, 13, true, 0) : -1; /* CR4.TSD */
	case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT: case ZYDIS_MNEMONIC_SLDT:
	case ZYDIS_MNEMONIC_SMSW: case ZYDIS_MNEMONIC_STR:
		/* UMIP (SDM Vol. 3A 2.5, CR4 bit 11): #GP(0) at CPL > 0 */
		return (c->cr4 & CR4_UMIP) ? raise_at(bt, eip, 13, true, 0) : -1;
	case ZYDIS_MNEMONIC_STAC: case ZYDIS_MNEMONIC_CLAC:
		return raise_at(bt, eip, 6, false, 0); /* SDM STAC/CLAC: #UD at CPL > 0 */
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT: {
		bool is_in = in->zi.mnemonic == ZYDIS_MNEMONIC_IN;
		const ZydisDecodedOperand *p = &in->ops[is_in ? 1 : 0], *v = &in->ops[is_in ? 0 : 1];
		uint16_t port = (uint16_t)(p->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? p->imm.value.u
				: c->regs[R_EDX] & 0xffff);
		return io_allowed(bt, port, v->size / 8) ? -1 : raise_at(bt, eip, 13, true, 0);
	}
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_OUTSB:
		return io_allowed(bt, c->regs[R_EDX] & 0xffff, 1) ? -1 : raise_at(bt, eip, 13, true, 0);
	case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_OUTSW:
		return io_allowed(bt, c->regs[R_EDX] & 0xffff, 2) ? -1 : raise_at(bt, eip, 13, true, 0);
	case ZYDIS_MNEMONIC_INSD: case ZYDIS_MNEMONIC_OUTSD:
		return io_allowed(bt, c->regs[R_EDX] & 0xffff, 4) ? -1 : raise_at(bt, eip, 13, true, 0);
	default:
		return -1;
	}
}

int bt_co_emulate(struct bt_cpu *c, uint32_t idx)
{
	struct bt *bt = bt_of(c);
	const struct insn *in = &bt->tc.emul[idx];
	return emulate(bt, in, in->eip);
}

int bt_co_emulate_at(struct bt_cpu *c, uint32_t eip)
{
	struct bt *bt = bt_of(c);
	uint8_t buf[16];
	size_t got = bt_fetch(bt, eip, buf, 15);
	struct insn in;
	bool need_more;
	if (got == 0) {
		c->eip = eip;
		if (bt->exit == BX_DISPATCH)
			bt_unsupported(bt, "instruction fetch at %#x, outside RAM (not emulated by bt yet)", eip);
		return LEAVE;
	}
	if (!decoder_decode(&bt->dec, buf, got, &in, &need_more))
		return raise_at(bt, eip, 6, false, 0);
	return emulate(bt, &in, eip);
}

static int emulate(struct bt *bt, const struct insn *inp, uint32_t eip)
{
	struct bt_cpu *c = &bt->cpu;
	/* A flush during this call only resets the pool's counter: entries
	 * are overwritten by translations, which happen in the dispatcher. */
	const struct insn *const inx = inp;
#define in (*inx)
	bt->st.callouts++;
	bt->st.by_mnemonic[inp->zi.mnemonic]++;
	c->eip = eip; /* faults from here on are at this instruction */
	uint32_t next = eip + in.len;
	const ZydisDecodedInstruction *zi = &in.zi;
	ZydisMnemonic m = zi->mnemonic;
	unsigned osz = zi->operand_width / 8;

	int fpu_vec = insn_fpu_fault(&in, c->cr0);
	if (fpu_vec >= 0)
		return raise_at(bt, eip, fpu_vec, false, 0);
	if (c->cpl > 0) {
		int r = cpl_check(bt, &in, eip);
		if (r >= 0)
			return r;
	}
	/* Segment registers as plain operands: MOV r/m, sreg and MOV sreg, r/m. */
	if (m == ZYDIS_MNEMONIC_MOV) {
		const ZydisDecodedOperand *dst = &in.ops[0], *src = &in.ops[1];
		if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_SEGMENT) {
			int s = ZydisRegisterGetId(dst->reg.value);
			if (s == S_CS)
				return raise_at(bt, eip, 6, false, 0);
			uint32_t v;
			if (op_read(bt, src, &v) != CONT)
				return LEAVE;
			bool fault;
			uint32_t err;
			uint64_t gen = bt->tc.generation;
			c->eip = eip;
			if (bt_load_seg(bt, s, (uint16_t)v, &fault, &err) < 0)
				return LEAVE;
			return seg_loaded(bt, s, true, gen, next);
		}
		if (src->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(src->reg.value) == ZYDIS_REGCLASS_SEGMENT) {
			uint32_t v = c->seg[ZydisRegisterGetId(src->reg.value)].sel;
			if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER && dst->size == 32)
				reg_write(c, dst->reg.value, v);  /* zero-extended (SDM MOV) */
			else if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER)
				reg_write(c, dst->reg.value, v);
			else {
				uint16_t w = (uint16_t)v;
				WRITE(lin_of(c, dst), &w, 2);
			}
			return CONT;
		}
		if ((dst->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		     (ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL)) ||
		    (src->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		     (ZydisRegisterGetClass(src->reg.value) == ZYDIS_REGCLASS_CONTROL)))
			return do_mov_cr(bt, &in, eip, next);
		if ((dst->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		     ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_DEBUG)) {
			c->dr[dst->reg.value - ZYDIS_REGISTER_DR0] = reg_read(c, src->reg.value);
			return CONT;
		}
		if (src->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(src->reg.value) == ZYDIS_REGCLASS_DEBUG) {
			reg_write(c, dst->reg.value, c->dr[src->reg.value - ZYDIS_REGISTER_DR0]);
			return CONT;
		}
	}

	switch (m) {
	case ZYDIS_MNEMONIC_CLI:
		c->eflags &= ~EFLAGS_IF;
		return CONT;
	case ZYDIS_MNEMONIC_STI:
		if (!(c->eflags & EFLAGS_IF)) {
			c->eflags |= EFLAGS_IF;
			/* Interrupts are recognised only after the next
			 * instruction (SDM STI): run exactly one more. */
			c->irq_shadow = true;
			bt->single_next = true;
		}
		return leave_to(bt, next);
	case ZYDIS_MNEMONIC_PUSHFD: case ZYDIS_MNEMONIC_PUSHF:
		/* VM and RF read as 0 in the pushed image (SDM PUSHF). */
		return push(bt, c->eflags & ~(EFLAGS_VM | EFLAGS_RF), osz);
	case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPF:
		return do_popf(bt, &in, next);
	case ZYDIS_MNEMONIC_HLT:
		c->eip = next;
		bt->exit = BX_HLT;
		return LEAVE;
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
		return do_io(bt, &in, eip, next);
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW:
		return do_string(bt, &in, eip, next);
	case ZYDIS_MNEMONIC_CMPSD:
		if (!(zi->attributes & ZYDIS_ATTRIB_HAS_MODRM))
			return do_string(bt, &in, eip, next);
		break;
	case ZYDIS_MNEMONIC_CPUID:
		do_cpuid(bt);
		return CONT;
	case ZYDIS_MNEMONIC_RDTSC: {
		uint64_t t = __rdtsc() + c->tsc_offset;
		c->regs[R_EAX] = (uint32_t)t;
		c->regs[R_EDX] = (uint32_t)(t >> 32);
		return CONT;
	}
	case ZYDIS_MNEMONIC_RDMSR:
		return do_msr(bt, false, eip);
	case ZYDIS_MNEMONIC_WRMSR:
		return do_msr(bt, true, eip);
	case ZYDIS_MNEMONIC_LGDT:
		return do_lgdt_lidt(bt, &in, false);
	case ZYDIS_MNEMONIC_LIDT:
		return do_lgdt_lidt(bt, &in, true);
	case ZYDIS_MNEMONIC_SGDT:
		return do_sgdt_sidt(bt, &in, false);
	case ZYDIS_MNEMONIC_SIDT:
		return do_sgdt_sidt(bt, &in, true);
	case ZYDIS_MNEMONIC_LLDT:
		return do_lldt_ltr(bt, &in, eip, false);
	case ZYDIS_MNEMONIC_LTR:
		return do_lldt_ltr(bt, &in, eip, true);
	case ZYDIS_MNEMONIC_SLDT:
		return op_write(bt, &in.ops[0], c->ldtr.sel);
	case ZYDIS_MNEMONIC_STR:
		return op_write(bt, &in.ops[0], c->tr.sel);
	case ZYDIS_MNEMONIC_SMSW:
		return op_write(bt, &in.ops[0], in.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? c->cr0 : c->cr0 & 0xffff);
	case ZYDIS_MNEMONIC_LMSW: {
		uint32_t v;
		if (op_read(bt, &in.ops[0], &v) != CONT)
			return LEAVE;
		/* LMSW sets PE (never clears it), MP, EM, TS. */
		uint32_t old = c->cr0;
		c->cr0 = (c->cr0 & ~0xeu) | (v & 0xf) | (old & CR0_PE);
		if ((old ^ c->cr0) & 0xe) {
			tcache_flush(&bt->tc);
			return leave_to(bt, next);
		}
		return CONT;
	}
	case ZYDIS_MNEMONIC_CLTS:
		if (c->cr0 & CR0_TS) {
			c->cr0 &= ~CR0_TS;
			tcache_flush(&bt->tc);
			return leave_to(bt, next);
		}
		return CONT;
	case ZYDIS_MNEMONIC_LAR: case ZYDIS_MNEMONIC_LSL: case ZYDIS_MNEMONIC_VERR:
	case ZYDIS_MNEMONIC_VERW:
		return do_lar_lsl_verx(bt, &in);
	case ZYDIS_MNEMONIC_INVLPG:
		if (c->cr0 & CR0_PG) {
			/* the page's translation and any code translated through it */
			uint32_t lin = lin_of(c, &in.ops[0]);
			bt_views_unmap_page(bt, lin);
			/* code translated through that page may now sit elsewhere */
			bt->st.invlpg_invalidations += tcache_invalidate_lin(&bt->tc, lin >> 12);
			return leave_to(bt, next);
		}
		return CONT;
	case ZYDIS_MNEMONIC_INVD: case ZYDIS_MNEMONIC_WBINVD:
		return CONT; /* caches are coherent */
	case ZYDIS_MNEMONIC_INT:
		c->eip = eip;
		bt_deliver_event(bt, (int)in.ops[0].imm.value.u & 0xff, false, 0, true, next);
		return LEAVE;
	case ZYDIS_MNEMONIC_INT3:
		c->eip = eip;
		bt_deliver_event(bt, 3, false, 0, true, next);
		return LEAVE;
	case ZYDIS_MNEMONIC_INTO:
		if (!(c->eflags & EFLAGS_OF))
			return CONT;
		c->eip = eip;
		bt_deliver_event(bt, 4, false, 0, true, next);
		return LEAVE;
	case ZYDIS_MNEMONIC_INT1:
		/* INT1 (ICEBP) is a trap: #DB delivered with EIP after it, and no
		 * gate DPL check (SDM Vol. 3A 6.15 "Interrupt 1"). */
		c->eip = next;
		bt_deliver_event(bt, 1, false, 0, false, next);
		return LEAVE;
	case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRET:
		return do_iret(bt, &in, eip);
	case ZYDIS_MNEMONIC_JMP:
		return do_far_jmp_call(bt, &in, eip, next, false);
	case ZYDIS_MNEMONIC_CALL:
		if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
			return do_far_jmp_call(bt, &in, eip, next, true);
		break;
	case ZYDIS_MNEMONIC_RET:
		if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
			return do_far_ret(bt, &in, eip);
		break;
	case ZYDIS_MNEMONIC_PUSH:
		if (in.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(in.ops[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
			/* a 32-bit push of a segment register writes 16 bits on
			 * current processors and moves ESP by 4 (SDM PUSH) */
			uint32_t esp = c->regs[R_ESP] - osz;
			uint16_t sel = c->seg[ZydisRegisterGetId(in.ops[0].reg.value)].sel;
			WRITE(c->seg[S_SS].base + esp, &sel, 2);
			c->regs[R_ESP] = esp;
			return CONT;
		}
		{
			uint32_t v;
			if (op_read(bt, &in.ops[0], &v) != CONT)
				return LEAVE;
			return push(bt, v, osz);
		}
	case ZYDIS_MNEMONIC_POP:
		if (in.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(in.ops[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
			uint32_t v, esp0 = c->regs[R_ESP];
			if (pop(bt, &v, osz) != CONT)
				return LEAVE;
			bool fault;
			uint32_t err;
			int s = ZydisRegisterGetId(in.ops[0].reg.value);
			uint64_t gen = bt->tc.generation;
			c->eip = eip;
			if (bt_load_seg(bt, s, (uint16_t)v, &fault, &err) < 0) {
				c->regs[R_ESP] = esp0;
				return LEAVE;
			}
			return seg_loaded(bt, s, true, gen, next);
		}
		{
			uint32_t v, esp0 = c->regs[R_ESP];
			if (pop(bt, &v, osz) != CONT)
				return LEAVE;
			if (op_write(bt, &in.ops[0], v) != CONT) {
				c->regs[R_ESP] = esp0;
				return LEAVE;
			}
			return CONT;
		}
	case ZYDIS_MNEMONIC_PUSHAD: case ZYDIS_MNEMONIC_PUSHA: {
		uint32_t esp0 = c->regs[R_ESP];
		for (int r = 0; r < 8; r++)
			if (push(bt, r == R_ESP ? esp0 : c->regs[r], osz) != CONT) {
				c->regs[R_ESP] = esp0;
				return LEAVE;
			}
		return CONT;
	}
	case ZYDIS_MNEMONIC_POPAD: case ZYDIS_MNEMONIC_POPA: {
		uint32_t v[8], esp0 = c->regs[R_ESP];
		for (int r = 7; r >= 0; r--)
			if (pop(bt, &v[r], osz) != CONT) {
				c->regs[R_ESP] = esp0;
				return LEAVE;
			}
		for (int r = 0; r < 8; r++) {
			if (r == R_ESP)
				continue;
			if (osz == 2)
				c->regs[r] = (c->regs[r] & 0xffff0000u) | (v[r] & 0xffff);
			else
				c->regs[r] = v[r];
		}
		return CONT;
	}
	case ZYDIS_MNEMONIC_LEAVE: {
		uint32_t v, esp0 = c->regs[R_ESP];
		c->regs[R_ESP] = osz == 2 ? (c->regs[R_ESP] & 0xffff0000u) | (c->regs[R_EBP] & 0xffff) : c->regs[R_EBP];
		if (pop(bt, &v, osz) != CONT) {
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
		reg_write(c, osz == 2 ? ZYDIS_REGISTER_BP : ZYDIS_REGISTER_EBP, v);
		return CONT;
	}
	case ZYDIS_MNEMONIC_ENTER: {
		uint32_t size = (uint32_t)in.ops[0].imm.value.u & 0xffff;
		unsigned level = (unsigned)in.ops[1].imm.value.u & 31;
		uint32_t esp0 = c->regs[R_ESP], ebp = c->regs[R_EBP];
		if (push(bt, ebp, osz) != CONT)
			return LEAVE;
		uint32_t frame = c->regs[R_ESP];
		for (unsigned i = 1; i < level; i++) {
			uint32_t v = 0;
			ebp -= osz;
			if (!bt_read(bt, c->seg[S_SS].base + ebp, &v, osz) || push(bt, v, osz) != CONT) {
				c->regs[R_ESP] = esp0;
				return mem_fail(bt, c->seg[S_SS].base + ebp);
			}
		}
		if (level && push(bt, frame, osz) != CONT) {
			c->regs[R_ESP] = esp0;
			return LEAVE;
		}
		c->regs[R_EBP] = frame;
		c->regs[R_ESP] -= size;
		return CONT;
	}
	case ZYDIS_MNEMONIC_DAA: case ZYDIS_MNEMONIC_DAS: case ZYDIS_MNEMONIC_AAA:
	case ZYDIS_MNEMONIC_AAS: case ZYDIS_MNEMONIC_AAM: case ZYDIS_MNEMONIC_AAD:
		return do_bcd(bt, m, &in, eip);
	case ZYDIS_MNEMONIC_SALC:
		c->regs[R_EAX] = (c->regs[R_EAX] & ~0xffu) | ((c->eflags & EFLAGS_CF) ? 0xff : 0);
		return CONT;
	case ZYDIS_MNEMONIC_BOUND: {
		uint32_t idx = reg_read(c, in.ops[0].reg.value);
		int32_t lo = 0, hi = 0;
		uint32_t lin = lin_of(c, &in.ops[1]);
		if (osz == 2) {
			int16_t l16, h16;
			READ(lin, &l16, 2);
			READ(lin + 2, &h16, 2);
			lo = l16; hi = h16;
			idx = (uint32_t)(int32_t)(int16_t)idx;
		} else {
			READ(lin, &lo, 4);
			READ(lin + 4, &hi, 4);
		}
		if ((int32_t)idx < lo || (int32_t)idx > hi)
			return raise_at(bt, eip, 5, false, 0);
		return CONT;
	}
	case ZYDIS_MNEMONIC_ARPL: {
		/* ARPL r/m16, r16: raise the destination's RPL to the source's. */
		uint32_t d, sv;
		if (op_read(bt, &in.ops[0], &d) != CONT || op_read(bt, &in.ops[1], &sv) != CONT)
			return LEAVE;
		if ((d & 3) < (sv & 3)) {
			if (op_write(bt, &in.ops[0], (d & ~3u) | (sv & 3)) != CONT)
				return LEAVE;
			c->eflags |= EFLAGS_ZF;
		} else {
			c->eflags &= ~EFLAGS_ZF;
		}
		return CONT;
	}
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS: {
		int s = m == ZYDIS_MNEMONIC_LDS ? S_DS : m == ZYDIS_MNEMONIC_LES ? S_ES :
			m == ZYDIS_MNEMONIC_LFS ? S_FS : m == ZYDIS_MNEMONIC_LGS ? S_GS : S_SS;
		uint32_t lin = lin_of(c, &in.ops[1]), off = 0;
		uint16_t sel;
		READ(lin, &off, osz);
		READ(lin + osz, &sel, 2);
		bool fault;
		uint32_t err;
		uint64_t gen = bt->tc.generation;
		c->eip = eip;
		if (bt_load_seg(bt, s, sel, &fault, &err) < 0)
			return LEAVE;
		reg_write(c, in.ops[0].reg.value, off);
		return seg_loaded(bt, s, false, gen, next); /* LSS has no interrupt shadow */
	}
	case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1: case ZYDIS_MNEMONIC_UD2:
		return raise_at(bt, eip, 6, false, 0);
	case ZYDIS_MNEMONIC_XLAT: {
		/* AL = [seg:EBX + AL] (DS unless overridden) */
		int s = S_DS;
		for (unsigned i = 0; i < zi->operand_count; i++)
			if (in.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
				s = seg_of(in.ops[i].mem.segment);
		uint32_t off = c->regs[R_EBX] + (c->regs[R_EAX] & 0xff);
		if (zi->address_width == 16)
			off = (c->regs[R_EBX] + (c->regs[R_EAX] & 0xff)) & 0xffff;
		uint8_t v;
		READ(c->seg[s].base + off, &v, 1);
		c->regs[R_EAX] = (c->regs[R_EAX] & ~0xffu) | v;
		return CONT;
	}
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET: case ZYDIS_MNEMONIC_SWAPGS:
	case ZYDIS_MNEMONIC_RDFSBASE: case ZYDIS_MNEMONIC_RDGSBASE: case ZYDIS_MNEMONIC_WRFSBASE:
	case ZYDIS_MNEMONIC_WRGSBASE:
		/* #UD outside 64-bit mode on the CPU bt models (Intel, SDM) */
		return raise_at(bt, eip, 6, false, 0);
	case ZYDIS_MNEMONIC_RDPMC:
		return raise_at(bt, eip, 6, false, 0); /* not in the CPUID model */
	case ZYDIS_MNEMONIC_RDTSCP: {
		/* SDM RDTSCP: EDX:EAX = TSC, ECX = IA32_TSC_AUX[31:0] */
		uint64_t t = __rdtsc() + c->tsc_offset;
		c->regs[R_EAX] = (uint32_t)t;
		c->regs[R_EDX] = (uint32_t)(t >> 32);
		c->regs[R_ECX] = (uint32_t)c->msr_tsc_aux;
		return CONT;
	}
	case ZYDIS_MNEMONIC_STAC: case ZYDIS_MNEMONIC_CLAC:
		/* SDM STAC/CLAC: #UD at CPL > 0 (cpl_check) or without
		 * CPUID.7.0:EBX.SMAP, which the model reports; CR4.SMAP does
		 * not matter.  AC is a virtual flag: the callout's return
		 * gives translated code the new value. */
		if (m == ZYDIS_MNEMONIC_STAC)
			c->eflags |= EFLAGS_AC;
		else
			c->eflags &= ~EFLAGS_AC;
		return CONT;
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXRSTOR: case ZYDIS_MNEMONIC_FNSAVE:
	case ZYDIS_MNEMONIC_FRSTOR: case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FLDENV:
		return bt_fpu_state(bt, &in, eip);
	case ZYDIS_MNEMONIC_SYSENTER:
		c->eip = eip;
		if (bt_sysenter(bt) < 0)
			return LEAVE;
		return leave_to(bt, c->eip);
	case ZYDIS_MNEMONIC_SYSEXIT:
		c->eip = eip;
		if (bt_sysexit(bt) < 0)
			return LEAVE;
		return leave_to(bt, c->eip);
	default:
		break;
	}
	/* An FPU instruction that reached here passed fpu_check: it is one the
	 * translator sent to us only because of CR0 at translation time. */
	if (in.is_fpu)
		return leave_to(bt, eip); /* retranslate with the current CR0 */
	char text[96];
	decoder_format(&in, eip, text, sizeof(text));
	bt_unsupported(bt, "instruction at %#x not supported by the bt backend yet: %s", eip, text);
	c->eip = eip;
	return LEAVE;
}
#undef in

/* ---- operand helpers for bt/mmio.c */

uint32_t bt_reg_get(struct bt_cpu *c, ZydisRegister r) { return reg_read(c, r); }
void bt_reg_set(struct bt_cpu *c, ZydisRegister r, uint32_t v) { reg_write(c, r, v); }
uint32_t bt_op_lin(struct bt_cpu *c, const ZydisDecodedOperand *op) { return lin_of(c, op); }
void bt_rearm_host_timer(struct vm *vm) { rearm_host_timer(vm); }
