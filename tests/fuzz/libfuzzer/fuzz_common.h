/* What every libFuzzer harness here shares: reading the input as a stream
 * of small integers, one bus access with its width checked, the clock as
 * the run loop moves it, and an assertion that libFuzzer reports as a
 * crash (abort) with a line saying which invariant broke.
 *
 * A device harness decodes the input as operations (fz_op):
 *   byte 0: bits 0-1 kind   0 read, 1 write, 2 advance the clock, 3 special
 *           bits 2-3 width  index into the harness's widths (1, 2, 4; 8 MMIO)
 *           bits 4-7 where  index into the harness's table of ports or
 *                           register offsets (the last entry may take the
 *                           address from the next two bytes)
 *   then, for a write, the value's bytes (little-endian, `width` of them);
 *   for the clock, one byte (fz_delta; some harnesses use the byte itself
 *   as a count or a vector); for a special, one byte the
 *   harness interprets (raise a line, push input, reset, INTA ...).
 * Running out of input ends the sequence (missing bytes read as 0). */
#ifndef BTVM_FUZZ_COMMON_H
#define BTVM_FUZZ_COMMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/io_bus.h"
#include "devices/timer_queue.h"

#define FZ_ASSERT(cond, ...)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__, \
				__LINE__, #cond);                                         \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* FUZZ_TRACE=1 in the environment: every access, clock step and special
 * op goes to stderr as it happens, which is what a unit test replaying a
 * crash needs (README: "From a crash to a unit test"). */
static inline bool fz_trace(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FUZZ_TRACE") != NULL;
	return on;
}

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_more(const struct fz_in *in)
{
	return in->n > 0;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_uN(struct fz_in *in, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)fz_u8(in) << (8 * i);
	return v;
}

/* One access through the bus, as the run loop makes it: the bytes past
 * the access width are a canary that no handler may touch (a register
 * wider than the access, or a handler that ignores len). */
static inline uint64_t fz_access(struct io_bus *bus, uint64_t addr, unsigned len, bool is_write,
				 uint64_t v)
{
	uint8_t d[16];
	memset(d, 0xA5, sizeof(d));
	if (is_write)
		for (unsigned i = 0; i < len; i++)
			d[i] = (uint8_t)(v >> (8 * i));
	io_bus_access(bus, addr, d, len, is_write);
	for (unsigned i = len; i < sizeof(d); i++)
		FZ_ASSERT(d[i] == 0xA5, "%s access at %#llx, width %u, wrote byte %u", is_write ? "write" : "read",
			  (unsigned long long)addr, len, i);
	uint64_t r = 0;
	for (unsigned i = 0; i < len; i++)
		r |= (uint64_t)d[i] << (8 * i);
	if (fz_trace())
		fprintf(stderr, "fuzz: %s %#llx width %u %s %#llx\n", is_write ? "write" : "read ",
			(unsigned long long)addr, len, is_write ? "<-" : "->", (unsigned long long)r);
	return r;
}

/* A clock step from one byte: below 0x80 up to ~12 us in 97 ns steps
 * (inside one PIT or APIC period), above that a power of two up to
 * ~137 s (whole periods, second boundaries, counter wraps). */
static inline uint64_t fz_delta(uint8_t b)
{
	return b < 0x80 ? (uint64_t)b * 97 : 1ull << (b % 38);
}

/* Moves the manual clock as the run loop does: expired timers fire at
 * their own deadlines for a while (as with a punctual host timer), then,
 * if time is still behind, once at the target (a late host: devices must
 * drop lost periods, not loop over them).  A callback that re-arms at or
 * before `now` makes timerq_run loop for ever: libFuzzer's -timeout
 * reports it. */
static inline void fz_advance(struct timer_queue *q, uint64_t delta)
{
	uint64_t target = q->manual_now + delta;
	if (fz_trace())
		fprintf(stderr, "fuzz: clock +%llu ns\n", (unsigned long long)delta);
	for (int i = 0; i < 64; i++) {
		uint64_t d = timerq_next_deadline(q);
		if (d > target)
			break;
		if (d > q->manual_now)
			q->manual_now = d;
		timerq_run(q, q->manual_now);
	}
	q->manual_now = target;
	timerq_run(q, target);
	FZ_ASSERT(timerq_next_deadline(q) > target, "a timer armed at or before now survived timerq_run");
}

/* One decoded operation. */
enum fz_kind { FZ_READ, FZ_WRITE, FZ_CLOCK, FZ_SPECIAL };
struct fz_op {
	enum fz_kind kind;
	unsigned width;      /* bytes */
	unsigned where;      /* 0..15: the harness's table index */
	uint64_t value;      /* write: the value; clock: ns; special: the byte */
	uint8_t raw;         /* clock, special: the byte as read */
};

static inline bool fz_op(struct fz_in *in, const unsigned widths[4], struct fz_op *op)
{
	if (!fz_more(in))
		return false;
	uint8_t b = fz_u8(in);
	op->kind = (enum fz_kind)(b & 3);
	op->width = widths[(b >> 2) & 3];
	op->where = b >> 4;
	op->value = 0;
	op->raw = 0;
	switch (op->kind) {
	case FZ_WRITE:
		op->value = fz_uN(in, op->width);
		break;
	case FZ_CLOCK:
		op->raw = fz_u8(in);
		op->value = fz_delta(op->raw);
		break;
	case FZ_SPECIAL:
		op->raw = fz_u8(in);
		op->value = op->raw;
		if (fz_trace())
			fprintf(stderr, "fuzz: special %#x (the target's own op)\n", op->raw);
		break;
	case FZ_READ:
		break;
	}
	return true;
}

/* An interrupt line recorder: the level each line was last driven to. */
struct fz_irqs {
	int level[32];
	unsigned sets[32];
};

static inline void fz_irq_set(void *opaque, int irq, int level)
{
	struct fz_irqs *r = opaque;
	FZ_ASSERT(irq >= 0 && irq < 32, "irq %d", irq);
	FZ_ASSERT(level == 0 || level == 1, "irq %d driven to level %d", irq, level);
	r->level[irq] = level;
	r->sets[irq]++;
}

#endif
