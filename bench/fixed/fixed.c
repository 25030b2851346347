/* btvm fixed-work guest: the loops of the nanobenchmarks (bench/common) run
 * a fixed number of times, so that the CPU time of the whole emulator run
 * (bench/cpu-time.sh: perf stat -e task-clock) compares two builds or two
 * settings on a loaded host, where the wall-clock nanobenchmarks vary 2-3x
 * (a preempted emulator accumulates no CPU time).  Command line words:
 *   c=N   N turns of the compute loop at CPL 0
 *   k=N   N call/ret pairs (16-deep recursion) at CPL 0
 *   u=N   N turns of the usercompute loop at CPL 3, paging on
 * Prints "fixed: result XXXXXXXX" (it depends on every turn) and exits. */
#include "guest.h"
#include "ops.h"

static uint32_t table[256];
static uint32_t buf[16384] ALIGNED(4096);
static uint32_t n_user;

/* "KEY=N" among the command line's words, else 0 */
static uint32_t word(char key)
{
	if (!boot_info || !(boot_info->flags & (1u << 2)) || !boot_info->cmdline)
		return 0;
	const char *start = (const char *)boot_info->cmdline;
	for (const char *p = start; *p; p++)
		if (p[0] == key && p[1] == '=' && (p == start || p[-1] == ' ')) {
			uint32_t n = 0;
			for (p += 2; *p >= '0' && *p <= '9'; p++)
				n = n * 10 + (uint32_t)(*p - '0');
			return n;
		}
	return 0;
}

static uint32_t user_loop(uint32_t arg)
{
	(void)arg;
	return ops_usercompute_loop(n_user, buf);
}

void main(void)
{
	uint32_t c = word('c'), k = word('k'), r = 0;
	n_user = word('u');
	if (c)
		r ^= ops_compute_loop(c, table);
	if (k)
		ops_callret_loop(k);
	if (n_user) {
		paging_identity_init();
		paging_enable();
		r ^= run_user(user_loop, 0, 0x202);
		paging_disable();
	}
	printf("fixed: result %08x\n", r);
}
