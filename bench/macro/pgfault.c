/* pgfault: the first write to a fresh anonymous page: a page fault, a
 * zeroed frame, a PTE write (traced by a shadow MMU) and the return.
 * Pages come in 1 MiB mappings (too small for a transparent huge page),
 * each unmapped after its pages are touched.  The process's minor-fault
 * count (getrusage) must grow by at least one per page. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include "macro.h"

#define CHUNK_PAGES 256u

static long minflt(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : -1;
}

static const char *run(uint64_t n)
{
	const long page = sysconf(_SC_PAGESIZE);
	long f0 = minflt();

	if (page <= 0 || f0 < 0)
		return "sysconf(_SC_PAGESIZE) or getrusage() failed";
	for (uint64_t left = n; left > 0;) {
		uint64_t pages = left < CHUNK_PAGES ? left : CHUNK_PAGES;
		size_t len = (size_t)pages * (size_t)page;
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return "mmap() failed";
		for (uint64_t i = 0; i < pages; i++)
			p[i * (size_t)page] = 1;
		for (uint64_t i = 0; i < pages; i++)
			if (p[i * (size_t)page] != 1)
				return "a touched page does not hold what was written";
		if (munmap((void *)p, len) != 0)
			return "munmap() failed";
		left -= pages;
	}
	if ((uint64_t)(minflt() - f0) < n)
		return "fewer page faults than pages touched";
	return NULL;
}

const struct macro_timed macro_pgfault = { NULL, run, NULL };
