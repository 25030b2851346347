/* btvm guest test kit: start-up, serial console, printf, checks, exit. */
#include "guest.h"

uint32_t boot_magic;
struct multiboot_info *boot_info;
unsigned test_checks, test_failures;

/* ---------------------------------------------------------------- serial */
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);            /* no UART interrupts */
	outb(COM1 + UART_LCR, 0x80);            /* DLAB */
	outb(COM1 + 0, 0x01);                   /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03);            /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0xC7);            /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

static void serial_raw(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_raw('\r');
	serial_raw(c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void serial_drain(void)
{
	/* Bounded: a UART that never reports empty must not hang the exit. */
	for (unsigned i = 0; i < 1000000; i++)
		if (inb(COM1 + UART_LSR) & LSR_TEMT)
			break;
}

/* ---------------------------------------------------------------- printf */
static void put_num(uint32_t v, unsigned base, int upper, int neg, unsigned width, char pad)
{
	char buf[12];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0;
	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	unsigned len = n + (neg ? 1 : 0);
	if (neg && pad == '0')
		serial_putc('-');
	for (; len < width; len++)
		serial_putc(pad);
	if (neg && pad != '0')
		serial_putc('-');
	while (n)
		serial_putc(buf[--n]);
}

void vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		unsigned width = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l')
			fmt++;
		switch (*fmt) {
		case 'd': {
			int32_t v = va_arg(ap, int32_t);
			uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
			put_num(u, 10, 0, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(va_arg(ap, uint32_t), 10, 0, 0, width, pad);
			break;
		case 'x':
		case 'X':
			put_num(va_arg(ap, uint32_t), 16, *fmt == 'X', 0, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t len = strlen(s);
			for (; len < width; len++)
				serial_putc(' ');
			serial_puts(s);
			break;
		}
		case 'c':
			serial_putc((char)va_arg(ap, int));
			break;
		case '%':
			serial_putc('%');
			break;
		case '\0':
			return;
		default:
			serial_putc('%');
			serial_putc(*fmt);
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- checks / exit */
static int check_vreport(int ok, const char *fmt, va_list ap)
{
	test_checks++;
	if (!ok)
		test_failures++;
	serial_puts(ok ? "ok - " : "FAIL - ");
	vprintf(fmt, ap);
	serial_putc('\n');
	return ok;
}

int check_report(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_vreport(ok, fmt, ap);
	va_end(ap);
	return ok;
}

int check_eq(uint32_t got, uint32_t want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_vreport(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#   got 0x%08x, expected 0x%08x\n", got, want);
	return got == want;
}

int test_summary(void)
{
	if (test_failures)
		printf("FAIL: %u of %u checks failed\n", test_failures, test_checks);
	else
		printf("PASS: %u checks\n", test_checks);
	return test_failures ? 1 : 0;
}

void guest_exit(uint32_t status)
{
	cli();
	serial_drain();
	outl(0xF4, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_panic(const char *fmt, ...)
{
	va_list ap;
	serial_puts("FAIL - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	serial_putc('\n');
	test_checks++;
	test_failures++;
	test_summary();
	guest_exit(1);
}

/* ---------------------------------------------------------------- start */
void cpu_init(void)
{
	uint32_t cr0 = read_cr0();
	cr0 &= ~(CR0_EM | CR0_TS | CR0_WP | CR0_AM | CR0_PG);
	cr0 |= CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	write_cr0(cr0);
	write_cr4(0);
	__asm__ volatile("fninit");
}

void guest_start(uint32_t magic, struct multiboot_info *info) NORETURN;
void guest_start(uint32_t magic, struct multiboot_info *info)
{
	boot_magic = magic;
	boot_info = info;
	serial_init();
	cpu_init();
	gdt_init();
	idt_init();
	pic_init();
	main();
	guest_exit((uint32_t)test_summary());
}

/* ---------------------------------------------------------------- libc bits */
void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
