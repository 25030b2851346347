/* The terminal under --display curses: stdout's terminal switched to its
 * alternate screen (xterm's private mode 1049, which ncurses uses too)
 * with echo and line editing off, so that keys typed at it do not land
 * on the drawn screen; given back at exit, on SIGINT/SIGTERM/SIGHUP and
 * from the sandbox's SIGSYS handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "monitor/display.h"

static struct termios saved_tio;
static volatile sig_atomic_t taken;

void display_tty_write(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the terminal went away: nothing to draw on */
		buf += n;
		len -= (size_t)n;
	}
}

void display_tty_restore(void)
{
	if (!taken)
		return;
	taken = 0;
	/* colours off, cursor shown, back to the normal screen */
	static const char leave[] = "\033[0m\033[?25h\033[?1049l";
	if (write(STDOUT_FILENO, leave, sizeof(leave) - 1) < 0) {
		/* nothing more to do for a terminal that is gone */
	}
	tcsetattr(STDOUT_FILENO, TCSANOW, &saved_tio);
}

static void restore_and_die(int sig)
{
	display_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int display_tty_take(unsigned *rows, unsigned *cols, char *err, size_t errlen)
{
	if (!isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "--display curses: standard output is not a terminal");
		return -1;
	}
	struct winsize ws;
	*rows = 25;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
	if (tcgetattr(STDOUT_FILENO, &saved_tio) < 0) {
		snprintf(err, errlen, "--display curses: cannot read the terminal's settings: %s", strerror(errno));
		return -1;
	}
	struct termios t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
	tcsetattr(STDOUT_FILENO, TCSANOW, &t);
	taken = 1;
	atexit(display_tty_restore);
	signal(SIGINT, restore_and_die);
	signal(SIGTERM, restore_and_die);
	signal(SIGHUP, restore_and_die);
	static const char enter[] = "\033[?1049h\033[H\033[2J";
	display_tty_write(enter, sizeof(enter) - 1);
	return 0;
}
