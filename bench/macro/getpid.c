/* getpid: the cheapest system call there is, a kernel entry and exit.
 * glibc (2.25+) does not cache the PID, so each call enters the kernel
 * (on i386 through the vDSO's __kernel_vsyscall: SYSENTER where the CPU
 * has it, else int 0x80). */
#define _GNU_SOURCE
#include <unistd.h>
#include "macro.h"

static pid_t me;

static const char *setup(void)
{
	me = getpid();
	return me > 0 ? NULL : "getpid() returned no PID";
}

static const char *run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (getpid() != me)
			return "getpid() changed its answer";
	return NULL;
}

const struct macro_timed macro_getpid = { setup, run, NULL };
