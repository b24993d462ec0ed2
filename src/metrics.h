/*
 * metrics: counters for /metrics (Prometheus text format 0.0.4).
 *
 * One struct metrics lives in main and is handed to whoever counts (http,
 * the reload path); counters are updated with relaxed atomics from any
 * thread.  The per-request counters are kept in METRICS_SHARDS shards, each
 * on its own cache lines, a thread counting into the one it was given on
 * its first request: two server threads bumping one shared line cost more
 * than the rest of a counted request.  Rendering sums the shards and reads
 * the current snapshot.
 */
#ifndef PUBFEED_METRICS_H
#define PUBFEED_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "snap.h"

enum metrics_route {
	METRICS_ROUTE_HOME,
	METRICS_ROUTE_FEED,
	METRICS_ROUTE_OAI,
	METRICS_ROUTE_METRICS,
	METRICS_ROUTE_HEALTH,
	METRICS_ROUTE_STATUS,
	METRICS_ROUTE_OTHER,
	METRICS_ROUTE_COUNT
};

#define METRICS_STATUS_COUNT	9	/* 200 206 304 400 403 404 405 500 503 */
#define METRICS_VERB_COUNT	7	/* six verbs + badVerb */

#define METRICS_SHARDS		16

struct metrics_shard {
	uint64_t	 requests[METRICS_ROUTE_COUNT][METRICS_STATUS_COUNT];
	uint64_t	 bytes_sent;
} __attribute__((aligned(64)));

struct metrics {
	struct metrics_shard shard[METRICS_SHARDS];
	uint64_t	 oai_verbs[METRICS_VERB_COUNT];
	uint64_t	 oai_rejected;		/* 503 over the limit */
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	uint64_t	 last_reload_ms;	/* duration of the last one */
	int64_t		 started;		/* wall clock, seconds */
	uint64_t	 state_failures;	/* failed state commits */
	int		 state_failing;		/* the last one failed */
	/* record files validated / vouched for by the parse cache (store.h) */
	uint64_t	 records_validated;
	uint64_t	 parse_cache_hits;
};

void	metrics_init(struct metrics *);
void	metrics_count_request(struct metrics *, enum metrics_route, int status,
	    uint64_t bytes);
/* verb as oai_respond() returned it ("" for badVerb). */
void	metrics_count_verb(struct metrics *, const char *verb);
void	metrics_count_reload(struct metrics *, int ok, uint64_t ms);
/* The outcome of the last state commit (counts a failure). */
void	metrics_set_state(struct metrics *, int ok);
/* The store's totals (store_parse_counts()). */
void	metrics_set_parse(struct metrics *, uint64_t validated,
	    uint64_t cache_hits);
/* 1 unless the last state commit failed (also for NULL). */
int	metrics_state_ok(const struct metrics *);
/* Append the whole exposition (s may be NULL before the first snapshot). */
int	metrics_render(const struct metrics *, const struct snap *,
	    struct buf *out);
const char *metrics_route_name(enum metrics_route);

#endif
