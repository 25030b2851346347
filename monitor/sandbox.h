/* The host sandbox: a seccomp allow-list (libseccomp) installed on every
 * thread of btvm once the VM is set up and before the guest runs, so that
 * whatever reaches host code from the guest (a translator bug today, guest
 * user code in compatibility mode with direct execution later) can make
 * only the system calls the run phase needs, with the arguments it needs.
 * Anything else ends btvm with one line on stderr,
 *     btvm: sandbox: blocked host system call NAME (nr N)
 * and exit status BTVM_EXIT_SANDBOX.  docs/security.md has the threat
 * model and the reason for every allowed call. */
#ifndef BTVM_MONITOR_SANDBOX_H
#define BTVM_MONITOR_SANDBOX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

#define SANDBOX_MAX_FDS 8
#define SANDBOX_MAX_RANGES 8
#define SANDBOX_MAX_DRIVES 4

struct sandbox_range {
	uint64_t base, size;
};

/* What the run phase may touch.  sandbox_spec_init() empties it; the
 * monitor (sandbox_spec_from_vm) and the backend (its sandbox_spec hook)
 * fill it in. */
struct sandbox_spec {
	/* Guest windows reserved at start-up (monitor/guest_mem.c).  The
	 * run phase never maps anything else below alloc_floor; at exit each
	 * is unmapped whole (munmap(base, size) exactly). */
	struct sandbox_range reserved[SANDBOX_MAX_RANGES];
	unsigned n_reserved;
	/* Windows the backend remaps at run time (bt's K-view and U-view):
	 * one 4 KiB page anywhere inside, an aligned power-of-two run of pages
	 * (shadow/kview.c unmaps runs that way), or the whole window from its base:
	 * mmap of memfd (MAP_SHARED|MAP_FIXED), anonymous PROT_NONE
	 * (MAP_PRIVATE|MAP_FIXED), mprotect — never with PROT_EXEC.  Each
	 * must be a power-of-two size, aligned to it. */
	struct sandbox_range remap[SANDBOX_MAX_RANGES];
	unsigned n_remap;
	int memfd;                  /* guest RAM; -1: none */
	/* The allocator (malloc, thread stacks), btvm's image and the
	 * translation cache all live at or above this address. */
	uint64_t alloc_floor;
	int read_fds[SANDBOX_MAX_FDS];   /* read(2) */
	unsigned n_read;
	int write_fds[SANDBOX_MAX_FDS];  /* write(2) */
	unsigned n_write;
	int tty_fd;                 /* ioctl(tty_fd, TCSETS/TCGETS): restore the terminal; -1: none */
	/* The IDE drives' images (--disk, --cdrom, --drive): pread64 on each;
	 * pwrite64 and fdatasync only on the writable ones. */
	int drive_fds[SANDBOX_MAX_DRIVES];
	bool drive_writable[SANDBOX_MAX_DRIVES];
	unsigned n_drives;
	int display_fd;             /* pwrite64/ftruncate: the --display file: screen; -1: none */
	int kvm_vcpu_fd;            /* KVM_RUN, KVM_INTERRUPT, KVM_GET_REGS, KVM_GET_SREGS; -1: none */
	bool direct_exec;           /* bt --user-exec direct: executable guest code pages in the
				       low 4 GiB and modify_ldt writes (bt/direct.c) */
	bool set_gs_base;           /* arch_prctl(ARCH_SET_GS): bt's view switch where the
				       kernel does not let user space use WRGSBASE */
	bool set_fs_base;           /* arch_prctl(ARCH_SET_FS/ARCH_GET_FS): direct execution's
				       world switch without FSGSBASE (bt/direct_entry.S) */
};

void sandbox_spec_init(struct sandbox_spec *s);
void sandbox_spec_add_reserved(struct sandbox_spec *s, uint64_t base, uint64_t size);
void sandbox_spec_add_remap(struct sandbox_spec *s, uint64_t base, uint64_t size);
void sandbox_spec_add_fd(int *fds, unsigned *n, int fd);
void sandbox_spec_add_drive(struct sandbox_spec *s, int fd, bool writable);
/* The monitor's part (guest windows, console fds) plus the backend's. */
void sandbox_spec_from_vm(struct vm *vm, struct sandbox_spec *s);

/* From now on a refused call fails with ENOSYS instead of ending btvm:
 * for the crash report (crash_report.c), whose unwinder may probe memory
 * with mincore(2) and must still finish. */
void sandbox_quiet_refusals(void);
/* The last call refused that way (its number), or -1. */
int sandbox_quiet_last(void);

/* Installs the filter on all threads (SECCOMP_FILTER_FLAG_TSYNC) and the
 * SIGSYS handler.  Checks first that the process's mappings agree with
 * the spec (nothing below alloc_floor outside the reserved windows).
 * 0, or -1 with one line in err. */
int sandbox_install(const struct sandbox_spec *s, char *err, size_t errlen);
/* sandbox_spec_from_vm + sandbox_install. */
int sandbox_enter(struct vm *vm, char *err, size_t errlen);
bool sandbox_active(void);

/* Builds the table of system call names for the handler (sandbox_install
 * does it: the handler cannot call libseccomp). */
void sandbox_names_init(void);
/* The name of a system call, as the SIGSYS handler prints it ("openat"),
 * for arch = an AUDIT_ARCH_* value; "?" when unknown or before
 * sandbox_names_init(). */
const char *sandbox_syscall_name(uint32_t arch, int nr);
/* Formats the handler's line into buf (async-signal-safe); returns its
 * length. */
size_t sandbox_format_blocked(char *buf, size_t len, uint32_t arch, int nr);

/* --sandbox-selftest=KIND[:PATH] (docs/security.md): from the vCPU thread
 * while the guest runs, make a call the sandbox must stop.  KIND: open,
 * execve, socket (each creates PATH when it gets through), int80 (an i386
 * getpid through int $0x80), x32 (an x32-ABI getpid).  parse: 0, or -1
 * with one line in err. */
int sandbox_selftest_parse(const char *arg, char *err, size_t errlen);
void sandbox_selftest_run(const char *arg);
#endif
