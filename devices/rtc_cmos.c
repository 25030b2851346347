/* MC146818 RTC + CMOS RAM.  Time registers are recomputed from the clock on
 * every read (unless SET freezes them); guest writes move an offset.  The
 * 32.768 kHz divider chain is counted from mono_base, which is also a guest
 * second boundary, so periodic ticks, UIP and seconds stay in phase. */
#include "devices/rtc_cmos.h"
#include <string.h>
#include <time.h>

#define NS 1000000000ull
#define DIVIDER_HZ 32768u
#define UIP_NS 244000u  /* UIP rises 244 us before the update (MC146818) */

enum { SEC, SEC_ALARM, MIN, MIN_ALARM, HOUR, HOUR_ALARM, WDAY, MDAY, MONTH, YEAR,
       REG_A, REG_B, REG_C, REG_D, CENTURY = 0x32 };

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_SQWE 0x08
#define B_DM   0x04  /* 1 = binary, 0 = BCD */
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40  /* C's flags sit at the same bits as B's enables */
#define C_AF   0x20
#define C_UF   0x10
#define D_VRT  0x80

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (the well-known
 * era/day-of-era method: March-based years, 400-year eras). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* --- clock ------------------------------------------------------------ */

static uint64_t elapsed(const struct rtc_cmos *r)
{
	return timerq_now(r->tq) - r->mono_base;
}

static int64_t now_sec(const struct rtc_cmos *r)
{
	return r->base_sec + (int64_t)(elapsed(r) / NS);
}

static uint64_t divider_ticks(const struct rtc_cmos *r)
{
	uint64_t e = elapsed(r);
	return e / NS * DIVIDER_HZ + e % NS * DIVIDER_HZ / NS;
}

static uint64_t tick_deadline(const struct rtc_cmos *r, uint64_t tick)
{
	return r->mono_base + tick / DIVIDER_HZ * NS +
	       (tick % DIVIDER_HZ * NS + DIVIDER_HZ - 1) / DIVIDER_HZ;
}

/* Periodic rate in divider ticks: 32768 >> (rs - 1) Hz.  With a 32.768 kHz
 * time base rs 1 and 2 give 256 and 128 Hz, the rates of rs 8 and 9
 * (MC146818 periodic interrupt rate table); rs 0 is off. */
static unsigned period_ticks(const struct rtc_cmos *r)
{
	unsigned rs = r->cmos[REG_A] & 0x0f;
	if (rs == 0)
		return 0;
	if (rs <= 2)
		rs += 7;
	return 1u << (rs - 1);
}

static bool updating(const struct rtc_cmos *r)
{
	return !(r->cmos[REG_B] & B_SET);
}

/* --- register formats -------------------------------------------------- */

static uint8_t enc(const struct rtc_cmos *r, int64_t v)
{
	v = floor_mod(v, 100);
	if (r->cmos[REG_B] & B_DM)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static int64_t dec(const struct rtc_cmos *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_DM)
		return b;
	return (b >> 4) * 10 + (b & 0x0f);  /* garbage BCD just decodes big */
}

/* 12-hour mode: 1-12, bit 7 = PM. */
static uint8_t enc_hour(const struct rtc_cmos *r, int64_t h)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h);
	return enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int64_t dec_hour(const struct rtc_cmos *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, b);
	return dec(r, b & 0x7f) % 12 + (b & 0x80 ? 12 : 0);
}

static void latch_time(struct rtc_cmos *r, int64_t t)
{
	int64_t days = floor_div(t, 86400), tod = t - days * 86400, y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	r->cmos[SEC] = enc(r, tod % 60);
	r->cmos[MIN] = enc(r, tod / 60 % 60);
	r->cmos[HOUR] = enc_hour(r, tod / 3600);
	r->cmos[WDAY] = enc(r, floor_mod(days + 4, 7) + 1);  /* 1970-01-01: Thu; Sun = 1 */
	r->cmos[MDAY] = enc(r, d);
	r->cmos[MONTH] = enc(r, m);
	r->cmos[YEAR] = enc(r, y);
	r->cmos[CENTURY] = enc(r, floor_div(y, 100));
}

/* The registers as a time; the weekday is derived, not read. */
static int64_t regs_time(const struct rtc_cmos *r)
{
	const uint8_t *c = r->cmos;
	int64_t y = dec(r, c[CENTURY]) * 100 + dec(r, c[YEAR]);
	int64_t m = dec(r, c[MONTH]);
	if (m < 1 || m > 12)
		m = 1;
	return days_from_civil(y, m, dec(r, c[MDAY])) * 86400 +
	       dec_hour(r, c[HOUR]) * 3600 + dec(r, c[MIN]) * 60 + dec(r, c[SEC]);
}

/* The guest wrote the time: move the offset so the clock runs on from it. */
static void commit_time(struct rtc_cmos *r)
{
	int64_t t = regs_time(r);
	r->base_sec += t - now_sec(r);
	r->last_sec = t;
}

/* Alarm bytes compare in register format; 0xC0-0xFF is "don't care". */
static bool alarm_matches(const struct rtc_cmos *r, int64_t t)
{
	int64_t tod = floor_mod(t, 86400);
	const uint8_t now[3] = { enc(r, tod % 60), enc(r, tod / 60 % 60),
				 enc_hour(r, tod / 3600) };
	const uint8_t *alarm[3] = { &r->cmos[SEC_ALARM], &r->cmos[MIN_ALARM],
				    &r->cmos[HOUR_ALARM] };
	for (int i = 0; i < 3; i++)
		if ((*alarm[i] & 0xc0) != 0xc0 && *alarm[i] != now[i])
			return false;
	return true;
}

/* --- interrupts ------------------------------------------------------- */

/* Brings register C up to date with the clock. */
static void account(struct rtc_cmos *r)
{
	uint8_t *c = &r->cmos[REG_C];
	unsigned p = period_ticks(r);
	if (p) {
		uint64_t idx = divider_ticks(r) / p;
		if (idx > r->last_period)
			*c |= C_PF;  /* PF is set whether or not PIE is */
		r->last_period = idx;
	}
	if (updating(r)) {
		int64_t t = now_sec(r);
		if (t > r->last_sec) {
			*c |= C_UF;
			int64_t s = r->last_sec + 1;
			if (s < t - 86399)
				s = t - 86399;  /* a day covers every pattern */
			for (; s <= t; s++)
				if (alarm_matches(r, s)) {
					*c |= C_AF;
					break;
				}
		}
		r->last_sec = t;
	}
	/* IRQF = PF.PIE + AF.AIE + UF.UIE (combinational, as on the chip). */
	uint8_t irqf = *c & r->cmos[REG_B] & (C_PF | C_AF | C_UF) ? C_IRQF : 0;
	*c = (*c & (C_PF | C_AF | C_UF)) | irqf;
}

/* Drives IRQ8 from IRQF and arms vtimers only for events that can raise it. */
static void sync(struct rtc_cmos *r)
{
	account(r);
	uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C];
	int level = (c & C_IRQF) != 0;
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_set(&r->irq, level);
	}
	unsigned p = period_ticks(r);
	if (p && (b & B_PIE) && !(c & C_PF))
		vtimer_arm(r->tq, &r->periodic, tick_deadline(r, (r->last_period + 1) * p));
	else
		vtimer_cancel(r->tq, &r->periodic);
	if (updating(r) && (b & ~c & (B_UIE | B_AIE)))
		vtimer_arm(r->tq, &r->update,
			   r->mono_base + (uint64_t)(r->last_sec - r->base_sec + 1) * NS);
	else
		vtimer_cancel(r->tq, &r->update);
}

static void rtc_timer(void *opaque, uint64_t now)
{
	(void)now;
	sync(opaque);
}

/* --- ports ------------------------------------------------------------ */

static bool is_time_reg(unsigned i)
{
	return i == SEC || i == MIN || i == HOUR || (i >= WDAY && i <= YEAR) ||
	       i == CENTURY;
}

static uint8_t data_read(struct rtc_cmos *r)
{
	unsigned i = r->index;
	uint8_t v;
	switch (i) {
	case REG_A:
		v = r->cmos[REG_A];
		if (updating(r) && elapsed(r) % NS >= NS - UIP_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;  /* read clears; sync() lowers IRQ8 */
		return v;
	case REG_D:
		return D_VRT;
	default:
		if (is_time_reg(i) && updating(r))
			latch_time(r, now_sec(r));
		return r->cmos[i];
	}
}

static void data_write(struct rtc_cmos *r, uint8_t v)
{
	unsigned i = r->index, old_p;
	switch (i) {
	case REG_A:  /* UIP is read-only; divider bits are stored only */
		old_p = period_ticks(r);
		r->cmos[REG_A] = v & 0x7f;
		if (period_ticks(r) != old_p && period_ticks(r))
			r->last_period = divider_ticks(r) / period_ticks(r);
		break;
	case REG_B: {
		bool was_set = !updating(r);
		/* Setting SET clears UIE (MC146818 register B, UIE bit). */
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;
		r->cmos[REG_B] = v;
		if ((v & B_SET) && !was_set)
			latch_time(r, now_sec(r));  /* freeze, in the new format */
		else if (!(v & B_SET) && was_set)
			commit_time(r);             /* run on from what was written */
		break;
	}
	case REG_C:
	case REG_D:
		break;  /* read-only */
	default:
		if (is_time_reg(i) && updating(r)) {
			latch_time(r, now_sec(r));
			r->cmos[i] = v;
			commit_time(r);
		} else {
			r->cmos[i] = v;
		}
		break;
	}
}

/* ISA splits wider accesses into byte cycles at consecutive ports. */
static void rtc_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		   bool is_write)
{
	struct rtc_cmos *r = opaque;
	account(r);
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = offset + i;
		if (port == 0 && is_write) {
			r->index = data[i] & 0x7f;
			r->nmi_masked = data[i] & 0x80;
		} else if (port == 1 && is_write) {
			data_write(r, data[i]);
		} else if (port == 1) {
			data[i] = data_read(r);
		} else if (!is_write) {
			data[i] = 0xff;  /* the index port is write-only */
		}
	}
	sync(r);
}

void rtc_reset(struct rtc_cmos *r)
{
	account(r);
	r->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[REG_C] = 0;
	sync(r);
}

void rtc_init(struct rtc_cmos *r, struct timer_queue *tq, struct irq_line irq8,
	      int64_t (*wallclock)(void *opaque), void *opaque)
{
	memset(r, 0, sizeof(*r));
	r->tq = tq;
	r->irq = irq8;
	r->wallclock = wallclock;
	r->opaque = opaque;
	vtimer_init(&r->periodic, rtc_timer, r);
	vtimer_init(&r->update, rtc_timer, r);
	r->cmos[REG_A] = 0x26;  /* 32.768 kHz time base, 1024 Hz */
	r->cmos[REG_B] = B_24H; /* BCD, 24-hour, no interrupts */
	r->cmos[REG_D] = D_VRT;
	r->mono_base = timerq_now(tq);
	r->base_sec = wallclock ? wallclock(opaque) : (int64_t)time(NULL);
	r->last_sec = r->base_sec;
	latch_time(r, r->base_sec);
}

int rtc_register(struct rtc_cmos *r, struct io_bus *pio)
{
	return io_bus_register(pio, 0x70, 2, rtc_io, r, "rtc-cmos");
}

static void put16(struct rtc_cmos *r, unsigned at, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->cmos[at] = (uint8_t)v;
	r->cmos[at + 1] = (uint8_t)(v >> 8);
}

void rtc_set_mem_size(struct rtc_cmos *r, uint64_t ram_bytes)
{
	uint64_t kib = ram_bytes / 1024;
	uint64_t ext = kib > 1024 ? kib - 1024 : 0;
	uint64_t above16m = ram_bytes > (16u << 20) ? (ram_bytes - (16u << 20)) / 65536 : 0;
	put16(r, 0x15, kib < 640 ? kib : 640);
	put16(r, 0x17, ext);
	put16(r, 0x30, ext);
	put16(r, 0x34, above16m);
	/* The AT checksum over 0x10-0x2D, big-endian at 0x2E-0x2F. */
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = (uint8_t)(sum >> 8);
	r->cmos[0x2f] = (uint8_t)sum;
}

bool rtc_nmi_masked(const struct rtc_cmos *r)
{
	return r->nmi_masked;
}
