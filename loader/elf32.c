#include "loader/elf32.h"
#include <elf.h>
#include <stdio.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int elf_has_magic(const uint8_t *img, uint64_t size)
{
	return size >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

int elf_class(const uint8_t *img, uint64_t size)
{
	if (!elf_has_magic(img, size) || size <= EI_CLASS)
		return 0;
	return img[EI_CLASS];
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_NONE: return "EM_NONE";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_MIPS: return "MIPS";
	case EM_PPC: return "PowerPC";
	case EM_PPC64: return "PowerPC64";
	case EM_RISCV: return "RISC-V";
	case EM_SPARC: return "SPARC";
	case EM_IA_64: return "IA-64";
	case EM_386: return "i386";
	default: return "unknown machine";
	}
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case ET_NONE: return "ET_NONE";
	case ET_REL: return "a relocatable object (ET_REL)";
	case ET_DYN: return "a shared object or PIE (ET_DYN)";
	case ET_CORE: return "a core dump (ET_CORE)";
	default: return "unknown";
	}
}

int elf32_parse_ehdr(const uint8_t *img, uint64_t size, struct elf32_ehdr *eh,
		     char *why, size_t whylen)
{
	if (!elf_has_magic(img, size)) {
		snprintf(why, whylen, "not an ELF file (no \\x7fELF magic)");
		return -1;
	}
	if (size < EI_NIDENT) {
		snprintf(why, whylen, "truncated ELF header (file is %llu bytes, an ELF32 header is %u)",
			 (unsigned long long)size, ELF32_EHDR_SIZE);
		return -1;
	}
	if (img[EI_CLASS] == ELFCLASS64) {
		snprintf(why, whylen, "64-bit ELF (ELFCLASS64); btvm runs 32-bit guests "
			 "(a 64-bit multiboot kernel needs the a.out kludge, header flags bit 16)");
		return -1;
	}
	if (img[EI_CLASS] != ELFCLASS32) {
		snprintf(why, whylen, "invalid ELF class %u (expected 1, ELFCLASS32)", img[EI_CLASS]);
		return -1;
	}
	if (size < ELF32_EHDR_SIZE) {
		snprintf(why, whylen, "truncated ELF header (file is %llu bytes, an ELF32 header is %u)",
			 (unsigned long long)size, ELF32_EHDR_SIZE);
		return -1;
	}
	if (img[EI_DATA] != ELFDATA2LSB) {
		snprintf(why, whylen, "ELF data encoding %u is not little-endian (ELFDATA2LSB); x86 needs little-endian",
			 img[EI_DATA]);
		return -1;
	}
	if (img[EI_VERSION] != EV_CURRENT) {
		snprintf(why, whylen, "unsupported ELF version %u in e_ident (expected 1)", img[EI_VERSION]);
		return -1;
	}
	memset(eh, 0, sizeof(*eh));
	eh->e_type = le16(img + 16);
	eh->e_machine = le16(img + 18);
	eh->e_version = le32(img + 20);
	eh->e_entry = le32(img + 24);
	eh->e_phoff = le32(img + 28);
	eh->e_shoff = le32(img + 32);
	eh->e_flags = le32(img + 36);
	eh->e_ehsize = le16(img + 40);
	eh->e_phentsize = le16(img + 42);
	eh->e_phnum = le16(img + 44);
	eh->e_shentsize = le16(img + 46);
	eh->e_shnum = le16(img + 48);
	eh->e_shstrndx = le16(img + 50);

	if (eh->e_version != EV_CURRENT) {
		snprintf(why, whylen, "unsupported ELF version %u in e_version (expected 1)", eh->e_version);
		return -1;
	}
	if (eh->e_machine != EM_386) {
		snprintf(why, whylen, "ELF machine is %u (%s), not EM_386 (3); btvm runs 32-bit x86 guests",
			 eh->e_machine, machine_name(eh->e_machine));
		return -1;
	}
	if (eh->e_type != ET_EXEC) {
		snprintf(why, whylen, "ELF type is %s, a kernel must be an executable (ET_EXEC)",
			 type_name(eh->e_type));
		return -1;
	}
	if (eh->e_phnum == 0) {
		snprintf(why, whylen, "ELF file has no program headers (e_phnum is 0)");
		return -1;
	}
	if (eh->e_phnum > ELF32_MAX_PHNUM) {
		snprintf(why, whylen, "absurd e_phnum %u (at most %u program headers are accepted)",
			 eh->e_phnum, ELF32_MAX_PHNUM);
		return -1;
	}
	if (eh->e_phentsize < ELF32_PHDR_SIZE || eh->e_phentsize > ELF32_MAX_PHENTSIZE) {
		snprintf(why, whylen, "absurd e_phentsize %u (an ELF32 program header is %u bytes)",
			 eh->e_phentsize, ELF32_PHDR_SIZE);
		return -1;
	}
	uint64_t table = (uint64_t)eh->e_phnum * eh->e_phentsize;
	if ((uint64_t)eh->e_phoff + table > size) {
		snprintf(why, whylen,
			 "ELF program header table ends beyond the end of the file "
			 "(offset 0x%x + size 0x%llx > file size 0x%llx)",
			 eh->e_phoff, (unsigned long long)table, (unsigned long long)size);
		return -1;
	}
	return 0;
}

void elf32_get_phdr(const uint8_t *img, const struct elf32_ehdr *eh, unsigned i,
		    struct elf32_phdr *ph)
{
	const uint8_t *p = img + eh->e_phoff + (uint64_t)i * eh->e_phentsize;
	ph->p_type = le32(p + 0);
	ph->p_offset = le32(p + 4);
	ph->p_vaddr = le32(p + 8);
	ph->p_paddr = le32(p + 12);
	ph->p_filesz = le32(p + 16);
	ph->p_memsz = le32(p + 20);
	ph->p_flags = le32(p + 24);
	ph->p_align = le32(p + 28);
}
