/* fork: process creation and teardown.  The parent's address space is a
 * static binary's (small), so this is mostly copying page tables, the
 * child's first faults, exit and the reaping. */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <unistd.h>
#include "macro.h"

static const char *run(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int st;
		pid_t pid = fork();

		if (pid < 0)
			return "fork() failed";
		if (pid == 0)
			_exit(7);
		if (waitpid(pid, &st, 0) != pid)
			return "waitpid() failed";
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
			return "the child did not exit with its status";
	}
	return NULL;
}

const struct macro_timed macro_fork = { NULL, run, NULL };
