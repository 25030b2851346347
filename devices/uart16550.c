/* 16550A UART.  Register semantics follow the PC16550D datasheet; the
 * interrupt logic is one function of the state (compute_iir), re-evaluated
 * after every access. */
#include "devices/uart16550.h"
#include <string.h>

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR, NREGS };

#define IER_ERBFI 0x01  /* received data available */
#define IER_ETBEI 0x02  /* THR empty */
#define IER_ELSI  0x04  /* receiver line status */
#define IER_EDSSI 0x08  /* modem status */

#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_CTI   0x0c  /* character timeout (FIFO mode) */
#define IIR_FIFO  0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_KEEP     0xc9  /* enable, DMA mode, trigger level */

#define LCR_DLAB 0x80
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTAS 0x0f

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart16550 *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };
	return level[u->fcr >> 6];
}

/* Interrupt identification, by the datasheet's priority order (Table IV):
 * line status > received data / char timeout > THR empty > modem status.
 * The character timeout is reported as soon as data below the trigger level
 * waits, instead of after four character times: drivers drain the FIFO by
 * LSR.DR either way. */
static uint8_t compute_iir(const struct uart16550 *u)
{
	uint8_t id = IIR_NONE;
	if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_OE))
		id = IIR_RLSI;
	else if ((u->ier & IER_ERBFI) && u->rx_count)
		id = fifo_on(u) && u->rx_count < rx_trigger(u) ? IIR_CTI : IIR_RDI;
	else if ((u->ier & IER_ETBEI) && u->thr_ipending)
		id = IIR_THRI;
	else if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		id = IIR_MSI;
	return id | (fifo_on(u) ? IIR_FIFO : 0);
}

/* On PC hardware the UART's OUT2 output enables the IRQ driver to the
 * PIC (out2_gate).  QEMU's 16550 (hw/char/serial.c, serial_update_irq)
 * raises its IRQ whenever IIR reports an interrupt, whatever OUT2 says,
 * and software written on QEMU relies on it: that is the default. */
static void update_irq(struct uart16550 *u)
{
	int level = !(compute_iir(u) & IIR_NONE) && (!u->out2_gate || (u->mcr & MCR_OUT2));
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

/* The modem inputs: in loopback the MCR outputs are wired back to them
 * (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD); otherwise a terminal that is
 * present and ready (CTS, DSR and DCD asserted, no ring). */
static uint8_t modem_inputs(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	uint8_t m = u->mcr;
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

static void msr_refresh(struct uart16550 *u)
{
	uint8_t now = modem_inputs(u), old = u->msr & 0xf0;
	uint8_t changed = now ^ old, delta = 0;
	if (changed & MSR_CTS)
		delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))  /* trailing edge of RI */
		delta |= MSR_TERI;
	if (changed & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = now | (u->msr & MSR_DELTAS) | delta;
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = u->rx_count = 0;
}

/* One received character.  Overrun: in FIFO mode the new character is
 * lost; in 16450 mode it replaces the unread one (PC16550D, LSR bit 1). */
static void rx_put(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		if (fifo_on(u))
			return;
		u->rx_count = 0;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static uint8_t rx_get(struct uart16550 *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

static uint8_t reg_read(struct uart16550 *u, unsigned reg)
{
	uint8_t v;
	switch (reg) {
	case RBR_THR:
		return u->lcr & LCR_DLAB ? u->dll : rx_get(u);
	case IER:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case IIR_FCR:
		v = compute_iir(u);
		/* Reading IIR clears THRE only when it is the reported source. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = false;
		return v;
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		v = (u->rx_count ? LSR_DR : 0) | u->lsr_err | LSR_THRE | LSR_TEMT;
		u->lsr_err = 0;  /* errors clear on read */
		return v;
	case MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

static void reg_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
	uint8_t old;
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_put(u, v);
		else if (u->tx)
			u->tx(u->tx_opaque, v);
		/* The write clears the THRE interrupt, but the byte has left
		 * at once, so THR is empty again and THRE is pending anew, as
		 * a real 16550 does once its shift register takes the byte. */
		u->thr_ipending = true;
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		old = u->ier;
		u->ier = v & 0x0f;
		/* Enabling ETBEI with THR empty raises THRE at once (Linux's
		 * UART_BUG_THRE / TXEN probes rely on it). */
		if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI))
			u->thr_ipending = true;
		break;
	case IIR_FCR:
		/* Changing FCR0 empties both FIFOs; other bits are only
		 * programmed while FCR0 is 1 (PC16550D, FCR description). */
		if ((v ^ u->fcr) & FCR_ENABLE)
			rx_clear(u);
		if (!(v & FCR_ENABLE)) {
			u->fcr = 0;
			break;
		}
		if (v & FCR_CLEAR_RX)
			rx_clear(u);
		u->fcr = v & FCR_KEEP;  /* FCR_CLEAR_TX: TX FIFO is always empty */
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		msr_refresh(u);
		break;
	case SCR:
		u->scr = v;
		break;
	default:
		break;  /* LSR and MSR writes are for factory test only */
	}
}

/* ISA splits wider accesses into byte cycles at consecutive ports. */
static void uart_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len,
		    bool is_write)
{
	struct uart16550 *u = opaque;
	for (unsigned i = 0; i < len; i++) {
		uint64_t reg = offset + i;
		if (reg >= NREGS) {
			if (!is_write)
				data[i] = 0xff;
		} else if (is_write) {
			reg_write(u, (unsigned)reg, data[i]);
		} else {
			data[i] = reg_read(u, (unsigned)reg);
		}
	}
	update_irq(u);
}

void uart_reset(struct uart16550 *u)
{
	rx_clear(u);
	u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
	u->dll = 0x0c;  /* 9600 baud; the datasheet leaves DLL/DLM undefined */
	u->dlm = 0;
	u->lsr_err = 0;
	u->msr = modem_inputs(u);
	u->thr_ipending = false;
	update_irq(u);
}

void uart_init(struct uart16550 *u, struct irq_line irq,
	       void (*tx)(void *opaque, uint8_t byte), void *tx_opaque)
{
	memset(u, 0, sizeof(*u));
	u->irq = irq;
	u->tx = tx;
	u->tx_opaque = tx_opaque;
	uart_reset(u);
}

void uart_set_out2_gate(struct uart16550 *u, bool gate)
{
	u->out2_gate = gate;
	update_irq(u);
}

int uart_register(struct uart16550 *u, struct io_bus *pio, uint16_t base)
{
	return io_bus_register(pio, base, NREGS, uart_io, u, "uart16550");
}

size_t uart_rx_room(const struct uart16550 *u)
{
	if (u->mcr & MCR_LOOP)  /* serial input disconnected in loopback */
		return 0;
	return u->rx_count < rx_capacity(u) ? rx_capacity(u) - u->rx_count : 0;
}

size_t uart_rx_push(struct uart16550 *u, const uint8_t *buf, size_t n)
{
	size_t room = uart_rx_room(u);
	size_t take = n < room ? n : room;
	for (size_t i = 0; i < take; i++)
		rx_put(u, buf[i]);
	update_irq(u);
	return take;
}
