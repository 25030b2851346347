/* SMBIOS 2.8 structures.  Section numbers: DSP0134 2.8.0; every structure
 * is its formatted area (type, length, handle, fields) and then its
 * strings, each NUL-terminated, ending with one more NUL (two NULs when
 * there is no string; 6.1.3). */
#include "loader/smbios.h"
#include <stdio.h>
#include <string.h>
#include "loader/mptable.h"
#include "loader/table_bytes.h"

#define SMBIOS_MAJOR 2
#define SMBIOS_MINOR 8
#define VENDOR "btvm"

struct writer {
	uint8_t *p;
	size_t off, cap;
	unsigned count;            /* structures */
	size_t max_size;           /* largest structure with its strings */
	size_t start;              /* of the structure being written */
	size_t strings;            /* next string's offset */
	uint8_t next_string;       /* its number (1-based) */
};

/* Starts a structure (6.1.2): type, formatted length, handle. */
static uint8_t *begin(struct writer *w, uint8_t type, uint8_t len, uint16_t handle)
{
	w->start = w->off;
	w->strings = w->off + len;
	w->next_string = 1;
	if (w->strings + 2 > w->cap)
		return NULL;
	uint8_t *s = w->p + w->off;
	memset(s, 0, len);
	s[0] = type;
	s[1] = len;
	tb_put16(s, 2, handle);
	return s;
}

/* Adds a string; returns its number for the field that refers to it. */
static uint8_t str(struct writer *w, const char *text)
{
	size_t n = strlen(text) + 1;
	if (w->strings + n + 1 > w->cap)
		return 0;   /* cannot happen with SMBIOS_TABLES_MAX; 0 means "none" */
	memcpy(w->p + w->strings, text, n);
	w->strings += n;
	return w->next_string++;
}

static void end(struct writer *w)
{
	if (w->next_string == 1)
		w->p[w->strings++] = 0;   /* no strings: two NULs */
	w->p[w->strings++] = 0;
	size_t size = w->strings - w->start;
	if (size > w->max_size)
		w->max_size = size;
	w->off = w->strings;
	w->count++;
}

static void bios_information(struct writer *w)
{
	uint8_t *s = begin(w, 0, 0x18, 0x0000);
	if (!s)
		return;
	s[4] = str(w, VENDOR);                   /* vendor */
	s[5] = str(w, "btvm " BTVM_VERSION);     /* BIOS version */
	tb_put16(s, 6, 0xF000);                  /* starting address segment: the BIOS area */
	s[8] = str(w, "01/01/2025");             /* release date, mm/dd/yyyy */
	s[9] = 0;                                /* ROM size: (0 + 1) * 64 KiB */
	tb_put32(s, 10, 1u << 3);                /* characteristics: not supported */
	s[0x14] = 0;                             /* system BIOS release 0.1 */
	s[0x15] = 1;
	s[0x16] = 0xFF;                          /* no embedded controller firmware */
	s[0x17] = 0xFF;
	end(w);
}

static void system_information(struct writer *w)
{
	uint8_t *s = begin(w, 1, 0x1B, 0x0100);
	if (!s)
		return;
	s[4] = str(w, VENDOR);                   /* manufacturer */
	s[5] = str(w, "btvm PC");                /* product name */
	s[6] = str(w, BTVM_VERSION);             /* version */
	/* serial number none (0), UUID 8..23 all zero: not set */
	s[0x18] = 6;                             /* wake-up type: power switch */
	end(w);
}

static void enclosure(struct writer *w)
{
	uint8_t *s = begin(w, 3, 0x16, 0x0300);
	if (!s)
		return;
	s[4] = str(w, VENDOR);                   /* manufacturer */
	s[5] = 0x01;                             /* type: other */
	s[9] = 0x03;                             /* boot-up state: safe */
	s[0x0A] = 0x03;                          /* power supply state: safe */
	s[0x0B] = 0x03;                          /* thermal state: safe */
	s[0x0C] = 0x02;                          /* security status: unknown */
	/* OEM-defined, height, power cords, no contained elements (record
	 * length 3 as the spec gives for an empty list), SKU none */
	s[0x14] = 3;
	end(w);
}

static void processor(struct writer *w)
{
	uint8_t *s = begin(w, 4, 0x2A, 0x0400);
	if (!s)
		return;
	s[4] = str(w, "CPU 0");                  /* socket designation */
	s[5] = 0x03;                             /* type: central processor */
	s[6] = 0x01;                             /* family: other (see family 2) */
	s[7] = str(w, VENDOR);                   /* manufacturer */
	tb_put32(s, 8, MPTABLE_CPU_SIGNATURE);   /* processor ID: CPUID.1 EAX, EDX (7.5.3) */
	tb_put32(s, 12, MPTABLE_CPU_FEATURES);
	s[0x10] = str(w, "btvm CPU");            /* version */
	tb_put16(s, 0x14, 2000);                 /* max speed, MHz (QEMU's default) */
	tb_put16(s, 0x16, 2000);                 /* current speed */
	s[0x18] = 0x41;                          /* status: socket populated, CPU enabled */
	s[0x19] = 0x01;                          /* upgrade: other */
	tb_put16(s, 0x1A, 0xFFFF);               /* no L1, L2, L3 cache information */
	tb_put16(s, 0x1C, 0xFFFF);
	tb_put16(s, 0x1E, 0xFFFF);
	s[0x23] = 1;                             /* core count, cores enabled, threads */
	s[0x24] = 1;
	s[0x25] = 1;
	tb_put16(s, 0x26, 0x0002);               /* characteristics: unknown */
	tb_put16(s, 0x28, 0x0001);               /* family 2: other */
	end(w);
}

static void memory_array(struct writer *w, uint64_t ram_size)
{
	uint8_t *s = begin(w, 16, 0x17, 0x1000);
	if (!s)
		return;
	s[4] = 0x03;                             /* location: system board */
	s[5] = 0x03;                             /* use: system memory */
	s[6] = 0x03;                             /* error correction: none */
	tb_put32(s, 7, (uint32_t)(ram_size >> 10));   /* maximum capacity, KiB */
	tb_put16(s, 0x0B, 0xFFFE);               /* no error information */
	tb_put16(s, 0x0D, 1);                    /* memory devices */
	end(w);
}

static void memory_device(struct writer *w, uint64_t ram_size)
{
	uint8_t *s = begin(w, 17, 0x28, 0x1100);
	if (!s)
		return;
	tb_put16(s, 4, 0x1000);                  /* its physical memory array */
	tb_put16(s, 6, 0xFFFE);                  /* no error information */
	tb_put16(s, 8, 0xFFFF);                  /* total and data width unknown */
	tb_put16(s, 0x0A, 0xFFFF);
	/* size (7.18.5): MiB, or KiB with bit 15 set when not whole MiB and
	 * that fits in 15 bits */
	if ((ram_size & 0xFFFFF) && (ram_size >> 10) < 0x8000)
		tb_put16(s, 0x0C, (uint16_t)(0x8000 | (ram_size >> 10)));
	else
		tb_put16(s, 0x0C, (uint16_t)(ram_size >> 20));
	s[0x0E] = 0x09;                          /* form factor: DIMM */
	s[0x10] = str(w, "DIMM 0");              /* device locator */
	s[0x12] = 0x07;                          /* memory type: RAM */
	tb_put16(s, 0x13, 0x0002);               /* type detail: other */
	s[0x17] = str(w, VENDOR);                /* manufacturer */
	end(w);
}

static void mapped_address(struct writer *w, uint16_t handle, uint64_t addr, uint64_t size)
{
	uint8_t *s = begin(w, 19, 0x1F, handle);
	if (!s)
		return;
	tb_put32(s, 4, (uint32_t)(addr >> 10));                   /* starting address, KiB */
	tb_put32(s, 8, (uint32_t)(((addr + size) >> 10) - 1));    /* ending address, KiB, inclusive */
	tb_put16(s, 0x0C, 0x1000);               /* its memory array */
	s[0x0E] = 1;                             /* partition width */
	end(w);
}

static void boot_information(struct writer *w)
{
	if (begin(w, 32, 0x0B, 0x2000))          /* boot status 0: no errors */
		end(w);
}

void smbios_build(struct smbios_image *img, uint64_t ram_size, const struct e820_map *map)
{
	memset(img, 0, sizeof(*img));
	struct writer w = { .p = img->tables, .cap = sizeof(img->tables) };
	bios_information(&w);
	system_information(&w);
	enclosure(&w);
	processor(&w);
	memory_array(&w, ram_size);
	memory_device(&w, ram_size);
	uint16_t handle = 0x1300;
	for (unsigned i = 0; i < map->n; i++)
		if (map->e[i].type == E820_RAM)
			mapped_address(&w, handle++, map->e[i].addr, map->e[i].size);
	boot_information(&w);
	if (begin(&w, 127, 4, 0x7F00))
		end(&w);
	img->tables_len = w.off;

	/* 5.2.1: the 32-bit entry point. */
	uint8_t *a = img->anchor;
	tb_putstr(a, 0, "_SM_", 4);
	a[5] = SMBIOS_ANCHOR_LEN;
	a[6] = SMBIOS_MAJOR;
	a[7] = SMBIOS_MINOR;
	tb_put16(a, 8, (uint16_t)w.max_size);
	a[0x0A] = 0;                             /* entry point revision: 2.1 form */
	tb_putstr(a, 0x10, "_DMI_", 5);          /* intermediate anchor */
	tb_put16(a, 0x16, (uint16_t)w.off);      /* structure table length */
	tb_put32(a, 0x18, SMBIOS_TABLES_ADDR);
	tb_put16(a, 0x1C, (uint16_t)w.count);
	a[0x1E] = SMBIOS_MAJOR << 4 | SMBIOS_MINOR;  /* BCD revision */
	tb_checksum(a + 0x10, 0x0F, 0x05);       /* intermediate checksum: 0x10-0x1E */
	tb_checksum(a, SMBIOS_ANCHOR_LEN, 0x04);
}

int smbios_write(struct phys_mem *mem, const struct smbios_image *img, char *err, size_t errlen)
{
	if (!phys_write(mem, SMBIOS_ANCHOR_ADDR, img->anchor, SMBIOS_ANCHOR_LEN) ||
	    !phys_write(mem, SMBIOS_TABLES_ADDR, img->tables, img->tables_len)) {
		snprintf(err, errlen, "SMBIOS area %#x-%#zx is not in guest RAM", SMBIOS_ANCHOR_ADDR,
			 SMBIOS_TABLES_ADDR + img->tables_len);
		return -1;
	}
	return 0;
}
