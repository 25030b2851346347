/* btvm guest test kit: 8259 PIC, 8254 PIT, CMOS/RTC. */
#include "guest.h"

static inline void io_delay(void)
{
	outb(0x80, 0);
}

void pic_init(void)
{
	outb(PIC1_CMD, 0x11);           /* ICW1: edge, cascade, ICW4 needed */
	io_delay();
	outb(PIC2_CMD, 0x11);
	io_delay();
	outb(PIC1_DATA, VEC_IRQ0);      /* ICW2: vector base */
	io_delay();
	outb(PIC2_DATA, VEC_IRQ8);
	io_delay();
	outb(PIC1_DATA, 0x04);          /* ICW3: slave on IRQ2 */
	io_delay();
	outb(PIC2_DATA, 0x02);          /* ICW3: slave identity 2 */
	io_delay();
	outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode, normal EOI */
	io_delay();
	outb(PIC2_DATA, 0x01);
	io_delay();
	pic_set_mask(0xFFFF);
}

void pic_set_mask(uint16_t mask)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

uint16_t pic_get_mask(void)
{
	return (uint16_t)(inb(PIC1_DATA) | (inb(PIC2_DATA) << 8));
}

void pic_mask(unsigned irq)
{
	pic_set_mask(pic_get_mask() | (uint16_t)(1u << irq));
}

void pic_unmask(unsigned irq)
{
	uint16_t m = pic_get_mask() & (uint16_t)~(1u << irq);
	if (irq >= 8)
		m &= (uint16_t)~(1u << 2);      /* cascade */
	pic_set_mask(m);
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

static uint16_t pic_read_reg(uint8_t ocw3)
{
	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	return (uint16_t)(inb(PIC1_CMD) | (inb(PIC2_CMD) << 8));
}

uint16_t pic_read_irr(void)
{
	return pic_read_reg(0x0A);
}

uint16_t pic_read_isr(void)
{
	uint16_t v = pic_read_reg(0x0B);
	pic_read_reg(0x0A);             /* leave the chips reading IRR */
	return v;
}

/* ---------------------------------------------------------------- PIT */
void pit_set_rate(uint32_t hz)
{
	uint32_t div = (PIT_HZ + hz / 2) / hz;
	if (div > 0xFFFF)
		div = 0;                /* 0 means 65536 */
	outb(0x43, 0x34);               /* channel 0, lo/hi, mode 2, binary */
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
}

uint16_t pit_read_count0(void)
{
	outb(0x43, 0x00);               /* latch channel 0 */
	uint8_t lo = inb(0x40);
	uint8_t hi = inb(0x40);
	return (uint16_t)(lo | (hi << 8));
}

void pit_wait_periods(unsigned n)
{
	uint16_t prev = pit_read_count0();
	while (n) {
		uint16_t now = pit_read_count0();
		if (now > prev)         /* counted down to the end and reloaded */
			n--;
		prev = now;
	}
}

/* ---------------------------------------------------------------- CMOS */
uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg & 0x7F);
	return inb(0x71);
}

void cmos_write(uint8_t reg, uint8_t v)
{
	outb(0x70, reg & 0x7F);
	outb(0x71, v);
}

uint8_t rtc_seconds(void)
{
	while (cmos_read(0x0A) & 0x80)  /* update in progress */
		;
	return cmos_read(0x00);
}
