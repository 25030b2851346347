/* The built-in demo guest: a freestanding 32-bit kernel (multiboot, built
 * with the guest test kit) that shows what the VM gives it — the boot
 * hand-off, the memory map, the CPU, the wall clock from the RTC — and
 * times a little compute loop with PIT channel 2, polled through port
 * 0x61 as Linux does when it calibrates the TSC.  It uses no interrupts
 * and no paging, so it runs under every backend on every host. */
#include "guest.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }

static void show_cpu(void)
{
	uint32_t r[4];
	char vendor[13];
	cpuid(0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	printf("cpu:     %s, CPUID max leaf %u\n", vendor, r[0]);
	cpuid(0x80000000u, r);
	if (r[0] >= 0x80000004u) {
		char brand[49];
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002u + i, r);
			memcpy(brand + 16 * i, r, 16);
		}
		brand[48] = '\0';
		const char *b = brand;
		while (*b == ' ')
			b++;
		if (*b)
			printf("         %s\n", b);
	}
}

static void show_boot(void)
{
	printf("boot:    multiboot magic %08x, loader \"%s\"\n", boot_magic,
	       (boot_info->flags & (1u << 9)) ? (const char *)((uintptr_t)((uint32_t *)boot_info)[16]) : "?");
	if (boot_info->flags & (1u << 2))
		printf("cmdline: %s\n", (const char *)(uintptr_t)boot_info->cmdline);
	printf("memory:  %u KiB low, %u KiB above 1 MiB\n", boot_info->mem_lower, boot_info->mem_upper);
	if (!(boot_info->flags & (1u << 6)))
		return;
	uint32_t p = boot_info->mmap_addr, end = p + boot_info->mmap_length;
	while (p < end) {
		const uint32_t *e = (const uint32_t *)(uintptr_t)p;
		/* size, base lo/hi, length lo/hi, type */
		printf("  e820   %08x%08x +%08x%08x  %s\n", e[2], e[1], e[4], e[3],
		       e[5] == 1 ? "RAM" : "reserved");
		p += e[0] + 4;
	}
}

static void show_clock(void)
{
	while (cmos(0x0A) & 0x80)
		; /* wait out an update in progress */
	uint8_t b = cmos(0x0B);
	unsigned s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9);
	if (!(b & 4)) {
		s = bcd((uint8_t)s); m = bcd((uint8_t)m); h = bcd((uint8_t)(h & 0x7f));
		d = bcd((uint8_t)d); mo = bcd((uint8_t)mo); y = bcd((uint8_t)y);
	}
	printf("rtc:     20%02u-%02u-%02u %02u:%02u:%02u UTC\n", y, mo, d, h, m, s);
}

/* PIT channel 2, mode 0, gate on: OUT (port 0x61 bit 5) rises after
 * `ticks` cycles of the 1.193182 MHz clock. */
static void pit2_start(uint16_t ticks)
{
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xB0);
	outb(0x42, (uint8_t)ticks);
	outb(0x42, (uint8_t)(ticks >> 8));
}
static int pit2_done(void) { return inb(0x61) & 0x20; }

static void compute(void)
{
	/* Count primes by trial division for ~50 ms of PIT time, 4 rounds. */
	printf("compute: primes found in 50 ms of guest time (PIT channel 2):");
	for (int round = 0; round < 4; round++) {
		uint32_t n = 2, found = 0;
		pit2_start(59659); /* 50 ms */
		/* Poll the PIT only every 256 candidates: each poll is a port
		 * read, which costs a VM exit under hardware assistance. */
		while (!pit2_done()) {
			for (int i = 0; i < 256; i++, n++) {
				uint32_t k = 2;
				for (; k * k <= n; k++)
					if (n % k == 0)
						break;
				if (k * k > n)
					found++;
			}
		}
		printf(" %u", found);
	}
	printf("\n");
}

void main(void)
{
	printf("\n  btvm demo guest: a 32-bit kernel running in a btvm virtual machine\n\n");
	show_cpu();
	show_boot();
	show_clock();
	compute();
	printf("\nbye: resetting the machine through the i8042 (btvm exits with status 0)\n");
	while (inb(COM1 + 5) & 0x40 ? 0 : 1)
		; /* let the UART drain */
	outb(0x64, 0xFE);
	for (;;)
		hlt();
}
