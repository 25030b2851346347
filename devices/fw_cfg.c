/* QEMU's fw_cfg device: items, the port interface and DMA.  See fw_cfg.h;
 * "fw_cfg.rst" is QEMU's docs/specs/fw_cfg.rst. */
#include "devices/fw_cfg.h"
#include <stdlib.h>
#include <string.h>

static uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct fw_cfg_item *item_at(struct fw_cfg *c, uint16_t key)
{
	if ((key & FW_CFG_ENTRY_MASK) >= FW_CFG_MAX_ENTRY)
		return NULL;
	return &c->items[!!(key & FW_CFG_ARCH_LOCAL)][key & FW_CFG_ENTRY_MASK];
}

/* The selected item, or NULL when the selector names none ("Selector
 * Register": bit 14 is ignored, bit 15 picks the architecture's items). */
static const struct fw_cfg_item *current(struct fw_cfg *c)
{
	if (c->cur == FW_CFG_INVALID)
		return NULL;
	const struct fw_cfg_item *it = item_at(c, c->cur);
	return it && it->data ? it : NULL;
}

static void select_key(struct fw_cfg *c, uint16_t key)
{
	c->offset = 0;
	c->cur = (key & FW_CFG_ENTRY_MASK) < FW_CFG_MAX_ENTRY ? key : FW_CFG_INVALID;
}

/* "Data Register": the next byte, 0x00 once the offset has passed the end. */
static uint8_t data_read(struct fw_cfg *c)
{
	const struct fw_cfg_item *it = current(c);
	if (!it || c->offset >= it->len)
		return 0;
	return it->data[c->offset++];
}

static void guest_written(struct fw_cfg *c, uint64_t pa, uint64_t len)
{
	if (c->written && len)
		c->written(c->opaque, pa, len);
}

/* One DMA operation ("Guest-side DMA Interface").  The order of the steps
 * and what an error leaves behind follow QEMU's fw_cfg_dma_transfer. */
static void dma_transfer(struct fw_cfg *c)
{
	uint64_t at = c->dma_addr;
	c->dma_addr = 0;   /* "The value for the register is 0 ... after an operation" */

	uint8_t acc[16];
	uint8_t ctl_out[4];
	if (!phys_read(c->mem, at, acc, sizeof(acc))) {
		be32_put(ctl_out, FW_CFG_DMA_CTL_ERROR);
		if (phys_write(c->mem, at, ctl_out, 4))
			guest_written(c, at, 4);
		return;
	}
	uint32_t control = be32_get(acc);
	uint32_t length = be32_get(acc + 4);
	uint64_t address = (uint64_t)be32_get(acc + 8) << 32 | be32_get(acc + 12);

	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(c, (uint16_t)(control >> 16));
	bool read = false, write = false;
	if (control & FW_CFG_DMA_CTL_READ)
		read = true;
	else if (control & FW_CFG_DMA_CTL_WRITE)
		write = true;
	else if (!(control & FW_CFG_DMA_CTL_SKIP))
		length = 0;

	uint32_t status = 0;
	const struct fw_cfg_item *it = current(c);
	while (length > 0 && !(status & FW_CFG_DMA_CTL_ERROR)) {
		uint32_t len;
		if (!it || c->offset >= it->len) {
			/* No item, or past its end: a read gives zeros, a skip
			 * does nothing, a write fails. */
			len = length;
			if (read) {
				void *dst = phys_ptr(c->mem, address, len);
				if (dst) {
					memset(dst, 0, len);
					guest_written(c, address, len);
				} else {
					status |= FW_CFG_DMA_CTL_ERROR;
				}
			}
			if (write)
				status |= FW_CFG_DMA_CTL_ERROR;
		} else {
			len = it->len - c->offset < length ? it->len - c->offset : length;
			if (read) {
				void *dst = phys_ptr(c->mem, address, len);
				if (dst) {
					memcpy(dst, it->data + c->offset, len);
					guest_written(c, address, len);
				} else {
					status |= FW_CFG_DMA_CTL_ERROR;
				}
			}
			if (write)   /* every item is read-only to the guest */
				status |= FW_CFG_DMA_CTL_ERROR;
			c->offset += len;
		}
		address += len;
		length -= len;
	}
	be32_put(ctl_out, status);
	if (phys_write(c->mem, at, ctl_out, 4))
		guest_written(c, at, 4);
}

/* 0x510-0x511: QEMU's "comb" region: byte reads are data reads at either
 * port, 16-bit writes select, byte writes are the ignored data writes,
 * and any other access is invalid (reads 0, does nothing). */
static void sel_data_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct fw_cfg *c = opaque;
	(void)offset;
	if (is_write) {
		if (len == 2)
			select_key(c, (uint16_t)io_data_get(data, 2));
		return;
	}
	if (len == 1)
		data[0] = data_read(c);
	else
		io_data_put(data, len, 0);
}

/* 0x514-0x51B: the DMA address register, big-endian. */
static void dma_io(void *opaque, uint64_t offset, uint8_t *data, unsigned len, bool is_write)
{
	struct fw_cfg *c = opaque;
	if (!is_write) {
		static const char sig[8] = FW_CFG_DMA_SIGNATURE;
		for (unsigned i = 0; i < len; i++)
			data[i] = offset + i < 8 ? (uint8_t)sig[offset + i] : 0;
		return;
	}
	if (len != 4)
		return;   /* only 32-bit halves (64-bit writes do not exist for ports) */
	if (offset == 0) {
		c->dma_addr = (uint64_t)be32_get(data) << 32;
	} else if (offset == 4) {
		c->dma_addr |= be32_get(data);
		dma_transfer(c);
	}
}

/* copy: keep a copy of data; else refer to it, and free `owned` (may be
 * NULL) with the device. */
static int set_item(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len, bool copy,
		    void *owned)
{
	struct fw_cfg_item *it = item_at(c, key);
	if (!it || it->data || !data)
		return -1;
	if (copy) {
		void *p = malloc(len ? len : 1);
		if (!p)
			return -1;
		memcpy(p, data, len);
		*it = (struct fw_cfg_item){ p, len, p };
	} else {
		*it = (struct fw_cfg_item){ data, len, owned };
	}
	return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len)
{
	return set_item(c, key, data, len, true, NULL);
}

int fw_cfg_add_bytes_ref(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len)
{
	return set_item(c, key, data, len, false, NULL);
}

int fw_cfg_add_bytes_owned(struct fw_cfg *c, uint16_t key, const void *data, uint32_t len, void *block)
{
	if (set_item(c, key, data, len, false, block) == 0)
		return 0;
	free(block);
	return -1;
}

static int add_le(struct fw_cfg *c, uint16_t key, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return set_item(c, key, b, n, true, NULL);
}

int fw_cfg_add_i16(struct fw_cfg *c, uint16_t key, uint16_t v) { return add_le(c, key, v, 2); }
int fw_cfg_add_i32(struct fw_cfg *c, uint16_t key, uint32_t v) { return add_le(c, key, v, 4); }
int fw_cfg_add_i64(struct fw_cfg *c, uint16_t key, uint64_t v) { return add_le(c, key, v, 8); }

/* FW_CFG_FILE_DIR ("File Directory"): a big-endian count, then per file
 * its big-endian size and key, two reserved bytes and the name. */
static void dir_rebuild(struct fw_cfg *c)
{
	memset(c->dir, 0, sizeof(c->dir));
	be32_put(c->dir, c->nfiles);
	for (unsigned i = 0; i < c->nfiles; i++) {
		uint8_t *e = c->dir + 4 + FW_CFG_FILE_ENTRY_SIZE * i;
		uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
		be32_put(e, c->items[0][key].len);
		e[4] = (uint8_t)(key >> 8);
		e[5] = (uint8_t)key;
		memcpy(e + 8, c->names[i], FW_CFG_MAX_FILE_PATH);
	}
}

static int add_file(struct fw_cfg *c, const char *name, const void *data, uint32_t len, bool copy)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= FW_CFG_MAX_FILE_PATH || c->nfiles == FW_CFG_FILE_SLOTS || !data ||
	    fw_cfg_file_key(c, name))
		return -1;
	/* Sorted by name: move the files after the new one up one key. */
	unsigned at = c->nfiles;
	while (at > 0 && strcmp(name, c->names[at - 1]) < 0)
		at--;
	for (unsigned i = c->nfiles; i > at; i--) {
		memcpy(c->names[i], c->names[i - 1], FW_CFG_MAX_FILE_PATH);
		c->items[0][FW_CFG_FILE_FIRST + i] = c->items[0][FW_CFG_FILE_FIRST + i - 1];
	}
	c->items[0][FW_CFG_FILE_FIRST + at] = (struct fw_cfg_item){ 0 };
	if (set_item(c, (uint16_t)(FW_CFG_FILE_FIRST + at), data, len, copy, NULL) < 0) {
		for (unsigned i = at; i < c->nfiles; i++) {   /* undo the move */
			memcpy(c->names[i], c->names[i + 1], FW_CFG_MAX_FILE_PATH);
			c->items[0][FW_CFG_FILE_FIRST + i] = c->items[0][FW_CFG_FILE_FIRST + i + 1];
		}
		c->items[0][FW_CFG_FILE_FIRST + c->nfiles] = (struct fw_cfg_item){ 0 };
		return -1;
	}
	memset(c->names[at], 0, FW_CFG_MAX_FILE_PATH);
	memcpy(c->names[at], name, n);
	c->nfiles++;
	dir_rebuild(c);
	return 0;
}

int fw_cfg_add_file(struct fw_cfg *c, const char *name, const void *data, uint32_t len)
{
	return add_file(c, name, data, len, true);
}

int fw_cfg_add_file_ref(struct fw_cfg *c, const char *name, const void *data, uint32_t len)
{
	return add_file(c, name, data, len, false);
}

uint16_t fw_cfg_file_key(const struct fw_cfg *c, const char *name)
{
	for (unsigned i = 0; i < c->nfiles; i++)
		if (!strncmp(c->names[i], name, FW_CFG_MAX_FILE_PATH))
			return (uint16_t)(FW_CFG_FILE_FIRST + i);
	return 0;
}

void fw_cfg_init(struct fw_cfg *c, const struct phys_mem *mem,
		 void (*written)(void *opaque, uint64_t pa, uint64_t len), void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->mem = mem;
	c->written = written;
	c->opaque = opaque;
	/* "Signature" and "Revision / feature bitmap": the traditional
	 * interface and DMA.  The directory is always there (QEMU adds it with
	 * the first file; every PC has files). */
	fw_cfg_add_bytes(c, FW_CFG_SIGNATURE, "QEMU", 4);
	fw_cfg_add_i32(c, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	dir_rebuild(c);
	c->items[0][FW_CFG_FILE_DIR] = (struct fw_cfg_item){ c->dir, sizeof(c->dir), NULL };
	select_key(c, FW_CFG_SIGNATURE);   /* QEMU's reset state */
}

void fw_cfg_destroy(struct fw_cfg *c)
{
	for (unsigned a = 0; a < 2; a++)
		for (unsigned k = 0; k < FW_CFG_MAX_ENTRY; k++) {
			free(c->items[a][k].owned);
			c->items[a][k] = (struct fw_cfg_item){ 0 };
		}
	c->nfiles = 0;
}

int fw_cfg_register(struct fw_cfg *c, struct io_bus *pio)
{
	if (io_bus_register(pio, FW_CFG_PORT_SEL, 2, sel_data_io, c, "fw_cfg"))
		return -1;
	return io_bus_register(pio, FW_CFG_PORT_DMA, 8, dma_io, c, "fw_cfg DMA");
}
