/* The IDE drive options: --disk, --disk-ro, --cdrom and --drive, in QEMU's
 * spelling (-drive file=F,if=ide,index=N,media=disk|cdrom,readonly=on,
 * format=raw): each fills one of the four positions, and a position given
 * twice is one clear error.  Only parsing: disk_image.c opens the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/cli.h"

const char *cli_drive_position(unsigned index)
{
	static const char *const names[BTVM_IDE_DRIVES] = {
		"primary master", "primary slave", "secondary master", "secondary slave",
	};
	return index < BTVM_IDE_DRIVES ? names[index] : "?";
}

/* How an earlier option named the drive at this position, for the
 * conflict line: "--disk a.img", "--drive index=1 (b.img)". */
static void describe(const struct drive_config *d, char *buf, size_t len)
{
	if (d->path)
		snprintf(buf, len, "%s %s", d->label, d->path);
	else
		snprintf(buf, len, "%s (a CD drive without a medium)", d->label);
}

static int put_drive(struct vm_config *cfg, unsigned index, const struct drive_config *d, const char *what,
		     char *err, size_t errlen)
{
	struct drive_config *slot = &cfg->drives[index];
	if (slot->present) {
		char before[160];
		describe(slot, before, sizeof(before));
		snprintf(err, errlen, "%s: index %u (the %s) is already taken by %s", what, index,
			 cli_drive_position(index), before);
		return -1;
	}
	*slot = *d;
	slot->present = true;
	return 0;
}

int cli_disk_option(struct vm_config *cfg, const char *file, bool read_only, char *err, size_t errlen)
{
	const char *opt = read_only ? "--disk-ro" : "--disk";
	if (!*file) {
		snprintf(err, errlen, "%s: empty file name", opt);
		return -1;
	}
	struct drive_config d = { .path = file, .read_only = read_only, .ro_hint = "--disk-ro" };
	snprintf(d.label, sizeof(d.label), "%s", opt);
	return put_drive(cfg, 0, &d, opt, err, errlen);
}

int cli_cdrom_option(struct vm_config *cfg, const char *file, char *err, size_t errlen)
{
	if (!*file) {
		snprintf(err, errlen, "--cdrom: empty file name");
		return -1;
	}
	/* QEMU's -cdrom: the secondary master */
	struct drive_config d = { .path = file, .cdrom = true, .read_only = true, .ro_hint = "--cdrom" };
	snprintf(d.label, sizeof(d.label), "--cdrom");
	return put_drive(cfg, 2, &d, "--cdrom", err, errlen);
}

/* One KEY=VALUE of SPEC: *p is at the key.  The value is unescaped in
 * place (QEMU's option syntax: ",," is a comma); *p moves past the comma
 * that ends it.  -1 when the item has no '='. */
static int next_item(char **p, char **key, char **value)
{
	char *k = *p, *eq = k;
	while (*eq && *eq != '=' && *eq != ',')
		eq++;
	if (*eq != '=')
		return -1;
	*eq = '\0';
	char *src = eq + 1, *dst = eq + 1;
	for (;;) {
		if (*src == ',' && src[1] == ',') {
			*dst++ = ',';
			src += 2;
		} else if (*src == ',' || !*src) {
			break;
		} else {
			*dst++ = *src++;
		}
	}
	bool more = *src == ',';
	*dst = '\0';
	*key = k;
	*value = eq + 1;
	*p = more ? src + 1 : src;
	return 0;
}

int cli_drive_option(struct vm_config *cfg, char *spec, char *err, size_t errlen)
{
	const char *file = NULL, *iface = NULL, *index_s = NULL, *media = NULL, *ro = NULL, *format = NULL;
	struct { const char *name; const char **slot; } keys[] = {
		{ "file", &file }, { "if", &iface }, { "index", &index_s },
		{ "media", &media }, { "readonly", &ro }, { "format", &format },
	};
	if (!*spec) {
		snprintf(err, errlen, "--drive: empty specification (example: --drive file=disk.img,if=ide,index=1)");
		return -1;
	}
	char *p = spec;
	while (*p) {
		char *key, *value;
		char *item = p;
		if (next_item(&p, &key, &value) < 0) {
			char *end = strchr(item, ',');
			if (end)
				*end = '\0';
			snprintf(err, errlen, "--drive: '%s' is not KEY=VALUE (keys: file, if, index, media, readonly, format)",
				 item);
			return -1;
		}
		size_t i;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i].name))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen, "--drive: unknown key '%s' (keys: file, if, index, media, readonly, format)", key);
			return -1;
		}
		if (*keys[i].slot) {
			snprintf(err, errlen, "--drive: '%s' given twice", key);
			return -1;
		}
		*keys[i].slot = value;
	}

	if (iface && strcmp(iface, "ide")) {
		snprintf(err, errlen, "--drive: if=%s is not supported (btvm's drives are IDE: if=ide)", iface);
		return -1;
	}
	if (format && strcmp(format, "raw")) {
		snprintf(err, errlen, "--drive: format=%s is not supported (raw images only: format=raw)", format);
		return -1;
	}
	bool cdrom = false;
	if (media && !strcmp(media, "cdrom"))
		cdrom = true;
	else if (media && strcmp(media, "disk")) {
		snprintf(err, errlen, "--drive: media=%s is neither disk nor cdrom", media);
		return -1;
	}
	bool read_only = cdrom;
	if (ro) {
		if (!strcmp(ro, "on"))
			read_only = true;
		else if (!strcmp(ro, "off"))
			read_only = false;
		else {
			snprintf(err, errlen, "--drive: readonly=%s is neither on nor off", ro);
			return -1;
		}
		if (cdrom && !read_only) {
			snprintf(err, errlen, "--drive: readonly=off with media=cdrom (a CD is read-only)");
			return -1;
		}
	}
	if (file && !*file) {
		snprintf(err, errlen, "--drive: file= is empty");
		return -1;
	}
	if (!file && !cdrom) {
		snprintf(err, errlen, "--drive: a disk needs file=FILE (only a CD drive may be empty)");
		return -1;
	}
	unsigned index;
	if (index_s) {
		char *end;
		unsigned long v = strtoul(index_s, &end, 10);
		if (!*index_s || *end || *index_s == '-' || *index_s == '+' || v >= BTVM_IDE_DRIVES) {
			snprintf(err, errlen, "--drive: index=%s is not 0-3 (primary master, primary slave, "
				 "secondary master, secondary slave)", index_s);
			return -1;
		}
		index = (unsigned)v;
	} else {
		/* QEMU: the first free position */
		for (index = 0; index < BTVM_IDE_DRIVES && cfg->drives[index].present; index++)
			;
		if (index == BTVM_IDE_DRIVES) {
			snprintf(err, errlen, "--drive: all four IDE positions are taken");
			return -1;
		}
	}
	struct drive_config d = { .path = file, .cdrom = cdrom, .read_only = read_only, .ro_hint = "readonly=on" };
	snprintf(d.label, sizeof(d.label), "--drive index=%u", index);
	char what[32];
	snprintf(what, sizeof(what), "--drive index=%u", index);
	return put_drive(cfg, index, &d, what, err, errlen);
}
