/* Validated parsing of ELF32 executables held in a host buffer.  Fields are
 * read byte by byte (little-endian), so the image needs no alignment and a
 * truncated or hostile image cannot make the parser read out of bounds. */
#ifndef BTVM_LOADER_ELF32_H
#define BTVM_LOADER_ELF32_H
#include <stddef.h>
#include <stdint.h>

#define ELF32_EHDR_SIZE 52u
#define ELF32_PHDR_SIZE 32u
#define ELF32_MAX_PHNUM 256u      /* more program headers than this is absurd for a kernel */
#define ELF32_MAX_PHENTSIZE 1024u

struct elf32_ehdr {
	uint16_t e_type, e_machine;
	uint32_t e_version, e_entry, e_phoff, e_shoff, e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_phdr {
	uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

/* 1 if the image starts with the ELF magic. */
int elf_has_magic(const uint8_t *img, uint64_t size);
/* EI_CLASS (1 = ELFCLASS32, 2 = ELFCLASS64), or 0 when not ELF / too short. */
int elf_class(const uint8_t *img, uint64_t size);

/* Validates the ELF header of a 32-bit x86 executable: magic, ELFCLASS32,
 * little-endian, version 1, EM_386, ET_EXEC, a sane e_phnum (1..256) and
 * e_phentsize (32..1024), and a program header table inside the file.
 * Returns 0, or -1 with a phrase (no file name) in why. */
int elf32_parse_ehdr(const uint8_t *img, uint64_t size, struct elf32_ehdr *eh,
		     char *why, size_t whylen);
/* Program header i (i < eh->e_phnum) of an image accepted by
 * elf32_parse_ehdr. */
void elf32_get_phdr(const uint8_t *img, const struct elf32_ehdr *eh, unsigned i,
		    struct elf32_phdr *ph);
#endif
