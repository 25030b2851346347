/* serial_irq: COM1 receive interrupts with OUT2 clear in the modem control
 * register, as software written on QEMU leaves it.  QEMU's 16550
 * (hw/char/serial.c) raises IRQ4 whatever OUT2 says, and so does btvm by
 * default; on PC hardware, and under btvm --serial-out2-gate, OUT2 gates
 * the IRQ (then this guest sets OUT2 and says so: expected/
 * serial_irq.out2-gate.out).  The input (input/serial_irq.txt) is read in
 * the IRQ4 handler and echoed upper-cased; the first line ("sync") is
 * thrown away, as in serial_input.  IRQ0 at 100 Hz bounds every wait. */
#include "guest.h"

#define IER (COM1 + 1)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MCR_OUT2 0x08

static volatile char ring[256];
static volatile uint32_t head, tail, irq4s, ticks;

static void on_irq4(struct regs *r)
{
	(void)r;
	while (inb(LSR) & 1)
		ring[head++ & 255] = (char)inb(COM1);
	irq4s++;
	pic_eoi(4);
}

static void on_irq0(struct regs *r)
{
	(void)r;
	ticks++;
	pic_eoi(0);
}

/* The next received byte, taken from the ring the handler fills; -1 after
 * 10 s without one. */
static int getc_irq(void)
{
	uint32_t start = ticks;
	for (;;) {
		cli();
		if (tail != head) {
			char c = ring[tail++ & 255];
			sti();
			return (unsigned char)c;
		}
		if (ticks - start > 1000) {
			sti();
			return -1;
		}
		sti_hlt();   /* the STI shadow covers HLT: no wake-up is lost */
	}
}

static int read_line(char *buf, int max)
{
	int n = 0;
	for (;;) {
		int c = getc_irq();
		if (c < 0)
			return -1;
		if (c == '\r')
			continue;
		if (c == '\n')
			break;
		if (n < max - 1)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return n;
}

void main(void)
{
	char line[80];
	CHECK_EQ(inb(MCR) & MCR_OUT2, 0, "MCR.OUT2 is clear (the kit writes MCR = DTR | RTS)");
	set_irq_handler(0, on_irq0);
	set_irq_handler(4, on_irq4);
	pit_set_rate(100);
	pic_unmask(0);
	/* Received data with the receive interrupt enabled and IRQ4 still
	 * masked: is the line raised (IRR bit 4)? */
	outb(IER, 0x01);
	while (!(inb(LSR) & 1))
		;
	int raised = (pic_read_irr() >> 4) & 1;
	printf("IRQ4 raised with OUT2 clear: %s\n", raised ? "yes" : "no");
	if (!raised) {
		printf("setting OUT2\n");
		outb(MCR, (uint8_t)(inb(MCR) | MCR_OUT2));
		CHECK((pic_read_irr() >> 4) & 1, "IRQ4 raised with OUT2 set");
	}
	sti();
	pic_unmask(4);
	if (read_line(line, sizeof(line)) < 0)
		guest_panic("no sync line through IRQ4");
	int lines = 0;
	while (read_line(line, sizeof(line)) >= 0) {
		if (!memcmp(line, "quit", 5))
			break;
		for (char *p = line; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		printf("got: %s\n", line);
		lines++;
	}
	cli();
	outb(IER, 0x00);
	pic_mask(4);
	pic_mask(0);
	CHECK_EQ(lines, 3, "three lines before 'quit', read in the IRQ4 handler");
	CHECK(irq4s > 0, "IRQ4 was delivered");
	CHECK(!(inb(LSR) & 1), "nothing left in the receive buffer");
}
