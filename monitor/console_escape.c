/* Ctrl-A commands on the terminal console (see console_escape.h).
 *   Ctrl-A x        quit btvm (the guest is stopped; status 0)
 *   Ctrl-A Ctrl-A   send one Ctrl-A to the guest
 *   Ctrl-A h, ?     list these keys
 *   Ctrl-A other    both bytes go to the guest */
#include <string.h>
#include <unistd.h>
#include "monitor/console_escape.h"

enum console_action console_escape_feed(struct console_escape *e, uint8_t byte, uint8_t out[2], unsigned *nout)
{
	*nout = 0;
	if (!e->pending) {
		if (byte == CONSOLE_ESCAPE_KEY) {
			e->pending = 1;
			return CONSOLE_PASS;
		}
		out[(*nout)++] = byte;
		return CONSOLE_PASS;
	}
	e->pending = 0;
	switch (byte) {
	case 'x': case 'X':
		return CONSOLE_QUIT;
	case 'h': case 'H': case '?':
		return CONSOLE_HELP;
	case CONSOLE_ESCAPE_KEY:
		out[(*nout)++] = CONSOLE_ESCAPE_KEY;
		return CONSOLE_PASS;
	default:
		out[(*nout)++] = CONSOLE_ESCAPE_KEY;
		out[(*nout)++] = byte;
		return CONSOLE_PASS;
	}
}

void console_escape_help(int fd)
{
	static const char help[] =
		"\r\nbtvm console keys:\r\n"
		"  Ctrl-A x        quit btvm\r\n"
		"  Ctrl-A Ctrl-A   send Ctrl-A to the guest\r\n"
		"  Ctrl-A h        this list\r\n";
	ssize_t r = write(fd, help, strlen(help));
	(void)r;
}
