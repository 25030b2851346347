/* Constants shared by the kit's assembly and C code. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define MB_HEADER_MAGIC   0x1BADB002
#define MB_HEADER_FLAGS   0x00000003   /* bit 0: page-align modules, bit 1: memory info */
#define MB_BOOT_MAGIC     0x2BADB002   /* in EAX at entry */

/* GDT layout (selectors) */
#define SEL_NULL   0x00
#define SEL_KCODE  0x08   /* flat ring-0 code */
#define SEL_KDATA  0x10   /* flat ring-0 data */
#define SEL_UCODE  0x1B   /* flat ring-3 code (index 3, RPL 3) */
#define SEL_UDATA  0x23   /* flat ring-3 data (index 4, RPL 3) */
#define SEL_TSS    0x28   /* 32-bit TSS */
#define GDT_FIRST_FREE 6  /* indices 6..GDT_ENTRIES-1 are free for tests */
#define GDT_ENTRIES 16

#define VEC_IRQ0     0x20  /* master PIC base */
#define VEC_IRQ8     0x28  /* slave PIC base */
#define VEC_SYSCALL  0x80  /* DPL3 interrupt gate */
#define SYS_EXIT     0     /* int 0x80, EAX=0: leave ring 3, EBX = value */

#define BOOT_STACK_SIZE 16384
#define ISR_STUB_SIZE 16

#endif
