/* 16550A UART (PC16550D): 8 registers, 16-byte RX FIFO, one IRQ line.
 * Transmission is instantaneous: a THR write goes straight to tx() (or, in
 * loopback, to the RX FIFO), so THRE and TEMT are always set.  Host input
 * enters with uart_rx_push().  The IRQ follows QEMU's rule unless
 * uart_set_out2_gate() asks for PC hardware's (OUT2 gates it). */
#ifndef BTVM_DEVICES_UART16550_H
#define BTVM_DEVICES_UART16550_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/irq.h"

#define UART_FIFO_SIZE 16

struct uart16550 {
	struct irq_line irq;
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;

	uint8_t rx[UART_FIFO_SIZE];   /* RX FIFO ring (depth 1 in 16450 mode) */
	unsigned rx_head, rx_count;

	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_err;              /* latched LSR error bits (OE) */
	uint8_t msr;                  /* status bits 4-7 and delta bits 0-3 */
	bool thr_ipending;            /* THRE interrupt latched */
	int irq_level;                /* last level driven on the line */
	bool out2_gate;               /* IRQ only while MCR.OUT2 is set (PC hardware) */
};

void uart_init(struct uart16550 *u, struct irq_line irq,
	       void (*tx)(void *opaque, uint8_t byte), void *tx_opaque);
void uart_reset(struct uart16550 *u);
/* The interrupt rule.  false (the default after uart_init): QEMU's, the
 * IRQ follows IIR whatever OUT2 is.  true: PC hardware's, the IRQ driver
 * is enabled only while MCR.OUT2 is set. */
void uart_set_out2_gate(struct uart16550 *u, bool gate);
/* Claims 8 ports at base.  0, or -1 if the range is taken. */
int uart_register(struct uart16550 *u, struct io_bus *pio, uint16_t base);
/* Host input: returns how many bytes were accepted (the RX FIFO room; 0 in
 * loopback mode, where the serial input is disconnected). */
size_t uart_rx_push(struct uart16550 *u, const uint8_t *buf, size_t n);
size_t uart_rx_room(const struct uart16550 *u);
#endif
