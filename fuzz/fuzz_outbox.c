/*
 * fuzz_outbox: the outbox and notify.status parsers, which read files a
 * crash may have left in any state.  What they keep must serialize to a
 * text that parses cleanly back to the very same text (a fixpoint).
 */
#include <stdlib.h>
#include <string.h>

#include "notify_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
outbox(const char *data, size_t size)
{
	struct notify_outbox	 a, b;
	struct buf		 x, y;
	struct err		 e;

	notify_outbox_init(&a);
	notify_outbox_init(&b);
	buf_init(&x, 1 << 24);
	buf_init(&y, 1 << 24);
	err_init(&e);
	notify_outbox_parse(&a, data, size, "outbox", &e);
	err_clear(&e);
	if (notify_outbox_serialize(&a, &x) == -1 ||
	    notify_outbox_parse(&b, x.data, x.len, "outbox", &e) == -1 ||
	    notify_outbox_serialize(&b, &y) == -1 || b.n != a.n ||
	    x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
		abort();
	notify_outbox_release(&a);
	notify_outbox_release(&b);
	buf_release(&x);
	buf_release(&y);
	err_release(&e);
}

static void
status(const char *data, size_t size)
{
	struct notify_stats	 a, b;
	struct buf		 x, y;
	struct err		 e;

	notify_stats_init(&a);
	notify_stats_init(&b);
	buf_init(&x, 1 << 24);
	buf_init(&y, 1 << 24);
	err_init(&e);
	notify_stats_parse(&a, data, size, "notify.status", &e);
	err_clear(&e);
	if (notify_stats_serialize(&a, &x) == -1 ||
	    notify_stats_parse(&b, x.data, x.len, "notify.status", &e) == -1 ||
	    notify_stats_serialize(&b, &y) == -1 || b.n != a.n ||
	    x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
		abort();
	notify_stats_release(&a);
	notify_stats_release(&b);
	buf_release(&x);
	buf_release(&y);
	err_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	outbox((const char *)data, size);
	status((const char *)data, size);
	return 0;
}
