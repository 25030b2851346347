/* --sandbox-selftest=KIND[:PATH] (repeatable): show, without help from the
 * guest, that the sandbox stops what it must.  The run loop calls
 * sandbox_selftest_run() for each, in order, from the vCPU thread at the
 * guest's first exit while it still runs, when the sandbox (unless
 * --no-sandbox) is on.  Each kind makes one
 * host call a hostile guest would want; under the sandbox it traps (one
 * "btvm: sandbox: blocked ..." line, BTVM_EXIT_SANDBOX), without it the
 * call gets through and leaves evidence: PATH created, or a line saying
 * what the call returned.  docs/security.md documents it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "monitor/host_probe.h"
#include "monitor/sandbox.h"

enum kind { K_BAD, K_OPEN, K_EXECVE, K_SOCKET, K_INT80, K_X32, K_CRASH };

static const struct {
	const char *name;
	enum kind kind;
	bool needs_path;
} kinds[] = {
	{ "open", K_OPEN, true },
	{ "execve", K_EXECVE, true },
	{ "socket", K_SOCKET, true },
	{ "int80", K_INT80, false },
	{ "x32", K_X32, false },
	{ "crash", K_CRASH, false },  /* a fault in the monitor: the crash report (crash_report.h) */
};

static enum kind parse(const char *arg, const char **path)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	*path = colon ? colon + 1 : NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == n && !strncmp(arg, kinds[i].name, n)) {
			if (kinds[i].needs_path != (*path != NULL) || (*path && !**path))
				return K_BAD;
			if (*path && strlen(*path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return K_BAD;
			return kinds[i].kind;
		}
	return K_BAD;
}

int sandbox_selftest_parse(const char *arg, char *err, size_t errlen)
{
	const char *path;
	if (parse(arg, &path) == K_BAD) {
		snprintf(err, errlen, "--sandbox-selftest: '%s' is not open:PATH, execve:PATH, socket:PATH, "
			 "int80, x32 or crash (PATH shorter than 108 bytes)", arg);
		return -1;
	}
	return 0;
}

static void report(const char *fmt, long v, const char *path)
{
	fprintf(stderr, "btvm: sandbox self-test: ");
	fprintf(stderr, fmt, v, path ? path : "");
	fputc('\n', stderr);
}

void sandbox_selftest_run(const char *arg)
{
	const char *path;
	long rc;
	switch (parse(arg, &path)) {
	case K_OPEN:
		rc = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (rc >= 0)
			close((int)rc);
		report("openat returned %ld: %s created (the sandbox is off)", rc, path);
		return;
	case K_EXECVE: {
		char *const argv[] = { (char *)"touch", (char *)path, NULL };
		char *const envp[] = { NULL };
		execve("/usr/bin/touch", argv, envp);
		report("execve of /usr/bin/touch failed (errno %ld) for %s", errno, path);
		return;
	}
	case K_SOCKET: {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sun;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		rc = fd >= 0 ? bind(fd, (struct sockaddr *)&sun, sizeof(sun)) : -1;
		if (fd >= 0)
			close(fd);
		report("socket+bind returned %ld: %s created (the sandbox is off)", rc, path);
		return;
	}
	case K_INT80: {
		/* The i386 system call gate from 64-bit code: what guest user
		 * code in compatibility mode reaches with int $0x80.  EAX = 20
		 * is getpid in the i386 table. */
		if (!host_has(HOST_I386_SYSCALL)) {
			/* the host's own #GP, not a sandbox matter (host_probe.h) */
			fprintf(stderr, "btvm: sandbox self-test: int $0x80 not made: no i386 system calls on this host (%s)\n",
				host_cap_why(HOST_I386_SYSCALL));
			return;
		}
		long ret = 20;
		__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
		report("int $0x80 (i386 getpid) returned %ld (the sandbox is off)", ret, NULL);
		return;
	}
	case K_X32: {
		/* An x32-ABI call: bit 30 set in the number (getpid = 39). */
		long ret = 0x40000000L | SYS_getpid;
		__asm__ volatile("syscall" : "+a"(ret) : : "memory", "rcx", "r11");
		report("x32 getpid returned %ld (the sandbox is off)", ret, NULL);
		return;
	}
	case K_CRASH: {
		/* a load from an address nothing maps: the monitor's own bug */
		static volatile uintptr_t where = 8;  /* opaque to the compiler */
		(void)*(volatile int *)where;
		return;
	}
	case K_BAD:
		return;
	}
}
