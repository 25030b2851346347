#include "monitor/kvm_probe.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "monitor/host_probe.h"
#include "monitor/kvm_util.h"

#define PROBE_RAM   (2u << 20)
#define PROBE_PD    0x1000u
#define PROBE_PT    0x2000u
#define PROBE_GDTR  0x3000u
#define PROBE_GDT   0x3010u
#define IRET_CODE   0x8000u
#define PAGING_CODE 0x8100u
#define TSC_CODE    0x8200u
#define PORT_START  0x10   /* reached in flat protected mode */
#define PORT_DONE   0x11   /* reached after the feature under test */

/* At IRET_CODE:  out 0x10,al; lgdt [0x3000]; pushf; push 8; push 0x8012;
 *                iret; out 0x11,al; hlt                                   */
static const unsigned char iret_code[] = {
	0xe6, PORT_START,
	0x0f, 0x01, 0x15, 0x00, 0x30, 0x00, 0x00,
	0x9c, 0x6a, 0x08, 0x68, 0x12, 0x80, 0x00, 0x00,
	0xcf,
	0xe6, PORT_DONE,
	0xf4,
};

/* At PAGING_CODE: out 0x10,al; mov eax,0x1000; mov cr3,eax; mov eax,cr0;
 *                 or eax,0x80000000; mov cr0,eax; out 0x11,al; hlt        */
static const unsigned char paging_code[] = {
	0xe6, PORT_START,
	0xb8, 0x00, 0x10, 0x00, 0x00,
	0x0f, 0x22, 0xd8,
	0x0f, 0x20, 0xc0,
	0x0d, 0x00, 0x00, 0x00, 0x80,
	0x0f, 0x22, 0xc0,
	0xe6, PORT_DONE,
	0xf4,
};

/* At TSC_CODE:    out 0x10,al; rdtsc; mov esi,edx; mov ecx,0x3b; xor eax,eax;
 *                 mov edx,0x100; wrmsr (IA32_TSC_ADJUST = 2^40); rdtsc;
 *                 sub edx,esi; cmp edx,0x100; jb .+2; out 0x11,al; hlt
 * PORT_DONE only when the write moved the TSC by 2^40 (SDM Vol. 3B
 * 17.17.3).  A KVM that cannot offset the guest's RDTSC (PVM: measured
 * here, the MSR keeps the value and the TSC does not move) halts. */
static const unsigned char tsc_code[] = {
	0xe6, PORT_START,
	0x0f, 0x31,
	0x89, 0xd6,
	0xb9, 0x3b, 0x00, 0x00, 0x00,
	0x31, 0xc0,
	0xba, 0x00, 0x01, 0x00, 0x00,
	0x0f, 0x30,
	0x0f, 0x31,
	0x29, 0xf2,
	0x81, 0xfa, 0x00, 0x01, 0x00, 0x00,
	0x72, 0x02,
	0xe6, PORT_DONE,
	0xf4,
};

/* Runs one probe guest from `entry`.  Returns 0 when even PORT_START was
 * not reached (err says why), 1 when only PORT_START was, 2 when both. */
static int run_guest(uint32_t entry, const char **why, char *err, size_t errlen)
{
	struct kvm_handle h;
	*why = "no exit";
	if (kvm_handle_open(&h, err, errlen) < 0)
		return -1;
	uint8_t *ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		snprintf(err, errlen, "out of memory");
		kvm_handle_close(&h);
		return -1;
	}
	memcpy(ram + IRET_CODE, iret_code, sizeof(iret_code));
	memcpy(ram + PAGING_CODE, paging_code, sizeof(paging_code));
	memcpy(ram + TSC_CODE, tsc_code, sizeof(tsc_code));
	uint32_t *pd = (uint32_t *)(ram + PROBE_PD), *pt = (uint32_t *)(ram + PROBE_PT);
	pd[0] = PROBE_PT | 3;
	for (uint32_t i = 0; i < 512; i++)
		pt[i] = (i << 12) | 3;
	uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	memcpy(ram + PROBE_GDT, gdt, sizeof(gdt));
	uint16_t limit = sizeof(gdt) - 1;
	uint32_t base = PROBE_GDT;
	memcpy(ram + PROBE_GDTR, &limit, 2);
	memcpy(ram + PROBE_GDTR + 2, &base, 4);

	int stage = -1;
	struct kvm_regs regs = { .rip = entry, .rflags = 2, .rsp = IRET_CODE };
	if (kvm_handle_add_ram(&h, ram, PROBE_RAM, err, errlen) < 0 ||
	    kvm_handle_create_vcpu(&h, err, errlen) < 0 ||
	    kvm_handle_set_flat32(&h, &regs, err, errlen) < 0)
		goto out;
	stage = 0;
	for (int i = 0; i < 8 && stage < 2; i++) {
		if (ioctl(h.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			*why = "KVM_RUN failed";
			break;
		}
		struct kvm_run *r = h.run;
		if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_START) {
			stage = 1;
			continue;
		}
		if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_DONE) {
			stage = 2;
			break;
		}
		*why = r->exit_reason == KVM_EXIT_SHUTDOWN ? "a triple fault" :
		       r->exit_reason == KVM_EXIT_FAIL_ENTRY ? "a failed VM entry" :
		       r->exit_reason == KVM_EXIT_INTERNAL_ERROR ? "a KVM emulation failure" : "an unexpected exit";
		break;
	}
out:
	kvm_handle_close(&h);
	munmap(ram, PROBE_RAM);
	return stage;
}

static unsigned caps;
static char caps_line[400];

static void probe_once(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	char err[256];
	const char *why_iret, *why_pg;
	int iret = run_guest(IRET_CODE, &why_iret, err, sizeof(err));
	if (iret < 0) {
		snprintf(caps_line, sizeof(caps_line), "kvm: %s", err);
		return;
	}
	const char *mod = kvm_module_name();
	if (iret == 0) {
		snprintf(caps_line, sizeof(caps_line),
			 "kvm: this host's KVM (%s) cannot run a 32-bit protected-mode guest (%s)", mod, why_iret);
		return;
	}
	int pg = run_guest(PAGING_CODE, &why_pg, err, sizeof(err));
	const char *why_tsc;
	int tsc = run_guest(TSC_CODE, &why_tsc, err, sizeof(err));
	caps = KVM_CAN_PROTECTED | (iret == 2 ? KVM_CAN_IRET : 0) | (pg == 2 ? KVM_CAN_PAGING : 0) |
	       (tsc == 2 ? KVM_CAN_TSC_OFFSET : 0);
	if (caps == KVM_CAN_ALL) {
		snprintf(caps_line, sizeof(caps_line),
			 "kvm: this host's KVM (%s) runs 32-bit guests with and without paging", mod);
		return;
	}
	char missing[300] = "";
	if (!(caps & KVM_CAN_IRET))
		snprintf(missing, sizeof(missing), "a 32-bit IRET ends in %s", why_iret);
	if (!(caps & KVM_CAN_PAGING)) {
		size_t n = strlen(missing);
		snprintf(missing + n, sizeof(missing) - n, "%sturning on 32-bit paging (CR0.PG=1) ends in %s",
			 n ? "; " : "", why_pg);
	}
	if (!(caps & KVM_CAN_TSC_OFFSET)) {
		size_t n = strlen(missing);
		snprintf(missing + n, sizeof(missing) - n, "%sa write to IA32_TSC_ADJUST does not move the TSC",
			 n ? "; " : "");
	}
	snprintf(caps_line, sizeof(caps_line),
		 "kvm: this host's KVM (%s) runs flat 32-bit protected mode, but %s", mod, missing);
}

unsigned kvm_probe(const char **line)
{
	probe_once();
	if (line)
		*line = caps_line;
	return caps;
}

enum kvm_probe_result kvm_probe_for(unsigned needs, const char **line)
{
	if (host_mask_has(HOST_KVM)) {
		if (line)
			*line = "kvm: masked by " HOST_MASK_ENV " (this host's KVM is not used)";
		return KVM_PROBE_UNAVAILABLE;
	}
	unsigned have = kvm_probe(line);
	if (!(have & KVM_CAN_PROTECTED))
		return KVM_PROBE_UNAVAILABLE;
	return (have & needs) == needs ? KVM_PROBE_FULL : KVM_PROBE_LIMITED;
}

int kvm_probe_parse_needs(const char *s, unsigned *needs)
{
	*needs = KVM_CAN_PROTECTED;
	if (!s || !*s || !strcmp(s, "none"))
		return 0;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "iret"))
			*needs |= KVM_CAN_IRET;
		else if (!strcmp(t, "paging"))
			*needs |= KVM_CAN_PAGING;
		else if (!strcmp(t, "tsc"))
			*needs |= KVM_CAN_TSC_OFFSET;
		else
			return -1;
	}
	return 0;
}
