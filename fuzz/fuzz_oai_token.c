/*
 * fuzz_oai_token: resumption-token decoding.  The MAC key is fixed, so the
 * fuzzer mostly exercises base64 and the length checks; whatever decodes
 * must re-encode to the very same bytes (one spelling per token).
 */
#include <stdlib.h>
#include <string.h>

#include "oai_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char	 key[] = "fuzz";
	static struct oai_token		 t;
	struct buf			 b;

	if (oai_token_decode((const char *)data, size, key, 4, &t) == -1)
		return 0;
	buf_init(&b, 2 * OAI_ARG_MAX);
	if (oai_token_encode(&t, key, 4, &b) == -1 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	buf_release(&b);
	return 0;
}
