/* The multiboot loader with a whole file as input (fuzz_loader.h). */
#include "fuzz_loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_load(data, size, FZ_MULTIBOOT);
	return 0;
}
