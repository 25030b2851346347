/* ports: port I/O against the platform devices (no paging): 16550 UART
 * registers, CMOS/RTC registers, unassigned ports, POST port 0x80, PIC
 * mask registers, string I/O. */
#include "guest.h"

#define UART_SCR (COM1 + 7)
#define UART_LSR (COM1 + 5)
#define UART_LCR (COM1 + 3)
#define UART_MCR (COM1 + 4)
#define UART_IIR (COM1 + 2)
#define UNASSIGNED 0x2E0

static int is_bcd(uint8_t v, uint8_t max)
{
	return (v & 0x0F) <= 9 && (v >> 4) <= 9 && v <= max;
}

static void test_uart(void)
{
	outb(UART_SCR, 0x5A);
	uint8_t a = inb(UART_SCR);
	outb(UART_SCR, 0xA5);
	uint8_t b = inb(UART_SCR);
	CHECK(a == 0x5A && b == 0xA5, "UART scratch register keeps 0x5a and 0xa5");

	CHECK_EQ(inb(UART_LCR), 0x03, "UART LCR reads back 8N1 (0x03)");
	CHECK_EQ(inb(UART_MCR) & 0x1F, 0x03, "UART MCR reads back DTR|RTS (0x03)");

	/* Wait for the transmitter to drain (bounded), then both THRE and TEMT. */
	uint8_t lsr = 0;
	for (unsigned i = 0; i < 1000000; i++) {
		lsr = inb(UART_LSR);
		if (lsr & 0x40)
			break;
	}
	CHECK_EQ(lsr & 0x60, 0x60, "UART LSR: THRE and TEMT set when idle");

	uint8_t iir = inb(UART_IIR);
	CHECK_EQ(iir & 0x0F, 0x01, "UART IIR: no interrupt pending (IER=0)");
	CHECK_EQ(iir & 0xC0, 0xC0, "UART IIR: FIFOs enabled (16550A)");

	outb(UART_LCR, 0x83);                   /* DLAB: read the divisor */
	uint8_t dll = inb(COM1 + 0), dlm = inb(COM1 + 1);
	outb(UART_LCR, 0x03);
	CHECK(dll == 0x01 && dlm == 0x00, "UART divisor latch reads back 1 (115200 baud)");
	CHECK_EQ(inb(UART_SCR), 0xA5, "UART scratch register unchanged by DLAB access");
}

static void test_cmos(void)
{
	CHECK_EQ(cmos_read(0x0D), 0x80, "CMOS register D: VRT (valid RAM and time) = 0x80");
	CHECK_EQ(cmos_read(0x0A) & 0x7F, 0x26, "CMOS register A: 32.768 kHz time base, 1024 Hz rate (0x26)");
	uint8_t b = cmos_read(0x0B);
	CHECK(b & 0x02, "CMOS register B: 24-hour mode");
	CHECK_EQ(b & 0xF0, 0, "CMOS register B: SET clear, no PIE/AIE/UIE");

	/* Time and date: read twice (between updates) until stable. */
	uint8_t t[6] = { 0 }, u[6] = { 0 };
	static const uint8_t regs[6] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 };
	for (unsigned tries = 0; tries < 10; tries++) {
		while (cmos_read(0x0A) & 0x80)
			;
		for (unsigned i = 0; i < 6; i++)
			t[i] = cmos_read(regs[i]);
		while (cmos_read(0x0A) & 0x80)
			;
		for (unsigned i = 0; i < 6; i++)
			u[i] = cmos_read(regs[i]);
		if (!memcmp(t, u, sizeof(t)))
			break;
	}
	if (b & 0x04) {                         /* binary mode */
		CHECK(t[0] < 60 && t[1] < 60 && t[2] < 24, "RTC time registers valid (binary)");
		CHECK(t[3] >= 1 && t[3] <= 31 && t[4] >= 1 && t[4] <= 12 && t[5] <= 99,
		      "RTC date registers valid (binary)");
	} else {
		CHECK(is_bcd(t[0], 0x59) && is_bcd(t[1], 0x59) && is_bcd(t[2], 0x23),
		      "RTC time registers valid BCD");
		CHECK(is_bcd(t[3], 0x31) && t[3] >= 1 && is_bcd(t[4], 0x12) && t[4] >= 1 && is_bcd(t[5], 0x99),
		      "RTC date registers valid BCD");
	}

	/* Memory size bytes (as a PC BIOS leaves them) against multiboot. */
	uint32_t base = cmos_read(0x15) | (uint32_t)cmos_read(0x16) << 8;
	uint32_t ext = cmos_read(0x30) | (uint32_t)cmos_read(0x31) << 8;
	uint32_t above16 = cmos_read(0x34) | (uint32_t)cmos_read(0x35) << 8;
	uint32_t mem_upper = boot_info->mem_upper;
	CHECK_EQ(base, 640, "CMOS 0x15/0x16: 640 KiB base memory");
	CHECK(boot_info->mem_lower <= base, "multiboot mem_lower <= CMOS base memory");
	if (mem_upper >= 0xFFFF)
		CHECK_EQ(ext, 0xFFFF, "CMOS 0x30/0x31: extended memory saturates at 65535 KiB");
	else
		CHECK(ext >= mem_upper && ext <= mem_upper + 1024,
		      "CMOS 0x30/0x31: extended memory matches multiboot mem_upper");
	uint32_t total = 15 * 1024 + above16 * 64;
	CHECK(total >= mem_upper && total <= mem_upper + 1024,
	      "CMOS 0x34/0x35: memory above 16 MiB matches multiboot mem_upper (within 1 MiB)");
	if (!(total >= mem_upper && total <= mem_upper + 1024))
		printf("#   CMOS says %u KiB above 1 MiB, multiboot mem_upper %u KiB\n", total, mem_upper);
}

static void test_unassigned(void)
{
	CHECK_EQ(inb(UNASSIGNED), 0xFF, "unassigned port 0x2e0: inb reads 0xff");
	CHECK_EQ(inw(UNASSIGNED), 0xFFFF, "unassigned port 0x2e0: inw reads 0xffff");
	CHECK_EQ(inl(UNASSIGNED), 0xFFFFFFFF, "unassigned port 0x2e0: inl reads 0xffffffff");
	outb(UNASSIGNED, 0x12);
	outl(UNASSIGNED, 0x12345678);
	CHECK_EQ(inb(UNASSIGNED), 0xFF, "unassigned port 0x2e0: writes are dropped");
	for (unsigned i = 0; i < 16; i++)
		outb(0x80, (uint8_t)i);
	CHECK(1, "port 0x80 (POST) writes are harmless");
}

static void test_pic_masks(void)
{
	uint16_t saved = pic_get_mask();
	pic_set_mask(0xA5C3);
	uint16_t m = pic_get_mask();
	pic_set_mask(saved);
	CHECK_EQ(m, 0xA5C3, "PIC IMRs (0x21/0xa1) read back what was written");
	CHECK_EQ(pic_get_mask(), 0xFFFF, "PIC IMRs restored to all-masked");
}

static void test_string_io(void)
{
	uint8_t buf[8];
	memset(buf, 0, sizeof(buf));
	uint8_t *d = buf;
	uint32_t n = 4;
	__asm__ volatile("cld; rep insb" : "+D"(d), "+c"(n) : "d"(UNASSIGNED) : "memory");
	CHECK(buf[0] == 0xFF && buf[3] == 0xFF && buf[4] == 0 && n == 0 && d == buf + 4,
	      "rep insb x4 from an unassigned port: 4 bytes of 0xff, ECX=0, EDI advanced");

	static const uint8_t src[3] = { 0x11, 0x22, 0x33 };
	const uint8_t *s = src;
	n = 3;
	__asm__ volatile("cld; rep outsb" : "+S"(s), "+c"(n) : "d"(UART_SCR) : "memory");
	CHECK(inb(UART_SCR) == 0x33 && n == 0 && s == src + 3,
	      "rep outsb x3 to the UART scratch register: last byte 0x33 kept, ESI advanced");

	uint16_t w[2] = { 0, 0 };
	uint16_t *dw = w;
	n = 2;
	__asm__ volatile("cld; rep insw" : "+D"(dw), "+c"(n) : "d"(UNASSIGNED) : "memory");
	CHECK(w[0] == 0xFFFF && w[1] == 0xFFFF && dw == w + 2, "rep insw x2 from an unassigned port");
}

void main(void)
{
	printf("ports: port I/O, no paging\n");
	test_uart();
	test_cmos();
	test_unassigned();
	test_pic_masks();
	test_string_io();
}
