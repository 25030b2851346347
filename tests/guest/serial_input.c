/* serial_input: COM1 receive path.  The runner feeds
 * tests/guest/input/serial_input.txt to the emulator's stdin; the guest
 * reads it by polling LSR.DR, echoes each line upper-cased, and checks that
 * received data raises IRQ4 at the PIC (seen in IRR with IRQ4 masked, so
 * no interrupt is delivered and no IRET is needed).
 * The input's first line is "sync" and is thrown away: the host may hand
 * the UART a byte before the runtime's FIFO reset (FCR=0xC7) discards it,
 * on QEMU as on btvm (at reset the FIFO is off, so at most one byte). */
#include "guest.h"

#define LSR (COM1 + 5)
#define IER (COM1 + 1)
#define MCR (COM1 + 4)

static int getc_poll(void)
{
	for (uint32_t spins = 0; spins < 200000000u; spins++)
		if (inb(LSR) & 1)
			return inb(COM1);
	return -1;
}

static int read_line(char *buf, int max)
{
	int n = 0;
	for (;;) {
		int c = getc_poll();
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

static uint8_t pic_irr(void)
{
	outb(0x20, 0x0A); /* OCW3: read IRR */
	return inb(0x20);
}

void main(void)
{
	char line[80];
	/* First line: wait for it with the receive interrupt enabled and
	 * OUT2 set (the PC's IRQ gate), IRQ4 masked at the PIC. */
	outb(IER, 0x01);
	outb(MCR, (uint8_t)(inb(MCR) | 0x08));
	while (!(inb(LSR) & 1))
		;
	CHECK(pic_irr() & 0x10, "received data raises IRQ4 (PIC IRR bit 4)");
	uint8_t iir = inb(COM1 + 2) & 0x0f;
	CHECK(iir == 0x04 || iir == 0x0c, "IIR reports received data (available or character timeout)");
	outb(IER, 0x00);
	if (read_line(line, sizeof(line)) < 0)
		guest_panic("no sync line");
	int lines = 0;
	while (read_line(line, sizeof(line)) >= 0) {
		if (!memcmp(line, "quit", 5))
			break;
		for (char *p = line; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		printf("got: %s (%u bytes)\n", line, (unsigned)strlen(line));
		lines++;
	}
	CHECK_EQ(lines, 3, "three lines before 'quit'");
	CHECK(!(inb(LSR) & 1), "nothing left in the receive buffer");
}
