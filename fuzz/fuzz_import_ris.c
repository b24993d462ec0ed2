/*
 * fuzz_import_ris: import_ris_parse() on arbitrary bytes (see fuzz_import.h).
 */
#include "fuzz_import.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(import_ris_parse, data, size);
}
