/* pipe: a round trip of one byte between two processes over two pipes:
 * two writes, two reads, and two context switches (one CPU), the wake-up
 * path of the scheduler included. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "macro.h"

static int to_child = -1, from_child = -1;
static pid_t child = -1;

static const char *setup(void)
{
	int a[2], b[2];

	if (pipe(a) != 0 || pipe(b) != 0)
		return "pipe() failed";
	child = fork();
	if (child < 0)
		return "fork() failed";
	if (child == 0) {
		unsigned char c;

		close(a[1]);
		close(b[0]);
		/* The echo: every byte comes back plus one; EOF ends it. */
		while (read(a[0], &c, 1) == 1) {
			c++;
			if (write(b[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	to_child = a[1];
	from_child = b[0];
	return NULL;
}

static const char *run(uint64_t n)
{
	unsigned char c = 0, r;

	for (uint64_t i = 0; i < n; i++, c++) {
		if (write(to_child, &c, 1) != 1)
			return "write() to the pipe failed";
		if (read(from_child, &r, 1) != 1)
			return "read() from the pipe failed";
		if (r != (unsigned char)(c + 1))
			return "the echo came back wrong";
	}
	return NULL;
}

static const char *teardown(void)
{
	int st;

	close(to_child);
	close(from_child);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return "the echo process did not end cleanly";
	return NULL;
}

const struct macro_timed macro_pipe = { setup, run, teardown };
