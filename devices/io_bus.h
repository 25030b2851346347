/* One bus, one handler signature for port I/O and MMIO alike (the kvmtool
 * lesson: separate in/out ops did not scale).  A device registers a range;
 * the handler gets the offset inside its range, the access width (1, 2 or
 * 4 bytes; 8 for MMIO) and a little-endian data buffer to read or fill. */
#ifndef BTVM_DEVICES_IO_BUS_H
#define BTVM_DEVICES_IO_BUS_H
#include <stdbool.h>
#include <stdint.h>

typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      unsigned len, bool is_write);

struct io_range {
	uint64_t base, len;
	io_handler_fn fn;
	void *opaque;
	const char *name;
};

#define IO_BUS_MAX_RANGES 64

struct io_bus {
	const char *name;               /* "pio" or "mmio", for messages */
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned n;
	uint64_t unhandled_reads;       /* counted for --stats */
	uint64_t unhandled_writes;
	uint64_t accesses;
};

void io_bus_init(struct io_bus *bus, const char *name);
/* 0 on success, -1 if the range overlaps another or the table is full. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque, const char *name);
/* Dispatches one access. Returns false when no device claims addr; then a
 * read returns all ones (0xFF bytes), as an ISA bus with nothing on it. */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write);
const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr);

/* Little-endian helpers for handlers. */
static inline uint32_t io_data_get(const uint8_t *d, unsigned len)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < len && i < 4; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}
static inline void io_data_put(uint8_t *d, unsigned len, uint32_t v)
{
	for (unsigned i = 0; i < len; i++)
		d[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0;
}
#endif
