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

/*
 * The phases of "pubfeed serve"'s start-up, in the order they run (main.c):
 * one after the other, except three on threads of their own: the inotify
 * watches and then the listing of the records tree alongside the state
 * load, and the outbox (notify) alongside the scan.
 */
enum metrics_phase {
	METRICS_PHASE_STATE,		/* store_new(): the SQLite state */
	METRICS_PHASE_NOTIFY,		/* notify_new(): the outbox, alongside */
	METRICS_PHASE_WATCH,		/* inotify watches, alongside */
	METRICS_PHASE_LIST,		/* lstat of every file, alongside */
	METRICS_PHASE_ROWS,		/* parse cache rows */
	METRICS_PHASE_INDEX,		/* the files listed into the store */
	METRICS_PHASE_READ,		/* reading the files that changed */
	METRICS_PHASE_SNAPSHOT,		/* store_snapshot(): indexes, commit */
	METRICS_PHASE_DOCUMENTS,	/* the eager documents */
	METRICS_PHASE_LISTEN,		/* http_start() */
	METRICS_PHASE_COUNT
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
	/* start-up, milliseconds (0 until metrics_set_startup()) */
	uint64_t	 startup_ms;
	uint64_t	 phase_ms[METRICS_PHASE_COUNT];
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
/*
 * How long start-up took until the first snapshot was served, in all and
 * by phase (ms[METRICS_PHASE_COUNT]); shown from then on.
 */
void	metrics_set_startup(struct metrics *, uint64_t total,
	    const uint64_t *ms);
/* "state", "walk", ... as the start-up report and /metrics name them. */
const char *metrics_phase_name(enum metrics_phase);
/* 1 unless the last state commit failed (also for NULL). */
int	metrics_state_ok(const struct metrics *);
/* Append the whole exposition (s may be NULL before the first snapshot). */
int	metrics_render(const struct metrics *, const struct snap *,
	    struct buf *out);
const char *metrics_route_name(enum metrics_route);

#endif
