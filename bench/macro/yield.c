/* yield: two processes on one CPU take turns through a counter in shared
 * memory, each calling sched_yield() until it is its turn: the parent
 * makes the counter odd, the child makes it even.  One round trip is two
 * hand-overs, i.e. two context switches when the scheduler does switch on
 * every yield. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "macro.h"

struct shared {
	uint32_t seq;           /* odd: the child's turn */
	uint32_t stop;
};
static struct shared *sh;
static pid_t child = -1;

static uint32_t get(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void put(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

static const char *setup(void)
{
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return "mmap(MAP_SHARED) failed";
	put(&sh->seq, 0);
	put(&sh->stop, 0);
	child = fork();
	if (child < 0)
		return "fork() failed";
	if (child == 0) {
		for (;;) {
			uint32_t s;
			while (((s = get(&sh->seq)) & 1) == 0 && !get(&sh->stop))
				sched_yield();
			if (get(&sh->stop))
				_exit(0);
			put(&sh->seq, s + 1);
		}
	}
	return NULL;
}

static const char *run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t s = get(&sh->seq);

		if (s & 1)
			return "the counter is odd at the parent's turn";
		put(&sh->seq, s + 1);
		while (get(&sh->seq) == s + 1)
			sched_yield();
		if (get(&sh->seq) != s + 2)
			return "the child did not take exactly one turn";
	}
	return NULL;
}

static const char *teardown(void)
{
	int st;

	put(&sh->stop, 1);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return "the child did not end cleanly";
	munmap(sh, 4096);
	return NULL;
}

const struct macro_timed macro_yield = { setup, run, teardown };
