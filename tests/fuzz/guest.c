/* The fuzz guest: runs every case of the pack appended to its image and
 * prints the canonical result text on COM1, then exits through port 0xF4.
 * Ring 0, paging off, interrupts off; the scratch area and the code sit at
 * the same addresses as in the native runner (guest RAM is identity
 * mapped). */
#include <stddef.h>
#include "fuzz.h"

extern uint32_t fz_in[9], fz_out[12], fz_fault[15], fz_tail_ptr;
extern uint8_t fz_stubs[];
int fz_enter(void);

void guest_main(void);

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}
void *memset(void *d, int c, size_t n)
{
	uint8_t *dp = d;
	while (n--)
		*dp++ = (uint8_t)c;
	return d;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void serial_putc(char ch)
{
	while (!(inb(0x3fd) & 0x20))
		;
	outb(0x3f8, (uint8_t)ch);
}
static void put(const char *s, void *ctx)
{
	(void)ctx;
	while (*s)
		serial_putc(*s++);
}

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));
static struct gate idt[256];
static struct {
	uint16_t pad, limit;
	uint32_t base;
} __attribute__((packed, aligned(4))) idtr;

static uint8_t init_buf[FZ_SCRATCH_SIZE];

static void write_cr0(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

void guest_main(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t a = (uint32_t)(uintptr_t)(fz_stubs + 16 * v);
		idt[v].off_lo = (uint16_t)a;
		idt[v].sel = 0x08;
		idt[v].zero = 0;
		idt[v].type = 0x8e;  /* present, DPL0, 32-bit interrupt gate */
		idt[v].off_hi = (uint16_t)(a >> 16);
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint32_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr.limit));
	/* a null LDTR: after reset its hidden part is base 0, limit 0xffff,
	 * and emulators differ on whether a never-loaded LDTR is usable */
	__asm__ volatile("lldt %w0" : : "r"(0));
	/* every IRQ masked at both PICs (a BIOS may have left them open) */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	const struct fz_pack *ph = (const void *)(uintptr_t)FZ_PACK_ADDR;
	if (ph->magic != FZ_PACK_MAGIC) {
		put("fuzz guest: no pack appended to the image\n", 0);
		outb(0xf4, 1);
		return;
	}
	uint8_t *scratch = (uint8_t *)(uintptr_t)FZ_SCRATCH;
	uint8_t *code = (uint8_t *)(uintptr_t)FZ_CODE;
	uint32_t off = sizeof(*ph);
	for (uint32_t k = 0; k < ph->count; k++) {
		const struct fz_case *c = (const void *)((const uint8_t *)ph + off);
		off += c->size;
		if (ph->flags & FZ_PACK_PRIV)
			write_cr0(0x33u);  /* PE MP ET NE: sequences may change TS, EM, MP */
		memcpy(code, fz_case_code(c), c->code_len);
		fz_put_tail(code + c->code_len, (uint32_t)(uintptr_t)&fz_tail_ptr);
		fz_scratch_init(c->seed, scratch);
		memcpy(fz_in, c->regs, 32);
		fz_in[8] = c->eflags;
		struct fz_result r;
		memset(&r, 0, sizeof(r));
		if (fz_enter() == 0) {
			memcpy(r.regs, fz_out, 32);
			r.eflags = fz_out[8];
			r.fs = fz_out[9];
			r.gs = fz_out[10];
			r.cr0 = fz_out[11];
		} else {
			memcpy(r.regs, fz_fault, 32);
			r.eflags = fz_fault[8];
			r.fault_eip = fz_fault[9];
			r.vector = fz_fault[10];
			r.error = fz_fault[11];
			r.fs = fz_fault[12];
			r.gs = fz_fault[13];
			r.cr0 = fz_fault[14];
			r.faulted = 1;
		}
		fz_canon(c, &r, scratch, init_buf, put, 0);
	}
	put("done\n", 0);
	/* drain the UART before exiting */
	while (!(inb(0x3fd) & 0x40))
		;
	outb(0xf4, 0);
}
