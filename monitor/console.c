/* COM1 console: output to stdout or a file, input from stdin when stdin is
 * a terminal, a pipe or a file (as QEMU's -serial stdio).  A reader thread moves stdin bytes into a small
 * ring and kicks the vCPU thread, which feeds the UART as its receive FIFO
 * has room (console_pump, called from the run loop).  On a terminal, line
 * buffering, echo and signal keys are turned off (the guest echoes, and
 * Ctrl-C reaches the guest's shell) and restored at exit; as in QEMU,
 * Ctrl-A is an escape: Ctrl-A x quits (status 0), Ctrl-A Ctrl-A sends one
 * Ctrl-A, Ctrl-A h lists the keys (console_escape.c). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "monitor/console_escape.h"
#include "monitor/vm.h"

#define RING 4096

static struct {
	pthread_mutex_t lock;
	pthread_cond_t room;
	uint8_t buf[RING];
	size_t head, len;
	bool running;
	bool escapes;       /* stdin is a terminal: Ctrl-A commands */
	struct console_escape esc;
	volatile bool quit; /* Ctrl-A x: the vCPU thread ends the run */
	struct vm *vm;
} in = { .lock = PTHREAD_MUTEX_INITIALIZER, .room = PTHREAD_COND_INITIALIZER };

static struct termios saved_tio;
static bool tio_saved;

void console_restore(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = false;
	}
}

static void restore_and_die(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *reader(void *arg)
{
	(void)arg;
	uint8_t b[256];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, b, sizeof(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF or error: no more input, the guest keeps running */
		pthread_mutex_lock(&in.lock);
		for (ssize_t i = 0; i < n; i++) {
			uint8_t out[2];
			unsigned nout = 1;
			out[0] = b[i];
			if (in.escapes) {
				enum console_action a = console_escape_feed(&in.esc, b[i], out, &nout);
				if (a == CONSOLE_QUIT)
					in.quit = true;
				else if (a == CONSOLE_HELP)
					console_escape_help(STDERR_FILENO);
			}
			for (unsigned k = 0; k < nout; k++) {
				while (in.len == RING)
					pthread_cond_wait(&in.room, &in.lock);
				in.buf[(in.head + in.len) % RING] = out[k];
				in.len++;
			}
		}
		pthread_mutex_unlock(&in.lock);
		kick_vcpu(in.vm);
	}
	return NULL;
}

int console_setup(struct vm *vm, char *err, size_t errlen)
{
	vm->serial_fd = -1;
	switch (vm->cfg->serial) {
	case SERIAL_NONE:
		return 0;
	case SERIAL_FILE:
		vm->serial_fd = open(vm->cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (vm->serial_fd < 0) {
			snprintf(err, errlen, "--serial: cannot open '%s': %s", vm->cfg->serial_path, strerror(errno));
			return -1;
		}
		return 0;
	case SERIAL_STDIO:
		vm->serial_fd = STDOUT_FILENO;
		break;
	}

	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0)
		return 0;
	bool tty = isatty(STDIN_FILENO);
	if (!tty && !S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISSOCK(st.st_mode))
		return 0; /* /dev/null and other devices: no input */
	if (tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios t = saved_tio;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
		t.c_iflag &= ~(tcflag_t)(ICRNL);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tio_saved = true;
		atexit(console_restore);
		signal(SIGINT, restore_and_die);
		signal(SIGTERM, restore_and_die);
		signal(SIGHUP, restore_and_die);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
		in.escapes = true;
		fprintf(stderr, "btvm: console on this terminal: Ctrl-A x quits, Ctrl-A h for help\n");
	}
	in.vm = vm;
	pthread_t th;
	/* The reader inherits the vCPU thread's mask, where the kick signal
	 * is blocked, so kicks always land on the vCPU thread. */
	if (pthread_create(&th, NULL, reader, NULL) != 0) {
		snprintf(err, errlen, "cannot start the console input thread");
		return -1;
	}
	pthread_detach(th);
	in.running = true;
	return 0;
}

void console_pump(struct vm *vm)
{
	if (!in.running)
		return;
	if (in.quit) {
		vm_request_stop(vm, BTVM_EXIT_OK, "quit from the console (Ctrl-A x)");
		return;
	}
	pthread_mutex_lock(&in.lock);
	while (in.len) {
		size_t chunk = RING - in.head < in.len ? RING - in.head : in.len;
		size_t took = uart_rx_push(&vm->com1, &in.buf[in.head], chunk);
		if (!took)
			break;
		in.head = (in.head + took) % RING;
		in.len -= took;
		pthread_cond_signal(&in.room);
	}
	pthread_mutex_unlock(&in.lock);
}
