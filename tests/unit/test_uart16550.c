/* 16550A UART: registers, interrupts, FIFO, loopback, through the port bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "devices/uart16550.h"

#define BASE 0x3f8
enum { THR = 0, IER, IIR, LCR, MCR, LSR, MSR, SCR };

static struct fx {
	struct io_bus bus;
	struct uart16550 u;
	int level, rises;
	uint8_t tx[64];
	size_t ntx;
} f;

static void irq_rec(void *opaque, int irq, int level)
{
	struct fx *x = opaque;
	assert_int_equal(irq, 4);
	if (level && !x->level)
		x->rises++;
	x->level = level;
}

static void tx_rec(void *opaque, uint8_t b)
{
	struct fx *x = opaque;
	if (x->ntx < sizeof(x->tx))
		x->tx[x->ntx++] = b;
}

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	io_bus_init(&f.bus, "pio");
	uart_init(&f.u, (struct irq_line){ irq_rec, &f, 4 }, tx_rec, &f);
	assert_int_equal(uart_register(&f.u, &f.bus, BASE), 0);
	return 0;
}

static uint8_t in(unsigned reg)
{
	uint8_t d = 0;
	assert_true(io_bus_access(&f.bus, BASE + reg, &d, 1, false));
	return d;
}

static void out(unsigned reg, uint8_t v)
{
	assert_true(io_bus_access(&f.bus, BASE + reg, &v, 1, true));
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(in(IIR), 0x01);
	assert_int_equal(in(LSR), 0x60);
	assert_int_equal(in(MSR), 0xb0);
	assert_int_equal(in(MCR), 0x00);
	assert_int_equal(f.level, 0);
	assert_int_equal(uart_register(&f.u, &f.bus, BASE + 4), -1);
}

static void test_scratch(void **state)
{
	(void)state;
	out(SCR, 0xa5);
	assert_int_equal(in(SCR), 0xa5);
	out(SCR, 0x5a);
	assert_int_equal(in(SCR), 0x5a);
}

static void test_divisor_latch(void **state)
{
	(void)state;
	out(LCR, 0x83);
	out(THR, 0x01);
	out(IER, 0x02);
	assert_int_equal(in(THR), 0x01);
	assert_int_equal(in(IER), 0x02);
	assert_int_equal(f.ntx, 0);  /* DLL write is not a transmission */
	out(LCR, 0x03);
	assert_int_equal(in(LCR), 0x03);
	assert_int_equal(in(IER), 0x00);
	out(IER, 0xff);
	assert_int_equal(in(IER), 0x0f);  /* only 4 IER bits exist */
	out(LCR, 0x83);
	assert_int_equal(in(IER), 0x02);
	assert_int_equal(in(THR), 0x01);
}

static void test_tx(void **state)
{
	(void)state;
	out(THR, 'h');
	out(THR, 'i');
	assert_int_equal(f.ntx, 2);
	assert_memory_equal(f.tx, "hi", 2);
	assert_int_equal(in(LSR), 0x60);  /* THRE and TEMT stay set */
}

static void test_thre_interrupt(void **state)
{
	(void)state;
	out(MCR, 0x08);  /* OUT2 */
	assert_int_equal(f.level, 0);
	out(IER, 0x02);  /* enabling ETBEI with THR empty raises it */
	assert_int_equal(f.level, 1);
	assert_int_equal(f.rises, 1);
	assert_int_equal(in(IIR), 0x02);
	assert_int_equal(f.level, 0);     /* the IIR read cleared it */
	assert_int_equal(in(IIR), 0x01);
	out(THR, 'x');                    /* byte gone at once: THR empty again */
	assert_int_equal(f.level, 1);
	assert_int_equal(f.rises, 2);
	assert_int_equal(in(IIR), 0x02);
	/* Linux's UART_BUG_THRE probe: disable, re-enable, must re-assert. */
	out(IER, 0x00);
	out(IER, 0x02);
	assert_int_equal(in(IIR), 0x02);
	out(IER, 0x00);
	assert_int_equal(f.level, 0);
}

static void test_rx_no_fifo(void **state)
{
	(void)state;
	out(MCR, 0x08);
	out(IER, 0x01);
	assert_int_equal(uart_rx_room(&f.u), 1);
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"ab", 2), 1);
	assert_int_equal(in(LSR), 0x61);
	assert_int_equal(f.level, 1);
	assert_int_equal(in(IIR), 0x04);
	assert_int_equal(in(IIR), 0x04);  /* RDA stays until the data is read */
	assert_int_equal(in(THR), 'a');
	assert_int_equal(f.level, 0);
	assert_int_equal(in(LSR), 0x60);
	assert_int_equal(in(IIR), 0x01);
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"b", 1), 1);
	assert_int_equal(f.rises, 2);
}

static void test_fifo_trigger(void **state)
{
	(void)state;
	const uint8_t data[32] = "0123456789abcdefghijklmnopqrstu";
	out(MCR, 0x08);
	out(IER, 0x01);
	out(IIR, 0x81);  /* FIFO on, trigger 8 */
	assert_int_equal(in(IIR), 0xc1);
	assert_int_equal(uart_rx_room(&f.u), 16);
	assert_int_equal(uart_rx_push(&f.u, data, 5), 5);
	assert_int_equal(in(IIR), 0xcc);  /* below trigger: char timeout */
	assert_int_equal(f.level, 1);
	assert_int_equal(uart_rx_push(&f.u, data + 5, 3), 3);
	assert_int_equal(in(IIR), 0xc4);  /* trigger reached */
	assert_int_equal(in(THR), '0');
	assert_int_equal(in(IIR), 0xcc);
	assert_int_equal(uart_rx_room(&f.u), 9);
	assert_int_equal(uart_rx_push(&f.u, data + 8, 20), 9);
	assert_int_equal(uart_rx_room(&f.u), 0);
	for (int i = 1; i < 17; i++)
		assert_int_equal(in(THR), data[i]);
	assert_int_equal(in(LSR) & 0x03, 0);  /* no overrun from host input */
	assert_int_equal(in(IIR), 0xc1);
	assert_int_equal(f.level, 0);
	/* Trigger 14 and the RX FIFO reset. */
	out(IIR, 0xc1);
	assert_int_equal(uart_rx_push(&f.u, data, 14), 14);
	assert_int_equal(in(IIR), 0xc4);
	out(IIR, 0xc3);
	assert_int_equal(in(LSR), 0x60);
	assert_int_equal(in(IIR), 0xc1);
	/* Trigger 1; FIFO off empties it and drops the 0xC0 bits. */
	out(IIR, 0x01);
	assert_int_equal(uart_rx_push(&f.u, data, 1), 1);
	assert_int_equal(in(IIR), 0xc4);
	out(IIR, 0x00);
	assert_int_equal(in(IIR), 0x01);
	assert_int_equal(in(LSR), 0x60);
}

static void test_overrun(void **state)
{
	(void)state;
	out(MCR, 0x10);  /* loopback: TX feeds RX */
	out(THR, 'x');
	out(THR, 'y');
	assert_int_equal(in(LSR), 0x63);  /* DR | OE | THRE | TEMT */
	assert_int_equal(in(LSR), 0x61);  /* OE cleared by the read */
	assert_int_equal(in(THR), 'y');   /* 16450 mode: new char overwrote */
	/* FIFO mode: the 17th character is lost. */
	out(IIR, 0x01);
	for (int i = 0; i < 17; i++)
		out(THR, (uint8_t)('A' + i));
	assert_int_equal(in(LSR), 0x63);
	for (int i = 0; i < 16; i++)
		assert_int_equal(in(THR), 'A' + i);
	assert_int_equal(in(LSR), 0x60);
	assert_int_equal(f.ntx, 0);
}

static void test_loopback(void **state)
{
	(void)state;
	/* Linux autoconfig: LOOP | OUT2 | RTS must read back CTS | DCD. */
	out(MCR, 0x1a);
	assert_int_equal(in(MSR) & 0xf0, 0x90);
	out(MCR, 0x1f);
	assert_int_equal(in(MSR) & 0xf0, 0xf0);
	out(THR, 0x55);
	assert_int_equal(f.ntx, 0);
	assert_int_equal(in(LSR), 0x61);
	assert_int_equal(in(THR), 0x55);
	assert_int_equal(uart_rx_room(&f.u), 0);  /* serial input disconnected */
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"z", 1), 0);
	out(MCR, 0x00);
	assert_int_equal(in(MSR) & 0xf0, 0xb0);
	assert_int_equal(uart_rx_room(&f.u), 1);
	out(THR, 0x66);
	assert_int_equal(f.ntx, 1);
	assert_int_equal(f.tx[0], 0x66);
}

static void test_msr_deltas(void **state)
{
	(void)state;
	out(MCR, 0x10);                  /* inputs: CTS, DSR, DCD drop */
	assert_int_equal(in(MSR), 0x0b);
	assert_int_equal(in(MSR), 0x00);  /* deltas clear on read */
	out(MCR, 0x1f);
	assert_int_equal(in(MSR), 0xfb);  /* RI rising: no TERI */
	out(MCR, 0x1b);                  /* OUT1 off: RI trailing edge */
	assert_int_equal(in(MSR), 0xb4);
	assert_int_equal(in(MSR), 0xb0);
}

static void test_out2_gates_irq(void **state)
{
	(void)state;
	uart_set_out2_gate(&f.u, true);   /* PC hardware (--serial-out2-gate) */
	out(IER, 0x02);
	assert_int_equal(in(IIR) & 0x01, 0);  /* pending... */
	out(IER, 0x00);
	out(IER, 0x02);
	assert_int_equal(f.level, 0);          /* ...but OUT2 is low */
	out(MCR, 0x08);
	assert_int_equal(f.level, 1);
	out(MCR, 0x00);
	assert_int_equal(f.level, 0);
	out(MCR, 0x08);
	assert_int_equal(f.rises, 2);
}

/* The default is QEMU's rule: the IRQ follows IIR whatever OUT2 says, so
 * software written on QEMU that never sets OUT2 gets its interrupts. */
static void test_irq_without_out2_by_default(void **state)
{
	(void)state;
	assert_int_equal(in(MCR) & 0x08, 0);
	out(IER, 0x01);
	assert_int_equal(f.level, 0);
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"a", 1), 1);
	assert_int_equal(f.level, 1);           /* received data, OUT2 low */
	assert_int_equal(in(THR), 'a');
	assert_int_equal(f.level, 0);
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"b", 1), 1);
	assert_int_equal(f.level, 1);
	assert_int_equal(in(THR), 'b');
	/* switching to the PC rule takes effect at once, and back */
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"c", 1), 1);
	assert_int_equal(f.level, 1);
	uart_set_out2_gate(&f.u, true);
	assert_int_equal(f.level, 0);
	uart_set_out2_gate(&f.u, false);
	assert_int_equal(f.level, 1);
	assert_int_equal(f.rises, 4);
}

static void test_iir_priority(void **state)
{
	(void)state;
	out(MCR, 0x18);  /* loopback + OUT2: CTS/DSR drop -> modem status */
	out(THR, 'a');
	out(THR, 'b');   /* overrun */
	out(IER, 0x0f);
	assert_int_equal(f.level, 1);
	assert_int_equal(in(IIR), 0x06);  /* line status first */
	assert_int_equal(in(LSR), 0x63);
	assert_int_equal(in(IIR), 0x04);  /* then received data */
	assert_int_equal(in(THR), 'b');
	assert_int_equal(in(IIR), 0x02);  /* then THR empty (cleared by this read) */
	assert_int_equal(in(IIR), 0x00);  /* then modem status */
	assert_int_equal(in(MSR), 0x83);
	assert_int_equal(in(IIR), 0x01);
	assert_int_equal(f.level, 0);
}

static void test_rda_iir_read_keeps_thre(void **state)
{
	(void)state;
	out(MCR, 0x08);
	out(IER, 0x03);
	assert_int_equal(uart_rx_push(&f.u, (const uint8_t *)"q", 1), 1);
	assert_int_equal(in(IIR), 0x04);  /* THRE hidden behind RDA... */
	assert_int_equal(in(THR), 'q');
	assert_int_equal(in(IIR), 0x02);  /* ...and still pending */
	assert_int_equal(in(IIR), 0x01);
}

static void test_wide_and_stray_accesses(void **state)
{
	(void)state;
	uint8_t d[4] = { 0x11, 0x83, 0, 0 };
	/* outw to SCR..: byte 0 to SCR, byte 1 past the range is dropped */
	assert_true(io_bus_access(&f.bus, BASE + SCR, d, 2, true));
	assert_int_equal(in(SCR), 0x11);
	memset(d, 0, sizeof(d));
	assert_true(io_bus_access(&f.bus, BASE + SCR, d, 4, false));
	assert_int_equal(d[0], 0x11);
	assert_int_equal(d[1], 0xff);
	assert_int_equal(d[3], 0xff);
	/* outw at LCR/MCR writes both. */
	d[0] = 0x03;
	d[1] = 0x08;
	assert_true(io_bus_access(&f.bus, BASE + LCR, d, 2, true));
	assert_int_equal(in(LCR), 0x03);
	assert_int_equal(in(MCR), 0x08);
	/* Anything a guest writes must be survivable. */
	uint32_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		uint8_t v = (uint8_t)(x >> 16);
		unsigned reg = (x >> 8) & 7;
		if (x & 0x80000000u)
			out(reg, v);
		else
			(void)in(reg);
		if ((i & 63) == 0)
			(void)uart_rx_push(&f.u, &v, 1);
	}
	assert_true(f.u.rx_count <= UART_FIFO_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_scratch, setup),
		cmocka_unit_test_setup(test_divisor_latch, setup),
		cmocka_unit_test_setup(test_tx, setup),
		cmocka_unit_test_setup(test_thre_interrupt, setup),
		cmocka_unit_test_setup(test_rx_no_fifo, setup),
		cmocka_unit_test_setup(test_fifo_trigger, setup),
		cmocka_unit_test_setup(test_overrun, setup),
		cmocka_unit_test_setup(test_loopback, setup),
		cmocka_unit_test_setup(test_msr_deltas, setup),
		cmocka_unit_test_setup(test_out2_gates_irq, setup),
		cmocka_unit_test_setup(test_irq_without_out2_by_default, setup),
		cmocka_unit_test_setup(test_iir_priority, setup),
		cmocka_unit_test_setup(test_rda_iir_read_keeps_thre, setup),
		cmocka_unit_test_setup(test_wide_and_stray_accesses, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
