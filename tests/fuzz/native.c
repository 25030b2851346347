/* The native runner: runs every case of a pack on this CPU (a 32-bit
 * process) and prints the canonical result text.  The CPU is the oracle.
 *
 *   fuzz-native PACK
 *
 * The scratch area and the code are mapped at the guest's addresses
 * (MAP_FIXED_NOREPLACE, so a collision is an error, never an overlap).  A
 * fault (SIGFPE, SIGILL, SIGTRAP, SIGSEGV, SIGBUS) is caught on an
 * alternate stack, so nothing is pushed on the sequence's stack in the
 * scratch area, and recorded with the vector the kernel reports (trapno)
 * and the registers from the ucontext. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
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

static sigjmp_buf jb;
static struct fz_result res;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
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
	res.vector = (uint32_t)g[REG_TRAPNO];
	res.fault_eip = (uint32_t)g[REG_EIP];
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
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-native PACK\n");
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
	sa.sa_sigaction = on_fault;
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
		fz_canon(c, &res, scratch, init, put, stdout);
	}
	fputs("done\n", stdout);
	fflush(stdout);
	return 0;
}
