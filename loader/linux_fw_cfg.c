/* The fw_cfg items QEMU's -kernel gives a Linux bzImage (QEMU's
 * x86_load_linux, hw/i386/x86.c in 7.2), for the kernel btvm has loaded:
 *   FW_CFG_SETUP_ADDR/SIZE/DATA    0x10000, (setup_sects + 1) * 512 bytes:
 *                                  the file's setup sectors with the setup
 *                                  header as the loader filled it in (the
 *                                  zero page's copy: btvm's type_of_loader,
 *                                  command line and initrd fields)
 *   FW_CFG_KERNEL_ADDR/SIZE/DATA   0x100000, the rest of the file
 *   FW_CFG_CMDLINE_ADDR/SIZE/DATA  0x20000, the --append string with its NUL
 *                                  (size 1 without --append, as QEMU)
 *   FW_CFG_INITRD_ADDR/SIZE/DATA   where the loader put --initrd, its bytes
 *                                  (only with --initrd)
 * The kernel file is read once more here (QEMU keeps its copy the same
 * way); the initrd file is mapped, not copied, and stays mapped for the
 * VM's life. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "devices/fw_cfg.h"
#include "loader/linux.h"

static int add_initrd(const struct load_request *req, const struct linux_setup_header *h,
		      struct fw_cfg *c, char *err, size_t errlen)
{
	struct ldr_file f;
	char msg[512];
	if (ldr_open(&f, req->initrd_path, LOADER_MAX_FILE, false, msg, sizeof(msg)) < 0) {
		ldr_err(err, errlen, "initrd: %s", msg);
		return -1;
	}
	if (f.size != h->ramdisk_size) {
		ldr_err(err, errlen, "initrd: '%s' changed size while btvm was loading it", req->initrd_path);
		ldr_close(&f);
		return -1;
	}
	void *p = mmap(NULL, f.size, PROT_READ, MAP_PRIVATE, f.fd, 0);
	ldr_close(&f);
	if (p == MAP_FAILED) {
		ldr_err(err, errlen, "initrd: cannot map '%s' for fw_cfg", req->initrd_path);
		return -1;
	}
	if (fw_cfg_add_i32(c, FW_CFG_INITRD_ADDR, h->ramdisk_image) < 0 ||
	    fw_cfg_add_i32(c, FW_CFG_INITRD_SIZE, h->ramdisk_size) < 0 ||
	    fw_cfg_add_bytes_ref(c, FW_CFG_INITRD_DATA, p, h->ramdisk_size) < 0) {
		munmap(p, f.size);
		ldr_err(err, errlen, "internal error: fw_cfg initrd items taken");
		return -1;
	}
	return 0;
}

int linux_fw_cfg_items(const struct load_request *req, const struct phys_mem *mem, struct fw_cfg *c,
		       char *err, size_t errlen)
{
	if (req->flat)
		return 0;
	struct ldr_file f;
	if (ldr_open(&f, req->kernel_path, LOADER_MAX_FILE, false, err, errlen) < 0)
		return -1;
	uint8_t *img = malloc(f.size);
	if (!img) {
		ldr_err(err, errlen, "%s: out of memory reading %llu bytes", req->kernel_path,
			(unsigned long long)f.size);
		ldr_close(&f);
		return -1;
	}
	int rc = ldr_read_all(&f, img, err, errlen);
	uint64_t size = f.size;
	ldr_close(&f);
	if (rc < 0 || !linux_is_bzimage(img, size)) {
		free(img);
		return rc;   /* not Linux: QEMU's multiboot items are its own (none here) */
	}

	/* The zero page the loader wrote: its setup header is what the
	 * kernel is given, and QEMU's SETUP_DATA carries its own patched one. */
	const struct linux_boot_params *bp = phys_ptr(mem, LINUX_SETUP_ADDR, sizeof(*bp));
	unsigned setup_sects = img[0x1F1] ? img[0x1F1] : 4;
	uint64_t setup_size = (setup_sects + 1ull) * 512;
	uint64_t hdr_end = 0x202u + img[0x201];
	if (hdr_end > 0x1F1 + sizeof(struct linux_setup_header))
		hdr_end = 0x1F1 + sizeof(struct linux_setup_header);
	if (!bp || setup_size >= size || hdr_end > setup_size) {
		free(img);
		ldr_err(err, errlen, "%s: changed while btvm was loading it", req->kernel_path);
		return -1;
	}
	memcpy(img + 0x1F1, (const uint8_t *)bp + 0x1F1, hdr_end - 0x1F1);
	const char *cmdline = req->cmdline ? req->cmdline : "";
	uint32_t cmdlen = (uint32_t)strlen(cmdline) + 1;

	rc = 0;
	rc |= fw_cfg_add_i32(c, FW_CFG_SETUP_ADDR, LINUX_SETUP_ADDR);
	rc |= fw_cfg_add_i32(c, FW_CFG_SETUP_SIZE, (uint32_t)setup_size);
	rc |= fw_cfg_add_bytes(c, FW_CFG_SETUP_DATA, img, (uint32_t)setup_size);
	rc |= fw_cfg_add_i32(c, FW_CFG_KERNEL_ADDR, LINUX_KERNEL_ADDR);
	rc |= fw_cfg_add_i32(c, FW_CFG_KERNEL_SIZE, (uint32_t)(size - setup_size));
	rc |= fw_cfg_add_i32(c, FW_CFG_CMDLINE_ADDR, LINUX_CMDLINE_ADDR);
	rc |= fw_cfg_add_i32(c, FW_CFG_CMDLINE_SIZE, cmdlen);
	rc |= fw_cfg_add_bytes(c, FW_CFG_CMDLINE_DATA, cmdline, cmdlen);
	/* the kernel's bytes stay in img, which the device now owns */
	rc |= fw_cfg_add_bytes_owned(c, FW_CFG_KERNEL_DATA, img + setup_size, (uint32_t)(size - setup_size), img);
	if (rc) {
		ldr_err(err, errlen, "internal error: fw_cfg kernel items taken");
		return -1;
	}
	return bp->hdr.ramdisk_size && req->initrd_path ? add_initrd(req, &bp->hdr, c, err, errlen) : 0;
}
