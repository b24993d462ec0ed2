/*
 * fuzz_conf: conf_parse_mem() over arbitrary bytes.  Every input must either
 * parse or fail with a message, without crashing or leaking.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c;
	struct err	 e;

	err_init(&e);
	c = conf_parse_mem((const char *)data, size, "fuzz.conf", &e);
	if (c != NULL)
		conf_unref(conf_ref(c));
	conf_unref(c);
	err_release(&e);
	return 0;
}
