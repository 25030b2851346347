#!/usr/bin/env python3
"""Writes the committed seed corpora of the device and CLI fuzz targets
(corpus/NAME/*): short operation sequences a driver would make (the
encoding is fuzz_common.h's).  The loader seeds come from
tests/cli/make_bad_images (see README).  Run from anywhere:
    tests/fuzz/libfuzzer/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
R, W, CLK, SPC = 0, 1, 2, 3


def op(kind, where, widx=0, value=b""):
    return bytes([kind | widx << 2 | where << 4]) + value


def w(where, v, size=1, widx=None):
    if widx is None:
        widx = {1: 0, 2: 1, 4: 2}[size]
    return op(W, where, widx, v.to_bytes(size, "little"))


def r(where, widx=0):
    return op(R, where, widx)


def spc(v, extra=b""):
    return op(SPC, 0) + bytes([v]) + extra


def clk(b):
    return op(CLK, 0) + bytes([b])


def save(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(s)


# PIC: 0 0x20, 1 0x21, 2 0xA0, 3 0xA1, 4 0x4D0, 5 0x4D1; width 1
pic_init = (w(1, 0xFF) + w(3, 0xFF) + w(0, 0x11) + w(1, 0x20) + w(1, 0x04) + w(1, 0x01) +
            w(2, 0x11) + w(3, 0x28) + w(3, 0x02) + w(3, 0x01) + w(1, 0x00) + w(3, 0x00))
irq = lambda n, lvl: spc(((n + 8) & 0x1F) | (0x20 if n >= 24 else 0) | (lvl << 6))
inta = clk(0)
save("pic", [
    pic_init + irq(0, 1) + inta + w(0, 0x20) + irq(0, 0),
    pic_init + irq(9, 1) + inta + w(2, 0x20) + w(0, 0x20) + w(0, 0x0B) + r(0) + w(0, 0x0A) + r(0),
    pic_init + w(4, 0x20) + irq(5, 1) + inta + w(0, 0x65) + irq(5, 0) + w(0, 0x0C) + r(0),
    w(0, 0x13) + w(1, 0x30) + w(1, 0x03) + irq(3, 1) + irq(3, 0) + inta + w(0, 0x68) + irq(1, 1) + inta,
    pic_init + w(0, 0xC7) + irq(1, 1) + irq(4, 1) + inta + inta + w(0, 0xA0),
])

# PIT: 0 0x40 .. 3 0x43, 4 0x61; width 1
save("pit", [
    w(3, 0x34) + w(0, 0xA9) + w(0, 0x04) + clk(0x90) + w(3, 0x00) + r(0) + r(0) + clk(0x93) + r(0),
    w(4, 0x01) + w(3, 0xB0) + w(2, 0xFF) + w(2, 0xFF) + r(4) + clk(0x95) + r(4) + w(3, 0xE8) + r(2) + r(2),
    w(3, 0x36) + w(0, 0x00) + w(0, 0x00) + clk(0x9A) + w(3, 0xC2) + r(0) + r(0) + r(0),
    w(3, 0x30) + w(0, 0x10) + w(0, 0x00) + clk(0x70) + clk(0x8C) + r(0) + r(0),
    w(3, 0x1B) + w(0, 0x99) + spc(0x00) + spc(0x04) + clk(0x88) + spc(0x80) + w(3, 0x2A) + w(0, 0x10),
    w(4, 0x03) + w(3, 0x96) + w(2, 0x02) + clk(0x20) + r(4) + r(4) + spc(0xF0) + spc(0xF1),
])

# RTC: first 4 bytes: wall-clock seconds; 0 0x70, 1 0x71
wall = struct.pack("<I", 86400 * 400)
save("rtc", [
    wall + w(0, 0x00) + r(1) + w(0, 0x02) + r(1) + w(0, 0x04) + r(1) + w(0, 0x09) + r(1) + w(0, 0x32) + r(1),
    wall + w(0, 0x0A) + w(1, 0x26) + w(0, 0x0B) + w(1, 0x42) + clk(0x8E) + w(0, 0x0C) + r(1) + clk(0x99) + w(0, 0x0C) + r(1),
    wall + w(0, 0x0B) + w(1, 0x86) + w(0, 0x00) + w(1, 0x59) + w(0, 0x09) + w(1, 0x99) + w(0, 0x0B) + w(1, 0x16) + clk(0x9F) + w(0, 0x0C) + r(1),
    wall + w(0, 0x01) + w(1, 0xC0) + w(0, 0x03) + w(1, 0xC0) + w(0, 0x05) + w(1, 0xC0) + w(0, 0x0B) + w(1, 0x22) + clk(0x9E) + w(0, 0x0C) + r(1),
    wall + w(0, 0x8A) + r(1) + w(0, 0x0D) + r(1) + w(0, 0x2E) + r(1) + w(0, 0x7F) + w(1, 0x55) + r(1),
])

# UART: port 0x3F7 + where; 1 THR/RBR, 2 IER, 3 IIR/FCR, 4 LCR, 5 MCR, 6 LSR, 7 MSR, 8 SCR
uinit = w(4, 0x80) + w(1, 0x01) + w(2, 0x00) + w(4, 0x03) + w(3, 0xC7) + w(5, 0x0B) + w(2, 0x01)
save("uart", [
    uinit + clk(0x05) + r(3) + r(6) + r(1) + r(1) + w(1, 0x41) + r(3),
    uinit + w(2, 0x03) + r(3) + w(1, 0x42) + r(3) + r(6) + w(2, 0x0F) + r(7),
    uinit + w(5, 0x1F) + w(1, 0x55) + r(6) + r(1) + w(5, 0x0B) + r(7) + r(7),
    uinit + w(3, 0x00) + spc(0x30) + spc(0x31) + r(6) + r(1) + w(8, 0x5A) + r(8) + spc(0xFE) + spc(0xFF),
])

# i8042: 0 0x60, 1 0x64
save("i8042", [
    w(1, 0xAA) + r(1) + r(0) + w(1, 0x20) + r(0) + w(1, 0x60) + w(0, 0x47) + w(1, 0xAB) + r(0),
    w(0, 0xFF) + r(1) + r(0) + r(0) + w(0, 0xF2) + r(0) + r(0) + r(0) + w(0, 0xED) + w(0, 0x07) + r(0),
    w(1, 0xA8) + w(1, 0xD4) + w(0, 0xF4) + r(1) + r(0) + w(1, 0xA7) + w(1, 0xD0) + r(0) + w(1, 0xD1) + w(0, 0xDF),
    w(0, 0xF0) + w(0, 0x02) + r(0) + w(0, 0xF3) + w(0, 0x20) + w(1, 0xD2) + w(0, 0x1C) + r(0) + w(1, 0xFE),
])

# LAPIC: widths 4,4,1,8; regs 0 ID 1 TPR 2 EOI 3 LDR 4 DFR 5 SVR 6 ESR 7 ICR_LO 8 ICR_HI
# 9 LVT_TIMER 10 LINT0 11 LVT_ERROR 12 TIMER_ICR 13 CCR 14 DCR 15 raw(u16)
l = lambda where, v: w(where, v, 4)
lr = lambda where: r(where)
lraw = lambda off, v=None: (op(W, 15, 0, v.to_bytes(4, "little")) if v is not None else op(R, 15, 0)) + struct.pack("<H", off)
save("lapic", [
    l(5, 0x1FF) + l(14, 0xB) + l(9, 0x20030) + l(12, 100000) + clk(0x91) + spc(0x00) + l(2, 0) + lr(13),
    l(5, 0x1FF) + l(7, 0x40031) + spc(0x00) + lr(7) + l(2, 0) + l(1, 0x40) + l(7, 0x40031) + spc(0x00) + l(1, 0) + spc(0x00),
    spc(0x03, b"\x20") + spc(0x00) + l(10, 0x10700) + spc(0x03, b"\x21") + spc(0x00) + l(10, 0x700) + spc(0x0A) + spc(0x1A),
    l(5, 0x1FF) + spc(0x04 | 0 << 3 | 1 << 7, b"\x41\x00") + spc(0x00) + l(2, 0) + spc(0x04 | 0 << 3 | 1 << 6, b"\x42\x01") + l(3, 0x01000000) + spc(0x04 | 1 << 6, b"\x43\x01") + spc(0x00),
    l(6, 0) + l(7, 0x40005) + l(6, 0) + lr(6) + l(11, 0x33) + lraw(0x3F0, 1) + lraw(0x3F0) + l(6, 0) + lr(6),
    l(5, 0x1FF) + l(14, 0x3) + l(9, 0x00032) + l(12, 5000) + clk(0x50) + lr(13) + clk(0x8F) + spc(0x00) + spc(0x0E, b"\x00\x00\xE0\xFE") + spc(0x07),
])

# IOAPIC: widths 4,4,1,2; where 0-6 IOREGSEL, 7-13 IOWIN, 14-15 raw offset (u16)
sel = lambda reg: w(0, reg, 4)
win = lambda v: w(7, v, 4)
pin = lambda p, lvl: spc(((p + 4) & 0x1F) | (lvl << 7))
eoi = lambda vec: clk(vec)
save("ioapic", [
    sel(0x01) + r(7) + sel(0x00) + win(0x0F000000) + r(7) + sel(0x02) + r(7),
    sel(0x12) + win(0x31) + sel(0x13) + win(0) + pin(1, 1) + pin(1, 0) + pin(1, 1),
    sel(0x14) + win(0x8032) + pin(2, 1) + r(7) + eoi(0x32) + pin(2, 0) + eoi(0x32),
    sel(0x16) + win(0xA033) + pin(3, 0) + spc(0x47) + pin(3, 1) + pin(3, 0) + eoi(0x33) + sel(0x16) + r(7),
    sel(0x10) + win(0x10030) + pin(0, 1) + sel(0x10) + win(0x30) + pin(0, 0) + pin(0, 1) + sel(0x3F) + win(0xFF000000) + sel(0x40) + r(7),
])

# intc: widths 1,4,4,2; 0-5 PIC, 6 0x40, 7 0x43, 8 0x70, 9 0x71, 10 LAPIC EOI, 11 SVR, 12 TPR,
# 13 IOREGSEL, 14 IOWIN, 15 any LAPIC offset (u16); special < 0xC0: ISA line (b & 15) to (b >> 4) & 1,
# else INTA
m32 = lambda where, v: w(where, v, 4, 1)
isa = lambda n, lvl: spc(n | lvl << 4)
intack = spc(0xC0)
pit_hz = w(7, 0x34) + w(6, 0xA9) + w(6, 0x04)
save("intc", [
    pic_init + pit_hz + clk(0x90) + intack + w(0, 0x20) + clk(0x90) + intack,
    m32(11, 0x1FF) + m32(13, 0x14) + m32(14, 0x30) + m32(13, 0x15) + m32(14, 0) + w(1, 0xFF) + pit_hz + clk(0x91) + intack + m32(10, 0),
    m32(11, 0x1FF) + m32(13, 0x22) + m32(14, 0x8039) + isa(9, 1) + intack + m32(10, 0) + isa(9, 0) + m32(10, 0) + intack,
    pic_init + m32(13, 0x10) + m32(14, 0x700) + isa(1, 1) + intack + isa(1, 0) + w(0, 0x20) + intack,
    m32(11, 0x1FF) + m32(13, 0x20) + m32(14, 0x38) + w(8, 0x0B) + w(9, 0x42) + w(8, 0x0A) + w(9, 0x26) + clk(0x8E) + intack + w(8, 0x0C) + r(9) + m32(10, 0) + m32(12, 0x40),
])

# ACPI PM: widths 1,2,4,2; port 0x5FF + where: 1 STS, 3 EN, 5 CNT, 9 TMR
save("acpi_pm", [
    r(9, 2) + clk(0x70) + r(9, 2) + r(1, 1) + r(3, 1) + r(5, 1),
    w(3, 1, 2) + clk(0x92) + r(1, 1) + w(1, 1, 2) + r(1, 1) + clk(0x93) + spc(0x00),
    w(5, 0x2000, 2) + w(5, 0x2C00, 2) + r(5, 1),
    r(9) + r(10) + r(11) + r(12) + r(13) + w(0, 0xFF) + r(0) + spc(0xFF),
])

# PCI: widths 4,1,2,4; 0 0xCF8, 1 0xCFC, 2 0xCFD, 3 0xCFE, 4 0xCFF
cfg = lambda a: w(0, a, 4)
save("pci", [
    cfg(0x80000000) + r(1) + cfg(0x80000008) + r(1) + cfg(0x80000800) + r(1) + cfg(0x80000900) + r(1) + cfg(0x80001000) + r(1),
    cfg(0x80000920) + w(1, 0xFFFFFFFF, 4) + r(1) + w(1, 0xC001, 4) + r(1),
    cfg(0x80000904) + w(1, 0x0007, 2, 2) + r(2, 1) + cfg(0x80000904) + w(3, 0xFFFF, 2, 2) + r(3, 2),
    cfg(0x8000093C) + w(1, 0x0E, 1, 1) + r(1, 1) + cfg(0x80000940) + w(1, 0x80008000, 4) + r(1),
    spc(0x00, b"\x00") + spc(0x08, b"\x08") + spc(0x09, b"\x40") + spc(0x10, b"\x00") + w(10, 0, 1, 1) + r(10, 1),
])

# ATA: widths 1,2,2,4; where 0-7 cmd block, 8 ctl, 9-15 data; clk b: (b & 0x7F) * 2 + 2 data words, written if b & 0x80
burst = lambda n, wr: clk((n + 1) // 2 - 1 | (0x80 if wr else 0))
data16 = lambda v: op(W, 9, 1, v.to_bytes(2, "little"))
def packet(cdb):
    cdb = cdb + bytes(12 - len(cdb))
    s = w(1, 0) + w(4, 0x00) + w(5, 0x08) + w(7, 0xA0)
    for i in range(0, 12, 2):
        s += data16(cdb[i] | cdb[i + 1] << 8)
    return s
sel2 = spc(0x01)
save("ata", [
    w(6, 0xA0) + w(7, 0xEC) + r(7) + burst(256, False) + r(7),
    w(2, 1) + w(3, 5) + w(4, 0) + w(5, 0) + w(6, 0xE0) + w(7, 0x20) + r(7) + burst(256, False) + r(7),
    w(2, 2) + w(3, 3) + w(4, 0) + w(5, 0) + w(6, 0xE0) + w(7, 0x30) + burst(256, True) + burst(256, True) + r(7),
    w(8, 0x04) + w(8, 0x00) + r(1) + r(2) + r(3) + r(4) + r(5) + w(6, 0xB0) + r(7) + w(7, 0x90) + r(1),
    sel2 + w(6, 0xA0) + w(7, 0xA1) + burst(256, False) + packet(bytes([0x00])) + r(7) + packet(bytes([0x00])) + r(7),
    sel2 + w(6, 0xA0) + packet(bytes([0x12, 0, 0, 0, 36])) + burst(18, False) + r(7) + packet(bytes([0x25])) + burst(4, False),
    sel2 + w(6, 0xA0) + packet(bytes([0x00])) + packet(bytes([0x03, 0, 0, 0, 18])) + burst(9, False) + packet(bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 2])) + burst(256, False) + burst(256, False) + r(7),
    w(2, 0x10) + w(7, 0xC6) + w(2, 2) + w(3, 1) + w(6, 0xE0) + w(7, 0xC4) + burst(256, False) + w(2, 0) + w(2, 1) + w(7, 0x24) + burst(256, False),
    w(1, 0x03) + w(2, 0x0C) + w(7, 0xEF) + w(7, 0xE7) + w(7, 0xF8) + r(3) + w(7, 0x91) + w(7, 0x40) + r(7),
])

# fw_cfg: widths 1,2,4,1; 0 0x510, 1 0x511, 2 0x514, 3 0x518; special: DMA (at u16, control, len, addr)
def dma(flags, at, control, length, addr):
    return spc(flags, struct.pack("<HIII", at, control, length, addr))
save("fw_cfg", [
    w(0, 0x0000, 2) + r(1) + r(1) + r(1) + r(1) + w(0, 0x0001, 2) + r(0) + r(1) + r(1) + r(1),
    w(0, 0x0019, 2) + r(1) + r(1) + r(1) + r(1) + r(1) + r(1) + r(1) + r(1) + r(2, 2) + r(10),
    dma(0x03, 0x1000, 0x19 << 16 | 0x0A, 64, 0x2000) + dma(0x03, 0x1000, 0x02, 64, 0x2040),
    dma(0x03, 0x1000, 0x11 << 16 | 0x0C, 4000, 0x3000) + dma(0x03, 0x1000, 0x02, 0x8000, 0x4000) + dma(0x03, 0x1000, 0x10, 4, 0x100),
    w(0, 0x8002, 2) + r(1) + r(1) + w(0, 0x0020, 2) + r(1) + w(2, 0, 4) + w(3, 0x00100000, 4) + w(0, 0x4003, 2) + r(1),
])

# VGA: widths 1,1,2,1; 0 0x3D4 1 0x3D5 2 0x3DA 3 0x3C0 4 0x3C1 5 0x3C2 6 0x3C4 7 0x3C5
# 8 0x3C7 9 0x3C8 10 0x3C9 11 0x3CE 12 0x3CF 13 0x3B4 14 0x3B5 15 any (u8)
screen = spc(0x10)
save("vga", [
    w(0, 0x0E) + w(1, 0x01) + w(0, 0x0F) + w(1, 0x50) + screen + op(W, 0, 2, bytes([0x0A, 0x20])) + screen,
    w(0, 0x09) + w(1, 0x07) + w(0, 0x12) + w(1, 0x8F) + w(0, 0x13) + w(1, 0x50) + screen + w(0, 0x18) + w(1, 0x40) + screen,
    r(2) + w(3, 0x10) + w(3, 0x08) + r(2) + w(3, 0x01) + w(3, 0x3F) + r(4) + w(3, 0x20) + screen,
    w(9, 0x07) + w(10, 0x3F) + w(10, 0x00) + w(10, 0x20) + w(8, 0x07) + r(10) + r(10) + r(10) + r(8) + screen,
    w(5, 0x66) + w(13, 0x0A) + w(14, 0x0D) + r(14) + r(0) + w(11, 0x06) + w(12, 0x05) + screen + w(0, 0x11) + w(1, 0x80) + w(0, 0x00) + w(1, 0x55),
    w(6, 0x01) + w(7, 0x01) + w(0, 0x0C) + w(1, 0x3F) + w(0, 0x0D) + w(1, 0xF0) + screen + clk(0x41) + spc(0x31),
])

# CLI: argv[1..] separated by NUL
argvs = [
    ["run", "k.elf"],
    ["run", "--accel", "kvm", "--mem", "64M", "--stats", "--no-apic", "k.elf"],
    ["run", "--drive", "file=d.img,if=ide,index=1,media=cdrom", "--drive", "file=a,,b,format=raw,readonly=on", "k"],
    ["probe", "--needs", "iret,paging,tsc"],
    ["probe", "--accel", "kvm"],
    ["run", "--module", "m,some args", "--module", "n", "--initrd", "i", "--append", "x y", "k"],
    ["--help"], ["-V"], ["help"],
    ["run", "--flat=0x100000", "k"], ["run", "--flat", "k"],
    ["run", "--serial", "file:/tmp/x", "--display", "file:/tmp/y", "k"],
    ["run", "--serial", "none", "--display", "curses", "k"],
    ["run", "--sandbox-selftest=open:/tmp/x", "--sandbox-selftest", "crash", "--no-sandbox", "k"],
    ["run", "--disk", "a", "--cdrom", "b", "--disk-ro", "c", "k"],
    ["run", "--user-exec", "bt", "--timeout", "1.5", "--serial-out2-gate", "k"],
    ["run", "-x", "k"], ["run", "-ab", "k"], ["run", "--mem"], ["run", "--acc=bt", "k", "l"],
]
save("cli", [b"\0".join(a.encode() for a in v) for v in argvs])
print("seeds written under", os.path.join(HERE, "corpus"))
