/* --display (monitor/display.h): opens what the screen goes to before the
 * sandbox, redraws it from a device-timer-queue timer on the vCPU thread,
 * and writes the last frame when the guest stops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "monitor/display.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

#define CURSES_PERIOD_NS 50000000ull   /* 20 frames a second */
#define FILE_PERIOD_NS 1000000000ull   /* a second */

static struct {
	enum display_kind kind;
	int fd;                     /* the file (file:), stdout (curses); -1 */
	uint64_t period_ns;
	struct vtimer timer;
	unsigned term_rows, term_cols;
	struct vga_screen screen;
	struct ansi_frame frame;
	char out[DISPLAY_ANSI_MAX > DISPLAY_TEXT_MAX ? DISPLAY_ANSI_MAX : DISPLAY_TEXT_MAX];
	char last[DISPLAY_TEXT_MAX];  /* file: what the file holds */
	size_t last_len;
	bool written;
} d = { .fd = -1 };

/* file: the whole file is the screen; rewritten in place (pwrite at 0,
 * then cut to length) so that a reader never sees an empty file. */
static void write_file(const char *buf, size_t len)
{
	size_t at = 0;
	while (at < len) {
		ssize_t n = pwrite(d.fd, buf + at, len - at, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		at += (size_t)n;
	}
	if (ftruncate(d.fd, (off_t)len) < 0)
		return;
}

static void draw(struct vm *vm, bool final)
{
	vga_screen_read(&vm->vga, &vm->mem.phys, &d.screen);
	if (d.kind == DISPLAY_CURSES) {
		size_t n = display_ansi_render(&d.screen, &d.frame, d.term_rows, d.term_cols, d.out, sizeof(d.out));
		display_tty_write(d.out, n);
		return;
	}
	size_t n = display_text_format(&d.screen, d.out, sizeof(d.out));
	if (d.written && !final && n == d.last_len && !memcmp(d.out, d.last, n))
		return;
	write_file(d.out, n);
	memcpy(d.last, d.out, n);
	d.last_len = n;
	d.written = true;
}

static void refresh(void *opaque, uint64_t now)
{
	struct vm *vm = opaque;
	draw(vm, false);
	vtimer_arm(&vm->tq, &d.timer, now + d.period_ns);
}

int display_setup(struct vm *vm, char *err, size_t errlen)
{
	d.kind = vm->cfg->display;
	switch (d.kind) {
	case DISPLAY_NONE:
		return 0;
	case DISPLAY_FILE:
		d.fd = open(vm->cfg->display_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (d.fd < 0) {
			snprintf(err, errlen, "--display: cannot open '%s': %s", vm->cfg->display_path, strerror(errno));
			return -1;
		}
		d.period_ns = FILE_PERIOD_NS;
		break;
	case DISPLAY_CURSES:
		if (display_tty_take(&d.term_rows, &d.term_cols, err, errlen) < 0)
			return -1;
		d.fd = STDOUT_FILENO;
		d.period_ns = CURSES_PERIOD_NS;
		break;
	}
	vtimer_init(&d.timer, refresh, vm);
	vtimer_arm(&vm->tq, &d.timer, timerq_now(&vm->tq) + d.period_ns);
	return 0;
}

void display_sandbox_spec(struct sandbox_spec *s)
{
	if (d.kind == DISPLAY_FILE) {
		s->display_fd = d.fd;
	} else if (d.kind == DISPLAY_CURSES) {
		sandbox_spec_add_fd(s->write_fds, &s->n_write, STDOUT_FILENO);
		s->tty_fd = STDOUT_FILENO;
	}
}

void display_finish(struct vm *vm)
{
	if (d.kind == DISPLAY_NONE)
		return;
	vtimer_cancel(&vm->tq, &d.timer);
	if (d.kind == DISPLAY_FILE) {
		draw(vm, true);
		close(d.fd);
		d.fd = -1;
	} else {
		display_tty_restore();
	}
}
