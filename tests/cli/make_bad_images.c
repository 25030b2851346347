/* make_bad_images DIR: writes malformed kernel images into DIR, one per
 * loader error a user can hit from the command line, and prints their file
 * names (not paths), one per line.  Each name says what is wrong.
 *
 * Names starting with "flat-" are meant to be run with --flat --mem 2M.
 * It also writes good-multiboot.elf (a valid multiboot ELF kernel, NOT
 * printed) for the cases where the kernel is fine but a module or the
 * initrd is not, good-linux.bin (a valid bzImage, NOT printed, with
 * initrd_addr_max 2 MiB - 1 and cmdline_size 32) for the Linux ones,
 * good-linux-syssize-rounded-up.bin (15 bytes short of syssize * 16: a
 * kernel that must load, NOT printed), and disk and CD images for the
 * --disk, --cdrom and --drive cases (not printed).  Host program, no
 * dependencies; used by check_errors.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAGIC 0x1BADB002u
#define IMG 0x3000u
#define MB_OFF 0x200u

static const char *dir;
static int failed;

static void emit(const char *name, const uint8_t *b, size_t n, int print)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(b, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "make_bad_images: cannot write %s\n", path);
		failed = 1;
		return;
	}
	if (print)
		printf("%s\n", name);
}

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void mbhdr(uint8_t *b, uint32_t off, uint32_t flags)
{
	w32(b + off, MB_MAGIC);
	w32(b + off + 4, flags);
	w32(b + off + 8, (uint32_t)0 - (MB_MAGIC + flags));
}

static void phdr(uint8_t *b, unsigned i, uint32_t off, uint32_t paddr, uint32_t filesz,
		 uint32_t memsz, uint32_t flags)
{
	uint8_t *p = b + 52 + 32 * i;
	w32(p + 0, 1);  /* PT_LOAD */
	w32(p + 4, off);
	w32(p + 8, paddr);
	w32(p + 12, paddr);
	w32(p + 16, filesz);
	w32(p + 20, memsz);
	w32(p + 24, flags);
	w32(p + 28, 0x1000);
}

/* A valid kernel: text at 0x100000 (hlt loop), data+bss at 0x101000. */
static void good(uint8_t *b)
{
	memset(b, 0, IMG);
	memcpy(b, "\x7f" "ELF\x01\x01\x01", 7);
	w16(b + 16, 2);      /* ET_EXEC */
	w16(b + 18, 3);      /* EM_386 */
	w32(b + 20, 1);
	w32(b + 24, 0x100000);
	w32(b + 28, 52);
	w16(b + 40, 52);
	w16(b + 42, 32);
	w16(b + 44, 2);
	phdr(b, 0, 0x1000, 0x100000, 0x1000, 0x1000, 5);
	phdr(b, 1, 0x2000, 0x101000, 0x800, 0x2000, 6);
	mbhdr(b, MB_OFF, 0x3);
	b[0x1000] = 0xFA;    /* cli */
	b[0x1001] = 0xF4;    /* hlt */
	b[0x1002] = 0xEB;    /* jmp $-3 */
	b[0x1003] = 0xFC;
}

/* A valid Linux bzImage (boot protocol 2.15): 4 setup sectors, then
 * 0x1000 bytes of protected-mode kernel (cli; hlt).  initrd_addr_max is
 * 2 MiB - 1 and cmdline_size 32 so that the initrd and command-line limits
 * are easy to exceed. */
#define LNX_SETUP (5 * 512)
#define LNX_PM 0x1000
#define LNX_IMG (LNX_SETUP + LNX_PM)
static void linux_good(uint8_t *b)
{
	memset(b, 0, LNX_IMG);
	b[0x1F1] = 4;
	w32(b + 0x1F4, LNX_PM / 16);
	w16(b + 0x1FE, 0xAA55);
	b[0x200] = 0xEB;
	b[0x201] = 0x26C - 0x202;
	memcpy(b + 0x202, "HdrS", 4);
	w16(b + 0x206, 0x020F);
	b[0x211] = 0x01;                 /* LOADED_HIGH */
	w32(b + 0x214, 0x100000);
	w32(b + 0x22C, 0x1FFFFF);        /* initrd_addr_max */
	w32(b + 0x230, 0x200000);
	b[0x234] = 1;
	w32(b + 0x238, 32);              /* cmdline_size */
	w32(b + 0x258, 0x200000);        /* pref_address */
	w32(b + 0x260, 0x100000);        /* init_size */
	b[LNX_SETUP] = 0xFA;             /* cli */
	b[LNX_SETUP + 1] = 0xF4;         /* hlt */
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_bad_images DIR\n");
		return 2;
	}
	dir = argv[1];
	static uint8_t b[IMG];

	good(b);
	emit("good-multiboot.elf", b, IMG, 0);

	emit("empty-file.elf", b, 0, 1);

	memset(b, 0x90, IMG);
	emit("no-multiboot-header.bin", b, IMG, 1);

	good(b);
	w32(b + MB_OFF + 8, 0x12345678);
	emit("bad-checksum.elf", b, IMG, 1);

	good(b);
	mbhdr(b, MB_OFF, 0x3 | 0x10);
	emit("unsupported-flags.elf", b, IMG, 1);

	memset(b, 0, 40);
	memcpy(b, "\x7f" "ELF\x01\x01\x01", 7);
	mbhdr(b, 16, 0x3);
	emit("truncated-elf-header.elf", b, 40, 1);

	good(b);
	b[4] = 2;
	emit("elf64-with-multiboot-header.elf", b, IMG, 1);

	memset(b, 0, IMG);
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	w16(b + 18, 62);
	emit("elf64-without-multiboot-header.elf", b, IMG, 1);

	good(b);
	w16(b + 18, 62);
	emit("wrong-machine-x86-64.elf", b, IMG, 1);

	good(b);
	w16(b + 16, 3);
	emit("not-executable-et-dyn.elf", b, IMG, 1);

	good(b);
	phdr(b, 1, 0x2000, 0x101000, 0x4000, 0x4000, 6);
	emit("segment-beyond-file-end.elf", b, IMG, 1);

	good(b);
	phdr(b, 1, 0x2000, 0x101000, 0x1000, 0x800, 6);
	emit("filesz-greater-than-memsz.elf", b, IMG, 1);

	good(b);
	phdr(b, 1, 0x2000, 0xC0000000, 0x800, 0x2000, 6);  /* above the 3 GiB RAM maximum */
	emit("segment-beyond-ram.elf", b, IMG, 1);

	good(b);
	phdr(b, 1, 0x2000, 0xB8000, 0x800, 0x1000, 6);
	emit("segment-in-640k-1m-hole.elf", b, IMG, 1);

	good(b);
	phdr(b, 1, 0x2000, 0x100800, 0x800, 0x2000, 6);
	emit("overlapping-segments.elf", b, IMG, 1);

	good(b);
	w32(b + 24, 0x500000);
	emit("entry-outside-segments.elf", b, IMG, 1);

	good(b);
	w16(b + 44, 0xFFFF);
	emit("absurd-phnum.elf", b, IMG, 1);

	memset(b, 0, IMG);
	mbhdr(b, 0x40, 0x10000);
	w32(b + 0x40 + 12, 0x200040);   /* header_addr */
	w32(b + 0x40 + 16, 0x200000);   /* load_addr */
	w32(b + 0x40 + 20, 0x1FF000);   /* load_end_addr < load_addr */
	w32(b + 0x40 + 24, 0);
	w32(b + 0x40 + 28, 0x200000);
	emit("aout-load-end-below-load-addr.bin", b, IMG, 1);

	memset(b, 0, IMG);
	mbhdr(b, 0, 0x3);
	emit("multiboot-not-elf-no-aout-kludge.bin", b, IMG, 1);

	memset(b, 0, IMG);
	b[0x1FE] = 0x55;
	b[0x1FF] = 0xAA;
	memcpy(b + 0x202, "HdrS", 4);
	emit("linux-bzimage.bin", b, IMG, 1);

	linux_good(b);
	emit("good-linux.bin", b, LNX_IMG, 0);

	linux_good(b);
	emit("linux-truncated-kernel.bin", b, LNX_IMG - 0x200, 1);

	linux_good(b);
	emit("linux-truncated-header.bin", b, 0x230, 1);

	/* syssize is rounded up: 16 bytes short of syssize * 16 is cut off... */
	linux_good(b);
	emit("linux-truncated-by-16-bytes.bin", b, LNX_IMG - 16, 1);
	/* ...15 short is a whole kernel (QEMU and GRUB boot it); NOT printed:
	 * check_errors.sh runs it and expects it to start.  Its code writes 0
	 * to isa-debug-exit (status 1). */
	linux_good(b);
	static const uint8_t exit0[] = { 0xB0, 0x00, 0xE6, 0xF4, 0xF4 };  /* mov al,0; out 0xf4,al; hlt */
	memcpy(b + LNX_SETUP, exit0, sizeof(exit0));
	emit("good-linux-syssize-rounded-up.bin", b, LNX_IMG - 15, 0);

	linux_good(b);
	w16(b + 0x206, 0x0205);
	emit("linux-protocol-2.05.bin", b, LNX_IMG, 1);

	linux_good(b);
	w16(b + 0x1FE, 0);
	emit("linux-bad-boot-flag.bin", b, LNX_IMG, 1);

	linux_good(b);
	b[0x1F1] = 40;
	emit("linux-setup-sects-past-eof.bin", b, LNX_IMG, 1);

	linux_good(b);
	b[0x211] = 0;
	emit("linux-zimage-not-loaded-high.bin", b, LNX_IMG, 1);

	linux_good(b);
	w32(b + 0x260, 0x40000000);      /* 1 GiB from 2 MiB: more than the default 128M */
	emit("linux-init-size-beyond-ram.bin", b, LNX_IMG, 1);

	/* 3 MiB: run with --flat --mem 2M. */
	uint8_t *big = calloc(1, 3u << 20);
	if (!big) {
		fprintf(stderr, "make_bad_images: out of memory\n");
		return 1;
	}
	emit("flat-bigger-than-ram.bin", big, 3u << 20, 1);
	/* 1 MiB + 1: fits in 2 MiB of RAM, not at 0x100000. */
	emit("flat-does-not-fit-at-1m.bin", big, (1u << 20) + 1, 1);
	/* Bigger than good-linux.bin's 2 MiB initrd window (NOT printed). */
	emit("big-initrd.img", big, 3u << 20, 0);
	free(big);

	/* Disk images for --disk (not printed: check_errors.sh names its disk
	 * cases itself).  disk-good.img is a valid 64 KiB image for the
	 * cases where something else is wrong; spin-serial.bin is a flat
	 * guest that writes 'R' to COM1 and spins, so that a btvm holding
	 * a disk can be seen to be running. */
	static uint8_t zeros[64 * 1024];
	emit("disk-empty.img", zeros, 0, 0);
	emit("disk-not-whole-sectors.img", zeros, 1000, 0);
	emit("disk-good.img", zeros, sizeof(zeros), 0);
	/* whole 512-byte sectors, not whole 2048-byte CD blocks */
	emit("cd-not-whole-blocks.iso", zeros, 3 * 512, 0);
	static const uint8_t spin[] = {
		0x66, 0xBA, 0xF8, 0x03,   /* mov dx, 0x3f8 */
		0xB0, 'R',                /* mov al, 'R' */
		0xEE,                     /* out dx, al */
		0xEB, 0xFE,               /* jmp $ */
	};
	emit("spin-serial.bin", spin, sizeof(spin), 0);

	if (fflush(stdout) != 0)
		failed = 1;
	return failed;
}
