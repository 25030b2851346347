/* btvm macro benchmarks: i386 Linux programs timed inside the Linux guest
 * (and natively; built for x86-64 too, for hosts that run no i386 code:
 * keep the sources free of i386-only code).  See bench/README.md, "Macro
 * benchmarks".
 *
 * Each benchmark is one file.  A "timed" benchmark does N operations per
 * call and is run by macro_timed() for a target time, reporting ns per
 * operation; a "fixed" benchmark does a fixed amount of work once and
 * reports its total time in ms.  Every benchmark checks that it did what
 * it says and returns an error text (printed as BENCH-FAIL) when not. */
#ifndef BTVM_MACRO_H
#define BTVM_MACRO_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns: the guest's own clock (see bench/README.md on
 * how each system keeps it). */
uint64_t macro_now_ns(void);

/* A timed benchmark: setup (may be NULL) once, then run(n) does n
 * operations, then teardown (may be NULL).  Each returns NULL or a
 * one-line reason it failed. */
struct macro_timed {
	const char *(*setup)(void);
	const char *(*run)(uint64_t n);
	const char *(*teardown)(void);
};

/* A fixed benchmark: does its work; *ns is the time of the part that
 * counts (so that preparing and checking the data is left out). */
typedef const char *(*macro_fixed_fn)(uint64_t *ns);

struct macro_bench {
	const char *name;
	const char *what;               /* one line, for people */
	const struct macro_timed *timed; /* exactly one of timed and fixed */
	macro_fixed_fn fixed;
};

/* Runs B: grows n until run(n) takes 1/8 of target_ms (the warm-up),
 * then times enough operations for target_ms.  Prints the result line. */
int macro_run(const struct macro_bench *b, unsigned target_ms);

/* The benchmarks, one per file. */
extern const struct macro_timed macro_getpid, macro_clock, macro_fork, macro_pipe,
	macro_yield, macro_pgfault;
const char *macro_sha256(uint64_t *ns);
const char *macro_sort(uint64_t *ns);
const char *macro_file(uint64_t *ns);

/* `macro tsc-khz`: prints the TSC's rate in kHz (tsckhz.c). */
int macro_tsc_khz(void);

/* The directory macro_file works in (BENCH_TMP, default /tmp). */
extern const char *macro_tmpdir;

#endif
