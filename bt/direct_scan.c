/* The code-page scan of --user-exec direct (bt/direct.c): which
 * instructions on a guest code page would not behave as on the guest when
 * run on the host CPU in compatibility mode.
 *
 * The page is decoded from its first byte to its last (a linear sweep,
 * with Zydis), and only the instructions the sweep finds count: a
 * segment-register opcode inside an immediate, a displacement or a jump
 * offset is not an instruction.  The first version of this scan looked at
 * bytes and refused 383 of busybox's 388 text pages (0x8C/0x8E and 0F 00-03
 * are common in offsets and constants); the sweep refuses a handful.
 *
 * A sweep can be wrong where code and data mix or instructions overlap (a
 * jump into the middle of an instruction).  What is at stake then is only
 * what the guest sees — the selector a segment read returns, or an SGDT
 * result — never the host: direct execution is fenced by the host LDT,
 * the direct view and the seccomp filter whatever the code does, and
 * direct.c checks the segment registers at every exit.
 *
 * Classes (SDM Vol. 3A 2.8 "system instruction summary", and the
 * sensitive-but-unprivileged instructions of Robin and Irvine, "Analysis
 * of the Intel Pentium's ability to support a secure virtual machine
 * monitor", 2000):
 *  - DXS_SEGMENT: reads of segment registers (MOV r/m,Sreg; PUSH Sreg)
 *    return the host LDT selector (TI = 1); loads of CS and SS (far
 *    CALL/JMP/RET, IRET, MOV/POP SS, LSS) of a guest GDT selector would
 *    name the host GDT.
 *  - DXS_SEGLOAD: loads of DS, ES, FS, GS (MOV Sreg, POP Sreg, LDS, LES,
 *    LFS, LGS).  These may run: a guest GDT selector either faults in the
 *    host GDT (then the translator runs the instruction) or names one of
 *    its DPL-3 entries, and direct.c puts the guest's descriptor in the
 *    register at the next exit (fix_segments).  i386 glibc's TLS set-up
 *    (`mov %eax,%gs`) sits on the page of the PIC thunks every function
 *    calls: refusing it sent 540,000 calls of one benchmark through a
 *    page fault and the translator.
 *  - DXS_SYSTEM: SLDT STR VERR VERW LLDT LTR (0F 00), SGDT SIDT SMSW and
 *    the rest of 0F 01 (the host's UMIP emulation answers SGDT/SIDT/SMSW
 *    for compatibility-mode code with its own values, XGETBV/RDTSCP/RDPID
 *    report the host), LAR LSL (host descriptors), SYSENTER (the host
 *    kernel rewrites EBP and EIP), SYSEXIT, SYSCALL, SYSRET, RDPMC.
 *  - DXS_RDTSC: the host's TSC — exact while the guest TSC has no offset
 *    and CR4.TSD is clear (direct.c checks at entry).
 *  - DXS_CPUID: the host's CPUID — exact when CPUID faulting is on (the
 *    instruction then faults and is emulated). */
#include <Zydis/Zydis.h>
#include <string.h>
#include "bt/bt.h"

/* The opcode (after legacy prefixes) of an instruction cut off by the end
 * of the page when the next page is unknown: may it be sensitive? */
static unsigned tail_class(const uint8_t *p, unsigned n)
{
	unsigned i = 0;
	while (i < n) {
		switch (p[i]) {
		case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
		case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
			i++;
			continue;
		}
		break;
	}
	if (i >= n)
		return DXS_SEGMENT | DXS_SYSTEM;  /* nothing but prefixes: anything may follow */
	switch (p[i]) {
	case 0x06: case 0x07: case 0x0E: case 0x16: case 0x17: case 0x1E: case 0x1F:
	case 0x8C: case 0x8E: case 0x9A: case 0xEA: case 0xCA: case 0xCB: case 0xCF:
	case 0xC4: case 0xC5: case 0xFF:
		return DXS_SEGMENT;    /* the operand may be on the next page */
	case 0x0F:
		return DXS_SEGMENT | DXS_SYSTEM | DXS_RDTSC | DXS_CPUID;
	}
	return 0;
}

static unsigned class_of(const ZydisDecodedInstruction *in)
{
	uint8_t op = in->opcode;
	if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) {
		switch (op) {
		case 0x06: case 0x0E: case 0x16: case 0x1E:       /* PUSH ES/CS/SS/DS */
		case 0x17:                                        /* POP SS */
		case 0x8C: case 0x9A: case 0xEA: case 0xCA: case 0xCB: case 0xCF:
			return DXS_SEGMENT;
		case 0x07: case 0x1F:                             /* POP ES/DS */
			return DXS_SEGLOAD;
		case 0x8E: {
			unsigned reg = in->raw.modrm.reg;         /* 0 ES, 2 SS, 3 DS, 4 FS, 5 GS */
			return (reg == 0 || reg >= 3) ? DXS_SEGLOAD : DXS_SEGMENT;
		}
		case 0xC4: case 0xC5:
			/* LES/LDS, unless it is a VEX prefix (then not this map) */
			return DXS_SEGLOAD;
		case 0xFF: {
			unsigned reg = in->raw.modrm.reg;
			return (reg == 3 || reg == 5) ? DXS_SEGMENT : 0;  /* CALL/JMP m16:32 */
		}
		}
		return 0;
	}
	if (in->opcode_map != ZYDIS_OPCODE_MAP_0F)
		return 0;
	switch (op) {
	case 0x00: case 0x01: case 0x02: case 0x03:
	case 0x05: case 0x07: case 0x33: case 0x34: case 0x35:
		return DXS_SYSTEM;
	case 0x31:
		return DXS_RDTSC;
	case 0xA2:
		return DXS_CPUID;
	case 0xA0: case 0xA8: case 0xB2:                  /* PUSH FS, PUSH GS, LSS */
		return DXS_SEGMENT;
	case 0xA1: case 0xA9: case 0xB4: case 0xB5:       /* POP FS, POP GS, LFS, LGS */
		return DXS_SEGLOAD;
	case 0xC7:
		return in->mnemonic == ZYDIS_MNEMONIC_RDPID ? DXS_SYSTEM : 0;
	}
	return 0;
}

#define LEAD_IN 64

unsigned bt_direct_scan_page(const uint8_t *page, const uint8_t *prev, const uint8_t *next)
{
	static ZydisDecoder dec;
	static bool init;
	if (!init) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
		ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
		init = true;
	}
	/* the page and what an instruction starting near its end may use of
	 * the next one (15 bytes at most, SDM Vol. 2A 2.3.11) */
	uint8_t buf[LEAD_IN + 4096 + 15];
	memcpy(buf + LEAD_IN, page, 4096);
	const unsigned end = LEAD_IN + 4096;
	unsigned avail = end;
	if (next) {
		memcpy(buf + end, next, 15);
		avail += 15;
	}
	/* The page's first bytes may finish an instruction of the previous
	 * page: a sweep from its first byte would decode that tail as
	 * instructions of its own (in busybox, an IRET, an LES and a far
	 * JMP that are not there).  Starting 64 bytes into the previous page
	 * instead, the sweep is in step by the page boundary — x86 decoding
	 * falls back into step within a few instructions — and only
	 * instructions that start on this page count. */
	unsigned off = LEAD_IN;
	if (prev) {
		memcpy(buf, prev + 4096 - LEAD_IN, LEAD_IN);
		off = 0;
	}
	unsigned classes = 0;
	ZydisDecodedInstruction in;
	while (off < end) {
		ZyanStatus st = ZydisDecoderDecodeInstruction(&dec, NULL, buf + off, avail - off, &in);
		if (st == ZYDIS_STATUS_NO_MORE_DATA && !next) {
			classes |= DXS_PARTIAL | (tail_class(buf + off, end - off) << DXS_TAIL_SHIFT);
			break;
		}
		if (!ZYAN_SUCCESS(st)) {
			off++;                  /* not an instruction (natively: #UD) */
			continue;
		}
		if (off >= LEAD_IN)
			classes |= class_of(&in);
		off += in.length;
	}
	return classes;
}
