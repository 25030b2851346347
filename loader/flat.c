/* Flat binaries (--flat[=ADDR]): the whole file is copied to ADDR and
 * entered there.  The kernel gets no boot information (EAX = EBX = 0, all
 * other registers 0 too, ESP = 0), so modules, --initrd and --append are
 * refused rather than silently dropped. */
#include <string.h>
#include "loader/loader.h"

int flat_load(const struct load_request *req, struct ldr_file *f, struct phys_mem *mem,
	      const struct e820_map *map, struct boot_state *out, char *err, size_t errlen)
{
	const char *path = req->kernel_path;
	if (req->n_modules || req->initrd_path) {
		ldr_err(err, errlen, "%s: a flat binary (--flat) takes no modules or initrd: it gets no boot information",
			path);
		return -1;
	}
	if (req->cmdline && *req->cmdline) {
		ldr_err(err, errlen, "%s: a flat binary (--flat) takes no command line (--append): it gets no boot information",
			path);
		return -1;
	}
	char why[200];
	if (ldr_check_ram(mem, map, req->flat_addr, f->size, why, sizeof(why)) < 0) {
		ldr_err(err, errlen,
			"%s: flat image (0x%llx bytes at 0x%x) does not fit in guest RAM: it %s",
			path, (unsigned long long)f->size, req->flat_addr, why);
		return -1;
	}
	if (ldr_read_all(f, phys_ptr(mem, req->flat_addr, f->size), err, errlen) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->eip = req->flat_addr;
	out->kind = "flat";
	out->load_start = req->flat_addr;
	out->load_end = (uint32_t)(req->flat_addr + f->size);
	return 0;
}
