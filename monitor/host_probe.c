/* The host probe (host_probe.h).  Each risky capability is tried in a
 * forked child with default signal dispositions and no core dumps; the
 * signal that ends the child tells the answer:
 *
 *   compat-mode   a far jump to a 32-bit code segment written with
 *                 modify_ldt, whose code is UD2: SIGILL means the CPU ran
 *                 it in compatibility mode (SDM Vol. 3A 5.2.1); SIGSEGV
 *                 means the far jump itself faulted (#GP: seen on a host
 *                 that is itself a paravirtualized guest).
 *   i386-syscall  int $0x80 from 64-bit code, under a seccomp filter that
 *                 kills on AUDIT_ARCH_I386: SIGSYS means it reached the
 *                 kernel's i386 entry (so btvm's filter can trap it);
 *                 SIGSEGV means the kernel has no such entry.
 *   sysenter      the same filter, SYSENTER from the compatibility-mode
 *                 segment: SIGSYS, or SIGILL (AMD CPUs raise #UD for
 *                 SYSENTER in long mode, APM Vol. 3 "SYSENTER").
 *   cpuid-faulting  arch_prctl(ARCH_SET_CPUID, 0) succeeds.
 * FSGSBASE is AT_HWCAP2 bit 1 (the kernel sets CR4.FSGSBASE, Linux >= 5.9);
 * KVM asks monitor/kvm_probe.c. */
#include "monitor/host_probe.h"
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "monitor/host_tsc.h"
#include "monitor/kvm_probe.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static const char *const names[HOST_CAP_COUNT] = {
	[HOST_COMPAT_MODE] = "compat-mode",
	[HOST_I386_SYSCALL] = "i386-syscall",
	[HOST_SYSENTER] = "sysenter",
	[HOST_FSGSBASE] = "fsgsbase",
	[HOST_CPUID_FAULTING] = "cpuid-faulting",
	[HOST_KVM] = "kvm",
};

static const char *const fallbacks[HOST_CAP_COUNT] = {
	[HOST_COMPAT_MODE] = "guest user code is translated (no direct execution)",
	[HOST_I386_SYSCALL] = "a guest int $0x80 run directly arrives as #GP, not SIGSYS",
	[HOST_SYSENTER] = "pages with SYSENTER are translated, not run directly",
	[HOST_FSGSBASE] = "FS/GS bases are set with arch_prctl (a host system call each)",
	[HOST_CPUID_FAULTING] = "pages with CPUID are translated, not run directly",
	[HOST_KVM] = "--accel kvm is unavailable; --accel bt runs every guest",
};

struct cap_state {
	bool probed;
	bool present;   /* on the host */
	bool masked;    /* present, but BTVM_HOST_MASK hides it */
	char why[320];  /* why absent */
};
static struct cap_state caps[HOST_CAP_COUNT];
static unsigned mask_bits;
static bool mask_read;
static char mask_bad[64];

const char *host_cap_name(enum host_cap cap)
{
	return (unsigned)cap < HOST_CAP_COUNT ? names[cap] : NULL;
}

const char *host_cap_fallback(enum host_cap cap)
{
	return (unsigned)cap < HOST_CAP_COUNT ? fallbacks[cap] : "";
}

int host_cap_parse(const char *list, unsigned *out, const char **bad)
{
	static char badbuf[64];
	*out = 0;
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ", ");
		if (n) {
			unsigned i;
			if (n == 3 && !strncmp(p, "all", 3)) {
				*out |= (1u << HOST_CAP_COUNT) - 1;
			} else {
				for (i = 0; i < HOST_CAP_COUNT; i++)
					if (strlen(names[i]) == n && !strncmp(p, names[i], n))
						break;
				if (i == HOST_CAP_COUNT) {
					snprintf(badbuf, sizeof(badbuf), "%.*s", (int)(n < 60 ? n : 60), p);
					if (bad)
						*bad = badbuf;
					return -1;
				}
				*out |= 1u << i;
			}
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

static void read_mask(void)
{
	if (mask_read)
		return;
	mask_read = true;
	const char *bad = NULL;
	if (host_cap_parse(getenv(HOST_MASK_ENV), &mask_bits, &bad) < 0) {
		snprintf(mask_bad, sizeof(mask_bad), "%s", bad);
		mask_bits = 0;
	}
}

bool host_mask_has(enum host_cap cap)
{
	read_mask();
	return (unsigned)cap < HOST_CAP_COUNT && (mask_bits & (1u << cap));
}

const char *host_mask_error(void)
{
	read_mask();
	return mask_bad[0] ? mask_bad : NULL;
}

/* ---------------------------------------------------------- the children */

/* A 32-bit flat code segment in host LDT entry 0: selector 0x07. */
static int ldt_code32(void)
{
	struct user_desc d = {
		.entry_number = 0, .base_addr = 0, .limit = 0xfffff, .seg_32bit = 1,
		.contents = MODIFY_LDT_CONTENTS_CODE, .read_exec_only = 0,
		.limit_in_pages = 1, .seg_not_present = 0, .useable = 1,
	};
	return (int)syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
}

/* Code below 4 GiB, where the 32-bit segment can reach it. */
static void *low_code(const uint8_t *code, size_t n)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p == MAP_FAILED || (uintptr_t)p >= (1ull << 32))
		return NULL;
	memcpy(p, code, n);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
		return NULL;
	return p;
}

static void jump_compat(void *code)
{
	struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp = { (uint32_t)(uintptr_t)code, 0x07 };
	__asm__ volatile("ljmpl *%0" : : "m"(fp) : "memory");
}

/* seccomp: kill the process on any i386 system call. */
static int kill_on_i386(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

enum { CHILD_SETUP_FAILED = 3 };

static void child_compat(void)
{
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	void *c = low_code(ud2, sizeof(ud2));
	if (!c || ldt_code32() < 0)
		_exit(CHILD_SETUP_FAILED);
	jump_compat(c);
	_exit(0);
}

static void child_int80(void)
{
	if (kill_on_i386() < 0)
		_exit(CHILD_SETUP_FAILED);
	__asm__ volatile("int $0x80" : : "a"(20) : "memory", "rcx", "r11");
	_exit(0);
}

static void child_sysenter(void)
{
	/* mov ebp,page ; mov esp,page ; mov eax,20 ; sysenter ; ud2.  The
	 * kernel's compat entry reads the sixth argument at [EBP] (its
	 * vDSO convention) and fails the call without running the filter
	 * when that read faults: EBP must point at readable memory. */
	uint8_t code[] = { 0xbd, 0, 0, 0, 0, 0xbc, 0, 0, 0, 0, 0xb8, 0x14, 0, 0, 0, 0x0f, 0x34, 0x0f, 0x0b };
	uint8_t *c = low_code(code, sizeof(code));
	if (!c || mprotect(c, 4096, PROT_READ | PROT_WRITE) < 0)
		_exit(CHILD_SETUP_FAILED);
	uint32_t a = (uint32_t)(uintptr_t)c + 0x800;
	memcpy(c + 1, &a, 4);
	memcpy(c + 6, &a, 4);
	if (mprotect(c, 4096, PROT_READ | PROT_EXEC) < 0 || ldt_code32() < 0 || kill_on_i386() < 0)
		_exit(CHILD_SETUP_FAILED);
	jump_compat(c);
	_exit(0);
}

static void child_cpuid_fault(void)
{
	_exit(syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) == 0 ? 0 : 1);
}

/* Runs fn in a child; its wait status, or -1 (errno) when fork failed. */
static int in_child(void (*fn)(void))
{
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		static const int sigs[] = { SIGILL, SIGSEGV, SIGBUS, SIGSYS, SIGTRAP, SIGFPE };
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		sigset_t all;
		sigemptyset(&all);
		sigaddset(&all, SIGILL); sigaddset(&all, SIGSEGV); sigaddset(&all, SIGSYS);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		fn();
		_exit(0);
	}
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

static const char *status_text(int st, char *buf, size_t n)
{
	if (st < 0)
		snprintf(buf, n, "the probe could not fork: %s", strerror(errno));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "%s", strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SETUP_FAILED)
		snprintf(buf, n, "the probe's set-up failed");
	else
		snprintf(buf, n, "exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return buf;
}

static void probe(enum host_cap cap)
{
	struct cap_state *c = &caps[cap];
	char t[96];
	int st;
	switch (cap) {
	case HOST_COMPAT_MODE:
		st = in_child(child_compat);
		c->present = st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGILL;
		if (!c->present)
			snprintf(c->why, sizeof(c->why), "a far jump to a 32-bit LDT code segment ends in %s%s",
				 status_text(st, t, sizeof(t)),
				 st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV
					 ? " (#GP: the host kernel runs no 32-bit code)" : "");
		break;
	case HOST_I386_SYSCALL:
		st = in_child(child_int80);
		c->present = st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
		if (!c->present)
			snprintf(c->why, sizeof(c->why), "int $0x80 ends in %s (the kernel has no i386 system-call entry)",
				 status_text(st, t, sizeof(t)));
		break;
	case HOST_SYSENTER:
		if (!host_has(HOST_COMPAT_MODE)) {
			c->present = false;
			snprintf(c->why, sizeof(c->why), "needs compat-mode");
			break;
		}
		st = in_child(child_sysenter);
		c->present = st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
		if (!c->present)
			snprintf(c->why, sizeof(c->why), "SYSENTER in compatibility mode ends in %s",
				 status_text(st, t, sizeof(t)));
		break;
	case HOST_FSGSBASE:
		c->present = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
		if (!c->present)
			snprintf(c->why, sizeof(c->why), "the kernel does not enable it for user space "
				 "(AT_HWCAP2 bit 1 clear: CPU before Ivy Bridge, Linux < 5.9, or a host that hides it)");
		break;
	case HOST_CPUID_FAULTING:
		st = in_child(child_cpuid_fault);
		c->present = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!c->present)
			snprintf(c->why, sizeof(c->why), "arch_prctl(ARCH_SET_CPUID, 0) is refused");
		break;
	case HOST_KVM: {
		const char *line;
		c->present = (kvm_probe(&line) & KVM_CAN_PROTECTED) != 0;
		snprintf(c->why, sizeof(c->why), "%s", line);
		break;
	}
	default:
		break;
	}
}

static struct cap_state *get(enum host_cap cap)
{
	read_mask();
	struct cap_state *c = &caps[cap];
	if (!c->probed) {
		c->probed = true;
		probe(cap);
		if (c->present && (mask_bits & (1u << cap)))
			c->masked = true;
	}
	return c;
}

void host_probe_early(void)
{
	for (unsigned i = 0; i < HOST_CAP_COUNT; i++)
		if (i != HOST_KVM)
			(void)get(i);
}

bool host_has(enum host_cap cap)
{
	if ((unsigned)cap >= HOST_CAP_COUNT)
		return false;
	struct cap_state *c = get(cap);
	return c->present && !c->masked;
}

bool host_masked(enum host_cap cap)
{
	return (unsigned)cap < HOST_CAP_COUNT && get(cap)->masked;
}

bool host_runs_i386(void)
{
	return host_has(HOST_COMPAT_MODE) && host_has(HOST_I386_SYSCALL);
}

const char *host_cap_why(enum host_cap cap)
{
	if ((unsigned)cap >= HOST_CAP_COUNT)
		return "";
	struct cap_state *c = get(cap);
	if (c->masked)
		return "masked by " HOST_MASK_ENV;
	return c->present && cap != HOST_KVM ? "" : c->why;
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

long host_max_map_count(void)
{
	return read_sysctl("/proc/sys/vm/max_map_count");
}

long host_mmap_min_addr(void)
{
	return read_sysctl("/proc/sys/vm/mmap_min_addr");
}

void host_probe_print(FILE *f)
{
	fprintf(f, "%-15s %-4s %s\n", "capability", "here", "without it / why not");
	for (unsigned i = 0; i < HOST_CAP_COUNT; i++) {
		bool yes = host_has(i);
		fprintf(f, "%-15s %-4s %s", names[i], yes ? "yes" : "no", fallbacks[i]);
		const char *why = host_cap_why(i);
		if (!yes && *why)
			fprintf(f, "\n%-15s %-4s (%s)", "", "", why);
		else if (yes && i == HOST_KVM)
			fprintf(f, "\n%-15s %-4s (%s)", "", "", why);
		fputc('\n', f);
	}
	fprintf(f, "%-15s %-4ld %s\n", "vm.max_map_count", host_max_map_count(),
		"host mappings a guest's views may use (btvm evicts within it)");
	fprintf(f, "%-15s %-4ld %s\n", "vm.mmap_min_addr", host_mmap_min_addr(),
		"lowest host address a view page may have");
	const char *how;
	uint64_t hz = host_tsc_hz(&how);
	struct cpu_model m = { .tsc_hz = hz };
	uint32_t guest_khz = cpu_model_linux_tsc_khz(&m);
	fprintf(f, "%-15s %llu.%03llu MHz (%s; %s); the guest's CPUID 15H: ", "host TSC",
		(unsigned long long)hz / 1000000, (unsigned long long)hz / 1000 % 1000, how,
		host_tsc_invariant() ? "invariant" : "not invariant");
	if (guest_khz)
		fprintf(f, "%u.%03u MHz\n", guest_khz / 1000, guest_khz % 1000);
	else
		fprintf(f, "%s\n", hz ? "no crystal (the guest calibrates)" : "none");
	const char *mode;
	if (host_has(HOST_COMPAT_MODE))
		mode = host_has(HOST_FSGSBASE)
			? "guest user code runs directly on the CPU (--user-exec direct)"
			: "guest user code runs directly on the CPU, with arch_prctl at each world switch";
	else
		mode = "guest user code is translated: this host runs no compatibility-mode code";
	fprintf(f, "bt mode: %s\n", mode);
}
