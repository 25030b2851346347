/* btvm guest test kit: running code at CPL3. */
#include "guest.h"

uint8_t user_stack[8192] ALIGNED(4096);
const uint32_t user_stack_size = sizeof(user_stack);

uint32_t user_stack_top(void)
{
	return (uint32_t)(user_stack + sizeof(user_stack));
}

uint32_t run_user(user_fn_t fn, uint32_t arg, uint32_t eflags)
{
	uint32_t *sp = (uint32_t *)user_stack_top();
	*--sp = 0;                      /* padding: arg lands 16-byte aligned, as */
	*--sp = 0;                      /* the i386 ABI wants at a call */
	*--sp = 0;
	*--sp = arg;
	*--sp = (uint32_t)fn;
	return user_enter((uint32_t)user_trampoline, (uint32_t)sp, eflags | 0x2u);
}
