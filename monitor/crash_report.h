/* When btvm itself faults (a bug of btvm's, never the guest's doing): one
 * line saying so, then what a bug report needs — the version, the host's
 * capabilities, the guest's state where the backend knows it, and a
 * backtrace of the monitor (libunwind) whose frames are module+offset
 * pairs (for `addr2line -f -e MODULE OFFSET`) followed by function+offset
 * (btvm's own symbol table, read before the sandbox; a library's exported
 * symbols) — and btvm ends with exit status 8 (BTVM_EXIT_INTERNAL).  The
 * report makes no system call but write(2) once crash_report_prepare()
 * ran, so it works inside the sandbox. */
#ifndef BTVM_MONITOR_CRASH_REPORT_H
#define BTVM_MONITOR_CRASH_REPORT_H
#include <signal.h>
#include <stddef.h>
#include <ucontext.h>

/* Primes the unwinder (its first use allocates and may open files) and
 * reads btvm's function symbols from /proc/self/exe: call before the
 * sandbox is entered. */
void crash_report_prepare(void);
/* The descriptors the unwinder opened for itself (its memory-check pipe):
 * the sandbox allows reads and writes on them. */
unsigned crash_report_unwinder_fds(const int **fds);
/* The backend's part of the report (guest EIP, CPL, mode); may be NULL.
 * Called from the signal handler: format into buf, no allocation; each
 * line of it (separated by '\n') is printed as "btvm: guest: LINE". */
typedef void (*crash_guest_fn)(char *buf, size_t len);
void crash_report_set_guest(crash_guest_fn fn);
/* Writes the report to stderr. `what` ends the first line, e.g.
 * "outside translated code". */
void crash_report(int sig, const siginfo_t *si, ucontext_t *uc, const char *what);
/* Gives the terminal back and ends btvm with BTVM_EXIT_INTERNAL (8):
 * what follows a report.  Async-signal-safe. */
void crash_report_exit(void) __attribute__((noreturn));
/* Handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE that report and exit
 * with status 8; a backend may install its own in front (bt does) and
 * call crash_report and crash_report_exit. */
void crash_report_install(void);
/* The backtrace part alone, into buf (for tests); returns the frame count. */
int crash_backtrace(ucontext_t *uc, char *buf, size_t len);
#endif
