/* btvm guest test kit: GDT, TSS, IDT, exception dispatch, expected faults. */
#include "guest.h"

uint64_t gdt[GDT_ENTRIES] ALIGNED(8);
struct tss32 tss ALIGNED(128);
static uint64_t idt[256] ALIGNED(8);
static isr_handler_t handlers[256];
static isr_handler_t syscall_handler;
static uint8_t trap_stack[8192] ALIGNED(16);   /* TSS.esp0: entries from ring 3 */

volatile struct fault_record last_fault;
static uint32_t catch_resume;

uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t d = 0;
	d |= limit & 0xFFFFu;
	d |= (uint64_t)(base & 0xFFFFFFu) << 16;
	d |= (uint64_t)access << 40;
	d |= (uint64_t)((limit >> 16) & 0xFu) << 48;
	d |= (uint64_t)(flags & 0xFu) << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

void gdt_set(unsigned idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	if (idx >= GDT_ENTRIES)
		guest_panic("gdt_set: index %u out of range", idx);
	gdt[idx] = make_desc(base, limit, access, flags);
}

struct dtr gdt_dtr(void)
{
	struct dtr d = { sizeof(gdt) - 1, (uint32_t)gdt };
	return d;
}

struct dtr idt_dtr(void)
{
	struct dtr d = { sizeof(idt) - 1, (uint32_t)idt };
	return d;
}

void gdt_init(void)
{
	/* The accessed bit is preset everywhere so the CPU never has to write
	 * the GDT and LAR results do not depend on history. */
	gdt[0] = 0;
	gdt_set(1, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(2, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(3, 0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(4, 0, 0xFFFFF, SEG_P | SEG_DPL(3) | SEG_S | SEG_WRITE | SEG_ACC, SEG_G | SEG_DB);

	memset(&tss, 0, sizeof(tss));
	tss.ss0 = SEL_KDATA;
	tss.esp0 = (uint32_t)(trap_stack + sizeof(trap_stack));
	tss.iomap_base = sizeof(tss);            /* no I/O bitmap: all ports #GP at CPL3/IOPL0 */
	gdt_set(5, (uint32_t)&tss, sizeof(tss) - 1, SEG_P | SEG_DPL(0) | SYS_TSS32, 0);

	struct dtr d = gdt_dtr();
	__asm__ volatile(
		"lgdt %0\n\t"
		"ljmp %1, $1f\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3\n\t"
		"xorl %%eax, %%eax\n\t"
		"lldt %%ax\n\t"
		: : "m"(d), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS) : "eax", "memory");
}

/* ---------------------------------------------------------------- IDT */
uint32_t isr_stub_addr(unsigned vec)
{
	return (uint32_t)isr_stubs + vec * ISR_STUB_SIZE;
}

void idt_set_gate(unsigned vec, uint32_t offset, uint16_t sel, uint8_t type_attr)
{
	idt[vec & 0xFF] = (uint64_t)(offset & 0xFFFFu) | ((uint64_t)sel << 16) |
			  ((uint64_t)type_attr << 40) | ((uint64_t)(offset >> 16) << 48);
}

void idt_set_dpl(unsigned vec, unsigned dpl)
{
	idt[vec & 0xFF] = (idt[vec & 0xFF] & ~(3ull << 45)) | ((uint64_t)(dpl & 3) << 45);
}

void idt_set_present(unsigned vec, int present)
{
	if (present)
		idt[vec & 0xFF] |= 1ull << 47;
	else
		idt[vec & 0xFF] &= ~(1ull << 47);
}

void idt_init(void)
{
	if ((uint32_t)(isr_stubs_end - isr_stubs) != 256 * ISR_STUB_SIZE)
		guest_panic("isr stubs are not %u bytes apart", ISR_STUB_SIZE);
	for (unsigned v = 0; v < 256; v++)
		idt_set_gate(v, isr_stub_addr(v), SEL_KCODE, SEG_P | SEG_DPL(0) | SYS_INTGATE32);
	idt_set_dpl(VEC_SYSCALL, 3);
	struct dtr d = idt_dtr();
	__asm__ volatile("lidt %0" : : "m"(d));
}

void set_handler(unsigned vec, isr_handler_t fn)
{
	handlers[vec & 0xFF] = fn;
}

void set_syscall_handler(isr_handler_t fn)
{
	syscall_handler = fn;
}

const char *exception_name(unsigned vec)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23",
		"24", "25", "26", "27", "28", "29", "30", "31",
	};
	if (vec < 32)
		return names[vec];
	if (vec >= VEC_IRQ0 && vec < VEC_IRQ0 + 16)
		return "IRQ";
	return "INT";
}

/* ---------------------------------------------------------------- faults */
void fault_reset(void)
{
	memset((void *)&last_fault, 0, sizeof(last_fault));
	catch_resume = 0;
}

void fault_catch(uint32_t resume_eip)
{
	catch_resume = resume_eip;
}

void fault_record(const struct regs *r)
{
	last_fault.count++;
	last_fault.vector = r->vector;
	last_fault.error = r->error;
	last_fault.eip = r->eip;
	last_fault.cs = r->cs;
	last_fault.eflags = r->eflags;
	last_fault.cr2 = r->vector == 14 ? read_cr2() : 0;
}

struct fixup { uint32_t start, end; };
extern const struct fixup __fixup_start[], __fixup_end[];

static int try_fixup(struct regs *r)
{
	for (const struct fixup *f = __fixup_start; f < __fixup_end; f++) {
		if (r->eip == f->start) {               /* fault: skip the instruction */
			fault_record(r);
			r->eip = f->end;
			return 1;
		}
	}
	for (const struct fixup *f = __fixup_start; f < __fixup_end; f++) {
		if (r->eip == f->end) {                 /* trap: already past it */
			fault_record(r);
			return 1;
		}
	}
	return 0;
}

static void NORETURN unexpected(struct regs *r)
{
	uint32_t cr2 = read_cr2();
	printf("unexpected exception: vector %u (%s) error 0x%x at %04x:%08x eflags %08x cr2 %08x\n",
	       r->vector, exception_name(r->vector), r->error, r->cs & 0xFFFF, r->eip, r->eflags, cr2);
	guest_panic("unexpected exception");
}

void isr_dispatch(struct regs *r);
void isr_dispatch(struct regs *r)
{
	unsigned v = r->vector & 0xFF;
	if (handlers[v]) {
		handlers[v](r);
		return;
	}
	if (v == VEC_SYSCALL && regs_from_user(r)) {
		if (r->eax == SYS_EXIT)
			user_leave(r->ebx);
		if (syscall_handler) {
			syscall_handler(r);
			return;
		}
	}
	if (try_fixup(r))
		return;
	if (catch_resume) {
		fault_record(r);
		r->eip = catch_resume;
		catch_resume = 0;
		return;
	}
	if (v >= VEC_IRQ0 && v < VEC_IRQ0 + 16) {
		unsigned irq = v - VEC_IRQ0;
		/* A spurious IRQ 7/15 has no ISR bit and gets no EOI. */
		if ((irq & 7) != 7 || (pic_read_isr() & (1u << irq)))
			pic_eoi(irq);
		return;
	}
	unexpected(r);
}
