/* descriptors: segmentation without paging: segment bases (GDT and LDT),
 * LAR/LSL/VERR/VERW results at CPL0 and CPL3, SGDT/SIDT/STR/SLDT, far
 * pointers and far calls, selector load checks. */
#include "guest.h"

enum {
	G_BASED = 6,          /* data, base = &buf, limit 0xFFF (bytes) */
	G_SMALL,              /* data, limit 15 (bytes) */
	G_PAGE0,              /* data, G=1 limit 0 (= 0xFFF) */
	G_RODATA,             /* read-only data */
	G_XOCODE,             /* execute-only code */
	G_CONF,               /* conforming readable code, DPL0 */
	G_CODE2,              /* second flat ring-0 code segment */
	G_LDT,                /* LDT descriptor */
	G_INTGATE,            /* an interrupt gate (not valid for LAR/LSL) */
	G_WRAP,               /* flat-limit data with base = &buf + 0x10000000 */
};
#define SEL(i) ((uint16_t)((i) << 3))
#define LDT_SEL(i) ((uint16_t)(((i) << 3) | 4))

static uint32_t buf[1024] ALIGNED(16);
static uint32_t buf2[16] ALIGNED(16);
static uint64_t ldt[2] ALIGNED(8);

static int lar(uint16_t sel, uint32_t *out)
{
	uint32_t v = 0xDEADBEEF;
	uint8_t zf;
	__asm__ volatile("lar %w2, %0\n\tsetz %1" : "+r"(v), "=q"(zf) : "r"((uint32_t)sel) : "cc");
	*out = v;
	return zf;
}

static int lsl(uint16_t sel, uint32_t *out)
{
	uint32_t v = 0xDEADBEEF;
	uint8_t zf;
	__asm__ volatile("lsl %w2, %0\n\tsetz %1" : "+r"(v), "=q"(zf) : "r"((uint32_t)sel) : "cc");
	*out = v;
	return zf;
}

static int verr(uint16_t sel)
{
	uint8_t zf;
	__asm__ volatile("verr %w1\n\tsetz %0" : "=q"(zf) : "r"((uint32_t)sel) : "cc");
	return zf;
}

static int verw(uint16_t sel)
{
	uint8_t zf;
	__asm__ volatile("verw %w1\n\tsetz %0" : "=q"(zf) : "r"((uint32_t)sel) : "cc");
	return zf;
}

static void setup_gdt(void)
{
	const uint8_t data = SEG_P | SEG_DPL(0) | SEG_S | SEG_WRITE | SEG_ACC;
	gdt_set(G_BASED, (uint32_t)buf, 0xFFF, data, SEG_DB);
	gdt_set(G_SMALL, (uint32_t)buf, 15, data, SEG_DB);
	gdt_set(G_PAGE0, (uint32_t)buf, 0, data, SEG_G | SEG_DB);
	gdt_set(G_RODATA, (uint32_t)buf, 0xFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_ACC, SEG_DB);
	gdt_set(G_XOCODE, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(G_CONF, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_CONF | SEG_READ | SEG_ACC,
		SEG_G | SEG_DB);
	gdt_set(G_CODE2, 0, 0xFFFFF, SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE | SEG_READ | SEG_ACC, SEG_G | SEG_DB);
	gdt_set(G_LDT, (uint32_t)ldt, sizeof(ldt) - 1, SEG_P | SEG_DPL(0) | SYS_LDT, 0);
	gdt[G_INTGATE] = make_desc(0, 0, SEG_P | SEG_DPL(0) | SYS_INTGATE32, 0);
	gdt_set(G_WRAP, (uint32_t)buf + 0x10000000u, 0xFFFFF, data, SEG_G | SEG_DB);
	ldt[0] = 0;
	ldt[1] = make_desc((uint32_t)buf2, 0x3F, data, SEG_DB);
}

static void test_tables(void)
{
	struct dtr g, i;
	__asm__ volatile("sgdt %0" : "=m"(g));
	__asm__ volatile("sidt %0" : "=m"(i));
	struct dtr wg = gdt_dtr(), wi = idt_dtr();
	CHECK(g.base == wg.base && g.limit == wg.limit, "sgdt returns the base and limit given to lgdt");
	CHECK(i.base == wi.base && i.limit == wi.limit, "sidt returns the base and limit given to lidt");
	CHECK_EQ(g.limit, GDT_ENTRIES * 8 - 1, "GDT limit is 16 entries");
	CHECK_EQ(i.limit, 256 * 8 - 1, "IDT limit is 256 gates");
	uint16_t tr, ldtr;
	__asm__ volatile("str %0" : "=r"(tr));
	__asm__ volatile("sldt %0" : "=r"(ldtr));
	CHECK_EQ(tr, SEL_TSS, "str returns the TSS selector 0x28");
	CHECK_EQ(ldtr, 0, "sldt returns 0 (no LDT loaded)");
}

static void test_bases(void)
{
	for (unsigned k = 0; k < 16; k++)
		buf[k] = 0x1000 + k;
	uint32_t a, b;
	write_fs(SEL(G_BASED));
	__asm__ volatile("movl %%fs:4, %0\n\tmovl %%fs:0x3c, %1" : "=r"(a), "=r"(b) : : "memory");
	CHECK(a == 0x1001 && b == 0x100F, "fs:offset reads base + offset (base = a kernel buffer)");
	__asm__ volatile("movl $0xabcd, %%fs:8" : : : "memory");
	CHECK_EQ(buf[2], 0xABCD, "fs:offset writes base + offset");
	write_gs(SEL(G_WRAP));
	__asm__ volatile("movl %%gs:0xf0000004, %0" : "=r"(a) : : "memory");
	CHECK_EQ(a, 0x1001, "base + offset wraps at 4 GiB");
	write_fs(SEL_KDATA);
	write_gs(SEL_KDATA);

	/* lfs: far pointer (offset, selector) */
	struct { uint32_t off; uint16_t sel; } __attribute__((packed)) fp = { 0x34, SEL(G_BASED) };
	uint32_t off;
	uint16_t fs;
	__asm__ volatile("lfs %2, %0\n\tmovw %%fs, %1" : "=r"(off), "=r"(fs) : "m"(fp) : "memory");
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(a) : "r"(off) : "memory");
	write_fs(SEL_KDATA);
	CHECK(off == 0x34 && fs == SEL(G_BASED) && a == 0x100D, "lfs loads the selector and offset of a far pointer");
}

static void test_ldt(void)
{
	buf2[3] = 0x5EED;
	uint16_t ldtr, sel = SEL(G_LDT);
	__asm__ volatile("lldt %0" : : "r"(sel));
	__asm__ volatile("sldt %0" : "=r"(ldtr));
	CHECK_EQ(ldtr, SEL(G_LDT), "sldt returns the selector given to lldt");
	uint32_t v;
	write_fs(LDT_SEL(1));
	__asm__ volatile("movl %%fs:12, %0" : "=r"(v) : : "memory");
	write_fs(SEL_KDATA);
	CHECK_EQ(v, 0x5EED, "a TI=1 selector loads from the LDT (base applied)");
	uint32_t ar, lim;
	CHECK(lar(LDT_SEL(1), &ar) && (ar & 0x00F0FF00) == 0x00409300, "lar on an LDT selector");
	CHECK(lsl(LDT_SEL(1), &lim) && lim == 0x3F, "lsl on an LDT selector: 0x3f");

	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: movw %w1, %%fs\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : "r"(LDT_SEL(2)) : "memory");
	CHECK(last_fault.count == 1 && last_fault.vector == 13 && last_fault.error == LDT_SEL(2) &&
	      last_fault.eip == at, "TI=1 selector past the LDT limit: #GP(selector)");

	sel = 0;
	__asm__ volatile("lldt %0" : : "r"(sel));
	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: movw %w1, %%fs\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : "r"(LDT_SEL(1)) : "memory");
	write_fs(SEL_KDATA);
	CHECK(last_fault.count == 1 && last_fault.vector == 13 && last_fault.error == LDT_SEL(1),
	      "TI=1 selector with a null LDTR: #GP(selector)");
	__asm__ volatile("sldt %0" : "=r"(ldtr));
	CHECK_EQ(ldtr, 0, "lldt 0 leaves a null LDTR");
}

static void test_lar_lsl(void)
{
	uint32_t v;
	/* LAR: bits 19:16 of the result are not defined by the SDM: mask them. */
	CHECK(lar(SEL_KCODE, &v) && (v & 0x00F0FF00) == 0x00C09B00, "lar 0x08: ZF=1, 0x00c09b00 (G D P DPL0 code RA)");
	CHECK(lar(SEL_KDATA, &v) && (v & 0x00F0FF00) == 0x00C09300, "lar 0x10: ZF=1, 0x00c09300 (data WA)");
	CHECK(lar(SEL_UCODE, &v) && (v & 0x00F0FF00) == 0x00C0FB00, "lar 0x1b: ZF=1, 0x00c0fb00 (DPL3 code)");
	CHECK(lar(SEL_UDATA, &v) && (v & 0x00F0FF00) == 0x00C0F300, "lar 0x23: ZF=1, 0x00c0f300 (DPL3 data)");
	CHECK(lar(SEL_TSS, &v) && (v & 0x00F0FF00) == 0x00008B00, "lar 0x28: ZF=1, 0x00008b00 (busy 32-bit TSS)");
	CHECK(lar(SEL(G_LDT), &v) && (v & 0x00F0FF00) == 0x00008200, "lar on an LDT descriptor: ZF=1, 0x00008200");
	CHECK(lar(SEL(G_CONF) | 3, &v) && (v & 0x00F0FF00) == 0x00C09F00,
	      "lar on conforming code with RPL3: ZF=1 (no privilege check)");
	CHECK(!lar(SEL_KCODE | 3, &v) && v == 0xDEADBEEF, "lar 0x0b (RPL3 > DPL0): ZF=0, destination unchanged");
	CHECK(!lar(SEL_NULL, &v) && v == 0xDEADBEEF, "lar null selector: ZF=0, destination unchanged");
	CHECK(!lar(SEL(GDT_ENTRIES), &v), "lar selector past the GDT limit: ZF=0");
	CHECK(!lar(SEL(G_INTGATE), &v), "lar on an interrupt-gate descriptor: ZF=0");

	CHECK(lsl(SEL_KDATA, &v) && v == 0xFFFFFFFF, "lsl 0x10: ZF=1, 0xffffffff (G=1)");
	CHECK(lsl(SEL(G_SMALL), &v) && v == 15, "lsl byte-granular limit 15: 15");
	CHECK(lsl(SEL(G_PAGE0), &v) && v == 0xFFF, "lsl G=1 limit 0: 0xfff");
	CHECK(lsl(SEL_TSS, &v) && v == sizeof(struct tss32) - 1, "lsl 0x28: TSS limit 0x67");
	CHECK(!lsl(SEL_NULL, &v) && v == 0xDEADBEEF, "lsl null selector: ZF=0, destination unchanged");
	CHECK(!lsl(SEL(G_INTGATE), &v), "lsl on an interrupt-gate descriptor: ZF=0");
	CHECK(!lsl(SEL_KDATA | 3, &v), "lsl 0x13 (RPL3 > DPL0): ZF=0");
}

static void test_verr_verw(void)
{
	CHECK(verr(SEL_KCODE) && !verw(SEL_KCODE), "verr/verw 0x08 (readable code): readable, not writable");
	CHECK(!verr(SEL(G_XOCODE)), "verr execute-only code: not readable");
	CHECK(verr(SEL_KDATA) && verw(SEL_KDATA), "verr/verw 0x10 (data): readable and writable");
	CHECK(verr(SEL(G_RODATA)) && !verw(SEL(G_RODATA)), "verr/verw read-only data: readable, not writable");
	CHECK(!verr(SEL_NULL) && !verw(SEL_NULL), "verr/verw null selector: ZF=0");
	CHECK(!verr(SEL_TSS) && !verw(SEL_TSS), "verr/verw TSS (system segment): ZF=0");
	CHECK(!verr(SEL_KDATA | 3), "verr 0x13 (RPL3 > DPL0): ZF=0");
	CHECK(verr(SEL(G_CONF) | 3), "verr conforming readable code with RPL3: ZF=1");
}

/* Bit n of the result = ZF of probe n, run at CPL3. */
static uint32_t user_probes(uint32_t arg)
{
	(void)arg;
	uint32_t v, r = 0;
	r |= (uint32_t)lar(SEL_KDATA, &v) << 0;
	r |= (uint32_t)lar(SEL_UDATA, &v) << 1;
	r |= (uint32_t)lsl(SEL_KCODE, &v) << 2;
	r |= (uint32_t)lsl(SEL_UCODE, &v) << 3;
	r |= (uint32_t)verr(SEL_KCODE) << 4;
	r |= (uint32_t)verr(SEL_UCODE) << 5;
	r |= (uint32_t)verw(SEL_UDATA) << 6;
	r |= (uint32_t)verr(SEL(G_CONF) | 3) << 7;
	r |= (uint32_t)lar(SEL_TSS, &v) << 8;
	return r;
}

static uint32_t user_load_conf(uint32_t arg)
{
	(void)arg;
	uint32_t v;
	write_fs(SEL(G_CONF) | 3);
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(&buf[5]) : "memory");
	return v;
}

static void test_user(void)
{
	uint32_t r = run_user(user_probes, 0, 0x2);
	CHECK_EQ(r & 0x3, 0x2, "CPL3: lar on DPL0 data ZF=0, on DPL3 data ZF=1");
	CHECK_EQ(r & 0xC, 0x8, "CPL3: lsl on DPL0 code ZF=0, on DPL3 code ZF=1");
	CHECK_EQ(r & 0x30, 0x20, "CPL3: verr on DPL0 code ZF=0, on DPL3 code ZF=1");
	CHECK_EQ(r & 0x40, 0x40, "CPL3: verw on DPL3 data ZF=1");
	CHECK_EQ(r & 0x80, 0x80, "CPL3: verr on DPL0 conforming readable code ZF=1");
	CHECK_EQ(r & 0x100, 0, "CPL3: lar on the DPL0 TSS ZF=0");
	buf[5] = 0x77;
	fault_reset();
	r = run_user(user_load_conf, 0, 0x2);
	CHECK(last_fault.count == 0 && r == 0x77, "CPL3: DPL0 conforming readable code loads into FS and reads");
}

/* Far-call target: records CS, returns with lret. */
volatile uint16_t far_cs;
extern char far_callee[];
__asm__(".text\n"
	"far_callee:\n\t"
	"movw %cs, %ax\n\t"
	"movw %ax, far_cs\n\t"
	"lret\n");

static void test_far(void)
{
	struct { uint32_t off; uint16_t sel; } __attribute__((packed)) target;
	target.off = (uint32_t)far_callee;
	target.sel = SEL(G_CODE2);
	far_cs = 0;
	__asm__ volatile("lcall *%0" : : "m"(target) : "eax", "memory");
	CHECK_EQ(far_cs, SEL(G_CODE2), "lcall through a far pointer runs with the new CS");
	CHECK_EQ(read_cs(), SEL_KCODE, "lret returns to the original CS");

	uint16_t cs_in = 0;
	__asm__ volatile("ljmp %1, $1f\n"
			 "1: movw %%cs, %0\n\t"
			 "ljmp %2, $2f\n"
			 "2:"
			 : "=r"(cs_in) : "i"(SEL(G_CODE2)), "i"(SEL_KCODE) : "memory");
	CHECK_EQ(cs_in, SEL(G_CODE2), "ljmp to another code selector reloads CS");
	CHECK_EQ(read_cs(), SEL_KCODE, "ljmp back to 0x08");

	uint32_t at;
	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: .byte 0x8e, 0xc8\n"       /* mov %ax, %cs */
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 : "=&r"(at) : "a"(SEL_KCODE));
	CHECK(last_fault.count == 1 && last_fault.vector == 6 && last_fault.eip == at, "mov to CS: #UD");

	fault_reset();
	__asm__ volatile("movl $1f, %0\n"
			 "1: movw %w1, %%ds\n"
			 "2:\n\t" ASM_FIXUP("1b", "2b")
			 "movw %w2, %%ds\n\t"
			 : "=&r"(at) : "r"(SEL_KDATA | 3), "r"(SEL_KDATA) : "memory");
	CHECK(last_fault.count == 1 && last_fault.vector == 13 && last_fault.error == SEL_KDATA,
	      "mov ds, DPL0 data with RPL3 at CPL0: #GP(0x10)");
}

void main(void)
{
	printf("descriptors: segmentation, no paging\n");
	setup_gdt();
	test_tables();
	test_bases();
	test_ldt();
	test_lar_lsl();
	test_verr_verw();
	test_user();
	test_far();
}
