/*
 * fuzz_xmlrpc: the XML-RPC methodResponse parser, which reads whatever a
 * ping server (or anything pretending to be one) answers.  Whatever it
 * accepts must leave a NUL-terminated message that fits its array.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "notify_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_xmlrpc_reply	 r;
	struct err			 e;

	xmlInitParser();
	err_init(&e);
	if (notify_xmlrpc_parse((const char *)data, size, &r, &e) == 0 &&
	    (memchr(r.message, '\0', sizeof(r.message)) == NULL ||
	    (r.is_fault != 0 && r.is_fault != 1) ||
	    (r.flerror != 0 && r.flerror != 1)))
		abort();
	err_release(&e);
	return 0;
}
