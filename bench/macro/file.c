/* file: 16 MiB written to a new file in BENCH_TMP (a tmpfs: run-all.sh
 * mounts one on /tmp in the guest; run.sh uses /dev/shm natively) in
 * 4 KiB write()s, read back in 4 KiB read()s and compared, then
 * unlinked: system calls, page-cache allocation and copies to and from
 * user space. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "macro.h"

#define SIZE (16u << 20)
#define CHUNK 4096u

static void fill(unsigned char *b, uint32_t off)
{
	for (uint32_t i = 0; i < CHUNK; i += 4) {
		uint32_t v = (off + i) * 2654435761u;
		memcpy(b + i, &v, 4);
	}
}

const char *macro_file(uint64_t *ns)
{
	static unsigned char w[CHUNK], r[CHUNK];
	char path[4096];
	const char *why = NULL;
	uint64_t t0 = macro_now_ns();
	int fd;

	snprintf(path, sizeof(path), "%s/btvm-macro-file.%ld", macro_tmpdir, (long)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0)
		return "cannot create a file in BENCH_TMP";
	for (uint32_t off = 0; off < SIZE && !why; off += CHUNK) {
		fill(w, off);
		if (write(fd, w, CHUNK) != (ssize_t)CHUNK)
			why = "write() failed (is BENCH_TMP a tmpfs with 16 MiB free?)";
	}
	if (close(fd) != 0 && !why)
		why = "close() failed";
	fd = why ? -1 : open(path, O_RDONLY);
	if (fd < 0 && !why)
		why = "cannot open the file again";
	for (uint32_t off = 0; off < SIZE && !why; off += CHUNK) {
		fill(w, off);
		if (read(fd, r, CHUNK) != (ssize_t)CHUNK)
			why = "read() came back short";
		else if (memcmp(w, r, CHUNK) != 0)
			why = "the data read back differs from what was written";
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) != 0 && !why)
		why = "unlink() failed";
	*ns = macro_now_ns() - t0;
	return why;
}
