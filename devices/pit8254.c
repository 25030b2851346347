/* Intel 8254 PIT.  Mode descriptions refer to the Intel 82C54 CHMOS
 * Programmable Interval Timer datasheet (order 231244), "Modes" and
 * "Read-Back Command". */
#include "devices/pit8254.h"
#include <stddef.h>

#define NS_PER_SEC 1000000000ull

/* tick = floor(ns * PIT_HZ / 1e9): the last PIT clock edge at or before ns. */
static uint64_t ns_to_tick(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / NS_PER_SEC);
}

/* The first ns at which ns_to_tick() reaches tick. */
static uint64_t tick_to_ns(uint64_t tick)
{
	unsigned __int128 ns = ((unsigned __int128)tick * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ;
	return ns >= VTIME_NEVER ? VTIME_NEVER : (uint64_t)ns;
}

static uint64_t now_tick(struct pit8254 *p)
{
	return ns_to_tick(timerq_now(p->tq));
}

static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* BCD counting: the count is kept as a number, converted at the ports.
 * Invalid BCD digits (A-F) are taken at face value, then reduced mod 10^4. */
static uint32_t from_raw(const struct pit_channel *c, uint16_t raw)
{
	uint32_t v = raw;
	if (c->bcd)
		v = ((raw >> 12) & 15) * 1000u + ((raw >> 8) & 15) * 100u +
		    ((raw >> 4) & 15) * 10u + (raw & 15u);
	v %= modulus(c);
	return v ? v : modulus(c);  /* an initial count of 0 is 2^16 or 10^4 */
}

static uint16_t to_raw(const struct pit_channel *c, uint32_t v)
{
	if (!c->bcd)
		return (uint16_t)v;
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* CR -> CE transfer at tick `at` (the CLK pulse after the write or the
 * gate trigger: "the initial count will be loaded on the next CLK pulse").
 * A count of 1 is illegal in mode 2 and useless in mode 3: run it as 2. */
static void load(struct pit_channel *c, uint64_t at)
{
	c->n = c->cr;
	if ((c->mode == 2 || c->mode == 3) && c->n < 2)
		c->n = 2;
	c->start = at;
	c->running = true;
	c->paused = false;
	c->reload_pending = false;
	c->null_until = at;
}

/* Apply a deferred mode 2/3 reload whose time has come. */
static void sync(struct pit_channel *c, uint64_t t)
{
	if (c->reload_pending && t >= c->reload_at)
		load(c, c->reload_at);
}

/* CLK pulses counted since the CE was loaded. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t t)
{
	if (c->paused)
		return c->frozen;
	return t > c->start ? t - c->start : 0;
}

static bool out_level(const struct pit_channel *c, uint64_t t)
{
	if (!c->running)  /* after the control word: low in mode 0, else high */
		return c->mode != 0;
	uint64_t e = elapsed(c, t);
	switch (c->mode) {
	case 0: /* interrupt on terminal count: high from count 0 on */
	case 1: /* one-shot: low from trigger to terminal count */
		return e >= c->n;
	case 2: /* rate generator: low for the one CLK where count is 1 */
		return c->paused || e % c->n != c->n - 1;
	case 3: /* square wave: high (n+1)/2 CLKs, low n/2 CLKs */
		return c->paused || e % c->n < (c->n + 1) / 2;
	default: /* 4, 5: strobe: low for the one CLK at count 0 */
		return e != c->n;
	}
}

/* The CE value (0 .. modulus-1; a loaded 65536 reads 0). */
static uint32_t count_value(const struct pit_channel *c, uint64_t t)
{
	uint32_t m = modulus(c);
	if (!c->running)  /* not loaded yet: show CR (real chips: undefined) */
		return c->has_cr ? c->cr % m : 0;
	uint64_t e = elapsed(c, t), r;
	switch (c->mode) {
	case 2:
		return (uint32_t)((c->n - e % c->n) % m);
	case 3:
		/* Decrements by 2.  Even n: n, n-2 .. 2 in each half.  Odd n:
		 * n-1 .. 0 in the high half ((n+1)/2 CLKs), n-1 .. 2 in the low
		 * half ((n-1)/2 CLKs): "Mode 3, odd counts". */
		r = e % c->n;
		if (r >= (c->n + 1) / 2)
			r -= (c->n + 1) / 2;
		return (uint32_t)(((c->n & ~1u) - 2 * r) % m);
	default:
		/* 0, 1, 4, 5: decrements by 1 and wraps past 0. */
		return (uint32_t)((c->n + m - e % m) % m);
	}
}

static uint8_t status_byte(const struct pit_channel *c, uint64_t t)
{
	return (uint8_t)(out_level(c, t) << 7 | (t < c->null_until) << 6 |
			 c->rw << 4 | c->mode_bits << 1 | c->bcd);
}

/* A second latch before the first is read is ignored ("Counter Latch
 * Command", "Read-Back Command"). */
static void latch_count(struct pit_channel *c, uint64_t t)
{
	if (!c->count_latched) {
		c->latch = to_raw(c, count_value(c, t));
		c->count_latched = true;
	}
}

static void latch_status(struct pit_channel *c, uint64_t t)
{
	if (!c->status_latched) {
		c->status = status_byte(c, t);
		c->status_latched = true;
	}
}

static void control_word(struct pit_channel *c, uint8_t cw)
{
	c->rw = (cw >> 4) & 3;
	c->mode_bits = (cw >> 1) & 7;
	c->mode = (c->mode_bits & 2) ? c->mode_bits & 3 : c->mode_bits;
	c->bcd = cw & 1;
	c->has_cr = false;
	c->running = false;
	c->paused = false;
	c->reload_pending = false;
	c->null_until = PIT_NEVER;
	c->write_msb = c->read_msb = false;
	c->count_latched = c->status_latched = false;
}

/* A complete count was written to CR at tick t. */
static void count_written(struct pit_channel *c, uint64_t t)
{
	c->has_cr = true;
	switch (c->mode) {
	case 0:
	case 4:
		/* Loaded on the next CLK; counting continues from the new
		 * count.  GATE low only suspends counting. */
		load(c, t + 1);
		if (!c->gate) {
			c->paused = true;
			c->frozen = 0;
		}
		break;
	case 2:
	case 3:
		if (!c->gate) {
			c->null_until = PIT_NEVER;  /* loaded at the gate's rise */
		} else if (!c->running) {
			load(c, t + 1);
		} else {
			/* "If a new count is written during counting, it will be
			 * loaded at the end of the current counting cycle."
			 * (For mode 3 the 8254 uses the half cycle; we use the
			 * full period, keeping the OUT phase simple.) */
			uint64_t e = elapsed(c, t);
			c->reload_pending = true;
			c->reload_at = c->start + (e / c->n + 1) * c->n;
			c->null_until = c->reload_at;
		}
		break;
	default:
		/* 1, 5: used at the next gate trigger. */
		c->null_until = PIT_NEVER;
		break;
	}
}

static void gate_changed(struct pit_channel *c, bool g, uint64_t t)
{
	if (g == c->gate)
		return;
	c->gate = g;
	switch (c->mode) {
	case 0:
	case 4: /* GATE low suspends counting; high resumes it */
		if (!c->running)
			break;
		if (!g) {
			c->frozen = elapsed(c, t);
			c->paused = true;
		} else {
			c->start = t - c->frozen;
			c->paused = false;
		}
		break;
	case 2:
	case 3: /* low: stop, OUT high at once; rising: reload and restart */
		if (!g) {
			if (c->running) {
				c->frozen = elapsed(c, t);
				c->paused = true;
			}
			if (c->reload_pending) {
				c->reload_pending = false;
				c->null_until = PIT_NEVER;
			}
		} else if (c->has_cr) {
			load(c, t + 1);
		}
		break;
	default: /* 1, 5: the rising edge triggers (and retriggers) */
		if (g && c->has_cr)
			load(c, t + 1);
		break;
	}
}

/* The first tick after t at which channel 0 changes irq0: OUT rising in
 * modes 0 and 1, the rising edge after the low CLK in modes 2-5. */
static uint64_t next_event(const struct pit_channel *c, uint64_t t)
{
	if (!c->running || c->paused)
		return PIT_NEVER;
	uint64_t e = t > c->start ? t - c->start : 0, at;
	switch (c->mode) {
	case 2:
	case 3:
		return c->start + (e / c->n + 1) * c->n;
	case 0:
	case 1:
		at = c->start + c->n;
		break;
	default:
		at = c->start + c->n + 1;
		break;
	}
	return at > t ? at : PIT_NEVER;
}

static void drive(struct pit8254 *p, int level)
{
	if (level != p->irq_level) {
		p->irq_level = level;
		irq_set(&p->irq0, level);
	}
}

/* Bring irq0 up to date at tick t and arm the vtimer for the next event.
 * At most one pulse per call: ticks the host missed are dropped. */
static void service(struct pit8254 *p, uint64_t t)
{
	struct pit_channel *c = &p->ch[0];
	sync(c, t);
	if (c->mode <= 1) {
		drive(p, out_level(c, t));
	} else {
		drive(p, 0);
		if (p->next_edge <= t) {
			irq_set(&p->irq0, 1);
			irq_set(&p->irq0, 0);
		}
	}
	p->next_edge = next_event(c, t);
	if (p->next_edge == PIT_NEVER)
		vtimer_cancel(p->tq, &p->timer);
	else
		vtimer_arm(p->tq, &p->timer, tick_to_ns(p->next_edge));
}

static void timer_cb(void *opaque, uint64_t now)
{
	service(opaque, ns_to_tick(now));
}

static uint8_t read_counter(struct pit_channel *c, uint64_t t)
{
	if (c->status_latched) {  /* status first, then a latched count */
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->count_latched ? c->latch : to_raw(c, count_value(c, t));
	bool msb = c->rw == 2 || (c->rw == 3 && c->read_msb);
	if (c->rw == 3)
		c->read_msb = !c->read_msb;
	if (c->rw != 3 || msb)
		c->count_latched = false;  /* the latch is held until read */
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void write_counter(struct pit_channel *c, uint8_t v, uint64_t t)
{
	uint16_t raw;
	if (c->rw == 1) {
		raw = v;
	} else if (c->rw == 2) {
		raw = (uint16_t)(v << 8);
	} else if (!c->write_msb) {
		/* Not modelled: in mode 0 the first byte of a two-byte count
		 * also stops counting until the second arrives. */
		c->write_lsb = v;
		c->write_msb = true;
		return;
	} else {
		raw = (uint16_t)(c->write_lsb | v << 8);
		c->write_msb = false;
	}
	c->cr = from_raw(c, raw);
	count_written(c, t);
}

static void write_control(struct pit8254 *p, uint8_t cw, uint64_t t)
{
	unsigned sc = cw >> 6;
	if (sc == 3) {  /* read-back: 11 /COUNT /STATUS CNT2 CNT1 CNT0 0 */
		for (unsigned i = 0; i < 3; i++) {
			if (!(cw & (2u << i)))
				continue;
			if (!(cw & 0x20))
				latch_count(&p->ch[i], t);
			if (!(cw & 0x10))
				latch_status(&p->ch[i], t);
		}
		return;
	}
	if (((cw >> 4) & 3) == 0)  /* counter latch command */
		latch_count(&p->ch[sc], t);
	else
		control_word(&p->ch[sc], cw);
}

/* A wider access becomes byte accesses at successive ports (ISA). */
static void pit_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct pit8254 *p = opaque;
	uint64_t t = now_tick(p);
	service(p, t);  /* deliver an edge that is already due first */
	for (unsigned i = 0; i < 3; i++)
		sync(&p->ch[i], t);
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = off + i;
		if (port < 3 && is_write)
			write_counter(&p->ch[port], data[i], t);
		else if (port < 3)
			data[i] = read_counter(&p->ch[port], t);
		else if (port == 3 && is_write)
			write_control(p, data[i], t);
		else if (!is_write)
			data[i] = 0xFF;  /* the control register is write-only */
	}
	if (is_write)
		service(p, t);
}

void pit_reset(struct pit8254 *p)
{
	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		bool gate = c->gate;
		*c = (struct pit_channel){ 0 };
		c->gate = gate;
		control_word(c, 0x30);  /* counter i, LSB then MSB, mode 0 */
		c->cr = 65536;
	}
	p->next_edge = PIT_NEVER;
	service(p, now_tick(p));
}

void pit_init(struct pit8254 *p, struct timer_queue *tq, struct irq_line irq0)
{
	*p = (struct pit8254){ 0 };
	p->tq = tq;
	p->irq0 = irq0;
	vtimer_init(&p->timer, timer_cb, p);
	p->ch[0].gate = p->ch[1].gate = true;
	pit_reset(p);
}

int pit_register(struct pit8254 *p, struct io_bus *pio)
{
	return io_bus_register(pio, PIT_PORT, 4, pit_io, p, "pit");
}

void pit_set_gate(struct pit8254 *p, int channel, bool gate)
{
	if (channel < 0 || channel > 2)
		return;
	uint64_t t = now_tick(p);
	service(p, t);
	sync(&p->ch[channel], t);
	gate_changed(&p->ch[channel], gate, t);
	service(p, t);
}

bool pit_get_gate(const struct pit8254 *p, int channel)
{
	return channel >= 0 && channel <= 2 && p->ch[channel].gate;
}

bool pit_get_out(struct pit8254 *p, int channel)
{
	if (channel < 0 || channel > 2)
		return false;
	uint64_t t = now_tick(p);
	sync(&p->ch[channel], t);
	return out_level(&p->ch[channel], t);
}
