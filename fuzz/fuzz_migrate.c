/*
 * fuzz_migrate: the old text-state readers (state_migrate_mem()) over
 * arbitrary bytes.  The first byte picks the file kind ('r' records.state,
 * 'o' outbox, anything else notify.status), the rest is its content.  Every
 * input must import or fail with a message, without crashing or leaking,
 * into an in-memory database with the real schema.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "err.h"
#include "state.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sqlite3		*db = NULL;
	struct err	 e;
	int		 which;

	if (size == 0)
		return 0;
	which = data[0] == 'r' || data[0] == 'o' ? data[0] : 's';
	err_init(&e);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    state_schema(db, &e) == -1)
		abort();
	if (state_migrate_mem(db, which, (const char *)data + 1, size - 1,
	    "fuzz.state", &e) == -1 && e.msg[0] == '\0')
		abort();	/* a refusal always says why */
	sqlite3_close(db);
	err_release(&e);
	return 0;
}
