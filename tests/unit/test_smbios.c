/* SMBIOS tables parsed back as dmidecode does (DSP0134 2.8): the "_SM_"
 * search in 0xF0000-0xFFFFF, both entry-point checksums, the structure
 * walk (count, length, largest structure), and the contents btvm
 * promises: types 0/1/3/4/16/17/19/32/127, memory sizes from the E820 map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loader/e820.h"
#include "loader/mptable.h"
#include "loader/smbios.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}
static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* String n (1-based) of the structure at s, or NULL. */
static const char *string(const uint8_t *s, uint8_t n)
{
	if (!n)
		return NULL;
	const char *p = (const char *)s + s[1];
	while (--n && *p)
		p += strlen(p) + 1;
	return *p ? p : NULL;
}

struct seen {
	const uint8_t *by_type[128];
	unsigned type19, count;
	uint64_t mapped_kib;
};

/* Walks the table at t (len bytes) as an OS does. */
static void walk(const uint8_t *t, size_t len, const uint8_t *anchor, struct seen *sn)
{
	memset(sn, 0, sizeof(*sn));
	size_t off = 0, largest = 0;
	int ended = 0;
	while (off < len) {
		const uint8_t *s = t + off;
		assert_false(ended);
		assert_true(s[1] >= 4 && off + s[1] + 2 <= len);
		size_t e = off + s[1];
		while (t[e] || t[e + 1])   /* strings end with a double NUL */
			e++;
		e += 2;
		if (e - off > largest)
			largest = e - off;
		if (s[0] == 19) {
			sn->type19++;
			sn->mapped_kib += u32(s + 8) - u32(s + 4) + 1;
		} else {
			assert_null(sn->by_type[s[0]]);   /* one of each otherwise */
		}
		if (!sn->by_type[s[0]])
			sn->by_type[s[0]] = s;
		if (s[0] == 127)
			ended = 1;
		sn->count++;
		off = e;
	}
	assert_true(ended);
	assert_int_equal(off, len);
	assert_int_equal(u16(anchor + 0x1C), sn->count);
	assert_int_equal(u16(anchor + 0x08), largest);
}

static void test_in_memory(void **state)
{
	(void)state;
	uint64_t ram = 128ull << 20;
	struct phys_mem m = { calloc(1, 1u << 20), 1u << 20 };
	assert_non_null(m.base);
	struct e820_map map;
	e820_build(&map, ram);
	static struct smbios_image img;
	smbios_build(&img, ram, &map);
	char err[200];
	assert_int_equal(smbios_write(&m, &img, err, sizeof(err)), 0);

	const uint8_t *a = NULL;
	for (uint32_t p = 0xF0000; p < 0x100000 && !a; p += 16)
		if (!memcmp(m.base + p, "_SM_", 4))
			a = m.base + p;
	assert_non_null(a);
	assert_int_equal(a[5], 0x1F);
	assert_int_equal(sum(a, a[5]), 0);
	assert_memory_equal(a + 0x10, "_DMI_", 5);
	assert_int_equal(sum(a + 0x10, 0x0F), 0);
	assert_int_equal(a[6], 2);
	assert_int_equal(a[7], 8);
	assert_int_equal(a[0x1E], 0x28);
	uint32_t at = u32(a + 0x18);
	size_t len = u16(a + 0x16);
	assert_true(at >= 0xF0000 && at + len <= 0x100000);

	struct seen sn;
	walk(m.base + at, len, a, &sn);
	static const uint8_t types[] = { 0, 1, 3, 4, 16, 17, 19, 32, 127 };
	for (size_t i = 0; i < sizeof(types); i++)
		assert_non_null(sn.by_type[types[i]]);
	assert_string_equal(string(sn.by_type[0], sn.by_type[0][4]), "btvm");
	assert_int_equal(u16(sn.by_type[0] + 6), 0xF000);
	assert_string_equal(string(sn.by_type[1], sn.by_type[1][5]), "btvm PC");
	const uint8_t *cpu = sn.by_type[4];
	assert_int_equal(cpu[1], 0x2A);
	assert_int_equal(u32(cpu + 8), MPTABLE_CPU_SIGNATURE);
	assert_int_equal(u32(cpu + 12), MPTABLE_CPU_FEATURES);
	assert_int_equal(cpu[0x18], 0x41);
	assert_int_equal(cpu[0x23], 1);
	/* memory: the array holds the RAM, one device of the RAM size, and the
	 * mapped ranges are the E820 RAM ranges */
	assert_int_equal(u32(sn.by_type[16] + 7), ram >> 10);
	assert_int_equal(u16(sn.by_type[17] + 4), u16(sn.by_type[16] + 2));
	assert_int_equal(u16(sn.by_type[17] + 0x0C), 128);
	assert_string_equal(string(sn.by_type[17], sn.by_type[17][0x10]), "DIMM 0");
	uint64_t ram_kib = 0;
	unsigned ranges = 0;
	for (unsigned i = 0; i < map.n; i++)
		if (map.e[i].type == E820_RAM)
			ram_kib += map.e[i].size >> 10, ranges++;
	assert_int_equal(sn.type19, ranges);
	assert_int_equal(sn.mapped_kib, ram_kib);
	const uint8_t *first19 = sn.by_type[19];
	assert_int_equal(u32(first19 + 4), 0);
	assert_int_equal(u32(first19 + 8), (BTVM_LOW_RAM_END >> 10) - 1);
	assert_int_equal(u16(first19 + 0x0C), u16(sn.by_type[16] + 2));
	/* the fw_cfg copy is the same bytes */
	assert_memory_equal(m.base + SMBIOS_ANCHOR_ADDR, img.anchor, SMBIOS_ANCHOR_LEN);
	assert_int_equal(img.tables_len, len);

	/* the area is reserved, never free RAM */
	assert_false(e820_is_ram(&map, SMBIOS_ANCHOR_ADDR, 1));
	assert_false(e820_is_ram(&map, SMBIOS_TABLES_ADDR + SMBIOS_TABLES_MAX - 1, 1));
	free(m.base);
}

static void test_odd_sizes_and_no_ram(void **state)
{
	(void)state;
	struct e820_map map;
	static struct smbios_image img;
	/* 2 MiB + 12 KiB: not whole MiB, the device size is in KiB */
	uint64_t ram = (2ull << 20) + 0x3000;
	e820_build(&map, ram);
	smbios_build(&img, ram, &map);
	struct seen sn;
	walk(img.tables, img.tables_len, img.anchor, &sn);
	assert_int_equal(u16(sn.by_type[17] + 0x0C), 0x8000 | (ram >> 10));
	/* 3 GiB: MiB */
	e820_build(&map, 3ull << 30);
	smbios_build(&img, 3ull << 30, &map);
	walk(img.tables, img.tables_len, img.anchor, &sn);
	assert_int_equal(u16(sn.by_type[17] + 0x0C), 3072);
	assert_int_equal(u32(sn.by_type[16] + 7), 3u << 20);

	struct phys_mem small = { calloc(1, 0x80000), 0x80000 };
	char err[200];
	assert_int_equal(smbios_write(&small, &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not in guest RAM"));
	free(small.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_odd_sizes_and_no_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
