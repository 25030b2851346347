/* pcbios: what a PC BIOS leaves in memory for a kernel that does not call
 * it, as kernels written on QEMU's pc machine find it: the BIOS data area
 * (COM/LPT port tables, EBDA segment, equipment word, base memory size),
 * the EBDA, the MP floating pointer through the MP specification's search
 * (1.4, 4.0: first KiB of the EBDA, else last KiB of base memory, then
 * 0xF0000-0xFFFFF, as xv6's mpsearch does), the MP configuration table,
 * the ACPI RSDP search (ACPI 5.2.5.1) and the SMBIOS entry point
 * (DSP0134 5.2.1).  Nothing that depends on where the firmware put things
 * is printed: QEMU's SeaBIOS and btvm place the tables differently. */
#include "guest.h"

/* A pointer to a fixed low address, hidden from the compiler's bounds
 * checks (GCC treats small constant addresses as offsets from NULL). */
static const volatile uint8_t *phys(uint32_t a)
{
	const volatile uint8_t *p;
	__asm__("" : "=r"(p) : "0"(a));
	return p;
}
static uint16_t rd16(uint32_t a) { return (uint16_t)(phys(a)[0] | phys(a)[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_bda(void)
{
	CHECK_EQ(rd16(0x400), 0x3F8, "BDA 0x400: COM1 at 0x3F8");
	CHECK(!rd16(0x402) && !rd16(0x404) && !rd16(0x406), "BDA 0x402-0x407: no COM2-COM4");
	CHECK(!rd16(0x408) && !rd16(0x40A) && !rd16(0x40C), "BDA 0x408-0x40D: no parallel ports");
	uint16_t equip = rd16(0x410);
	printf("BDA 0x410: equipment word 0x%04x\n", equip);
	CHECK(equip & 2, "  x87 present");
	CHECK_EQ((equip >> 9) & 7, 1, "  one serial port");
	CHECK_EQ(equip >> 14, 0, "  no parallel ports");
	uint32_t base_kib = rd16(0x413);
	printf("BDA 0x413: base memory %u KiB\n", base_kib);
	uint32_t ebda = (uint32_t)rd16(0x40E) << 4;
	CHECK(ebda >= 0x80000 && ebda < 0xA0000, "BDA 0x40E: the EBDA segment is in the top of base memory");
	CHECK_EQ(ebda, base_kib * 1024, "  the EBDA starts where base memory ends");
	uint8_t kib = *phys(ebda);
	CHECK(kib >= 1 && ebda + kib * 1024u <= 0xA0000, "  its first byte is its size in KiB, ending below 640 KiB");
}

/* MP spec 4.1: "_MP_", 16 bytes per length unit, checksum 0. */
static const uint8_t *mp_scan(uint32_t a, uint32_t len)
{
	for (uint32_t p = a; p + 16 <= a + len; p += 16) {
		const uint8_t *f = (const uint8_t *)p;
		if (!memcmp(f, "_MP_", 4) && f[8] && !sum8(f, f[8] * 16u))
			return f;
	}
	return NULL;
}

static void test_mp(void)
{
	const uint8_t *fp;
	const char *where;
	uint32_t ebda = (uint32_t)rd16(0x40E) << 4;
	if (ebda) {
		fp = mp_scan(ebda, 1024);
		where = "the first KiB of the EBDA";
	} else {
		fp = mp_scan(rd16(0x413) * 1024u - 1024, 1024);
		where = "the last KiB of base memory";
	}
	if (!fp) {
		fp = mp_scan(0xF0000, 0x10000);
		where = "the BIOS area 0xF0000-0xFFFFF";
	}
	CHECK(fp, "MP floating pointer found by the standard search");
	if (!fp)
		return;
	printf("  in %s\n", where);
	CHECK(fp[8] == 1 && fp[9] == 4, "  length 1, specification 1.4");
	CHECK_EQ(fp[11], 0, "  feature byte 1 = 0: a configuration table follows");
	const uint8_t *t = (const uint8_t *)rd32(fp + 4);
	uint16_t len = (uint16_t)(t[4] | t[5] << 8);
	CHECK(t && !memcmp(t, "PCMP", 4) && !sum8(t, len) && t[6] == 4, "configuration table: \"PCMP\", checksum, 1.4");
	CHECK_EQ(rd32(t + 36), 0xFEE00000, "  local APIC at 0xFEE00000");
	unsigned n = (unsigned)(t[34] | t[35] << 8), cpus = 0, bsp = 0, ioapics = 0, isa = 0, irq0_pin = 0xFF;
	unsigned extint_lint0 = 0, nmi_lint1 = 0;
	uint32_t ioapic_addr = 0;
	const uint8_t *e = t + 44;
	for (unsigned i = 0; i < n && e < t + len; i++) {
		switch (e[0]) {
		case 0:
			if (e[3] & 1)
				cpus++;
			if ((e[3] & 3) == 3)
				bsp++;
			e += 20;
			continue;
		case 1:
			isa += !memcmp(e + 2, "ISA   ", 6);
			break;
		case 2:
			if (e[3] & 1)
				ioapics++, ioapic_addr = rd32(e + 4);
			break;
		case 3:
			if (e[5] == 0)
				irq0_pin = e[7];
			break;
		case 4:
			extint_lint0 |= e[1] == 3 && e[7] == 0;
			nmi_lint1 |= e[1] == 1 && e[7] == 1;
			break;
		}
		e += 8;
	}
	printf("  %u enabled processor (%u BSP), %u I/O APIC at 0x%x, ISA bus %s, IRQ0 -> pin %u\n", cpus,
	       bsp, ioapics, ioapic_addr, isa ? "present" : "missing", irq0_pin);
	CHECK(cpus == 1 && bsp == 1 && ioapics == 1 && ioapic_addr == 0xFEC00000 && isa && irq0_pin == 2,
	      "  one BSP, the I/O APIC, an ISA bus, IRQ0 on pin 2");
	CHECK(extint_lint0 && nmi_lint1, "  local interrupts: ExtINT on LINT0, NMI on LINT1");
}

static void test_rsdp(void)
{
	const uint8_t *rsdp = NULL;
	for (uint32_t p = 0xE0000; p < 0x100000 && !rsdp; p += 16)
		if (!memcmp((const uint8_t *)p, "RSD PTR ", 8) && !sum8((const uint8_t *)p, 20))
			rsdp = (const uint8_t *)p;
	CHECK(rsdp, "ACPI RSDP found in 0xE0000-0xFFFFF");
	if (!rsdp)
		return;
	CHECK_EQ(rsdp[15], 0, "  revision 0");
	const uint8_t *rsdt = (const uint8_t *)rd32(rsdp + 16);
	CHECK(!memcmp(rsdt, "RSDT", 4) && !sum8(rsdt, rd32(rsdt + 4)), "  -> RSDT with a valid checksum");
}

static void test_smbios(void)
{
	const uint8_t *ep = NULL;
	for (uint32_t p = 0xF0000; p < 0x100000 && !ep; p += 16)
		if (!memcmp((const uint8_t *)p, "_SM_", 4))
			ep = (const uint8_t *)p;
	CHECK(ep, "SMBIOS entry point \"_SM_\" found in 0xF0000-0xFFFFF");
	if (!ep)
		return;
	CHECK(ep[5] == 31 && !sum8(ep, 31) && !memcmp(ep + 0x10, "_DMI_", 5) && !sum8(ep + 0x10, 15),
	      "  31 bytes, both checksums");
	printf("  SMBIOS %u.%u\n", ep[6], ep[7]);
	const uint8_t *t = (const uint8_t *)rd32(ep + 0x18);
	uint32_t len = (uint32_t)(ep[0x16] | ep[0x17] << 8), o = 0;
	unsigned count = 0;
	int seen[128] = { 0 };
	while (o + 4 <= len) {
		const uint8_t *s = t + o;
		uint32_t e = o + s[1];
		while (e + 1 < len && (t[e] || t[e + 1]))
			e++;
		o = e + 2;
		seen[s[0] & 127] = 1;
		count++;
		if (s[0] == 127)
			break;
	}
	CHECK(o == len && count == (unsigned)(ep[0x1C] | ep[0x1D] << 8), "  the structure table walks to its end");
	static const uint8_t types[] = { 0, 1, 4, 17, 127 };
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++)
		CHECK(seen[types[i]], "  type %u present", types[i]);
}

void main(void)
{
	printf("pcbios: the BIOS data area and the tables a PC BIOS leaves\n");
	test_bda();
	test_mp();
	test_rsdp();
	test_smbios();
}
