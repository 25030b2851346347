/* Shadow descriptors in the host LDT for direct execution (bt/direct.c).
 *
 * Guest GDT entry i is installed as host LDT entry i (selector
 * (i << 3) | TI | RPL), built from the descriptor cache the guest CPU holds
 * in cpu->seg[] — what a segment register really uses (SDM Vol. 3A 3.4.3),
 * even when the table in memory has changed since the load.  The kernel
 * forces DPL 3 and sets the accessed bit (modify_ldt(2), fill_ldt), which
 * is what CPL-3 code can observe of a loaded segment anyway.
 *
 * Only what modify_ldt can express is installed: no conforming code (the
 * kernel accepts contents = 3 only for not-present entries), no 64-bit
 * code; anything else makes the caller fall back to translation. */
#include <asm/ldt.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bt/bt.h"

/* Descriptor attributes as struct seg keeps them: the access byte, and
 * byte 6 of the descriptor with its limit bits masked off, << 8. */
#define A_P     0x80u
#define A_S     0x10u
#define A_CODE  0x08u
#define A_CONF  0x04u  /* code: conforming; data: expand-down */
#define A_RW    0x02u  /* code: readable; data: writable */
#define F_AVL   0x1000u
#define F_DB    0x4000u
#define F_G     0x8000u

int bt_ldt_desc(const struct seg *s, unsigned idx, struct user_desc *u)
{
	memset(u, 0, sizeof(*u));
	u->entry_number = idx;
	uint16_t a = s->attr;
	if (!(a & A_P) || !(a & A_S))
		return -1;                 /* system segments never reach CPL-3 registers */
	if ((a & A_CODE) && (a & A_CONF))
		return -1;                 /* conforming code: modify_ldt refuses it */
	u->base_addr = s->base;
	if (a & F_G) {
		u->limit_in_pages = 1;
		u->limit = s->limit >> 12;
	} else {
		u->limit = s->limit & 0xfffff;
	}
	u->seg_32bit = (a & F_DB) != 0;
	u->contents = (a & A_CODE) ? MODIFY_LDT_CONTENTS_CODE
				   : ((a & A_CONF) ? MODIFY_LDT_CONTENTS_STACK : MODIFY_LDT_CONTENTS_DATA);
	u->read_exec_only = !(a & A_RW);
	u->seg_not_present = 0;
	u->useable = (a & F_AVL) != 0;
	return 0;
}

int bt_ldt_install(struct bt_ldt *l, const struct seg *s, unsigned idx)
{
	struct user_desc u;
	if (idx >= BT_LDT_ENTRIES || bt_ldt_desc(s, idx, &u) < 0)
		return -1;
	_Static_assert(sizeof(struct bt_ldt_slot) == sizeof(struct user_desc), "user_desc layout");
	if (l->valid[idx] && !memcmp(&l->desc[idx], &u, sizeof(u)))
		return 0;
	/* func 0x11: write an entry, new-style (modify_ldt(2)) */
	if (syscall(SYS_modify_ldt, 0x11, &u, sizeof(u)) != 0)
		return -1;
	memcpy(&l->desc[idx], &u, sizeof(u));
	l->valid[idx] = true;
	l->writes++;
	return 0;
}
