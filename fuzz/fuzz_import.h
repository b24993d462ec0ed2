/*
 * fuzz_import.h: what the three importer fuzz targets share.  Each target
 * hands one parser to fuzz_import(); every item it produces is rendered as
 * a record, and a rendered record must parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "import.h"
#include "record.h"

static struct record_schema	*schema;

/* "fuzz.xml:L:C: not well-formed...": the writer's fault, never the data's. */
static int
malformed(const char *msg)
{
	const char	*p = msg + strlen("fuzz.xml");

	if (strncmp(msg, "fuzz.xml:", 9) != 0)
		return 0;
	while (*p == ':' || (*p >= '0' && *p <= '9'))
		p++;
	return strncmp(p, " not well-formed", 16) == 0;
}

static int
item(void *arg, struct import_item *it, long pos, const char *why)
{
	struct record	*r;
	struct buf	 b;
	struct err	 e;
	char		 id[IMPORT_ID_MAX + 1];
	int		 partial;

	if (pos < 1 || (it == NULL) != (why != NULL))
		abort();
	if (it == NULL || import_item_id(it, id) == -1)
		return 0;
	buf_init(&b, RECORD_MAX_BYTES);
	err_init(&e);
	if (import_render(it, id, 1, &b, &partial, &e) == 0) {
		/* what the writer wrote is always well-formed XML */
		r = record_parse_mem(schema, b.data, b.len, "fuzz.xml", 0, &e);
		if (r == NULL && (e.count == 0 || malformed(e.msg)))
			abort();
		record_unref(r);
	}
	err_release(&e);
	buf_release(&b);
	return 0;
}

typedef int	import_parse_fn(const char *, size_t, import_item_fn *,
		    void *, struct err *);

static int
fuzz_import(import_parse_fn *parse, const uint8_t *data, size_t size)
{
	struct err	 e;

	err_init(&e);
	if (schema == NULL && (schema = record_schema_new(&e)) == NULL)
		abort();
	if (parse((const char *)data, size, item, NULL, &e) == -1 &&
	    e.count == 0)
		abort();
	err_release(&e);
	return 0;
}
