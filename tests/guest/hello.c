/* hello: the kit boots, prints, and sees a sane multiboot hand-off. */
#include "guest.h"

void main(void)
{
	printf("Hello from btvm guest\n");
	CHECK_EQ(boot_magic, MB_BOOT_MAGIC, "multiboot magic in EAX is 0x2BADB002");
	CHECK(boot_info != NULL, "multiboot info pointer in EBX is non-null");
	if (!boot_info)
		return;
	CHECK(boot_info->flags & 1, "multiboot flags bit 0: mem_lower/mem_upper present");
	CHECK(boot_info->mem_lower >= 512 && boot_info->mem_lower <= 640,
	      "mem_lower is between 512 and 640 KiB");
	CHECK(boot_info->mem_upper >= 64 * 1024 && boot_info->mem_upper <= 128 * 1024,
	      "mem_upper is between 64 and 128 MiB (guest has 128 MiB)");
	CHECK_EQ(read_cs(), SEL_KCODE, "CS is the kit's ring-0 code selector after the far jump");
	CHECK_EQ(read_ss(), SEL_KDATA, "SS is the kit's ring-0 data selector");
	printf("%s %d %u %x %X %08x %c %% [%5s] [%03d] [%3d]\n", "printf:", -42, 42u, 0xbeefu, 0xbeefu,
	       0x1234u, 'z', "ab", -7, 7);
}
