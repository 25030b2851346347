/* The 16550A UART (COM1, 0x3F8-0x3FF) with host input pushed in between.
 * Invariants: the RX FIFO count and head stay inside the FIFO; IRQ4 is
 * 0 or 1 and what the UART believes it drives; input is accepted only up
 * to the room the UART reports; every transmitted byte reaches tx(). */
#include "devices/uart16550.h"
#include "fuzz_common.h"

static const unsigned widths[4] = { 1, 1, 2, 4 };
static unsigned long tx_bytes;

static void tx(void *opaque, uint8_t b)
{
	(void)opaque;
	(void)b;
	tx_bytes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io_bus bus;
	static struct uart16550 u;
	static struct fz_irqs irqs;
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&bus, "pio");
	uart_init(&u, (struct irq_line){ fz_irq_set, &irqs, 4 }, tx, NULL);
	FZ_ASSERT(uart_register(&u, &bus, 0x3F8) == 0, "register");
	struct fz_in in = { data, size };
	struct fz_op op;
	while (fz_op(&in, widths, &op)) {
		switch (op.kind) {
		case FZ_READ:
		case FZ_WRITE:
			/* 0x3F8-0x3FF, and the ports either side of it */
			fz_access(&bus, 0x3F7 + (op.where % 10), op.width, op.kind == FZ_WRITE, op.value);
			break;
		case FZ_CLOCK: {
			uint8_t buf[32];
			size_t n = (op.value >> 2) % sizeof(buf) + 1, room = uart_rx_room(&u);
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)(op.value + i);
			size_t took = uart_rx_push(&u, buf, n);
			FZ_ASSERT(took <= n && took <= room, "took %zu of %zu with room %zu", took, n, room);
			break;
		}
		case FZ_SPECIAL:
			if (op.value == 0xFF)
				uart_reset(&u);
			else if (op.value >= 0xFD)
				uart_set_out2_gate(&u, op.value & 1);
			else
				(void)uart_rx_push(&u, (const uint8_t *)&op.value, 1);
			break;
		}
		FZ_ASSERT(u.rx_count <= UART_FIFO_SIZE && u.rx_head < UART_FIFO_SIZE, "RX FIFO head %u count %u",
			  u.rx_head, u.rx_count);
		FZ_ASSERT(irqs.sets[4] == 0 || irqs.level[4] == u.irq_level, "IRQ4 at %d, the UART says %d",
			  irqs.level[4], u.irq_level);
	}
	return 0;
}
