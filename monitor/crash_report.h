/* When btvm itself faults (a bug of btvm's, never the guest's doing): one
 * line saying so, then what a bug report needs — the version, the host's
 * capabilities, the guest's state where the backend knows it, and a
 * backtrace of the monitor (libunwind) as module+offset pairs that
 * `addr2line -f -e MODULE OFFSET` turns into functions and lines.  The
 * backtrace makes no system call once crash_report_prepare() ran, so it
 * works inside the sandbox. */
#ifndef BTVM_MONITOR_CRASH_REPORT_H
#define BTVM_MONITOR_CRASH_REPORT_H
#include <signal.h>
#include <stddef.h>
#include <ucontext.h>

/* Primes the unwinder (its first use allocates and may open files): call
 * before the sandbox is entered. */
void crash_report_prepare(void);
/* The descriptors the unwinder opened for itself (its memory-check pipe):
 * the sandbox allows reads and writes on them. */
unsigned crash_report_unwinder_fds(const int **fds);
/* The backend's part of the report (guest EIP, CPL, mode); may be NULL.
 * Called from the signal handler: format into buf, no allocation. */
typedef void (*crash_guest_fn)(char *buf, size_t len);
void crash_report_set_guest(crash_guest_fn fn);
/* Writes the report to stderr. `what` ends the first line, e.g.
 * "outside translated code". */
void crash_report(int sig, const siginfo_t *si, ucontext_t *uc, const char *what);
/* Handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE that report and die;
 * a backend may install its own in front (bt does) and call crash_report. */
void crash_report_install(void);
/* The backtrace part alone, into buf (for tests); returns the frame count. */
int crash_backtrace(ucontext_t *uc, char *buf, size_t len);
#endif
