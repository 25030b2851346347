#!/usr/bin/env python3
"""mkinitrd.py OUT.gz < MANIFEST

Writes a gzip-compressed cpio archive in the "newc" format that the Linux
kernel unpacks into its initramfs (Documentation/driver-api/early-userspace/
buffer-format.rst).  Written here rather than with cpio(1) so that device
nodes and root ownership need no root privileges, and so that the output is
byte-for-byte reproducible: every entry has uid 0, gid 0, mtime 0, and the
gzip header carries no name and mtime 0.

MANIFEST has one entry per line, fields separated by single spaces
(a path may not contain spaces or newlines; '#' starts a comment line):
    dir     PATH MODE
    file    PATH MODE HOSTFILE
    symlink PATH TARGET
    char    PATH MODE MAJOR MINOR
PATH is inside the archive, without a leading '/'; MODE is octal
permission bits.  Directories must be listed before what they contain.
Errors are one line on stderr and exit status 1.
"""
import gzip
import stat
import sys


def die(msg):
    sys.stderr.write("mkinitrd: %s\n" % msg)
    sys.exit(1)


class Writer:
    def __init__(self, out):
        self.out = out
        self.ino = 1

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        nameb = name.encode() + b"\0"
        # newc header: magic then 13 eight-digit hex fields.
        fields = [
            self.ino,        # c_ino
            mode,            # c_mode
            0, 0,            # c_uid, c_gid
            2 if stat.S_ISDIR(mode) else 1,  # c_nlink
            0,               # c_mtime
            len(data),       # c_filesize
            0, 0,            # c_devmajor, c_devminor
            rdev[0], rdev[1],  # c_rdevmajor, c_rdevminor
            len(nameb),      # c_namesize (with the NUL)
            0,               # c_check
        ]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out.write(hdr + nameb)
        self.pad(len(hdr) + len(nameb))
        self.out.write(data)
        self.pad(len(data))

    def pad(self, n):
        self.out.write(b"\0" * ((4 - n % 4) % 4))

    def trailer(self):
        self.ino = 0
        self.entry("TRAILER!!!", 0)


def main():
    if len(sys.argv) != 2:
        die("usage: mkinitrd.py OUT.gz < MANIFEST")
    seen = {""}
    raw = []
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split(" ")
        kind = f[0]
        want = {"dir": 3, "file": 4, "symlink": 3, "char": 5}.get(kind)
        if want is None or len(f) != want:
            die("manifest line %d: cannot parse '%s'" % (lineno, line))
        path = f[1]
        if path.startswith("/") or not path or ".." in path.split("/"):
            die("manifest line %d: bad archive path '%s'" % (lineno, path))
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent not in seen:
            die("manifest line %d: '%s' comes before its directory '%s'" % (lineno, path, parent))
        if path in seen:
            die("manifest line %d: '%s' is listed twice" % (lineno, path))
        seen.add(path)
        raw.append((lineno, kind, path, f[2:]))

    with open(sys.argv[1], "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            w = Writer(gz)
            for lineno, kind, path, rest in raw:
                try:
                    if kind == "dir":
                        w.entry(path, stat.S_IFDIR | int(rest[0], 8))
                    elif kind == "file":
                        with open(rest[1], "rb") as src:
                            data = src.read()
                        w.entry(path, stat.S_IFREG | int(rest[0], 8), data)
                    elif kind == "symlink":
                        w.entry(path, stat.S_IFLNK | 0o777, rest[0].encode())
                    else:
                        w.entry(path, stat.S_IFCHR | int(rest[0], 8),
                                rdev=(int(rest[1]), int(rest[2])))
                except (OSError, ValueError) as e:
                    die("manifest line %d (%s): %s" % (lineno, path, e))
            w.trailer()


if __name__ == "__main__":
    main()
