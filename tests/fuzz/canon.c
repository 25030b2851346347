/* The canonical result text, shared by the native runner and the guest
 * (freestanding: no libc). */
#include "fuzz.h"

uint32_t fz_undef_eflags(uint32_t f)
{
	uint32_t e = 0;
	if (f & FZ_F_CF) e |= 1u << 0;
	if (f & FZ_F_PF) e |= 1u << 2;
	if (f & FZ_F_AF) e |= 1u << 4;
	if (f & FZ_F_ZF) e |= 1u << 6;
	if (f & FZ_F_SF) e |= 1u << 7;
	if (f & FZ_F_OF) e |= 1u << 11;
	return e;
}

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

void fz_scratch_init(uint32_t seed, uint8_t *buf)
{
	uint32_t k = mix32(seed ^ 0x5eed5eedu);
	/* Mostly random bytes, with runs of small values and zeros so that
	 * loads feed interesting operands (zero divisors, small shift counts). */
	for (uint32_t i = 0; i < FZ_SCRATCH_SIZE / 4; i++) {
		uint32_t v = mix32(k + i * 0x9e3779b9u);
		switch (mix32(k ^ (i >> 4)) & 7) {
		case 0: v &= 0x0f0f0f0fu; break;
		case 1: v = (v & 1) ? 0 : 0xffffffffu; break;
		default: break;
		}
		buf[4 * i + 0] = (uint8_t)v;
		buf[4 * i + 1] = (uint8_t)(v >> 8);
		buf[4 * i + 2] = (uint8_t)(v >> 16);
		buf[4 * i + 3] = (uint8_t)(v >> 24);
	}
}

/* ---- tiny formatting ---- */

struct out {
	char buf[160];
	unsigned n;
	fz_put_fn put;
	void *ctx;
};

static void flush(struct out *o)
{
	o->buf[o->n] = 0;
	o->put(o->buf, o->ctx);
	o->n = 0;
}
static void s(struct out *o, const char *str)
{
	while (*str) {
		if (o->n >= sizeof(o->buf) - 1)
			flush(o);
		o->buf[o->n++] = *str++;
	}
}
static void hex(struct out *o, uint32_t v, int digits)
{
	char t[9];
	for (int i = digits - 1; i >= 0; i--) {
		t[i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
	t[digits] = 0;
	s(o, t);
}
static void dec(struct out *o, uint32_t v)
{
	char t[11];
	int i = 10;
	t[i] = 0;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	s(o, t + i);
}

static void flag(struct out *o, const char *name, uint32_t eflags, uint32_t bit, uint32_t undef)
{
	s(o, " ");
	s(o, name);
	s(o, (undef & bit) ? "=?" : (eflags & bit) ? "=1" : "=0");
}

void fz_canon(const struct fz_case *c, const struct fz_result *r, uint8_t *scratch, uint8_t *init,
	      fz_put_fn put, void *ctx)
{
	static const char *const names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	struct out o;
	o.n = 0;
	o.put = put;
	o.ctx = ctx;
	int priv = (c->flags & FZ_PACK_PRIV) != 0;

	s(&o, "case ");
	dec(&o, c->seed);
	s(&o, "\n");
	for (int i = 0; i < 8; i++) {
		s(&o, i == 0 || i == 4 ? "" : " ");
		s(&o, names[i]);
		s(&o, "=");
		hex(&o, r->regs[i], 8);
		if (i == 3 || i == 7)
			s(&o, "\n");
	}

	/* undefined flags: at the end, or at the faulting instruction */
	uint32_t fset = fz_case_undef(c)[c->code_len];
	if (r->faulted) {
		uint32_t off = r->fault_eip - FZ_CODE;
		fset = off <= c->code_len ? fz_case_undef(c)[off] : FZ_F_ALL;
		if (fset & FZ_UNDEF_NOT_INSN)
			fset = FZ_F_ALL;
	}
	uint32_t u = fz_undef_eflags(fset);
	uint32_t ef = r->eflags;
	s(&o, "flags");
	flag(&o, "CF", ef, 1u << 0, u);
	flag(&o, "PF", ef, 1u << 2, u);
	flag(&o, "AF", ef, 1u << 4, u);
	flag(&o, "ZF", ef, 1u << 6, u);
	flag(&o, "SF", ef, 1u << 7, u);
	flag(&o, "OF", ef, 1u << 11, u);
	flag(&o, "DF", ef, 1u << 10, u);
	if (priv) {
		flag(&o, "IF", ef, 1u << 9, u);
		s(&o, " IOPL=");
		dec(&o, (ef >> 12) & 3);
		flag(&o, "AC", ef, 1u << 18, u);
		flag(&o, "ID", ef, 1u << 21, u);
	}
	s(&o, "\n");

	if (r->faulted) {
		s(&o, "fault vector ");
		dec(&o, r->vector);
		uint32_t off = r->fault_eip - FZ_CODE;
		if (off <= c->code_len) {
			s(&o, " at +0x");
			hex(&o, off, 4);
		} else {
			s(&o, " at eip 0x");
			hex(&o, r->fault_eip, 8);
		}
		uint32_t v = r->vector;
		if (priv && (v == 8 || (v >= 10 && v <= 14) || v == 17)) {
			s(&o, " error 0x");
			hex(&o, r->error, 4);
		}
		s(&o, "\n");
	} else {
		s(&o, "fault none\n");
	}
	if (priv) {
		s(&o, "fs=");
		hex(&o, r->fs & 0xffff, 4);
		s(&o, " gs=");
		hex(&o, r->gs & 0xffff, 4);
		s(&o, " cr0=");
		hex(&o, r->cr0, 8);
		s(&o, "\n");
	}

	/* memory: the 16-byte lines that differ from the initial contents,
	 * and a hash of the whole area */
	fz_scratch_init(c->seed, init);
	if (r->faulted) {
		uint32_t esp = r->regs[4];
		for (uint32_t a = esp - 16; a != esp; a++)
			if (a - FZ_SCRATCH < FZ_SCRATCH_SIZE)
				scratch[a - FZ_SCRATCH] = init[a - FZ_SCRATCH];
	}
	uint32_t h = 2166136261u;
	unsigned changed = 0;
	for (unsigned line = 0; line < FZ_SCRATCH_SIZE; line += 16) {
		int diff = 0;
		for (unsigned i = 0; i < 16; i++) {
			h = (h ^ scratch[line + i]) * 16777619u;
			if (scratch[line + i] != init[line + i])
				diff = 1;
		}
		if (!diff)
			continue;
		changed++;
		s(&o, "mem +");
		hex(&o, line, 3);
		s(&o, ":");
		for (unsigned i = 0; i < 16; i++) {
			s(&o, " ");
			hex(&o, scratch[line + i], 2);
		}
		s(&o, "\n");
	}
	s(&o, "mem hash ");
	hex(&o, h, 8);
	s(&o, " lines ");
	dec(&o, changed);
	s(&o, "\nend\n");
	flush(&o);
}
