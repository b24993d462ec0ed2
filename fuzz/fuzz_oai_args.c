/* fuzz_oai_args: form decoding and the argument rules of every verb. */
#include <stddef.h>
#include <stdint.h>

#include "oai.h"
#include "oai_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oai_args	 a;
	struct oai_req	 r;

	if (oai_args_parse((const char *)data, size, &a) == -1)
		return 0;
	oai_req_check(&a, &r);
	oai_args_release(&a);
	return 0;
}
