#!/usr/bin/env python3
"""Boots the Debian system built by guests/debian/make-system.sh and drives
its serial console (root logs in by itself) through a fixed workload.

  run-system.py --backend qemu|bt|kvm [--btvm PATH] [--qemu PATH] [--pae]
                [--expect FILE] [--timeout SEC] [--keep DIR] GUESTDIR

The disk image is copied first (the workload writes to it).  Two boots:
  1. up to the shell prompt; `systemctl is-system-running --wait` and the
     failed units; apt-get install of /root/hello.deb (Debian's hello, a
     local .deb in the image) and running it; a C program compiled with gcc
     and run; a file written and synced; `reboot` (QEMU -no-reboot exits,
     btvm exits 0 on the i8042 reset the kernel's reboot uses);
  2. the same disk again: the file must be there; `poweroff` (ACPI S5:
     both exit 0).
The console is read with select() and deadlines (no sleeps): every command
is sent as `{ CMD\n} </dev/null; echo @@""END $?`, and its output is what
comes before the "@@END <status>" line.  The transcript (each command as
"$ CMD", its output, "[status N]" when not 0) must equal --expect FILE
(default tests/linux/expected/system.out), the kernel's release
(GUESTDIR/kernel-version) written @KERNEL_RELEASE@.  Machine-dependent lines are
printed after the verdict, not compared: boot-to-prompt times and the
kernel's warnings (dmesg --level=emerg,alert,crit,err,warn).
Exit: 0 pass, 1 fail, 77 skip (no guest built, no QEMU, no usable KVM).
"""
import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = re.compile(rb"root@btvm:[^\n]*# ")
END = re.compile(rb"@@END (\d+)\r?\n")


class Fail(Exception):
    pass


class Console:
    """The emulator as a child process, its serial port on stdin/stdout."""

    def __init__(self, cmd, log):
        self.log = log
        self.buf = b""
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _read(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.proc.stdout], [], [], left)
        if not r:
            return False
        data = self.proc.stdout.read()
        if not data:            # EOF: the emulator has ended
            return None
        self.log.write(data)
        self.log.flush()
        self.buf += data
        return True

    def expect(self, pattern, timeout, what):
        """Waits for pattern; returns (text before it, match)."""
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.buf)
            if m:
                before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return before, m
            got = self._read(deadline)
            if got is None:
                raise Fail(f"the emulator ended (status {self.proc.wait()}) while waiting for {what}")
            if got is False:
                raise Fail(f"timed out after {timeout} s waiting for {what}")

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise Fail("the emulator ended while a command was being sent")

    def run(self, cmd, timeout):
        # stdin from /dev/null: a command that reads it (apt-get, dpkg)
        # would otherwise eat the lines sent after it.
        self.send("{ " + cmd + '\n} </dev/null; echo "@@""END $?"\n')
        out, m = self.expect(END, timeout, f"the end of '{cmd.splitlines()[0]}'")
        return out.decode("utf-8", "replace").replace("\r", ""), int(m.group(1))

    def wait_exit(self, timeout, what):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if self._read(deadline) is False:
                if time.monotonic() >= deadline:
                    raise Fail(f"timed out after {timeout} s waiting for the emulator to end after {what}")
        return self.proc.wait()

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stderr(self):
        try:
            return self.proc.stderr.read().decode("utf-8", "replace")
        except Exception:
            return ""


# The C program of the workload: deterministic output.
C_PROGRAM = r"""#include <stdio.h>
#include <stdint.h>
#include <string.h>
static int is_prime(uint32_t n) {
	if (n < 2) return 0;
	for (uint32_t d = 2; d * d <= n; d++) if (n % d == 0) return 0;
	return 1;
}
int main(void) {
	uint32_t primes = 0, h = 2166136261u;
	for (uint32_t n = 0; n < 200000; n++)
		if (is_prime(n)) { primes++; h = (h ^ n) * 16777619u; }
	double x = 0;
	for (int i = 1; i <= 1000; i++) x += 1.0 / ((double)i * i);
	char s[64];
	snprintf(s, sizeof(s), "%.12f", x);
	printf("primes below 200000: %u, fnv %08x, sum 1/i^2 %s, sizeof(long) %zu\n",
	       primes, h, s, sizeof(long));
	return strlen(s) == 14 ? 0 : 1;
}
"""

SETUP = "stty -echo; set +o emacs +o vi; export TERM=dumb PAGER=cat SYSTEMD_PAGER=cat; PS1= PS2=; dmesg -n 1"

BOOT1 = [
    ("systemctl is-system-running --wait", 240),
    ("systemctl --failed --plain --no-legend", 30),
    ("uname -r -m", 10),
    ("findmnt -n -o SOURCE,FSTYPE /", 10),
    ("DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/hello.deb >/tmp/apt.log 2>&1; echo \"apt-get install: $?\"", 300),
    ("dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' hello", 30),
    ("hello", 30),
    ("cat >/root/t.c <<'EOF'\n" + C_PROGRAM + "EOF", 30),
    ("gcc -O2 -Wall -Werror -o /root/t /root/t.c && /root/t", 300),
    ("seq 1 10000 | sha256sum >/root/persist.txt; echo 'written before reboot' >>/root/persist.txt; sync; cat /root/persist.txt", 30),
]
BOOT2 = [
    ("systemctl is-system-running --wait", 240),
    ("systemctl --failed --plain --no-legend", 30),
    ("cat /root/persist.txt", 10),
    ("hello", 10),
    ("/root/t", 60),
]


def emulator_cmd(a, disk, timeout):
    g = a.guest
    cmdline = open(os.path.join(g, "cmdline")).read().strip()
    if a.backend == "qemu":
        cpu = "pentium3,-vme,-de,-mce,-mca,-pse36,+sse2,+clflush" + ("" if a.pae else ",-pae")
        return ["timeout", str(timeout), a.qemu, "-accel", "tcg", "-M", "pc,hpet=off", "-cpu", cpu,
                "-m", str(a.mem), "-kernel", f"{g}/vmlinuz", "-initrd", f"{g}/initrd.img",
                "-append", cmdline + " tsc=reliable",
                "-drive", f"file={disk},format=raw,if=ide,index=0",
                "-display", "none", "-serial", "stdio", "-nodefaults", "-no-reboot"]
    return ["timeout", str(timeout + 15), a.btvm, "run", "--accel", a.backend, "--mem", f"{a.mem}M",
            "--disk", disk, "--initrd", f"{g}/initrd.img", "--append", cmdline,
            "--serial", "stdio", "--timeout", str(timeout), f"{g}/vmlinuz"]


def boot(a, disk, log, commands, end_cmd, transcript, info, n):
    con = Console(emulator_cmd(a, disk, a.timeout), log)
    try:
        t0 = time.monotonic()
        con.expect(PROMPT, a.boot_timeout, "the shell prompt on the serial console")
        info.append(f"boot {n}: shell prompt after {time.monotonic() - t0:.1f} s")
        con.send(SETUP + '\necho "@@""END $?"\n')
        con.expect(END, 30, "the console set-up")
        for cmd, timeout in commands:
            t = time.monotonic()
            out, st = con.run(cmd, timeout)
            transcript.append("$ " + cmd.splitlines()[0])
            transcript.extend(out.splitlines())
            if st:
                transcript.append(f"[status {st}]")
            if cmd.startswith("gcc"):
                info.append(f"boot {n}: gcc compile and run {time.monotonic() - t:.1f} s")
        out, _ = con.run("dmesg --level=emerg,alert,crit,err,warn", 30)
        info.extend(f"boot {n} dmesg: {l}" for l in out.splitlines() if l.strip())
        t = time.monotonic()
        con.send(end_cmd + "\n")
        transcript.append("$ " + end_cmd)
        st = con.wait_exit(180, end_cmd)
        info.append(f"boot {n}: {end_cmd} ended the emulator in {time.monotonic() - t:.1f} s (status {st})")
        transcript.append(f"[emulator exit status {st}]")
    except Fail:
        con.kill()
        err = con.stderr()
        if err:
            info.append(f"boot {n} emulator stderr: " + err.strip().replace("\n", " | ")[:800])
        raise
    return con


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True, choices=["qemu", "bt", "kvm"])
    p.add_argument("--btvm")
    p.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-i386"))
    p.add_argument("--expect", default=os.path.join(HERE, "expected", "system.out"))
    p.add_argument("--timeout", type=int, default=900, help="each boot's limit, seconds")
    p.add_argument("--boot-timeout", type=int, default=300)
    p.add_argument("--mem", type=int, default=512, help="MiB")
    p.add_argument("--pae", action="store_true", help="GUESTDIR holds the -686-pae kernel: QEMU's CPU gets PAE")
    p.add_argument("--keep", help="keep the console log and transcript in DIR")
    p.add_argument("guest")
    a = p.parse_args()

    for f in ("disk.img", "vmlinuz", "initrd.img", "cmdline", "kernel-version"):
        if not os.path.isfile(os.path.join(a.guest, f)):
            print(f"SKIP: no system in {a.guest} (missing {f}): guests/debian/make-system.sh has not built it")
            return 77
    if a.backend == "qemu":
        if not shutil.which(a.qemu):
            print(f"SKIP: {a.qemu} not found")
            return 77
    else:
        if not a.btvm or not os.access(a.btvm, os.X_OK):
            print(f"run-system: --btvm must name the btvm executable (got '{a.btvm}')", file=sys.stderr)
            return 1
        if a.backend == "kvm":
            r = subprocess.run([a.btvm, "probe", "--accel", "kvm", "--needs", "iret,paging"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            line = (r.stdout.splitlines() or [""])[0]
            if r.returncode in (3, 4):
                print(f"SKIP: {line}")
                return 77
            if r.returncode != 0:
                print(f"FAIL: '{a.btvm} probe --accel kvm' exited {r.returncode}: {line}")
                return 1
    if not os.path.isfile(a.expect):
        print(f"run-system: no expected output at {a.expect}", file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="run-system.", dir=os.environ.get("TMPDIR", "/var/tmp"))
    transcript, info = [], []
    ok, why = True, []
    start = time.monotonic()
    log = open(os.path.join(tmp, "console.log"), "wb")
    try:
        disk = os.path.join(tmp, "disk.img")
        t = time.monotonic()
        subprocess.run(["cp", "--sparse=always", os.path.join(a.guest, "disk.img"), disk], check=True)
        info.append(f"disk image copied in {time.monotonic() - t:.1f} s")
        try:
            boot(a, disk, log, BOOT1, "reboot", transcript, info, 1)
            boot(a, disk, log, BOOT2, "poweroff", transcript, info, 2)
        except Fail as e:
            ok = False
            why.append(str(e))
        log.close()
        # The kernel's release (GUESTDIR/kernel-version) differs between
        # the 686 and 686-pae systems and as Debian updates it.
        release = open(os.path.join(a.guest, "kernel-version")).read().strip()
        got = "\n".join(transcript).replace(release, "@KERNEL_RELEASE@") + "\n"
        with open(os.path.join(tmp, "transcript"), "w") as f:
            f.write(got)
        want = open(a.expect).read()
        if ok and got != want:
            ok = False
            why.append(f"the transcript differs from {a.expect}")
            d = subprocess.run(["diff", "-u", "--label", a.expect, "--label", f"transcript ({a.backend})",
                                a.expect, os.path.join(tmp, "transcript")], capture_output=True, text=True)
            why.append(d.stdout)
        if not ok:
            with open(os.path.join(tmp, "console.log"), "rb") as f:
                tail = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()[-25:]
            why.append("--- last console lines:\n" + "\n".join(tail))
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for f in ("console.log", "transcript"):
                shutil.copy(os.path.join(tmp, f), os.path.join(a.keep, f"system.{a.backend}.{f}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = time.monotonic() - start
    if ok:
        print(f"PASS: debian system ({a.backend}): transcript matches; whole run {total:.1f} s")
    else:
        print(f"FAIL: debian system ({a.backend}): " + "\n".join(why))
        print("--- transcript so far:")
        print("\n".join(transcript[-30:]))
    for l in info:
        print("    " + l)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
