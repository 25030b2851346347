/* The fuzz generator: random 32-bit x86 instruction sequences, as raw
 * bytes, deterministic from a seed.  See tests/fuzz/README.md.
 *
 *   fuzzgen --seed S [--count K] [--len N] [--priv] --out PACK
 *   fuzzgen --seed S [--len N] [--priv] --raw FILE     (code bytes of one case)
 *
 * A sequence is built from "units" (one instruction, or a few that belong
 * together: an index register set up before a memory operand, a divisor
 * made safe before a div, a loop, a call with its subroutine).  The
 * generator keeps a model of the machine that is just precise enough to
 * keep every access inside the 4 KiB scratch area:
 *
 *  - for each register, a known range of values (or nothing): ESP is always
 *    known exactly; EBX starts as the scratch base, EBP as a pointer into
 *    it; a register becomes known again after mov r,imm / and r,imm /
 *    movzx / lea of known registers.  Memory operands are built from known
 *    registers only, with a displacement chosen so that the whole range of
 *    addresses falls in the scratch area;
 *  - the set of status flags the SDM leaves undefined (`taint`).  An
 *    instruction that reads a tainted flag gets a flag-defining instruction
 *    (cmp r,imm / clc / stc / sahf) in front of it, so undefined flags
 *    never reach data; the set at every instruction boundary is recorded
 *    in the case, and the runners mask those flags when they print;
 *  - DF (known or not), and which registers a loop or a subroutine body
 *    must not write (`locked`).
 *
 * Forward branches skip a few units; the state at their target is the
 * meet of both paths.  Units that move ESP are never skipped (pending
 * branches are resolved before them) so ESP stays known. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fuzz.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
#define RB(r) (1u << (r))
#define CF FZ_F_CF
#define PF FZ_F_PF
#define AF FZ_F_AF
#define ZF FZ_F_ZF
#define SF FZ_F_SF
#define OF FZ_F_OF
#define ALL FZ_F_ALL

#define SCR ((int64_t)FZ_SCRATCH)
#define SCR_END (SCR + FZ_SCRATCH_SIZE)
#define ZLO (SCR + 0x200)   /* ESP stays in [ZLO, ZHI] */
#define ZHI (SCR + 0xff0)

/* ---------------------------------------------------------------- rng */

static uint64_t rs;
static uint64_t r64(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545f4914f6cdd1dull;
}
static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)((r64() >> 11) % n) : 0;
}
static bool pct(unsigned p)
{
	return rn(100) < p;
}
static int64_t rrange(int64_t lo, int64_t hi) /* inclusive */
{
	return lo + (int64_t)((r64() >> 4) % (uint64_t)(hi - lo + 1));
}
static uint32_t rval(void)
{
	switch (rn(12)) {
	case 0: return rn(4);
	case 1: return 0xffffffffu - rn(3);
	case 2: return 0x7fffffffu + rn(3);
	case 3: return rn(256);
	case 4: return (uint32_t)(int32_t)(int8_t)rn(256);
	case 5: return 1u << rn(32);
	case 6: return 0x80u + rn(3) - 1;
	case 7: return 0x8000u + rn(3) - 1;
	case 8: return (uint32_t)(int32_t)(int16_t)rn(65536);
	default: return (uint32_t)r64();
	}
}
static uint32_t rimm(int w)
{
	uint32_t v = rval();
	return w == 1 ? (v & 0xff) : w == 2 ? (v & 0xffff) : v;
}

/* ---------------------------------------------------------------- state */

struct kn {
	bool k;
	int64_t lo, hi;  /* signed 32-bit values */
};
#define NOBASE INT64_MIN
struct state {
	uint8_t taint;   /* FZ_F_* undefined now */
	int df;          /* 0, 1, -1 = unknown */
	struct kn kn[8];
	int64_t sbase[2]; /* privileged mode: FS, GS base (NOBASE: not usable) */
};

static struct state S;
static unsigned locked;      /* registers a body must not write */
static int in_scope;         /* inside a loop or subroutine body */
static int scope;            /* nesting level, for pending branches */
static bool priv_mode;

/* features that --skip can leave out (besides whole unit families) */
static bool skip_hi8esp;  /* AH..BH in an instruction that also uses ESP */
static bool skip_op82;    /* opcode 0x82 (alias of 0x80, invalid in 64-bit mode) */
static bool skip_lea16;   /* lea with 16-bit addressing (0x67) */
static bool skip_iopl;    /* privileged mode: IOPL in popfd/iret images */
static bool skip_segbase; /* privileged mode: operands through FS/GS with a base */
static bool skip_int1;    /* int1 (icebp) in the deliberate faults */

static uint32_t priv_flags_image(void)
{
	uint32_t v = ((uint32_t)r64() & FZ_EFLAGS_CMP_PRIV) | 2;
	return skip_iopl ? v & ~0x3000u : v;
}

static uint8_t code[FZ_MAX_CODE + 64];
static uint8_t undef_at[FZ_MAX_CODE + 64];
static unsigned pos;
#define CODE_LIMIT (FZ_MAX_CODE - 700)

struct prot {
	int64_t lo, hi;
};
static struct prot prot[8];
static int nprot;

enum { FX_REL8, FX_REL32, FX_ABS32 };
struct fix {
	int kind;
	unsigned at, end;    /* where the field is, where the instruction ends */
	int scope;
	int units_left;      /* resolved when it reaches 0 */
	bool meet;           /* merge the snapshot at the target */
	struct state snap;
};
static struct fix fixes[64];
static int nfix;

static void die(const char *msg)
{
	fprintf(stderr, "fuzzgen: internal error: %s\n", msg);
	exit(3);
}

static void e1(uint8_t b)
{
	if (pos >= sizeof(code))
		die("code buffer overflow");
	code[pos++] = b;
}
static void e2(uint32_t v)
{
	e1((uint8_t)v);
	e1((uint8_t)(v >> 8));
}
static void e4(uint32_t v)
{
	e2(v);
	e2(v >> 16);
}
static void put4(unsigned at, uint32_t v)
{
	code[at] = (uint8_t)v;
	code[at + 1] = (uint8_t)(v >> 8);
	code[at + 2] = (uint8_t)(v >> 16);
	code[at + 3] = (uint8_t)(v >> 24);
}
static void eimm(int size, uint32_t v)
{
	if (size == 1)
		e1((uint8_t)v);
	else if (size == 2)
		e2(v);
	else if (size == 4)
		e4(v);
}

/* instruction begins: record the undefined flags here */
static void ib(void)
{
	undef_at[pos] = S.taint;
}

static void kill(int r)
{
	if (r == ESP)
		die("ESP lost");
	S.kn[r].k = false;
}
static void set_exact(int r, int64_t v)
{
	v = (int32_t)(uint32_t)v;
	S.kn[r].k = true;
	S.kn[r].lo = S.kn[r].hi = v;
}
static bool exact(int r)
{
	return S.kn[r].k && S.kn[r].lo == S.kn[r].hi;
}
static int64_t val(int r)
{
	return S.kn[r].lo;
}
static int64_t esp_v(void)
{
	return S.kn[ESP].lo;
}
static int64_t addr_of(int64_t v) /* a register value as an unsigned address */
{
	return (int64_t)(uint32_t)v;
}
static void set_esp(int64_t v)
{
	set_exact(ESP, v);
	if (addr_of(esp_v()) < ZLO || addr_of(esp_v()) > ZHI)
		die("ESP left its zone");
}
static bool ebx_base(void)
{
	return exact(EBX) && addr_of(val(EBX)) == SCR;
}

static void meet(struct state *a, const struct state *b)
{
	a->taint |= b->taint;
	if (a->df != b->df)
		a->df = -1;
	for (int i = 0; i < 2; i++)
		if (a->sbase[i] != b->sbase[i])
			a->sbase[i] = NOBASE;
	for (int r = 0; r < 8; r++) {
		if (r == ESP) {
			if (!a->kn[r].k || !b->kn[r].k || a->kn[r].lo != b->kn[r].lo)
				die("ESP differs at a branch target");
			continue;
		}
		if (a->kn[r].k && b->kn[r].k) {
			if (b->kn[r].lo < a->kn[r].lo)
				a->kn[r].lo = b->kn[r].lo;
			if (b->kn[r].hi > a->kn[r].hi)
				a->kn[r].hi = b->kn[r].hi;
		} else {
			a->kn[r].k = false;
		}
	}
}

static void resolve(int i)
{
	struct fix *f = &fixes[i];
	if (f->kind == FX_REL8) {
		int64_t d = (int64_t)pos - f->end;
		if (d > 127)
			die("rel8 out of range");
		code[f->at] = (uint8_t)d;
	} else if (f->kind == FX_REL32) {
		put4(f->at, (uint32_t)(pos - f->end));
	} else {
		put4(f->at, FZ_CODE + pos);
	}
	if (f->meet)
		meet(&S, &f->snap);
	fixes[i] = fixes[--nfix];
}
static void resolve_scope(void)
{
	for (int i = nfix - 1; i >= 0; i--)
		if (fixes[i].scope >= scope)
			resolve(i);
}
static void add_fix(int kind, unsigned at, unsigned end, int units, bool do_meet)
{
	if (nfix == (int)(sizeof(fixes) / sizeof(fixes[0])))
		die("too many pending branches");
	struct fix *f = &fixes[nfix++];
	f->kind = kind;
	f->at = at;
	f->end = end;
	f->scope = scope;
	f->units_left = units;
	f->meet = do_meet;
	f->snap = S;
}
static bool prot_hit(int64_t lo, int64_t hi)
{
	for (int i = 0; i < nprot; i++)
		if (lo < prot[i].hi && prot[i].lo < hi)
			return true;
	return false;
}

/* ---------------------------------------------------------------- flags */

static void fix_flags(uint8_t need)
{
	need &= S.taint;
	if (!need)
		return;
	ib();
	if (!(need & ~CF) && pct(50)) {
		e1(pct(50) ? 0xf8 : 0xf9); /* clc / stc */
		S.taint &= (uint8_t)~CF;
	} else if (!(need & OF) && pct(30)) {
		e1(0x9e); /* sahf */
		S.taint &= (uint8_t)~(CF | PF | AF | ZF | SF);
	} else if (pct(70)) {
		e1(0x83); /* cmp r32, imm8 */
		e1((uint8_t)(0xf8 | rn(8)));
		e1((uint8_t)rn(256));
		S.taint = 0;
	} else {
		e1(0x80); /* cmp r8, imm8 */
		e1((uint8_t)(0xf8 | rn(8)));
		e1((uint8_t)rn(256));
		S.taint = 0;
	}
}

static uint8_t cc_reads(int cc)
{
	static const uint8_t t[8] = { OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF };
	return t[(cc >> 1) & 7];
}

/* ---------------------------------------------------------------- operands */

struct mem {
	int base, index, scale;  /* -1 = none; scale is log2 */
	int32_t disp;
	int dsz;                 /* 0, 1, 4 */
	bool alt;                /* SIB form where a plain ModRM would do */
	uint8_t seg;             /* segment override prefix or 0 */
};
struct opnd {
	bool isreg;
	int r;                   /* register encoding (8-bit: AL..BH) */
	struct mem m;
};

static void emit_modrm(int rf, const struct opnd *o)
{
	rf &= 7;
	if (o->isreg) {
		e1((uint8_t)(0xc0 | rf << 3 | o->r));
		return;
	}
	const struct mem *m = &o->m;
	if (m->base < 0 && m->index < 0) {
		if (m->alt) {
			e1((uint8_t)(0x04 | rf << 3));
			e1(0x25);
		} else {
			e1((uint8_t)(0x05 | rf << 3));
		}
		e4((uint32_t)m->disp);
		return;
	}
	if (m->base < 0) {
		e1((uint8_t)(0x04 | rf << 3));
		e1((uint8_t)(m->scale << 6 | m->index << 3 | 5));
		e4((uint32_t)m->disp);
		return;
	}
	int mod = m->dsz == 0 ? 0 : m->dsz == 1 ? 1 : 2;
	bool sib = m->index >= 0 || m->base == ESP || m->alt;
	if (sib) {
		e1((uint8_t)(mod << 6 | rf << 3 | 4));
		e1((uint8_t)(m->scale << 6 | (m->index >= 0 ? m->index : 4) << 3 | m->base));
	} else {
		e1((uint8_t)(mod << 6 | rf << 3 | m->base));
	}
	if (m->dsz == 1)
		e1((uint8_t)m->disp);
	else if (m->dsz == 4)
		e4((uint32_t)m->disp);
}

static int reg_of(int enc, int w)
{
	return w == 1 ? (enc & 3) : enc;
}
static bool writable(int r)
{
	return r != ESP && !(locked & RB(r));
}
/* a destination register encoding of width w, -1 if none */
static int pick_dst(int w)
{
	for (int t = 0; t < 16; t++) {
		int e = (int)rn(8);
		int r = reg_of(e, w);
		if (!writable(r))
			continue;
		if ((r == EBX || r == EBP) && !pct(4))
			continue;
		return e;
	}
	static const int safe[5] = { EAX, ECX, EDX, ESI, EDI };
	for (int t = 0; t < 5; t++) {
		int r = safe[(t + rn(5)) % 5];
		if (writable(r))
			return r;
	}
	return -1;
}
static void wrote(int enc, int w)
{
	kill(reg_of(enc, w));
}

/* Sets up register r as an index: it becomes known with a small range. */
static bool setup_index(unsigned avoid)
{
	static const int cand[5] = { EAX, ECX, EDX, ESI, EDI };
	int r = -1;
	for (int t = 0; t < 8 && r < 0; t++) {
		int c = cand[rn(5)];
		if (writable(c) && !(avoid & RB(c)))
			r = c;
	}
	if (r < 0)
		return false;
	ib();
	switch (rn(4)) {
	case 0: case 1: {
		int64_t v = pct(70) ? rrange(-64, 300) : rrange(-1000, 1000);
		e1((uint8_t)(0xb8 + r));
		e4((uint32_t)v);
		set_exact(r, v);
		break;
	}
	case 2: {
		uint32_t m = pct(50) ? rn(128) : rn(1024);
		if (m < 128) {
			e1(0x83);
			e1((uint8_t)(0xe0 | r));
			e1((uint8_t)m);
		} else {
			e1(0x81);
			e1((uint8_t)(0xe0 | r));
			e4(m);
		}
		S.taint = (S.taint & (uint8_t)~ALL) | AF;
		S.kn[r].k = true;
		S.kn[r].lo = 0;
		S.kn[r].hi = m;
		break;
	}
	default:
		e1(0x0f);
		e1(0xb6);
		e1((uint8_t)(0xc0 | r << 3 | rn(8)));
		S.kn[r].k = true;
		S.kn[r].lo = 0;
		S.kn[r].hi = 255;
		break;
	}
	return true;
}

static int64_t width_of(int r)
{
	return S.kn[r].hi - S.kn[r].lo;
}

/* A memory operand whose accesses [EA + rlo, EA + rhi) all fall in the
 * scratch area (and, for writes, outside the protected ranges).  Registers
 * in `avoid` are neither used in the address nor set up for it.  esp_adj
 * is added to ESP's value (pop r/m computes the address after the
 * increment).  May emit an index set-up instruction first. */
static void gen_mem_core(struct opnd *o, int64_t rlo, int64_t rhi, bool write, unsigned avoid, int esp_adj)
{
	memset(o, 0, sizeof(*o));
	struct mem *m = &o->m;
	m->base = m->index = -1;
	int64_t span = rhi - rlo;
	for (int attempt = 0; attempt < 12; attempt++) {
		int base = -1, index = -1, scale = 0;
		int form = (int)rn(10); /* 0-3 base, 4-6 base+index, 7 index, 8-9 absolute */
		if (form < 7) {
			int cands[8], nc = 0;
			for (int r = 0; r < 8; r++)
				if (S.kn[r].k && !(avoid & RB(r)) && width_of(r) + span <= FZ_SCRATCH_SIZE)
					cands[nc++] = r;
			if (!nc)
				continue;
			base = cands[rn((uint32_t)nc)];
			/* favour the real pointers */
			if (pct(50)) {
				int pref[3] = { EBX, EBP, ESP };
				int p = pref[rn(3)];
				if (S.kn[p].k && !(avoid & RB(p)) && width_of(p) + span <= FZ_SCRATCH_SIZE)
					base = p;
			}
		}
		if (form >= 4 && form <= 7) {
			scale = (int)rn(4);
			int cands[8], nc = 0;
			int64_t bw = base >= 0 ? width_of(base) : 0;
			for (int r = 0; r < 8; r++)
				if (r != ESP && S.kn[r].k && !(avoid & RB(r)) &&
				    bw + width_of(r) * (1 << scale) + span <= FZ_SCRATCH_SIZE)
					cands[nc++] = r;
			if (!nc || pct(25)) {
				if (!setup_index(avoid | (base >= 0 ? RB(base) : 0)))
					continue;
				nc = 0;
				for (int r = 0; r < 8; r++)
					if (r != ESP && S.kn[r].k && !(avoid & RB(r)) &&
					    bw + width_of(r) * (1 << scale) + span <= FZ_SCRATCH_SIZE)
						cands[nc++] = r;
				if (!nc)
					continue;
			}
			index = cands[rn((uint32_t)nc)];
		}
		int64_t lo = 0, hi = 0;
		if (base >= 0) {
			int64_t adj = base == ESP ? esp_adj : 0;
			lo += S.kn[base].lo + adj;
			hi += S.kn[base].hi + adj;
		}
		if (index >= 0) {
			lo += S.kn[index].lo * (1 << scale);
			hi += S.kn[index].hi * (1 << scale);
		}
		/* EA + rlo >= SCR and EA + rhi <= SCR_END for EA in [lo+d, hi+d] */
		int64_t dmin = SCR - rlo - lo, dmax = SCR_END - rhi - hi;
		if (dmin > dmax)
			continue;
		int64_t d = 0;
		bool ok = false;
		for (int t = 0; t < 6 && !ok; t++) {
			d = rrange(dmin, dmax);
			/* prefer short displacements when they are possible */
			if (base >= 0 && pct(30) && dmin <= 127 && dmax >= -128) {
				int64_t a = dmin < -128 ? -128 : dmin, b = dmax > 127 ? 127 : dmax;
				d = rrange(a, b);
			}
			ok = !write || !prot_hit(lo + d + rlo, hi + d + rhi);
		}
		if (!ok)
			continue;
		/* the address arithmetic wraps at 2^32: fold d into int32 */
		m->base = base;
		m->index = index;
		m->scale = scale;
		m->disp = (int32_t)(uint32_t)(uint64_t)d;
		if (base < 0) {
			m->dsz = 4;
			m->alt = index < 0 && pct(30);
		} else {
			if (m->disp == 0 && base != EBP && pct(60))
				m->dsz = 0;
			else if (m->disp >= -128 && m->disp <= 127 && pct(80))
				m->dsz = 1;
			else
				m->dsz = 4;
			m->alt = index < 0 && base != ESP && pct(10);
		}
		{
			/* self-check: every value of the registers gives an
			 * access inside the scratch area */
			int64_t elo = (base >= 0 ? S.kn[base].lo + (base == ESP ? esp_adj : 0) : 0) +
				      (index >= 0 ? S.kn[index].lo * (1 << scale) : 0) + m->disp;
			int64_t ehi = (base >= 0 ? S.kn[base].hi + (base == ESP ? esp_adj : 0) : 0) +
				      (index >= 0 ? S.kn[index].hi * (1 << scale) : 0) + m->disp;
			int64_t spanr = ehi - elo;
			elo = (int64_t)(uint32_t)elo;
			ehi = elo + spanr;
			if (elo + rlo < SCR || ehi + rhi > SCR_END) {
				fprintf(stderr, "fuzzgen: bad operand: base %d [%lld,%lld] index %d [%lld,%lld] scale %d disp %d d %lld dmin %lld dmax %lld\n",
					base, base >= 0 ? (long long)S.kn[base].lo : 0, base >= 0 ? (long long)S.kn[base].hi : 0,
					index, index >= 0 ? (long long)S.kn[index].lo : 0, index >= 0 ? (long long)S.kn[index].hi : 0,
					scale, m->disp, (long long)d, (long long)dmin, (long long)dmax);
				die("operand outside the scratch area");
			}
		}
		goto seg;
	}
	/* fallback: absolute */
	for (;;) {
		int64_t a = rrange(SCR - rlo, SCR_END - rhi);
		if (write && prot_hit(a + rlo, a + rhi))
			continue;
		m->base = m->index = -1;
		m->disp = (int32_t)a;
		m->dsz = 4;
		m->alt = pct(30);
		break;
	}
seg:
	switch (rn(16)) {
	case 0: m->seg = 0x3e; break;
	case 1: m->seg = 0x26; break;
	case 2: m->seg = 0x36; break;
	case 3: m->seg = write ? 0 : 0x2e; break;
	default: m->seg = 0;
	}
}
/* In the privileged mode, some operands go through FS or GS, whose base
 * (0, 0x10000 or 0xff000000) the address must make up for. */
static void gen_mem_range(struct opnd *o, int64_t rlo, int64_t rhi, bool write, unsigned avoid, int esp_adj)
{
	int sr = -1;
	if (priv_mode && !skip_segbase && pct(25)) {
		int i = (int)rn(2);
		if (S.sbase[i] != NOBASE)
			sr = i;
	}
	int64_t b = sr >= 0 ? S.sbase[sr] : 0;
	gen_mem_core(o, rlo + b, rhi + b, write, avoid, esp_adj);
	if (sr >= 0)
		o->m.seg = sr ? 0x65 : 0x64;
}
static void gen_mem(struct opnd *o, int size, bool write, unsigned avoid)
{
	gen_mem_range(o, 0, size, write, avoid, 0);
}
static void reg_opnd(struct opnd *o, int enc)
{
	memset(o, 0, sizeof(*o));
	o->isreg = true;
	o->r = enc;
}

/* ---------------------------------------------------------------- emission */

struct ins {
	bool rf8;           /* ModRM.reg names an 8-bit register */
	uint8_t pfx[3];     /* lock/rep prefixes */
	int npfx;
	bool o16;
	uint8_t op[3];
	int oplen;
	bool modrm;
	int rf;
	struct opnd o;
	int immsz;
	uint32_t imm;
	uint8_t reads, defs, undefs;
};

static void emit(struct ins *in)
{
	/* --skip hi8esp: AH..BH become AL..BL (the same 32-bit register,
	 * so the model does not change) */
	if (skip_hi8esp && in->rf8 && in->rf >= 4 && in->modrm && !in->o.isreg && in->o.m.base == ESP)
		in->rf -= 4;
	fix_flags(in->reads);
	ib();
	uint8_t p[6];
	int np = 0;
	for (int i = 0; i < in->npfx; i++)
		p[np++] = in->pfx[i];
	if (in->o16)
		p[np++] = 0x66;
	if (in->modrm && !in->o.isreg && in->o.m.seg)
		p[np++] = in->o.m.seg;
	else if (pct(2))
		p[np++] = pct(50) ? 0x3e : 0x26; /* a segment prefix on a register form: ignored */
	for (int i = np - 1; i > 0; i--) { /* prefix order does not matter */
		int j = (int)rn((uint32_t)i + 1);
		uint8_t t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	for (int i = 0; i < np; i++)
		e1(p[i]);
	for (int i = 0; i < in->oplen; i++)
		e1(in->op[i]);
	if (in->modrm)
		emit_modrm(in->rf, &in->o);
	eimm(in->immsz, in->imm);
	S.taint = (uint8_t)((S.taint & ~in->defs) | in->undefs);
}

static void ins_init(struct ins *in, int w)
{
	memset(in, 0, sizeof(*in));
	in->o16 = w == 2;
}
static void op1(struct ins *in, uint8_t a)
{
	in->op[0] = a;
	in->oplen = 1;
}
static void op2(struct ins *in, uint8_t a, uint8_t b)
{
	in->op[0] = a;
	in->op[1] = b;
	in->oplen = 2;
}

/* one-byte instruction with no operands */
static void emit_simple(uint8_t b, uint8_t reads, uint8_t defs, uint8_t undefs)
{
	struct ins in;
	ins_init(&in, 4);
	op1(&in, b);
	in.reads = reads;
	in.defs = defs;
	in.undefs = undefs;
	emit(&in);
}

static int rw(void)
{
	static const int w[4] = { 1, 2, 4, 4 };
	return w[rn(4)];
}

/* ---------------------------------------------------------------- units */

static const uint8_t alu_defs[8] = { ALL, ALL & ~AF, ALL, ALL, ALL & ~AF, ALL, ALL & ~AF, ALL };
static const uint8_t alu_undefs[8] = { 0, AF, 0, 0, AF, 0, AF, 0 };
#define ALU_READS(op) ((op) == 2 || (op) == 3 ? CF : 0)

/* An r/m operand of width w: a register (dest: writable unless !write) or
 * a memory operand. */
static bool gen_rm(struct opnd *o, int w, bool write, bool mem, unsigned avoid)
{
	if (mem) {
		gen_mem(o, w, write, avoid);
		return true;
	}
	int e = write ? pick_dst(w) : (int)rn(8);
	if (e < 0)
		return false;
	reg_opnd(o, e);
	return true;
}
static void rm_wrote(const struct opnd *o, int w)
{
	if (o->isreg)
		wrote(o->r, w);
}

static bool u_alu(void)
{
	int w = rw(), op = (int)rn(8);
	bool mem = pct(45);
	bool wr = op != 7;
	struct ins in;
	ins_init(&in, w);
	in.reads = ALU_READS(op);
	in.defs = alu_defs[op];
	in.undefs = alu_undefs[op];
	in.modrm = true;
	int kind = (int)rn(3); /* 0: r/m, reg  1: reg, r/m  2: r/m, imm */
	if (kind == 1) {
		int d = wr ? pick_dst(w) : (int)rn(8);
		if (d < 0)
			return false;
		if (!gen_rm(&in.o, w, false, mem, 0))
			return false;
		op1(&in, (uint8_t)(op * 8 + (w == 1 ? 2 : 3)));
		in.rf = d;
		in.rf8 = w == 1;
		emit(&in);
		if (wr)
			wrote(d, w);
		return true;
	}
	if (!gen_rm(&in.o, w, wr, mem, 0))
		return false;
	if (kind == 0) {
		op1(&in, (uint8_t)(op * 8 + (w == 1 ? 0 : 1)));
		in.rf = (int)rn(8);
		in.rf8 = w == 1;
	} else {
		in.rf = op;
		if (w == 1) {
			op1(&in, !skip_op82 && pct(6) ? 0x82 : 0x80);
			in.immsz = 1;
			in.imm = rimm(1);
		} else if (pct(50)) {
			op1(&in, 0x83);
			in.immsz = 1;
			in.imm = rimm(1);
		} else {
			op1(&in, 0x81);
			in.immsz = w;
			in.imm = rimm(w);
		}
		/* accumulator short form */
		if (in.o.isreg && in.o.r == 0 && in.op[0] != 0x82 && in.op[0] != 0x83 && pct(60)) {
			in.modrm = false;
			op1(&in, (uint8_t)(op * 8 + (w == 1 ? 4 : 5)));
		}
	}
	if (!in.o.isreg && wr && pct(15)) {
		in.pfx[in.npfx++] = 0xf0;
	}
	emit(&in);
	if (wr)
		rm_wrote(&in.o, w);
	return true;
}

static bool u_test(void)
{
	int w = rw();
	struct ins in;
	ins_init(&in, w);
	in.defs = ALL & ~AF;
	in.undefs = AF;
	in.modrm = true;
	gen_rm(&in.o, w, false, pct(40), 0);
	if (pct(50)) {
		op1(&in, w == 1 ? 0x84 : 0x85);
		in.rf = (int)rn(8);
		in.rf8 = w == 1;
	} else {
		op1(&in, w == 1 ? 0xf6 : 0xf7);
		in.rf = 0;
		in.immsz = w;
		in.imm = rimm(w);
		if (in.o.isreg && in.o.r == 0 && pct(50)) {
			in.modrm = false;
			op1(&in, w == 1 ? 0xa8 : 0xa9);
		}
	}
	emit(&in);
	return true;
}

static bool u_unary(void)
{
	int w = rw();
	int kind = (int)rn(4); /* inc dec not neg */
	bool mem = pct(35);
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	if (!gen_rm(&in.o, w, true, mem, 0))
		return false;
	static const uint8_t defs[4] = { ALL & ~CF, ALL & ~CF, 0, ALL };
	in.defs = defs[kind];
	if (kind < 2) {
		op1(&in, w == 1 ? 0xfe : 0xff);
		in.rf = kind;
		if (in.o.isreg && w != 1 && pct(50)) {
			in.modrm = false;
			op1(&in, (uint8_t)((kind ? 0x48 : 0x40) + in.o.r));
		}
	} else {
		op1(&in, w == 1 ? 0xf6 : 0xf7);
		in.rf = kind == 2 ? 2 : 3;
	}
	if (mem && pct(15))
		in.pfx[in.npfx++] = 0xf0;
	emit(&in);
	rm_wrote(&in.o, w);
	return true;
}

/* flags of a shift/rotate; cnt < 0: unknown count */
static void shift_flags(int kind, int w, int cnt, uint8_t *defs, uint8_t *undefs)
{
	bool rot = kind < 4;
	if (cnt < 0) {
		*defs = 0;
		*undefs = rot ? OF : (uint8_t)(AF | OF | ((w < 4 && kind != 7) ? CF : 0));
		return;
	}
	int m = cnt & 31;
	if (m == 0) {
		*defs = *undefs = 0;
		return;
	}
	if (rot) {
		*defs = (uint8_t)(CF | (m == 1 ? OF : 0));
		*undefs = m == 1 ? 0 : OF;
		return;
	}
	*defs = (uint8_t)(CF | PF | ZF | SF | (m == 1 ? OF : 0));
	*undefs = (uint8_t)(AF | (m > 1 ? OF : 0));
	if (kind != 7 && m >= w * 8) {
		*defs &= (uint8_t)~CF;
		*undefs |= CF;
	}
}

/* mov cl, k (when ECX may be written) */
static bool set_cl(int k)
{
	if (!writable(ECX))
		return false;
	ib();
	e1(0xb1);
	e1((uint8_t)k);
	kill(ECX);
	return true;
}

static bool u_shift(void)
{
	static const int kinds[7] = { 0, 1, 2, 3, 4, 5, 7 };
	int kind = kinds[rn(7)];
	int w = rw();
	int form = (int)rn(3); /* by 1, imm, CL */
	int cnt;
	if (form == 0) {
		cnt = 1;
	} else {
		int r = (int)rn(10);
		cnt = r < 7 ? (int)rn((uint32_t)w * 8 + 1) : r < 9 ? (int)rn(32) : (int)rn(256);
	}
	unsigned avoid = 0;
	if (form == 2) {
		if (pct(60) && set_cl(cnt)) {
			avoid = RB(ECX);
		} else if (exact(ECX)) {
			cnt = (int)(val(ECX) & 0xff);
		} else {
			cnt = -1;
		}
	}
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	if (!gen_rm(&in.o, w, true, pct(35), avoid))
		return false;
	in.rf = kind;
	in.reads = (kind == 2 || kind == 3) ? CF : 0;
	shift_flags(kind, w, cnt, &in.defs, &in.undefs);
	if (form == 0) {
		op1(&in, w == 1 ? 0xd0 : 0xd1);
	} else if (form == 1) {
		op1(&in, w == 1 ? 0xc0 : 0xc1);
		in.immsz = 1;
		in.imm = (uint32_t)cnt;
	} else {
		op1(&in, w == 1 ? 0xd2 : 0xd3);
	}
	emit(&in);
	rm_wrote(&in.o, w);
	return true;
}

static bool u_shld(void)
{
	int w = pct(30) ? 2 : 4;
	bool right = pct(50);
	bool by_cl = pct(40);
	int cnt = w == 2 ? (int)(rn(16) | (rn(8) << 5)) : (int)rn(256);
	if (w == 2 && (cnt & 31) > 15)
		die("shld count");
	unsigned avoid = 0;
	if (by_cl) {
		if (pct(60) || w == 2) {
			if (!set_cl(cnt))
				return false;
			avoid = RB(ECX);
		} else if (exact(ECX)) {
			cnt = (int)(val(ECX) & 0xff);
		} else {
			cnt = -1;
		}
	}
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	if (!gen_rm(&in.o, w, true, pct(35), avoid))
		return false;
	in.rf = (int)rn(8);
	int m = cnt < 0 ? -1 : cnt & 31;
	if (m < 0) {
		in.undefs = AF | OF;
	} else if (m > 0) {
		in.defs = (uint8_t)(CF | PF | ZF | SF | (m == 1 ? OF : 0));
		in.undefs = (uint8_t)(AF | (m > 1 ? OF : 0));
	}
	op2(&in, 0x0f, (uint8_t)((right ? 0xac : 0xa4) + (by_cl ? 1 : 0)));
	if (!by_cl) {
		in.immsz = 1;
		in.imm = (uint32_t)cnt;
	}
	emit(&in);
	rm_wrote(&in.o, w);
	return true;
}

static bool u_mul(void)
{
	int form = (int)rn(3); /* one operand, imul r,r/m, imul r,r/m,imm */
	struct ins in;
	if (form == 0) {
		int w = rw();
		if (!writable(EAX) || (w != 1 && !writable(EDX)))
			return false;
		ins_init(&in, w);
		in.modrm = true;
		gen_rm(&in.o, w, false, pct(40), 0);
		op1(&in, w == 1 ? 0xf6 : 0xf7);
		in.rf = pct(50) ? 4 : 5;
		in.defs = CF | OF;
		in.undefs = SF | ZF | AF | PF;
		emit(&in);
		kill(EAX);
		if (w != 1)
			kill(EDX);
		return true;
	}
	int w = pct(30) ? 2 : 4;
	int d = pick_dst(w);
	if (d < 0)
		return false;
	ins_init(&in, w);
	in.modrm = true;
	gen_rm(&in.o, w, false, pct(40), 0);
	in.rf = d;
	in.defs = CF | OF;
	in.undefs = SF | ZF | AF | PF;
	if (form == 1) {
		op2(&in, 0x0f, 0xaf);
	} else if (pct(50)) {
		op1(&in, 0x6b);
		in.immsz = 1;
		in.imm = rimm(1);
	} else {
		op1(&in, 0x69);
		in.immsz = w;
		in.imm = rimm(w);
	}
	emit(&in);
	wrote(d, w);
	return true;
}

/* div/idiv; `safe` arranges the operands so that no #DE is raised */
static bool gen_div(bool safe)
{
	int w = rw();
	bool sgn = pct(50);
	if (!writable(EAX) || !writable(EDX))
		return false;
	bool mem = pct(35);
	struct opnd o;
	if (mem) {
		gen_mem(&o, w, true, RB(EAX) | RB(EDX));
	} else {
		int e = -1;
		for (int t = 0; t < 16 && e < 0; t++) {
			int c = (int)rn(8);
			int r = reg_of(c, w);
			if (w == 1 ? (c == 0 || c == 4) : (r == EAX || r == EDX))
				continue;
			if (safe && !writable(r))
				continue;
			if (safe && (r == EBX || r == EBP) && !pct(5))
				continue;
			e = c;
		}
		if (e < 0)
			return false;
		reg_opnd(&o, e);
	}
	struct ins in;
	if (safe) {
		/* the dividend */
		ib();
		if (sgn) {
			if (w == 2)
				e1(0x66);
			e1(w == 1 ? 0x66 : 0x99);
			if (w == 1)
				e1(0x98); /* cbw */
		} else if (w == 1) {
			e1(0xb4); /* mov ah, small */
			e1((uint8_t)rn(16));
		} else {
			if (w == 2)
				e1(0x66);
			if (pct(30)) {
				e1(0x31); /* xor edx, edx */
				e1(0xd2);
				S.taint = AF;
			} else {
				e1(0xba);
				eimm(w, rn(16));
			}
		}
		kill(EAX);
		kill(EDX);
		/* the divisor */
		ins_init(&in, w);
		in.modrm = true;
		in.o = o;
		if (sgn) {
			/* mov divisor, k with 2 <= |k| < 2^(bits-1) */
			int64_t lim = w == 1 ? 127 : w == 2 ? 32767 : 0x7fffffff;
			int64_t k = rrange(2, pct(50) ? 40 : lim);
			if (pct(50))
				k = -k;
			op1(&in, w == 1 ? 0xc6 : 0xc7);
			in.rf = 0;
			in.immsz = w;
			in.imm = (uint32_t)k;
		} else {
			op1(&in, w == 1 ? 0x80 : 0x83);
			in.rf = 1; /* or divisor, 0x10 */
			in.immsz = 1;
			in.imm = 0x10 | (rn(2) << 6);
			in.defs = ALL & ~AF;
			in.undefs = AF;
		}
		emit(&in);
		rm_wrote(&o, w);
	}
	ins_init(&in, w);
	in.modrm = true;
	in.o = o;
	op1(&in, w == 1 ? 0xf6 : 0xf7);
	in.rf = sgn ? 7 : 6;
	in.undefs = ALL;
	emit(&in);
	kill(EAX);
	if (w != 1)
		kill(EDX);
	return true;
}
static bool u_div(void)
{
	return gen_div(!pct(4));
}

static bool u_bitop(void)
{
	int w = pct(30) ? 2 : 4;
	int op = (int)rn(4); /* bt bts btr btc */
	bool wr = op != 0;
	bool imm = pct(45);
	bool mem = pct(45);
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	in.defs = CF;
	in.undefs = OF | SF | AF | PF;
	if (imm) {
		if (!gen_rm(&in.o, w, wr, mem, 0))
			return false;
		op2(&in, 0x0f, 0xba);
		in.rf = 4 + op;
		in.immsz = 1;
		in.imm = rn(256);
	} else {
		static const uint8_t opc[4] = { 0xa3, 0xab, 0xb3, 0xbb };
		op2(&in, 0x0f, opc[op]);
		if (mem) {
			/* the bit offset reaches beyond the operand: a known,
			 * small offset register */
			int br = -1;
			for (int r = 0; r < 8; r++)
				if (r != ESP && S.kn[r].k && width_of(r) < 2048 && S.kn[r].lo > -4096 &&
				    S.kn[r].hi < 8192 && pct(60))
					br = r;
			if (br < 0) {
				static const int cand[5] = { EAX, ECX, EDX, ESI, EDI };
				int r = cand[rn(5)];
				if (!writable(r))
					return false;
				ib();
				int64_t v = rrange(-512, 2047);
				e1((uint8_t)(0xb8 + r));
				e4((uint32_t)v);
				set_exact(r, v);
				br = r;
			}
			int bits = w * 8;
			int64_t lo = S.kn[br].lo, hi = S.kn[br].hi;
			int64_t flo = (lo >= 0 ? lo / bits : -((-lo + bits - 1) / bits)) * w;
			int64_t fhi = (hi >= 0 ? hi / bits : -((-hi + bits - 1) / bits)) * w;
			gen_mem_range(&in.o, flo, fhi + 4, wr, RB(br), 0);
			if (w == 2 && in.o.isreg)
				die("bitop");
			in.rf = br;
		} else {
			if (!gen_rm(&in.o, w, wr, false, 0))
				return false;
			in.rf = (int)rn(8);
		}
	}
	if (!in.o.isreg && wr && pct(15))
		in.pfx[in.npfx++] = 0xf0;
	emit(&in);
	if (wr)
		rm_wrote(&in.o, w);
	return true;
}

static bool u_bsf(void)
{
	int w = pct(30) ? 2 : 4;
	int d = pick_dst(w);
	if (d < 0)
		return false;
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	gen_rm(&in.o, w, false, pct(40), 0);
	op2(&in, 0x0f, pct(50) ? 0xbc : 0xbd);
	in.rf = d;
	in.defs = ZF;
	in.undefs = CF | OF | SF | AF | PF;
	emit(&in);
	wrote(d, 4);
	return true;
}

static bool u_bswap(void)
{
	int d = pick_dst(4);
	if (d < 0)
		return false;
	struct ins in;
	ins_init(&in, 4);
	op2(&in, 0x0f, (uint8_t)(0xc8 + d));
	emit(&in);
	wrote(d, 4);
	return true;
}

static bool u_setcc(void)
{
	int cc = (int)rn(16);
	struct ins in;
	ins_init(&in, 1);
	in.modrm = true;
	if (!gen_rm(&in.o, 1, true, pct(35), 0))
		return false;
	op2(&in, 0x0f, (uint8_t)(0x90 + cc));
	in.rf = 0;
	in.reads = cc_reads(cc);
	emit(&in);
	rm_wrote(&in.o, 1);
	return true;
}

static bool u_cmov(void)
{
	int w = pct(30) ? 2 : 4;
	int cc = (int)rn(16);
	int d = pick_dst(w);
	if (d < 0)
		return false;
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	gen_rm(&in.o, w, false, pct(40), 0);
	op2(&in, 0x0f, (uint8_t)(0x40 + cc));
	in.rf = d;
	in.reads = cc_reads(cc);
	emit(&in);
	wrote(d, w);
	return true;
}

static bool u_xchg(void)
{
	int w = rw();
	int kind = (int)rn(4); /* xchg, xadd, cmpxchg, xchg eax short */
	int rr = pick_dst(w);
	if (rr < 0)
		return false;
	struct ins in;
	ins_init(&in, w);
	if (kind == 3 && w != 1) {
		if (!writable(EAX))
			return false;
		op1(&in, (uint8_t)(0x90 + rr));
		emit(&in);
		kill(EAX);
		wrote(rr, w);
		return true;
	}
	if (kind == 3)
		kind = 0;
	if (kind == 2 && !writable(EAX))
		return false;
	in.modrm = true;
	bool mem = pct(50);
	if (!gen_rm(&in.o, w, true, mem, 0))
		return false;
	in.rf = rr;
	in.rf8 = w == 1;
	if (kind == 0) {
		op1(&in, w == 1 ? 0x86 : 0x87);
	} else if (kind == 1) {
		op2(&in, 0x0f, w == 1 ? 0xc0 : 0xc1);
		in.defs = ALL;
	} else {
		op2(&in, 0x0f, w == 1 ? 0xb0 : 0xb1);
		in.defs = ALL;
		kill(EAX);
	}
	if (mem && kind && pct(20))
		in.pfx[in.npfx++] = 0xf0;
	emit(&in);
	wrote(rr, w);
	rm_wrote(&in.o, w);
	return true;
}

static bool u_cmpxchg8b(void)
{
	if (!writable(EAX) || !writable(EDX))
		return false;
	struct ins in;
	ins_init(&in, 4);
	in.modrm = true;
	gen_mem(&in.o, 8, true, 0);
	op2(&in, 0x0f, 0xc7);
	in.rf = 1;
	in.defs = ZF;
	if (pct(20))
		in.pfx[in.npfx++] = 0xf0;
	emit(&in);
	kill(EAX);
	kill(EDX);
	return true;
}

static bool u_flagop(void)
{
	switch (rn(9)) {
	case 0: emit_simple(0xf8, 0, CF, 0); break;
	case 1: emit_simple(0xf9, 0, CF, 0); break;
	case 2: emit_simple(0xf5, CF, CF, 0); break;
	case 3: emit_simple(0xfc, 0, 0, 0); S.df = 0; break;
	case 4: emit_simple(0xfd, 0, 0, 0); S.df = 1; break;
	case 5: case 6:
		if (!writable(EAX))
			return false;
		emit_simple(0x9f, CF | PF | AF | ZF | SF, 0, 0); /* lahf */
		kill(EAX);
		break;
	case 7: emit_simple(0x9e, 0, CF | PF | AF | ZF | SF, 0); break; /* sahf */
	default:
		if (!writable(EAX))
			return false;
		emit_simple(0xd6, CF, 0, 0); /* salc */
		kill(EAX);
		break;
	}
	return true;
}

/* mov reg, address (a pointer into the scratch area) */
static void set_ptr(int r, int64_t a)
{
	ib();
	if (ebx_base() && pct(60)) {
		int64_t d = a - SCR;
		e1(0x8d); /* lea r, [ebx + d] */
		if (d < 128) {
			e1((uint8_t)(0x43 | r << 3));
			e1((uint8_t)d);
		} else {
			e1((uint8_t)(0x83 | r << 3));
			e4((uint32_t)d);
		}
	} else {
		e1((uint8_t)(0xb8 + r));
		e4((uint32_t)a);
	}
	set_exact(r, a);
}

static bool u_string(void)
{
	static const uint8_t base_op[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae }; /* movs cmps stos lods scas */
	int k = (int)rn(5);
	int w = rw();
	bool src = k == 0 || k == 1 || k == 3;
	bool dst = k != 3;
	bool wr = k == 0 || k == 2;
	bool rep = pct(65);
	unsigned wregs = (src ? RB(ESI) : 0) | (dst ? RB(EDI) : 0) | (rep ? RB(ECX) : 0) | (k == 3 ? RB(EAX) : 0);
	for (int r = 0; r < 8; r++)
		if ((wregs & RB(r)) && !writable(r))
			return false;
	int n = rep ? (pct(80) ? (int)rn(17) : (int)rn(80)) : 1;
	if (S.df < 0 || pct(30)) {
		int d = (int)rn(2);
		emit_simple(d ? 0xfd : 0xfc, 0, 0, 0);
		S.df = d;
	}
	int64_t span = (int64_t)(n ? n : 1) * w;
	/* [p - span + w, p + w) going down, [p, p + span) going up */
	int64_t lo_off = S.df ? -(span - w) : 0, hi_off = S.df ? w : span;
	if (src) {
		int64_t a = rrange(SCR - lo_off, SCR_END - hi_off);
		set_ptr(ESI, a);
	}
	if (dst) {
		int64_t a = 0;
		for (int t = 0; t < 20; t++) {
			a = rrange(SCR - lo_off, SCR_END - hi_off);
			if (!wr || !prot_hit(a + lo_off, a + hi_off))
				break;
			if (t == 19)
				return false;
		}
		set_ptr(EDI, a);
	}
	if (rep) {
		ib();
		e1(0xb9);
		e4((uint32_t)n);
		set_exact(ECX, n);
	}
	struct ins in;
	ins_init(&in, w);
	op1(&in, (uint8_t)(base_op[k] + (w == 1 ? 0 : 1)));
	if (rep)
		in.pfx[in.npfx++] = (k == 1 || k == 4) && pct(50) ? 0xf2 : 0xf3;
	if (src && pct(20)) {
		static const uint8_t segs[4] = { 0x3e, 0x26, 0x36, 0x2e };
		in.pfx[in.npfx++] = segs[rn(4)];
	}
	if ((k == 1 || k == 4) && n > 0)
		in.defs = ALL;
	emit(&in);
	for (int r = 0; r < 8; r++)
		if (wregs & RB(r))
			kill(r);
	return true;
}

static bool u_mov(void)
{
	int w = rw();
	struct ins in;
	ins_init(&in, w);
	switch (rn(7)) {
	case 0: { /* mov r, r/m */
		int d = pick_dst(w);
		if (d < 0)
			return false;
		in.modrm = true;
		gen_rm(&in.o, w, false, pct(60), 0);
		op1(&in, w == 1 ? 0x8a : 0x8b);
		in.rf = d;
		in.rf8 = w == 1;
		emit(&in);
		if (w == 4 && in.o.isreg && S.kn[in.o.r].k && d != in.o.r)
			S.kn[d] = S.kn[in.o.r];
		else
			wrote(d, w);
		return true;
	}
	case 1: /* mov r/m, r */
		in.modrm = true;
		if (!gen_rm(&in.o, w, true, pct(70), 0))
			return false;
		op1(&in, w == 1 ? 0x88 : 0x89);
		in.rf = (int)rn(8);
		in.rf8 = w == 1;
		emit(&in);
		rm_wrote(&in.o, w);
		return true;
	case 2: /* mov r/m, imm */
		in.modrm = true;
		if (!gen_rm(&in.o, w, true, pct(70), 0))
			return false;
		op1(&in, w == 1 ? 0xc6 : 0xc7);
		in.immsz = w;
		in.imm = rimm(w);
		emit(&in);
		if (in.o.isreg && w == 4)
			set_exact(in.o.r, (int32_t)in.imm);
		else
			rm_wrote(&in.o, w);
		return true;
	case 3: { /* mov r, imm (short) */
		int d = pick_dst(w);
		if (d < 0)
			return false;
		op1(&in, (uint8_t)((w == 1 ? 0xb0 : 0xb8) + d));
		in.immsz = w;
		in.imm = rimm(w);
		emit(&in);
		if (w == 4)
			set_exact(d, (int32_t)in.imm);
		else
			wrote(d, w);
		return true;
	}
	case 4: { /* moffs */
		bool store = pct(50);
		if (!store && !writable(EAX))
			return false;
		int64_t a = 0;
		for (int t = 0;; t++) {
			a = rrange(SCR, SCR_END - w);
			if (!store || !prot_hit(a, a + w))
				break;
			if (t == 20)
				return false;
		}
		op1(&in, (uint8_t)(0xa0 + (store ? 2 : 0) + (w == 1 ? 0 : 1)));
		in.immsz = 4;
		in.imm = (uint32_t)a;
		if (pct(20))
			in.pfx[in.npfx++] = store ? 0x3e : 0x2e;
		emit(&in);
		if (!store)
			kill(EAX);
		return true;
	}
	case 5: { /* movzx / movsx */
		int dw = pct(30) ? 2 : 4;
		int sw = dw == 2 ? 1 : (pct(50) ? 1 : 2);
		int d = pick_dst(dw);
		if (d < 0)
			return false;
		ins_init(&in, dw);
		in.modrm = true;
		gen_rm(&in.o, sw, false, pct(50), 0);
		bool sx = pct(50);
		op2(&in, 0x0f, (uint8_t)((sx ? 0xbe : 0xb6) + (sw == 2 ? 1 : 0)));
		in.rf = d;
		emit(&in);
		if (!sx && dw == 4) {
			S.kn[d].k = true;
			S.kn[d].lo = 0;
			S.kn[d].hi = sw == 1 ? 255 : 65535;
		} else {
			wrote(d, dw);
		}
		return true;
	}
	default: { /* cbw cwde cwd cdq */
		int k = (int)rn(4);
		if (!writable(EAX) || (k >= 2 && !writable(EDX)))
			return false;
		ins_init(&in, (k & 1) ? 4 : 2);
		op1(&in, k < 2 ? 0x98 : 0x99);
		emit(&in);
		kill(k < 2 ? EAX : EDX);
		return true;
	}
	}
}

static bool u_lea(void)
{
	int w = pct(20) ? 2 : 4;
	int d = pick_dst(w);
	if (d < 0)
		return false;
	if (!skip_lea16 && pct(12)) { /* 16-bit addressing (0x67): bx+si etc.; no access */
		ib();
		if (w == 2)
			e1(0x66);
		e1(0x67);
		e1(0x8d);
		int mod = (int)rn(3), rm = (int)rn(8);
		e1((uint8_t)(mod << 6 | d << 3 | rm));
		if (mod == 1)
			e1((uint8_t)rn(256));
		else if (mod == 2 || (mod == 0 && rm == 6))
			e2(rn(65536));
		wrote(d, w);
		return true;
	}
	struct ins in;
	ins_init(&in, w);
	in.modrm = true;
	memset(&in.o, 0, sizeof(in.o));
	struct mem *m = &in.o.m;
	m->base = pct(85) ? (int)rn(8) : -1;
	m->index = pct(50) ? (int)rn(8) : -1;
	if (m->index == ESP)
		m->index = -1;
	m->scale = (int)rn(4);
	m->disp = (int32_t)rval();
	if (m->base < 0)
		m->dsz = 4;
	else if (m->disp == 0 && m->base != EBP && pct(50))
		m->dsz = 0;
	else if (pct(50)) {
		m->disp = (int8_t)m->disp;
		m->dsz = 1;
	} else
		m->dsz = 4;
	if (m->base < 0 && m->index < 0)
		m->alt = pct(30);
	if (pct(5))
		m->seg = 0x3e;
	op1(&in, 0x8d);
	in.rf = d;
	emit(&in);
	/* known result when every part is known and w == 4 */
	bool known = w == 4;
	int64_t lo = m->disp, hi = m->disp;
	if (m->base >= 0) {
		known = known && S.kn[m->base].k;
		lo += S.kn[m->base].lo;
		hi += S.kn[m->base].hi;
	}
	if (m->index >= 0) {
		known = known && S.kn[m->index].k;
		lo += S.kn[m->index].lo * (1 << m->scale);
		hi += S.kn[m->index].hi * (1 << m->scale);
	}
	if (known && lo == hi)
		set_exact(d, lo);
	else if (known && lo >= INT32_MIN && hi <= INT32_MAX) {
		S.kn[d].k = true;
		S.kn[d].lo = lo;
		S.kn[d].hi = hi;
	} else
		wrote(d, w);
	return true;
}

static bool u_nop(void)
{
	static const uint8_t n1[] = { 0x90 };
	static const uint8_t n2[] = { 0x66, 0x90 };
	static const uint8_t n3[] = { 0x0f, 0x1f, 0x00 };
	static const uint8_t n4[] = { 0x0f, 0x1f, 0x40, 0x00 };
	static const uint8_t n5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t n6[] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t n7[] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t *const t[] = { n1, n2, n3, n4, n5, n6, n7 };
	static const int l[] = { 1, 2, 3, 4, 5, 6, 7 };
	int k = (int)rn(7);
	ib();
	for (int i = 0; i < l[k]; i++)
		e1(t[k][i]);
	return true;
}

static bool u_xlat(void)
{
	if (!ebx_base() || !writable(EAX))
		return false;
	ib();
	if (pct(25))
		e1(pct(50) ? 0x3e : 0x36);
	e1(0xd7);
	kill(EAX);
	return true;
}

static bool u_bcd(void)
{
	if (!writable(EAX))
		return false;
	switch (rn(7)) {
	case 0: emit_simple(0x27, CF | AF, CF | AF | SF | ZF | PF, OF); break; /* daa */
	case 1: emit_simple(0x2f, CF | AF, CF | AF | SF | ZF | PF, OF); break; /* das */
	case 2: emit_simple(0x37, AF, AF | CF, OF | SF | ZF | PF); break;      /* aaa */
	case 3: emit_simple(0x3f, AF, AF | CF, OF | SF | ZF | PF); break;      /* aas */
	case 4: case 5: { /* aam / aad imm8 */
		bool aam = pct(50);
		uint32_t imm = pct(50) ? 10 : 1 + rn(255);
		struct ins in;
		ins_init(&in, 4);
		op1(&in, aam ? 0xd4 : 0xd5);
		in.immsz = 1;
		in.imm = imm;
		in.defs = SF | ZF | PF;
		in.undefs = OF | AF | CF;
		emit(&in);
		break;
	}
	default:
		emit_simple(0xd6, CF, 0, 0); /* salc */
		break;
	}
	kill(EAX);
	return true;
}

/* Re-establish a pointer register (EBX = scratch base, EBP, or another
 * register pointing into the scratch area). */
static bool u_setptr(void)
{
	int r;
	switch (rn(4)) {
	case 0: r = EBX; break;
	case 1: r = EBP; break;
	default: {
		static const int c[5] = { EAX, ECX, EDX, ESI, EDI };
		r = c[rn(5)];
	}
	}
	if (!writable(r))
		return false;
	if (r == EBX) {
		ib();
		e1(0xbb);
		e4(FZ_SCRATCH);
		set_exact(EBX, SCR);
		return true;
	}
	if (r == EBP && pct(30)) {
		ib();
		e1(pct(50) ? 0x89 : 0x8b);
		e1(code[pos - 1] == 0x89 ? 0xe5 : 0xec); /* mov ebp, esp */
		S.kn[EBP] = S.kn[ESP];
		return true;
	}
	set_ptr(r, rrange(SCR, SCR_END - 4));
	return true;
}

/* ---- units that move ESP (never inside a body; pending branches are
 * resolved first so that ESP is the same on every path) */

static bool stack_unit_ok(void)
{
	if (in_scope)
		return false;
	resolve_scope();
	return true;
}

static bool u_push(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t e = esp_v();
	int k = (int)rn(12);
	struct ins in;
	ins_init(&in, 4);
	if (k <= 5) { /* pushes */
		bool w16 = pct(10);
		int sz = w16 ? 2 : 4;
		if (addr_of(e) - sz < ZLO)
			return false;
		ins_init(&in, w16 ? 2 : 4);
		switch (k) {
		case 0: case 1:
			op1(&in, (uint8_t)(0x50 + rn(8)));
			break;
		case 2:
			op1(&in, 0x6a);
			in.immsz = 1;
			in.imm = rn(256);
			break;
		case 3:
			op1(&in, 0x68);
			in.immsz = sz;
			in.imm = rimm(sz);
			break;
		default:
			op1(&in, 0xff);
			in.modrm = true;
			in.rf = 6;
			gen_rm(&in.o, sz, false, pct(70), 0);
			break;
		}
		emit(&in);
		set_esp(e - sz);
		return true;
	}
	if (k <= 9) { /* pops */
		bool w16 = pct(10);
		int sz = w16 ? 2 : 4;
		if (addr_of(e) + sz > ZHI)
			return false;
		ins_init(&in, sz);
		if (k <= 7) {
			int d = pick_dst(sz);
			if (d < 0)
				return false;
			op1(&in, (uint8_t)(0x58 + d));
			emit(&in);
			wrote(d, sz);
		} else {
			op1(&in, 0x8f);
			in.modrm = true;
			in.rf = 0;
			if (pct(70)) {
				gen_mem_range(&in.o, 0, sz, true, 0, sz);
			} else {
				int d = pick_dst(sz);
				if (d < 0)
					return false;
				reg_opnd(&in.o, d);
			}
			emit(&in);
			rm_wrote(&in.o, sz);
		}
		set_esp(e + sz);
		return true;
	}
	if (k == 10) { /* call $+5 ; pop r: r = EIP */
		int d = pick_dst(4);
		if (d < 0 || addr_of(e) - 4 < ZLO)
			return false;
		ib();
		e1(0xe8);
		e4(0);
		uint32_t here = FZ_CODE + pos;
		ib();
		e1((uint8_t)(0x58 + d));
		set_exact(d, (int32_t)here);
		return true;
	}
	/* push a known pointer ; pop esp */
	int64_t a = rrange(ZLO, ZHI) & ~(int64_t)(pct(85) ? 3 : 0);
	if (addr_of(e) - 4 < ZLO || a < ZLO)
		return false;
	ib();
	e1(0x68);
	e4((uint32_t)a);
	ib();
	e1(0x5c);
	set_esp(a);
	return true;
}

static bool u_pusha(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t e = esp_v();
	bool w16 = pct(20);
	int sz = w16 ? 16 : 32;
	if (pct(50)) {
		if (addr_of(e) - sz < ZLO)
			return false;
		ib();
		if (w16)
			e1(0x66);
		e1(0x60);
		set_esp(e - sz);
	} else {
		if (addr_of(e) + sz > ZHI)
			return false;
		for (int r = 0; r < 8; r++)
			if (r != ESP && (locked & RB(r)))
				return false;
		ib();
		if (w16)
			e1(0x66);
		e1(0x61);
		for (int r = 0; r < 8; r++)
			if (r != ESP)
				kill(r);
		set_esp(e + sz);
	}
	return true;
}

/* pushfd with the pushed value masked to the compared, defined flags;
 * push imm ; popfd */
static bool u_pushf(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t e = esp_v();
	if (addr_of(e) - 4 < ZLO)
		return false;
	bool w16 = pct(15);
	uint32_t keep = 0x0cd5u & ~fz_undef_eflags(S.taint);
	if (pct(60)) {
		ib();
		if (w16)
			e1(0x66);
		e1(0x9c);
		/* and [esp], keep */
		struct ins in;
		ins_init(&in, w16 ? 2 : 4);
		op1(&in, 0x81);
		in.modrm = true;
		memset(&in.o, 0, sizeof(in.o));
		in.o.m.base = ESP;
		in.o.m.index = -1;
		in.rf = 4;
		in.immsz = w16 ? 2 : 4;
		in.imm = keep | 2;
		in.defs = ALL & ~AF;
		in.undefs = AF;
		emit(&in);
		if (pct(50)) {
			ib();
			if (w16)
				e1(0x66);
			e1(0x9d); /* popfd */
			S.taint = 0; /* the masked bits are now 0; DF is kept */
		} else {
			int d = pick_dst(w16 ? 2 : 4);
			if (d < 0) {
				ib();
				e1(0x8d); /* lea esp, [esp + 4] */
				e1(0x64);
				e1(0x24);
				e1(w16 ? 2 : 4);
			} else {
				ib();
				if (w16)
					e1(0x66);
				e1((uint8_t)(0x58 + d));
				wrote(d, w16 ? 2 : 4);
			}
		}
	} else {
		uint32_t v = (rn(0x10000) & 0x0cd5u) | 2;
		ib();
		if (w16)
			e1(0x66);
		e1(0x68);
		eimm(w16 ? 2 : 4, v);
		ib();
		if (w16)
			e1(0x66);
		e1(0x9d);
		S.taint = 0;
		S.df = (v >> 10) & 1;
	}
	set_esp(e);
	return true;
}

static bool u_enter_leave(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t e = esp_v();
	if (pct(50)) {
		/* leave */
		if (!exact(EBP) || !writable(EBP))
			return false;
		int64_t bp = addr_of(val(EBP));
		bool w16 = pct(10);
		if (w16) {
			/* the stack is 32-bit (SS.B): ESP := EBP, then a 2-byte pop */
			int64_t ne = bp + 2;
			if (ne < ZLO || ne > ZHI)
				return false;
			ib();
			e1(0x66);
			e1(0xc9);
			kill(EBP);
			set_esp(ne);
			return true;
		}
		if (bp + 4 < ZLO || bp + 4 > ZHI)
			return false;
		ib();
		e1(0xc9);
		kill(EBP);
		set_esp(bp + 4);
		return true;
	}
	/* enter size, level */
	if (!writable(EBP))
		return false;
	int size = pct(70) ? (int)rn(64) : (int)rn(300);
	int lvl_imm = pct(80) ? (int)rn(4) : (pct(50) ? 32 + (int)rn(4) : (int)rn(8));
	int lvl = lvl_imm & 31;
	if (lvl > 1) {
		if (!exact(EBP))
			return false;
		int64_t bp = addr_of(val(EBP));
		if (bp - 4 * (lvl - 1) < SCR || bp > SCR_END)
			return false;
	}
	int64_t frame = addr_of(e) - 4;
	int64_t ne = frame - (lvl ? 4 * lvl : 0) - size;
	if (ne < ZLO)
		return false;
	ib();
	e1(0xc8);
	e2((uint32_t)size);
	e1((uint8_t)lvl_imm);
	set_exact(EBP, frame);
	set_esp(ne);
	return true;
}

/* ESP as an ordinary operand: save it, compute with it, restore it. */
static bool u_espblock(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t a;
	for (;;) {
		a = rrange(SCR, SCR_END - 4);
		if (!prot_hit(a, a + 4))
			break;
	}
	bool via_ebx = ebx_base() && pct(50);
	ib();
	e1(0x89);
	if (via_ebx) {
		e1(0xa3);
		e4((uint32_t)(a - SCR));
	} else {
		e1(0x25);
		e4((uint32_t)a);
	}
	int n = 1 + (int)rn(3);
	for (int i = 0; i < n; i++) {
		struct ins in;
		int r = (int)rn(8);
		bool rw_ok = r != ESP && writable(r) && r != EBX && r != EBP;
		ins_init(&in, pct(10) ? 2 : 4);
		int w = in.o16 ? 2 : 4;
		switch (rn(12)) {
		case 0: /* mov esp, r / mov r, esp */
			op1(&in, pct(50) ? 0x89 : 0x8b);
			in.modrm = true;
			if (rw_ok && pct(40)) {
				reg_opnd(&in.o, in.op[0] == 0x89 ? r : ESP);
				in.rf = in.op[0] == 0x89 ? ESP : r;
				emit(&in);
				wrote(r, w);
			} else {
				reg_opnd(&in.o, in.op[0] == 0x89 ? ESP : r);
				in.rf = in.op[0] == 0x89 ? r : ESP;
				emit(&in);
			}
			break;
		case 1: /* xchg esp, r */
			if (!rw_ok)
				break;
			if (r == EAX && w == 4 && pct(50)) {
				op1(&in, 0x94);
			} else {
				op1(&in, 0x87);
				in.modrm = true;
				bool sw = pct(50);
				reg_opnd(&in.o, sw ? ESP : r);
				in.rf = sw ? r : ESP;
			}
			emit(&in);
			wrote(r, w);
			break;
		case 2: case 3: { /* alu esp, r / alu r, esp / alu esp, imm */
			int op = (int)rn(8);
			in.reads = ALU_READS(op);
			in.defs = alu_defs[op];
			in.undefs = alu_undefs[op];
			in.modrm = true;
			int f = (int)rn(3);
			if (f == 0) {
				op1(&in, (uint8_t)(op * 8 + 1));
				reg_opnd(&in.o, ESP);
				in.rf = r;
			} else if (f == 1 && (rw_ok || op == 7)) {
				op1(&in, (uint8_t)(op * 8 + 3));
				reg_opnd(&in.o, ESP);
				in.rf = r;
				emit(&in);
				if (op != 7)
					wrote(r, w);
				break;
			} else {
				op1(&in, pct(50) ? 0x83 : 0x81);
				reg_opnd(&in.o, ESP);
				in.rf = op;
				in.immsz = in.op[0] == 0x83 ? 1 : w;
				in.imm = rimm(in.immsz);
			}
			emit(&in);
			break;
		}
		case 4: /* inc/dec esp, short and long */
			if (pct(50)) {
				op1(&in, pct(50) ? 0x44 : 0x4c);
			} else {
				op1(&in, 0xff);
				in.modrm = true;
				reg_opnd(&in.o, ESP);
				in.rf = (int)rn(2);
			}
			in.defs = ALL & ~CF;
			emit(&in);
			break;
		case 5: /* neg/not esp, shifts */
			in.modrm = true;
			reg_opnd(&in.o, ESP);
			if (pct(50)) {
				op1(&in, 0xf7);
				in.rf = pct(50) ? 2 : 3;
				in.defs = in.rf == 3 ? ALL : 0;
			} else {
				static const int kinds[7] = { 0, 1, 2, 3, 4, 5, 7 };
				int kind = kinds[rn(7)];
				int cnt = (int)rn(32);
				op1(&in, 0xc1);
				in.rf = kind;
				in.immsz = 1;
				in.imm = (uint32_t)cnt;
				in.reads = (kind == 2 || kind == 3) ? CF : 0;
				shift_flags(kind, w, cnt, &in.defs, &in.undefs);
			}
			emit(&in);
			break;
		case 6: /* bswap esp */
			ins_init(&in, 4);
			op2(&in, 0x0f, 0xcc);
			emit(&in);
			break;
		case 7: /* imul esp, r(, imm) */
			in.modrm = true;
			reg_opnd(&in.o, r);
			in.rf = ESP;
			in.defs = CF | OF;
			in.undefs = SF | ZF | AF | PF;
			if (pct(50)) {
				op2(&in, 0x0f, 0xaf);
			} else {
				op1(&in, 0x6b);
				in.immsz = 1;
				in.imm = rn(256);
			}
			emit(&in);
			break;
		case 8: { /* lea esp, [...] / lea r, [esp + ...] */
			ins_init(&in, 4);
			op1(&in, 0x8d);
			in.modrm = true;
			memset(&in.o, 0, sizeof(in.o));
			in.o.m.base = pct(50) ? ESP : (int)rn(8);
			in.o.m.index = pct(50) ? (int)rn(8) : -1;
			if (in.o.m.index == ESP)
				in.o.m.index = -1;
			in.o.m.scale = (int)rn(4);
			in.o.m.disp = (int8_t)rn(256);
			in.o.m.dsz = 1;
			if (rw_ok && pct(40)) {
				in.o.m.base = ESP;
				in.rf = r;
				emit(&in);
				wrote(r, 4);
			} else {
				in.rf = ESP;
				emit(&in);
			}
			break;
		}
		case 9: { /* cmovcc esp, r ; bsf esp, r ; bt esp, r */
			int cc = (int)rn(16);
			in.modrm = true;
			reg_opnd(&in.o, r);
			in.rf = ESP;
			int f = (int)rn(3);
			if (f == 0) {
				op2(&in, 0x0f, (uint8_t)(0x40 + cc));
				in.reads = cc_reads(cc);
			} else if (f == 1) {
				op2(&in, 0x0f, 0xbc);
				in.defs = ZF;
				in.undefs = CF | OF | SF | AF | PF;
			} else {
				op2(&in, 0x0f, 0xa3);
				reg_opnd(&in.o, ESP);
				in.rf = r;
				in.defs = CF;
				in.undefs = OF | SF | AF | PF;
			}
			emit(&in);
			break;
		}
		case 10: /* xadd / cmpxchg with esp */
			if (!rw_ok || !writable(EAX))
				break;
			in.modrm = true;
			reg_opnd(&in.o, ESP);
			in.rf = r;
			op2(&in, 0x0f, pct(50) ? 0xc1 : 0xb1);
			in.defs = ALL;
			emit(&in);
			wrote(r, w);
			kill(EAX);
			break;
		default: /* movzx/movsx esp, r8/r16 */
			ins_init(&in, 4);
			in.modrm = true;
			op2(&in, 0x0f, (uint8_t)(0xb6 + rn(2) + (pct(50) ? 8 : 0)));
			reg_opnd(&in.o, (int)rn(8));
			if (skip_hi8esp && !(in.op[1] & 1))
				in.o.r &= 3;
			in.rf = ESP;
			emit(&in);
			break;
		}
	}
	ib();
	e1(0x8b);
	if (via_ebx) {
		e1(0xa3);
		e4((uint32_t)(a - SCR));
	} else {
		e1(0x25);
		e4((uint32_t)a);
	}
	return true;
}

/* Move ESP to another known place in its zone. */
static bool u_stackswitch(void)
{
	if (!stack_unit_ok())
		return false;
	int64_t e = addr_of(esp_v());
	int64_t t = rrange(ZLO, ZHI) & ~(int64_t)(pct(85) ? 3 : 0);
	if (t < ZLO)
		t += 4;
	switch (rn(8)) {
	case 0:
		ib();
		e1(0xbc); /* mov esp, imm32 */
		e4((uint32_t)t);
		break;
	case 1:
		if (!ebx_base())
			return false;
		ib();
		e1(0x8d); /* lea esp, [ebx + d32] */
		e1(0xa3);
		e4((uint32_t)(t - SCR));
		break;
	case 2: { /* add/sub esp, imm */
		int64_t d = t - e;
		struct ins in;
		ins_init(&in, 4);
		in.modrm = true;
		reg_opnd(&in.o, ESP);
		bool sub = pct(50);
		in.rf = sub ? 5 : 0;
		uint32_t imm = (uint32_t)(sub ? -d : d);
		if ((int32_t)imm >= -128 && (int32_t)imm <= 127) {
			op1(&in, 0x83);
			in.immsz = 1;
		} else {
			op1(&in, 0x81);
			in.immsz = 4;
		}
		in.imm = imm;
		in.defs = ALL;
		emit(&in);
		break;
	}
	case 3: { /* and esp, -16 */
		int64_t n = e & ~15ll;
		if (n < ZLO)
			return false;
		ib();
		e1(0x83);
		e1(0xe4);
		e1(0xf0);
		S.taint = AF;
		t = n;
		break;
	}
	case 4: /* mov esp, ebp */
		if (!exact(EBP) || addr_of(val(EBP)) < ZLO || addr_of(val(EBP)) > ZHI)
			return false;
		t = addr_of(val(EBP));
		ib();
		e1(pct(50) ? 0x89 : 0x8b);
		e1(code[pos - 1] == 0x89 ? 0xec : 0xe5);
		break;
	case 5: { /* lea esp, [esp + d] */
		int64_t d = t - e;
		ib();
		e1(0x8d);
		if (d >= -128 && d <= 127) {
			e1(0x64);
			e1(0x24);
			e1((uint8_t)d);
		} else {
			e1(0xa4);
			e1(0x24);
			e4((uint32_t)d);
		}
		break;
	}
	case 6: { /* mov r, t ; xchg esp, r / mov esp, r */
		static const int c[5] = { EAX, ECX, EDX, ESI, EDI };
		int r = c[rn(5)];
		if (!writable(r))
			return false;
		ib();
		e1((uint8_t)(0xb8 + r));
		e4((uint32_t)t);
		ib();
		if (pct(50)) {
			e1(0x87);
			e1((uint8_t)(pct(50) ? (0xe0 | r) : (0xc4 | r << 3)));
			set_exact(r, e);
		} else {
			e1(0x89);
			e1((uint8_t)(0xc4 | r << 3));
			set_exact(r, t);
		}
		break;
	}
	default: /* inc/dec esp */
		t = pct(50) ? e + 1 : e - 1;
		if (t < ZLO || t > ZHI)
			return false;
		ib();
		e1(t > e ? 0x44 : 0x4c);
		S.taint &= CF;
		break;
	}
	set_esp(t);
	return true;
}

/* ---- branches */

static bool u_branch(void)
{
	int k = (int)rn(10);
	int units = pct(15) ? 0 : 1 + (int)rn(3);
	struct ins in;
	ins_init(&in, 4);
	if (k <= 4) { /* jcc */
		int cc = (int)rn(16);
		in.reads = cc_reads(cc);
		bool near = pct(30);
		if (pct(8))
			in.pfx[in.npfx++] = pct(50) ? 0x2e : 0x3e;
		if (near)
			op2(&in, 0x0f, (uint8_t)(0x80 + cc));
		else
			op1(&in, (uint8_t)(0x70 + cc));
		in.immsz = near ? 4 : 1;
		emit(&in);
		add_fix(near ? FX_REL32 : FX_REL8, pos - (near ? 4 : 1), pos, units, true);
		return true;
	}
	if (k <= 6) { /* jmp */
		bool near = pct(30);
		op1(&in, near ? 0xe9 : 0xeb);
		in.immsz = near ? 4 : 1;
		emit(&in);
		add_fix(near ? FX_REL32 : FX_REL8, pos - (near ? 4 : 1), pos, units, true);
		return true;
	}
	if (k == 7) { /* jecxz */
		op1(&in, 0xe3);
		in.immsz = 1;
		emit(&in);
		add_fix(FX_REL8, pos - 1, pos, units, true);
		return true;
	}
	if (k == 8) { /* loop, loope, loopne (forward) */
		if (!writable(ECX))
			return false;
		int l = (int)rn(3);
		in.reads = l == 2 ? 0 : ZF;
		op1(&in, (uint8_t)(0xe0 + l));
		in.immsz = 1;
		emit(&in);
		kill(ECX);
		add_fix(FX_REL8, pos - 1, pos, units, true);
		return true;
	}
	/* indirect forward jump: through a register, through memory, push+ret */
	int f = (int)rn(3);
	if (f == 0) {
		int d = pick_dst(4);
		if (d < 0)
			return false;
		ib();
		e1((uint8_t)(0xb8 + d));
		e4(0);
		unsigned at = pos - 4;
		kill(d);
		ib();
		e1(0xff);
		e1((uint8_t)(0xe0 | d));
		add_fix(FX_ABS32, at, pos, units, true);
		return true;
	}
	if (f == 1) {
		struct opnd o;
		gen_mem(&o, 4, true, 0);
		ins_init(&in, 4);
		op1(&in, 0xc7);
		in.modrm = true;
		in.o = o;
		in.immsz = 4;
		emit(&in);
		unsigned at = pos - 4;
		ins_init(&in, 4);
		op1(&in, 0xff);
		in.modrm = true;
		in.o = o;
		in.rf = 4;
		emit(&in);
		add_fix(FX_ABS32, at, pos, units, true);
		return true;
	}
	if (!stack_unit_ok() || addr_of(esp_v()) - 4 < ZLO)
		return false;
	ib();
	e1(0x68);
	e4(0);
	unsigned at = pos - 4;
	ib();
	e1(0xc3);
	add_fix(FX_ABS32, at, pos, units, true);
	return true;
}

static bool gen_unit(void);

/* Before a unit: resolve this scope's branches whose units are done, or
 * whose short displacement is getting long (no unit is longer than ~70
 * bytes).  After a unit: count it. */
static void pre_unit(void)
{
	for (int j = nfix - 1; j >= 0; j--)
		if (fixes[j].scope == scope &&
		    (fixes[j].units_left <= 0 || (fixes[j].kind == FX_REL8 && pos - fixes[j].end > 50)))
			resolve(j);
}
static void post_unit(void)
{
	for (int j = nfix - 1; j >= 0; j--)
		if (fixes[j].scope == scope)
			fixes[j].units_left--;
}

static void gen_body(int n)
{
	for (int i = 0; i < n && pos < CODE_LIMIT + 400; i++) {
		pre_unit();
		int tries = 0;
		while (!gen_unit())
			if (++tries > 50)
				die("no unit fits in a body");
		post_unit();
	}
	resolve_scope();
}

/* a counted loop backwards: mov ecx, n ; body ; loop/dec+jnz */
static bool u_loop(void)
{
	if (in_scope || !writable(ECX) || pos > CODE_LIMIT)
		return false;
	resolve_scope();
	int n = 1 + (int)rn(4);
	ib();
	e1(0xb9);
	e4((uint32_t)n);
	unsigned head = pos;
	unsigned save_locked = locked;
	locked |= RB(ECX) | RB(EBX) | RB(EBP) | RB(ESP);
	in_scope++;
	scope++;
	S.taint = ALL;
	S.df = -1;
	for (int r = 0; r < 8; r++)
		if (!(locked & RB(r)))
			S.kn[r].k = false;
	S.kn[ECX].k = true; /* n, n-1, ... 1 in the body */
	S.kn[ECX].lo = 1;
	S.kn[ECX].hi = n;
	gen_body(1 + (int)rn(3));
	scope--;
	in_scope--;
	locked = save_locked;
	int back = (int)rn(3); /* loop, loope/loopne, dec+jnz */
	if (back == 1) {
		fix_flags(ZF);
		int64_t d = (int64_t)head - (pos + 2);
		if (d < -128) {
			back = 2;
		} else {
			ib();
			e1(pct(50) ? 0xe1 : 0xe0);
			e1((uint8_t)d);
			S.kn[ECX].lo = 0; /* left early or counted down */
			S.kn[ECX].hi = n - 1;
			return true;
		}
	}
	if (back == 0) {
		int64_t d = (int64_t)head - (pos + 2);
		if (d >= -128) {
			ib();
			e1(0xe2);
			e1((uint8_t)d);
			set_exact(ECX, 0);
			return true;
		}
	}
	ib();
	if (pct(50)) {
		e1(0x49); /* dec ecx */
	} else {
		e1(0x83); /* sub ecx, 1 */
		e1(0xe9);
		e1(0x01);
	}
	S.taint = code[pos - 1] == 0x49 ? (S.taint & CF) : 0;
	int64_t d = (int64_t)head - (pos + 2);
	ib();
	if (d >= -128) {
		e1(0x75);
		e1((uint8_t)d);
	} else {
		e1(0x0f);
		e1(0x85);
		e4((uint32_t)((int64_t)head - (pos + 4)));
	}
	set_exact(ECX, 0);
	return true;
}

/* a subroutine: [push args] call sub ; jmp over ; sub: body ; ret [n] ; over: */
static bool u_call(void)
{
	if (in_scope || pos > CODE_LIMIT)
		return false;
	resolve_scope();
	int nargs = (int)rn(3);
	if (addr_of(esp_v()) - 4 * (nargs + 1) - 16 < ZLO)
		return false;
	for (int i = 0; i < nargs; i++) {
		ib();
		if (pct(50)) {
			e1(0x6a);
			e1((uint8_t)rn(256));
		} else {
			e1((uint8_t)(0x50 + rn(8)));
		}
		set_esp(esp_v() - 4);
	}
	int v = (int)rn(4);
	unsigned call_fix_at, call_end;
	int call_kind;
	if (v == 0) {
		ib();
		e1(0xe8);
		e4(0);
		call_fix_at = pos - 4;
		call_end = pos;
		call_kind = FX_REL32;
	} else if (v == 1) {
		/* mov r, sub ; call r (r == EAX when nothing else is writable) */
		int d = pick_dst(4);
		if (d < 0)
			d = EAX;
		ib();
		e1((uint8_t)(0xb8 + d));
		e4(0);
		call_fix_at = pos - 4;
		kill(d);
		ib();
		e1(0xff);
		e1((uint8_t)(0xd0 | d));
		call_end = pos;
		call_kind = FX_ABS32;
	} else if (v == 2) {
		struct opnd o;
		gen_mem(&o, 4, true, 0);
		struct ins in;
		ins_init(&in, 4);
		op1(&in, 0xc7);
		in.modrm = true;
		in.o = o;
		in.immsz = 4;
		emit(&in);
		call_fix_at = pos - 4;
		ins_init(&in, 4);
		op1(&in, 0xff);
		in.modrm = true;
		in.o = o;
		in.rf = 2;
		emit(&in);
		call_end = pos;
		call_kind = FX_ABS32;
	} else {
		/* push return address ; jmp sub */
		ib();
		e1(0x68);
		e4(0);
		unsigned ret_at = pos - 4;
		ib();
		e1(0xe9);
		e4(0);
		call_fix_at = pos - 4;
		call_end = pos;
		call_kind = FX_REL32;
		put4(ret_at, FZ_CODE + pos); /* returns to the jmp over */
	}
	set_esp(esp_v() - 4);
	/* jmp over the subroutine */
	ib();
	e1(0xe9);
	e4(0);
	unsigned over_at = pos - 4;
	unsigned over_end = pos;
	/* the subroutine */
	if (call_kind == FX_REL32)
		put4(call_fix_at, (uint32_t)(pos - call_end));
	else
		put4(call_fix_at, FZ_CODE + pos);
	int64_t e = esp_v();
	prot[nprot].lo = e;
	prot[nprot].hi = e + 4 + 4 * nargs;
	nprot++;
	unsigned save_locked = locked;
	locked |= RB(EBX) | RB(EBP);
	in_scope++;
	scope++;
	gen_body(1 + (int)rn(3));
	scope--;
	in_scope--;
	locked = save_locked;
	nprot--;
	int popped = 0;
	ib();
	if (nargs && pct(60)) {
		popped = 1 + (int)rn((uint32_t)nargs);
		e1(0xc2);
		e2((uint32_t)(4 * popped));
	} else {
		e1(0xc3);
	}
	set_esp(esp_v() + 4 + 4 * popped);
	/* over: */
	put4(over_at, (uint32_t)(pos - over_end));
	/* remaining arguments */
	int left = nargs - popped;
	if (left) {
		ib();
		switch (rn(2)) {
		case 0:
			e1(0x83); /* add esp, 4*left */
			e1(0xc4);
			e1((uint8_t)(4 * left));
			S.taint = 0;
			break;
		default:
			e1(0x8d); /* lea esp, [esp + 4*left] */
			e1(0x64);
			e1(0x24);
			e1((uint8_t)(4 * left));
			break;
		}
		set_esp(esp_v() + 4 * left);
	}
	return true;
}


/* ---- the privileged mode (compared against QEMU, not the CPU) */

/* data selectors of the guest's GDT and their bases */
static int64_t sel_base(unsigned sel)
{
	switch (sel & ~3u) {
	case 0x10: return 0;
	case 0x18: return 0x10000;
	case 0x20: return -0x01000000; /* 0xff000000: addresses wrap */
	default: return NOBASE;
	}
}
static unsigned rnd_data_sel(void)
{
	static const unsigned s[3] = { 0x10, 0x18, 0x20 };
	return s[rn(3)];
}

/* mov r32, imm into a writable register; -1 if none */
static int load_imm(uint32_t v)
{
	int d = pick_dst(4);
	if (d < 0)
		return -1;
	ib();
	e1((uint8_t)(0xb8 + d));
	e4(v);
	set_exact(d, (int32_t)v);
	return d;
}

static bool u_pseg(void)
{
	switch (rn(6)) {
	case 0: { /* mov fs/gs, r */
		int i = (int)rn(2);
		unsigned sel = pct(85) ? rnd_data_sel() : 0;
		int d = load_imm(sel | (pct(20) ? rn(4) : 0) /* RPL */);
		if (d < 0)
			return false;
		ib();
		if (pct(20))
			e1(0x66);
		e1(0x8e);
		e1((uint8_t)(0xc0 | (4 + i) << 3 | d));
		S.sbase[i] = sel_base(sel);
		return true;
	}
	case 1: { /* reload DS, ES or SS with the flat selector */
		static const int sr[3] = { 3, 0, 2 };
		int d = load_imm(0x10);
		if (d < 0)
			return false;
		ib();
		e1(0x8e);
		e1((uint8_t)(0xc0 | sr[rn(3)] << 3 | d));
		return true;
	}
	case 2: { /* mov r/m16, sreg */
		int sr = (int)rn(6);
		struct ins in;
		ins_init(&in, pct(30) ? 2 : 4);
		op1(&in, 0x8c);
		in.modrm = true;
		in.rf = sr;
		if (pct(50)) {
			gen_mem(&in.o, 2, true, 0);
			in.o16 = false;
		} else {
			int d = pick_dst(4);
			if (d < 0)
				return false;
			reg_opnd(&in.o, d);
		}
		emit(&in);
		rm_wrote(&in.o, 4);
		return true;
	}
	case 3: { /* push sreg ; pop fs/gs/ds/es/ss */
		if (!stack_unit_ok())
			return false;
		int64_t e = esp_v();
		if (addr_of(e) - 8 < ZLO)
			return false;
		bool w16 = pct(20);
		/* a 32-bit push of a segment register may write 2 bytes only:
		 * make the slot's upper half zero first */
		ib();
		e1(0x6a);
		e1(0x00);
		ib();
		e1(0x8d);
		e1(0x64);
		e1(0x24);
		e1(0x04);
		/* push: es ss ds (0x10) or fs gs (their selector) */
		int src = (int)rn(5);
		int64_t b = 0;
		ib();
		if (w16)
			e1(0x66);
		switch (src) {
		case 0: e1(0x06); break;
		case 1: e1(0x16); break;
		case 2: e1(0x1e); break;
		case 3: e1(0x0f); e1(0xa0); b = S.sbase[0]; break;
		default: e1(0x0f); e1(0xa8); b = S.sbase[1]; break;
		}
		/* pop: fs/gs take any data selector; ds/es/ss only the flat one */
		int dst = b == 0 ? (int)rn(5) : (int)rn(2) + 3;
		if (b == NOBASE) /* a null (or unknown) selector: pop it into a register */
			dst = 5;
		ib();
		if (w16)
			e1(0x66);
		switch (dst) {
		case 0: e1(0x1f); break;
		case 1: e1(0x07); break;
		case 2: e1(0x17); break;
		case 3: e1(0x0f); e1(0xa1); S.sbase[0] = b; break;
		case 4: e1(0x0f); e1(0xa9); S.sbase[1] = b; break;
		default: {
			int d = pick_dst(4);
			if (d < 0)
				d = EAX; /* never locked outside bodies */
			e1((uint8_t)(0x58 + d));
			wrote(d, w16 ? 2 : 4);
		}
		}
		set_esp(e);
		return true;
	}
	default: { /* lfs/lgs/lds/les/lss r32, m16:32 */
		int k = (int)rn(5); /* lfs lgs lds les lss */
		if (k == 4 && !stack_unit_ok())
			return false;
		unsigned sel = k < 2 ? rnd_data_sel() : 0x10;
		int d;
		uint32_t off;
		if (k == 4) {
			d = ESP;
			off = (uint32_t)(rrange(ZLO, ZHI) & ~3ll);
		} else {
			d = pick_dst(4);
			if (d < 0)
				return false;
			off = rval();
		}
		int64_t a;
		do
			a = rrange(SCR, SCR_END - 6);
		while (prot_hit(a, a + 6));
		ib();
		e1(0xc7); /* mov dword [a], off */
		e1(0x05);
		e4((uint32_t)a);
		e4(off);
		ib();
		e1(0x66); /* mov word [a+4], sel */
		e1(0xc7);
		e1(0x05);
		e4((uint32_t)a + 4);
		e2(sel);
		ib();
		static const uint8_t opc[5][2] = { { 0x0f, 0xb4 }, { 0x0f, 0xb5 }, { 0xc5, 0 }, { 0xc4, 0 }, { 0x0f, 0xb2 } };
		e1(opc[k][0]);
		if (opc[k][1])
			e1(opc[k][1]);
		e1((uint8_t)(0x05 | d << 3));
		e4((uint32_t)a);
		if (k < 2)
			S.sbase[k] = sel_base(sel);
		if (k == 4)
			set_esp(off);
		else
			set_exact(d, (int32_t)off);
		return true;
	}
	}
}

static bool u_pflags(void)
{
	switch (rn(5)) {
	case 0: emit_simple(0xfa, 0, 0, 0); return true; /* cli */
	case 1: emit_simple(0xfb, 0, 0, 0); return true; /* sti */
	case 2: { /* push imm ; popfd: status, DF, IF, IOPL, AC, ID */
		if (!stack_unit_ok() || addr_of(esp_v()) - 4 < ZLO)
			return false;
		uint32_t v = priv_flags_image();
		ib();
		e1(0x68);
		e4(v);
		ib();
		e1(0x9d);
		S.taint = 0;
		S.df = (v >> 10) & 1;
		return true;
	}
	case 3: { /* pushfd ; pop r */
		if (!stack_unit_ok() || addr_of(esp_v()) - 4 < ZLO)
			return false;
		fix_flags(ALL);
		int d = pick_dst(4);
		if (d < 0)
			return false;
		ib();
		e1(0x9c);
		ib();
		e1((uint8_t)(0x58 + d));
		kill(d);
		return true;
	}
	default: /* pushfd ; popfd */
		if (!stack_unit_ok() || addr_of(esp_v()) - 4 < ZLO)
			return false;
		fix_flags(ALL); /* the image stays in memory */
		ib();
		e1(0x9c);
		ib();
		e1(0x9d);
		return true;
	}
}

static bool u_pcr(void)
{
	int d = pick_dst(4);
	if (d < 0)
		return false;
	switch (rn(7)) {
	case 0: case 1: { /* mov r, cr0 ; change TS MP EM NE WP AM ; mov cr0, r */
		static const uint32_t bits[6] = { 8, 2, 4, 0x20, 0x10000, 0x40000 };
		ib();
		e1(0x0f);
		e1(0x20);
		e1((uint8_t)(0xc0 | d));
		struct ins in;
		ins_init(&in, 4);
		op1(&in, 0x81);
		in.modrm = true;
		reg_opnd(&in.o, d);
		in.rf = pct(50) ? 6 : (pct(50) ? 1 : 4); /* xor, or, and */
		in.immsz = 4;
		in.imm = bits[rn(6)] | (pct(30) ? bits[rn(6)] : 0);
		if (in.rf == 4)
			in.imm = ~in.imm;
		in.defs = ALL & ~AF;
		in.undefs = AF;
		emit(&in);
		ib();
		e1(0x0f);
		e1(0x22);
		e1((uint8_t)(0xc0 | d));
		kill(d);
		/* an x87 instruction: #NM when TS or EM says so */
		if (pct(50)) {
			ib();
			switch (rn(3)) {
			case 0: e1(0xd9); e1(0xd0); break; /* fnop */
			case 1: e1(0x9b); break;            /* fwait */
			default: e1(0xdb); e1(0xe3); break; /* fninit */
			}
		}
		return true;
	}
	case 2:
		ib();
		e1(0x0f); /* clts */
		e1(0x06);
		return true;
	case 3: /* smsw r16 / m16 */
		ib();
		if (pct(50)) {
			e1(0x66);
			e1(0x0f);
			e1(0x01);
			e1((uint8_t)(0xe0 | d));
			wrote(d, 2);
		} else {
			struct ins in;
			ins_init(&in, 4);
			op2(&in, 0x0f, 0x01);
			in.modrm = true;
			in.rf = 4;
			gen_mem(&in.o, 2, true, 0);
			emit(&in);
		}
		return true;
	case 4: /* lmsw: set or clear MP EM TS (PE stays) */
		ib();
		e1(0x0f);
		e1(0x20);
		e1((uint8_t)(0xc0 | d));
		ib();
		e1(0x66); /* xor r16, bits */
		e1(0x83);
		e1((uint8_t)(0xf0 | d));
		e1((uint8_t)(2u << rn(3)));
		S.taint = AF;
		ib();
		e1(0x0f);
		e1(0x01);
		e1((uint8_t)(0xf0 | d));
		kill(d);
		return true;
	case 5: /* mov r, cr2/cr3/cr4 */
		ib();
		e1(0x0f);
		e1(0x20);
		e1((uint8_t)(0xc0 | (2 + rn(3)) << 3 | d));
		kill(d);
		return true;
	default:
		ib();
		switch (rn(3)) {
		case 0: e1(0xd9); e1(0xd0); break;
		case 1: e1(0x9b); break;
		default: e1(0xdb); e1(0xe3); break;
		}
		return true;
	}
}

static bool u_pdesc(void)
{
	struct ins in;
	switch (rn(5)) {
	case 0: /* sgdt / sidt */
		ins_init(&in, 4);
		op2(&in, 0x0f, 0x01);
		in.modrm = true;
		in.rf = (int)rn(2);
		gen_mem(&in.o, 6, true, 0);
		emit(&in);
		return true;
	case 1: { /* sldt / str r/m */
		ins_init(&in, 4);
		op2(&in, 0x0f, 0x00);
		in.modrm = true;
		in.rf = (int)rn(2);
		if (pct(50)) {
			gen_mem(&in.o, 2, true, 0);
		} else {
			int d = pick_dst(4);
			if (d < 0)
				return false;
			reg_opnd(&in.o, d);
		}
		emit(&in);
		rm_wrote(&in.o, 4);
		return true;
	}
	case 2: case 3: { /* lar / lsl / verr / verw on a selector */
		int s = load_imm(rn(0x50));
		if (s < 0)
			return false;
		int k = (int)rn(4);
		ins_init(&in, 4);
		in.modrm = true;
		in.defs = ZF;
		if (k >= 2) {
			op2(&in, 0x0f, 0x00);
			in.rf = k == 2 ? 4 : 5;
			reg_opnd(&in.o, s);
			emit(&in);
			return true;
		}
		int d = pick_dst(4);
		if (d < 0)
			return false;
		op2(&in, 0x0f, k == 0 ? 0x02 : 0x03);
		in.rf = d;
		reg_opnd(&in.o, s);
		emit(&in);
		kill(d);
		if (k == 0) { /* LAR: bits 19:16 are undefined */
			ins_init(&in, 4);
			op1(&in, 0x81);
			in.modrm = true;
			reg_opnd(&in.o, d);
			in.rf = 4;
			in.immsz = 4;
			in.imm = 0x00f0ff00;
			in.defs = ALL & ~AF;
			in.undefs = AF;
			emit(&in);
		}
		return true;
	}
	default: { /* arpl r/m16, r16 */
		ins_init(&in, 4);
		op1(&in, 0x63);
		in.modrm = true;
		in.rf = (int)rn(8);
		in.defs = ZF;
		if (!gen_rm(&in.o, 2, true, pct(40), 0))
			return false;
		emit(&in);
		rm_wrote(&in.o, 2);
		return true;
	}
	}
}

static bool u_pio(void)
{
	if (!writable(EAX) || !writable(EDX))
		return false;
	switch (rn(4)) {
	case 0: /* the UART scratch register: out, in */
		ib();
		e1(0x66);
		e1(0xba);
		e2(0x3ff);
		ib();
		e1(0xb0);
		e1((uint8_t)rn(256));
		ib();
		e1(0xee);
		ib();
		e1(0xec);
		break;
	case 1: /* the PIC mask (all masked) */
		ib();
		e1(0xe4);
		e1(pct(50) ? 0x21 : 0xa1);
		break;
	default: { /* rep outsb / rep insb with the scratch register */
		bool out = pct(50);
		if (!writable(ECX) || !writable(out ? ESI : EDI))
			return false;
		int n = (int)rn(9);
		if (S.df < 0) {
			emit_simple(0xfc, 0, 0, 0);
			S.df = 0;
		}
		int64_t span = n ? n : 1;
		int64_t lo_off = S.df ? -(span - 1) : 0, hi_off = S.df ? 1 : span;
		int64_t a;
		do
			a = rrange(SCR - lo_off, SCR_END - hi_off);
		while (!out && prot_hit(a + lo_off, a + hi_off));
		set_ptr(out ? ESI : EDI, a);
		ib();
		e1(0x66);
		e1(0xba);
		e2(0x3ff);
		ib();
		e1(0xb9);
		e4((uint32_t)n);
		ib();
		e1(0xf3);
		e1(out ? 0x6e : 0x6c);
		kill(ECX);
		kill(out ? ESI : EDI);
		break;
	}
	}
	kill(EAX);
	kill(EDX);
	return true;
}

/* iretd to the next instruction, with the same or new flags */
static bool u_piret(void)
{
	if (!stack_unit_ok() || addr_of(esp_v()) - 12 < ZLO)
		return false;
	bool newflags = pct(50);
	uint32_t v = 0;
	if (!newflags)
		fix_flags(ALL); /* the pushed image stays in memory */
	ib();
	if (newflags) {
		v = priv_flags_image();
		e1(0x68);
		e4(v);
	} else {
		e1(0x9c);
	}
	ib();
	e1(0x6a); /* push 0x08 (not push cs: that may write 2 bytes only) */
	e1(0x08);
	ib();
	e1(0x68);
	e4(0);
	unsigned at = pos - 4;
	ib();
	e1(0xcf);
	put4(at, FZ_CODE + pos);
	if (newflags) {
		S.taint = 0;
		S.df = (v >> 10) & 1;
	}
	return true;
}

/* far jmp forward; far call to a subroutine that returns with retf */
static bool u_pfar(void)
{
	if (pct(50)) {
		int units = (int)rn(3);
		ib();
		if (pct(50)) {
			e1(0xea); /* jmp 0x08:abs */
			e4(0);
			e2(0x08);
			add_fix(FX_ABS32, pos - 6, pos, units, true);
		} else {
			struct opnd o;
			int64_t a;
			do
				a = rrange(SCR, SCR_END - 6);
			while (prot_hit(a, a + 6));
			ib();
			e1(0xc7);
			e1(0x05);
			e4((uint32_t)a);
			e4(0);
			unsigned at = pos - 4;
			ib();
			e1(0x66);
			e1(0xc7);
			e1(0x05);
			e4((uint32_t)a + 4);
			e2(0x08);
			memset(&o, 0, sizeof(o));
			o.m.base = o.m.index = -1;
			o.m.disp = (int32_t)a;
			o.m.dsz = 4;
			struct ins in;
			ins_init(&in, 4);
			op1(&in, 0xff); /* jmp far [a] */
			in.modrm = true;
			in.o = o;
			in.rf = 5;
			emit(&in);
			add_fix(FX_ABS32, at, pos, units, true);
		}
		return true;
	}
	/* far call: zero the slots first (a 32-bit push of CS may write 2 bytes) */
	if (in_scope || pos > CODE_LIMIT)
		return false;
	resolve_scope();
	if (addr_of(esp_v()) - 24 < ZLO)
		return false;
	ib();
	e1(0x6a);
	e1(0x00);
	ib();
	e1(0x6a);
	e1(0x00);
	ib();
	e1(0x8d);
	e1(0x64);
	e1(0x24);
	e1(0x08);
	ib();
	e1(0x9a);
	e4(0);
	e2(0x08);
	unsigned call_at = pos - 6;
	set_esp(esp_v() - 8);
	ib();
	e1(0xe9);
	e4(0);
	unsigned over_at = pos - 4, over_end = pos;
	put4(call_at, FZ_CODE + pos);
	int64_t e = esp_v();
	prot[nprot].lo = e;
	prot[nprot].hi = e + 8;
	nprot++;
	unsigned save_locked = locked;
	locked |= RB(EBX) | RB(EBP);
	in_scope++;
	scope++;
	gen_body(1 + (int)rn(2));
	scope--;
	in_scope--;
	locked = save_locked;
	nprot--;
	ib();
	e1(0xcb); /* retf */
	set_esp(esp_v() + 8);
	put4(over_at, (uint32_t)(pos - over_end));
	return true;
}


/* ---- self-modifying code: stores into the code page (the CPU handles
 * them: a store to an instruction ahead takes effect before it runs) */
static bool u_smc(void)
{
	if (in_scope)
		return false;
	switch (rn(3)) {
	case 0: { /* into code that already ran (top level: never runs again) */
		if (pos < 8)
			return false;
		int w = rw();
		uint32_t a = FZ_CODE + rn(pos - 4);
		struct ins in;
		ins_init(&in, w);
		op1(&in, w == 1 ? 0xc6 : 0xc7);
		in.modrm = true;
		memset(&in.o, 0, sizeof(in.o));
		in.o.m.base = in.o.m.index = -1;
		in.o.m.disp = (int32_t)a;
		in.o.m.dsz = 4;
		in.immsz = w;
		in.imm = rimm(w);
		emit(&in);
		return true;
	}
	case 1: { /* patch the immediate of the next mov r, imm32 */
		int d = pick_dst(4);
		if (d < 0)
			return false;
		uint32_t v = rval();
		ib();
		e1(0xc7); /* mov dword [abs], v: 10 bytes */
		e1(0x05);
		e4(FZ_CODE + pos + 8 + 1);
		e4(v);
		ib();
		e1((uint8_t)(0xb8 + d));
		e4(rval()); /* never executed as written */
		set_exact(d, (int32_t)v);
		return true;
	}
	default: { /* turn the next nop into inc r */
		int d = pick_dst(4);
		if (d < 0)
			return false;
		ib();
		e1(0xc6); /* mov byte [abs], 0x40+d: 7 bytes */
		e1(0x05);
		e4(FZ_CODE + pos + 5); /* the nop: after this disp32 and the imm8 */
		e1((uint8_t)(0x40 + d));
		ib();
		e1(0x90); /* runs as inc r */
		kill(d);
		S.taint &= CF;
		return true;
	}
	}
}

/* ---- faults */

static bool u_fault(void)
{
	if (priv_mode && pct(40)) {
		switch (rn(5)) {
		case 0: /* int n: a vector without an error code */
			ib();
			e1(0xcd);
			e1((uint8_t)(0x20 + rn(0xe0)));
			return true;
		case 1: /* QEMU 7.2 raises #UD for int1 (icebp): the CPU mode has it */
		case 2: { /* a selector past the GDT limit: #GP(sel) */
			int d = load_imm(0x40 + (rn(8) << 3));
			if (d < 0)
				return false;
			ib();
			e1(0x8e);
			e1((uint8_t)(0xc0 | (pct(50) ? 4 : 3) << 3 | d));
			return true;
		}
		case 3: { /* a null or code selector into SS: #GP */
			int d = load_imm(pct(50) ? 0 : 0x08);
			if (d < 0)
				return false;
			ib();
			e1(0x8e);
			e1((uint8_t)(0xd0 | d));
			return true;
		}
		default: /* #UD: lock on a non-memory instruction */
			ib();
			e1(0xf0);
			e1(0x90);
			return true;
		}
	}
	switch (rn(10)) {
	case 0: ib(); e1(0x0f); e1(0x0b); return true;            /* ud2 */
	case 1: { /* lock on a register form: #UD */
		int d = pick_dst(4);
		if (d < 0)
			return false;
		ib();
		e1(0xf0);
		e1(0x01);
		e1((uint8_t)(0xc0 | rn(8) << 3 | d));
		return true;
	}
	case 2: ib(); e1(pct(70) || priv_mode || skip_int1 ? 0xcc : 0xf1); return true; /* int3, int1 */
	case 3: ib(); e1(0xcd); e1(0x03); return true;             /* int 3 */
	case 4: /* into, after making OF likely set */
		if (writable(EAX) && pct(60)) {
			ib();
			e1(0xb0);
			e1(0x7f);
			ib();
			e1(0x04); /* add al, 1: OF=1 */
			e1(0x01);
			S.taint = 0;
			kill(EAX);
		}
		fix_flags(OF);
		ib();
		e1(0xce);
		return true;
	case 5: { /* bound r32, m32&32 */
		int r = (int)rn(8);
		struct opnd o;
		gen_mem(&o, 8, true, 0);
		if (S.kn[r].k && pct(60)) {
			int64_t v = S.kn[r].lo;
			int64_t lo = v - rn(100), hi = S.kn[r].hi + rn(100);
			if (pct(40))
				lo = v + 1 + rn(50);
			struct ins in;
			ins_init(&in, 4);
			op1(&in, 0xc7);
			in.modrm = true;
			in.o = o;
			in.immsz = 4;
			in.imm = (uint32_t)lo;
			emit(&in);
			o.m.disp += 4;
			if (o.m.dsz == 1 && (o.m.disp > 127))
				o.m.dsz = 4;
			if (o.m.dsz == 0)
				o.m.dsz = 1;
			in.o = o;
			in.imm = (uint32_t)hi;
			emit(&in);
			o.m.disp -= 4;
		}
		struct ins in;
		ins_init(&in, 4);
		op1(&in, 0x62);
		in.modrm = true;
		in.o = o;
		in.rf = r;
		emit(&in);
		return true;
	}
	case 6: { /* div by zero */
		static const int c[3] = { ECX, ESI, EDI };
		int r = c[rn(3)];
		if (!writable(r) || !writable(EAX) || !writable(EDX))
			return false;
		ib();
		e1(0x31);
		e1((uint8_t)(0xc0 | r << 3 | r));
		S.taint = AF;
		ib();
		e1(0xf7);
		e1((uint8_t)(0xf0 | (pct(50) ? 0 : 8) | r));
		kill(r);
		kill(EAX);
		kill(EDX);
		return true;
	}
	case 7: /* aam 0 */
		if (!writable(EAX))
			return false;
		ib();
		e1(0xd4);
		e1(0x00);
		return true;
	case 8: /* an unarranged div */
		return gen_div(false);
	default: /* mov to CS: #UD */
		ib();
		e1(0x8e);
		e1((uint8_t)(0xc8 | rn(8)));
		return true;
	}
}

/* ---- selection */

struct unit {
	const char *name;
	bool (*fn)(void);
	int weight;   /* normal mode */
	int pweight;  /* privileged mode */
};
static struct unit units[] = {
	{ "alu", u_alu, 16, 16 }, { "test", u_test, 3, 3 }, { "unary", u_unary, 4, 4 },
	{ "shift", u_shift, 7, 7 }, { "shld", u_shld, 2, 2 }, { "mul", u_mul, 4, 4 },
	{ "div", u_div, 3, 3 }, { "bitop", u_bitop, 5, 5 }, { "bsf", u_bsf, 2, 2 },
	{ "bswap", u_bswap, 1, 1 }, { "setcc", u_setcc, 2, 2 }, { "cmov", u_cmov, 3, 3 },
	{ "xchg", u_xchg, 4, 4 },
	/* QEMU's cmpxchg8b clobbers CF PF AF SF OF when the compare fails:
	 * QEMU is not a reference for it */
	{ "cmpxchg8b", u_cmpxchg8b, 1, 0 },
	{ "flagop", u_flagop, 3, 3 }, { "string", u_string, 5, 5 }, { "mov", u_mov, 10, 10 },
	{ "lea", u_lea, 3, 3 }, { "nop", u_nop, 1, 1 }, { "xlat", u_xlat, 1, 1 },
	{ "bcd", u_bcd, 2, 2 }, { "setptr", u_setptr, 2, 2 }, { "push", u_push, 6, 6 },
	{ "pusha", u_pusha, 1, 1 }, { "pushf", u_pushf, 2, 1 }, { "enter", u_enter_leave, 2, 2 },
	{ "espblock", u_espblock, 2, 2 }, { "stackswitch", u_stackswitch, 2, 2 },
	{ "branch", u_branch, 7, 7 }, { "loop", u_loop, 2, 2 }, { "call", u_call, 2, 2 },
	/* the privileged mode only */
	{ "pseg", u_pseg, 0, 6 }, { "pflags", u_pflags, 0, 4 }, { "pcr", u_pcr, 0, 3 },
	{ "pdesc", u_pdesc, 0, 4 }, { "pio", u_pio, 0, 3 }, { "piret", u_piret, 0, 2 },
	{ "pfar", u_pfar, 0, 3 },
	{ "smc", u_smc, 1, 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))
static bool no_faults;
static int cut = -1;      /* --cut K: only the first K units */
static uint8_t user_code[FZ_MAX_CODE]; /* --code HEX */
static int user_len = -1;
static uint8_t user_undef;  /* --undef: flags undefined after hand-written bytes */

static bool gen_unit(void)
{
	int total = 0;
	for (unsigned i = 0; i < NUNITS; i++)
		total += priv_mode ? units[i].pweight : units[i].weight;
	if (!total)
		die("every unit is skipped");
	int x = (int)rn((uint32_t)total);
	for (unsigned i = 0; i < NUNITS; i++) {
		int w = priv_mode ? units[i].pweight : units[i].weight;
		if (x < w) {
			/* pointers lost: re-establish them now and then */
			if (!ebx_base() && pct(20) && writable(EBX))
				return u_setptr();
			return units[i].fn();
		}
		x -= w;
	}
	return false;
}

/* ---------------------------------------------------------------- a case */

static size_t gen_case(uint32_t seed, int len, uint8_t *out, size_t room)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + (uint64_t)len * 0xbf58476d1ce4e5b9ull + (priv_mode ? 77 : 0);
	s ^= s >> 31;
	rs = s ? s : 1;
	for (int i = 0; i < 4; i++)
		r64();

	memset(&S, 0, sizeof(S));
	memset(undef_at, FZ_UNDEF_NOT_INSN, sizeof(undef_at));
	pos = 0;
	nfix = 0;
	nprot = 0;
	locked = 0;
	in_scope = 0;
	scope = 0;

	struct fz_case c;
	memset(&c, 0, sizeof(c));
	c.seed = seed;
	c.flags = priv_mode ? FZ_PACK_PRIV : 0;
	for (int r = 0; r < 8; r++) {
		uint32_t v = rval();
		if (r == EBX && pct(95))
			v = FZ_SCRATCH;
		if (r == EBP && pct(85))
			v = FZ_SCRATCH + 0x80 + (rn(0xe80) & ~(pct(80) ? 3u : 0u));
		if (r == ESP)
			v = FZ_SCRATCH + 0x800 + (rn(0x700) & ~(pct(90) ? 3u : 0u));
		c.regs[r] = v;
		set_exact(r, (int32_t)v);
	}
	c.eflags = 2 | (rn(0x10000) & 0x8d5) | (pct(20) ? 0x400 : 0);
	S.sbase[0] = S.sbase[1] = 0; /* FS = GS = 0x10 */
	S.df = (c.eflags >> 10) & 1;
	S.taint = 0;

	int fault_at = pct(10) ? (int)rn((uint32_t)len) : -1;
	if (no_faults)
		fault_at = -1;
	if (user_len >= 0) {
		/* hand-written bytes: the flags --undef names are undefined
		 * everywhere, the others defined */
		len = 0;
		memcpy(code, user_code, (size_t)user_len);
		pos = (unsigned)user_len;
		memset(undef_at, user_undef, pos + 1);
		S.taint = user_undef;
	}
	for (int u = 0; u < len && u != cut && pos < CODE_LIMIT; u++) {
		pre_unit();
		if (u == fault_at) {
			int tries = 0;
			while (!u_fault() && ++tries < 20)
				;
		} else {
			int tries = 0;
			while (!gen_unit())
				if (++tries > 100)
					die("no unit fits");
		}
		post_unit();
	}
	resolve_scope();
	if (nfix)
		die("unresolved branches");
	undef_at[pos] = S.taint;

	c.code_len = pos;
	size_t need = sizeof(c) + pos + pos + 1;
	need = (need + 3) & ~(size_t)3;
	c.size = (uint32_t)need;
	if (need > room) {
		fprintf(stderr, "fuzzgen: pack too large\n");
		exit(2);
	}
	memset(out, 0, need);
	memcpy(out, &c, sizeof(c));
	memcpy(out + sizeof(c), code, pos);
	memcpy(out + sizeof(c) + pos, undef_at, pos + 1);
	return need;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fuzzgen --seed S [--count K] [--len N] [--priv] [--skip LIST] --out PACK\n"
		"       fuzzgen --seed S [--len N] [--priv] [--skip LIST] --raw FILE\n"
		"       fuzzgen --list\n"
		"--cut K: the same sequence cut after its first K units (to find a culprit)\n"
		"--code HEX: these bytes instead of generated ones (registers still from the seed);\n"
		"  --undef CF,OF...: the flags to mask as undefined in such a case (default none)\n"
		"--skip NAME,NAME...: leave these unit families or features out (--list);\n"
		"  fault: the deliberate faults; hi8esp: AH..BH next to ESP; op82: opcode 0x82;\n"
		"  lea16: lea with 16-bit addressing; iopl: IOPL bits in popfd/iret images\n"
		"  (privileged mode); segbase: operands through FS/GS (privileged mode);\n"
		"  int1: icebp among the deliberate faults.\n"
		"  The same seed then gives another sequence.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t seed = 1, count = 1;
	int len = 32;
	const char *out = NULL, *raw = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--priv")) {
			priv_mode = true;
			continue;
		}
		if (!strcmp(a, "--list")) {
			for (unsigned u = 0; u < NUNITS; u++)
				printf("%s\n", units[u].name);
			printf("fault\nhi8esp\nop82\nlea16\niopl\nsegbase\nint1\n");
			return 0;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed"))
			seed = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--count"))
			count = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--len"))
			len = atoi(v);
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--raw"))
			raw = v;
		else if (!strcmp(a, "--cut"))
			cut = atoi(v);
		else if (!strcmp(a, "--undef")) {
			static const char *const fl[6] = { "CF", "PF", "AF", "ZF", "SF", "OF" };
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", v);
			for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
				int k = 0;
				while (k < 6 && strcasecmp(tok, fl[k]))
					k++;
				if (k == 6) {
					fprintf(stderr, "fuzzgen: --undef: '%s' is not one of CF PF AF ZF SF OF\n", tok);
					return 2;
				}
				user_undef |= (uint8_t)(1u << k);
			}
		}
		else if (!strcmp(a, "--code")) {
			user_len = 0;
			for (const char *h = v; *h;) {
				if (*h == ' ' || *h == ',') {
					h++;
					continue;
				}
				unsigned b;
				if (sscanf(h, "%2x", &b) != 1 || !h[1] || user_len == FZ_MAX_CODE) {
					fprintf(stderr, "fuzzgen: --code: bad hex at '%s'\n", h);
					return 2;
				}
				user_code[user_len++] = (uint8_t)b;
				h += 2;
			}
		}
		else if (!strcmp(a, "--skip")) {
			char buf[512];
			snprintf(buf, sizeof(buf), "%s", v);
			for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
				bool found = true;
				if (!strcmp(tok, "fault"))
					no_faults = true;
				else if (!strcmp(tok, "hi8esp"))
					skip_hi8esp = true;
				else if (!strcmp(tok, "op82"))
					skip_op82 = true;
				else if (!strcmp(tok, "lea16"))
					skip_lea16 = true;
				else if (!strcmp(tok, "iopl"))
					skip_iopl = true;
				else if (!strcmp(tok, "segbase"))
					skip_segbase = true;
				else if (!strcmp(tok, "int1"))
					skip_int1 = true;
				else
					found = false;
				for (unsigned u = 0; u < NUNITS; u++)
					if (!strcmp(tok, units[u].name)) {
						units[u].weight = units[u].pweight = 0;
						found = true;
					}
				if (!found) {
					fprintf(stderr, "fuzzgen: --skip: no unit family '%s' (see --list)\n", tok);
					return 2;
				}
			}
		}
		else
			usage();
	}
	if ((!out) == (!raw) || len < 1 || len > 400 || count < 1)
		usage();
	static uint8_t pack[FZ_PACK_MAX];
	size_t n = sizeof(struct fz_pack);
	uint32_t ncases = raw ? 1 : count;
	for (uint32_t k = 0; k < ncases; k++)
		n += gen_case(seed + k, len, pack + n, sizeof(pack) - n);
	FILE *f = fopen(raw ? raw : out, "wb");
	if (!f) {
		fprintf(stderr, "fuzzgen: %s: %s\n", raw ? raw : out, strerror(errno));
		return 2;
	}
	if (raw) {
		const struct fz_case *c = (const void *)(pack + sizeof(struct fz_pack));
		fwrite(fz_case_code(c), 1, c->code_len, f);
	} else {
		struct fz_pack ph = { FZ_PACK_MAGIC, count, (uint32_t)n, priv_mode ? FZ_PACK_PRIV : 0 };
		memcpy(pack, &ph, sizeof(ph));
		fwrite(pack, 1, n, f);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "fuzzgen: %s: write error\n", raw ? raw : out);
		return 2;
	}
	return 0;
}
