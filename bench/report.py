#!/usr/bin/env python3
"""Turns one bench/run.sh run into results: NAME.md (the tables), NAME.dat
(the numbers for gnuplot) and NAME.png / NAME.svg (a grouped bar chart,
log scale) for the nanobenchmarks, and NAME-linux.{dat,png,svg} for the
Linux macro benchmarks.  Input: the run directory written by run.sh:

  samples.tsv  rep, system, benchmark, ns_per_iter, iters
  fail.tsv     rep, system, benchmark, short, reason   (a run gave no number)
  na.tsv       system, benchmark, short reason, footnote   (never run)
  runs.tsv     rep, system, exit status, wall seconds, benchmarks (one boot)
  meta.txt     key=value facts about the host and the run
  host-probe.txt  `btvm probe`'s table (meta host_probe_file names it)
  linux-samples.tsv  rep, system, macro benchmark, value, unit
  linux-runs.tsv     rep, system, exit status, boot-to-init s, clocksource, list
(fail.tsv and na.tsv hold the macro benchmarks' rows too, as linux-NAME.)
"""
import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys

SYSTEMS = ["native", "btvm-bt", "btvm-bt-direct", "btvm-bt-direct-noFSGSBASE", "btvm-kvm", "qemu-kvm",
           "qemu-tcg", "bochs"]
BENCHES = ["syscall", "sysenter", "userexit", "in", "cr3", "ptemod", "pgfault", "divzero", "callret",
           "compute", "usercompute", "clisti", "pushfpopf", "irq", "ctxsw"]
# Adams & Agesen, ASPLOS 2006, table 2 (nanobenchmarks), where there is a
# counterpart.
PAPER = {"syscall": "syscall", "sysenter": "—", "userexit": "—", "usercompute": "—", "in": "in", "cr3": "(cr8wr: privileged register write)",
         "ptemod": "ptemod", "pgfault": "pgfault", "divzero": "divzero",
         "callret": "call/ret", "compute": "—", "clisti": "—", "pushfpopf": "—", "irq": "—", "ctxsw": "—"}
RATIOS = [("bt/native", "btvm-bt", "native"), ("bt/tcg", "btvm-bt", "qemu-tcg"),
          ("bt/kvm", "btvm-bt", "btvm-kvm"), ("direct/native", "btvm-bt-direct", "native"),
          ("noFSGS/direct", "btvm-bt-direct-noFSGSBASE", "btvm-bt-direct")]
MACROS = ["linux-boot", "linux-getpid", "linux-clock", "linux-fork", "linux-pipe",
          "linux-yield", "linux-pgfault", "linux-sha256", "linux-sort", "linux-file"]
MACRO_WHAT = {
    "linux-boot": "boot-to-init: start of the emulator to /init's first line (host clock)",
    "linux-getpid": "getpid() system call",
    "linux-clock": "clock_gettime(CLOCK_MONOTONIC)",
    "linux-fork": "fork + _exit + waitpid",
    "linux-pipe": "pipe round trip between 2 processes",
    "linux-yield": "sched_yield round trip between 2 processes",
    "linux-pgfault": "first write to a fresh anonymous page",
    "linux-sha256": "SHA-256 of 8 MiB",
    "linux-sort": "qsort of 512 Ki ints",
    "linux-file": "16 MiB tmpfs write + read, 4 KiB calls",
}
MACRO_RATIOS = [("direct/native", "btvm-bt-direct", "native"), ("bt/native", "btvm-bt", "native"),
                ("tcg/native", "qemu-tcg", "native"), ("direct/tcg", "btvm-bt-direct", "qemu-tcg"),
                ("bt/tcg", "btvm-bt", "qemu-tcg"), ("noFSGS/direct", "btvm-bt-direct-noFSGSBASE", "btvm-bt-direct")]
# What BTVM_HOST_MASK hides on host B of shared/HOSTS.md (no 32-bit code in
# host processes, no FSGSBASE, no CPUID faulting, no /dev/kvm).
HOST_B_MASK = {"compat-mode", "i386-syscall", "sysenter", "fsgsbase", "cpuid-faulting", "kvm"}
NATIVE64_HEAD = "native (x86-64 build: this host runs no i386 code)"
COLORS = {"native": "#4d4d4d", "btvm-bt": "#d62728", "btvm-bt-direct": "#e377c2",
          "btvm-bt-direct-noFSGSBASE": "#8c564b", "btvm-kvm": "#ff7f0e",
          "qemu-kvm": "#1f77b4", "qemu-tcg": "#2ca02c", "bochs": "#9467bd"}


def read_tsv(path, ncols):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    parts = line.split("\t")
                    rows.append(parts + [""] * (ncols - len(parts)))
    return rows


def fmt(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rundir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    a = ap.parse_args()
    rd = a.rundir

    meta = {}
    with open(os.path.join(rd, "meta.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    systems = [s for s in SYSTEMS if s in meta.get("systems", " ".join(SYSTEMS)).split()]
    benches = [b for b in BENCHES if b in meta.get("benches", " ".join(BENCHES)).split()]
    macros = [b for b in MACROS if b in meta.get("macros", "").split()]
    reps = int(meta.get("reps", "0"))

    samples = collections.defaultdict(list)
    for rep, sysname, b, ns, iters in read_tsv(os.path.join(rd, "samples.tsv"), 5):
        samples[(sysname, b)].append(float(ns))
    units = {}
    for rep, sysname, b, v, unit in read_tsv(os.path.join(rd, "linux-samples.tsv"), 5):
        samples[(sysname, b)].append(float(v))
        units[b] = unit
    clocksources = collections.defaultdict(set)
    boot_status = collections.defaultdict(list)
    for rep, sysname, rc, init_s, cs, _ in read_tsv(os.path.join(rd, "linux-runs.tsv"), 6):
        if cs and cs != "?":
            clocksources[sysname].add(cs)
        boot_status[sysname].append(rc)
    fails = collections.defaultdict(list)
    for rep, sysname, b, short, why in read_tsv(os.path.join(rd, "fail.tsv"), 5):
        fails[(sysname, b)].append((short, why))
    na = {}
    for sysname, b, short, note in read_tsv(os.path.join(rd, "na.tsv"), 4):
        na[(sysname, b)] = (short, note)
    walls = collections.defaultdict(list)
    statuses = collections.defaultdict(list)
    for rep, sysname, rc, wall, _ in read_tsv(os.path.join(rd, "runs.tsv"), 5):
        walls[sysname].append(float(wall))
        statuses[sysname].append(rc)

    notes = []                       # footnote texts, in order of first use

    def note(text):
        if text not in notes:
            notes.append(text)
        return f"[^{notes.index(text) + 1}]"

    med = {}
    cells = {}
    for b in benches + macros:
        for s in systems:
            v = samples.get((s, b), [])
            if v:
                m = statistics.median(v)
                med[(s, b)] = (m, min(v), max(v))
                c = f"{fmt(m)} [{fmt(min(v))}–{fmt(max(v))}]"
                if fails.get((s, b)):
                    c += note(f"{len(fails[(s, b)])} of {reps} runs gave no number: " + fails[(s, b)][0][1])
                cells[(s, b)] = c
            elif (s, b) in na:
                short, text = na[(s, b)]
                cells[(s, b)] = f"n/a ({short}){note(text)}"
            elif fails.get((s, b)):
                short, why = fails[(s, b)][0]
                cells[(s, b)] = f"{short}{note(why)}"
            else:
                cells[(s, b)] = "—"

    # The native column of the macro table from the x86-64 build (a host
    # that runs no i386 code): every such figure carries the note.
    native64 = meta.get("native_macro_build") == "x86-64"
    if native64:
        n64 = note("native, Linux macro table: this host runs no i386 code (`btvm probe --needs "
                   f"compat-mode,i386-syscall`: {meta.get('i386_probe', '?')}), so these native figures "
                   "come from the same bench/macro sources built for x86-64 (`macro-x86_64`, "
                   "`gcc -static` without -m32), not from the i386 binary the guests run: a 64-bit "
                   "program, with the x86-64 system-call entry (getpid) and 64-bit code (sha256, "
                   "sort). The ratios against native compare with that build.")
        for b in macros:
            if ("native", b) in med:
                cells[("native", b)] += n64

    def ratio(b, num, den):
        if (num, b) in med and (den, b) in med and med[(den, b)][0] > 0:
            return f"{med[(num, b)][0] / med[(den, b)][0]:.2f}"
        return "—"

    name = a.name
    os.makedirs(a.out, exist_ok=True)
    md = []
    title = "btvm nanobenchmarks" + (" and Linux macro benchmarks" if macros else "")
    if not benches and macros:
        title = "btvm Linux macro benchmarks"
    md.append(f"# {title}: {meta.get('date', '')}, {meta.get('host', '')}"
              + (" (imitating host B)" if mask_items(meta) >= HOST_B_MASK else
                 " (imitating a host without " + ", ".join(sorted(mask_items(meta))) + ")"
                 if mask_items(meta) else ""))
    md.append("")
    host_header(md, meta, rd)
    if benches:
        nano_table(md, meta, reps, name, systems, benches, cells, med, ratio)
    if macros:
        macro_table(md, meta, reps, name, systems, macros, cells, med, ratio, units, clocksources,
                    boot_status, native64)
    md.append("## Host")
    md.append("")
    meta["host_mask_shown"] = f"`{meta['host_mask']}`" if meta.get("host_mask") else "not set"
    for k, label in [("cpu", "CPU"), ("cores", "cores"), ("hypervisor", "virtualised"),
                     ("kernel", "kernel"), ("host_mask_shown", "BTVM_HOST_MASK"),
                     ("i386_probe", "`btvm probe --needs compat-mode,i386-syscall`"),
                     ("compat_probe", "`btvm probe --needs compat-mode`"),
                     ("fsgs_probe", "`btvm probe --needs fsgsbase`"),
                     ("kvm_probe", "`btvm probe --accel kvm`"),
                     ("pvm", "PVM"), ("kvm_nested", "nested KVM"), ("qemu", "QEMU"),
                     ("bochs", "Bochs"), ("gcc", "compiler"), ("btvm", "btvm")]:
        md.append(f"* {label}: {meta.get(k, '?')}")
    md.append("")
    md.append("## Run")
    md.append("")
    md.append(f"* command: `{meta.get('command', '')}` ({meta.get('elapsed', '?')} s in all)")
    md.append(f"* raw output: `{meta.get('rundir', '')}`")
    wl = []
    for s in systems:
        if walls.get(s):
            st = ",".join(sorted(set(statuses[s])))
            wl.append(f"{s} {statistics.median(walls[s]):.1f} s ({st})")
    if wl:
        md.append("* median wall time of one boot (exit status): " + "; ".join(wl))
    if benches:
        md.append("* Adams & Agesen counterparts: " + ", ".join(
            f"`{b}` = {PAPER[b]}" for b in benches if PAPER[b] != "—"))
    if macros:
        md.append(f"* Linux guest: {meta.get('linux_guest', '?')}")
        ls = []
        for s in systems:
            if boot_status.get(s):
                ls.append(f"{s} {','.join(sorted(set(boot_status[s])))}")
        if ls:
            md.append("* exit status of the Linux runs: " + "; ".join(ls))
    md.append("")
    if notes:
        for i, t in enumerate(notes):
            md.append(f"[^{i + 1}]: {t}")
        md.append("")
    with open(os.path.join(a.out, name + ".md"), "w") as f:
        f.write("\n".join(md).rstrip("\n") + "\n")

    host_day = f"{meta.get('host', '')} {meta.get('date', '')[:10]}"
    # (gnuplot's enhanced text would take the underscores of
    # BTVM_HOST_MASK for subscripts: the title says it in words)
    if mask_items(meta) >= HOST_B_MASK:
        host_day += " imitating host B"
    elif mask_items(meta):
        host_day += " imitating a host without " + "+".join(sorted(mask_items(meta)))
    if benches:
        # Only the columns with a number: an empty one would still take
        # its slot in every group of bars.
        nsys = [s for s in systems if any((s, b) in med for b in benches)]
        dat = write_dat(os.path.join(a.out, name + ".dat"), nsys, benches, med,
                        lambda b: b)
        plot(rd, a.out, name, nsys, dat, bool(nsys),
             f"btvm nanobenchmarks, {host_day}: ns per iteration (median, whiskers min–max)",
             "ns per iteration (log scale)")
    if macros:
        lname = name + "-linux"
        # Only the columns with a number: most systems cannot boot Linux here.
        lsys = [s for s in systems if any((s, b) in med for b in macros)]
        dat = write_dat(os.path.join(a.out, lname + ".dat"), lsys, macros, med,
                        lambda b: f"{b[len('linux-'):]}({units.get(b, '?')})")
        plot(rd, a.out, lname, lsys, dat, bool(lsys),
             f"btvm Linux macro benchmarks, {host_day}: median, whiskers min–max (unit under each group)",
             "ns/op, ms or s, as labelled (log scale)",
             {"native": "native (x86-64 build)"} if native64 else {})
    print(os.path.join(a.out, name + ".md"))


def mask_items(meta):
    """The capabilities BTVM_HOST_MASK hid in this run, as a set."""
    items = {w.strip() for w in meta.get("host_mask", "").replace(" ", ",").split(",") if w.strip()}
    return set(HOST_B_MASK) if "all" in items else items


def host_header(md, meta, rd):
    """Names the host every figure came from: CPU, kernel, BTVM_HOST_MASK,
    what direct execution does here, and `btvm probe`'s table."""
    virt = ", itself a virtual machine" if meta.get("hypervisor", "").startswith("yes") else ""
    mask = meta.get("host_mask", "")
    md.append(f"**Host** `{meta.get('host', '?')}`: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores"
              f"{virt}; Linux {meta.get('kernel', '?')}. Every figure in this file was measured on this "
              "host" + (", with the mask below" if mask else "") + ".")
    md.append("")
    items = mask_items(meta)
    if items:
        which = " (host B of shared/HOSTS.md)" if items >= HOST_B_MASK else ""
        md.append(f"**Imitating a host without {', '.join(sorted(items))}**{which}: `BTVM_HOST_MASK={mask}` "
                  "was set for the whole run, so btvm and `btvm probe` behaved as if this host lacked "
                  "them, and run.sh's choices (native columns, direct-execution columns) follow the "
                  "probe. The mask hides capabilities; it does not give this machine another host's "
                  "costs (on host B an `arch_prctl` costs 10 µs and a signal 6.5 µs: shared/HOSTS.md), "
                  "and QEMU and Bochs do not read it.")
        md.append("")
    crc, frc = meta.get("compat_rc", ""), meta.get("fsgs_rc", "")
    if crc == "4":
        md.append("**Direct execution**: not available here, btvm translates guest user code "
                  f"(`btvm probe --needs compat-mode`: {meta.get('compat_probe', '?')}).")
    elif crc == "0" and frc == "4":
        md.append("**Direct execution runs without FSGSBASE** here: btvm-bt-direct sets the host FS "
                  "base with `arch_prctl` (a host system call) at every world switch instead of "
                  f"`wrfsbase` (`btvm probe --needs fsgsbase`: {meta.get('fsgs_probe', '?')}).")
    elif crc == "0":
        md.append("**Direct execution** uses FSGSBASE here (`wrfsbase` at each world switch); "
                  "btvm-bt-direct-noFSGSBASE is the same btvm with "
                  f"`BTVM_HOST_MASK={meta.get('nofsgs_mask', 'fsgsbase')}`, which sets the FS base "
                  "with `arch_prctl` instead.")
    if crc:
        md.append("")
    probe = ""
    pf = meta.get("host_probe_file", "")
    if pf and os.path.exists(pf):
        with open(pf) as f:
            probe = f.read().rstrip("\n")
    if probe:
        md.append("`btvm probe`" + (f" (under `BTVM_HOST_MASK={mask}`)" if mask else "") + ":")
        md.append("")
        md.append("```")
        md.append(probe)
        md.append("```")
        md.append("")


def nano_table(md, meta, reps, name, systems, benches, cells, med, ratio):
    md.append("Nanoseconds per iteration: median [min–max] of "
              f"{reps} run{'s' if reps != 1 else ''} (each run boots the guest once; the systems take turns). "
              f"Each timed loop aims at {meta.get('ms')} ms. What each benchmark does and how to read "
              "this: [bench/README.md](../README.md).")
    md.append("")
    head = ["benchmark"] + systems + [r[0] for r in RATIOS]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for b in benches:
        row = [f"`{b}`"] + [cells[(s, b)] for s in systems]
        row += [ratio(b, num, den) for _, num, den in RATIOS]
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    exit_cost(md, systems, benches, med)
    ratio_notes = []
    for label, num, den in RATIOS:
        if num not in systems or den not in systems or not any((num, b) in med for b in benches):
            ratio_notes.append(f"{label}: needs numbers from both {num} and {den}")
    if ratio_notes:
        md.append("Ratios are of medians; \u201c—\u201d where a side has no number ("
                  + "; ".join(ratio_notes) + ").")
        md.append("")
    md.append(f"![nanobenchmarks, log scale]({name}.png)")
    md.append("")


def exit_cost(md, systems, benches, med):
    """One line on direct execution's exit round trip (userexit), with and
    without FSGSBASE, against the all-translated btvm-bt."""
    if "userexit" not in benches:
        return
    parts = []
    bt = med.get(("btvm-bt", "userexit"))
    for s, what in [("btvm-bt-direct", "btvm-bt-direct"),
                    ("btvm-bt-direct-noFSGSBASE", "without FSGSBASE (btvm-bt-direct-noFSGSBASE)")]:
        m = med.get((s, "userexit"))
        if m:
            extra = f", {fmt(m[0] - bt[0])} ns more than translated" if bt else ""
            parts.append(f"{what} {fmt(m[0])} ns{extra}")
    if not parts:
        return
    md.append("**Direct execution's exit round trip** (`userexit`: every iteration leaves the CPU "
              "for the monitor through a host signal and comes back): " + "; ".join(parts)
              + (f" (btvm-bt, the same round trip translated: {fmt(bt[0])} ns)." if bt else "."))
    md.append("")


def macro_table(md, meta, reps, name, systems, macros, cells, med, ratio, units, clocksources,
                boot_status, native64):
    md.append("## Linux guest: macro benchmarks")
    md.append("")
    md.append("Debian's 686 kernel with a busybox initrd (`guests/debian/make-guest.sh`), running the "
              "static i386 programs of `bench/macro` under each system, and "
              + ("the same sources built for x86-64 natively on the host (it runs no i386 code). "
                 if native64 else "the same binaries run natively on the host. ")
              + "Median [min–max] of "
              f"{reps} run{'s' if reps != 1 else ''} (one boot each; the systems take turns); "
              f"each timed loop aims at {meta.get('linux_ms')} ms of the guest's clock. `ns/op`: per "
              "operation; `ms`: a fixed amount of work in all; `s`: boot-to-init on the host's clock. "
              "Lower is better. What each one does: [bench/README.md](../README.md#macro-benchmarks).")
    md.append("")
    ratio_labels = [r[0].replace("/native", "/native64") if native64 else r[0] for r in MACRO_RATIOS]
    head = (["benchmark", "what", "unit"] + [NATIVE64_HEAD if native64 and s == "native" else s for s in systems]
            + ratio_labels)
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "|".join(["---", "---", "---"] + ["---:"] * (len(head) - 3)) + "|")
    for b in macros:
        row = [f"`{b}`", MACRO_WHAT[b], units.get(b, "s" if b == "linux-boot" else "?")]
        row += [cells[(s, b)] for s in systems]
        row += [ratio(b, num, den) for _, num, den in MACRO_RATIOS]
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    md.append("Ratios are of medians (\u201c—\u201d where a side has no number). Guest time is "
              "CLOCK_MONOTONIC inside the guest, which each system keeps on the host's time its own "
              "way (see bench/README.md).")
    cs = [f"{s} {', '.join(sorted(clocksources[s]))}" for s in systems if clocksources.get(s)]
    if cs:
        md.append("Clocksource (`/sys/devices/system/clocksource/clocksource0/current_clocksource`; "
                  "native: the host's): " + "; ".join(cs) + ".")
        mixed = [s for s in systems if len(clocksources.get(s, ())) > 1]
        if mixed:
            md.append(f"**Mixed clocksources** ({', '.join(mixed)}): boots on different clocksources "
                      "are not comparable, `linux-clock` least of all.")
    md.append(f"TSC rate given to the guest kernel (`tsc_early_khz=`, measured on the host): "
              f"{meta.get('tsc_khz', '?')} kHz.")
    md.append(f"File benchmark natively in {meta.get('native_tmp', '?')}; in the guest in a tmpfs on /tmp.")
    md.append("")
    md.append(f"![Linux macro benchmarks, log scale]({name}-linux.png)")
    md.append("")


def write_dat(path, systems, rows, med, label):
    """gnuplot data: a label, then median/min/max per system ("?" = none)."""
    with open(path, "w") as f:
        f.write("# benchmark " + " ".join(f"{s}_med {s}_min {s}_max" for s in systems) + "\n")
        for b in rows:
            cols = []
            for s in systems:
                if (s, b) in med:
                    cols += [f"{x:.2f}" for x in med[(s, b)]]
                else:
                    cols += ["?", "?", "?"]
            f.write(label(b) + " " + " ".join(cols) + "\n")
    return path


def plot(rundir, outdir, name, systems, dat, have_data, title, ylabel, labels=None):
    if not shutil.which("gnuplot"):
        print("report: gnuplot not installed (scripts/setup-bench.sh): no chart", file=sys.stderr)
        return
    if not have_data:
        print("report: no numbers to plot", file=sys.stderr)
        return
    plots = []
    for i, s in enumerate(systems):
        c = 2 + 3 * i
        src = "'" + dat + "'" if i == 0 else "''"
        xt = ":xtic(1)" if i == 0 else ""
        plots.append(f"{src} using {c}:{c + 1}:{c + 2}{xt} title '{(labels or {}).get(s, s)}' lc rgb '{COLORS[s]}'")
    common = f"""
set title "{title}"
set datafile missing '?'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [1:*]
set format y '10^{{%L}}'
set ylabel '{ylabel}'
set grid ytics mytics
set key outside right top vertical
set xtics nomirror
set bars 0.5
plot {", ".join(plots)}
"""
    script = os.path.join(rundir, name + ".gp")
    with open(script, "w") as f:
        f.write(f"set terminal pngcairo size 1400,700 font 'sans,11'\nset output '{os.path.join(outdir, name + '.png')}'\n")
        f.write(common)
        f.write(f"set terminal svg size 1400,700 dynamic font 'sans,11'\nset output '{os.path.join(outdir, name + '.svg')}'\nreplot\n")
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode != 0:
        print("report: gnuplot failed:\n" + r.stderr, file=sys.stderr)


if __name__ == "__main__":
    main()
