/* sort: qsort() of 512 Ki pseudo-random 32-bit integers: comparisons
 * through a function pointer (indirect calls and returns, which a binary
 * translator must look up) and memory traffic over 2 MiB.  Checked:
 * ascending order, and the same sum and xor as before. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "macro.h"

#define COUNT (1u << 19)

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

const char *macro_sort(uint64_t *ns)
{
	uint32_t *v = malloc(COUNT * sizeof(*v));
	uint64_t sum = 0, sum2 = 0, t0;
	uint32_t x = 12345, xr = 0, xr2 = 0;

	if (!v)
		return "malloc(2 MiB) failed";
	for (uint32_t i = 0; i < COUNT; i++) {     /* xorshift32: fixed data */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		v[i] = x;
		sum += x;
		xr ^= x;
	}
	t0 = macro_now_ns();
	qsort(v, COUNT, sizeof(*v), cmp);
	*ns = macro_now_ns() - t0;
	for (uint32_t i = 0; i < COUNT; i++) {
		if (i > 0 && v[i - 1] > v[i]) {
			free(v);
			return "the result is not in order";
		}
		sum2 += v[i];
		xr2 ^= v[i];
	}
	free(v);
	return sum == sum2 && xr == xr2 ? NULL : "the result is not a permutation of the input";
}
