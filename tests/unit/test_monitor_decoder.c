/* Classification of guest instructions: what the translator may copy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "decoder/decoder.h"

static enum insn_class cls_of(const uint8_t *b, size_t n)
{
	struct guest_decoder d;
	struct insn in;
	bool more;
	decoder_init(&d);
	decoder_decode(&d, b, n, &in, &more);
	return in.cls;
}
#define CLS(...) ({ static const uint8_t b_[] = { __VA_ARGS__ }; cls_of(b_, sizeof(b_)); })

static void copies_plain_instructions(void **state)
{
	(void)state;
	assert_int_equal(CLS(0x03, 0x03), IC_COPY);             /* add eax,[ebx] */
	assert_int_equal(CLS(0x40), IC_COPY);                   /* inc eax (re-encoded) */
	assert_int_equal(CLS(0x26, 0x8B, 0x03), IC_COPY);       /* mov eax,es:[ebx]: overridable */
	assert_int_equal(CLS(0x8D, 0x04, 0x24), IC_COPY);       /* lea eax,[esp] */
	assert_int_equal(CLS(0x0F, 0xC7, 0x0B), IC_COPY);       /* cmpxchg8b [ebx] */
}

static void control_flow_and_stack(void **state)
{
	(void)state;
	assert_int_equal(CLS(0x74, 0x00), IC_JCC);
	assert_int_equal(CLS(0xE3, 0x00), IC_JCC);              /* jecxz */
	assert_int_equal(CLS(0xE8, 0, 0, 0, 0), IC_CALL_REL);
	assert_int_equal(CLS(0xFF, 0x13), IC_CALL_IND);         /* call [ebx] */
	assert_int_equal(CLS(0xC3), IC_RET);
	assert_int_equal(CLS(0x50), IC_PUSH);
	assert_int_equal(CLS(0x8F, 0x03), IC_POP);              /* pop [ebx] */
	assert_int_equal(CLS(0xC9), IC_LEAVE);
	assert_int_equal(CLS(0xEA, 0, 0, 0, 0, 8, 0), IC_EMULATE); /* jmp far */
}

static void sensitive_and_unsafe_are_emulated(void **state)
{
	(void)state;
	assert_int_equal(CLS(0xFA), IC_EMULATE);                /* cli */
	assert_int_equal(CLS(0x9C), IC_EMULATE);                /* pushfd */
	assert_int_equal(CLS(0xE4, 0x61), IC_EMULATE);          /* in al,0x61 */
	assert_int_equal(CLS(0x0F, 0x22, 0xD8), IC_EMULATE);    /* mov cr3,eax */
	assert_int_equal(CLS(0x8E, 0xD8), IC_EMULATE);          /* mov ds,ax */
	assert_int_equal(CLS(0x8C, 0xC8), IC_EMULATE);          /* mov eax,cs: sensitive, unprivileged */
	assert_int_equal(CLS(0x0F, 0x01, 0x0B), IC_EMULATE);    /* sidt [ebx] */
	assert_int_equal(CLS(0xF3, 0xA4), IC_EMULATE);          /* rep movsb (ES:EDI) */
	assert_int_equal(CLS(0x60), IC_EMULATE);                /* pushad: invalid in 64-bit mode */
	assert_int_equal(CLS(0x27), IC_EMULATE);                /* daa */
	/* would reach the host if copied */
	assert_int_equal(CLS(0x0F, 0x05), IC_EMULATE);          /* syscall */
	assert_int_equal(CLS(0xD7), IC_EMULATE);                /* xlat: implicit DS:[EBX+AL] */
	assert_int_equal(CLS(0x0F, 0xF7, 0xC1), IC_EMULATE);    /* maskmovq: implicit DS:EDI */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copies_plain_instructions),
		cmocka_unit_test(control_flow_and_stack),
		cmocka_unit_test(sensitive_and_unsafe_are_emulated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
