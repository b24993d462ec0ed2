/* fuzz_record: record_parse_mem() on arbitrary bytes, one schema for all. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record_schema	*schema;
	struct record			*r;
	struct err			 e;

	err_init(&e);
	if (schema == NULL && (schema = record_schema_new(&e)) == NULL)
		abort();
	r = record_parse_mem(schema, (const char *)data, size, "fuzz.xml", 0,
	    &e);
	if (r != NULL && (r->ntitles == 0 || r->titles[0].text == NULL))
		abort();
	record_unref(r);
	err_release(&e);
	return 0;
}
