/*
 * fuzz_state: state_parse_mem() over arbitrary bytes.  Every input must
 * either parse or fail with path:line messages, without crashing or leaking;
 * whatever parses must be findable by id afterwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "state.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state	 st;
	struct err	 e;
	size_t		 i;

	state_init(&st);
	err_init(&e);
	state_parse_mem(&st, (const char *)data, size, "fuzz.state", &e);
	for (i = 0; i < st.n; i++)
		if (state_find(&st, st.v[i].id) != &st.v[i])
			abort();
	state_release(&st);
	err_release(&e);
	return 0;
}
