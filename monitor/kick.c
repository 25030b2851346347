/* Getting the vCPU thread's attention.  One signal (BTVM_KICK_SIGNAL) is
 * blocked on the vCPU thread at all times except while the guest runs
 * (KVM_SET_SIGNAL_MASK unblocks it inside KVM_RUN) or while the thread
 * sleeps for HLT (ppoll with the unblocked mask).  Sources: one POSIX
 * timer (timer_create, delivered to the vCPU thread by SIGEV_THREAD_ID)
 * armed for the earliest device deadline, and the console input thread. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "monitor/vm.h"

static volatile sig_atomic_t kicked;

/* Interrupts KVM_RUN and ppoll; the bt backend, which runs translated code
 * with the signal unblocked, sees the flag between blocks. */
void (*kick_hook)(void);

static void kick_handler(int sig)
{
	(void)sig;
	kicked = 1;
	if (kick_hook)
		kick_hook();
}

bool kick_pending(void)
{
	if (!kicked)
		return false;
	kicked = 0;
	return true;
}

int kick_setup(struct vm *vm, char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(BTVM_KICK_SIGNAL, &sa, NULL) < 0)
		goto fail;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, BTVM_KICK_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		goto fail;
	vm->vcpu_thread = pthread_self();

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = BTVM_KICK_SIGNAL;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->host_timer) < 0)
		goto fail;
	vm->host_timer_ok = true;
	vm->host_timer_armed = VTIME_NEVER;
	return 0;
fail:
	snprintf(err, errlen, "cannot set up the vCPU timer: %s", strerror(errno));
	return -1;
}

void kick_arm(struct vm *vm, uint64_t deadline_ns)
{
	if (!vm->host_timer_ok || deadline_ns == vm->host_timer_armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (deadline_ns != VTIME_NEVER) {
		if (deadline_ns == 0)
			deadline_ns = 1; /* 0 would disarm */
		its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	}
	timer_settime(vm->host_timer, TIMER_ABSTIME, &its, NULL);
	vm->host_timer_armed = deadline_ns;
}

void kick_consume(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, BTVM_KICK_SIGNAL);
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

void kick_vcpu(struct vm *vm)
{
	pthread_kill(vm->vcpu_thread, BTVM_KICK_SIGNAL);
}

void kick_wait(struct vm *vm, uint64_t deadline_ns)
{
	(void)vm;
	sigset_t unblocked;
	pthread_sigmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, BTVM_KICK_SIGNAL);
	struct timespec ts, *tp = NULL;
	if (deadline_ns != VTIME_NEVER) {
		uint64_t now = host_monotonic_ns();
		uint64_t d = deadline_ns > now ? deadline_ns - now : 0;
		ts.tv_sec = (time_t)(d / 1000000000ull);
		ts.tv_nsec = (long)(d % 1000000000ull);
		tp = &ts;
	}
	ppoll(NULL, 0, tp, &unblocked);
}
