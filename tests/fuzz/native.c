/* The native runner: runs every case of a pack on this CPU (a 32-bit
 * process) and prints the canonical result text.  The CPU is the oracle;
 * on a host that runs no i386 code, run-fuzz.sh runs this same program
 * under qemu-i386 (user-mode emulation) instead (README.md, "The oracle").
 *
 *   fuzz-native [--no-trapno] PACK
 *
 * The scratch area and the code are mapped at the guest's addresses
 * (MAP_FIXED_NOREPLACE, so a collision is an error, never an overlap).  A
 * fault (SIGFPE, SIGILL, SIGTRAP, SIGSEGV, SIGBUS) is caught on an
 * alternate stack, so nothing is pushed on the sequence's stack in the
 * scratch area, and recorded with the registers from the ucontext and a
 * vector classified from the signal, its si_code and the instruction
 * bytes at the faulting EIP (classify below).  The kernel's trapno is
 * used where it is one of the vectors that signal can carry: qemu-user
 * leaves it at -1, the kernel fills it (--no-trapno ignores it, to check
 * the classification against the kernel). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "fuzz.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

extern uint32_t fz_in[9], fz_out[9];
extern uint32_t fz_tail_ptr;
int fz_enter(void);

/* the entry of the fault handler (native_asm.S): clears DF and AC, which
 * the kernel clears on signal delivery but qemu-user does not, then jumps
 * to fz_on_fault */
void fz_fault_entry(int sig, siginfo_t *si, void *ucv);

static sigjmp_buf jb;
static struct fz_result res;
static bool use_trapno = true;
/* the last fault: what the kernel said and what the classification said
 * (main reports a disagreement) */
static int fault_trapno, fault_decoded;

#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

/* Is the byte at addr inside the code area (where the sequence runs)? */
static bool in_code(uint32_t addr, uint32_t len)
{
	return addr >= FZ_CODE && addr - FZ_CODE <= FZ_CODE_SIZE - len;
}

static uint8_t code_byte(uint32_t addr)
{
	return *(const volatile uint8_t *)(uintptr_t)addr;
}

/* The opcode byte of the instruction at eip, past its legacy prefixes
 * (-1 when it is not in the code area). */
static int opcode_at(uint32_t eip)
{
	for (unsigned i = 0; i < 15 && in_code(eip + i, 1); i++) {
		uint8_t b = code_byte(eip + i);
		switch (b) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
			continue;
		default:
			return b;
		}
	}
	return -1;
}

/* Bit set of the vectors Linux delivers with this signal and si_code. */
static uint32_t vectors_of(int sig, int code)
{
	switch (sig) {
	case SIGFPE:
		return code == FPE_INTDIV || code == FPE_INTOVF ? 1u << 0 : 1u << 16 | 1u << 19;
	case SIGILL:
		return 1u << 6;
	case SIGTRAP:
		return 1u << 1 | 1u << 3;
	case SIGSEGV:
		return code == SI_KERNEL ? 1u << 4 | 1u << 5 | 1u << 10 | 1u << 13 : 1u << 14;
	case SIGBUS:
		return code == BUS_ADRALN ? 1u << 17 : code == SI_KERNEL ? 1u << 11 | 1u << 12 : 1u << 14;
	default:
		return 0;
	}
}

/* The vector of a fault, from the signal, si_code and the instruction
 * bytes around the faulting EIP (a trap's EIP is past the instruction, a
 * fault's at it), as Linux maps them (arch/x86/kernel/traps.c):
 *   SIGFPE FPE_INTDIV          #DE 0 (div, idiv, aam 0)
 *   SIGFPE other               #MF 16, #XM 19 (0f-prefixed: SSE)
 *   SIGILL                     #UD 6
 *   SIGTRAP after cc / cd 03   #BP 3 (int3, int 3: traps)
 *   SIGTRAP after f1, or not   #DB 1 (int1/icebp: si_code TRAP_BRKPT)
 *     SI_KERNEL
 *   SIGSEGV SI_KERNEL at 62    #BR 5 (bound: a fault)
 *   SIGSEGV SI_KERNEL after ce #OF 4 (into: a trap)
 *   SIGSEGV SI_KERNEL other    #GP 13
 *   SIGSEGV SEGV_MAPERR/ACCERR #PF 14
 *   SIGBUS BUS_ADRALN          #AC 17; SI_KERNEL: #SS 12; other: #PF 14
 * -1 when the signal is none of these. */
static int classify(int sig, int code, uint32_t eip)
{
	switch (sig) {
	case SIGFPE:
		if (code == FPE_INTDIV || code == FPE_INTOVF)
			return 0;
		return opcode_at(eip) == 0x0f ? 19 : 16;
	case SIGILL:
		return 6;
	case SIGTRAP:
		if (in_code(eip - 1, 1) && code_byte(eip - 1) == 0xcc)
			return 3;
		if (in_code(eip - 2, 2) && code_byte(eip - 2) == 0xcd && code_byte(eip - 1) == 0x03)
			return 3;
		if (in_code(eip - 1, 1) && code_byte(eip - 1) == 0xf1)
			return 1;
		return code == SI_KERNEL ? 3 : 1;
	case SIGSEGV:
		if (code != SI_KERNEL)
			return 14;
		if (opcode_at(eip) == 0x62)
			return 5;
		if (in_code(eip - 1, 1) && code_byte(eip - 1) == 0xce)
			return 4;
		return 13;
	case SIGBUS:
		return code == BUS_ADRALN ? 17 : code == SI_KERNEL ? 12 : 14;
	default:
		return -1;
	}
}

/* Reached through fz_fault_entry, on the alternate stack. */
void fz_on_fault(int sig, siginfo_t *si, void *ucv);
void fz_on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	res.regs[0] = (uint32_t)g[REG_EAX];
	res.regs[1] = (uint32_t)g[REG_ECX];
	res.regs[2] = (uint32_t)g[REG_EDX];
	res.regs[3] = (uint32_t)g[REG_EBX];
	res.regs[4] = (uint32_t)g[REG_ESP];
	res.regs[5] = (uint32_t)g[REG_EBP];
	res.regs[6] = (uint32_t)g[REG_ESI];
	res.regs[7] = (uint32_t)g[REG_EDI];
	res.eflags = (uint32_t)g[REG_EFL];
	res.fault_eip = (uint32_t)g[REG_EIP];
	int trapno = (int)g[REG_TRAPNO];
	int vec = classify(sig, si->si_code, res.fault_eip);
	bool kernel_says = use_trapno && trapno >= 0 && trapno < 32 &&
			   (vectors_of(sig, si->si_code) >> trapno & 1);
	fault_trapno = kernel_says ? trapno : -1;
	fault_decoded = vec;
	/* the kernel's word where it is one this signal can carry; else the
	 * classification; else whatever trapno holds (visible, never hidden) */
	res.vector = (uint32_t)(kernel_says ? trapno : vec >= 0 ? vec : trapno);
	res.faulted = 1;
	siglongjmp(jb, 1);
}

static void put(const char *str, void *ctx)
{
	fputs(str, (FILE *)ctx);
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot)
{
	void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
		fprintf(stderr, "fuzz-native: cannot map %#x bytes at %#x: %s\n", size, addr,
			p == MAP_FAILED ? strerror(errno) : "the kernel chose another address (no MAP_FIXED_NOREPLACE?)");
		exit(2);
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--no-trapno")) {
		use_trapno = false;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-native [--no-trapno] PACK\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "fuzz-native: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	static uint8_t pack[FZ_PACK_MAX];
	size_t n = fread(pack, 1, sizeof(pack), f);
	fclose(f);
	const struct fz_pack *ph = (const void *)pack;
	if (n < sizeof(*ph) || ph->magic != FZ_PACK_MAGIC || ph->size != n) {
		fprintf(stderr, "fuzz-native: %s: not a fuzz pack (or truncated)\n", argv[1]);
		return 2;
	}

	uint8_t *scratch = map_fixed(FZ_SCRATCH, FZ_SCRATCH_SIZE, PROT_READ | PROT_WRITE);
	uint8_t *code = map_fixed(FZ_CODE, FZ_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);

	stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0 };
	if (!ss.ss_sp || sigaltstack(&ss, NULL) < 0) {
		perror("fuzz-native: sigaltstack");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_fault_entry;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGFPE, SIGILL, SIGTRAP, SIGSEGV, SIGBUS };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);

	static uint8_t init[FZ_SCRATCH_SIZE];
	size_t off = sizeof(*ph);
	for (uint32_t k = 0; k < ph->count; k++) {
		const struct fz_case *c = (const void *)(pack + off);
		if (off + sizeof(*c) > n || c->size < sizeof(*c) || off + c->size > n || c->code_len > FZ_MAX_CODE) {
			fprintf(stderr, "fuzz-native: case %u: malformed\n", k);
			return 2;
		}
		off += c->size;

		memcpy(code, fz_case_code(c), c->code_len);
		fz_put_tail(code + c->code_len, (uint32_t)(uintptr_t)&fz_tail_ptr);
		fz_scratch_init(c->seed, scratch);
		memcpy(fz_in, c->regs, 32);
		fz_in[8] = c->eflags;
		memset(&res, 0, sizeof(res));
		alarm(10);
		if (sigsetjmp(jb, 1) == 0) {
			fz_enter();
			memcpy(res.regs, fz_out, 32);
			res.eflags = fz_out[8];
		}
		alarm(0);
		if (res.faulted && fault_trapno >= 0 && fault_trapno != fault_decoded)
			fprintf(stderr, "fuzz-native: note: case %u: the kernel says vector %d, "
				"the classification %d (at eip %#x)\n", c->seed, fault_trapno, fault_decoded,
				res.fault_eip);
		fz_canon(c, &res, scratch, init, put, stdout);
		/* each case's text out before the next runs: when a runner
		 * (qemu-user) dies in a case, the cases before it are kept */
		fflush(stdout);
	}
	fputs("done\n", stdout);
	fflush(stdout);
	return 0;
}
