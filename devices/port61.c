#include "devices/port61.h"

#define P61_GATE2   0x01
#define P61_SPEAKER 0x02
#define P61_REFRESH 0x10
#define P61_OUT2    0x20

static void port61_write(struct port61 *s, uint8_t v)
{
	s->ctrl = v & (P61_GATE2 | P61_SPEAKER);
	pit_set_gate(s->pit, 2, v & P61_GATE2);
}

static uint8_t port61_read(struct port61 *s)
{
	s->refresh = !s->refresh;
	uint8_t v = s->ctrl;
	if (s->refresh)
		v |= P61_REFRESH;
	if (pit_get_out(s->pit, 2))
		v |= P61_OUT2;
	return v;
}

/* One port: only byte 0 of a wider access is ours; the rest floats. */
static void port61_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct port61 *s = opaque;
	for (unsigned i = 0; i < len; i++) {
		if (off + i != 0) {
			if (!is_write)
				data[i] = 0xFF;
		} else if (is_write) {
			port61_write(s, data[i]);
		} else {
			data[i] = port61_read(s);
		}
	}
}

void port61_reset(struct port61 *s)
{
	s->refresh = false;
	port61_write(s, 0);
}

void port61_init(struct port61 *s, struct pit8254 *pit)
{
	s->pit = pit;
	port61_reset(s);
}

int port61_register(struct port61 *s, struct io_bus *pio)
{
	return io_bus_register(pio, PORT61_PORT, 1, port61_io, s, "port61");
}
