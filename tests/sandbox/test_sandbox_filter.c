/* The host sandbox's filter (monitor/sandbox.c), checked call by call:
 * each case forks a child that reserves a guest-like window, installs the
 * filter with a spec describing it, and makes one system call.  Allowed
 * calls let the child exit 0; a blocked one must end it with status
 * BTVM_EXIT_SANDBOX (10) and exactly the handler's one line on stderr.
 * The end-to-end tests through the btvm binary are check_sandbox.sh. */
#include <errno.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <linux/audit.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>
#include "monitor/host_probe.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

/* A window like the bt views: 4 GiB at 4 GiB alignment. */
#define WIN_BASE 0x400000000ull
#define WIN_SIZE 0x100000000ull

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static void test_names(void **state)
{
	(void)state;
	sandbox_names_init();
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_X86_64, SYS_openat), "openat");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_X86_64, SYS_execve), "execve");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_I386, 5), "open");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_I386, 11), "execve");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_X86_64, 0x40000000 | SYS_getpid), "getpid");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_X86_64, 100000), "?");
	assert_string_equal(sandbox_syscall_name(AUDIT_ARCH_X86_64, -1), "?");
	assert_string_equal(sandbox_syscall_name(0x1234, 1), "?");
}

static void test_format(void **state)
{
	(void)state;
	sandbox_names_init();
	char buf[160];
	size_t n = sandbox_format_blocked(buf, sizeof(buf), AUDIT_ARCH_X86_64, SYS_socket);
	assert_string_equal(buf, "btvm: sandbox: blocked host system call socket (nr 41)\n");
	assert_int_equal(n, strlen(buf));
	sandbox_format_blocked(buf, sizeof(buf), AUDIT_ARCH_I386, 102);
	assert_string_equal(buf, "btvm: sandbox: blocked host system call socketcall (i386 nr 102)\n");
	sandbox_format_blocked(buf, sizeof(buf), AUDIT_ARCH_X86_64, 0x40000000 | 520);
	assert_string_equal(buf, "btvm: sandbox: blocked host system call execve (x32 nr 520)\n");
	sandbox_format_blocked(buf, sizeof(buf), 0x1234, 7);
	assert_string_equal(buf, "btvm: sandbox: blocked host system call ? (unknown architecture nr 7)\n");
	/* truncation keeps a terminated string */
	char small[12];
	n = sandbox_format_blocked(small, sizeof(small), AUDIT_ARCH_X86_64, 1);
	assert_int_equal(n, sizeof(small) - 1);
	assert_int_equal(small[sizeof(small) - 1], '\0');
}

static void test_spec(void **state)
{
	(void)state;
	struct sandbox_spec s;
	sandbox_spec_init(&s);
	assert_int_equal(s.memfd, -1);
	assert_int_equal(s.tty_fd, -1);
	assert_int_equal(s.kvm_vcpu_fd, -1);
	assert_int_equal(s.n_drives, 0);
	sandbox_spec_add_drive(&s, -1, true);
	for (int fd = 10; fd < 20; fd++)
		sandbox_spec_add_drive(&s, fd, fd & 1);
	assert_int_equal(s.n_drives, SANDBOX_MAX_DRIVES);
	assert_int_equal(s.drive_fds[1], 11);
	assert_true(s.drive_writable[1]);
	assert_false(s.drive_writable[2]);
	sandbox_spec_add_fd(s.write_fds, &s.n_write, 2);
	sandbox_spec_add_fd(s.write_fds, &s.n_write, 2);
	sandbox_spec_add_fd(s.write_fds, &s.n_write, -1);
	assert_int_equal(s.n_write, 1);
	for (int fd = 10; fd < 30; fd++)
		sandbox_spec_add_fd(s.write_fds, &s.n_write, fd);
	assert_int_equal(s.n_write, SANDBOX_MAX_FDS);
	sandbox_spec_add_remap(&s, WIN_BASE, 0);
	assert_int_equal(s.n_remap, 0);
	sandbox_spec_add_remap(&s, WIN_BASE, WIN_SIZE);
	assert_int_equal(s.n_remap, 1);
}

/* ------------------------------------------------------------ in a child */

enum op {
	OP_WRITE_OK, OP_WRITE_OTHER_FD, OP_OPENAT, OP_EXECVE, OP_SOCKET, OP_FORK, OP_PTRACE,
	OP_MMAP_MEMFD_PAGE, OP_MMAP_MEMFD_WHOLE, OP_MMAP_MEMFD_EXEC, OP_MMAP_MEMFD_OUTSIDE,
	OP_MMAP_MEMFD_NONFIXED, OP_MMAP_ANON_RESET, OP_MMAP_ANON_EXEC, OP_MMAP_ANON_MALLOC,
	OP_MMAP_OTHER_FD, OP_MPROTECT_PAGE, OP_MPROTECT_EXEC, OP_MPROTECT_TWO, OP_MUNMAP_WINDOW,
	OP_MUNMAP_PART, OP_MALLOC_BIG, OP_IOCTL_TIOCSTI, OP_TGKILL_OTHER, OP_KILL, OP_INT80,
	OP_X32, OP_PPOLL_FDS, OP_READ_OTHER, OP_SET_GS, OP_SET_FS, OP_SET_FS_SAME,
	OP_DRIVE_RW_IO, OP_DRIVE_RO_PREAD, OP_DRIVE_RO_PWRITE, OP_DRIVE_RO_FDATASYNC, OP_PREAD_OTHER,
	OP_DISPLAY_REWRITE, OP_PWRITE_OTHER, OP_FTRUNCATE_DISPLAY_ONLY,
};

static bool spec_set_gs;       /* the spec's set_gs_base for the next child */
static bool spec_set_fs;       /* the spec's set_fs_base for the next child */
static bool spec_display;      /* the spec's display_fd (--display file:) for the next child */
static unsigned long gs_base;  /* the child's GS base before the filter */

static int memfd_fd, other_fd, display_fd;
static int drive_rw_fd, drive_ro_fd;   /* a writable and a read-only drive image */

static long do_op(enum op op, int out_fd)
{
	uint8_t *win = (uint8_t *)(uintptr_t)WIN_BASE;
	switch (op) {
	case OP_WRITE_OK:
		return write(out_fd, "x", 1) == 1 ? 0 : -1;
	case OP_WRITE_OTHER_FD:
		return write(other_fd, "x", 1);
	case OP_READ_OTHER: {
		char c;
		return read(other_fd, &c, 1);
	}
	case OP_OPENAT:
		return syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	case OP_EXECVE: {
		char *const argv[] = { (char *)"true", NULL };
		return execve("/bin/true", argv, argv + 1);
	}
	case OP_SOCKET:
		return syscall(SYS_socket, 1 /* AF_UNIX */, 1, 0);
	case OP_FORK:
		return syscall(SYS_fork);
	case OP_PTRACE:
		return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	case OP_MMAP_MEMFD_PAGE:
		return mmap(win + 0x5000, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_fd, 0) ==
		       win + 0x5000 ? 0 : -1;
	case OP_MMAP_MEMFD_WHOLE:
		return mmap(win, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_fd, 0) == win ? 0 : -1;
	case OP_MMAP_MEMFD_EXEC:
		return (long)mmap(win + 0x5000, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, memfd_fd, 0);
	case OP_MMAP_MEMFD_OUTSIDE:
		/* the page just below the window */
		return (long)mmap(win - 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, memfd_fd, 0);
	case OP_MMAP_MEMFD_NONFIXED:
		return (long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, memfd_fd, 0);
	case OP_MMAP_ANON_RESET:
		return mmap(win + 0x5000, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			    -1, 0) == win + 0x5000 ? 0 : -1;
	case OP_MMAP_ANON_EXEC:
		return (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	case OP_MMAP_ANON_MALLOC:
		return mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED
		       ? -1 : 0;
	case OP_MMAP_OTHER_FD:
		return (long)mmap(win + 0x5000, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, other_fd, 0);
	case OP_MPROTECT_PAGE:
		if (mmap(win, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_fd, 0) != win)
			return -1;
		return mprotect(win + 0x3000, 4096, PROT_READ);
	case OP_MPROTECT_EXEC:
		if (mmap(win, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_fd, 0) != win)
			return -1;
		return mprotect(win + 0x3000, 4096, PROT_READ | PROT_EXEC);
	case OP_MPROTECT_TWO:
		/* two pages at once inside the window: neither one page nor
		 * the whole window from its base */
		return mprotect(win + 0x3000, 8192, PROT_READ);
	case OP_MUNMAP_WINDOW:
		return munmap(win, WIN_SIZE);
	case OP_MUNMAP_PART:
		return munmap(win + 0x3000, 4096);
	case OP_MALLOC_BIG: {
		/* above glibc's mmap threshold: mmap and munmap by free */
		char *p = malloc(8 << 20);
		if (!p)
			return -1;
		memset(p, 1, 8 << 20);
		free(p);
		return 0;
	}
	case OP_IOCTL_TIOCSTI: {
		char c = 'x';
		return ioctl(0, TIOCSTI, &c);
	}
	case OP_TGKILL_OTHER:
		return syscall(SYS_tgkill, 1, 1, 0);
	case OP_KILL:
		return syscall(SYS_kill, 1, 0);
	case OP_INT80: {
		long ret = 20; /* i386 getpid */
		__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
		return 0;
	}
	case OP_X32: {
		long ret = 0x40000000L | SYS_getpid;
		__asm__ volatile("syscall" : "+a"(ret) : : "memory", "rcx", "r11");
		return 0;
	}
	case OP_SET_GS:
		return syscall(SYS_arch_prctl, ARCH_SET_GS, gs_base);
	case OP_SET_FS:
		return syscall(SYS_arch_prctl, ARCH_SET_FS, 0x1000ul);
	case OP_SET_FS_SAME: {
		/* the FS base read and written back: TLS stays usable */
		unsigned long fs = 0;
		long r = syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
		return r < 0 ? r : syscall(SYS_arch_prctl, ARCH_SET_FS, fs);
	}
	case OP_DRIVE_RW_IO: {
		char b[512] = { 1 };
		if (pwrite(drive_rw_fd, b, sizeof(b), 512) != 512 || fdatasync(drive_rw_fd) < 0)
			return -1;
		return pread(drive_rw_fd, b, sizeof(b), 0) == 512 ? 0 : -1;
	}
	case OP_DRIVE_RO_PREAD: {
		char b[512];
		return pread(drive_ro_fd, b, sizeof(b), 0) == 512 ? 0 : -1;
	}
	case OP_DRIVE_RO_PWRITE: {
		char b[512] = { 0 };
		return pwrite(drive_ro_fd, b, sizeof(b), 0);
	}
	case OP_DRIVE_RO_FDATASYNC:
		return fdatasync(drive_ro_fd);
	case OP_PREAD_OTHER: {
		char b[1];
		return pread(other_fd, b, 1, 0);
	}
	case OP_DISPLAY_REWRITE:
		/* --display file: rewrites its file in place (monitor/display.c) */
		if (pwrite(display_fd, "screen\n", 7, 0) != 7)
			return -1;
		return ftruncate(display_fd, 7);
	case OP_PWRITE_OTHER:
		return pwrite(other_fd, "x", 1, 0);
	case OP_FTRUNCATE_DISPLAY_ONLY:
		return ftruncate(memfd_fd, 4096);
	case OP_PPOLL_FDS: {
		struct timespec ts = { 0, 0 };
		char buf[16];
		return syscall(SYS_ppoll, buf, 1, &ts, NULL, 8);
	}
	}
	return -1;
}

/* Runs op in a sandboxed child; returns its wait status and its stderr. */
static int run_child(enum op op, char *err, size_t errlen)
{
	int errpipe[2], outpipe[2];
	assert_int_equal(pipe(errpipe), 0);
	assert_int_equal(pipe(outpipe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		close(outpipe[0]);
		void *w = mmap((void *)(uintptr_t)WIN_BASE, WIN_SIZE, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		memfd_fd = memfd_create("sandbox-test", MFD_CLOEXEC);
		other_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		display_fd = memfd_create("sandbox-test-display", MFD_CLOEXEC);
		/* the drive images: anonymous files, writable and read-only */
		drive_rw_fd = memfd_create("sandbox-drive-rw", MFD_CLOEXEC);
		int ro = memfd_create("sandbox-drive-ro", MFD_CLOEXEC);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
		if (ro >= 0 && ftruncate(ro, 4096) == 0)
			drive_ro_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (w != (void *)(uintptr_t)WIN_BASE || memfd_fd < 0 || other_fd < 0 || display_fd < 0 ||
		    drive_rw_fd < 0 || drive_ro_fd <= 0 || ftruncate(memfd_fd, 1 << 20) < 0 ||
		    ftruncate(drive_rw_fd, 4096) < 0)
			_exit(99);
		struct sandbox_spec s;
		sandbox_spec_init(&s);
		sandbox_spec_add_reserved(&s, WIN_BASE, WIN_SIZE);
		sandbox_spec_add_remap(&s, WIN_BASE, WIN_SIZE);
		s.alloc_floor = WIN_BASE + WIN_SIZE;
		s.memfd = memfd_fd;
		s.set_gs_base = spec_set_gs;
		s.set_fs_base = spec_set_fs;
		if (spec_display)
			s.display_fd = display_fd;
		if (syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_base) < 0)
			_exit(99);
		sandbox_spec_add_fd(s.write_fds, &s.n_write, STDERR_FILENO);
		sandbox_spec_add_fd(s.write_fds, &s.n_write, outpipe[1]);
		sandbox_spec_add_drive(&s, drive_rw_fd, true);
		sandbox_spec_add_drive(&s, drive_ro_fd, false);
		char e[512];
		if (sandbox_install(&s, e, sizeof(e)) < 0) {
			dprintf(STDERR_FILENO, "%s\n", e);
			_exit(98);
		}
		_exit(do_op(op, outpipe[1]) < 0 ? 97 : 0);
	}
	close(errpipe[1]);
	close(outpipe[1]);
	size_t got = 0;
	ssize_t n;
	while (got + 1 < errlen && (n = read(errpipe[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(errpipe[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(outpipe[0]);
	return status;
}

static void expect_allowed(enum op op, const char *what)
{
	char err[512];
	int st = run_child(op, err, sizeof(err));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s: expected to be allowed, got status %#x, stderr '%s'", what, st, err);
	assert_string_equal(err, "");
}

static void expect_blocked(enum op op, const char *what, const char *line)
{
	char err[512];
	int st = run_child(op, err, sizeof(err));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != BTVM_EXIT_SANDBOX)
		fail_msg("%s: expected the sandbox to stop it (status 10), got status %#x, stderr '%s'", what,
			 st, err);
	if (strcmp(err, line))
		fail_msg("%s: stderr '%s', expected '%s'", what, err, line);
}

#define SKIP_UNDER_ASAN()                                                                          \
	do {                                                                                       \
		if (UNDER_ASAN) {                                                                  \
			print_message("skipped under AddressSanitizer: its runtime's own system "  \
				      "calls (shadow memory at fixed addresses) are not on the list\n"); \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

#define BLOCKED(name, nr) "btvm: sandbox: blocked host system call " name " (" nr ")\n"

static void test_allowed(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_allowed(OP_WRITE_OK, "write to an allowed fd");
	expect_allowed(OP_MMAP_MEMFD_PAGE, "memfd page into the window");
	expect_allowed(OP_MMAP_MEMFD_WHOLE, "memfd at the window's base");
	expect_allowed(OP_MMAP_ANON_RESET, "anonymous PROT_NONE page in the window");
	expect_allowed(OP_MMAP_ANON_MALLOC, "anonymous private mapping (allocator)");
	expect_allowed(OP_MALLOC_BIG, "malloc/free of 8 MiB");
	expect_allowed(OP_MPROTECT_PAGE, "mprotect of a window page");
	expect_allowed(OP_MUNMAP_WINDOW, "munmap of the whole reserved window");
	expect_allowed(OP_DRIVE_RW_IO, "pwrite64, fdatasync, pread64 on a writable drive image");
	expect_allowed(OP_DRIVE_RO_PREAD, "pread64 on a read-only drive image");
	spec_set_gs = true;
	expect_allowed(OP_SET_GS, "arch_prctl(ARCH_SET_GS) when the spec asks for it");
	spec_set_gs = false;
	spec_set_fs = true;
	expect_allowed(OP_SET_FS_SAME, "arch_prctl(ARCH_GET_FS, ARCH_SET_FS) when the spec asks for it (direct execution without FSGSBASE)");
	spec_set_fs = false;
	spec_display = true;
	expect_allowed(OP_DISPLAY_REWRITE, "pwrite64 and ftruncate on the --display file: descriptor");
	spec_display = false;
}

static void test_blocked(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	expect_blocked(OP_OPENAT, "openat", BLOCKED("openat", "nr 257"));
	expect_blocked(OP_EXECVE, "execve", BLOCKED("execve", "nr 59"));
	expect_blocked(OP_SOCKET, "socket", BLOCKED("socket", "nr 41"));
	expect_blocked(OP_FORK, "fork", BLOCKED("fork", "nr 57"));
	expect_blocked(OP_PTRACE, "ptrace", BLOCKED("ptrace", "nr 101"));
	expect_blocked(OP_WRITE_OTHER_FD, "write to another fd", BLOCKED("write", "nr 1"));
	expect_blocked(OP_READ_OTHER, "read from a fd not on the list", BLOCKED("read", "nr 0"));
	expect_blocked(OP_MMAP_MEMFD_EXEC, "memfd mapped executable", BLOCKED("mmap", "nr 9"));
	expect_blocked(OP_MMAP_MEMFD_OUTSIDE, "memfd below the window", BLOCKED("mmap", "nr 9"));
	expect_blocked(OP_MMAP_MEMFD_NONFIXED, "memfd anywhere", BLOCKED("mmap", "nr 9"));
	expect_blocked(OP_MMAP_OTHER_FD, "another fd into the window", BLOCKED("mmap", "nr 9"));
	expect_blocked(OP_MMAP_ANON_EXEC, "new executable memory", BLOCKED("mmap", "nr 9"));
	expect_blocked(OP_MPROTECT_EXEC, "mprotect to executable", BLOCKED("mprotect", "nr 10"));
	expect_blocked(OP_MPROTECT_TWO, "mprotect of two window pages", BLOCKED("mprotect", "nr 10"));
	expect_blocked(OP_MUNMAP_PART, "munmap of part of a window", BLOCKED("munmap", "nr 11"));
	expect_blocked(OP_IOCTL_TIOCSTI, "TIOCSTI on stdin", BLOCKED("ioctl", "nr 16"));
	expect_blocked(OP_TGKILL_OTHER, "tgkill to another process", BLOCKED("tgkill", "nr 234"));
	expect_blocked(OP_KILL, "kill", BLOCKED("kill", "nr 62"));
	expect_blocked(OP_PPOLL_FDS, "ppoll on descriptors", BLOCKED("ppoll", "nr 271"));
	expect_blocked(OP_DRIVE_RO_PWRITE, "pwrite64 on a read-only drive image", BLOCKED("pwrite64", "nr 18"));
	expect_blocked(OP_DRIVE_RO_FDATASYNC, "fdatasync on a read-only drive image", BLOCKED("fdatasync", "nr 75"));
	expect_blocked(OP_PREAD_OTHER, "pread64 on a fd that is no drive", BLOCKED("pread64", "nr 17"));
	expect_blocked(OP_DISPLAY_REWRITE, "pwrite64 without a --display file:", BLOCKED("pwrite64", "nr 18"));
	spec_display = true;
	expect_blocked(OP_PWRITE_OTHER, "pwrite64 on another descriptor", BLOCKED("pwrite64", "nr 18"));
	expect_blocked(OP_FTRUNCATE_DISPLAY_ONLY, "ftruncate of guest RAM", BLOCKED("ftruncate", "nr 77"));
	spec_display = false;
	expect_blocked(OP_X32, "x32 system call", BLOCKED("getpid", "x32 nr 39"));
	expect_blocked(OP_SET_GS, "arch_prctl(ARCH_SET_GS) by default", BLOCKED("arch_prctl", "nr 158"));
	spec_set_gs = true;
	expect_blocked(OP_SET_FS, "arch_prctl(ARCH_SET_FS) even with set_gs_base", BLOCKED("arch_prctl", "nr 158"));
	spec_set_gs = false;
	spec_set_fs = true;
	expect_blocked(OP_SET_GS, "arch_prctl(ARCH_SET_GS) with only set_fs_base", BLOCKED("arch_prctl", "nr 158"));
	spec_set_fs = false;
}

/* An i386 system call from 64-bit code: where the host kernel has no i386
 * entry (host_probe.h), int $0x80 is the host's own #GP (SIGSEGV) before
 * any filter sees it, which is not the sandbox's doing: skipped then. */
static void test_blocked_i386(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	if (!host_has(HOST_I386_SYSCALL)) {
		print_message("skipped: no i386 system calls on this host: %s\n", host_cap_why(HOST_I386_SYSCALL));
		skip();
	}
	expect_blocked(OP_INT80, "int $0x80 (i386)", BLOCKED("getpid", "i386 nr 20"));
}

/* A spec that does not match the address space is refused at install. */
static void test_layout_check(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *p = mmap((void *)(uintptr_t)WIN_BASE, 4096, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != (void *)(uintptr_t)WIN_BASE)
			_exit(99);
		struct sandbox_spec s;
		sandbox_spec_init(&s);
		s.alloc_floor = WIN_BASE + WIN_SIZE; /* but no reserved window declared */
		char e[512];
		int rc = sandbox_install(&s, e, sizeof(e));
		_exit(rc < 0 && strstr(e, "outside the guest windows") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_blocked),
		cmocka_unit_test(test_blocked_i386),
		cmocka_unit_test(test_layout_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
