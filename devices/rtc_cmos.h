/* MC146818 real-time clock + 128 bytes of CMOS RAM at ports 0x70 (index,
 * bit 7 = NMI disable) and 0x71 (data), interrupt on IRQ8.
 * The clock is derived from the timer queue: the wall clock is read once at
 * rtc_init(), later time is that plus the queue's elapsed time plus any
 * offset the guest set.  Flags of register C are computed lazily on access;
 * vtimers run only while an enabled interrupt can fire. */
#ifndef BTVM_DEVICES_RTC_CMOS_H
#define BTVM_DEVICES_RTC_CMOS_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/irq.h"
#include "devices/timer_queue.h"

struct rtc_cmos {
	struct timer_queue *tq;
	struct irq_line irq;
	int64_t (*wallclock)(void *opaque);
	void *opaque;

	uint8_t cmos[128];      /* RAM, time registers and registers A-D */
	uint8_t index;          /* 0x00-0x7F */
	bool nmi_masked;

	uint64_t mono_base;     /* queue time (ns) of a guest second boundary */
	int64_t base_sec;       /* guest seconds since 1970 at mono_base */
	int64_t last_sec;       /* guest second last checked for UF/AF */
	uint64_t last_period;   /* periodic period index last checked for PF */
	struct vtimer periodic, update;
	int irq_level;
};

/* wallclock: seconds since the epoch, UTC; NULL uses time(). */
void rtc_init(struct rtc_cmos *r, struct timer_queue *tq, struct irq_line irq8,
	      int64_t (*wallclock)(void *opaque), void *opaque);
/* The RESET pin: clears PIE, AIE, UIE, SQWE and register C; keeps time and
 * RAM (battery backed). */
void rtc_reset(struct rtc_cmos *r);
int rtc_register(struct rtc_cmos *r, struct io_bus *pio);
/* CMOS 0x15-0x18 base/extended KiB, 0x30-0x31 extended KiB (capped at
 * 0xFFFF), 0x34-0x35 64 KiB units above 16 MiB, and the 0x2E-0x2F checksum. */
void rtc_set_mem_size(struct rtc_cmos *r, uint64_t ram_bytes);
bool rtc_nmi_masked(const struct rtc_cmos *r);
#endif
