/* btvm guest test kit: a freestanding 32-bit runtime for guest tests.
 *
 * A test is one C file defining `void main(void)`.  The runtime has by
 * then: zeroed .bss, set up a 16 KiB stack, initialised COM1 (115200 8N1),
 * loaded its own GDT/TSS/IDT, remapped the PICs to 0x20/0x28 with every IRQ
 * masked, set CR0 = PE|MP|ET|NE (TS, EM, WP, AM, PG clear), CR4 = 0,
 * executed fninit, and left interrupts disabled (IF=0).  When main
 * returns, the runtime prints the summary line and exits (status 0 when no
 * CHECK failed, 1 otherwise).  See tests/guest/README.md. */
#ifndef GUEST_H
#define GUEST_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "guest_asm.h"

#define NORETURN __attribute__((noreturn))
#define ALIGNED(n) __attribute__((aligned(n)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- tests */
void main(void);                        /* provided by the test */

extern unsigned test_checks, test_failures;
/* CHECK(cond, fmt, ...): prints "ok - <what>" or "FAIL - <what>" (what is
 * a printf format) and counts.  Returns cond (0/1). */
#define CHECK(cond, ...) check_report(!!(cond), __VA_ARGS__)
/* CHECK_EQ(got, want, fmt, ...): same, and on failure a "#   got ..,
 * expected .." line with both values in hex. */
#define CHECK_EQ(got, want, ...) check_eq((uint32_t)(got), (uint32_t)(want), __VA_ARGS__)
int check_report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int check_eq(uint32_t got, uint32_t want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints the summary line ("PASS: n checks" or "FAIL: f of n checks
 * failed") and returns the exit status (0 or 1). */
int test_summary(void);

/* Exit through isa-debug-exit (port 0xF4): QEMU/btvm exit with
 * (status << 1) | 1.  Waits for the UART to drain first. */
NORETURN void guest_exit(uint32_t status);
/* Print "FAIL - <msg>", the summary, and exit 1. */
NORETURN void guest_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- multiboot */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;     /* KiB below 1 MiB (flags bit 0) */
	uint32_t mem_upper;     /* KiB from 1 MiB to the first hole (flags bit 0) */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
};
extern uint32_t boot_magic;                  /* EAX at entry */
extern struct multiboot_info *boot_info;     /* EBX at entry */

/* ---------------------------------------------------------------- serial / printf */
#define COM1 0x3F8
void serial_init(void);
void serial_putc(char c);                    /* "\n" goes out as "\r\n" */
void serial_puts(const char *s);
/* %d %u %x %X %s %c %% with optional '0' flag and width (e.g. %08x). */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char *fmt, va_list ap);

/* ---------------------------------------------------------------- libc bits */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---------------------------------------------------------------- port I/O */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* ---------------------------------------------------------------- CPU state */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)
#define EFLAGS_CF (1u << 0)
#define EFLAGS_ZF (1u << 6)
#define EFLAGS_TF (1u << 8)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_OF (1u << 11)
#define EFLAGS_IOPL3 (3u << 12)
#define EFLAGS_RF (1u << 16)

#define DEFINE_CR(n) \
	static inline uint32_t read_cr##n(void) { uint32_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_cr##n(uint32_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR
static inline uint32_t read_dr6(void) { uint32_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static inline void write_dr6(uint32_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }
static inline uint32_t read_eflags(void) { uint32_t v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }
static inline void write_eflags(uint32_t v) { __asm__ volatile("pushl %0; popfl" : : "r"(v) : "memory", "cc"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline void write_ds(uint16_t v) { __asm__ volatile("mov %0, %%ds" : : "r"(v) : "memory"); }
static inline void write_fs(uint16_t v) { __asm__ volatile("mov %0, %%fs" : : "r"(v) : "memory"); }
static inline void write_gs(uint16_t v) { __asm__ volatile("mov %0, %%gs" : : "r"(v) : "memory"); }

/* ---------------------------------------------------------------- descriptors */
struct dtr { uint16_t limit; uint32_t base; } __attribute__((packed));

/* access byte */
#define SEG_P        0x80
#define SEG_DPL(n)   ((n) << 5)
#define SEG_S        0x10         /* code/data (not system) */
#define SEG_CODE     0x08
#define SEG_CONF     0x04         /* code: conforming */
#define SEG_EXPDOWN  0x04         /* data: expand-down */
#define SEG_READ     0x02         /* code: readable */
#define SEG_WRITE    0x02         /* data: writable */
#define SEG_ACC      0x01         /* accessed */
#define SYS_TSS32    0x09
#define SYS_LDT      0x02
#define SYS_INTGATE32 0x0E
#define SYS_TRAPGATE32 0x0F
/* flags nibble */
#define SEG_G        0x8          /* 4 KiB granularity */
#define SEG_DB       0x4          /* 32-bit */

extern uint64_t gdt[GDT_ENTRIES];
uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* Write GDT entry idx (no reload needed: descriptors are read on load). */
void gdt_set(unsigned idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
struct dtr gdt_dtr(void);                    /* what the kit passed to lgdt */
struct dtr idt_dtr(void);                    /* what the kit passed to lidt */

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
} __attribute__((packed));
extern struct tss32 tss;                     /* esp0 = top of the kit's ring-0 trap stack */

/* ---------------------------------------------------------------- interrupts */
/* The frame built by the stubs; handlers may modify it (EIP, EFLAGS, GPRs,
 * segment registers) and the changes take effect on IRET. */
struct regs {
	uint16_t gs, gs_hi, fs, fs_hi, es, es_hi, ds, ds_hi;
	uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	uint32_t vector, error;                  /* error = 0 when the CPU pushes none */
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss;              /* only when entered from ring 3 */
};
static inline int regs_from_user(const struct regs *r) { return (r->cs & 3) != 0; }

typedef void (*isr_handler_t)(struct regs *r);
/* Install a C handler for a vector (NULL restores the default behaviour).
 * IRQ handlers must send their own EOI (pic_eoi). */
void set_handler(unsigned vec, isr_handler_t fn);
/* Gate control: every vector has a present 32-bit interrupt gate to its
 * stub, DPL0, except VEC_SYSCALL (DPL3). */
void idt_set_gate(unsigned vec, uint32_t offset, uint16_t sel, uint8_t type_attr);
void idt_set_dpl(unsigned vec, unsigned dpl);
void idt_set_present(unsigned vec, int present);
uint32_t isr_stub_addr(unsigned vec);
const char *exception_name(unsigned vec);

/* Expected faults.  Default handling of any vector without a C handler:
 *  1. fix-up table: if EIP is the start of a FIXUP entry (a fault on that
 *     instruction) the fault is recorded in `last_fault` and execution
 *     resumes at the entry's end; if EIP is the end of an entry (a trap
 *     raised by that instruction: int3, into, int n, single-step of it),
 *     it is recorded and execution continues;
 *  2. a pending fault_catch(resume): record, resume there (one shot);
 *  3. IRQ vectors 0x20..0x2F: EOI, ignored;
 *  4. anything else: "unexpected exception" with vector, error code, EIP,
 *     CR2, then FAIL and exit 1. */
struct fault_record {
	uint32_t count;                          /* faults recorded since fault_reset() */
	uint32_t vector, error, eip, cs, cr2, eflags;
};
extern volatile struct fault_record last_fault;
void fault_reset(void);
void fault_catch(uint32_t resume_eip);
void fault_record(const struct regs *r);

/* Use inside an asm statement: registers the instruction between labels
 * start and end (e.g. "1b", "2b") in the fix-up table. */
#define ASM_FIXUP(start, end) \
	".pushsection .fixup_table, \"a\"\n\t.balign 4\n\t.long " start ", " end "\n\t.popsection\n\t"

/* ---------------------------------------------------------------- PIC / PIT */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
void pic_init(void);                         /* remap to 0x20/0x28, mask all */
void pic_set_mask(uint16_t mask);            /* bit n = IRQ n masked */
uint16_t pic_get_mask(void);
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);                  /* non-specific EOI (both chips for IRQ 8-15) */
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);
static inline void set_irq_handler(unsigned irq, isr_handler_t fn) { set_handler(VEC_IRQ0 + irq, fn); }

#define PIT_HZ 1193182u
void pit_set_rate(uint32_t hz);              /* channel 0, mode 2, lo/hi */
uint16_t pit_read_count0(void);              /* latched channel 0 count */
/* Busy-wait until channel 0 has wrapped n times (polls the count, so it
 * works with interrupts off or IRQ0 masked). */
void pit_wait_periods(unsigned n);

/* ---------------------------------------------------------------- CMOS / RTC */
uint8_t cmos_read(uint8_t reg);
void cmos_write(uint8_t reg, uint8_t v);
/* Waits for no update in progress and returns the seconds register. */
uint8_t rtc_seconds(void);

/* ---------------------------------------------------------------- paging */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_PS  0x080    /* PDE: 4 MiB page */
#define PTE_G   0x100
#define PF_P    0x1      /* #PF error code bits */
#define PF_W    0x2
#define PF_U    0x4
#define PF_RSVD 0x8
#define PF_I    0x10

extern uint32_t page_dir[1024];
/* Identity map [0, 4 MiB) with 4 KiB pages and [4 MiB, 64 MiB) with 4 MiB
 * pages, all P|W|U (the kernel image is user-accessible so ring-3 code can
 * run from it).  Does not enable paging. */
void paging_identity_init(void);
/* Page-table entry for va, allocating a page table from the kit's pool if
 * the PDE is empty (and alloc).  NULL if va is covered by a 4 MiB page. */
uint32_t *pte_ptr(uint32_t va, int alloc);
static inline uint32_t *pde_ptr(uint32_t va) { return &page_dir[va >> 22]; }
void map_4k(uint32_t va, uint32_t pa, uint32_t flags);
void map_4m(uint32_t va, uint32_t pa, uint32_t flags);
/* CR4.PSE=1, CR3=page_dir, CR0.PG=1 and CR0.WP=1. */
void paging_enable(void);
void paging_disable(void);
static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void reload_cr3(void) { write_cr3(read_cr3()); }

/* ---------------------------------------------------------------- ring 3 */
typedef uint32_t (*user_fn_t)(uint32_t arg);
/* Runs fn(arg) at CPL3 (CS=SEL_UCODE, SS=DS=ES=FS=GS=SEL_UDATA) on the
 * kit's user stack with EFLAGS = `eflags` (IOPL and IF as given; use 0x2
 * for IOPL0, IF=0), returning fn's return value once fn returns (the
 * trampoline does int 0x80 with EAX=SYS_EXIT).  Faults in ring 3 follow the
 * usual rules (fix-up table works there too). */
uint32_t run_user(user_fn_t fn, uint32_t arg, uint32_t eflags);
/* Optional handler for int 0x80 with EAX != SYS_EXIT. */
void set_syscall_handler(isr_handler_t fn);
extern uint8_t user_stack[];
extern const uint32_t user_stack_size;
uint32_t user_stack_top(void);

/* internal */
void gdt_init(void);
void idt_init(void);
void cpu_init(void);
NORETURN void user_leave(uint32_t value);
uint32_t user_enter(uint32_t eip, uint32_t esp, uint32_t eflags);
extern char isr_stubs[], isr_stubs_end[], user_trampoline[];
extern char __image_start[], __image_end[];

#endif
