/* System control port B at 0x61 (PC/AT; PIIX "NMI Status and Control"):
 *   bit 0  R/W  PIT channel 2 gate
 *   bit 1  R/W  speaker data enable (stored only: no sound)
 *   bit 4  RO   refresh request toggle: flips on every read (software only
 *               needs it to change, e.g. for short delays)
 *   bit 5  RO   PIT channel 2 OUT
 * Every other bit reads 0 and is ignored on write (no NMI sources). */
#ifndef BTVM_DEVICES_PORT61_H
#define BTVM_DEVICES_PORT61_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/io_bus.h"
#include "devices/pit8254.h"

#define PORT61_PORT 0x61

struct port61 {
	struct pit8254 *pit;
	uint8_t ctrl;     /* bits 0-1 as written */
	bool refresh;     /* bit 4 */
};

/* pit must outlive the port; init performs port61_reset. */
void port61_init(struct port61 *s, struct pit8254 *pit);
/* ctrl = 0: channel 2 gate low, speaker off. */
void port61_reset(struct port61 *s);
int port61_register(struct port61 *s, struct io_bus *pio);  /* 0 or -1 */
#endif
